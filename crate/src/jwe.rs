//! Passphrase-encrypted private keys: a JWE (RFC 7516) whose content key is wrapped with PBES2
//! (RFC 7518 §4.8: PBKDF2 over the passphrase, then AES Key Wrap), content encrypted with
//! AES-GCM. What jwcrypto, python-jose and the `jose` tools read and write.
//!
//! Written: compact serialization, `alg` `PBES2-HS512+A256KW`, `enc` `A256GCM`, `cty`
//! `jwk+json`, a 16-byte salt and [`WRITE_ITERATIONS`] PBKDF2 iterations. Read: compact or JSON
//! (flattened, or general with one recipient), any of the three PBES2 algorithms, `enc`
//! A128GCM, A192GCM or A256GCM. Hostile input is bounded: the iteration count a file may ask
//! for is capped ([`MAX_ITERATIONS`]), so a crafted key file cannot make `sign` spin for hours.
//! Pure: randomness is passed in.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{AesGcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

/// PBKDF2 iterations used when encrypting (OWASP's 2023 figure for PBKDF2-HMAC-SHA512).
pub const WRITE_ITERATIONS: u32 = 210_000;
/// Most PBKDF2 iterations accepted when decrypting.
pub const MAX_ITERATIONS: u32 = 2_000_000;
/// Fewest PBKDF2 iterations accepted (RFC 7518 §4.8.1.2 recommends at least 1000).
pub const MIN_ITERATIONS: u32 = 1000;
/// Largest encrypted key file accepted.
pub const MAX_JWE_BYTES: usize = 64 * 1024;

/// Why an encrypted key could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JweError {
    /// Not a JWE this module reads (says what is wrong).
    Malformed(String),
    /// The passphrase is wrong, or the file was changed (the two cannot be told apart).
    Decrypt,
}

impl std::fmt::Display for JweError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JweError::Malformed(m) => write!(f, "not a readable encrypted key (JWE): {m}"),
            JweError::Decrypt => f.write_str("wrong passphrase, or the encrypted key was changed"),
        }
    }
}

impl std::error::Error for JweError {}

fn bad(m: impl Into<String>) -> JweError {
    JweError::Malformed(m.into())
}

/// Whether `text` looks like a JWE (compact: five dot-separated parts; or a JSON object with
/// `ciphertext`) rather than a plain JWK.
pub fn looks_encrypted(text: &[u8]) -> bool {
    let t = String::from_utf8_lossy(text);
    let t = t.trim();
    (!t.starts_with('{') && t.split('.').count() == 5)
        || (t.starts_with('{') && t.contains("\"ciphertext\""))
}

/// Encrypt `plaintext` (a private JWK) under `passphrase`. `salt`, `cek` and `iv` must be
/// fresh random bytes.
pub fn encrypt(
    plaintext: &[u8],
    passphrase: &str,
    salt: &[u8; 16],
    cek: &[u8; 32],
    iv: &[u8; 12],
) -> Result<String, JweError> {
    encrypt_with(plaintext, passphrase, salt, cek, iv, WRITE_ITERATIONS)
}

fn encrypt_with(
    plaintext: &[u8],
    passphrase: &str,
    salt: &[u8; 16],
    cek: &[u8; 32],
    iv: &[u8; 12],
    iterations: u32,
) -> Result<String, JweError> {
    let alg = "PBES2-HS512+A256KW";
    let header = json!({ "alg": alg, "enc": "A256GCM", "cty": "jwk+json", "p2s": URL_SAFE_NO_PAD.encode(salt), "p2c": iterations });
    let protected = URL_SAFE_NO_PAD.encode(header.to_string());
    let kek = derive(alg, passphrase.as_bytes(), salt, iterations)?;
    let wrapped = aes_kw::KekAes256::new(kek.as_slice().into())
        .wrap_vec(cek)
        .map_err(|e| bad(format!("key wrap: {e}")))?;
    let sealed = aes_gcm::Aes256Gcm::new(cek.into())
        .encrypt(
            Nonce::from_slice(iv),
            Payload {
                msg: plaintext,
                aad: protected.as_bytes(),
            },
        )
        .map_err(|_| bad("AES-GCM failed"))?;
    let (ct, tag) = sealed.split_at(sealed.len() - 16);
    Ok(format!(
        "{protected}.{}.{}.{}.{}",
        URL_SAFE_NO_PAD.encode(wrapped),
        URL_SAFE_NO_PAD.encode(iv),
        URL_SAFE_NO_PAD.encode(ct),
        URL_SAFE_NO_PAD.encode(tag)
    ))
}

/// The five parts of a JWE, base64url text (the protected header as sent: it is the AAD).
struct Parts {
    protected: String,
    encrypted_key: String,
    iv: String,
    ciphertext: String,
    tag: String,
    /// Unprotected header members (JSON serialization only): just `p2s` and `p2c`, which
    /// jwcrypto puts there. They only steer the key derivation: a changed one fails the unwrap.
    unprotected: Map<String, Value>,
}

fn parts(text: &[u8]) -> Result<Parts, JweError> {
    if text.len() > MAX_JWE_BYTES {
        return Err(bad(format!(
            "{} bytes; the limit is {MAX_JWE_BYTES}",
            text.len()
        )));
    }
    let t = std::str::from_utf8(text)
        .map_err(|_| bad("not UTF-8"))?
        .trim();
    if !t.starts_with('{') {
        let p: Vec<&str> = t.split('.').collect();
        let [protected, encrypted_key, iv, ciphertext, tag] = p.as_slice() else {
            return Err(bad("a compact JWE has five parts separated by dots"));
        };
        return Ok(Parts {
            protected: protected.to_string(),
            encrypted_key: encrypted_key.to_string(),
            iv: iv.to_string(),
            ciphertext: ciphertext.to_string(),
            tag: tag.to_string(),
            unprotected: Map::new(),
        });
    }
    let v = crate::encoding::parse_json(t.as_bytes())
        .map_err(|e| bad(format!("not valid JSON: {e}")))?;
    let obj = v.as_object().ok_or_else(|| bad("not a JSON object"))?;
    for k in obj.keys() {
        if !matches!(
            k.as_str(),
            "protected" | "encrypted_key" | "iv" | "ciphertext" | "tag" | "recipients" | "header"
        ) {
            return Err(bad(format!(
                "member {k:?}: shared unprotected headers and AAD are not accepted"
            )));
        }
    }
    let unprotected = |o: &Map<String, Value>| -> Result<Map<String, Value>, JweError> {
        match o.get("header") {
            None => Ok(Map::new()),
            Some(Value::Object(h)) if h.keys().all(|k| k == "p2s" || k == "p2c") => Ok(h.clone()),
            Some(_) => Err(bad(
                "an unprotected `header` may hold only p2s and p2c: alg and enc must be protected",
            )),
        }
    };
    let s = |o: &Map<String, Value>, k: &str| {
        o.get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| bad(format!("`{k}` must be a string")))
    };
    let (encrypted_key, header) = match obj.get("recipients") {
        None => (s(obj, "encrypted_key")?, unprotected(obj)?),
        Some(Value::Array(r))
            if r.len() == 1
                && !obj.contains_key("encrypted_key")
                && !obj.contains_key("header") =>
        {
            let r = r[0]
                .as_object()
                .ok_or_else(|| bad("a recipient must be an object"))?;
            if r.keys().any(|k| k != "encrypted_key" && k != "header") {
                return Err(bad("a recipient holds only `encrypted_key` and `header`"));
            }
            (s(r, "encrypted_key")?, unprotected(r)?)
        }
        Some(_) => return Err(bad("exactly one recipient is expected")),
    };
    Ok(Parts {
        protected: s(obj, "protected")?,
        encrypted_key,
        iv: s(obj, "iv")?,
        ciphertext: s(obj, "ciphertext")?,
        tag: s(obj, "tag")?,
        unprotected: header,
    })
}

fn b64(field: &str, text: &str) -> Result<Vec<u8>, JweError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| bad(format!("`{field}` is not base64url")))
}

fn derive(alg: &str, passphrase: &[u8], salt: &[u8], iterations: u32) -> Result<Vec<u8>, JweError> {
    // RFC 7518 §4.8.1.1: the salt is UTF8(alg) || 0x00 || p2s.
    let mut full = alg.as_bytes().to_vec();
    full.push(0);
    full.extend_from_slice(salt);
    let (len, out) = match alg {
        "PBES2-HS256+A128KW" => (16, pbkdf2::pbkdf2_hmac_array::<sha2::Sha256, 16>(passphrase, &full, iterations).to_vec()),
        "PBES2-HS384+A192KW" => (24, pbkdf2::pbkdf2_hmac_array::<sha2::Sha384, 24>(passphrase, &full, iterations).to_vec()),
        "PBES2-HS512+A256KW" => (32, pbkdf2::pbkdf2_hmac_array::<sha2::Sha512, 32>(passphrase, &full, iterations).to_vec()),
        other => return Err(bad(format!("alg {other:?}: only PBES2-HS256+A128KW, PBES2-HS384+A192KW and PBES2-HS512+A256KW are read"))),
    };
    debug_assert_eq!(out.len(), len);
    Ok(out)
}

/// Decrypt a PBES2 JWE with `passphrase`; returns the plaintext (the private JWK).
pub fn decrypt(text: &[u8], passphrase: &str) -> Result<Vec<u8>, JweError> {
    let p = parts(text)?;
    let header_bytes = b64("protected", &p.protected)?;
    let header = crate::encoding::parse_json(&header_bytes)
        .map_err(|e| bad(format!("the protected header is not valid JSON: {e}")))?;
    let mut h = header
        .as_object()
        .ok_or_else(|| bad("the protected header is not an object"))?
        .clone();
    for k in h.keys() {
        if !matches!(
            k.as_str(),
            "alg" | "enc" | "cty" | "typ" | "p2s" | "p2c" | "kid"
        ) {
            return Err(bad(format!(
                "header member {k:?} is not understood (crit, zip and others are refused)"
            )));
        }
    }
    for (k, v) in p.unprotected {
        if h.insert(k.clone(), v).is_some() {
            return Err(bad(format!(
                "`{k}` is in both the protected and the unprotected header"
            )));
        }
    }
    let alg = h
        .get("alg")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("`alg` is missing"))?;
    let enc = h
        .get("enc")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("`enc` is missing"))?;
    let salt = b64(
        "p2s",
        h.get("p2s")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("`p2s` (the salt) is missing"))?,
    )?;
    if salt.len() < 8 {
        return Err(bad("`p2s` must be at least 8 bytes (RFC 7518 §4.8.1.1)"));
    }
    let iterations = h
        .get("p2c")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("`p2c` (the iteration count) must be a positive integer"))?;
    if !(u64::from(MIN_ITERATIONS)..=u64::from(MAX_ITERATIONS)).contains(&iterations) {
        return Err(bad(format!(
            "`p2c` is {iterations}; accepted: {MIN_ITERATIONS} to {MAX_ITERATIONS}"
        )));
    }
    let kek = derive(alg, passphrase.as_bytes(), &salt, iterations as u32)?;
    let wrapped = b64("encrypted_key", &p.encrypted_key)?;
    let unwrap_err = |_| JweError::Decrypt;
    let cek = match kek.len() {
        16 => aes_kw::KekAes128::new(kek.as_slice().into())
            .unwrap_vec(&wrapped)
            .map_err(unwrap_err)?,
        24 => aes_kw::KekAes192::new(kek.as_slice().into())
            .unwrap_vec(&wrapped)
            .map_err(unwrap_err)?,
        _ => aes_kw::KekAes256::new(kek.as_slice().into())
            .unwrap_vec(&wrapped)
            .map_err(unwrap_err)?,
    };
    let iv = b64("iv", &p.iv)?;
    if iv.len() != 12 {
        return Err(bad("`iv` must be 12 bytes for AES-GCM"));
    }
    let mut sealed = b64("ciphertext", &p.ciphertext)?;
    let tag = b64("tag", &p.tag)?;
    if tag.len() != 16 {
        return Err(bad("`tag` must be 16 bytes"));
    }
    sealed.extend_from_slice(&tag);
    let payload = Payload {
        msg: &sealed,
        aad: p.protected.as_bytes(),
    };
    let nonce = Nonce::from_slice(&iv);
    let want = match enc {
        "A128GCM" => 16,
        "A192GCM" => 24,
        "A256GCM" => 32,
        other => {
            return Err(bad(format!(
                "enc {other:?}: only A128GCM, A192GCM and A256GCM are read"
            )))
        }
    };
    if cek.len() != want {
        return Err(JweError::Decrypt);
    }
    let plain = match want {
        16 => {
            AesGcm::<aes_gcm::aes::Aes128, aes_gcm::aead::consts::U12>::new(cek.as_slice().into())
                .decrypt(nonce, payload)
        }
        24 => {
            AesGcm::<aes_gcm::aes::Aes192, aes_gcm::aead::consts::U12>::new(cek.as_slice().into())
                .decrypt(nonce, payload)
        }
        _ => AesGcm::<aes_gcm::aes::Aes256, aes_gcm::aead::consts::U12>::new(cek.as_slice().into())
            .decrypt(nonce, payload),
    };
    plain.map_err(|_| JweError::Decrypt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_passphrase() {
        // The fewest iterations accepted: unoptimized test builds hash slowly (the CLI and
        // jwcrypto interop tests use the real count).
        let jwe = encrypt_with(
            b"{\"kty\":\"OKP\"}",
            "correct horse",
            &[1; 16],
            &[2; 32],
            &[3; 12],
            MIN_ITERATIONS,
        )
        .unwrap();
        assert!(looks_encrypted(jwe.as_bytes()));
        assert!(!looks_encrypted(b"{\"kty\":\"OKP\",\"d\":\"x\"}"));
        assert_eq!(
            decrypt(jwe.as_bytes(), "correct horse").unwrap(),
            b"{\"kty\":\"OKP\"}"
        );
        assert_eq!(decrypt(jwe.as_bytes(), "wrong"), Err(JweError::Decrypt));
        // A changed header (the AAD) or ciphertext fails as a whole.
        let mut p: Vec<String> = jwe.split('.').map(String::from).collect();
        p[3] = URL_SAFE_NO_PAD.encode(b"tampered-ciphertext");
        assert_eq!(
            decrypt(p.join(".").as_bytes(), "correct horse"),
            Err(JweError::Decrypt)
        );
    }

    #[test]
    fn hostile_headers_are_refused_before_any_work() {
        let header = |h: Value| {
            format!(
                "{}.AAAA.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA",
                URL_SAFE_NO_PAD.encode(h.to_string())
            )
        };
        for (h, want) in [
            (
                json!({"alg": "PBES2-HS512+A256KW", "enc": "A256GCM", "p2s": "AAAAAAAAAAA", "p2c": 4_000_000_000u64}),
                "p2c",
            ),
            (
                json!({"alg": "PBES2-HS512+A256KW", "enc": "A256GCM", "p2s": "AAAAAAAAAAA", "p2c": 10}),
                "p2c",
            ),
            (
                json!({"alg": "dir", "enc": "A256GCM", "p2s": "AAAAAAAAAAA", "p2c": 1000}),
                "only PBES2",
            ),
            (
                json!({"alg": "PBES2-HS512+A256KW", "enc": "A256GCM", "p2s": "AA", "p2c": 1000}),
                "8 bytes",
            ),
            (
                json!({"alg": "PBES2-HS512+A256KW", "enc": "A256GCM", "p2s": "AAAAAAAAAAA", "p2c": 1000, "zip": "DEF"}),
                "zip",
            ),
        ] {
            let e = decrypt(header(h).as_bytes(), "x").unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
        assert!(decrypt(b"a.b.c", "x")
            .unwrap_err()
            .to_string()
            .contains("five parts"));
        assert!(decrypt(&vec![b'a'; MAX_JWE_BYTES + 1], "x")
            .unwrap_err()
            .to_string()
            .contains("limit"));
    }
}
