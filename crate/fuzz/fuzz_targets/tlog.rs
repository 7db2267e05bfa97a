//! The release-log parsers over arbitrary bytes: signed notes, checkpoints, tlog-proofs,
//! entry bundles, witness requests (through the witness's whole decision) and policies.
//! Anything that parses must re-serialize to something that parses to the same value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wheelsig::log::{
    checkpoint::Checkpoint, note::Note, policy::Policy, proof::TlogProof, tiles::parse_bundle,
    witness,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(n) = Note::parse(data) {
        let again = Note::parse(n.to_text().as_bytes()).expect("a parsed note re-parses");
        assert_eq!(again, n);
        if let Ok(c) = Checkpoint::parse(n.text()) {
            assert_eq!(Checkpoint::parse(&c.text()).expect("re-parses"), c);
        }
    }
    if let Ok(p) = TlogProof::parse(data) {
        let again = TlogProof::parse(p.to_text().as_bytes()).expect("a parsed proof re-parses");
        assert_eq!((again.index, again.path), (p.index, p.path));
    }
    let _ = parse_bundle(data);
    if let Ok(r) = witness::parse_request(data) {
        let _ = witness::check_against(&r, None);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Policy::parse(text);
    }
});
