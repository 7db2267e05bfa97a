//! The witness's only state: one SQLite database holding, per log, the latest checkpoint it
//! cosigned. WAL with `synchronous=FULL`, so a commit is on disk before the answer goes out,
//! and a SIGKILL or power loss at any moment leaves the last committed state.

use std::path::Path;
use std::time::Duration;

use rusqlite::{
    params, Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior,
};
use wheelsig::log::merkle::Hash;
use wheelsig::log::witness::Known;

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS log_state(
  origin      TEXT PRIMARY KEY,
  size        INTEGER NOT NULL CHECK(size >= 0),
  root        BLOB NOT NULL CHECK(length(root) = 32),
  checkpoint  BLOB NOT NULL,
  cosigned_at INTEGER NOT NULL CHECK(cosigned_at > 0)
) STRICT;
";

pub struct Db {
    conn: Connection,
    /// The latest cosignature time handed out, so timestamps never go backwards (even across
    /// restarts or a clock stepped back).
    last_time: u64,
}

/// A new state for a log, as decided under the write lock.
pub struct Update {
    pub size: u64,
    pub root: Hash,
    /// The checkpoint note served by the monitoring endpoint (log signatures and ours).
    pub checkpoint: String,
}

pub type DbResult<T> = Result<T, String>;

fn db_err(e: rusqlite::Error) -> String {
    format!("database: {e}")
}

impl Db {
    pub fn open(path: &Path) -> DbResult<Db> {
        let conn = Connection::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        // Another process on the same file (a second witness by mistake) waits, then fails.
        conn.busy_timeout(Duration::from_secs(10)).map_err(db_err)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(db_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(format!(
                "{}: could not switch to WAL (journal mode is {mode})",
                path.display()
            ));
        }
        conn.execute_batch("PRAGMA synchronous=FULL;")
            .map_err(db_err)?;
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .map_err(db_err)?;
        if sync != 2 {
            return Err(format!(
                "{}: synchronous is {sync}, not FULL",
                path.display()
            ));
        }
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db_err)?;
        match version {
            0 => conn
                .execute_batch(&format!(
                    "BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
                ))
                .map_err(db_err)?,
            SCHEMA_VERSION => {}
            v => {
                return Err(format!(
                    "{}: database schema {v} is newer than this wheelsig ({SCHEMA_VERSION})",
                    path.display()
                ))
            }
        }
        let last: i64 = conn
            .query_row(
                "SELECT coalesce(max(cosigned_at), 0) FROM log_state",
                [],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        Ok(Db {
            conn,
            last_time: u64::try_from(last).unwrap_or(0),
        })
    }

    /// Open a second connection for reads (the monitoring endpoint): in WAL mode it sees
    /// the last commit and never waits for the writer.
    pub fn open_reader(path: &Path) -> DbResult<Db> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| format!("{}: {e}", path.display()))?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(db_err)?;
        Ok(Db { conn, last_time: 0 })
    }

    /// Start a write transaction under SQLite's write lock (`BEGIN IMMEDIATE`), with the
    /// cosignature time for everything in it: `now`, but never 0 and never below a time
    /// handed out before (even across restarts, or with the clock stepped back).
    pub fn begin(&mut self, now: u64) -> DbResult<Batch<'_>> {
        let time = now.max(self.last_time);
        if time == 0 || time > i64::MAX as u64 {
            return Err("the clock reads 0 or is out of range: refusing to cosign".into());
        }
        let Db { conn, last_time } = self;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_err)?;
        Ok(Batch {
            tx,
            time,
            last_time,
        })
    }

    /// The checkpoint note last cosigned for `origin`.
    pub fn checkpoint(&self, origin: &str) -> DbResult<Option<Vec<u8>>> {
        self.conn
            .query_row(
                "SELECT checkpoint FROM log_state WHERE origin = ?1",
                params![origin],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)
    }

    /// Every log's (origin, size), for the startup summary.
    pub fn sizes(&self) -> DbResult<Vec<(String, u64)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT origin, size FROM log_state ORDER BY origin")
            .map_err(db_err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(db_err)?;
        rows.map(|r| {
            r.map_err(db_err)
                .map(|(o, s)| (o, u64::try_from(s).unwrap_or(0)))
        })
        .collect()
    }
}

/// One write transaction: any number of compare-and-swap steps, each seeing the ones before
/// it, made durable together by one commit (one fsync for a batch of requests).
pub struct Batch<'a> {
    tx: Transaction<'a>,
    time: u64,
    last_time: &'a mut u64,
}

impl Batch<'_> {
    /// The cosignature time of this batch.
    pub fn time(&self) -> u64 {
        self.time
    }

    /// The latest cosigned (size, root) for `origin`, including this batch's writes.
    pub fn known(&self, origin: &str) -> DbResult<Option<Known>> {
        self.tx
            .query_row(
                "SELECT size, root FROM log_state WHERE origin = ?1",
                params![origin],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)),
            )
            .optional()
            .map_err(db_err)?
            .map(|(size, root)| -> DbResult<Known> {
                let size = u64::try_from(size).map_err(|_| {
                    format!("database: stored size {size} for {origin} is negative")
                })?;
                let root: Hash = root
                    .try_into()
                    .map_err(|_| format!("database: stored root for {origin} is not 32 bytes"))?;
                Ok(Known { size, root })
            })
            .transpose()
    }

    /// Write the new state, only if the stored size is still `old` (compare-and-swap).
    pub fn store(&self, origin: &str, old: u64, update: &Update) -> DbResult<()> {
        let size =
            i64::try_from(update.size).map_err(|_| "a tree size beyond 2^63-1".to_string())?;
        let old = i64::try_from(old).map_err(|_| "an old size beyond 2^63-1".to_string())?;
        let time = i64::try_from(self.time).map_err(|_| "a time beyond 2^63-1".to_string())?;
        let changed = self
            .tx
            .execute(
                "INSERT INTO log_state(origin, size, root, checkpoint, cosigned_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(origin) DO UPDATE SET size = excluded.size, root = excluded.root,
                   checkpoint = excluded.checkpoint, cosigned_at = excluded.cosigned_at
                 WHERE log_state.size = ?6",
                params![origin, size, &update.root[..], update.checkpoint.as_bytes(), time, old],
            )
            .map_err(db_err)?;
        if changed != 1 {
            // Cannot happen under the write lock after `known`; refuse rather than answer for
            // a state that was not written.
            return Err(format!(
                "database: compare-and-swap for {origin} changed {changed} rows"
            ));
        }
        Ok(())
    }

    /// Commit (durably: WAL + synchronous=FULL). Dropping a batch instead rolls it back.
    pub fn commit(self) -> DbResult<()> {
        self.tx.commit().map_err(db_err)?;
        *self.last_time = (*self.last_time).max(self.time);
        Ok(())
    }
}
