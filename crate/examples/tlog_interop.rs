//! The Rust half of the interop test with Go's golang.org/x/mod/sumdb/{note,tlog}
//! (tests/interop/test_go_sumdb.py; the Go half is tests/interop/go/main.go). Uses only the
//! crate's public API.
//!
//! `tlog_interop write DIR` writes, from fixed seeds, a log of 70,000 entries ("leaf 0" to
//! "leaf 999", an empty entry, one of 65,535 bytes (the largest a bundle holds), all byte
//! values, then random binary entries of 0 to 1023 bytes), and `tlog_interop verify DIR`
//! checks the same layout written by the Go program:
//!
//! ```text
//! DIR/log.vkey, DIR/log.key      the log's note key: vkey, and Go's PRIVATE+KEY+… form
//! DIR/witness.vkey               a cosignature/v1 key that cosigned every checkpoint
//! DIR/log/checkpoint             the signed checkpoint of the whole log
//! DIR/log/tile/…                 C2SP tlog-tiles: hash tiles and entry bundles, the full ones
//!                                and the partial ones of every checkpointed size
//! DIR/checkpoints/<size>         signed (and cosigned) checkpoints of the intermediate sizes
//! DIR/proofs/<index>-<size>.tlog-proof   c2sp.org/tlog-proof@v1 inclusion proofs
//! DIR/consistency/<old>-<new>    consistency proofs, as a tlog-witness add-checkpoint body:
//!                                `old <old>\n`, the proof hashes, a blank line, the new note
//! ```
//!
//! `verify` trusts nothing but the key files: sizes come from signed checkpoints, entries from
//! the bundles, and every proof is checked and also compared, byte for byte, with the one our
//! code makes. Any mismatch is reported and the exit status is 1.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::ExitCode;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use wheelsig::log::checkpoint::Checkpoint;
use wheelsig::log::merkle::{
    consistency_proof, inclusion_proof, leaf_hash, tile_path, tree_hash, verify_consistency,
    verify_inclusion, Hash,
};
use wheelsig::log::note::{KeyKind, Note, NoteSigner, NoteVerifier};
use wheelsig::log::proof::TlogProof;
use wheelsig::log::tiles::{parse_bundle, Log, WIDTH};
use wheelsig::log::witness::parse_request;

const ORIGIN: &str = "rust.example/log";
const WITNESS: &str = "rust.example/witness";
const LOG_SEED: [u8; 32] = [0x11; 32];
const WITNESS_SEED: [u8; 32] = [0x12; 32];
/// The cosignatures' time.
const TIME: u64 = 1_700_000_000;
const SIZE: u64 = 70_000;
/// Checkpointed sizes: edges of tiles at levels 0, 1 and 2. (Few large ones: every proof
/// at a large size rehashes the whole tree, slow in a debug build.)
const CHECKPOINTS: &[u64] = &[1, 2, 3, 7, 8, 255, 256, 257, 1000, 1003, 65536, SIZE];
/// (index, size) of the inclusion proofs; each size is one of CHECKPOINTS.
const PROOFS: &[(u64, u64)] = &[
    (0, 1),
    (0, 2),
    (1, 2),
    (2, 3),
    (6, 7),
    (255, 256),
    (256, 257),
    (617, 1000),
    (999, 1000),
    (1001, 1003),
    (65535, 65536),
    (0, SIZE),
    (617, SIZE),
    (1001, SIZE),
    (65536, SIZE),
    (69999, SIZE),
];
/// Consistency proofs beyond those between consecutive checkpoints.
const CONSISTENCY: &[(u64, u64)] = &[(1, SIZE), (257, SIZE), (1000, SIZE), (SIZE, SIZE)];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let result = match (args.get(1).map(String::as_str), args.get(2), args.len()) {
        (Some("write"), Some(dir), 3) => write(Path::new(dir)).map(|s| vec![s]),
        (Some("verify"), Some(dir), 3) => verify(Path::new(dir)),
        _ => {
            eprintln!("usage: tlog_interop write DIR | tlog_interop verify DIR");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(lines) => {
            for l in lines {
                println!("{l}");
            }
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for e in errors.iter().take(30) {
                eprintln!("FAIL: {e}");
            }
            if errors.len() > 30 {
                eprintln!("FAIL: … and {} more", errors.len() - 30);
            }
            ExitCode::FAILURE
        }
    }
}

/// splitmix64: a fixed, portable sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
}

fn entries() -> Vec<Vec<u8>> {
    let mut rng = Rng(0x7769_6565_6c73_6967);
    let mut out: Vec<Vec<u8>> = (0..1000)
        .map(|i| format!("leaf {i}").into_bytes())
        .collect();
    out.push(Vec::new());
    out.push((0..u16::MAX).map(|_| rng.next() as u8).collect());
    out.push((0..=255u8).collect());
    while (out.len() as u64) < SIZE {
        let len = match rng.below(100) {
            0..=4 => rng.below(1024),
            _ => rng.below(48),
        };
        out.push((0..len).map(|_| rng.next() as u8).collect());
    }
    out
}

fn put(dir: &Path, rel: &str, bytes: &[u8]) -> Result<(), String> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

fn b64(h: &Hash) -> String {
    STANDARD.encode(h)
}

fn write(dir: &Path) -> Result<String, Vec<String>> {
    write_inner(dir).map_err(|e| vec![e])
}

fn write_inner(dir: &Path) -> Result<String, String> {
    let e = |e: wheelsig::log::note::NoteError| e.to_string();
    let log_key = NoteSigner::from_seed(ORIGIN, KeyKind::Ed25519, &LOG_SEED).map_err(e)?;
    let witness = NoteSigner::from_seed(WITNESS, KeyKind::Cosignature, &WITNESS_SEED).map_err(e)?;
    put(
        dir,
        "log.vkey",
        format!("{}\n", log_key.verifier().vkey()).as_bytes(),
    )?;
    put(
        dir,
        "log.key",
        format!("{}\n", log_key.to_private()).as_bytes(),
    )?;
    put(
        dir,
        "witness.vkey",
        format!("{}\n", witness.verifier().vkey()).as_bytes(),
    )?;

    let all = entries();
    let mut log = Log::new();
    let mut notes: BTreeMap<u64, String> = BTreeMap::new();
    let mut files = BTreeSet::new();
    for &size in CHECKPOINTS {
        while log.size() < size {
            log.append(all[log.size() as usize].clone()).map_err(e)?;
        }
        for (path, bytes) in log.files() {
            put(dir, &format!("log/{path}"), &bytes)?;
            files.insert(path);
        }
        let text = log.checkpoint(ORIGIN).text();
        let note = format!(
            "{text}\n{}{}",
            log_key.sign(&text).map_err(e)?,
            witness.cosign(&text, TIME).map_err(e)?
        );
        put(dir, &format!("checkpoints/{size}"), note.as_bytes())?;
        notes.insert(size, note);
    }
    put(dir, "log/checkpoint", notes[&SIZE].as_bytes())?;

    let leaves = log.leaves();
    for &(index, size) in PROOFS {
        let note = Note::parse(notes[&size].as_bytes()).map_err(e)?;
        let checkpoint = Checkpoint::parse(note.text()).map_err(e)?;
        let extra = (index == 617 && size == SIZE).then(|| b"wheelsig interop".to_vec());
        let proof = TlogProof {
            extra,
            index,
            path: inclusion_proof(&leaves[..size as usize], index as usize),
            note,
            checkpoint,
        };
        put(
            dir,
            &format!("proofs/{index}-{size}.tlog-proof"),
            proof.to_text().as_bytes(),
        )?;
    }

    let pairs = consistency_pairs();
    for &(old, new) in &pairs {
        let mut body = format!("old {old}\n");
        for h in consistency_proof(&leaves[..new as usize], old as usize) {
            body.push_str(&b64(&h));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(&notes[&new]);
        put(dir, &format!("consistency/{old}-{new}"), body.as_bytes())?;
    }
    Ok(format!(
        "wrote {}: {} entries, {} tile and bundle files, {} checkpoints, {} inclusion proofs, {} consistency proofs",
        dir.display(),
        log.size(),
        files.len(),
        CHECKPOINTS.len(),
        PROOFS.len(),
        pairs.len()
    ))
}

/// Consecutive checkpointed sizes, and CONSISTENCY.
fn consistency_pairs() -> Vec<(u64, u64)> {
    let mut pairs: BTreeSet<(u64, u64)> = CHECKPOINTS.windows(2).map(|w| (w[0], w[1])).collect();
    pairs.extend(CONSISTENCY);
    pairs.into_iter().collect()
}

/// Collects every mismatch instead of stopping at the first.
#[derive(Default)]
struct Checks {
    errors: Vec<String>,
    passed: usize,
}

impl Checks {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) -> bool {
        if ok {
            self.passed += 1;
        } else {
            self.errors.push(what());
        }
        ok
    }

    fn fail(&mut self, what: String) {
        self.errors.push(what);
    }
}

fn read(dir: &Path, rel: &str) -> Result<Vec<u8>, String> {
    fs::read(dir.join(rel)).map_err(|e| format!("{rel}: {e}"))
}

fn read_text(dir: &Path, rel: &str) -> Result<String, String> {
    String::from_utf8(read(dir, rel)?).map_err(|_| format!("{rel}: not UTF-8"))
}

/// Every file under `dir/rel`, as paths relative to `dir` with `/` separators.
fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) -> Result<(), String> {
    let full = dir.join(rel);
    let mut names: Vec<_> = fs::read_dir(&full)
        .map_err(|e| format!("{rel}: {e}"))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{rel}: {e}"))?;
    names.sort_by_key(fs::DirEntry::file_name);
    for entry in names {
        let name = entry
            .file_name()
            .into_string()
            .map_err(|_| format!("{rel}: a file name that is not UTF-8"))?;
        let child = format!("{rel}/{name}");
        if entry
            .file_type()
            .map_err(|e| format!("{child}: {e}"))?
            .is_dir()
        {
            walk(dir, &child, out)?;
        } else {
            out.push(child);
        }
    }
    Ok(())
}

/// A signed note: the log's signature must verify, and the witness's cosignature too.
fn open_note(
    c: &mut Checks,
    what: &str,
    bytes: &[u8],
    log: &NoteVerifier,
    witness: &NoteVerifier,
) -> Option<(Note, Checkpoint)> {
    let note = match Note::parse(bytes) {
        Ok(n) => n,
        Err(e) => {
            c.fail(format!("{what}: not a signed note: {e}"));
            return None;
        }
    };
    match note.verify_by(log) {
        Ok(Some(_)) => c.passed += 1,
        Ok(None) => c.fail(format!(
            "{what}: no signature by the log key {}",
            log.vkey()
        )),
        Err(e) => c.fail(format!("{what}: log signature rejected: {e}")),
    }
    match note.verify_by(witness) {
        Ok(Some(v)) => {
            c.check(v.timestamp.is_some_and(|t| t > 0), || {
                format!("{what}: cosignature without a timestamp")
            });
        }
        Ok(None) => c.fail(format!(
            "{what}: no cosignature by the witness key {}",
            witness.vkey()
        )),
        Err(e) => c.fail(format!("{what}: cosignature rejected: {e}")),
    }
    c.check(note.to_text().as_bytes() == bytes, || {
        format!("{what}: our re-serialization of the note differs from the file")
    });
    match Checkpoint::parse(note.text()) {
        Ok(cp) => {
            c.check(cp.origin == log.name(), || {
                format!(
                    "{what}: origin {:?} is not the log key's name {:?}",
                    cp.origin,
                    log.name()
                )
            });
            Some((note, cp))
        }
        Err(e) => {
            c.fail(format!("{what}: {e}"));
            None
        }
    }
}

fn first_difference(a: &[u8], b: &[u8]) -> String {
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(i) => format!("first difference at byte {i}"),
        None => format!("{} bytes vs our {}", a.len(), b.len()),
    }
}

fn verify(dir: &Path) -> Result<Vec<String>, Vec<String>> {
    let mut c = Checks::default();
    verify_inner(dir, &mut c).map_err(|e| {
        let mut errors = std::mem::take(&mut c.errors);
        errors.push(e);
        errors
    })?;
    if c.errors.is_empty() {
        Ok(vec![format!(
            "verify {}: all {} checks passed",
            dir.display(),
            c.passed
        )])
    } else {
        Err(c.errors)
    }
}

fn verify_inner(dir: &Path, c: &mut Checks) -> Result<(), String> {
    // Keys: Go's vkey and private key formats.
    let vkey = read_text(dir, "log.vkey")?;
    let log = NoteVerifier::parse(&vkey).map_err(|e| format!("log.vkey: {e}"))?;
    c.check(log.kind() == KeyKind::Ed25519, || {
        "log.vkey: not an Ed25519 note key (type 0x01)".into()
    });
    let signer = NoteSigner::from_private(&read_text(dir, "log.key")?)
        .map_err(|e| format!("log.key: {e}"))?;
    c.check(signer.verifier().vkey() == vkey.trim(), || {
        format!(
            "log.key: its public key {} is not log.vkey {}",
            signer.verifier().vkey(),
            vkey.trim()
        )
    });
    let witness = NoteVerifier::parse(&read_text(dir, "witness.vkey")?)
        .map_err(|e| format!("witness.vkey: {e}"))?;
    c.check(witness.kind() == KeyKind::Cosignature, || {
        "witness.vkey: not a cosignature/v1 key (type 0x04)".into()
    });

    // The whole log's checkpoint, and our signature over the same text (Ed25519 is
    // deterministic, so it must be Go's line byte for byte).
    let top = read(dir, "log/checkpoint")?;
    let (note, cp) =
        open_note(c, "log/checkpoint", &top, &log, &witness).ok_or("log/checkpoint: unusable")?;
    let ours = signer.sign(note.text()).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&top);
    c.check(text.lines().any(|l| format!("{l}\n") == ours), || {
        format!(
            "log/checkpoint: our signature with log.key, {ours:?}, is not among the file's lines"
        )
    });

    // Entries from the bundles, then the tree hash over them and over Go's level-0 tiles.
    let log_from = Log::from_bundles(cp.size, &mut |p| fs::read(dir.join("log").join(p)).ok())
        .map_err(|e| format!("entry bundles under log/: {e}"))?;
    let leaves = log_from.leaves();
    c.check(tree_hash(leaves) == cp.root, || {
        format!(
            "tree hash of the {} entries in the bundles is {}, the checkpoint says {}",
            cp.size,
            b64(&tree_hash(leaves)),
            b64(&cp.root)
        )
    });
    let mut go_leaves: Vec<Hash> = Vec::new();
    for (n, chunk) in leaves.chunks(WIDTH).enumerate() {
        let path = format!("log/{}", tile_path(Some(0), n as u64, chunk.len() as u16));
        let bytes = read(dir, &path)?;
        if !c.check(bytes.len() == chunk.len() * 32, || {
            format!(
                "{path}: {} bytes, expected {}",
                bytes.len(),
                chunk.len() * 32
            )
        }) {
            continue;
        }
        for (k, h) in bytes.chunks(32).enumerate() {
            let i = n * WIDTH + k;
            c.check(h == leaf_hash(&log_from.entries()[i]), || {
                format!("{path}: hash {k} is not the leaf hash of entry {i} in the bundles")
            });
            go_leaves.push(h.try_into().expect("32 bytes"));
        }
    }
    c.check(tree_hash(&go_leaves) == cp.root, || {
        format!(
            "tree hash over the level-0 tiles is {}, the checkpoint says {}",
            b64(&tree_hash(&go_leaves)),
            b64(&cp.root)
        )
    });

    // Intermediate checkpoints: each root is the tree hash of that prefix of the entries.
    let mut names = Vec::new();
    walk(dir, "checkpoints", &mut names)?;
    let mut checkpoints: BTreeMap<u64, (Note, Checkpoint)> = BTreeMap::new();
    for rel in &names {
        let bytes = read(dir, rel)?;
        let Some((n, k)) = open_note(c, rel, &bytes, &log, &witness) else {
            continue;
        };
        c.check(rel.ends_with(&format!("/{}", k.size)), || {
            format!("{rel}: holds a checkpoint of size {}", k.size)
        });
        if !c.check(k.size >= 1 && k.size <= cp.size, || {
            format!(
                "{rel}: size {} is not within the log's 1..={}",
                k.size, cp.size
            )
        }) {
            continue;
        }
        let want = tree_hash(&leaves[..k.size as usize]);
        c.check(k.root == want, || {
            format!(
                "{rel}: root {} is not the tree hash {} of the first {} entries",
                b64(&k.root),
                b64(&want),
                k.size
            )
        });
        checkpoints.insert(k.size, (n, k));
    }
    c.check(
        checkpoints
            .get(&cp.size)
            .is_some_and(|(n, _)| n.text() == note.text()),
        || "checkpoints/: no checkpoint equal to log/checkpoint".into(),
    );
    c.check(checkpoints.len() >= 5, || {
        format!("only {} intermediate checkpoints", checkpoints.len())
    });

    // Tiles and bundles: exactly what our Log::files() writes for every checkpointed size.
    let mut expected: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut prefix = Log::new();
    for &size in checkpoints.keys() {
        while prefix.size() < size {
            prefix
                .append(log_from.entries()[prefix.size() as usize].clone())
                .map_err(|e| e.to_string())?;
        }
        expected.extend(
            prefix
                .files()
                .into_iter()
                .map(|(p, b)| (format!("log/{p}"), b)),
        );
    }
    let mut present = Vec::new();
    walk(dir, "log/tile", &mut present)?;
    for rel in &present {
        match expected.get(rel) {
            None => c.fail(format!(
                "{rel}: a file our log would not write for these checkpoints"
            )),
            Some(want) => {
                let got = read(dir, rel)?;
                c.check(&got == want, || {
                    format!(
                        "{rel}: differs from our tile ({})",
                        first_difference(&got, want)
                    )
                });
            }
        }
    }
    for rel in expected.keys().filter(|p| !present.contains(p)) {
        c.fail(format!("{rel}: missing (our log writes it)"));
    }
    for rel in present
        .iter()
        .filter(|p| p.starts_with("log/tile/entries/"))
    {
        if let Ok(b) = read(dir, rel) {
            c.check(parse_bundle(&b).is_ok(), || {
                format!("{rel}: not an entry bundle")
            });
        }
    }

    // Inclusion proofs.
    let mut names = Vec::new();
    walk(dir, "proofs", &mut names)?;
    c.check(names.len() >= 5, || {
        format!("only {} inclusion proofs", names.len())
    });
    for rel in &names {
        let bytes = read(dir, rel)?;
        let p = match TlogProof::parse(&bytes) {
            Ok(p) => p,
            Err(e) => {
                c.fail(format!("{rel}: {e}"));
                continue;
            }
        };
        let Some((_, k)) = open_note(c, rel, &p.note.to_text().into_bytes(), &log, &witness) else {
            continue;
        };
        if !c.check(
            checkpoints.get(&k.size).is_some_and(|(_, v)| v == &k),
            || {
                format!(
                    "{rel}: its checkpoint (size {}) is not one of the verified ones",
                    k.size
                )
            },
        ) {
            continue;
        }
        if !c.check(p.index < k.size, || {
            format!("{rel}: index {} outside a tree of {}", p.index, k.size)
        }) {
            continue;
        }
        let leaf = leaves[p.index as usize];
        c.check(p.includes(&leaf), || {
            format!(
                "{rel}: the inclusion proof of entry {} in tree {} does not verify",
                p.index, k.size
            )
        });
        c.check(
            verify_inclusion(&leaf, p.index, k.size, &p.path, &k.root),
            || {
                format!(
                    "{rel}: verify_inclusion rejects the proof of entry {}",
                    p.index
                )
            },
        );
        let ours = inclusion_proof(&leaves[..k.size as usize], p.index as usize);
        c.check(ours == p.path, || {
            format!(
                "{rel}: our inclusion proof of entry {} in tree {} differs from Go's",
                p.index, k.size
            )
        });
        let rebuilt = TlogProof {
            path: ours,
            ..p.clone()
        };
        c.check(rebuilt.to_text().as_bytes() == bytes, || {
            format!(
                "{rel}: our tlog-proof text with our path differs from the file ({})",
                first_difference(&bytes, rebuilt.to_text().as_bytes())
            )
        });
    }

    // Consistency proofs.
    let mut names = Vec::new();
    walk(dir, "consistency", &mut names)?;
    c.check(names.len() >= 5, || {
        format!("only {} consistency proofs", names.len())
    });
    for rel in &names {
        let bytes = read(dir, rel)?;
        let req = match parse_request(&bytes) {
            Ok(r) => r,
            Err(e) => {
                c.fail(format!("{rel}: {}", e.body().trim_end()));
                continue;
            }
        };
        let Some((_, new)) = open_note(c, rel, &req.note.to_text().into_bytes(), &log, &witness)
        else {
            continue;
        };
        let (Some((_, old)), true) = (
            checkpoints.get(&req.old),
            checkpoints.get(&new.size).is_some_and(|(_, v)| v == &new),
        ) else {
            c.fail(format!(
                "{rel}: from {} to {}, not both verified checkpoints",
                req.old, new.size
            ));
            continue;
        };
        c.check(
            verify_consistency(old.size, new.size, &old.root, &new.root, &req.proof),
            || {
                format!(
                    "{rel}: the consistency proof from {} to {} does not verify",
                    old.size, new.size
                )
            },
        );
        let ours = consistency_proof(&leaves[..new.size as usize], old.size as usize);
        c.check(ours == req.proof, || {
            format!(
                "{rel}: our consistency proof from {} to {} differs from Go's",
                old.size, new.size
            )
        });
    }
    Ok(())
}
