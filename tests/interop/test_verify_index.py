"""`wheelsig verify PROJECT==VERSION`, a wheel's URL, `--keep` and `--index-check`, against a
real index on loopback (pypiserver, PEP 503 HTML with sha256 fragments) and a loopback key
site: downloads are checked against the index's digest, a downloaded wheel's METADATA key URL
hint is where its signature is looked up (found, it is `signed`; trusted only with a trust
source), and a local file the index serves with another sha256 is `index-digest-mismatch`."""
import http.server
import json
import subprocess
import threading
from functools import partial

import pytest

from conftest import build_wheel
from test_index import free_port, stop, tool, wait_for_port
from test_key_url import wheel_naming_key_url


@pytest.fixture
def world(tmp_path, wheelsig):
    """A key site on loopback, and pypiserver serving demo 1.0 (which names that key site in
    METADATA, its signature published there) and demo 2.0."""
    site = tmp_path / "site"
    site.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(http.server.SimpleHTTPRequestHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    key_url = f"http://127.0.0.1:{server.server_address[1]}/keys.json"
    packages = tmp_path / "packages"
    packages.mkdir()
    whl = wheel_naming_key_url(tmp_path, f"Signing keys, {key_url}")
    (packages / whl.name).write_bytes(whl.read_bytes())
    (tmp_path / "v2").mkdir()
    (packages / build_wheel(tmp_path / "v2", version="2.0").name).write_bytes((tmp_path / "v2" / "demo-2.0-py3-none-any.whl").read_bytes())
    wheelsig.keygen(tmp_path / "me.jwk")
    (site / "keys.json").write_text(wheelsig.run("jwks", tmp_path / "me.jwk", "--projects", "demo").stdout)
    assert wheelsig.run("sign", "--key", tmp_path / "me.jwk", "--out-dir", site / "releases" / "demo", packages / whl.name).returncode == 0
    port = free_port()
    log = tmp_path / "pypiserver.log"
    with log.open("w") as out:
        proc = subprocess.Popen([tool("pypi-server"), "run", "-p", str(port), "-i", "127.0.0.1", "--hash-algo", "sha256", "--disable-fallback", "--backend", "simple-dir", "-a", ".", "-P", ".", str(packages)], stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc, log)
        yield {"index": f"http://127.0.0.1:{port}/simple/", "files": f"http://127.0.0.1:{port}/packages/", "key_url": key_url, "packages": packages, "wheel": whl.name}
    finally:
        stop(proc)
        server.shutdown()


def report(wheelsig, *args):
    p = wheelsig.run("verify", "--json", *args)
    doc = json.loads(p.stdout)
    return p.returncode, doc, p.stderr


def test_project_version_is_downloaded_checked_and_its_signature_found_through_the_hint(world, wheelsig, tmp_path):
    code, doc, err = report(wheelsig, "--index-url", world["index"], "demo==1.0")
    assert code == 0, err
    [r] = doc["wheels"]
    assert r["file"] == world["wheel"] and r["verdict"] == "signed", r
    assert r["index"]["matches"] is True and r["index"]["page"] == world["index"] + "demo/"
    assert r["key_url_hint"] == world["key_url"]
    assert r["signatures"][0]["source"] == world["key_url"].replace("keys.json", f"releases/demo/{world['wheel']}.jws")
    # The hint finds the signature; only a trust source makes it trusted.
    code, doc, err = report(wheelsig, "--index-url", world["index"], "--key-url", world["key_url"], "--require-trusted", "demo==1.0")
    assert (code, doc["wheels"][0]["verdict"]) == (0, "trusted"), doc
    # Human output says what was downloaded and what the index said.
    p = wheelsig.run("verify", "--index-url", world["index"], "demo==1.0")
    assert f"downloaded {world['wheel']}" in p.stderr and "serves this file with the same sha256" in p.stdout, p.stdout + p.stderr


def test_keep_leaves_a_wheelhouse_pip_installs_from(world, wheelsig, tmp_path):
    house = tmp_path / "wheelhouse"
    code, doc, err = report(wheelsig, "--index-url", world["index"], "--keep", house, "demo==2.0")
    assert code == 0, err
    assert [p.name for p in house.iterdir()] == ["demo-2.0-py3-none-any.whl"]
    pip = subprocess.run(["python3", "-m", "pip", "download", "--no-index", "--find-links", house, "--no-deps", "-d", tmp_path / "got", "demo==2.0"], capture_output=True, text=True, timeout=120)
    assert pip.returncode == 0, pip.stderr
    assert (tmp_path / "got" / "demo-2.0-py3-none-any.whl").read_bytes() == (house / "demo-2.0-py3-none-any.whl").read_bytes()


def test_a_wheel_url_is_checked_against_the_index_digest(world, wheelsig):
    code, doc, err = report(wheelsig, "--index-url", world["index"], world["files"] + world["wheel"])
    assert code == 0, err
    assert doc["wheels"][0]["index"]["matches"] is True


def test_a_missing_version_or_project_is_a_clear_usage_error(world, wheelsig):
    p = wheelsig.run("verify", "--index-url", world["index"], "demo==9.9")
    assert p.returncode == 2 and "no wheel of demo 9.9" in p.stderr and "2.0" in p.stderr and "1.0" in p.stderr, p.stderr
    p = wheelsig.run("verify", "--index-url", world["index"], "../evil==1.0")
    assert p.returncode == 2 and "expected PROJECT==VERSION" in p.stderr, p.stderr
    code, doc, _ = report(wheelsig, "--index-url", world["index"], "demo==9.9")
    assert code == 2 and doc["error"]["kind"] == "error" and "no wheel of demo 9.9" in doc["error"]["message"]


def test_index_check_flags_a_file_the_index_serves_with_another_digest(world, wheelsig, tmp_path):
    # The file the index serves: matches.
    same = tmp_path / "same" / world["wheel"]
    same.parent.mkdir()
    same.write_bytes((world["packages"] / world["wheel"]).read_bytes())
    code, doc, err = report(wheelsig, "--index-url", world["index"], "--index-check", same)
    assert code == 0 and doc["wheels"][0]["index"]["matches"] is True, err
    # Another, intact wheel with the same name (what a targeted mirror could hand you).
    (tmp_path / "other").mkdir()
    other = build_wheel(tmp_path / "other", files={"demo/__init__.py": b"print('not what everyone got')\n"})
    assert other.name == world["wheel"]
    code, doc, err = report(wheelsig, "--index-url", world["index"], "--index-check", other)
    [r] = doc["wheels"]
    assert (code, r["verdict"]) == (1, "untrusted"), r
    assert r["index"]["matches"] is False and any(p["code"] == "index-digest-mismatch" for p in r["problems"]), r["problems"]
    p = wheelsig.run("verify", "--index-url", world["index"], "--index-check", other)
    assert "INDEX MISMATCH" in p.stdout and "index-digest-mismatch" in p.stdout, p.stdout
    # Not on the index: said, not a failure.
    (tmp_path / "n").mkdir()
    unlisted = build_wheel(tmp_path / "n", name="nowhere")
    code, doc, err = report(wheelsig, "--index-url", world["index"], "--index-check", unlisted)
    assert code == 0, err
    assert doc["wheels"][0]["index"] == {"page": world["index"] + "nowhere/", "listed": False, "sha256": None, "matches": None, "upload_time": None}
    assert "does not list this file" in wheelsig.run("verify", "--index-url", world["index"], "--index-check", unlisted).stdout


def test_index_check_fails_closed_when_the_index_cannot_be_asked(wheelsig, tmp_path):
    whl = build_wheel(tmp_path)
    closed = f"http://127.0.0.1:{free_port()}/simple/"
    p = wheelsig.run("verify", "--index-url", closed, "--index-check", whl)
    assert p.returncode == 2 and "--index-check" in p.stderr, p.stderr
