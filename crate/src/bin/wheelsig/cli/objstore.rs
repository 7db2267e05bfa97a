//! A log directory mirrored to S3-compatible object storage, for a log too large for a static
//! site (an index-wide log), served from the bucket behind a CDN the way Sunlight and Azul serve
//! CT logs. The local directory stays the log's home; `push` copies it out with the rules a
//! tlog-tiles log needs:
//!
//! - tiles and entry bundles (everything under `tile/`) are immutable: one already in the
//!   bucket with the same bytes is skipped, one with other bytes (another size, or the same
//!   size and another MD5 ETag) stops the push before anything is uploaded;
//! - the remote `checkpoint` may only move forward: same origin, no smaller tree, and at the
//!   same size the same root (only its signatures may differ);
//! - everything else is uploaded first, at most [`IN_FLIGHT`] requests at a time, and
//!   `checkpoint` last, so a reader never sees a checkpoint whose tiles are missing; a failed
//!   upload leaves the remote checkpoint as it was;
//! - headers for a CDN: `Cache-Control: public, max-age=31536000, immutable` on full tiles and
//!   bundles, a day on partial ones (C2SP lets a log delete them once the full tile exists),
//!   `no-cache` on `checkpoint` and the other files; `text/plain; charset=utf-8` on
//!   `checkpoint`, `vkey` and other text files (an index log's `lookup/`), `application/json`
//!   on `.json`, `application/octet-stream` on tiles.
//!
//! Files whose name starts with `.` (local state) and `witnessed.json` at the top (the
//! publisher's own record, which `site build` does not publish either) stay local. Uploads of
//! tiles use `If-None-Match: *` and of the checkpoint `If-Match` on the ETag seen at the start
//! (or `If-None-Match: *`), so two pushers racing cannot overwrite a tile or roll the checkpoint
//! back; a store without conditional writes (AWS_CONDITIONAL_PUT=disabled) gets plain PUTs.
//!
//! Credentials and region come from the standard AWS_* environment variables (object_store's
//! `AmazonS3Builder::from_env`); `endpoint` (or AWS_ENDPOINT) names an S3-compatible server,
//! addressed path-style. Plain http is allowed only to a loopback endpoint.
//!
//! The tokio runtime (one thread) lives inside each call: the core and the wasm build have no
//! async runtime.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt as _, TryStreamExt as _};
use md5::{Digest as _, Md5};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as ObjPath;
use object_store::{
    Attribute, Attributes, BackoffConfig, ClientOptions, GetOptions, ObjectMeta, ObjectStore,
    PutMode, PutOptions, PutPayload, RetryConfig, UpdateVersion,
};
use serde::Serialize;
use wheelsig::log::checkpoint::Checkpoint;
use wheelsig::log::note::{Note, NoteVerifier, MAX_NOTE_BYTES};

/// Uploads in flight at once.
pub const IN_FLIGHT: usize = 8;
/// Most local files in one log directory (a PyPI-sized log of 20 million entries has about
/// 160,000 tiles and bundles).
const MAX_FILES: usize = 5_000_000;
/// Largest object `fetch_object` reads and largest local file pushed (a full entry bundle is
/// at most 256 × (2 + 65,535) bytes).
const MAX_OBJECT: u64 = 64 << 20;
/// Largest number of conflicts listed in an error.
const SHOW: usize = 10;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const PARTIAL: &str = "public, max-age=86400";
const NO_CACHE: &str = "no-cache";
const TEXT: &str = "text/plain; charset=utf-8";
const BINARY: &str = "application/octet-stream";

/// What `push` did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct PushStats {
    /// Local files considered (hidden and `witnessed.json` not counted).
    pub files: usize,
    /// Keys uploaded (relative to the prefix), in completion order; `checkpoint`, if uploaded,
    /// is last.
    pub uploaded: Vec<String>,
    /// Files already in the bucket with the same bytes.
    pub skipped: usize,
    /// Bytes uploaded.
    pub bytes: u64,
    /// Whether the checkpoint was uploaded (false: the remote one was already these bytes).
    pub checkpoint: bool,
    /// Objects already in the bucket under the prefix when the push started.
    pub remote_objects: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Checkpoint,
    FullTile,
    PartialTile,
    Text,
    Other,
}

impl Kind {
    fn of(rel: &str) -> Kind {
        match rel {
            "checkpoint" => Kind::Checkpoint,
            "vkey" => Kind::Text,
            _ if rel.starts_with("tile/") && rel.split('/').any(|s| s.ends_with(".p")) => {
                Kind::PartialTile
            }
            _ if rel.starts_with("tile/") => Kind::FullTile,
            _ => Kind::Other,
        }
    }

    fn immutable(self) -> bool {
        matches!(self, Kind::FullTile | Kind::PartialTile)
    }

    fn attributes(self, rel: &str, bytes: &[u8]) -> Attributes {
        let text = std::str::from_utf8(bytes).is_ok_and(|t| !t.contains('\0'));
        let (content_type, cache) = match self {
            Kind::Checkpoint => (TEXT, NO_CACHE),
            Kind::Text => (TEXT, NO_CACHE),
            Kind::FullTile => (BINARY, IMMUTABLE),
            Kind::PartialTile => (BINARY, PARTIAL),
            Kind::Other if rel.ends_with(".json") => ("application/json", NO_CACHE),
            // e.g. an index log's lookup/<project> lines
            Kind::Other if text => (TEXT, NO_CACHE),
            Kind::Other => (BINARY, NO_CACHE),
        };
        let mut a = Attributes::new();
        a.insert(Attribute::ContentType, content_type.into());
        a.insert(Attribute::CacheControl, cache.into());
        a
    }
}

struct LocalFile {
    rel: String,
    path: std::path::PathBuf,
    size: u64,
    kind: Kind,
}

/// A bucket and a key prefix (without slashes at either end; maybe empty).
struct Target {
    bucket: String,
    prefix: String,
    url: String,
}

impl Target {
    fn parse(to: &str) -> Result<Target, String> {
        let rest = to
            .strip_prefix("s3://")
            .ok_or_else(|| format!("{to}: not an s3://bucket/prefix URL"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
        if bucket.len() < 3 || bucket.len() > 63 || !bucket.chars().all(valid) {
            return Err(format!(
                "{to}: {bucket:?} is not an S3 bucket name (3 to 63 of a-z, 0-9, '-', '.')"
            ));
        }
        let prefix = prefix.trim_matches('/');
        if !prefix.is_empty() {
            ObjPath::parse(prefix)
                .map_err(|e| format!("{to}: the prefix is not a valid object path: {e}"))?;
        }
        Ok(Target {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            url: format!("s3://{bucket}/{prefix}"),
        })
    }

    fn key(&self, rel: &str) -> Result<ObjPath, String> {
        let full = if self.prefix.is_empty() {
            rel.to_string()
        } else {
            format!("{}/{rel}", self.prefix)
        };
        ObjPath::parse(&full).map_err(|e| format!("{rel}: not a valid object key: {e}"))
    }

    fn rel<'a>(&self, location: &'a str) -> Option<&'a str> {
        if self.prefix.is_empty() {
            Some(location)
        } else {
            location
                .strip_prefix(self.prefix.as_str())?
                .strip_prefix('/')
        }
    }
}

/// Whether plain http may be used: only to 127.0.0.0/8, ::1 or localhost.
fn loopback(endpoint: &str) -> Result<bool, String> {
    let url = url::Url::parse(endpoint).map_err(|e| format!("endpoint {endpoint}: {e}"))?;
    match url.scheme() {
        "https" => Ok(false),
        "http" => {
            let ok = match url.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(a)) => IpAddr::V4(a).is_loopback(),
                Some(url::Host::Ipv6(a)) => IpAddr::V6(a).is_loopback(),
                None => false,
            };
            if ok {
                Ok(true)
            } else {
                Err(format!(
                    "endpoint {endpoint}: plain http only to a loopback address; use https"
                ))
            }
        }
        other => Err(format!(
            "endpoint {endpoint}: scheme {other} is neither https nor http"
        )),
    }
}

fn store(target: &Target, endpoint: Option<&str>) -> Result<Arc<dyn ObjectStore>, String> {
    // reqwest is built without a default TLS provider: ring (as ureq uses) is installed here.
    // An error means one is installed already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut b = AmazonS3Builder::from_env().with_bucket_name(&target.bucket);
    if b.get_config_value(&AmazonS3ConfigKey::Region)
        .is_none_or(|r| r.is_empty())
    {
        b = b.with_region("us-east-1");
    }
    if let Some(e) = endpoint {
        b = b.with_endpoint(e);
    }
    let allow_http = match b
        .get_config_value(&AmazonS3ConfigKey::Endpoint)
        .filter(|e| !e.is_empty())
    {
        Some(e) => loopback(&e)?,
        None => false,
    };
    let retry = RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            base: 2.0,
        },
        max_retries: 4,
        retry_timeout: Duration::from_secs(60),
    };
    let client = ClientOptions::new()
        .with_allow_http(allow_http)
        .with_timeout(Duration::from_secs(120))
        .with_connect_timeout(Duration::from_secs(10));
    let s3 = b
        .with_allow_http(allow_http)
        .with_client_options(client)
        .with_retry(retry)
        .build()
        .map_err(|e| format!("{}: {e}", target.url))?;
    Ok(Arc::new(s3))
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the I/O runtime: {e}"))
}

/// Every file to mirror under `dir`, sorted by path.
fn local_files(dir: &Path) -> Result<Vec<LocalFile>, String> {
    fn walk(root: &Path, rel: &str, out: &mut Vec<LocalFile>) -> Result<(), String> {
        let here = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(rel)
        };
        let mut entries: Vec<_> = std::fs::read_dir(&here)
            .map_err(|e| format!("{}: {e}", here.display()))?
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{}: {e}", here.display()))?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for e in entries {
            let name = e
                .file_name()
                .to_str()
                .map(str::to_string)
                .ok_or_else(|| format!("{}: file name is not UTF-8", e.path().display()))?;
            if name.starts_with('.') || (rel.is_empty() && name == "witnessed.json") {
                continue;
            }
            let sub = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let meta = std::fs::symlink_metadata(e.path())
                .map_err(|err| format!("{}: {err}", e.path().display()))?;
            if meta.file_type().is_symlink() {
                return Err(format!(
                    "{}: a symbolic link; a log directory holds only folders and files",
                    e.path().display()
                ));
            } else if meta.is_dir() {
                walk(root, &sub, out)?;
            } else if meta.is_file() {
                if out.len() >= MAX_FILES {
                    return Err(format!("{}: more than {MAX_FILES} files", root.display()));
                }
                if meta.len() > MAX_OBJECT {
                    return Err(format!(
                        "{}: larger than {MAX_OBJECT} bytes: not a log file",
                        e.path().display()
                    ));
                }
                out.push(LocalFile {
                    kind: Kind::of(&sub),
                    rel: sub,
                    path: e.path(),
                    size: meta.len(),
                });
            } else {
                return Err(format!("{}: not a regular file", e.path().display()));
            }
        }
        Ok(())
    }
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(format!("{}: not a folder (a link?)", dir.display())),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out)?;
    Ok(out)
}

fn read(f: &LocalFile) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(&f.path).map_err(|e| format!("{}: {e}", f.path.display()))?;
    if bytes.len() as u64 != f.size {
        return Err(format!("{}: changed while pushing", f.path.display()));
    }
    Ok(bytes)
}

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The ETag of a single-part, unencrypted upload is the hex MD5 of the bytes; others (multipart
/// `…-N`, SSE-KMS) are opaque.
fn etag_md5(etag: Option<&str>) -> Option<String> {
    let e = etag?
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .to_ascii_lowercase();
    (e.len() == 32 && e.bytes().all(|b| b.is_ascii_hexdigit())).then_some(e)
}

/// Parse and check the local checkpoint: a note of the log, signed by `vkey` when there is one.
fn local_checkpoint(bytes: &[u8], vkey: Option<&[u8]>) -> Result<Checkpoint, String> {
    let note = Note::parse(bytes).map_err(|e| format!("checkpoint: {e}"))?;
    let cp = Checkpoint::parse(note.text()).map_err(|e| format!("checkpoint: {e}"))?;
    if let Some(vkey) = vkey {
        let text = std::str::from_utf8(vkey).map_err(|_| "vkey: not UTF-8".to_string())?;
        let verifier = NoteVerifier::parse(text.trim()).map_err(|e| format!("vkey: {e}"))?;
        if verifier.name() != cp.origin {
            return Err(format!(
                "checkpoint: origin {} is not the vkey's {}",
                cp.origin,
                verifier.name()
            ));
        }
        match note.verify_by(&verifier) {
            Ok(Some(_)) => {}
            Ok(None) => return Err("checkpoint: not signed by the log's vkey".into()),
            Err(e) => return Err(format!("checkpoint: not signed by the log's vkey: {e}")),
        }
    }
    Ok(cp)
}

async fn get_bytes(
    store: &dyn ObjectStore,
    key: &ObjPath,
) -> Result<Option<(Vec<u8>, ObjectMeta)>, object_store::Error> {
    match store.get_opts(key, GetOptions::default()).await {
        Ok(r) => {
            if r.meta.size > MAX_OBJECT {
                return Err(object_store::Error::Generic {
                    store: "S3",
                    source: format!("{key}: larger than {MAX_OBJECT} bytes").into(),
                });
            }
            let meta = r.meta.clone();
            Ok(Some((r.bytes().await?.to_vec(), meta)))
        }
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

enum Plan {
    Skip,
    Upload,
}

/// Mirror the log directory `dir` to `to` (`s3://bucket/prefix`); see the module comment.
pub fn push(dir: &Path, to: &str, endpoint: Option<&str>) -> Result<PushStats, String> {
    let target = Target::parse(to)?;
    let files = local_files(dir)?;
    let store = store(&target, endpoint)?;
    runtime()?.block_on(push_async(store, &target, files))
}

async fn push_async(
    store: Arc<dyn ObjectStore>,
    target: &Target,
    files: Vec<LocalFile>,
) -> Result<PushStats, String> {
    let url = &target.url;
    let s3 = |e: object_store::Error| format!("{url}: {e}");
    let checkpoint = files
        .iter()
        .find(|f| f.kind == Kind::Checkpoint)
        .ok_or_else(|| "not a log directory: it has no checkpoint".to_string())?;
    let cp_bytes = read(checkpoint)?;
    if cp_bytes.len() > MAX_NOTE_BYTES {
        return Err(format!("checkpoint: larger than {MAX_NOTE_BYTES} bytes"));
    }
    let vkey = files
        .iter()
        .find(|f| f.rel == "vkey")
        .map(read)
        .transpose()?;
    let local_cp = local_checkpoint(&cp_bytes, vkey.as_deref())?;

    // What is there: one LIST of the prefix (a page per 1,000 objects) instead of a HEAD per file.
    let prefix_path = if target.prefix.is_empty() {
        None
    } else {
        Some(ObjPath::parse(&target.prefix).map_err(|e| e.to_string())?)
    };
    let mut remote: HashMap<String, ObjectMeta> = HashMap::new();
    let mut listing = store.list(prefix_path.as_ref());
    while let Some(meta) = listing.try_next().await.map_err(s3)? {
        if let Some(rel) = target.rel(meta.location.as_ref()) {
            remote.insert(rel.to_string(), meta);
        }
    }
    drop(listing);
    let mut stats = PushStats {
        files: files.len(),
        remote_objects: remote.len(),
        ..PushStats::default()
    };

    // The plan, decided before anything is written: a conflict uploads nothing.
    let mut conflicts = Vec::new();
    let mut uploads = Vec::new();
    for f in files.iter().filter(|f| f.kind != Kind::Checkpoint) {
        let plan = match remote.get(&f.rel) {
            None => Plan::Upload,
            Some(m) if m.size != f.size => {
                if f.kind.immutable() {
                    conflicts.push(format!(
                        "{}: {} bytes in the bucket, {} here",
                        f.rel, m.size, f.size
                    ));
                }
                Plan::Upload
            }
            Some(m) => {
                let local = read(f)?;
                let same = match etag_md5(m.e_tag.as_deref()) {
                    Some(md5) => md5 == md5_hex(&local),
                    // An ETag that is not an MD5: compare the bytes themselves.
                    None => get_bytes(store.as_ref(), &target.key(&f.rel)?)
                        .await
                        .map_err(s3)?
                        .is_some_and(|(b, _)| b == local),
                };
                if same {
                    Plan::Skip
                } else {
                    if f.kind.immutable() {
                        conflicts.push(format!(
                            "{}: other bytes of the same size ({}) in the bucket",
                            f.rel, f.size
                        ));
                    }
                    Plan::Upload
                }
            }
        };
        match plan {
            Plan::Skip => stats.skipped += 1,
            Plan::Upload => uploads.push(f),
        }
    }
    if !conflicts.is_empty() {
        let n = conflicts.len();
        let shown: Vec<_> = conflicts.into_iter().take(SHOW).collect();
        return Err(format!(
            "{url}: {n} tile{} already in the bucket differ{} from this log directory (tiles and entry bundles are immutable: the log here is not the log there): {}{}; nothing was uploaded",
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" },
            shown.join("; "),
            if n > SHOW { "; …" } else { "" }
        ));
    }

    // The remote checkpoint may only move forward.
    let cp_key = target.key("checkpoint")?;
    let remote_cp = get_bytes(store.as_ref(), &cp_key).await.map_err(s3)?;
    let cp_mode = match &remote_cp {
        Some((bytes, _)) if *bytes == cp_bytes => None,
        Some((bytes, meta)) => {
            let theirs = Note::parse(bytes)
                .ok()
                .and_then(|n| Checkpoint::parse(n.text()).ok());
            let theirs = theirs.ok_or_else(|| format!("{url}: the checkpoint in the bucket is not a checkpoint note; nothing was uploaded"))?;
            if theirs.origin != local_cp.origin {
                return Err(format!("{url}: the bucket holds the log {}, this directory the log {}; nothing was uploaded", theirs.origin, local_cp.origin));
            }
            if theirs.size > local_cp.size {
                return Err(format!("{url}: the bucket's checkpoint is at size {}, this directory's at {}: pushing would roll the log back; nothing was uploaded", theirs.size, local_cp.size));
            }
            if theirs.size == local_cp.size && theirs.root != local_cp.root {
                return Err(format!("{url}: the bucket's checkpoint has another root hash at the same size {}: a fork; nothing was uploaded", theirs.size));
            }
            Some(PutMode::Update(UpdateVersion {
                e_tag: meta.e_tag.clone(),
                version: meta.version.clone(),
            }))
        }
        None => Some(PutMode::Create),
    };

    // Everything but the checkpoint, IN_FLIGHT at a time; the first error stops the rest.
    let done: Vec<(String, u64, bool)> = stream::iter(uploads.into_iter().map(|f| {
        let store = Arc::clone(&store);
        async move {
            let key = target.key(&f.rel)?;
            let bytes = read(f)?;
            let n = bytes.len() as u64;
            let mode = if f.kind.immutable() { PutMode::Create } else { PutMode::Overwrite };
            let uploaded = put(store.as_ref(), &key, &bytes, f.kind.attributes(&f.rel, &bytes), mode).await.map_err(|e| format!("{url}: {}: {e}; the checkpoint was not uploaded", f.rel))?;
            if !uploaded {
                // Created meanwhile by someone else: the same bytes, or a conflict.
                let there = get_bytes(store.as_ref(), &key).await.map_err(|e| format!("{url}: {}: {e}", f.rel))?;
                if there.is_none_or(|(b, _)| b != bytes) {
                    return Err(format!("{url}: {}: written meanwhile with other bytes (tiles are immutable); the checkpoint was not uploaded", f.rel));
                }
            }
            Ok::<_, String>((f.rel.clone(), n, uploaded))
        }
    }))
    .buffer_unordered(IN_FLIGHT)
    .try_collect()
    .await?;
    for (rel, n, uploaded) in done {
        if uploaded {
            stats.uploaded.push(rel);
            stats.bytes += n;
        } else {
            stats.skipped += 1;
        }
    }

    // Last, the checkpoint: every tile it needs is in the bucket now.
    match cp_mode {
        None => stats.skipped += 1,
        Some(mode) => {
            let uploaded = put(
                store.as_ref(),
                &cp_key,
                &cp_bytes,
                Kind::Checkpoint.attributes("checkpoint", &cp_bytes),
                mode,
            )
            .await
            .map_err(|e| format!("{url}: checkpoint: {e}"))?;
            if !uploaded {
                return Err(format!("{url}: checkpoint: changed in the bucket during the push (another pusher?); it was not overwritten: push again"));
            }
            stats.uploaded.push("checkpoint".into());
            stats.bytes += cp_bytes.len() as u64;
            stats.checkpoint = true;
        }
    }
    Ok(stats)
}

/// One PUT; `Ok(false)` when a conditional PUT found the object there already (Create) or
/// changed (Update). A store that has no conditional writes gets a plain PUT.
async fn put(
    store: &dyn ObjectStore,
    key: &ObjPath,
    bytes: &[u8],
    attributes: Attributes,
    mode: PutMode,
) -> Result<bool, object_store::Error> {
    let opts = |mode| PutOptions {
        mode,
        attributes: attributes.clone(),
        ..PutOptions::default()
    };
    let payload = PutPayload::from(bytes.to_vec());
    match store.put_opts(key, payload.clone(), opts(mode)).await {
        Ok(_) => Ok(true),
        Err(
            object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. },
        ) => Ok(false),
        Err(object_store::Error::NotImplemented { .. }) => store
            .put_opts(key, payload, opts(PutMode::Overwrite))
            .await
            .map(|_| true),
        Err(e) => Err(e),
    }
}

/// The bytes of `key` (relative to the prefix of `to`), for tests and readers.
#[allow(dead_code)] // the CLI itself only pushes; crate/examples/objstore_probe.rs reads
pub fn fetch_object(to: &str, endpoint: Option<&str>, key: &str) -> Result<Vec<u8>, String> {
    let target = Target::parse(to)?;
    let store = store(&target, endpoint)?;
    let path = target.key(key)?;
    runtime()?.block_on(async {
        match get_bytes(store.as_ref(), &path).await {
            Ok(Some((b, _))) => Ok(b),
            Ok(None) => Err(format!("{}: {key}: not found", target.url)),
            Err(e) => Err(format!("{}: {key}: {e}", target.url)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_headers() {
        assert_eq!(Kind::of("checkpoint"), Kind::Checkpoint);
        assert_eq!(Kind::of("vkey"), Kind::Text);
        assert_eq!(Kind::of("tile/entries/000"), Kind::FullTile);
        assert_eq!(Kind::of("tile/0/x001/234"), Kind::FullTile);
        assert_eq!(Kind::of("tile/entries/000.p/3"), Kind::PartialTile);
        assert_eq!(Kind::of("tile/1/000.p/2"), Kind::PartialTile);
        assert_eq!(Kind::of("releases.json"), Kind::Other);
        let a = Kind::FullTile.attributes("tile/0/000", b"");
        assert_eq!(
            a.get(&Attribute::CacheControl).map(AsRef::as_ref),
            Some(IMMUTABLE)
        );
        assert_eq!(
            a.get(&Attribute::ContentType).map(AsRef::as_ref),
            Some(BINARY)
        );
        let a = Kind::Checkpoint.attributes("checkpoint", b"x\n");
        assert_eq!(
            a.get(&Attribute::CacheControl).map(AsRef::as_ref),
            Some(NO_CACHE)
        );
        assert_eq!(
            a.get(&Attribute::ContentType).map(AsRef::as_ref),
            Some(TEXT)
        );
        let a = Kind::Other.attributes("lookup/demo", b"0 demo-1.0.tar.gz 00\n");
        assert_eq!(
            a.get(&Attribute::CacheControl).map(AsRef::as_ref),
            Some(NO_CACHE)
        );
        assert_eq!(
            a.get(&Attribute::ContentType).map(AsRef::as_ref),
            Some(TEXT)
        );
    }

    #[test]
    fn targets_and_endpoints() {
        let t = Target::parse("s3://my-bucket/logs/pypi/").unwrap();
        assert_eq!(
            (t.bucket.as_str(), t.prefix.as_str()),
            ("my-bucket", "logs/pypi")
        );
        assert_eq!(
            t.key("tile/0/000").unwrap().as_ref(),
            "logs/pypi/tile/0/000"
        );
        assert_eq!(t.rel("logs/pypi/checkpoint"), Some("checkpoint"));
        assert_eq!(t.rel("logs/pypiX/checkpoint"), None);
        let t = Target::parse("s3://bucket").unwrap();
        assert_eq!(t.key("checkpoint").unwrap().as_ref(), "checkpoint");
        for bad in [
            "https://b/p",
            "s3://",
            "s3://Bu/p",
            "s3://b/p",
            "s3://bucket/a//../b",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(loopback("http://127.0.0.1:9000"), Ok(true));
        assert_eq!(loopback("http://[::1]:9000"), Ok(true));
        assert_eq!(loopback("http://localhost:9000"), Ok(true));
        assert_eq!(loopback("https://s3.example.com"), Ok(false));
        assert!(loopback("http://s3.example.com").is_err());
        assert!(loopback("ftp://127.0.0.1").is_err());
    }

    #[test]
    fn etags() {
        assert_eq!(
            etag_md5(Some("\"B1946AC92492D2347C6235B4D2611184\"")).as_deref(),
            Some("b1946ac92492d2347c6235b4d2611184")
        );
        assert_eq!(md5_hex(b"hello\n"), "b1946ac92492d2347c6235b4d2611184");
        assert_eq!(
            etag_md5(Some("\"b1946ac92492d2347c6235b4d2611184-2\"")),
            None
        );
        assert_eq!(etag_md5(None), None);
    }
}
