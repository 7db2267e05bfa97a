//! Trust sources and the trust decision (DESIGN.md "Trust", docs/SPEC.md "Verdicts").
//!
//! Keys come only from trust sources the caller names: JWK Sets (from a key URL or a file),
//! pins (project → key ids) and the trust-on-first-use store. A key in a signature header
//! is never trusted by itself.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::keys::{KeySet, PublicKey};
use crate::names::normalize_project;
use crate::report::{Code, Problem, TrustKind, TrustedBy, Verdict};

/// A JWK Set and where it came from.
#[derive(Debug, Clone)]
pub struct KeySource {
    /// `KeyUrl` or `KeyFile`.
    pub kind: TrustKind,
    /// The URL or file path, for reports.
    pub source: String,
    /// The keys.
    pub set: KeySet,
}

/// A remembered first-use key for a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstUse {
    /// Key id (RFC 7638 thumbprint).
    pub kid: String,
    /// The public JWK, for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwk: Option<serde_json::Value>,
    /// When it was first seen (RFC 3339 or any display string the caller chose).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// The key URL hint seen with it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_url: Option<String>,
}

/// Everything the caller trusts.
#[derive(Debug, Clone, Default)]
pub struct TrustPolicy {
    /// JWK Sets: key URLs and key files.
    pub key_sets: Vec<KeySource>,
    /// Pins: normalized project → allowed key ids. A pinned project accepts only these.
    pub pins: BTreeMap<String, Vec<String>>,
    /// Trust-on-first-use store: normalized project → remembered key.
    pub first_use: BTreeMap<String, FirstUse>,
}

impl TrustPolicy {
    /// Add a pin, normalizing the project name.
    pub fn pin(&mut self, project: &str, kid: &str) {
        let list = self.pins.entry(normalize_project(project)).or_default();
        if !list.iter().any(|k| k == kid) {
            list.push(kid.to_string());
        }
    }

    /// Whether any source names `project` explicitly, so that an unsigned wheel of it is a
    /// downgrade: a pin, a first-use entry, or a key whose `projects` list it.
    fn names_project(&self, project: &str) -> bool {
        self.pins.contains_key(project)
            || self.first_use.contains_key(project)
            || self
                .key_sets
                .iter()
                .any(|s| s.set.keys.iter().any(|k| k.projects.as_ref().is_some_and(|p| p.iter().any(|n| n == project))))
    }
}

/// A cryptographically valid signature to judge.
#[derive(Debug, Clone, Copy)]
pub struct ValidSignature<'a> {
    /// The signing key.
    pub key: &'a PublicKey,
    /// Signer-claimed signing time.
    pub iat: Option<i64>,
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

/// Decide trust for `project` (normalized) given its valid signatures.
pub fn decide(policy: &TrustPolicy, project: &str, sigs: &[ValidSignature<'_>]) -> TrustDecision {
    let mut problems = Vec::new();
    if sigs.is_empty() {
        if policy.names_project(project) {
            problems.push(Problem::file(
                Code::TrustUnsignedDowngrade,
                format!("{project} is pinned or listed by a trust source, but this wheel is unsigned"),
            ));
            return TrustDecision { verdict: Verdict::Untrusted, accepted: Vec::new(), problems };
        }
        return TrustDecision { verdict: Verdict::Unsigned, accepted: Vec::new(), problems };
    }
    let pins = policy.pins.get(project);
    let mut accepted = Vec::with_capacity(sigs.len());
    let mut covered = pins.is_some();
    for sig in sigs {
        let kid = sig.key.kid();
        let mut verdict_for_sig: Option<(TrustedBy, Option<i64>)> = None;
        if let Some(pinned) = pins {
            if !pinned.contains(&kid) {
                problems.push(Problem::file(Code::TrustNotPinned, format!("{project} is pinned to {}, but signed by {kid}", pinned.join(", "))));
                accepted.push(None);
                continue;
            }
            verdict_for_sig = Some((TrustedBy { kind: TrustKind::Pin, source: format!("pin {project}={kid}") }, None));
        }
        for src in &policy.key_sets {
            let covers_project = src.set.keys.iter().any(|k| k.covers(project));
            covered |= covers_project;
            let Some(listed) = src.set.keys.iter().find(|k| k.key == *sig.key) else {
                if covers_project && verdict_for_sig.is_none() {
                    problems.push(Problem::file(Code::TrustKeyNotListed, format!("key {kid} is not listed by {}", src.source)));
                }
                continue;
            };
            covered = true;
            if !listed.covers(project) {
                problems.push(Problem::file(
                    Code::TrustProjectScope,
                    format!("key {kid} is listed by {} only for {}", src.source, listed.projects.as_deref().unwrap_or_default().join(", ")),
                ));
                continue;
            }
            if let Some(exp) = listed.exp {
                match sig.iat {
                    Some(iat) if iat <= exp => {}
                    Some(iat) => {
                        problems.push(Problem::file(Code::TrustKeyRetired, format!("key {kid} was retired at {exp} by {}; this signature claims to be made at {iat}", src.source)));
                        continue;
                    }
                    None => {
                        problems.push(Problem::file(Code::TrustKeyRetired, format!("key {kid} was retired at {exp} by {}; this signature has no signing time", src.source)));
                        continue;
                    }
                }
            }
            if verdict_for_sig.as_ref().is_none_or(|(t, _)| t.kind == TrustKind::Pin) {
                verdict_for_sig = Some((TrustedBy { kind: src.kind, source: src.source.clone() }, listed.exp));
            }
        }
        if verdict_for_sig.is_none() {
            if let Some(fu) = policy.first_use.get(project) {
                if fu.kid == kid {
                    let since = fu.first_seen.as_deref().map(|s| format!(" since {s}")).unwrap_or_default();
                    verdict_for_sig = Some((TrustedBy { kind: TrustKind::FirstUse, source: format!("first use{since}") }, None));
                }
            }
        }
        accepted.push(verdict_for_sig);
    }
    let verdict = if accepted.iter().any(Option::is_some) {
        // A trusted signature wins; problems about extra signatures stay as information.
        problems.retain(|p| p.code != Code::TrustKeyNotListed);
        Verdict::Trusted
    } else if covered || problems.iter().any(|p| p.code != Code::TrustKeyNotListed) {
        Verdict::Untrusted
    } else if let Some(fu) = policy.first_use.get(project) {
        problems.push(Problem::file(
            Code::TrustKeyChanged,
            format!(
                "KEY CHANGED: {project} was first seen signed by {}{}, now by {}",
                fu.kid,
                fu.first_seen.as_deref().map(|s| format!(" ({s})")).unwrap_or_default(),
                sigs.iter().map(|s| s.key.kid()).collect::<Vec<_>>().join(", ")
            ),
        ));
        Verdict::KeyChanged
    } else {
        Verdict::Signed
    };
    TrustDecision { verdict, accepted, problems }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{ListedKey, PrivateKey};

    fn key(n: u8) -> PublicKey {
        *PrivateKey::from_seed(&[n; 32]).unwrap().public()
    }

    fn source(keys: Vec<ListedKey>) -> KeySource {
        KeySource { kind: TrustKind::KeyUrl, source: "https://k.test/keys.json".into(), set: KeySet { keys } }
    }

    fn listed(k: PublicKey, projects: Option<&[&str]>, exp: Option<i64>) -> ListedKey {
        ListedKey { key: k, projects: projects.map(|p| p.iter().map(|s| s.to_string()).collect()), exp, key_url: None }
    }

    fn run(policy: &TrustPolicy, keys: &[(PublicKey, Option<i64>)]) -> (Verdict, Vec<Code>) {
        let sigs: Vec<ValidSignature<'_>> = keys.iter().map(|(k, iat)| ValidSignature { key: k, iat: *iat }).collect();
        let d = decide(policy, "demo", &sigs);
        (d.verdict, d.problems.iter().map(|p| p.code).collect())
    }

    #[test]
    fn verdicts() {
        let (a, b) = (key(1), key(2));
        let none = TrustPolicy::default();
        assert_eq!(run(&none, &[]), (Verdict::Unsigned, vec![]));
        assert_eq!(run(&none, &[(a, None)]), (Verdict::Signed, vec![]));

        let mut ks = TrustPolicy::default();
        ks.key_sets.push(source(vec![listed(a, None, None)]));
        assert_eq!(run(&ks, &[(a, None)]).0, Verdict::Trusted);
        assert_eq!(run(&ks, &[(b, None)]), (Verdict::Untrusted, vec![Code::TrustKeyNotListed]));
        assert_eq!(run(&ks, &[(a, None), (b, None)]), (Verdict::Trusted, vec![]), "extra unknown signature is fine");
        assert_eq!(run(&ks, &[]), (Verdict::Unsigned, vec![]), "unscoped key set does not name the project");

        let mut scoped = TrustPolicy::default();
        scoped.key_sets.push(source(vec![listed(a, Some(&["other"]), None)]));
        assert_eq!(run(&scoped, &[(a, None)]), (Verdict::Untrusted, vec![Code::TrustProjectScope]));
        assert_eq!(run(&scoped, &[(b, None)]), (Verdict::Signed, vec![]), "source says nothing about demo");

        let mut listed_demo = TrustPolicy::default();
        listed_demo.key_sets.push(source(vec![listed(a, Some(&["demo"]), None)]));
        assert_eq!(run(&listed_demo, &[]), (Verdict::Untrusted, vec![Code::TrustUnsignedDowngrade]));

        let mut retired = TrustPolicy::default();
        retired.key_sets.push(source(vec![listed(a, None, Some(100))]));
        assert_eq!(run(&retired, &[(a, Some(50))]).0, Verdict::Trusted);
        assert_eq!(run(&retired, &[(a, Some(150))]), (Verdict::Untrusted, vec![Code::TrustKeyRetired]));
        assert_eq!(run(&retired, &[(a, None)]), (Verdict::Untrusted, vec![Code::TrustKeyRetired]));
    }

    #[test]
    fn pins_and_first_use() {
        let (a, b) = (key(1), key(2));
        let mut p = TrustPolicy::default();
        p.pin("Demo", &a.kid());
        assert_eq!(run(&p, &[(a, None)]).0, Verdict::Trusted);
        assert_eq!(run(&p, &[(b, None)]), (Verdict::Untrusted, vec![Code::TrustNotPinned]));
        assert_eq!(run(&p, &[]), (Verdict::Untrusted, vec![Code::TrustUnsignedDowngrade]));
        // A key set listing b cannot override a pin to a.
        p.key_sets.push(source(vec![listed(b, None, None)]));
        assert_eq!(run(&p, &[(b, None)]).0, Verdict::Untrusted);

        let mut fu = TrustPolicy::default();
        fu.first_use.insert("demo".into(), FirstUse { kid: a.kid(), jwk: None, first_seen: Some("2026-01-01".into()), key_url: None });
        assert_eq!(run(&fu, &[(a, None)]).0, Verdict::Trusted);
        assert_eq!(run(&fu, &[(b, None)]), (Verdict::KeyChanged, vec![Code::TrustKeyChanged]));
        assert_eq!(run(&fu, &[]), (Verdict::Untrusted, vec![Code::TrustUnsignedDowngrade]));
    }
}
