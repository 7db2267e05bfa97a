//! What this machine saw of each release log: the largest verified checkpoint per origin,
//! kept in `$WHEELSIG_STATE_DIR/logs.json` (default `$XDG_STATE_HOME/wheelsig`, else
//! `~/.local/state/wheelsig`). Every later sighting must be consistent with it; a log that
//! shows this machine another history is a split view, and both signed checkpoints are kept
//! as evidence.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use wheelsig::log::check::{compare, CheckedProof, Consistency};
use wheelsig::log::checkpoint::Checkpoint;
use wheelsig::log::note::Note;
use wheelsig::log::tiles::Log;
use wheelsig::report::{Code, Problem, Report};

use crate::cli::fetch;

const MAX_STATE_BYTES: u64 = 16 << 20;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub version: u32,
    /// origin → the largest checkpoint note verified for it.
    pub logs: BTreeMap<String, String>,
    /// origin → the log's verifier key, remembered on first use when the witness policy does
    /// not list the log (taken from the key site's `log/vkey`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub log_keys: BTreeMap<String, String>,
}

pub fn dir() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("WHEELSIG_STATE_DIR").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let base = match std::env::var_os("XDG_STATE_HOME").filter(|p| !p.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => {
            PathBuf::from(std::env::var_os("HOME").ok_or("neither XDG_STATE_HOME nor HOME is set")?)
                .join(".local")
                .join("state")
        }
    };
    Ok(base.join("wheelsig"))
}

pub fn load(dir: &Path) -> Result<State, String> {
    let path = dir.join("logs.json");
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(State {
                version: 1,
                logs: BTreeMap::new(),
                log_keys: BTreeMap::new(),
            })
        }
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    if meta.len() > MAX_STATE_BYTES {
        return Err(format!(
            "{}: larger than {MAX_STATE_BYTES} bytes",
            path.display()
        ));
    }
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v = wheelsig::encoding::parse_json(&bytes)
        .map_err(|e| format!("{}: not valid JSON: {e}", path.display()))?;
    let s: State =
        serde_json::from_value(v).map_err(|e| format!("{}: malformed: {e}", path.display()))?;
    if s.version != 1 {
        return Err(format!(
            "{}: version {} is not supported",
            path.display(),
            s.version
        ));
    }
    Ok(s)
}

pub fn save(dir: &Path, state: &State) -> Result<(), String> {
    use std::io::Write as _;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let text = serde_json::to_string_pretty(state).map_err(|e| e.to_string())? + "\n";
    let mut tmp = tempfile::Builder::new()
        .prefix(".logs.json.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| e.to_string())?;
    tmp.persist(dir.join("logs.json"))
        .map_err(|e| e.error.to_string())?;
    Ok(())
}

/// The root of the log at `size`, rebuilt from its entry bundles under `log_url` and checked
/// against `at` (the larger checkpoint): the consistency proof, computed from the log's own
/// files rather than taken on trust.
fn root_from_site(log_url: &url::Url, at: &Checkpoint, size: u64) -> Option<[u8; 32]> {
    let mut read = |path: &str| -> Option<Vec<u8>> {
        let u = log_url.join(path).ok()?;
        match fetch::get(&u, 1 << 20) {
            Ok(fetch::Fetched::Body(b)) => Some(b),
            _ => None,
        }
    };
    let log = Log::from_bundles(at.size, &mut read).ok()?;
    if log.checkpoint(&at.origin).root != at.root {
        return None;
    }
    let n = usize::try_from(size).ok()?;
    Some(wheelsig::log::merkle::tree_hash(log.leaves().get(..n)?))
}

/// Compare each report's checked proof with the remembered checkpoint of its log, update the
/// memory with larger consistent ones, and turn a contradiction into a `split-view` problem
/// with both checkpoints saved as evidence.
pub fn remember(
    dir: &Path,
    items: &mut [(&mut Report, Option<CheckedProof>, Option<url::Url>)],
    new_keys: &[(String, String)],
) -> Result<(), String> {
    let mut state = load(dir)?;
    let mut changed = false;
    for (origin, vkey) in new_keys {
        if !state.log_keys.contains_key(origin) {
            state.log_keys.insert(origin.clone(), vkey.clone());
            changed = true;
        }
    }
    for (report, checked, log_url) in items.iter_mut() {
        let Some(c) = checked else { continue };
        let seen = state
            .logs
            .get(&c.checkpoint.origin)
            .and_then(|n| Note::parse(n.as_bytes()).ok())
            .and_then(|n| Checkpoint::parse(n.text()).ok());
        let seen_note = state.logs.get(&c.checkpoint.origin).cloned();
        let consistency = compare(seen.as_ref(), &c.checkpoint, &mut |size| {
            let larger = match &seen {
                Some(s) if s.size > c.checkpoint.size => s,
                _ => &c.checkpoint,
            };
            log_url
                .as_ref()
                .and_then(|u| root_from_site(u, larger, size))
        });
        if let Some(log) = report.log.as_mut() {
            log.consistency = consistency.as_str().to_string();
        }
        match consistency {
            Consistency::SplitView => {
                let evidence = dir.join("evidence");
                std::fs::create_dir_all(&evidence)
                    .map_err(|e| format!("{}: {e}", evidence.display()))?;
                let name = format!(
                    "split-view-{}-{}.txt",
                    hex_id(&c.checkpoint.origin),
                    std::process::id()
                );
                let file = evidence.join(name);
                let text = format!("# the checkpoint remembered on this machine\n{}\n# the checkpoint seen now, with {}\n{}", seen_note.unwrap_or_default(), report.file, c.note);
                std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
                report.fail_log(Problem::file(
                    Code::SplitView,
                    format!(
                        "SPLIT VIEW: the log {} showed this machine a different history before (both signed checkpoints saved to {})",
                        wheelsig::display::escape(&c.checkpoint.origin),
                        file.display()
                    ),
                ));
            }
            Consistency::FirstSighting | Consistency::Consistent => {
                if seen
                    .as_ref()
                    .is_none_or(|s| s.size < c.checkpoint.size || s.root != c.checkpoint.root)
                {
                    state
                        .logs
                        .insert(c.checkpoint.origin.clone(), c.note.clone());
                    changed = true;
                }
            }
            Consistency::OlderConsistent | Consistency::NotChecked => {}
        }
    }
    if changed {
        save(dir, &state)?;
    }
    Ok(())
}

fn hex_id(origin: &str) -> String {
    use sha2::Digest as _;
    wheelsig::encoding::hex(&sha2::Sha256::digest(origin.as_bytes()))[..16].to_string()
}

/// What this machine knows of `origin`'s log key, for a log the witness policy does not list:
/// the key remembered on first use, and the one its key site serves now (`<log_url>vkey`).
/// The core's `LogKeyFirstUse::choose` decides which counts.
pub fn log_key(
    state: &State,
    origin: &str,
    log_url: &url::Url,
) -> wheelsig::log::policy::LogKeyFirstUse {
    let served = log_url
        .join("vkey")
        .ok()
        .and_then(|u| match fetch::get(&u, 4096) {
            Ok(fetch::Fetched::Body(b)) => String::from_utf8(b).ok(),
            _ => None,
        });
    wheelsig::log::policy::LogKeyFirstUse {
        remembered: state.log_keys.get(origin).cloned(),
        served,
    }
}
