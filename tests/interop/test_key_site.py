"""Key site lifecycle: `wheelsig site init/add-key/publish/build`, the site served by a real HTTP
server on loopback, checked with `wheelsig verify --key-url`; and the template's Node
generator (the wasm) producing byte for byte what the native `site build` does."""
import filecmp
import http.server
import json
import shutil
import subprocess
import threading
import time
from functools import partial
from pathlib import Path

import pytest

from conftest import REPO, build_wheel

WIDGET = REPO / "www"
DAY = 86400


@pytest.fixture
def served(tmp_path):
    """An empty directory served at a loopback URL (the deployed site)."""
    out = tmp_path / "out"
    out.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield out, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class Site:
    def __init__(self, wheelsig, tmp_path, out, url):
        if not (WIDGET / "pkg" / "wheelsig_bg.wasm").exists():
            pytest.fail("www/pkg missing: the wasm build runs before these tests in npm test")
        self.ws, self.dir, self.out, self.url = wheelsig, tmp_path / "src", out, url
        self.key_url = f"{url}keys.json"
        # `site init` writes the release log's private key, and `site publish` reads it, at the
        # default place: $XDG_CONFIG_HOME/wheelsig/log-keys/ (here, off the site, in tmp_path).
        wheelsig.env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
        self.ok("site", "init", self.dir, "--publisher", "Demo Publisher", "--site-url", url, "--projects", "demo,other", "--widget", WIDGET)

    def ok(self, *args):
        p = self.ws.run(*args)
        assert p.returncode == 0, f"wheelsig {' '.join(map(str, args))}: {p.stderr}"
        return p

    def key(self, name, *projects):
        path = self.dir.parent / f"{name}.jwk"
        kid = self.ws.keygen(path)["kid"]
        self.ok("site", "add-key", self.dir, "--key", path, *(["--projects", ",".join(projects)] if projects else []))
        return path, kid

    def build(self):
        return self.ws.run("site", "build", self.dir, "--out", self.out)

    def verify(self, whl, *extra):
        return self.ws.report("--key-url", self.key_url, *extra, whl)


@pytest.fixture
def site(wheelsig, tmp_path, served):
    return Site(wheelsig, tmp_path, *served)


def test_active_key_is_trusted_and_the_page_lists_it(tmp_path, site):
    key, kid = site.key("a", "demo")
    whl = build_wheel(tmp_path)
    site.ok("site", "publish", site.dir, "--key", key, whl)
    assert site.build().returncode == 0
    code, r = site.verify(whl, "--require-trusted")
    assert (code, r["verdict"]) == (0, "trusted"), r["problems"]
    assert r["signatures"][0]["trusted_by"] == {"kind": "key-url", "source": site.key_url}
    assert r["signatures"][0]["jku"] == site.key_url
    page = (site.out / "index.html").read_text()
    assert kid in page and "active" in page and whl.name in page
    assert f'<wheel-verify key-url="{site.key_url}">' in page
    releases = json.loads((site.out / "releases.json").read_text())
    assert [(x["filename"], x["kid"]) for x in releases["releases"]] == [(whl.name, kid)]
    assert (site.out / ".nojekyll").exists() and (site.out / "wheelsig" / "pkg" / "wheelsig_bg.wasm").exists()


def test_removed_key_is_revoked_and_the_build_refuses_its_old_signatures(tmp_path, site):
    key, kid = site.key("a", "demo")
    whl = build_wheel(tmp_path)
    site.ok("site", "publish", site.dir, "--key", key, whl)
    assert site.build().returncode == 0
    kept = tmp_path / f"{whl.name}.jws"  # a user's copy of the old signature
    shutil.copy(site.dir / "releases" / "demo" / f"{whl.name}.jws", kept)
    site.key("b", "demo")
    site.ok("site", "remove-key", site.dir, kid)
    p = site.build()
    assert p.returncode == 1
    assert f"releases/demo/{whl.name}.jws: signed by key {kid}, which keys.json does not list (revoked?)" in p.stderr
    (site.dir / "releases" / "demo" / f"{whl.name}.jws").unlink()
    assert site.build().returncode == 0
    code, r = site.verify(whl, "--sig", kept)
    assert (code, r["verdict"]) == (1, "untrusted")
    assert [x["code"] for x in r["problems"]] == ["trust-key-not-listed"]


def test_key_scoped_to_another_project_is_untrusted_for_this_one(tmp_path, site):
    key, _ = site.key("a", "other")
    whl = build_wheel(tmp_path)
    p = site.ws.run("site", "publish", site.dir, "--key", key, whl)
    assert p.returncode == 2 and "does not list key" in p.stderr and "for demo" in p.stderr
    sig = tmp_path / "elsewhere"
    site.ok("sign", "--key", key, "--out-dir", sig, whl)
    assert site.build().returncode == 0
    code, r = site.verify(whl, "--sig", sig / f"{whl.name}.jws")
    assert (code, r["verdict"]) == (1, "untrusted")
    assert r["signatures"][0].get("trusted_by") is None


def test_rotation_keeps_old_releases_and_retired_key_cannot_sign_new_ones(tmp_path, site):
    old_key, old_kid = site.key("a", "demo")
    (tmp_path / "1").mkdir()
    v1 = build_wheel(tmp_path / "1", version="1.0")
    site.ok("site", "publish", site.dir, "--key", old_key, v1)
    # Rotate: a new key, and the old one retired from tomorrow (after v1 was signed).
    new_key, new_kid = site.key("b", "demo")
    retire = time.strftime("%Y-%m-%d", time.gmtime(time.time() + DAY))
    site.ok("site", "retire-key", site.dir, old_kid, "--date", retire)
    p = site.ws.run("site", "publish", site.dir, "--key", old_key, v1)
    assert p.returncode == 2 and "was retired" in p.stderr
    (tmp_path / "2").mkdir()
    v2 = build_wheel(tmp_path / "2", version="2.0")
    site.ok("site", "publish", site.dir, "--key", new_key, v2)
    assert site.build().returncode == 0
    page = (site.out / "index.html").read_text()
    assert f"retired {retire}" in page
    # The old release still verifies, shown as signed by a retired key; the new one by the new key.
    code, r = site.verify(v1, "--require-trusted")
    assert (code, r["verdict"]) == (0, "trusted"), r["problems"]
    assert r["signatures"][0]["kid"] == old_kid and r["signatures"][0]["retired"] is not None
    code, r = site.verify(v2, "--require-trusted")
    assert (code, r["verdict"], r["signatures"][0]["kid"]) == (0, "trusted", new_kid)


def test_signature_made_after_retirement_is_untrusted_and_refused_by_the_build(tmp_path, site):
    key, kid = site.key("a", "demo")
    site.ok("site", "retire-key", site.dir, kid, "--date", "2020-01-01")
    whl = build_wheel(tmp_path)
    out = site.dir / "releases" / "demo"
    site.ok("sign", "--key", key, "--out-dir", out, whl)
    p = site.build()
    assert p.returncode == 1 and "after its retirement on 2020-01-01" in p.stderr
    shutil.copytree(site.dir / "releases", site.out / "releases")  # as if deployed anyway
    (site.out / "keys.json").write_bytes((site.dir / "keys.json").read_bytes())
    code, r = site.verify(whl)
    assert (code, r["verdict"]) == (1, "untrusted")


def test_node_generator_matches_native_build(tmp_path, site):
    key, _ = site.key("a", "demo")
    whl = build_wheel(tmp_path)
    site.ok("site", "publish", site.dir, "--key", key, whl)
    assert site.build().returncode == 0
    node_out = tmp_path / "node-out"
    p = subprocess.run(["node", site.dir / "tools" / "build-site.mjs", "--out", node_out], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    cmp = filecmp.dircmp(site.out, node_out)

    def same(c):
        assert not c.left_only and not c.right_only and not c.diff_files and not c.funny_files, (c.left_only, c.right_only, c.diff_files)
        _, mismatch, errors = filecmp.cmpfiles(c.left, c.right, c.common_files, shallow=False)
        assert not mismatch and not errors
        for sub in c.subdirs.values():
            same(sub)

    same(cmp)


def test_node_generator_fails_with_the_same_problems(tmp_path, site):
    key, kid = site.key("a", "demo")
    whl = build_wheel(tmp_path)
    site.ok("site", "publish", site.dir, "--key", key, whl)
    keys = json.loads((site.dir / "keys.json").read_text())
    keys["keys"][0]["projects"] = ["other"]
    (site.dir / "keys.json").write_text(json.dumps(keys))
    native = site.build()
    node = subprocess.run(["node", site.dir / "tools" / "build-site.mjs", "--out", tmp_path / "n"], capture_output=True, text=True, timeout=120)
    assert native.returncode == node.returncode == 1
    want = f"releases/demo/{whl.name}.jws: key {kid} is not listed for demo in keys.json"
    assert want in native.stderr and want in node.stderr
    assert not (tmp_path / "n" / "index.html").exists()


@pytest.mark.parametrize(
    "keys_json, message",
    [
        ('{"keys": [', "keys.json: not valid JSON"),
        ('{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}]}', "keys.json: keys[0]"),
        ('{"keys": {}}', "keys.json: expected a JWK Set"),
    ],
)
def test_bad_keys_json_fails_the_build_clearly(site, keys_json, message):
    (site.dir / "keys.json").write_text(keys_json)
    p = site.build()
    assert p.returncode == 1 and message in p.stderr, p.stderr
    assert not (site.out / "index.html").exists()


def test_init_refuses_a_non_empty_directory_and_bad_urls(tmp_path, wheelsig):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    p = wheelsig.run("site", "init", tmp_path / "full", "--publisher", "a", "--site-url", "https://a.example/", "--widget", WIDGET)
    assert p.returncode == 2 and "not empty" in p.stderr
    p = wheelsig.run("site", "init", tmp_path / "new", "--publisher", "a", "--site-url", "http://a.example/", "--widget", WIDGET)
    assert p.returncode == 2 and "must be https" in p.stderr
    assert not (tmp_path / "new").exists()


def test_packaged_template_builds_once_site_json_is_edited(tmp_path):
    """What a publisher gets from "Use this template" builds with plain Node as soon as
    site.json names them (as committed, its placeholders are refused:
    test_site_config_checks.py)."""
    out = tmp_path / "template"
    p = subprocess.run(["bash", REPO / "scripts" / "package-template.sh", out], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert (out / ".github" / "workflows" / "pages.yml").exists() and (out / ".nojekyll").exists()
    config = json.loads((out / "site.json").read_text())
    config.update(publisher="Alice Example", site_url="https://alice-example.github.io/my-wheel-keys/")
    (out / "site.json").write_text(json.dumps(config))
    p = subprocess.run(["node", out / "tools" / "build-site.mjs"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    page = (out / "_site" / "index.html").read_text()
    assert "<h1>Alice Example</h1>" in page and "No keys are listed yet." in page
    assert (out / "_site" / "wheelsig" / "pkg" / "wheelsig_bg.wasm").exists()


@pytest.mark.parametrize("where", ["releases/demo/evil.whl.jws", "releases/evil"])
def test_links_under_releases_are_refused_by_both_builders(tmp_path, site, where):
    """A link in releases/ would publish whatever it points at (a runner's files, a key)."""
    secret = tmp_path / "secret.txt"
    secret.write_text("not for publishing\n")
    link = site.dir / where
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(secret)
    native = site.build()
    node = subprocess.run(["node", site.dir / "tools" / "build-site.mjs", "--out", tmp_path / "n"], capture_output=True, text=True, timeout=120)
    assert native.returncode == 2 and node.returncode == 2, (native.stderr, node.stderr)
    for p in (native, node):
        assert str(link) in p.stderr and ("symbolic link" in p.stderr or "not a regular file" in p.stderr), p.stderr
    assert not list(site.out.rglob("*")) and not (tmp_path / "n").exists()


def test_init_without_widget_copies_the_widget_built_into_the_binary(tmp_path, wheelsig):
    """`pip install wheelsig` users have no www/: the widget comes from the binary, and it is
    exactly the built one."""
    env = dict(wheelsig.env, XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    p = subprocess.run([str(wheelsig.binary), "site", "init", tmp_path / "s", "--publisher", "A", "--site-url", "https://a.example/k/"], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    for rel in ["wheel-verify.js", "worker.js", "worker-client.js", "first-use.js", "log-memory.js", "escape.js", "pkg/wheelsig.js", "pkg/wheelsig_bg.wasm"]:
        assert (tmp_path / "s" / "wheelsig" / rel).read_bytes() == (WIDGET / rel).read_bytes(), f"{rel} differs from www/ (binary built before the wasm?)"


def test_update_widget_replaces_a_stale_widget_with_the_binarys(tmp_path, wheelsig):
    env = dict(wheelsig.env, XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    run = lambda *a: subprocess.run([str(wheelsig.binary), *map(str, a)], capture_output=True, text=True, env=env, timeout=120)
    assert run("site", "init", tmp_path / "s", "--publisher", "A", "--site-url", "https://a.example/k/").returncode == 0
    stale = tmp_path / "s" / "wheelsig" / "wheel-verify.js"
    stale.write_text("// an old widget\n")
    p = run("site", "update-widget", tmp_path / "s")
    assert p.returncode == 0 and "1 of 8 widget files replaced" in p.stderr, p.stderr
    assert stale.read_bytes() == (WIDGET / "wheel-verify.js").read_bytes()
    assert "0 of 8" in run("site", "update-widget", tmp_path / "s").stderr
    p = run("site", "update-widget", tmp_path / "not-a-site")
    assert p.returncode == 2 and "site.json" in p.stderr, p.stderr
