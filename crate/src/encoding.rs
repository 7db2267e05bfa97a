//! Strict encodings: canonical unpadded base64url and duplicate-free, depth-bounded JSON.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

use crate::limits::MAX_JSON_DEPTH;

/// base64url without padding; decoding rejects `=` and non-zero trailing bits, so every
/// byte string has exactly one accepted encoding.
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Standard base64 without padding (only used for `SHA256:` fingerprints).
const B64STD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_encode_padding(false),
);

/// Encode as canonical unpadded base64url.
pub fn b64url(bytes: &[u8]) -> String {
    B64URL.encode(bytes)
}

/// Decode canonical unpadded base64url; `None` for padding, other alphabets or
/// non-canonical trailing bits.
pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    B64URL.decode(text.as_bytes()).ok()
}

/// Encode as standard base64 without padding.
pub fn b64std(bytes: &[u8]) -> String {
    B64STD.encode(bytes)
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Why a JSON document was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonError {
    /// A member name appears twice in one object.
    DuplicateMember(String),
    /// Not JSON, or nested deeper than the limit.
    Syntax(String),
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::DuplicateMember(name) => write!(f, "duplicate member name {name:?}"),
            JsonError::Syntax(msg) => f.write_str(msg),
        }
    }
}

/// Parse JSON strictly: duplicate member names at any level and nesting beyond
/// [`MAX_JSON_DEPTH`] are errors (serde_json alone keeps the last duplicate silently).
pub fn parse_json(bytes: &[u8]) -> Result<Value, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue::deserialize_at(&mut de, 0).map_err(|e| {
        let msg = e.to_string();
        match msg.strip_prefix(DUP_PREFIX) {
            Some(rest) => JsonError::DuplicateMember(strip_position(rest)),
            None => JsonError::Syntax(msg),
        }
    })?;
    de.end().map_err(|e| JsonError::Syntax(e.to_string()))?;
    Ok(value)
}

const DUP_PREFIX: &str = "duplicate member name: ";

/// serde_json appends " at line L column C" to custom errors; keep just the name.
fn strip_position(s: &str) -> String {
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s.to_string(),
    }
}

struct StrictValue;

impl StrictValue {
    fn deserialize_at<'de, D: Deserializer<'de>>(d: D, depth: usize) -> Result<Value, D::Error> {
        d.deserialize_any(StrictVisitor { depth })
    }
}

struct StrictVisitor {
    depth: usize,
}

struct Nested {
    depth: usize,
}

impl<'de> de::DeserializeSeed<'de> for Nested {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        StrictValue::deserialize_at(d, self.depth)
    }
}

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_JSON_DEPTH {
            return Err(de::Error::custom("JSON nested too deeply"));
        }
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Nested {
            depth: self.depth + 1,
        })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_JSON_DEPTH {
            return Err(de::Error::custom("JSON nested too deeply"));
        }
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let v = map.next_value_seed(Nested {
                depth: self.depth + 1,
            })?;
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!("{DUP_PREFIX}{key}")));
            }
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_is_canonical() {
        assert_eq!(b64url(b"\xff\xfe"), "__4");
        assert_eq!(b64url_decode("__4"), Some(vec![0xff, 0xfe]));
        assert_eq!(b64url_decode("__4="), None, "padding rejected");
        assert_eq!(b64url_decode("//4"), None, "standard alphabet rejected");
        assert_eq!(
            b64url_decode("__5"),
            None,
            "non-zero trailing bits rejected"
        );
    }

    #[test]
    fn json_rejects_duplicates_at_every_level() {
        assert!(parse_json(br#"{"a":1,"b":{"c":2}}"#).is_ok());
        assert_eq!(
            parse_json(br#"{"a":1,"a":2}"#),
            Err(JsonError::DuplicateMember("a".into()))
        );
        assert_eq!(
            parse_json(br#"{"x":[{"k":1,"k":1}]}"#),
            Err(JsonError::DuplicateMember("k".into()))
        );
    }

    #[test]
    fn json_depth_and_trailing_garbage() {
        let deep = "[".repeat(40) + &"]".repeat(40);
        assert!(matches!(
            parse_json(deep.as_bytes()),
            Err(JsonError::Syntax(_))
        ));
        assert!(matches!(parse_json(b"{} x"), Err(JsonError::Syntax(_))));
        assert!(parse_json(b"  {}\n").is_ok());
    }

    #[test]
    fn hex_encodes() {
        assert_eq!(hex(&[0, 0xab, 0xff]), "00abff");
    }
}
