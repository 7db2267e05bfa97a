//! C2SP signed-note (c2sp.org/signed-note) with Ed25519 note keys (signature type 0x01) and
//! C2SP cosignature/v1 keys (type 0x04, a timestamped Ed25519 signature over a checkpoint).
//!
//! A note is UTF-8 text (no control characters but `\n`), a blank line, then signature lines
//! `— <name> <base64(key id || signature)>`. The key id is the first 4 bytes of
//! SHA-256(name || "\n" || type || public key).

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::keys::PublicKey;

/// Largest note accepted (a checkpoint with a few dozen cosignatures is ~5 KB).
pub const MAX_NOTE_BYTES: usize = 64 * 1024;
/// Most signature lines accepted on one note (the spec asks verifiers to accept at least 16).
pub const MAX_SIGNATURES: usize = 100;
/// Longest key name accepted.
pub const MAX_NAME_BYTES: usize = 256;

const EM_DASH: &str = "\u{2014} ";

/// What a note key signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// A log's Ed25519 note signature (type 0x01).
    Ed25519,
    /// A witness's cosignature/v1 (type 0x04): Ed25519 over a timestamped checkpoint.
    Cosignature,
}

impl KeyKind {
    fn type_byte(self) -> u8 {
        match self {
            KeyKind::Ed25519 => 0x01,
            KeyKind::Cosignature => 0x04,
        }
    }

    fn from_type(b: u8) -> Option<Self> {
        match b {
            0x01 => Some(KeyKind::Ed25519),
            0x04 => Some(KeyKind::Cosignature),
            _ => None,
        }
    }
}

/// Why a note, key or signature was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteError(pub String);

impl fmt::Display for NoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NoteError {}

fn err(m: impl Into<String>) -> NoteError {
    NoteError(m.into())
}

fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty()
        || name.len() > MAX_NAME_BYTES
        || name.chars().any(|c| {
            c.is_whitespace() || c == '+' || c.is_control() || crate::display::is_unsafe(c)
        })
    {
        return Err(err(format!(
            "key name {:?} must be 1 to {MAX_NAME_BYTES} bytes with no spaces, controls or '+'",
            crate::display::escape(name)
        )));
    }
    Ok(())
}

/// SHA-256(name || "\n" || type || key)[:4], big-endian.
fn key_id(name: &str, kind: KeyKind, key: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([kind.type_byte()]);
    h.update(key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// A public note key: `<name>+<hex8 id>+<base64(type || key)>` (a "vkey").
#[derive(Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: u32,
    kind: KeyKind,
    key: PublicKey,
}

impl fmt::Debug for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteVerifier({})", self.vkey())
    }
}

impl NoteVerifier {
    /// Parse a vkey. The id must match the name and key; the key must be a canonical Ed25519
    /// point not of small order.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let vkey = vkey.trim();
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(hex), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(err("a verifier key is <name>+<hex id>+<base64 key>"));
        };
        check_name(name)?;
        if hex.len() != 8
            || !hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return Err(err("the key id is 8 lowercase hex digits"));
        }
        let id = u32::from_str_radix(hex, 16).map_err(|_| err("bad key id"))?;
        let raw = STANDARD
            .decode(b64)
            .map_err(|_| err("the key is not base64"))?;
        if STANDARD.encode(&raw) != b64 {
            return Err(err("the key is not canonical base64"));
        }
        let (&t, key) = raw.split_first().ok_or_else(|| err("empty key"))?;
        let kind = KeyKind::from_type(t).ok_or_else(|| {
            err(format!(
                "key type 0x{t:02x} is not supported (0x01 Ed25519 note keys, 0x04 cosignature/v1)"
            ))
        })?;
        let key = PublicKey::from_bytes(key).map_err(|e| err(format!("the key: {e}")))?;
        let v = NoteVerifier {
            name: name.to_string(),
            id,
            kind,
            key,
        };
        if v.computed_id() != id {
            return Err(err(format!(
                "key id {hex} does not match the name and key (expected {:08x})",
                v.computed_id()
            )));
        }
        Ok(v)
    }

    fn computed_id(&self) -> u32 {
        key_id(&self.name, self.kind, &self.key.to_bytes())
    }

    /// The key name (for a log: its origin).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 32-bit key id.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// Note key or cosignature key.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }

    /// The vkey text.
    pub fn vkey(&self) -> String {
        let mut raw = vec![self.kind.type_byte()];
        raw.extend_from_slice(&self.key.to_bytes());
        format!("{}+{:08x}+{}", self.name, self.id, STANDARD.encode(raw))
    }

    /// Whether `bytes` (the part after the key id) is this key's valid signature over `text`.
    /// A cosignature returns its timestamp.
    fn check(&self, text: &str, bytes: &[u8]) -> Result<Option<u64>, NoteError> {
        let (timestamp, sig, message) = match self.kind {
            KeyKind::Ed25519 => {
                let sig: [u8; 64] = bytes
                    .try_into()
                    .map_err(|_| err("an Ed25519 note signature is 64 bytes"))?;
                (None, sig, text.as_bytes().to_vec())
            }
            KeyKind::Cosignature => {
                if bytes.len() != 72 {
                    return Err(err(
                        "a cosignature/v1 is 72 bytes (timestamp and signature)",
                    ));
                }
                let mut t = [0u8; 8];
                t.copy_from_slice(&bytes[..8]);
                let t = u64::from_be_bytes(t);
                if t > i64::MAX as u64 {
                    return Err(err("cosignature timestamp out of range"));
                }
                let mut sig = [0u8; 64];
                sig.copy_from_slice(&bytes[8..]);
                (Some(t), sig, cosignature_message(text, t).into_bytes())
            }
        };
        self.key
            .dalek()
            .verify_strict(&message, &Signature::from_bytes(&sig))
            .map_err(|_| {
                err(format!(
                    "the signature by {} does not verify",
                    crate::display::escape(&self.name)
                ))
            })?;
        Ok(timestamp)
    }
}

/// The message a cosignature/v1 signs: a header, the time, then the checkpoint text.
fn cosignature_message(text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{text}")
}

/// A private note key, written as Go's `PRIVATE+KEY+<name>+<hex id>+<base64(type || seed)>`.
pub struct NoteSigner {
    verifier: NoteVerifier,
    signing: SigningKey,
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteSigner({})", self.verifier.vkey())
    }
}

impl NoteSigner {
    /// A signer from a 32-byte seed.
    pub fn from_seed(name: &str, kind: KeyKind, seed: &[u8; 32]) -> Result<Self, NoteError> {
        check_name(name)?;
        let signing = SigningKey::from_bytes(seed);
        let key = PublicKey::from_bytes(VerifyingKey::from(&signing).as_bytes())
            .map_err(|e| err(e.to_string()))?;
        let id = key_id(name, kind, &key.to_bytes());
        Ok(NoteSigner {
            verifier: NoteVerifier {
                name: name.to_string(),
                id,
                kind,
                key,
            },
            signing,
        })
    }

    /// A new random key (the operating system's or browser's random source).
    pub fn generate(name: &str, kind: KeyKind) -> Result<Self, NoteError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| err(format!("no random source: {e}")))?;
        NoteSigner::from_seed(name, kind, &seed)
    }

    /// Parse the private key text.
    pub fn from_private(text: &str) -> Result<Self, NoteError> {
        let text = text.trim();
        let rest = text
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| err("a private note key starts with PRIVATE+KEY+"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(hex), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(err(
                "a private note key is PRIVATE+KEY+<name>+<hex id>+<base64 key>",
            ));
        };
        let raw = STANDARD
            .decode(b64)
            .map_err(|_| err("the private key is not base64"))?;
        let (&t, seed) = raw.split_first().ok_or_else(|| err("empty private key"))?;
        let kind = KeyKind::from_type(t)
            .ok_or_else(|| err(format!("key type 0x{t:02x} is not supported")))?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| err("the private key is 32 bytes"))?;
        let s = NoteSigner::from_seed(name, kind, &seed)?;
        if format!("{:08x}", s.verifier.id) != hex {
            return Err(err("the private key's id does not match its name and key"));
        }
        Ok(s)
    }

    /// The private key text (keep it secret).
    pub fn to_private(&self) -> String {
        let mut raw = vec![self.verifier.kind.type_byte()];
        raw.extend_from_slice(self.signing.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.verifier.name,
            self.verifier.id,
            STANDARD.encode(raw)
        )
    }

    /// The public half.
    pub fn verifier(&self) -> &NoteVerifier {
        &self.verifier
    }

    fn line(&self, bytes: &[u8]) -> String {
        let mut raw = self.verifier.id.to_be_bytes().to_vec();
        raw.extend_from_slice(bytes);
        format!("{EM_DASH}{} {}\n", self.verifier.name, STANDARD.encode(raw))
    }

    /// Sign a note's text (which must end in `\n`): one signature line (Ed25519 note keys).
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        if self.verifier.kind != KeyKind::Ed25519 {
            return Err(err("a cosignature key signs with cosign()"));
        }
        check_text(text)?;
        Ok(self.line(&self.signing.sign(text.as_bytes()).to_bytes()))
    }

    /// Cosign a checkpoint's text at `timestamp` (Unix seconds, not 0): one signature line.
    pub fn cosign(&self, text: &str, timestamp: u64) -> Result<String, NoteError> {
        if self.verifier.kind != KeyKind::Cosignature {
            return Err(err("a note key signs with sign()"));
        }
        if timestamp == 0 || timestamp > i64::MAX as u64 {
            return Err(err("a cosignature needs a real time"));
        }
        check_text(text)?;
        let sig = self
            .signing
            .sign(cosignature_message(text, timestamp).as_bytes());
        let mut bytes = timestamp.to_be_bytes().to_vec();
        bytes.extend_from_slice(&sig.to_bytes());
        Ok(self.line(&bytes))
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(err("note text must be non-empty and end in a newline"));
    }
    if text
        .chars()
        .any(|c| c != '\n' && (c.is_control() || crate::display::is_unsafe(c)))
    {
        return Err(err("note text contains a control or bidi character"));
    }
    Ok(())
}

/// One signature line, as parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureLine {
    /// Key name.
    pub name: String,
    /// Key id.
    pub id: u32,
    /// The signature bytes after the key id.
    pub bytes: Vec<u8>,
}

/// A parsed (unverified) note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<SignatureLine>,
}

/// What a verified signature said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The cosignature's timestamp (None for a note signature).
    pub timestamp: Option<u64>,
}

impl Note {
    /// Parse a note: split at the last blank line; every line after it a signature line.
    pub fn parse(bytes: &[u8]) -> Result<Note, NoteError> {
        if bytes.len() > MAX_NOTE_BYTES {
            return Err(err(format!(
                "a note of {} bytes; the limit is {MAX_NOTE_BYTES}",
                bytes.len()
            )));
        }
        let s = std::str::from_utf8(bytes).map_err(|_| err("the note is not UTF-8"))?;
        if s.chars()
            .any(|c| c != '\n' && (c.is_control() || crate::display::is_unsafe(c)))
        {
            return Err(err("the note contains a control or bidi character"));
        }
        if !s.ends_with('\n') {
            return Err(err("the note does not end in a newline"));
        }
        let split = s
            .rfind("\n\n")
            .ok_or_else(|| err("the note has no blank line before its signatures"))?;
        let text = &s[..=split];
        let mut signatures = Vec::new();
        for line in s[split + 2..].lines() {
            if signatures.len() == MAX_SIGNATURES {
                return Err(err(format!("more than {MAX_SIGNATURES} signature lines")));
            }
            let rest = line
                .strip_prefix(EM_DASH)
                .ok_or_else(|| err("a signature line starts with an em dash and a space"))?;
            let (name, b64) = rest
                .split_once(' ')
                .ok_or_else(|| err("a signature line is `— <name> <base64>`"))?;
            check_name(name)?;
            let raw = STANDARD
                .decode(b64)
                .map_err(|_| err("a signature is not base64"))?;
            if raw.len() < 5 || STANDARD.encode(&raw) != b64 {
                return Err(err(
                    "a signature is not canonical base64 of a key id and signature",
                ));
            }
            signatures.push(SignatureLine {
                name: name.to_string(),
                id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
                bytes: raw[4..].to_vec(),
            });
        }
        if signatures.is_empty() {
            return Err(err("the note has no signatures"));
        }
        Ok(Note {
            text: text.to_string(),
            signatures,
        })
    }

    /// The signed text (ending in `\n`).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines.
    pub fn signatures(&self) -> &[SignatureLine] {
        &self.signatures
    }

    /// The signature by `key`: `Ok(None)` when the note carries no line for it (matched by
    /// name and key id), `Err` when it carries one that does not verify.
    pub fn verify_by(&self, key: &NoteVerifier) -> Result<Option<Verified>, NoteError> {
        let mut found = None;
        for s in self
            .signatures
            .iter()
            .filter(|s| s.name == key.name && s.id == key.id)
        {
            let timestamp = key.check(&self.text, &s.bytes)?;
            found.get_or_insert(Verified { timestamp });
        }
        Ok(found)
    }

    /// Keep only the signature lines for which `keep` holds.
    pub fn retain_signatures(&mut self, keep: impl FnMut(&SignatureLine) -> bool) {
        self.signatures.retain(keep);
    }

    /// Add signature lines (as a witness returns them) to the note.
    pub fn add_signatures(&mut self, lines: &str) -> Result<(), NoteError> {
        let extra = Note::parse(format!("{}\n{lines}", self.text).as_bytes())?;
        for s in extra.signatures {
            if !self.signatures.contains(&s) {
                self.signatures.push(s);
            }
        }
        Ok(())
    }

    /// The note as text: the body, a blank line, the signature lines.
    pub fn to_text(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for s in &self.signatures {
            let mut raw = s.id.to_be_bytes().to_vec();
            raw.extend_from_slice(&s.bytes);
            out.push_str(&format!("{EM_DASH}{} {}\n", s.name, STANDARD.encode(raw)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_verifies() {
        // c2sp.org/signed-note's example.
        let v = NoteVerifier::parse(
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        )
        .unwrap();
        let note = Note::parse("This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n".as_bytes()).unwrap();
        assert_eq!(
            note.verify_by(&v).unwrap(),
            Some(Verified { timestamp: None })
        );
        assert_eq!(note.text(), "This is an example message.\n");
    }

    #[test]
    fn go_vectors_sign_and_cosign() {
        // Keys and signatures made with Go's golang.org/x/mod/sumdb/note (seed 32×1) and a
        // cosignature/v1 (seed 32×2, time 1679315147); see tests/vectors/tlog/README.md.
        let log = NoteSigner::from_seed("example.com/log", KeyKind::Ed25519, &[1; 32]).unwrap();
        assert_eq!(
            log.verifier().vkey(),
            "example.com/log+9be5d3c6+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c"
        );
        assert_eq!(
            log.to_private(),
            "PRIVATE+KEY+example.com/log+9be5d3c6+AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB"
        );
        let w =
            NoteSigner::from_seed("witness.example/w1", KeyKind::Cosignature, &[2; 32]).unwrap();
        assert_eq!(
            w.verifier().vkey(),
            "witness.example/w1+df1c0a35+BIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOU"
        );
        let text = "example.com/log\n1000\nL/M/udjxT4nKMGKJYzM2oWj/P0Uy6PdBoAGdy0wdYKE=\n";
        assert_eq!(log.sign(text).unwrap(), "\u{2014} example.com/log m+XTxkSy28CARmfKbroY6dvnhEnoL4QReOxFNxmssjOQ0yNCCtrAd5VYSzV3Xf/2OcUgaoHc7nsVPwMYSn3mbKNNtw0=\n");
        assert_eq!(w.cosign(text, 1679315147).unwrap(), "\u{2014} witness.example/w1 3xwKNQAAAABkGFDLq355hXSwTvYy/pSyGAj77vcVzEA2JZDGxl+0/6wU+oDeVKzNv/aj7MHZ6+c3f5FID4Q6Nbp216d2s/zVmsxMAQ==\n");
        let mut note =
            Note::parse(format!("{text}\n{}", log.sign(text).unwrap()).as_bytes()).unwrap();
        note.add_signatures(&w.cosign(text, 1679315147).unwrap())
            .unwrap();
        assert_eq!(
            note.verify_by(log.verifier()).unwrap(),
            Some(Verified { timestamp: None })
        );
        assert_eq!(
            note.verify_by(w.verifier()).unwrap(),
            Some(Verified {
                timestamp: Some(1679315147)
            })
        );
        assert_eq!(
            NoteSigner::from_private(&log.to_private())
                .unwrap()
                .verifier(),
            log.verifier()
        );
    }

    #[test]
    fn hostile_notes() {
        let log = NoteSigner::from_seed("example.com/log", KeyKind::Ed25519, &[1; 32]).unwrap();
        let text = "example.com/log\n1\nAAAA\n";
        let good = format!("{text}\n{}", log.sign(text).unwrap());
        // A flipped text byte: the matching key's line fails, which is an error, not "absent".
        let bad = good.replacen("\n1\n", "\n2\n", 1);
        assert!(Note::parse(bad.as_bytes())
            .unwrap()
            .verify_by(log.verifier())
            .is_err());
        let other = NoteSigner::from_seed("example.com/log", KeyKind::Ed25519, &[9; 32]).unwrap();
        assert_eq!(
            Note::parse(good.as_bytes())
                .unwrap()
                .verify_by(other.verifier())
                .unwrap(),
            None
        );
        for hostile in [
            "no blank line\n",
            "text\n\nnot a signature\n",
            "text\n\n\u{2014} a b\u{1b}\n",
            "text\n\n\u{2014} na\u{202e}me AAAAAAA=\n",
            "x\n\n",
            "\u{0}\n\n\u{2014} a AAAAAAA=\n",
        ] {
            assert!(Note::parse(hostile.as_bytes()).is_err(), "{hostile:?}");
        }
        assert!(Note::parse(&vec![b'a'; MAX_NOTE_BYTES + 1]).is_err());
        assert!(
            NoteVerifier::parse(
                "example.com/log+9be5d3c7+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c"
            )
            .is_err(),
            "wrong id"
        );
        assert!(
            NoteVerifier::parse(
                "example.com/log+9be5d3c6+A4qI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c"
            )
            .is_err(),
            "unknown type"
        );
    }
}
