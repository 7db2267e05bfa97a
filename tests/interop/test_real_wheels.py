"""Real wheels from PyPI, built by many different tools, must verify as intact (`unsigned`):
a strict verifier that rejects real wheels is useless. Downloaded once into target/ (the
`real_wheels` fixture and the pinned `REAL` list are in conftest.py, shared with
test_index_log_real.py)."""
import shutil
import zipfile
from pathlib import Path

# The build backends those wheels come from (WHEEL's Generator), each of which must be seen.
BACKENDS = ["setuptools", "flit", "hatchling", "poetry-core", "pdm-backend", "maturin", "meson",
            "bazel-wheelmaker"]


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
