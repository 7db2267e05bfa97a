//! HTTPS fetching of key URLs and published signatures (ureq + rustls + webpki roots).

use std::time::Duration;
use url::{Host, Url};

use wheelsig::limits::MAX_KEY_SET_BYTES;

/// A URL accepted as a key URL: https anywhere, http only on loopback (for tests).
pub fn check_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!("{text}: plain http is only allowed for loopback hosts; use https")),
        other => Err(format!("{text}: scheme {other:?} is not allowed; use https")),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d == "localhost",
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// What a fetch found.
pub enum Fetched {
    /// 200 with a body.
    Body(Vec<u8>),
    /// 404 / 410: nothing there.
    NotFound,
}

/// GET `url` with a size limit and timeouts. Redirects are followed only to https (or not at
/// all for loopback http).
pub fn get(url: &Url, limit: usize) -> Result<Fetched, String> {
    let https = url.scheme() == "https";
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .https_only(https)
        .max_redirects(if https { 5 } else { 0 })
        .http_status_as_error(false)
        .user_agent(concat!("wheelsig/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut resp = agent.get(url.as_str()).call().map_err(|e| format!("{url}: {e}"))?;
    let status = resp.status().as_u16();
    match status {
        200 => {}
        404 | 410 => return Ok(Fetched::NotFound),
        other => return Err(format!("{url}: HTTP status {other}")),
    }
    let body = resp
        .body_mut()
        .with_config()
        .limit(limit as u64)
        .read_to_vec()
        .map_err(|e| format!("{url}: reading the response failed (limit {limit} bytes): {e}"))?;
    Ok(Fetched::Body(body))
}

/// Fetch a JWK Set.
pub fn key_set(url: &Url) -> Result<Vec<u8>, String> {
    match get(url, MAX_KEY_SET_BYTES)? {
        Fetched::Body(b) => Ok(b),
        Fetched::NotFound => Err(format!("{url}: not found (404)")),
    }
}

/// Where a key site publishes the detached signature of `file_name`.
pub fn release_url(key_url: &Url, project: &str, file_name: &str) -> Result<Url, String> {
    key_url
        .join(&format!("releases/{project}/{file_name}.jws"))
        .map_err(|e| format!("cannot build the signature URL from {key_url}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_policy() {
        assert!(check_url("https://alice.github.io/keys/keys.json").is_ok());
        assert!(check_url("http://127.0.0.1:8000/keys.json").is_ok());
        assert!(check_url("http://localhost/keys.json").is_ok());
        assert!(check_url("http://[::1]:9/keys.json").is_ok());
        assert!(check_url("http://example.com/keys.json").is_err());
        assert!(check_url("file:///etc/passwd").is_err());
        assert!(check_url("ftp://x/keys.json").is_err());
        assert!(check_url("keys.json").is_err());
    }

    #[test]
    fn release_urls() {
        let k = Url::parse("https://alice.github.io/keys/keys.json").unwrap();
        assert_eq!(
            release_url(&k, "demo", "demo-1.0-py3-none-any.whl").unwrap().as_str(),
            "https://alice.github.io/keys/releases/demo/demo-1.0-py3-none-any.whl.jws"
        );
    }
}
