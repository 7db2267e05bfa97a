//! Benchmark of an index log at PyPI scale (`npm run bench:index-log`): append N entries
//! (default 1,000,000, about a year of PyPI uploads) with the tile writer, publishing a
//! checkpoint's worth of files every 10,000 entries to a directory as the follower does; then
//! the lookup files, and the cost of checking one file the way `verify --index-log` does
//! (lookup, bundle, inclusion proof from the hash tiles, signature). Prints figures; asserts
//! only that the checks pass.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use wheelsig::log::checkpoint::Checkpoint;
use wheelsig::log::index_leaf::IndexLeaf;
use wheelsig::log::note::{KeyKind, NoteSigner};
use wheelsig::log::policy::Policy;
use wheelsig::log::tilelog::TileWriter;

const FILES_PER_PROJECT: usize = 20;

fn leaf(i: usize) -> IndexLeaf {
    let p = i / FILES_PER_PROJECT;
    IndexLeaf {
        index: "https://pypi.org/simple/".into(),
        project: format!("project-{p}"),
        file: format!("project_{p}-1.{}-py3-none-any.whl", i % FILES_PER_PROJECT),
        sha256: format!("{:064x}", i as u128 * 0x9e37_79b9_7f4a_7c15),
        uploaded: Some("2026-06-01T12:00:00Z".into()),
        first_seen: "2026-06-01T12:00:05Z".into(),
    }
}

fn size_of(dir: &Path) -> (u64, u64) {
    let (mut files, mut bytes) = (0, 0);
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                let (f, b) = size_of(&p);
                files += f;
                bytes += b;
            } else {
                files += 1;
                bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
    }
    (files, bytes)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(2)
            .unwrap_or_else(|| "bench/out/index-log".into()),
    );
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let key = NoteSigner::from_seed("bench.example/index-log", KeyKind::Ed25519, &[5; 32]).unwrap();

    let t = Instant::now();
    let mut w = TileWriter::new();
    let mut lookup: BTreeMap<String, String> = BTreeMap::new();
    let mut written = 0usize;
    let mut checkpoints = 0;
    for i in 0..n {
        let l = leaf(i);
        let index = w.append(l.encode()).unwrap();
        lookup
            .entry(l.project.clone())
            .or_default()
            .push_str(&format!("{index} {} {}\n", l.file, l.sha256));
        if (i + 1) % 10_000 == 0 || i + 1 == n {
            for (rel, bytes) in w.flush() {
                let p = dir.join(rel);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, bytes).unwrap();
                written += 1;
            }
            let text = Checkpoint {
                origin: "bench.example/index-log".into(),
                size: w.size(),
                root: w.root(),
                extensions: vec![],
            }
            .text();
            std::fs::write(
                dir.join("checkpoint"),
                format!("{text}\n{}", key.sign(&text).unwrap()),
            )
            .unwrap();
            checkpoints += 1;
        }
    }
    let append = t.elapsed();
    let t = Instant::now();
    std::fs::create_dir_all(dir.join("lookup")).unwrap();
    for (p, text) in &lookup {
        std::fs::write(dir.join("lookup").join(p), text).unwrap();
    }
    let lookups = t.elapsed();
    let (tile_files, tile_bytes) = size_of(&dir.join("tile"));
    let (bundle_files, bundle_bytes) = size_of(&dir.join("tile/entries"));
    let (lookup_files, lookup_bytes) = size_of(&dir.join("lookup"));

    // Check one file as `verify --index-log` does, reading the files from disk.
    let policy = Policy::parse(&format!("log {}\nquorum none\n", key.verifier().vkey())).unwrap();
    let latest = std::fs::read(dir.join("checkpoint")).unwrap();
    let target = leaf(n / 2 + 7);
    let rounds = 200;
    let mut fetched = 0usize;
    let t = Instant::now();
    for _ in 0..rounds {
        let mut read = |p: &str| {
            fetched += 1;
            std::fs::read(dir.join(p)).ok()
        };
        let c = wheelsig::log::index_check::check(
            &target.file,
            &target.project,
            &target.sha256,
            &latest,
            &policy,
            &mut read,
            0,
            None,
        );
        assert!(
            c.problems.is_empty(),
            "{:?}",
            c.problems.first().map(|p| &p.message)
        );
        assert_eq!(c.report.unwrap().status, "logged");
    }
    let check = t.elapsed() / rounds;
    let per_check = fetched / rounds as usize;
    // For the page row (bench/index-log-browser.mjs): the policy and a few files to check,
    // spread over the log.
    let targets: Vec<_> = [7, n / 3 + 1, n / 2 + 7, n - 1]
        .iter()
        .map(|&i| {
            let l = leaf(i);
            serde_json::json!({"file": l.file, "project": l.project, "sha256": l.sha256, "index": i})
        })
        .collect();
    std::fs::write(
        dir.join("bench.json"),
        serde_json::json!({"policy": format!("log {}\nquorum none\n", key.verifier().vkey()), "targets": targets}).to_string(),
    )
    .unwrap();

    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    println!(
        "index log benchmark: {n} entries, {} projects",
        lookup.len()
    );
    println!("  append + publish (every 10,000):  {:>8.2} s  ({:.0} entries/s, {checkpoints} checkpoints, {written} file writes)", append.as_secs_f64(), n as f64 / append.as_secs_f64());
    println!("  entry bundles:                    {bundle_files:>8} files  {:>9.1} MiB  ({:.0} bytes/entry)", mib(bundle_bytes), bundle_bytes as f64 / n as f64);
    println!(
        "  hash tiles:                       {:>8} files  {:>9.1} MiB",
        tile_files - bundle_files,
        mib(tile_bytes - bundle_bytes)
    );
    println!("  lookup files:                     {lookup_files:>8} files  {:>9.1} MiB  (written in {:.2} s)", mib(lookup_bytes), lookups.as_secs_f64());
    println!("  check one file (native, disk):    {:>8.0} µs  ({per_check} files read: lookup, bundle, proof tiles)", check.as_secs_f64() * 1e6);
    let total = tile_bytes + lookup_bytes;
    println!(
        "  storage: {:.2} GiB per million files; a PyPI-size log of 10 million files ≈ {:.1} GiB",
        total as f64 / n as f64 * 1e6 / (1u64 << 30) as f64,
        total as f64 / n as f64 * 1e7 / (1u64 << 30) as f64
    );
}
