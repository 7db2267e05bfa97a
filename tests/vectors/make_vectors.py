#!/usr/bin/env python3
"""Generate wheelsig's test-vector wheels and their manifest, deterministically.

    python3 tests/vectors/make_vectors.py      (needs `cryptography`, see tests/requirements.txt)

Every vector is built by one function below that states, right where it builds it, what the
verifier must say about it (`expect` verdict, problem `code`, member `path`) and why. The
manifest `vectors.json` collects those statements; `check_vectors.py` cross-checks the output
with independent tools (Python's zipfile, cryptography, jwcrypto, wheel 0.31).

ZIP files are written by the small raw writer in this file (struct.pack of every header), not
by `zipfile`, so that malformed archives can be expressed exactly. Timestamps and keys are
fixed and Ed25519 is deterministic, so every run writes the same bytes (given the same zlib).
The rules each vector exercises are in docs/STRICTNESS.md (rules 1-11) and the codes in
docs/SPEC.md.
"""

from __future__ import annotations

import base64
import bz2
import hashlib
import hmac
import json
import lzma
import shutil
import struct
import sys
import unicodedata
import zlib
from pathlib import Path
from typing import Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

OUT = Path(__file__).resolve().parent

PROJECT = "demo"
VERSION = "1.0"
WHL = "demo-1.0-py3-none-any.whl"
DI = "demo-1.0.dist-info"
RECORD = f"{DI}/RECORD"
JWS = f"{DI}/RECORD.jws"
IAT = 1767225600  # 2026-01-01T00:00:00Z, the signing time every signature claims
DAY = 86400

# 2026-01-01 00:00:00 in MS-DOS format.
DOS_DATE = ((2026 - 1980) << 9) | (1 << 5) | 1
DOS_TIME = 0
MAX16 = 0xFFFF
MAX32 = 0xFFFFFFFF
UNIX = 3  # "version made by" host: Unix, so external attributes carry a file mode
MADE_BY = (UNIX << 8) | 20

SIG_LOCAL = 0x04034B50
SIG_CENTRAL = 0x02014B50
SIG_DESCRIPTOR = 0x08074B50
SIG_EOCD = 0x06054B50
SIG_Z64_EOCD = 0x06064B50
SIG_Z64_LOCATOR = 0x07064B50

FLAG_ENCRYPTED = 1 << 0
FLAG_DESCRIPTOR = 1 << 3
FLAG_UTF8 = 1 << 11

INIT = b'"""Demo package for wheelsig test vectors."""\n\n__version__ = "1.0"\n'
METADATA = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nSummary: wheelsig test vector\n"
WHEEL = b"Wheel-Version: 1.0\nGenerator: wheelsig-make-vectors\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
EVIL = b"import os\nos.system('echo this file is hidden from some ZIP readers')\n"


# ---------------------------------------------------------------------------------------------
# Encodings


def b64u(data: bytes) -> str:
    """base64url without padding (RFC 7515 / PEP 427)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def cj(obj) -> str:
    """Compact JSON (no whitespace), keys in insertion order."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True)


def deflate(data: bytes) -> bytes:
    """Raw deflate (no zlib header), level 9."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY)
    return c.compress(data) + c.flush()


# ---------------------------------------------------------------------------------------------
# A raw ZIP writer. Each Member carries its content and the fields of its local header and
# central record; `local` / `central` / `desc` dicts override any field, so a vector can make
# the two headers disagree in exactly one place.


class Member:
    def __init__(
        self,
        name: str | bytes,
        data: bytes = b"",
        method: int = 8,
        *,
        comp: bytes | None = None,
        flags: int | None = None,
        external: int | None = None,
        made_by: int = MADE_BY,
        zip64: bool = False,
        descriptor: bool = False,
        descriptor_sig: bool = True,
    ):
        self.name = name if isinstance(name, bytes) else name.encode("utf-8")
        self.data = data
        self.method = method
        if comp is None:
            comp = deflate(data) if method == 8 else data
        self.comp = comp
        self.crc = zlib.crc32(data)
        if flags is None:
            flags = 0 if self.name.isascii() else FLAG_UTF8
        if descriptor:
            flags |= FLAG_DESCRIPTOR
        self.flags = flags
        is_dir = self.name.endswith(b"/")
        if external is None:
            external = ((0o040755 << 16) | 0x10) if is_dir else (0o100644 << 16)
        self.external = external
        self.made_by = made_by
        self.zip64 = zip64
        self.version_needed = 45 if zip64 else 20
        self.descriptor_sig = descriptor_sig
        self.local_extra = b""
        self.central_extra = b""
        self.local: dict = {}  # overrides of local header fields
        self.central: dict = {}  # overrides of central record fields
        self.desc: dict = {}  # overrides of data descriptor fields

    def local_bytes(self) -> bytes:
        f = dict(
            sig=SIG_LOCAL, version=self.version_needed, flags=self.flags, method=self.method,
            time=DOS_TIME, date=DOS_DATE, crc=self.crc, csize=len(self.comp), usize=len(self.data),
            name=self.name, extra=self.local_extra,
        )
        if self.flags & FLAG_DESCRIPTOR:
            f.update(crc=0, csize=0, usize=0)
        elif self.zip64:
            f.update(csize=MAX32, usize=MAX32,
                     extra=zip64_extra(len(self.data), len(self.comp)) + self.local_extra)
        f.update(self.local)
        f.setdefault("name_len", len(f["name"]))
        f.setdefault("extra_len", len(f["extra"]))
        return struct.pack(
            "<IHHHHHIIIHH", f["sig"], f["version"], f["flags"], f["method"], f["time"], f["date"],
            f["crc"], f["csize"], f["usize"], f["name_len"], f["extra_len"],
        ) + f["name"] + f["extra"]

    def descriptor_bytes(self) -> bytes:
        if not self.flags & FLAG_DESCRIPTOR:
            return b""
        f = dict(crc=self.crc, csize=len(self.comp), usize=len(self.data))
        f.update(self.desc)
        head = struct.pack("<I", SIG_DESCRIPTOR) if self.descriptor_sig else b""
        return head + struct.pack("<III", f["crc"], f["csize"], f["usize"])

    def central_bytes(self, offset: int) -> bytes:
        f = dict(
            sig=SIG_CENTRAL, made_by=self.made_by, version=self.version_needed, flags=self.flags,
            method=self.method, time=DOS_TIME, date=DOS_DATE, crc=self.crc, csize=len(self.comp),
            usize=len(self.data), name=self.name, extra=self.central_extra, comment=b"", disk=0,
            internal=0, external=self.external, offset=offset,
        )
        if self.zip64:
            f.update(csize=MAX32, usize=MAX32, offset=MAX32,
                     extra=zip64_extra(len(self.data), len(self.comp), offset) + self.central_extra)
        f.update(self.central)
        return struct.pack(
            "<IHHHHHHIIIHHHHHII", f["sig"], f["made_by"], f["version"], f["flags"], f["method"],
            f["time"], f["date"], f["crc"], f["csize"], f["usize"], len(f["name"]), len(f["extra"]),
            len(f["comment"]), f["disk"], f["internal"], f["external"], f["offset"],
        ) + f["name"] + f["extra"] + f["comment"]


def zip64_extra(usize: int, csize: int, offset: int | None = None) -> bytes:
    body = struct.pack("<QQ", usize, csize) + (b"" if offset is None else struct.pack("<Q", offset))
    return struct.pack("<HH", 0x0001, len(body)) + body


def build_zip(
    members: list[Member],
    *,
    prefix: bytes = b"",
    after: dict[int, bytes] | None = None,
    cd_hook: Callable[[list[tuple[Member, int]], list[int]], list[tuple[Member, int]]] | None = None,
    before_end: bytes = b"",
    comment: bytes = b"",
    trailing: bytes = b"",
    eocd: dict | None = None,
    zip64: bool = False,
    z64rec: dict | None = None,
    z64loc: dict | None = None,
) -> bytes:
    """Lay out local entries (with optional `prefix` and `after[i]` bytes following entry i),
    the central directory (records as (member, local offset); `cd_hook` may reorder, add or
    drop them), optional ZIP64 end record + locator, `before_end` bytes, the end record (field
    overrides in `eocd`), its `comment`, then `trailing` bytes."""
    out = bytearray(prefix)
    offsets = []
    for i, m in enumerate(members):
        offsets.append(len(out))
        out += m.local_bytes() + m.comp + m.descriptor_bytes()
        out += (after or {}).get(i, b"")
    records = [(m, offsets[i]) for i, m in enumerate(members)]
    if cd_hook:
        records = cd_hook(records, offsets)
    cd_offset = len(out)
    cd = b"".join(m.central_bytes(off) for m, off in records)
    out += cd
    n = len(records)
    if zip64:
        rec_at = len(out)
        r = dict(size=44, made_by=MADE_BY, version=45, disk=0, cd_disk=0, n_disk=n, n_total=n,
                 cd_size=len(cd), cd_offset=cd_offset)
        r.update(z64rec or {})
        out += struct.pack("<IQHHIIQQQQ", SIG_Z64_EOCD, r["size"], r["made_by"], r["version"],
                           r["disk"], r["cd_disk"], r["n_disk"], r["n_total"], r["cd_size"],
                           r["cd_offset"])
        loc = dict(disk=0, offset=rec_at, disks=1)
        loc.update(z64loc or {})
        out += struct.pack("<IIQI", SIG_Z64_LOCATOR, loc["disk"], loc["offset"], loc["disks"])
    out += before_end
    e = dict(disk=0, cd_disk=0, n_disk=n, n_total=n, cd_size=len(cd), cd_offset=cd_offset,
             comment_len=len(comment))
    if zip64:
        e.update(n_disk=MAX16, n_total=MAX16, cd_size=MAX32, cd_offset=MAX32)
    e.update(eocd or {})
    out += struct.pack("<IHHHHIIH", SIG_EOCD, e["disk"], e["cd_disk"], e["n_disk"], e["n_total"],
                       e["cd_size"], e["cd_offset"], e["comment_len"])
    out += comment + trailing
    return bytes(out)


def eocd_bytes(data: bytes) -> bytes:
    """The last 22 bytes of an archive without a comment: its end record."""
    assert data[-22:-18] == struct.pack("<I", SIG_EOCD)
    return data[-22:]


# ---------------------------------------------------------------------------------------------
# Wheels: member lists and RECORD.


def csv_field(s: str) -> str:
    if any(c in s for c in ',"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def rec_hash(data: bytes, alg: str = "sha256") -> str:
    return f"{alg}={b64u(hashlib.new(alg, data).digest())}"


def row(path: str, data: bytes, alg: str = "sha256") -> str:
    return f"{csv_field(path)},{rec_hash(data, alg)},{len(data)}"


def base_files(di: str = DI, init: bytes = INIT) -> list[tuple[str, bytes]]:
    return [("demo/__init__.py", init), (f"{di}/METADATA", METADATA), (f"{di}/WHEEL", WHEEL)]


def make_record(files: list[tuple[str, bytes]], di: str = DI, *, eol: str = "\n",
                rows: list[str] | None = None) -> bytes:
    """RECORD listing `files` (path, content) in order, then RECORD's own row. `rows`, when
    given, replaces the generated file rows."""
    lines = rows if rows is not None else [row(p, d) for p, d in files]
    lines = lines + [f"{di}/RECORD,,"]
    return eol.join(lines).encode("utf-8") + eol.encode()


def wheel_files(wheel_text: bytes, di: str = DI) -> list[tuple[str, bytes]]:
    """The base files with another WHEEL."""
    return [(p, wheel_text if p == f"{di}/WHEEL" else d) for p, d in base_files(di)]


def members_of(files: list[tuple[str | bytes, bytes]], method: int = 8, **kw) -> list[Member]:
    return [Member(p, d, method, **kw) for p, d in files]


def wheel(files: list[tuple[str, bytes]] | None = None, record: bytes | None = None,
          di: str = DI, method: int = 8, **kw) -> list[Member]:
    """Members of a wheel: `files`, then RECORD (generated unless given)."""
    files = base_files(di) if files is None else files
    if record is None:
        record = make_record(files, di)
    return members_of(files + [(f"{di}/RECORD", record)], method, **kw)


def record_of(members: list[Member]) -> bytes:
    return next(m.data for m in members if m.name.endswith(b".dist-info/RECORD"))


# ---------------------------------------------------------------------------------------------
# Keys and signatures (SPEC.md "Keys", "JWK Set", "Signature").


class Key:
    def __init__(self, label: bytes):
        self.seed = hashlib.sha256(label).digest()
        self.sk = Ed25519PrivateKey.from_private_bytes(self.seed)
        self.pub = self.sk.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.x = b64u(self.pub)
        self.kid = thumbprint(self.x)

    def jwk(self) -> dict:
        return {"kty": "OKP", "crv": "Ed25519", "x": self.x}

    def sign(self, msg: bytes) -> bytes:
        return self.sk.sign(msg)


def thumbprint(x: str) -> str:
    """RFC 7638 thumbprint of an OKP Ed25519 key."""
    return b64u(hashlib.sha256(('{"crv":"Ed25519","kty":"OKP","x":"%s"}' % x).encode()).digest())


K1 = Key(b"wheelsig test key 1")
K2 = Key(b"wheelsig test key 2")


def record_claim(record: bytes) -> str:
    return "sha256=" + b64u(hashlib.sha256(record).digest())


def payload_json(record: bytes, *, iat: int | None = IAT, filename: str | None = None,
                 file_sha256: str | None = None) -> str:
    p: dict = {"hash": record_claim(record)}
    if iat is not None:
        p["iat"] = iat
    if filename is not None:
        p["filename"] = filename
    if file_sha256 is not None:
        p["file_sha256"] = file_sha256
    return cj(p)


def header(key: Key, alg: str = "EdDSA", **more) -> dict:
    h = {"alg": alg, "kid": key.kid, "jwk": key.jwk()}
    h.update(more)
    return h


def rfc_entry(key: Key, payload_b64: str, hdr: dict | str | None = None) -> dict:
    """One RFC 7515 signature: protected header (a dict, or exact JSON text), signed by key."""
    text = cj(header(key) if hdr is None else hdr) if not isinstance(hdr, str) else hdr
    h = b64u(text.encode())
    return {"protected": h, "signature": b64u(key.sign(f"{h}.{payload_b64}".encode()))}


def legacy_entry(key: Key, payload_b64: str) -> dict:
    """wheel 0.31's `recipients` entry: header json.dumps(..., sort_keys=True)."""
    text = json.dumps({"alg": "Ed25519", "jwk": {"kty": "Ed25519", "vk": key.x}}, sort_keys=True)
    h = b64u(text.encode())
    return {"header": h, "signature": b64u(key.sign(f"{h}.{payload_b64}".encode()))}


def jws_text(doc: dict) -> bytes:
    return (cj(doc) + "\n").encode()


def embedded_doc(record: bytes, keys: tuple[Key, ...] = (K1,), *, iat: int | None = IAT) -> dict:
    """RECORD.jws as SPEC.md says: general JSON plus the legacy `recipients`, one payload."""
    p = b64u(payload_json(record, iat=iat).encode())
    return {"payload": p, "signatures": [rfc_entry(k, p) for k in keys],
            "recipients": [legacy_entry(k, p) for k in keys]}


def detached_doc(wheel_bytes: bytes, record: bytes, keys: tuple[Key, ...] = (K1,), *,
                 filename: str = WHL, alg: str = "EdDSA", **hdr_more) -> dict:
    p = b64u(payload_json(record, filename=filename,
                          file_sha256=hashlib.sha256(wheel_bytes).hexdigest()).encode())
    return {"payload": p, "signatures": [rfc_entry(k, p, header(k, alg, **hdr_more)) for k in keys]}


def embed(members: list[Member], jws: bytes, method: int = 0) -> list[Member]:
    """Append RECORD.jws as the last member (stored, not listed in RECORD)."""
    di = record_path(members).rsplit("/", 1)[0]
    return members + [Member(f"{di}/RECORD.jws", jws, method)]


def record_path(members: list[Member]) -> str:
    return next(m.name.decode() for m in members if m.name.endswith(b".dist-info/RECORD"))


def signed_wheel(files=None, keys=(K1,), **kw) -> list[Member]:
    ms = wheel(files)
    return embed(ms, jws_text(embedded_doc(record_of(ms), keys, **kw)))


# ---------------------------------------------------------------------------------------------
# JWK Sets (trust files) written to keys/.

KEYSETS: dict[str, dict] = {}


def keyset(name: str, entries: list[tuple[Key, dict]]) -> str:
    keys = []
    for k, more in entries:
        j = k.jwk()
        j.update(kid=k.kid, use="sig", alg="EdDSA")
        j.update(more)
        keys.append(j)
    KEYSETS[name] = {"keys": keys}
    return f"keys/{name}.json"


JWKS_K1 = keyset("key1", [(K1, {})])
JWKS_K2 = keyset("key2", [(K2, {})])
JWKS_K1_DEMO = keyset("key1-demo", [(K1, {"projects": ["demo"]})])
# key1 may sign only `other`; key2 is listed for `demo`, so this set covers `demo`.
JWKS_SCOPE = keyset("key1-other-key2-demo", [(K1, {"projects": ["other"]}), (K2, {"projects": ["demo"]})])
JWKS_RETIRED_BEFORE = keyset("key1-retired-before-iat", [(K1, {"exp": IAT - DAY})])
JWKS_RETIRED_AFTER = keyset("key1-retired-after-iat", [(K1, {"exp": IAT + DAY})])


# ---------------------------------------------------------------------------------------------
# Vector registry.

VECTORS: list[dict] = []
FILES: dict[str, bytes] = {}


def emit(name: str, wheel_bytes: bytes | list[Member], *, expect: str, code: str | None = None,
         path: str | None = None, description: str, filename: str = WHL,
         detached: bytes | None = None, jwks: str | None = None, pins: dict | None = None,
         first_use: dict | None = None) -> bytes:
    assert name.startswith(("pass_", "fail_")) and all(v["name"] != name for v in VECTORS), name
    assert (expect in ("trusted", "signed", "unsigned")) == (code is None), name
    assert name.startswith("pass_") == (expect in ("trusted", "signed", "unsigned")), name
    if isinstance(wheel_bytes, list):
        wheel_bytes = build_zip(wheel_bytes)
    v: dict = {"name": name, "file": f"{name}/{filename}", "expect": expect, "code": code,
               "path": path, "description": description}
    FILES[v["file"]] = wheel_bytes
    if detached is not None:
        v["detached"] = f"{name}/{filename}.jws"
        FILES[v["detached"]] = detached
    if jwks is not None:
        assert jwks in (f"keys/{k}.json" for k in KEYSETS), jwks
        v["jwks"] = jwks
    if pins is not None:
        v["pins"] = pins
    if first_use is not None:
        v["first_use"] = first_use
    VECTORS.append(v)
    return wheel_bytes


# =============================================================================================
# pass_*: intact wheels.


def pass_vectors():
    emit("pass_unsigned", wheel(), expect="unsigned",
         description="clean wheel: __init__.py, METADATA, WHEEL (deflate) and RECORD; no signature")

    emit("pass_stored", wheel(method=0), expect="unsigned",
         description="clean wheel with every member stored (method 0)")

    ms = wheel()
    for m in ms:
        m.flags |= FLAG_DESCRIPTOR
    emit("pass_zip_data_descriptor", ms, expect="unsigned",
         description="every member has flag bit 3: local CRC/sizes are zero and a signed data "
                     "descriptor (PK\\x07\\x08) after the data agrees with the central record")

    ms = wheel()
    for m in ms:
        m.flags |= FLAG_DESCRIPTOR
        m.descriptor_sig = False
    emit("pass_zip_data_descriptor_nosig", ms, expect="unsigned",
         description="flag bit 3 with data descriptors that omit the optional PK\\x07\\x08 "
                     "signature (12 bytes: crc, sizes), consistent with the central records")

    emit("pass_zip64", build_zip(wheel(zip64=True), zip64=True), expect="unsigned",
         description="ZIP64 throughout: local and central sizes/offsets are 0xFFFFFFFF with ZIP64 "
                     "extras holding the real values, end record counts 0xFFFF / size and "
                     "offset 0xFFFFFFFF, ZIP64 end record + locator consistent")

    emit("pass_zip_comment", build_zip(wheel(), comment=b"wheelsig test vector comment"),
         expect="unsigned", description="archive comment (no signatures inside it) after the end record")

    files = base_files() + [("demo/py.typed", b"")]
    emit("pass_empty_member", wheel(files), expect="unsigned",
         description="an empty member demo/py.typed with RECORD row sha256 of b'' and size 0")

    files = base_files()
    rows = [row("demo/__init__.py", INIT, "sha384"), row(f"{DI}/METADATA", METADATA, "sha512"),
            row(f"{DI}/WHEEL", WHEEL)]
    emit("pass_record_sha384_sha512", wheel(files, make_record(files, rows=rows)),
         expect="unsigned", description="RECORD rows hashed with sha384 and sha512 (and sha256)")

    files = base_files()
    emit("pass_record_crlf", wheel(files, make_record(files, eol="\r\n")), expect="unsigned",
         description="RECORD with CRLF line endings")

    files = base_files() + [("demo/a,b.py", b"x = 1\n")]
    emit("pass_record_quoted_path", wheel(files), expect="unsigned",
         description='a member named demo/a,b.py; its RECORD row quotes the path: "demo/a,b.py"')

    files = base_files() + [("demo/café.py", b"cafe = True\n")]
    emit("pass_unicode_name", wheel(files), expect="unsigned",
         description="a non-ASCII member name (NFC U+00E9) with the UTF-8 flag (bit 11) set")

    ms = wheel()
    ms = [Member("demo/", b"", 0), ms[0], Member(f"{DI}/", b"", 0), *ms[1:]]
    emit("pass_directory_entries", ms, expect="unsigned",
         description="explicit directory entries demo/ and demo-1.0.dist-info/ (size 0, mode "
                     "040755); directories are not listed in RECORD")

    files = base_files() + [("demo-1.0.data/scripts/demo-cli", b"#!python\nprint('demo')\n")]
    emit("pass_wheel_data_dir", wheel(files), expect="unsigned",
         description="a .data directory of the right name with a scheme: demo-1.0.data/scripts/")

    di = "Demo-1.0.dist-info"
    emit("pass_wheel_dist_info_normalized", wheel(base_files(di), di=di), expect="unsigned",
         description="dist-info named Demo-1.0.dist-info: its normalized name (demo) equals the "
                     "file name's, so it is accepted")

    # --- rule 9: the file name's tags are WHEEL's -----------------------------------------------
    built = WHEEL.replace(b"Tag:", b"Build: 1\nTag:")
    emit("pass_wheel_build_tag", wheel(wheel_files(built)), expect="unsigned",
         filename="demo-1.0-1-py3-none-any.whl",
         description="file name demo-1.0-1-py3-none-any.whl with build tag 1; WHEEL says Build: 1 "
                     "and Tag: py3-none-any")

    universal = WHEEL.replace(b"Tag: py3-none-any\n", b"Tag: py2-none-any\nTag: py3-none-any\n")
    emit("pass_wheel_compressed_tags", wheel(wheel_files(universal)), expect="unsigned",
         filename="demo-1.0-py2.py3-none-any.whl",
         description="file name demo-1.0-py2.py3-none-any.whl (a compressed tag set, like six's); "
                     "WHEEL lists the expanded tags, Tag: py2-none-any and Tag: py3-none-any, as "
                     "bdist_wheel writes them")

    many = WHEEL.replace(b"Root-Is-Purelib: true", b"Root-Is-Purelib: false").replace(
        b"Tag: py3-none-any\n",
        b"Tag: cp312-cp312-manylinux_2_17_x86_64\nTag: cp312-cp312-manylinux2014_x86_64\n\n")
    emit("pass_wheel_multiple_platforms", wheel(wheel_files(many)), expect="unsigned",
         filename="demo-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
         description="an auditwheel-style name with two platform tags; WHEEL lists both expanded "
                     "tags, then the blank line email.generator writes after the headers")

    # --- signed ---------------------------------------------------------------------------------
    emit("pass_embedded_trusted", signed_wheel(), expect="trusted", jwks=JWKS_K1,
         description="embedded RECORD.jws (general JSON + legacy recipients, key 1); jwks lists "
                     "key 1 for all projects")

    emit("pass_embedded_signed", signed_wheel(), expect="signed",
         description="embedded RECORD.jws by key 1 and no trust source: validly signed, untrusted "
                     "by nobody")

    emit("pass_embedded_project_listed", signed_wheel(), expect="trusted", jwks=JWKS_K1_DEMO,
         description='embedded signature by key 1; jwks lists key 1 with "projects":["demo"]')

    ms = wheel()
    rec = record_of(ms)
    p = b64u(json.dumps({"hash": record_claim(rec)}, sort_keys=True).encode())
    doc = {"recipients": [legacy_entry(K1, p)], "payload": p}
    emit("pass_embedded_legacy_only", embed(ms, json.dumps(doc).encode()), expect="trusted",
         jwks=JWKS_K1,
         description="RECORD.jws exactly as wheel 0.31 `wheel sign` wrote it: only the legacy "
                     "recipients shape, payload {\"hash\": ...} without iat; key 1 listed (no exp)")

    files = base_files()
    ms = wheel(files)
    bts = build_zip(ms)
    doc = detached_doc(bts, record_of(ms))
    emit("pass_detached_trusted", bts, expect="trusted", jwks=JWKS_K1, detached=jws_text(doc),
         description="unsigned wheel + detached general-JSON .jws by key 1 (hash, iat, filename, "
                     "file_sha256); jwks lists key 1")

    emit("pass_detached_signed", bts, expect="signed", detached=jws_text(doc),
         description="the same detached signature with no trust source")

    flat = {"payload": doc["payload"], **doc["signatures"][0]}
    emit("pass_detached_flattened", bts, expect="trusted", jwks=JWKS_K1, detached=jws_text(flat),
         description="detached signature in RFC 7515 flattened JSON {payload, protected, signature}")

    doc9864 = detached_doc(bts, record_of(ms), alg="Ed25519")
    emit("pass_detached_alg_ed25519", bts, expect="trusted", jwks=JWKS_K1,
         detached=jws_text(doc9864),
         description='detached signature with RFC 9864 "alg":"Ed25519" and an OKP key')

    docjku = detached_doc(bts, record_of(ms), jku="https://keys.example.invalid/keys.json")
    emit("pass_detached_jku_hint", bts, expect="trusted", jwks=JWKS_K1, detached=jws_text(docjku),
         description="protected header carries a jku hint at an unreachable host; it is shown, "
                     "never fetched; trust comes from the jwks")

    emit("pass_trust_key_retired_after_iat", signed_wheel(), expect="trusted",
         jwks=JWKS_RETIRED_AFTER,
         description=f"key 1 listed with exp = iat + 1 day ({IAT + DAY}); the signature's iat "
                     f"{IAT} is before it, so it is accepted")

    emit("pass_trust_first_use_match", signed_wheel(), expect="trusted",
         first_use={PROJECT: {"kid": K1.kid}},
         description="first-use store remembers key 1 for demo; signed by key 1")

    emit("pass_trust_pin_match", signed_wheel(), expect="trusted", pins={PROJECT: [K1.kid]},
         description="demo pinned to key 1's kid; signed by key 1 (the pin alone is the trust source)")

    emit("pass_trust_extra_unknown_signature", signed_wheel(keys=(K1, K2)), expect="trusted",
         jwks=JWKS_K1,
         description="RECORD.jws with two valid signatures (key 1 and key 2, both shapes); jwks "
                     "lists only key 1: accepted, key 2 reported as not trusted")


# =============================================================================================
# Trust failures (verdict untrusted / key-changed).


def trust_vectors():
    emit("fail_trust_key_not_listed", signed_wheel(), expect="untrusted",
         code="trust-key-not-listed", jwks=JWKS_K2,
         description="signed by key 1; the jwks lists only key 2 (no projects, so it covers demo)")

    emit("fail_trust_project_scope", signed_wheel(), expect="untrusted", code="trust-project-scope",
         jwks=JWKS_SCOPE,
         description='signed by key 1; jwks lists key 1 with "projects":["other"] and key 2 with '
                     '"projects":["demo"] (so the set covers demo, but not via key 1)')

    emit("fail_trust_key_retired", signed_wheel(), expect="untrusted", code="trust-key-retired",
         jwks=JWKS_RETIRED_BEFORE,
         description=f"key 1 listed with exp = iat - 1 day ({IAT - DAY}); the signature's iat "
                     f"{IAT} is after it")

    emit("fail_trust_key_retired_no_iat", signed_wheel(iat=None), expect="untrusted",
         code="trust-key-retired", jwks=JWKS_RETIRED_AFTER,
         description="key 1 listed with an exp; the payload has no iat, so a retired key cannot "
                     "vouch for it")

    emit("fail_trust_not_pinned", signed_wheel(), expect="untrusted", code="trust-not-pinned",
         pins={PROJECT: [K2.kid]},
         description="demo pinned to key 2's kid; signed by key 1")

    emit("fail_trust_not_pinned_but_listed", signed_wheel(), expect="untrusted",
         code="trust-not-pinned", pins={PROJECT: [K2.kid]}, jwks=JWKS_K1,
         description="demo pinned to key 2; signed by key 1, which the jwks lists: pins restrict, "
                     "so the listing does not help")

    emit("fail_trust_unsigned_downgrade", wheel(), expect="untrusted",
         code="trust-unsigned-downgrade", pins={PROJECT: [K1.kid]},
         description="demo is pinned to key 1 but this wheel has no signature at all")

    emit("fail_trust_unsigned_listed", wheel(), expect="untrusted",
         code="trust-unsigned-downgrade", jwks=JWKS_K1_DEMO,
         description='jwks lists key 1 with "projects":["demo"] but the wheel is unsigned '
                     '(SPEC: "the project is pinned or listed but the wheel is unsigned")')

    emit("fail_trust_key_changed", signed_wheel(), expect="key-changed", code="trust-key-changed",
         first_use={PROJECT: {"kid": K2.kid}},
         description="first-use store remembers key 2 for demo; this wheel is signed by key 1")


# =============================================================================================
# Container failures (zip-*, zip64-*, limit-*). Unless noted, RECORD is consistent with what
# Python's zipfile reads, so a verifier that only checks RECORD through zipfile would pass them.


def container_vectors():
    # --- rule 2: one name, one entry ------------------------------------------------------------
    files = base_files()
    ms = wheel(files)
    ms = [Member("demo/__init__.py", EVIL)] + ms
    emit("fail_zip_duplicate_name", ms, expect="invalid", code="zip-duplicate-name",
         path="demo/__init__.py",
         description="two local entries and central records named demo/__init__.py (first EVIL, "
                     "then the real one, which RECORD lists); zipfile takes the last, a streaming "
                     "reader the first")

    # --- rule 2: local header vs central record, one field at a time ----------------------------
    def mismatch(field, desc, **local):
        ms = wheel()
        ms[0].local.update(local)
        emit(f"fail_zip_header_mismatch_{field}", ms, expect="invalid", code="zip-header-mismatch",
             path="demo/__init__.py", description=desc)

    mismatch("name", "local header of demo/__init__.py is named demo/_evil_.py; zipfile raises "
             "BadZipFile when opening the member", name=b"demo/_evil_.py")
    mismatch("flags", "local header flags 0x0800 (UTF-8) vs central 0x0000; zipfile ignores the "
             "local flags", flags=FLAG_UTF8)
    mismatch("method", "local header says stored (0), central says deflate (8), data is deflated; "
             "zipfile trusts the central record, a local-header reader would emit the raw "
             "deflate bytes", method=0)
    mismatch("crc", "local header CRC differs (xor 1) from the central record's correct CRC; "
             "zipfile uses the central CRC and reads it fine",
             crc=zlib.crc32(INIT) ^ 1)
    mismatch("compressed_size", "local header compressed size is 1 more than the central "
             "record's correct size; zipfile reads it fine",
             csize=len(deflate(INIT)) + 1)
    mismatch("uncompressed_size", "local header uncompressed size is 1 more than the central "
             "record's correct size; zipfile reads it fine", usize=len(INIT) + 1)

    ms = wheel()
    ms[0].flags |= FLAG_DESCRIPTOR
    ms[0].desc.update(crc=zlib.crc32(INIT) ^ 1)
    emit("fail_zip_data_descriptor_mismatch", ms, expect="invalid",
         code="zip-data-descriptor-mismatch", path="demo/__init__.py",
         description="flag bit 3 on demo/__init__.py; its data descriptor's CRC (xor 1) "
                     "disagrees with the central record (sizes agree); zipfile ignores descriptors")

    ms = wheel()
    ms[0].flags |= FLAG_DESCRIPTOR
    ms[0].desc.update(usize=len(INIT) + 100)
    emit("fail_zip_data_descriptor_size_mismatch", ms, expect="invalid",
         code="zip-data-descriptor-mismatch", path="demo/__init__.py",
         description="flag bit 3 on demo/__init__.py; its data descriptor's uncompressed size "
                     "is 100 more than the central record's")

    # --- rule 1: every byte accounted for -------------------------------------------------------
    stub = b"#!/bin/sh\necho self-extracting stub\nexit 0\n"
    emit("fail_zip_prefix_data", build_zip(wheel(), prefix=stub),
         expect="invalid", code="zip-prefix-data",
         description=f"a {len(stub)}-byte shell stub before the first local header (offsets point at the "
                     "real entries); zipfile reads it fine")

    stub = build_zip([Member("demo/__init__.py", EVIL)])
    inner = wheel()
    emit("fail_zip_concatenated", build_zip(inner, prefix=stub), expect="invalid",
         code="zip-prefix-data",
         description="a complete other archive (EVIL demo/__init__.py, its own central directory "
                     "and end record) followed by the real wheel, whose offsets are absolute: "
                     "two end records in the file; the first archive is bytes before the first "
                     "local entry the last end record reaches. zipfile sees only the last archive")

    first = build_zip([Member("demo/__init__.py", EVIL)])
    second = build_zip(wheel())
    emit("fail_zip_concatenated_unadjusted", first + second, expect="invalid",
         code="zip-cd-bounds",
         description="`cat other.zip real.whl`: the second archive's offsets are relative to its "
                     "own start, so the last end record's central directory offset+size does not "
                     "end at the end record; zipfile compensates (treats the first archive as a "
                     "prefix) and reads the real wheel")

    emit("fail_zip_gap", build_zip(wheel(), after={0: b"\x00GAP\x00junk"}), expect="invalid",
         code="zip-gap",
         description="9 bytes belonging to no entry between demo/__init__.py and METADATA; "
                     "zipfile reads it fine")

    emit("fail_zip_gap_before_cd", build_zip(wheel(), after={3: b"hidden bytes before CD"}),
         expect="invalid", code="zip-gap",
         description="22 bytes belonging to no entry between the last entry (RECORD) and the "
                     "central directory; zipfile reads it fine")

    emit("fail_zip_junk_before_eocd", build_zip(wheel(), before_end=b"JUNKJUNK"),
         expect="invalid", code="zip-cd-bounds",
         description="8 junk bytes between the central directory and the end record: the "
                     "central directory (offset+size from the end record) does not end at the "
                     "end records; zipfile compensates by assuming 8 bytes of prefix and fails "
                     "to find the central directory")

    emit("fail_zip_trailing_data", build_zip(wheel(), trailing=b"trailing garbage\n"),
         expect="invalid", code="zip-trailing-data",
         description="17 bytes after the end record (comment length 0); zipfile reads it fine")

    emit("fail_zip_trailing_nul", build_zip(wheel(), trailing=b"\x00" * 512), expect="invalid",
         code="zip-trailing-data",
         description="512 NUL bytes of padding after the end record (a decision: rejected); "
                     "zipfile reads it fine")

    real = build_zip(wheel())
    fake = eocd_bytes(real)  # a full end record with comment length 0
    emit("fail_zip_eocd_in_comment", build_zip(wheel(), comment=b"note:" + fake), expect="invalid",
         code="zip-multiple-eocd",
         description="the archive comment ends with a second complete end record (comment length "
                     "0), so two end records fit the end of the file; zipfile takes the one in "
                     "the comment, miscomputes the prefix and raises BadZipFile")

    emit("fail_zip_double_eocd", real + fake, expect="invalid", code="zip-multiple-eocd",
         description="a second copy of the end record appended after the first (neither has a "
                     "comment): two end record signatures after the central directory; zipfile "
                     "takes the last and raises BadZipFile")

    # --- rule 2: no overlap, file order ---------------------------------------------------------
    hidden = Member("demo/hidden.py", EVIL, 0)
    hidden_bytes = hidden.local_bytes() + hidden.comp
    carrier_data = b"# carrier\n" + hidden_bytes + b"\n"
    carrier = Member("demo/carrier.py", carrier_data, 0)
    files = base_files() + [("demo/carrier.py", carrier_data), ("demo/hidden.py", EVIL)]
    ms = members_of(base_files(), 8) + [carrier] + [Member(RECORD, make_record(files))]

    def nest(records, offsets):
        i = [m for m, _ in records].index(carrier)
        inner_off = offsets[i] + len(carrier.local_bytes()) + len(b"# carrier\n")
        return records[: i + 1] + [(hidden, inner_off)] + records[i + 1:]

    emit("fail_zip_overlap_nested", build_zip(ms, cd_hook=nest), expect="invalid",
         code="zip-overlap",
         description="demo/hidden.py's central record points at a local header that lies inside "
                     "demo/carrier.py's stored data (both listed in RECORD, both headers "
                     "consistent): two entries share bytes; zipfile reads both, unzip refuses (overlapped "
                     "components)")

    def alias(records, offsets):
        m0 = records[0][0]
        twin = Member("demo/alias.py", m0.data, m0.method)
        return records[:1] + [(twin, offsets[0])] + records[1:]

    files = base_files() + [("demo/alias.py", INIT)]
    ms = wheel(base_files(), make_record(files))
    emit("fail_zip_overlap_shared_header", build_zip(ms, cd_hook=alias), expect="invalid",
         code="zip-overlap",
         description="two central records (demo/__init__.py and demo/alias.py) point at the same "
                     "local header (named demo/__init__.py, so the alias also mismatches its local "
                     "name); zipfile raises BadZipFile only when opening demo/alias.py")

    def swap(records, offsets):
        r = list(records)
        r[1], r[2] = r[2], r[1]
        return r

    emit("fail_zip_entry_order", build_zip(wheel(), cd_hook=swap), expect="invalid",
         code="zip-entry-order",
         description="central records of METADATA and WHEEL swapped relative to their local "
                     "entries (no gaps or overlaps); zipfile reads it fine")

    # --- rule 1: disks, counts, bounds ----------------------------------------------------------
    emit("fail_zip_multi_disk_eocd", build_zip(wheel(), eocd=dict(disk=1, cd_disk=1)),
         expect="invalid", code="zip-multi-disk",
         description="end record says this is disk 1 and the central directory starts on disk 1; "
                     "zipfile ignores the disk numbers, unzip warns and goes on")

    ms = wheel()
    ms[1].central.update(disk=1)
    emit("fail_zip_multi_disk_entry", ms, expect="invalid", code="zip-multi-disk",
         path=f"{DI}/METADATA",
         description="METADATA's central record says it starts on disk 1; zipfile ignores it")

    emit("fail_zip_count_mismatch", build_zip(wheel(), eocd=dict(n_disk=3, n_total=3)),
         expect="invalid", code="zip-count-mismatch",
         description="end record declares 3 entries (on this disk and in total) but the central "
                     "directory holds 4 records; zipfile reads all 4 (it walks by size)")

    emit("fail_zip_count_mismatch_disk", build_zip(wheel(), eocd=dict(n_disk=3)),
         expect="invalid", code="zip-count-mismatch",
         description="end record says 3 entries on this disk but 4 in total (4 records present)")

    emit("fail_zip_cd_bounds", build_zip(wheel(), eocd=dict(cd_offset=0x10000)),
         expect="invalid", code="zip-cd-bounds",
         description="end record's central directory offset (65536) is past the end of the file; "
                     "zipfile takes the difference as a (negative) prefix, still lists the members "
                     "and fails reading them (OSError)")

    # --- ZIP64 ----------------------------------------------------------------------------------
    z = wheel(zip64=True)
    zbytes = build_zip(z, zip64=True)
    rec_at = len(zbytes) - 22 - 20 - 56
    emit("fail_zip64_locator_offset", build_zip(wheel(zip64=True), zip64=True,
                                                z64loc=dict(offset=rec_at - 8)),
         expect="invalid", code="zip64-inconsistent",
         description="ZIP64 locator points 8 bytes before the ZIP64 end record; zipfile ignores "
                     "the locator's offset (it assumes the record sits right before the locator) "
                     "and reads it fine")

    emit("fail_zip64_count_disagrees",
         build_zip(wheel(zip64=True), zip64=True, eocd=dict(n_disk=4, n_total=4),
                   z64rec=dict(n_disk=5, n_total=5)),
         expect="invalid", code="zip64-inconsistent",
         description="end record counts 4 (not the 0xFFFF placeholder) while the ZIP64 end record "
                     "counts 5; 4 central records present")

    emit("fail_zip64_placeholder_without_locator",
         build_zip(wheel(), eocd=dict(cd_offset=MAX32)), expect="invalid",
         code="zip64-inconsistent",
         description="end record's central directory offset is the ZIP64 placeholder 0xFFFFFFFF "
                     "but there is no ZIP64 locator or end record; zipfile lists the members and "
                     "fails reading them (OSError)")

    ms = wheel()
    ms[0].central.update(csize=MAX32)
    emit("fail_zip64_extra_missing", ms, expect="invalid", code="zip64-inconsistent",
         path="demo/__init__.py",
         description="demo/__init__.py's central compressed size is 0xFFFFFFFF but the record has "
                     "no ZIP64 extra field to resolve it; zipfile reads it (inflates to the end of "
                     "the stream)")

    # --- rule 3: methods, encryption, file types ------------------------------------------------
    password_header = bytes(range(1, 12))
    ms = wheel()
    m = ms[0]
    m.comp = zipcrypto(deflate(INIT), b"wheelsig", password_header + bytes([m.crc >> 24]))
    m.flags |= FLAG_ENCRYPTED
    emit("fail_zip_encrypted", ms, expect="invalid", code="zip-encrypted", path="demo/__init__.py",
         description="demo/__init__.py really encrypted with traditional PKWARE encryption "
                     "(password 'wheelsig'), flag bit 0 set in both headers; zipfile raises "
                     "RuntimeError without the password")

    ms = wheel()
    ms[0] = Member("demo/__init__.py", INIT, 12, comp=bz2.compress(INIT, 9))
    ms[0].version_needed = 46
    emit("fail_zip_method_bzip2", ms, expect="invalid", code="zip-unsupported-method",
         path="demo/__init__.py",
         description="demo/__init__.py compressed with bzip2 (method 12); zipfile reads it")

    ms = wheel()
    ms[0] = Member("demo/__init__.py", INIT, 14, comp=zip_lzma(INIT), flags=1 << 1)
    ms[0].version_needed = 63
    emit("fail_zip_method_lzma", ms, expect="invalid", code="zip-unsupported-method",
         path="demo/__init__.py",
         description="demo/__init__.py compressed with LZMA (method 14, EOS flag bit 1, "
                     "as zipfile writes it); zipfile reads it")

    target = b"__init__.py"
    files = base_files() + [("demo/link.py", target)]
    ms = wheel(files)
    ms[3] = Member("demo/link.py", target, 0, external=(0o120777 << 16))
    emit("fail_zip_symlink", ms, expect="invalid", code="zip-not-regular-file", path="demo/link.py",
         description="demo/link.py has Unix mode 0o120777 (symlink to __init__.py) in its "
                     "external attributes, made by Unix; RECORD lists its content; zipfile "
                     "extracts it as a regular file")

    files = base_files()
    ms = wheel(files)
    ms.insert(1, Member("demo/data/", b"hidden directory payload\n", 8))
    emit("fail_zip_directory_with_data", ms, expect="invalid", code="zip-bad-directory",
         path="demo/data/",
         description="directory entry demo/data/ (trailing /, mode 040755) with 25 bytes of "
                     "deflated content and matching sizes/CRC; zipfile reads the bytes")

    # --- rule 3: inflate exactly ----------------------------------------------------------------
    ms = wheel()
    ms[0].local.update(usize=len(INIT) + 1)
    ms[0].central.update(usize=len(INIT) + 1)
    emit("fail_zip_size_declared_larger", ms, expect="invalid", code="zip-size-mismatch",
         path="demo/__init__.py",
         description="both headers declare demo/__init__.py 1 byte longer than it inflates to "
                     "(CRC and RECORD match the real content); zipfile reads it without error")

    ms = wheel()
    ms[0].local.update(usize=len(INIT) - 1)
    ms[0].central.update(usize=len(INIT) - 1)
    emit("fail_zip_size_declared_smaller", ms, expect="invalid", code="zip-size-mismatch",
         path="demo/__init__.py",
         description="both headers declare demo/__init__.py 1 byte shorter than it inflates to "
                     "(CRC of the full content); zipfile stops at the declared size and raises "
                     "BadZipFile (Bad CRC-32)")

    ms = wheel()
    ms[0].comp = deflate(INIT) + b"JUNK"
    emit("fail_zip_compressed_size_mismatch", ms, expect="invalid",
         code="zip-compressed-size-mismatch", path="demo/__init__.py",
         description="demo/__init__.py's deflate stream ends 4 bytes before its declared "
                     "compressed size (4 junk bytes inside the compressed region, sizes agree in "
                     "both headers); zipfile ignores them")

    ms = wheel()
    ms[0].comp = b"\x07" + deflate(INIT)[1:]
    emit("fail_zip_bad_deflate", ms, expect="invalid", code="zip-bad-deflate",
         path="demo/__init__.py",
         description="demo/__init__.py's deflate stream starts with block type 3 (reserved, "
                     "invalid); zipfile raises zlib.error")

    ms = wheel()
    ms[0].crc ^= 1
    emit("fail_zip_crc_mismatch", ms, expect="invalid", code="zip-crc-mismatch",
         path="demo/__init__.py",
         description="both headers agree on a CRC-32 (xor 1) that differs from the content's; "
                     "zipfile raises BadZipFile (Bad CRC-32)")

    # --- rule 4: names --------------------------------------------------------------------------
    def bad_name(tag, raw: bytes, desc, flags=None, path_known=True, listed=True):
        files = base_files()
        extra = Member(raw, EVIL, 8, flags=flags)
        rows = [row(p, d) for p, d in files]
        if listed:
            rows.append(row(raw.decode("utf-8"), EVIL))
        ms = members_of(files) + [extra, Member(RECORD, make_record(files, rows=rows))]
        emit(f"fail_zip_name_{tag}", ms, expect="invalid", code="zip-bad-name",
             path=raw.decode("utf-8") if path_known else None, description=desc)

    bad_name("backslash", b"demo\\evil.py", "member named demo\\evil.py (backslash); Windows "
             "extractors treat it as a directory separator")
    bad_name("leading_slash", b"/tmp/evil.py", "member named /tmp/evil.py (absolute path)")
    bad_name("dotdot", b"demo/../../evil.py", "member named demo/../../evil.py (.. components, "
             "escapes the install root)")
    bad_name("dot", b"demo/./evil.py", "member named demo/./evil.py (. component)")
    bad_name("empty_component", b"demo//evil.py", "member named demo//evil.py (empty component)")
    bad_name("drive_letter", b"C:/evil.py", "member named C:/evil.py (drive letter)")
    bad_name("control_char", b"demo/evil\x01.py", "member name contains control character U+0001")
    bad_name("newline", b"demo/evil\n.py", "member name contains a line feed")
    bad_name("del", b"demo/evil\x7f.py", "member name contains DEL (U+007F)")
    bad_name("u2028", "demo/evil\u2028.py".encode(), "member name contains U+2028 LINE "
             "SEPARATOR (str.splitlines splits on it), UTF-8 flag set")
    bad_name("u2029", "demo/evil\u2029.py".encode(), "member name contains U+2029 PARAGRAPH "
             "SEPARATOR, UTF-8 flag set")
    bad_name("u0085", "demo/evil\u0085.py".encode(), "member name contains U+0085 NEXT LINE "
             "(a C1 control; str.splitlines splits on it), UTF-8 flag set")
    bad_name("non_ascii_no_utf8_flag", "demo/café.py".encode(), "member name is UTF-8 "
             "demo/café.py but the UTF-8 flag is clear: zipfile decodes it as CP437 "
             "(demo/caf\u251c\u2310.py), other readers as UTF-8", flags=0, path_known=False)
    bad_name("invalid_utf8", b"demo/caf\xe9.py", "member name demo/caf\\xe9.py is not valid "
             "UTF-8 although the UTF-8 flag is set; zipfile raises UnicodeDecodeError",
             flags=FLAG_UTF8, path_known=False, listed=False)
    bad_name("empty", b"", "a member with an empty name (not listed in RECORD)",
             path_known=False, listed=False)

    def collide(tag, a: str, b: str, desc, path):
        files = base_files() + [(a, b"x = 'first'\n"), (b, b"x = 'second'\n")]
        emit(f"fail_zip_collision_{tag}", wheel(files), expect="invalid", code="zip-name-collision",
             path=path, description=desc)

    collide("case", "demo/A.py", "demo/a.py", "members demo/A.py and demo/a.py overwrite each other "
            "on case-insensitive file systems (macOS, Windows)", "demo/a.py")
    collide("nfc_nfd", unicodedata.normalize("NFC", "demo/café.py"),
            unicodedata.normalize("NFD", "demo/café.py"),
            "members demo/caf\\u00e9.py (NFC) and demo/cafe\\u0301.py (NFD) are the same name "
            "after Unicode normalization (macOS)", unicodedata.normalize("NFD", "demo/café.py"))
    collide("file_dir", "demo/x", "demo/x/y.py", "member demo/x is a file and also the parent "
            "directory of member demo/x/y.py", "demo/x/y.py")

    # --- limits ---------------------------------------------------------------------------------
    long_name = "demo/" + "a" * 4092 + ".py"  # 4100 bytes
    files = base_files() + [(long_name, b"long = True\n")]
    emit("fail_limit_name_length", wheel(files), expect="invalid", code="limit-name-length",
         description="a member name of 4100 bytes (limit 4096, Linux PATH_MAX); listed in RECORD")

    # --- rule 2: extra fields -------------------------------------------------------------------
    def extras(tag, code, blob, desc, local_too=True):
        ms = wheel()
        ms[0].central_extra = blob
        if local_too:
            ms[0].local_extra = blob
        emit(f"fail_zip_extra_{tag}", ms, expect="invalid", code=code, path="demo/__init__.py",
             description=desc)

    extras("junk3", "zip-bad-extra", b"\x00\x00\x00",
           "demo/__init__.py's local and central extra fields are 3 junk bytes (too short for an "
           "id+length header; a decision: rejected); zipfile ignores them")
    extras("overrun", "zip-bad-extra", struct.pack("<HH", 0x5455, 100) + b"\x01\x00\x00\x00\x00",
           "an extended-timestamp extra (0x5455) declares 100 bytes of data but only 5 follow; "
           "zipfile raises BadZipFile (Corrupt extra field)")
    ut = struct.pack("<HHBI", 0x5455, 5, 1, 1767225600)
    extras("duplicate", "zip-duplicate-extra", ut + ut,
           "extended-timestamp extra field 0x5455 appears twice in demo/__init__.py's headers")
    upath = struct.pack("<HHBI", 0x7075, 5 + len(b"demo/evil.py"), 1,
                        zlib.crc32(b"demo/__init__.py")) + b"demo/evil.py"
    extras("unicode_path", "zip-unicode-path-mismatch", upath,
           "demo/__init__.py carries an Info-ZIP Unicode path extra (0x7075, CRC of the header "
           "name correct) naming demo/evil.py: Info-ZIP unzip lists and extracts it as "
           "demo/evil.py, CPython 3.11's zipfile ignores the extra")

    # --- rule 10: no per-entry comments --------------------------------------------------------
    ms = wheel()
    note = b"wheelsig test vector entry comment"
    ms[0].central.update(comment=note)
    emit("fail_zip_entry_comment", ms, expect="invalid", code="zip-entry-comment",
         path="demo/__init__.py",
         description=f"demo/__init__.py's central record carries a {len(note)}-byte file comment (the only "
                     "defect); PyPI rejects these on upload (\"Comment in central directory\"), "
                     "zipfile reads it fine and exposes it as ZipInfo.comment")

    # --- structure ------------------------------------------------------------------------------
    ms = wheel()
    ms[1].local.update(sig=SIG_DESCRIPTOR)
    emit("fail_zip_bad_local_signature", ms, expect="invalid", code="zip-bad-header",
         path=f"{DI}/METADATA",
         description="METADATA's local header starts with PK\\x07\\x08 instead of PK\\x03\\x04; "
                     "zipfile raises BadZipFile when opening it")

    ms = wheel()
    ms[0].central.update(sig=0x02014B51)
    emit("fail_zip_bad_central_signature", ms, expect="invalid", code="zip-bad-header",
         description="the first central record's signature is PK\\x01\\x02 with the last byte +1; "
                     "zipfile raises BadZipFile")

    whole = build_zip(wheel())
    cd_start = struct.unpack("<I", whole[-6:-2])[0]
    cd_size = struct.unpack("<I", whole[-10:-6])[0]
    emit("fail_zip_truncated_in_cd", whole[: cd_start + cd_size // 2], expect="invalid",
         code="zip-no-eocd",
         description="the file cut in the middle of the central directory: no end record "
                     "survives, so all that can be said is that there is none; zipfile raises "
                     "BadZipFile")

    emit("fail_zip_truncated_comment", build_zip(wheel(), comment=b"0123456789",
                                                 eocd=dict(comment_len=40)),
         expect="invalid", code="zip-truncated",
         description="end record declares a 40-byte comment but the file ends 10 bytes into it; "
                     "zipfile accepts the short comment and reads the archive")

    emit("fail_zip_truncated_eocd", whole[:-8], expect="invalid", code="zip-truncated",
         description="the file ends 14 bytes into the 22-byte end record (its signature and "
                     "disk/count fields are there, sizes and offset are cut); zipfile raises "
                     "BadZipFile")

    # --- limits that are cheap to write ---------------------------------------------------------
    files = base_files()
    record = make_record(files) + b"\n" * (64 << 20)
    emit("fail_limit_record_size", wheel(files, record), expect="invalid", code="limit-record-size",
         path=RECORD,
         description=f"RECORD is 64 MiB + {len(record) - (64 << 20)} bytes (its rows followed "
                     "by 64 MiB of newlines), over the 64 MiB limit; it deflates to ~65 KB")

    ms = wheel()
    doc = jws_text(embedded_doc(record_of(ms)))
    padded = doc[:-1] + b" " * (1 << 20) + b"\n"
    emit("fail_limit_signature_size", embed(ms, padded, method=8), expect="invalid",
         code="limit-signature-size", path=JWS,
         description="RECORD.jws is a valid embedded signature by key 1 followed by 1 MiB of "
                     "JSON whitespace (deflated), over the 1 MiB limit")

    # --- rule 11: PyPI's compression ratio ---------------------------------------------------
    zeros = bytes(256 << 20)
    files = base_files() + [("demo/zeros.bin", zeros)]
    data = build_zip(wheel(files))
    assert len(zeros) > 50 * len(data), len(data)
    emit("fail_limit_compression_ratio", data, expect="invalid", code="limit-compression-ratio",
         description=f"demo/zeros.bin is 256 MiB of zeros, correctly listed in RECORD, in a "
                     f"{len(data)}-byte file: over 64 MiB uncompressed and about "
                     f"{(256 << 20) // len(data)}:1 overall, over PyPI's 50:1 upload limit; "
                     "zipfile reads it fine")


def zipcrypto(data: bytes, password: bytes, header12: bytes) -> bytes:
    """Traditional PKWARE encryption (APPNOTE 6.1): 12-byte header then data."""
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)
    k = [0x12345678, 0x23456789, 0x34567890]

    def crc(old, b):
        return table[(old ^ b) & 0xFF] ^ (old >> 8)

    def update(b):
        k[0] = crc(k[0], b)
        k[1] = (k[1] + (k[0] & 0xFF)) & 0xFFFFFFFF
        k[1] = (k[1] * 134775813 + 1) & 0xFFFFFFFF
        k[2] = crc(k[2], k[1] >> 24)

    for b in password:
        update(b)
    out = bytearray()
    for b in header12 + data:
        t = (k[2] | 2) & 0xFFFF
        out.append(b ^ (((t * (t ^ 1)) >> 8) & 0xFF))
        update(b)
    return bytes(out)


def zip_lzma(data: bytes) -> bytes:
    """LZMA as APPNOTE 5.8.8 and zipfile's LZMACompressor lay it out: version, props size, props,
    raw LZMA1 stream with end marker."""
    props = lzma._encode_filter_properties({"id": lzma.FILTER_LZMA1})
    filt = lzma._decode_filter_properties(lzma.FILTER_LZMA1, props)
    comp = lzma.LZMACompressor(lzma.FORMAT_RAW, filters=[filt])
    return struct.pack("<BBH", 9, 4, len(props)) + props + comp.compress(data) + comp.flush()


# =============================================================================================
# Wheel layout failures (wheel-*).


def wheel_vectors():
    ms = wheel()
    emit("fail_wheel_bad_filename", ms, expect="invalid", code="wheel-bad-filename",
         filename="demo-1.0-py3-none.whl",
         description="file named demo-1.0-py3-none.whl: 4 dash-separated parts, not a PEP 427 "
                     "wheel name (content is a clean demo 1.0 wheel)")

    files = [("demo/__init__.py", INIT), ("demo/METADATA", METADATA)]
    emit("fail_wheel_no_dist_info", members_of(files), expect="invalid", code="wheel-no-dist-info",
         description="no top-level .dist-info directory at all (demo/__init__.py, demo/METADATA)")

    od = "other-1.0.dist-info"
    files = base_files() + [(f"{od}/METADATA", METADATA.replace(b"demo", b"other")),
                            (f"{od}/WHEEL", WHEEL)]
    emit("fail_wheel_multiple_dist_info", wheel(files), expect="invalid",
         code="wheel-multiple-dist-info",
         description="two top-level .dist-info directories: demo-1.0.dist-info (with RECORD "
                     "listing everything) and other-1.0.dist-info")

    di = "other-1.0.dist-info"
    emit("fail_wheel_dist_info_name_mismatch", wheel(base_files(di), di=di), expect="invalid",
         code="wheel-dist-info-mismatch",
         description="the only .dist-info is other-1.0.dist-info in a file named demo-1.0-...")

    di = "demo-1.1.dist-info"
    emit("fail_wheel_dist_info_version_mismatch", wheel(base_files(di), di=di), expect="invalid",
         code="wheel-dist-info-mismatch",
         description="the only .dist-info is demo-1.1.dist-info in a file named demo-1.0-...")

    files = base_files() + [("other-1.0.data/purelib/x.py", EVIL)]
    emit("fail_wheel_data_dir_other_name", wheel(files), expect="invalid", code="wheel-bad-data-dir",
         path="other-1.0.data/purelib/x.py",
         description="member other-1.0.data/purelib/x.py: a .data directory of another "
                     "distribution (listed in RECORD)")

    files = base_files() + [("demo-1.0.data/x.py", EVIL)]
    emit("fail_wheel_data_dir_no_scheme", wheel(files), expect="invalid", code="wheel-bad-data-dir",
         path="demo-1.0.data/x.py",
         description="member demo-1.0.data/x.py: a file directly in .data, without a scheme "
                     "directory (purelib, scripts, ...)")

    emit("fail_wheel_missing_record", members_of(base_files()), expect="invalid",
         code="wheel-missing-record",
         description="no demo-1.0.dist-info/RECORD (METADATA and WHEEL present)")

    files = base_files()[:2]
    emit("fail_wheel_missing_wheel", wheel(files), expect="invalid", code="wheel-missing-wheel",
         description="no demo-1.0.dist-info/WHEEL (RECORD lists what is there)")

    files = [base_files()[0], base_files()[2]]
    emit("fail_wheel_missing_metadata", wheel(files), expect="invalid",
         code="wheel-missing-metadata",
         description="no demo-1.0.dist-info/METADATA (RECORD lists what is there)")

    # --- rule 9: the file name's build and compatibility tags are WHEEL's -------------------
    wp = f"{DI}/WHEEL"
    emit("fail_wheel_tag_mismatch_platform", wheel(), expect="invalid", code="wheel-tag-mismatch",
         path=wp, filename="demo-1.0-py3-none-win_amd64.whl",
         description="a pure wheel (WHEEL: Tag: py3-none-any) named demo-1.0-py3-none-win_amd64.whl: "
                     "the platform tag differs; pip would pick it as a Windows build")

    emit("fail_wheel_tag_mismatch_subset", wheel(), expect="invalid", code="wheel-tag-mismatch",
         path=wp, filename="demo-1.0-py2.py3-none-any.whl",
         description="named demo-1.0-py2.py3-none-any.whl, but WHEEL lists only Tag: py3-none-any: "
                     "the file name claims py2-none-any too")

    built = WHEEL.replace(b"Tag:", b"Build: 1\nTag:")
    emit("fail_wheel_tag_mismatch_build", wheel(wheel_files(built)), expect="invalid",
         code="wheel-tag-mismatch", path=wp, filename="demo-1.0-2-py3-none-any.whl",
         description="WHEEL says Build: 1, the file name demo-1.0-2-py3-none-any.whl says build 2 "
                     "(installers prefer the higher build of the same version)")

    emit("fail_wheel_tag_mismatch_renamed_signed", signed_wheel(), expect="invalid",
         code="wheel-tag-mismatch", path=wp, jwks=JWKS_K1,
         filename="demo-1.0-7-cp312-cp312-manylinux_2_17_x86_64.whl",
         description="pass_embedded_trusted's bytes (embedded signature by key 1, which the jwks "
                     "lists; WHEEL: Tag: py3-none-any, no Build) renamed to "
                     "demo-1.0-7-cp312-cp312-manylinux_2_17_x86_64.whl: name and version still "
                     "match the .dist-info, but the build tag and every compatibility tag differ "
                     "from WHEEL, which the signature covers")

    hidden = WHEEL + b"\nTag: cp312-cp312-win_amd64\n"
    emit("fail_wheel_bad_wheel_file_body", wheel(wheel_files(hidden)), expect="invalid",
         code="wheel-bad-wheel-file", path=wp,
         description="WHEEL's headers, a blank line, then Tag: cp312-cp312-win_amd64: Python's "
                     "email parser (pip, installer) reads that line as the message body, a line "
                     "splitter as a Tag header")

    folded = WHEEL.replace(b"Tag: py3-none-any\n", b"Tag: py3-none-any\n cp312-cp312-win_amd64\n")
    emit("fail_wheel_bad_wheel_file_continuation", wheel(wheel_files(folded)), expect="invalid",
         code="wheel-bad-wheel-file", path=wp,
         description="a continuation line (leading space) after Tag: py3-none-any: Python's email "
                     "parser folds it into that Tag's value, a line reader sees another line")

    big = WHEEL + b"\n" * (64 << 10)
    emit("fail_wheel_bad_wheel_file_size", wheel(wheel_files(big)), expect="invalid",
         code="wheel-bad-wheel-file", path=wp,
         description=f"WHEEL is {len(big)} bytes (its headers, then 64 KiB of blank lines), over "
                     "the 64 KiB bound on WHEEL")


# =============================================================================================
# RECORD failures (record-*).


def record_vectors():
    files = base_files()
    good = [row(p, d) for p, d in files]
    digest = hashlib.sha256(INIT).digest()

    def rec(name, code, record: bytes, desc, path=RECORD, fs=None):
        emit(f"fail_record_{name}", wheel(fs or files, record), expect="invalid", code=code,
             path=path, description=desc)

    def rows_with(first: str, *more: str) -> list[str]:
        return [first, *good[1:], *more]

    rec("bom", "record-encoding", b"\xef\xbb\xbf" + make_record(files),
        "RECORD starts with a UTF-8 byte order mark")

    cafe = [("demo/café.py", b"cafe = True\n")]
    rows = good + [row("demo/café.py", b"cafe = True\n")]
    rec("not_utf8", "record-encoding", make_record(files, rows=rows).replace(
        "café".encode(), "café".encode("latin-1")),
        "RECORD is Latin-1, not UTF-8: the row for member demo/café.py spells é as byte 0xE9",
        fs=files + cafe)

    rec("two_fields", "record-syntax", make_record(files, rows=rows_with(
        f"demo/__init__.py,{rec_hash(INIT)}")),
        "the demo/__init__.py row has 2 fields (path,hash)")
    rec("four_fields", "record-syntax", make_record(files, rows=rows_with(
        f"demo/__init__.py,{rec_hash(INIT)},{len(INIT)},extra")),
        "the demo/__init__.py row has 4 fields")
    rec("bad_quoting", "record-syntax", make_record(files, rows=rows_with(
        f'"demo/__init__.py,{rec_hash(INIT)},{len(INIT)}')),
        "the demo/__init__.py row opens a quote that is never closed")

    rec("duplicate", "record-duplicate", make_record(files, rows=good + [good[0]]),
        "the demo/__init__.py row appears twice (identical)", path="demo/__init__.py")

    for tag, p, what in [("absolute", "/demo/__init__.py", "an absolute path"),
                         ("dotdot", "demo/../demo/__init__.py", "a .. component"),
                         ("backslash", "demo\\__init__.py", "a backslash"),
                         ("drive_letter", "C:/demo/__init__.py", "a drive letter")]:
        rec(f"path_{tag}", "record-bad-path", make_record(files, rows=rows_with(row(p, INIT))),
            f"the row for demo/__init__.py names it {p} ({what}); the member itself is then "
            "unlisted too", path=p)

    rec("hash_md5", "record-hash-algorithm", make_record(files, rows=rows_with(
        f"demo/__init__.py,md5={b64u(hashlib.md5(INIT).digest())},{len(INIT)}")),
        "the demo/__init__.py row is hashed with md5 (correct md5 digest)", path="demo/__init__.py")

    rec("hash_padded", "record-bad-hash", make_record(files, rows=rows_with(
        f"demo/__init__.py,sha256={b64u(digest)}=,{len(INIT)}")),
        "the demo/__init__.py sha256 digest is correct but base64url-padded with '='",
        path="demo/__init__.py")

    # A member whose sha256 contains '-' or '_' in base64url, so the standard alphabet differs.
    n = 0
    while True:
        std_data = b"n = %d\n" % n
        d = hashlib.sha256(std_data).digest()
        if any(c in b64u(d) for c in "-_"):
            break
        n += 1
    std = base64.b64encode(d).rstrip(b"=").decode()
    fs = files + [("demo/std.py", std_data)]
    rec("hash_standard_alphabet", "record-bad-hash", make_record(fs, rows=good + [
        f"demo/std.py,sha256={std},{len(std_data)}"]),
        f"the demo/std.py digest is written in the standard base64 alphabet ({std}), not "
        "base64url", path="demo/std.py", fs=fs)

    rec("hash_wrong_length", "record-bad-hash", make_record(files, rows=rows_with(
        f"demo/__init__.py,sha256={b64u(hashlib.sha384(INIT).digest())},{len(INIT)}")),
        "the demo/__init__.py row says sha256 but carries a 48-byte (sha384) digest",
        path="demo/__init__.py")

    s = b64u(digest)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    noncanon = s[:-1] + alphabet[alphabet.index(s[-1]) | 1]
    assert base64.urlsafe_b64decode(noncanon + "=") == digest and noncanon != s
    rec("hash_noncanonical", "record-bad-hash", make_record(files, rows=rows_with(
        f"demo/__init__.py,sha256={noncanon},{len(INIT)}")),
        "the demo/__init__.py digest's last base64url character has a non-zero unused bit "
        "(decodes leniently to the right digest, but is not canonical)", path="demo/__init__.py")

    for tag, size in [("plus", f"+{len(INIT)}"), ("space", f" {len(INIT)}")]:
        rec(f"size_{tag}", "record-bad-size", make_record(files, rows=rows_with(
            f"demo/__init__.py,{rec_hash(INIT)},{size}")),
            f"the demo/__init__.py size is {size!r} (int() accepts it, but it is not plain digits)",
            path="demo/__init__.py")

    rec("self_row_hash", "record-self-row",
        make_record(files).replace(f"{RECORD},,".encode(), f"{RECORD},{rec_hash(b'x')},1".encode()),
        "RECORD's own row carries a hash and size instead of being exactly "
        "demo-1.0.dist-info/RECORD,,")
    rec("self_row_missing", "record-self-row",
        make_record(files).replace(f"{RECORD},,\n".encode(), b""),
        "RECORD does not list itself")

    rec("missing_hash", "record-missing-hash", make_record(files, rows=rows_with(
        f"demo/__init__.py,,{len(INIT)}")),
        "the demo/__init__.py row has no hash", path="demo/__init__.py")

    rec("missing_file", "record-missing-file", make_record(files, rows=good + [
        row("demo/gone.py", b"gone = True\n")]),
        "RECORD lists demo/gone.py, which is not in the archive", path="demo/gone.py")

    fs = files + [("demo/extra.py", EVIL)]
    rec("unlisted_file", "record-unlisted-file", make_record(files),
        "member demo/extra.py is in the archive but not in RECORD", path="demo/extra.py", fs=fs)

    fs = files + [("demo/RECORD.jws", b'{"not":"a signature"}\n')]
    rec("unlisted_jws_elsewhere", "record-unlisted-file", make_record(files),
        "member demo/RECORD.jws is not listed; only exactly demo-1.0.dist-info/RECORD.jws is "
        "exempt", path="demo/RECORD.jws", fs=fs)

    nfc = unicodedata.normalize("NFC", "demo/café.py")
    nfd = unicodedata.normalize("NFD", "demo/café.py")
    fs = files + [(nfc, b"cafe = True\n")]
    rec("path_not_byte_equal", "record-unlisted-file", make_record(fs, rows=good + [
        row(nfd, b"cafe = True\n")]),
        "member demo/caf\\u00e9.py (NFC) is listed in RECORD as demo/cafe\\u0301.py (NFD): "
        "paths must be byte-equal, so the member is unlisted (and the row's file missing)",
        path=nfc, fs=fs)

    rec("hash_mismatch", "record-hash-mismatch", make_record(files, rows=rows_with(
        f"demo/__init__.py,{rec_hash(EVIL)},{len(INIT)}")),
        "the demo/__init__.py row carries another file's sha256 (size correct)",
        path="demo/__init__.py")

    rec("size_mismatch", "record-size-mismatch", make_record(files, rows=rows_with(
        f"demo/__init__.py,{rec_hash(INIT)},{len(INIT) + 1}")),
        "the demo/__init__.py row's size is 1 more than the member's (hash correct)",
        path="demo/__init__.py")


# =============================================================================================
# Signature failures (sig-*).


def signature_vectors():
    ms = wheel()
    rec = record_of(ms)
    p = b64u(payload_json(rec).encode())
    legacy = legacy_entry(K1, p)

    def sig(name, code, doc: dict | bytes, desc, jwks=JWKS_K1, members=None, path=JWS):
        body = doc if isinstance(doc, bytes) else jws_text(doc)
        emit(f"fail_sig_{name}", embed(members or wheel(), body), expect="invalid", code=code,
             path=path, jwks=jwks, description=desc)

    def with_header(hdr, key=K1, payload=p, legacy_too=True):
        d = {"payload": payload, "signatures": [rfc_entry(key, payload, hdr)]}
        if legacy_too:
            d["recipients"] = [legacy_entry(K1, payload)]
        return d

    sig("alg_none", "sig-unsupported-alg", with_header(header(K1, "none")),
        'protected header "alg":"none" (the Ed25519 signature over it is valid, so a verifier '
        "that ignores alg would accept); legacy entry valid")

    h = b64u(cj(header(K1, "HS256")).encode())
    mac = hmac.new(K1.pub, f"{h}.{p}".encode(), hashlib.sha256).digest()
    sig("alg_hs256", "sig-unsupported-alg",
        {"payload": p, "signatures": [{"protected": h, "signature": b64u(mac)}],
         "recipients": [legacy]},
        'protected header "alg":"HS256", signature = HMAC-SHA256 keyed with the public key '
        "bytes (algorithm confusion)")

    sig("crit", "sig-crit", with_header(header(K1, crit=["wheelsig-test"], **{"wheelsig-test": 1})),
        'protected header has "crit":["wheelsig-test"] (and that member); signature valid')

    sig("b64_false", "sig-b64", with_header(header(K1, b64=False)),
        'protected header has "b64":false (no crit); the signature is valid over the ordinary '
        "base64url payload")

    e = rfc_entry(K1, p)
    e["header"] = {"kid": K1.kid}
    sig("header_overlap", "sig-header-overlap", {"payload": p, "signatures": [e], "recipients": [legacy]},
        "kid is in both the protected header and the unprotected header; signature valid")

    dup_payload = ('{"hash":"%s","hash":"%s","iat":%d}'
                   % (record_claim(b"other RECORD"), record_claim(rec), IAT))
    dp = b64u(dup_payload.encode())
    sig("duplicate_member_payload", "sig-duplicate-member",
        {"payload": dp, "signatures": [rfc_entry(K1, dp)], "recipients": [legacy_entry(K1, dp)]},
        'payload JSON has "hash" twice (first another RECORD\'s, last the right one, which '
        "Python's json keeps); signatures valid")

    hdr_text = ('{"alg":"EdDSA","kid":"%s","kid":"%s","jwk":%s}' % (K2.kid, K1.kid, cj(K1.jwk())))
    sig("duplicate_member_header", "sig-duplicate-member", with_header(hdr_text),
        'protected header JSON has "kid" twice (key 2\'s, then key 1\'s); signature valid')

    other_p = b64u(payload_json(b"other RECORD").encode())
    top = ('{"payload":"%s","payload":"%s","signatures":%s,"recipients":%s}\n'
           % (other_p, p, cj([rfc_entry(K1, p)]), cj([legacy])))
    sig("duplicate_member_top", "sig-duplicate-member", top.encode(),
        'top-level JSON has "payload" twice (another RECORD\'s claim first, the signed one last)')

    e = rfc_entry(K1, p)
    assert len(e["signature"]) % 4 != 0
    e["signature"] += "=" * (-len(e["signature"]) % 4)
    sig("padded_base64", "sig-bad-base64", {"payload": p, "signatures": [e], "recipients": [legacy]},
        "the RFC 7515 signature value is base64url with '=' padding")

    e = rfc_entry(K1, p)
    assert any(c in e["signature"] for c in "-_"), "pick another field"
    e["signature"] = e["signature"].replace("-", "+").replace("_", "/")
    sig("standard_base64", "sig-bad-base64", {"payload": p, "signatures": [e], "recipients": [legacy]},
        "the RFC 7515 signature value uses the standard base64 alphabet (+ /) instead of base64url")

    ident = b64u(b"\x01" + b"\x00" * 31)
    small = {"alg": "EdDSA", "kid": thumbprint(ident), "jwk": {"kty": "OKP", "crv": "Ed25519", "x": ident}}
    sh = b64u(cj(small).encode())
    forged = b64u(b"\x01" + b"\x00" * 31 + b"\x00" * 32)  # R = identity, S = 0
    sig("small_order_key", "sig-bad-key",
        {"payload": p, "signatures": [{"protected": sh, "signature": forged}]},
        "header key x is the identity point (0x01 then 31 zero bytes, small order), kid its "
        "thumbprint; the signature R=identity, S=0 holds for any message under a non-strict check "
        "(OpenSSL, via Python cryptography 50, accepts it)")

    # y = p + 3: a non-canonical encoding of a point of large order (y = 3 is on the curve).
    y = (2**255 - 19) + 3
    nc = b64u(y.to_bytes(32, "little"))
    ncjwk = {"kty": "OKP", "crv": "Ed25519", "x": nc}
    sig("noncanonical_key", "sig-bad-key",
        with_header({"alg": "EdDSA", "kid": thumbprint(nc), "jwk": ncjwk}, legacy_too=False),
        "header key x encodes y = 2^255 - 16 = p + 3, a non-canonical encoding of a point of "
        "large order (kid its thumbprint); the signature (key 1's) cannot verify either, since "
        "nobody knows this key's secret")

    k1x = K1.x
    lastbits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    bad_x = k1x[:-1] + lastbits[lastbits.index(k1x[-1]) | 1]
    assert base64.urlsafe_b64decode(bad_x + "=") == K1.pub and bad_x != k1x
    sig("key_x_noncanonical_base64", "sig-bad-key",
        with_header({"alg": "EdDSA", "kid": K1.kid,
                     "jwk": {"kty": "OKP", "crv": "Ed25519", "x": bad_x}}),
        "header jwk x is key 1 with a non-zero unused bit in the last base64url character "
        "(decodes leniently to key 1; signature by key 1 valid)")

    sig("kid_mismatch", "sig-kid-mismatch", with_header(header(K1) | {"kid": K2.kid}),
        "protected header kid is key 2's thumbprint, jwk and signature are key 1's")

    e = rfc_entry(K1, p)
    raw = bytearray(base64.urlsafe_b64decode(e["signature"] + "=="))
    raw[10] ^= 0x01
    e["signature"] = b64u(bytes(raw))
    sig("bad_signature", "sig-bad-signature", {"payload": p, "signatures": [e], "recipients": [legacy]},
        "one bit of the RFC 7515 signature flipped; the legacy entry is valid (so wheel 0.31, "
        "which checks only recipients, accepts it)")

    bad_legacy = dict(legacy)
    raw = bytearray(base64.urlsafe_b64decode(legacy["signature"] + "=="))
    raw[0] ^= 0x80
    bad_legacy["signature"] = b64u(bytes(raw))
    sig("bad_legacy_signature", "sig-bad-signature",
        {"payload": p, "signatures": [rfc_entry(K1, p)], "recipients": [bad_legacy]},
        "the RFC 7515 signature is valid but the legacy recipients entry's signature has a bit "
        "flipped: every signature present must verify")

    crlf = make_record(base_files(), eol="\r\n")
    op = b64u(payload_json(crlf).encode())
    sig("payload_other_record", "sig-payload-mismatch",
        {"payload": op, "signatures": [rfc_entry(K1, op)], "recipients": [legacy_entry(K1, op)]},
        "validly signed payload whose hash is of the same RECORD rows with CRLF line endings "
        "(other bytes), not of this RECORD", path=None)

    signed = jws_text(embedded_doc(rec))
    files = base_files(init=INIT + b"import os  # added after signing\n")
    emit("fail_sig_tampered_content", embed(wheel(files), signed), expect="invalid",
         code="sig-payload-mismatch", jwks=JWKS_K1,
         description="demo/__init__.py changed after embedded signing and RECORD rewritten to "
                     "match: RECORD is consistent, but RECORD.jws (by key 1) claims the old "
                     "RECORD's hash")

    sig("malformed_not_json", "sig-malformed", b"this is not JSON\n",
        "RECORD.jws is not JSON")

    tp = b64u(cj({"hash": record_claim(rec), "iat": str(IAT)}).encode())
    sig("malformed_iat_type", "sig-malformed",
        {"payload": tp, "signatures": [rfc_entry(K1, tp)], "recipients": [legacy_entry(K1, tp)]},
        'payload "iat" is a string, not an integer; signatures valid')

    deep = {"hash": record_claim(rec), "iat": IAT, "note": json.loads("[" * 40 + "]" * 40)}
    dp = b64u(cj(deep).encode())
    sig("nesting_depth", "sig-malformed",
        {"payload": dp, "signatures": [rfc_entry(K1, dp)], "recipients": [legacy_entry(K1, dp)]},
        'payload has an extra member "note" nested 40 arrays deep (limit 32); signatures valid')

    lh = b64u(json.dumps({"alg": "EdDSA", "jwk": {"kty": "Ed25519", "vk": K1.x}},
                         sort_keys=True).encode())
    bad_alg_legacy = {"header": lh, "signature": b64u(K1.sign(f"{lh}.{p}".encode()))}
    sig("legacy_alg", "sig-unsupported-alg",
        {"payload": p, "signatures": [rfc_entry(K1, p)], "recipients": [bad_alg_legacy]},
        'legacy recipients header says "alg":"EdDSA" (the legacy shape is only "Ed25519" with '
        '{"kty":"Ed25519","vk"}); its signature and the RFC 7515 one are valid')

    # --- detached ---------------------------------------------------------------------------
    bts = build_zip(wheel())
    rec = record_of(wheel())
    doc = detached_doc(bts, rec, filename="demo-0.9-py3-none-any.whl")
    emit("fail_sig_detached_wrong_file", bts, expect="invalid", code="sig-wrong-file",
         jwks=JWKS_K1, detached=jws_text(doc),
         description="detached signature by key 1 whose payload filename is "
                     "demo-0.9-py3-none-any.whl (hash and file_sha256 match this wheel)")

    other = build_zip(wheel(), comment=b"another build")
    good = detached_doc(bts, rec)
    wrong = detached_doc(other, rec)
    assert wrong["payload"] != good["payload"]
    emit("fail_sig_detached_file_digest", bts, expect="invalid", code="sig-file-digest-mismatch",
         jwks=JWKS_K1, detached=jws_text(wrong),
         description="detached signature by key 1 whose file_sha256 is of another file (the same "
                     "members with an archive comment); hash and filename match")


# =============================================================================================


README_HEAD = """\
# wheelsig test vectors

Generated by `make_vectors.py`; do not edit the wheels, `vectors.json`, `keys/` or this file by
hand. Regenerate with

```sh
python3 -m venv /tmp/vecvenv && /tmp/vecvenv/bin/pip install -r tests/requirements.txt
/tmp/vecvenv/bin/python tests/vectors/make_vectors.py
/tmp/vecvenv/bin/python tests/vectors/check_vectors.py -v   # independent cross-checks
```

Output is byte-identical on every run (fixed timestamps, fixed keys, deterministic Ed25519);
deflate streams come from zlib, so a zlib with a different deflate implementation (zlib-ng)
could produce other, equally valid bytes.

## Manifest (`vectors.json`)

A JSON array, one object per vector:

| member | meaning |
|---|---|
| `name` | `pass_*` (intact wheel) or `fail_*` |
| `file` | the wheel, relative to this directory; each vector has its own directory so that the wheel keeps a valid wheel file name |
| `expect` | the verdict: `trusted`, `signed`, `unsigned`, `untrusted`, `key-changed`, `invalid` |
| `code` | a problem code (docs/SPEC.md) the report's problems must contain; `null` for clean verdicts |
| `path` | the member path that problem must name, or `null` when it is about the whole file (or the path is not pinned down by the spec) |
| `description` | what the vector holds and why it gets that verdict; for ZIP defects, also what CPython's `zipfile` (and sometimes Info-ZIP `unzip`) does with it |
| `detached` | optional: a `.jws` file to pass as the detached signature (it sits next to the wheel, named `<wheel>.jws`) |
| `jwks` | optional: a JWK Set file to use as a trust source (`--jwks`, a `key-file` source) |
| `pins` | optional: `{"project": ["kid", ...]}` |
| `first_use` | optional: `{"project": {"kid": "..."}}`, the key the first-use store remembers |

Vectors with no trust input are verified with no trust source at all. Signatures claim
`iat` 1767225600 (2026-01-01T00:00:00Z) unless the description says otherwise; no vector
depends on the current time.

## Keys (`keys/`)

Two fixed **test** keys whose seeds are public: key 1 = SHA-256(`wheelsig test key 1`),
key 2 = SHA-256(`wheelsig test key 2`). `key1.private.jwk` / `key2.private.jwk` are private
key files in SPEC.md's format (for cross-signing tests). The JWK Sets:

| file | contents |
|---|---|
| `key1.json` | key 1, all projects |
| `key2.json` | key 2, all projects |
| `key1-demo.json` | key 1, `"projects":["demo"]` |
| `key1-other-key2-demo.json` | key 1 for `other` only, key 2 for `demo` (so the set covers `demo`) |
| `key1-retired-before-iat.json` | key 1, `exp` one day before the signatures' `iat` |
| `key1-retired-after-iat.json` | key 1, `exp` one day after the signatures' `iat` |

## Cross-checks (`check_vectors.py`)

Independent of wheelsig: every `pass_*` wheel opens in CPython's `zipfile`, passes
`python -m zipfile -t` and Info-ZIP `unzip -t`, its RECORD matches every member, and every
signature verifies with `cryptography` and `jwcrypto` (RFC 7515 shapes) and, for embedded
signatures, with wheel 0.31.1's own install-time check when `WHEEL031_PYTHON` points at a
Python with `wheel==0.31.1`. The verdicts of `pass_*` and `fail_trust_*` follow from a small
model of SPEC.md's trust rules. `fail_wheel_*`, `fail_record_*`, `fail_sig_*` and
`fail_trust_*` wheels are clean archives to `zipfile`, so their only defect is the named one.
The file name's build tag and tags equal WHEEL's `Build` and `Tag` headers, as Python's
`email` parser (pip's and installer's reader) sees them, in every `pass_*` and `fail_trust_*`
wheel, and differ in every `fail_wheel_tag_mismatch_*` wheel.

## Vectors

"""


def readme() -> str:
    def cell(s):
        return str(s).replace("|", "\\|").replace("\n", " ")

    lines = [README_HEAD, f"{len(VECTORS)} vectors.\n\n",
             "| name | expect | code | path | what it shows |\n", "|---|---|---|---|---|\n"]
    for v in VECTORS:
        code = f"`{v['code']}`" if v["code"] else ""
        shown = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in v["path"] or "")
        path = f"`{cell(shown)}`" if shown else ""
        trust = [k for k in ("detached", "pins", "first_use") if k in v]
        if "jwks" in v:
            trust.append(f"jwks {v['jwks'].removeprefix('keys/')}")
        extra = f" ({'; '.join(cell(t) for t in trust)})" if trust else ""
        lines.append(f"| `{v['name']}` | {v['expect']} | {code} | {path} | "
                     f"{cell(v['description'])}{extra} |\n")
    return "".join(lines)


def main() -> int:
    pass_vectors()
    trust_vectors()
    container_vectors()
    wheel_vectors()
    record_vectors()
    signature_vectors()

    for d in sorted(OUT.iterdir()):
        if d.is_dir() and (d.name.startswith(("pass_", "fail_")) or d.name == "keys"):
            shutil.rmtree(d)
    for rel, data in sorted(FILES.items()):
        path = OUT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (OUT / "keys").mkdir(exist_ok=True)
    for name, ks in sorted(KEYSETS.items()):
        (OUT / "keys" / f"{name}.json").write_text(json.dumps(ks, indent=2) + "\n")
    for label, k in (("key1", K1), ("key2", K2)):
        priv = k.jwk() | {"d": b64u(k.seed), "kid": k.kid}
        (OUT / "keys" / f"{label}.private.jwk").write_text(json.dumps(priv, indent=2) + "\n")
    (OUT / "vectors.json").write_text(json.dumps(VECTORS, indent=1, ensure_ascii=False) + "\n")
    (OUT / "README.md").write_text(readme())
    print(f"wrote {len(VECTORS)} vectors to {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
