"""Cross-check the RFC 7515 signatures with an independent JOSE implementation (jwcrypto)."""
import hashlib
import json
import time
import zipfile

from jwcrypto import jwk, jws
from jwcrypto.common import json_encode

from conftest import build_wheel, record_hash


def public_jwk(wheelsig, private_path):
    text = private_path.read_text()
    priv = json.loads(text)
    return jwk.JWK(kty="OKP", crv="Ed25519", x=priv["x"]), jwk.JWK(**{k: priv[k] for k in ("kty", "crv", "x", "d")})


def jwcrypto_verify(text, key):
    token = jws.JWS()
    token.deserialize(text)
    token.verify(key)  # raises on failure
    return json.loads(token.payload)


def test_detached_signature_verifies_with_jwcrypto(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    wheelsig.keygen(tmp_path / "me.jwk")
    assert wheelsig.run("sign", "--key", tmp_path / "me.jwk", whl).returncode == 0
    pub, _ = public_jwk(wheelsig, tmp_path / "me.jwk")
    payload = jwcrypto_verify((tmp_path / f"{whl.name}.jws").read_text(), pub)
    record = zipfile.ZipFile(whl).read("demo-1.0.dist-info/RECORD")
    assert payload["hash"] == record_hash(record)
    assert payload["filename"] == whl.name
    assert payload["file_sha256"] == hashlib.sha256(whl.read_bytes()).hexdigest()
    assert abs(payload["iat"] - time.time()) < 300


def test_embedded_signature_verifies_with_jwcrypto(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    wheelsig.keygen(tmp_path / "me.jwk")
    wheelsig.run("sign", "--embed", "--key", tmp_path / "me.jwk", whl)
    pub, _ = public_jwk(wheelsig, tmp_path / "me.jwk")
    with zipfile.ZipFile(whl) as z:
        doc = json.loads(z.read("demo-1.0.dist-info/RECORD.jws"))
        record = z.read("demo-1.0.dist-info/RECORD")
    rfc = {k: doc[k] for k in ("payload", "signatures")}  # jwcrypto ignores nothing else
    assert jwcrypto_verify(json.dumps(rfc), pub)["hash"] == record_hash(record)


def jwcrypto_sign(priv, payload: dict, alg="EdDSA", header_extra=None):
    token = jws.JWS(json_encode(payload).encode())
    protected = {"alg": alg, "kid": priv.thumbprint(), "jwk": json.loads(priv.export_public())}
    protected.update(header_extra or {})
    token.add_signature(priv, alg=alg if alg in ("EdDSA", "Ed25519") else None, protected=json_encode(protected))
    return token.serialize(compact=False)


def detached_payload(whl):
    record = zipfile.ZipFile(whl).read("demo-1.0.dist-info/RECORD")
    return {"hash": record_hash(record), "iat": int(time.time()), "filename": whl.name,
            "file_sha256": hashlib.sha256(whl.read_bytes()).hexdigest()}


def keyset_for(tmp_path, priv):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [json.loads(priv.export_public())]}))
    return path


def test_jwcrypto_signature_is_trusted_here(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    priv = jwk.JWK.generate(kty="OKP", crv="Ed25519")
    sig = tmp_path / "sig.jws"
    sig.write_text(jwcrypto_sign(priv, detached_payload(whl)))
    assert "protected" in json.loads(sig.read_text()), "jwcrypto writes one signature as flattened JSON"
    code, report = wheelsig.report("--require-trusted", "--jwks", keyset_for(tmp_path, priv), "--sig", sig, whl)
    assert (code, report["verdict"]) == (0, "trusted"), report["problems"]
    [s] = report["signatures"]
    assert (s["kid"], s["carrier"], s["format"]) == (priv.thumbprint(), "detached", "flattened")


def test_jwcrypto_general_json_single_signature_is_trusted_here(tmp_path, wheelsig):
    # SPEC's default detached shape: {"payload", "signatures":[{"protected","signature"}]}.
    whl = build_wheel(tmp_path)
    priv = jwk.JWK.generate(kty="OKP", crv="Ed25519")
    flat = json.loads(jwcrypto_sign(priv, detached_payload(whl)))
    general = {"payload": flat["payload"], "signatures": [{"protected": flat["protected"], "signature": flat["signature"]}]}
    jwcrypto_verify(json.dumps(general), priv)  # still valid for jwcrypto in general form
    sig = tmp_path / f"{whl.name}.jws"  # found next to the wheel, no --sig
    sig.write_text(json.dumps(general))
    code, report = wheelsig.report("--require-trusted", "--jwks", keyset_for(tmp_path, priv), whl)
    assert (code, report["verdict"]) == (0, "trusted"), report["problems"]
    [s] = report["signatures"]
    assert (s["kid"], s["alg"], s["carrier"], s["format"], s["valid"]) == (priv.thumbprint(), "EdDSA", "detached", "general", True)
    assert s["trusted_by"]["kind"] == "key-file"

    code, report = wheelsig.report("--require-trusted", whl)
    assert (code, report["verdict"]) == (1, "signed")


def test_jwcrypto_general_json_with_an_extra_unknown_signer(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    trusted, unknown = (jwk.JWK.generate(kty="OKP", crv="Ed25519") for _ in range(2))
    token = jws.JWS(json_encode(detached_payload(whl)).encode())
    for k in (unknown, trusted):
        protected = {"alg": "EdDSA", "kid": k.thumbprint(), "jwk": json.loads(k.export_public())}
        token.add_signature(k, alg="EdDSA", protected=json_encode(protected))
    sig = tmp_path / "sig.jws"
    sig.write_text(token.serialize(compact=False))
    assert len(json.loads(sig.read_text())["signatures"]) == 2
    code, report = wheelsig.report("--require-trusted", "--jwks", keyset_for(tmp_path, trusted), "--sig", sig, whl)
    assert (code, report["verdict"]) == (0, "trusted"), report["problems"]
    by_kid = {s["kid"]: s for s in report["signatures"]}
    assert by_kid[trusted.thumbprint()]["trusted_by"]["kind"] == "key-file"
    assert by_kid[unknown.thumbprint()]["valid"] and by_kid[unknown.thumbprint()]["trusted_by"] is None
    assert {s["format"] for s in report["signatures"]} == {"general"}


def test_jwcrypto_hs256_signature_is_rejected(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    secret = jwk.JWK.generate(kty="oct", size=256)
    token = jws.JWS(json_encode(detached_payload(whl)).encode())
    token.add_signature(secret, alg="HS256", protected=json_encode({"alg": "HS256"}))
    sig = tmp_path / "sig.jws"
    sig.write_text(token.serialize(compact=False))
    code, report = wheelsig.report("--sig", sig, whl)
    assert (code, report["verdict"]) == (1, "invalid")
    assert "sig-unsupported-alg" in [p["code"] for p in report["problems"]]


def test_jwcrypto_signature_over_an_altered_payload_is_rejected(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    priv = jwk.JWK.generate(kty="OKP", crv="Ed25519")
    doc = json.loads(jwcrypto_sign(priv, detached_payload(whl)))
    altered = dict(detached_payload(whl), iat=1)  # a valid payload, but not the one signed
    doc["payload"] = jws.base64url_encode(json_encode(altered).encode())
    sig = tmp_path / "sig.jws"
    sig.write_text(json.dumps(doc))
    code, report = wheelsig.report("--jwks", keyset_for(tmp_path, priv), "--sig", sig, whl)
    assert (code, report["verdict"]) == (1, "invalid")
    assert "sig-bad-signature" in [p["code"] for p in report["problems"]]


def test_signature_for_another_file_is_rejected(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    priv = jwk.JWK.generate(kty="OKP", crv="Ed25519")
    payload = dict(detached_payload(whl), file_sha256="0" * 64)
    sig = tmp_path / "sig.jws"
    sig.write_text(jwcrypto_sign(priv, payload))
    code, report = wheelsig.report("--jwks", keyset_for(tmp_path, priv), "--sig", sig, whl)
    assert (code, report["verdict"]) == (1, "invalid")
    assert "sig-file-digest-mismatch" in [p["code"] for p in report["problems"]]
