//! What an index log (`wheelsig index-log`) says about one file, for `verify --index-log`:
//! pure, with the log's files read through a callback (the CLI fetches them over HTTP).
//!
//! 1. The latest checkpoint must be signed by a log key the witness policy lists (or the
//!    first-use key the caller passes in); its cosignatures are evaluated against the policy.
//! 2. `lookup/<project>` names the entries for the file name; each is read from its entry
//!    bundle, must be a `wheelsig-index/v1` leaf for this project and file, and must be in the
//!    tree by an inclusion proof built from the hash tiles and checked against the signed
//!    root. (A lying lookup file can only hide entries: every entry it names is proven.)
//! 3. The file's age: the earliest archived cosigned checkpoint (`checkpoints/index`,
//!    `checkpoints/<size>`) that includes its entry, by the policy's quorum: witnesses vouch
//!    the entry existed then. `min_age` fails a file first logged more recently.

use super::checkpoint::Checkpoint;
use super::index_leaf::IndexLeaf;
use super::merkle::{leaf_hash, tile_path, verify_inclusion};
use super::note::Note;
use super::policy::Policy;
use super::tiles::{parse_bundle, WIDTH};
use crate::display::escape;
use crate::report::{Code, Cosigner, Problem};

/// Largest lookup file read.
pub const MAX_LOOKUP_BYTES: usize = 8 << 20;
/// Most entries one file name may have in a lookup file.
const MAX_ENTRIES_PER_FILE: usize = 64;
/// Most archived checkpoints considered.
const MAX_ARCHIVED: usize = 100_000;

/// The index log's statement about one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IndexLogReport {
    /// The log's origin.
    pub origin: String,
    /// Its latest checkpoint's size.
    pub tree_size: u64,
    /// `logged` (this sha256 is in the log), `different` (the file name is logged only with
    /// other digests), or `absent`.
    pub status: String,
    /// The proven entries for this file name: (index, sha256, first seen by the follower).
    pub entries: Vec<IndexLogEntry>,
    /// Cosignatures on the latest checkpoint by witnesses the policy names.
    pub cosignatures: Vec<Cosigner>,
    /// Whether the latest checkpoint meets the policy's quorum.
    pub quorum: bool,
    /// When the policy's quorum first vouched for this file's entry (the earliest archived
    /// cosigned checkpoint that includes it), Unix seconds.
    pub witnessed: Option<u64>,
}

/// One proven entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IndexLogEntry {
    /// Its index in the log.
    pub index: u64,
    /// The sha256 it records.
    pub sha256: String,
    /// When the follower first saw it (its own clock).
    pub first_seen: String,
    /// The index's upload time, if given.
    pub uploaded: Option<String>,
}

/// What checking produced: the report (when the checkpoint could be trusted), and problems.
pub struct Checked {
    /// The report.
    pub report: Option<IndexLogReport>,
    /// Problems (each makes the wheel `untrusted`).
    pub problems: Vec<Problem>,
    /// The verified latest checkpoint note and parsed checkpoint, for the caller's memory.
    pub checkpoint: Option<(String, Checkpoint)>,
}

fn problem(code: Code, m: String) -> Problem {
    Problem::file(code, m)
}

/// Check `file` (of `project`, with `sha256`) against the index log whose latest checkpoint
/// is `latest`. `read(path)` fetches a path under the log's URL (`lookup/…`, `tile/…`,
/// `checkpoints/…`). `now` and `min_age` are Unix seconds.
#[allow(clippy::too_many_arguments)]
pub fn check(
    file: &str,
    project: &str,
    sha256: &str,
    latest: &[u8],
    policy: &Policy,
    read: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
    now: i64,
    min_age: Option<i64>,
) -> Checked {
    let fail = |code, m| Checked {
        report: None,
        problems: vec![problem(code, m)],
        checkpoint: None,
    };
    let note = match Note::parse(latest) {
        Ok(n) => n,
        Err(e) => {
            return fail(
                Code::LogMalformed,
                format!("the index log's checkpoint: {e}"),
            )
        }
    };
    let cp = match Checkpoint::parse(note.text()) {
        Ok(c) => c,
        Err(e) => {
            return fail(
                Code::LogMalformed,
                format!("the index log's checkpoint: {e}"),
            )
        }
    };
    if !policy.lists_log(&cp.origin) {
        return fail(
            Code::LogUnknownKey,
            format!(
                "the witness policy lists no key for the index log {}",
                escape(&cp.origin)
            ),
        );
    }
    let ev = match policy.evaluate(&note) {
        Ok(ev) if ev.log_signed => ev,
        Ok(_) => {
            return fail(
                Code::LogBadSignature,
                format!(
                    "the checkpoint of {} is not signed by the log key the policy lists",
                    escape(&cp.origin)
                ),
            )
        }
        Err(e) => {
            return fail(
                Code::LogBadSignature,
                format!("index log {}: {e}", escape(&cp.origin)),
            )
        }
    };
    let mut problems = Vec::new();
    // The entries the lookup file names for this file name.
    let lookup_path = format!("lookup/{project}");
    let lookup = read(&lookup_path).unwrap_or_default();
    let mut indices = Vec::new();
    if lookup.len() > MAX_LOOKUP_BYTES {
        problems.push(problem(
            Code::LogMalformed,
            format!("{lookup_path} is over {MAX_LOOKUP_BYTES} bytes"),
        ));
    } else {
        for line in String::from_utf8_lossy(&lookup).lines() {
            let mut parts = line.split(' ');
            if let (Some(i), Some(f), Some(_)) = (parts.next(), parts.next(), parts.next()) {
                if f == file {
                    match i.parse::<u64>() {
                        Ok(i) if i < cp.size && indices.len() < MAX_ENTRIES_PER_FILE => {
                            indices.push(i)
                        }
                        _ => problems.push(problem(
                            Code::LogMalformed,
                            format!("{lookup_path}: a bad entry index {}", escape(i)),
                        )),
                    }
                }
            }
        }
    }
    let mut entries = Vec::new();
    for i in indices {
        let n = i / WIDTH as u64;
        let width = (cp.size - n * WIDTH as u64).min(WIDTH as u64) as u16;
        let path = tile_path(None, n, width);
        let Some(bundle) = read(&path) else {
            problems.push(problem(
                Code::LogNotIncluded,
                format!("entry {i}: {path} could not be read"),
            ));
            continue;
        };
        let Some(entry) = parse_bundle(&bundle)
            .ok()
            .and_then(|b| b.into_iter().nth((i % WIDTH as u64) as usize))
        else {
            problems.push(problem(
                Code::LogMalformed,
                format!("entry {i}: {path} is not a bundle holding it"),
            ));
            continue;
        };
        let leaf = match IndexLeaf::parse(&entry) {
            Ok(l) if l.project == project && l.file == file => l,
            Ok(_) => {
                problems.push(problem(
                    Code::LogMalformed,
                    format!("entry {i} is not for {}", escape(file)),
                ));
                continue;
            }
            Err(e) => {
                problems.push(problem(Code::LogMalformed, format!("entry {i}: {e}")));
                continue;
            }
        };
        let proven =
            super::tilelog::inclusion_from_tiles(i, cp.size, read).is_ok_and(|(proof, _)| {
                verify_inclusion(&leaf_hash(&entry), i, cp.size, &proof, &cp.root)
            });
        if !proven {
            problems.push(problem(
                Code::LogNotIncluded,
                format!(
                    "entry {i} is not in {} at size {} (the tiles do not prove it)",
                    escape(&cp.origin),
                    cp.size
                ),
            ));
            continue;
        }
        entries.push(IndexLogEntry {
            index: i,
            sha256: leaf.sha256,
            first_seen: leaf.first_seen,
            uploaded: leaf.uploaded,
        });
    }
    let ours = entries.iter().find(|e| e.sha256 == sha256).cloned();
    let status = match (&ours, entries.is_empty()) {
        (Some(_), _) => "logged",
        (None, false) => "different",
        (None, true) => "absent",
    };
    // Logged, but not first: the name was logged with another digest before this one.
    if let (Some(o), Some(first)) = (&ours, entries.iter().min_by_key(|e| e.index)) {
        if first.sha256 != o.sha256 {
            problems.push(problem(Code::IndexLogMismatch, format!("{} was first logged in {} with sha256 {} (entry {}); this file's digest came later (entry {}): the index changed the file after others got it", escape(file), escape(&cp.origin), first.sha256, first.index, o.index)));
        }
    }
    if status == "different" {
        let logged: Vec<String> = entries.iter().map(|e| e.sha256.clone()).collect();
        problems.push(problem(Code::IndexLogMismatch, format!("{} is logged in {} with sha256 {}, not this file's {sha256}: you were not served what everyone else was", escape(file), escape(&cp.origin), logged.join(", "))));
    }
    // Dated by the earliest archived cosigned checkpoint that includes the entry.
    let witnessed = ours
        .as_ref()
        .and_then(|e| earliest_witnessed(e, policy, &cp, read));
    if let Some(min) = min_age {
        match (status, witnessed) {
            ("logged", Some(t)) if now - (t as i64) >= min => {}
            ("logged", Some(t)) => problems.push(problem(
                Code::IndexLogTooNew,
                format!(
                    "{} was first witnessed in {} at {}, less than the required age ago",
                    escape(file),
                    escape(&cp.origin),
                    crate::time::format(t as i64)
                ),
            )),
            ("logged", None) => problems.push(problem(
                Code::IndexLogTooNew,
                format!(
                    "no cosigned checkpoint of {} that meets the witness policy dates {} yet",
                    escape(&cp.origin),
                    escape(file)
                ),
            )),
            ("absent", _) => problems.push(problem(
                Code::IndexLogAbsent,
                format!(
                    "{} is not in the index log {}, so its age is unknown",
                    escape(file),
                    escape(&cp.origin)
                ),
            )),
            _ => {}
        }
    }
    let report = IndexLogReport {
        origin: cp.origin.clone(),
        tree_size: cp.size,
        status: status.into(),
        entries,
        cosignatures: ev
            .cosigners
            .iter()
            .map(|(_, name, time)| Cosigner {
                name: name.clone(),
                time: *time,
            })
            .collect(),
        quorum: ev.quorum_time.is_some(),
        witnessed,
    };
    Checked {
        report: Some(report),
        problems,
        checkpoint: Some((note.to_text(), cp)),
    }
}

/// The quorum time of the first archived cosigned checkpoint that includes entry `e`.
fn earliest_witnessed(
    e: &IndexLogEntry,
    policy: &Policy,
    latest: &Checkpoint,
    read: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
) -> Option<u64> {
    let list = read("checkpoints/index")?;
    let mut sizes: Vec<u64> = String::from_utf8_lossy(&list)
        .lines()
        .take(MAX_ARCHIVED)
        .filter_map(|l| l.trim().parse().ok())
        .filter(|s| *s > e.index && *s <= latest.size)
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    // The entry's bytes (for its leaf hash), from its bundle at the latest size.
    let n = e.index / WIDTH as u64;
    let width = (latest.size - n * WIDTH as u64).min(WIDTH as u64) as u16;
    let entry = parse_bundle(&read(&tile_path(None, n, width))?)
        .ok()?
        .into_iter()
        .nth((e.index % WIDTH as u64) as usize)?;
    let leaf = leaf_hash(&entry);
    // The smallest archived size that includes the entry and is cosigned by the quorum.
    for size in sizes.into_iter().take(64) {
        let note = Note::parse(&read(&format!("checkpoints/{size}"))?).ok()?;
        let cp = Checkpoint::parse(note.text()).ok()?;
        if cp.origin != latest.origin || cp.size != size {
            continue;
        }
        let Ok(ev) = policy.evaluate(&note) else {
            continue;
        };
        // `quorum none` (time 0) dates nothing: only witnesses' times count.
        let Some(t) = ev.quorum_time.filter(|t| ev.log_signed && *t > 0) else {
            continue;
        };
        let included = super::tilelog::inclusion_from_tiles(e.index, size, read)
            .is_ok_and(|(proof, _)| verify_inclusion(&leaf, e.index, size, &proof, &cp.root));
        if included {
            return Some(t);
        }
    }
    None
}
