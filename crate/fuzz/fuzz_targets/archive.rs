//! Whole-wheel verification over arbitrary bytes: must never panic, and must stay bounded.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;
use wheelsig::limits::Limits;
use wheelsig::verify::{verify_wheel, VerifyInput};

fuzz_target!(|data: &[u8]| {
    // Small limits keep each run fast; the checks are the same at any size.
    let limits = Limits {
        max_member_size: 1 << 20,
        max_total_size: 4 << 20,
        ..Limits::default()
    };
    let input = VerifyInput {
        file_name: "demo-1.0-py3-none-any.whl".into(),
        limits,
        ..VerifyInput::default()
    };
    let _ = verify_wheel(Cursor::new(data), &input, &mut |_, _| {});
});
