"""A small wheel (about 100 KB: a package of text modules) for the first-verdict benchmark.
Usage: python make_small_wheel.py OUT_DIR [KB]. Prints the wheel's path."""
import base64
import hashlib
import random
import sys
import zipfile
from pathlib import Path

NAME, VERSION = "smalldemo", "1.0"


def main() -> None:
    out_dir = Path(sys.argv[1])
    target = int(sys.argv[2]) * 1024 if len(sys.argv) > 2 else 100 * 1024
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20261201)
    path = out_dir / f"{NAME}-{VERSION}-py3-none-any.whl"
    dist_info = f"{NAME}-{VERSION}.dist-info"
    rows = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        i = 0
        while True:
            data = rng.randbytes(1500) + b"\n".join(b"def f%d(x):\n    return x * %d" % (j, rng.randint(0, 99)) for j in range(200))
            name = f"{NAME}/mod{i:03d}.py"
            z.writestr(name, data)
            rows.append(f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}")
            i += 1
            z.fp.flush()
            if z.fp.tell() > target - 4096:
                break
        for meta, data in [("METADATA", f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n".encode()), ("WHEEL", b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n")]:
            z.writestr(f"{dist_info}/{meta}", data)
            rows.append(f"{dist_info}/{meta},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}")
        rows.append(f"{dist_info}/RECORD,,")
        z.writestr(f"{dist_info}/RECORD", "\n".join(rows) + "\n")
    print(path)


if __name__ == "__main__":
    main()
