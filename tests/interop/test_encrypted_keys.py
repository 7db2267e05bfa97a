"""Private keys from a CI secret (--key-env, --key -) and passphrase-encrypted keys (a JWE with
PBES2, RFC 7518 section 4.8), checked both ways against jwcrypto: wheelsig reads what jwcrypto
encrypts, jwcrypto decrypts what `wheelsig keygen --encrypt` writes, and the signatures made
with each verify with jwcrypto."""
import base64
import json
import os
import subprocess
import time

import pytest
from jwcrypto import jwa, jwe, jwk, jws
from jwcrypto.common import json_encode

from conftest import build_wheel

PASS = "correct horse battery staple"


def run(wheelsig, *args, env=None, stdin=None):
    e = dict(wheelsig.env)
    e.pop("WHEELSIG_KEY_PASSPHRASE", None)
    e.update(env or {})
    return subprocess.run([str(wheelsig.binary), *map(str, args)], capture_output=True, text=True, env=e, input=stdin, timeout=120, stdin=None if stdin is not None else subprocess.DEVNULL)


def verify_with_jwcrypto(jws_path, public):
    token = jws.JWS()
    token.deserialize(jws_path.read_text())
    token.verify(public)
    return json.loads(token.payload)


def public_of(private_text):
    k = jwk.JWK.from_json(private_text)
    return jwk.JWK.from_json(k.export_public())


def test_key_from_an_environment_variable_and_from_stdin(tmp_path, wheelsig):
    wheelsig.keygen(tmp_path / "me.jwk")
    secret = (tmp_path / "me.jwk").read_text()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = build_wheel(tmp_path / "a"), build_wheel(tmp_path / "b", version="2.0")
    p = run(wheelsig, "sign", "--key-env", "RELEASE_KEY", a, env={"RELEASE_KEY": secret})
    assert p.returncode == 0, p.stderr
    p = run(wheelsig, "sign", "--key", "-", b, stdin=secret)
    assert p.returncode == 0, p.stderr
    for whl in (a, b):
        assert verify_with_jwcrypto(whl.with_name(whl.name + ".jws"), public_of(secret))["filename"] == whl.name
    # Clear failures: unset, empty, both sources, neither.
    for args, env, want in [
        (["--key-env", "RELEASE_KEY"], {}, "RELEASE_KEY: the environment variable is not set"),
        (["--key-env", "RELEASE_KEY"], {"RELEASE_KEY": ""}, "the environment variable is empty"),
        (["--key-env", "RELEASE_KEY", "--key", tmp_path / "me.jwk"], {"RELEASE_KEY": secret}, "cannot be used with"),
        ([], {}, "required arguments were not provided"),
        (["--key-env", "RELEASE_KEY"], {"RELEASE_KEY": "{not json"}, "$RELEASE_KEY"),
    ]:
        p = run(wheelsig, "sign", *args, a, env=env)
        assert p.returncode == 2 and want in p.stderr, (args, p.stderr)
    # The secret is never echoed, even when it is not a key.
    p = run(wheelsig, "sign", "--key-env", "RELEASE_KEY", a, env={"RELEASE_KEY": '{"kty":"OKP","d":"c2VjcmV0LXZhbHVl"}'})
    assert p.returncode == 2 and "c2VjcmV0LXZhbHVl" not in p.stderr + p.stdout
    # site add-key and site publish take the same sources.
    p = run(wheelsig, "site", "add-key", tmp_path / "nosite", "--key-env", "RELEASE_KEY", env={"RELEASE_KEY": secret})
    assert p.returncode == 2 and "site.json" in p.stderr, p.stderr


@pytest.mark.parametrize("alg, enc, compact", [("PBES2-HS512+A256KW", "A256GCM", True), ("PBES2-HS256+A128KW", "A128GCM", False), ("PBES2-HS384+A192KW", "A256GCM", True)])
def test_wheelsig_signs_with_a_key_jwcrypto_encrypted(tmp_path, wheelsig, alg, enc, compact):
    wheelsig.keygen(tmp_path / "me.jwk")
    secret = (tmp_path / "me.jwk").read_text()
    token = jwe.JWE(secret.encode(), json_encode({"alg": alg, "enc": enc, "cty": "jwk+json", "p2c": 10000}))
    token.add_recipient(jwk.JWK.from_password(PASS))
    (tmp_path / "enc.jwe").write_text(token.serialize(compact=compact))
    whl = build_wheel(tmp_path)
    p = run(wheelsig, "sign", "--key", tmp_path / "enc.jwe", whl, env={"WHEELSIG_KEY_PASSPHRASE": PASS})
    assert p.returncode == 0, p.stderr
    assert verify_with_jwcrypto(whl.with_name(whl.name + ".jws"), public_of(secret))["filename"] == whl.name
    # From an environment variable too (the encrypted text as the CI secret).
    p = run(wheelsig, "sign", "--key-env", "K", whl, env={"K": (tmp_path / "enc.jwe").read_text(), "WHEELSIG_KEY_PASSPHRASE": PASS})
    assert p.returncode == 0, p.stderr
    # Wrong passphrase, no passphrase and no terminal: clear, exit 2, nothing written.
    (whl.with_name(whl.name + ".jws")).unlink()
    p = run(wheelsig, "sign", "--key", tmp_path / "enc.jwe", whl, env={"WHEELSIG_KEY_PASSPHRASE": "wrong"})
    assert p.returncode == 2 and "wrong passphrase, or the encrypted key was changed" in p.stderr, p.stderr
    p = run(wheelsig, "sign", "--key", tmp_path / "enc.jwe", whl)
    assert p.returncode == 2 and "WHEELSIG_KEY_PASSPHRASE" in p.stderr, p.stderr
    assert not whl.with_name(whl.name + ".jws").exists()


def test_jwcrypto_decrypts_what_keygen_encrypt_writes(tmp_path, wheelsig, monkeypatch):
    p = run(wheelsig, "keygen", "--encrypt", "--out", tmp_path / "enc.jwk", env={"WHEELSIG_KEY_PASSPHRASE": PASS})
    assert p.returncode == 0, p.stderr
    public = json.loads(p.stdout)
    text = (tmp_path / "enc.jwk").read_text()
    assert '"d"' not in text and oct(os.stat(tmp_path / "enc.jwk").st_mode & 0o777) == "0o600"
    # jwcrypto reads at most 16,384 PBKDF2 iterations by default (its guard against a hostile
    # p2c); wheelsig writes 210,000 (OWASP's figure for PBKDF2-HMAC-SHA512), so raise the limit
    # as its documentation says.
    assert jwa.default_max_pbkdf2_iterations < 210000
    monkeypatch.setattr(jwa, "default_max_pbkdf2_iterations", 1_000_000)
    token = jwe.JWE()
    token.deserialize(text.strip(), key=jwk.JWK.from_password(PASS))
    header = json.loads(token.objects["protected"])
    assert header["alg"] == "PBES2-HS512+A256KW" and header["enc"] == "A256GCM" and header["p2c"] >= 210000
    private = json.loads(token.payload)
    assert private["x"] == public["x"] and "d" in private
    # The key signs, and jwcrypto verifies with the public half keygen printed.
    whl = build_wheel(tmp_path)
    p = run(wheelsig, "sign", "--key", tmp_path / "enc.jwk", whl, env={"WHEELSIG_KEY_PASSPHRASE": PASS})
    assert p.returncode == 0, p.stderr
    assert verify_with_jwcrypto(whl.with_name(whl.name + ".jws"), jwk.JWK(**{k: public[k] for k in ("kty", "crv", "x")}))["filename"] == whl.name
    # jwcrypto refuses a wrong passphrase for it too (the file really is encrypted).
    with pytest.raises(Exception):
        jwe.JWE().deserialize(text.strip(), key=jwk.JWK.from_password("wrong"))


def test_a_hostile_iteration_count_is_refused_at_once(tmp_path, wheelsig):
    wheelsig.keygen(tmp_path / "me.jwk")
    # A real file with its p2c raised to 4e9 (hours of PBKDF2 if it were obeyed).
    ok = jwe.JWE((tmp_path / "me.jwk").read_text().encode(), json_encode({"alg": "PBES2-HS512+A256KW", "enc": "A256GCM", "p2c": 1000}))
    ok.add_recipient(jwk.JWK.from_password(PASS))
    parts = ok.serialize(compact=True).split(".")
    header = json.loads(base64.urlsafe_b64decode(parts[0] + "=="))
    header["p2c"] = 4000000000
    parts[0] = base64.urlsafe_b64encode(json.dumps(header).encode()).decode().rstrip("=")
    (tmp_path / "hostile.jwe").write_text(".".join(parts))
    whl = build_wheel(tmp_path)
    start = time.monotonic()
    p = run(wheelsig, "sign", "--key", tmp_path / "hostile.jwe", whl, env={"WHEELSIG_KEY_PASSPHRASE": PASS})
    assert p.returncode == 2 and "`p2c` is 4000000000; accepted: 1000 to 2000000" in p.stderr, p.stderr
    assert time.monotonic() - start < 10
