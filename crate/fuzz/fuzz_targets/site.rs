//! Key site build over arbitrary sources: the input is split on 0xFF bytes into site.json,
//! keys.json and signature files (alternating path and content).
#![no_main]
use libfuzzer_sys::fuzz_target;
use wheelsig::site::{build, SourceFile};

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&b| b == 0xFF);
    let config = parts.next().unwrap_or_default();
    let keys = parts.next().unwrap_or_default();
    let mut sigs = Vec::new();
    while let (Some(path), Some(bytes)) = (parts.next(), parts.next()) {
        sigs.push(SourceFile {
            path: String::from_utf8_lossy(path).into_owned(),
            bytes: bytes.to_vec(),
        });
    }
    if let Ok(site) = build(config, keys, &sigs, "fuzz") {
        // Everything a release names must have come from a listed key.
        for r in &site.releases {
            assert!(site.keys.keys.iter().any(|k| k.key.kid() == r.kid));
        }
    }
});
