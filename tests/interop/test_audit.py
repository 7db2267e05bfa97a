"""`wheelsig audit` and the template's `tools/audit-site.mjs`: a real package index on loopback
(pypiserver, PEP 503 HTML with sha256 fragments) serving wheels that a key site (made with
`wheelsig site init/add-key/publish/build`, served by a loopback http.server) signed, compared
with the site's releases: all agree (exit 0), a file swapped on the index (`digest-mismatch`),
an unsigned wheel and an sdist on the index (`unsigned-on-index`, `sdist-not-covered`), a signed
release the index lacks (`not-on-index`); `--key-url` and `--site` agree, the Node tool agrees
with the CLI, and the built key page shows the audit, escaped, byte for byte the same from both
builders. A hand-written PEP 691 page (yanking with a hostile reason) covers what pypiserver
cannot serve; the template workflow's build job runs the audit against the loopback index."""
import filecmp
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import threading
from functools import partial
from pathlib import Path

import pytest
import yaml

from conftest import REPO, build_wheel
from test_index import PageServer, free_port, stop, tool, wait_for_port
from test_site_log import run_steps

WIDGET = REPO / "www"
REPORT_KEYS = {"schema_version", "key_url", "index", "checked_at", "passed", "summary", "projects", "findings"}
FINDING_KEYS = {"code", "severity", "project", "filename", "message", "signed_sha256", "index_sha256", "yanked", "yanked_reason", "log_index", "url"}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def node(*args, timeout=120):
    return subprocess.run(["node", *map(str, args)], capture_output=True, text=True, timeout=timeout)


def without_time(doc: dict) -> dict:
    doc = dict(doc)
    assert isinstance(doc.pop("checked_at"), int)
    return doc


class World:
    """A key site (sources in `src`, deployed into `out` at `url`) covering demo and other,
    with demo 1.0 and 2.0 published, and pypiserver serving `packages` (both wheels)."""

    def __init__(self, ws, tmp_path):
        if not (WIDGET / "pkg" / "wheelsig_bg.wasm").exists():
            pytest.fail("www/pkg missing: the wasm build runs before these tests in npm test")
        self.ws, self.tmp = ws, tmp_path
        self.out = tmp_path / "out"
        self.out.mkdir()
        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(http.server.SimpleHTTPRequestHandler, directory=str(self.out)))
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/"
        self.key_url = self.url + "keys.json"
        ws.env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
        self.src = tmp_path / "src"
        self.ok("site", "init", self.src, "--publisher", "Demo Publisher", "--site-url", self.url, "--projects", "demo,other", "--widget", WIDGET)
        self.key = tmp_path / "me.jwk"
        ws.keygen(self.key)
        self.ok("site", "add-key", self.src, "--key", self.key)
        self.packages = tmp_path / "packages"
        self.packages.mkdir()
        self.wheels = {}
        for version in ("1.0", "2.0"):
            whl = self.wheel("demo", version)
            self.publish(whl)
            shutil.copy(whl, self.packages / whl.name)
        self.deploy()
        port = free_port()
        log = tmp_path / "pypiserver.log"
        with log.open("w") as f:
            self.proc = subprocess.Popen([tool("pypi-server"), "run", "-p", str(port), "-i", "127.0.0.1", "--hash-algo", "sha256", "--disable-fallback", "--backend", "simple-dir", "-a", ".", "-P", ".", str(self.packages)], stdout=f, stderr=subprocess.STDOUT)
        wait_for_port(port, self.proc, log)
        self.index = f"http://127.0.0.1:{port}/simple/"

    def close(self):
        stop(self.proc)
        self.http.shutdown()

    def ok(self, *args):
        p = self.ws.run(*args)
        assert p.returncode == 0, f"wheelsig {' '.join(map(str, args))}: {p.stderr}"
        return p

    def wheel(self, name, version, files=None):
        d = self.tmp / "built" / f"{name}-{version}-{len(self.wheels)}"
        d.mkdir(parents=True)
        whl = build_wheel(d, name=name, version=version, files=files)
        self.wheels[whl.name] = whl
        return whl

    def publish(self, whl):
        self.ok("site", "publish", self.src, "--key", self.key, whl)

    def deploy(self):
        self.ok("site", "build", self.src, "--out", self.out)

    def audit(self, *args, source=None):
        """`wheelsig audit --json`: (exit code, report)."""
        source = source or ["--key-url", self.key_url]
        p = self.ws.run("audit", "--index", self.index, *source, "--json", *args)
        assert p.returncode in (0, 1, 2), p.stderr
        return p.returncode, json.loads(p.stdout)

    def human(self, *args):
        return self.ws.run("audit", "--index", self.index, "--key-url", self.key_url, *args)

    def node_audit(self, out, *args):
        """tools/audit-site.mjs over the site's sources: (exit code, the report it wrote, the process)."""
        p = node(self.src / "tools" / "audit-site.mjs", "--site", self.src, "--index", self.index, "--out", out, *args)
        assert p.returncode in (0, 1, 2), p.stderr
        return p.returncode, json.loads(out.read_text()), p


@pytest.fixture
def world(wheelsig, tmp_path):
    w = World(wheelsig, tmp_path)
    yield w
    w.close()


def codes(report):
    return [(f["code"], f["filename"]) for f in report["findings"]]


def test_all_agree_exit_0_and_the_json_shape(world):
    code, r = world.audit()
    assert code == 0, r
    assert set(r) == REPORT_KEYS and r["schema_version"] == 1
    assert (r["key_url"], r["index"], r["passed"], r["findings"]) == (world.key_url, world.index, True, [])
    assert r["summary"] == {"projects": 2, "signed": 2, "index_wheels": 2, "index_other": 0, "matching": 2, "failures": 0, "notes": 0, "counts": {}}
    by = {p["project"]: p for p in r["projects"]}
    assert by["demo"] == {"project": "demo", "page": world.index + "demo/", "listed": True, "signed": 2, "index_wheels": 2, "index_other": 0, "matching": 2, "failures": 0}
    assert (by["other"]["listed"], by["other"]["page"]) == (False, world.index + "other/"), "a covered project pypiserver does not have"
    p = world.human()
    assert p.returncode == 0 and p.stdout.startswith(f"PASS: {world.index} serves exactly the wheels signed here, with the same sha256 (2 projects, 2 releases signed, 2 wheels on the index)"), p.stdout


def test_a_file_swapped_on_the_index_is_a_digest_mismatch(world):
    name = "demo-1.0-py3-none-any.whl"
    signed = sha256(world.wheels[name])
    other = world.wheel("demo", "1.0", files={"demo/__init__.py": b"print('not what you built')\n"})
    assert other.name == name
    shutil.copy(other, world.packages / name)
    code, r = world.audit()
    assert code == 1 and not r["passed"], r
    assert codes(r) == [("digest-mismatch", name)]
    [f] = r["findings"]
    assert set(f) == FINDING_KEYS
    assert (f["severity"], f["project"], f["signed_sha256"], f["index_sha256"], f["log_index"], f["yanked"]) == ("fail", "demo", signed, sha256(other), 0, False)
    assert f["url"].startswith(world.index.replace("/simple/", "/packages/")) and name in f["url"]
    assert r["summary"]["counts"] == {"digest-mismatch": 1} and r["summary"]["matching"] == 1
    p = world.human()
    assert p.returncode == 1, p.stderr
    assert f"digest-mismatch: the index serves {name} with sha256 {sha256(other)}, but the release signed here (release log entry 0) has sha256 {signed}: not the file you signed" in p.stdout, p.stdout
    assert p.stdout.splitlines()[-1].startswith(f"FAIL: 1 finding differs from {world.index} (1 digest-mismatch;"), p.stdout


def test_unsigned_wheels_sdists_and_missing_releases(world):
    unsigned = world.wheel("demo", "3.0")
    shutil.copy(unsigned, world.packages / unsigned.name)
    (world.packages / "demo-3.0.tar.gz").write_bytes(b"an sdist\n")
    # Signed here, never uploaded: a new demo release, and the first release of `other`.
    for whl in (world.wheel("demo", "4.0"), world.wheel("other", "1.0")):
        world.publish(whl)
    world.deploy()
    code, r = world.audit()
    assert code == 1, r
    assert codes(r) == [
        ("unsigned-on-index", unsigned.name),
        ("not-on-index", "demo-4.0-py3-none-any.whl"),
        ("not-on-index", "other-1.0-py3-none-any.whl"),
        ("sdist-not-covered", "demo-3.0.tar.gz"),
    ]
    sev = {f["filename"]: f for f in r["findings"]}
    assert sev[unsigned.name]["signed_sha256"] is None and sev[unsigned.name]["index_sha256"] == sha256(unsigned)
    assert sev["demo-4.0-py3-none-any.whl"]["log_index"] == 2 and sev["demo-4.0-py3-none-any.whl"]["index_sha256"] is None
    assert "the index has no project other" in sev["other-1.0-py3-none-any.whl"]["message"]
    assert sev["demo-3.0.tar.gz"]["severity"] == "info"
    assert r["summary"]["counts"] == {"unsigned-on-index": 1, "not-on-index": 2, "sdist-not-covered": 1}
    assert (r["summary"]["failures"], r["summary"]["notes"]) == (3, 1)
    out = world.human().stdout
    assert "note: sdist-not-covered: the index serves demo-3.0.tar.gz, which is not a wheel" in out, out
    # --site DIR (the sources, every signature checked) says exactly what --key-url does.
    code2, r2 = world.audit(source=["--site", world.src])
    assert code2 == 1 and without_time(r2) == without_time(r)
    # Only info left (the sdist): passes.
    (world.packages / unsigned.name).unlink()
    for whl in ("demo-4.0-py3-none-any.whl", "other-1.0-py3-none-any.whl"):
        shutil.copy(world.wheels[whl], world.packages / whl)
    code, r = world.audit()
    assert (code, r["passed"], codes(r)) == (0, True, [("sdist-not-covered", "demo-3.0.tar.gz")]), r


def test_the_node_tool_agrees_with_the_cli_and_both_builders_render_the_same_page(world, tmp_path):
    (world.packages / "demo-1.0-py3-none-any.whl").write_bytes(world.wheel("demo", "1.0", files={"demo/x.py": b"x = 1\n"}).read_bytes())
    shutil.copy(world.wheel("demo", "9.0"), world.packages / "demo-9.0-py3-none-any.whl")
    cli_code, cli = world.audit(source=["--site", world.src])
    report = tmp_path / "audit.json"
    node_code, from_node, p = world.node_audit(report)
    assert (cli_code, node_code) == (1, 1), p.stderr
    assert without_time(from_node) == without_time(cli)
    assert "digest-mismatch: the index serves demo-1.0-py3-none-any.whl" in p.stdout and p.stdout.splitlines()[-1].startswith("FAIL: 2 findings differ"), p.stdout
    # The tool's --key-url mode reads the deployed releases.json, like the CLI's.
    p2 = node(world.src / "tools" / "audit-site.mjs", "--site", world.src, "--key-url", world.key_url, "--index", world.index, "--json")
    assert p2.returncode == 1 and without_time(json.loads(p2.stdout)) == without_time(cli), p2.stderr
    # Both builders render the audit, byte for byte alike.
    native_out, node_out = tmp_path / "native-site", tmp_path / "node-site"
    world.ok("site", "build", world.src, "--out", native_out, "--audit", report)
    b = node(world.src / "tools" / "build-site.mjs", "--out", node_out, "--audit", report)
    assert b.returncode == 0, b.stderr
    assert "index audit FAIL" in b.stderr
    cmp = filecmp.dircmp(native_out, node_out)
    assert not cmp.left_only and not cmp.right_only and not cmp.diff_files, (cmp.left_only, cmp.right_only, cmp.diff_files)
    for sub in ("releases/demo", "wheelsig"):
        sc = filecmp.dircmp(native_out / sub, node_out / sub)
        assert not sc.diff_files and not sc.left_only and not sc.right_only
    page = (native_out / "index.html").read_text()
    assert '<section id="audit">' in page and "<h2>Index audit</h2>" in page and f"<code>{world.index}</code>" in page
    assert "<strong>FAIL</strong>" in page and "<code>digest-mismatch</code>" in page and "<code>unsigned-on-index</code>" in page
    assert json.loads((native_out / "audit.json").read_text()) == from_node, "published as audit.json"
    # A report for another key site is refused by both.
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(dict(from_node, key_url="https://mallory.example/keys.json")))
    native = world.ws.run("site", "build", world.src, "--out", tmp_path / "x", "--audit", forged)
    by_node = node(world.src / "tools" / "build-site.mjs", "--out", tmp_path / "y", "--audit", forged)
    for q in (native, by_node):
        assert q.returncode == 1 and "--audit: an audit of the key site https://mallory.example/keys.json, not this one" in q.stderr, q.stderr


def test_yanked_files_and_hostile_text_from_the_index_are_escaped(world, tmp_path):
    """A PEP 691 page pypiserver cannot write: demo 1.0 yanked with a reason holding a terminal
    escape and markup, demo 2.0 listed without a digest."""
    pages = PageServer()
    try:
        one, two = (world.wheels[f"demo-{v}-py3-none-any.whl"] for v in ("1.0", "2.0"))
        reason = "broken \x1b[2K\rtrusted <script>"
        pages.json_page("demo", [
            {"filename": one.name, "url": f"/files/{one.name}", "hashes": {"sha256": sha256(one)}, "yanked": reason},
            {"filename": two.name, "url": f"/files/{two.name}", "hashes": {}},
        ])
        index = pages.base + "/simple/"
        p = world.ws.run("audit", "--index", index, "--key-url", world.key_url, "--json")
        r = json.loads(p.stdout)
        assert p.returncode == 1 and codes(r) == [("no-index-digest", two.name), ("yanked", one.name)], r
        y = r["findings"][1]
        assert (y["yanked"], y["yanked_reason"], y["severity"]) == (True, reason, "info") and reason in y["message"]
        assert [a for _, a in pages.accepts if a][0].startswith("application/vnd.pypi.simple.v1+json, "), "asked for PEP 691 first"
        human = world.ws.run("audit", "--index", index, "--key-url", world.key_url)
        assert "\x1b" not in human.stdout and "\r" not in human.stdout
        assert "note: yanked: demo-1.0-py3-none-any.whl is served with the sha256 signed here (release log entry 0), and yanked: broken \\u{1b}[2K\\u{d}trusted <script>" in human.stdout, human.stdout
        out = tmp_path / "node.json"
        p = node(world.src / "tools" / "audit-site.mjs", "--index", index, "--out", out)
        assert p.returncode == 1 and without_time(json.loads(out.read_text())) == without_time(r), p.stderr
        assert "\x1b" not in p.stdout and "\\u{1b}[2K" in p.stdout
        site = tmp_path / "site"
        world.ok("site", "build", world.src, "--out", site, "--audit", out)
        page = (site / "index.html").read_text()
        assert "\x1b" not in page and "<script>" not in page.split("</head>")[1]
        assert "and yanked: broken \\u{1b}[2K\\u{d}trusted &lt;script&gt;</td>" in page
    finally:
        pages.close()


def test_an_index_that_cannot_be_asked_is_exit_2_and_the_page_says_so(world, tmp_path):
    closed = f"http://127.0.0.1:{free_port()}/simple/"
    p = world.ws.run("audit", "--index", closed, "--key-url", world.key_url)
    assert p.returncode == 2 and "could not be carried out" in p.stderr, p.stderr
    p = world.ws.run("audit", "--index", closed, "--key-url", world.key_url, "--json")
    r = json.loads(p.stdout)
    assert p.returncode == 2 and r["passed"] is False and r["error"]["kind"] == "error" and r["findings"] == []
    out = tmp_path / "audit.json"
    code, from_node, q = world.node_audit(out, "--index", closed)
    assert code == 2 and from_node["error"]["kind"] == "error" and not from_node["passed"], q.stderr
    assert f"recorded in {out}" in q.stderr
    world.ok("site", "build", world.src, "--out", tmp_path / "s", "--audit", out)
    page = (tmp_path / "s" / "index.html").read_text()
    assert "<strong>FAIL</strong> The audit could not be carried out: " in page
    # Usage errors: no site given, an index off loopback over http, a key URL with no site.
    for args, want in [
        ([], "--key-url"),
        (["--key-url", world.key_url, "--index", "http://pypi.example/simple/"], "must be https"),
        (["--key-url", f"http://127.0.0.1:{free_port()}/keys.json"], "releases.json"),
    ]:
        p = world.ws.run("audit", *args)
        assert p.returncode == 2 and want in p.stderr, (args, p.stderr)
    p = world.ws.run("audit", "--index", world.index, "--key-url", world.url + "nowhere/keys.json", "--json")
    assert p.returncode == 2 and "not found (404)" in json.loads(p.stdout)["error"]["message"]


def test_the_template_workflow_audits_on_a_schedule_and_deploys_the_result(world, tmp_path):
    """The workflow runs daily; its build job's audit step (continue-on-error) writes the report
    that the build step renders. Run here against the loopback index instead of PyPI."""
    workflow = yaml.safe_load((world.src / ".github" / "workflows" / "pages.yml").read_text())
    assert workflow[True]["schedule"][0]["cron"].count(" ") == 4, "a daily schedule"  # YAML reads `on:` as True
    job = workflow["jobs"]["build"]
    [step] = [s for s in job["steps"] if "audit-site.mjs" in s.get("run", "")]
    assert step["continue-on-error"] is True
    assert step["run"] == 'node tools/audit-site.mjs --index https://pypi.org/simple/ --out "$RUNNER_TEMP/audit.json"'
    runner = tmp_path / "runner"
    runner.mkdir()
    shutil.rmtree(world.src / "_site", ignore_errors=True)
    env = dict(os.environ, RUNNER_TEMP=str(runner), GITHUB_ENV=str(runner / "env"))
    run_steps(job, world.src, env, substitute={"https://pypi.org/simple/": world.index})
    page = (world.src / "_site" / "index.html").read_text()
    assert "<strong>PASS</strong> The index serves exactly the wheels signed here" in page
    assert json.loads((world.src / "_site" / "audit.json").read_text())["index"] == world.index
    # A failing audit still deploys the page that shows it.
    shutil.copy(world.wheel("demo", "5.0"), world.packages / "demo-5.0-py3-none-any.whl")
    run_steps(job, world.src, env, substitute={"https://pypi.org/simple/": world.index})
    page = (world.src / "_site" / "index.html").read_text()
    assert "<strong>FAIL</strong>" in page and "demo-5.0-py3-none-any.whl" in page
