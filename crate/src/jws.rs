//! JWS signatures over a wheel (RFC 7515 JSON serializations and wheel 0.31's legacy
//! `recipients` shape), Ed25519 only (RFC 8037 / RFC 9864).
//!
//! Parsing and checking are separate steps: [`parse`] turns bytes into [`ParsedJws`], whose
//! signatures are unverified; [`ParsedJws::check`] verifies each one and only then yields
//! [`CheckedSignature`]s carrying the key that signed.

use ed25519_dalek::Signature;
use serde_json::{json, Map, Value};

use crate::encoding::{b64url, b64url_decode, parse_json, JsonError};
use crate::keys::{Private, PrivateKey, PublicKey};
use crate::report::{Carrier, Code, Problem, SigFormat};

/// `alg` values accepted with an RFC 8037 OKP key. RFC 9864 deprecates `EdDSA` for the
/// fully specified `Ed25519`; both mean Ed25519 here.
const RFC_ALGS: [&str; 2] = ["EdDSA", "Ed25519"];

/// Most signature entries accepted in one document (RFC 7515 `signatures` plus legacy
/// `recipients`). A release is signed by one key, two while keys rotate, and an embedded
/// `RECORD.jws` carries each key twice (RFC 7515 + wheel 0.31); 16 leaves room for several
/// co-signers. Each entry costs an Ed25519 verification (tens of microseconds natively, far
/// more in wasm), so a document with thousands of entries is refused before any is checked.
pub const MAX_SIGNATURES: usize = 16;

/// The claims a signature makes, read from its payload.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Payload {
    /// `sha256=<b64url>` of RECORD, compared as a string.
    pub hash: String,
    /// Signer-claimed signing time.
    pub iat: Option<i64>,
    /// Detached: the wheel's file name.
    pub filename: Option<String>,
    /// Detached: hex SHA-256 of the whole wheel.
    pub file_sha256: Option<String>,
}

/// What an unverified entry claims: its format, `alg`, header key and (acceptable) `jku`.
pub type Claimed = (SigFormat, Option<String>, Option<PublicKey>, Option<String>);

/// One signature as parsed, not yet verified.
#[derive(Debug, Clone)]
struct RawSignature {
    format: SigFormat,
    protected_b64: String,
    protected: Map<String, Value>,
    unprotected: Option<Map<String, Value>>,
    signature: Vec<u8>,
}

/// A parsed JWS document: one payload, one or more unverified signatures.
#[derive(Debug, Clone)]
pub struct ParsedJws {
    payload_b64: String,
    payload: Payload,
    sigs: Vec<RawSignature>,
}

/// A signature that verified: the signing key and what it claimed.
#[derive(Debug, Clone)]
pub struct CheckedSignature {
    /// The key that produced the signature (from the header; trust is decided elsewhere).
    pub key: PublicKey,
    /// The `alg` header.
    pub alg: String,
    /// Serialization format.
    pub format: SigFormat,
    /// The signer's key URL hint (`jku`), never trusted by itself.
    pub jku: Option<String>,
}

/// What checking one signature produced: either a verified signature or the reason not,
/// with whatever could be read for display.
#[derive(Debug, Clone)]
pub struct SignatureOutcome {
    /// Format of this signature.
    pub format: SigFormat,
    /// `alg` as read.
    pub alg: Option<String>,
    /// Header key, when it parsed.
    pub key: Option<PublicKey>,
    /// `jku` hint.
    pub jku: Option<String>,
    /// The verified signature, or the problem that stopped it.
    pub result: Result<CheckedSignature, Problem>,
}

fn problem(code: Code, path: &Option<String>, msg: impl Into<String>) -> Problem {
    Problem {
        code,
        path: path.clone(),
        message: msg.into(),
    }
}

fn json_problem(e: JsonError, what: &str, path: &Option<String>) -> Problem {
    match e {
        JsonError::DuplicateMember(name) => problem(
            Code::SigDuplicateMember,
            path,
            format!("{what}: duplicate member name {name:?}"),
        ),
        JsonError::Syntax(m) => problem(
            Code::SigMalformed,
            path,
            format!("{what} is not valid JSON: {m}"),
        ),
    }
}

fn b64_field(
    v: Option<&Value>,
    what: &str,
    path: &Option<String>,
) -> Result<(String, Vec<u8>), Problem> {
    let s = v.and_then(Value::as_str).ok_or_else(|| {
        problem(
            Code::SigMalformed,
            path,
            format!("missing string member `{what}`"),
        )
    })?;
    let bytes = b64url_decode(s).ok_or_else(|| {
        problem(
            Code::SigBadBase64,
            path,
            format!("`{what}` is not canonical unpadded base64url"),
        )
    })?;
    Ok((s.to_string(), bytes))
}

fn only_members(
    obj: &Map<String, Value>,
    allowed: &[&str],
    what: &str,
    path: &Option<String>,
) -> Result<(), Problem> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(problem(
            Code::SigMalformed,
            path,
            format!("{what} has unexpected member {k:?}"),
        )),
        None => Ok(()),
    }
}

fn decode_header(
    b64: Option<&Value>,
    what: &str,
    path: &Option<String>,
) -> Result<(String, Map<String, Value>), Problem> {
    let (text, bytes) = b64_field(b64, what, path)?;
    let v = parse_json(&bytes).map_err(|e| json_problem(e, what, path))?;
    match v {
        Value::Object(m) => Ok((text, m)),
        _ => Err(problem(
            Code::SigMalformed,
            path,
            format!("{what} is not a JSON object"),
        )),
    }
}

/// Parse a JWS document. `path` names where it came from (the RECORD.jws member path, or
/// `None` for a detached file) and is attached to every problem.
pub fn parse(bytes: &[u8], path: &Option<String>) -> Result<ParsedJws, Problem> {
    let doc = parse_json(bytes).map_err(|e| json_problem(e, "signature", path))?;
    let top = doc
        .as_object()
        .ok_or_else(|| problem(Code::SigMalformed, path, "signature is not a JSON object"))?;
    let (payload_b64, payload_bytes) = b64_field(top.get("payload"), "payload", path)?;
    let mut sigs = Vec::new();
    let general = top.contains_key("signatures");
    let flattened = top.contains_key("protected") || top.contains_key("signature");
    if general && flattened {
        return Err(problem(
            Code::SigMalformed,
            path,
            "both general (`signatures`) and flattened (`protected`) members",
        ));
    }
    let entries = top
        .get("signatures")
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
        + top
            .get("recipients")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
    if entries > MAX_SIGNATURES {
        return Err(problem(Code::SigTooMany, path, format!("{entries} signature entries; at most {MAX_SIGNATURES} are accepted in one document")));
    }
    if general {
        only_members(
            top,
            &["payload", "signatures", "recipients"],
            "signature",
            path,
        )?;
        let list = top
            .get("signatures")
            .and_then(Value::as_array)
            .filter(|l| !l.is_empty())
            .ok_or_else(|| {
                problem(
                    Code::SigMalformed,
                    path,
                    "`signatures` is not a non-empty array",
                )
            })?;
        for s in list {
            sigs.push(parse_rfc_entry(s, SigFormat::General, path)?);
        }
    } else if flattened {
        only_members(
            top,
            &["payload", "protected", "header", "signature"],
            "signature",
            path,
        )?;
        sigs.push(parse_rfc_entry(&doc, SigFormat::Flattened, path)?);
    } else {
        only_members(top, &["payload", "recipients"], "signature", path)?;
    }
    if let Some(recipients) = top.get("recipients") {
        let list = recipients
            .as_array()
            .filter(|l| !l.is_empty())
            .ok_or_else(|| {
                problem(
                    Code::SigMalformed,
                    path,
                    "`recipients` is not a non-empty array",
                )
            })?;
        for r in list {
            let obj = r.as_object().ok_or_else(|| {
                problem(
                    Code::SigMalformed,
                    path,
                    "a `recipients` entry is not an object",
                )
            })?;
            // wheel 0.31 requires exactly these two members.
            only_members(obj, &["header", "signature"], "legacy recipient", path)?;
            let (protected_b64, protected) =
                decode_header(obj.get("header"), "legacy header", path)?;
            let (_, signature) = b64_field(obj.get("signature"), "signature", path)?;
            sigs.push(RawSignature {
                format: SigFormat::Legacy,
                protected_b64,
                protected,
                unprotected: None,
                signature,
            });
        }
    }
    if sigs.is_empty() {
        return Err(problem(Code::SigMalformed, path, "no signatures"));
    }
    let payload = parse_payload(&payload_bytes, path)?;
    Ok(ParsedJws {
        payload_b64,
        payload,
        sigs,
    })
}

fn parse_rfc_entry(
    v: &Value,
    format: SigFormat,
    path: &Option<String>,
) -> Result<RawSignature, Problem> {
    let obj = v.as_object().ok_or_else(|| {
        problem(
            Code::SigMalformed,
            path,
            "a `signatures` entry is not an object",
        )
    })?;
    if format == SigFormat::General {
        only_members(
            obj,
            &["protected", "header", "signature"],
            "signature entry",
            path,
        )?;
    }
    let (protected_b64, protected) = decode_header(obj.get("protected"), "protected header", path)?;
    let unprotected = match obj.get("header") {
        None => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => {
            return Err(problem(
                Code::SigMalformed,
                path,
                "unprotected `header` is not an object",
            ))
        }
    };
    let (_, signature) = b64_field(obj.get("signature"), "signature", path)?;
    Ok(RawSignature {
        format,
        protected_b64,
        protected,
        unprotected,
        signature,
    })
}

fn parse_payload(bytes: &[u8], path: &Option<String>) -> Result<Payload, Problem> {
    let v = parse_json(bytes).map_err(|e| json_problem(e, "payload", path))?;
    let obj = v
        .as_object()
        .ok_or_else(|| problem(Code::SigMalformed, path, "payload is not a JSON object"))?;
    let string = |name: &str| -> Result<Option<String>, Problem> {
        match obj.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(problem(
                Code::SigMalformed,
                path,
                format!("payload `{name}` is not a string"),
            )),
        }
    };
    let hash = string("hash")?
        .ok_or_else(|| problem(Code::SigMalformed, path, "payload has no `hash`"))?;
    let iat =
        match obj.get("iat") {
            None => None,
            Some(v) => Some(v.as_i64().ok_or_else(|| {
                problem(Code::SigMalformed, path, "payload `iat` is not an integer")
            })?),
        };
    Ok(Payload {
        hash,
        iat,
        filename: string("filename")?,
        file_sha256: string("file_sha256")?,
    })
}

impl ParsedJws {
    /// The (not yet verified) payload claims.
    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    /// What each entry claims (format, `alg`, header key, `jku`), without verifying any: for
    /// listing the entries of a document whose payload does not describe the wheel.
    pub fn describe(&self, path: &Option<String>) -> Vec<Claimed> {
        self.sigs
            .iter()
            .map(|s| {
                let alg = s
                    .protected
                    .get("alg")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let jku = s
                    .protected
                    .get("jku")
                    .and_then(Value::as_str)
                    .filter(|j| crate::urls::check_jku(j).is_ok())
                    .map(str::to_string);
                (s.format, alg, header_key(s, path).ok(), jku)
            })
            .collect()
    }

    /// Verify every signature cryptographically. Trust is not decided here.
    pub fn check(&self, path: &Option<String>) -> Vec<SignatureOutcome> {
        self.sigs.iter().map(|s| self.check_one(s, path)).collect()
    }

    fn check_one(&self, s: &RawSignature, path: &Option<String>) -> SignatureOutcome {
        let alg = s
            .protected
            .get("alg")
            .and_then(Value::as_str)
            .map(str::to_string);
        let jku = s
            .protected
            .get("jku")
            .and_then(Value::as_str)
            .filter(|j| crate::urls::check_jku(j).is_ok())
            .map(str::to_string);
        let key = header_key(s, path);
        let mut out = SignatureOutcome {
            format: s.format,
            alg: alg.clone(),
            key: key.as_ref().ok().copied(),
            jku: jku.clone(),
            result: Err(problem(Code::SigMalformed, path, "unchecked")),
        };
        out.result = (|| {
            let alg = alg.ok_or_else(|| {
                problem(
                    Code::SigUnsupportedAlg,
                    path,
                    "no `alg` in the protected header",
                )
            })?;
            let allowed = match s.format {
                SigFormat::Legacy => alg == "Ed25519",
                _ => RFC_ALGS.contains(&alg.as_str()),
            };
            if !allowed {
                return Err(problem(
                    Code::SigUnsupportedAlg,
                    path,
                    format!("algorithm {alg:?} is not accepted (only EdDSA / Ed25519)"),
                ));
            }
            if let Some(u) = &s.unprotected {
                if let Some(k) = u.keys().find(|k| s.protected.contains_key(*k)) {
                    return Err(problem(
                        Code::SigHeaderOverlap,
                        path,
                        format!("{k:?} is in both the protected and unprotected header"),
                    ));
                }
            }
            let all = s
                .protected
                .keys()
                .chain(s.unprotected.iter().flat_map(|u| u.keys()));
            for name in all {
                match name.as_str() {
                    "crit" => {
                        return Err(problem(
                            Code::SigCrit,
                            path,
                            "`crit` header: no extensions are understood",
                        ))
                    }
                    "b64" => {
                        return Err(problem(
                            Code::SigB64,
                            path,
                            "`b64` header: unencoded payloads are not accepted",
                        ))
                    }
                    _ => {}
                }
            }
            if s.unprotected
                .as_ref()
                .is_some_and(|u| u.contains_key("alg") || u.contains_key("jwk"))
            {
                return Err(problem(
                    Code::SigMalformed,
                    path,
                    "`alg` and `jwk` must be in the protected header",
                ));
            }
            match s
                .protected
                .get("jku")
                .or_else(|| s.unprotected.as_ref().and_then(|u| u.get("jku")))
            {
                None => {}
                Some(Value::String(j)) => crate::urls::check_jku(j).map_err(|e| {
                    problem(Code::SigBadJku, path, format!("key URL hint refused: {e}"))
                })?,
                Some(_) => return Err(problem(Code::SigBadJku, path, "`jku` is not a string")),
            }
            let key = key?;
            if let Some(stated) = s.protected.get("kid") {
                if stated.as_str() != Some(key.kid().as_str()) {
                    return Err(problem(
                        Code::SigKidMismatch,
                        path,
                        format!(
                            "header kid {stated} is not the thumbprint {:?} of the header key",
                            key.kid()
                        ),
                    ));
                }
            }
            let sig_bytes: [u8; 64] = s.signature.as_slice().try_into().map_err(|_| {
                problem(
                    Code::SigBadSignature,
                    path,
                    format!("signature is {} bytes, expected 64", s.signature.len()),
                )
            })?;
            let signing_input = format!("{}.{}", s.protected_b64, self.payload_b64);
            key.dalek()
                .verify_strict(signing_input.as_bytes(), &Signature::from_bytes(&sig_bytes))
                .map_err(|_| {
                    problem(
                        Code::SigBadSignature,
                        path,
                        format!(
                            "{} signature by key {} does not verify",
                            format_name(s.format),
                            key.kid()
                        ),
                    )
                })?;
            Ok(CheckedSignature {
                key,
                alg,
                format: s.format,
                jku,
            })
        })();
        out
    }
}

fn format_name(f: SigFormat) -> &'static str {
    match f {
        SigFormat::General | SigFormat::Flattened => "RFC 7515",
        SigFormat::Legacy => "legacy (wheel 0.31)",
    }
}

fn header_key(s: &RawSignature, path: &Option<String>) -> Result<PublicKey, Problem> {
    let jwk = s
        .protected
        .get("jwk")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            problem(
                Code::SigBadKey,
                path,
                "no `jwk` object in the protected header",
            )
        })?;
    let parsed = match s.format {
        SigFormat::Legacy => {
            // wheel 0.31 accepted pre-draft-08 keys that name the algorithm in `alg`.
            PublicKey::from_legacy_jwk(jwk)
        }
        _ => PublicKey::from_jwk(jwk, Private::Reject),
    };
    parsed.map_err(|e| match e {
        crate::keys::KeyError::KidMismatch { .. } => {
            problem(Code::SigKidMismatch, path, format!("header key: {e}"))
        }
        _ => problem(Code::SigBadKey, path, format!("header key: {e}")),
    })
}

/// What a signature document says, for `wheelsig inspect`: its payload, what it binds, and
/// each entry with its key and whether it verifies cryptographically. Trust is not decided
/// here (that needs a trust source and the wheel: `verify`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Inspection {
    /// The RECORD digest claimed (`sha256=<b64url>`).
    pub record_hash: String,
    /// The wheel file name (detached signatures).
    pub filename: Option<String>,
    /// The whole wheel's SHA-256, hex (detached signatures).
    pub file_sha256: Option<String>,
    /// The signer's claimed signing time (Unix seconds).
    pub iat: Option<i64>,
    /// Whether the payload binds one file (detached) or only RECORD (embedded or legacy).
    pub detached: bool,
    /// What it binds, in words.
    pub binds: String,
    /// Each entry.
    pub signatures: Vec<InspectedSignature>,
}

/// One entry of an inspected document.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InspectedSignature {
    /// Serialization.
    pub format: SigFormat,
    /// `alg`.
    pub alg: Option<String>,
    /// The header key's id and fingerprint.
    pub kid: Option<String>,
    /// SHA-256 fingerprint.
    pub fingerprint: Option<String>,
    /// `jku`, when it passes the key URL rule.
    pub jku: Option<String>,
    /// Whether the signature verifies with the header key.
    pub valid: bool,
    /// Why not.
    pub problem: Option<Problem>,
}

/// Parse and check a signature document for display (see [`Inspection`]).
pub fn inspect(bytes: &[u8], path: &Option<String>) -> Result<Inspection, Problem> {
    let parsed = parse(bytes, path)?;
    let p = parsed.payload().clone();
    let detached = p.filename.is_some() && p.file_sha256.is_some();
    let when = p
        .iat
        .map(|t| {
            format!(
                ", signed (by the signer's own clock) at {}",
                crate::time::format(t)
            )
        })
        .unwrap_or_default();
    let binds = match (&p.filename, &p.file_sha256) {
        (Some(f), Some(h)) => format!("the file {} with SHA-256 {h}, whose RECORD has digest {}{when}", crate::display::escape(f), p.hash),
        _ => format!("any wheel whose RECORD has digest {} (an embedded signature: the file name and the bytes outside RECORD's entries are not bound){when}", p.hash),
    };
    let signatures = parsed
        .check(path)
        .into_iter()
        .map(|o| {
            let (valid, problem) = match &o.result {
                Ok(_) => (true, None),
                Err(e) => (false, Some(e.clone())),
            };
            InspectedSignature {
                format: o.format,
                alg: o.alg,
                kid: o.key.map(|k| k.kid()),
                fingerprint: o.key.map(|k| k.fingerprint()),
                jku: o.jku,
                valid,
                problem,
            }
        })
        .collect();
    Ok(Inspection {
        record_hash: p.hash,
        filename: p.filename,
        file_sha256: p.file_sha256,
        iat: p.iat,
        detached,
        binds,
        signatures,
    })
}

/// `sha256=<b64url>` of RECORD's bytes: PEP 427's signature payload `hash`.
pub fn record_hash_claim(record_sha256: &[u8; 32]) -> String {
    format!("sha256={}", b64url(record_sha256))
}

/// Which serializations to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compat {
    /// RFC 7515 general JSON only (detached signatures).
    Rfc7515,
    /// RFC 7515 general JSON plus wheel 0.31's `recipients` (embedded `RECORD.jws`).
    WithLegacy,
}

/// Sign `payload` and return the JWS document (general JSON serialization).
pub fn sign(key: &PrivateKey, payload: &Payload, jku: Option<&str>, compat: Compat) -> String {
    let mut p = Map::new();
    p.insert("hash".into(), json!(payload.hash));
    if let Some(iat) = payload.iat {
        p.insert("iat".into(), json!(iat));
    }
    if let Some(f) = &payload.filename {
        p.insert("filename".into(), json!(f));
    }
    if let Some(h) = &payload.file_sha256 {
        p.insert("file_sha256".into(), json!(h));
    }
    let payload_b64 = b64url(Value::Object(p).to_string().as_bytes());
    let mut header = json!({"alg": "EdDSA", "kid": key.public().kid(), "jwk": key.public().jwk()});
    if let (Some(u), Some(o)) = (jku, header.as_object_mut()) {
        o.insert("jku".into(), json!(u));
    }
    let entry = |header: &Value| -> (String, String) {
        let h = b64url(header.to_string().as_bytes());
        let sig = key.sign(format!("{h}.{payload_b64}").as_bytes());
        (h, b64url(&sig))
    };
    let (h, s) = entry(&header);
    let mut doc = json!({"payload": payload_b64, "signatures": [{"protected": h, "signature": s}]});
    if compat == Compat::WithLegacy {
        let legacy = json!({"alg": "Ed25519", "jwk": {"kty": "Ed25519", "vk": key.public().x()}});
        let (lh, ls) = entry(&legacy);
        if let Some(o) = doc.as_object_mut() {
            o.insert(
                "recipients".into(),
                json!([{"header": lh, "signature": ls}]),
            );
        }
    }
    let mut text = doc.to_string();
    text.push('\n');
    text
}

/// Which carrier a signature document came in (for reports).
pub fn carrier_of(path: &Option<String>) -> Carrier {
    if path.is_some() {
        Carrier::Embedded
    } else {
        Carrier::Detached
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> PrivateKey {
        PrivateKey::from_seed(&[n; 32]).unwrap()
    }

    fn payload() -> Payload {
        Payload {
            hash: record_hash_claim(&[1; 32]),
            iat: Some(1_700_000_000),
            ..Payload::default()
        }
    }

    fn codes(doc: &str) -> Vec<Result<(), Code>> {
        match parse(doc.as_bytes(), &None) {
            Err(p) => vec![Err(p.code)],
            Ok(j) => j
                .check(&None)
                .into_iter()
                .map(|o| o.result.map(|_| ()).map_err(|p| p.code))
                .collect(),
        }
    }

    #[test]
    fn signs_and_verifies_both_shapes() {
        let doc = sign(
            &key(1),
            &payload(),
            Some("https://x.test/keys.json"),
            Compat::WithLegacy,
        );
        let j = parse(doc.as_bytes(), &None).unwrap();
        assert_eq!(j.payload(), &payload());
        let out = j.check(&None);
        assert_eq!(out.len(), 2);
        for o in &out {
            let c = o.result.as_ref().unwrap();
            assert_eq!(c.key, *key(1).public());
        }
        assert_eq!(out[0].format, SigFormat::General);
        assert_eq!(out[1].format, SigFormat::Legacy);
        assert_eq!(out[0].jku.as_deref(), Some("https://x.test/keys.json"));
    }

    fn tamper(doc: &str, f: impl FnOnce(&mut Map<String, Value>)) -> String {
        let mut v: Value = serde_json::from_str(doc).unwrap();
        f(v.as_object_mut().unwrap());
        v.to_string()
    }

    fn resign_header(header: Value, k: &PrivateKey, payload_b64: &str) -> Value {
        let h = b64url(header.to_string().as_bytes());
        let s = b64url(&k.sign(format!("{h}.{payload_b64}").as_bytes()));
        json!({"protected": h, "signature": s})
    }

    #[test]
    fn rejects_tampering() {
        let k = key(2);
        let doc = sign(&k, &payload(), None, Compat::Rfc7515);
        let pb64 = serde_json::from_str::<Value>(&doc).unwrap()["payload"]
            .as_str()
            .unwrap()
            .to_string();
        let base = json!({"alg":"EdDSA","kid":k.public().kid(),"jwk":k.public().jwk()});
        let with = |extra: (&str, Value)| {
            let mut h = base.clone();
            h.as_object_mut().unwrap().insert(extra.0.into(), extra.1);
            json!({"payload": pb64, "signatures": [resign_header(h, &k, &pb64)]}).to_string()
        };
        assert_eq!(
            codes(&with(("alg", json!("none")))),
            vec![Err(Code::SigUnsupportedAlg)]
        );
        assert_eq!(
            codes(&with(("alg", json!("HS256")))),
            vec![Err(Code::SigUnsupportedAlg)]
        );
        assert_eq!(codes(&with(("alg", json!("Ed25519")))), vec![Ok(())]);
        assert_eq!(
            codes(&with(("crit", json!(["exp"])))),
            vec![Err(Code::SigCrit)]
        );
        assert_eq!(codes(&with(("b64", json!(false)))), vec![Err(Code::SigB64)]);
        assert_eq!(
            codes(&with(("kid", json!("other")))),
            vec![Err(Code::SigKidMismatch)]
        );
        let other = key(3);
        assert_eq!(
            codes(&with(("jwk", other.public().jwk()))),
            vec![Err(Code::SigKidMismatch)]
        );
        // Header names another key consistently, but key 2 signed: the signature fails.
        let mut h = json!({"alg":"EdDSA","kid":other.public().kid(),"jwk":other.public().jwk()});
        let entry = resign_header(h.take(), &k, &pb64);
        let swapped = json!({"payload": pb64, "signatures": [entry]}).to_string();
        assert_eq!(codes(&swapped), vec![Err(Code::SigBadSignature)]);
        // Flipped signature bit.
        let flipped = tamper(&doc, |o| {
            let s = o["signatures"][0]["signature"]
                .as_str()
                .unwrap()
                .to_string();
            let mut b = b64url_decode(&s).unwrap();
            b[5] ^= 1;
            o["signatures"][0]["signature"] = json!(b64url(&b));
        });
        assert_eq!(codes(&flipped), vec![Err(Code::SigBadSignature)]);
        // Overlapping headers.
        let overlap = tamper(&doc, |o| {
            o["signatures"][0]
                .as_object_mut()
                .unwrap()
                .insert("header".into(), json!({"kid": "x"}));
        });
        assert_eq!(codes(&overlap), vec![Err(Code::SigHeaderOverlap)]);
        // Padded base64.
        let padded = tamper(&doc, |o| {
            let s = o["payload"].as_str().unwrap().to_string();
            o["payload"] = json!(format!("{s}=="));
        });
        assert_eq!(codes(&padded), vec![Err(Code::SigBadBase64)]);
        // Duplicate member at top level.
        let dup = doc.trim_end().trim_end_matches('}').to_string()
            + &format!(",\"payload\":\"{pb64}\"}}");
        assert_eq!(codes(&dup), vec![Err(Code::SigDuplicateMember)]);
        assert_eq!(codes("[]"), vec![Err(Code::SigMalformed)]);
        assert_eq!(codes(r#"{"payload":"e30"}"#), vec![Err(Code::SigMalformed)]);
    }

    #[test]
    fn flattened_is_accepted() {
        let k = key(4);
        let doc = sign(&k, &payload(), None, Compat::Rfc7515);
        let v: Value = serde_json::from_str(&doc).unwrap();
        let flat = json!({"payload": v["payload"], "protected": v["signatures"][0]["protected"], "signature": v["signatures"][0]["signature"]});
        assert_eq!(codes(&flat.to_string()), vec![Ok(())]);
    }

    #[test]
    fn small_order_header_key_rejected() {
        let mut x = [0u8; 32];
        x[0] = 1;
        let h = b64url(
            json!({"alg":"EdDSA","jwk":{"kty":"OKP","crv":"Ed25519","x":b64url(&x)}})
                .to_string()
                .as_bytes(),
        );
        let doc = json!({"payload": b64url(br#"{"hash":"sha256=x"}"#), "signatures":[{"protected": h, "signature": b64url(&[0u8; 64])}]});
        assert_eq!(codes(&doc.to_string()), vec![Err(Code::SigBadKey)]);
    }
}
