//! The plan/units/finish split gives byte-identical reports however the members are cut,
//! in whatever order the units come back, through the wire encoding the browser workers use,
//! and with digests computed outside the unit (WebCrypto in the browser): every vector.

#![cfg(not(target_arch = "wasm32"))]

mod common;

type Failed = String;

#[test]
fn every_vector_gives_the_same_report_however_it_is_split() {
    use std::collections::HashMap;
    use std::io::Cursor;
    use std::ops::Range;
    use wheelsig::record::HashAlg;
    use wheelsig::verify::{
        file_sha256, verify_members, verify_wheel, verify_wheel_parallel, Plan, ReadSeekSend,
        UnitHooks, UnitOutput, VerifyInput, Work,
    };

    /// Digests members outside the unit (as the browser's WebCrypto path does).
    #[derive(Default)]
    struct Outside {
        bytes: HashMap<usize, (HashAlg, Vec<u8>)>,
        intact: HashMap<usize, bool>,
    }
    impl UnitHooks for Outside {
        fn external(&mut self, index: usize, _size: u64, alg: HashAlg) -> bool {
            self.bytes.insert(index, (alg, Vec::new()));
            true
        }
        fn content(&mut self, index: usize, chunk: &[u8]) {
            self.bytes
                .get_mut(&index)
                .expect("external member")
                .1
                .extend_from_slice(chunk);
        }
        fn member(&mut self, index: usize, intact: bool) {
            self.intact.insert(index, intact);
        }
    }
    impl Outside {
        fn digests(&self) -> HashMap<usize, Vec<u8>> {
            use sha2::Digest;
            self.bytes
                .iter()
                .filter(|(i, _)| self.intact.get(i) == Some(&true))
                .map(|(&i, (alg, b))| {
                    let d = match alg {
                        HashAlg::Sha256 => sha2::Sha256::digest(b).to_vec(),
                        HashAlg::Sha384 => sha2::Sha384::digest(b).to_vec(),
                        HashAlg::Sha512 => sha2::Sha512::digest(b).to_vec(),
                    };
                    (i, d)
                })
                .collect()
        }
    }

    /// Plan, verify `cuts` (each unit through the wire encoding, last unit first), finish.
    fn split(
        bytes: &[u8],
        input: &VerifyInput,
        cuts: &dyn Fn(&Work) -> Vec<Range<usize>>,
        outside: bool,
    ) -> Result<String, String> {
        let plan = Plan::new(&mut Cursor::new(bytes), input).map_err(|e| e.to_string())?;
        let sha = plan
            .needs_file_digest()
            .then(|| file_sha256(Cursor::new(bytes)).expect("in memory"));
        let mut hooks = Outside::default();
        let mut units = Vec::new();
        if let Some(work) = plan.work() {
            let work = Work::from_bytes(&work.to_bytes())?;
            for range in cuts(&work).into_iter().rev() {
                let out = if outside {
                    verify_members(Cursor::new(bytes), &work, range, &mut hooks)
                } else {
                    verify_members(
                        Cursor::new(bytes),
                        &work,
                        range,
                        &mut wheelsig::verify::NoHooks,
                    )
                };
                units.push(UnitOutput::from_bytes(&out.to_bytes())?);
            }
        }
        let report = plan
            .finish(input, units, &hooks.digests(), sha)
            .map_err(|e| e.to_string())?
            .report;
        Ok(serde_json::to_string(&report).expect("report serializes"))
    }

    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let text =
        std::fs::read_to_string(root.join("vectors.json")).expect("tests/vectors/vectors.json");
    let vectors = common::manifest(&text);
    assert!(vectors.len() > 100, "only {} vectors", vectors.len());
    let failures: Vec<String> = vectors
        .into_iter()
        .filter_map(|v| {
            let run = || -> Result<(), Failed> {
                let read =
                    |p: &str| std::fs::read(root.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
                let input = common::input(&v, &read);
                let bytes = read(&v.file);
                let want = serde_json::to_string(
                    &verify_wheel(Cursor::new(&bytes), &input, &mut |_, _| {})
                        .map_err(|e| e.to_string())?
                        .report,
                )
                .expect("report");
                let mut checks: Vec<(String, String)> = Vec::new();
                for threads in [1, 2, 3, 8] {
                    let open = || Ok(Box::new(Cursor::new(bytes.clone())) as Box<dyn ReadSeekSend>);
                    let r = verify_wheel_parallel(&open, threads, &input, &mut |_, _| {})
                        .map_err(|e| e.to_string())?
                        .report;
                    checks.push((
                        format!("{threads} threads"),
                        serde_json::to_string(&r).expect("report"),
                    ));
                }
                let one = |w: &Work| std::iter::once(0..w.len()).collect::<Vec<_>>();
                let each = |w: &Work| {
                    if w.is_empty() {
                        std::iter::once(0..0).collect::<Vec<_>>()
                    } else {
                        (0..w.len()).map(|i| i..i + 1).collect()
                    }
                };
                for (label, outside) in [("wasm digests", false), ("outside digests", true)] {
                    checks.push((
                        format!("one unit, {label}"),
                        split(&bytes, &input, &one, outside)?,
                    ));
                    checks.push((
                        format!("a unit per member, {label}"),
                        split(&bytes, &input, &each, outside)?,
                    ));
                    for parts in [2, 5] {
                        checks.push((
                            format!("plan_units({parts}), {label}"),
                            split(&bytes, &input, &|w: &Work| w.units(parts), outside)?,
                        ));
                    }
                }
                // Every two-way cut (at most 64 of them, spread over the entries).
                let n = Plan::new(&mut Cursor::new(&bytes), &input)
                    .map_err(|e| e.to_string())?
                    .work()
                    .map_or(0, |w| w.len());
                let step = n.div_ceil(64).max(1);
                for k in (1..n).step_by(step) {
                    checks.push((
                        format!("cut at {k}"),
                        split(
                            &bytes,
                            &input,
                            &|w: &Work| vec![0..k, k..w.len()],
                            k % 2 == 0,
                        )?,
                    ));
                }
                for (label, got) in checks {
                    if got != want {
                        return Err(format!(
                            "{label}: the report differs\n  sequential: {want}\n  {label}: {got}"
                        ));
                    }
                }
                Ok(())
            };
            run().err().map(|e| format!("{}: {e}", v.name))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} vectors differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn an_external_member_without_its_digest_is_an_error_not_a_pass() {
    use std::collections::HashMap;
    use std::io::Cursor;
    use wheelsig::record::HashAlg;
    use wheelsig::verify::{verify_members, Plan, UnitHooks, VerifyInput};
    struct Outside;
    impl UnitHooks for Outside {
        fn external(&mut self, _: usize, _: u64, _: HashAlg) -> bool {
            true
        }
    }
    let run = || -> Result<(), Failed> {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
        let bytes = std::fs::read(dir.join("pass_unsigned/demo-1.0-py3-none-any.whl"))
            .map_err(|e| e.to_string())?;
        let input = VerifyInput {
            file_name: "demo-1.0-py3-none-any.whl".into(),
            ..VerifyInput::default()
        };
        let plan = Plan::new(&mut Cursor::new(&bytes), &input).map_err(|e| e.to_string())?;
        let work = plan.work().ok_or_else(|| String::from("no work"))?;
        let unit = verify_members(Cursor::new(&bytes), work, 0..work.len(), &mut Outside);
        match plan.finish(&input, vec![unit], &HashMap::new(), None) {
            Ok(_) => Err(String::from("finished without the digests")),
            Err(e) if e.to_string().contains("no digest") => Ok(()),
            Err(e) => Err(format!("unexpected error {e}")),
        }
    };
    run().unwrap();
}
