//! Trust sources and the trust decision (docs/SPEC.md "Verdicts" and "How sources combine").
//!
//! Keys come only from trust sources the caller names: JWK Sets (from a key URL, a file, a
//! dependency key list, or a key URL the user chose on first use for one project), pins
//! (project → key ids) and the trust-on-first-use store. A key in a signature header is never
//! trusted by itself. Every edge (CLI, `lock`, the wasm binding) builds its policy through
//! [`TrustBuilder`], which validates each input, and asks [`TrustPolicy`] both for the
//! verdict and for where a release's signature may be looked up.
//!
//! Precedence, revocation always wins:
//! 1. A key source that *covers* a project (lists a key for it, or a key with no `projects`)
//!    is authoritative. A key it lists only for other projects, lists retired before the
//!    signature's time, or does not list while naming the project explicitly, is rejected:
//!    nothing else overrides that (not a pin, not a remembered first-use key).
//! 2. A key source that covers the project only through unscoped keys and simply does not
//!    list the key rejects it unless another covering source accepts it (so key URLs of
//!    several publishers can be combined); with no acceptance the wheel is `untrusted`.
//! 3. Pins only narrow: the key must be pinned *and* pass the covering sources.
//! 4. First use applies only where no source covers the project.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

use crate::keys::{KeySet, KeySetError, ListedKey, PublicKey};
use crate::names::{is_valid_project, normalize_project};
use crate::report::{Code, Problem, Report, TrustKind, TrustedBy, Verdict};
use crate::urls::{self, Loopback, UrlError};

/// A JWK Set, where it came from, and which projects it speaks for.
#[derive(Debug, Clone)]
pub struct KeySource {
    kind: TrustKind,
    source: String,
    set: KeySet,
    /// `Some(project)`: the set speaks for that project only (a key URL chosen on first use).
    only: Option<String>,
    /// The key URL, when the set was fetched from one whose site publishes signatures.
    site: Option<url::Url>,
}

impl KeySource {
    /// `KeyUrl`, `KeyFile` or `ChosenKeyUrl`.
    pub fn kind(&self) -> TrustKind {
        self.kind
    }

    /// The URL or file path, for reports.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The keys.
    pub fn set(&self) -> &KeySet {
        &self.set
    }

    fn speaks_for(&self, project: &str) -> bool {
        self.only.as_deref().is_none_or(|p| p == project)
    }

    /// Whether this source is authoritative for `project`.
    pub fn covers(&self, project: &str) -> bool {
        self.speaks_for(project)
            && (self.only.is_some() || self.set.keys.iter().any(|k| k.covers(project)))
    }

    /// Whether this source names `project` explicitly (a key's `projects`, or a first-use
    /// choice for it), so silence about a key is a statement.
    fn names(&self, project: &str) -> bool {
        self.speaks_for(project)
            && (self.only.is_some()
                || self.set.keys.iter().any(|k| {
                    k.projects
                        .as_ref()
                        .is_some_and(|p| p.iter().any(|n| n == project))
                }))
    }

    fn listed(&self, key: &PublicKey) -> Option<&ListedKey> {
        self.set.keys.iter().find(|k| k.key == *key)
    }
}

/// A remembered first-use key for a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirstUse {
    /// Key id (RFC 7638 thumbprint).
    pub kid: String,
    /// The public JWK, for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwk: Option<serde_json::Value>,
    /// The key's fingerprint, for display (the browser keeps it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// When it was first seen (RFC 3339 or any display string the caller chose).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// The key URL hint seen with it, if any (shown, never fetched by itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_url: Option<String>,
}

/// Why a trust input was refused. The caller adds where it came from (a file and line, a flag).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustError {
    /// A JWK Set did not parse or failed its checks.
    KeySet {
        /// The URL or path.
        source: String,
        /// What is wrong with it.
        error: KeySetError,
    },
    /// A URL was refused by the URL rules.
    Url(UrlError),
    /// A project name is not valid (PEP 508).
    Project(String),
    /// A key id is not a base64url RFC 7638 thumbprint.
    Kid(String),
}

impl fmt::Display for TrustError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrustError::KeySet { source, error } => {
                write!(f, "{}: {error}", crate::display::escape(source))
            }
            TrustError::Url(e) => write!(f, "{e}"),
            TrustError::Project(p) => write!(
                f,
                "{:?} is not a valid project name",
                crate::display::escape(p)
            ),
            TrustError::Kid(k) => write!(
                f,
                "{:?} is not a key id (43 base64url characters, an RFC 7638 thumbprint)",
                crate::display::escape(k)
            ),
        }
    }
}

impl std::error::Error for TrustError {}

/// Whether `kid` has the shape of an RFC 7638 SHA-256 thumbprint in base64url.
fn check_kid(kid: &str) -> Result<(), TrustError> {
    if kid.len() == 43
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(())
    } else {
        Err(TrustError::Kid(kid.to_string()))
    }
}

fn project_name(project: &str) -> Result<String, TrustError> {
    if is_valid_project(project) {
        Ok(normalize_project(project))
    } else {
        Err(TrustError::Project(project.to_string()))
    }
}

/// Builds a [`TrustPolicy`], validating every input.
#[derive(Debug, Clone, Default)]
pub struct TrustBuilder {
    policy: TrustPolicy,
}

impl TrustBuilder {
    /// An empty policy: nothing trusted.
    pub fn new() -> Self {
        TrustBuilder::default()
    }

    /// A JWK Set read from a local file (a key file, or a dependency key list that
    /// `wheelsig lock` wrote). Its keys' `key_url`s are where their signatures are looked up.
    pub fn key_file(&mut self, path: &str, bytes: &[u8]) -> Result<&mut Self, TrustError> {
        self.push(TrustKind::KeyFile, path.to_string(), bytes, None, None)
    }

    /// A JWK Set fetched from `url` (checked with [`urls::check_key_url`]); its site is asked
    /// for the signatures of the projects it covers.
    pub fn key_url(&mut self, url: &str, bytes: &[u8]) -> Result<&mut Self, TrustError> {
        let u = urls::check_key_url(url, Loopback::Allow).map_err(TrustError::Url)?;
        self.push(TrustKind::KeyUrl, u.to_string(), bytes, None, Some(u))
    }

    /// A JWK Set fetched from a key URL the user chose on first use for `project` only (in
    /// the browser: "trust keys from this signer's key URL for this project"). It covers that
    /// project and nothing else, and is as final as any key URL.
    pub fn chosen_key_url(
        &mut self,
        project: &str,
        url: &str,
        bytes: &[u8],
    ) -> Result<&mut Self, TrustError> {
        let project = project_name(project)?;
        let u = urls::check_key_url(url, Loopback::Allow).map_err(TrustError::Url)?;
        self.push(
            TrustKind::ChosenKeyUrl,
            u.to_string(),
            bytes,
            Some(project),
            Some(u),
        )
    }

    fn push(
        &mut self,
        kind: TrustKind,
        source: String,
        bytes: &[u8],
        only: Option<String>,
        site: Option<url::Url>,
    ) -> Result<&mut Self, TrustError> {
        let set = KeySet::parse(bytes).map_err(|error| TrustError::KeySet {
            source: source.clone(),
            error,
        })?;
        self.policy.key_sets.push(KeySource {
            kind,
            source,
            set,
            only,
            site,
        });
        Ok(self)
    }

    /// An already parsed key set read from a file (the site builder and tests).
    pub fn parsed_key_file(&mut self, path: &str, set: KeySet) -> &mut Self {
        self.policy.key_sets.push(KeySource {
            kind: TrustKind::KeyFile,
            source: path.to_string(),
            set,
            only: None,
            site: None,
        });
        self
    }

    /// Pin `project` to `kid`: only pinned keys can be trusted for it (pins never widen trust).
    pub fn pin(&mut self, project: &str, kid: &str) -> Result<&mut Self, TrustError> {
        let project = project_name(project)?;
        check_kid(kid)?;
        let list = self.policy.pins.entry(project).or_default();
        if !list.iter().any(|k| k == kid) {
            list.push(kid.to_string());
        }
        Ok(self)
    }

    /// A key remembered on first use for `project`.
    pub fn first_use(&mut self, project: &str, entry: FirstUse) -> Result<&mut Self, TrustError> {
        let project = project_name(project)?;
        check_kid(&entry.kid)?;
        self.policy.first_use.insert(project, entry);
        Ok(self)
    }

    /// Whether a key list's `key_url` may be plain http on loopback (testing only).
    pub fn loopback_in_lists(&mut self, loopback: Loopback) -> &mut Self {
        self.policy.loopback_in_lists = loopback;
        self
    }

    /// The policy.
    pub fn build(&self) -> TrustPolicy {
        self.policy.clone()
    }
}

/// Everything the caller trusts. Built with [`TrustBuilder`].
#[derive(Debug, Clone, Default)]
pub struct TrustPolicy {
    key_sets: Vec<KeySource>,
    pins: BTreeMap<String, Vec<String>>,
    first_use: BTreeMap<String, FirstUse>,
    loopback_in_lists: Loopback,
}

/// A cryptographically valid signature to judge.
#[derive(Debug, Clone, Copy)]
pub struct ValidSignature<'a> {
    /// The signing key.
    pub key: &'a PublicKey,
    /// Signer-claimed signing time.
    pub iat: Option<i64>,
    /// When a witness quorum vouches the release existed (the log's cosigned checkpoint), if
    /// it was checked. It beats `iat` for retirement: the signer cannot backdate it.
    pub witnessed: Option<i64>,
}

/// The trust decision for one wheel.
#[derive(Debug, Clone)]
pub struct TrustDecision {
    /// `trusted`, `signed`, `unsigned`, `untrusted` or `key-changed`.
    pub verdict: Verdict,
    /// Per signature (same order as given): the source that accepted it, and retirement.
    pub accepted: Vec<Option<(TrustedBy, Option<i64>)>>,
    /// Trust problems (codes `trust-*`).
    pub problems: Vec<Problem>,
}

/// What one source says about one signature.
enum Judgement {
    /// Accepted; the key's retirement time, if any.
    Accept(Option<i64>),
    /// Rejected by an explicit statement (retired, other projects, or named project without
    /// this key): final.
    Reject(Problem),
    /// Not listed by a source that covers the project only through unscoped keys.
    NotListed(Problem),
    /// The source says nothing about this project.
    Silent,
}

impl TrustPolicy {
    /// The key sets, in the order given.
    pub fn key_sets(&self) -> &[KeySource] {
        &self.key_sets
    }

    /// The first-use entries (normalized project → key).
    pub fn first_use(&self) -> &BTreeMap<String, FirstUse> {
        &self.first_use
    }

    /// Whether any key source covers `project` (so first use does not apply to it).
    pub fn covered(&self, project: &str) -> bool {
        self.key_sets.iter().any(|s| s.covers(project))
    }

    /// Whether an unsigned wheel of `project` is a downgrade: a pin, a first-use entry, or a
    /// source naming the project explicitly.
    fn expects_signature(&self, project: &str) -> bool {
        self.pins.contains_key(project)
            || self.first_use.contains_key(project)
            || self.key_sets.iter().any(|s| s.names(project))
    }

    /// Where a detached signature of `file_name` (a wheel of `project`) may be published:
    /// the site of each key URL that covers the project, and the `key_url` of each listed key
    /// that covers it. Sources that do not cover the project are never asked, so a key site
    /// does not learn the rest of a dependency list. Returns the URLs and a warning per
    /// `key_url` that the URL rules refuse.
    pub fn signature_urls(&self, project: &str, file_name: &str) -> (Vec<url::Url>, Vec<String>) {
        let mut sites: Vec<url::Url> = Vec::new();
        let mut warnings = Vec::new();
        for s in self.key_sets.iter().filter(|s| s.covers(project)) {
            if let Some(site) = &s.site {
                if !sites.contains(site) {
                    sites.push(site.clone());
                }
            }
            for k in s.set.keys.iter().filter(|k| {
                k.projects
                    .as_ref()
                    .is_some_and(|p| p.iter().any(|n| n == project))
            }) {
                let Some(u) = &k.key_url else { continue };
                match urls::check_key_url(u, self.loopback_in_lists) {
                    Ok(url) if !sites.contains(&url) => sites.push(url),
                    Ok(_) => {}
                    Err(e) => warnings.push(format!(
                        "{}: the key_url listed for {project} cannot be used: {e}",
                        crate::display::escape(&s.source)
                    )),
                }
            }
        }
        let mut out = Vec::new();
        for site in &sites {
            match urls::release_url(site, project, file_name) {
                Ok(u) => out.push(u),
                Err(e) => warnings.push(e.to_string()),
            }
        }
        (out, warnings)
    }

    fn judge(
        &self,
        s: &KeySource,
        sig: &ValidSignature<'_>,
        project: &str,
        now: Option<i64>,
    ) -> Judgement {
        if !s.speaks_for(project) {
            return Judgement::Silent;
        }
        let kid = sig.key.kid();
        let src = crate::display::escape(&s.source);
        match s.listed(sig.key) {
            Some(listed) if s.only.is_some() || listed.covers(project) => match listed.exp {
                None => Judgement::Accept(None),
                Some(exp) if sig.witnessed.is_some_and(|w| w <= exp) => Judgement::Accept(Some(exp)),
                Some(exp) => match sig.iat {
                    Some(iat) if now.is_some_and(|n| iat > n) => Judgement::Reject(Problem::file(
                        Code::TrustKeyRetired,
                        format!("key {kid} was retired at {} by {src}; this signature claims a signing time in the future ({}), which cannot count as before the retirement", crate::time::format(exp), crate::time::format(iat)),
                    )),
                    Some(iat) if iat <= exp => Judgement::Accept(Some(exp)),
                    Some(iat) => Judgement::Reject(Problem::file(
                        Code::TrustKeyRetired,
                        format!("key {kid} was retired at {} by {src}; this signature claims to be made at {}", crate::time::format(exp), crate::time::format(iat)),
                    )),
                    None => Judgement::Reject(Problem::file(Code::TrustKeyRetired, format!("key {kid} was retired at {} by {src}; this signature has no signing time", crate::time::format(exp)))),
                },
            },
            Some(listed) => Judgement::Reject(Problem::file(
                Code::TrustProjectScope,
                format!("key {kid} is listed by {src} only for {}, not {project}", listed.projects.as_deref().unwrap_or_default().join(", ")),
            )),
            None if s.names(project) => Judgement::Reject(Problem::file(Code::TrustKeyNotListed, format!("key {kid} is not listed for {project} by {src} (removed keys are revoked)"))),
            None if s.covers(project) => Judgement::NotListed(Problem::file(Code::TrustKeyNotListed, format!("key {kid} is not listed by {src}"))),
            None => Judgement::Silent,
        }
    }

    /// Decide trust for `project` (normalized) given its valid signatures. `now` (Unix
    /// seconds), when known, refuses signing times in the future for retired keys.
    pub fn decide(
        &self,
        project: &str,
        sigs: &[ValidSignature<'_>],
        now: Option<i64>,
    ) -> TrustDecision {
        let mut problems = Vec::new();
        if sigs.is_empty() {
            if self.expects_signature(project) {
                problems.push(Problem::file(Code::TrustUnsignedDowngrade, format!("{project} is pinned, remembered or listed by a trust source, but this wheel is unsigned")));
                return TrustDecision {
                    verdict: Verdict::Untrusted,
                    accepted: Vec::new(),
                    problems,
                };
            }
            return TrustDecision {
                verdict: Verdict::Unsigned,
                accepted: Vec::new(),
                problems,
            };
        }
        let covered = self.covered(project);
        let pins = self.pins.get(project);
        let mut accepted = Vec::with_capacity(sigs.len());
        let mut weak = Vec::new();
        for sig in sigs {
            let kid = sig.key.kid();
            if let Some(pinned) = pins {
                if !pinned.contains(&kid) {
                    problems.push(Problem::file(
                        Code::TrustNotPinned,
                        format!(
                            "{project} is pinned to {}, but signed by {kid}",
                            pinned.join(", ")
                        ),
                    ));
                    accepted.push(None);
                    continue;
                }
            }
            let mut accept: Option<(TrustedBy, Option<i64>)> = None;
            let mut rejected = false;
            let mut not_listed = Vec::new();
            for s in &self.key_sets {
                match self.judge(s, sig, project, now) {
                    Judgement::Accept(exp) => {
                        accept.get_or_insert((
                            TrustedBy {
                                kind: s.kind,
                                source: s.source.clone(),
                            },
                            exp,
                        ));
                    }
                    Judgement::Reject(p) => {
                        problems.push(p);
                        rejected = true;
                    }
                    Judgement::NotListed(p) => not_listed.push(p),
                    Judgement::Silent => {}
                }
            }
            let verdict_for_sig = if rejected {
                None
            } else if let Some(a) = accept {
                Some(a)
            } else if !not_listed.is_empty() || covered {
                None
            } else if pins.is_some() {
                Some((
                    TrustedBy {
                        kind: TrustKind::Pin,
                        source: format!("pin {project}={kid}"),
                    },
                    None,
                ))
            } else {
                self.first_use
                    .get(project)
                    .filter(|fu| fu.kid == kid)
                    .map(|fu| {
                        (
                            TrustedBy {
                                kind: TrustKind::FirstUse,
                                source: fu
                                    .first_seen
                                    .as_deref()
                                    .map(|s| format!("remembered {s}"))
                                    .unwrap_or_else(|| "remembered".into()),
                            },
                            None,
                        )
                    })
            };
            if verdict_for_sig.is_none() {
                weak.extend(not_listed);
            }
            accepted.push(verdict_for_sig);
        }
        let verdict = if accepted.iter().any(Option::is_some) {
            // A trusted signature wins; problems about extra signatures stay as information.
            Verdict::Trusted
        } else if covered || pins.is_some() || !problems.is_empty() || !weak.is_empty() {
            problems.extend(weak);
            if problems.is_empty() {
                problems.push(Problem::file(
                    Code::TrustKeyNotListed,
                    format!("no trust source that covers {project} accepts its signing key"),
                ));
            }
            Verdict::Untrusted
        } else if let Some(fu) = self.first_use.get(project) {
            problems.push(Problem::file(
                Code::TrustKeyChanged,
                format!(
                    "KEY CHANGED: {project} was first seen signed by {}{}, now by {}",
                    fu.kid,
                    fu.first_seen
                        .as_deref()
                        .map(|s| format!(" ({})", crate::display::escape(s)))
                        .unwrap_or_default(),
                    sigs.iter()
                        .map(|s| s.key.kid())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
            Verdict::KeyChanged
        } else {
            Verdict::Signed
        };
        TrustDecision {
            verdict,
            accepted,
            problems,
        }
    }
}

/// A key to remember on first use, found by [`settle_first_use`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remember {
    /// Normalized project.
    pub project: String,
    /// The entry to store.
    pub entry: FirstUse,
}

/// First use over a batch of reports (`verify --tofu a.whl b.whl …`). Among the `signed`
/// reports (no source covers the project, nothing remembered), a project whose wheels are all
/// signed by one key gets that key remembered; a project seen with two or more keys (in two
/// wheels, or in one wheel's two signatures) is a conflict: those reports become
/// `key-changed` and nothing is remembered for it. `first_seen` is stored as given.
pub fn settle_first_use(reports: &mut [Report], first_seen: &str) -> Vec<Remember> {
    // project → (kid → (jwk, key URL hint, first file))
    type Seen = BTreeMap<String, (Option<serde_json::Value>, Option<String>, String)>;
    let mut by_project: BTreeMap<String, Seen> = BTreeMap::new();
    for r in reports.iter().filter(|r| r.verdict == Verdict::Signed) {
        let Some(project) = &r.project else { continue };
        let seen = by_project.entry(project.clone()).or_default();
        for s in r.signatures.iter().filter(|s| s.valid) {
            if let Some(kid) = &s.kid {
                seen.entry(kid.clone())
                    .or_insert_with(|| (s.jwk.clone(), s.jku.clone(), r.file.clone()));
            }
        }
    }
    let mut remember = Vec::new();
    for (project, seen) in &by_project {
        if seen.len() == 1 {
            if let Some((kid, (jwk, jku, _))) = seen.iter().next() {
                let fingerprint = jwk
                    .as_ref()
                    .and_then(|j| j.as_object())
                    .and_then(|o| PublicKey::from_jwk(o, crate::keys::Private::Reject).ok())
                    .map(|k| k.fingerprint());
                remember.push(Remember {
                    project: project.clone(),
                    entry: FirstUse {
                        kid: kid.clone(),
                        jwk: jwk.clone(),
                        fingerprint,
                        first_seen: Some(first_seen.to_string()),
                        key_url: jku.clone(),
                    },
                });
            }
            continue;
        }
        let listing = seen
            .iter()
            .map(|(kid, (_, _, file))| format!("{kid} ({file})"))
            .collect::<Vec<_>>()
            .join(", ");
        for r in reports.iter_mut().filter(|r| {
            r.verdict == Verdict::Signed && r.project.as_deref() == Some(project.as_str())
        }) {
            r.verdict = Verdict::KeyChanged;
            r.problems.push(Problem::file(
                Code::TrustKeyChanged,
                format!("first use: {project} arrived signed by {} different keys in this batch: {listing}; no key was remembered", seen.len()),
            ));
        }
    }
    remember
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{ListedKey, PrivateKey};

    fn key(n: u8) -> PublicKey {
        *PrivateKey::from_seed(&[n; 32]).unwrap().public()
    }

    fn listed(k: PublicKey, projects: Option<&[&str]>, exp: Option<i64>) -> ListedKey {
        ListedKey {
            key: k,
            projects: projects.map(|p| p.iter().map(|s| s.to_string()).collect()),
            exp,
            key_url: None,
        }
    }

    fn with_url(keys: Vec<ListedKey>) -> TrustBuilder {
        let mut b = TrustBuilder::new();
        b.key_url(
            "https://k.test/keys.json",
            KeySet { keys }.to_json().as_bytes(),
        )
        .unwrap();
        b
    }

    fn fu(k: &PublicKey) -> FirstUse {
        FirstUse {
            kid: k.kid(),
            jwk: None,
            fingerprint: None,
            first_seen: Some("2026-01-01".into()),
            key_url: None,
        }
    }

    fn run(b: &TrustBuilder, keys: &[(PublicKey, Option<i64>)]) -> (Verdict, Vec<Code>) {
        let sigs: Vec<ValidSignature<'_>> = keys
            .iter()
            .map(|(k, iat)| ValidSignature {
                key: k,
                iat: *iat,
                witnessed: None,
            })
            .collect();
        let d = b.build().decide("demo", &sigs, Some(1_000));
        (d.verdict, d.problems.iter().map(|p| p.code).collect())
    }

    #[test]
    fn verdicts() {
        let (a, b) = (key(1), key(2));
        let none = TrustBuilder::new();
        assert_eq!(run(&none, &[]), (Verdict::Unsigned, vec![]));
        assert_eq!(run(&none, &[(a, None)]), (Verdict::Signed, vec![]));

        let ks = with_url(vec![listed(a, None, None)]);
        assert_eq!(run(&ks, &[(a, None)]).0, Verdict::Trusted);
        assert_eq!(
            run(&ks, &[(b, None)]),
            (Verdict::Untrusted, vec![Code::TrustKeyNotListed])
        );
        assert_eq!(
            run(&ks, &[(a, None), (b, None)]),
            (Verdict::Trusted, vec![]),
            "extra unknown signature is fine"
        );
        assert_eq!(
            run(&ks, &[]),
            (Verdict::Unsigned, vec![]),
            "unscoped key set does not name the project"
        );

        let scoped = with_url(vec![listed(a, Some(&["other"]), None)]);
        assert_eq!(
            run(&scoped, &[(a, None)]),
            (Verdict::Untrusted, vec![Code::TrustProjectScope])
        );
        assert_eq!(
            run(&scoped, &[(b, None)]),
            (Verdict::Signed, vec![]),
            "source says nothing about demo"
        );

        let listed_demo = with_url(vec![listed(a, Some(&["demo"]), None)]);
        assert_eq!(
            run(&listed_demo, &[]),
            (Verdict::Untrusted, vec![Code::TrustUnsignedDowngrade])
        );

        let retired = with_url(vec![listed(a, None, Some(100))]);
        assert_eq!(run(&retired, &[(a, Some(50))]).0, Verdict::Trusted);
        assert_eq!(
            run(&retired, &[(a, Some(150))]),
            (Verdict::Untrusted, vec![Code::TrustKeyRetired])
        );
        assert_eq!(
            run(&retired, &[(a, None)]),
            (Verdict::Untrusted, vec![Code::TrustKeyRetired])
        );
        // A witnessed time before the retirement beats a later (or absent) claimed iat.
        let witnessed = |iat: Option<i64>, w: Option<i64>| {
            retired
                .build()
                .decide(
                    "demo",
                    &[ValidSignature {
                        key: &a,
                        iat,
                        witnessed: w,
                    }],
                    Some(1_000),
                )
                .verdict
        };
        assert_eq!(witnessed(Some(150), Some(90)), Verdict::Trusted);
        assert_eq!(witnessed(None, Some(100)), Verdict::Trusted);
        assert_eq!(
            witnessed(Some(50), Some(150)),
            Verdict::Trusted,
            "witnessed after: falls back to the signer's claim"
        );
        assert_eq!(witnessed(Some(150), Some(150)), Verdict::Untrusted);
        let future = with_url(vec![listed(a, None, Some(5_000))]);
        assert_eq!(
            run(&future, &[(a, Some(2_000))]),
            (Verdict::Untrusted, vec![Code::TrustKeyRetired]),
            "iat after now cannot predate a retirement"
        );
    }

    #[test]
    fn revocation_beats_memory_and_pins() {
        let (a, b) = (key(1), key(2));
        for (case, sources, code) in [
            (
                "removed",
                vec![listed(b, None, None)],
                Code::TrustKeyNotListed,
            ),
            (
                "removed, project named",
                vec![listed(b, Some(&["demo"]), None)],
                Code::TrustKeyNotListed,
            ),
            (
                "retired before",
                vec![listed(a, None, Some(10))],
                Code::TrustKeyRetired,
            ),
            (
                "other projects only",
                vec![listed(a, Some(&["other"]), None)],
                Code::TrustProjectScope,
            ),
        ] {
            let mut remembered = with_url(sources.clone());
            remembered.first_use("demo", fu(&a)).unwrap();
            assert_eq!(
                run(&remembered, &[(a, Some(50))]),
                (Verdict::Untrusted, vec![code]),
                "first use, {case}"
            );
            let mut pinned = with_url(sources);
            pinned.pin("demo", &a.kid()).unwrap();
            assert_eq!(
                run(&pinned, &[(a, Some(50))]),
                (Verdict::Untrusted, vec![code]),
                "pin, {case}"
            );
        }
        // An explicit statement wins over another source's acceptance.
        let mut two = with_url(vec![listed(a, None, None)]);
        two.key_file(
            "deps.json",
            KeySet {
                keys: vec![
                    listed(a, Some(&["other"]), None),
                    listed(b, Some(&["demo"]), None),
                ],
            }
            .to_json()
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(run(&two, &[(a, None)]).0, Verdict::Untrusted);
        // Two unscoped publishers' key URLs combine: each accepts its own key.
        let mut combined = with_url(vec![listed(a, None, None)]);
        combined
            .key_url(
                "https://other.test/keys.json",
                KeySet {
                    keys: vec![listed(b, None, None)],
                }
                .to_json()
                .as_bytes(),
            )
            .unwrap();
        assert_eq!(run(&combined, &[(a, None)]), (Verdict::Trusted, vec![]));
        assert_eq!(run(&combined, &[(key(3), None)]).0, Verdict::Untrusted);
    }

    #[test]
    fn pins_and_first_use() {
        let (a, b) = (key(1), key(2));
        let mut p = TrustBuilder::new();
        p.pin("Demo", &a.kid()).unwrap();
        assert_eq!(run(&p, &[(a, None)]).0, Verdict::Trusted);
        assert_eq!(
            run(&p, &[(b, None)]),
            (Verdict::Untrusted, vec![Code::TrustNotPinned])
        );
        assert_eq!(
            run(&p, &[]),
            (Verdict::Untrusted, vec![Code::TrustUnsignedDowngrade])
        );
        // A key set listing b cannot override a pin to a.
        let mut pb = with_url(vec![listed(b, None, None)]);
        pb.pin("demo", &a.kid()).unwrap();
        assert_eq!(run(&pb, &[(b, None)]).0, Verdict::Untrusted);

        let mut f = TrustBuilder::new();
        f.first_use("demo", fu(&a)).unwrap();
        assert_eq!(run(&f, &[(a, None)]).0, Verdict::Trusted);
        assert_eq!(
            run(&f, &[(b, None)]),
            (Verdict::KeyChanged, vec![Code::TrustKeyChanged])
        );
        assert_eq!(
            run(&f, &[]),
            (Verdict::Untrusted, vec![Code::TrustUnsignedDowngrade])
        );

        assert!(TrustBuilder::new().pin("demo", "short").is_err());
        assert!(TrustBuilder::new().pin("bad name!", &a.kid()).is_err());
        assert!(TrustBuilder::new()
            .key_url("http://example.com/keys.json", b"{\"keys\":[]}")
            .is_err());
    }

    #[test]
    fn chosen_key_url_speaks_for_one_project() {
        let (a, b) = (key(1), key(2));
        let mut c = TrustBuilder::new();
        c.chosen_key_url(
            "demo",
            "https://k.test/keys.json",
            KeySet {
                keys: vec![listed(a, None, None)],
            }
            .to_json()
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(run(&c, &[(a, None)]).0, Verdict::Trusted);
        assert_eq!(
            run(&c, &[(b, None)]),
            (Verdict::Untrusted, vec![Code::TrustKeyNotListed])
        );
        assert_eq!(
            run(&c, &[]),
            (Verdict::Untrusted, vec![Code::TrustUnsignedDowngrade])
        );
        let other = c.build().decide(
            "other",
            &[ValidSignature {
                key: &a,
                iat: None,
                witnessed: None,
            }],
            None,
        );
        assert_eq!(
            other.verdict,
            Verdict::Signed,
            "a choice for demo says nothing about other"
        );
    }

    #[test]
    fn lookups_only_where_covered() {
        let a = key(1);
        let mut b = TrustBuilder::new();
        b.key_url(
            "https://a.test/keys.json",
            KeySet {
                keys: vec![listed(a, Some(&["demo"]), None)],
            }
            .to_json()
            .as_bytes(),
        )
        .unwrap();
        let mut list_key = listed(a, Some(&["dep"]), None);
        list_key.key_url = Some("http://127.0.0.1:9/keys.json".into());
        let mut https_key = listed(key(2), Some(&["lib"]), None);
        https_key.key_url = Some("https://lib.test/k/keys.json".into());
        b.key_file(
            "deps.json",
            KeySet {
                keys: vec![list_key, https_key],
            }
            .to_json()
            .as_bytes(),
        )
        .unwrap();
        let p = b.build();
        let urls = |proj: &str, file: &str| {
            p.signature_urls(proj, file)
                .0
                .iter()
                .map(|u| u.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            urls("demo", "demo-1-py3-none-any.whl"),
            vec!["https://a.test/releases/demo/demo-1-py3-none-any.whl.jws"]
        );
        assert_eq!(
            urls("lib", "lib-1-py3-none-any.whl"),
            vec!["https://lib.test/k/releases/lib/lib-1-py3-none-any.whl.jws"]
        );
        assert!(urls("unrelated", "unrelated-1-py3-none-any.whl").is_empty());
        let (none, warnings) = p.signature_urls("dep", "dep-1-py3-none-any.whl");
        assert!(
            none.is_empty() && warnings.len() == 1,
            "loopback key_url in a list needs the switch: {warnings:?}"
        );
        b.loopback_in_lists(Loopback::Allow);
        assert_eq!(
            b.build()
                .signature_urls("dep", "dep-1-py3-none-any.whl")
                .0
                .len(),
            1
        );
    }

    fn signed_report(file: &str, project: &str, kids: &[u8]) -> Report {
        let signatures = kids
            .iter()
            .map(|n| {
                let k = key(*n);
                crate::report::SignatureReport {
                    kid: Some(k.kid()),
                    fingerprint: Some(k.fingerprint()),
                    alg: Some("EdDSA".into()),
                    format: crate::report::SigFormat::General,
                    carrier: crate::report::Carrier::Detached,
                    source: None,
                    iat: None,
                    jku: None,
                    jwk: Some(k.jwk()),
                    valid: true,
                    trusted_by: None,
                    retired: None,
                }
            })
            .collect();
        Report {
            file: file.into(),
            verdict: Verdict::Signed,
            project: Some(project.into()),
            version: Some("1".into()),
            files_checked: 1,
            sha256: None,
            signatures,
            problems: vec![],
            members: vec![],
            log: None,
            key_url_hint: None,
            index: None,
            index_log: None,
        }
    }

    #[test]
    fn first_use_in_a_batch() {
        let mut reports = vec![
            signed_report("a-1.whl", "a", &[1]),
            signed_report("a-2.whl", "a", &[2]),
            signed_report("b-1.whl", "b", &[1]),
            signed_report("b-2.whl", "b", &[1]),
        ];
        let remembered = settle_first_use(&mut reports, "2026-12-01T00:00:00Z");
        assert_eq!(remembered.len(), 1);
        assert_eq!(
            (
                remembered[0].project.as_str(),
                remembered[0].entry.kid.as_str()
            ),
            ("b", key(1).kid().as_str())
        );
        assert_eq!(
            remembered[0].entry.fingerprint.as_deref(),
            Some(key(1).fingerprint().as_str())
        );
        assert_eq!(reports[0].verdict, Verdict::KeyChanged);
        assert_eq!(reports[1].verdict, Verdict::KeyChanged);
        assert!(reports[0].has(Code::TrustKeyChanged));
        assert_eq!(reports[2].verdict, Verdict::Signed);
        let mut one = vec![signed_report("c-1.whl", "c", &[1, 2])];
        assert!(
            settle_first_use(&mut one, "now").is_empty(),
            "one wheel, two keys: nothing remembered"
        );
        assert_eq!(one[0].verdict, Verdict::KeyChanged);
    }
}
