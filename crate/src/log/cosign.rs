//! The client half of C2SP tlog-witness `add-checkpoint`: which request to send each witness,
//! and what its answer means. No I/O: the edges send the requests and pass the answers back
//! in (`wheelsig site cosign` over ureq; the key-site template's `tools/cosign-site.mjs` over
//! Node's `fetch`, through the wasm), so both follow one protocol:
//!
//! - the checkpoint goes out with the log's own signature only (cosignatures from an earlier
//!   round are dropped: each witness signs the note text, not other witnesses' lines);
//! - `old` is the size this witness was last known to hold (`log/witnessed.json`), with the
//!   consistency proof from it;
//! - a 409 carries the size the witness really holds: asked once more from that size (if it
//!   is no larger than this checkpoint), never more;
//! - a 200 counts only if it carries a cosignature/v1 line by the witness's own key that
//!   verifies, with a timestamp; other lines in the answer are ignored.
//!
//! The round succeeds only when every witness cosigned; otherwise nothing is to be written.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::checkpoint::Checkpoint;
use super::note::{KeyKind, Note, NoteVerifier};
use super::tiles::Log;
use crate::display::escape;

/// A witness to ask: its cosignature/v1 key (its name is the key's name) and its submission
/// prefix (the request goes to `<url>/add-checkpoint`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witness {
    /// Its cosignature/v1 verifier key.
    pub vkey: NoteVerifier,
    /// Its submission prefix.
    pub url: String,
}

/// Largest `log/witnessed.json` accepted.
pub const MAX_WITNESSED_BYTES: usize = 1 << 20;

/// Largest answer body read from a witness.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// One request to send: `body` by POST (`text/plain; charset=utf-8`) to `url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Which witness (an index into the round's witnesses).
    pub witness: usize,
    /// `<url>/add-checkpoint`.
    pub url: String,
    /// The request body.
    pub body: String,
}

#[derive(Debug, Clone)]
enum State {
    /// To ask from size `old`; `retried` once a 409 was followed.
    Ask { old: u64, retried: bool },
    /// Its verified cosignature line(s).
    Cosigned(String),
    /// Why not.
    Refused(String),
}

/// Consistency proofs from an older size to the checkpoint's (the log in memory, or its tiles).
pub type Consistency =
    std::sync::Arc<dyn Fn(u64) -> Result<Vec<super::merkle::Hash>, String> + Send + Sync>;

/// One cosigning round of a checkpoint by a list of witnesses.
#[derive(Clone)]
pub struct Round {
    /// The log, when it is held in memory (key sites: their proofs are written from it).
    log: Log,
    consistency: Consistency,
    checkpoint: Checkpoint,
    /// The checkpoint note with the log's signature only.
    note: Note,
    /// The checkpoint note as given (with any cosignatures from an earlier round).
    given: Note,
    witnesses: Vec<Witness>,
    states: Vec<State>,
    /// `log/witnessed.json` as read: witness vkey → the size it last cosigned.
    sizes: BTreeMap<String, u64>,
}

impl std::fmt::Debug for Round {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Round")
            .field("checkpoint", &self.checkpoint)
            .field("witnesses", &self.witnesses)
            .field("states", &self.states)
            .finish_non_exhaustive()
    }
}

/// A finished round: the checkpoint with every witness's cosignature.
#[derive(Debug, Clone)]
pub struct Cosigned {
    /// The cosigned checkpoint note.
    pub note: Note,
    /// The new `log/witnessed.json`.
    pub witnessed_json: String,
    /// Per witness (in order), its name and the size it now holds.
    pub witnesses: Vec<(String, u64)>,
}

/// Parse `log/witnessed.json` (`{"<witness vkey>": <size>}`); absent means empty.
pub fn parse_witnessed(bytes: Option<&[u8]>) -> Result<BTreeMap<String, u64>, String> {
    let Some(bytes) = bytes else {
        return Ok(BTreeMap::new());
    };
    if bytes.len() > MAX_WITNESSED_BYTES {
        return Err(format!(
            "{} bytes; the limit is {MAX_WITNESSED_BYTES}",
            bytes.len()
        ));
    }
    let v = crate::encoding::parse_json(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
    let obj = v
        .as_object()
        .ok_or("expected {\"<witness vkey>\": <size>}")?;
    obj.iter()
        .map(|(k, v)| {
            v.as_u64()
                .map(|n| (k.clone(), n))
                .ok_or_else(|| format!("the size for {} is not a non-negative integer", escape(k)))
        })
        .collect()
}

impl Round {
    /// A round for `log`, whose signed checkpoint is `checkpoint_note` (its log signature by
    /// `log_key` is checked, as is the root), asking `witnesses`; `witnessed` is the sizes the
    /// witnesses were last known to hold (`log/witnessed.json`).
    pub fn new(
        log: Log,
        checkpoint_note: &[u8],
        log_key: &NoteVerifier,
        witnesses: Vec<Witness>,
        witnessed: BTreeMap<String, u64>,
    ) -> Result<Round, String> {
        let size = log.size();
        let root = log.checkpoint(log_key.name()).root;
        let held = log.clone();
        let mut round = Round::with_proofs(
            size,
            root,
            std::sync::Arc::new(move |old| Ok(held.consistency(old))),
            checkpoint_note,
            log_key,
            witnesses,
            witnessed,
        )?;
        round.log = log;
        Ok(round)
    }

    /// A round for a log known by its size and root (a large log, read from its tiles):
    /// `consistency(old)` gives the proof from `old` entries to `size`.
    pub fn with_proofs(
        size: u64,
        root: super::merkle::Hash,
        consistency: Consistency,
        checkpoint_note: &[u8],
        log_key: &NoteVerifier,
        witnesses: Vec<Witness>,
        witnessed: BTreeMap<String, u64>,
    ) -> Result<Round, String> {
        let mut note = Note::parse(checkpoint_note).map_err(|e| format!("log/checkpoint: {e}"))?;
        match note.verify_by(log_key) {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Err(format!(
                    "log/checkpoint: not signed by the log key {}",
                    log_key.vkey()
                ))
            }
            Err(e) => {
                return Err(format!(
                    "log/checkpoint: the log's signature does not verify: {e}"
                ))
            }
        }
        let checkpoint =
            Checkpoint::parse(note.text()).map_err(|e| format!("log/checkpoint: {e}"))?;
        if checkpoint.origin != log_key.name() {
            return Err(format!(
                "log/checkpoint: origin {}, not the log key's {}",
                escape(&checkpoint.origin),
                log_key.name()
            ));
        }
        if checkpoint.size != size || root != checkpoint.root {
            return Err("log/checkpoint: the log's entries do not hash to its root".into());
        }
        if let Some(w) = witnesses
            .iter()
            .find(|w| w.vkey.kind() != KeyKind::Cosignature)
        {
            return Err(format!(
                "witness {}: not a cosignature/v1 key",
                w.vkey.name()
            ));
        }
        let given = note.clone();
        let own = log_key.clone();
        note.retain_signatures(|s| s.name == own.name() && s.id == own.key_id());
        let states = witnesses
            .iter()
            .map(|w| State::Ask {
                old: witnessed
                    .get(&w.vkey.vkey())
                    .copied()
                    .unwrap_or(0)
                    .min(checkpoint.size),
                retried: false,
            })
            .collect();
        Ok(Round {
            log: Log::new(),
            consistency,
            checkpoint,
            note,
            given,
            witnesses,
            states,
            sizes: witnessed,
        })
    }

    /// The log, when the round was made from one in memory ([`Round::new`]).
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// The checkpoint being cosigned.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The witnesses asked.
    pub fn witnesses(&self) -> &[Witness] {
        &self.witnesses
    }

    /// The checkpoint as given, when it already carries a valid, timestamped cosignature by
    /// every witness (nothing to ask).
    pub fn already_cosigned(&self) -> Option<&Note> {
        let all = self
            .witnesses
            .iter()
            .all(|w| matches!(self.given.verify_by(&w.vkey), Ok(Some(v)) if v.timestamp.is_some()));
        all.then_some(&self.given)
    }

    /// The next request to send, or `None` when every witness has answered for good.
    pub fn next_request(&self) -> Option<Request> {
        self.states.iter().enumerate().find_map(|(i, s)| match s {
            State::Ask { old, .. } => Some(self.request(i, *old)),
            _ => None,
        })
    }

    fn request(&self, i: usize, old: u64) -> Request {
        let mut body = format!("old {old}\n");
        // A proof that cannot be read leaves it empty: the witness then refuses, and says why.
        for h in (self.consistency)(old).unwrap_or_default() {
            body.push_str(&STANDARD.encode(h));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(&self.note.to_text());
        Request {
            witness: i,
            url: format!(
                "{}/add-checkpoint",
                self.witnesses[i].url.trim_end_matches('/')
            ),
            body,
        }
    }

    /// What witness `i` answered to its latest request: `Ok((status, body))`, or `Err(why)`
    /// when it could not be reached.
    pub fn answer(&mut self, i: usize, answer: Result<(u16, &[u8]), String>) {
        let Some(State::Ask { old, retried }) = self.states.get(i).cloned() else {
            return;
        };
        let w = &self.witnesses[i];
        let who = format!("witness {} ({})", w.vkey.name(), escape(&w.url));
        let size = self.checkpoint.size;
        let next = match answer {
            Err(e) => State::Refused(format!("{who} could not be reached: {}", escape(&e))),
            Ok((status, body)) => {
                let text =
                    String::from_utf8_lossy(&body[..body.len().min(MAX_ANSWER_BYTES)]).into_owned();
                let shown: String = escape(text.trim()).chars().take(300).collect();
                match status {
                    200 => {
                        // Only this witness's lines count, and only if they verify with its key.
                        let prefix = format!("\u{2014} {} ", w.vkey.name());
                        let lines: String = text.lines().filter(|l| l.starts_with(&prefix)).map(|l| format!("{l}\n")).collect();
                        let mut note = self.note.clone();
                        match note.add_signatures(&lines).map(|()| note.verify_by(&w.vkey)) {
                            Ok(Ok(Some(v))) if v.timestamp.is_some() => State::Cosigned(lines),
                            Ok(Err(e)) => State::Refused(format!("{who} answered 200 with a cosignature that does not verify with its key: {e}")),
                            _ => State::Refused(format!("{who} answered 200 without a cosignature by its key {}: {shown:?}", w.vkey.vkey())),
                        }
                    }
                    409 if !retried => match text.trim_end_matches('\n').parse::<u64>() {
                        Ok(n) if n != old && n <= size => State::Ask { old: n, retried: true },
                        _ => State::Refused(format!("{who} answered 409: it holds a checkpoint of size {shown:?}, not {old}; this log has {size} entries (a different history?)")),
                    },
                    409 => State::Refused(format!("{who} answered 409 twice (it holds size {shown:?})")),
                    422 => State::Refused(format!("{who} answered 422: this checkpoint is not consistent with the one it cosigned before ({shown:?})")),
                    status => State::Refused(format!("{who} answered {status}: {shown:?}")),
                }
            }
        };
        self.states[i] = next;
    }

    /// Per witness, whether it cosigned (`Ok(name)`) or why not.
    pub fn results(&self) -> Vec<Result<String, String>> {
        self.states
            .iter()
            .zip(&self.witnesses)
            .map(|(s, w)| match s {
                State::Cosigned(_) => Ok(w.vkey.name().to_string()),
                State::Refused(why) => Err(why.clone()),
                State::Ask { .. } => Err(format!("witness {} was not asked", w.vkey.name())),
            })
            .collect()
    }

    /// The cosigned checkpoint, when every witness cosigned; else every reason, one per
    /// witness that did not.
    pub fn finish(&self) -> Result<Cosigned, Vec<String>> {
        let failures: Vec<String> = self.results().into_iter().filter_map(Result::err).collect();
        if !failures.is_empty() {
            return Err(failures);
        }
        let mut note = self.note.clone();
        let mut sizes = self.sizes.clone();
        let mut done = Vec::new();
        for (s, w) in self.states.iter().zip(&self.witnesses) {
            if let State::Cosigned(lines) = s {
                note.add_signatures(lines)
                    .map_err(|e| vec![format!("witness {}: {e}", w.vkey.name())])?;
                sizes.insert(w.vkey.vkey(), self.checkpoint.size);
                done.push((w.vkey.name().to_string(), self.checkpoint.size));
            }
        }
        let witnessed_json = serde_json::to_string_pretty(&sizes).unwrap_or_default() + "\n";
        Ok(Cosigned {
            note,
            witnessed_json,
            witnesses: done,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::note::NoteSigner;

    fn setup() -> (Round, NoteSigner, NoteSigner, String) {
        let log_key = NoteSigner::from_seed("example.com/log", KeyKind::Ed25519, &[1; 32]).unwrap();
        let w = NoteSigner::from_seed("w.example/w", KeyKind::Cosignature, &[2; 32]).unwrap();
        let other =
            NoteSigner::from_seed("other.example/w", KeyKind::Cosignature, &[3; 32]).unwrap();
        let mut log = Log::new();
        log.append(b"entry\n".to_vec()).unwrap();
        let text = log.checkpoint("example.com/log").text();
        let note = format!("{text}\n{}", log_key.sign(&text).unwrap());
        let witnesses = vec![Witness {
            vkey: w.verifier().clone(),
            url: "https://w.example/".into(),
        }];
        let round = Round::new(
            log,
            note.as_bytes(),
            log_key.verifier(),
            witnesses,
            BTreeMap::new(),
        )
        .unwrap();
        (round, w, other, text)
    }

    #[test]
    fn a_cosignature_by_the_witness_finishes_the_round() {
        let (mut round, w, _, text) = setup();
        let req = round.next_request().unwrap();
        assert_eq!(req.url, "https://w.example/add-checkpoint");
        assert!(req.body.starts_with("old 0\n\n"), "{}", req.body);
        let line = w.cosign(&text, 1_700_000_000).unwrap();
        round.answer(0, Ok((200, line.as_bytes())));
        assert!(round.next_request().is_none());
        let done = round.finish().unwrap();
        assert_eq!(done.note.signatures().len(), 2);
        assert_eq!(done.witnesses, vec![("w.example/w".to_string(), 1)]);
        assert!(done
            .witnessed_json
            .contains(&format!("\"{}\": 1", w.verifier().vkey())));
    }

    #[test]
    fn only_the_witness_own_valid_line_counts() {
        let (round0, w, other, text) = setup();
        // Another witness's valid line, a forged line in the witness's name, nothing at all.
        let forged = w
            .cosign(
                "example.com/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
                1_700_000_000,
            )
            .unwrap();
        for (body, want) in [
            (
                other.cosign(&text, 1_700_000_000).unwrap(),
                "without a cosignature by its key",
            ),
            (forged, "does not verify"),
            (String::new(), "without a cosignature"),
        ] {
            let mut round = round0.clone();
            round.answer(0, Ok((200, body.as_bytes())));
            let err = round.finish().unwrap_err();
            assert!(err[0].contains(want), "{err:?}");
        }
    }

    #[test]
    fn a_409_is_followed_once_and_other_refusals_are_final() {
        let (round0, _, _, _) = setup();
        let mut round = round0.clone();
        round.answer(0, Ok((409, b"0\n")));
        assert!(
            round.finish().unwrap_err()[0].contains("answered 409"),
            "the size it was asked from: not followed"
        );
        let mut round = round0.clone();
        round.answer(0, Ok((409, b"7\n")));
        assert!(
            round.finish().unwrap_err()[0].contains("this log has 1 entries"),
            "larger than the log: a different history"
        );
        let mut round = round0.clone();
        round.states[0] = State::Ask {
            old: 1,
            retried: false,
        };
        round.answer(0, Ok((409, b"0\n")));
        assert!(
            round.next_request().unwrap().body.starts_with("old 0\n"),
            "asked again from the size it holds"
        );
        round.answer(0, Ok((409, b"1\n")));
        assert!(round.finish().unwrap_err()[0].contains("409 twice"));
        let mut round = round0.clone();
        round.answer(0, Ok((422, b"inconsistent\x1b[31m\n")));
        let err = round.finish().unwrap_err();
        assert!(
            err[0].contains("answered 422") && !err[0].contains('\x1b'),
            "{err:?}"
        );
        let mut round = round0;
        round.answer(0, Err("connection refused".into()));
        assert!(round.finish().unwrap_err()[0].contains("could not be reached: connection refused"));
    }
}
