//! C2SP tlog-policy: which logs and witnesses a verifier trusts, and what quorum of witnesses
//! must have cosigned a checkpoint. The user's choice, not the publisher's.
//!
//! ```text
//! log <vkey> [<url>]
//! witness <name> <vkey> [<url>]
//! group <name> (all | any | <k>) <member>…
//! quorum <name | none>
//! ```

use std::collections::BTreeMap;

use super::note::{KeyKind, Note, NoteError, NoteVerifier};

/// Most logs, witnesses and groups (the spec asks for at least 32 of each).
const MAX_ITEMS: usize = 256;
/// Largest policy file.
pub const MAX_POLICY_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone)]
enum Member {
    Witness(usize),
    Group(usize),
}

#[derive(Debug, Clone)]
struct Group {
    name: String,
    k: usize,
    members: Vec<Member>,
}

/// A witness the policy names.
#[derive(Debug, Clone)]
pub struct Witness {
    /// The policy's name for it.
    pub name: String,
    /// Its cosignature key.
    pub key: NoteVerifier,
    /// Where it accepts submissions, if given.
    pub url: Option<String>,
}

/// A parsed policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Log keys (and URLs).
    pub logs: Vec<(NoteVerifier, Option<String>)>,
    /// Witnesses.
    pub witnesses: Vec<Witness>,
    groups: Vec<Group>,
    quorum: Option<Member>,
}

/// What a policy says about one checkpoint note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// Whether a log the policy lists signed it.
    pub log_signed: bool,
    /// Witnesses whose cosignature verified: (policy name, key name, timestamp).
    pub cosigners: Vec<(String, String, u64)>,
    /// The time the quorum was first met (the latest of the earliest timestamps that satisfy
    /// it), or `None` when it is not met. `Some(0)` for `quorum none`.
    pub quorum_time: Option<u64>,
}

/// A log key known by first use, for a log the witness policy does not list: the one this
/// machine (or browser) remembered for the origin, and the one its key site serves now
/// (`<site>/log/vkey`), as text. The CLI and the page fetch and store them; the rule is here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogKeyFirstUse {
    /// The vkey remembered for the origin.
    pub remembered: Option<String>,
    /// The vkey the log's key site serves now.
    pub served: Option<String>,
}

/// What [`LogKeyFirstUse::choose`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogKeyChoice {
    /// The key to check the log's checkpoints with (none: the log stays unknown).
    pub key: Option<NoteVerifier>,
    /// Whether it is the served key, seen for the first time (to remember once the proof checks).
    pub new: bool,
    /// Why the served key is not used although it differs from the remembered one.
    pub changed: Option<String>,
}

impl LogKeyFirstUse {
    /// The remembered key wins; the served key is used (and to be remembered) only when none
    /// was remembered, and only if it is an Ed25519 note key named after `origin`. A served
    /// key other than the remembered one is reported, like a signing key that changed.
    pub fn choose(&self, origin: &str) -> LogKeyChoice {
        let parse = |v: &Option<String>| {
            v.as_deref()
                .and_then(|t| NoteVerifier::parse(t.trim()).ok())
                .filter(|k| k.kind() == KeyKind::Ed25519 && k.name() == origin)
        };
        match (parse(&self.remembered), parse(&self.served)) {
            (Some(r), Some(s)) if r != s => {
                let changed = format!(
                    "LOG KEY CHANGED: {} now serves log key {}, but {} was remembered for it",
                    crate::display::escape(origin),
                    crate::display::escape(&s.vkey()),
                    r.vkey()
                );
                LogKeyChoice {
                    key: Some(r),
                    new: false,
                    changed: Some(changed),
                }
            }
            (Some(r), _) => LogKeyChoice {
                key: Some(r),
                new: false,
                changed: None,
            },
            (None, Some(s)) => LogKeyChoice {
                key: Some(s),
                new: true,
                changed: None,
            },
            (None, None) => LogKeyChoice {
                key: None,
                new: false,
                changed: None,
            },
        }
    }
}

impl Policy {
    /// Whether the policy lists a log key for `origin`.
    pub fn lists_log(&self, origin: &str) -> bool {
        self.logs.iter().any(|(k, _)| k.name() == origin)
    }

    /// Parse a policy file.
    pub fn parse(text: &str) -> Result<Policy, NoteError> {
        let e = |n: usize, m: String| NoteError(format!("policy line {n}: {m}"));
        if text.len() > MAX_POLICY_BYTES {
            return Err(NoteError("the policy file is too large".into()));
        }
        let mut p = Policy {
            logs: Vec::new(),
            witnesses: Vec::new(),
            groups: Vec::new(),
            quorum: None,
        };
        let mut names: BTreeMap<String, Member> = BTreeMap::new();
        let mut quorum_seen = false;
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            if raw.chars().any(|c| c.is_control() && c != '\t') {
                return Err(e(n, "control character".into()));
            }
            let tokens: Vec<&str> = raw.split([' ', '\t']).filter(|t| !t.is_empty()).collect();
            let Some(&kw) = tokens.first() else { continue };
            if kw.starts_with('#') {
                continue;
            }
            if p.logs.len() + p.witnesses.len() + p.groups.len() > 3 * MAX_ITEMS {
                return Err(e(n, "too many entries".into()));
            }
            match (kw, &tokens[1..]) {
                ("log", [vkey, rest @ ..]) if rest.len() <= 1 => {
                    let k = NoteVerifier::parse(vkey).map_err(|x| e(n, x.to_string()))?;
                    if k.kind() != KeyKind::Ed25519 {
                        return Err(e(n, "a log key is an Ed25519 note key (type 0x01)".into()));
                    }
                    if p.logs.iter().any(|(l, _)| l.public_key() == k.public_key()) {
                        return Err(e(n, "duplicate log key".into()));
                    }
                    p.logs.push((k, rest.first().map(|s| s.to_string())));
                }
                ("witness", [name, vkey, rest @ ..]) if rest.len() <= 1 => {
                    let k = NoteVerifier::parse(vkey).map_err(|x| e(n, x.to_string()))?;
                    if k.kind() != KeyKind::Cosignature {
                        return Err(e(
                            n,
                            "a witness key is a cosignature/v1 key (type 0x04)".into(),
                        ));
                    }
                    if *name == "none" || names.contains_key(*name) {
                        return Err(e(n, format!("name {name:?} is already defined")));
                    }
                    if p.witnesses
                        .iter()
                        .any(|w| w.key.public_key() == k.public_key())
                    {
                        return Err(e(n, "duplicate witness key".into()));
                    }
                    names.insert(name.to_string(), Member::Witness(p.witnesses.len()));
                    p.witnesses.push(Witness {
                        name: name.to_string(),
                        key: k,
                        url: rest.first().map(|s| s.to_string()),
                    });
                }
                ("group", [name, k, members @ ..]) if !members.is_empty() => {
                    if *name == "none" || names.contains_key(*name) {
                        return Err(e(n, format!("name {name:?} is already defined")));
                    }
                    let mut ms = Vec::new();
                    let mut seen = Vec::new();
                    for m in members {
                        let member = names.get(*m).cloned().ok_or_else(|| {
                            e(n, format!("{m:?} is not defined on an earlier line"))
                        })?;
                        if seen.contains(m) {
                            return Err(e(n, format!("{m:?} is listed twice")));
                        }
                        seen.push(*m);
                        ms.push(member);
                    }
                    let k = match *k {
                        "all" => ms.len(),
                        "any" => 1,
                        k => k
                            .parse::<usize>()
                            .ok()
                            .filter(|k| {
                                (1..=ms.len()).contains(k) && !k.to_string().starts_with('0')
                            })
                            .ok_or_else(|| {
                                e(
                                    n,
                                    format!("threshold {k:?} must be all, any or 1..{}", ms.len()),
                                )
                            })?,
                    };
                    names.insert(name.to_string(), Member::Group(p.groups.len()));
                    p.groups.push(Group {
                        name: name.to_string(),
                        k,
                        members: ms,
                    });
                }
                ("quorum", [name]) => {
                    if quorum_seen {
                        return Err(e(n, "a second quorum line".into()));
                    }
                    quorum_seen = true;
                    p.quorum = if *name == "none" {
                        None
                    } else {
                        Some(names.get(*name).cloned().ok_or_else(|| {
                            e(n, format!("{name:?} is not defined on an earlier line"))
                        })?)
                    };
                }
                _ => {
                    return Err(e(
                        n,
                        format!("cannot read {:?}", crate::display::escape(raw.trim())),
                    ))
                }
            }
        }
        if !quorum_seen {
            return Err(NoteError("the policy has no quorum line".into()));
        }
        // A policy may list no log: the verifier then takes each log's key from its key site
        // and remembers it on first use (docs/SPEC.md "Release log (verify side)").
        Ok(p)
    }

    /// The policy's name for a group, for messages.
    pub fn quorum_name(&self) -> String {
        match &self.quorum {
            None => "none".into(),
            Some(Member::Witness(i)) => self.witnesses[*i].name.clone(),
            Some(Member::Group(i)) => self.groups[*i].name.clone(),
        }
    }

    /// Evaluate a checkpoint note. A listed key whose line fails to verify is an error (a
    /// forged cosignature is not merely absent).
    pub fn evaluate(&self, note: &Note) -> Result<Evaluation, NoteError> {
        let mut log_signed = false;
        for (k, _) in &self.logs {
            if note.verify_by(k)?.is_some() {
                log_signed = true;
            }
        }
        let mut times: Vec<Option<u64>> = Vec::with_capacity(self.witnesses.len());
        let mut cosigners = Vec::new();
        for w in &self.witnesses {
            let t = note.verify_by(&w.key)?.and_then(|v| v.timestamp);
            if let Some(t) = t {
                cosigners.push((w.name.clone(), w.key.name().to_string(), t));
            }
            times.push(t);
        }
        let mut group_times: Vec<Option<u64>> = Vec::with_capacity(self.groups.len());
        for g in &self.groups {
            let mut ts: Vec<u64> = g
                .members
                .iter()
                .filter_map(|m| match m {
                    Member::Witness(i) => times[*i],
                    Member::Group(i) => group_times[*i],
                })
                .collect();
            ts.sort_unstable();
            group_times.push(ts.get(g.k - 1).copied());
        }
        let quorum_time = match &self.quorum {
            None => Some(0),
            Some(Member::Witness(i)) => times[*i],
            Some(Member::Group(i)) => group_times[*i],
        };
        Ok(Evaluation {
            log_signed,
            cosigners,
            quorum_time,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_key_first_use_keeps_the_remembered_key() {
        use crate::log::note::NoteSigner;
        let a = NoteSigner::from_seed("example.com/log", KeyKind::Ed25519, &[1; 32])
            .unwrap()
            .verifier()
            .vkey();
        let b = NoteSigner::from_seed("example.com/log", KeyKind::Ed25519, &[2; 32])
            .unwrap()
            .verifier()
            .vkey();
        let other_name = NoteSigner::from_seed("evil.example/log", KeyKind::Ed25519, &[3; 32])
            .unwrap()
            .verifier()
            .vkey();
        let cosig = NoteSigner::from_seed("example.com/log", KeyKind::Cosignature, &[4; 32])
            .unwrap()
            .verifier()
            .vkey();
        let fu = |r: Option<&str>, s: Option<&str>| {
            LogKeyFirstUse {
                remembered: r.map(String::from),
                served: s.map(String::from),
            }
            .choose("example.com/log")
        };
        let c = fu(None, Some(&format!("{a}\n")));
        assert_eq!(
            (c.key.map(|k| k.vkey()), c.new, c.changed),
            (Some(a.clone()), true, None)
        );
        let c = fu(Some(&a), Some(&b));
        assert_eq!(c.key.map(|k| k.vkey()), Some(a.clone()));
        assert!(!c.new && c.changed.unwrap().contains("LOG KEY CHANGED"));
        let c = fu(Some(&a), None);
        assert_eq!(
            (c.key.map(|k| k.vkey()), c.new, c.changed),
            (Some(a.clone()), false, None)
        );
        for bad in [other_name.as_str(), cosig.as_str(), "garbage"] {
            let c = fu(None, Some(bad));
            assert!(c.key.is_none() && !c.new, "{bad}");
        }
    }
    use crate::log::note::NoteSigner;

    #[test]
    fn quorum_and_its_time() {
        let log = NoteSigner::from_seed("example.com/log", KeyKind::Ed25519, &[1; 32]).unwrap();
        let ws: Vec<NoteSigner> = (2..5)
            .map(|i| {
                NoteSigner::from_seed(&format!("w{i}.example"), KeyKind::Cosignature, &[i; 32])
                    .unwrap()
            })
            .collect();
        let text = format!(
            "# two of three\nlog {}\nwitness A {} https://a.example/\nwitness B {}\nwitness C {}\ngroup two 2 A B C\nquorum two\n",
            log.verifier().vkey(),
            ws[0].verifier().vkey(),
            ws[1].verifier().vkey(),
            ws[2].verifier().vkey()
        );
        let p = Policy::parse(&text).unwrap();
        let cp = "example.com/log\n1\nL/M/udjxT4nKMGKJYzM2oWj/P0Uy6PdBoAGdy0wdYKE=\n";
        let mut note = Note::parse(format!("{cp}\n{}", log.sign(cp).unwrap()).as_bytes()).unwrap();
        assert_eq!(p.evaluate(&note).unwrap().quorum_time, None);
        note.add_signatures(&ws[0].cosign(cp, 300).unwrap())
            .unwrap();
        assert_eq!(p.evaluate(&note).unwrap().quorum_time, None, "one of two");
        note.add_signatures(&ws[2].cosign(cp, 200).unwrap())
            .unwrap();
        let ev = p.evaluate(&note).unwrap();
        assert!(ev.log_signed);
        assert_eq!(ev.quorum_time, Some(300), "met when the second cosigned");
        note.add_signatures(&ws[1].cosign(cp, 100).unwrap())
            .unwrap();
        assert_eq!(p.evaluate(&note).unwrap().quorum_time, Some(200));
        assert!(
            Policy::parse("quorum none\n").is_ok(),
            "logs may come from key sites"
        );
        for bad in [
            "",
            "log x\nquorum none\n",
            &format!("log {}\ngroup g 1 A\nquorum g\n", log.verifier().vkey()),
            &format!(
                "log {}\nwitness A {}\nquorum A\nquorum A\n",
                log.verifier().vkey(),
                ws[0].verifier().vkey()
            ),
        ] {
            assert!(Policy::parse(bad).is_err(), "{bad:?}");
        }
    }
}
