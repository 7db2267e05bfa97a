"""Build a large synthetic wheel shaped like a torch wheel, deterministically and streaming.

Default (scale 1.0): ~13,000 members, ~1.1 GB uncompressed: mostly small .py files, a few
multi-megabyte libraries and one ~520 MB shared library. Content mixes pseudo-random blocks
with text-like repetitive blocks so deflate compresses it about 2-3x, like real binaries.
Usage: python make_big_wheel.py OUT_DIR [SCALE]. Prints the wheel's path.
"""
import base64
import hashlib
import random
import sys
import zipfile
from pathlib import Path

NAME, VERSION = "bigdemo", "1.0"
BLOCK = 1 << 20


def blocks(rng: random.Random, size: int):
    """Yield `size` bytes in 1 MiB blocks: 1 in 3 random, the rest compressible text."""
    words = [rng.randbytes(rng.randint(3, 9)).hex().encode() for _ in range(512)]
    left = size
    while left:
        n = min(BLOCK, left)
        if rng.random() < 0.35:
            yield rng.randbytes(n)
        else:
            text = b" ".join(rng.choices(words, k=n // 8 + 1))
            yield text[:n]
        left -= n


def main() -> None:
    out_dir = Path(sys.argv[1])
    scale = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20261125)
    members: list[tuple[str, int]] = []
    n_small = int(13_000 * scale) or 1
    for i in range(n_small):
        members.append((f"{NAME}/pkg{i // 200:03d}/mod{i:05d}.py", rng.randint(500, 12_000)))
    for i in range(max(1, int(40 * scale))):
        members.append((f"{NAME}/lib/libpart{i:02d}.so", int(rng.randint(4, 12) * BLOCK)))
    members.append((f"{NAME}/lib/libbig.so", int(520 * BLOCK * scale)))
    path = out_dir / f"{NAME}-{VERSION}-cp311-cp311-linux_x86_64.whl"
    tmp = path.with_suffix(".tmp")
    dist_info = f"{NAME}-{VERSION}.dist-info"
    rows = []
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for name, size in members:
            h = hashlib.sha256()
            with z.open(name, "w", force_zip64=size > (1 << 30)) as f:
                for b in blocks(rng, size):
                    h.update(b)
                    f.write(b)
            rows.append(f"{name},sha256={base64.urlsafe_b64encode(h.digest()).rstrip(b'=').decode()},{size}")
        for meta, data in [
            ("METADATA", f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n".encode()),
            ("WHEEL", b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n"),
        ]:
            z.writestr(f"{dist_info}/{meta}", data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            rows.append(f"{dist_info}/{meta},sha256={digest},{len(data)}")
        rows.append(f"{dist_info}/RECORD,,")
        z.writestr(f"{dist_info}/RECORD", "\n".join(rows) + "\n")
    tmp.rename(path)
    print(path)


if __name__ == "__main__":
    main()
