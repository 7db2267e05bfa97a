//! Ed25519 keys as JWKs (RFC 8037), thumbprints (RFC 7638), and JWK Sets (trust sources).

use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::fmt;

use crate::encoding::{b64std, b64url, b64url_decode, parse_json, JsonError};
use crate::limits::{MAX_KEYS, MAX_KEY_SET_BYTES};
use crate::names::{is_valid_project, normalize_project};

/// A checked Ed25519 public key: canonical encoding, not of small order.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.kid())
    }
}

/// Why a key was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// Not an object, wrong `kty`/`crv`, missing or mistyped members.
    Malformed(String),
    /// `x` (or `vk`, `d`) is not canonical unpadded base64url of 32 bytes.
    BadEncoding(&'static str),
    /// The point encoding is not canonical, does not decompress, or has small order.
    WeakKey,
    /// `kid` is present and differs from the RFC 7638 thumbprint.
    KidMismatch {
        /// The `kid` member.
        stated: String,
        /// The thumbprint computed from `x`.
        computed: String,
    },
    /// The private member `d` is present where only public keys belong.
    PrivateKeyPresent,
    /// `d` does not belong to `x`.
    KeyPairMismatch,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Malformed(m) => write!(f, "malformed key: {m}"),
            KeyError::BadEncoding(member) => {
                write!(
                    f,
                    "`{member}` is not canonical unpadded base64url of 32 bytes"
                )
            }
            KeyError::WeakKey => f.write_str("public key is non-canonical or of small order"),
            KeyError::KidMismatch { stated, computed } => {
                write!(f, "kid {stated:?} is not the key's thumbprint {computed:?}")
            }
            KeyError::PrivateKeyPresent => f.write_str(
                "contains a private key (`d`): never publish it; remove it and rotate the key",
            ),
            KeyError::KeyPairMismatch => {
                f.write_str("private key `d` does not match public key `x`")
            }
        }
    }
}

impl PublicKey {
    /// Accept 32 raw bytes only if they are a canonical encoding of a point that is not of
    /// small order. ed25519-dalek's `verify_strict` also refuses weak keys; checking on load
    /// makes a bad key in a key set an error the publisher sees, not a silent mismatch later.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| KeyError::BadEncoding("x"))?;
        let point = CompressedEdwardsY(arr)
            .decompress()
            .ok_or(KeyError::WeakKey)?;
        if point.compress().to_bytes() != arr || point.is_small_order() {
            return Err(KeyError::WeakKey);
        }
        let vk = VerifyingKey::from_bytes(&arr).map_err(|_| KeyError::WeakKey)?;
        if vk.is_weak() {
            return Err(KeyError::WeakKey);
        }
        Ok(PublicKey(vk))
    }

    /// The raw 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The underlying dalek key.
    pub(crate) fn dalek(&self) -> &VerifyingKey {
        &self.0
    }

    /// `x` as base64url.
    pub fn x(&self) -> String {
        b64url(&self.to_bytes())
    }

    /// RFC 7638 thumbprint: the key id.
    pub fn kid(&self) -> String {
        let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, self.x());
        b64url(&Sha256::digest(canonical.as_bytes()))
    }

    /// `SHA256:` + standard base64 (unpadded) of SHA-256 over the raw key, like `ssh-keygen -l`.
    pub fn fingerprint(&self) -> String {
        format!("SHA256:{}", b64std(&Sha256::digest(self.to_bytes())))
    }

    /// The public JWK `{"kty","crv","x"}`.
    pub fn jwk(&self) -> Value {
        json!({"kty": "OKP", "crv": "Ed25519", "x": self.x()})
    }

    /// Parse an RFC 8037 OKP/Ed25519 JWK object. A `kid`, if present, must equal the
    /// thumbprint. With [`Private::Reject`], a `d` member is an error.
    pub fn from_jwk(obj: &Map<String, Value>, private: Private) -> Result<Self, KeyError> {
        let kty = obj.get("kty").and_then(Value::as_str);
        let crv = obj.get("crv").and_then(Value::as_str);
        if kty != Some("OKP") || crv != Some("Ed25519") {
            return Err(KeyError::Malformed(format!(
                "expected kty \"OKP\" and crv \"Ed25519\", got {} and {}",
                describe(obj.get("kty")),
                describe(obj.get("crv"))
            )));
        }
        if private == Private::Reject && obj.contains_key("d") {
            return Err(KeyError::PrivateKeyPresent);
        }
        let x = obj
            .get("x")
            .and_then(Value::as_str)
            .ok_or_else(|| KeyError::Malformed("missing string member `x`".into()))?;
        let raw = b64url_decode(x).ok_or(KeyError::BadEncoding("x"))?;
        let key = PublicKey::from_bytes(&raw)?;
        if let Some(kid) = obj.get("kid") {
            let stated = kid
                .as_str()
                .ok_or_else(|| KeyError::Malformed("`kid` is not a string".into()))?;
            let computed = key.kid();
            if stated != computed {
                return Err(KeyError::KidMismatch {
                    stated: stated.to_string(),
                    computed,
                });
            }
        }
        Ok(key)
    }

    /// Parse wheel 0.31's legacy header key `{"kty":"Ed25519","vk":…}`.
    pub fn from_legacy_jwk(obj: &Map<String, Value>) -> Result<Self, KeyError> {
        if obj.get("kty").and_then(Value::as_str) != Some("Ed25519") {
            return Err(KeyError::Malformed(format!(
                "legacy key kty is {}, expected \"Ed25519\"",
                describe(obj.get("kty"))
            )));
        }
        let vk = obj
            .get("vk")
            .and_then(Value::as_str)
            .ok_or_else(|| KeyError::Malformed("missing string member `vk`".into()))?;
        let raw = b64url_decode(vk).ok_or(KeyError::BadEncoding("vk"))?;
        PublicKey::from_bytes(&raw)
    }
}

fn describe(v: Option<&Value>) -> String {
    match v {
        None => "nothing".into(),
        Some(v) => v.to_string(),
    }
}

/// Whether a private member `d` is acceptable in a JWK being parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Private {
    /// Public keys only (key sets, signature headers).
    Reject,
    /// Ignore `d` (reading the public half of a private key file).
    Ignore,
}

/// An Ed25519 private key with its public half.
pub struct PrivateKey {
    signing: SigningKey,
    public: PublicKey,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({})", self.public.kid())
    }
}

impl PrivateKey {
    /// Build from a 32-byte seed (RFC 8032 private key).
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, KeyError> {
        let signing = SigningKey::from_bytes(seed);
        let public = PublicKey::from_bytes(signing.verifying_key().as_bytes())?;
        Ok(PrivateKey { signing, public })
    }

    /// Generate a key from the operating system's (or browser's) random source.
    pub fn generate() -> Result<Self, String> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| format!("no random source: {e}"))?;
        PrivateKey::from_seed(&seed).map_err(|e| e.to_string())
    }

    /// Parse a private JWK (`d` present and matching `x`).
    pub fn from_jwk_text(text: &[u8]) -> Result<Self, KeyError> {
        let v = parse_json(text).map_err(|e| KeyError::Malformed(e.to_string()))?;
        let obj = v
            .as_object()
            .ok_or_else(|| KeyError::Malformed("not a JSON object".into()))?;
        let public = PublicKey::from_jwk(obj, Private::Ignore)?;
        let d = obj.get("d").and_then(Value::as_str).ok_or_else(|| {
            KeyError::Malformed("no private member `d`: this is a public key".into())
        })?;
        let seed: [u8; 32] = b64url_decode(d)
            .and_then(|b| b.try_into().ok())
            .ok_or(KeyError::BadEncoding("d"))?;
        let key = PrivateKey::from_seed(&seed)?;
        if key.public != public {
            return Err(KeyError::KeyPairMismatch);
        }
        Ok(key)
    }

    /// The private JWK (with `d` and `kid`) as pretty JSON.
    pub fn to_jwk_text(&self) -> String {
        let mut jwk = self.public.jwk();
        if let Some(o) = jwk.as_object_mut() {
            o.insert("d".into(), Value::String(b64url(self.signing.as_bytes())));
            o.insert("kid".into(), Value::String(self.public.kid()));
        }
        pretty(&jwk)
    }

    /// The public half.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// Sign `msg` (Ed25519, RFC 8032).
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer;
        self.signing.sign(msg).to_bytes()
    }
}

/// Pretty JSON with a trailing newline.
pub(crate) fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// One key listed in a JWK Set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedKey {
    /// The key.
    pub key: PublicKey,
    /// Normalized projects this key may sign; `None` means all of the publisher's.
    pub projects: Option<Vec<String>>,
    /// Retirement time (Unix seconds): signatures made after it are not accepted.
    pub exp: Option<i64>,
    /// Optional key URL recorded for this key (dependency key lists).
    pub key_url: Option<String>,
}

impl ListedKey {
    /// Whether this key may sign `project` (normalized).
    pub fn covers(&self, project: &str) -> bool {
        match &self.projects {
            None => true,
            Some(list) => list.iter().any(|p| p == project),
        }
    }

    /// The JWK Set entry for this key.
    pub fn to_jwk(&self) -> Value {
        let mut jwk = self.key.jwk();
        if let Some(o) = jwk.as_object_mut() {
            o.insert("kid".into(), Value::String(self.key.kid()));
            o.insert("use".into(), Value::String("sig".into()));
            o.insert("alg".into(), Value::String("EdDSA".into()));
            if let Some(p) = &self.projects {
                o.insert("projects".into(), json!(p));
            }
            if let Some(e) = self.exp {
                o.insert("exp".into(), json!(e));
            }
            if let Some(u) = &self.key_url {
                o.insert("key_url".into(), json!(u));
            }
        }
        jwk
    }
}

/// Why a JWK Set was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySetError {
    /// Larger than [`MAX_KEY_SET_BYTES`] or more than [`MAX_KEYS`] keys.
    TooLarge(String),
    /// Not JSON, duplicate member names, or nested too deeply.
    Json(JsonError),
    /// Not `{"keys":[…]}`.
    Shape(String),
    /// Key number `index` (0-based) is unacceptable.
    Key {
        /// Position in `keys`.
        index: usize,
        /// What is wrong with it.
        error: KeyError,
    },
    /// A member of key number `index` has the wrong type or value.
    Member {
        /// Position in `keys`.
        index: usize,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for KeySetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySetError::TooLarge(m) => f.write_str(m),
            KeySetError::Json(e) => write!(f, "not valid JSON: {e}"),
            KeySetError::Shape(m) => f.write_str(m),
            KeySetError::Key { index, error } => write!(f, "keys[{index}]: {error}"),
            KeySetError::Member { index, message } => write!(f, "keys[{index}]: {message}"),
        }
    }
}

/// A parsed, checked JWK Set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySet {
    /// The listed keys.
    pub keys: Vec<ListedKey>,
}

impl KeySet {
    /// Parse a JWK Set strictly (docs/SPEC.md, "JWK Set"). Every key must be an acceptable
    /// Ed25519 public key; anything else is an error naming the key's index, so a publisher's
    /// mistake is loud rather than silently ignored.
    pub fn parse(bytes: &[u8]) -> Result<Self, KeySetError> {
        if bytes.len() > MAX_KEY_SET_BYTES {
            return Err(KeySetError::TooLarge(format!(
                "JWK Set is {} bytes; the limit is {MAX_KEY_SET_BYTES}",
                bytes.len()
            )));
        }
        let v = parse_json(bytes).map_err(KeySetError::Json)?;
        let keys = v
            .as_object()
            .and_then(|o| o.get("keys"))
            .and_then(Value::as_array)
            .ok_or_else(|| KeySetError::Shape("expected a JWK Set: {\"keys\": [...]}".into()))?;
        if keys.len() > MAX_KEYS {
            return Err(KeySetError::TooLarge(format!(
                "{} keys; the limit is {MAX_KEYS}",
                keys.len()
            )));
        }
        let mut out = Vec::with_capacity(keys.len());
        for (index, k) in keys.iter().enumerate() {
            let member = |message: String| KeySetError::Member { index, message };
            let obj = k
                .as_object()
                .ok_or_else(|| member("not a JSON object".into()))?;
            let key = PublicKey::from_jwk(obj, Private::Reject)
                .map_err(|error| KeySetError::Key { index, error })?;
            if let Some(u) = obj.get("use") {
                if u.as_str() != Some("sig") {
                    return Err(member(format!("`use` is {u}, expected \"sig\"")));
                }
            }
            if let Some(a) = obj.get("alg") {
                if !matches!(a.as_str(), Some("EdDSA" | "Ed25519")) {
                    return Err(member(format!(
                        "`alg` is {a}, expected \"EdDSA\" or \"Ed25519\""
                    )));
                }
            }
            let projects = match obj.get("projects") {
                None => None,
                Some(Value::Array(list)) => {
                    let mut names = Vec::with_capacity(list.len());
                    for p in list {
                        let name = p.as_str().filter(|s| is_valid_project(s)).ok_or_else(|| {
                            member(format!("`projects` entry {p} is not a valid project name"))
                        })?;
                        names.push(normalize_project(name));
                    }
                    Some(names)
                }
                Some(other) => {
                    return Err(member(format!(
                        "`projects` is {other}, expected an array of names"
                    )))
                }
            };
            let exp = match obj.get("exp") {
                None => None,
                Some(e) => Some(
                    e.as_i64()
                        .ok_or_else(|| member(format!("`exp` is {e}, expected Unix seconds")))?,
                ),
            };
            let key_url = match obj.get("key_url") {
                None => None,
                Some(u) => {
                    let u = u
                        .as_str()
                        .ok_or_else(|| member("`key_url` is not a string".into()))?;
                    if u.len() > crate::urls::MAX_URL_BYTES
                        || !u.chars().all(|c| c.is_ascii_graphic())
                    {
                        return Err(member(format!(
                            "`key_url` must be a URL of printable ASCII, at most {} bytes",
                            crate::urls::MAX_URL_BYTES
                        )));
                    }
                    Some(u.to_string())
                }
            };
            if out.iter().any(|l: &ListedKey| l.key == key) {
                return Err(member(format!("key {} is listed twice", key.kid())));
            }
            out.push(ListedKey {
                key,
                projects,
                exp,
                key_url,
            });
        }
        Ok(KeySet { keys: out })
    }

    /// Serialize as a JWK Set document (pretty JSON).
    pub fn to_json(&self) -> String {
        pretty(&json!({"keys": self.keys.iter().map(ListedKey::to_jwk).collect::<Vec<_>>()}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 8037 appendix A.1/A.3 test key and its thumbprint.
    const X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const KID: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn rfc8037_thumbprint() {
        let k = PublicKey::from_jwk(
            &obj(json!({"kty":"OKP","crv":"Ed25519","x":X})),
            Private::Reject,
        )
        .unwrap();
        assert_eq!(k.kid(), KID);
        assert!(k.fingerprint().starts_with("SHA256:"));
    }

    #[test]
    fn rejects_bad_keys() {
        let bad = |v: Value| PublicKey::from_jwk(&obj(v), Private::Reject).unwrap_err();
        assert!(matches!(
            bad(json!({"kty":"EC","crv":"P-256","x":X})),
            KeyError::Malformed(_)
        ));
        assert!(matches!(
            bad(json!({"kty":"OKP","crv":"Ed25519","x":format!("{X}=")})),
            KeyError::BadEncoding(_)
        ));
        // The identity point (small order).
        let identity = b64url(&{
            let mut b = [0u8; 32];
            b[0] = 1;
            b
        });
        assert_eq!(
            bad(json!({"kty":"OKP","crv":"Ed25519","x":identity})),
            KeyError::WeakKey
        );
        // Non-canonical encoding of y = p + 1 (≡ 1): 0xee ff .. 7f.
        let mut nc = [0xffu8; 32];
        nc[0] = 0xee;
        nc[31] = 0x7f;
        assert_eq!(
            bad(json!({"kty":"OKP","crv":"Ed25519","x":b64url(&nc)})),
            KeyError::WeakKey
        );
        assert!(matches!(
            bad(json!({"kty":"OKP","crv":"Ed25519","x":X,"kid":"nope"})),
            KeyError::KidMismatch { .. }
        ));
        assert_eq!(
            bad(json!({"kty":"OKP","crv":"Ed25519","x":X,"d":"x"})),
            KeyError::PrivateKeyPresent
        );
    }

    #[test]
    fn key_set_parsing() {
        let ks = KeySet::parse(format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{X}","kid":"{KID}","projects":["Foo_Bar"],"exp":5}}]}}"#).as_bytes()).unwrap();
        assert_eq!(
            ks.keys[0].projects.as_deref(),
            Some(&["foo-bar".to_string()][..])
        );
        assert!(ks.keys[0].covers("foo-bar") && !ks.keys[0].covers("other"));
        assert_eq!(ks.keys[0].exp, Some(5));
        let again = KeySet::parse(ks.to_json().as_bytes()).unwrap();
        assert_eq!(again, ks);
        for bad in [
            "[]".to_string(),
            r#"{"keys":{}}"#.to_string(),
            format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{X}","x":"{X}"}}]}}"#),
            format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{X}","use":"enc"}}]}}"#),
            format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{X}","alg":"none"}}]}}"#),
            format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{X}","exp":"soon"}}]}}"#),
            format!(
                r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{X}","projects":["../x"]}}]}}"#
            ),
            format!(
                r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{X}"}},{{"kty":"OKP","crv":"Ed25519","x":"{X}"}}]}}"#
            ),
        ] {
            assert!(KeySet::parse(bad.as_bytes()).is_err(), "accepted {bad}");
        }
    }

    #[test]
    fn private_key_round_trip() {
        let k = PrivateKey::from_seed(&[7u8; 32]).unwrap();
        let text = k.to_jwk_text();
        let back = PrivateKey::from_jwk_text(text.as_bytes()).unwrap();
        assert_eq!(back.public(), k.public());
        let public_only = pretty(&k.public().jwk());
        assert!(PrivateKey::from_jwk_text(public_only.as_bytes()).is_err());
    }
}
