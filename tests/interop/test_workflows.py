"""Every GitHub Actions workflow and action in the repository passes zizmor (no finding at medium
severity or above) and actionlint (no error), and pins each action to a commit. Workflows are
those under .github/workflows/ and the example workflows for publishers under docs/examples/.
The negative cases prove both linters really run: an unpinned action and a syntax error must be
reported.

The tools come from scripts/setup.sh: zizmor in .venv (tests/requirements.txt), actionlint in
.tools/actionlint (upstream actionlint compiled to WebAssembly, run by Node)."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

ZIZMOR = Path(os.environ.get("ZIZMOR", Path(sys.executable).parent / "zizmor"))
ACTIONLINT = Path(os.environ.get("ACTIONLINT", REPO / ".tools" / "actionlint" / "node_modules" / "@tktco" / "node-actionlint" / "bin" / "node-actionlint.js"))
TEMPLATE_WORKFLOW = REPO / "static-site-template" / ".github" / "workflows" / "pages.yml"
EXAMPLES = REPO / "docs" / "examples"
RELEASE_EXAMPLE = EXAMPLES / "release.yml"
ROOT_ACTION = REPO / "action.yml"


def repo_files():
    """Tracked files plus untracked ones that are not ignored (so a new workflow counts too)."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, check=True, timeout=60).stdout
    return sorted({REPO / p for p in out.decode().split("\0") if p and (REPO / p).is_file()})


def is_workflow(p: Path) -> bool:
    """A workflow where GitHub runs one, or an example workflow in docs/examples/ (documentation a
    publisher copies into .github/workflows/, so it must pass the same checks)."""
    if p.suffix not in (".yml", ".yaml"):
        return False
    return (p.parent.name == "workflows" and p.parent.parent.name == ".github") or EXAMPLES in p.parents


def is_action(p: Path) -> bool:
    return p.name in ("action.yml", "action.yaml")


FILES = repo_files()
WORKFLOWS = [p for p in FILES if is_workflow(p)]
ACTIONS = [p for p in FILES if is_action(p)]


def rel(p: Path) -> str:
    return str(p.relative_to(REPO))


def zizmor(*paths):
    assert ZIZMOR.exists(), f"{ZIZMOR} missing: run scripts/setup.sh (npm test does)"
    # --offline: no GitHub API even where a token is set; the audits below need none.
    return subprocess.run([str(ZIZMOR), "--offline", "--min-severity", "medium", "--format", "plain", "--color", "never", *map(str, paths)],
                          capture_output=True, text=True, timeout=120)


def actionlint(path: Path):
    """actionlint over one workflow: (ok, output). The wasm build lints what it is given; its CLI
    takes a glob and passes on no match, so the file count it prints is checked too."""
    assert ACTIONLINT.exists(), f"{ACTIONLINT} missing: run scripts/setup.sh (npm test does)"
    p = subprocess.run(["node", str(ACTIONLINT), str(path)], capture_output=True, text=True, timeout=120)
    out = p.stdout + p.stderr
    assert "Checking 1 workflow file(s)" in out, f"actionlint did not read {path}:\n{out}"
    return p.returncode == 0, out


def test_the_workflows_are_found():
    assert TEMPLATE_WORKFLOW in WORKFLOWS, WORKFLOWS
    assert RELEASE_EXAMPLE in WORKFLOWS, WORKFLOWS
    assert ROOT_ACTION in ACTIONS, ACTIONS


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=rel)
def test_zizmor_finds_nothing_at_medium_or_above(path):
    p = zizmor(path)
    assert p.returncode == 0, f"zizmor on {rel(path)} (exit {p.returncode}):\n{p.stdout}\n{p.stderr}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=rel)
def test_actionlint_reports_no_error(path):
    # actionlint checks workflows only; zizmor above covers action.yml files.
    ok, out = actionlint(path)
    assert ok, f"actionlint on {rel(path)}:\n{out}"


USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$")


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=rel)
def test_every_action_is_pinned_to_a_commit_with_its_version(path):
    """`uses: owner/repo@<40 hex> # vX.Y.Z`: zizmor checks the hash; the comment says which release."""
    bad = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        m = USES.match(line)
        if not m or m.group(1).startswith(("./", "docker://")):
            continue
        if not re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", m.group(1)) or not re.fullmatch(r"\s+# v\d+(\.\d+)*", m.group(2)):
            bad.append(f"{rel(path)}:{n}: {line.strip()}")
    assert not bad, "\n".join(bad)


def copy_workflow(tmp_path: Path, text: str) -> Path:
    """A workflow where zizmor and actionlint look for one, in a tree with no zizmor config."""
    out = tmp_path / ".github" / "workflows" / "pages.yml"
    out.parent.mkdir(parents=True)
    out.write_text(text)
    return out


def test_zizmor_reports_an_unpinned_action(tmp_path):
    text = TEMPLATE_WORKFLOW.read_text()
    unpinned, n = re.subn(r"actions/checkout@[0-9a-f]{40}( # v[\d.]+)?", "actions/checkout@v4", text, count=1)
    assert n == 1
    p = zizmor(copy_workflow(tmp_path, unpinned))
    assert p.returncode != 0 and "unpinned-uses" in p.stdout, f"exit {p.returncode}:\n{p.stdout}\n{p.stderr}"
    # The same copy, pinned again, passes: the finding was the unpinned action.
    shutil.rmtree(tmp_path / ".github")
    assert zizmor(copy_workflow(tmp_path, text)).returncode == 0


def test_zizmor_reports_persisted_credentials(tmp_path):
    text = TEMPLATE_WORKFLOW.read_text()
    # The build job's checkout at its default (credentials kept in the checkout), without the
    # line that turns it off. (The cosign job says `persist-credentials: true` outright: it
    # pushes, and uploads no artifact.)
    persisted, n = re.subn(r"\n(?: +#.*\n)? +persist-credentials: false(?=\n)", "", text)
    assert n == 1 and "persist-credentials: false" not in persisted
    p = zizmor(copy_workflow(tmp_path, persisted))
    assert p.returncode != 0 and "artipacked" in p.stdout, f"exit {p.returncode}:\n{p.stdout}\n{p.stderr}"


def test_actionlint_reports_a_syntax_error(tmp_path):
    text = TEMPLATE_WORKFLOW.read_text()
    broken, n = re.subn(r"^(    )runs-on:", r"\1run-on:", text, count=1, flags=re.M)
    assert n == 1
    ok, out = actionlint(copy_workflow(tmp_path, broken))
    assert not ok and 'unexpected key "run-on"' in out and "syntax-check" in out, out


def test_zizmor_audits_an_example_workflow_outside_github_workflows(tmp_path):
    """docs/examples/ files are linted where they are: zizmor must audit such a file as a
    workflow (an input expanded inside a script is reported), not skip it."""
    text = RELEASE_EXAMPLE.read_text()
    injected, n = re.subn(r"( +)- name: Build the sdist and the wheel\n", r'\1- run: echo "${{ github.event.release.name }}"\n\g<0>', text, count=1)
    assert n == 1
    out = tmp_path / "docs" / "examples" / "release.yml"
    out.parent.mkdir(parents=True)
    out.write_text(injected)
    p = zizmor(out)
    assert p.returncode != 0 and "template-injection" in p.stdout, f"exit {p.returncode}:\n{p.stdout}\n{p.stderr}"
    ok, output = actionlint(out)
    assert ok, output  # actionlint reads it too (the injection is zizmor's finding, not a syntax error)
    out.write_text(text)
    assert zizmor(out).returncode == 0


def test_zizmor_reports_an_input_expanded_in_the_actions_script(tmp_path):
    """The root action passes every input through `env:`; one `${{ inputs.… }}` inside a `run:`
    script is reported, so the audit of action.yml is real."""
    text = ROOT_ACTION.read_text()
    injected, n = re.subn(r'(\n +run: \|\n)( +)(if \[ -z "\$WHEELSIG_SIGNING_KEY" \])', r'\1\2echo "${{ inputs.wheels }}"\n\2\3', text, count=1)
    assert n == 1
    out = tmp_path / "action.yml"
    out.write_text(injected)
    p = zizmor(out)
    assert p.returncode != 0 and "template-injection" in p.stdout, f"exit {p.returncode}:\n{p.stdout}\n{p.stderr}"
