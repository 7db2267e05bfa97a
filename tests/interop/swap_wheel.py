"""What a compromised index or a targeted mirror serves in place of a real wheel: the same
file name, re-zipped with one byte of one member changed and RECORD rewritten to match, so
the swapped file is an intact wheel (`wheelsig verify` alone says `unsigned`, not `invalid`)
and only its sha256 gives it away. Used by tests/interop/test_index_log_real.py and, as a
script, by tests/e2e/audit-page.test.mjs.

Usage: python tests/interop/swap_wheel.py SRC.whl DST.whl   (prints the member changed)"""
import base64
import csv
import hashlib
import io
import sys
import zipfile
from pathlib import Path


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def swap_one_byte(src: Path, dst: Path) -> str:
    """Copy `src` to `dst` with one ASCII letter of its package's `__init__.py` (else its first
    .py file) flipped in case, and that member's RECORD line rewritten. Member order, dates,
    attributes and compression stay as they were. Returns the member's name."""
    with zipfile.ZipFile(src) as zin:
        infos = zin.infolist()
        names = [i.filename for i in infos]
        [record] = [n for n in names if n.count("/") == 1 and n.endswith(".dist-info/RECORD")]
        py = [n for n in names if n.endswith(".py") and ".dist-info/" not in n]
        member = next((n for n in py if n.count("/") == 1 and n.endswith("/__init__.py")), py[0])
        data = bytearray(zin.read(member))
        # A letter past the middle (in code or a docstring): still valid Python source bytes.
        i = next(k for k in range(len(data) // 2, len(data)) if chr(data[k]).isalpha())
        data[i] ^= 0x20
        rows = list(csv.reader(io.StringIO(zin.read(record).decode())))
        assert [r for r in rows if r and r[0] == member], f"{member} is not in {record}"
        rows = [[member, _record_hash(bytes(data)), str(len(data))] if r and r[0] == member else r for r in rows]
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        with zipfile.ZipFile(dst, "w") as zout:
            for info in infos:
                body = bytes(data) if info.filename == member else out.getvalue().encode() if info.filename == record else zin.read(info)
                zout.writestr(info, body)
    return member


if __name__ == "__main__":
    print(swap_one_byte(Path(sys.argv[1]), Path(sys.argv[2])))
