//! `wheelsig audit`: compare what a package index serves for a key site's projects with the
//! releases the site signed. The comparison is the core's (`wheelsig::audit`); this module
//! gets the site's `releases.json` (fetched next to the key URL, or built from the sources as
//! `site build` does) and each project's index page, and prints the result.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use url::Url;
use wheelsig::audit::{self, AuditReport, Context, Listing, Severity, SiteReleases};
use wheelsig::display::escape;
use wheelsig::urls::Loopback;

use crate::cli::{fetch, index, site};
use crate::{now, Failure, JSON_SCHEMA};

/// `wheelsig audit`'s arguments.
#[derive(Args)]
pub struct AuditArgs {
    /// The package index to audit: its simple API root (https; http only on loopback)
    #[arg(long, value_name = "URL", default_value = "https://pypi.org/simple/")]
    index: String,
    /// The key site's key URL: its releases.json, next to keys.json, says what was signed
    #[arg(
        long,
        value_name = "URL",
        required_unless_present = "site",
        conflicts_with = "site"
    )]
    key_url: Option<String>,
    /// Audit a key site's sources instead: checked and built in memory as `site build` does
    #[arg(long, value_name = "DIR")]
    site: Option<PathBuf>,
    /// Print the JSON report (schema_version 1), errors too
    #[arg(long)]
    json: bool,
}

/// Help after the options.
pub const AUDIT_HELP: &str = "\
Findings: digest-mismatch (the index serves a signed file name with another sha256),
unsigned-on-index (a wheel no release signed here covers), not-on-index (a signed release the
index does not list; yanked files count as listed), no-index-digest; notes (not failures):
yanked, sdist-not-covered.

Exit codes: 0 the index and the key site agree, 1 they differ, 2 usage or I/O error (with
--json, reported as JSON too).

Examples:
  wheelsig audit --index https://pypi.org/simple/ --key-url https://alice.github.io/keys/keys.json
  wheelsig audit --site my-keys --json | jq '.findings'";

/// Run `wheelsig audit`.
pub fn run(args: &AuditArgs) -> Result<ExitCode, Failure> {
    match audit_cmd(args) {
        Ok(code) => Ok(code),
        Err(Failure(message)) if args.json => {
            let doc = serde_json::json!({"schema_version": JSON_SCHEMA, "error": {"kind": "error", "message": message}});
            println!("{}", serde_json::to_string_pretty(&doc)?);
            Ok(ExitCode::from(2))
        }
        Err(e) => Err(e),
    }
}

/// The site's releases.json, fetched next to the key URL.
fn fetched_releases(key_url: &str) -> Result<SiteReleases, Failure> {
    let key_url = wheelsig::urls::check_key_url(key_url, Loopback::Allow)
        .map_err(|e| format!("--key-url: {e}"))?;
    let url = key_url
        .join("releases.json")
        .map_err(|e| format!("{key_url}: {e}"))?;
    let bytes = match fetch::get(&url, audit::MAX_RELEASES_JSON)? {
        fetch::Fetched::Body(b) => b,
        fetch::Fetched::NotFound => return Err(Failure(format!("{url}: not found (404): a key site publishes releases.json next to keys.json (`wheelsig site build` writes it)"))),
    };
    let site = audit::parse_releases_json(&bytes).map_err(|e| format!("{url}: {e}"))?;
    if site.key_url != key_url.as_str() {
        return Err(Failure(format!(
            "{url} describes the key site {}, not {key_url}",
            escape(&site.key_url)
        )));
    }
    Ok(site)
}

/// The releases.json a build of the site's sources writes (every signature checked).
fn built_releases(dir: &Path) -> Result<SiteReleases, Failure> {
    let src = site::read_sources(dir)?;
    let built = wheelsig::site::build_with_log(&src.config, &src.keys, &src.releases, &src.log, None, None, env!("CARGO_PKG_VERSION")).map_err(|problems| {
        let first = problems.first().map(ToString::to_string).unwrap_or_default();
        Failure(format!("{}: the site does not build ({} problem{}; `wheelsig site build` lists them), first: {first}", dir.display(), problems.len(), if problems.len() == 1 { "" } else { "s" }))
    })?;
    let text = built
        .files
        .iter()
        .find(|(p, _)| p == "releases.json")
        .map(|(_, t)| t.as_str())
        .unwrap_or_default();
    audit::parse_releases_json(text.as_bytes()).map_err(Failure)
}

fn audit_cmd(args: &AuditArgs) -> Result<ExitCode, Failure> {
    let index =
        Url::parse(&args.index).map_err(|e| format!("--index {}: {e}", escape(&args.index)))?;
    wheelsig::index::check_index_url(&index).map_err(|e| format!("--index: {e}"))?;
    let site = match (&args.key_url, &args.site) {
        (Some(u), None) => fetched_releases(u)?,
        (None, Some(dir)) => built_releases(dir)?,
        _ => return Err(Failure("give --key-url URL or --site DIR".into())),
    };
    let ctx = Context {
        key_url: &site.key_url,
        index: &args.index,
        checked_at: now(),
    };
    let mut listings = BTreeMap::new();
    let mut errors = Vec::new();
    for project in &site.projects {
        match index::listed_page(&index, project) {
            Ok(Some((page, files))) => {
                listings.insert(
                    project.clone(),
                    Listing::Files {
                        page: page.to_string(),
                        files,
                    },
                );
            }
            Ok(None) => {
                let page =
                    wheelsig::index::project_url(&index, project).map_err(|e| e.to_string())?;
                listings.insert(
                    project.clone(),
                    Listing::NotFound {
                        page: page.to_string(),
                    },
                );
            }
            Err(e) => errors.push(e),
        }
    }
    let report = if errors.is_empty() {
        audit::audit(ctx, &site, &listings)
    } else {
        AuditReport::failed(ctx, &errors.join("; "))
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if let Some(e) = &report.error {
        return Err(Failure(format!(
            "the audit of {} could not be carried out: {}",
            args.index, e.message
        )));
    } else {
        let mut out = std::io::stdout().lock();
        for f in &report.findings {
            let note = if f.severity == Severity::Info {
                "note: "
            } else {
                ""
            };
            writeln!(out, "{note}{}: {}", f.code.as_str(), escape(&f.message))?;
        }
        writeln!(out, "{}", escape(&report.summary_line()))?;
    }
    Ok(if report.error.is_some() {
        ExitCode::from(2)
    } else if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
