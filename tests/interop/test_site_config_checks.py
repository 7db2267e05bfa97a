"""A key site's site.json must describe the publisher and where the site is deployed:

- the template's placeholders ("Your Name", https://you.github.io/my-keys/) are refused by
  `wheelsig site build` and by the template's Node tool, each message naming the field to edit;
- `node tools/build-site.mjs --expect-site-url URL` (what the template workflow runs, with the
  address actions/configure-pages reports) refuses a site_url that is not URL, a trailing slash
  aside, in one line, writing nothing;
- the template workflow really passes that address, through `env:`.

The Node tool runs the wasm in the site's wheelsig/pkg/, copied from www/pkg by `site init`: its
placeholder check (Rust, crate/src/site.rs) is there only once wasm-pack has rebuilt www/pkg
after that change (npm test does). The --expect-site-url check is in the Node tool itself."""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import REPO

WIDGET = REPO / "www"
TEMPLATE = REPO / "static-site-template"
PLACEHOLDERS = json.loads((TEMPLATE / "site.json").read_text())
SITE_URL = "https://alice.github.io/my-keys/"
PUBLISHER_MESSAGE = "site.json: `publisher` is still the template's placeholder \"Your Name\": edit site.json"
SITE_URL_MESSAGE = "site.json: `site_url` is still the template's placeholder \"https://you.github.io/my-keys/\": edit site.json"


@pytest.fixture
def site(tmp_path, wheelsig):
    """A site made by `wheelsig site init` (its tools/ and wheelsig/ as a publisher gets them)."""
    if not (WIDGET / "pkg" / "wheelsig_bg.wasm").exists():
        pytest.fail("www/pkg missing: the wasm build runs before these tests in npm test")
    wheelsig.env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    d = tmp_path / "site"
    p = wheelsig.run("site", "init", d, "--publisher", "Alice Example", "--site-url", SITE_URL, "--projects", "demo", "--widget", WIDGET)
    assert p.returncode == 0, p.stderr
    return d


def node_build(site: Path, out: Path, *args, cwd=None):
    return subprocess.run(["node", site / "tools" / "build-site.mjs", "--out", out, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def set_config(site: Path, **fields):
    config = json.loads((site / "site.json").read_text())
    config.update(fields)
    if config["site_url"] != SITE_URL:
        config.pop("log", None)  # the log's origin is derived from site_url
        shutil.rmtree(site / "log", ignore_errors=True)
    (site / "site.json").write_text(json.dumps(config, indent=2) + "\n")


def test_the_placeholders_are_the_templates():
    """What the tests below refuse is what the template ships (and nothing else under tests/ uses
    those values for a site that must build)."""
    assert (PLACEHOLDERS["publisher"], PLACEHOLDERS["site_url"]) == ("Your Name", "https://you.github.io/my-keys/")


@pytest.mark.parametrize("same", [SITE_URL, SITE_URL.rstrip("/"), SITE_URL + "/"], ids=["exact", "no-trailing-slash", "two-slashes"])
def test_expect_site_url_equal_builds(site, tmp_path, same):
    p = node_build(site, tmp_path / "out", "--expect-site-url", same)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "out" / "index.html").exists() and (tmp_path / "out" / "keys.json").exists()


def test_expect_site_url_different_fails_in_one_line_writing_nothing(site, tmp_path):
    pages = "https://alice.github.io/keys"  # what configure-pages reports: no trailing slash
    p = node_build(site, tmp_path / "out", "--expect-site-url", pages)
    assert p.returncode == 1, p.stderr
    want = f"{site}: site.json's site_url \"{SITE_URL}\", but this workflow deploys to \"{pages}/\": edit site_url in site.json to that address"
    assert p.stderr.splitlines() == [want], p.stderr
    assert not (tmp_path / "out").exists()
    # Without the option there is nothing to compare: the same site builds.
    assert node_build(site, tmp_path / "out").returncode == 0


def test_expect_site_url_mismatch_is_listed_with_the_builds_own_problems(site, tmp_path):
    (site / "keys.json").write_text('{"keys": [')
    p = node_build(site, tmp_path / "out", "--expect-site-url", "https://bob.github.io/keys")
    assert p.returncode == 1
    assert "keys.json: not valid JSON" in p.stderr and "but this workflow deploys to \"https://bob.github.io/keys/\"" in p.stderr, p.stderr
    assert p.stderr.rstrip().endswith("the site was not built: 2 problems"), p.stderr


@pytest.mark.parametrize("bad, message", [("", "--expect-site-url needs a URL"), ("alice.github.io/keys", "is not a URL"), ("ftp://alice.example/", "is not an http(s) URL")])
def test_expect_site_url_must_be_a_url(site, tmp_path, bad, message):
    p = node_build(site, tmp_path / "out", "--expect-site-url", bad)
    assert p.returncode == 2 and message in p.stderr, p.stderr


def test_expect_site_url_is_in_the_help(site):
    p = subprocess.run(["node", site / "tools" / "build-site.mjs", "--help"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "--expect-site-url" in p.stdout and "site_url" in p.stdout, p.stdout


@pytest.mark.parametrize("fields, messages", [
    ({"publisher": "Your Name", "site_url": "https://you.github.io/my-keys/"}, [PUBLISHER_MESSAGE, SITE_URL_MESSAGE]),
    ({"publisher": "Your Name"}, [PUBLISHER_MESSAGE]),
    ({"site_url": "https://you.github.io/my-keys"}, [SITE_URL_MESSAGE]),
], ids=["both", "publisher", "site_url"])
def test_site_build_refuses_the_template_placeholders(site, tmp_path, wheelsig, fields, messages):
    set_config(site, **fields)
    p = wheelsig.run("site", "build", site, "--out", tmp_path / "out")
    assert p.returncode == 1, p.stderr
    got = [line for line in p.stderr.splitlines() if "placeholder" in line]
    assert len(got) == len(messages) and all(f"{site}: {m}" in line for m, line in zip(messages, got)), p.stderr
    assert not (tmp_path / "out" / "index.html").exists()


def test_the_node_tool_refuses_the_template_placeholders(site, tmp_path):
    """NEEDS the wasm rebuilt (wasm-pack, as npm test does) after the placeholder check went into
    crate/src/site.rs: with an older www/pkg this fails, the old wasm building the site."""
    set_config(site, publisher="Your Name", site_url="https://you.github.io/my-keys/")
    p = node_build(site, tmp_path / "out")
    assert p.returncode == 1, f"built with the placeholders (is www/pkg older than the check?):\n{p.stderr}"
    assert f"{site}: {PUBLISHER_MESSAGE}" in p.stderr and f"{site}: {SITE_URL_MESSAGE}" in p.stderr, p.stderr
    assert not (tmp_path / "out").exists()


def build_step(workflow_text: str):
    jobs = yaml.safe_load(workflow_text)["jobs"]
    steps = jobs["build"]["steps"]
    step = next(s for s in steps if "tools/build-site.mjs" in s.get("run", ""))
    return jobs["build"], steps, step


def test_the_template_workflow_checks_the_pages_url_through_env():
    job, steps, step = build_step((TEMPLATE / ".github" / "workflows" / "pages.yml").read_text())
    pages = next(s for s in steps if s.get("uses", "").startswith("actions/configure-pages@"))
    assert steps.index(pages) < steps.index(step)
    assert re.fullmatch(r"actions/configure-pages@[0-9a-f]{40}", pages["uses"])
    assert step["env"]["PAGES_URL"] == f"${{{{ steps.{pages['id']}.outputs.base_url }}}}"
    assert "${{" not in step["run"] and '--expect-site-url "$PAGES_URL"' in step["run"], step["run"]
    assert job["permissions"] == {"contents": "read", "pages": "read"}


def run_build_step(site: Path, run: str, **env):
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", run], cwd=site, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, **env))


def test_the_template_workflow_step_fails_on_another_pages_url(site):
    """The workflow's own build step, run as Actions runs it (PREVIOUS empty: a first deploy)."""
    _, _, step = build_step((site / ".github" / "workflows" / "pages.yml").read_text())
    p = run_build_step(site, step["run"], PAGES_URL="https://alice.github.io/other-repo", PREVIOUS="")
    assert p.returncode == 1 and "but this workflow deploys to \"https://alice.github.io/other-repo/\": edit site_url" in p.stderr, p.stderr
    assert not (site / "_site").exists()
    p = run_build_step(site, step["run"], PAGES_URL=SITE_URL.rstrip("/"), PREVIOUS="")
    assert p.returncode == 0, p.stderr
    assert (site / "_site" / "index.html").exists()


def test_the_readme_says_pages_first_and_how_to_host_elsewhere():
    text = (TEMPLATE / "README.md").read_text()
    setup = text[text.index("## Set up"):text.index("## Sign a release")]
    assert setup.index("Turn on Pages, before your first push") < setup.index("**Push**"), "Pages before the first push"
    assert "Source: **GitHub Actions**" in setup and "404" in setup
    assert "`site.json` that still holds a placeholder" in setup
    hosting = text[text.index("## Hosting the key site elsewhere"):]
    assert "/keys/keys.json" in hosting and "--out _site/keys" in hosting
    assert "Access-Control-Allow-Origin: *" in hosting and "_headers" in hosting and "add_header Access-Control-Allow-Origin" in hosting
    for path in ("/keys.json", "/releases/", "/log/"):
        assert path in hosting


def test_the_packaged_template_is_refused_until_site_json_is_edited(tmp_path):
    """What "Use this template" gives (scripts/package-template.sh) is refused by the Node tool,
    naming both fields, and builds once they are edited. (This replaces the former expectation
    that the template builds as committed, in test_key_site.py.) Needs the rebuilt wasm, too."""
    out = tmp_path / "template"
    p = subprocess.run(["bash", REPO / "scripts" / "package-template.sh", out], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    p = subprocess.run(["node", out / "tools" / "build-site.mjs"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and PUBLISHER_MESSAGE in p.stderr and SITE_URL_MESSAGE in p.stderr, p.stderr
    assert not (out / "_site").exists()
    set_config(out, publisher="Alice Example", site_url=SITE_URL)
    p = subprocess.run(["node", out / "tools" / "build-site.mjs", "--expect-site-url", SITE_URL], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    page = (out / "_site" / "index.html").read_text()
    assert "<h1>Alice Example</h1>" in page and "No keys are listed yet." in page
