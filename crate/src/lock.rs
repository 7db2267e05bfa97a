//! Dependency key lists: from the reports of a set of verified wheels, the JWK Set that pins
//! each project to the key it is signed with (`wheelsig lock`). Checking a later download
//! against it is ordinary verification with the list as a key file (`verify --jwks
//! deps-keys.json --require-trusted`): another key, or no signature, for a listed project is
//! `untrusted`; a project the list does not name is at best `signed`.

use std::collections::BTreeMap;
use std::fmt;

use crate::keys::{KeySet, ListedKey, Private, PublicKey};
use crate::report::{Report, TrustKind, Verdict};

/// Why a wheel could not be locked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockProblem {
    /// The wheel's file name.
    pub file: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LockProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// What to accept when locking.
#[derive(Debug, Clone, Copy, Default)]
pub struct LockPolicy {
    /// Record keys of wheels that are validly signed but that no trust source covers
    /// (`signed`); by default only `trusted` wheels are locked.
    pub allow_signed: bool,
    /// Leave unsigned wheels out instead of failing.
    pub allow_unsigned: bool,
}

/// One project's entry while collecting.
struct Pin {
    key: PublicKey,
    key_url: Option<String>,
    file: String,
}

/// The key list for `reports`, or every reason it cannot be made. Several wheels of one
/// project must agree on the key; one key may sign several projects (one entry lists them all).
/// A key's `key_url` is the key URL that trusted it, when every project agrees on it.
pub fn lock(reports: &[Report], policy: LockPolicy) -> Result<KeySet, Vec<LockProblem>> {
    let mut problems = Vec::new();
    let mut pins: BTreeMap<String, Pin> = BTreeMap::new();
    for r in reports {
        let mut fail = |m: String| {
            problems.push(LockProblem {
                file: r.file.clone(),
                message: m,
            })
        };
        let Some(project) = &r.project else {
            fail("the file name does not parse as a wheel".into());
            continue;
        };
        match r.verdict {
            Verdict::Trusted => {}
            Verdict::Signed if policy.allow_signed => {}
            Verdict::Signed => {
                fail(format!("signed, but no trust source covers {project}: pass its key URL or key file, or --allow-signed to lock the key as found"));
                continue;
            }
            Verdict::Unsigned if policy.allow_unsigned => continue,
            Verdict::Unsigned => {
                fail(format!("{project} is not signed, so it cannot be pinned to a key (--allow-unsigned leaves it out)"));
                continue;
            }
            v => {
                let first = r
                    .problems
                    .first()
                    .map(|p| format!(": {} {}", p.code.as_str(), p.message))
                    .unwrap_or_default();
                fail(format!("verdict {}{first}", v.as_str()));
                continue;
            }
        }
        let Some(sig) = r
            .signatures
            .iter()
            .find(|s| s.valid && (r.verdict != Verdict::Trusted || s.trusted_by.is_some()))
        else {
            fail("no valid signature in the report".into());
            continue;
        };
        let key = match sig
            .jwk
            .as_ref()
            .and_then(|j| j.as_object())
            .map(|o| PublicKey::from_jwk(o, Private::Reject))
        {
            Some(Ok(k)) => k,
            _ => {
                fail("the signature's public key is missing from the report".into());
                continue;
            }
        };
        let key_url = sig
            .trusted_by
            .as_ref()
            .filter(|t| t.kind == TrustKind::KeyUrl)
            .map(|t| t.source.clone());
        match pins.get(project) {
            Some(p) if p.key != key => fail(format!(
                "{project} is signed by {} here but by {} in {}: one key per project",
                key.kid(),
                p.key.kid(),
                p.file
            )),
            Some(_) => {}
            None => {
                pins.insert(
                    project.clone(),
                    Pin {
                        key,
                        key_url,
                        file: r.file.clone(),
                    },
                );
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    // One entry per key, projects in name order; keys in order of their first project.
    let mut set = KeySet::default();
    for (project, pin) in pins {
        match set.keys.iter_mut().find(|k| k.key == pin.key) {
            Some(entry) => {
                entry.projects.get_or_insert_with(Vec::new).push(project);
                if entry.key_url != pin.key_url {
                    entry.key_url = None;
                }
            }
            None => set.keys.push(ListedKey {
                key: pin.key,
                projects: Some(vec![project]),
                exp: None,
                key_url: pin.key_url,
            }),
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::PrivateKey;
    use crate::report::{Carrier, SigFormat, SignatureReport, TrustedBy};

    fn report(
        file: &str,
        project: &str,
        verdict: Verdict,
        seed: Option<u8>,
        key_url: Option<&str>,
    ) -> Report {
        let signatures = seed
            .map(|s| {
                let key = *PrivateKey::from_seed(&[s; 32]).unwrap().public();
                vec![SignatureReport {
                    kid: Some(key.kid()),
                    fingerprint: Some(key.fingerprint()),
                    alg: Some("EdDSA".into()),
                    format: SigFormat::General,
                    carrier: Carrier::Detached,
                    source: None,
                    iat: None,
                    jku: None,
                    jwk: Some(key.jwk()),
                    valid: true,
                    // "https://…" came from a key URL, anything else from a key file.
                    trusted_by: key_url.map(|u| TrustedBy {
                        kind: if u.starts_with("https://") {
                            TrustKind::KeyUrl
                        } else {
                            TrustKind::KeyFile
                        },
                        source: u.into(),
                    }),
                    retired: None,
                }]
            })
            .unwrap_or_default();
        Report {
            file: file.into(),
            verdict,
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
    fn one_entry_per_key_with_its_projects_and_key_url() {
        let set = lock(
            &[
                report(
                    "b-1-py3-none-any.whl",
                    "b",
                    Verdict::Trusted,
                    Some(1),
                    Some("https://k/keys.json"),
                ),
                report(
                    "a-1-py3-none-any.whl",
                    "a",
                    Verdict::Trusted,
                    Some(1),
                    Some("https://k/keys.json"),
                ),
                report(
                    "a-1-cp312-none-any.whl",
                    "a",
                    Verdict::Trusted,
                    Some(1),
                    Some("https://k/keys.json"),
                ),
                report(
                    "c-1-py3-none-any.whl",
                    "c",
                    Verdict::Trusted,
                    Some(2),
                    Some("keys.json"),
                ),
            ],
            LockPolicy::default(),
        )
        .unwrap();
        assert_eq!(set.keys.len(), 2);
        assert_eq!(
            set.keys[0].projects.as_deref(),
            Some(&["a".to_string(), "b".to_string()][..])
        );
        assert_eq!(set.keys[0].key_url.as_deref(), Some("https://k/keys.json"));
        assert_eq!(
            (
                set.keys[1].projects.as_deref(),
                set.keys[1].key_url.as_deref()
            ),
            (Some(&["c".to_string()][..]), None)
        );
        // The list round-trips through the strict parser.
        assert_eq!(KeySet::parse(set.to_json().as_bytes()).unwrap(), set);
    }

    #[test]
    fn refuses_what_cannot_be_pinned() {
        let e = lock(
            &[
                report(
                    "a-1-py3-none-any.whl",
                    "a",
                    Verdict::Trusted,
                    Some(1),
                    Some("https://k/keys.json"),
                ),
                report(
                    "a-2-py3-none-any.whl",
                    "a",
                    Verdict::Trusted,
                    Some(2),
                    Some("https://k/keys.json"),
                ),
                report("u-1-py3-none-any.whl", "u", Verdict::Unsigned, None, None),
                report("s-1-py3-none-any.whl", "s", Verdict::Signed, Some(3), None),
                report("x-1-py3-none-any.whl", "x", Verdict::Invalid, None, None),
            ],
            LockPolicy::default(),
        )
        .unwrap_err();
        let text: Vec<String> = e.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 4, "{text:?}");
        assert!(text[0].starts_with("a-2-py3-none-any.whl: a is signed by"));
        assert!(
            text[1].contains("not signed")
                && text[2].contains("no trust source covers s")
                && text[3].contains("verdict invalid")
        );
        let ok = lock(
            &[
                report("u-1-py3-none-any.whl", "u", Verdict::Unsigned, None, None),
                report("s-1-py3-none-any.whl", "s", Verdict::Signed, Some(3), None),
            ],
            LockPolicy {
                allow_signed: true,
                allow_unsigned: true,
            },
        )
        .unwrap();
        assert_eq!(ok.keys.len(), 1);
    }
}
