//! The package index client (the CLI edge of `wheelsig::index`): a project's files from its
//! Simple API page (PEP 691 JSON preferred, PEP 503 HTML accepted), and downloads checked
//! against the sha256 the index publishes while they stream to disk.
//!
//! Used by `verify PROJECT==VERSION`, `verify --index-check`, `audit`, and
//! `crate/examples/index_probe.rs` (tests/interop/test_index.py through it).
#![allow(dead_code, unused_imports)]

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest as _, Sha256};
use url::Url;
use wheelsig::display::escape;
use wheelsig::index::{self, IndexFile, ACCEPT, MAX_PAGE_BYTES};
use wheelsig::urls::is_loopback;

pub use wheelsig::index::find;

use super::fetch;

/// Largest file [`download`] accepts (4 GiB; the largest wheels on PyPI are about 1 GiB).
pub const MAX_DOWNLOAD_BYTES: u64 = 4 << 30;

/// The files the index at `index` lists for `project` (`<index>/<normalized project>/`), in page
/// order. The index URL must be https, or http on a loopback host, without credentials.
pub fn project_files(index: &Url, project: &str) -> Result<Vec<IndexFile>, String> {
    listed_files(index, project)?.ok_or_else(|| {
        format!(
            "{}: the index has no project {} (not found)",
            index::project_url(index, project)
                .map_or_else(|_| index.to_string(), |u| u.to_string()),
            escape(project)
        )
    })
}

/// Like [`project_files`], with `None` when the index has no such project (404).
pub fn listed_files(index: &Url, project: &str) -> Result<Option<Vec<IndexFile>>, String> {
    Ok(listed_page(index, project)?.map(|(_, files)| files))
}

/// Like [`listed_files`], with the URL the page finally came from (after redirects), or the
/// page's URL when the index has no such project.
pub fn listed_page(index: &Url, project: &str) -> Result<Option<(Url, Vec<IndexFile>)>, String> {
    check_index_url(index)?;
    let url = index::project_url(index, project).map_err(|e| e.to_string())?;
    let Some(page) = fetch::get_with_accept(&url, ACCEPT, MAX_PAGE_BYTES)? else {
        return Ok(None);
    };
    let files = index::parse_project_page(&page.body, &page.content_type, &page.url)
        .map_err(|e| format!("{}: {e}", page.url))?;
    Ok(Some((page.url, files)))
}

/// A project page asked for conditionally, for the index-log follower.
pub enum Followed {
    /// The files, with the page's `ETag` and serial for next time.
    Files {
        files: Vec<IndexFile>,
        etag: Option<String>,
        serial: Option<u64>,
    },
    /// Unchanged since the `ETag` sent (304).
    NotModified,
    /// The index has no such project (404).
    NotFound,
    /// The index asks to be left alone (429/503), for so many seconds when it says.
    Busy(Option<u64>),
}

/// `project`'s page, with `If-None-Match: etag` when one is known.
pub fn followed_page(index: &Url, project: &str, etag: Option<&str>) -> Result<Followed, String> {
    check_index_url(index)?;
    let url = index::project_url(index, project).map_err(|e| e.to_string())?;
    Ok(match fetch::get_page(&url, ACCEPT, MAX_PAGE_BYTES, etag)? {
        fetch::Page::Body(page) => Followed::Files {
            files: index::parse_project_page(&page.body, &page.content_type, &page.url)
                .map_err(|e| format!("{}: {e}", page.url))?,
            etag: page.etag,
            serial: page.serial,
        },
        fetch::Page::NotModified => Followed::NotModified,
        fetch::Page::NotFound => Followed::NotFound,
        fetch::Page::Busy(after) => Followed::Busy(after),
    })
}

/// Every project the index's root page lists (PEP 691 JSON with serials where given, or
/// PEP 503 HTML).
pub fn project_list(index: &Url) -> Result<Vec<index::ListedProject>, String> {
    check_index_url(index)?;
    let mut root = index.clone();
    root.set_query(None);
    root.set_fragment(None);
    if !root.path().ends_with('/') {
        root.set_path(&format!("{}/", root.path()));
    }
    let page = fetch::get_with_accept(&root, ACCEPT, index::MAX_LIST_BYTES)?
        .ok_or_else(|| format!("{root}: not found (is this a simple index root?)"))?;
    index::parse_project_list(&page.body, &page.content_type, &page.url)
        .map_err(|e| format!("{}: {e}", page.url))
}

fn check_index_url(index: &Url) -> Result<(), String> {
    index::check_index_url(index)
}

/// Download `file` into `dir` as `dir/<file.filename>`: streamed to a new temporary file in
/// `dir` while hashing, refused past [`MAX_DOWNLOAD_BYTES`] or the index's `size`, refused when
/// its sha256 is not the one the index publishes (or the index publishes none), then synced,
/// made world-readable (0644) and renamed into place. On any error nothing is left in `dir`.
pub fn download(file: &IndexFile, dir: &Path) -> Result<PathBuf, String> {
    let name = escape(&file.filename).into_owned();
    index::check_file_name(&file.filename)
        .map_err(|e| format!("{name}: refusing to write it: {e}"))?;
    let expected = match file.sha256.as_deref() {
        Some(h) if h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) => h,
        Some(h) => return Err(format!("{name}: {:?} is not a lowercase hex sha256", escape(h))),
        None => return Err(format!("{name}: the index publishes no sha256 for it; refusing a download that cannot be checked")),
    };
    let limit = match file.size {
        Some(size) if size > MAX_DOWNLOAD_BYTES => {
            return Err(format!(
            "{name}: the index says it is {size} bytes; the download limit is {MAX_DOWNLOAD_BYTES}"
        ))
        }
        Some(size) => size,
        None => MAX_DOWNLOAD_BYTES,
    };
    let url = &file.url;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(url) => {}
        _ => {
            return Err(format!(
                "{url}: a download URL must be https (plain http only on loopback)"
            ))
        }
    }
    let redirects = if url.scheme() == "https" { 5 } else { 0 };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_recv_response(Some(Duration::from_secs(30)))
        .timeout_per_read(Some(Duration::from_secs(30)))
        .https_only(url.scheme() == "https")
        .max_redirects(redirects)
        .http_status_as_error(false)
        .user_agent(concat!("wheelsig/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let resp = agent
        .get(url.as_str())
        .call()
        .map_err(|e| format!("{url}: {e}"))?;
    match resp.status().as_u16() {
        200 => {}
        other => return Err(format!("{url}: HTTP status {other}")),
    }
    let too_big = |what: String| {
        if file.size.is_some() {
            format!("{name}: {what}; the index says it is {limit} bytes")
        } else {
            format!("{name}: {what}; the download limit is {MAX_DOWNLOAD_BYTES} bytes")
        }
    };
    if let Some(len) = resp.body().content_length() {
        if len > limit {
            return Err(too_big(format!("the server announces {len} bytes")));
        }
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".wheelsig-download-")
        .tempfile_in(dir)
        .map_err(|e| format!("{}: cannot create a temporary file: {e}", dir.display()))?;
    let mut body = resp.into_body().into_with_config().reader();
    let mut hasher = Sha256::new();
    let mut total: u64 = 0;
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = body
            .read(&mut buf)
            .map_err(|e| format!("{url}: reading the download failed after {total} bytes: {e}"))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > limit {
            return Err(too_big(format!(
                "the download is longer than {limit} bytes"
            )));
        }
        hasher.update(&buf[..n]);
        tmp.write_all(&buf[..n])
            .map_err(|e| format!("{}: writing the download failed: {e}", tmp.path().display()))?;
    }
    if let Some(size) = file.size {
        if total != size {
            return Err(format!(
                "{name}: the index says {size} bytes, the file downloaded has {total}"
            ));
        }
    }
    let got = wheelsig::encoding::hex(&hasher.finalize());
    if got != expected {
        return Err(format!(
            "{name}: the index says sha256 {expected}, the file downloaded has {got}"
        ));
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| format!("{}: {e}", tmp.path().display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
            .map_err(|e| format!("{}: {e}", tmp.path().display()))?;
    }
    let dest = dir.join(&file.filename);
    tmp.persist(&dest).map_err(|e| {
        format!(
            "{}: cannot rename the download into place: {}",
            dest.display(),
            e.error
        )
    })?;
    Ok(dest)
}
