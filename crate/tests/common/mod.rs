//! Shared by the native and the wasm vector tests: read `tests/vectors/vectors.json` entries,
//! build the verification input, and check a report against the vector's stated outcome.
#![allow(dead_code)]

use serde::Deserialize;
use std::collections::BTreeMap;
use wheelsig::report::Report;
use wheelsig::trust::{FirstUse, TrustBuilder};
use wheelsig::verify::{DetachedSignature, VerifyInput};

/// One vector as stated in the manifest.
#[derive(Debug, Deserialize)]
pub struct Vector {
    pub name: String,
    pub file: String,
    pub expect: String,
    pub code: Option<String>,
    pub path: Option<String>,
    pub description: String,
    pub detached: Option<String>,
    pub jwks: Option<String>,
    pub pins: Option<BTreeMap<String, Vec<String>>>,
    pub first_use: Option<BTreeMap<String, FirstUse>>,
}

pub fn manifest(text: &str) -> Vec<Vector> {
    serde_json::from_str(text).expect("tests/vectors/vectors.json is valid")
}

pub fn file_name(v: &Vector) -> String {
    v.file.rsplit('/').next().unwrap_or(&v.file).to_string()
}

/// The input for a vector; `read` maps a manifest-relative path to its bytes.
pub fn input(v: &Vector, read: &dyn Fn(&str) -> Vec<u8>) -> VerifyInput {
    let mut trust = TrustBuilder::new();
    if let Some(j) = &v.jwks {
        trust
            .key_file(j, &read(j))
            .unwrap_or_else(|e| panic!("{}: bad jwks {j}: {e}", v.name));
    }
    for (project, kids) in v.pins.iter().flatten() {
        for kid in kids {
            trust
                .pin(project, kid)
                .unwrap_or_else(|e| panic!("{}: bad pin: {e}", v.name));
        }
    }
    for (project, fu) in v.first_use.iter().flatten() {
        trust
            .first_use(project, fu.clone())
            .unwrap_or_else(|e| panic!("{}: bad first use: {e}", v.name));
    }
    let trust = trust.build();
    let detached = v
        .detached
        .iter()
        .map(|d| DetachedSignature {
            source: d.clone(),
            bytes: read(d),
        })
        .collect();
    VerifyInput {
        file_name: file_name(v),
        detached,
        trust,
        ..VerifyInput::default()
    }
}

/// Whether `report` is what the vector says it must be.
pub fn check(v: &Vector, report: &Report) -> Result<(), String> {
    let problems: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
    let ctx = || {
        format!(
            "{} ({})\n  problems: {:#?}",
            v.name, v.description, problems
        )
    };
    if report.verdict.as_str() != v.expect {
        return Err(format!(
            "verdict {} but expected {}: {}",
            report.verdict,
            v.expect,
            ctx()
        ));
    }
    match &v.code {
        None if !report.problems.is_empty() => Err(format!("expected no problems: {}", ctx())),
        None => Ok(()),
        Some(code) => {
            let with_code: Vec<_> = report
                .problems
                .iter()
                .filter(|p| p.code.as_str() == *code)
                .collect();
            if with_code.is_empty() {
                return Err(format!("no problem with code {code}: {}", ctx()));
            }
            if let Some(path) = &v.path {
                if !with_code
                    .iter()
                    .any(|p| p.path.as_deref() == Some(path.as_str()))
                {
                    return Err(format!("no {code} problem names {path:?}: {}", ctx()));
                }
            }
            Ok(())
        }
    }
}
