"""The composite action at the repository root (action.yml): its shell steps run as the Actions
runner runs them (bash -eo pipefail, env: from inputs and earlier step outputs, GITHUB_OUTPUT)
against the wheelsig under test, a key site repository (a local bare git repository standing in
for GitHub) and the key site served on loopback.

What is asserted: the wheels get detached signatures that verify as trusted at the key URL; the
private key, the log key and the deploy key never appear in any file the steps leave, nor in
their output; the signatures land in releases/<project>/ of the key site in one pushed commit
(through `site publish` and the log on a site with a release log); a key site that would refuse
the signatures gets nothing pushed; the wait step passes only once the site serves the same
bytes, and fails after its timeout otherwise. The two `uses:` steps (setup-python) and the
`pip install` of wheelsig from PyPI are not run: WHEELSIG and PYTHON stand in for the install
step's outputs.

The static checks: no `${{ }}` inside a script, inputs only through env:, the secret only in the
steps that need it, the version default is this crate's version."""
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

import pytest
import yaml

from conftest import REPO, build_wheel

ACTION = yaml.safe_load((REPO / "action.yml").read_text())
STEPS = ACTION["runs"]["steps"]
WIDGET = REPO / "www"


def step(step_id):
    return next(s for s in STEPS if s.get("id") == step_id)


# --- static ----------------------------------------------------------------------------------


def test_scripts_take_inputs_only_through_env():
    for s in STEPS:
        if "run" in s:
            assert "${{" not in s["run"], f"{s['name']}: an expression inside the script"
            assert s["shell"] == "bash"
            for name, value in s.get("env", {}).items():
                assert re.fullmatch(r"\$\{\{ [\w.|' -]+ \}\}", value), f"{s['name']}: {name}: {value}"


def test_the_private_key_is_only_where_it_is_used():
    """The sign step, and the push step (which signs what it logs on a site with a release log)."""
    holders = [s["id"] for s in STEPS if any("inputs.private-key" in v for v in s.get("env", {}).values())]
    assert holders == ["sign", "push"]
    assert all("--key-env WHEELSIG_SIGNING_KEY" in step(i)["run"] for i in holders)
    assert "--key " not in step("sign")["run"] and "--key=" not in step("sign")["run"]


def test_setup_python_is_pinned_and_leaves_the_job_alone():
    setup = next(s for s in STEPS if s.get("uses", "").startswith("actions/setup-python@"))
    assert re.fullmatch(r"actions/setup-python@[0-9a-f]{40}", setup["uses"])
    assert setup["with"]["update-environment"] is False


def test_the_version_default_is_this_wheelsig():
    cargo = (REPO / "crate" / "Cargo.toml").read_text()
    version = re.search(r'^version = "([^"]+)"', cargo, re.M).group(1)
    assert ACTION["inputs"]["version"]["default"] == version


# --- a runner for the composite steps -----------------------------------------------------------


class Runner:
    """Runs the action's `run:` steps the way the runner does for a composite action."""

    def __init__(self, tmp_path: Path, wheelsig: Path, inputs: dict):
        self.temp = tmp_path / "runner-temp"
        self.workspace = tmp_path / "workspace"
        self.temp.mkdir()
        self.workspace.mkdir(exist_ok=True)
        self.inputs = {k: str(v.get("default", "")) for k, v in ACTION["inputs"].items()}
        unknown = set(inputs) - set(self.inputs)
        assert not unknown, unknown
        self.inputs.update({k: str(v) for k, v in inputs.items()})
        self.outputs = {"install": {"wheelsig": str(wheelsig), "python": sys.executable}}
        self.logs = []

    def value(self, expr: str) -> str:
        expr = expr.strip()
        if "||" in expr:
            for part in expr.split("||"):
                v = self.value(part)
                if v:
                    return v
            return ""
        for op in ("==", "!="):
            if op in expr:
                left, right = (x.strip() for x in expr.split(op))
                equal = self.value(left) == right.strip("'")
                return "true" if equal == (op == "==") else ""
        parts = expr.split(".")
        if parts[0] == "inputs":
            return self.inputs[parts[1]]
        if parts[0] == "steps" and parts[2] == "outputs":
            return self.outputs.get(parts[1], {}).get(parts[3], "")
        raise AssertionError(f"expression not understood by this test runner: {expr}")

    def template(self, text: str) -> str:
        return re.sub(r"\$\{\{(.*?)\}\}", lambda m: self.value(m.group(1)), text)

    def run(self, step_id, check=True):
        s = step(step_id)
        if "if" in s and not self.value(s["if"]):
            return None
        out_file = self.temp / f"output-{step_id}"
        out_file.write_text("")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "WHEELSIG", "SSH_"))}
        env.update(RUNNER_TEMP=str(self.temp), GITHUB_OUTPUT=str(out_file), GITHUB_WORKSPACE=str(self.workspace), GITHUB_REPOSITORY="alice/alices-project", GITHUB_RUN_ID="1", GITHUB_SHA="0" * 40)
        env.update({k: self.template(v) for k, v in s.get("env", {}).items()})
        p = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", s["run"]], cwd=self.workspace, capture_output=True, text=True, timeout=300, env=env)
        self.logs.append(p.stdout + p.stderr)
        if check:
            assert p.returncode == 0, f"step {step_id} (exit {p.returncode}):\n{p.stdout}\n{p.stderr}"
        self.outputs[step_id] = parse_outputs(out_file.read_text())
        out_file.unlink()
        return p

    def all(self):
        for s in STEPS:
            if "run" in s and s.get("id") != "install":
                self.run(s["id"])


def parse_outputs(text: str) -> dict:
    out, lines = {}, iter(text.splitlines())
    for line in lines:
        if "<<" in line and "=" not in line.split("<<")[0]:
            name, delim = line.split("<<", 1)
            value = []
            for v in lines:
                if v == delim:
                    break
                value.append(v)
            out[name] = "\n".join(value)
        elif line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


def files_containing(root: Path, secret: str):
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and secret.encode() in p.read_bytes()]


def git(cwd, *args):
    p = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"git {' '.join(map(str, args))}: {p.stderr}"
    return p.stdout.strip()


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class KeySite:
    """A key site repository, as `site init` makes it, with the signing key listed, pushed to a
    bare repository (the "GitHub" the action clones and pushes to)."""

    def __init__(self, tmp_path, wheelsig, url, log=True, list_key=True):
        if not (WIDGET / "pkg" / "wheelsig_bg.wasm").exists():
            pytest.fail("www/pkg missing: the wasm build runs before these tests in npm test")
        self.ws = wheelsig
        keys = tmp_path / "keys"  # the publisher's own machine, not the runner
        keys.mkdir()
        wheelsig.env["XDG_CONFIG_HOME"] = str(keys / "config")
        self.key_file = keys / "signing.jwk"
        self.kid = wheelsig.keygen(self.key_file)["kid"]
        self.private_key = self.key_file.read_text()
        self.d = json.loads(self.private_key)["d"]
        self.src = tmp_path / "key-site-src"
        self.ok("site", "init", self.src, "--publisher", "Alice Example", "--site-url", url, "--projects", "demo", "--widget", WIDGET)
        if list_key:
            self.ok("site", "add-key", self.src, "--key", self.key_file)
        if log:
            self.log_key = next((keys / "config" / "wheelsig" / "log-keys").iterdir()).read_text()
        else:
            config = json.loads((self.src / "site.json").read_text())
            del config["log"]
            (self.src / "site.json").write_text(json.dumps(config, indent=2) + "\n")
            shutil.rmtree(self.src / "log")
            self.log_key = ""
        git(self.src, "init", "--quiet")
        git(self.src, "add", ".")
        git(self.src, "commit", "--quiet", "-m", "key site")
        self.origin = tmp_path / "key-site.git"
        git(tmp_path, "clone", "--quiet", "--bare", self.src, self.origin)
        self.key_url = f"{url}keys.json"

    def ok(self, *args):
        p = self.ws.run(*args)
        assert p.returncode == 0, f"wheelsig {args}: {p.stderr}"
        return p

    def checkout(self, where: Path) -> Path:
        git(where.parent, "clone", "--quiet", self.origin, where)
        return where

    def deploy(self, served_root: Path, tmp_path: Path):
        """What the key site's workflow does after the push: build and serve."""
        checkout = self.checkout(tmp_path / "deployed-src")
        shutil.rmtree(served_root)
        p = self.ws.run("site", "build", checkout, "--out", served_root)
        assert p.returncode == 0, p.stderr


def wheels(workspace: Path):
    dist = workspace / "dist"
    dist.mkdir(parents=True)
    return [build_wheel(dist, "demo", "1.0"), build_wheel(dist, "demo", "1.1")]


def no_secret_left(tmp_path: Path, runner: Runner, *secrets):
    for secret in secrets:
        assert secret
        for log in runner.logs:
            assert secret not in log
        for where in (runner.temp, runner.workspace):
            assert not files_containing(where, secret), f"{secret[:8]}… written to disk"


@pytest.mark.parametrize("log", [False, True], ids=["site-without-log", "site-with-log"])
def test_sign_push_wait_then_the_wheels_verify_as_trusted(tmp_path, wheelsig, served, log):
    served_root, url = served
    site = KeySite(tmp_path, wheelsig, url, log=log)
    runner = Runner(tmp_path, wheelsig.binary, {
        "private-key": site.private_key, "key-url": site.key_url, "key-site-repository": site.origin,
        "key-site-log-key": site.log_key, "wait-until-served": "true", "wait-timeout": "60",
    })
    whls = wheels(runner.workspace)
    before = git(site.origin, "rev-parse", "main")
    runner.run("sign")
    sigs = runner.outputs["sign"]["signatures"].splitlines()
    assert sigs == [f"dist/{w.name}.jws" for w in whls]
    runner.run("push")
    assert runner.outputs["push"]["key-url"] == site.key_url

    # One commit on the key site's main, holding exactly the signatures (and the log).
    head = git(site.origin, "rev-parse", "main")
    assert git(site.origin, "rev-list", "--count", f"{before}..{head}") == "1"
    assert git(site.origin, "log", "-1", "--format=%s", "main") == f"Sign {whls[0].name} {whls[1].name}"
    changed = set(git(site.origin, "diff", "--name-only", before, head).splitlines())
    releases = {f"releases/demo/{w.name}.jws" for w in whls}
    if log:
        assert releases < changed and {p for p in changed - releases if not p.startswith("log/")} == set(), changed
    else:
        assert changed == releases
    for w in whls:
        pushed = subprocess.run(["git", "show", f"main:releases/demo/{w.name}.jws"], cwd=site.origin, capture_output=True, timeout=60).stdout
        assert pushed == Path(f"{w}.jws").read_bytes(), "the signature next to the wheel is the one the site serves"

    # The site deploys a moment later; the wait step sees it and passes.
    threading.Timer(2, site.deploy, (served_root, tmp_path)).start()
    t = time.monotonic()
    runner.run("wait")
    assert time.monotonic() - t < 50
    assert "the key site serves all 2 files" in runner.logs[-1]

    for w in whls:
        code, r = wheelsig.report("--key-url", site.key_url, "--require-trusted", w)
        assert (code, r["verdict"]) == (0, "trusted"), r["problems"]
    no_secret_left(tmp_path, runner, site.d, *([site.log_key.split("+")[-1].strip()] if log else []))
    assert not list(runner.temp.glob("wheelsig-key-site.*")), "the clone is removed"


def test_sign_only_with_an_encrypted_key(tmp_path, wheelsig):
    """No key site: signatures next to the wheels; an encrypted key with its passphrase."""
    key = tmp_path / "keys" / "enc.jwk"
    key.parent.mkdir()
    env = dict(wheelsig.env, WHEELSIG_KEY_PASSPHRASE="correct horse")
    p = subprocess.run([str(wheelsig.binary), "keygen", "--encrypt", "--out", str(key)], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    public = p.stdout
    runner = Runner(tmp_path, wheelsig.binary, {"private-key": key.read_text(), "key-passphrase": "correct horse"})
    whls = wheels(runner.workspace)
    runner.all()
    assert "push" not in runner.outputs and "wait" not in runner.outputs
    jwks = tmp_path / "keys" / "keys.json"
    jwks.write_text(json.dumps({"keys": [json.loads(public)]}))
    for w in whls:
        code, r = wheelsig.report("--jwks", jwks, "--require-trusted", w)
        assert (code, r["verdict"]) == (0, "trusted"), r["problems"]
    no_secret_left(tmp_path, runner, "correct horse")


@pytest.mark.parametrize("inputs, message", [
    ({"private-key": ""}, "private-key is empty"),
    ({"wheels": "nothing/*.whl"}, "no file matches wheels: 'nothing/*.whl'"),
])
def test_sign_fails_clearly(tmp_path, wheelsig, inputs, message):
    runner = Runner(tmp_path, wheelsig.binary, {"private-key": "{}", **inputs})
    wheels(runner.workspace)
    p = runner.run("sign", check=False)
    assert p.returncode == 1 and message in p.stdout, p.stdout + p.stderr


def test_a_key_site_that_would_refuse_the_signatures_gets_nothing(tmp_path, wheelsig, served):
    """The key is not in the site's keys.json: the site's own build would refuse to deploy."""
    site = KeySite(tmp_path, wheelsig, served[1], log=False, list_key=False)
    runner = Runner(tmp_path, wheelsig.binary, {"private-key": site.private_key, "key-site-repository": site.origin})
    wheels(runner.workspace)
    before = git(site.origin, "rev-parse", "main")
    runner.run("sign")
    p = runner.run("push", check=False)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "is not listed" in p.stderr or "does not list" in p.stderr, p.stderr
    assert "would not build with these signatures (above): nothing was pushed" in p.stdout
    assert git(site.origin, "rev-parse", "main") == before


def test_push_refuses_a_logged_site_without_the_log_key_and_a_wrong_key_url(tmp_path, wheelsig, served):
    site = KeySite(tmp_path, wheelsig, served[1], log=True)
    before = git(site.origin, "rev-parse", "main")
    runner = Runner(tmp_path, wheelsig.binary, {"private-key": site.private_key, "key-site-repository": site.origin})
    wheels(runner.workspace)
    runner.run("sign")
    p = runner.run("push", check=False)
    assert p.returncode == 1 and "has a release log: pass key-site-log-key" in p.stdout, p.stdout + p.stderr
    runner.inputs.update({"key-site-log-key": site.log_key, "key-url": "https://elsewhere.example/keys.json"})
    p = runner.run("push", check=False)
    assert p.returncode == 1 and f"but {site.origin} serves its keys at {site.key_url}" in p.stdout, p.stdout + p.stderr
    assert git(site.origin, "rev-parse", "main") == before


def ssh_agents():
    p = subprocess.run(["ps", "-eo", "pid=,stat=,comm="], capture_output=True, text=True, timeout=30)
    return {f[0] for f in map(str.split, p.stdout.splitlines()) if f[2:] == ["ssh-agent"] and not f[1].startswith("Z")}


def agents_stopped(before, seconds=5):
    """`ssh-agent -k` signals the agent, which exits a moment later."""
    deadline = time.monotonic() + seconds
    while not ssh_agents() <= before:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.mark.skipif(not shutil.which("ssh-agent") or not shutil.which("ssh-keygen"), reason="needs OpenSSH's ssh-agent and ssh-keygen")
def test_the_deploy_key_goes_through_an_agent_and_is_gone_after(tmp_path, wheelsig, served):
    """The deploy key is loaded into an ssh-agent from stdin and the agent stopped after the step;
    no file holds the key. (The clone here is of a local path, so ssh itself is not used: GitHub
    is out of reach of these tests.)"""
    keydir = tmp_path / "deploy"
    keydir.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "deploy", "-f", keydir / "id"], check=True, timeout=60)
    deploy_key = (keydir / "id").read_text()
    secret = deploy_key.splitlines()[2]  # a line of the key's body
    site = KeySite(tmp_path, wheelsig, served[1], log=False)
    runner = Runner(tmp_path, wheelsig.binary, {"private-key": site.private_key, "key-site-repository": site.origin, "key-site-deploy-key": deploy_key})
    wheels(runner.workspace)
    runner.run("sign")
    agents = ssh_agents()
    runner.run("push")
    assert agents_stopped(agents), "the step's ssh-agent is still running"
    assert git(site.origin, "log", "-1", "--format=%s", "main").startswith("Sign ")
    no_secret_left(tmp_path, runner, secret, site.d)

    runner.inputs["key-site-deploy-key"] = "not a key"
    p = runner.run("push", check=False)
    assert p.returncode == 1 and "key-site-deploy-key is not an SSH private key" in p.stdout, p.stdout + p.stderr
    assert agents_stopped(agents)


def test_a_github_key_site_needs_the_deploy_key(tmp_path, wheelsig):
    runner = Runner(tmp_path, wheelsig.binary, {"private-key": "{}", "key-site-repository": "alice/my-keys"})
    runner.outputs["sign"] = {"wheels": "dist/demo-1.0-py3-none-any.whl"}
    p = runner.run("push", check=False)
    assert p.returncode == 1 and "also pass key-site-deploy-key" in p.stdout, p.stdout + p.stderr


def test_wait_fails_after_its_timeout_unless_the_same_bytes_are_served(tmp_path, wheelsig, served):
    served_root, url = served
    runner = Runner(tmp_path, wheelsig.binary, {"key-url": f"{url}keys.json", "wait-until-served": "true", "wait-timeout": "0"})
    whl = wheels(runner.workspace)[0]
    Path(f"{whl}.jws").write_text("the signature\n")
    runner.outputs["sign"] = {"wheels": f"dist/{whl.name}"}
    target = served_root / "releases" / "demo" / f"{whl.name}.jws"
    for served_bytes in (None, "another signature\n"):
        if served_bytes is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(served_bytes)
        p = runner.run("wait", check=False)
        assert p.returncode == 1, p.stdout + p.stderr
        assert f"not served (or not these bytes): {url}releases/demo/{whl.name}.jws" in p.stdout
        assert "does not serve 1 of 1 files" in p.stdout and "do not upload to PyPI until it does" in p.stdout
    target.write_text("the signature\n")
    runner.run("wait")
    # A witnessed site: its .tlog-proof too.
    runner.outputs["push"] = {"key-url": f"{url}keys.json", "proofs": "yes"}
    p = runner.run("wait", check=False)
    assert p.returncode == 1 and f"{whl.name}.tlog-proof" in p.stdout
    (target.parent / f"{whl.name}.tlog-proof").write_text("proof\n")
    runner.run("wait")


def test_install_refuses_a_version_that_is_not_one(tmp_path, wheelsig):
    runner = Runner(tmp_path, wheelsig.binary, {"version": "0.1.0 --index-url https://evil.example/"})
    runner.outputs["python"] = {"python-path": "/nonexistent/python"}
    p = runner.run("install", check=False)
    assert p.returncode == 1 and "version must be a wheelsig release number" in p.stdout, p.stdout + p.stderr


# --- the documented release workflow (docs/examples/release.yml, docs/RELEASING.md) -------------


def test_the_release_example_uploads_only_after_the_key_site_serves_the_signatures():
    wf = yaml.safe_load((REPO / "docs" / "examples" / "release.yml").read_text())
    jobs = wf["jobs"]
    assert wf["permissions"] == {}
    # build → sign → pypi, and pypi cannot start before sign succeeded.
    assert jobs["sign"]["needs"] == "build" and "sign" in jobs["pypi"]["needs"]
    [signing] = [s for s in jobs["sign"]["steps"] if "wheelsig@" in s.get("uses", "")]
    assert set(signing["with"]) <= set(ACTION["inputs"]), "every input the example passes exists"
    assert signing["with"]["wait-until-served"] == "true" and signing["with"]["key-site-repository"]
    assert signing["with"]["private-key"] == "${{ secrets.WHEELSIG_PRIVATE_KEY }}"
    # Trusted publishing: the OIDC token for the pypi job only, in the pypi environment.
    publish = jobs["pypi"]["steps"][-1]
    assert publish["uses"].startswith("pypa/gh-action-pypi-publish@") and "with" not in publish, "no API token"
    assert jobs["pypi"]["permissions"] == {"id-token": "write"} and jobs["pypi"]["environment"]["name"] == "pypi"
    for name in ("build", "sign"):
        assert "id-token" not in jobs[name].get("permissions", {}), name
    # The secrets are never in the job that runs the build backend.
    assert "secrets." not in yaml.safe_dump(jobs["build"])
    # PyPI gets the build's artifact, never the signatures.
    [download] = [s for s in jobs["pypi"]["steps"] if s.get("uses", "").startswith("actions/download-artifact@")]
    [upload] = [s for s in jobs["build"]["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert download["with"]["name"] == upload["with"]["name"] == "dist"


def test_releasing_md_documents_every_input_and_the_order():
    text = (REPO / "docs" / "RELEASING.md").read_text()
    for name in ACTION["inputs"]:
        assert f"| `{name}` |" in text, name
    assert "## Why the order matters" in text and "`untrusted`" in text and "trust-unsigned-downgrade" in text
    assert "examples/release.yml" in text
