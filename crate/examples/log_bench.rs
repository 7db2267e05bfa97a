//! Benchmark of a key site's release log (`npm run bench:log`): append N releases (default
//! 100,000) to a log, write its C2SP tiles and bundles, then the cost of one more publish into
//! a log that size (rebuild from bundles, append, rewrite), the size of one proof, and the
//! time to verify one proof. Prints figures; asserts only that the proofs verify.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::Instant;

use wheelsig::log::checkpoint::Checkpoint;
use wheelsig::log::merkle::{leaf_hash, verify_consistency, verify_inclusion};
use wheelsig::log::note::{KeyKind, Note, NoteSigner};
use wheelsig::log::proof::TlogProof;
use wheelsig::log::release::ReleaseLeaf;
use wheelsig::log::tiles::Log;

fn leaf(i: usize) -> Vec<u8> {
    ReleaseLeaf {
        project: format!("project-{}", i % 500),
        version: format!("1.{i}"),
        file: format!("project_{}-1.{i}-py3-none-any.whl", i % 500),
        sha256: format!("{:064x}", i),
        jws_sha256: format!("{:064x}", i * 7 + 1),
        kid: "qj77FR9sDoMeB_acyh5fCoUzDapAprQu5U5HjJocSD4".into(),
    }
    .encode()
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let key = NoteSigner::from_seed("bench.example/log", KeyKind::Ed25519, &[3; 32]).expect("key");

    let t = Instant::now();
    let mut log = Log::new();
    for i in 0..n {
        log.append(leaf(i)).expect("append");
    }
    let append = t.elapsed();
    let t = Instant::now();
    let files = log.files();
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    let tiles = t.elapsed();
    let t = Instant::now();
    let cp = log.checkpoint("bench.example/log");
    let note_text = format!("{}\n{}", cp.text(), key.sign(&cp.text()).expect("sign"));
    let sign = t.elapsed();

    // One more publish into a log of n entries: rebuild from the bundles, append, rewrite.
    let t = Instant::now();
    let mut again = Log::from_bundles(n as u64, &mut |p| {
        files.iter().find(|(q, _)| q == p).map(|(_, b)| b.clone())
    })
    .expect("rebuild");
    again.append(leaf(n)).expect("append");
    let _ = again.files();
    let publish_one = t.elapsed();

    let index = n / 2;
    let path = log.inclusion(index as u64);
    let proof = TlogProof {
        extra: None,
        index: index as u64,
        path: path.clone(),
        note: Note::parse(note_text.as_bytes()).expect("note"),
        checkpoint: Checkpoint::parse(&cp.text()).expect("checkpoint"),
    };
    let proof_text = proof.to_text();
    let rounds = 10_000u32;
    let leaf_h = leaf_hash(&leaf(index));
    let t = Instant::now();
    for _ in 0..rounds {
        assert!(verify_inclusion(
            &leaf_h,
            index as u64,
            cp.size,
            &path,
            &cp.root
        ));
    }
    let verify = t.elapsed() / rounds;
    let t = Instant::now();
    for _ in 0..100 {
        let p = TlogProof::parse(proof_text.as_bytes()).expect("parse");
        assert!(p
            .note
            .verify_by(key.verifier())
            .expect("signature")
            .is_some());
        assert!(p.includes(&leaf_h));
    }
    let full = t.elapsed() / 100;
    let cons = again.consistency(n as u64);
    assert!(verify_consistency(
        n as u64,
        n as u64 + 1,
        &cp.root,
        &again.checkpoint("bench.example/log").root,
        &cons
    ));

    // `log_bench N DIR`: also write the proof, its leaf and a policy for the page's benchmark.
    if let Some(dir) = std::env::args().nth(2) {
        let dir = std::path::Path::new(&dir);
        std::fs::create_dir_all(dir).expect("out dir");
        std::fs::write(dir.join("proof.txt"), &proof_text).expect("write");
        std::fs::write(dir.join("leaf.txt"), leaf(index)).expect("write");
        std::fs::write(
            dir.join("policy.txt"),
            format!("log {}\nquorum none\n", key.verifier().vkey()),
        )
        .expect("write");
    }

    println!("release log benchmark: {n} releases");
    println!(
        "  append {n} leaves          {:>10.1} ms ({:.0} leaves/s)",
        append.as_secs_f64() * 1e3,
        n as f64 / append.as_secs_f64()
    );
    println!(
        "  write tiles and bundles     {:>10.1} ms: {} files, {:.1} MiB",
        tiles.as_secs_f64() * 1e3,
        files.len(),
        bytes as f64 / 1048576.0
    );
    println!(
        "  sign the checkpoint         {:>10.3} ms",
        sign.as_secs_f64() * 1e3
    );
    println!(
        "  one more publish            {:>10.1} ms (rebuild from bundles, append, rewrite)",
        publish_one.as_secs_f64() * 1e3
    );
    println!(
        "  inclusion proof             {:>10} hashes, tlog-proof file {} bytes",
        path.len(),
        proof_text.len()
    );
    println!(
        "  verify inclusion            {:>10.2} µs",
        verify.as_secs_f64() * 1e6
    );
    println!(
        "  parse + signature + include {:>10.2} µs per .tlog-proof",
        full.as_secs_f64() * 1e6
    );
    println!("  consistency {n} -> {}   {:>10} hashes", n + 1, cons.len());
}
