"""Real wheels from PyPI, built by many different tools, must verify as intact (`unsigned`):
a strict verifier that rejects real wheels is useless. Downloaded once into target/."""
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

# Pinned: pure-Python (setuptools, flit, hatch), maturin (Rust), meson/scikit-build (C),
# bazel-built protobuf (ZIP64 extras repeating agreeing sizes), and a large numpy.
REAL = ["six==1.17.0", "requests==2.34.2", "packaging==26.3", "orjson==3.13.0",
        "pydantic-core==2.50.5", "markupsafe==3.0.4", "protobuf==7.36.2", "numpy==2.4.6"]
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


def test_a_flipped_byte_in_a_real_wheel_is_caught(real_wheels, wheelsig, tmp_path):
    src = next(w for w in real_wheels if w.name.startswith("requests-"))
    data = bytearray(src.read_bytes())
    data[len(data) // 3] ^= 0x40  # inside some member's compressed data
    bad = tmp_path / src.name
    bad.write_bytes(bytes(data))
    code, report = wheelsig.report(bad)
    assert (code, report["verdict"]) == (1, "invalid")
    assert report["problems"], "a flipped byte must produce a problem"
