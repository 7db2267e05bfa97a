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

/// One agent configuration for every request: a 10 s connect and 30 s overall timeout, https
/// only when the URL is https, `redirects` at most, statuses returned rather than errors.
fn agent(url: &Url, redirects: u32) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_global(Some(Duration::from_secs(30)))
        .https_only(url.scheme() == "https")
        .max_redirects(redirects)
        .http_status_as_error(false)
        .user_agent(concat!("wheelsig/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// A response body, at most `limit` bytes.
fn read_body(
    url: &Url,
    resp: &mut ureq::http::Response<ureq::Body>,
    limit: usize,
) -> Result<Vec<u8>, String> {
    resp.body_mut()
        .with_config()
        .limit(limit as u64)
        .read_to_vec()
        .map_err(|e| format!("{url}: reading the response failed (limit {limit} bytes): {e}"))
}

/// GET `url` with a size limit and timeouts. Redirects are followed only to https (or not at
/// all for loopback http).
pub fn get(url: &Url, limit: usize) -> Result<Fetched, String> {
    let redirects = if url.scheme() == "https" { 5 } else { 0 };
    let mut resp = agent(url, redirects)
        .get(url.as_str())
        .call()
        .map_err(|e| format!("{url}: {e}"))?;
    let status = resp.status().as_u16();
    match status {
        200 => {}
        404 | 410 => return Ok(Fetched::NotFound),
        other => return Err(format!("{url}: HTTP status {other}")),
    }
    Ok(Fetched::Body(read_body(url, &mut resp, limit)?))
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
    let mut resp = agent(url, 0)
        .post(url.as_str())
        .header("Content-Type", content_type)
        .send(body)
        .map_err(|e| format!("{url}: {e}"))?;
    let status = resp.status().as_u16();
    Ok(Posted {
        status,
        body: read_body(url, &mut resp, limit)?,
    })
}

/// A page fetched with content negotiation.
pub struct Negotiated {
    /// The response body.
    pub body: Vec<u8>,
    /// Its `Content-Type` (empty when absent or not ASCII).
    pub content_type: String,
    /// The URL it finally came from, after redirects (relative links resolve against it).
    pub url: Url,
    /// Its `ETag`, when the server sent a usable one (visible ASCII, at most 256 bytes), for a
    /// later conditional request.
    pub etag: Option<String>,
    /// PyPI's `X-PyPI-Last-Serial`, when sent.
    pub serial: Option<u64>,
}

/// What a conditional page request found.
pub enum Page {
    /// 200: the page.
    Body(Negotiated),
    /// 304: unchanged since the `ETag` sent.
    NotModified,
    /// 404 / 410.
    NotFound,
    /// 429 / 503: the server asks to be left alone, for `Retry-After` seconds when it says.
    Busy(Option<u64>),
}

/// [`get`] with an `Accept` header, also returning the `Content-Type` and the final URL.
/// `None` for 404 / 410.
pub fn get_with_accept(
    url: &Url,
    accept: &str,
    limit: usize,
) -> Result<Option<Negotiated>, String> {
    match get_page(url, accept, limit, None)? {
        Page::Body(n) => Ok(Some(n)),
        Page::NotFound => Ok(None),
        Page::NotModified => Err(format!(
            "{url}: HTTP status 304 to an unconditional request"
        )),
        Page::Busy(_) => Err(format!("{url}: the server is busy (HTTP 429 or 503)")),
    }
}

/// A GET with content negotiation and, given an `ETag`, `If-None-Match`.
pub fn get_page(url: &Url, accept: &str, limit: usize, etag: Option<&str>) -> Result<Page, String> {
    use ureq::ResponseExt as _;
    let redirects = if url.scheme() == "https" { 5 } else { 0 };
    let mut req = agent(url, redirects)
        .get(url.as_str())
        .header("Accept", accept);
    if let Some(tag) = etag {
        req = req.header("If-None-Match", tag);
    }
    let mut resp = req.call().map_err(|e| format!("{url}: {e}"))?;
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    match resp.status().as_u16() {
        200 => {}
        304 if etag.is_some() => return Ok(Page::NotModified),
        404 | 410 => return Ok(Page::NotFound),
        429 | 503 => {
            return Ok(Page::Busy(
                header("retry-after").and_then(|v| v.trim().parse().ok()),
            ))
        }
        other => return Err(format!("{url}: HTTP status {other}")),
    }
    let content_type = header("content-type").unwrap_or_default();
    let etag = header("etag").filter(|t| {
        !t.is_empty() && t.len() <= 256 && t.bytes().all(|b| (0x21..0x7f).contains(&b))
    });
    let serial = header("x-pypi-last-serial").and_then(|v| v.trim().parse().ok());
    let final_url = Url::parse(&resp.get_uri().to_string())
        .map_err(|e| format!("{url}: the response's URL: {e}"))?;
    let body = read_body(url, &mut resp, limit)?;
    Ok(Page::Body(Negotiated {
        body,
        content_type,
        url: final_url,
        etag,
        serial,
    }))
}

/// Send every request of a cosigning round (`wheelsig::log::cosign`) and pass the answers
/// back, until every witness has answered for good: `site cosign` and `index-log cosign`.
pub fn ask_witnesses(round: &mut wheelsig::log::cosign::Round) {
    while let Some(req) = round.next_request() {
        let answer = Url::parse(&req.url)
            .map_err(|e| format!("{}: {e}", req.url))
            .and_then(|u| {
                post(
                    &u,
                    "text/plain; charset=utf-8",
                    req.body.as_bytes(),
                    wheelsig::log::cosign::MAX_ANSWER_BYTES,
                )
            });
        round.answer(
            req.witness,
            answer
                .as_ref()
                .map(|p| (p.status, p.body.as_slice()))
                .map_err(Clone::clone),
        );
    }
}
