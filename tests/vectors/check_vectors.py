#!/usr/bin/env python3
"""Cross-check the generated vectors with independent tools (not with wheelsig).

    python3 tests/vectors/check_vectors.py [-v]

- every manifest entry is well formed and its code is one of docs/SPEC.md's problem codes;
- pass_* wheels: Python's zipfile opens them, `python -m zipfile -t` (and Info-ZIP `unzip -t`
  when installed) passes, RECORD matches
  every member (read through zipfile), and every signature verifies with `cryptography`
  (RFC 7515 and legacy shapes), with `jwcrypto` when installed, and, for embedded signatures,
  with wheel 0.31.1's own verifier when WHEEL031_PYTHON names a Python that has it
  (`pip install wheel==0.31.1`);
- the expected verdict of pass_* and fail_trust_* vectors follows from a small model of
  SPEC.md's trust rules applied to the signatures and the manifest's trust inputs;
- fail_wheel_*, fail_record_*, fail_sig_* and fail_trust_* wheels are clean ZIP archives to
  zipfile, so that their only defect is the one they name;
- the file name's build and compatibility tags equal WHEEL's `Build` and `Tag` headers as
  Python's email parser reads them (how pip and installer read WHEEL) for pass_* and
  fail_trust_* wheels, and differ for fail_wheel_tag_mismatch_*;
- with -v, what zipfile makes of every fail_zip_* vector (to compare with its description).
"""

from __future__ import annotations

import base64
import csv
import email.parser
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

HERE = Path(__file__).resolve().parent
SPEC = HERE.parent.parent / "docs" / "SPEC.md"
UNZIP = shutil.which("unzip")  # Info-ZIP, optional
VERDICTS = {"trusted", "signed", "unsigned", "untrusted", "key-changed", "invalid"}

try:
    from jwcrypto import jwk as jwc_jwk, jws as jwc_jws
except ImportError:  # optional
    jwc_jws = None

FAILURES: list[str] = []


def fail(name: str, msg: str) -> None:
    FAILURES.append(f"{name}: {msg}")


def b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def spec_codes() -> set[str]:
    text = SPEC.read_text()
    return set(re.findall(r"`((?:zip64|zip|limit|wheel|record|sig|trust)-[a-z0-9-]+)`", text))


def thumbprint(x: str) -> str:
    return b64u(hashlib.sha256(('{"crv":"Ed25519","kty":"OKP","x":"%s"}' % x).encode()).digest())


def zipfile_view(path: Path) -> str:
    """What CPython's zipfile makes of a file."""
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            try:
                bad = z.testzip()
            except Exception as e:  # noqa: BLE001 - reporting what zipfile does
                return f"opens ({len(names)} names); reading raises {type(e).__name__}: {e}"[:200]
            return f"opens ({len(names)} names); testzip {'ok' if bad is None else 'bad ' + bad}"
    except Exception as e:  # noqa: BLE001
        return f"open raises {type(e).__name__}: {e}"[:200]


def record_ok(name: str, z: zipfile.ZipFile) -> tuple[str, bytes]:
    """RECORD against the members, read through zipfile. Returns the dist-info dir and RECORD."""
    dis = {n.split("/", 1)[0] for n in z.namelist() if n.split("/", 1)[0].endswith(".dist-info")}
    if len(dis) != 1:
        fail(name, f"dist-info dirs {dis}")
        return "", b""
    di = dis.pop()
    record = z.read(f"{di}/RECORD")
    rows = list(csv.reader(io.StringIO(record.decode("utf-8"), newline="")))
    listed = {}
    for r in rows:
        if len(r) != 3:
            fail(name, f"RECORD row {r}")
            continue
        listed[r[0]] = r
    files = {i.filename for i in z.infolist() if not i.is_dir()}
    exempt = {f"{di}/RECORD.jws", f"{di}/RECORD.p7s"}
    if set(listed) != (files - exempt):
        fail(name, f"RECORD paths {sorted(set(listed) ^ (files - exempt))} differ from members")
    for path, (_, h, size) in listed.items():
        if path == f"{di}/RECORD":
            if h or size:
                fail(name, "RECORD self row")
            continue
        alg, digest = h.split("=", 1)
        data = z.read(path)
        if b64u(hashlib.new(alg, data).digest()) != digest or str(len(data)) != size:
            fail(name, f"RECORD mismatch for {path}")
    return di, record


def tag_set(python: str, abi: str, platform: str) -> set[str]:
    """A (possibly compressed) tag's expanded set, as packaging.tags.parse_tag makes it."""
    return {f"{p}-{a}-{f}" for p in python.split(".") for a in abi.split(".")
            for f in platform.split(".")}


def tags_agree(path: Path, z: zipfile.ZipFile) -> bool:
    """The file name's build tag and tags against WHEEL, read with Python's email parser."""
    parts = path.name.removesuffix(".whl").split("-")
    build = parts[2] if len(parts) == 6 else None
    (di,) = {n.split("/", 1)[0] for n in z.namelist() if n.split("/", 1)[0].endswith(".dist-info")}
    msg = email.parser.BytesParser().parsebytes(z.read(f"{di}/WHEEL"))
    listed = set().union(*(tag_set(*t.split("-")) for t in msg.get_all("Tag", [])))
    return tag_set(*parts[-3:]) == listed and build == msg.get("Build")


def check_signatures(name: str, doc_bytes: bytes, record: bytes, wheel_path: Path | None,
                     detached: bool) -> list[dict]:
    """Verify every signature in a JWS document; return [{kid, valid, iat}]."""
    doc = json.loads(doc_bytes)
    payload_b64 = doc["payload"]
    payload = json.loads(b64d(payload_b64))
    claim = "sha256=" + b64u(hashlib.sha256(record).digest())
    if payload["hash"] != claim:
        fail(name, "payload hash differs from RECORD's")
    if detached:
        if payload.get("filename") != wheel_path.name:
            fail(name, "detached filename")
        if payload.get("file_sha256") != hashlib.sha256(wheel_path.read_bytes()).hexdigest():
            fail(name, "detached file_sha256")
    entries = doc.get("signatures", [])
    if "protected" in doc:
        entries = [{"protected": doc["protected"], "signature": doc["signature"]}]
    out = []
    for e in entries:
        hdr = json.loads(b64d(e["protected"]))
        if hdr["alg"] not in ("EdDSA", "Ed25519") or hdr["jwk"]["kty"] != "OKP":
            fail(name, f"header {hdr}")
        x = hdr["jwk"]["x"]
        if hdr.get("kid") != thumbprint(x):
            fail(name, "kid is not the thumbprint")
        key = Ed25519PublicKey.from_public_bytes(b64d(x))
        try:
            key.verify(b64d(e["signature"]), f"{e['protected']}.{payload_b64}".encode())
            out.append({"kid": thumbprint(x), "valid": True, "iat": payload.get("iat")})
        except InvalidSignature:
            fail(name, "RFC 7515 signature does not verify (cryptography)")
        if jwc_jws is not None:
            try:
                token = jwc_jws.JWS()
                token.deserialize(json.dumps({"payload": payload_b64, "signatures": [e]}))
                token.allowed_algs = [hdr["alg"]]
                token.verify(jwc_jwk.JWK(**hdr["jwk"]))
            except Exception as ex:  # noqa: BLE001
                if hdr["alg"] == "Ed25519" and "Ed25519" not in str(jwc_jws.default_allowed_algs):
                    pass  # this jwcrypto predates RFC 9864's alg name
                else:
                    fail(name, f"jwcrypto rejects the signature: {ex}")
    for r in doc.get("recipients", []):
        hdr = json.loads(b64d(r["header"]))
        if hdr != {"alg": "Ed25519", "jwk": {"kty": "Ed25519", "vk": hdr["jwk"]["vk"]}}:
            fail(name, f"legacy header {hdr}")
        key = Ed25519PublicKey.from_public_bytes(b64d(hdr["jwk"]["vk"]))
        try:
            key.verify(b64d(r["signature"]), f"{r['header']}.{payload_b64}".encode())
        except InvalidSignature:
            fail(name, "legacy signature does not verify (cryptography)")
        out.append({"kid": thumbprint(hdr["jwk"]["vk"]), "valid": True, "iat": payload.get("iat")})
    return out


def model_verdict(v: dict, sigs: list[dict]) -> tuple[str, str | None]:
    """SPEC.md's trust rules, for wheels that are intact and whose signatures all verify."""
    project = "demo"
    keys = []
    if "jwks" in v:
        keys = json.loads((HERE / v["jwks"]).read_text())["keys"]
    pins = v.get("pins", {}).get(project)
    fu = v.get("first_use", {}).get(project)
    covering = [k for k in keys if "projects" not in k or project in k["projects"]]
    kids = {s["kid"] for s in sigs}
    if not kids:
        explicitly_listed = any(project in k.get("projects", []) for k in keys)
        if pins or explicitly_listed:
            return "untrusted", "trust-unsigned-downgrade"
        return "unsigned", None
    if pins is not None:
        return ("trusted", None) if kids & set(pins) else ("untrusted", "trust-not-pinned")
    if fu is not None:
        return ("trusted", None) if fu["kid"] in kids else ("key-changed", "trust-key-changed")
    if not covering:
        return "signed", None
    reason = "trust-key-not-listed"
    for s in sigs:
        for k in keys:
            if k["kid"] != s["kid"]:
                continue
            if "projects" in k and project not in k["projects"]:
                reason = "trust-project-scope"
            elif "exp" in k and (s["iat"] is None or s["iat"] > k["exp"]):
                reason = "trust-key-retired"
            else:
                return "trusted", None
    return "untrusted", reason


def wheel031_check(name: str, path: Path) -> None:
    """wheel 0.31.1's own install-time check: signatures.verify + RECORD hash + member hashes."""
    py = os.environ.get("WHEEL031_PYTHON")
    if not py:
        return
    script = (
        "import sys\n"
        "from wheel.install import WheelFile\n"
        "wf = WheelFile(sys.argv[1])\n"
        "wf.verify()\n"
        "for n in wf.zipfile.namelist(): wf.zipfile.read(n)\n"
    )
    r = subprocess.run([py, "-c", script, str(path)], capture_output=True, text=True)
    if r.returncode != 0:
        fail(name, f"wheel 0.31.1 rejects it: {r.stderr.strip().splitlines()[-1:]}")


def main() -> int:
    verbose = "-v" in sys.argv
    vectors = json.loads((HERE / "vectors.json").read_text())
    codes = spec_codes()
    names = [v["name"] for v in vectors]
    if len(set(names)) != len(names):
        fail("manifest", "duplicate names")
    for v in vectors:
        name = v["name"]
        path = HERE / v["file"]
        if set(v) - {"name", "file", "expect", "code", "path", "description", "detached", "jwks",
                     "pins", "first_use"}:
            fail(name, f"unknown manifest members {set(v)}")
        if v["expect"] not in VERDICTS or not path.is_file():
            fail(name, "bad expect or missing file")
        if v["code"] is not None and v["code"] not in codes:
            fail(name, f"code {v['code']} is not in SPEC.md")
        for k in ("detached", "jwks"):
            if k in v and not (HERE / v[k]).is_file():
                fail(name, f"missing {k} file")
        if name.startswith("fail_zip") or name.startswith("fail_limit"):
            if verbose:
                print(f"{name:45} {zipfile_view(path)}")
            continue
        # Everything else must be a clean archive to zipfile.
        r = subprocess.run([sys.executable, "-m", "zipfile", "-t", str(path)], capture_output=True)
        if r.returncode != 0:
            fail(name, "python -m zipfile -t fails")
        if UNZIP and subprocess.run([UNZIP, "-tqq", str(path)], capture_output=True).returncode:
            fail(name, "unzip -t fails")
        with zipfile.ZipFile(path) as z:
            if z.testzip() is not None:
                fail(name, "zipfile testzip")
            if name.startswith(("pass_", "fail_trust_")) and not tags_agree(path, z):
                fail(name, "the file name's tags differ from WHEEL's (email parser)")
            if name.startswith("fail_wheel_tag_mismatch_") and tags_agree(path, z):
                fail(name, "the file name's tags equal WHEEL's (email parser)")
            if not name.startswith(("pass_", "fail_trust_")):
                continue
            di, record = record_ok(name, z)
            sigs = []
            jws_name = f"{di}/RECORD.jws"
            if jws_name in z.namelist():
                if z.infolist()[-1].filename != jws_name:
                    fail(name, "RECORD.jws is not the last member")
                sigs += check_signatures(name, z.read(jws_name), record, path, False)
        if "detached" in v:
            sigs += check_signatures(name, (HERE / v["detached"]).read_bytes(), record, path, True)
        if sigs and jws_name in zipfile.ZipFile(path).namelist():
            wheel031_check(name, path)
        got = model_verdict(v, sigs)
        if got != (v["expect"], v["code"]):
            fail(name, f"trust model says {got}, manifest says {(v['expect'], v['code'])}")
    for f in FAILURES:
        print("FAIL", f)
    print(f"{len(vectors)} vectors checked, {len(FAILURES)} failures", file=sys.stderr)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
