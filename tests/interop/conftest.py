"""Shared fixtures for interop tests: the wheelsig binary, a wheel builder, the venv's tools."""
import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "tests" / "vectors"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def record_hash(data: bytes) -> str:
    return "sha256=" + b64(hashlib.sha256(data).digest())


def build_wheel(directory: Path, name="demo", version="1.0", files=None) -> Path:
    """A small, valid wheel written with Python's zipfile (deflate), like setuptools does."""
    files = dict(files or {f"{name}/__init__.py": b"print('hello from %s')\n" % name.encode()})
    dist_info = f"{name}-{version}.dist-info"
    files[f"{dist_info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    files[f"{dist_info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: interop-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = "".join(f"{p},{record_hash(b)},{len(b)}\n" for p, b in files.items()) + f"{dist_info}/RECORD,,\n"
    path = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for p, b in files.items():
            z.writestr(p, b)
        z.writestr(f"{dist_info}/RECORD", record)
    return path


def rewrite_member(src: Path, dst: Path, member: str, content: bytes) -> None:
    """Copy a wheel, replacing one member's content but keeping RECORD as it was."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = content if info.filename == member else zin.read(info)
            zout.writestr(info, data)


class Wheelsig:
    def __init__(self, binary: Path, env: dict):
        self.binary = binary
        self.env = env

    def run(self, *args, cwd=None):
        return subprocess.run([str(self.binary), *map(str, args)], capture_output=True, text=True, cwd=cwd, env=self.env, timeout=120)

    def report(self, *args):
        """`verify --json`: returns (exit code, the single wheel's report)."""
        p = self.run("verify", "--json", *args)
        assert p.returncode in (0, 1), f"exit {p.returncode}: {p.stderr}"
        wheels = json.loads(p.stdout)["wheels"]
        assert len(wheels) == 1
        return p.returncode, wheels[0]

    def keygen(self, path: Path) -> dict:
        p = self.run("keygen", "--out", path)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)


@pytest.fixture
def wheelsig(tmp_path) -> Wheelsig:
    binary = Path(os.environ.get("WHEELSIG", REPO / "target" / "debug" / "wheelsig"))
    assert binary.exists(), f"{binary} missing: run `cargo build --bin wheelsig` (npm test does)"
    env = dict(os.environ, WHEELSIG_TRUST_STORE=str(tmp_path / "trust.json"))
    return Wheelsig(binary, env)


@pytest.fixture
def python_env(tmp_path) -> dict:
    """Environment for running wheel 0.31.1 unattended: a plaintext keyring in tmp dirs."""
    return dict(
        os.environ,
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
    )


def run_python(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


@pytest.fixture(scope="session")
def witness_cli():
    """The binary under test, once it has shown that it can serve a witness."""
    binary = os.environ.get("WHEELSIG", str(REPO / "target" / "debug" / "wheelsig"))
    p = subprocess.run([binary, "witness", "serve", "--help"], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.fail(f"`{binary} witness serve --help` failed: {p.stderr}")
    return binary


# Pinned: pure-Python (setuptools, flit, hatch), maturin (Rust), meson/scikit-build (C),
# bazel-built protobuf (ZIP64 extras repeating agreeing sizes), and a large numpy. Between
# them their file names carry a compressed python tag (six: py2.py3), several platform tags
# (auditwheel-repaired manylinux wheels, up to three), and abi3, all of which must equal the
# Tag lines of their WHEEL files (docs/STRICTNESS.md rule 9).
REAL = ["six==1.17.0", "requests==2.34.2", "packaging==26.3", "orjson==3.13.0",
        "pydantic-core==2.50.5", "markupsafe==3.0.4", "protobuf==7.36.2", "numpy==2.4.6",
        "charset-normalizer==3.5.3", "urllib3==2.8.0", "idna==3.20", "rich==15.0.0",
        "pdm-backend==2.5.0", "cryptography==50.0.2"]
CACHE = REPO / "target" / "real-wheels"


@pytest.fixture(scope="session")
def real_wheels():
    """The REAL wheels, downloaded from PyPI with pip once into target/real-wheels/."""
    CACHE.mkdir(parents=True, exist_ok=True)
    for spec in REAL:
        name = spec.split("==")[0].replace("-", "_")
        version = spec.split("==")[1]
        if not list(CACHE.glob(f"{name}-{version}-*.whl")):
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                            "--dest", str(CACHE), spec], check=True, timeout=300)
    wheels = sorted(CACHE.glob("*.whl"))
    assert len(wheels) >= len(REAL)
    return wheels


def real_wheel(wheels, project: str) -> Path:
    """The one REAL wheel of `project` (normalized as in wheel file names) among `wheels`."""
    [whl] = [w for w in wheels if w.name.split("-")[0].lower() == project.replace("-", "_").lower()]
    return whl
