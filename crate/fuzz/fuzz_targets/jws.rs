//! JWS parsing and signature checking over arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Some("demo-1.0.dist-info/RECORD.jws".to_string());
    if let Ok(doc) = wheelsig::jws::parse(data, &path) {
        let _ = doc.check(&path);
    }
});
