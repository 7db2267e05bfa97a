//! Where a private key comes from: a file, stdin (`--key -`) or an environment variable
//! (`--key-env NAME`, the CI habit: a secret never written to disk). The key is a JWK, plain
//! or passphrase-encrypted (a PBES2 JWE, `wheelsig::jwe`); the passphrase comes from
//! `WHEELSIG_KEY_PASSPHRASE` or a prompt on the terminal.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use clap::Args;
use wheelsig::keys::{Private, PrivateKey, PublicKey};

use crate::{read_limited, Failure};

/// The environment variable a passphrase is read from before prompting.
pub const PASSPHRASE_ENV: &str = "WHEELSIG_KEY_PASSPHRASE";

/// Largest key text read (a JWK, or an encrypted one).
const MAX_KEY_BYTES: u64 = 64 * 1024;

/// `--key FILE` / `--key -` / `--key-env NAME`: exactly one.
#[derive(Args, Clone, Debug)]
#[group(required = true, multiple = false)]
pub struct KeySource {
    /// Private key file (a JWK from `wheelsig keygen`, plain or encrypted); `-` reads it from
    /// stdin
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Read the private key from this environment variable instead (a CI secret; it is never
    /// written to disk). Encrypted keys take their passphrase from $WHEELSIG_KEY_PASSPHRASE
    #[arg(long, value_name = "NAME")]
    pub key_env: Option<String>,
}

impl KeySource {
    /// Where the key comes from, for messages.
    pub fn describe(&self) -> String {
        match (&self.key, &self.key_env) {
            (Some(p), _) if p == Path::new("-") => "the key on stdin".into(),
            (Some(p), _) => p.display().to_string(),
            (None, Some(n)) => format!("${n}"),
            (None, None) => "the key".into(),
        }
    }

    fn text(&self) -> Result<Vec<u8>, Failure> {
        match (&self.key, &self.key_env) {
            (Some(p), _) if p == Path::new("-") => {
                let mut buf = Vec::new();
                std::io::stdin()
                    .take(MAX_KEY_BYTES + 1)
                    .read_to_end(&mut buf)
                    .map_err(|e| format!("stdin: {e}"))?;
                if buf.len() as u64 > MAX_KEY_BYTES {
                    return Err(Failure(format!(
                        "the key on stdin is over {MAX_KEY_BYTES} bytes"
                    )));
                }
                Ok(buf)
            }
            (Some(p), _) => read_limited(p, MAX_KEY_BYTES, "key file"),
            (None, Some(name)) => match std::env::var_os(name) {
                None => Err(Failure(format!(
                    "--key-env {name}: the environment variable is not set"
                ))),
                Some(v) if v.is_empty() => Err(Failure(format!(
                    "--key-env {name}: the environment variable is empty"
                ))),
                Some(v) => v
                    .into_string()
                    .map(String::into_bytes)
                    .map_err(|_| Failure(format!("--key-env {name}: not UTF-8"))),
            },
            (None, None) => Err(Failure("give --key FILE, --key - or --key-env NAME".into())),
        }
    }

    /// The private key, decrypted if it is encrypted.
    pub fn private(&self) -> Result<PrivateKey, Failure> {
        let text = decrypt_if_needed(self.text()?, &self.describe())?;
        PrivateKey::from_jwk_text(&text).map_err(|e| Failure(format!("{}: {e}", self.describe())))
    }

    /// The public half of a private or public JWK (an encrypted key is decrypted).
    pub fn public(&self) -> Result<PublicKey, Failure> {
        let text = decrypt_if_needed(self.text()?, &self.describe())?;
        let v = wheelsig::encoding::parse_json(&text)
            .map_err(|e| format!("{}: not a JWK: {e}", self.describe()))?;
        let obj = v
            .as_object()
            .ok_or_else(|| format!("{}: not a JWK object", self.describe()))?;
        PublicKey::from_jwk(obj, Private::Ignore)
            .map_err(|e| Failure(format!("{}: {e}", self.describe())))
    }
}

fn decrypt_if_needed(text: Vec<u8>, what: &str) -> Result<Vec<u8>, Failure> {
    if !wheelsig::jwe::looks_encrypted(&text) {
        return Ok(text);
    }
    let pass = passphrase(&format!("Passphrase for {what}: "), false)?;
    wheelsig::jwe::decrypt(&text, &pass).map_err(|e| Failure(format!("{what}: {e}")))
}

/// A passphrase: `$WHEELSIG_KEY_PASSPHRASE`, else asked on the terminal (twice when
/// `confirm`, for a new key).
pub fn passphrase(prompt: &str, confirm: bool) -> Result<String, Failure> {
    if let Some(v) = std::env::var_os(PASSPHRASE_ENV) {
        let v = v
            .into_string()
            .map_err(|_| Failure(format!("${PASSPHRASE_ENV} is not UTF-8")))?;
        if v.is_empty() {
            return Err(Failure(format!("${PASSPHRASE_ENV} is empty")));
        }
        return Ok(v);
    }
    let ask = |p: &str| {
        rpassword::prompt_password(p).map_err(|e| Failure(format!("the key is encrypted and no passphrase could be asked for ({e}): set ${PASSPHRASE_ENV}")))
    };
    let first = ask(prompt)?;
    if first.is_empty() {
        return Err(Failure("an empty passphrase".into()));
    }
    if confirm && ask("Again: ")? != first {
        return Err(Failure("the two passphrases differ".into()));
    }
    Ok(first)
}

/// Encrypt a private JWK under a new passphrase (fresh salt, key and nonce).
pub fn encrypt(jwk: &str) -> Result<String, Failure> {
    let pass = passphrase("Passphrase for the new key: ", true)?;
    let mut salt = [0u8; 16];
    let mut cek = [0u8; 32];
    let mut iv = [0u8; 12];
    for buf in [&mut salt[..], &mut cek[..], &mut iv[..]] {
        getrandom::fill(buf).map_err(|e| Failure(format!("no random source: {e}")))?;
    }
    Ok(wheelsig::jwe::encrypt(jwk.as_bytes(), &pass, &salt, &cek, &iv)? + "\n")
}
