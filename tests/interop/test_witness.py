"""`wheelsig witness serve` (C2SP tlog-witness add-checkpoint, HEAD semantics) driven over
loopback HTTP by an independent Python log (tlog.py): every status code with its body, the
cosignature checked as cosignature/v1 against the printed vkey, durability across SIGKILL,
compare-and-swap under racing submissions, and the HTTP layer's limits."""
import base64
import os
import re
import signal
import socket
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tlog import (
    EM_DASH,
    EMPTY_ROOT,
    Client,
    NoteKey,
    Tree,
    add_checkpoint_body,
    b64,
    checkpoint_text,
    origin_hash,
    signed_note,
    verify_cosignature,
    verify_note_line,
)

ORIGIN = "example.com/log"
WITNESS_NAME = "witness.test/w1"


class Witness:
    """One `wheelsig witness serve` process on 127.0.0.1:<free port>, restartable on its DB."""

    def __init__(self, wheelsig, tmp: Path, logs, extra=()):
        self.wheelsig = wheelsig
        self.tmp = tmp
        self.key = tmp / "witness.key"
        self.db = tmp / "witness.db"
        self.logs = logs
        self.extra = list(extra)
        p = wheelsig.run("witness", "keygen", "--name", WITNESS_NAME, "--out", self.key)
        assert p.returncode == 0, p.stderr
        self.vkey = p.stdout.strip()
        self.proc = None
        self.runs = 0

    def start(self):
        self.runs += 1
        self.log_path = self.tmp / f"witness-{self.runs}.log"
        args = [str(self.wheelsig.binary), "witness", "serve", "--listen", "127.0.0.1:0", "--db", str(self.db), "--key", str(self.key)]
        for k in self.logs:
            args += ["--log", k.vkey()]
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args + self.extra, stdout=subprocess.DEVNULL, stderr=self.log_file, env=self.wheelsig.env)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            m = re.search(rb"listening on http://127\.0\.0\.1:(\d+)", self.log_path.read_bytes())
            if m:
                self.port = int(m.group(1))
                return self
            assert self.proc.poll() is None, self.log_path.read_text()
            time.sleep(0.02)
        raise AssertionError("witness did not start: " + self.log_path.read_text())

    def client(self) -> Client:
        return Client("127.0.0.1", self.port)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.log_file.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.log_file.close()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


class Log:
    """A log: its key, its tree, and checkpoints/requests built from them."""

    def __init__(self, origin=ORIGIN, seed=None):
        self.origin = origin
        self.key = NoteKey(origin, seed)
        self.tree = Tree()

    def grow(self, to: int, tag=b""):
        while len(self.tree) < to:
            self.tree.append(b"%s leaf %d" % (tag, len(self.tree)))
        return self

    def text(self, size: int) -> str:
        return checkpoint_text(self.origin, size, self.tree.root(size))

    def body(self, old: int, size: int, keys=None) -> bytes:
        note = signed_note(self.text(size), *(keys if keys is not None else [self.key]))
        return add_checkpoint_body(old, self.tree.consistency(old, size), note)


@pytest.fixture
def log():
    return Log().grow(64)


@pytest.fixture
def witness(wheelsig, tmp_path, log):
    w = Witness(wheelsig, tmp_path, [log.key]).start()
    yield w
    w.stop()


def assert_cosigned(witness, text: str, status, headers, body, *, after=None):
    assert status == 200, body
    assert headers["content-type"].startswith("text/plain")
    line = body.decode()
    assert line.count("\n") == 1 and line.startswith(f"{EM_DASH} {WITNESS_NAME} "), line
    ts = verify_cosignature(witness.vkey, text, line)
    assert abs(ts - time.time()) < 5, ts
    if after is not None:
        assert ts >= after, "cosignature timestamps never go backwards"
    return ts


# --- the Python log is itself checked against Go's golang.org/x/mod vectors -----------------

def test_python_log_matches_go_vectors():
    t = Tree(b"leaf %d" % i for i in range(1000))
    assert b64(t.root(1000)) == "L/M/udjxT4nKMGKJYzM2oWj/P0Uy6PdBoAGdy0wdYKE="
    assert b64(t.root(600)) == "YeW3m0rrRtdF0jKp4Z6FF/MaCPW/wHpHSqW4KrWAG9o="
    assert [b64(h) for h in t.consistency(600, 1000)][:2] == ["lE1OGr7skwUQjB5eyYJKwpjmugETxPBaWDvBRGOsBGE=", "9BYgdsKsQMd7g54mJhL29Vyg2Q6Td0nZ9+Q3EiKQRjs="]
    assert len(t.consistency(600, 1000)) == 8
    k = NoteKey("example.com/log", bytes([1] * 32))
    assert k.vkey() == "example.com/log+9be5d3c6+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c"
    text = checkpoint_text("example.com/log", 1000, t.root(1000))
    assert k.sign_line(text) == f"{EM_DASH} example.com/log m+XTxkSy28CARmfKbroY6dvnhEnoL4QReOxFNxmssjOQ0yNCCtrAd5VYSzV3Xf/2OcUgaoHc7nsVPwMYSn3mbKNNtw0=\n"
    go_cosig = f"{EM_DASH} witness.example/w1 3xwKNQAAAABkGFDLq355hXSwTvYy/pSyGAj77vcVzEA2JZDGxl+0/6wU+oDeVKzNv/aj7MHZ6+c3f5FID4Q6Nbp216d2s/zVmsxMAQ==\n"
    assert verify_cosignature("witness.example/w1+df1c0a35+BIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOU", text, go_cosig) == 1679315147


# --- keys ------------------------------------------------------------------------------------

def test_keygen_and_vkey(wheelsig, tmp_path):
    key = tmp_path / "w.key"
    p = wheelsig.run("witness", "keygen", "--name", WITNESS_NAME, "--out", key)
    assert p.returncode == 0, p.stderr
    vkey = p.stdout.strip()
    assert re.fullmatch(r"witness\.test/w1\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}", vkey), vkey
    assert base64.b64decode(vkey.split("+", 2)[2])[0] == 0x04, "a cosignature/v1 key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert key.read_text().startswith(f"PRIVATE+KEY+{WITNESS_NAME}+")
    assert wheelsig.run("witness", "vkey", "--key", key).stdout.strip() == vkey
    before = key.read_bytes()
    p = wheelsig.run("witness", "keygen", "--name", WITNESS_NAME, "--out", key)
    assert p.returncode == 2 and "--force" in p.stderr and key.read_bytes() == before
    p = wheelsig.run("witness", "keygen", "--name", WITNESS_NAME, "--out", key, "--force")
    assert p.returncode == 0 and p.stdout.strip() != vkey and key.read_bytes() != before
    # Base64 often contains '+', the vkey field separator: every key must round-trip.
    for i in range(12):
        k = tmp_path / f"k{i}"
        made = wheelsig.run("witness", "keygen", "--name", f"w.test/{i}", "--out", k).stdout.strip()
        assert wheelsig.run("witness", "vkey", "--key", k).stdout.strip() == made
    p = wheelsig.run("witness", "keygen", "--name", "bad name", "--out", tmp_path / "bad")
    assert p.returncode == 2 and not (tmp_path / "bad").exists()


def test_serve_refuses_bad_configuration(wheelsig, tmp_path, log):
    key = tmp_path / "w.key"
    wheelsig.run("witness", "keygen", "--name", WITNESS_NAME, "--out", key)
    witness_vkey = wheelsig.run("witness", "vkey", "--key", key).stdout.strip()
    base = ["witness", "serve", "--listen", "127.0.0.1:0", "--db", tmp_path / "db", "--key"]
    p = wheelsig.run(*base, key, "--log", witness_vkey)
    assert p.returncode == 2 and "not a log's note key" in p.stderr
    p = wheelsig.run(*base, key, "--log", "example.com/log+00000000+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c")
    assert p.returncode == 2 and "key id" in p.stderr
    log_private = tmp_path / "log.key"
    log_private.write_text("PRIVATE+KEY+example.com/log+9be5d3c6+AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB\n")
    p = wheelsig.run(*base, log_private, "--log", log.key.vkey())
    assert p.returncode == 2 and "not a witness" in p.stderr


# --- 200 ---------------------------------------------------------------------------------------

def test_cosigns_first_then_consistent_checkpoints(witness, log):
    c = witness.client()
    t1 = assert_cosigned(witness, log.text(5), *c.add_checkpoint(log.body(0, 5)))
    t2 = assert_cosigned(witness, log.text(12), *c.add_checkpoint(log.body(5, 12)), after=t1)
    # The same checkpoint again (old = size, same root, empty proof): cosigned again.
    t3 = assert_cosigned(witness, log.text(12), *c.add_checkpoint(log.body(12, 12)), after=t2)
    # A power-of-two old size, and a big jump.
    t4 = assert_cosigned(witness, log.text(16), *c.add_checkpoint(log.body(12, 16)), after=t3)
    assert_cosigned(witness, log.text(64), *c.add_checkpoint(log.body(16, 64)), after=t4)
    # Extra signatures the witness does not know (another witness's) are ignored.
    stranger = NoteKey("other.witness/w9")
    assert_cosigned(witness, log.text(64), *c.add_checkpoint(log.body(64, 64, keys=[stranger, log.key])))


def test_monitoring_endpoint(witness, log):
    c = witness.client()
    path = f"/{origin_hash(ORIGIN)}/checkpoint"
    status, _, body = c.request("GET", path)
    assert status == 404, "never cosigned"
    stranger = NoteKey("other.witness/w9")
    status, _, line = c.add_checkpoint(log.body(0, 7, keys=[stranger, log.key]))
    assert status == 200
    status, headers, body = c.request("GET", path)
    assert status == 200 and headers["content-type"].startswith("text/plain")
    text, sigs = body.decode().split("\n\n", 1)
    text += "\n"
    assert text == log.text(7)
    lines = sigs.splitlines(keepends=True)
    assert len(lines) == 2, "the log's verified signature and ours; the unknown line is not passed on"
    verify_note_line(log.key, text, lines[0])
    assert lines[1] == line.decode()
    verify_cosignature(witness.vkey, text, lines[1])
    assert c.request("GET", f"/{origin_hash('unknown.example/log')}/checkpoint")[0] == 404
    assert c.request("GET", f"/{origin_hash(ORIGIN).upper()}/checkpoint")[0] == 404


# --- 400 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda log: b"hello", id="garbage"),
        pytest.param(lambda log: b"", id="empty"),
        pytest.param(lambda log: b"\xff\xfe" + log.body(0, 5), id="not-utf8"),
        pytest.param(lambda log: log.body(0, 5).replace(b"old 0\n", b"old 00\n", 1), id="old-leading-zero"),
        pytest.param(lambda log: log.body(0, 5).replace(b"old 0\n", b"old -1\n", 1), id="old-negative"),
        pytest.param(lambda log: log.body(0, 5).replace(b"old 0\n", b"old  0\n", 1), id="old-two-spaces"),
        pytest.param(lambda log: log.body(0, 5).replace(b"old 0\n", b"Old 0\n", 1), id="old-capitalised"),
        pytest.param(lambda log: log.body(0, 5).replace(b"old 0\n", b"old 18446744073709551616\n", 1), id="old-overflow"),
        pytest.param(lambda log: log.body(0, 5).replace(b"old 0\n", b"old 0\r\n", 1), id="crlf"),
        pytest.param(lambda log: log.body(5, 12).replace(b"old 5\n", b"old 5\n" + b"AAAA\n", 1), id="proof-not-32-bytes"),
        pytest.param(lambda log: log.body(5, 12).replace(b"old 5\n", b"old 5\n" + b"!!notbase64!!\n", 1), id="proof-bad-base64"),
        pytest.param(lambda log: log.body(5, 12).replace(b"old 5\n", b"old 5\n" + b64(bytes(32)).rstrip("=").encode() + b"\n", 1), id="proof-unpadded"),
        pytest.param(lambda log: add_checkpoint_body(5, [bytes(32)] * 64, signed_note(log.text(12), log.key)), id="64-proof-lines"),
        pytest.param(lambda log: b"old 0\n" + signed_note(log.text(5), log.key).encode(), id="no-blank-line"),
        pytest.param(lambda log: add_checkpoint_body(0, [], log.text(5) + "\n"), id="note-without-signature-lines"),
        pytest.param(lambda log: add_checkpoint_body(0, [], log.text(5) + "\n" + "— x\n"), id="bad-signature-line"),
        pytest.param(lambda log: add_checkpoint_body(0, [], signed_note(f"{ORIGIN}\n5\nnot a root\n", log.key)), id="bad-checkpoint"),
        pytest.param(lambda log: add_checkpoint_body(0, [], signed_note(f"{ORIGIN}\n05\n{b64(log.tree.root(5))}\n", log.key)), id="size-leading-zero"),
        pytest.param(lambda log: add_checkpoint_body(0, [], signed_note(f"{ORIGIN}\n5\n{b64(log.tree.root(5))}\n\x1b[31m\n", log.key)), id="control-character"),
        pytest.param(lambda log: log.body(0, 5).replace(b"old 0\n", b"old 10\n", 1), id="old-larger-than-size"),
    ],
)
def test_bad_requests_are_400(witness, log, make):
    status, _, body = witness.client().add_checkpoint(make(log))
    assert status == 400, body
    assert body.endswith(b"\n") and b"\x1b" not in body


def test_exactly_63_proof_lines_parse(witness, log):
    # 63 lines is the spec's maximum: it parses (and fails as a proof: 422, not 400).
    assert witness.client().add_checkpoint(log.body(0, 5))[0] == 200
    status, _, body = witness.client().add_checkpoint(add_checkpoint_body(5, [bytes(32)] * 63, signed_note(log.text(12), log.key)))
    assert status == 422, body


# --- 404, 403 ------------------------------------------------------------------------------------

def test_unknown_origin_is_404(witness):
    other = Log("unknown.example/log").grow(3)
    status, _, body = witness.client().add_checkpoint(other.body(0, 3))
    assert status == 404, body
    # 404 comes before the signature check: even an unsigned-by-anyone-known note.
    status, _, _ = witness.client().add_checkpoint(other.body(0, 3, keys=[NoteKey("someone.else")]))
    assert status == 404


def test_signatures_are_403(witness, log):
    c = witness.client()
    # Signed only by keys the witness does not trust for this origin.
    assert c.add_checkpoint(log.body(0, 5, keys=[NoteKey(ORIGIN)]))[0] == 403, "same name, another key (other id)"
    assert c.add_checkpoint(log.body(0, 5, keys=[NoteKey("other.example/log")]))[0] == 403, "another name"
    # A line whose name and id match the trusted key, but whose signature is bad.
    good = log.body(0, 5)
    sig = good.rsplit(b" ", 1)[1].rstrip(b"\n")
    raw = bytearray(base64.b64decode(sig))
    raw[10] ^= 1
    bad = good.replace(sig, base64.b64encode(bytes(raw)))
    assert c.add_checkpoint(bad)[0] == 403
    # ... even next to a valid one (such a note is malformed per signed-note).
    bad_line = bad.decode().rsplit("\n\n", 1)[1]
    both = add_checkpoint_body(0, [], signed_note(log.text(5), log.key) + bad_line)
    assert both.decode().count(EM_DASH) == 2
    status, _, body = c.add_checkpoint(both)
    assert status == 403, body
    # A valid signature over another checkpoint text.
    swapped = add_checkpoint_body(0, [], log.text(5) + "\n" + log.key.sign_line(log.text(6)))
    assert c.add_checkpoint(swapped)[0] == 403
    # Nothing was cosigned.
    assert c.add_checkpoint(log.body(7, 7))[0:3:2] == (409, b"0\n")


# --- 409 ---------------------------------------------------------------------------------------

def test_conflict_is_409_with_the_latest_size(witness, log):
    c = witness.client()
    status, headers, body = c.add_checkpoint(log.body(5, 12))
    assert (status, body) == (409, b"0\n") and headers["content-type"] == "text/x.tlog.size"
    assert c.add_checkpoint(log.body(0, 12))[0] == 200
    for old, size in [(0, 20), (5, 20), (11, 20), (13, 20), (0, 12)]:
        status, headers, body = c.add_checkpoint(log.body(old, size))
        assert (status, body) == (409, b"12\n"), (old, size)
        assert headers["content-type"] == "text/x.tlog.size"
    # 400 (old > size) is checked before 409.
    assert c.add_checkpoint(log.body(0, 12).replace(b"old 0\n", b"old 13\n", 1))[0] == 400


# --- 422 ---------------------------------------------------------------------------------------

def test_inconsistent_is_422(witness, log):
    c = witness.client()
    assert c.add_checkpoint(log.body(0, 12))[0] == 200
    body = log.body(12, 20)
    proof0 = b64(log.tree.consistency(12, 20)[0]).encode()
    flipped = bytearray(base64.b64decode(proof0))
    flipped[0] ^= 1
    status, _, text = c.add_checkpoint(body.replace(proof0, base64.b64encode(bytes(flipped)), 1))
    assert status == 422, text
    assert c.add_checkpoint(add_checkpoint_body(12, [], signed_note(log.text(20), log.key)))[0] == 422, "empty proof"
    assert c.add_checkpoint(add_checkpoint_body(12, log.tree.consistency(12, 20)[:-1], signed_note(log.text(20), log.key)))[0] == 422, "short proof"
    # Same size, another root: a fork at 12.
    fork = Log(seed=None)
    fork.key = log.key
    fork.grow(11).tree.append(b"forked leaf")
    fork.grow(20)
    status, _, text = c.add_checkpoint(fork.body(12, 12))
    assert status == 422, text
    # A fork that grows: its own valid proof from 12 does not match our root at 12.
    assert c.add_checkpoint(fork.body(12, 20))[0] == 422
    # Same size and root with a non-empty proof.
    assert c.add_checkpoint(add_checkpoint_body(12, [bytes(32)], signed_note(log.text(12), log.key)))[0] == 422
    # Nothing moved: the real next checkpoint still goes through.
    assert c.add_checkpoint(log.body(12, 20))[0] == 200


def test_old_zero_rules_are_422(wheelsig, tmp_path):
    log = Log().grow(8)
    w = Witness(wheelsig, tmp_path, [log.key]).start()
    try:
        c = w.client()
        assert c.add_checkpoint(add_checkpoint_body(0, [bytes(32)], signed_note(log.text(8), log.key)))[0] == 422, "non-empty proof from 0"
        wrong_empty = signed_note(checkpoint_text(ORIGIN, 0, bytes(32)), log.key)
        assert c.add_checkpoint(add_checkpoint_body(0, [], wrong_empty))[0] == 422, "size 0 with Go's all-zero root"
        assert c.add_checkpoint(add_checkpoint_body(0, [], signed_note(checkpoint_text(ORIGIN, 0, EMPTY_ROOT), log.key)))[0] == 200
        assert c.add_checkpoint(log.body(0, 8))[0] == 200, "size 0 cosigned, so old 0 is current"
    finally:
        w.stop()


# --- durability --------------------------------------------------------------------------------

def test_state_survives_sigkill(wheelsig, tmp_path):
    log = Log().grow(40)
    w = Witness(wheelsig, tmp_path, [log.key]).start()
    try:
        c = w.client()
        last = 0
        t = None
        for size in (3, 10, 17, 33):
            t = assert_cosigned(w, log.text(size), *c.add_checkpoint(log.body(last, size)), after=t)
            last = size
        w.kill9()
        w.start()
        c = w.client()
        assert c.add_checkpoint(log.body(0, 40))[0:3:2] == (409, b"33\n")
        status, _, body = c.request("GET", f"/{origin_hash(ORIGIN)}/checkpoint")
        assert status == 200 and body.decode().startswith(log.text(33) + "\n")
        verify_cosignature(w.vkey, log.text(33), body.decode().splitlines(keepends=True)[-1])
        assert_cosigned(w, log.text(40), *c.add_checkpoint(log.body(33, 40)), after=t)
        assert f"log {ORIGIN} (latest cosigned size 33)" in w.log_text(), "the restart read the state"
    finally:
        w.stop()


# --- compare-and-swap --------------------------------------------------------------------------

def test_racing_submissions_exactly_one_wins(wheelsig, tmp_path):
    """Two forks of the log, both consistent with the state the witness holds, submitted at
    the same moment with the same old size: one is cosigned, the other gets 409 with the
    winner's size. A witness that let both through would have cosigned a split view."""
    key = NoteKey(ORIGIN)
    w = Witness(wheelsig, tmp_path, [key]).start()
    try:
        base = Log()
        base.key = key
        assert w.client().add_checkpoint(base.grow(4).body(0, 4))[0] == 200
        old = 4
        for round_ in range(15):
            forks = []
            for side in (b"a", b"b"):
                f = Log()
                f.key = key
                f.tree.leaves = list(base.tree.leaves[:old])
                f.grow(old + 3 + (side == b"b"), tag=side + b"%d" % round_)
                forks.append(f)
            bodies = [f.body(old, len(f.tree)) for f in forks]
            clients = [w.client(), w.client()]
            for cl in clients:  # connect first, so both requests leave together
                cl.request("GET", "/")
            results = [None, None]
            barrier = threading.Barrier(2)

            def go(i):
                barrier.wait()
                results[i] = clients[i].add_checkpoint(bodies[i])

            threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            statuses = sorted(r[0] for r in results)
            assert statuses == [200, 409], (round_, results)
            winner = [i for i in range(2) if results[i][0] == 200][0]
            loser = 1 - winner
            assert results[loser][2] == b"%d\n" % len(forks[winner].tree)
            verify_cosignature(w.vkey, forks[winner].text(len(forks[winner].tree)), results[winner][2].decode())
            base = forks[winner]
            old = len(base.tree)
    finally:
        w.stop()


# --- HTTP ----------------------------------------------------------------------------------------

def raw_exchange(port: int, data: bytes, timeout=10) -> bytes:
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk
    finally:
        s.close()


def test_methods_paths_and_limits(witness, log):
    c = witness.client()
    status, headers, _ = c.request("GET", "/add-checkpoint")
    assert status == 405 and headers["allow"] == "POST"
    status, headers, _ = c.request("PUT", f"/{origin_hash(ORIGIN)}/checkpoint", b"x")
    assert status == 405 and headers["allow"] == "GET"
    status, headers, body = c.request("HEAD", f"/{origin_hash(ORIGIN)}/checkpoint")
    assert status == 405 and body == b"" and int(headers["content-length"]) > 0, "HEAD: headers only"
    assert c.request("POST", "/add-checkpoint/", log.body(0, 5))[0] == 404
    assert c.request("POST", "/", log.body(0, 5))[0] == 404
    assert c.request("GET", "/../etc/passwd")[0] == 404
    # A query string is not part of the path.
    assert c.request("POST", "/add-checkpoint?x=1", log.body(0, 5))[0] == 200
    # Bodies: over 64 KiB is refused before it is read; chunked uploads are not accepted.
    status, _, _ = witness.client().add_checkpoint(log.body(5, 5) + b"x" * (64 * 1024))
    assert status == 413
    assert raw_exchange(witness.port, b"POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n").startswith(b"HTTP/1.1 413 ")
    assert raw_exchange(witness.port, b"POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n").startswith(b"HTTP/1.1 411 ")
    assert raw_exchange(witness.port, b"POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!").startswith(b"HTTP/1.1 400 ")
    assert raw_exchange(witness.port, b"GET / HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 400 "), "no Host"
    assert raw_exchange(witness.port, b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 9000 + b"\r\n\r\n").startswith(b"HTTP/1.1 431 ")
    assert raw_exchange(witness.port, b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X: y\r\n" * 40 + b"\r\n").startswith(b"HTTP/1.1 431 ")
    assert raw_exchange(witness.port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64)).startswith(b"HTTP/1.1 400 "), "a TLS hello"
    # Expect: 100-continue (curl sends it for bodies over 1 KiB) is honoured.
    body = log.body(5, 5)
    with socket.create_connection(("127.0.0.1", witness.port), timeout=10) as s:
        s.sendall(b"POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body))
        assert s.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(body)
        assert s.recv(100).startswith(b"HTTP/1.1 200 OK\r\n")
    # Keep-alive and pipelining: two requests in one write, two answers in order.
    two = b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" + b"POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    out = raw_exchange(witness.port, two)
    assert out.startswith(b"HTTP/1.1 404 ") and out.count(b"HTTP/1.1 200 OK") == 1
    # The server is still healthy.
    assert witness.client().add_checkpoint(log.body(5, 9))[0] == 200


def test_slow_and_idle_clients_do_not_pin_the_workers(wheelsig, tmp_path, log):
    w = Witness(wheelsig, tmp_path, [log.key], extra=["--workers", "2", "--request-timeout", "1"]).start()
    try:
        slow = []
        for _ in range(2):  # as many as there are workers: one trickles a head, one says nothing
            s = socket.create_connection(("127.0.0.1", w.port), timeout=10)
            slow.append(s)
        slow[0].sendall(b"POST /add-checkpoint HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        status, _, _ = w.client().add_checkpoint(log.body(0, 5))
        assert status == 200
        assert time.monotonic() - started < 5
        # The trickler got 408 and was closed; the silent one was closed.
        slow[0].settimeout(5)
        assert slow[0].recv(100).startswith(b"HTTP/1.1 408 ")
        slow[1].settimeout(5)
        assert slow[1].recv(100) == b""
        for s in slow:
            s.close()
    finally:
        w.stop()


def test_connection_flood_gets_503_then_service_resumes(wheelsig, tmp_path, log):
    # 2 workers and a queue of 8: a flood of silent connections is answered 503 beyond that,
    # and nothing is held once they time out.
    w = Witness(wheelsig, tmp_path, [log.key], extra=["--workers", "2", "--request-timeout", "1"]).start()
    try:
        flood = [socket.create_connection(("127.0.0.1", w.port), timeout=10) for _ in range(16)]
        busy = 0
        for s in flood:
            s.settimeout(0.2)
            try:
                busy += s.recv(100).startswith(b"HTTP/1.1 503 ")
            except socket.timeout:
                pass
        assert busy >= 16 - 2 - 8 - 1, busy
        for s in flood:
            s.close()
        deadline = time.monotonic() + 10
        while True:
            try:
                status, _, _ = w.client().add_checkpoint(log.body(0, 5))
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert status == 200
        assert w.log_text().count(" 503 ") == busy
    finally:
        w.stop()


def test_request_log_lines_are_escaped(witness, log):
    c = witness.client()
    c.add_checkpoint(log.body(0, 5))
    c.add_checkpoint(log.body(3, 9))
    c.add_checkpoint(b"old 0\n\n\x1b]0;pwned\x07\n\n\xe2\x80\x94 a\x1b b\n")
    c.add_checkpoint(add_checkpoint_body(0, [], signed_note(log.text(5), NoteKey("evil\u202ename"))))
    raw_exchange(witness.port, b"GET /\x1b[2J HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.2)
    text = witness.log_path.read_bytes()
    assert b"\x1b" not in text and b"\x07" not in text and "\u202e".encode() not in text
    lines = [l for l in text.decode().splitlines() if "POST /add-checkpoint" in l]
    assert len(lines) == 4
    assert re.search(r" 200 \d+ms origin=example\.com/log old=0 size=5 cosigned time=\d+$", lines[0]), lines[0]
    assert re.search(r" 409 \d+ms origin=example\.com/log old=3 size=9: 5$", lines[1]), lines[1]
    assert " 400 " in lines[2] and " 400 " in lines[3], "controls and bidi overrides are refused when parsed"
