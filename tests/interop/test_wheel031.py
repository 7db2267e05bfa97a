"""Both directions against the original signer: wheel 0.31.1's `wheel sign`/`verify`/`unpack`."""
import base64
import hashlib
import json
import zipfile

import pytest
import wheel

from conftest import build_wheel, rewrite_member, run_python


def test_reference_tool_is_wheel_0_31_1():
    assert wheel.__version__ == "0.31.1"


def test_embedded_signature_verifies_with_wheel_031(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    wheelsig.keygen(tmp_path / "me.jwk")
    assert wheelsig.run("sign", "--embed", "--key", tmp_path / "me.jwk", whl).returncode == 0

    verify = run_python("-m", "wheel", "verify", whl)
    assert verify.returncode == 0, verify.stderr
    assert "Signatures are internally consistent" in verify.stderr
    headers, payload = json.loads(verify.stdout)
    record = zipfile.ZipFile(whl).read("demo-1.0.dist-info/RECORD")
    expected = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(record).digest()).rstrip(b"=").decode()
    assert payload["hash"] == expected
    assert headers[0]["alg"] == "Ed25519"

    unpack = run_python("-m", "wheel", "unpack", "-d", tmp_path / "out", whl)
    assert unpack.returncode == 0, unpack.stderr
    assert (tmp_path / "out" / "demo-1.0" / "demo" / "__init__.py").read_bytes() == b"print('hello from demo')\n"


def test_wheel_031_rejects_a_tampered_embedded_signature(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    wheelsig.keygen(tmp_path / "me.jwk")
    wheelsig.run("sign", "--embed", "--key", tmp_path / "me.jwk", whl)
    tampered = tmp_path / "t" / whl.name
    tampered.parent.mkdir()
    with zipfile.ZipFile(whl) as z:
        doc = json.loads(z.read("demo-1.0.dist-info/RECORD.jws"))
    sig = bytearray(base64.urlsafe_b64decode(doc["recipients"][0]["signature"] + "=="))
    sig[0] ^= 1
    doc["recipients"][0]["signature"] = base64.urlsafe_b64encode(bytes(sig)).rstrip(b"=").decode()
    rewrite_member(whl, tampered, "demo-1.0.dist-info/RECORD.jws", json.dumps(doc).encode())

    assert run_python("-m", "wheel", "verify", tampered).returncode != 0
    code, report = wheelsig.report(tampered)
    assert (code, report["verdict"]) == (1, "invalid")
    assert "sig-bad-signature" in [p["code"] for p in report["problems"]]


def test_wheel_031_unpack_and_wheelsig_both_catch_a_tampered_member(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    tampered = tmp_path / "t" / whl.name
    tampered.parent.mkdir()
    rewrite_member(whl, tampered, "demo/__init__.py", b"import os; os.system('evil')\n")
    unpack = run_python("-m", "wheel", "unpack", "-d", tmp_path / "out", tampered)
    assert unpack.returncode != 0 and "Bad hash for file 'demo/__init__.py'" in unpack.stderr
    code, report = wheelsig.report(tampered)
    assert (code, report["verdict"]) == (1, "invalid")
    assert {"code": "record-hash-mismatch", "path": "demo/__init__.py"} in [{k: p[k] for k in ("code", "path")} for p in report["problems"]]


def test_signed_wheel_with_a_tampered_member_fails_in_both(tmp_path, wheelsig):
    # The signature covers RECORD, RECORD still matches the signature; the member does not
    # match RECORD. wheel 0.31's unpack and wheelsig must both refuse it.
    whl = build_wheel(tmp_path)
    wheelsig.keygen(tmp_path / "me.jwk")
    assert wheelsig.run("sign", "--embed", "--key", tmp_path / "me.jwk", whl).returncode == 0
    tampered = tmp_path / "t" / whl.name
    tampered.parent.mkdir()
    rewrite_member(whl, tampered, "demo/__init__.py", b"import os; os.system('evil')\n")
    assert "Signatures are internally consistent" in run_python("-m", "wheel", "verify", tampered).stderr
    unpack = run_python("-m", "wheel", "unpack", "-d", tmp_path / "out", tampered)
    assert unpack.returncode != 0 and "Bad hash for file 'demo/__init__.py'" in unpack.stderr
    code, report = wheelsig.report(tampered)
    assert (code, report["verdict"]) == (1, "invalid")
    assert [(p["code"], p["path"]) for p in report["problems"]] == [("record-hash-mismatch", "demo/__init__.py")]


def wheel031_keygen_and_sign(whl, env):
    keygen = run_python("-m", "wheel", "keygen", env=env)
    assert keygen.returncode == 0, keygen.stderr
    vk = keygen.stdout.split("vk=")[1].split()[0]
    sign = run_python("-m", "wheel", "sign", whl, env=env)
    assert sign.returncode == 0, sign.stderr
    return vk


def rfc7638_thumbprint(x: str) -> str:
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


@pytest.mark.parametrize("with_kid", [False, True], ids=["no-kid", "kid"])
def test_wheels_signed_by_wheel_031_verify_here(tmp_path, wheelsig, python_env, with_kid):
    whl = build_wheel(tmp_path)
    vk = wheel031_keygen_and_sign(whl, python_env)
    x = vk.rstrip("=")
    key = {"kty": "OKP", "crv": "Ed25519", "x": x}
    if with_kid:
        key["kid"] = rfc7638_thumbprint(x)
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"keys": [key]}))

    code, report = wheelsig.report("--require-trusted", "--jwks", keys, whl)
    assert (code, report["verdict"]) == (0, "trusted"), report["problems"]
    [sig] = report["signatures"]
    assert (sig["format"], sig["carrier"], sig["alg"]) == ("legacy", "embedded", "Ed25519")
    assert sig["trusted_by"]["kind"] == "key-file"
    assert sig["kid"] == rfc7638_thumbprint(x)
    raw = base64.urlsafe_b64decode(vk + "=" * (-len(vk) % 4))
    assert sig["fingerprint"] == "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).rstrip(b"=").decode()

    code, report = wheelsig.report(whl)
    assert (code, report["verdict"]) == (0, "signed")

    other = tmp_path / "other.jwk"
    wheelsig.keygen(other)
    other_keys = tmp_path / "other.json"
    other_keys.write_text(wheelsig.run("jwks", other).stdout)
    code, report = wheelsig.report("--jwks", other_keys, whl)
    assert (code, report["verdict"]) == (1, "untrusted")
    assert [p["code"] for p in report["problems"]] == ["trust-key-not-listed"]


def test_unsign_restores_the_original_bytes(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    original = whl.read_bytes()
    wheelsig.keygen(tmp_path / "me.jwk")
    assert wheelsig.run("sign", "--embed", "--key", tmp_path / "me.jwk", whl).returncode == 0
    assert whl.read_bytes() != original
    assert "demo-1.0.dist-info/RECORD.jws" == zipfile.ZipFile(whl).namelist()[-1]
    assert wheelsig.run("unsign", whl).returncode == 0
    assert hashlib.sha256(whl.read_bytes()).hexdigest() == hashlib.sha256(original).hexdigest()


def test_unsign_restores_wheel_031_signed_zip64_free_archives_too(tmp_path, wheelsig, python_env):
    # wheel 0.31 appends RECORD.jws with zipfile: still the last entry, so unsign can remove it
    # and the result verifies as the unsigned wheel.
    whl = build_wheel(tmp_path)
    wheel031_keygen_and_sign(whl, python_env)
    assert wheelsig.run("unsign", whl).returncode == 0
    code, report = wheelsig.report(whl)
    assert (code, report["verdict"]) == (0, "unsigned")
