//! JWK Set parsing over arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = wheelsig::keys::KeySet::parse(data);
});
