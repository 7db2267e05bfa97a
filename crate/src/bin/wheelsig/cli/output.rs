//! Human-readable verification output.

use std::io::{self, Write};

use wheelsig::display::escape;
use wheelsig::report::{Carrier, Report, SigFormat, TrustKind, Verdict};

/// What to suggest when no trust source covers a signed wheel.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// Name the trust options.
    Sources,
    /// `--tofu` is on: the key is remembered (or, on a conflict, reported).
    FirstUse,
}

const INDENT: &str = "             ";

fn kind_name(k: TrustKind) -> &'static str {
    match k {
        TrustKind::KeyUrl => "key URL",
        TrustKind::KeyFile => "key file",
        TrustKind::Pin => "pin",
        TrustKind::FirstUse => "first use",
        TrustKind::ChosenKeyUrl => "key URL chosen on first use",
    }
}

/// One block per wheel: the verdict and file, then project, signatures, trust and problems.
/// Every string a signer or the archive controls goes through [`escape`].
pub fn human(out: &mut impl Write, r: &Report, members: bool, hint: Hint) -> io::Result<()> {
    writeln!(out, "{:<12} {}", r.verdict.as_str(), escape(&r.file))?;
    let what = match (&r.project, &r.version) {
        (Some(p), Some(v)) => format!("{} {}", escape(p), escape(v)),
        _ => "(unparsable file name)".to_string(),
    };
    writeln!(
        out,
        "{INDENT}{what} · {} files checked against RECORD",
        r.files_checked
    )?;
    // One block per key and carrier: an embedded RECORD.jws carries the same key's RFC 7515
    // signature and its wheel 0.31 legacy twin.
    struct Shown<'a> {
        formats: Vec<&'static str>,
        sig: &'a wheelsig::report::SignatureReport,
    }
    let mut shown: Vec<Shown<'_>> = Vec::new();
    for s in &r.signatures {
        let format = match s.format {
            SigFormat::General => "RFC 7515 general JSON",
            SigFormat::Flattened => "RFC 7515 flattened JSON",
            SigFormat::Legacy => "wheel 0.31 legacy",
        };
        let same = |g: &&mut Shown<'_>| {
            g.sig.kid == s.kid
                && g.sig.carrier == s.carrier
                && g.sig.source == s.source
                && g.sig.valid == s.valid
        };
        match shown.iter_mut().find(same) {
            Some(g) => g.formats.push(format),
            None => shown.push(Shown {
                formats: vec![format],
                sig: s,
            }),
        }
    }
    for Shown { formats, sig: s } in &shown {
        let (carrier, valid) = (&s.carrier, &s.valid);
        let who = match (&s.kid, &s.fingerprint) {
            (Some(k), Some(f)) => format!("key {} ({})", escape(k), escape(f)),
            _ => "unreadable key".to_string(),
        };
        let state = if *valid {
            "signed by"
        } else {
            "rejected signature by"
        };
        let via = s
            .source
            .as_deref()
            .map(|src| format!(", from {}", escape(src)))
            .unwrap_or_default();
        let carrier = match carrier {
            Carrier::Embedded => "embedded RECORD.jws",
            Carrier::Detached => "detached",
        };
        writeln!(out, "{INDENT}{state} {who}")?;
        writeln!(out, "{INDENT}  {carrier}, {}{via}", formats.join(" + "))?;
        if let Some(t) = &s.trusted_by {
            let witnessed = r
                .log
                .as_ref()
                .and_then(|l| l.witnessed)
                .and_then(|w| i64::try_from(w).ok());
            let retired = s
                .retired
                .map(|e| match witnessed {
                    Some(w) if w <= e => format!(" (key retired {}; the log's witnesses saw this release at {}, before that)", wheelsig::time::format(e), wheelsig::time::format(w)),
                    _ => format!(" (key retired {}; the signature claims an earlier time: the signer's own claim, not witnessed)", wheelsig::time::format(e)),
                })
                .unwrap_or_default();
            writeln!(
                out,
                "{INDENT}trusted via {}: {}{retired}",
                kind_name(t.kind),
                escape(&t.source)
            )?;
        }
        if let Some(j) = &s.jku {
            if s.trusted_by.is_none() {
                writeln!(
                    out,
                    "{INDENT}signer's key URL hint (not trusted by itself): {}",
                    escape(j)
                )?;
                writeln!(
                    out,
                    "{INDENT}  to check against it: wheelsig verify --key-url {} …",
                    escape(j)
                )?;
            }
        }
    }
    // The publisher's key URL as the wheel's METADATA names it: a hint, unless it is what
    // already vouched for the wheel (or the signature's own hint, shown above).
    if let Some(hint) = &r.key_url_hint {
        let vouched = r.signatures.iter().any(|s| {
            s.trusted_by.as_ref().is_some_and(|t| &t.source == hint)
                || (s.trusted_by.is_none() && s.jku.as_ref() == Some(hint))
        });
        if !vouched && r.verdict != Verdict::Trusted {
            writeln!(out, "{INDENT}publisher's key URL, as METADATA names it (Project-URL \"Signing keys\"; not trusted by itself): {}", escape(hint))?;
            writeln!(out, "{INDENT}  to check against it, signatures looked up there too: wheelsig verify --key-url {} {}", escape(hint), escape(&r.file))?;
        }
    }
    if let Some(l) = &r.log {
        let who: Vec<String> = l
            .cosignatures
            .iter()
            .map(|c| {
                format!(
                    "{} at {}",
                    escape(&c.name),
                    wheelsig::time::format(i64::try_from(c.time).unwrap_or(i64::MAX))
                )
            })
            .collect();
        let seen = if who.is_empty() {
            "not cosigned by any witness the policy names".to_string()
        } else {
            format!("seen by witnesses {}", who.join(" and "))
        };
        let quorum = if l.quorum {
            "quorum met"
        } else {
            "quorum NOT met"
        };
        writeln!(
            out,
            "{INDENT}logged: release #{} of {} (tree size {}), {seen}; {quorum}",
            l.index,
            escape(&l.origin),
            l.tree_size
        )?;
        let consistency = match l.consistency.as_str() {
            "first-sighting" => "first sighting of this log on this machine: remembered",
            "consistent" => "consistent with what this machine saw before",
            "older-consistent" => {
                "older than what this machine saw before, but consistent (a stale copy)"
            }
            "split-view" => "CONTRADICTS what this machine saw before",
            _ => {
                "consistency with earlier sightings not checked (the log's files could not be read)"
            }
        };
        writeln!(out, "{INDENT}  {consistency}")?;
        if l.log_key == "first-use" {
            writeln!(out, "{INDENT}  log key: the key site's log/vkey, remembered on first use (the witness policy does not list this log)")?;
        }
    }
    if let Some(il) = &r.index_log {
        let who: Vec<String> = il
            .cosignatures
            .iter()
            .map(|c| escape(&c.name).into_owned())
            .collect();
        let by = if who.is_empty() {
            "not cosigned by any witness the policy names".to_string()
        } else {
            format!("cosigned by {}", who.join(" and "))
        };
        let line = match il.status.as_str() {
            "logged" => {
                let since = il.witnessed.and_then(|t| i64::try_from(t).ok()).map_or_else(|| "no archived cosigned checkpoint dates it yet".to_string(), |t| format!("witnessed since {}", wheelsig::time::format(t)));
                format!("index log: this exact file has been in {} ({since}; {by})", escape(&il.origin))
            }
            "different" => format!("INDEX LOG MISMATCH: {} logged this file name with another sha256: you were not served what everyone else was", escape(&il.origin)),
            _ => format!("index log: this file is not in {} ({} entries)", escape(&il.origin), il.tree_size),
        };
        writeln!(out, "{INDENT}{line}")?;
    }
    if let Some(ix) = &r.index {
        let when = ix
            .upload_time
            .as_deref()
            .map(|t| format!(", uploaded {}", escape(t)))
            .unwrap_or_default();
        let line = match ix.matches {
            Some(true) => format!(
                "index: {} serves this file with the same sha256{when}",
                escape(&ix.page)
            ),
            Some(false) => format!(
                "INDEX MISMATCH: {} serves this file name with sha256 {}, not this file's",
                escape(&ix.page),
                escape(ix.sha256.as_deref().unwrap_or_default())
            ),
            None if !ix.listed => format!("index: {} does not list this file", escape(&ix.page)),
            None => format!(
                "index: {} lists this file without a sha256: nothing compared",
                escape(&ix.page)
            ),
        };
        writeln!(out, "{INDENT}{line}")?;
    }
    if r.verdict == Verdict::Signed {
        let project = escape(r.project.as_deref().unwrap_or("this project"));
        match hint {
            Hint::Sources => writeln!(out, "{INDENT}no trust source covers {project}: use --key-url, --jwks, --pin or --tofu")?,
            Hint::FirstUse => writeln!(out, "{INDENT}first use: no trust source covers {project}; its key is remembered, and a different key later is `key-changed`")?,
        }
    }
    for p in &r.problems {
        match &p.path {
            Some(path) => writeln!(
                out,
                "{INDENT}{} {}: {}",
                p.code,
                escape(path),
                escape(&p.message)
            )?,
            None => writeln!(out, "{INDENT}{} {}", p.code, escape(&p.message))?,
        }
    }
    if members {
        for m in &r.members {
            writeln!(
                out,
                "{INDENT}  {:<9} {:>12}  {}",
                format!("{:?}", m.status).to_lowercase(),
                m.size,
                escape(&m.path)
            )?;
        }
    }
    Ok(())
}

/// A loud warning, like ssh's, when a project's key changed since first use (`remembered`),
/// or when one batch shows a project signed by several keys at its first use.
pub fn key_changed_banner(r: &Report, remembered: bool) {
    let project = escape(r.project.as_deref().unwrap_or("?"));
    eprintln!("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@");
    eprintln!("@    WARNING: THE SIGNING KEY OF {project} HAS CHANGED!");
    eprintln!("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@");
    if remembered {
        eprintln!(
            "{} is signed by a different key than the one remembered on first use.",
            escape(&r.file)
        );
        eprintln!("Someone could be giving you a tampered release, or the publisher rotated keys.");
        eprintln!("Check the publisher's key page; if the change is legitimate, run `wheelsig trust remove {project}`.");
    } else {
        eprintln!("{} arrived in a batch where {project} is signed by more than one key, so no key was kept.", escape(&r.file));
        eprintln!("Someone could be giving you a tampered release. Check the publisher's key page, then verify with --key-url.");
    }
}

/// A loud warning when a release log showed this machine two histories.
pub fn split_view_banner(r: &Report) {
    let origin = r
        .log
        .as_ref()
        .map(|l| escape(&l.origin).into_owned())
        .unwrap_or_default();
    eprintln!("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@");
    eprintln!("@    WARNING: SPLIT VIEW OF THE RELEASE LOG {origin}");
    eprintln!("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@");
    eprintln!(
        "The log that vouches for {} showed this machine a different history before.",
        escape(&r.file)
    );
    eprintln!("You may be shown releases nobody else sees. Both signed checkpoints are saved as evidence;");
    eprintln!(
        "send them to the publisher and the witnesses. Do not install until this is explained."
    );
}

/// The outcome of a batch: how many wheels got each verdict, and whether all passed.
#[derive(serde::Serialize)]
pub struct Summary {
    /// Wheels verified (errors not included).
    pub wheels: usize,
    /// Wheels that could not be read (I/O errors).
    pub errors: usize,
    /// Wheels per verdict, in order of severity.
    pub verdicts: std::collections::BTreeMap<&'static str, usize>,
    /// The bar (`intact`, `signed`, `trusted`).
    pub requirement: &'static str,
    /// Wheels below it.
    pub failed: usize,
    /// Every wheel read and passed.
    pub passed: bool,
}

impl Summary {
    /// Count `reports` against `requirement`.
    pub fn of(
        reports: &[Report],
        errors: usize,
        requirement: wheelsig::report::Requirement,
    ) -> Summary {
        use wheelsig::report::Requirement;
        let mut verdicts = std::collections::BTreeMap::new();
        for r in reports {
            *verdicts.entry(r.verdict.as_str()).or_insert(0) += 1;
        }
        let failed = reports
            .iter()
            .filter(|r| !requirement.accepts(r.verdict))
            .count();
        let requirement = match requirement {
            Requirement::Intact => "intact",
            Requirement::Signed => "signed",
            Requirement::Trusted => "trusted",
        };
        Summary {
            wheels: reports.len(),
            errors,
            verdicts,
            requirement,
            failed,
            passed: failed == 0 && errors == 0,
        }
    }

    /// One line: `PASS: 12 wheels (10 trusted, 2 signed); required: signed` or `FAIL: …`.
    pub fn line(&self) -> String {
        const ORDER: [&str; 6] = [
            "trusted",
            "signed",
            "unsigned",
            "key-changed",
            "untrusted",
            "invalid",
        ];
        let counts: Vec<String> = ORDER
            .iter()
            .filter_map(|v| self.verdicts.get(v).map(|n| format!("{n} {v}")))
            .collect();
        let errors = if self.errors > 0 {
            format!(", {} could not be read", self.errors)
        } else {
            String::new()
        };
        let n = self.wheels + self.errors;
        let head = if self.passed {
            "PASS".to_string()
        } else {
            format!("FAIL ({} below the bar{errors})", self.failed)
        };
        format!(
            "{head}: {n} wheel{} ({}); required: {}",
            if n == 1 { "" } else { "s" },
            counts.join(", "),
            self.requirement
        )
    }
}

/// `wheelsig inspect`: what a signature document says. Everything from the document is escaped.
pub fn inspection(
    out: &mut impl Write,
    file: &str,
    i: &wheelsig::jws::Inspection,
) -> io::Result<()> {
    writeln!(out, "{}", escape(file))?;
    writeln!(out, "{INDENT}binds {}", i.binds)?;
    writeln!(
        out,
        "{INDENT}{} entr{}; trust is not checked here (use `wheelsig verify` with the wheel)",
        i.signatures.len(),
        if i.signatures.len() == 1 { "y" } else { "ies" }
    )?;
    for s in &i.signatures {
        let format = match s.format {
            SigFormat::General => "RFC 7515 general JSON",
            SigFormat::Flattened => "RFC 7515 flattened JSON",
            SigFormat::Legacy => "wheel 0.31 legacy",
        };
        let who = match (&s.kid, &s.fingerprint) {
            (Some(k), Some(f)) => format!("key {} ({})", escape(k), escape(f)),
            _ => "an unreadable key".into(),
        };
        let state = if s.valid {
            "valid signature"
        } else {
            "INVALID signature"
        };
        writeln!(
            out,
            "{INDENT}{state} by {who}, {format}, alg {}",
            escape(s.alg.as_deref().unwrap_or("(none)"))
        )?;
        if let Some(j) = &s.jku {
            writeln!(
                out,
                "{INDENT}  signer's key URL hint (jku, not trusted by itself): {}",
                escape(j)
            )?;
        }
        if let Some(p) = &s.problem {
            writeln!(out, "{INDENT}  {} {}", p.code, escape(&p.message))?;
        }
    }
    Ok(())
}
