//! HTTPS fetching of key URLs and published signatures (ureq + rustls + webpki roots).

use std::time::Duration;
use url::Url;

use wheelsig::limits::MAX_KEY_SET_BYTES;

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

/// A POST's answer: its status and body (at most the limit).
pub struct Posted {
    /// HTTP status.
    pub status: u16,
    /// The response body.
    pub body: Vec<u8>,
}

/// POST `body` to `url` with timeouts (10 s to connect, 30 s in all) and a response size
/// limit; no redirects. Any status is returned; an error means no answer was read.
pub fn post(url: &Url, content_type: &str, body: &[u8], limit: usize) -> Result<Posted, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_global(Some(Duration::from_secs(30)))
        .https_only(url.scheme() == "https")
        .max_redirects(0)
        .http_status_as_error(false)
        .user_agent(concat!("wheelsig/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut resp = agent.post(url.as_str()).header("Content-Type", content_type).send(body).map_err(|e| format!("{url}: {e}"))?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(limit as u64)
        .read_to_vec()
        .map_err(|e| format!("{url}: reading the response failed (limit {limit} bytes): {e}"))?;
    Ok(Posted { status, body })
}
