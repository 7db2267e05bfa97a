"""`wheelsig lock` writes a dependency key list; `verify --jwks <list> --require-trusted` checks a
later download against it. Two publishers' key sites are served on loopback."""
import http.server
import json
import threading
from functools import partial

import pytest

from conftest import build_wheel


@pytest.fixture
def publishers(tmp_path, wheelsig):
    """Two publishers (alpha-pub signs alpha and beta, gamma-pub signs gamma), each with a key
    site on loopback; returns (key URLs, private key paths)."""
    root = tmp_path / "sites"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    urls, keys = {}, {}
    for pub, projects in [("alpha-pub", "alpha,beta"), ("gamma-pub", "gamma")]:
        (root / pub).mkdir()
        keys[pub] = tmp_path / f"{pub}.jwk"
        wheelsig.keygen(keys[pub])
        (root / pub / "keys.json").write_text(wheelsig.run("jwks", keys[pub], "--projects", projects).stdout)
        urls[pub] = f"{base}/{pub}/keys.json"
    yield urls, keys
    server.shutdown()


def signed(wheelsig, directory, name, version, key):
    directory.mkdir(parents=True, exist_ok=True)
    whl = build_wheel(directory, name=name, version=version)
    if key is not None:
        p = wheelsig.run("sign", "--key", key, whl)
        assert p.returncode == 0, p.stderr
    return whl


def lock(wheelsig, tmp_path, urls, keys):
    """Lock alpha 1.0, beta 1.0 and gamma 1.0, each trusted via its publisher's key URL."""
    wheels = [
        signed(wheelsig, tmp_path / "v1", "alpha", "1.0", keys["alpha-pub"]),
        signed(wheelsig, tmp_path / "v1", "beta", "1.0", keys["alpha-pub"]),
        signed(wheelsig, tmp_path / "v1", "gamma", "1.0", keys["gamma-pub"]),
    ]
    out = tmp_path / "deps-keys.json"
    p = wheelsig.run("lock", "--key-url", urls["alpha-pub"], "--key-url", urls["gamma-pub"], "--out", out, *wheels)
    assert p.returncode == 0, p.stderr
    assert "3 projects pinned to 2 keys" in p.stderr
    return out


def test_lock_records_each_projects_key_and_where_it_was_trusted(tmp_path, wheelsig, publishers):
    urls, keys = publishers
    out = lock(wheelsig, tmp_path, urls, keys)
    listed = json.loads(out.read_text())["keys"]
    by_projects = {tuple(k["projects"]): k for k in listed}
    assert set(by_projects) == {("alpha", "beta"), ("gamma",)}
    alpha_kid = json.loads(wheelsig.run("jwks", keys["alpha-pub"]).stdout)["keys"][0]["kid"]
    assert by_projects[("alpha", "beta")]["kid"] == alpha_kid
    assert by_projects[("alpha", "beta")]["key_url"] == urls["alpha-pub"]
    assert by_projects[("gamma",)]["key_url"] == urls["gamma-pub"]
    assert all("d" not in k for k in listed), "only public keys"


def test_new_release_signed_by_the_pinned_key_passes(tmp_path, wheelsig, publishers):
    urls, keys = publishers
    out = lock(wheelsig, tmp_path, urls, keys)
    new = [
        signed(wheelsig, tmp_path / "v2", "alpha", "2.0", keys["alpha-pub"]),
        signed(wheelsig, tmp_path / "v2", "gamma", "1.1", keys["gamma-pub"]),
    ]
    p = wheelsig.run("verify", "--json", "--jwks", out, "--require-trusted", *new)
    assert p.returncode == 0, p.stdout
    assert [w["verdict"] for w in json.loads(p.stdout)["wheels"]] == ["trusted", "trusted"]


def test_project_signed_by_another_key_fails(tmp_path, wheelsig, publishers):
    urls, keys = publishers
    out = lock(wheelsig, tmp_path, urls, keys)
    # gamma 2.0 arrives signed by alpha's publisher key (a takeover, or a mix-up).
    whl = signed(wheelsig, tmp_path / "v2", "gamma", "2.0", keys["alpha-pub"])
    code, r = wheelsig.report("--jwks", out, "--require-trusted", whl)
    assert (code, r["verdict"]) == (1, "untrusted")
    assert [x["code"] for x in r["problems"]] == ["trust-project-scope"]
    # And by a key the list has never seen.
    wheelsig.keygen(tmp_path / "stranger.jwk")
    whl = signed(wheelsig, tmp_path / "v3", "gamma", "2.0", tmp_path / "stranger.jwk")
    code, r = wheelsig.report("--jwks", out, "--require-trusted", whl)
    assert (code, r["verdict"]) == (1, "untrusted")
    assert [x["code"] for x in r["problems"]] == ["trust-key-not-listed"]


def test_pinned_project_now_unsigned_fails(tmp_path, wheelsig, publishers):
    urls, keys = publishers
    out = lock(wheelsig, tmp_path, urls, keys)
    whl = signed(wheelsig, tmp_path / "v2", "beta", "2.0", None)
    code, r = wheelsig.report("--jwks", out, "--require-trusted", whl)
    assert (code, r["verdict"]) == (1, "untrusted")
    assert [x["code"] for x in r["problems"]] == ["trust-unsigned-downgrade"]


def test_unknown_project_is_not_trusted(tmp_path, wheelsig, publishers):
    urls, keys = publishers
    out = lock(wheelsig, tmp_path, urls, keys)
    # Signed by a key the list does not know: nothing vouches for it.
    wheelsig.keygen(tmp_path / "delta.jwk")
    whl = signed(wheelsig, tmp_path / "v2", "delta", "1.0", tmp_path / "delta.jwk")
    code, r = wheelsig.report("--jwks", out, "--require-trusted", whl)
    assert (code, r["verdict"]) == (1, "signed")
    # Signed by a listed key outside the projects it is listed for.
    whl = signed(wheelsig, tmp_path / "v3", "delta", "1.0", keys["alpha-pub"])
    code, r = wheelsig.report("--jwks", out, "--require-trusted", whl)
    assert (code, r["verdict"]) == (1, "untrusted")
    assert [x["code"] for x in r["problems"]] == ["trust-project-scope"]


def test_malformed_key_list_is_a_clear_error_and_nothing_else_is_disturbed(tmp_path, wheelsig, publishers):
    urls, keys = publishers
    out = lock(wheelsig, tmp_path, urls, keys)
    before = out.read_bytes()
    bad = tmp_path / "bad.json"
    bad.write_text('{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "not base64!", "projects": ["alpha"]}]}')
    whl = signed(wheelsig, tmp_path / "v2", "alpha", "2.0", keys["alpha-pub"])
    p = wheelsig.run("verify", "--jwks", bad, "--require-trusted", whl)
    assert p.returncode == 2
    assert f"{bad}: keys[0]" in p.stderr and p.stdout == ""
    assert out.read_bytes() == before
    code, r = wheelsig.report("--jwks", out, "--require-trusted", whl)
    assert (code, r["verdict"]) == (0, "trusted")


def test_lock_refuses_unsigned_untrusted_and_conflicting_keys(tmp_path, wheelsig, publishers):
    urls, keys = publishers
    wheels = [
        signed(wheelsig, tmp_path / "a", "alpha", "1.0", keys["alpha-pub"]),
        signed(wheelsig, tmp_path / "b", "alpha", "1.1", keys["gamma-pub"]),  # another key, same project
        signed(wheelsig, tmp_path / "a", "plain", "1.0", None),
    ]
    out = tmp_path / "deps-keys.json"
    p = wheelsig.run("lock", "--key-url", urls["alpha-pub"], "--out", out, *wheels)
    assert p.returncode == 1
    assert "alpha-1.1-py3-none-any.whl: verdict untrusted" in p.stderr
    assert "plain is not signed" in p.stderr
    assert not out.exists()
    # Leaving unsigned wheels out, and locking signed-but-uncovered keys, on request.
    p = wheelsig.run("lock", "--allow-unsigned", "--allow-signed", "--out", out, wheels[0], wheels[2])
    assert p.returncode == 0, p.stderr
    [entry] = json.loads(out.read_text())["keys"]
    assert entry["projects"] == ["alpha"] and "key_url" not in entry
