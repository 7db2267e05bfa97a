"""An independent, pure-Python log side of the C2SP transparency-log specs, for testing the
witness (`wheelsig witness serve`) from outside: RFC 6962 hashing and consistency proofs,
signed notes with Ed25519 keys (signed-note), checkpoints (tlog-checkpoint), cosignature/v1
verification (tlog-cosignature) and tlog-witness add-checkpoint request bodies. Written from
the specs, sharing no code with the Rust core. Used by tests/interop/test_witness.py and
bench/witness_load.py."""
import base64
import hashlib
import http.client
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

EM_DASH = "\u2014"
EMPTY_ROOT = hashlib.sha256(b"").digest()
NOTE_KEY = 0x01
COSIGNATURE_KEY = 0x04


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class Tree:
    """An append-only RFC 6962 Merkle tree over leaf hashes, with memoized subtree hashes."""

    def __init__(self, leaves=()):
        self.leaves = [leaf_hash(x) for x in leaves]
        self._memo = {}

    def append(self, data: bytes) -> None:
        self.leaves.append(leaf_hash(data))

    def __len__(self):
        return len(self.leaves)

    def mth(self, a: int, b: int) -> bytes:
        """MTH(D[a:b]) (RFC 6962 2.1)."""
        n = b - a
        if n == 0:
            return EMPTY_ROOT
        if n == 1:
            return self.leaves[a]
        key = (a, b)
        if key not in self._memo:
            k = split_point(n)
            self._memo[key] = node_hash(self.mth(a, a + k), self.mth(a + k, b))
        return self._memo[key]

    def root(self, size: int) -> bytes:
        assert 0 <= size <= len(self.leaves)
        return self.mth(0, size)

    def consistency(self, old: int, new: int) -> list:
        """PROOF(old, D[0:new]) (RFC 6962 2.1.2); empty for old == 0 or old == new."""
        assert 0 <= old <= new <= len(self.leaves)
        if old == 0 or old == new:
            return []

        def sub(m, a, b, first):
            n = b - a
            if m == n:
                return [] if first else [self.mth(a, b)]
            k = split_point(n)
            if m <= k:
                return sub(m, a, a + k, first) + [self.mth(a + k, b)]
            return sub(m - k, a + k, b, False) + [self.mth(a, a + k)]

        return sub(old, 0, new, True)


def key_id(name: str, key_type: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public).digest()[:4]


class NoteKey:
    """An Ed25519 signed-note key (type 0x01), as a log holds it."""

    def __init__(self, name: str, seed: bytes = None):
        self.name = name
        self.private = Ed25519PrivateKey.from_private_bytes(seed) if seed else Ed25519PrivateKey.generate()
        self.public = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.id = key_id(name, NOTE_KEY, self.public)

    def vkey(self) -> str:
        return f"{self.name}+{self.id.hex()}+{b64(bytes([NOTE_KEY]) + self.public)}"

    def sign_line(self, text: str) -> str:
        return f"{EM_DASH} {self.name} {b64(self.id + self.private.sign(text.encode()))}\n"


def checkpoint_text(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{b64(root)}\n"


def signed_note(text: str, *keys: NoteKey) -> str:
    return text + "\n" + "".join(k.sign_line(text) for k in keys)


def add_checkpoint_body(old: int, proof, note: str) -> bytes:
    return (f"old {old}\n" + "".join(b64(h) + "\n" for h in proof) + "\n" + note).encode()


class CosignatureError(Exception):
    pass


def parse_cosignature_vkey(vkey: str):
    """(name, key id, Ed25519PublicKey) of a cosignature/v1 vkey, checking its key id."""
    name, hex_id, key64 = vkey.split("+", 2)
    raw = base64.b64decode(key64, validate=True)
    if raw[0] != COSIGNATURE_KEY or len(raw) != 33:
        raise CosignatureError(f"not a cosignature/v1 vkey: {vkey}")
    if key_id(name, COSIGNATURE_KEY, raw[1:]).hex() != hex_id:
        raise CosignatureError("vkey id does not match")
    return name, bytes.fromhex(hex_id), Ed25519PublicKey.from_public_bytes(raw[1:])


def verify_cosignature(vkey: str, text: str, line: str) -> int:
    """Verify one cosignature/v1 line over checkpoint `text`; returns its timestamp."""
    name, kid, public = parse_cosignature_vkey(vkey)
    if not line.endswith("\n") or not line.startswith(f"{EM_DASH} {name} "):
        raise CosignatureError(f"not a signature line by {name}: {line!r}")
    raw = base64.b64decode(line[len(EM_DASH) + len(name) + 2 : -1], validate=True)
    if len(raw) != 76 or raw[:4] != kid:
        raise CosignatureError("wrong length or key id")
    (timestamp,) = struct.unpack(">Q", raw[4:12])
    message = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
    try:
        public.verify(raw[12:], message)
    except InvalidSignature as e:
        raise CosignatureError("cosignature does not verify") from e
    return timestamp


def verify_note_line(key: NoteKey, text: str, line: str) -> None:
    """Verify a log's Ed25519 note signature line over `text`."""
    prefix = f"{EM_DASH} {key.name} "
    assert line.startswith(prefix), line
    raw = base64.b64decode(line[len(prefix) :].rstrip("\n"), validate=True)
    assert raw[:4] == key.id
    key.private.public_key().verify(raw[4:], text.encode())


class Client:
    """A keep-alive HTTP client for one witness; reconnects after a failed exchange."""

    def __init__(self, host: str, port: int, timeout: float = 30):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = None

    def request(self, method: str, path: str, body: bytes = None, headers=None):
        """(status, headers as a dict with lowercase names, body bytes)."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            r = self.conn.getresponse()
            data = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            if r.will_close:
                self.close()
            return r.status, hdrs, data
        except Exception:
            self.close()
            raise

    def add_checkpoint(self, body: bytes):
        return self.request("POST", "/add-checkpoint", body)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def origin_hash(origin: str) -> str:
    return hashlib.sha256(origin.encode()).hexdigest()
