"""Real wheels from PyPI, built by many different tools, must verify as intact (`unsigned`):
a strict verifier that rejects real wheels is useless. Downloaded once into target/."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO

# Pinned: pure-Python (setuptools, flit, hatch), maturin (Rust), meson/scikit-build (C),
# bazel-built protobuf (ZIP64 extras repeating agreeing sizes), and a large numpy. Between
# them their file names carry a compressed python tag (six: py2.py3), several platform tags
# (auditwheel-repaired manylinux wheels, up to three), and abi3, all of which must equal the
# Tag lines of their WHEEL files (docs/STRICTNESS.md rule 9).
REAL = ["six==1.17.0", "requests==2.34.2", "packaging==26.3", "orjson==3.13.0",
        "pydantic-core==2.50.5", "markupsafe==3.0.4", "protobuf==7.36.2", "numpy==2.4.6",
        "charset-normalizer==3.5.3", "urllib3==2.8.0", "idna==3.20", "rich==15.0.0",
        "pdm-backend==2.5.0", "cryptography==50.0.2"]
# The build backends those wheels come from (WHEEL's Generator), each of which must be seen.
BACKENDS = ["setuptools", "flit", "hatchling", "poetry-core", "pdm-backend", "maturin", "meson",
            "bazel-wheelmaker"]
CACHE = REPO / "target" / "real-wheels"


@pytest.fixture(scope="module")
def real_wheels():
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


def test_real_wheels_are_intact(real_wheels, wheelsig):
    for whl in real_wheels:
        code, report = wheelsig.report(whl)
        assert (code, report["verdict"]) == (0, "unsigned"), f"{whl.name}: {report['problems']}"
        assert report["files_checked"] > 0


def wheel_file(whl: Path) -> str:
    with zipfile.ZipFile(whl) as z:
        name = next(n for n in z.namelist() if n.count("/") == 1 and n.endswith(".dist-info/WHEEL"))
        return z.read(name).decode()


def test_every_build_backend_is_covered(real_wheels):
    generators = [line.split(":", 1)[1].strip() for w in real_wheels for line in wheel_file(w).splitlines()
                  if line.startswith("Generator:")]
    for backend in BACKENDS:
        assert any(g.startswith(backend) for g in generators), f"no {backend} wheel among {generators}"
    tags = " ".join(w.name for w in real_wheels)
    assert "py2.py3-none-any" in tags and "abi3" in tags
    assert any(w.name.count("manylinux") >= 3 for w in real_wheels), "a wheel with three platform tags"


def test_a_renamed_real_wheel_is_caught(real_wheels, wheelsig, tmp_path):
    """requests' pure wheel under a CPython 3.12 manylinux name with build tag 7: name and
    version still match its .dist-info, the tags do not match its WHEEL."""
    src = next(w for w in real_wheels if w.name.startswith("requests-"))
    version = src.name.split("-")[1]
    renamed = tmp_path / f"requests-{version}-7-cp312-cp312-manylinux_2_17_x86_64.whl"
    shutil.copy(src, renamed)
    code, report = wheelsig.report(renamed)
    assert (code, report["verdict"]) == (1, "invalid")
    mismatches = [p for p in report["problems"] if p["code"] == "wheel-tag-mismatch"]
    assert [p["path"] for p in mismatches] == [f"requests-{version}.dist-info/WHEEL"] * 2, report["problems"]
    assert {p["code"] for p in report["problems"]} == {"wheel-tag-mismatch"}


def test_a_flipped_byte_in_a_real_wheel_is_caught(real_wheels, wheelsig, tmp_path):
    src = next(w for w in real_wheels if w.name.startswith("requests-"))
    data = bytearray(src.read_bytes())
    data[len(data) // 3] ^= 0x40  # inside some member's compressed data
    bad = tmp_path / src.name
    bad.write_bytes(bytes(data))
    code, report = wheelsig.report(bad)
    assert (code, report["verdict"]) == (1, "invalid")
    assert report["problems"], "a flipped byte must produce a problem"
