//! `wheelsig index-log`: a C2SP tlog-tiles log of every file a package index serves, one
//! `wheelsig-index/v1` entry per (file name, sha256) the first time the follower sees it (a
//! later different sha256 for a name is appended too, and reported). The directory is served
//! as it is: `checkpoint`, `vkey`, `tile/…` and `lookup/<project>` (each line
//! `<index> <file> <sha256>`, for readers to find entries without a server; every answer is
//! checked by inclusion proof, so a lying lookup can only hide an entry).
//!
//! Crash safety: tiles, bundles and lookup files are written (each atomically) before the
//! checkpoint that covers them; the checkpoint is the commit. A follower killed at any point
//! restarts from the last checkpoint: entries appended after it were never published and are
//! appended again exactly once, because the known set is rebuilt from the log itself.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use wheelsig::display::escape;
use wheelsig::log::checkpoint::Checkpoint;
use wheelsig::log::index_leaf::IndexLeaf;
use wheelsig::log::merkle::tile_path;
use wheelsig::log::note::{KeyKind, Note, NoteSigner, NoteVerifier};
use wheelsig::log::tilelog::TileWriter;
use wheelsig::log::tiles::{parse_bundle, WIDTH};

use crate::cli::site::{default_log_key, io_err, load_note_key, resolved, write_secret};
use crate::{read_limited, replace_file, Failure};

#[derive(Subcommand)]
pub enum IndexLogAction {
    /// Create an empty index log in DIR (served as is: checkpoint, vkey, tile/, lookup/) and
    /// its private key (outside DIR); prints the log's verifier key
    Init {
        /// The log directory (must not exist or be empty)
        dir: PathBuf,
        /// The log's name in its checkpoints, e.g. example.org/pypi-log
        #[arg(long)]
        origin: String,
        /// Where to write the private key (mode 0600, never inside DIR)
        /// [default: $XDG_CONFIG_HOME/wheelsig/log-keys/<origin>.key]
        #[arg(long, value_name = "FILE")]
        log_key: Option<PathBuf>,
    },
    /// Read the index's simple API (PEP 691/503) and append every file not logged yet
    Follow {
        /// The log directory
        dir: PathBuf,
        /// The simple index root, e.g. https://pypi.org/simple/
        #[arg(long, value_name = "URL")]
        index: String,
        /// The projects to follow, one per line (# comments)
        #[arg(
            long,
            value_name = "FILE",
            required_unless_present = "all",
            conflicts_with = "all"
        )]
        projects: Option<PathBuf>,
        /// Follow every project the index's root page lists (PEP 691 JSON with PyPI's
        /// `_last-serial`, or PEP 503 HTML)
        #[arg(long)]
        all: bool,
        /// Read every page again, ignoring the ETags and serials remembered from earlier
        /// follows (a monitor's periodic full pass: an index could change a file without
        /// changing either)
        #[arg(long)]
        full: bool,
        /// The log's private key [default: the one `index-log init` wrote]
        #[arg(long, value_name = "FILE")]
        log_key: Option<PathBuf>,
        /// Index pages fetched at once
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32))]
        jobs: u16,
        /// Publish a checkpoint after this many new entries (and at the end)
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
        checkpoint_every: u64,
    },
    /// Mirror DIR to S3-compatible object storage (tiles first, immutable and never
    /// overwritten; the checkpoint last, only forward); credentials from AWS_* variables
    Push {
        /// The log directory
        dir: PathBuf,
        /// The destination, s3://BUCKET/PREFIX
        #[arg(long, value_name = "S3_URL")]
        to: String,
        /// An S3-compatible endpoint (https; http only on loopback) instead of AWS
        #[arg(long, value_name = "URL")]
        endpoint: Option<String>,
    },
    /// Have witnesses cosign the checkpoint: VKEY=URL for each (exit 1, nothing written, if
    /// any refuses or cannot be reached)
    Cosign {
        /// The log directory
        dir: PathBuf,
        /// A witness: its cosignature/v1 vkey, `=`, its submission URL
        #[arg(long = "witness", value_name = "VKEY=URL", required = true)]
        witnesses: Vec<String>,
    },
}

pub fn run(action: IndexLogAction) -> Result<ExitCode, Failure> {
    match action {
        IndexLogAction::Init {
            dir,
            origin,
            log_key,
        } => init(&dir, &origin, log_key.as_deref()),
        IndexLogAction::Follow {
            dir,
            index,
            projects,
            all: _, // clap requires --projects or --all
            full,
            log_key,
            jobs,
            checkpoint_every,
        } => follow(
            &dir,
            &index,
            projects.as_deref(),
            full,
            log_key.as_deref(),
            usize::from(jobs),
            checkpoint_every,
        ),
        IndexLogAction::Cosign { dir, witnesses } => cosign(&dir, &witnesses),
        IndexLogAction::Push { dir, to, endpoint } => {
            open(&dir)?; // only a valid log is pushed
            let stats =
                crate::cli::objstore::push(&dir, &to, endpoint.as_deref()).map_err(Failure)?;
            println!("{}", serde_json::to_string_pretty(&stats)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The follower's own record in DIR (not published: hidden files are not pushed).
const STATE: &str = ".index-log.json";
/// Largest file under DIR read back.
const MAX_FILE: u64 = 64 * 65_537;

fn signed(
    signer: &NoteSigner,
    size: u64,
    root: wheelsig::log::merkle::Hash,
) -> Result<String, Failure> {
    let text = Checkpoint {
        origin: signer.verifier().name().to_string(),
        size,
        root,
        extensions: Vec::new(),
    }
    .text();
    Ok(format!("{text}\n{}", signer.sign(&text)?))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    replace_file(path, |w| w.write_all(bytes).map_err(Failure::from))
}

fn init(dir: &Path, origin: &str, log_key: Option<&Path>) -> Result<ExitCode, Failure> {
    if dir.exists()
        && std::fs::read_dir(dir)
            .map_err(io_err(dir))?
            .next()
            .is_some()
    {
        return Err(Failure(format!(
            "{} exists and is not empty",
            dir.display()
        )));
    }
    let signer = NoteSigner::generate(origin, KeyKind::Ed25519)
        .map_err(|e| format!("--origin {}: {e}", escape(origin)))?;
    let key_path = match log_key {
        Some(p) => p.to_path_buf(),
        None => default_log_key(origin)?,
    };
    if resolved(&key_path)?.starts_with(resolved(dir)?) {
        return Err(Failure(format!("--log-key {}: the log's private key must not be inside the log directory (it is published)", key_path.display())));
    }
    if std::fs::symlink_metadata(&key_path).is_ok() {
        return Err(Failure(format!(
            "{} exists: pass --log-key with a new file (a log key is never overwritten)",
            key_path.display()
        )));
    }
    write_secret(&key_path, &format!("{}\n", signer.to_private()))?;
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    write(
        &dir.join("vkey"),
        format!("{}\n", signer.verifier().vkey()).as_bytes(),
    )?;
    write(
        &dir.join("checkpoint"),
        signed(&signer, 0, wheelsig::log::merkle::empty_root())?.as_bytes(),
    )?;
    println!("{}", signer.verifier().vkey());
    eprintln!("index log {origin}: private key written to {} (mode 0600): keep it secret; `wheelsig index-log follow {}` fills the log", key_path.display(), dir.display());
    Ok(ExitCode::SUCCESS)
}

/// The log as on disk: its key, checkpoint (verified), writer and known entries.
struct Opened {
    vkey: NoteVerifier,
    note: Vec<u8>,
    size: u64,
    writer: TileWriter,
    /// project → its entries (index, file, sha256).
    known: BTreeMap<String, Vec<(u64, String, String)>>,
}

fn read_file(dir: &Path) -> impl FnMut(&str) -> Option<Vec<u8>> + '_ {
    move |p| {
        let f = dir.join(p);
        std::fs::symlink_metadata(&f).ok().filter(|m| m.is_file())?;
        read_limited(&f, MAX_FILE, "a log file").ok()
    }
}

fn open(dir: &Path) -> Result<Opened, Failure> {
    let text = String::from_utf8(read_limited(&dir.join("vkey"), 4096, "vkey")?)
        .map_err(|_| format!("{}: not UTF-8", dir.join("vkey").display()))?;
    let vkey = NoteVerifier::parse(text.trim())
        .map_err(|e| format!("{}: {e}", dir.join("vkey").display()))?;
    let note_bytes = read_limited(
        &dir.join("checkpoint"),
        wheelsig::log::note::MAX_NOTE_BYTES as u64,
        "checkpoint",
    )?;
    let bad = |m: String| Failure(format!("{}: {m}", dir.join("checkpoint").display()));
    let note = Note::parse(&note_bytes).map_err(|e| bad(e.to_string()))?;
    if !matches!(note.verify_by(&vkey), Ok(Some(_))) {
        return Err(bad(format!("not signed by the log key {}", vkey.vkey())));
    }
    let cp = Checkpoint::parse(note.text()).map_err(|e| bad(e.to_string()))?;
    if cp.origin != vkey.name() {
        return Err(bad(format!(
            "origin {}, not the log's {}",
            escape(&cp.origin),
            vkey.name()
        )));
    }
    let mut read = read_file(dir);
    let writer =
        TileWriter::resume(cp.size, &mut read).map_err(|e| format!("{}: {e}", dir.display()))?;
    if writer.root() != cp.root {
        return Err(Failure(format!(
            "{}: the tiles do not hash to the checkpoint's root (a changed tile?)",
            dir.display()
        )));
    }
    // What is logged, from the entries themselves (so a restart never logs anything twice).
    let mut known: BTreeMap<String, Vec<(u64, String, String)>> = BTreeMap::new();
    let mut n = 0u64;
    while n * (WIDTH as u64) < cp.size {
        let width = (cp.size - n * WIDTH as u64).min(WIDTH as u64) as u16;
        let path = tile_path(None, n, width);
        let bytes = read(&path).ok_or_else(|| format!("{}: missing {path}", dir.display()))?;
        let entries = parse_bundle(&bytes).map_err(|e| format!("{path}: {e}"))?;
        for (i, e) in entries.iter().enumerate() {
            let leaf = IndexLeaf::parse(e)
                .map_err(|err| format!("{path}: entry {}: {err}", n * WIDTH as u64 + i as u64))?;
            known.entry(leaf.project).or_default().push((
                n * WIDTH as u64 + i as u64,
                leaf.file,
                leaf.sha256,
            ));
        }
        n += 1;
    }
    Ok(Opened {
        vkey,
        note: note_bytes,
        size: cp.size,
        writer,
        known,
    })
}

fn projects_file(path: &Path) -> Result<Vec<String>, Failure> {
    let text = String::from_utf8(read_limited(path, 64 << 20, "projects file")?)
        .map_err(|_| format!("{}: not UTF-8", path.display()))?;
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if !wheelsig::names::is_valid_project(line) {
            return Err(Failure(format!(
                "{}:{}: {:?} is not a project name",
                path.display(),
                i + 1,
                escape(line)
            )));
        }
        out.insert(wheelsig::names::normalize_project(line));
    }
    Ok(out.into_iter().collect())
}

/// One project's page, asked for with its remembered `ETag`, retried with backoff (0.5 s,
/// 1 s, 2 s) on errors, and after the server's `Retry-After` (at most 60 s) when it is busy.
fn page(index: &url::Url, project: &str, etag: Option<&str>) -> Result<Followed, String> {
    let mut last = String::new();
    let mut wait = std::time::Duration::ZERO;
    for attempt in 0..4u32 {
        std::thread::sleep(wait);
        wait = std::time::Duration::from_millis(500 << attempt);
        match crate::cli::index::followed_page(index, project, etag) {
            Ok(Followed::Busy(after)) => {
                last = "the index is busy (HTTP 429 or 503)".into();
                if let Some(s) = after {
                    wait = wait.max(std::time::Duration::from_secs(s.min(60)));
                }
            }
            Ok(f) => return Ok(f),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The follower's record (`.index-log.json`): the index it follows, and per project the
/// `ETag` and serial of the page last read in full and covered by the published checkpoint
/// (written only after that checkpoint, so a crash can only make a page be read again).
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct FollowState {
    index: String,
    #[serde(default)]
    pages: BTreeMap<String, PageSeen>,
}

#[derive(serde::Serialize, serde::Deserialize, Clone, Default, PartialEq, Eq)]
struct PageSeen {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    serial: Option<u64>,
}

fn read_state(path: &Path, index: &url::Url) -> Result<FollowState, Failure> {
    match std::fs::read(path) {
        Ok(b) => {
            let state: FollowState =
                serde_json::from_slice(&b).map_err(|e| format!("{}: {e}", path.display()))?;
            if state.index != index.as_str() {
                return Err(Failure(format!(
                    "{} logs {}, not {index}",
                    path.parent().unwrap_or(path).display(),
                    escape(&state.index),
                )));
            }
            Ok(state)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let state = FollowState {
                index: index.to_string(),
                pages: BTreeMap::new(),
            };
            write(path, serde_json::to_string(&state)?.as_bytes())?;
            Ok(state)
        }
        Err(e) => Err(Failure(format!("{}: {e}", path.display()))),
    }
}

use crate::cli::index::Followed;

#[allow(clippy::too_many_arguments)]
fn follow(
    dir: &Path,
    index: &str,
    projects: Option<&Path>,
    full: bool,
    log_key: Option<&Path>,
    jobs: usize,
    every: u64,
) -> Result<ExitCode, Failure> {
    let index_url =
        url::Url::parse(index).map_err(|e| format!("--index {}: {e}", escape(index)))?;
    wheelsig::index::check_index_url(&index_url).map_err(|e| format!("--index: {e}"))?;
    let mut opened = open(dir)?;
    let signer = load_note_key(log_key, opened.vkey.name(), &opened.vkey, "this log's key")?;
    // One log, one index: the first follow records it.
    let state_path = dir.join(STATE);
    let mut state = read_state(&state_path, &index_url)?;
    if full {
        state.pages.clear();
    }
    // (project, the serial the root page lists for it)
    let names: Vec<(String, Option<u64>)> = match projects {
        Some(file) => projects_file(file)?
            .into_iter()
            .map(|p| (p, None))
            .collect(),
        None => crate::cli::index::project_list(&index_url)
            .map_err(|e| format!("--all: {e}"))?
            .into_iter()
            .map(|p| (p.name, p.serial))
            .collect(),
    };
    // Pages whose serial is the one already read need no request at all.
    let (unchanged, names): (Vec<_>, Vec<_>) = names.into_iter().partition(|(p, serial)| {
        serial.is_some() && state.pages.get(p).is_some_and(|s| s.serial >= *serial)
    });
    let now = crate::time::format(crate::now());
    let (mut added, mut changed, mut unhashed, mut not_modified) = (0u64, 0u64, 0u64, 0u64);
    let mut touched: BTreeSet<String> = BTreeSet::new();
    // Pages read in full since the last checkpoint: recorded in the state after the next one.
    let mut pending: BTreeMap<String, PageSeen> = BTreeMap::new();
    let mut since_checkpoint = 0u64;
    let mut failures = Vec::new();
    let commit = |opened: &mut Opened,
                  touched: &mut BTreeSet<String>,
                  pending: &mut BTreeMap<String, PageSeen>,
                  state: &mut FollowState|
     -> Result<(), Failure> {
        publish(dir, opened, &signer, touched)?;
        state.pages.append(pending);
        write(&state_path, serde_json::to_string(state)?.as_bytes())
    };
    for chunk in names.chunks(jobs.max(1) * 8) {
        // Fetch a chunk's pages on `jobs` threads; append in project order.
        let next = std::sync::atomic::AtomicUsize::new(0);
        let slots: Vec<std::sync::Mutex<Option<Result<Followed, String>>>> =
            chunk.iter().map(|_| std::sync::Mutex::new(None)).collect();
        std::thread::scope(|s| {
            for _ in 0..jobs.min(chunk.len()) {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((p, _)) = chunk.get(i) else { break };
                    let etag = state.pages.get(p).and_then(|s| s.etag.as_deref());
                    let r = page(&index_url, p, etag);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(r);
                    }
                });
            }
        });
        for ((project, listed_serial), slot) in chunk.iter().zip(slots) {
            let (files, seen) = match slot.into_inner().ok().flatten() {
                Some(Ok(Followed::Files {
                    files,
                    etag,
                    serial,
                })) => (
                    files,
                    PageSeen {
                        etag,
                        serial: serial.or(*listed_serial),
                    },
                ),
                Some(Ok(Followed::NotModified)) => {
                    not_modified += 1;
                    continue;
                }
                Some(Ok(Followed::NotFound)) => continue, // not on the index (yet)
                Some(Ok(Followed::Busy(_))) => {
                    failures.push(format!("{project}: the index stayed busy"));
                    continue;
                }
                Some(Err(e)) => {
                    failures.push(format!("{project}: {e}"));
                    continue;
                }
                None => continue,
            };
            for f in files {
                let Some(sha256) = f.sha256.clone() else {
                    unhashed += 1;
                    continue;
                };
                let entries = opened.known.entry(project.clone()).or_default();
                if entries
                    .iter()
                    .any(|(_, file, sha)| *file == f.filename && *sha == sha256)
                {
                    continue;
                }
                let different = entries
                    .iter()
                    .find(|(_, file, _)| *file == f.filename)
                    .map(|(_, _, sha)| sha.clone());
                let leaf = IndexLeaf {
                    index: index_url.to_string(),
                    project: project.clone(),
                    file: f.filename.clone(),
                    sha256: sha256.clone(),
                    uploaded: f.upload_time.clone(),
                    first_seen: now.clone(),
                };
                let i = opened
                    .writer
                    .append(leaf.encode())
                    .map_err(|e| format!("{}: {e}", escape(&f.filename)))?;
                if let Some(old) = different {
                    changed += 1;
                    eprintln!("wheelsig: CHANGED: {} {} now has sha256 {sha256}, logged before with {old}: appended as entry {i}, the old entry stays", escape(project), escape(&f.filename));
                }
                entries.push((i, f.filename, sha256));
                touched.insert(project.clone());
                added += 1;
                since_checkpoint += 1;
                if since_checkpoint >= every {
                    commit(&mut opened, &mut touched, &mut pending, &mut state)?;
                    since_checkpoint = 0;
                }
            }
            if seen != PageSeen::default() {
                pending.insert(project.clone(), seen);
            }
        }
    }
    if since_checkpoint > 0 || !pending.is_empty() {
        commit(&mut opened, &mut touched, &mut pending, &mut state)?;
    }
    let read = names.len() - failures.len();
    eprintln!(
        "{}: {read} project page{} asked for ({not_modified} unchanged since the last follow), {} skipped by serial; {added} new entr{} ({changed} with a changed sha256), {unhashed} file{} without a sha256 skipped; the log has {} entries",
        dir.display(),
        if read == 1 { "" } else { "s" },
        unchanged.len(),
        if added == 1 { "y" } else { "ies" },
        if unhashed == 1 { "" } else { "s" },
        opened.size
    );
    for f in &failures {
        eprintln!("wheelsig: could not read {}", escape(f));
    }
    Ok(if failures.is_empty() && changed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Write what the appends touched, the lookup files of the touched projects, then the signed
/// checkpoint (the commit point).
fn publish(
    dir: &Path,
    opened: &mut Opened,
    signer: &NoteSigner,
    touched: &mut BTreeSet<String>,
) -> Result<(), Failure> {
    for (rel, bytes) in opened.writer.flush() {
        write(&dir.join(rel), &bytes)?;
    }
    for project in std::mem::take(touched) {
        let mut text = String::new();
        for (i, file, sha) in opened
            .known
            .get(&project)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            text.push_str(&format!("{i} {file} {sha}\n"));
        }
        write(&dir.join("lookup").join(&project), text.as_bytes())?;
    }
    let note = signed(signer, opened.writer.size(), opened.writer.root())?;
    write(&dir.join("checkpoint"), note.as_bytes())?;
    opened.size = opened.writer.size();
    opened.note = note.into_bytes();
    Ok(())
}

fn cosign(dir: &Path, witnesses: &[String]) -> Result<ExitCode, Failure> {
    use wheelsig::log::cosign::{parse_witnessed, Round, Witness};
    let opened = open(dir)?;
    let mut list = Vec::new();
    for w in witnesses {
        let (vkey, url) = w
            .split_once('=')
            .ok_or_else(|| format!("--witness {}: expected VKEY=URL", escape(w)))?;
        let vkey = NoteVerifier::parse(vkey).map_err(|e| format!("--witness: {e}"))?;
        let url = wheelsig::urls::check_key_url(url, wheelsig::urls::Loopback::Allow)
            .map_err(|e| format!("--witness {}: {e}", vkey.name()))?;
        list.push(Witness {
            vkey,
            url: url.to_string(),
        });
    }
    let witnessed_path = dir.join(".witnessed.json");
    let witnessed = std::fs::read(&witnessed_path).ok();
    let sizes = parse_witnessed(witnessed.as_deref())
        .map_err(|e| format!("{}: {e}", witnessed_path.display()))?;
    let dir_owned = dir.to_path_buf();
    let size = opened.size;
    let consistency: wheelsig::log::cosign::Consistency = std::sync::Arc::new(move |old| {
        let mut read = read_file(&dir_owned);
        wheelsig::log::tilelog::consistency_from_tiles(old, size, &mut read)
            .map_err(|e| e.to_string())
    });
    let mut round = Round::with_proofs(
        size,
        opened.writer.root(),
        consistency,
        &opened.note,
        &opened.vkey,
        list,
        sizes,
    )
    .map_err(Failure)?;
    crate::cli::fetch::ask_witnesses(&mut round);
    match round.finish() {
        Ok(c) => {
            write(&witnessed_path, c.witnessed_json.as_bytes())?;
            write(&dir.join("checkpoint"), c.note.to_text().as_bytes())?;
            // Each cosigned checkpoint is kept (checkpoints/<size>, listed in checkpoints/index),
            // so readers can date old entries by the first cosigned checkpoint that holds them.
            let archive = dir.join("checkpoints");
            write(&archive.join(size.to_string()), c.note.to_text().as_bytes())?;
            let mut sizes: BTreeSet<u64> = std::fs::read_to_string(archive.join("index"))
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect();
            sizes.insert(size);
            let list: String = sizes.iter().map(|s| format!("{s}\n")).collect();
            write(&archive.join("index"), list.as_bytes())?;
            for (name, at) in &c.witnesses {
                eprintln!(
                    "witness {name} cosigned {} at size {at}",
                    opened.vkey.name()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(failures) => {
            for f in &failures {
                eprintln!("wheelsig: {f}");
            }
            eprintln!("wheelsig: not cosigned by every witness: nothing was written");
            Ok(ExitCode::from(1))
        }
    }
}

/// `verify --index-log URL`: the log's latest checkpoint and key, fetched once per batch.
pub struct Reader {
    base: url::Url,
    latest: Vec<u8>,
    policy: wheelsig::log::policy::Policy,
    /// A log key used on first use (origin, vkey) to remember, and a changed one's problem.
    new_key: Option<(String, String)>,
    key_problem: Option<wheelsig::report::Problem>,
}

fn get(url: &url::Url, limit: usize) -> Result<Option<Vec<u8>>, String> {
    match crate::cli::fetch::get(url, limit)? {
        crate::cli::fetch::Fetched::Body(b) => Ok(Some(b)),
        _ => Ok(None),
    }
}

impl Reader {
    /// Open the index log at `url` under `policy` (its log key from the policy, else the log's
    /// `vkey` on first use, remembered in `state`).
    pub fn open(
        url: &str,
        policy: &wheelsig::log::policy::Policy,
        state: &crate::cli::logstate::State,
    ) -> Result<Reader, Failure> {
        let mut base = wheelsig::urls::check_key_url(url, wheelsig::urls::Loopback::Allow)
            .map_err(|e| format!("--index-log: {e}"))?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let cp_url = base
            .join("checkpoint")
            .map_err(|e| format!("--index-log: {e}"))?;
        let latest = get(&cp_url, wheelsig::log::note::MAX_NOTE_BYTES)?
            .ok_or_else(|| format!("{cp_url}: not found (is this an index log?)"))?;
        let origin = Note::parse(&latest)
            .ok()
            .and_then(|n| Checkpoint::parse(n.text()).ok())
            .map(|c| c.origin)
            .ok_or_else(|| format!("{cp_url}: not a checkpoint"))?;
        let served = if policy.lists_log(&origin) {
            None
        } else {
            base.join("vkey")
                .ok()
                .and_then(|u| get(&u, 4096).ok().flatten())
                .and_then(|b| String::from_utf8(b).ok())
        };
        let (policy, new_key, key_problem) = wheelsig::log::index_check::with_first_use_key(
            policy,
            &origin,
            &wheelsig::log::policy::LogKeyFirstUse {
                remembered: state.log_keys.get(&origin).cloned(),
                served,
            },
        );
        Ok(Reader {
            base,
            latest,
            policy,
            new_key,
            key_problem,
        })
    }

    /// Check one wheel (its report has its sha256); returns the verified checkpoint for memory.
    pub fn check(
        &self,
        report: &mut wheelsig::report::Report,
        now: i64,
        min_age: Option<i64>,
    ) -> Option<(String, Checkpoint)> {
        let (Some(project), Some(sha256)) = (report.project.clone(), report.sha256.clone()) else {
            return None;
        };
        let mut cache: BTreeMap<String, Option<Vec<u8>>> = BTreeMap::new();
        let base = self.base.clone();
        let mut read = |p: &str| -> Option<Vec<u8>> {
            if let Some(v) = cache.get(p) {
                return v.clone();
            }
            let v = base
                .join(p)
                .ok()
                .and_then(|u| get(&u, MAX_FILE as usize).ok().flatten());
            cache.insert(p.to_string(), v.clone());
            v
        };
        let checked = wheelsig::log::index_check::check(
            &report.file.clone(),
            &project,
            &sha256,
            &self.latest,
            &self.policy,
            &mut read,
            now,
            min_age,
        );
        report.index_log = checked.report;
        for p in checked.problems.into_iter().chain(self.key_problem.clone()) {
            report.fail_log(p);
        }
        checked.checkpoint
    }

    /// The log key to remember (first use), if one was used.
    pub fn new_key(&self) -> Option<(String, String)> {
        self.new_key.clone()
    }

    /// Compare the verified checkpoint with this machine's memory of the log (a consistency
    /// proof from the tiles when it grew), update the memory, and return the outcome.
    pub fn remember(
        &self,
        state: &mut crate::cli::logstate::State,
        note: &str,
        cp: &Checkpoint,
    ) -> wheelsig::log::check::Consistency {
        let base = self.base.clone();
        let mut read = |p: &str| {
            base.join(p)
                .ok()
                .and_then(|u| get(&u, MAX_FILE as usize).ok().flatten())
        };
        let c = wheelsig::log::index_check::compare(
            state.logs.get(&cp.origin).map(String::as_str),
            cp,
            &self.policy,
            &mut read,
        );
        if c.remember {
            state.logs.insert(cp.origin.clone(), note.to_string());
        }
        c.consistency
    }
}
