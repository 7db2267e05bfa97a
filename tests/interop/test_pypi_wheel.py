"""The CLI as users get it from PyPI: the maturin binary wheel that scripts/test.sh builds and
pip-installs into a fresh venv (WHEELSIG_WHEEL names the wheel, WHEELSIG the installed binary).
The rest of tests/interop runs against that installed binary; this file checks the package."""
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from conftest import REPO

WHEEL = os.environ.get("WHEELSIG_WHEEL")
pytestmark = pytest.mark.skipif(not WHEEL, reason="run by scripts/test.sh after it builds the wheel (WHEELSIG_WHEEL)")


def crate_version():
    return tomllib.loads((REPO / "crate" / "Cargo.toml").read_text())["package"]["version"]


def test_the_installed_binary_is_the_wheels(wheelsig):
    binary = Path(os.environ["WHEELSIG"]).resolve()
    assert "site-packages" not in str(binary) and binary.parent.name == "bin", binary
    assert (binary.parent / "python").exists() or (binary.parent / "python3").exists(), "inside a venv"
    p = wheelsig.run("--version")
    assert p.returncode == 0 and p.stdout.strip() == f"wheelsig {crate_version()}", p.stdout
    # pip knows it as the `wheelsig` distribution, with the file it installed.
    py = binary.parent / "python"
    show = subprocess.run([str(py), "-m", "pip", "show", "-f", "wheelsig"], capture_output=True, text=True, timeout=60)
    assert show.returncode == 0 and f"Version: {crate_version()}" in show.stdout and "bin/wheelsig" in show.stdout, show.stdout


def test_the_wheel_passes_wheelsig_strictly_and_twine_check(wheelsig):
    name = Path(WHEEL).name
    assert name.startswith(f"wheelsig-{crate_version()}-py3-none-") and name.endswith(".whl"), name
    code, report = wheelsig.report(WHEEL)
    assert (code, report["verdict"], report["problems"]) == (0, "unsigned", []), report["problems"]
    with zipfile.ZipFile(WHEEL) as z:
        names = z.namelist()
    assert f"wheelsig-{crate_version()}.data/scripts/wheelsig" in names, names
    twine = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", WHEEL], capture_output=True, text=True, timeout=120)
    assert twine.returncode == 0 and "PASSED" in twine.stdout, twine.stdout + twine.stderr


def test_a_signed_copy_of_the_wheel_verifies_with_its_own_binary(wheelsig, tmp_path):
    """Dogfooding: the release workflow signs the project's own wheels with wheelsig."""
    wheelsig.keygen(tmp_path / "release.jwk")
    copy = tmp_path / Path(WHEEL).name
    copy.write_bytes(Path(WHEEL).read_bytes())
    assert wheelsig.run("sign", "--key", tmp_path / "release.jwk", copy).returncode == 0
    (tmp_path / "keys.json").write_text(wheelsig.run("jwks", tmp_path / "release.jwk", "--projects", "wheelsig").stdout)
    code, report = wheelsig.report("--jwks", tmp_path / "keys.json", "--require-trusted", copy)
    assert (code, report["verdict"]) == (0, "trusted"), report["problems"]
