"""The publisher side of a key site's witnessed release log: `wheelsig site init` (the log key),
`add-witness`, `publish` (one leaf per wheel), `cosign` against real `wheelsig witness serve`
processes on loopback, and `site build` checking the log (tiles, bundles, proofs, --previous).

Everything the site serves is checked here independently of wheelsig: RFC 6962 hashing and
inclusion (tlog research REPORT.md section 2), C2SP entry bundles and tiles, and the Ed25519
note signature and cosignature/v1 lines (with the `cryptography` package)."""
import base64
import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from conftest import REPO, build_wheel

WIDGET = REPO / "www"
DASH = "\u2014 "
EXTENSION = "the log is not an extension of what is live"


# --- RFC 6962 / C2SP, written from the specs ------------------------------------------------


def sha(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def leaf_hash(entry: bytes) -> bytes:
    return sha(b"\x00" + entry)


def node(left: bytes, right: bytes) -> bytes:
    return sha(b"\x01" + left + right)


def mth(leaves):
    if not leaves:
        return sha(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node(mth(leaves[:k]), mth(leaves[k:]))


def verify_inclusion(leaf, index, size, path, root) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def bundle_entries(data: bytes):
    out = []
    while data:
        n = int.from_bytes(data[:2], "big")
        out.append(data[2 : 2 + n])
        data = data[2 + n :]
    return out


def make_bundle(entries) -> bytes:
    return b"".join(len(e).to_bytes(2, "big") + e for e in entries)


def parse_vkey(vkey: str):
    name, key_id, b64 = vkey.strip().split("+", 2)
    raw = base64.b64decode(b64)
    return name, bytes.fromhex(key_id), raw[0], Ed25519PublicKey.from_public_bytes(raw[1:])


def split_note(text: str):
    body, sigs = text.rsplit("\n\n", 1)
    lines = []
    for line in sigs.splitlines():
        assert line.startswith(DASH), line
        name, b64 = line[len(DASH) :].split(" ")
        lines.append((name, base64.b64decode(b64)))
    return body + "\n", lines


def check_note(text: str, log_vkey: str, witness_vkeys) -> dict:
    """Verify the log's signature and every given witness's cosignature; returns {witness: time}."""
    body, lines = split_note(text)
    name, kid, kind, pub = parse_vkey(log_vkey)
    assert kind == 1
    own = [raw for n, raw in lines if n == name and raw[:4] == kid]
    assert len(own) == 1, lines
    pub.verify(own[0][4:], body.encode())
    times = {}
    for v in witness_vkeys:
        wname, wkid, wkind, wpub = parse_vkey(v)
        assert wkind == 4
        for n, raw in lines:
            if n == wname and raw[:4] == wkid:
                t = int.from_bytes(raw[4:12], "big")
                wpub.verify(raw[12:], f"cosignature/v1\ntime {t}\n".encode() + body.encode())
                times[wname] = t
    return times


def parse_checkpoint(text: str):
    body, _ = split_note(text)
    origin, size, root = body.splitlines()[:3]
    return origin, int(size), base64.b64decode(root)


def parse_proof(data: bytes):
    head, note = data.decode().split("\n\n", 1)
    lines = head.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1"
    assert lines[1].startswith("index ")
    return int(lines[1][6:]), [base64.b64decode(h) for h in lines[2:]], note


def parse_leaf(entry: bytes) -> dict:
    lines = entry.decode().rstrip("\n").split("\n")
    assert lines[0] == "wheelsig-release/v1"
    return dict(line.split(" ", 1) for line in lines[1:])


def sign_checkpoint(body: str, private_key_text: str) -> str:
    """Sign a checkpoint body with a PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed)> key."""
    _, _, name, key_id, b64 = private_key_text.strip().split("+", 4)
    raw = base64.b64decode(b64)
    assert raw[0] == 1
    sig = Ed25519PrivateKey.from_private_bytes(raw[1:]).sign(body.encode())
    return f"{body}\n{DASH}{name} {base64.b64encode(bytes.fromhex(key_id) + sig).decode()}\n"


# --- fixtures -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def snapshot(directory: Path) -> dict:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


class Witnesses:
    """Real witnesses: `wheelsig witness serve` on loopback ports picked here."""

    def __init__(self, ws, tmp_path):
        self.ws, self.tmp, self.procs = ws, tmp_path, []

    def start(self, name: str, log_vkey: str):
        d = self.tmp / "witness" / name.replace("/", "_")
        d.mkdir(parents=True)
        p = self.ws.run("witness", "keygen", "--name", name, "--out", d / "key")
        assert p.returncode == 0, p.stderr
        vkey = p.stdout.strip()
        port = free_port()
        err = open(d / "stderr", "w")
        proc = subprocess.Popen(
            [str(self.ws.binary), "witness", "serve", "--listen", f"127.0.0.1:{port}", "--db", str(d / "db.sqlite"), "--key", str(d / "key"), "--log", log_vkey],
            stdout=subprocess.DEVNULL, stderr=err, env=self.ws.env,
        )
        self.procs.append(proc)
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.fail(f"witness {name} did not start: {(d / 'stderr').read_text()}")
                time.sleep(0.1)
        return vkey, f"http://127.0.0.1:{port}"

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture
def witnesses(wheelsig, tmp_path, witness_cli):
    w = Witnesses(wheelsig, tmp_path)
    yield w
    w.stop()


class LogSite:
    def __init__(self, ws, tmp_path, witnesses):
        if not (WIDGET / "pkg" / "wheelsig_bg.wasm").exists():
            pytest.fail("www/pkg missing: the wasm build runs before these tests in npm test")
        self.ws, self.tmp, self.w = ws, tmp_path, witnesses
        self.dir = tmp_path / "src"
        self.log_key = tmp_path / "keys" / "log.key"
        self.url = f"http://127.0.0.1:{free_port()}/keys/"
        self.ok("site", "init", self.dir, "--publisher", "Log Publisher", "--site-url", self.url, "--projects", "demo", "--widget", WIDGET, "--log-key", self.log_key)
        self.vkey = (self.dir / "log" / "vkey").read_text().strip()
        self.key = tmp_path / "keys" / "me.jwk"
        self.kid = ws.keygen(self.key)["kid"]
        self.ok("site", "add-key", self.dir, "--key", self.key)
        self.witness_vkeys = []
        self.n = 0

    def ok(self, *args):
        p = self.ws.run(*args)
        assert p.returncode == 0, f"wheelsig {' '.join(map(str, args))}: {p.stderr}"
        return p

    def add_witness(self, name):
        vkey, url = self.w.start(name, self.vkey)
        self.ok("site", "add-witness", self.dir, "--vkey", vkey, "--url", url)
        self.witness_vkeys.append(vkey)
        return vkey, url

    def wheel(self, version):
        d = self.tmp / "wheels" / version
        d.mkdir(parents=True)
        return build_wheel(d, version=version)

    def publish(self, *wheels):
        return self.ok("site", "publish", self.dir, "--key", self.key, "--log-key", self.log_key, *wheels)

    def build(self, out, *extra):
        return self.ws.run("site", "build", self.dir, "--out", out, *extra)

    def checkpoint(self):
        return (self.dir / "log" / "checkpoint").read_text()

    def entries(self, root=None):
        root = root or self.dir
        size = parse_checkpoint((root / "log" / "checkpoint").read_text())[1]
        assert size < 256
        return bundle_entries((root / "log" / "tile" / "entries" / f"000.p/{size}").read_bytes())


@pytest.fixture
def site(wheelsig, tmp_path, witnesses):
    return LogSite(wheelsig, tmp_path, witnesses)


# The two cosign clients: the CLI, and the template's Node tool (the same core, in wasm) that the
# key site's workflow runs in GitHub Actions.
COSIGNERS = ["cli", "node"]


def cosign(site, tool, *extra):
    if tool == "cli":
        return site.ws.run("site", "cosign", site.dir, *extra)
    return subprocess.run(["node", site.dir / "tools" / "cosign-site.mjs", "--site", site.dir, *extra], capture_output=True, text=True, timeout=120)


def check_built_proofs(site, out, wheels):
    """Every release's .tlog-proof in OUT: its leaf is the release, included, signed, cosigned."""
    _, size, root = parse_checkpoint((out / "log" / "checkpoint").read_text())
    entries = site.entries(out)
    leaves = [leaf_hash(e) for e in entries]
    assert mth(leaves) == root
    assert (out / "log" / "tile" / "0" / f"000.p/{size}").read_bytes() == b"".join(leaves)
    proofs = {}
    for whl in wheels:
        jws = (out / "releases" / "demo" / f"{whl.name}.jws").read_bytes()
        index, path, note = parse_proof((out / "releases" / "demo" / f"{whl.name}.tlog-proof").read_bytes())
        leaf = parse_leaf(entries[index])
        assert leaf["file"] == whl.name and leaf["project"] == "demo" and leaf["kid"] == site.kid
        assert leaf["sha256"] == hashlib.sha256(whl.read_bytes()).hexdigest()
        assert leaf["jws-sha256"] == hashlib.sha256(jws).hexdigest()
        origin, psize, proot = parse_checkpoint(note)
        assert origin == site.vkey.split("+")[0]
        assert verify_inclusion(leaves[index], index, psize, path, proot)
        assert mth(leaves[:psize]) == proot, "the proof's checkpoint is a prefix of the current tree"
        times = check_note(note, site.vkey, site.witness_vkeys)
        assert len(times) == len(site.witness_vkeys)
        proofs[whl.name] = (index, psize, max(times.values()))
    return proofs


# --- tests ----------------------------------------------------------------------------------


def test_init_writes_the_log_key_off_the_site_and_vkey_prints_it(site, tmp_path, wheelsig):
    config = json.loads((site.dir / "site.json").read_text())
    origin = site.url.split("://")[1].rstrip("/") + "/log"
    assert config["log"] == {"origin": origin, "vkey": site.vkey}
    assert site.vkey.startswith(origin + "+")
    assert stat.S_IMODE(site.log_key.stat().st_mode) == 0o600
    assert site.log_key.read_text().startswith(f"PRIVATE+KEY+{origin}+")
    assert site.ok("site", "vkey", site.dir).stdout == (site.dir / "log" / "vkey").read_text()
    origin_, size, root = parse_checkpoint(site.checkpoint())
    assert (origin_, size, root) == (origin, 0, sha(b""))
    check_note(site.checkpoint(), site.vkey, [])
    # The default key location, a key inside the site, an existing key.
    env = dict(wheelsig.env, XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    p = subprocess.run([str(wheelsig.binary), "site", "init", tmp_path / "s2", "--publisher", "a", "--site-url", "https://a.example/k/", "--widget", WIDGET], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "xdg" / "wheelsig" / "log-keys" / "a.example_k_log.key").exists()
    p = subprocess.run([str(wheelsig.binary), "site", "init", tmp_path / "s3", "--publisher", "a", "--site-url", "https://a.example/k/", "--widget", WIDGET], capture_output=True, text=True, env=env)
    assert p.returncode == 2 and "exists" in p.stderr and not (tmp_path / "s3").exists()
    p = wheelsig.run("site", "init", tmp_path / "s4", "--publisher", "a", "--site-url", "https://a.example/", "--widget", WIDGET, "--log-key", tmp_path / "s4" / "log.key")
    assert p.returncode == 2 and "must not be inside the site directory" in p.stderr and not (tmp_path / "s4").exists()


def test_add_witness_checks_its_key_and_url(site):
    vkey, url = site.w.start("w.example/checks", site.vkey)
    for bad_vkey, bad_url, want in [(site.vkey, url, "not a witness"), (vkey, "http://w.example/", "must be https"), ("nonsense", url, "--vkey")]:
        p = site.ws.run("site", "add-witness", site.dir, "--vkey", bad_vkey, "--url", bad_url)
        assert p.returncode == 2 and want in p.stderr, p.stderr
    site.ok("site", "add-witness", site.dir, "--vkey", vkey, "--url", url)
    p = site.ws.run("site", "add-witness", site.dir, "--vkey", vkey, "--url", url)
    assert p.returncode == 2 and "already lists witness w.example/checks" in p.stderr
    assert json.loads((site.dir / "site.json").read_text())["witnesses"] == [{"vkey": vkey, "url": url}]


def test_publish_cosign_build_then_extend(site, tmp_path):
    site.add_witness("w1.example/w")
    site.add_witness("w2.example/w")
    v1, v2 = site.wheel("1.0"), site.wheel("2.0")
    site.publish(v1, v2)
    assert parse_checkpoint(site.checkpoint())[1] == 2
    assert len(split_note(site.checkpoint())[1]) == 1, "published: signed by the log only"
    site.ok("site", "cosign", site.dir)
    out = tmp_path / "out"
    p = site.build(out)
    assert p.returncode == 0, p.stderr
    assert "log of 2 entries" in p.stderr
    checkpoint = (out / "log" / "checkpoint").read_text()
    assert checkpoint == site.checkpoint()
    assert len(split_note(checkpoint)[1]) == 3, "the log's signature and both cosignatures"
    times = check_note(checkpoint, site.vkey, site.witness_vkeys)
    assert set(times) == {"w1.example/w", "w2.example/w"}
    assert (out / "log" / "vkey").read_text() == site.ok("site", "vkey", site.dir).stdout
    assert (out / "log" / "tile" / "entries" / "000.p/2").exists() and (out / "log" / "tile" / "0" / "000.p/2").exists()
    assert not (out / "log" / "witnessed.json").exists(), "the publisher's record is not published"
    first = check_built_proofs(site, out, [v1, v2])
    assert sorted(i for i, _, _ in first.values()) == [0, 1]
    page = (out / "index.html").read_text()
    assert "<h2>Release log</h2>" in page and site.vkey in page and "w1.example/w" in page and "w2.example/w" in page
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(max(times.values())))
    assert stamp in page, "each witness's cosignature time and each release's witnessed time"
    releases = json.loads((out / "releases.json").read_text())
    assert {r["filename"]: r["log_index"] for r in releases["releases"]} == {v1.name: first[v1.name][0], v2.name: first[v2.name][0]}
    assert releases["log"]["size"] == 2 and len(releases["log"]["witnesses"]) == 2

    # The Node generator (the wasm) builds the same bytes, log checks included.
    node_out = tmp_path / "node-out"
    p = subprocess.run(["node", site.dir / "tools" / "build-site.mjs", "--out", node_out], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert snapshot(node_out) == snapshot(out)

    # Re-publishing the same file is a no-op for the log; a changed file of that name is refused.
    before = snapshot(site.dir)
    site.publish(v1)
    assert snapshot(site.dir) == before
    (tmp_path / "changed").mkdir()
    changed = build_wheel(tmp_path / "changed", version="1.0", files={"demo/__init__.py": b"changed\n"})
    p = site.ws.run("site", "publish", site.dir, "--key", site.key, "--log-key", site.log_key, changed)
    assert p.returncode == 2 and "a logged release cannot be changed" in p.stderr
    assert snapshot(site.dir) == before

    # A second release, cosigned: the old proofs stay as they were and still verify.
    old_checkpoint = tmp_path / "live-checkpoint"
    old_checkpoint.write_text(checkpoint)
    old_proofs = {w.name: (site.dir / "releases" / "demo" / f"{w.name}.tlog-proof").read_bytes() for w in (v1, v2)}
    v3 = site.wheel("3.0")
    site.publish(v3)
    site.ok("site", "cosign", site.dir)
    out2 = tmp_path / "out2"
    p = site.build(out2, "--previous", old_checkpoint)
    assert p.returncode == 0, p.stderr
    for name, data in old_proofs.items():
        assert (out2 / "releases" / "demo" / f"{name}.tlog-proof").read_bytes() == data
    second = check_built_proofs(site, out2, [v1, v2, v3])
    assert second[v1.name] == first[v1.name] and second[v3.name][:2] == (2, 3)
    assert (out2 / "log" / "tile" / "0" / "000.p/2").exists(), "partial tiles of earlier sizes stay"
    assert len(split_note((out2 / "log" / "checkpoint").read_text())[1]) == 3
    p = subprocess.run(["node", site.dir / "tools" / "build-site.mjs", "--out", tmp_path / "node-out2", "--previous", old_checkpoint], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert snapshot(tmp_path / "node-out2") == snapshot(out2)


def fork(site):
    """Rewrite history: swap the log's two entries, re-derive the tiles, re-sign the checkpoint
    with the log key. A consistent log on its own, but not an extension of the real one."""
    log = site.dir / "log"
    entries = site.entries()
    assert len(entries) == 2
    forked = [entries[1], entries[0]]
    (log / "tile" / "entries" / "000.p/2").write_bytes(make_bundle(forked))
    leaves = [leaf_hash(e) for e in forked]
    (log / "tile" / "0" / "000.p/2").write_bytes(b"".join(leaves))
    origin = site.vkey.split("+")[0]
    body = f"{origin}\n2\n{base64.b64encode(mth(leaves)).decode()}\n"
    (log / "checkpoint").write_text(sign_checkpoint(body, site.log_key.read_text()))
    for p in (site.dir / "releases" / "demo").glob("*.tlog-proof"):
        p.unlink()


@pytest.mark.parametrize("tool", COSIGNERS)
def test_a_forked_log_fails_build_previous_and_witnesses_refuse_it(site, tmp_path, tool):
    site.add_witness("w1.example/w")
    site.publish(site.wheel("1.0"), site.wheel("2.0"))
    assert cosign(site, tool).returncode == 0
    live = tmp_path / "live-checkpoint"
    live.write_text(site.checkpoint())
    fork(site)
    assert site.build(tmp_path / "o1").returncode == 0, "the fork is a well-formed log by itself"
    p = site.build(tmp_path / "o2", "--previous", live)
    assert p.returncode == 1 and EXTENSION in p.stderr, p.stderr
    assert not (tmp_path / "o2" / "index.html").exists()
    # The witness that cosigned the real history refuses the fork; a new witness would accept
    # it, but nothing is written unless every witness cosigns.
    site.add_witness("w2.example/fresh")
    before = snapshot(site.dir)
    p = cosign(site, tool)
    assert p.returncode == 1, p.stderr
    assert "witness w1.example/w" in p.stderr and ("answered 422" in p.stderr or "answered 409" in p.stderr), p.stderr
    assert "nothing was written" in p.stderr
    assert snapshot(site.dir) == before, "the site is exactly as it was"
    # The Node generator refuses the fork the same way.
    p = subprocess.run(["node", site.dir / "tools" / "build-site.mjs", "--out", tmp_path / "n", "--previous", live], capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and EXTENSION in p.stderr, p.stderr


@pytest.mark.parametrize("tool", COSIGNERS)
def test_an_unreachable_witness_fails_cosign_and_changes_nothing(site, tool):
    site.add_witness("w1.example/w")
    closed = f"http://127.0.0.1:{free_port()}"
    dead = site.ws.run("witness", "keygen", "--name", "dead.example/w", "--out", site.tmp / "dead.key").stdout.strip()
    site.ok("site", "add-witness", site.dir, "--vkey", dead, "--url", closed)
    site.publish(site.wheel("1.0"))
    before = snapshot(site.dir)
    p = cosign(site, tool)
    assert p.returncode == 1
    assert f"witness dead.example/w ({closed}) could not be reached" in p.stderr, p.stderr
    assert snapshot(site.dir) == before
    assert not list((site.dir / "releases").rglob("*.tlog-proof"))


def test_the_node_cosigner_works_with_the_cli_and_asks_no_one_when_nothing_is_new(site, tmp_path):
    """The workflow's cosign step: tools/cosign-site.mjs, taking turns with the CLI on one site."""
    site.add_witness("w1.example/w")
    site.add_witness("w2.example/w")
    v1 = site.wheel("1.0")
    site.publish(v1)
    p = cosign(site, "node")
    assert p.returncode == 0, p.stderr
    assert "witness w1.example/w cosigned" in p.stderr and "1 new .tlog-proof file" in p.stderr, p.stderr
    witnessed = json.loads((site.dir / "log" / "witnessed.json").read_text())
    assert witnessed == {v: 1 for v in site.witness_vkeys}
    p = site.build(tmp_path / "o1")
    assert p.returncode == 0, p.stderr
    first = check_built_proofs(site, tmp_path / "o1", [v1])
    # Nothing new: --if-needed asks no witness (both are stopped) and writes nothing.
    before = snapshot(site.dir)
    site.w.stop()
    p = cosign(site, "node", "--if-needed")
    assert p.returncode == 0 and "already cosigned by every witness: nothing to do" in p.stderr, p.stderr
    assert snapshot(site.dir) == before
    # Without --if-needed it asks, and fails on stopped witnesses without writing.
    p = cosign(site, "node")
    assert p.returncode == 1 and "could not be reached" in p.stderr and "nothing was written" in p.stderr, p.stderr
    assert snapshot(site.dir) == before
    # A lost witnessed.json (a fresh CI checkout): the witnesses' 409 says their size.
    site2 = LogSite(site.ws, tmp_path / "second", site.w)
    site2.add_witness("w3.example/w")
    site2.publish(site2.wheel("1.0"))
    assert cosign(site2, "cli").returncode == 0
    (site2.dir / "log" / "witnessed.json").unlink()
    site2.publish(site2.wheel("2.0"))
    p = cosign(site2, "node")
    assert p.returncode == 0, p.stderr
    assert json.loads((site2.dir / "log" / "witnessed.json").read_text()) == {site2.witness_vkeys[0]: 2}
    p = site2.build(tmp_path / "o2")
    assert p.returncode == 0, p.stderr
    assert first


@pytest.mark.parametrize(
    "target, message",
    [
        ("log/tile/0/000.p/2", "log/tile/0/000.p/2: does not match the log's entries"),
        ("log/tile/entries/000.p/2", "an entry bundle was changed"),
        ("log/checkpoint", "log/checkpoint: "),
        ("proof-hash", "inclusion proof of entry"),
        ("proof-index", "a proof for entry"),
        ("proof-truncated", "not a tlog-proof"),
        ("missing-tile", "log/tile/0/000.p/2: missing"),
        ("jws", "is not in the release log"),
    ],
)
def test_tampering_fails_the_build_clearly(site, tmp_path, target, message):
    site.add_witness("w1.example/w")
    v1, v2 = site.wheel("1.0"), site.wheel("2.0")
    site.publish(v1, v2)
    site.ok("site", "cosign", site.dir)
    assert site.build(tmp_path / "ok").returncode == 0
    proof = site.dir / "releases" / "demo" / f"{v2.name}.tlog-proof"
    if target.startswith("log/"):
        f = site.dir / target
        data = bytearray(f.read_bytes())
        data[min(40, len(data) - 1) if target != "log/checkpoint" else len(data) - 20] ^= 1
        f.write_bytes(bytes(data))
    elif target == "proof-hash":
        text = proof.read_text().split("\n")
        text[2] = base64.b64encode(sha(b"other")).decode()
        proof.write_text("\n".join(text))
    elif target == "proof-index":
        proof.write_text(proof.read_text().replace("index 1\n", "index 0\n"))
    elif target == "proof-truncated":
        proof.write_text(proof.read_text()[:60])
    elif target == "missing-tile":
        (site.dir / "log" / "tile" / "0" / "000.p/2").unlink()
    elif target == "jws":
        # A signature made outside `site publish`: valid, but not the logged one.
        site.ok("sign", "--key", site.key, "--key-url", f"{site.url}keys.json", "--out-dir", site.dir / "releases" / "demo", site.wheel("3.0"))
    p = site.build(tmp_path / "out")
    assert p.returncode == 1, p.stderr
    assert message in p.stderr, p.stderr
    assert "panicked" not in p.stderr
    assert not (tmp_path / "out" / "index.html").exists()


def test_the_built_site_verifies_with_a_witness_policy(site, tmp_path):
    """End to end with the verifier: the deployed site's .tlog-proof satisfies a C2SP policy
    naming the site's log key and its witness (`verify --witness-policy --require-logged`)."""
    import http.server
    import threading
    from functools import partial

    w_vkey, _ = site.add_witness("w1.example/w")
    whl = site.wheel("1.0")
    site.publish(whl)
    site.ok("site", "cosign", site.dir)
    served = tmp_path / "served"
    assert site.build(served / "keys").returncode == 0
    port = int(site.url.split(":")[2].split("/")[0])
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        policy = tmp_path / "policy"
        policy.write_text(f"log {site.vkey}\nwitness W1 {w_vkey}\nquorum W1\n")
        site.ws.env["WHEELSIG_STATE_DIR"] = str(tmp_path / "state")
        code, r = site.ws.report("--key-url", f"{site.url}keys.json", "--witness-policy", policy, "--require-logged", "--require-trusted", whl)
        assert (code, r["verdict"]) == (0, "trusted"), r["problems"]
        assert r["log"]["index"] == 0 and r["log"]["quorum"] is True and r["log"]["log_key"] == "policy"

        # A policy naming only the witness: the log key is the site's log/vkey, remembered on
        # first use; a site that later serves another log key is log-key-changed (untrusted).
        site.ws.env["WHEELSIG_STATE_DIR"] = str(tmp_path / "state2")
        policy.write_text(f"witness W1 {w_vkey}\nquorum W1\n")
        code, r = site.ws.report("--key-url", f"{site.url}keys.json", "--witness-policy", policy, "--require-logged", "--require-trusted", whl)
        assert (code, r["verdict"]) == (0, "trusted"), r["problems"]
        assert r["log"]["log_key"] == "first-use"
        state = json.loads((tmp_path / "state2" / "logs.json").read_text())
        assert list(state["log_keys"].values()) == [site.vkey]
        # Another Ed25519 log key with the same origin name (tlog.py, an independent implementation).
        from tlog import NoteKey

        (served / "keys" / "log" / "vkey").write_text(NoteKey(site.vkey.split("+")[0]).vkey() + "\n")
        code, r = site.ws.report("--key-url", f"{site.url}keys.json", "--witness-policy", policy, "--require-logged", whl)
        assert (code, r["verdict"]) == (1, "untrusted"), r["problems"]
        assert "log-key-changed" in [p["code"] for p in r["problems"]]
    finally:
        server.shutdown()


def run_steps(job, cwd, env, substitute=None):
    """Run a workflow job's `run:` steps as GitHub Actions does (bash -eo pipefail, GITHUB_OUTPUT;
    a failing step with `continue-on-error: true` does not stop the job); `uses:` steps
    (checkout, Pages) are done by the caller. `substitute` replaces text in the scripts (a
    loopback index for PyPI). Returns the step outputs."""
    outputs = {}
    for step in job["steps"]:
        if "run" not in step:
            continue
        script = step["run"]
        for old, new in (substitute or {}).items():
            script = script.replace(old, new)
        out_file = cwd.parent / f"output-{step.get('id', 'step')}"
        out_file.write_text("")
        p = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=120, env=dict(env, GITHUB_OUTPUT=str(out_file)))
        if p.returncode != 0 and step.get("continue-on-error") is True:
            continue
        assert p.returncode == 0, f"step {step.get('name', step.get('id'))!r}: {p.stderr}"
        for line in out_file.read_text().splitlines():
            k, v = line.split("=", 1)
            outputs[k] = v
    return outputs


def git(cwd, *args):
    p = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"git {' '.join(args)}: {p.stderr}"
    return p.stdout.strip()


def test_the_workflow_cosign_job_commits_cosignatures_once_and_the_build_uses_them(site, tmp_path):
    """The template workflow's `cosign` job, its shell steps run as Actions would, against a
    clone of the site repository and real witnesses: it commits the cosigned checkpoint and the
    new proof and pushes them; a second run asks no one and commits nothing; the `build` job's
    steps then build the commit it names."""

    workflow = yaml.safe_load((site.dir / ".github" / "workflows" / "pages.yml").read_text())
    cosign_job, build_job = workflow["jobs"]["cosign"], workflow["jobs"]["build"]
    assert cosign_job["if"] == "github.event_name != 'pull_request'", "pull requests are never cosigned"
    site.add_witness("w1.example/w")
    site.add_witness("w2.example/w")
    v1 = site.wheel("1.0")
    site.publish(v1)
    git(site.dir, "init", "--quiet", "-b", "main")
    git(site.dir, "add", ".")
    git(site.dir, "commit", "--quiet", "-m", "publish 1.0")
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(site.dir), str(origin))
    runner = tmp_path / "runner" / "repo"
    git(tmp_path, "clone", "--quiet", str(origin), str(runner))
    published = git(origin, "rev-parse", "main")
    env = dict(os.environ, GITHUB_REF_NAME="main", GITHUB_SHA=published)

    out = run_steps(cosign_job, runner, env)
    head = git(origin, "rev-parse", "main")
    assert head != published and out["sha"] == head
    assert git(origin, "log", "-1", "--format=%s", "main") == "Cosign the release log"
    changed = set(git(origin, "diff", "--name-only", published, head).splitlines())
    assert changed == {"log/checkpoint", "log/witnessed.json", f"releases/demo/{v1.name}.tlog-proof"}, changed
    checkpoint = git(origin, "show", f"{head}:log/checkpoint") + "\n"
    assert set(check_note(checkpoint, site.vkey, site.witness_vkeys)) == {"w1.example/w", "w2.example/w"}

    # Again, with the witnesses gone: nothing to ask, nothing committed, the same commit named.
    site.w.stop()
    runner2 = tmp_path / "runner2" / "repo"
    git(tmp_path, "clone", "--quiet", str(origin), str(runner2))
    assert run_steps(cosign_job, runner2, env)["sha"] == head
    assert git(origin, "rev-parse", "main") == head

    # The build job checks out that commit and builds it (no live checkpoint before the first deploy).
    assert "needs.cosign.outputs.sha" in next(s for s in build_job["steps"] if s.get("uses", "").startswith("actions/checkout"))["with"]["ref"]
    builder = tmp_path / "runner3" / "repo"
    git(tmp_path, "clone", "--quiet", str(origin), str(builder))
    git(builder, "checkout", "--quiet", head)
    # The audit step asks a closed loopback port instead of PyPI (no network here): it records
    # that the index could not be asked, and the page says so.
    closed = f"http://127.0.0.1:{free_port()}/simple/"
    run_steps(build_job, builder, dict(env, RUNNER_TEMP=str(tmp_path)), substitute={"https://pypi.org/simple/": closed})
    check_built_proofs(site, builder / "_site", [v1])
    assert "The audit could not be carried out" in (builder / "_site" / "index.html").read_text()
