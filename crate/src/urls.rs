//! The URL rules, in one place: which key URLs are acceptable, what a signature's `jku` hint
//! may hold, and where a key site publishes a release's detached signature. The CLI, the wasm
//! binding (and through it the widget) and the site builder all call these.

use std::fmt;

use url::{Host, Url};

/// Longest URL accepted anywhere (key URLs, `jku`, `key_url` in key lists). Real key URLs are
/// well under 200 bytes; the bound keeps hostile hints short in reports.
pub const MAX_URL_BYTES: usize = 2048;

/// Whether plain `http://` on a loopback host is acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Loopback {
    /// `http://127.0.0.1/…`, `http://[::1]/…` and `http://localhost/…` are accepted (for tests
    /// and local demos). This is the rule for URLs the user typed or configured.
    Allow,
    /// Only https. The rule for URLs found inside a downloaded document (a dependency key
    /// list's `key_url`): a committed list must not make CI probe local services. The default.
    #[default]
    Deny,
}

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError(String);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UrlError {}

/// Whether `url`'s host is a loopback address or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A URL accepted as a key URL (or a key site, or a key list's `key_url`): https anywhere,
/// http only on loopback when `loopback` allows it; no user name or password; at most
/// [`MAX_URL_BYTES`]. `text` must be absolute; see [`check_key_url_relative`] for the page.
pub fn check_key_url(text: &str, loopback: Loopback) -> Result<Url, UrlError> {
    check_key_url_relative(text, None, loopback)
}

/// [`check_key_url`], resolving `text` against `base` first (the page's own address).
pub fn check_key_url_relative(
    text: &str,
    base: Option<&Url>,
    loopback: Loopback,
) -> Result<Url, UrlError> {
    let shown = crate::display::escape(text);
    if text.len() > MAX_URL_BYTES {
        return Err(UrlError(format!(
            "a URL of {} bytes; the limit is {MAX_URL_BYTES}",
            text.len()
        )));
    }
    let parsed = match base {
        Some(b) => b.join(text),
        None => Url::parse(text),
    };
    let url = parsed.map_err(|e| UrlError(format!("{shown:?} is not a URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError(format!(
            "{shown}: a key URL must not carry a user name or password"
        )));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) && loopback == Loopback::Allow => Ok(url),
        "http" if is_loopback(&url) => Err(UrlError(format!(
            "{shown}: plain http on loopback is not accepted here (a key list's key_url); only with the explicit testing switch"
        ))),
        "http" => Err(UrlError(format!("{shown}: must be https: plain http is only allowed for loopback hosts"))),
        other => Err(UrlError(format!("{shown}: scheme {other:?} is not allowed; use https"))),
    }
}

/// A signature's `jku` hint must be a plain key URL: printable ASCII only (so it can be shown
/// as is), no fragment, and acceptable as a key URL. Anything else rejects the signature.
pub fn check_jku(text: &str) -> Result<(), UrlError> {
    if let Some(c) = text.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(UrlError(format!(
            "`jku` contains {}: a key URL is printable ASCII",
            crate::display::escape(&c.to_string())
        )));
    }
    let url = check_key_url(text, Loopback::Allow)?;
    if url.fragment().is_some() {
        return Err(UrlError("`jku` has a fragment: a key URL has none".into()));
    }
    Ok(())
}

/// Where a key site publishes the detached signature of `file_name`:
/// `<directory of the key URL>/releases/<project>/<file_name>.jws`, each segment
/// percent-encoded.
pub fn release_url(key_url: &Url, project: &str, file_name: &str) -> Result<Url, UrlError> {
    let mut url = key_url.join("releases/").map_err(|e| {
        UrlError(format!(
            "cannot build the signature URL from {key_url}: {e}"
        ))
    })?;
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| UrlError(format!("{key_url} cannot be a base URL")))?
        .pop_if_empty()
        .push(project)
        .push(&format!("{file_name}.jws"));
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_url_policy() {
        let ok = |s: &str| check_key_url(s, Loopback::Allow).is_ok();
        assert!(ok("https://alice.github.io/keys/keys.json"));
        assert!(ok("http://127.0.0.1:8000/keys.json"));
        assert!(ok("http://127.5.0.1:8000/keys.json"));
        assert!(ok("http://localhost/keys.json"));
        assert!(ok("http://LOCALHOST/keys.json"));
        assert!(ok("http://[::1]:9/keys.json"));
        assert!(!ok("http://example.com/keys.json"));
        assert!(!ok("http://127.0.0.1.example.com/keys.json"));
        assert!(!ok("https://user:pw@example.com/keys.json"));
        assert!(!ok("file:///etc/passwd"));
        assert!(!ok("ftp://x/keys.json"));
        assert!(!ok("keys.json"));
        assert!(!ok(&format!(
            "https://x.test/{}",
            "a".repeat(MAX_URL_BYTES)
        )));
        assert!(check_key_url("http://127.0.0.1:8000/keys.json", Loopback::Deny).is_err());
        assert!(check_key_url("https://x.test/keys.json", Loopback::Deny).is_ok());
        let base = Url::parse("http://127.0.0.1:8000/demo/").unwrap();
        assert_eq!(
            check_key_url_relative("keys.json", Some(&base), Loopback::Allow)
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8000/demo/keys.json"
        );
    }

    #[test]
    fn jku_must_be_plain() {
        assert!(check_jku("https://alice.github.io/keys/keys.json").is_ok());
        assert!(check_jku("http://127.0.0.1:8000/demo/keys.json").is_ok());
        for bad in [
            "\u{1b}[4A\rtrusted https://x.test/",
            "https://x.test/\u{202e}",
            "https://x.test/a b",
            "https://x.test/#frag",
            "javascript:alert(1)",
            "http://evil.test/keys.json",
            "https://u@x.test/",
        ] {
            assert!(check_jku(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn release_urls_are_encoded_once() {
        let k = Url::parse("https://alice.github.io/keys/keys.json").unwrap();
        assert_eq!(
            release_url(&k, "demo", "demo-1.0-py3-none-any.whl")
                .unwrap()
                .as_str(),
            "https://alice.github.io/keys/releases/demo/demo-1.0-py3-none-any.whl.jws"
        );
        let q = Url::parse("https://alice.github.io/keys/keys.json?x=1#f").unwrap();
        assert_eq!(
            release_url(&q, "a", "a-1+local-py3-none-any.whl")
                .unwrap()
                .as_str(),
            "https://alice.github.io/keys/releases/a/a-1+local-py3-none-any.whl.jws"
        );
        assert_eq!(
            release_url(&k, "demo", "x/../y?.whl").unwrap().as_str(),
            "https://alice.github.io/keys/releases/demo/x%2F..%2Fy%3F.whl.jws"
        );
    }
}
