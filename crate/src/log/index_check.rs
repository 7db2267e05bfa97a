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

use super::check::Consistency;
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
        // The proof's tiles depend only on the index: read them first (a caller gathering
        // reads in rounds, like the browser, then asks for them with the bundle).
        let tiles_proof = super::tilelog::inclusion_from_tiles(i, cp.size, read);
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
        let proven = tiles_proof.is_ok_and(|(proof, _)| {
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

/// How the latest checkpoint relates to the one this machine (or browser) remembers for the
/// index log, and whether to remember the latest one now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compared {
    /// The outcome (`split-view` is a problem for every wheel checked against this log).
    pub consistency: Consistency,
    /// Whether the caller should now remember the latest checkpoint (the first sighting, or
    /// a consistent larger one).
    pub remember: bool,
}

/// Compare the verified latest checkpoint `cp` with `seen`, the note remembered for the log
/// (or `None`), the rule of `verify --index-log` and the widget's `index-log`. A remembered
/// note counts only if a log key of `policy` signed it and it is a checkpoint of the same
/// origin (the memory may be writable by others: a planted note is ignored, never a split
/// view). Same size: the roots must be equal. The log grew: a consistency proof from the
/// log's hash tiles (`read`) must take the remembered root to `cp`'s. The log shrank (a stale
/// copy, or a rollback): a proof from `cp` to the remembered size, from tiles of that size,
/// gives `older-consistent`; tiles that cannot be read give `not-checked`.
pub fn compare(
    seen: Option<&str>,
    cp: &Checkpoint,
    policy: &Policy,
    read: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
) -> Compared {
    use super::merkle::verify_consistency;
    use super::tilelog::consistency_from_tiles;
    let seen = seen
        .and_then(|n| Note::parse(n.as_bytes()).ok())
        .filter(|n| matches!(policy.evaluate(n), Ok(ev) if ev.log_signed))
        .and_then(|n| Checkpoint::parse(n.text()).ok())
        .filter(|s| s.origin == cp.origin);
    let consistency = match &seen {
        None => Consistency::FirstSighting,
        Some(s) if s.size == cp.size => {
            if s.root == cp.root {
                Consistency::Consistent
            } else {
                Consistency::SplitView
            }
        }
        Some(s) if s.size < cp.size => match consistency_from_tiles(s.size, cp.size, read) {
            Ok(proof) if verify_consistency(s.size, cp.size, &s.root, &cp.root, &proof) => {
                Consistency::Consistent
            }
            Ok(_) => Consistency::SplitView,
            Err(_) => Consistency::NotChecked,
        },
        Some(s) => match consistency_from_tiles(cp.size, s.size, read) {
            Ok(proof) if verify_consistency(cp.size, s.size, &cp.root, &s.root, &proof) => {
                Consistency::OlderConsistent
            }
            Ok(_) => Consistency::SplitView,
            Err(_) => Consistency::NotChecked,
        },
    };
    let remember = matches!(
        consistency,
        Consistency::FirstSighting | Consistency::Consistent
    ) && seen.as_ref().is_none_or(|s| s.size < cp.size);
    Compared {
        consistency,
        remember,
    }
}

/// The log key of a log the witness policy does not list, by first use (`Reader::open` in the
/// CLI, the widget's `index-log`): `policy` with the chosen key added, the key to remember
/// (origin, vkey) when it was used for the first time, and a `log-key-changed` problem when the
/// log now serves another key than the remembered one (which stays the one used).
pub fn with_first_use_key(
    policy: &Policy,
    origin: &str,
    first_use: &super::policy::LogKeyFirstUse,
) -> (Policy, Option<(String, String)>, Option<Problem>) {
    let mut policy = policy.clone();
    if policy.lists_log(origin) {
        return (policy, None, None);
    }
    let choice = first_use.choose(origin);
    let problem = choice.changed.map(|m| problem(Code::LogKeyChanged, m));
    let mut new_key = None;
    if let Some(k) = choice.key {
        if choice.new {
            new_key = Some((origin.to_string(), k.vkey()));
        }
        policy.logs.push((k, None));
    }
    (policy, new_key, problem)
}

/// Whether `path` is one of the index log's own files, as [`check`] and [`compare`] read them:
/// `lookup/<project>`, `tile/<L>/…` (C2SP tile paths), `checkpoints/index` or
/// `checkpoints/<size>`; relative, no `.` or `..` or empty component, nothing but ASCII
/// letters, digits, `.`, `-`, `_` and `/`. A page that fetches paths it is asked for checks
/// each with this first (and resolves it under the log's URL).
pub fn is_log_path(path: &str) -> bool {
    let ok_chars = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/'));
    let parts: Vec<&str> = path.split('/').collect();
    let ok_parts = parts
        .iter()
        .all(|p| !p.is_empty() && *p != "." && *p != "..");
    let kind = match parts.as_slice() {
        ["lookup", p] => crate::names::is_valid_project(p),
        ["checkpoints", "index"] => true,
        ["checkpoints", n] => n.bytes().all(|b| b.is_ascii_digit()) && n.len() <= 20,
        ["tile", ..] => parts.len() <= 12,
        _ => false,
    };
    !path.is_empty() && path.len() <= 256 && ok_chars && ok_parts && kind
}

/// The largest response read for a log path (the tiles' own sizes, a note's, a lookup file's).
pub fn max_bytes(path: &str) -> usize {
    if path.starts_with("tile/entries/") {
        MAX_BUNDLE_BYTES
    } else if path.starts_with("tile/") {
        WIDTH * 32
    } else if path.starts_with("lookup/") {
        MAX_LOOKUP_BYTES
    } else if path == "checkpoints/index" {
        MAX_ARCHIVED * 21
    } else {
        super::note::MAX_NOTE_BYTES
    }
}

/// Largest entry bundle read (256 entries of a few hundred bytes in practice; 4 MiB allowed).
pub const MAX_BUNDLE_BYTES: usize = 64 * 65_537;
/// Most files one [`gather`] step may be given (a check reads about 10 to 40).
pub const MAX_GATHER_FILES: usize = 512;

/// The result of one [`gather`] step.
#[derive(Debug)]
pub enum Gathered<T> {
    /// The run read these log paths, which were not given: fetch them and run again.
    Need(Vec<String>),
    /// Every path the run read was given (a path given as `None` is a file the log does not
    /// have): the result stands.
    Done(T),
}

/// Run `run` (a [`check`], a [`compare`]) over files already fetched, for a caller that cannot
/// read synchronously (the browser): each read of a path not in `files` is recorded and
/// answered with a placeholder (a hash tile of zeros, so a proof goes on and names every tile
/// it needs in one step; `None` otherwise). When anything was missing, the result is thrown
/// away and the missing paths are returned; the caller fetches them and runs again, until
/// `Done`. Paths that are not log paths ([`is_log_path`]) are never requested.
pub fn gather<T>(
    files: &std::collections::BTreeMap<String, Option<Vec<u8>>>,
    run: impl FnOnce(&mut dyn FnMut(&str) -> Option<Vec<u8>>) -> T,
) -> Gathered<T> {
    let mut missing: Vec<String> = Vec::new();
    let mut read = |path: &str| -> Option<Vec<u8>> {
        if let Some(v) = files.get(path) {
            return v.clone();
        }
        if !is_log_path(path) {
            return None;
        }
        if !missing.iter().any(|m| m == path) {
            missing.push(path.to_string());
        }
        placeholder(path)
    };
    let out = run(&mut read);
    if missing.is_empty() {
        Gathered::Done(out)
    } else {
        Gathered::Need(missing)
    }
}

/// A hash tile of the width its path names, all zeros; nothing for other paths.
fn placeholder(path: &str) -> Option<Vec<u8>> {
    let rest = path.strip_prefix("tile/")?;
    if rest.starts_with("entries/") {
        return None;
    }
    let width = match rest.split_once(".p/") {
        Some((_, w)) => w.parse::<usize>().ok().filter(|w| (1..WIDTH).contains(w))?,
        None => WIDTH,
    };
    Some(vec![0; width * 32])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::note::{KeyKind, NoteSigner};
    use crate::log::tilelog::TileWriter;
    use std::collections::BTreeMap;

    type Files = BTreeMap<String, Option<Vec<u8>>>;

    fn leaf(i: u64, file: &str, sha: &str) -> IndexLeaf {
        IndexLeaf {
            index: "https://pypi.example/simple/".into(),
            project: format!("p{}", i % 7),
            file: file.into(),
            sha256: sha.into(),
            uploaded: None,
            first_seen: "2026-01-01T00:00:00Z".into(),
        }
    }

    fn signed(key: &NoteSigner, size: u64, root: crate::log::merkle::Hash) -> String {
        let text = Checkpoint {
            origin: key.verifier().name().into(),
            size,
            root,
            extensions: vec![],
        }
        .text();
        format!("{text}\n{}", key.sign(&text).unwrap())
    }

    /// A log of `n` entries (entry 300 is `demo-1.0-py3-none-any.whl`, project p6), its files
    /// after each flush at `sizes` kept (partial tiles of every published size stay), and
    /// the signed checkpoint notes at those sizes.
    fn log(key: &NoteSigner, n: u64, sizes: &[u64]) -> (Files, BTreeMap<u64, String>) {
        let mut w = TileWriter::new();
        let mut files = Files::new();
        let mut notes = BTreeMap::new();
        let mut lookup = String::new();
        for i in 0..n {
            let l = if i == 300 {
                leaf(i, "demo-1.0-py3-none-any.whl", &"ab".repeat(32))
            } else {
                leaf(
                    i,
                    &format!("f{i}-1.0-py3-none-any.whl"),
                    &format!("{i:064x}"),
                )
            };
            if l.project == "p6" {
                lookup.push_str(&format!("{i} {} {}\n", l.file, l.sha256));
            }
            w.append(l.encode()).unwrap();
            if sizes.contains(&(i + 1)) {
                for (p, b) in w.flush() {
                    files.insert(p, Some(b));
                }
                files.insert("lookup/p6".into(), Some(lookup.clone().into_bytes()));
                notes.insert(i + 1, signed(key, w.size(), w.root()));
            }
        }
        (files, notes)
    }

    fn policy(key: &NoteSigner) -> Policy {
        Policy::parse(&format!("log {}\nquorum none\n", key.verifier().vkey())).unwrap()
    }

    /// Check a file by the gather loop; returns the result and the rounds it took.
    fn gathered(
        all: &Files,
        note: &str,
        policy: &Policy,
        sha: &str,
        seen: Option<&str>,
    ) -> ((Checked, Option<Compared>), usize, Vec<String>) {
        let mut have = Files::new();
        let mut asked = Vec::new();
        for round in 1..=8 {
            let step = gather(&have, |read| {
                let c = check(
                    "demo-1.0-py3-none-any.whl",
                    "p6",
                    sha,
                    note.as_bytes(),
                    policy,
                    read,
                    0,
                    None,
                );
                let cmp = c
                    .checkpoint
                    .as_ref()
                    .map(|(_, cp)| compare(seen, cp, policy, read));
                (c, cmp)
            });
            match step {
                Gathered::Done(out) => return (out, round, asked),
                Gathered::Need(paths) => {
                    for p in paths {
                        assert!(is_log_path(&p), "{p}");
                        asked.push(p.clone());
                        have.insert(p.clone(), all.get(&p).cloned().flatten());
                    }
                }
            }
        }
        panic!("more than 8 rounds");
    }

    #[test]
    fn the_gather_loop_gives_what_direct_reads_give() {
        let key = NoteSigner::from_seed("test.example/index", KeyKind::Ed25519, &[3; 32]).unwrap();
        let (files, notes) = log(&key, 70_000, &[1_000, 70_000]);
        let note = &notes[&70_000];
        let p = policy(&key);
        let mut direct = |path: &str| files.get(path).cloned().flatten();
        let want = check(
            "demo-1.0-py3-none-any.whl",
            "p6",
            &"ab".repeat(32),
            note.as_bytes(),
            &p,
            &mut direct,
            0,
            None,
        );
        assert_eq!(want.report.as_ref().unwrap().status, "logged");
        let ((got, cmp), rounds, asked) =
            gathered(&files, note, &p, &"ab".repeat(32), Some(&notes[&1_000]));
        assert_eq!(got.report, want.report);
        assert!(got.problems.is_empty());
        // lookup; bundle + every inclusion tile and every consistency tile; checkpoints/index.
        assert!(rounds <= 4, "{rounds} rounds: {asked:?}");
        assert!(rounds >= 3, "{rounds} rounds: the loop must gather");
        assert!(asked.len() < 20, "{asked:?}");
        assert_eq!(cmp.unwrap().consistency, Consistency::Consistent);
        assert!(cmp.unwrap().remember);
        // A different digest: "different", in as few rounds.
        let ((got, _), _, _) = gathered(&files, note, &p, &"cd".repeat(32), None);
        assert_eq!(got.report.unwrap().status, "different");
        assert!(got
            .problems
            .iter()
            .any(|p| p.code == Code::IndexLogMismatch));
    }

    #[test]
    fn compare_catches_forks_and_ignores_planted_notes() {
        let key = NoteSigner::from_seed("test.example/index", KeyKind::Ed25519, &[3; 32]).unwrap();
        let (files, notes) = log(&key, 600, &[300, 600]);
        let p = policy(&key);
        let mut read = |path: &str| files.get(path).cloned().flatten();
        let cp = |n: &str| Checkpoint::parse(Note::parse(n.as_bytes()).unwrap().text()).unwrap();
        let (small, large) = (&notes[&300], &notes[&600]);
        let c = |seen: Option<&str>, now: &str, read: &mut dyn FnMut(&str) -> Option<Vec<u8>>| {
            compare(seen, &cp(now), &p, read)
        };
        let first = c(None, large, &mut read);
        assert_eq!(
            (first.consistency, first.remember),
            (Consistency::FirstSighting, true)
        );
        let same = c(Some(large), large, &mut read);
        assert_eq!(
            (same.consistency, same.remember),
            (Consistency::Consistent, false)
        );
        let grew = c(Some(small), large, &mut read);
        assert_eq!(
            (grew.consistency, grew.remember),
            (Consistency::Consistent, true)
        );
        let older = c(Some(large), small, &mut read);
        assert_eq!(
            (older.consistency, older.remember),
            (Consistency::OlderConsistent, false)
        );
        // A fork of the same size, signed by the log key: a split view.
        let fork = signed(&key, 600, [7; 32]);
        assert_eq!(
            c(Some(large), &fork, &mut read).consistency,
            Consistency::SplitView
        );
        // A fork of the smaller size: its root is not a prefix of the larger tree.
        let fork_small = signed(&key, 300, [7; 32]);
        assert_eq!(
            c(Some(&fork_small), large, &mut read).consistency,
            Consistency::SplitView
        );
        assert_eq!(
            c(Some(large), &fork_small, &mut read).consistency,
            Consistency::SplitView
        );
        // The tiles cannot be read: not checked, and not remembered.
        let mut nothing = |_: &str| None;
        let nc = c(Some(small), large, &mut nothing);
        assert_eq!(
            (nc.consistency, nc.remember),
            (Consistency::NotChecked, false)
        );
        // A planted note (another key, or another log's) counts as nothing remembered.
        let other =
            NoteSigner::from_seed("test.example/index", KeyKind::Ed25519, &[9; 32]).unwrap();
        let planted = signed(&other, 600, [7; 32]);
        assert_eq!(
            c(Some(&planted), large, &mut read).consistency,
            Consistency::FirstSighting
        );
        assert_eq!(
            c(Some("garbage"), large, &mut read).consistency,
            Consistency::FirstSighting
        );
    }

    #[test]
    fn only_log_paths_are_requested() {
        for ok in [
            "lookup/demo",
            "lookup/zope-interface",
            "tile/0/000",
            "tile/0/x001/234.p/5",
            "tile/entries/000.p/44",
            "checkpoints/index",
            "checkpoints/1200",
        ] {
            assert!(is_log_path(ok), "{ok}");
        }
        for bad in [
            "",
            "../checkpoint",
            "lookup/../../etc/passwd",
            "lookup/a/b",
            "lookup/",
            "/tile/0/000",
            "https://evil.example/x",
            "tile//0",
            "tile/./0",
            "checkpoints/12a",
            "checkpoint",
            "vkey",
            "lookup/a%2f",
            "tile/0/000?x=1",
        ] {
            assert!(!is_log_path(bad), "{bad}");
        }
        assert_eq!(max_bytes("tile/0/000"), 8192);
        assert_eq!(max_bytes("lookup/demo"), MAX_LOOKUP_BYTES);
        assert_eq!(placeholder("tile/1/000.p/3").map(|v| v.len()), Some(96));
        assert_eq!(placeholder("tile/entries/000"), None);
        assert_eq!(placeholder("tile/0/000.p/0"), None);
    }
}
