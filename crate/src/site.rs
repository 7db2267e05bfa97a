//! A publisher's key site: check its sources and render its pages.
//!
//! Pure like the rest of the core: the caller reads `site.json`, `keys.json` and every
//! `releases/<project>/<wheel>.jws` and passes the bytes in. The native CLI (`wheelsig site
//! build`) and the template's Node generator (this code compiled to wasm) call the same
//! [`build`], so both produce byte-identical pages.
//!
//! A site is refused, with every problem listed, when `keys.json` is not a valid public JWK
//! Set or any signature under `releases/` would not verify for a visitor: malformed, for a
//! different file than its name says, signed by a key `keys.json` does not list (revoked),
//! by a key not listed for that project, or after the key's retirement date.
//!
//! A site whose `site.json` has a `log` also has a release log under `log/` (C2SP tlog-tiles,
//! one [`ReleaseLeaf`] per released file, see docs/SPEC.md "Release log (publisher side)"):
//! [`build_with_log`] checks it against the signatures and the `.tlog-proof` files, and
//! against the checkpoint that is live (`previous`), using `crate::log` for notes, tiles and
//! proofs.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{json, Map, Value};
use sha2::{Digest as _, Sha256};

use crate::audit::{AuditReport, Severity};
use crate::encoding::{hex, parse_json};
use crate::jws;
use crate::keys::{KeySet, ListedKey};
use crate::limits::Limits;
use crate::log::checkpoint::Checkpoint;
use crate::log::merkle::{tile_path, tree_hash};
use crate::log::note::{KeyKind, Note, NoteVerifier};
use crate::log::proof::TlogProof;
use crate::log::release::ReleaseLeaf;
use crate::log::tiles::{parse_bundle, Log};
use crate::names::{is_valid_project, normalize_project, parse_wheel_filename};
use crate::report::SigFormat;
use crate::time;

/// Largest `site.json` accepted.
pub const MAX_CONFIG_BYTES: usize = 64 << 10;
/// Most signature files a site may hold.
pub const MAX_RELEASES: usize = 100_000;
/// Longest publisher name.
const MAX_NAME: usize = 200;

/// The stylesheet every generated site links (`site.css`).
pub const SITE_CSS: &str = include_str!("site.css");

/// `site.json`: who publishes, where the site lives, which projects it covers, and (optional)
/// the site's release log and the witnesses that cosign it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Human name shown as the page title.
    pub publisher: String,
    /// The site's https root URL, ending in `/`; the key URL is `<site_url>keys.json`.
    pub site_url: String,
    /// Normalized project names this site signs.
    pub projects: Vec<String>,
    /// The release log under `log/` (absent on sites made before logs existed).
    pub log: Option<LogConfig>,
    /// Witnesses the publisher submits checkpoints to (`wheelsig site cosign`).
    pub witnesses: Vec<WitnessConfig>,
}

/// `site.json`'s `log`: the log's origin and its note verifier key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// The checkpoint origin: the site URL without scheme and trailing slash, plus `/log`.
    pub origin: String,
    /// The log's Ed25519 note key (named after the origin).
    pub vkey: NoteVerifier,
}

/// One of `site.json`'s `witnesses`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessConfig {
    /// Its cosignature/v1 key; the witness's name is the key's name.
    pub vkey: NoteVerifier,
    /// Its submission prefix (`<url>/add-checkpoint`), https (http only on loopback).
    pub url: String,
}

impl WitnessConfig {
    /// The witness's name (its key's name).
    pub fn name(&self) -> &str {
        self.vkey.name()
    }
}

/// Most witnesses a site lists.
pub const MAX_WITNESSES: usize = 32;

/// The log origin for a site URL: without the scheme and the trailing slash, plus `/log`
/// (`https://alice.github.io/keys/` → `alice.github.io/keys/log`).
pub fn log_origin(site_url: &str) -> String {
    let rest = site_url.split_once("://").map_or(site_url, |(_, r)| r);
    format!("{}/log", rest.trim_end_matches('/'))
}

/// `site.json`'s `publisher` as the template repository ships it (static-site-template/site.json).
pub const TEMPLATE_PUBLISHER: &str = "Your Name";
/// `site.json`'s `site_url` as the template repository ships it.
pub const TEMPLATE_SITE_URL: &str = "https://you.github.io/my-keys/";

impl Config {
    /// Parse `site.json` strictly: `publisher`, `site_url`, `projects`, and optionally `log`
    /// and `witnesses`.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() > MAX_CONFIG_BYTES {
            return Err(format!(
                "{} bytes; the limit is {MAX_CONFIG_BYTES}",
                bytes.len()
            ));
        }
        let v = parse_json(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
        let obj = v.as_object().ok_or("expected a JSON object")?;
        const ALLOWED: [&str; 5] = ["publisher", "site_url", "projects", "log", "witnesses"];
        if let Some(k) = obj.keys().find(|k| !ALLOWED.contains(&k.as_str())) {
            return Err(format!(
                "unexpected member {k:?} (allowed: {})",
                ALLOWED.join(", ")
            ));
        }
        let text = |name: &str| -> Result<String, String> {
            obj.get(name)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("`{name}` must be a string"))
        };
        let publisher = text("publisher")?.trim().to_string();
        if publisher.is_empty()
            || publisher.chars().count() > MAX_NAME
            || publisher.chars().any(char::is_control)
        {
            return Err(format!(
                "`publisher` must be 1 to {MAX_NAME} printable characters"
            ));
        }
        let site_url = check_site_url(&text("site_url")?)?;
        let list = obj
            .get("projects")
            .and_then(Value::as_array)
            .ok_or("`projects` must be an array of project names")?;
        let mut projects = Vec::with_capacity(list.len());
        for p in list {
            let name = p
                .as_str()
                .filter(|s| is_valid_project(s))
                .ok_or_else(|| format!("`projects` entry {p} is not a valid project name"))?;
            let n = normalize_project(name);
            if projects.contains(&n) {
                return Err(format!("`projects` lists {n} twice"));
            }
            projects.push(n);
        }
        let log = obj
            .get("log")
            .map(|v| parse_log(v, &site_url))
            .transpose()?;
        let witnesses = match obj.get("witnesses") {
            None => Vec::new(),
            Some(v) => parse_witnesses(v, log.is_some())?,
        };
        Ok(Config {
            publisher,
            site_url,
            projects,
            log,
            witnesses,
        })
    }

    /// The fields still holding the template repository's placeholders
    /// ([`TEMPLATE_PUBLISHER`], [`TEMPLATE_SITE_URL`]): one message per field, saying which to
    /// edit and what to put there. Empty for a site that was described. [`build_with_log`]
    /// refuses a site with any, so neither `wheelsig site build` nor the template's
    /// `tools/build-site.mjs` deploys a page titled "Your Name" whose key URL is someone else's.
    pub fn placeholders(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.publisher.eq_ignore_ascii_case(TEMPLATE_PUBLISHER) {
            out.push(format!("`publisher` is still the template's placeholder {TEMPLATE_PUBLISHER:?}: edit site.json and put your name (or your organization's) in `publisher`"));
        }
        if self.site_url.eq_ignore_ascii_case(TEMPLATE_SITE_URL) {
            out.push(format!(
                "`site_url` is still the template's placeholder {TEMPLATE_SITE_URL:?}: edit site.json and put this site's address in `site_url` (on GitHub Pages https://<owner>.github.io/<repository>/, shown under Settings → Pages)"
            ));
        }
        out
    }

    /// The JWK Set's URL: `<site_url>keys.json`.
    pub fn key_url(&self) -> String {
        format!("{}keys.json", self.site_url)
    }

    /// The origin a log of this site has (see [`log_origin`]).
    pub fn log_origin(&self) -> String {
        log_origin(&self.site_url)
    }

    /// `site.json` text (pretty JSON, a trailing newline). `log` and `witnesses` only when set.
    pub fn to_json(&self) -> String {
        let mut v = json!({"publisher": self.publisher, "site_url": self.site_url, "projects": self.projects});
        if let Some(log) = &self.log {
            v["log"] = json!({"origin": log.origin, "vkey": log.vkey.vkey()});
        }
        if !self.witnesses.is_empty() {
            v["witnesses"] = Value::Array(
                self.witnesses
                    .iter()
                    .map(|w| json!({"vkey": w.vkey.vkey(), "url": w.url}))
                    .collect(),
            );
        }
        crate::keys::pretty(&v)
    }
}

fn members<'a>(
    v: &'a Value,
    what: &str,
    allowed: &[&str],
) -> Result<&'a Map<String, Value>, String> {
    let o = v
        .as_object()
        .ok_or_else(|| format!("{what} must be an object with {}", allowed.join(", ")))?;
    if let Some(k) = o.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!(
            "{what}: unexpected member {k:?} (allowed: {})",
            allowed.join(", ")
        ));
    }
    Ok(o)
}

fn vkey_member(o: &Map<String, Value>, what: &str, kind: KeyKind) -> Result<NoteVerifier, String> {
    let text = o
        .get("vkey")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{what}.vkey must be a string"))?;
    let vkey = NoteVerifier::parse(text).map_err(|e| format!("{what}.vkey: {e}"))?;
    if vkey.vkey() != text {
        return Err(format!(
            "{what}.vkey: not in canonical form (expected {})",
            vkey.vkey()
        ));
    }
    if vkey.kind() != kind {
        let want = if kind == KeyKind::Ed25519 {
            "an Ed25519 note key (type 0x01, from `wheelsig site init`)"
        } else {
            "a cosignature/v1 key (type 0x04, from `wheelsig witness keygen`)"
        };
        return Err(format!("{what}.vkey must be {want}"));
    }
    Ok(vkey)
}

fn parse_log(v: &Value, site_url: &str) -> Result<LogConfig, String> {
    let o = members(v, "`log`", &["origin", "vkey"])?;
    let origin = o
        .get("origin")
        .and_then(Value::as_str)
        .ok_or("`log.origin` must be a string")?;
    let want = log_origin(site_url);
    if origin != want {
        return Err(format!("`log.origin` {origin:?} must be {want:?} (the site_url without its scheme and trailing slash, plus /log)"));
    }
    let vkey = vkey_member(o, "`log`", KeyKind::Ed25519)?;
    if vkey.name() != origin {
        return Err(format!(
            "`log.vkey` is named {:?}; a log's key is named after its origin {origin:?}",
            vkey.name()
        ));
    }
    Ok(LogConfig {
        origin: origin.to_string(),
        vkey,
    })
}

fn parse_witnesses(v: &Value, has_log: bool) -> Result<Vec<WitnessConfig>, String> {
    let list = v
        .as_array()
        .ok_or("`witnesses` must be an array of {\"vkey\", \"url\"}")?;
    if !list.is_empty() && !has_log {
        return Err("`witnesses` cosign the site's log, but site.json has no `log`".into());
    }
    if list.len() > MAX_WITNESSES {
        return Err(format!(
            "{} witnesses; the limit is {MAX_WITNESSES}",
            list.len()
        ));
    }
    let mut out: Vec<WitnessConfig> = Vec::with_capacity(list.len());
    for (i, w) in list.iter().enumerate() {
        let what = format!("`witnesses[{i}]`");
        let o = members(w, &what, &["vkey", "url"])?;
        let vkey = vkey_member(o, &what, KeyKind::Cosignature)?;
        let url = o
            .get("url")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{what}.url must be a string"))?;
        check_url(&format!("witnesses[{i}].url"), url)?;
        if let Some(d) = out
            .iter()
            .find(|d| d.name() == vkey.name() || d.vkey.public_key() == vkey.public_key())
        {
            return Err(format!(
                "{what} repeats witness {} (the same name or key)",
                d.name()
            ));
        }
        out.push(WitnessConfig {
            vkey,
            url: url.to_string(),
        });
    }
    Ok(out)
}

/// An https URL (http only for loopback hosts), no query or fragment, normalized to end in `/`.
fn check_site_url(text: &str) -> Result<String, String> {
    check_url("site_url", text)?;
    Ok(if text.ends_with('/') {
        text.to_string()
    } else {
        format!("{text}/")
    })
}

/// An https URL (http only for loopback hosts: the key URL rule of `urls`), and, since it is
/// rendered into the page and joined with paths, no query, fragment, spaces, quotes, angle
/// brackets, backslashes or `@`.
pub fn check_url(name: &str, text: &str) -> Result<(), String> {
    crate::urls::check_key_url(text, crate::urls::Loopback::Allow)
        .map_err(|e| format!("`{name}`: {e}"))?;
    if text.chars().any(|c| {
        c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '"' | '<' | '>' | '\\' | '@')
    }) {
        return Err(format!("`{name}` {text:?} may not contain spaces, quotes, angle brackets, backslashes, '@', a query or a fragment"));
    }
    Ok(())
}

/// One file from the site's sources, as read by the caller.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the site root, with `/` separators (`releases/p/f.whl.jws`).
    pub path: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A checked release: one detached signature under `releases/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Release {
    /// Normalized project name.
    pub project: String,
    /// Version from the wheel file name.
    pub version: String,
    /// The wheel's file name.
    pub filename: String,
    /// Hex SHA-256 of the whole wheel (what the signature binds).
    pub sha256: String,
    /// The signing key's id.
    pub kid: String,
    /// Signer-claimed signing time (Unix seconds).
    pub iat: Option<i64>,
    /// The signature's path in the site.
    pub signature: String,
    /// Its leaf index in the site's release log (sites with a log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
    /// Its `.tlog-proof` path, once the release was witnessed (`wheelsig site cosign`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof: Option<String>,
    /// When the witnesses cosigned the checkpoint in that proof (the latest of their
    /// cosignature times, Unix seconds): the release was public by then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witnessed: Option<i64>,
}

/// What is wrong with one file of the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiteProblem {
    /// `site.json`, `keys.json` or the signature's path.
    pub path: String,
    /// What is wrong, and what to do about it.
    pub message: String,
}

impl std::fmt::Display for SiteProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A witness as the page shows it: its key, URL and the time of its cosignature on the
/// current checkpoint (`None`: it has not cosigned this checkpoint).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WitnessStatus {
    /// The witness's name (its key name).
    pub name: String,
    /// Its cosignature/v1 verifier key.
    pub vkey: String,
    /// Its submission URL.
    pub url: String,
    /// When it cosigned `log/checkpoint` (verified with its key), Unix seconds.
    pub cosigned: Option<i64>,
}

/// The checked release log of a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogSummary {
    /// Checkpoint origin.
    pub origin: String,
    /// The log's note verifier key.
    pub vkey: String,
    /// Number of entries.
    pub size: u64,
    /// The checkpoint's root hash (standard base64).
    pub root: String,
    /// Every witness site.json lists.
    pub witnesses: Vec<WitnessStatus>,
}

/// A site that passed every check: the generated files and what they describe.
#[derive(Debug, Clone)]
pub struct Site {
    /// The parsed configuration.
    pub config: Config,
    /// The key set.
    pub keys: KeySet,
    /// Releases, sorted by project, then file name.
    pub releases: Vec<Release>,
    /// The release log, when site.json has one.
    pub log: Option<LogSummary>,
    /// The index audit the page shows (`--audit`), when given.
    pub audit: Option<AuditReport>,
    /// Generated files: `index.html`, `releases.json`, `site.css` (and `witness-policy.txt`,
    /// `audit.json` when there is a log with witnesses, an audit).
    pub files: Vec<(String, String)>,
}

/// Check a site without a log's files (see [`build_with_log`]).
pub fn build(
    config: &[u8],
    keys: &[u8],
    signatures: &[SourceFile],
    version: &str,
) -> Result<Site, Vec<SiteProblem>> {
    build_with_log(config, keys, signatures, &[], None, None, version)
}

/// Check a site's sources and render it. `signatures` are the files under `releases/` (the
/// `.jws` signatures and the `.tlog-proof` files); `log` the files under `log/` (`log/vkey`,
/// `log/checkpoint`, `log/tile/…`), paths relative to the site root; `previous` the checkpoint
/// that is live now (the new log must extend it); `audit` an index audit of this site (the
/// JSON of [`crate::audit::AuditReport`]: `wheelsig audit --json`, the template's
/// `tools/audit-site.mjs`), shown on the page and published as `audit.json`; `version` is
/// printed in the page footer.
pub fn build_with_log(
    config: &[u8],
    keys: &[u8],
    signatures: &[SourceFile],
    log: &[SourceFile],
    previous: Option<&[u8]>,
    audit: Option<&[u8]>,
    version: &str,
) -> Result<Site, Vec<SiteProblem>> {
    let mut problems = Vec::new();
    // Messages quote signer-controlled fields (payload file names): escaped once, here.
    let mut complain = |path: &str, message: String| {
        problems.push(SiteProblem {
            path: crate::display::escape(path).into_owned(),
            message: crate::display::escape(&message).into_owned(),
        })
    };
    let config = Config::parse(config)
        .map_err(|e| complain("site.json", e))
        .ok();
    let keys = KeySet::parse(keys)
        .map_err(|e| complain("keys.json", e.to_string()))
        .ok();
    if signatures.len() > MAX_RELEASES {
        complain(
            "releases/",
            format!(
                "{} signature files; the limit is {MAX_RELEASES}",
                signatures.len()
            ),
        );
        return Err(problems);
    }
    let (Some(config), Some(keys)) = (config, keys) else {
        return Err(problems);
    };
    let audit = audit.and_then(|bytes| match AuditReport::parse(bytes) {
        Ok(a) if a.key_url != config.key_url() => {
            complain(
                AUDIT_SOURCE,
                format!(
                    "an audit of the key site {}, not this one ({})",
                    a.key_url,
                    config.key_url()
                ),
            );
            None
        }
        Ok(a) => Some(a),
        Err(e) => {
            complain(AUDIT_SOURCE, e);
            None
        }
    });
    for message in config.placeholders() {
        complain("site.json", message);
    }
    for (i, k) in keys.keys.iter().enumerate() {
        for p in k.projects.iter().flatten() {
            if !config.projects.contains(p) {
                complain("keys.json", format!("keys[{i}] ({}) is listed for {p}, which site.json's `projects` does not name", k.key.kid()));
            }
        }
    }
    let (proofs, signatures): (Vec<&SourceFile>, Vec<&SourceFile>) = signatures
        .iter()
        .partition(|f| f.path.ends_with(PROOF_SUFFIX));
    let mut releases = Vec::with_capacity(signatures.len());
    let mut seen = BTreeSet::new();
    for sig in &signatures {
        match check_release(&config, &keys, sig) {
            Ok(r) if !seen.insert(r.filename.clone()) => {
                complain(&sig.path, format!("a second signature for {}", r.filename))
            }
            Ok(r) => releases.push(r),
            Err(e) => complain(&sig.path, e),
        }
    }
    let summary = match &config.log {
        Some(lc) => check_log(
            &config,
            lc,
            log,
            previous,
            &signatures,
            &proofs,
            &mut releases,
            &mut complain,
        ),
        None => {
            for p in &proofs {
                complain(&p.path, "a .tlog-proof, but site.json has no `log`".into());
            }
            if let Some(f) = log.first() {
                complain(&f.path, "log files, but site.json has no `log`".into());
            }
            if previous.is_some() {
                complain(
                    "site.json",
                    "--previous checks the release log, but site.json has no `log`".into(),
                );
            }
            None
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    releases.sort_by(|a, b| (&a.project, &a.filename).cmp(&(&b.project, &b.filename)));
    let files = vec![
        (
            "index.html".to_string(),
            render_index(
                &config,
                &keys,
                &releases,
                summary.as_ref(),
                audit.as_ref(),
                version,
            ),
        ),
        (
            "releases.json".to_string(),
            releases_json(&config, &releases, summary.as_ref()),
        ),
        ("site.css".to_string(), SITE_CSS.to_string()),
    ];
    let mut files = files;
    if let Some(policy) = summary.as_ref().and_then(witness_policy) {
        files.push((WITNESS_POLICY.to_string(), policy));
    }
    if let Some(a) = &audit {
        let mut text = serde_json::to_string_pretty(a).unwrap_or_default();
        text.push('\n');
        files.push((AUDIT_FILE.to_string(), text));
    }
    Ok(Site {
        config,
        keys,
        releases,
        log: summary,
        audit,
        files,
    })
}

/// Where a site with an audit publishes it (re-serialized, so both builders write the same bytes).
pub const AUDIT_FILE: &str = "audit.json";

/// How site problems name the `--audit` input.
const AUDIT_SOURCE: &str = "--audit";

/// The witness policy a site with a witnessed log publishes for its own widget.
pub const WITNESS_POLICY: &str = "witness-policy.txt";

/// A C2SP tlog-policy for this site's log: its key, every witness site.json lists (named by
/// its key name, with its URL), all of them required. `None` without witnesses.
fn witness_policy(log: &LogSummary) -> Option<String> {
    if log.witnesses.is_empty() {
        return None;
    }
    let group = if log.witnesses.iter().any(|w| w.name == "witnesses") {
        "all-witnesses"
    } else {
        "witnesses"
    };
    let mut t = format!("# The witness policy of {}: its log key and every witness that cosigns it, all required.\nlog {}\n", log.origin, log.vkey);
    for w in &log.witnesses {
        let _ = writeln!(t, "witness {} {} {}", w.name, w.vkey, w.url);
    }
    let names: Vec<&str> = log.witnesses.iter().map(|w| w.name.as_str()).collect();
    let _ = writeln!(t, "group {group} all {}", names.join(" "));
    let _ = writeln!(t, "quorum {group}");
    Some(t)
}

/// Standard base64 with padding, as checkpoints and proofs write hashes.
fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A release's inclusion proof sits beside its signature: `releases/<project>/<wheel>.tlog-proof`.
pub const PROOF_SUFFIX: &str = ".tlog-proof";

/// The path of a release's `.tlog-proof`.
pub fn proof_path(project: &str, file: &str) -> String {
    format!("releases/{project}/{file}{PROOF_SUFFIX}")
}

/// `tile/0/x001/234.p/17` → (`tile/0/x001/234`, 17); a full tile → (itself, 256).
fn tile_base(path: &str) -> Option<(&str, u16)> {
    match path.rsplit_once(".p/") {
        None => Some((path, 256)),
        Some((base, w)) => {
            let n: u16 = w.parse().ok().filter(|n| (1..256).contains(n))?;
            (n.to_string() == w).then_some((base, n))
        }
    }
}

/// The latest cosignature time among `witnesses` on `note`; an error names a witness whose
/// cosignature line does not verify.
fn cosigned(note: &Note, witnesses: &[WitnessConfig]) -> Result<Vec<Option<i64>>, String> {
    witnesses
        .iter()
        .map(|w| match note.verify_by(&w.vkey) {
            Ok(v) => Ok(v
                .and_then(|v| v.timestamp)
                .and_then(|t| i64::try_from(t).ok())),
            Err(e) => Err(format!(
                "the cosignature by witness {} does not verify: {e}",
                w.name()
            )),
        })
        .collect()
}

/// Check `log/` against site.json, the signatures and the proofs; annotate `releases` with
/// their log index and witnessed time.
#[allow(clippy::too_many_arguments)]
fn check_log(
    config: &Config,
    lc: &LogConfig,
    files: &[SourceFile],
    previous: Option<&[u8]>,
    signatures: &[&SourceFile],
    proofs: &[&SourceFile],
    releases: &mut [Release],
    complain: &mut dyn FnMut(&str, String),
) -> Option<LogSummary> {
    let mut by_path: BTreeMap<&str, &[u8]> = BTreeMap::new();
    for f in files {
        if by_path.insert(f.path.as_str(), &f.bytes).is_some() {
            complain(&f.path, "given twice".into());
        }
    }
    match by_path.get("log/vkey") {
        None => complain(
            "log/vkey",
            format!(
                "missing: it holds the log's verifier key {} (from site.json)",
                lc.vkey.vkey()
            ),
        ),
        Some(b)
            if std::str::from_utf8(b)
                .ok()
                .map(|t| t.strip_suffix('\n').unwrap_or(t))
                != Some(&lc.vkey.vkey()) =>
        {
            complain(
                "log/vkey",
                format!("does not hold site.json's log key {}", lc.vkey.vkey()),
            );
        }
        Some(_) => {}
    }
    let Some(cp_bytes) = by_path.get("log/checkpoint") else {
        complain(
            "log/checkpoint",
            "missing: `wheelsig site init` and `site publish` write it".into(),
        );
        return None;
    };
    let (note, cp, log) = match read_log(lc, cp_bytes, &mut |p| {
        by_path.get(format!("log/{p}").as_str()).map(|b| b.to_vec())
    }) {
        Ok(x) => x,
        Err((path, e)) => {
            complain(&path, e);
            return None;
        }
    };
    // Tiles: every one a client may fetch for this size must be there and match the entries;
    // partial tiles left from earlier sizes must be prefixes of the current ones.
    let expected = log.files();
    let mut current: BTreeMap<&str, (&str, u16, &[u8])> = BTreeMap::new();
    for (path, bytes) in &expected {
        if let Some((base, w)) = tile_base(path) {
            current.insert(base, (path.as_str(), w, bytes.as_slice()));
        }
        if !by_path.contains_key(format!("log/{path}").as_str()) {
            complain(
                &format!("log/{path}"),
                "missing: clients fetch it to check the log (`wheelsig site publish` writes it)"
                    .into(),
            );
        }
    }
    for (&path, &bytes) in &by_path {
        if path == "log/vkey" || path == "log/checkpoint" {
            continue;
        }
        let Some(rel) = path.strip_prefix("log/").filter(|r| r.starts_with("tile/")) else {
            complain(
                path,
                "not a file of a C2SP log (log/ holds vkey, checkpoint and tile/)".into(),
            );
            continue;
        };
        let Some((base, w)) = tile_base(rel) else {
            complain(path, "not a C2SP tile path".into());
            continue;
        };
        let Some(&(_, cur_w, cur)) = current.get(base) else {
            complain(
                path,
                format!(
                    "not a tile of this log of {} entries (a rolled-back log?)",
                    cp.size
                ),
            );
            continue;
        };
        let ok = if w == cur_w {
            bytes == cur
        } else if w > cur_w {
            complain(
                path,
                format!(
                    "a tile for more entries than the checkpoint's {} (a rolled-back log?)",
                    cp.size
                ),
            );
            continue;
        } else if base.starts_with("tile/entries/") {
            parse_bundle(bytes).is_ok_and(|e| e.len() == usize::from(w)) && cur.starts_with(bytes)
        } else {
            bytes.len() == 32 * usize::from(w) && cur.starts_with(bytes)
        };
        if !ok {
            complain(
                path,
                "does not match the log's entries: a tile or bundle was changed".into(),
            );
        }
    }
    // Entries: one release leaf each; several for one file name is a changed release.
    let mut by_file: BTreeMap<String, Vec<(u64, ReleaseLeaf)>> = BTreeMap::new();
    for (i, e) in log.entries().iter().enumerate() {
        match ReleaseLeaf::parse(e) {
            Ok(leaf) => by_file
                .entry(leaf.file.clone())
                .or_default()
                .push((i as u64, leaf)),
            Err(err) => complain(
                &format!("log/{}", tile_path(None, (i / 256) as u64, 256)),
                format!("entry {i}: {err}"),
            ),
        }
    }
    for (file, leaves) in &by_file {
        if leaves.len() > 1 {
            let at: Vec<String> = leaves.iter().map(|(i, _)| i.to_string()).collect();
            complain("log/checkpoint", format!("{file} is logged {} times (entries {}): a release was changed after it was logged", leaves.len(), at.join(", ")));
        }
    }
    let cosigns = cosigned(&note, &config.witnesses)
        .map_err(|e| complain("log/checkpoint", e))
        .unwrap_or_else(|_| vec![None; config.witnesses.len()]);
    if let Some(prev) = previous {
        if let Err(e) = extends(prev, lc, &log) {
            complain(
                "log/checkpoint",
                format!("the log is not an extension of what is live: {e}"),
            );
        }
    }
    let sig_by_path: BTreeMap<&str, &SourceFile> =
        signatures.iter().map(|s| (s.path.as_str(), *s)).collect();
    for r in releases.iter_mut() {
        let Some(sig) = sig_by_path.get(r.signature.as_str()) else {
            continue;
        };
        match by_file.get(&r.filename).map(Vec::as_slice) {
            None | Some([]) => complain(&r.signature, format!("{} is not in the release log: publish it with `wheelsig site publish`, which logs it", r.filename)),
            Some([(i, leaf)]) => {
                let jws_sha256 = hex(&Sha256::digest(&sig.bytes));
                let fields = [("project", &leaf.project, &r.project), ("version", &leaf.version, &r.version), ("sha256", &leaf.sha256, &r.sha256), ("jws-sha256", &leaf.jws_sha256, &jws_sha256), ("kid", &leaf.kid, &r.kid)];
                if let Some((name, logged, here)) = fields.iter().find(|(_, a, b)| a != b) {
                    complain(&r.signature, format!("the release log's entry {i} for {} has {name} {logged}, this signature {here}: a logged release cannot be changed", r.filename));
                } else {
                    r.log_index = Some(*i);
                }
            }
            Some(_) => {} // reported above
        }
    }
    let release_by_file: BTreeMap<String, usize> = releases
        .iter()
        .enumerate()
        .map(|(i, r)| (r.filename.clone(), i))
        .collect();
    for p in proofs {
        match check_proof(p, lc, &config.witnesses, &log, &by_file) {
            Ok((file, witnessed)) => {
                if let Some(r) = release_by_file.get(&file).map(|&i| &mut releases[i]) {
                    r.proof = Some(p.path.clone());
                    r.witnessed = witnessed;
                }
            }
            Err(e) => complain(&p.path, e),
        }
    }
    let witnesses = config
        .witnesses
        .iter()
        .zip(cosigns)
        .map(|(w, t)| WitnessStatus {
            name: w.name().to_string(),
            vkey: w.vkey.vkey(),
            url: w.url.clone(),
            cosigned: t,
        })
        .collect();
    Some(LogSummary {
        origin: lc.origin.clone(),
        vkey: lc.vkey.vkey(),
        size: cp.size,
        root: b64(&cp.root),
        witnesses,
    })
}

/// Read a site's log: `checkpoint` (the bytes of `log/checkpoint`) must be signed by the log
/// key, for the log's origin, and the entry bundles (`read` gets paths relative to `log/`)
/// must hash to its root. An error names the file at fault and what is wrong.
pub fn read_log(
    lc: &LogConfig,
    checkpoint: &[u8],
    read: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
) -> Result<(Note, Checkpoint, Log), (String, String)> {
    let at_checkpoint = |m: String| ("log/checkpoint".to_string(), m);
    let note = Note::parse(checkpoint).map_err(|e| at_checkpoint(e.to_string()))?;
    match note.verify_by(&lc.vkey) {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Err(at_checkpoint(format!(
                "not signed by the log's key {}",
                lc.vkey.vkey()
            )))
        }
        Err(e) => {
            return Err(at_checkpoint(format!(
                "the log's signature does not verify: {e}"
            )))
        }
    }
    let cp = Checkpoint::parse(note.text()).map_err(|e| at_checkpoint(e.to_string()))?;
    if cp.origin != lc.origin {
        return Err(at_checkpoint(format!(
            "a checkpoint for origin {}, not this log's {}",
            cp.origin, lc.origin
        )));
    }
    let log = Log::from_bundles(cp.size, read).map_err(|e| {
        (
            "log/tile/entries/".to_string(),
            format!("{e} (the checkpoint says {} entries)", cp.size),
        )
    })?;
    let root = log.checkpoint(&lc.origin).root;
    if root != cp.root {
        return Err(at_checkpoint(format!("the entry bundles hash to root {}, but the checkpoint says {}: an entry bundle was changed", b64(&root), b64(&cp.root))));
    }
    Ok((note, cp, log))
}

/// The log's release entries by wheel file name: the first entry for each name (a name
/// logged twice, or an entry that is not a release leaf, is for [`build_with_log`] to report).
pub fn logged(log: &Log) -> BTreeMap<String, (u64, ReleaseLeaf)> {
    let mut out = BTreeMap::new();
    for (i, e) in log.entries().iter().enumerate() {
        if let Ok(leaf) = ReleaseLeaf::parse(e) {
            out.entry(leaf.file.clone()).or_insert((i as u64, leaf));
        }
    }
    out
}

/// A cosigning round for a site's log (see [`crate::log::cosign`]): `checkpoint` is
/// `log/checkpoint`, `read` reads files under `log/`, `witnessed` is `log/witnessed.json`.
pub fn cosign_round(
    config: &Config,
    checkpoint: &[u8],
    read: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
    witnessed: Option<&[u8]>,
) -> Result<crate::log::cosign::Round, String> {
    use crate::log::cosign::{parse_witnessed, Round, Witness};
    let lc = config
        .log
        .as_ref()
        .ok_or("site.json has no `log`: `wheelsig site init` creates one")?;
    if config.witnesses.is_empty() {
        return Err(
            "site.json lists no witnesses: add one with `wheelsig site add-witness`".into(),
        );
    }
    let (_, _, log) = read_log(lc, checkpoint, read)
        .map_err(|(path, e)| format!("{path}: {e} (`wheelsig site build` lists what is wrong)"))?;
    let sizes = parse_witnessed(witnessed).map_err(|e| {
        format!("log/witnessed.json: {e} (delete it to start over: the witnesses say their sizes)")
    })?;
    let witnesses = config
        .witnesses
        .iter()
        .map(|w| Witness {
            vkey: w.vkey.clone(),
            url: w.url.clone(),
        })
        .collect();
    Round::new(log, checkpoint, &lc.vkey, witnesses, sizes)
}

/// The `.tlog-proof` files a cosigned checkpoint adds: one beside each logged release's
/// signature that has none yet (`exists` says whether a site path exists). Earlier proofs
/// stay as they are: their checkpoints date those releases, and are prefixes of this tree.
pub fn new_proofs(
    log: &Log,
    cosigned: &Note,
    exists: &dyn Fn(&str) -> bool,
) -> Result<Vec<(String, String)>, String> {
    let checkpoint =
        Checkpoint::parse(cosigned.text()).map_err(|e| format!("log/checkpoint: {e}"))?;
    if checkpoint.size != log.size() {
        return Err(format!(
            "log/checkpoint: size {}, but the log has {} entries",
            checkpoint.size,
            log.size()
        ));
    }
    let mut out = Vec::new();
    for (file, (index, leaf)) in logged(log) {
        let path = proof_path(&leaf.project, &file);
        if !exists(&format!("releases/{}/{file}.jws", leaf.project)) || exists(&path) {
            continue;
        }
        let proof = TlogProof {
            extra: None,
            index,
            path: log.inclusion(index),
            note: cosigned.clone(),
            checkpoint: checkpoint.clone(),
        };
        out.push((path, proof.to_text()));
    }
    Ok(out)
}

/// Whether the log extends `previous` (the live checkpoint): same origin, signed by the log's
/// key, no larger, and the log's first `previous.size` entries hash to its root.
fn extends(previous: &[u8], lc: &LogConfig, log: &Log) -> Result<(), String> {
    let note = Note::parse(previous)
        .map_err(|e| format!("the live checkpoint (--previous) is not a signed note: {e}"))?;
    let prev = Checkpoint::parse(note.text()).map_err(|e| format!("--previous: {e}"))?;
    if prev.origin != lc.origin {
        return Err(format!(
            "the live checkpoint is for origin {}, this log is {}",
            prev.origin, lc.origin
        ));
    }
    match note.verify_by(&lc.vkey) {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Err(format!(
                "the live checkpoint is not signed by this log's key {}",
                lc.vkey.vkey()
            ))
        }
        Err(e) => {
            return Err(format!(
                "the live checkpoint's log signature does not verify: {e}"
            ))
        }
    }
    if prev.size > log.size() {
        return Err(format!(
            "the live log has {} entries, this one only {} (entries were removed)",
            prev.size,
            log.size()
        ));
    }
    let root = tree_hash(&log.leaves()[..prev.size as usize]);
    if root != prev.root {
        return Err(format!("the first {} entries hash to {}, but the live checkpoint says {} (entries were rewritten: a fork)", prev.size, b64(&root), b64(&prev.root)));
    }
    Ok(())
}

/// Check one `releases/<project>/<wheel>.tlog-proof`: the file name, inclusion of that
/// release's leaf, the log's signature, consistency with the current tree, and the
/// witnesses' cosignatures. Returns the wheel file name and the witnessed time.
fn check_proof(
    p: &SourceFile,
    lc: &LogConfig,
    witnesses: &[WitnessConfig],
    log: &Log,
    by_file: &BTreeMap<String, Vec<(u64, ReleaseLeaf)>>,
) -> Result<(String, Option<i64>), String> {
    let parts: Vec<&str> = p.path.split('/').collect();
    let [_, dir, name] = parts.as_slice() else {
        return Err("expected releases/<project>/<wheel file name>.tlog-proof".into());
    };
    let file = name.strip_suffix(PROOF_SUFFIX).unwrap_or(name);
    let (index, leaf) = match by_file.get(file).map(Vec::as_slice) {
        Some([(i, leaf)]) => (*i, leaf),
        Some([]) | None => {
            return Err(format!(
                "a proof for {file}, which the release log does not hold"
            ))
        }
        Some(_) => return Err(format!("{file} is logged more than once")),
    };
    if leaf.project != *dir {
        return Err(format!(
            "{file} is logged as a {} release: the proof belongs in releases/{}/",
            leaf.project, leaf.project
        ));
    }
    let proof = TlogProof::parse(&p.bytes).map_err(|e| e.to_string())?;
    if proof.index != index {
        return Err(format!(
            "a proof for entry {}, but the log holds {file} at entry {index}",
            proof.index
        ));
    }
    if proof.checkpoint.origin != lc.origin {
        return Err(format!(
            "its checkpoint is for origin {}, not this log's {}",
            proof.checkpoint.origin, lc.origin
        ));
    }
    match proof.note.verify_by(&lc.vkey) {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Err(format!(
                "its checkpoint is not signed by the log's key {}",
                lc.vkey.vkey()
            ))
        }
        Err(e) => {
            return Err(format!(
                "its checkpoint's log signature does not verify: {e}"
            ))
        }
    }
    let Some(leaf_hash) = log.leaves().get(index as usize) else {
        return Err("no such entry".into());
    };
    if !proof.includes(leaf_hash) {
        return Err(format!(
            "the inclusion proof of entry {index} does not verify against its checkpoint (size {})",
            proof.checkpoint.size
        ));
    }
    if proof.checkpoint.size > log.size()
        || tree_hash(&log.leaves()[..proof.checkpoint.size as usize]) != proof.checkpoint.root
    {
        return Err(format!(
            "its checkpoint (size {}, root {}) is not a prefix of log/checkpoint's tree",
            proof.checkpoint.size,
            b64(&proof.checkpoint.root)
        ));
    }
    let times = cosigned(&proof.note, witnesses)?;
    Ok((file.to_string(), times.into_iter().flatten().max()))
}

/// Check one `releases/<project>/<wheel>.jws` as a visitor's verifier would.
fn check_release(config: &Config, keys: &KeySet, sig: &SourceFile) -> Result<Release, String> {
    let parts: Vec<&str> = sig.path.split('/').collect();
    let [root, dir, file] = parts.as_slice() else {
        return Err("expected releases/<project>/<wheel file name>.jws".into());
    };
    let filename = file
        .strip_suffix(".jws")
        .filter(|_| *root == "releases")
        .ok_or("expected releases/<project>/<wheel file name>.jws")?;
    let name =
        parse_wheel_filename(filename).map_err(|e| format!("not named after a wheel: {e}"))?;
    if *dir != name.project {
        return Err(format!(
            "{filename} is a {} wheel: move the signature to releases/{}/",
            name.project, name.project
        ));
    }
    if !config.projects.contains(&name.project) {
        return Err(format!(
            "{} is not one of site.json's `projects`",
            name.project
        ));
    }
    let limit = Limits::default().max_signature_size;
    if sig.bytes.len() as u64 > limit {
        return Err(format!(
            "{} bytes; a signature is at most {limit}",
            sig.bytes.len()
        ));
    }
    let at = Some(sig.path.clone());
    let parsed = jws::parse(&sig.bytes, &at).map_err(|p| p.message)?;
    let payload = parsed.payload().clone();
    match (&payload.filename, &payload.file_sha256) {
        (Some(f), Some(_)) if f == filename => {}
        (Some(f), Some(_)) => return Err(format!("the signature is for {f}, not {filename}")),
        _ => {
            return Err(
                "not a detached signature: the payload must bind `filename` and `file_sha256`"
                    .into(),
            )
        }
    }
    let sha256 = payload.file_sha256.clone().unwrap_or_default();
    // The same rule as every verifier: each entry present must verify, or visitors get
    // `invalid`; and one key per file (its RFC 7515 entry, plus a legacy twin if any).
    let mut checked_keys: Vec<crate::jws::CheckedSignature> = Vec::new();
    for outcome in parsed.check(&at) {
        let c = outcome.result.map_err(|p| {
            format!(
                "{}: {} (every signature entry must verify, or verifiers call the wheel invalid)",
                p.code, p.message
            )
        })?;
        if !checked_keys.iter().any(|k| k.key == c.key) {
            checked_keys.push(c);
        }
    }
    if checked_keys.len() > 1 {
        return Err("signed by more than one key: publish one signature per file".into());
    }
    let checked = checked_keys
        .into_iter()
        .find(|c| c.format != SigFormat::Legacy)
        .ok_or("no RFC 7515 signature")?;
    let kid = checked.key.kid();
    let listed: &ListedKey = keys.keys.iter().find(|k| k.key == checked.key).ok_or_else(|| {
        format!("signed by key {kid}, which keys.json does not list (revoked?): sign the release again with a listed key, or delete this file")
    })?;
    if !listed.covers(&name.project) {
        return Err(format!("key {kid} is not listed for {} in keys.json: add it to the key's `projects`, or sign with the right key", name.project));
    }
    if let Some(exp) = listed.exp {
        match payload.iat {
            Some(iat) if iat <= exp => {}
            Some(iat) => {
                return Err(format!(
                    "signed {} with key {kid}, after its retirement on {}",
                    time::format(iat),
                    time::format(exp)
                ))
            }
            None => {
                return Err(format!(
                    "key {kid} is retired and the signature carries no signing time (`iat`)"
                ))
            }
        }
    }
    Ok(Release {
        project: name.project,
        version: name.version,
        filename: filename.to_string(),
        sha256,
        kid,
        iat: payload.iat,
        signature: sig.path.clone(),
        log_index: None,
        proof: None,
        witnessed: None,
    })
}

/// Escape text for HTML element content and double-quoted attributes.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encode one URL path segment (file names are ASCII after PEP 427 checks, but be safe).
fn url_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'+' | b'!') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn key_status(k: &ListedKey) -> String {
    match k.exp {
        Some(exp) => format!("retired {}", time::date(exp)),
        None => "active".into(),
    }
}

fn render_index(
    config: &Config,
    keys: &KeySet,
    releases: &[Release],
    log: Option<&LogSummary>,
    audit: Option<&AuditReport>,
    version: &str,
) -> String {
    let key_url = esc(&config.key_url());
    let publisher = esc(&config.publisher);
    let projects = if config.projects.is_empty() {
        "no projects yet".to_string()
    } else {
        esc(&config.projects.join(", "))
    };
    let policy_attr = if log.is_some_and(|l| !l.witnesses.is_empty()) {
        format!(r#" witness-policy="{WITNESS_POLICY}""#)
    } else {
        String::new()
    };
    let mut h = String::with_capacity(8192 + releases.len() * 512);
    let _ = write!(
        h,
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' https:; base-uri 'none'; form-action 'none'">
<title>{publisher}: wheel signing keys</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="site.css">
<link rel="alternate" type="application/jwk-set+json" href="keys.json">
<script type="module" src="wheelsig/wheel-verify.js"></script>
</head>
<body>
<header>
<h1>{publisher}</h1>
<p>Signing keys for the Python wheels of <strong>{projects}</strong>.</p>
<p class="key-url">Key URL: <a href="keys.json"><code>{key_url}</code></a></p>
</header>
<main>
<section id="verify">
<h2>Check a wheel</h2>
<p>Drop a <code>.whl</code> file here to check it against these keys, on your machine: the wheel is not uploaded.</p>
<wheel-verify key-url="{key_url}"{policy_attr}></wheel-verify>
<noscript><p>The in-page checker needs JavaScript. From a terminal: <code>wheelsig verify --key-url {key_url} --require-trusted your.whl</code></p></noscript>
</section>
<section id="keys">
<h2>Keys</h2>
"#
    );
    if keys.keys.is_empty() {
        h.push_str("<p>No keys are listed yet.</p>\n");
    } else {
        h.push_str("<table>\n<thead><tr><th scope=\"col\">Key id</th><th scope=\"col\">Fingerprint</th><th scope=\"col\">Projects</th><th scope=\"col\">Status</th></tr></thead>\n<tbody>\n");
        for k in &keys.keys {
            let scope = match &k.projects {
                Some(p) => esc(&p.join(", ")),
                None => "all of this publisher’s projects".into(),
            };
            let status = key_status(k);
            let class = if k.exp.is_some() { "retired" } else { "active" };
            let _ = writeln!(
                h,
                "<tr id=\"key-{kid}\"><td><code>{kid}</code></td><td><code>{fp}</code></td><td>{scope}</td><td class=\"{class}\">{status}</td></tr>",
                kid = esc(&k.key.kid()),
                fp = esc(&k.key.fingerprint()),
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("<p class=\"note\">A key that is not listed here is not valid: removing a key revokes it. A retired key stays listed so that releases signed before its retirement date still verify.</p>\n</section>\n<section id=\"releases\">\n<h2>Releases</h2>\n");
    if releases.is_empty() {
        h.push_str("<p>No signed releases yet.</p>\n");
    } else {
        let log_cols = if log.is_some() {
            "<th scope=\"col\">Log entry</th><th scope=\"col\">Witnessed</th>"
        } else {
            ""
        };
        let _ = write!(h, "<table>\n<thead><tr><th scope=\"col\">Project</th><th scope=\"col\">Version</th><th scope=\"col\">File</th><th scope=\"col\">SHA-256</th><th scope=\"col\">Signed by</th><th scope=\"col\">Signed</th>{log_cols}</tr></thead>\n<tbody>\n");
        for r in releases {
            let link: String = r
                .signature
                .split('/')
                .map(url_segment)
                .collect::<Vec<_>>()
                .join("/");
            let log_cells = match log {
                None => String::new(),
                Some(_) => {
                    let index = r
                        .log_index
                        .map_or_else(|| "–".to_string(), |i| i.to_string());
                    match (&r.proof, r.witnessed) {
                        (Some(proof), when) => {
                            let plink: String = proof
                                .split('/')
                                .map(url_segment)
                                .collect::<Vec<_>>()
                                .join("/");
                            format!(
                                "<td><a href=\"{}\">{index}</a></td><td>{}</td>",
                                esc(&plink),
                                when.map_or_else(|| "–".into(), time::format)
                            )
                        }
                        (None, _) => format!("<td>{index}</td><td>not yet</td>"),
                    }
                }
            };
            let _ = writeln!(
                h,
                "<tr><td>{p}</td><td>{v}</td><td><a href=\"{link}\"><code>{f}</code></a></td><td><code class=\"digest\">{sha}</code></td><td><a href=\"#key-{kid}\"><code>{kid_short}…</code></a></td><td>{when}</td>{log_cells}</tr>",
                p = esc(&r.project),
                v = esc(&r.version),
                link = esc(&link),
                f = esc(&r.filename),
                sha = esc(&r.sha256),
                kid = esc(&r.kid),
                kid_short = esc(&r.kid.chars().take(12).collect::<String>()),
                when = r.iat.map(time::date).unwrap_or_else(|| "–".into()),
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    let _ = write!(
        h,
        r#"<p class="note">Each file links to its detached signature (<code>.jws</code>); <a href="releases.json">releases.json</a> lists the same data for tools.</p>
</section>
{audit_section}{log_section}<section id="cli">
<h2>From a terminal</h2>
<pre><code>wheelsig verify --key-url {key_url} --require-trusted dist/*.whl</code></pre>
</section>
</main>
<footer><p>Generated by wheelsig {version}. Only <a href="keys.json">keys.json</a> decides which keys are valid; this page describes it.</p></footer>
</body>
</html>
"#,
        version = esc(version),
        audit_section = audit.map(render_audit).unwrap_or_default(),
        log_section = log.map(render_log).unwrap_or_default(),
    );
    h
}

/// Text from an audit report (index file names, yanked reasons, messages) for the page:
/// control and bidi characters made visible as the CLI shows them, then HTML-escaped.
fn shown(text: &str) -> String {
    esc(&crate::display::escape(text))
}

fn render_audit(a: &AuditReport) -> String {
    let mut h = String::new();
    let when = time::format(a.checked_at);
    let (class, verdict) = if a.passed {
        ("pass", "PASS")
    } else {
        ("fail", "FAIL")
    };
    let _ = write!(
        h,
        r#"<section id="audit">
<h2>Index audit</h2>
<p>On <time datetime="{when}">{when}</time>, the package index <code>{index}</code> was compared with the releases signed here: every file it serves for these projects, and every signed release.</p>
<p class="audit-verdict {class}"><strong>{verdict}</strong> "#,
        index = shown(&a.index),
    );
    let s = &a.summary;
    if let Some(e) = &a.error {
        let _ = writeln!(
            h,
            "The audit could not be carried out: {}</p>",
            shown(&e.message)
        );
    } else if a.passed {
        let _ = writeln!(h, "The index serves exactly the wheels signed here, with the same SHA-256: {} of {} signed release{} on the index, no other wheel.</p>", s.matching, s.signed, if s.signed == 1 { "" } else { "s" });
    } else {
        let _ = writeln!(
            h,
            "The index and this site differ: {} finding{} below.</p>",
            s.failures,
            if s.failures == 1 { "" } else { "s" }
        );
    }
    if !a.projects.is_empty() {
        h.push_str("<table>\n<thead><tr><th scope=\"col\">Project</th><th scope=\"col\">Signed here</th><th scope=\"col\">Wheels on the index</th><th scope=\"col\">Same SHA-256</th><th scope=\"col\">Other files</th><th scope=\"col\">Differences</th></tr></thead>\n<tbody>\n");
        for p in &a.projects {
            let project = if p.listed {
                format!("<a href=\"{}\">{}</a>", shown(&p.page), shown(&p.project))
            } else {
                format!("{} (not on the index)", shown(&p.project))
            };
            let _ = writeln!(
                h,
                "<tr><td>{project}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                p.signed,
                p.index_wheels,
                p.matching,
                p.index_other,
                if p.failures == 0 { "pass" } else { "fail" },
                p.failures
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    if !a.findings.is_empty() {
        h.push_str("<table class=\"findings\">\n<thead><tr><th scope=\"col\">Finding</th><th scope=\"col\">Project</th><th scope=\"col\">File</th><th scope=\"col\">What</th></tr></thead>\n<tbody>\n");
        for f in &a.findings {
            let class = if f.severity == Severity::Fail {
                "fail"
            } else {
                "info"
            };
            let _ = writeln!(
                h,
                "<tr class=\"{class}\"><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                f.code.as_str(),
                shown(&f.project),
                shown(&f.filename),
                shown(&f.message),
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("<p class=\"note\">Made by <code>wheelsig audit</code> (or the workflow's <code>tools/audit-site.mjs</code>); <a href=\"audit.json\">audit.json</a> is the full report. It shows what the index served to this audit; a mirror or an index that serves some users other files is what the release log and <code>wheelsig verify</code> catch.</p>\n</section>\n");
    h
}

fn render_log(log: &LogSummary) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<section id="log">
<h2>Release log</h2>
<p>Every release is an entry in this site's append-only transparency log (C2SP tlog-tiles, under <a href="log/checkpoint">log/</a>). Independent witnesses cosign its checkpoints: a release cannot be changed or shown only to some users without it being visible, and each release's <code>.tlog-proof</code> dates it.</p>
<table class="log">
<tbody>
<tr><th scope="row">Origin</th><td><code>{origin}</code></td></tr>
<tr><th scope="row">Verifier key</th><td><code id="log-vkey">{vkey}</code> (<a href="log/vkey">log/vkey</a>)</td></tr>
<tr><th scope="row">Entries</th><td>{size}</td></tr>
<tr><th scope="row">Root hash</th><td><code class="digest">{root}</code> (<a href="log/checkpoint">log/checkpoint</a>)</td></tr>
</tbody>
</table>
<h3>Witnesses</h3>
"#,
        origin = esc(&log.origin),
        vkey = esc(&log.vkey),
        size = log.size,
        root = esc(&log.root),
    );
    if log.witnesses.is_empty() {
        h.push_str("<p>No witnesses yet: the publisher adds them with <code>wheelsig site add-witness</code>.</p>\n");
    } else {
        h.push_str("<table>\n<thead><tr><th scope=\"col\">Witness</th><th scope=\"col\">Verifier key</th><th scope=\"col\">Cosigned this checkpoint</th></tr></thead>\n<tbody>\n");
        for w in &log.witnesses {
            let _ = writeln!(
                h,
                "<tr><td><code>{name}</code></td><td><code>{vkey}</code></td><td>{when}</td></tr>",
                name = esc(&w.name),
                vkey = esc(&w.vkey),
                when = w.cosigned.map_or_else(|| "not yet".into(), time::format),
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");
    h
}

fn releases_json(config: &Config, releases: &[Release], log: Option<&LogSummary>) -> String {
    let mut root = Map::new();
    root.insert("key_url".into(), Value::String(config.key_url()));
    root.insert(
        "projects".into(),
        serde_json::to_value(&config.projects).unwrap_or(Value::Null),
    );
    root.insert(
        "releases".into(),
        serde_json::to_value(releases).unwrap_or(Value::Null),
    );
    if let Some(log) = log {
        root.insert(
            "log".into(),
            serde_json::to_value(log).unwrap_or(Value::Null),
        );
    }
    crate::keys::pretty(&Value::Object(root))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jws::{sign, Compat, Payload};
    use crate::keys::PrivateKey;

    const SHA: &str = "0f0e0d0c0b0a09080706050403020100ffeeddccbbaa99887766554433221100";

    fn key(seed: u8) -> PrivateKey {
        PrivateKey::from_seed(&[seed; 32]).unwrap()
    }

    fn config() -> Vec<u8> {
        br#"{"publisher": "Alice <Example>", "site_url": "https://alice.example/keys", "projects": ["Demo_Pkg", "other"]}"#.to_vec()
    }

    /// (key seed, projects, exp) per listed key.
    type Entry<'a> = (u8, Option<&'a [&'a str]>, Option<i64>);

    fn keys(entries: &[Entry]) -> Vec<u8> {
        let set = KeySet {
            keys: entries
                .iter()
                .map(|(s, p, exp)| ListedKey {
                    key: *key(*s).public(),
                    projects: p.map(|p| p.iter().map(|s| s.to_string()).collect()),
                    exp: *exp,
                    key_url: None,
                })
                .collect(),
        };
        set.to_json().into_bytes()
    }

    fn sig(seed: u8, filename: &str, iat: i64) -> Vec<u8> {
        let payload = Payload {
            hash: "sha256=AAAA".into(),
            iat: Some(iat),
            filename: Some(filename.into()),
            file_sha256: Some(SHA.into()),
        };
        sign(&key(seed), &payload, None, Compat::Rfc7515).into_bytes()
    }

    fn release(path: &str, bytes: Vec<u8>) -> SourceFile {
        SourceFile {
            path: path.into(),
            bytes,
        }
    }

    const F: &str = "demo_pkg-1.0-py3-none-any.whl";
    const P: &str = "releases/demo-pkg/demo_pkg-1.0-py3-none-any.whl.jws";

    fn problems(keys_json: &[u8], sigs: &[SourceFile]) -> Vec<String> {
        build(&config(), keys_json, sigs, "test")
            .err()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_bad_legacy_entry_fails_the_build_as_it_fails_verifiers() {
        let payload = Payload {
            hash: "sha256=AAAA".into(),
            iat: Some(1_750_000_000),
            filename: Some(F.into()),
            file_sha256: Some(SHA.into()),
        };
        let doc = sign(&key(1), &payload, None, Compat::WithLegacy);
        let mut v: Value = serde_json::from_str(&doc).unwrap();
        let good = build(
            &config(),
            &keys(&[(1, None, None)]),
            &[release(P, v.to_string().into_bytes())],
            "t",
        );
        assert!(
            good.is_ok(),
            "an intact legacy twin is fine: {:?}",
            good.err()
        );
        // Flip the legacy entry's signature: verifiers say sig-bad-signature, so must the build.
        let s = v["recipients"][0]["signature"]
            .as_str()
            .unwrap()
            .to_string();
        let mut raw = crate::encoding::b64url_decode(&s).unwrap();
        raw[3] ^= 1;
        v["recipients"][0]["signature"] = Value::String(crate::encoding::b64url(&raw));
        let p = problems(
            &keys(&[(1, None, None)]),
            &[release(P, v.to_string().into_bytes())],
        );
        assert!(p.len() == 1 && p[0].contains("sig-bad-signature"), "{p:?}");
    }

    #[test]
    fn renders_keys_and_releases_escaped() {
        let site = build(
            &config(),
            &keys(&[
                (1, Some(&["demo-pkg"]), None),
                (2, None, Some(1_700_000_000)),
            ]),
            &[release(P, sig(1, F, 1_750_000_000))],
            "9.9",
        )
        .unwrap();
        let (_, html) = &site.files[0];
        assert!(
            html.contains("<h1>Alice &lt;Example&gt;</h1>"),
            "publisher escaped"
        );
        assert!(
            html.contains("https://alice.example/keys/keys.json"),
            "site_url normalized with a trailing slash"
        );
        assert!(html.contains(&key(1).public().fingerprint()));
        assert!(html.contains("retired 2023-11-14"));
        assert!(
            html.contains(SHA)
                && html.contains("2025-06-15")
                && html.contains("href=\"releases/demo-pkg/demo_pkg-1.0-py3-none-any.whl.jws\"")
        );
        assert_eq!(site.releases[0].kid, key(1).public().kid());
        let listing = &site.files[1].1;
        assert!(listing.contains("\"key_url\": \"https://alice.example/keys/keys.json\""));
        // Same input, same bytes: the Node generator is compared against this output.
        let again = build(
            &config(),
            &keys(&[
                (1, Some(&["demo-pkg"]), None),
                (2, None, Some(1_700_000_000)),
            ]),
            &[release(P, sig(1, F, 1_750_000_000))],
            "9.9",
        )
        .unwrap();
        assert_eq!(site.files, again.files);
    }

    #[test]
    fn an_audit_is_shown_escaped_and_published() {
        use crate::audit::{audit, Context, Listing, SignedFile, SiteReleases};
        let url = |name: &str| url::Url::parse(&format!("https://files.example/{name}")).unwrap();
        let evil = "demo_pkg-9.0-py3-none-any.whl";
        let file = crate::index::IndexFile {
            filename: evil.into(),
            url: url(evil),
            sha256: Some(SHA.into()),
            upload_time: None,
            yanked: Some(crate::index::Yanked::Reason("oops \u{1b}[2K<b>".into())),
            requires_python: None,
            size: None,
            wheel: parse_wheel_filename(evil).ok(),
        };
        let releases = SiteReleases {
            key_url: "https://alice.example/keys/keys.json".into(),
            projects: vec!["demo-pkg".into(), "other".into()],
            releases: vec![SignedFile {
                project: "demo-pkg".into(),
                filename: F.into(),
                sha256: SHA.into(),
                log_index: None,
            }],
        };
        let listings = std::collections::BTreeMap::from([(
            "demo-pkg".to_string(),
            Listing::Files {
                page: "https://pypi.example/simple/demo-pkg/".into(),
                files: vec![file],
            },
        )]);
        let report = audit(
            Context {
                key_url: &releases.key_url,
                index: "https://pypi.example/simple/",
                checked_at: 1_767_225_600,
            },
            &releases,
            &listings,
        );
        let text = serde_json::to_vec(&report).unwrap();
        let k = keys(&[(1, None, None)]);
        let sigs = [release(P, sig(1, F, 1_750_000_000))];
        let site = build_with_log(&config(), &k, &sigs, &[], None, Some(&text), "t").unwrap();
        let html = &site.files[0].1;
        assert!(
            html.contains("<h2>Index audit</h2>")
                && html.contains("2026-01-01T00:00:00Z")
                && html.contains("<code>https://pypi.example/simple/</code>"),
            "{html}"
        );
        assert!(
            html.contains("<strong>FAIL</strong>")
                && html.contains("<code>unsigned-on-index</code>")
                && html.contains("<code>not-on-index</code>")
        );
        assert!(
            html.contains("(yanked: oops \\u{1b}[2K&lt;b&gt;)") && !html.contains('\u{1b}'),
            "escaped for the terminal rule, then for HTML"
        );
        assert!(html.contains("other (not on the index)"));
        let published = &site.files.iter().find(|(p, _)| p == AUDIT_FILE).unwrap().1;
        assert_eq!(
            crate::audit::AuditReport::parse(published.as_bytes()).unwrap(),
            report
        );
        assert!(
            site.files[1]
                .1
                .contains("\"projects\": [\n    \"demo-pkg\",\n    \"other\"\n  ]"),
            "releases.json lists the projects"
        );
        // Without an audit: no section, no audit.json.
        let plain = build(&config(), &k, &sigs, "t").unwrap();
        assert!(
            !plain.files[0].1.contains("Index audit")
                && plain.files.iter().all(|(p, _)| p != AUDIT_FILE)
        );
        // Another site's audit, or a malformed one, fails the build naming --audit.
        let other = serde_json::to_vec(&crate::audit::AuditReport {
            key_url: "https://mallory.example/keys.json".into(),
            ..report.clone()
        })
        .unwrap();
        let p: Vec<String> = build_with_log(&config(), &k, &sigs, &[], None, Some(&other), "t")
            .err()
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            p.len() == 1
                && p[0].starts_with(
                    "--audit: an audit of the key site https://mallory.example/keys.json"
                ),
            "{p:?}"
        );
        let p: Vec<String> = build_with_log(&config(), &k, &sigs, &[], None, Some(b"{}"), "t")
            .err()
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(p[0].starts_with("--audit: not an audit report"), "{p:?}");
        // An audit that could not be carried out says why.
        let good = crate::audit::AuditReport::failed(
            Context {
                key_url: &releases.key_url,
                index: "https://pypi.example/simple/",
                checked_at: 0,
            },
            "connection refused \u{202e}",
        );
        let html = build_with_log(
            &config(),
            &k,
            &sigs,
            &[],
            None,
            Some(&serde_json::to_vec(&good).unwrap()),
            "t",
        )
        .unwrap()
        .files[0]
            .1
            .clone();
        assert!(
            html.contains("could not be carried out: connection refused \\u{202e}"),
            "{html}"
        );
    }

    #[test]
    fn revoked_key_fails_the_build() {
        let p = problems(&keys(&[(2, None, None)]), &[release(P, sig(1, F, 1))]);
        assert_eq!(p.len(), 1);
        assert!(
            p[0].contains("which keys.json does not list (revoked?)"),
            "{p:?}"
        );
    }

    #[test]
    fn key_scoped_to_another_project_fails() {
        let p = problems(
            &keys(&[(1, Some(&["other"]), None)]),
            &[release(P, sig(1, F, 1))],
        );
        assert!(p[0].contains("is not listed for demo-pkg"), "{p:?}");
    }

    #[test]
    fn signature_after_retirement_fails_and_before_passes() {
        let k = keys(&[(1, None, Some(1000))]);
        assert!(problems(&k, &[release(P, sig(1, F, 1000))]).is_empty());
        let p = problems(&k, &[release(P, sig(1, F, 1001))]);
        assert!(p[0].contains("after its retirement"), "{p:?}");
    }

    #[test]
    fn wrong_place_or_wrong_file_or_garbage() {
        let k = keys(&[(1, None, None)]);
        let p = problems(
            &k,
            &[release(
                "releases/other/demo_pkg-1.0-py3-none-any.whl.jws",
                sig(1, F, 1),
            )],
        );
        assert!(
            p[0].contains("move the signature to releases/demo-pkg/"),
            "{p:?}"
        );
        let p = problems(
            &k,
            &[release(P, sig(1, "demo_pkg-2.0-py3-none-any.whl", 1))],
        );
        assert!(p[0].contains("the signature is for demo_pkg-2.0"), "{p:?}");
        let p = problems(&k, &[release(P, b"{\"payload\":".to_vec())]);
        assert!(p[0].starts_with(P) && p[0].contains("JSON"), "{p:?}");
        let p = problems(&k, &[release("releases/x.jws", sig(1, F, 1))]);
        assert!(p[0].contains("expected releases/<project>/"), "{p:?}");
        let mut tampered = sig(1, F, 1);
        let n = tampered.len();
        tampered[n - 10] = if tampered[n - 10] == b'A' { b'B' } else { b'A' };
        assert_eq!(problems(&k, &[release(P, tampered)]).len(), 1);
    }

    #[test]
    fn config_is_strict() {
        for (text, want) in [
            (
                r#"{"publisher":"a","site_url":"http://example.com/","projects":[]}"#,
                "must be https",
            ),
            (
                r#"{"publisher":"a","site_url":"https://x/?q","projects":[]}"#,
                "query",
            ),
            (
                r#"{"publisher":"","site_url":"https://x/","projects":[]}"#,
                "publisher",
            ),
            (
                r#"{"publisher":"a","site_url":"https://x/","projects":["a b"]}"#,
                "not a valid project",
            ),
            (
                r#"{"publisher":"a","site_url":"https://x/","projects":[],"extra":1}"#,
                "unexpected member",
            ),
            (
                r#"{"publisher":"a","publisher":"b","site_url":"https://x/","projects":[]}"#,
                "duplicate",
            ),
        ] {
            let e = Config::parse(text.as_bytes()).unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
        }
        let c = Config::parse(
            br#"{"publisher":"a","site_url":"http://127.0.0.1:8000/site","projects":["Foo.Bar"]}"#,
        )
        .unwrap();
        assert_eq!(
            (c.key_url().as_str(), c.projects[0].as_str()),
            ("http://127.0.0.1:8000/site/keys.json", "foo-bar")
        );
        assert_eq!(Config::parse(c.to_json().as_bytes()).unwrap(), c);
    }

    #[test]
    fn the_template_placeholders_are_refused_naming_the_field_to_edit() {
        // What static-site-template/site.json ships: parsed (site init, add-key work on it)...
        let template = include_bytes!("../../static-site-template/site.json");
        let c = Config::parse(template).unwrap();
        assert_eq!(
            (c.publisher.as_str(), c.site_url.as_str()),
            (TEMPLATE_PUBLISHER, TEMPLATE_SITE_URL)
        );
        // ...but never built: one problem per field, each saying which field to edit.
        let got: Vec<String> = build(template, br#"{"keys": []}"#, &[], "test")
            .err()
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].starts_with("site.json: `publisher` is still the template's placeholder \"Your Name\": edit site.json"), "{got:?}");
        assert!(got[1].starts_with("site.json: `site_url` is still the template's placeholder \"https://you.github.io/my-keys/\": edit site.json"), "{got:?}");
        // One placeholder left is still refused (without a trailing slash, or in other case, too).
        for (text, field) in [
            (
                r#"{"publisher":"Alice","site_url":"https://you.github.io/my-keys","projects":[]}"#,
                "`site_url`",
            ),
            (
                r#"{"publisher":" your name ","site_url":"https://alice.github.io/keys/","projects":[]}"#,
                "`publisher`",
            ),
        ] {
            let p = Config::parse(text.as_bytes()).unwrap().placeholders();
            assert!(p.len() == 1 && p[0].starts_with(field), "{text}: {p:?}");
        }
        // A described site has none; a name or address merely like them is fine.
        for text in [
            r#"{"publisher":"Your Name Ltd","site_url":"https://you.github.io/my-keys-2/","projects":[]}"#,
            r#"{"publisher":"Alice","site_url":"https://alice.github.io/my-keys/","projects":[]}"#,
        ] {
            assert_eq!(
                Config::parse(text.as_bytes()).unwrap().placeholders(),
                Vec::<String>::new(),
                "{text}"
            );
        }
        assert!(build(&config(), br#"{"keys": []}"#, &[], "test").is_ok());
    }

    mod log {
        use super::*;
        use crate::log::note::NoteSigner;

        const ORIGIN: &str = "alice.example/keys/log";
        const T: u64 = 1_760_000_000;

        fn signer() -> NoteSigner {
            NoteSigner::from_seed(ORIGIN, KeyKind::Ed25519, &[5; 32]).unwrap()
        }

        fn witness() -> NoteSigner {
            NoteSigner::from_seed("w.example/1", KeyKind::Cosignature, &[6; 32]).unwrap()
        }

        fn config() -> Vec<u8> {
            json!({"publisher": "A", "site_url": "https://alice.example/keys/", "projects": ["demo-pkg"],
                   "log": {"origin": ORIGIN, "vkey": signer().verifier().vkey()},
                   "witnesses": [{"vkey": witness().verifier().vkey(), "url": "https://w.example/1"}]})
            .to_string()
            .into_bytes()
        }

        fn leaf(sig: &SourceFile) -> ReleaseLeaf {
            let parsed = jws::parse(&sig.bytes, &None).unwrap();
            let file = parsed.payload().filename.clone().unwrap();
            let name = parse_wheel_filename(&file).unwrap();
            ReleaseLeaf {
                project: name.project,
                version: name.version,
                file,
                sha256: parsed.payload().file_sha256.clone().unwrap(),
                jws_sha256: hex(&Sha256::digest(&sig.bytes)),
                kid: key(1).public().kid(),
            }
        }

        /// A log of these entries: its files under log/ and its checkpoint (log-signed, and
        /// cosigned when `cosign`).
        fn files(entries: &[Vec<u8>], cosign: bool) -> (Log, Vec<SourceFile>, String) {
            let mut log = Log::new();
            for e in entries {
                log.append(e.clone()).unwrap();
            }
            let text = log.checkpoint(ORIGIN).text();
            let mut note = format!("{text}\n{}", signer().sign(&text).unwrap());
            if cosign {
                note.push_str(&witness().cosign(&text, T).unwrap());
            }
            let mut out: Vec<SourceFile> = log
                .files()
                .into_iter()
                .map(|(p, b)| release(&format!("log/{p}"), b))
                .collect();
            out.push(release(
                "log/vkey",
                format!("{}\n", signer().verifier().vkey()).into_bytes(),
            ));
            out.push(release("log/checkpoint", note.clone().into_bytes()));
            (log, out, note)
        }

        fn proof(log: &Log, index: u64, note: &str) -> SourceFile {
            let note = Note::parse(note.as_bytes()).unwrap();
            let p = TlogProof {
                extra: None,
                index,
                path: log.inclusion(index),
                checkpoint: Checkpoint::parse(note.text()).unwrap(),
                note,
            };
            release(&P.replace(".jws", PROOF_SUFFIX), p.to_text().into_bytes())
        }

        fn problems(
            sigs: &[SourceFile],
            log: &[SourceFile],
            previous: Option<&str>,
        ) -> Vec<String> {
            build_with_log(
                &config(),
                &keys(&[(1, None, None)]),
                sigs,
                log,
                previous.map(str::as_bytes),
                None,
                "t",
            )
            .err()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect()
        }

        #[test]
        fn a_logged_witnessed_release_builds_and_is_shown() {
            let sig = release(P, sig(1, F, 1_750_000_000));
            let (log, mut lf, note) = files(&[leaf(&sig).encode()], true);
            let proof = proof(&log, 0, &note);
            let site = build_with_log(
                &config(),
                &keys(&[(1, None, None)]),
                &[sig.clone(), proof.clone()],
                &lf,
                Some(note.as_bytes()),
                None,
                "t",
            )
            .unwrap();
            let summary = site.log.as_ref().unwrap();
            assert_eq!(
                (summary.size, summary.witnesses[0].cosigned),
                (1, Some(T as i64))
            );
            let r = &site.releases[0];
            assert_eq!(
                (r.log_index, r.proof.as_deref(), r.witnessed),
                (Some(0), Some(proof.path.as_str()), Some(T as i64))
            );
            let html = &site.files[0].1;
            assert!(
                html.contains("<h2>Release log</h2>")
                    && html.contains(ORIGIN)
                    && html.contains(&signer().verifier().vkey())
            );
            assert!(
                html.contains("2025-10-09T08:53:20Z"),
                "witness and release times shown"
            );
            assert!(site.files[1].1.contains("\"log_index\": 0"));
            // Not yet cosigned: still builds, shown as not yet witnessed.
            let (_, plain, _) = files(&[leaf(&sig).encode()], false);
            let site = build_with_log(
                &config(),
                &keys(&[(1, None, None)]),
                std::slice::from_ref(&sig),
                &plain,
                None,
                None,
                "t",
            )
            .unwrap();
            assert!(site.files[0].1.contains("not yet"));
            // A site without a log is unchanged: no log columns.
            assert!(!build(
                &super::config(),
                &keys(&[(1, None, None)]),
                std::slice::from_ref(&sig),
                "t"
            )
            .unwrap()
            .files[0]
                .1
                .contains("Log entry"));
            // Stale partial tiles of an earlier size are fine (C2SP keeps them); others are not.
            let other = leaf(&release(
                "releases/demo-pkg/demo_pkg-2.0-py3-none-any.whl.jws",
                super::sig(1, "demo_pkg-2.0-py3-none-any.whl", 1),
            ))
            .encode();
            let (_, mut lf2, _) = files(&[leaf(&sig).encode(), other], false);
            lf2.push(release("log/tile/0/000.p/1", log.leaves()[0].to_vec()));
            lf2.push(
                lf.iter()
                    .find(|f| f.path == "log/tile/entries/000.p/1")
                    .unwrap()
                    .clone(),
            );
            assert_eq!(
                problems(std::slice::from_ref(&sig), &lf2, None),
                Vec::<String>::new(),
                "a logged release whose signature was deleted is fine too"
            );
            lf2.push(release("log/tile/0/001", vec![0; 32]));
            assert!(problems(std::slice::from_ref(&sig), &lf2, None)[0]
                .contains("not a tile of this log"));
            lf.push(release("log/stray", vec![]));
            assert!(
                problems(&[sig], &lf, None)[0].starts_with("log/stray: not a file of a C2SP log")
            );
        }

        #[test]
        fn tampering_with_the_log_fails_the_build() {
            let sig = release(P, sig(1, F, 1_750_000_000));
            let (log, lf, note) = files(
                &[leaf(&sig).encode(), b"wheelsig-release/v1\n".to_vec()],
                true,
            );
            let p = problems(std::slice::from_ref(&sig), &lf, None);
            assert!(
                p.iter()
                    .any(|m| m.contains("entry 1: not a wheelsig release entry")),
                "{p:?}"
            );
            let (log1, lf1, note1) = files(&[leaf(&sig).encode()], true);
            let edit = |path: &str, f: &dyn Fn(&mut Vec<u8>)| -> Vec<SourceFile> {
                let mut v = lf1.clone();
                f(&mut v.iter_mut().find(|x| x.path == path).unwrap().bytes);
                v
            };
            let p = problems(
                std::slice::from_ref(&sig),
                &edit("log/tile/entries/000.p/1", &|b| b[40] ^= 1),
                None,
            );
            assert!(
                p.iter().any(|m| m.contains("an entry bundle was changed")),
                "{p:?}"
            );
            let p = problems(
                std::slice::from_ref(&sig),
                &edit("log/tile/0/000.p/1", &|b| b[0] ^= 1),
                None,
            );
            assert!(
                p.iter()
                    .any(|m| m.starts_with("log/tile/0/000.p/1: does not match")),
                "{p:?}"
            );
            let p = problems(
                std::slice::from_ref(&sig),
                &edit("log/checkpoint", &|b| {
                    *b = String::from_utf8(b.clone())
                        .unwrap()
                        .replacen("\n1\n", "\n2\n", 1)
                        .into_bytes()
                }),
                None,
            );
            assert!(p.iter().any(|m| m.starts_with("log/checkpoint:")), "{p:?}");
            let p = problems(
                std::slice::from_ref(&sig),
                &edit("log/vkey", &|b| b[0] ^= 1),
                None,
            );
            assert!(
                p.iter().any(|m| m.starts_with("log/vkey: does not hold")),
                "{p:?}"
            );
            // A proof: wrong index, bad path, or a checkpoint that is not a prefix.
            let mut bad = proof(&log1, 0, &note1);
            bad.bytes = String::from_utf8(bad.bytes)
                .unwrap()
                .replace("index 0", "index 1")
                .into_bytes();
            assert!(problems(&[sig.clone(), bad], &lf1, None)
                .iter()
                .any(|m| m.contains("a proof for entry 1")));
            let foreign = proof(&log, 0, &note);
            let p = problems(&[sig.clone(), foreign], &lf1, None);
            assert!(
                p.iter()
                    .any(|m| m.contains("inclusion proof") || m.contains("not a prefix")),
                "{p:?}"
            );
            let mut garbage = proof(&log1, 0, &note1);
            garbage.bytes = b"c2sp.org/tlog-proof@v1\nindex 0\n!!\n\nx\n".to_vec();
            assert!(problems(&[sig.clone(), garbage], &lf1, None)
                .iter()
                .any(|m| m.contains("not a tlog-proof")));
            // A cosignature that does not verify.
            let wrong = edit("log/checkpoint", &|b| {
                let n = b.len();
                b[n - 10] = if b[n - 10] == b'A' { b'B' } else { b'A' };
            });
            assert!(problems(&[sig], &wrong, None)
                .iter()
                .any(|m| m.contains("does not verify")));
        }

        #[test]
        fn releases_must_match_their_one_leaf() {
            let sig1 = release(P, sig(1, F, 1_750_000_000));
            let (_, lf, _) = files(&[], false);
            assert!(problems(std::slice::from_ref(&sig1), &lf, None)[0]
                .contains("is not in the release log"));
            let (_, lf, _) = files(&[leaf(&sig1).encode()], false);
            let resigned = release(P, sig(1, F, 1_750_000_001));
            let p = problems(std::slice::from_ref(&resigned), &lf, None);
            assert!(
                p[0].contains("has jws-sha256") && p[0].contains("cannot be changed"),
                "{p:?}"
            );
            let (_, lf, _) = files(&[leaf(&sig1).encode(), leaf(&resigned).encode()], false);
            assert!(problems(&[resigned], &lf, None)
                .iter()
                .any(|m| m.contains("logged 2 times")));
        }

        #[test]
        fn previous_must_be_a_prefix() {
            let sig = release(P, sig(1, F, 1_750_000_000));
            let a = leaf(&sig).encode();
            let (_, lf, note1) = files(std::slice::from_ref(&a), false);
            let (_, lf2, _) = files(&[a.clone(), b"wheelsig-release/v1\nproject x\nversion 1\nfile x\nsha256 0\njws-sha256 0\nkid k\n".to_vec()], false);
            assert!(problems(std::slice::from_ref(&sig), &lf2, Some(&note1))
                .iter()
                .all(|m| !m.contains("extension")));
            let other = release(
                "releases/demo-pkg/demo_pkg-2.0-py3-none-any.whl.jws",
                super::sig(1, "demo_pkg-2.0-py3-none-any.whl", 1),
            );
            let (_, fork, _) = files(&[leaf(&other).encode(), a], false);
            let p = problems(&[sig.clone(), other], &fork, Some(&note1));
            assert!(
                p.iter().any(
                    |m| m.contains("the log is not an extension of what is live")
                        && m.contains("fork")
                ),
                "{p:?}"
            );
            let (_, bigger_note) = {
                let (_, _, n) = files(&[leaf(&sig).encode(), leaf(&sig).encode()], false);
                ((), n)
            };
            assert!(
                problems(std::slice::from_ref(&sig), &lf, Some(&bigger_note))
                    .iter()
                    .any(|m| m.contains("entries were removed"))
            );
            let stranger = NoteSigner::from_seed(ORIGIN, KeyKind::Ed25519, &[9; 32]).unwrap();
            let text = Checkpoint::parse(Note::parse(note1.as_bytes()).unwrap().text())
                .unwrap()
                .text();
            let forged = format!("{text}\n{}", stranger.sign(&text).unwrap());
            assert!(problems(&[sig], &lf, Some(&forged))
                .iter()
                .any(|m| m.contains("not signed by this log's key")));
        }

        #[test]
        fn config_log_and_witnesses_are_strict() {
            let v = signer().verifier().vkey();
            let w = witness().verifier().vkey();
            let base = |extra: Value| {
                let mut c = json!({"publisher": "A", "site_url": "https://alice.example/keys", "projects": []});
                for (k, x) in extra.as_object().unwrap() {
                    c[k] = x.clone();
                }
                Config::parse(c.to_string().as_bytes())
            };
            let ok = base(json!({"log": {"origin": ORIGIN, "vkey": v}, "witnesses": [{"vkey": w, "url": "http://127.0.0.1:1"}]})).unwrap();
            assert_eq!(Config::parse(ok.to_json().as_bytes()).unwrap(), ok);
            assert_eq!(ok.witnesses[0].name(), "w.example/1");
            for (extra, want) in [
                (
                    json!({"log": {"origin": "x/log", "vkey": v}}),
                    "`log.origin`",
                ),
                (
                    json!({"log": {"origin": ORIGIN, "vkey": w}}),
                    "must be an Ed25519 note key",
                ),
                (
                    json!({"log": {"origin": ORIGIN, "vkey": v, "url": "x"}}),
                    "unexpected member",
                ),
                (
                    json!({"witnesses": [{"vkey": w, "url": "https://w/"}]}),
                    "has no `log`",
                ),
                (
                    json!({"log": {"origin": ORIGIN, "vkey": v}, "witnesses": [{"vkey": v, "url": "https://w/"}]}),
                    "cosignature/v1",
                ),
                (
                    json!({"log": {"origin": ORIGIN, "vkey": v}, "witnesses": [{"vkey": w, "url": "http://w.example/"}]}),
                    "must be https",
                ),
                (
                    json!({"log": {"origin": ORIGIN, "vkey": v}, "witnesses": [{"vkey": w, "url": "https://a/"}, {"vkey": w, "url": "https://b/"}]}),
                    "repeats witness",
                ),
            ] {
                let e = base(extra.clone()).unwrap_err();
                assert!(e.contains(want), "{extra}: {e}");
            }
            assert_eq!(
                log_origin("http://127.0.0.1:8000/demo/"),
                "127.0.0.1:8000/demo/log"
            );
        }
    }

    #[test]
    fn key_for_a_project_the_site_does_not_name() {
        let p = problems(&keys(&[(1, Some(&["stranger"]), None)]), &[]);
        assert!(
            p[0].contains("site.json's `projects` does not name"),
            "{p:?}"
        );
    }
}
