//! A publisher's audit of a package index: what the index serves for the projects of a key
//! site, compared with the releases the site signed (its `releases.json`, each release's
//! sha256 and release-log entry). Pure: the caller reads `releases.json` (or builds the site
//! from its sources, which writes the same file), fetches each project's index page
//! (`crate::index` parses it), and passes both in with the time it asked.
//!
//! Findings (docs/SPEC.md "Audit"), loudest first:
//!
//! | code | severity | what |
//! |---|---|---|
//! | `digest-mismatch` | fail | the index serves a signed file name with another sha256 |
//! | `unsigned-on-index` | fail | the index serves a wheel of a covered project that no release signed here covers |
//! | `not-on-index` | fail | a release signed here that the index does not list (a yanked file counts as listed) |
//! | `no-index-digest` | fail | the index lists a signed file name without a sha256, so it cannot be compared |
//! | `yanked` | info | a signed release the index serves with the same sha256, yanked |
//! | `sdist-not-covered` | info | a file other than a wheel (an sdist): key sites sign wheels only |
//!
//! The audit passes when no finding is a failure and it ran to the end (`error` absent).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::encoding::parse_json;
use crate::index::{IndexFile, Yanked};
use crate::names::{is_valid_project, normalize_project, parse_wheel_filename};

/// The audit report's schema version (`schema_version`), bumped on an incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Largest `releases.json` read (a site of [`crate::site::MAX_RELEASES`] releases is about
/// 60 MB of pretty JSON).
pub const MAX_RELEASES_JSON: usize = 96 << 20;

/// Largest audit report read back (by the site build's `--audit`).
pub const MAX_REPORT_BYTES: usize = 64 << 20;

/// One release a key site signed, as its `releases.json` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedFile {
    /// Normalized project name.
    pub project: String,
    /// The wheel's file name.
    pub filename: String,
    /// Lowercase hex sha256 of the wheel the signature binds.
    pub sha256: String,
    /// Its entry in the site's release log, when the site has one.
    pub log_index: Option<u64>,
}

/// What a key site says it signed: its `releases.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteReleases {
    /// The site's key URL (`<site_url>keys.json`).
    pub key_url: String,
    /// The projects the site covers (`site.json`'s `projects`; for a `releases.json` written
    /// before it listed them, the projects of its releases), normalized, sorted.
    pub projects: Vec<String>,
    /// Its releases.
    pub releases: Vec<SignedFile>,
}

#[derive(Deserialize)]
struct RawReleases {
    key_url: String,
    #[serde(default)]
    projects: Option<Vec<String>>,
    releases: Vec<RawRelease>,
}

#[derive(Deserialize)]
struct RawRelease {
    project: String,
    filename: String,
    sha256: String,
    #[serde(default)]
    log_index: Option<u64>,
}

/// Parse a key site's `releases.json` (docs/SPEC.md "Key site"): members the audit does not
/// use are allowed (the format grows), the ones it uses are checked: a key URL, valid project
/// names, wheel file names of their project, 64-hex-digit digests, each file name once.
pub fn parse_releases_json(bytes: &[u8]) -> Result<SiteReleases, String> {
    if bytes.len() > MAX_RELEASES_JSON {
        return Err(format!(
            "releases.json: {} bytes; the limit is {MAX_RELEASES_JSON}",
            bytes.len()
        ));
    }
    let value = parse_json(bytes).map_err(|e| format!("releases.json: not valid JSON: {e}"))?;
    let raw: RawReleases =
        serde_json::from_value(value).map_err(|e| format!("releases.json: {e}"))?;
    crate::urls::check_key_url(&raw.key_url, crate::urls::Loopback::Allow)
        .map_err(|e| format!("releases.json: `key_url`: {e}"))?;
    if raw.releases.len() > crate::site::MAX_RELEASES {
        return Err(format!(
            "releases.json: {} releases; the limit is {}",
            raw.releases.len(),
            crate::site::MAX_RELEASES
        ));
    }
    let mut projects = BTreeSet::new();
    for p in raw.projects.iter().flatten() {
        if !is_valid_project(p) {
            return Err(format!(
                "releases.json: `projects` entry {:?} is not a project name",
                crate::display::escape(p)
            ));
        }
        projects.insert(normalize_project(p));
    }
    let mut releases = Vec::with_capacity(raw.releases.len());
    let mut seen = BTreeSet::new();
    for (i, r) in raw.releases.into_iter().enumerate() {
        let at = |m: String| format!("releases.json: releases[{i}]: {m}");
        if !is_valid_project(&r.project) {
            return Err(at(format!(
                "project {:?} is not a project name",
                crate::display::escape(&r.project)
            )));
        }
        let project = normalize_project(&r.project);
        let name = parse_wheel_filename(&r.filename).map_err(|e| at(format!("filename: {e}")))?;
        if name.project != project {
            return Err(at(format!(
                "{} is a wheel of {}, not {project}",
                crate::display::escape(&r.filename),
                name.project
            )));
        }
        if r.sha256.len() != 64 || !r.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(at(format!(
                "sha256 {:?} is not 64 hex digits",
                crate::display::escape(&r.sha256)
            )));
        }
        if !seen.insert(r.filename.clone()) {
            return Err(at(format!(
                "{} is listed twice",
                crate::display::escape(&r.filename)
            )));
        }
        if raw.projects.is_none() {
            projects.insert(project.clone());
        }
        releases.push(SignedFile {
            project,
            filename: r.filename,
            sha256: r.sha256.to_ascii_lowercase(),
            log_index: r.log_index,
        });
    }
    // A release of a project the site does not name (a hand-made file) is audited all the same.
    projects.extend(releases.iter().map(|r| r.project.clone()));
    Ok(SiteReleases {
        key_url: raw.key_url,
        projects: projects.into_iter().collect(),
        releases,
    })
}

/// What the index said about one project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    /// Its project page (`page`, the URL it came from) lists these files.
    Files {
        /// The page's URL.
        page: String,
        /// The files it lists.
        files: Vec<IndexFile>,
    },
    /// The index has no such project (404 or 410 at `page`).
    NotFound {
        /// The page's URL.
        page: String,
    },
}

/// A finding's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// The index serves a signed file name with another sha256.
    DigestMismatch,
    /// The index serves a wheel of a covered project that no release signed here covers.
    UnsignedOnIndex,
    /// A signed release the index does not list.
    NotOnIndex,
    /// The index lists a signed file name without a sha256.
    NoIndexDigest,
    /// A signed release, served with the same sha256, yanked.
    Yanked,
    /// A file that is not a wheel: key sites sign wheels only.
    SdistNotCovered,
}

impl Code {
    /// The code as the report writes it (`digest-mismatch`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::DigestMismatch => "digest-mismatch",
            Code::UnsignedOnIndex => "unsigned-on-index",
            Code::NotOnIndex => "not-on-index",
            Code::NoIndexDigest => "no-index-digest",
            Code::Yanked => "yanked",
            Code::SdistNotCovered => "sdist-not-covered",
        }
    }

    /// Whether the finding fails the audit, or only informs.
    pub fn severity(self) -> Severity {
        match self {
            Code::DigestMismatch
            | Code::UnsignedOnIndex
            | Code::NotOnIndex
            | Code::NoIndexDigest => Severity::Fail,
            Code::Yanked | Code::SdistNotCovered => Severity::Info,
        }
    }
}

/// Whether a finding fails the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// The index and the key site disagree (exit 1).
    Fail,
    /// Said, not failed.
    Info,
}

/// One difference (or note) between the index and the key site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// What was found.
    pub code: Code,
    /// `fail` or `info` (the code decides).
    pub severity: Severity,
    /// The normalized project.
    pub project: String,
    /// The file name concerned.
    pub filename: String,
    /// One sentence saying what differs (file names from the index are quoted as given: escape
    /// before showing).
    pub message: String,
    /// The sha256 the key site's release binds, when there is one.
    pub signed_sha256: Option<String>,
    /// The sha256 the index lists, when it lists the file with one.
    pub index_sha256: Option<String>,
    /// The index lists the file as yanked (PEP 592).
    pub yanked: bool,
    /// The index's reason for yanking it, when it gives one.
    pub yanked_reason: Option<String>,
    /// The release's entry in the key site's release log.
    pub log_index: Option<u64>,
    /// Where the index serves the file.
    pub url: Option<String>,
}

/// The audit of one project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectAudit {
    /// The normalized project.
    pub project: String,
    /// Its index page.
    pub page: String,
    /// Whether the index has the project at all.
    pub listed: bool,
    /// Releases the key site signed.
    pub signed: usize,
    /// Wheels the index serves.
    pub index_wheels: usize,
    /// Other files (sdists) the index serves.
    pub index_other: usize,
    /// Signed releases the index serves with the same sha256.
    pub matching: usize,
    /// Failing findings for this project.
    pub failures: usize,
}

/// Totals over every project.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// Projects audited.
    pub projects: usize,
    /// Releases the key site signed.
    pub signed: usize,
    /// Wheels the index serves for those projects.
    pub index_wheels: usize,
    /// Other files (sdists) it serves.
    pub index_other: usize,
    /// Signed releases the index serves with the same sha256.
    pub matching: usize,
    /// Failing findings.
    pub failures: usize,
    /// Informational findings.
    pub notes: usize,
    /// Findings per code.
    pub counts: BTreeMap<Code, usize>,
}

/// Why the audit could not be carried out (the index or the site could not be read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportError {
    /// `error` (I/O, an index page that does not parse) or `usage`.
    pub kind: String,
    /// What went wrong.
    pub message: String,
}

/// The audit: JSON for `wheelsig audit --json`, the template's `audit.json`, and the input of
/// the key page's "Index audit" section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The key site's key URL.
    pub key_url: String,
    /// The index's simple API root.
    pub index: String,
    /// When the index was asked (Unix seconds, the caller's clock).
    pub checked_at: i64,
    /// No failing finding, and no error.
    pub passed: bool,
    /// Set when the audit could not be carried out; findings are then empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ReportError>,
    /// Totals.
    pub summary: Summary,
    /// Per project, sorted by name.
    pub projects: Vec<ProjectAudit>,
    /// Every finding, failures first (digest mismatches first of all), then by project and file.
    pub findings: Vec<Finding>,
}

/// Where the audit happened: which site, which index, when.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The key site's key URL.
    pub key_url: &'a str,
    /// The index's simple API root.
    pub index: &'a str,
    /// When the index was asked (Unix seconds).
    pub checked_at: i64,
}

fn yank(f: &IndexFile) -> (bool, Option<String>) {
    match &f.yanked {
        None => (false, None),
        Some(Yanked::Yes) => (true, None),
        Some(Yanked::Reason(r)) => (true, Some(r.clone())),
    }
}

fn yanked_words(f: &IndexFile) -> String {
    match &f.yanked {
        None => String::new(),
        Some(Yanked::Yes) => " (yanked)".into(),
        Some(Yanked::Reason(r)) => format!(" (yanked: {r})"),
    }
}

fn log_words(r: &SignedFile) -> String {
    r.log_index
        .map(|i| format!(" (release log entry {i})"))
        .unwrap_or_default()
}

/// Compare what the index serves with what the site signed. `listings` holds the index's
/// answer for every project of `site.projects`; a project without one counts as not on the
/// index.
pub fn audit(
    ctx: Context<'_>,
    site: &SiteReleases,
    listings: &BTreeMap<String, Listing>,
) -> AuditReport {
    let mut findings = Vec::new();
    let mut projects = Vec::new();
    let mut summary = Summary::default();
    let mut names: BTreeSet<&str> = site.projects.iter().map(String::as_str).collect();
    names.extend(site.releases.iter().map(|r| r.project.as_str()));
    for project in names {
        let signed: Vec<&SignedFile> = site
            .releases
            .iter()
            .filter(|r| r.project == project)
            .collect();
        let by_name: BTreeMap<&str, &SignedFile> =
            signed.iter().map(|r| (r.filename.as_str(), *r)).collect();
        let mut add = |code: Code,
                       filename: &str,
                       message: String,
                       signed: Option<&SignedFile>,
                       file: Option<&IndexFile>| {
            let (yanked, yanked_reason) = file.map(yank).unwrap_or((false, None));
            findings.push(Finding {
                code,
                severity: code.severity(),
                project: project.to_string(),
                filename: filename.to_string(),
                message,
                signed_sha256: signed.map(|r| r.sha256.clone()),
                index_sha256: file.and_then(|f| f.sha256.clone()),
                yanked,
                yanked_reason,
                log_index: signed.and_then(|r| r.log_index),
                url: file.map(|f| f.url.to_string()),
            });
        };
        let mut pa = ProjectAudit {
            project: project.to_string(),
            page: String::new(),
            listed: false,
            signed: signed.len(),
            index_wheels: 0,
            index_other: 0,
            matching: 0,
            failures: 0,
        };
        match listings.get(project) {
            None | Some(Listing::NotFound { .. }) => {
                if let Some(Listing::NotFound { page }) = listings.get(project) {
                    pa.page.clone_from(page);
                }
                for r in &signed {
                    add(
                        Code::NotOnIndex,
                        &r.filename,
                        format!(
                            "{} is signed here{}, but the index has no project {project}",
                            r.filename,
                            log_words(r)
                        ),
                        Some(r),
                        None,
                    );
                }
            }
            Some(Listing::Files { page, files }) => {
                pa.page.clone_from(page);
                pa.listed = true;
                let listed: BTreeSet<&str> = files.iter().map(|f| f.filename.as_str()).collect();
                for f in files {
                    let name = f.filename.as_str();
                    if !f.is_wheel() {
                        pa.index_other += 1;
                        add(Code::SdistNotCovered, name, format!("the index serves {name}{}, which is not a wheel: key sites sign wheels only", yanked_words(f)), None, Some(f));
                        continue;
                    }
                    pa.index_wheels += 1;
                    match (by_name.get(name), f.sha256.as_deref()) {
                        (None, _) => add(Code::UnsignedOnIndex, name, format!("the index serves {name}{}, which no release signed here covers", yanked_words(f)), None, Some(f)),
                        (Some(r), None) => add(Code::NoIndexDigest, name, format!("the index lists {name}{} without a sha256: it cannot be compared with the release signed here{}", yanked_words(f), log_words(r)), Some(r), Some(f)),
                        (Some(r), Some(h)) if h.eq_ignore_ascii_case(&r.sha256) => {
                            pa.matching += 1;
                            if f.yanked.is_some() {
                                add(Code::Yanked, name, format!("{name} is served with the sha256 signed here{}, and yanked{}", log_words(r), f.yanked.as_ref().and_then(|y| if let Yanked::Reason(s) = y { Some(format!(": {s}")) } else { None }).unwrap_or_default()), Some(r), Some(f));
                            }
                        }
                        (Some(r), Some(h)) => add(
                            Code::DigestMismatch,
                            name,
                            format!("the index serves {name}{} with sha256 {h}, but the release signed here{} has sha256 {}: not the file you signed", yanked_words(f), log_words(r), r.sha256),
                            Some(r),
                            Some(f),
                        ),
                    }
                }
                for r in signed
                    .iter()
                    .filter(|r| !listed.contains(r.filename.as_str()))
                {
                    add(
                        Code::NotOnIndex,
                        &r.filename,
                        format!(
                            "{} is signed here{}, but the index does not list it",
                            r.filename,
                            log_words(r)
                        ),
                        Some(r),
                        None,
                    );
                }
            }
        }
        summary.signed += pa.signed;
        summary.index_wheels += pa.index_wheels;
        summary.index_other += pa.index_other;
        summary.matching += pa.matching;
        projects.push(pa);
    }
    findings.sort_by(|a, b| {
        (a.severity, a.code, &a.project, &a.filename).cmp(&(
            b.severity,
            b.code,
            &b.project,
            &b.filename,
        ))
    });
    for f in &findings {
        *summary.counts.entry(f.code).or_default() += 1;
        match f.severity {
            Severity::Fail => summary.failures += 1,
            Severity::Info => summary.notes += 1,
        }
        if f.severity == Severity::Fail {
            if let Some(p) = projects.iter_mut().find(|p| p.project == f.project) {
                p.failures += 1;
            }
        }
    }
    summary.projects = projects.len();
    AuditReport {
        schema_version: SCHEMA_VERSION,
        key_url: ctx.key_url.to_string(),
        index: ctx.index.to_string(),
        checked_at: ctx.checked_at,
        passed: summary.failures == 0,
        error: None,
        summary,
        projects,
        findings,
    }
}

impl AuditReport {
    /// A report for an audit that could not be carried out: `passed` false, no findings.
    pub fn failed(ctx: Context<'_>, message: &str) -> AuditReport {
        AuditReport {
            schema_version: SCHEMA_VERSION,
            key_url: ctx.key_url.to_string(),
            index: ctx.index.to_string(),
            checked_at: ctx.checked_at,
            passed: false,
            error: Some(ReportError {
                kind: "error".into(),
                message: message.to_string(),
            }),
            summary: Summary::default(),
            projects: Vec::new(),
            findings: Vec::new(),
        }
    }

    /// Read a report back (the site build's `--audit`): strict JSON (no unknown or duplicate
    /// members), schema version 1, `passed` consistent with the findings.
    pub fn parse(bytes: &[u8]) -> Result<AuditReport, String> {
        if bytes.len() > MAX_REPORT_BYTES {
            return Err(format!(
                "{} bytes; the limit is {MAX_REPORT_BYTES}",
                bytes.len()
            ));
        }
        let value = parse_json(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
        match value.get("schema_version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(SCHEMA_VERSION) => {}
            Some(v) => return Err(format!("schema_version {v}: this wheelsig reads audit reports of schema_version {SCHEMA_VERSION}")),
            None => return Err("not an audit report (no schema_version)".into()),
        }
        let report: AuditReport =
            serde_json::from_value(value).map_err(|e| format!("not an audit report: {e}"))?;
        let fails = report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Fail)
            .count();
        if report
            .findings
            .iter()
            .any(|f| f.severity != f.code.severity())
        {
            return Err("a finding's severity is not its code's".into());
        }
        if report.passed != (fails == 0 && report.error.is_none()) {
            return Err(format!(
                "`passed` is {}, but it has {fails} failing finding(s){}",
                report.passed,
                if report.error.is_some() {
                    " and an error"
                } else {
                    ""
                }
            ));
        }
        Ok(report)
    }

    /// One line: `PASS: …` or `FAIL: …` (escape before printing: the index URL is the caller's).
    pub fn summary_line(&self) -> String {
        let s = &self.summary;
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        if let Some(e) = &self.error {
            return format!(
                "FAIL: the audit of {} could not be carried out: {}",
                self.index, e.message
            );
        }
        let scope = format!(
            "{}, {} signed, {} on the index",
            plural(s.projects, "project", "projects"),
            plural(s.signed, "release", "releases"),
            plural(s.index_wheels, "wheel", "wheels")
        );
        let notes = if s.notes == 0 {
            String::new()
        } else {
            format!("; {}", plural(s.notes, "note", "notes"))
        };
        if self.passed {
            format!("PASS: {} serves exactly the wheels signed here, with the same sha256 ({scope}{notes})", self.index)
        } else {
            let counts: Vec<String> = s
                .counts
                .iter()
                .filter(|(c, _)| c.severity() == Severity::Fail)
                .map(|(c, n)| format!("{n} {}", c.as_str()))
                .collect();
            format!(
                "FAIL: {} differ{} from {} ({}; {scope}{notes})",
                plural(s.failures, "finding", "findings"),
                if s.failures == 1 { "s" } else { "" },
                self.index,
                counts.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const CTX: Context<'static> = Context {
        key_url: "https://alice.example/keys/keys.json",
        index: "https://pypi.example/simple/",
        checked_at: 1_767_225_600,
    };

    fn signed(file: &str, sha: &str, log: Option<u64>) -> SignedFile {
        SignedFile {
            project: parse_wheel_filename(file).unwrap().project,
            filename: file.into(),
            sha256: sha.into(),
            log_index: log,
        }
    }

    fn file(name: &str, sha: Option<&str>, yanked: Option<Yanked>) -> IndexFile {
        IndexFile {
            filename: name.into(),
            url: Url::parse(&format!("https://files.example/{name}")).unwrap(),
            sha256: sha.map(str::to_string),
            upload_time: None,
            yanked,
            requires_python: None,
            size: None,
            wheel: parse_wheel_filename(name).ok(),
        }
    }

    fn site(projects: &[&str], releases: Vec<SignedFile>) -> SiteReleases {
        SiteReleases {
            key_url: CTX.key_url.into(),
            projects: projects.iter().map(|p| p.to_string()).collect(),
            releases,
        }
    }

    fn listed(project: &str, files: Vec<IndexFile>) -> (String, Listing) {
        (
            project.to_string(),
            Listing::Files {
                page: format!("https://pypi.example/simple/{project}/"),
                files,
            },
        )
    }

    fn codes(r: &AuditReport) -> Vec<(&str, &str)> {
        r.findings
            .iter()
            .map(|f| (f.code.as_str(), f.filename.as_str()))
            .collect()
    }

    #[test]
    fn all_agree_passes() {
        let s = site(
            &["demo"],
            vec![signed("demo-1.0-py3-none-any.whl", A, Some(0))],
        );
        let l = BTreeMap::from([listed(
            "demo",
            vec![file("demo-1.0-py3-none-any.whl", Some(A), None)],
        )]);
        let r = audit(CTX, &s, &l);
        assert!(r.passed && r.findings.is_empty(), "{r:?}");
        assert_eq!(
            (
                r.summary.matching,
                r.summary.signed,
                r.summary.index_wheels,
                r.projects[0].listed
            ),
            (1, 1, 1, true)
        );
        assert!(
            r.summary_line()
                .starts_with("PASS: https://pypi.example/simple/ serves exactly"),
            "{}",
            r.summary_line()
        );
    }

    #[test]
    fn every_difference_is_found_loudest_first() {
        let s = site(
            &["demo", "gone", "quiet"],
            vec![
                signed("demo-1.0-py3-none-any.whl", A, Some(0)),
                signed("demo-2.0-py3-none-any.whl", A, Some(1)),
                signed("demo-3.0-py3-none-any.whl", A, None),
                signed("demo-4.0-py3-none-any.whl", A, None),
                signed("demo-5.0-py3-none-any.whl", A, None),
                signed("gone-1.0-py3-none-any.whl", B, None),
            ],
        );
        let l = BTreeMap::from([
            listed(
                "demo",
                vec![
                    file("demo-1.0-py3-none-any.whl", Some(B), None),
                    file("demo-1.0.tar.gz", Some(A), None),
                    file(
                        "demo-2.0-py3-none-any.whl",
                        Some(&A.to_ascii_uppercase()),
                        Some(Yanked::Reason("broken\u{1b}[2K".into())),
                    ),
                    file("demo-3.0-py3-none-any.whl", None, None),
                    file(
                        "demo-4.0-py3-none-win_amd64.whl",
                        Some(A),
                        Some(Yanked::Yes),
                    ),
                    file("demo-5.0-py3-none-any.whl", Some(A), Some(Yanked::Yes)),
                ],
            ),
            (
                "gone".to_string(),
                Listing::NotFound {
                    page: "https://pypi.example/simple/gone/".into(),
                },
            ),
            listed("quiet", vec![]),
        ]);
        let r = audit(CTX, &s, &l);
        assert_eq!(
            codes(&r),
            [
                ("digest-mismatch", "demo-1.0-py3-none-any.whl"),
                ("unsigned-on-index", "demo-4.0-py3-none-win_amd64.whl"),
                ("not-on-index", "demo-4.0-py3-none-any.whl"),
                ("not-on-index", "gone-1.0-py3-none-any.whl"),
                ("no-index-digest", "demo-3.0-py3-none-any.whl"),
                ("yanked", "demo-2.0-py3-none-any.whl"),
                ("yanked", "demo-5.0-py3-none-any.whl"),
                ("sdist-not-covered", "demo-1.0.tar.gz"),
            ]
        );
        assert!(!r.passed);
        let m = &r.findings[0];
        assert_eq!(
            (
                m.signed_sha256.as_deref(),
                m.index_sha256.as_deref(),
                m.log_index
            ),
            (Some(A), Some(B), Some(0))
        );
        assert!(
            m.message.contains("not the file you signed")
                && m.message.contains("release log entry 0"),
            "{}",
            m.message
        );
        // Yanked files count as listed (no not-on-index for 2.0 or 5.0), and say so.
        let y = &r.findings[5];
        assert_eq!(
            (y.yanked, y.yanked_reason.as_deref()),
            (true, Some("broken\u{1b}[2K"))
        );
        assert!(r.findings[1].yanked && r.findings[1].message.contains("(yanked)"));
        assert!(r.findings[3]
            .message
            .contains("the index has no project gone"));
        assert_eq!(r.summary.counts.get(&Code::NotOnIndex), Some(&2));
        assert_eq!(
            (
                r.summary.failures,
                r.summary.notes,
                r.summary.matching,
                r.summary.index_other
            ),
            (5, 3, 2, 1)
        );
        let by: BTreeMap<&str, (&bool, &usize)> = r
            .projects
            .iter()
            .map(|p| (p.project.as_str(), (&p.listed, &p.failures)))
            .collect();
        assert_eq!(
            by,
            BTreeMap::from([
                ("demo", (&true, &4)),
                ("gone", (&false, &1)),
                ("quiet", (&true, &0))
            ])
        );
        let line = r.summary_line();
        assert!(line.starts_with("FAIL: 5 findings differ from https://pypi.example/simple/ (1 digest-mismatch, 1 unsigned-on-index, 2 not-on-index, 1 no-index-digest;"), "{line}");
        // Round trip through JSON, as `site build --audit` reads it.
        let text = serde_json::to_string_pretty(&r).unwrap();
        assert_eq!(AuditReport::parse(text.as_bytes()).unwrap(), r);
    }

    #[test]
    fn info_only_passes_and_a_project_missing_from_listings_is_not_on_the_index() {
        let s = site(&["demo"], vec![]);
        let l = BTreeMap::from([listed("demo", vec![file("demo-1.0.tar.gz", Some(A), None)])]);
        let r = audit(CTX, &s, &l);
        assert!(r.passed && r.summary.notes == 1, "{r:?}");
        let s = site(&[], vec![signed("demo-1.0-py3-none-any.whl", A, None)]);
        assert_eq!(
            codes(&audit(CTX, &s, &BTreeMap::new())),
            [("not-on-index", "demo-1.0-py3-none-any.whl")]
        );
    }

    #[test]
    fn reports_read_back_strictly() {
        let r = audit(
            CTX,
            &site(&["demo"], vec![]),
            &BTreeMap::from([listed(
                "demo",
                vec![file("demo-1.0-py3-none-any.whl", Some(A), None)],
            )]),
        );
        let mut v = serde_json::to_value(&r).unwrap();
        assert!(AuditReport::parse(v.to_string().as_bytes()).is_ok());
        v["passed"] = serde_json::Value::Bool(true);
        assert!(AuditReport::parse(v.to_string().as_bytes())
            .unwrap_err()
            .contains("`passed` is true"));
        v["passed"] = serde_json::Value::Bool(false);
        v["findings"][0]["severity"] = "info".into();
        assert!(AuditReport::parse(v.to_string().as_bytes())
            .unwrap_err()
            .contains("severity"));
        v["findings"][0]["severity"] = "fail".into();
        v["extra"] = 1.into();
        assert!(AuditReport::parse(v.to_string().as_bytes())
            .unwrap_err()
            .contains("unknown field"));
        v.as_object_mut().unwrap().remove("extra");
        v["schema_version"] = 2.into();
        assert!(AuditReport::parse(v.to_string().as_bytes())
            .unwrap_err()
            .contains("schema_version 2"));
        assert!(
            AuditReport::parse(br#"{"schema_version":1,"schema_version":1}"#)
                .unwrap_err()
                .contains("duplicate")
        );
        let failed = AuditReport::failed(CTX, "pypi.example: connection refused");
        let back = AuditReport::parse(serde_json::to_string(&failed).unwrap().as_bytes()).unwrap();
        assert!(
            !back.passed
                && back
                    .summary_line()
                    .contains("could not be carried out: pypi.example: connection refused")
        );
    }

    #[test]
    fn releases_json_is_read_as_site_build_writes_it() {
        let text = r#"{"key_url": "https://alice.example/keys/keys.json", "projects": ["Demo_Pkg", "other"],
            "releases": [{"project": "demo-pkg", "version": "1.0", "filename": "demo_pkg-1.0-py3-none-any.whl",
                          "sha256": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "kid": "k", "iat": 1,
                          "signature": "releases/demo-pkg/demo_pkg-1.0-py3-none-any.whl.jws", "log_index": 3}],
            "log": {"origin": "x"}}"#;
        let s = parse_releases_json(text.as_bytes()).unwrap();
        assert_eq!(s.projects, ["demo-pkg", "other"]);
        assert_eq!(
            s.releases,
            [SignedFile {
                project: "demo-pkg".into(),
                filename: "demo_pkg-1.0-py3-none-any.whl".into(),
                sha256: A.into(),
                log_index: Some(3)
            }]
        );
        // Without `projects` (written before it was listed): the releases' projects.
        let old = text.replace(r#""projects": ["Demo_Pkg", "other"],"#, "");
        assert_eq!(
            parse_releases_json(old.as_bytes()).unwrap().projects,
            ["demo-pkg"]
        );
        for (from, to, want) in [
            (
                "demo-pkg\", \"version",
                "other\", \"version",
                "is a wheel of demo-pkg, not other",
            ),
            (
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                "A",
                "not 64 hex digits",
            ),
            ("https://alice", "http://alice", "key_url"),
            (
                "\"filename\": \"demo_pkg-1.0-py3-none-any.whl\"",
                "\"filename\": \"demo_pkg-1.0.tar.gz\"",
                "filename",
            ),
            ("\"Demo_Pkg\"", "\"no good\"", "not a project name"),
        ] {
            let e = parse_releases_json(text.replace(from, to).as_bytes()).unwrap_err();
            assert!(e.contains(want), "{from}: {e}");
        }
    }
}
