//! Every vector in tests/vectors (made by tests/vectors/make_vectors.py) is a named test that
//! verifies the wheel and checks the verdict and problem code the vector states.

#[cfg(not(target_arch = "wasm32"))]
mod common;

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    use libtest_mimic::{Arguments, Failed, Trial};
    use std::path::PathBuf;
    use wheelsig::verify::{verify_wheel, verify_wheel_parallel, ReadSeekSend};
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let text =
        std::fs::read_to_string(root.join("vectors.json")).expect("tests/vectors/vectors.json");
    let trials = common::manifest(&text)
        .into_iter()
        .map(|v| {
            let root = root.clone();
            Trial::test(v.name.clone(), move || {
                let read =
                    |p: &str| std::fs::read(root.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
                let input = common::input(&v, &read);
                let file = std::fs::File::open(root.join(&v.file))
                    .map_err(|e| Failed::from(format!("{}: {e}", v.file)))?;
                let report = verify_wheel(file, &input, &mut |_, _| {})
                    .map_err(|e| Failed::from(e.to_string()))?
                    .report;
                common::check(&v, &report).map_err(Failed::from)?;
                // The same vector with members split across threads must reach the same verdict.
                let path = root.join(&v.file);
                let open =
                    || std::fs::File::open(&path).map(|f| Box::new(f) as Box<dyn ReadSeekSend>);
                let parallel = verify_wheel_parallel(&open, 3, &input, &mut |_, _| {})
                    .map_err(|e| Failed::from(e.to_string()))?
                    .report;
                common::check(&v, &parallel).map_err(|e| Failed::from(format!("parallel: {e}")))
            })
        })
        .collect();
    libtest_mimic::run(&Arguments::from_args(), trials).exit();
}
