"""The core's one-pass path (verify_wheel: what `wheelsig sign` verifies with before signing)
hashes members of 16 MiB or more on a second thread while it inflates. `wheelsig verify`
spreads units over threads instead and, on two cores, no longer uses that thread, so drive the
one-pass path through `sign`: an intact wheel is signed and the signature verifies; a changed
member or a flipped stored byte is refused with the same problem codes `verify` reports."""
import zipfile

from conftest import build_wheel, rewrite_member
from test_large_members import SIZE, content


def sign(wheelsig, tmp_path, whl):
    key = tmp_path / "k.jwk"
    if not key.exists():
        assert wheelsig.run("keygen", "--out", key).returncode == 0
    # Next to the wheel, where `verify` looks for a detached signature.
    return wheelsig.run("sign", "--key", key, "--out-dir", whl.parent, whl), whl.parent / f"{whl.name}.jws"


def test_sign_verifies_a_large_member_first(tmp_path, wheelsig):
    whl = build_wheel(tmp_path, files={"demo/__init__.py": b"", "demo/big.bin": content(1)})
    p, jws = sign(wheelsig, tmp_path, whl)
    assert p.returncode == 0, p.stderr
    assert jws.exists()
    code, r = wheelsig.report(whl)
    assert (code, r["verdict"], r["problems"]) == (0, "signed", []), r


def test_sign_refuses_a_large_member_changed_after_record(tmp_path, wheelsig):
    whl = build_wheel(tmp_path, files={"demo/__init__.py": b"", "demo/big.bin": content(1)})
    bad = tmp_path / "bad" / whl.name
    bad.parent.mkdir()
    rewrite_member(whl, bad, "demo/big.bin", content(2))
    p, jws = sign(wheelsig, tmp_path, bad)
    assert p.returncode != 0 and not jws.exists()
    assert "record-hash-mismatch" in p.stderr + p.stdout


def test_sign_refuses_a_large_stored_member_with_a_flipped_byte(tmp_path, wheelsig):
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
    p, jws = sign(wheelsig, tmp_path, whl)
    assert p.returncode != 0 and not jws.exists()
    assert "zip-crc-mismatch" in p.stderr + p.stdout
