"""Write a synthetic dependency set: N wheels of mixed sizes, like a `pip download` folder.

Usage: make_wheel_set.py OUT_DIR [N]   (default 200)
Sizes follow a long tail, as real dependency sets do: most wheels are small (tens of KB), a
few are several MB. Content is a deterministic mix of compressible text and random bytes.
Prints the total compressed size in bytes.
"""
import base64
import hashlib
import random
import sys
import zipfile
from pathlib import Path


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def wheel(out: Path, index: int, rng: random.Random) -> Path:
    name, version = f"dep{index:03d}", f"{1 + index % 7}.{index % 13}.0"
    # Long tail: most under a few hundred KB, a few up to 12 MB of content.
    size = int(min(12 << 20, 150_000 * rng.paretovariate(0.9)))
    files, left, n = {}, size, 0
    while left > 0 or n == 0:
        chunk = min(left, rng.choice([2_000, 20_000, 200_000, 1 << 20])) if left > 0 else 0
        text = (f"def f{n}(x):\n    return x * {n}\n" * (chunk // 60 + 1)).encode()[: chunk // 2]
        files[f"{name}/m{n}.py" if n % 3 else f"{name}/data{n}.bin"] = text + rng.randbytes(chunk - len(text))
        left -= chunk
        n += 1
    dist_info = f"{name}-{version}.dist-info"
    files[f"{dist_info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    files[f"{dist_info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: wheelsig-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = "".join(f"{p},sha256={b64(hashlib.sha256(b).digest())},{len(b)}\n" for p, b in files.items()) + f"{dist_info}/RECORD,,\n"
    path = out / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for p, b in files.items():
            z.writestr(p, b)
        z.writestr(f"{dist_info}/RECORD", record)
    return path


if __name__ == "__main__":
    out = Path(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20261125)
    print(sum(wheel(out, i, rng).stat().st_size for i in range(count)))
