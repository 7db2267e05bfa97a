//! `wheelsig witness`: a C2SP tlog-witness. It cosigns a log's checkpoint once it has checked
//! the checkpoint is consistent with the last one it cosigned for that log, and remembers the
//! new one durably before answering. The decisions are the core's
//! (`wheelsig::log::witness`); this file is the edge: keys on disk, HTTP, SQLite, the clock.

mod db;
mod http;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use clap::Subcommand;
use sha2::{Digest, Sha256};
use wheelsig::display::escape;
use wheelsig::log::note::{KeyKind, Note, NoteSigner, NoteVerifier};
use wheelsig::log::witness::{
    check_against, check_signature, parse_request, AddCheckpoint, Rejection, MAX_REQUEST_BYTES,
};

use crate::{read_limited, write_private, Existing, Failure};
use db::{Batch, Db, DbResult, Update};
use http::{Limits, Request, Response};

/// Largest private key file read (one line of about 100 bytes).
const MAX_KEY_FILE_BYTES: u64 = 4096;
/// Most requests committed together (one fsync). Each is a few hundred bytes of SQL work
/// and one signature; a batch is however many arrived during the previous commit.
const MAX_BATCH: usize = 256;

#[derive(Subcommand)]
pub enum WitnessAction {
    /// Generate a witness key (cosignature/v1, Ed25519): the private key is written with mode
    /// 0600, the verifier key (vkey) printed
    Keygen {
        /// The witness's name, e.g. witness.example.org/w1
        #[arg(long)]
        name: String,
        /// Where to write the private key
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Overwrite an existing file
        #[arg(long)]
        force: bool,
    },
    /// Print the verifier key (vkey) of a witness key
    Vkey {
        /// Private key file (from `wheelsig witness keygen`)
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
    /// Serve C2SP tlog-witness: POST /add-checkpoint, GET /<sha256(origin) hex>/checkpoint
    Serve {
        /// Address to listen on (port 0 picks a free one; the address is logged)
        #[arg(long, value_name = "ADDR")]
        listen: SocketAddr,
        /// SQLite database holding the latest cosigned checkpoint per log (created if missing)
        #[arg(long, value_name = "FILE")]
        db: PathBuf,
        /// Private key file (from `wheelsig witness keygen`)
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// A log to witness, as its note verifier key; its origin is the key's name
        /// (repeatable; several keys for one origin are all trusted)
        #[arg(long = "log", value_name = "VKEY", required = true)]
        logs: Vec<String>,
        /// Connections served at once
        #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
        workers: u16,
        /// Seconds a client gets to send a request, and to start the next one on a kept-alive
        /// connection (after which it is answered 408 or closed)
        #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=300))]
        request_timeout: u16,
    },
}

pub fn run(action: WitnessAction) -> Result<ExitCode, Failure> {
    match action {
        WitnessAction::Keygen { name, out, force } => keygen(&name, &out, force),
        WitnessAction::Vkey { key } => {
            println!("{}", load_key(&key)?.verifier().vkey());
            Ok(ExitCode::SUCCESS)
        }
        WitnessAction::Serve {
            listen,
            db,
            key,
            logs,
            workers,
            request_timeout,
        } => serve(
            listen,
            &db,
            &key,
            &logs,
            usize::from(workers),
            Duration::from_secs(u64::from(request_timeout)),
        ),
    }
}

fn keygen(name: &str, out: &Path, force: bool) -> Result<ExitCode, Failure> {
    let signer = NoteSigner::generate(name, KeyKind::Cosignature)?;
    let existing = if force {
        Existing::Replace
    } else {
        Existing::Refuse("; pass --force to overwrite it")
    };
    write_private(out, &format!("{}\n", signer.to_private()), existing)?;
    println!("{}", signer.verifier().vkey());
    eprintln!(
        "wheelsig: witness key written to {} (mode 0600): keep it secret; one key per witness name",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn load_key(path: &Path) -> Result<NoteSigner, Failure> {
    let bytes = read_limited(path, MAX_KEY_FILE_BYTES, "a witness key")?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| format!("{}: not a private note key", path.display()))?;
    let signer = NoteSigner::from_private(text).map_err(|e| format!("{}: {e}", path.display()))?;
    if signer.verifier().kind() != KeyKind::Cosignature {
        return Err(Failure(format!(
            "{}: a log's note key, not a witness (cosignature/v1) key",
            path.display()
        )));
    }
    Ok(signer)
}

fn serve(
    listen: SocketAddr,
    db_path: &Path,
    key: &Path,
    log_keys: &[String],
    workers: usize,
    timeout: Duration,
) -> Result<ExitCode, Failure> {
    let signer = load_key(key)?;
    let mut logs: HashMap<String, Vec<NoteVerifier>> = HashMap::new();
    for vkey in log_keys {
        let v = NoteVerifier::parse(vkey).map_err(|e| format!("--log {}: {e}", escape(vkey)))?;
        if v.kind() != KeyKind::Ed25519 {
            return Err(Failure(format!(
                "--log {}: a cosignature key, not a log's note key",
                escape(vkey)
            )));
        }
        let keys = logs.entry(v.name().to_string()).or_default();
        if !keys.contains(&v) {
            keys.push(v);
        }
    }
    let by_hash = logs
        .keys()
        .map(|origin| (hex(&Sha256::digest(origin.as_bytes())), origin.clone()))
        .collect();
    let db = Db::open(db_path)?;
    let reader = Db::open_reader(db_path)?;
    let known = db.sizes()?;
    let listener = TcpListener::bind(listen).map_err(|e| format!("{listen}: {e}"))?;
    let addr = listener.local_addr()?;
    eprintln!(
        "wheelsig witness: {} for {} log(s), {} with state in {}",
        signer.verifier().vkey(),
        logs.len(),
        known.len(),
        db_path.display()
    );
    for origin in logs.keys() {
        let size = known
            .iter()
            .find(|(o, _)| o == origin)
            .map(|(_, s)| s.to_string());
        eprintln!(
            "wheelsig witness:   log {} (latest cosigned size {})",
            escape(origin),
            size.as_deref().unwrap_or("none")
        );
    }
    eprintln!("wheelsig witness: listening on http://{addr}");
    let (writer, jobs) = sync_channel::<Job>(4 * MAX_BATCH);
    std::thread::Builder::new()
        .name("witness-db".into())
        .spawn(move || {
            // The writer only stops by a bug (a panic, its transaction rolled back): every later
            // request would fail, so exit and let a supervisor restart on the intact database.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                write_loop(db, &signer, &jobs)
            }));
            eprintln!("wheelsig witness: the database thread stopped; exiting");
            std::process::exit(70);
        })?;
    let witness = Arc::new(Witness {
        logs,
        by_hash,
        writer,
        reader: Mutex::new(reader),
    });
    let limits = Limits {
        max_head: 8 * 1024,
        max_headers: 32,
        max_body: MAX_REQUEST_BYTES,
        request_time: timeout,
        idle_time: timeout,
        write_time: Duration::from_secs(10),
        requests_per_connection: 1000,
        workers,
        queue: 4 * workers,
    };
    http::serve(
        listener,
        limits,
        Arc::new(move |req: &Request<'_>| witness.handle(req)),
    )?;
    Ok(ExitCode::SUCCESS)
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

struct Witness {
    /// Trusted note keys by origin.
    logs: HashMap<String, Vec<NoteVerifier>>,
    /// Lowercase hex SHA-256 of each origin, for the monitoring endpoint.
    by_hash: HashMap<String, String>,
    /// To the one thread that writes the database (and cosigns).
    writer: SyncSender<Job>,
    /// A read-only connection for the monitoring endpoint.
    reader: Mutex<Db>,
}

/// A request that passed the checks needing no state, for the writer thread.
struct Job {
    req: AddCheckpoint,
    /// The log's verified signature lines, kept in the served checkpoint.
    log_lines: String,
    reply: SyncSender<Outcome>,
}

/// The cosignature line and its time, or why not.
type Outcome = Result<(String, u64), Refusal>;

/// Why a checkpoint was not cosigned, once it reached the database.
enum Refusal {
    Rejected(Rejection),
    Internal(String),
}

/// The database writer: takes every job that is waiting (up to MAX_BATCH), decides them in
/// order inside one write transaction, commits, and only then answers each. A failed commit
/// answers every job in the batch with an internal error, including refusals that depended
/// on the batch's earlier (now rolled back) writes.
fn write_loop(mut db: Db, signer: &NoteSigner, jobs: &Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let outcomes = run_batch(&mut db, signer, &batch);
        for (job, outcome) in batch.into_iter().zip(outcomes) {
            let _ = job.reply.send(outcome);
        }
    }
}

fn run_batch(db: &mut Db, signer: &NoteSigner, jobs: &[Job]) -> Vec<Outcome> {
    let fail_all = |e: String| {
        jobs.iter()
            .map(|_| Err(Refusal::Internal(e.clone())))
            .collect()
    };
    let batch = match db.begin(unix_now()) {
        Ok(b) => b,
        Err(e) => return fail_all(e),
    };
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs {
        match decide(&batch, signer, job) {
            Ok(o) => outcomes.push(o),
            // Dropping the batch rolls back everything in it.
            Err(e) => return fail_all(e),
        }
    }
    match batch.commit() {
        Ok(()) => outcomes,
        Err(e) => fail_all(e),
    }
}

/// Under the write lock: old > size (400), old ≠ latest (409), consistency (422), then
/// cosign and store the new state.
fn decide(batch: &Batch<'_>, signer: &NoteSigner, job: &Job) -> DbResult<Outcome> {
    let req = &job.req;
    let c = &req.checkpoint;
    if let Err(r) = check_against(req, batch.known(&c.origin)?) {
        return Ok(Err(Refusal::Rejected(r)));
    }
    let time = batch.time();
    let cosignature = match signer.cosign(req.note.text(), time) {
        Ok(line) => line,
        Err(e) => return Ok(Err(Refusal::Internal(e.to_string()))),
    };
    let served = format!("{}\n{}{cosignature}", req.note.text(), job.log_lines);
    if let Err(e) = Note::parse(served.as_bytes()) {
        return Ok(Err(Refusal::Internal(format!(
            "the cosigned note does not parse: {e}"
        ))));
    }
    batch.store(
        &c.origin,
        req.old,
        &Update {
            size: c.size,
            root: c.root,
            checkpoint: served,
        },
    )?;
    Ok(Ok((cosignature, time)))
}

impl Witness {
    fn reader(&self) -> std::sync::MutexGuard<'_, Db> {
        // Only reads happen under this lock: a panic holding it left nothing half done.
        self.reader
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn handle(&self, req: &Request<'_>) -> Response {
        if req.path == "/add-checkpoint" {
            return if req.method == "POST" {
                self.add_checkpoint(req.body)
            } else {
                not_allowed("POST")
            };
        }
        if let Some(hash) = req
            .path
            .strip_prefix('/')
            .and_then(|p| p.strip_suffix("/checkpoint"))
        {
            if hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return if req.method == "GET" {
                    self.latest(hash)
                } else {
                    not_allowed("GET")
                };
            }
        }
        Response::text(404, "not found\n")
    }

    /// GET /<hex sha256(origin)>/checkpoint: the latest cosigned checkpoint, as cosigned.
    fn latest(&self, hash: &str) -> Response {
        let Some(origin) = self.by_hash.get(hash) else {
            return Response::text(404, "not a log this witness knows\n");
        };
        let stored = self.reader().checkpoint(origin);
        match stored {
            Ok(Some(note)) => {
                let mut r = Response::text(200, "");
                r.body = note;
                r.log = format!("origin={origin}");
                r
            }
            Ok(None) => with_log(
                Response::text(404, "no checkpoint cosigned for this log yet\n"),
                format!("origin={origin}"),
            ),
            Err(e) => internal(e),
        }
    }

    /// POST /add-checkpoint, in the spec's order: parse (400), origin (404), signature (403)
    /// here, in parallel; then in the writer thread, under the database's write lock: old >
    /// size (400), old ≠ latest (409), consistency (422), persist; then answer.
    fn add_checkpoint(&self, body: &[u8]) -> Response {
        let req = match parse_request(body) {
            Ok(r) => r,
            Err(r) => return refused(&r, String::new()),
        };
        let c = &req.checkpoint;
        let detail = format!("origin={} old={} size={}", c.origin, req.old, c.size);
        let Some(keys) = self.logs.get(&c.origin) else {
            return refused(
                &Rejection::UnknownLog(format!("this witness does not witness {}", c.origin)),
                detail,
            );
        };
        if let Err(r) = check_signature(&req, keys) {
            return refused(&r, detail);
        }
        if c.size > i64::MAX as u64 {
            return refused(
                &Rejection::BadRequest("a tree size beyond 2^63-1".into()),
                detail,
            );
        }
        let log_lines = verified_lines(&req, keys);
        let (reply, answer) = sync_channel(1);
        let outcome = match self.writer.send(Job {
            req,
            log_lines,
            reply,
        }) {
            Ok(()) => answer
                .recv()
                .unwrap_or_else(|_| Err(Refusal::Internal("the database thread stopped".into()))),
            Err(_) => Err(Refusal::Internal("the database thread stopped".into())),
        };
        match outcome {
            Ok((cosignature, time)) => with_log(
                Response::text(200, cosignature),
                format!("{detail} cosigned time={time}"),
            ),
            Err(Refusal::Rejected(r)) => refused(&r, detail),
            Err(Refusal::Internal(e)) => internal(format!("{detail}: {e}")),
        }
    }
}

/// The checkpoint's signature lines by the trusted keys (all verified by `check_signature`),
/// re-encoded, for the monitoring endpoint: unknown lines are not passed on.
fn verified_lines(req: &AddCheckpoint, keys: &[NoteVerifier]) -> String {
    let mut out = String::new();
    for s in req.note.signatures().iter().filter(|s| {
        keys.iter()
            .any(|k| k.name() == s.name && k.key_id() == s.id)
    }) {
        let mut raw = s.id.to_be_bytes().to_vec();
        raw.extend_from_slice(&s.bytes);
        let _ = writeln!(out, "\u{2014} {} {}", s.name, STANDARD.encode(raw));
    }
    out
}

fn with_log(mut r: Response, log: String) -> Response {
    r.log = log;
    r
}

fn refused(r: &Rejection, detail: String) -> Response {
    let mut resp = Response::text(r.status(), r.body());
    if let Rejection::Conflict(_) = r {
        resp.content_type = "text/x.tlog.size";
    }
    let reason = r.body();
    resp.log = if detail.is_empty() {
        reason.trim_end().to_string()
    } else {
        format!("{detail}: {}", reason.trim_end())
    };
    resp
}

fn not_allowed(allow: &'static str) -> Response {
    let mut r = Response::text(405, format!("use {allow}\n"));
    r.headers.push(("Allow", allow.to_string()));
    r
}

fn internal(e: String) -> Response {
    with_log(
        Response::text(500, "internal error: nothing was cosigned\n"),
        e,
    )
}
