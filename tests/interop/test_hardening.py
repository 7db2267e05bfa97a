"""Attacks on trust and output, each reproduced with a small crafted input (issue: trust and
output hardening). Every test states the verdict and problem code it expects; each failed on
the code before the fix."""
import base64
import http.server
import json
import os
import stat
import threading
import time
import zipfile
from functools import partial
from pathlib import Path

import pytest

from conftest import b64, build_wheel, record_hash

DAY = 86400


class RecordingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a directory and records every path asked for."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.paths.append(self.path)
        super().do_GET()


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(RecordingHandler, directory=str(root)))
    server.paths = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}", server.paths
    server.shutdown()


def jwks(wheelsig, *keys, projects=None, exp=None):
    args = ["jwks", *keys]
    if projects:
        args += ["--projects", projects]
    if exp is not None:
        args += ["--exp", str(exp)]
    p = wheelsig.run(*args)
    assert p.returncode == 0, p.stderr
    return p.stdout


def remember(wheelsig, tmp_path, whl):
    """First use: verify --tofu remembers the wheel's key (exit 0, verdict signed)."""
    p = wheelsig.run("verify", "--tofu", whl)
    assert p.returncode == 0, p.stderr
    assert "remembered key" in p.stderr
    store = json.loads((tmp_path / "trust.json").read_text())
    assert "demo" in store["projects"]
    return store


# 1. Revocation beats memory --------------------------------------------------------------


@pytest.mark.parametrize(
    "case, code",
    [("removed", "trust-key-not-listed"), ("retired-before", "trust-key-retired"), ("other-projects-only", "trust-project-scope")],
)
def test_a_covering_key_url_beats_a_remembered_key(tmp_path, wheelsig, site, case, code):
    root, url, _ = site
    whl = build_wheel(tmp_path)
    wheelsig.keygen(tmp_path / "me.jwk")
    wheelsig.keygen(tmp_path / "new.jwk")
    assert wheelsig.run("sign", "--key", tmp_path / "me.jwk", whl).returncode == 0
    remember(wheelsig, tmp_path, whl)
    if case == "removed":
        keys = jwks(wheelsig, tmp_path / "new.jwk")
    elif case == "retired-before":
        keys = jwks(wheelsig, tmp_path / "me.jwk", exp=int(time.time()) - DAY)
    else:
        keys = jwks(wheelsig, tmp_path / "me.jwk", projects="other")
    (root / "keys.json").write_text(keys)
    code_, report = wheelsig.report("--tofu", "--require-trusted", "--key-url", f"{url}/keys.json", whl)
    assert (code_, report["verdict"]) == (1, "untrusted"), report["problems"]
    assert code in [p["code"] for p in report["problems"]]
    # The same with a pin to the remembered key: a pin narrows, never widens.
    kid = report["signatures"][0]["kid"]
    code_, report = wheelsig.report("--pin", f"demo={kid}", "--require-trusted", "--key-url", f"{url}/keys.json", whl)
    assert (code_, report["verdict"]) == (1, "untrusted"), report["problems"]
    assert code in [p["code"] for p in report["problems"]]
    # And lock --tofu refuses to write the revoked key into a dependency key list.
    out = tmp_path / "deps.json"
    p = wheelsig.run("lock", "--tofu", "--key-url", f"{url}/keys.json", "--out", out, whl)
    assert p.returncode == 1 and not out.exists(), p.stderr
    assert "verdict untrusted" in p.stderr and code in p.stderr


def test_a_pin_does_not_hide_trust_key_not_listed(tmp_path, wheelsig, site):
    root, url, _ = site
    whl = build_wheel(tmp_path)
    me = wheelsig.keygen(tmp_path / "me.jwk")
    wheelsig.keygen(tmp_path / "other.jwk")
    assert wheelsig.run("sign", "--key", tmp_path / "me.jwk", whl).returncode == 0
    (root / "keys.json").write_text(jwks(wheelsig, tmp_path / "other.jwk", projects="demo"))
    code, report = wheelsig.report("--pin", f"demo={me['kid']}", "--key-url", f"{url}/keys.json", whl)
    assert (code, report["verdict"]) == (1, "untrusted")
    assert [p["code"] for p in report["problems"]] == ["trust-key-not-listed"]


# 2. First use in a batch -------------------------------------------------------------------


def test_first_use_batch_with_two_keys_is_key_changed_and_remembers_nothing(tmp_path, wheelsig):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    w1 = build_wheel(a)
    w2 = build_wheel(b, version="2.0")
    wheelsig.keygen(tmp_path / "one.jwk")
    wheelsig.keygen(tmp_path / "two.jwk")
    assert wheelsig.run("sign", "--key", tmp_path / "one.jwk", w1).returncode == 0
    assert wheelsig.run("sign", "--key", tmp_path / "two.jwk", w2).returncode == 0
    p = wheelsig.run("verify", "--tofu", "--json", w1, w2)
    assert p.returncode == 1, p.stderr
    wheels = json.loads(p.stdout)["wheels"]
    assert [w["verdict"] for w in wheels] == ["key-changed", "key-changed"]
    assert all("trust-key-changed" in [x["code"] for x in w["problems"]] for w in wheels)
    assert "remembered key" not in p.stderr and "no key was kept" in p.stderr
    assert not (tmp_path / "trust.json").exists(), "no key remembered silently"


def test_first_use_of_one_wheel_signed_by_two_keys_is_key_changed(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    wheelsig.keygen(tmp_path / "one.jwk")
    wheelsig.keygen(tmp_path / "two.jwk")
    assert wheelsig.run("sign", "--key", tmp_path / "one.jwk", "--embed", whl).returncode == 0
    assert wheelsig.run("sign", "--key", tmp_path / "two.jwk", whl).returncode == 0  # detached beside it
    code, report = wheelsig.report("--tofu", whl)
    assert (code, report["verdict"]) == (1, "key-changed"), report["problems"]
    assert not (tmp_path / "trust.json").exists()


def test_first_use_batch_with_one_key_remembers_it_once(tmp_path, wheelsig):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    w1, w2 = build_wheel(a), build_wheel(b, version="2.0")
    wheelsig.keygen(tmp_path / "one.jwk")
    for w in (w1, w2):
        assert wheelsig.run("sign", "--key", tmp_path / "one.jwk", w).returncode == 0
    p = wheelsig.run("verify", "--tofu", w1, w2)
    assert p.returncode == 0, p.stderr
    assert "--tofu" not in p.stdout, "the first --tofu run does not tell the user to pass --tofu"
    assert p.stderr.count("remembered key") == 1
    assert list(json.loads((tmp_path / "trust.json").read_text())["projects"]) == ["demo"]


# 3. Nothing the signer or the archive controls reaches a terminal raw ---------------------


def sign_with_header(tmp_path, whl, extra_header):
    """A detached signature by a fresh key whose protected header carries `extra_header`."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives import serialization

    key = Ed25519PrivateKey.generate()
    x = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    with zipfile.ZipFile(whl) as z:
        record = z.read("demo-1.0.dist-info/RECORD")
    import hashlib

    payload = {"hash": record_hash(record), "iat": int(time.time()), "filename": whl.name, "file_sha256": hashlib.sha256(whl.read_bytes()).hexdigest()}
    header = {"alg": "EdDSA", "jwk": {"kty": "OKP", "crv": "Ed25519", "x": b64(x)}, **extra_header}
    h, p = b64(json.dumps(header).encode()), b64(json.dumps(payload).encode())
    sig = key.sign(f"{h}.{p}".encode())
    return {"payload": p, "signatures": [{"protected": h, "signature": b64(sig)}]}


def test_a_jku_with_escape_sequences_is_refused_and_never_printed_raw(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    doc = sign_with_header(tmp_path, whl, {"jku": "\x1b[4A\r\x1b[2Ktrusted     demo-1.0-py3-none-any.whl https://x.test/keys.json"})
    Path(f"{whl}.jws").write_text(json.dumps(doc))
    p = wheelsig.run("verify", whl)
    assert p.returncode == 1
    assert "\x1b" not in p.stdout + p.stderr and "\r" not in p.stdout
    assert p.stdout.startswith("invalid ")
    assert "sig-bad-jku" in p.stdout and "\\u{1b}" in p.stdout


def test_a_member_name_cannot_redraw_the_screen(tmp_path, wheelsig):
    # Control characters are refused in names (zip-bad-name); the message must show them escaped.
    evil = "demo/\x1b[1A\r\x1b[2Ktrusted.py"
    whl = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as z:
        z.writestr(evil, b"x")
        z.writestr("demo-1.0.dist-info/METADATA", b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n")
        z.writestr("demo-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr("demo-1.0.dist-info/RECORD", f"{evil},{record_hash(b'x')},1\ndemo-1.0.dist-info/RECORD,,\n")
    p = wheelsig.run("verify", "--members", whl)
    assert p.returncode == 1
    assert p.stdout.startswith("invalid ")
    for raw in ("\x1b", "\r"):
        assert raw not in p.stdout + p.stderr


def test_trust_list_escapes_stored_key_urls(tmp_path, wheelsig):
    store = tmp_path / "trust.json"
    kid = "A" * 43
    store.write_text(json.dumps({"version": 1, "projects": {"demo": {"kid": kid, "key_url": "https://x.test/\u202e\x1b[2J"}}}))
    p = wheelsig.run("trust", "list", "--trust-store", store)
    assert p.returncode == 0, p.stderr
    assert "\u202e" not in p.stdout and "\x1b" not in p.stdout
    assert "\\u{202e}\\u{1b}[2J" in p.stdout


# 4. Rewriting a wheel in place is safe ---------------------------------------------------


@pytest.mark.parametrize("command", ["sign", "unsign"])
def test_in_place_rewrites_never_follow_a_planted_symlink(tmp_path, wheelsig, command):
    whl = build_wheel(tmp_path)
    wheelsig.keygen(tmp_path / "me.jwk")
    if command == "unsign":
        assert wheelsig.run("sign", "--embed", "--key", tmp_path / "me.jwk", whl).returncode == 0
    os.chmod(whl, 0o640)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    # Another local user plants links at every name the old code could have chosen
    # (`.<wheel>.wheelsig-<pid>.tmp` for the next few thousand pids).
    base = os.getpid()
    for pid in range(base, base + 3000):
        (tmp_path / f".{whl.name}.wheelsig-{pid}.tmp").symlink_to(victim)
    args = ["sign", "--embed", "--key", tmp_path / "me.jwk", whl] if command == "sign" else ["unsign", whl]
    p = wheelsig.run(*args)
    assert p.returncode == 0, p.stderr
    assert victim.read_text() == "precious", "the planted link was followed"
    assert stat.S_IMODE(os.stat(whl).st_mode) == 0o640, "the wheel keeps its permissions"
    assert not whl.is_symlink()
    left = [x.name for x in tmp_path.iterdir() if x.name.startswith(".") and not x.is_symlink()]
    assert left == [], f"temporary files left behind: {left}"
    code, report = wheelsig.report(whl)
    assert report["verdict"] == ("signed" if command == "sign" else "unsigned")


# 6. Bounded signature work ---------------------------------------------------------------


def test_a_signature_document_with_thousands_of_entries_is_refused_quickly(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    doc = sign_with_header(tmp_path, whl, {})
    doc["signatures"] = doc["signatures"] * 3000
    Path(f"{whl}.jws").write_text(json.dumps(doc))
    assert Path(f"{whl}.jws").stat().st_size < (1 << 20)
    started = time.monotonic()
    code, report = wheelsig.report(whl)
    elapsed = time.monotonic() - started
    assert (code, report["verdict"]) == (1, "invalid")
    assert [p["code"] for p in report["problems"]] == ["sig-too-many"]
    print(f"3000-entry signature refused in {elapsed:.3f} s")


def test_entries_of_a_signature_for_another_wheel_are_not_checked(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    doc = sign_with_header(tmp_path, build_wheel(other, files={"demo/__init__.py": b"other\n"}), {})
    # Sixteen entries with broken signatures over a payload for another file: the payload
    # mismatch is the one problem; no entry is verified (no sig-bad-signature).
    entry = doc["signatures"][0]
    entry["signature"] = b64(bytes(64))
    doc["signatures"] = [entry] * 16
    doc_path = Path(f"{whl}.jws")
    doc_path.write_text(json.dumps(doc))
    code, report = wheelsig.report(whl)
    assert (code, report["verdict"]) == (1, "invalid")
    codes = {p["code"] for p in report["problems"]}
    assert "sig-bad-signature" not in codes and codes & {"sig-payload-mismatch", "sig-file-digest-mismatch"}, codes


# 8. Lookups only where they can help ------------------------------------------------------


def test_a_key_url_is_asked_only_for_projects_it_covers(tmp_path, wheelsig, site):
    root, url, paths = site
    wheelsig.keygen(tmp_path / "me.jwk")
    (root / "keys.json").write_text(jwks(wheelsig, tmp_path / "me.jwk", projects="demo"))
    demo = build_wheel(tmp_path)
    deps = tmp_path / "deps"
    deps.mkdir()
    others = [build_wheel(deps, name=n) for n in ("requests", "numpy", "secret_internal_tool")]
    p = wheelsig.run("verify", "--key-url", f"{url}/keys.json", demo, *others)
    asked = [x for x in paths if x.startswith("/releases/")]
    assert asked == ["/releases/demo/demo-1.0-py3-none-any.whl.jws"], paths
    assert p.returncode == 1  # demo is unsigned but listed: a downgrade


def test_loopback_key_urls_inside_a_key_list_need_the_testing_switch(tmp_path, wheelsig, site):
    root, url, paths = site
    whl = build_wheel(tmp_path)
    me = wheelsig.keygen(tmp_path / "me.jwk")
    out = root / "releases" / "demo"
    assert wheelsig.run("sign", "--key", tmp_path / "me.jwk", "--out-dir", out, whl).returncode == 0
    lst = json.loads(jwks(wheelsig, tmp_path / "me.jwk", projects="demo"))
    lst["keys"][0]["key_url"] = f"{url}/keys.json"
    (tmp_path / "deps.json").write_text(json.dumps(lst))
    p = wheelsig.run("verify", "--json", "--jwks", tmp_path / "deps.json", whl)
    assert paths == [], "a committed list must not make the verifier probe loopback services"
    assert "cannot be used" in p.stderr and "testing switch" in p.stderr
    assert json.loads(p.stdout)["wheels"][0]["verdict"] == "untrusted"  # listed project, no signature found
    p = wheelsig.run("verify", "--json", "--allow-loopback-in-lists", "--jwks", tmp_path / "deps.json", whl)
    assert json.loads(p.stdout)["wheels"][0]["verdict"] == "trusted", p.stderr
    assert paths == ["/releases/demo/demo-1.0-py3-none-any.whl.jws"]
