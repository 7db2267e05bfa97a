"""`wheelsig verify --witness-policy` against a release log built by an independent Python log
(tlog.py) and cosigned by a real `wheelsig witness serve`: inclusion, the log signature, the
witness quorum, witnessed time beating a signer's claim for a retired key, the machine's memory
of the log and split views. Each case states its verdict and problem code."""
import hashlib
import json
import time

import pytest

from conftest import build_wheel
from test_witness import Log, Witness
from tlog import EM_DASH, b64, signed_note, verify_cosignature

DAY = 86400


def inclusion(tree, m, a, b):
    """PATH(m, D[a:b]) (RFC 6962 2.1.1)."""
    n = b - a
    if n <= 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return inclusion(tree, m, a, a + k) + [tree.mth(a + k, b)]
    return inclusion(tree, m - k, a + k, b) + [tree.mth(a, a + k)]


def release_leaf(project, version, file, sha256, jws_sha256, kid) -> bytes:
    return (f"wheelsig-release/v1\nproject {project}\nversion {version}\nfile {file}\n" f"sha256 {sha256}\njws-sha256 {jws_sha256}\nkid {kid}\n").encode()


class Release:
    """A signed wheel, its leaf in a Python-built log, and a witness's cosignature."""

    def __init__(self, wheelsig, tmp, exp=None, iat_offset=0):
        self.wheelsig, self.tmp = wheelsig, tmp
        self.whl = build_wheel(tmp)
        me = wheelsig.keygen(tmp / "me.jwk")
        self.kid = me["kid"]
        assert wheelsig.run("sign", "--key", tmp / "me.jwk", self.whl).returncode == 0
        self.jws = tmp / f"{self.whl.name}.jws"
        if iat_offset:
            self.resign_with_iat(int(time.time()) + iat_offset)
        args = ["jwks", tmp / "me.jwk", "--projects", "demo"] + (["--exp", str(exp)] if exp else [])
        (tmp / "keys.json").write_text(wheelsig.run(*args).stdout)
        self.log = Log(origin="keys.test/log").grow(5, b"earlier")
        self.leaf = release_leaf("demo", "1.0", self.whl.name, hashlib.sha256(self.whl.read_bytes()).hexdigest(), hashlib.sha256(self.jws.read_bytes()).hexdigest(), self.kid)
        self.index = len(self.log.tree)
        self.log.tree.append(self.leaf)
        self.log.grow(9, b"later")

    def resign_with_iat(self, iat):
        """Re-sign the detached signature claiming `iat` (a signer can claim any time)."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        import base64

        jwk = json.loads((self.tmp / "me.jwk").read_text())
        d = base64.urlsafe_b64decode(jwk["d"] + "==")
        key = Ed25519PrivateKey.from_private_bytes(d)
        doc = json.loads(self.jws.read_text())
        payload = json.loads(base64.urlsafe_b64decode(doc["payload"] + "=="))
        payload["iat"] = iat
        p = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
        h = doc["signatures"][0]["protected"]
        sig = base64.urlsafe_b64encode(key.sign(f"{h}.{p}".encode())).rstrip(b"=").decode()
        self.jws.write_text(json.dumps({"payload": p, "signatures": [{"protected": h, "signature": sig}]}))

    def note(self, *witnesses):
        """The checkpoint note signed by the log and cosigned by each witness (for real)."""
        size = len(self.log.tree)
        note = signed_note(self.log.text(size), self.log.key)
        for w in witnesses:
            status, _, body = w.client().add_checkpoint(self.log.body(0, size))
            assert status == 200, body
            note += body.decode()
        return note

    def write_proof(self, note, index=None, path=None):
        index = self.index if index is None else index
        path = inclusion(self.log.tree, index, 0, len(self.log.tree)) if path is None else path
        text = f"c2sp.org/tlog-proof@v1\nindex {index}\n" + "".join(b64(h) + "\n" for h in path) + "\n" + note
        (self.tmp / f"{self.whl.name}.tlog-proof").write_text(text)

    def policy(self, *witnesses, quorum=None):
        lines = [f"log {self.log.key.vkey()}"]
        for i, w in enumerate(witnesses):
            lines.append(f"witness W{i} {w.vkey} http://127.0.0.1:{w.port}/")
        if quorum is None:
            quorum = "none" if not witnesses else "all"
        if witnesses:
            lines.append(f"group G {quorum} " + " ".join(f"W{i}" for i in range(len(witnesses))))
            lines.append("quorum G")
        else:
            lines.append("quorum none")
        path = self.tmp / "policy.txt"
        path.write_text("\n".join(lines) + "\n")
        return path

    def verify(self, policy, *extra):
        p = self.wheelsig.run("verify", "--json", "--jwks", self.tmp / "keys.json", "--witness-policy", policy, *extra, self.whl)
        assert p.returncode in (0, 1), p.stderr
        return p.returncode, json.loads(p.stdout)["wheels"][0], p


@pytest.fixture
def witnesses(wheelsig, tmp_path):
    started = []

    def start(n, origin_key):
        for _ in range(n):
            d = tmp_path / f"w{len(started)}"
            d.mkdir()
            started.append(Witness(wheelsig, d, [origin_key]).start())
        return started

    yield start
    for w in started:
        w.stop()


@pytest.fixture
def state(tmp_path, wheelsig):
    wheelsig.env["WHEELSIG_STATE_DIR"] = str(tmp_path / "state")
    return tmp_path / "state"


def test_logged_and_witnessed_release_is_trusted_with_a_log_report(wheelsig, tmp_path, witnesses, state):
    r = Release(wheelsig, tmp_path)
    ws = witnesses(2, r.log.key)
    r.write_proof(r.note(*ws))
    code, rep, p = r.verify(r.policy(*ws), "--require-logged", "--require-trusted")
    assert (code, rep["verdict"]) == (0, "trusted"), rep["problems"]
    log = rep["log"]
    assert (log["origin"], log["index"], log["tree_size"], log["quorum"]) == ("keys.test/log", 5, 9, True)
    assert sorted(c["name"] for c in log["cosignatures"]) == ["witness.test/w1", "witness.test/w1"] or len(log["cosignatures"]) == 2
    assert abs(log["witnessed"] - time.time()) < 120
    assert log["consistency"] == "first-sighting"
    human = wheelsig.run("verify", "--jwks", tmp_path / "keys.json", "--witness-policy", tmp_path / "policy.txt", r.whl).stdout
    assert "logged: release #5 of keys.test/log (tree size 9), seen by witnesses" in human
    assert "quorum met" in human
    # The memory now holds the checkpoint; the same one again is consistent.
    assert "keys.test/log" in json.loads((state / "logs.json").read_text())["logs"]
    _, rep, _ = r.verify(tmp_path / "policy.txt")
    assert rep["log"]["consistency"] == "consistent"


def test_proof_for_another_leaf_is_log_not_included(wheelsig, tmp_path, witnesses, state):
    r = Release(wheelsig, tmp_path)
    ws = witnesses(1, r.log.key)
    r.write_proof(r.note(*ws), index=4, path=inclusion(r.log.tree, 4, 0, 9))
    code, rep, _ = r.verify(r.policy(*ws))
    assert (code, rep["verdict"]) == (1, "untrusted")
    assert [p["code"] for p in rep["problems"]] == ["log-not-included"]


def test_checkpoint_signed_by_another_log_key_is_log_bad_signature(wheelsig, tmp_path, witnesses, state):
    r = Release(wheelsig, tmp_path)
    ws = witnesses(1, r.log.key)
    note = r.note(*ws)
    policy = r.policy(*ws)
    impostor = Log(origin="keys.test/log")  # same origin, another key
    policy.write_text(policy.read_text().replace(r.log.key.vkey(), impostor.key.vkey()))
    r.write_proof(note)
    code, rep, _ = r.verify(policy)
    assert (code, rep["verdict"]) == (1, "untrusted")
    assert [p["code"] for p in rep["problems"]] == ["log-bad-signature"]


def test_forged_cosignature_is_log_bad_signature(wheelsig, tmp_path, witnesses, state):
    r = Release(wheelsig, tmp_path)
    ws = witnesses(1, r.log.key)
    note = r.note(*ws)
    line = [l for l in note.splitlines() if l.startswith(EM_DASH + " witness.test/w1 ")][0]
    raw = bytearray(__import__("base64").b64decode(line.split(" ")[2]))
    raw[-1] ^= 1
    r.write_proof(note.replace(line, f"{EM_DASH} witness.test/w1 {b64(bytes(raw))}"))
    code, rep, _ = r.verify(r.policy(*ws))
    assert (code, rep["verdict"]) == (1, "untrusted")
    assert [p["code"] for p in rep["problems"]] == ["log-bad-signature"]


def test_require_logged_fails_unlogged_and_under_witnessed(wheelsig, tmp_path, witnesses, state):
    r = Release(wheelsig, tmp_path)
    ws = witnesses(2, r.log.key)
    policy = r.policy(*ws)
    code, rep, _ = r.verify(policy, "--require-logged")
    assert (code, rep["verdict"]) == (1, "untrusted")
    assert [p["code"] for p in rep["problems"]] == ["log-unlogged"]
    code, rep, _ = r.verify(policy)
    assert (code, rep["verdict"]) == (0, "trusted"), "without --require-logged an unlogged release is not a failure"
    r.write_proof(r.note(ws[0]))  # one of the two the policy's `all` group needs
    code, rep, _ = r.verify(policy, "--require-logged")
    assert (code, rep["verdict"]) == (1, "untrusted")
    assert [p["code"] for p in rep["problems"]] == ["log-quorum"]
    assert rep["log"]["quorum"] is False


def test_witnessed_time_beats_a_signers_claim_for_a_retired_key(wheelsig, tmp_path, witnesses, state):
    # The key is retired tomorrow; the signature claims to be made in three days (after it).
    r = Release(wheelsig, tmp_path, exp=int(time.time()) + DAY, iat_offset=3 * DAY)
    ws = witnesses(1, r.log.key)
    policy = r.policy(*ws)
    p = wheelsig.run("verify", "--json", "--jwks", tmp_path / "keys.json", r.whl)
    assert json.loads(p.stdout)["wheels"][0]["verdict"] == "untrusted", "the signer's claim alone: retired"
    r.write_proof(r.note(*ws))
    code, rep, _ = r.verify(policy, "--require-logged")
    assert (code, rep["verdict"]) == (0, "trusted"), rep["problems"]
    assert rep["signatures"][0]["retired"] is not None
    human = wheelsig.run("verify", "--jwks", tmp_path / "keys.json", "--witness-policy", policy, r.whl).stdout
    assert "the log's witnesses saw this release at" in human


def test_a_fork_shown_to_the_same_machine_is_split_view(wheelsig, tmp_path, witnesses, state):
    r = Release(wheelsig, tmp_path)
    ws = witnesses(1, r.log.key)
    policy = r.policy(*ws)
    r.write_proof(r.note(*ws))
    code, rep, _ = r.verify(policy)
    assert rep["log"]["consistency"] == "first-sighting"
    # The same log key signs another history of the same size: leaf 0 differs. A second witness
    # database (the fork was shown to a witness that never saw the real one) cosigns it.
    forked = Log(origin="keys.test/log")
    forked.key = r.log.key
    forked.tree.append(b"a different earlier leaf")
    for x in r.log.tree.leaves[1:]:
        forked.tree.leaves.append(x)
    forked.tree._memo = {}
    other = witnesses(1, r.log.key)[-1]
    size = len(forked.tree)
    note = signed_note(forked.text(size), forked.key)
    status, _, body = other.client().add_checkpoint(forked.body(0, size))
    assert status == 200, body
    note += body.decode()
    policy.write_text(policy.read_text().replace(ws[0].vkey, other.vkey))
    r.log = forked
    r.write_proof(note)
    code, rep, p = r.verify(policy)
    assert (code, rep["verdict"]) == (1, "untrusted")
    assert "split-view" in [x["code"] for x in rep["problems"]]
    evidence = list((state / "evidence").iterdir())
    assert len(evidence) == 1 and "a different history" in [x["message"] for x in rep["problems"] if x["code"] == "split-view"][0]
    text = evidence[0].read_text()
    assert text.count("keys.test/log\n9\n") == 2, "both signed checkpoints are kept as evidence"


def test_hostile_proof_files_are_clear_problems(wheelsig, tmp_path, witnesses, state):
    r = Release(wheelsig, tmp_path)
    ws = witnesses(1, r.log.key)
    policy = r.policy(*ws)
    for garbage in ["", "c2sp.org/tlog-proof@v1\nindex x\n\n", "c2sp.org/tlog-proof@v1\nindex 1\n!!!\n\nx\n\n", "\x1b[2J" * 10]:
        (tmp_path / f"{r.whl.name}.tlog-proof").write_text(garbage)
        code, rep, p = r.verify(policy)
        assert (code, rep["verdict"]) == (1, "untrusted"), garbage[:20]
        assert [x["code"] for x in rep["problems"]] == ["log-malformed"]
        human = wheelsig.run("verify", "--jwks", tmp_path / "keys.json", "--witness-policy", policy, r.whl).stdout
        assert "\x1b" not in human
    # Over the 64 KiB bound: refused before it is read, like an oversized signature file.
    (tmp_path / f"{r.whl.name}.tlog-proof").write_text("A" * 70000)
    p = wheelsig.run("verify", "--jwks", tmp_path / "keys.json", "--witness-policy", policy, r.whl)
    assert p.returncode == 2 and "log proof is 70000 bytes; the limit is 65536" in p.stderr
