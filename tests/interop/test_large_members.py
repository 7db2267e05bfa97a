"""Members of 16 MiB or more are hashed on a second thread while the first inflates (native
CLI). The same verdicts must come out of that path: intact, changed content, corrupt bytes."""
import random
import zipfile

from conftest import build_wheel, rewrite_member

SIZE = 24 << 20  # above the 16 MiB pipelining threshold


def content(seed: int) -> bytes:
    rng = random.Random(seed)
    text = b"def f(x):\n    return x + 1\n" * (SIZE // 56)
    return text + rng.randbytes(SIZE - len(text))


def test_large_member_intact(tmp_path, wheelsig):
    whl = build_wheel(tmp_path, files={"demo/__init__.py": b"", "demo/big.bin": content(1)})
    code, r = wheelsig.report(whl)
    assert (code, r["verdict"], r["problems"]) == (0, "unsigned", [])
    assert r["files_checked"] == 4


def test_large_member_changed_after_record(tmp_path, wheelsig):
    whl = build_wheel(tmp_path, files={"demo/__init__.py": b"", "demo/big.bin": content(1)})
    bad = tmp_path / "bad" / whl.name
    bad.parent.mkdir()
    rewrite_member(whl, bad, "demo/big.bin", content(2))
    code, r = wheelsig.report(bad)
    assert (code, r["verdict"]) == (1, "invalid")
    assert [(p["code"], p["path"]) for p in r["problems"]] == [("record-hash-mismatch", "demo/big.bin")]


def test_large_stored_member_with_a_flipped_byte(tmp_path, wheelsig):
    whl = tmp_path / "demo-1.0-py3-none-any.whl"
    (tmp_path / "src").mkdir()
    src = build_wheel(tmp_path / "src", files={"demo/__init__.py": b"", "demo/big.bin": content(3)})
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(whl, "w") as zout:
        for info in zin.infolist():
            zout.writestr(zipfile.ZipInfo(info.filename, info.date_time), zin.read(info), compress_type=zipfile.ZIP_STORED)
    data = bytearray(whl.read_bytes())
    at = data.find(b"def f(x)", data.find(b"demo/big.bin")) + SIZE // 2
    data[at] ^= 0x01
    whl.write_bytes(bytes(data))
    code, r = wheelsig.report(whl)
    assert (code, r["verdict"]) == (1, "invalid")
    assert [(p["code"], p["path"]) for p in r["problems"]] == [("zip-crc-mismatch", "demo/big.bin")]
