"""This project's own workflows: .github/workflows/release.yml (wheels, sdist and npm package,
signed with the wheelsig just built, then PyPI, npm and the GitHub release), pages.yml (the
verifier and the key tool on GitHub Pages) and wasm.yml (the www/pkg build both call).
test_workflows.py lints them (zizmor, actionlint, pins); this file checks what the linters
cannot know:

- static: only the publish jobs can mint an OIDC token, and each write permission sits on the
  one job that uses it; the PyPI job can only get the wheels and the sdist, never a .jws; the
  wheels matrix covers every platform the README promises; Pages deploys www/ with the wasm
  build in it, built by the very command scripts/test.sh runs; every checkout drops its
  credentials; no `${{ }}` inside a script; secrets only in jobs behind an environment; a
  manual run (the dry run) publishes nothing; one commit per action across the repository;
  docs/PUBLISHING.md names every secret, variable and environment;
- each static check is shown to fail on a workflow broken the way it guards against;
- the scripts run as a runner runs them (bash -eo pipefail, env: evaluated, GITHUB_OUTPUT):
  the version check here and against a wrong tag or a forgotten bump; the wasm-bindgen pin
  lookup; and, with the CLI's own wheel (WHEELSIG_WHEEL, which scripts/test.sh exports, or
  target/wheels/), the sign job (pip install from dist/ only, sign with the key from the
  environment, verify against keys.json), the dry run, the key-site gate against a loopback
  key site, and the PyPI job's check that dist/ holds only wheels and the sdist."""
import copy
import fnmatch
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path

import pytest
import yaml

from conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"
RELEASE = WORKFLOWS / "release.yml"
PAGES = WORKFLOWS / "pages.yml"
WASM = WORKFLOWS / "wasm.yml"
PUBLISHING = REPO / "docs" / "PUBLISHING.md"


def load(path: Path) -> dict:
    wf = yaml.safe_load(path.read_text())
    # PyYAML reads the key `on` as True (YAML 1.1).
    if True in wf:
        wf["on"] = wf.pop(True)
    return wf


def own_workflows():
    """The workflows GitHub runs for this repository, and the publishers' example workflows."""
    return sorted(WORKFLOWS.glob("*.yml")) + sorted((REPO / "docs" / "examples").glob("*.yml"))


def steps(job):
    return job.get("steps", [])


def uses(step, action):
    return step.get("uses", "").split("@")[0] == action


def crate_version() -> str:
    cargo = (REPO / "crate" / "Cargo.toml").read_text()
    return re.search(r'^version = "([^"]+)"', cargo, re.M).group(1)


# --- the checks, each a function returning its problems (empty: fine) --------------------------


def permission_problems(release: dict, pages: dict) -> list:
    out = []
    for name, wf in (("release", release), ("pages", pages)):
        if wf.get("permissions") != {}:
            out.append(f"{name}: top-level permissions must be {{}}, not {wf.get('permissions')!r}")
    def holders(wf, scope):
        return {j for j, job in wf["jobs"].items() if isinstance(job.get("permissions"), dict) and job["permissions"].get(scope) == "write"
                or job.get("permissions") == "write-all"}
    if holders(release, "id-token") != {"pypi", "npm"}:
        out.append(f"release: id-token: write must be on the publish jobs pypi and npm only, not {sorted(holders(release, 'id-token'))}")
    if holders(release, "contents") != {"github-release"}:
        out.append(f"release: contents: write must be on github-release only, not {sorted(holders(release, 'contents'))}")
    for scope in ("id-token", "pages"):
        if holders(pages, scope) != {"deploy"}:
            out.append(f"pages: {scope}: write must be on deploy only, not {sorted(holders(pages, scope))}")
    for name, wf in (("release", release), ("pages", pages)):
        for j, job in wf["jobs"].items():
            perms = job.get("permissions")
            if perms is None:
                out.append(f"{name}: job {j} has no permissions of its own")
            elif isinstance(perms, dict):
                extra = {k for k, v in perms.items() if v == "write"} - {"id-token", "contents", "pages"}
                if extra:
                    out.append(f"{name}: job {j} writes {sorted(extra)}")
    return out


def uploads(wf: dict) -> list:
    """(job, artifact name, path) of every upload-artifact step, matrix names expanded."""
    out = []
    for j, job in wf["jobs"].items():
        include = job.get("strategy", {}).get("matrix", {}).get("include", [{}])
        for s in steps(job):
            if uses(s, "actions/upload-artifact"):
                for entry in include:
                    name = re.sub(r"\$\{\{ matrix\.(\w+) \}\}", lambda m: str(entry.get(m.group(1), "")), s["with"]["name"])
                    out.append((j, name, s["with"]["path"]))
    return out


def downloaded(wf: dict, step: dict) -> list:
    """The uploads a download-artifact step gets."""
    w = step.get("with", {})
    if "name" in w:
        return [u for u in uploads(wf) if u[1] == w["name"]]
    if "pattern" in w:
        return [u for u in uploads(wf) if fnmatch.fnmatchcase(u[1], w["pattern"])]
    return uploads(wf)  # neither: every artifact of the run


def pypi_problems(release: dict) -> list:
    out = []
    job = release["jobs"]["pypi"]
    publish = [s for s in steps(job) if uses(s, "pypa/gh-action-pypi-publish")]
    if len(publish) != 1:
        return ["pypi: one pypa/gh-action-pypi-publish step expected"]
    packages = publish[0].get("with", {}).get("packages-dir", "dist/").rstrip("/")
    if job.get("environment", {}).get("name") != "pypi":
        out.append("pypi: environment must be `pypi` (the trusted publisher names it)")
    for s in steps(job):
        if uses(s, "actions/download-artifact"):
            got = downloaded(release, s)
            if not got:
                out.append(f"pypi: {s['with']} downloads no artifact this workflow uploads")
            if s["with"].get("path", ".").rstrip("/") == packages:
                for j, name, path in got:
                    if ".jws" in path or not re.fullmatch(r"dist/\*\.(whl|tar\.gz)", path):
                        out.append(f"pypi: {packages}/ would get artifact {name} ({path}, from job {j}): only wheels and the sdist go to PyPI")
        elif "uses" in s and not uses(s, "pypa/gh-action-pypi-publish"):
            out.append(f"pypi: unexpected step {s['uses']}")
        if ".jws" in s.get("run", "") or "signatures" in json.dumps(s.get("with", {})):
            out.append(f"pypi: a step touches the signatures: {s.get('name', s.get('uses'))}")
    return out


# What the README promises `pip install wheelsig` works on.
PLATFORMS = {("linux", "x86_64", "manylinux"), ("linux", "aarch64", "manylinux"), ("linux", "x86_64", "musllinux"), ("linux", "aarch64", "musllinux"),
             ("macos", "x86_64", ""), ("macos", "arm64", ""), ("windows", "x86_64", "")}


def platform_of(entry: dict) -> set:
    target, manylinux, runner = entry.get("target", ""), entry.get("manylinux") or "", entry.get("runner", "")
    arch = "x86_64" if target.startswith(("x86_64", "x64")) else "aarch64" if target.startswith(("aarch64", "arm64")) else target
    if "apple-darwin" in target or target in ("universal2", "universal2-apple-darwin"):
        if not runner.startswith("macos"):
            return set()
        return {("macos", "x86_64", ""), ("macos", "arm64", "")} if target.startswith("universal2") else {("macos", "arm64" if arch == "aarch64" else arch, "")}
    if "windows" in target or target == "x64":
        return {("windows", arch, "")} if runner.startswith("windows") else set()
    if "linux-musl" in target:
        return {("linux", arch, "musllinux")} if manylinux.startswith("musllinux") else set()
    if manylinux == "auto" or manylinux.startswith("manylinux") or manylinux.startswith("2_"):
        return {("linux", arch, "manylinux")}
    return set()


def wheel_problems(release: dict) -> list:
    out, covered, sdist = [], set(), False
    for j, job in release["jobs"].items():
        for s in steps(job):
            if not uses(s, "PyO3/maturin-action"):
                continue
            w = s.get("with", {})
            if "-m crate/Cargo.toml" not in w.get("args", "") and w.get("working-directory") != "crate":
                out.append(f"{j}: maturin must build crate/ (its pyproject.toml): -m crate/Cargo.toml or working-directory: crate")
            if w.get("command") == "sdist":
                sdist = True
                continue
            include = job.get("strategy", {}).get("matrix", {}).get("include", [])
            if "${{ matrix.target }}" != w.get("target") or not include:
                out.append(f"{j}: the build's target must come from the matrix include list")
            for entry in include:
                p = platform_of(entry)
                if not p:
                    out.append(f"{j}: matrix entry {entry} builds no platform wheel this check knows (target, manylinux and runner must agree)")
                covered |= p
            if not any(uses(x, "actions/download-artifact") and x["with"].get("name") == "www-pkg" for x in steps(job)):
                out.append(f"{j}: the CLI embeds the built widget: download www-pkg before maturin")
    missing = PLATFORMS - covered
    if missing:
        out.append(f"no wheel for {sorted(missing)}")
    if not sdist:
        out.append("no sdist (maturin-action command: sdist)")
    return out


def pages_problems(pages: dict, wasm: dict) -> list:
    out = []
    if pages["on"].get("push", {}).get("branches") != ["main"]:
        out.append("pages: must deploy on push to main")
    built = [j for j, job in pages["jobs"].items() if any(uses(s, "actions/upload-pages-artifact") for s in steps(job))]
    if len(built) != 1:
        return out + ["pages: one job uploads the Pages artifact"]
    job = pages["jobs"][built[0]]
    ss = steps(job)
    upload = next(i for i, s in enumerate(ss) if uses(s, "actions/upload-pages-artifact"))
    if ss[upload]["with"].get("path") != "www":
        out.append(f"pages: the artifact must be www, not {ss[upload]['with'].get('path')!r}")
    if not any(uses(s, "actions/download-artifact") and s["with"] == {"name": "www-pkg", "path": "www/pkg"} for s in ss[:upload]):
        out.append("pages: www/pkg (the wasm build) must be downloaded into www/pkg before the upload")
    callers = [j for j, jb in pages["jobs"].items() if jb.get("uses") == "./.github/workflows/wasm.yml"]
    if not callers or not set(callers) <= set([job.get("needs")] if isinstance(job.get("needs"), str) else job.get("needs", [])):
        out.append("pages: the build job must need the wasm.yml job")
    if "www-pkg" not in [u[1] for u in uploads(wasm)]:
        out.append("wasm.yml uploads no www-pkg artifact")
    deploy = [j for j, jb in pages["jobs"].items() if any(uses(s, "actions/deploy-pages") for s in steps(jb))]
    if deploy != ["deploy"] or built[0] not in [pages["jobs"]["deploy"].get("needs")]:
        out.append("pages: the deploy job must deploy-pages after the build job")
    elif pages["jobs"]["deploy"].get("environment", {}).get("name") != "github-pages":
        out.append("pages: deploy runs in the github-pages environment")
    return out


def checkout_problems(path: Path, wf: dict) -> list:
    return [f"{path.name}: job {j}: actions/checkout without persist-credentials: false"
            for j, job in wf["jobs"].items() for s in steps(job)
            if uses(s, "actions/checkout") and s.get("with", {}).get("persist-credentials") is not False]


def expression_in_script_problems(path: Path, wf: dict) -> list:
    return [f"{path.name}: job {j}: {s.get('name', s['run'][:40])!r} has ${{{{ }}}} in its script: pass it through env:"
            for j, job in wf["jobs"].items() for s in steps(job) if "${{" in s.get("run", "")]


def secret_problems(path: Path, wf: dict) -> list:
    return [f"{path.name}: job {j} reads secrets but names no environment"
            for j, job in wf["jobs"].items() if "secrets." in json.dumps(job) and not job.get("environment")]


def publishers(wf: dict) -> set:
    return {j for j, job in wf["jobs"].items() for s in steps(job)
            if uses(s, "pypa/gh-action-pypi-publish") or re.search(r"\b(npm publish|gh release)\b", s.get("run", "")) or uses(s, "softprops/action-gh-release")}


def jobs_run_on(wf: dict, event: str) -> set:
    """The jobs that run for `event`: a job whose `if` is false, or that needs one that did not
    run, does not (no job here uses always() or a status function)."""
    conditions = {None: True, "github.event_name == 'push'": event == "push", "github.event_name == 'workflow_dispatch'": event == "workflow_dispatch"}
    state = {}
    def runs(j):
        if j not in state:
            job = wf["jobs"][j]
            needs = job.get("needs", [])
            needs = [needs] if isinstance(needs, str) else needs
            cond = job.get("if")
            if cond not in conditions:
                raise AssertionError(f"job {j}: condition {cond!r} not understood by this check")
            state[j] = conditions[cond] and all(runs(n) for n in needs)
        return state[j]
    return {j for j in wf["jobs"] if runs(j)}


def dry_run_problems(release: dict) -> list:
    out = []
    if "workflow_dispatch" not in release["on"] or release["on"].get("push", {}).get("tags") != ["v*"]:
        out.append("release: triggers must be a v* tag push and workflow_dispatch")
    pub = publishers(release)
    if pub != {"pypi", "npm", "github-release"}:
        out.append(f"release: the publishing jobs are {sorted(pub)}")
    on_dispatch, on_tag = jobs_run_on(release, "workflow_dispatch"), jobs_run_on(release, "push")
    if pub & on_dispatch:
        out.append(f"release: the dry run would publish: {sorted(pub & on_dispatch)}")
    if not pub <= on_tag:
        out.append(f"release: a tag would not publish: {sorted(pub - on_tag)}")
    if "sign" in on_dispatch or "sign-dry-run" in on_tag:
        out.append("release: the real key signs tags only; the dry run signs with a throwaway key")
    for j in ("wheels", "sdist", "npm-package", "sign-dry-run"):
        if j not in on_dispatch:
            out.append(f"release: the dry run must run {j}")
    return out


# --- the static checks on the real workflows -----------------------------------------------------


@pytest.fixture(scope="module")
def release():
    return load(RELEASE)


@pytest.fixture(scope="module")
def pages():
    return load(PAGES)


@pytest.fixture(scope="module")
def wasm():
    return load(WASM)


def test_only_the_publish_jobs_can_mint_an_oidc_token(release, pages):
    assert permission_problems(release, pages) == []


def test_the_pypi_job_uploads_no_signatures(release):
    assert pypi_problems(release) == []
    # …and the signatures do reach the GitHub release.
    got = [u for s in steps(release["jobs"]["github-release"]) if uses(s, "actions/download-artifact") for u in downloaded(release, s)]
    assert {"signatures", "npm-package", "wheels-sdist", "wheels-linux-x86_64-manylinux"} <= {u[1] for u in got}


def test_the_wheels_matrix_covers_every_platform(release):
    assert wheel_problems(release) == []


def test_the_pages_workflow_deploys_www(pages, wasm):
    assert pages_problems(pages, wasm) == []


def test_the_wasm_build_is_the_one_scripts_test_sh_runs(wasm):
    test_sh = next(line.strip() for line in (REPO / "scripts" / "test.sh").read_text().splitlines() if line.startswith("wasm-pack --quiet build"))
    script = "\n".join(s.get("run", "") for s in steps(wasm["jobs"]["www-pkg"]))
    assert test_sh in [line.strip() for line in script.splitlines()], test_sh
    assert 'cargo install --locked wasm-bindgen-cli --version "=$locked"' in script
    target = next(s for s in steps(wasm["jobs"]["www-pkg"]) if uses(s, "dtolnay/rust-toolchain"))["with"]
    assert target["targets"] == "wasm32-unknown-unknown"


@pytest.mark.parametrize("path", own_workflows(), ids=lambda p: p.name)
def test_every_checkout_keeps_no_credentials(path):
    assert checkout_problems(path, load(path)) == []


@pytest.mark.parametrize("path", own_workflows(), ids=lambda p: p.name)
def test_no_expression_inside_a_script(path):
    assert expression_in_script_problems(path, load(path)) == []


@pytest.mark.parametrize("path", own_workflows(), ids=lambda p: p.name)
def test_secrets_only_in_jobs_behind_an_environment(path):
    assert secret_problems(path, load(path)) == []


def test_the_dry_run_publishes_nothing(release):
    assert dry_run_problems(release) == []


def test_each_action_is_pinned_to_one_commit_everywhere():
    """Where the repository already pins an action, a new workflow reuses that commit."""
    files = own_workflows() + sorted((REPO / "static-site-template" / ".github" / "workflows").glob("*.yml")) + [REPO / "action.yml"]
    pins = {}
    for f in files:
        for m in re.finditer(r"uses:\s*([\w.-]+/[\w./-]+)@([0-9a-f]{40})\s+# (v[\d.]+)", f.read_text()):
            pins.setdefault(m.group(1), set()).add((m.group(2), m.group(3)))
    assert pins, "no pinned action found"
    assert {a: p for a, p in pins.items() if len(p) > 1} == {}


def test_publishing_md_names_every_secret_variable_and_environment(release, pages):
    text = PUBLISHING.read_text()
    names = set()
    for wf in (release, pages):
        blob = json.dumps(wf)
        names |= set(re.findall(r"secrets\.(\w+)", blob)) | set(re.findall(r"vars\.(\w+)", blob))
        for job in wf["jobs"].values():
            env = job.get("environment")
            if env:
                names.add(env["name"] if isinstance(env, dict) else env)
    assert {"WHEELSIG_RELEASE_KEY", "WHEELSIG_KEY_PASSPHRASE", "NPM_TOKEN", "WHEELSIG_KEY_URL", "release-signing", "pypi", "npm", "github-pages"} <= names
    assert [n for n in sorted(names) if f"`{n}`" not in text] == []
    assert "release.yml" in text and "none of this has run" in text.lower()


# --- each check fails on a workflow broken the way it guards against -------------------------


def mutate(wf, fn):
    wf = copy.deepcopy(wf)
    fn(wf)
    return wf


def add_checkout(wf, persist):
    wf["jobs"]["check"]["steps"][0]["with"]["persist-credentials"] = persist


BROKEN = {
    "the sign job can mint an OIDC token": (lambda wf: wf["jobs"]["sign"].__setitem__("permissions", {"id-token": "write"}), "permissions"),
    "a top-level permission": (lambda wf: wf.__setitem__("permissions", {"contents": "write"}), "permissions"),
    "the PyPI job downloads every artifact": (lambda wf: wf["jobs"]["pypi"]["steps"][0]["with"].__setitem__("pattern", "*"), "pypi"),
    "the PyPI job downloads the signatures": (lambda wf: wf["jobs"]["pypi"]["steps"].insert(1, {"uses": "actions/download-artifact@x", "with": {"name": "signatures", "path": "dist"}}), "pypi"),
    "no Windows wheel": (lambda wf: wf["jobs"]["wheels"]["strategy"]["matrix"].__setitem__("include", [e for e in wf["jobs"]["wheels"]["strategy"]["matrix"]["include"] if "windows" not in e["target"]]), "wheels"),
    "musl wheels built as manylinux": (lambda wf: [e.__setitem__("manylinux", "auto") for e in wf["jobs"]["wheels"]["strategy"]["matrix"]["include"] if "musl" in e["target"]], "wheels"),
    "no sdist": (lambda wf: wf.__setitem__("jobs", {j: v for j, v in wf["jobs"].items() if j != "sdist"}), "wheels"),
    "a checkout keeps its token": (lambda wf: add_checkout(wf, True), "checkout"),
    "an expression inside a script": (lambda wf: wf["jobs"]["check"]["steps"][1].__setitem__("run", 'echo "${{ github.ref_name }}"'), "expression"),
    "a secret outside an environment": (lambda wf: wf["jobs"]["npm"].pop("environment"), "secret"),
    "the dry run publishes to PyPI": (lambda wf: wf["jobs"]["pypi"].pop("if") and wf["jobs"]["pypi"].__setitem__("needs", ["check", "sign-dry-run"]), "dry-run"),
}


def run_check(kind, release, pages):
    return {
        "permissions": lambda: permission_problems(release, pages),
        "pypi": lambda: pypi_problems(release),
        "wheels": lambda: wheel_problems(release),
        "checkout": lambda: checkout_problems(RELEASE, release),
        "expression": lambda: expression_in_script_problems(RELEASE, release),
        "secret": lambda: secret_problems(RELEASE, release),
        "dry-run": lambda: dry_run_problems(release),
    }[kind]()


@pytest.mark.parametrize("case", BROKEN, ids=str)
def test_each_check_fails_on_a_broken_release_workflow(case, release, pages):
    fn, kind = BROKEN[case]
    assert run_check(kind, release, pages) == []
    assert run_check(kind, mutate(release, fn), pages), f"{case}: not reported"


@pytest.mark.parametrize("case", ["artifact path", "no wasm download", "deploys from a branch"])
def test_the_pages_check_fails_on_a_broken_pages_workflow(case, pages, wasm):
    def fn(wf):
        build = wf["jobs"]["build"]["steps"]
        if case == "artifact path":
            build[-1]["with"]["path"] = "_site"
        elif case == "no wasm download":
            del build[1]
        else:
            wf["on"]["push"]["branches"] = ["gh-pages"]
    assert pages_problems(mutate(pages, fn), wasm)


# --- the scripts, run as the runner runs them ----------------------------------------------------


class Job:
    """Runs a job's `run:` steps: bash -eo pipefail, its env: evaluated from `context`
    (dotted names such as needs.check.outputs.version, secrets.X, vars.X, matrix.X) and earlier
    steps' outputs, GITHUB_OUTPUT collected, in a workspace of our own."""

    def __init__(self, wf: dict, job_id: str, tmp_path: Path, context: dict, workspace: Path = None):
        self.job = wf["jobs"][job_id]
        self.temp = tmp_path / f"runner-temp-{job_id}"
        self.temp.mkdir()
        self.workspace = workspace or tmp_path / "workspace"
        self.workspace.mkdir(exist_ok=True)
        self.context = context
        self.outputs = {}
        self.logs = []
        # `python` on PATH, as setup-python leaves it.
        self.bin = tmp_path / "bin"
        self.bin.mkdir(exist_ok=True)
        if not (self.bin / "python").exists():
            (self.bin / "python").symlink_to(sys.executable)

    def value(self, expr: str) -> str:
        expr = expr.strip()
        if expr.startswith("steps."):
            _, step, _, name = expr.split(".")
            return self.outputs.get(step, {}).get(name, "")
        if expr not in self.context:
            raise AssertionError(f"expression not given to this test runner: {expr}")
        return str(self.context[expr])

    def step(self, name):
        return next(s for s in steps(self.job) if name in (s.get("id"), s.get("name")))

    def run(self, name, check=True, script=None):
        s = self.step(name)
        out_file = self.temp / "output"
        out_file.write_text("")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "WHEELSIG", "RUNNER_", "NODE_AUTH"))}
        env.update(PATH=f"{self.bin}{os.pathsep}{env['PATH']}", RUNNER_TEMP=str(self.temp), GITHUB_OUTPUT=str(out_file), GITHUB_WORKSPACE=str(self.workspace),
                   GITHUB_SERVER_URL="https://github.com", GITHUB_REPOSITORY="wheelsig/wheelsig", PIP_NO_INDEX="1")
        env.update({k: re.sub(r"\$\{\{(.*?)\}\}", lambda m: self.value(m.group(1)), str(v)) for k, v in s.get("env", {}).items()})
        p = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script or s["run"]], cwd=self.workspace, capture_output=True, text=True, timeout=300, env=env)
        self.logs.append(p.stdout + p.stderr)
        if check:
            assert p.returncode == 0, f"step {name!r} (exit {p.returncode}):\n{p.stdout}\n{p.stderr}"
        if s.get("id"):
            self.outputs[s["id"]] = dict(line.split("=", 1) for line in out_file.read_text().splitlines() if "=" in line)
        return p


VERSION_FILES = ["scripts/npm-pack.mjs", "crate/Cargo.toml", "Cargo.lock", "packages/wheel-verify/package.json", "packages/wheel-verify/custom-elements.json", "www/wheel-verify.js", "action.yml"]


@pytest.fixture
def version_tree(tmp_path):
    """The files the version check reads, in a tree of their own (npm-pack.mjs finds the repo
    from its own path)."""
    root = tmp_path / "tree"
    for f in VERSION_FILES:
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / f, root / f)
    return root


@pytest.mark.parametrize("event, ref, ok", [("workflow_dispatch", "main", True), ("push", "v{version}", True), ("push", "v9.9.9", False), ("push", "{version}", False)])
def test_the_version_check(release, tmp_path, version_tree, event, ref, ok):
    version = crate_version()
    job = Job(release, "check", tmp_path, {"github.event_name": event, "github.ref_type": "tag" if event == "push" else "branch", "github.ref_name": ref.format(version=version)}, workspace=version_tree)
    p = job.run("version", check=False)
    assert (p.returncode == 0) == ok, p.stdout + p.stderr
    if ok:
        assert job.outputs["version"] == {"version": version}
    else:
        assert f"tag v{version}" in p.stdout


@pytest.mark.parametrize("file", ["packages/wheel-verify/package.json", "www/wheel-verify.js", "action.yml", "packages/wheel-verify/custom-elements.json", "Cargo.lock"])
def test_the_version_check_refuses_a_forgotten_bump(release, tmp_path, version_tree, file):
    version = crate_version()
    path = version_tree / file
    text = path.read_text()
    if file == "Cargo.lock":
        bumped = text.replace(f'name = "wheelsig"\nversion = "{version}"', 'name = "wheelsig"\nversion = "9.9.9"')
    else:
        bumped = text.replace(f'"{version}"', '"9.9.9"').replace(f"'{version}'", "'9.9.9'")
    assert bumped != text
    path.write_text(bumped)
    job = Job(release, "check", tmp_path, {"github.event_name": "workflow_dispatch", "github.ref_type": "branch", "github.ref_name": "main"}, workspace=version_tree)
    p = job.run("version", check=False)
    assert p.returncode != 0 and "the versions disagree" in p.stdout and "9.9.9" in p.stderr, p.stdout + p.stderr


def test_the_wasm_bindgen_pin_is_read_as_the_crate_pins_it(wasm, tmp_path):
    script = next(s for s in steps(wasm["jobs"]["www-pkg"]) if "wasm-bindgen-cli" in s.get("run", ""))["run"]
    lookup = "\n".join(line for line in script.splitlines() if line.startswith(("pinned=", "locked=")))
    assert lookup.count("\n") == 1
    p = subprocess.run(["bash", "-eo", "pipefail", "-c", lookup + '\necho "$pinned $locked"'], cwd=REPO, capture_output=True, text=True, timeout=30)
    pin = re.search(r'^wasm-bindgen = \{ version = "=([^"]+)"', (REPO / "crate" / "Cargo.toml").read_text(), re.M).group(1)
    assert p.stdout.split() == [pin, pin], p.stdout + p.stderr


def cli_wheel():
    wheel = os.environ.get("WHEELSIG_WHEEL")
    if wheel:
        return Path(wheel)
    found = sorted((REPO / "target" / "wheels").glob(f"wheelsig-{crate_version()}-*.whl"))
    return found[0] if found else None


needs_wheel = pytest.mark.skipif(cli_wheel() is None, reason="needs the CLI's wheel: scripts/test.sh builds it (WHEELSIG_WHEEL) before the interop tests")


@pytest.fixture
def dist(tmp_path):
    """dist/ as the sign job downloads it: the CLI's wheel (the only one this machine can
    build) and an sdist."""
    d = tmp_path / "workspace" / "dist"
    d.mkdir(parents=True)
    shutil.copy(cli_wheel(), d)
    (d / f"wheelsig-{crate_version()}.tar.gz").write_bytes(b"sdist")
    return d


@pytest.fixture
def keys(tmp_path):
    """A release key made as docs/PUBLISHING.md says (wheelsig keygen), and its keys.json."""
    wheelsig = Path(os.environ.get("WHEELSIG", REPO / "target" / "debug" / "wheelsig"))
    assert wheelsig.exists(), f"{wheelsig} missing"
    k = tmp_path / "maintainer"
    k.mkdir()
    subprocess.run([wheelsig, "keygen", "--out", k / "release.jwk"], check=True, capture_output=True, timeout=60)
    jwks = subprocess.run([wheelsig, "jwks", k / "release.jwk", "--projects", "wheelsig"], check=True, capture_output=True, text=True, timeout=60).stdout
    return (k / "release.jwk").read_text(), jwks


def sign_context(version, private_key, key_url):
    return {"needs.check.outputs.version": version, "secrets.WHEELSIG_RELEASE_KEY": private_key, "secrets.WHEELSIG_KEY_PASSPHRASE": "", "vars.WHEELSIG_KEY_URL": key_url}


@needs_wheel
def test_the_sign_job_signs_with_the_built_wheel_and_verifies(release, tmp_path, dist, keys):
    private, jwks = keys
    job = Job(release, "sign", tmp_path, sign_context(crate_version(), private, "https://keys.example/wheelsig/keys.json"))
    job.run("install")
    assert Path(job.outputs["install"]["wheelsig"]).is_relative_to(job.temp)
    # The fetch step's curl, replaced by the file it would fetch.
    (job.temp / "keys.json").write_text(jwks)
    job.run("Sign every wheel (dist/<wheel>.jws), the key from the secret, never on disk")
    job.run("Verify every signature against the project's keys.json")
    wheel = next(dist.glob("*.whl"))
    assert (dist / f"{wheel.name}.jws").is_file() and not (dist / f"wheelsig-{crate_version()}.tar.gz.jws").exists()
    d = json.loads(private)["d"]
    assert all(d not in log for log in job.logs)
    assert [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_symlink() and p.parent.name != "maintainer" and d.encode() in p.read_bytes()] == []


@needs_wheel
def test_the_sign_job_fails_when_keys_json_does_not_list_the_key(release, tmp_path, dist, keys):
    private, _ = keys
    job = Job(release, "sign", tmp_path, sign_context(crate_version(), private, "https://keys.example/wheelsig/keys.json"))
    job.run("install")
    (job.temp / "keys.json").write_text('{"keys": []}')
    job.run("Sign every wheel (dist/<wheel>.jws), the key from the secret, never on disk")
    assert job.run("Verify every signature against the project's keys.json", check=False).returncode != 0


@pytest.mark.parametrize("key_url", ["", "http://keys.example/keys.json", "https://keys.example/"])
def test_the_sign_job_refuses_a_missing_or_wrong_key_url(release, tmp_path, key_url):
    job = Job(release, "sign", tmp_path, sign_context("0", "", key_url))
    p = job.run("Fetch the project's keys.json from its key site", check=False)
    assert p.returncode != 0 and "WHEELSIG_KEY_URL" in p.stdout


def test_the_sign_job_refuses_an_empty_secret(release, tmp_path):
    job = Job(release, "sign", tmp_path, sign_context("0", "", "https://keys.example/keys.json"))
    p = job.run("Sign every wheel (dist/<wheel>.jws), the key from the secret, never on disk", check=False)
    assert p.returncode != 0 and "WHEELSIG_RELEASE_KEY" in p.stdout


@needs_wheel
def test_the_dry_run_signs_with_a_throwaway_key(release, tmp_path, dist):
    job = Job(release, "sign-dry-run", tmp_path, {"needs.check.outputs.version": crate_version()})
    job.run("Install the wheelsig just built, sign with a throwaway key, verify")
    assert len(list(dist.glob("*.whl.jws"))) == 1
    assert not (job.temp / "dry-run.jwk").exists()


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


@needs_wheel
@pytest.mark.parametrize("publish", [True, False])
def test_the_key_site_gate(release, tmp_path, dist, keys, served, publish):
    """Passes once the key site lists the key and serves releases/wheelsig/<wheel>.jws; fails
    (here after its deadline, shortened) while it does not."""
    private, jwks = keys
    root, url = served
    (root / "keys.json").write_text(jwks)
    sign = Job(release, "sign", tmp_path, sign_context(crate_version(), private, f"{url}keys.json"))
    sign.run("install")
    (sign.temp / "keys.json").write_text(jwks)
    sign.run("Sign every wheel (dist/<wheel>.jws), the key from the secret, never on disk")
    if publish:
        (root / "releases" / "wheelsig").mkdir(parents=True)
        for jws in dist.glob("*.jws"):
            shutil.copy(jws, root / "releases" / "wheelsig" / jws.name)
    for jws in dist.glob("*.jws"):  # what the key-site job downloads: the wheels only
        jws.unlink()
    gate = Job(release, "key-site", tmp_path, {"needs.check.outputs.version": crate_version(), "vars.WHEELSIG_KEY_URL": f"{url}keys.json"})
    script = gate.step("Poll the key site (60 minutes at most)")["run"]
    assert "SECONDS + 3600" in script and "sleep 30" in script
    p = gate.run("Poll the key site (60 minutes at most)", check=False, script=script.replace("SECONDS + 3600", "SECONDS + 1").replace("sleep 30", "sleep 1"))
    assert (p.returncode == 0) == publish, p.stdout + p.stderr
    if not publish:
        assert "nothing was published" in p.stdout


@pytest.mark.parametrize("extra, ok", [(None, True), ("{wheel}.jws", False), ("wheelsig-0.0.1-py3-none-any.whl", False)])
def test_the_pypi_job_uploads_only_this_versions_wheels_and_sdist(release, tmp_path, extra, ok):
    version = crate_version()
    d = tmp_path / "workspace" / "dist"
    d.mkdir(parents=True)
    wheel = f"wheelsig-{version}-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    for name in (wheel, f"wheelsig-{version}.tar.gz") + ((extra.format(wheel=wheel),) if extra else ()):
        (d / name).write_bytes(b"x")
    job = Job(release, "pypi", tmp_path, {"needs.check.outputs.version": version})
    assert (job.run("Only this version's wheels and sdist", check=False).returncode == 0) == ok


@pytest.mark.parametrize("entry", [0, 2, 4, 6])
@pytest.mark.parametrize("right", [True, False])
def test_the_wheels_job_checks_its_wheel_is_for_its_platform(release, tmp_path, entry, right):
    version = crate_version()
    include = release["jobs"]["wheels"]["strategy"]["matrix"]["include"]
    tags = {"linux-x86_64-manylinux": "manylinux_2_17_x86_64.manylinux2014_x86_64", "linux-aarch64-manylinux": "manylinux_2_17_aarch64.manylinux2014_aarch64",
            "linux-x86_64-musllinux": "musllinux_1_2_x86_64", "linux-aarch64-musllinux": "musllinux_1_2_aarch64",
            "macos-x86_64": "macosx_10_12_x86_64", "macos-arm64": "macosx_11_0_arm64", "windows-x86_64": "win_amd64"}
    assert set(tags) == {e["platform"] for e in include}
    e = include[entry]
    tag = tags[e["platform"]] if right else tags[include[(entry + 1) % len(include)]["platform"]]
    d = tmp_path / "workspace" / "dist"
    d.mkdir(parents=True)
    (d / f"wheelsig-{version}-py3-none-{tag}.whl").write_bytes(b"x")
    job = Job(release, "wheels", tmp_path, {"matrix.wheel": e["wheel"], "needs.check.outputs.version": version})
    assert (job.run("One wheel, for this platform and this version", check=False).returncode == 0) == right
