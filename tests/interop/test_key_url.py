"""`verify --key-url` against a real HTTP server on loopback serving a key site."""
import http.server
import json
import shutil
import threading
from functools import partial

import pytest

from conftest import build_wheel, rewrite_member


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def publish(wheelsig, tmp_path, root, url, key="me.jwk"):
    """Keys at <url>/keys.json, the wheel's detached signature under releases/demo/."""
    whl = build_wheel(tmp_path)
    wheelsig.keygen(tmp_path / key)
    (root / "keys.json").write_text(wheelsig.run("jwks", tmp_path / key, "--projects", "demo").stdout)
    out = root / "releases" / "demo"
    p = wheelsig.run("sign", "--key", tmp_path / key, "--key-url", f"{url}/keys.json", "--out-dir", out, whl)
    assert p.returncode == 0, p.stderr
    return whl


def test_trusted_via_key_url_with_signature_from_the_site(tmp_path, wheelsig, site):
    root, url = site
    whl = publish(wheelsig, tmp_path, root, url)
    code, report = wheelsig.report("--require-trusted", "--key-url", f"{url}/keys.json", whl)
    assert (code, report["verdict"]) == (0, "trusted"), report["problems"]
    [sig] = report["signatures"]
    assert sig["trusted_by"] == {"kind": "key-url", "source": f"{url}/keys.json"}
    assert sig["carrier"] == "detached"
    assert sig["jku"] == f"{url}/keys.json"


def test_removing_the_key_revokes_it(tmp_path, wheelsig, site):
    root, url = site
    whl = publish(wheelsig, tmp_path, root, url)
    wheelsig.keygen(tmp_path / "new.jwk")
    (root / "keys.json").write_text(wheelsig.run("jwks", tmp_path / "new.jwk", "--projects", "demo").stdout)
    code, report = wheelsig.report("--key-url", f"{url}/keys.json", whl)
    assert (code, report["verdict"]) == (1, "untrusted")
    assert [p["code"] for p in report["problems"]] == ["trust-key-not-listed"]


def test_unsigned_release_of_a_listed_project_is_a_downgrade(tmp_path, wheelsig, site):
    root, url = site
    whl = publish(wheelsig, tmp_path, root, url)
    shutil.rmtree(root / "releases")
    code, report = wheelsig.report("--key-url", f"{url}/keys.json", whl)
    assert (code, report["verdict"]) == (1, "untrusted")
    assert [p["code"] for p in report["problems"]] == ["trust-unsigned-downgrade"]


def test_malformed_key_set_is_an_error_naming_the_key(tmp_path, wheelsig, site):
    root, url = site
    whl = build_wheel(tmp_path)
    (root / "keys.json").write_text(json.dumps({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AQ"}]}))
    p = wheelsig.run("verify", "--key-url", f"{url}/keys.json", whl)
    assert p.returncode == 2
    assert "keys[0]" in p.stderr and "base64url of 32 bytes" in p.stderr


def test_missing_key_set_is_an_error(tmp_path, wheelsig, site):
    _, url = site
    p = wheelsig.run("verify", "--key-url", f"{url}/nope.json", build_wheel(tmp_path))
    assert p.returncode == 2 and "not found (404)" in p.stderr


def test_plain_http_is_refused_off_loopback(tmp_path, wheelsig):
    p = wheelsig.run("verify", "--key-url", "http://192.0.2.1/keys.json", build_wheel(tmp_path))
    assert p.returncode == 2 and "only allowed for loopback" in p.stderr


def test_first_use_then_key_changed(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    wheelsig.keygen(tmp_path / "a.jwk")
    wheelsig.run("sign", "--key", tmp_path / "a.jwk", whl)
    code, report = wheelsig.report("--tofu", whl)
    assert (code, report["verdict"]) == (0, "signed")
    code, report = wheelsig.report("--tofu", whl)
    assert (code, report["verdict"]) == (0, "trusted")
    assert report["signatures"][0]["trusted_by"]["kind"] == "first-use"

    wheelsig.keygen(tmp_path / "b.jwk")
    wheelsig.run("sign", "--key", tmp_path / "b.jwk", whl)
    p = wheelsig.run("verify", "--tofu", whl)
    assert p.returncode == 1
    assert p.stdout.startswith("key-changed")
    assert "THE SIGNING KEY OF demo HAS CHANGED" in p.stderr

    assert "demo" in wheelsig.run("trust", "list").stdout
    assert wheelsig.run("trust", "remove", "demo").returncode == 0
    code, report = wheelsig.report("--tofu", whl)
    assert (code, report["verdict"]) == (0, "signed")


def test_json_report_shape(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    wheelsig.keygen(tmp_path / "me.jwk")
    wheelsig.run("sign", "--key", tmp_path / "me.jwk", whl)
    p = wheelsig.run("verify", "--json", whl)
    doc = json.loads(p.stdout)
    [w] = doc["wheels"]
    assert {"file", "verdict", "project", "version", "files_checked", "signatures", "problems"} <= set(w)
    assert {"kid", "alg", "format", "carrier", "trusted_by"} <= set(w["signatures"][0])
    assert (w["file"], w["project"], w["version"], w["files_checked"]) == (whl.name, "demo", "1.0", 3)


def test_json_report_problem_shape(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    bad = tmp_path / "t" / whl.name
    bad.parent.mkdir()
    rewrite_member(whl, bad, "demo/__init__.py", b"changed\n")
    p = wheelsig.run("verify", "--json", bad)
    assert p.returncode == 1
    [w] = json.loads(p.stdout)["wheels"]
    assert (w["verdict"], w["signatures"]) == ("invalid", [])
    [problem] = w["problems"]
    assert set(problem) == {"code", "path", "message"}
    assert (problem["code"], problem["path"]) == ("record-hash-mismatch", "demo/__init__.py")
    assert isinstance(problem["message"], str) and problem["message"]


def test_json_report_whole_file_problem_has_null_path(tmp_path, wheelsig):
    bad = tmp_path / "demo-1.0-py3-none-any.whl"
    bad.write_bytes(b"not a zip at all")
    p = wheelsig.run("verify", "--json", bad)
    assert p.returncode == 1
    [w] = json.loads(p.stdout)["wheels"]
    assert w["verdict"] == "invalid"
    assert any(pr["path"] is None and pr["code"].startswith("zip-") for pr in w["problems"]), w["problems"]


def wheel_naming_key_url(tmp_path, url_line: str):
    """A wheel whose METADATA carries `Project-URL: <url_line>` (what pyproject's
    `[project.urls] "Signing keys" = …` produces), RECORD covering it."""
    d = tmp_path / "hinted"
    d.mkdir(exist_ok=True)
    whl = build_wheel(d)
    import zipfile, base64, hashlib

    meta = f"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nProject-URL: Homepage, https://example.org/\nProject-URL: {url_line}\n\nA description.\n".encode()
    with zipfile.ZipFile(whl) as z:
        files = {i.filename: z.read(i) for i in z.infolist()}
    files["demo-1.0.dist-info/METADATA"] = meta
    h = lambda b: "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b"=").decode()
    files["demo-1.0.dist-info/RECORD"] = "".join(f"{p},{h(b)},{len(b)}\n" for p, b in files.items() if not p.endswith("RECORD")).encode() + b"demo-1.0.dist-info/RECORD,,\n"
    with zipfile.ZipFile(whl, "w", zipfile.ZIP_DEFLATED) as z:
        for p, b in files.items():
            z.writestr(p, b)
    return whl


def test_the_key_url_named_in_metadata_is_a_hint_that_says_how_to_check(tmp_path, wheelsig, site):
    """`verify` alone on a wheel whose publisher named its key URL in METADATA: `unsigned` is
    not the last word; the output names the key URL and the command, and that command (which
    finds the signature on the key site) makes it trusted. The hint alone trusts nothing."""
    root, url = site
    key_url = f"{url}/keys.json"
    whl = wheel_naming_key_url(tmp_path, f"Signing keys, {key_url}")
    wheelsig.keygen(tmp_path / "me.jwk")
    (root / "keys.json").write_text(wheelsig.run("jwks", tmp_path / "me.jwk", "--projects", "demo").stdout)
    assert wheelsig.run("sign", "--key", tmp_path / "me.jwk", "--out-dir", root / "releases" / "demo", whl).returncode == 0
    code, report = wheelsig.report(whl)
    assert (code, report["verdict"], report["key_url_hint"]) == (0, "unsigned", key_url)
    p = wheelsig.run("verify", whl)
    assert f"publisher's key URL, as METADATA names it" in p.stdout and f"wheelsig verify --key-url {key_url} {whl.name}" in p.stdout, p.stdout
    code, report = wheelsig.report("--require-trusted", "--key-url", key_url, whl)
    assert (code, report["verdict"]) == (0, "trusted"), report["problems"]
    assert "METADATA names it" not in wheelsig.run("verify", "--key-url", key_url, whl).stdout
    # --require-trusted still fails on the hint alone.
    assert wheelsig.run("verify", "--require-trusted", whl).returncode == 1


@pytest.mark.parametrize("line", [
    "Signing keys, http://evil.example/keys.json",  # plain http off loopback
    "Signing keys, https://evil.example/keys.json#frag",
    "Signing keys, https://evil.example/\x1b[2Jkeys.json",
    "Source, https://evil.example/keys.json",  # another label
])
def test_a_metadata_hint_that_is_not_a_key_url_is_not_shown(tmp_path, wheelsig, line):
    whl = wheel_naming_key_url(tmp_path, line)
    code, report = wheelsig.report(whl)
    assert "key_url_hint" not in report, report
    p = wheelsig.run("verify", whl)
    assert "METADATA names it" not in p.stdout and "\x1b" not in p.stdout
