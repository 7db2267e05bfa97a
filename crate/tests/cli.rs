#![cfg(not(target_arch = "wasm32"))]
//! CLI behaviour pinned by snapshot tests: tests/cmd/*.md are transcripts run by trycmd
//! against the real binary and the committed vectors. Regenerate with TRYCMD=overwrite.
#[test]
fn cli_transcripts() {
    trycmd::TestCases::new().case("tests/cmd/*.md");
}
