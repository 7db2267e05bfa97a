"""The transparency-log core against Go's golang.org/x/mod/sumdb/note and sumdb/tlog (Debian's
golang-golang-x-mod-dev, installed by scripts/setup.sh), both ways:

- crate/examples/tlog_interop.rs `write` makes a 70,000-entry log (C2SP tiles and entry
  bundles, signed and cosigned checkpoints, tlog-proof inclusion proofs, consistency proofs);
  tests/interop/go `verify` checks it with note.Open, tlog.TileHashReader, tlog.TreeHash,
  tlog.RecordHash, tlog.CheckRecord and tlog.CheckTree, and compares every file and proof with
  what tlog makes.
- tests/interop/go `write` makes a log with Go in the same layout; the example's `verify` checks
  it with the crate's API and compares every file and proof with what the crate makes.

Each side must also reject a copy with one tampered tile, bundle, proof or signature.
"""
import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GO_SOURCE = REPO / "tests" / "interop" / "go"
GO_SUMDB = Path("/usr/share/gocode/src/golang.org/x/mod/sumdb")
EM_DASH = "\u2014"


def run(*args, cwd=None, env=None, timeout=300):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def example():
    """The example binary, built (dev profile) with cargo."""
    cargo = shutil.which("cargo") or str(Path.home() / ".cargo" / "bin" / "cargo")
    p = run("nice", cargo, "build", "--locked", "--quiet", "--example", "tlog_interop", "--message-format=json-render-diagnostics", cwd=REPO, timeout=1200)
    assert p.returncode == 0, f"cargo build --example tlog_interop failed:\n{p.stderr}"
    for line in p.stdout.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "tlog_interop" and msg.get("executable"):
            return Path(msg["executable"])
    pytest.fail(f"cargo reported no tlog_interop executable:\n{p.stdout[-2000:]}")


@pytest.fixture(scope="module")
def gosumdb(tmp_path_factory):
    """The Go program, built offline in GOPATH mode against Debian's x/mod."""
    go = shutil.which("go")
    if go is None or not (GO_SUMDB / "note" / "note.go").is_file() or not (GO_SUMDB / "tlog" / "tlog.go").is_file():
        pytest.fail(
            "Go or golang.org/x/mod/sumdb is missing (need `go` and /usr/share/gocode/src/golang.org/x/mod/sumdb): "
            "run scripts/setup.sh, which installs the Debian packages golang-go and golang-golang-x-mod-dev",
            pytrace=False,
        )
    out = tmp_path_factory.mktemp("go-build")
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": "/usr/share/gocode", "GOPROXY": "off", "GOFLAGS": "", "GOCACHE": str(out / "cache")}
    binary = out / "gosumdb"
    p = run("nice", go, "build", "-o", binary, ".", cwd=GO_SOURCE, env=env)
    assert p.returncode == 0, f"go build of tests/interop/go failed:\n{p.stderr}"
    return binary


@pytest.fixture(scope="module")
def rust_log(example, tmp_path_factory):
    d = tmp_path_factory.mktemp("rust-log") / "log"
    p = run(example, "write", d)
    assert p.returncode == 0, p.stderr
    assert "70000 entries" in p.stdout
    return d


@pytest.fixture(scope="module")
def go_log(gosumdb, tmp_path_factory):
    d = tmp_path_factory.mktemp("go-log") / "log"
    p = run(gosumdb, "write", d)
    assert p.returncode == 0, p.stderr
    return d


def test_go_verifies_our_log(gosumdb, rust_log):
    # The shapes that matter are there: full tiles at levels 0 and 1, partial ones at 0, 1 and
    # 2, a proof with an empty path, an `extra` line, and consistency from a size to itself.
    for rel in ["log/tile/0/272", "log/tile/0/273.p/112", "log/tile/1/000", "log/tile/1/001.p/17", "log/tile/2/000.p/1", "log/tile/entries/273.p/112", "proofs/0-1.tlog-proof", "consistency/70000-70000"]:
        assert (rust_log / rel).is_file(), rel
    assert "\nextra " in (rust_log / "proofs/617-70000.tlog-proof").read_text()
    p = run(gosumdb, "verify", rust_log)
    assert p.returncode == 0, f"Go rejects our log:\n{p.stderr}"
    assert "checks passed" in p.stdout


def test_we_verify_gos_log(example, go_log):
    for rel in ["log/tile/0/006", "log/tile/0/007.p/208", "log/tile/1/000.p/7", "log/tile/entries/007.p/208", "proofs/0-1.tlog-proof", "consistency/2000-2000"]:
        assert (go_log / rel).is_file(), rel
    p = run(example, "verify", go_log)
    assert p.returncode == 0, f"we reject Go's log:\n{p.stderr}"
    assert "checks passed" in p.stdout


# Tampering: each changes one file so that its content is still well-formed.


def flip_middle_byte(data: bytes) -> bytes:
    b = bytearray(data)
    b[len(b) // 2] ^= 0x01
    return bytes(b)


def flip_last_byte(data: bytes) -> bytes:
    """In a bundle whose last entry is "… leaf 255", makes it "… leaf 254"."""
    return data[:-1] + bytes([data[-1] ^ 0x01])


def flip_hash_after(prefix: str):
    """Flip a bit of the first hash line after the line starting with `prefix`."""

    def tamper(data: bytes) -> bytes:
        lines = data.decode().split("\n")
        i = next(i for i, l in enumerate(lines) if l.startswith(prefix)) + 1
        raw = bytearray(base64.b64decode(lines[i], validate=True))
        assert len(raw) == 32, lines[i]
        raw[0] ^= 0x01
        lines[i] = base64.b64encode(raw).decode()
        return "\n".join(lines).encode()

    return tamper


def flip_log_signature(data: bytes) -> bytes:
    """Flip a bit in the log's Ed25519 signature (the line named after the origin)."""
    lines = data.decode().split("\n")
    sig = f"{EM_DASH} {lines[0]} "
    i = next(i for i, l in enumerate(lines) if l.startswith(sig))
    raw = bytearray(base64.b64decode(lines[i][len(sig):], validate=True))
    raw[4] ^= 0x01  # after the 4-byte key id
    lines[i] = sig + base64.b64encode(raw).decode()
    return "\n".join(lines).encode()


def tampered_copy(src: Path, dst: Path, rel: str, tamper) -> Path:
    shutil.copytree(src, dst)
    before = (dst / rel).read_bytes()
    after = tamper(before)
    assert after != before and len(after) == len(before)
    (dst / rel).write_bytes(after)
    return dst


GO_REJECTS = [
    ("log/tile/1/000", flip_middle_byte, ["through tlog.TileHashReader: downloaded inconsistent tile", "log/tile/1/000: differs from tlog.ReadTileData"]),
    ("log/tile/entries/000", flip_last_byte, ["log/tile/0/000: hash 255 is not tlog.RecordHash of entry 255"]),
    ("proofs/617-70000.tlog-proof", flip_hash_after("index "), ["proofs/617-70000.tlog-proof: tlog.CheckRecord of entry 617", "invalid transparency proof"]),
    ("consistency/1000-70000", flip_hash_after("old "), ["consistency/1000-70000: tlog.CheckTree from 1000 to 70000", "invalid transparency proof"]),
    ("log/checkpoint", flip_log_signature, ["log/checkpoint: note.Open: invalid signature for key rust.example/log"]),
]


@pytest.mark.parametrize("rel,tamper,expected", GO_REJECTS, ids=[c[0] for c in GO_REJECTS])
def test_go_rejects_our_tampered_log(gosumdb, rust_log, tmp_path, rel, tamper, expected):
    d = tampered_copy(rust_log, tmp_path / "log", rel, tamper)
    p = run(gosumdb, "verify", d)
    assert p.returncode == 1, f"Go accepted a tampered {rel}:\n{p.stdout}{p.stderr}"
    for e in expected:
        assert e in p.stderr, f"expected {e!r} in:\n{p.stderr}"


WE_REJECT = [
    ("log/tile/1/000.p/7", flip_middle_byte, ["log/tile/1/000.p/7: differs from our tile"]),
    ("log/tile/entries/000", flip_last_byte, ["log/tile/0/000: hash 255 is not the leaf hash of entry 255", "tree hash of the 2000 entries in the bundles"]),
    ("proofs/617-2000.tlog-proof", flip_hash_after("index "), ["proofs/617-2000.tlog-proof: the inclusion proof of entry 617 in tree 2000 does not verify"]),
    ("consistency/1000-2000", flip_hash_after("old "), ["consistency/1000-2000: the consistency proof from 1000 to 2000 does not verify"]),
    ("log/checkpoint", flip_log_signature, ["log/checkpoint: log signature rejected: the signature by go.example/log does not verify"]),
]


@pytest.mark.parametrize("rel,tamper,expected", WE_REJECT, ids=[c[0] for c in WE_REJECT])
def test_we_reject_gos_tampered_log(example, go_log, tmp_path, rel, tamper, expected):
    d = tampered_copy(go_log, tmp_path / "log", rel, tamper)
    p = run(example, "verify", d)
    assert p.returncode == 1, f"we accepted a tampered {rel}:\n{p.stdout}{p.stderr}"
    for e in expected:
        assert e in p.stderr, f"expected {e!r} in:\n{p.stderr}"
