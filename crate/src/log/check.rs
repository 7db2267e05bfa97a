//! Checking one release against its log: the tlog-proof's inclusion of the release's leaf,
//! the log's signature, the witnesses' cosignatures against the user's policy, and the
//! consistency of the checkpoint with what this verifier saw of the log before.

use super::checkpoint::Checkpoint;
use super::merkle::{leaf_hash, Hash};
use super::policy::Policy;
use super::proof::TlogProof;
use super::release::ReleaseLeaf;
use crate::report::{Code, Cosigner, LogReport, Problem};

/// A release's proof, checked.
#[derive(Debug, Clone)]
pub struct CheckedProof {
    /// What to report (consistency filled in by the caller's memory).
    pub report: LogReport,
    /// The checkpoint that includes the release.
    pub checkpoint: Checkpoint,
    /// That checkpoint's whole note (signatures included), for memory and evidence.
    pub note: String,
}

/// Check `proof` (a tlog-proof file) for `leaf` against `policy`. Problems carry the codes of
/// docs/SPEC.md "Release log"; a quorum that is not met is reported in `report.quorum`, and is
/// a problem only when the caller requires it.
pub fn check_proof(
    proof: &[u8],
    leaf: &ReleaseLeaf,
    policy: &Policy,
) -> Result<CheckedProof, Problem> {
    let p =
        TlogProof::parse(proof).map_err(|e| Problem::file(Code::LogMalformed, e.to_string()))?;
    let origin = &p.checkpoint.origin;
    if !policy.logs.iter().any(|(k, _)| k.name() == origin) {
        return Err(Problem::file(
            Code::LogUnknownKey,
            format!(
                "the witness policy lists no key for the log {}",
                crate::display::escape(origin)
            ),
        ));
    }
    let ev = policy.evaluate(&p.note).map_err(|e| {
        Problem::file(
            Code::LogBadSignature,
            format!("log {}: {e}", crate::display::escape(origin)),
        )
    })?;
    if !ev.log_signed {
        return Err(Problem::file(
            Code::LogBadSignature,
            format!(
                "the checkpoint of {} is not signed by the log key the policy lists",
                crate::display::escape(origin)
            ),
        ));
    }
    if !p.includes(&leaf_hash(&leaf.encode())) {
        return Err(Problem::file(
            Code::LogNotIncluded,
            format!("the log proof does not show this release (index {}, file {}, sha256 {}) in {} at size {}", p.index, leaf.file, leaf.sha256, crate::display::escape(origin), p.checkpoint.size),
        ));
    }
    let report = LogReport {
        origin: origin.clone(),
        index: p.index,
        tree_size: p.checkpoint.size,
        cosignatures: ev
            .cosigners
            .iter()
            .map(|(_, name, time)| Cosigner {
                name: name.clone(),
                time: *time,
            })
            .collect(),
        quorum: ev.quorum_time.is_some(),
        witnessed: ev.quorum_time.filter(|t| *t > 0),
        consistency: "not-checked".into(),
        log_key: "policy".into(),
    };
    Ok(CheckedProof {
        report,
        checkpoint: p.checkpoint,
        note: p.note.to_text(),
    })
}

/// How a checkpoint relates to the one this verifier remembers for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consistency {
    /// Nothing remembered yet.
    FirstSighting,
    /// The new checkpoint extends (or equals) the remembered one.
    Consistent,
    /// Older than the remembered one, and a prefix of it (a stale cache or CDN).
    OlderConsistent,
    /// The two cannot both be views of one append-only log.
    SplitView,
    /// Sizes differ and the tree could not be rebuilt to compare.
    NotChecked,
}

impl Consistency {
    /// The report's string.
    pub fn as_str(self) -> &'static str {
        match self {
            Consistency::FirstSighting => "first-sighting",
            Consistency::Consistent => "consistent",
            Consistency::OlderConsistent => "older-consistent",
            Consistency::SplitView => "split-view",
            Consistency::NotChecked => "not-checked",
        }
    }
}

/// Compare a new checkpoint with the remembered one. `root_at(size)` gives the root of the
/// log's tree at a smaller size, rebuilt from the log's own files by the caller and checked
/// against the larger checkpoint (`None` when it could not be).
pub fn compare(
    seen: Option<&Checkpoint>,
    new: &Checkpoint,
    root_at: &mut dyn FnMut(u64) -> Option<Hash>,
) -> Consistency {
    let Some(seen) = seen else {
        return Consistency::FirstSighting;
    };
    if seen.size == new.size {
        return if seen.root == new.root {
            Consistency::Consistent
        } else {
            Consistency::SplitView
        };
    }
    let (smaller, newer_is_larger) = if new.size > seen.size {
        (seen, true)
    } else {
        (new, false)
    };
    match root_at(smaller.size) {
        None => Consistency::NotChecked,
        Some(r) if r != smaller.root => Consistency::SplitView,
        Some(_) if newer_is_larger => Consistency::Consistent,
        Some(_) => Consistency::OlderConsistent,
    }
}
