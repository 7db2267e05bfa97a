//! RECORD parsing over arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut problems = Vec::new();
    let _ = wheelsig::record::parse_record(data, "demo-1.0.dist-info/RECORD", &mut problems);
});
