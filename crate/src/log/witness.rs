//! The pure half of C2SP tlog-witness `add-checkpoint`: parsing a request, and the decision
//! given the log keys the witness trusts and the last checkpoint it cosigned. The server
//! (`wheelsig witness serve`) does the I/O: it persists the new state atomically with the
//! 409 check and only then returns the cosignature.
//!
//! Request body: `old <size>\n`, up to 63 consistency-proof hashes (base64, one per line), a
//! blank line, then the checkpoint note with the log's signature.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::checkpoint::Checkpoint;
use super::merkle::{empty_root, verify_consistency, Hash};
use super::note::{Note, NoteVerifier};

/// Most consistency-proof lines (the spec's bound; a tree of 2^63 leaves needs fewer).
pub const MAX_PROOF_LINES: usize = 63;
/// Largest request body accepted.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// A parsed `add-checkpoint` request.
#[derive(Debug, Clone)]
pub struct AddCheckpoint {
    /// The size of the checkpoint the log believes this witness last cosigned.
    pub old: u64,
    /// Consistency proof from `old` to the new checkpoint.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note.
    pub note: Note,
    /// The checkpoint it carries.
    pub checkpoint: Checkpoint,
}

/// Why the witness refuses to cosign (each maps to the spec's status code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// 400: the request cannot be parsed, or `old` is larger than the checkpoint.
    BadRequest(String),
    /// 403: no trusted log key signed the checkpoint, or a trusted key's signature is bad.
    Forbidden(String),
    /// 404: the witness does not know the checkpoint's origin.
    UnknownLog(String),
    /// 409: `old` is not the size of the latest cosigned checkpoint (which is carried).
    Conflict(u64),
    /// 422: the checkpoint is not consistent with the latest cosigned one.
    Inconsistent(String),
}

impl Rejection {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Rejection::BadRequest(_) => 400,
            Rejection::Forbidden(_) => 403,
            Rejection::UnknownLog(_) => 404,
            Rejection::Conflict(_) => 409,
            Rejection::Inconsistent(_) => 422,
        }
    }

    /// The response body: the latest size for 409 (content type `text/x.tlog.size`), else a
    /// one-line reason.
    pub fn body(&self) -> String {
        match self {
            Rejection::Conflict(size) => format!("{size}\n"),
            Rejection::BadRequest(m)
            | Rejection::Forbidden(m)
            | Rejection::UnknownLog(m)
            | Rejection::Inconsistent(m) => format!("{}\n", crate::display::escape(m)),
        }
    }
}

/// Parse a request body.
pub fn parse_request(body: &[u8]) -> Result<AddCheckpoint, Rejection> {
    let bad = |m: String| Rejection::BadRequest(m);
    if body.len() > MAX_REQUEST_BYTES {
        return Err(bad(format!(
            "request of {} bytes; the limit is {MAX_REQUEST_BYTES}",
            body.len()
        )));
    }
    let text = std::str::from_utf8(body).map_err(|_| bad("the request is not UTF-8".into()))?;
    let (head, note) = text
        .split_once("\n\n")
        .ok_or_else(|| bad("no blank line after the proof".into()))?;
    let mut lines = head.split('\n');
    let old = lines
        .next()
        .and_then(|l| l.strip_prefix("old "))
        .filter(|n| {
            !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && (n.len() == 1 || !n.starts_with('0'))
        })
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| bad("the first line must be `old <size>` in decimal".into()))?;
    let mut proof = Vec::new();
    for line in lines {
        if proof.len() == MAX_PROOF_LINES {
            return Err(bad(format!("more than {MAX_PROOF_LINES} proof lines")));
        }
        let h: Hash = STANDARD
            .decode(line)
            .ok()
            .filter(|r| STANDARD.encode(r) == line)
            .and_then(|r| r.try_into().ok())
            .ok_or_else(|| bad("a proof line is not canonical base64 of a 32-byte hash".into()))?;
        proof.push(h);
    }
    let note = Note::parse(note.as_bytes()).map_err(|e| bad(format!("checkpoint note: {e}")))?;
    let checkpoint = Checkpoint::parse(note.text()).map_err(|e| bad(e.to_string()))?;
    Ok(AddCheckpoint {
        old,
        proof,
        note,
        checkpoint,
    })
}

/// 403 unless one of `logs` (the keys trusted for this origin) signed the checkpoint, and no
/// line by one of them fails to verify.
pub fn check_signature(req: &AddCheckpoint, logs: &[NoteVerifier]) -> Result<(), Rejection> {
    let mut signed = false;
    for k in logs.iter().filter(|k| k.name() == req.checkpoint.origin) {
        match req.note.verify_by(k) {
            Ok(Some(_)) => signed = true,
            Ok(None) => {}
            Err(e) => return Err(Rejection::Forbidden(e.to_string())),
        }
    }
    if signed {
        Ok(())
    } else {
        Err(Rejection::Forbidden(format!(
            "no signature by a key this witness trusts for {}",
            req.checkpoint.origin
        )))
    }
}

/// The latest checkpoint cosigned for an origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    /// Its size.
    pub size: u64,
    /// Its root.
    pub root: Hash,
}

/// Decide against the latest cosigned checkpoint (`None`: never cosigned, size 0).
pub fn check_against(req: &AddCheckpoint, known: Option<Known>) -> Result<(), Rejection> {
    let c = &req.checkpoint;
    if req.old > c.size {
        return Err(Rejection::BadRequest(format!(
            "old size {} is larger than the checkpoint's {}",
            req.old, c.size
        )));
    }
    let known = known.unwrap_or(Known {
        size: 0,
        root: empty_root(),
    });
    if req.old != known.size {
        return Err(Rejection::Conflict(known.size));
    }
    if c.size == 0 && c.root != empty_root() {
        return Err(Rejection::Inconsistent(
            "a checkpoint of size 0 must have the empty tree's root".into(),
        ));
    }
    if req.old == 0 && !req.proof.is_empty() {
        return Err(Rejection::Inconsistent(
            "a consistency proof from size 0 must be empty".into(),
        ));
    }
    if req.old == c.size && c.root != known.root {
        return Err(Rejection::Inconsistent(format!(
            "a different root for size {}: the log forked",
            c.size
        )));
    }
    if !verify_consistency(known.size, c.size, &known.root, &c.root, &req.proof) {
        return Err(Rejection::Inconsistent(format!(
            "the consistency proof from {} to {} does not verify",
            known.size, c.size
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::merkle::{consistency_proof, leaf_hash, tree_hash};
    use crate::log::note::{KeyKind, NoteSigner};

    fn log() -> NoteSigner {
        NoteSigner::from_seed("example.com/log", KeyKind::Ed25519, &[1; 32]).unwrap()
    }

    fn request(signer: &NoteSigner, leaves: &[Hash], old: usize, size: usize) -> Vec<u8> {
        let c = Checkpoint {
            origin: "example.com/log".into(),
            size: size as u64,
            root: tree_hash(&leaves[..size]),
            extensions: vec![],
        };
        let text = c.text();
        let mut body = format!("old {old}\n");
        for h in consistency_proof(&leaves[..size], old) {
            body.push_str(&STANDARD.encode(h));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(&text);
        body.push('\n');
        body.push_str(&signer.sign(&text).unwrap());
        body.into_bytes()
    }

    #[test]
    fn status_codes() {
        let leaves: Vec<Hash> = (0..1000)
            .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
            .collect();
        let l = log();
        let keys = [l.verifier().clone()];
        let known = |n: usize| {
            Some(Known {
                size: n as u64,
                root: tree_hash(&leaves[..n]),
            })
        };
        let r = parse_request(&request(&l, &leaves, 600, 1000)).unwrap();
        assert_eq!(check_signature(&r, &keys), Ok(()));
        assert_eq!(check_against(&r, known(600)), Ok(()));
        assert_eq!(
            check_against(&r, known(700)).unwrap_err(),
            Rejection::Conflict(700)
        );
        assert_eq!(check_against(&r, None).unwrap_err().status(), 409);
        let first = parse_request(&request(&l, &leaves, 0, 10)).unwrap();
        assert_eq!(check_against(&first, None), Ok(()));
        // Same size, another root: a fork.
        let mut other = leaves.clone();
        other[5] = leaf_hash(b"forked");
        let fork = parse_request(&request(&l, &other, 0, 10)).unwrap();
        assert_eq!(
            check_against(&fork, known(10)).unwrap_err(),
            Rejection::Conflict(10)
        );
        let fork_same = parse_request(&request(&l, &other, 10, 10)).unwrap();
        assert_eq!(
            check_against(&fork_same, known(10)).unwrap_err().status(),
            422
        );
        let fork_grow = parse_request(&request(&l, &other, 8, 20)).unwrap();
        assert_eq!(
            check_against(&fork_grow, known(8)).unwrap_err().status(),
            422,
            "proof from the forked tree does not match the known root"
        );
        let stranger =
            NoteSigner::from_seed("example.com/log", KeyKind::Ed25519, &[7; 32]).unwrap();
        assert_eq!(
            check_signature(
                &parse_request(&request(&stranger, &leaves, 0, 10)).unwrap(),
                &keys
            )
            .unwrap_err()
            .status(),
            403
        );
        for garbage in [
            &b"hello"[..],
            b"old 01\n\nx\n",
            b"old x\n\n",
            b"old 1\n!!!\n\nx\n",
        ] {
            assert_eq!(parse_request(garbage).unwrap_err().status(), 400);
        }
        let over = parse_request(&request(&l, &leaves, 0, 10)).map(|mut r| {
            r.old = 11;
            r
        });
        assert_eq!(
            check_against(&over.unwrap(), known(11))
                .unwrap_err()
                .status(),
            400
        );
    }
}
