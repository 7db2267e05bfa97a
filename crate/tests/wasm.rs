//! The verification vectors, run through the wasm binding inside a real browser
//! (`wasm-pack test --headless --chrome crate --no-default-features --features wasm`).
#![cfg(target_arch = "wasm32")]

mod common;

use js_sys::{Function, Uint8Array};
use serde_json::json;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use wheelsig::report::Report;

wasm_bindgen_test_configure!(run_in_browser);

include!(concat!(env!("OUT_DIR"), "/vector_files.rs"));

fn file(path: &str) -> &'static [u8] {
    VECTOR_FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, b)| *b)
        .unwrap_or_else(|| panic!("vector file {path} not embedded"))
}

fn text(path: &str) -> String {
    String::from_utf8(file(path).to_vec()).unwrap_or_else(|_| panic!("{path} is not UTF-8"))
}

/// Verify through the exported `verify_wheel`, reading the bytes via a JS `readAt` the way
/// the worker does with `FileReaderSync`.
fn verify_in_js(v: &common::Vector) -> Result<Report, String> {
    let bytes = Uint8Array::from(file(&v.file));
    let size = bytes.length();
    let read_at = Closure::<dyn Fn(f64, f64) -> Uint8Array>::new(move |offset: f64, len: f64| {
        let start = offset as u32;
        bytes.slice(start, start.saturating_add(len as u32).min(size))
    });
    let progress = Function::new_no_args("");
    let input = json!({
        "file_name": common::file_name(v),
        "detached": v.detached.iter().map(|d| json!({"name": d, "text": text(d)})).collect::<Vec<_>>(),
        "key_sets": v.jwks.iter().map(|j| json!({"source": j, "kind": "key-file", "text": text(j)})).collect::<Vec<_>>(),
        "pins": v.pins.clone().unwrap_or_default(),
        "first_use": v.first_use.clone().unwrap_or_default(),
    });
    let input = input
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| e.to_string())?;
    let out = wheelsig::wasm::verify_wheel(
        read_at.as_ref().unchecked_ref(),
        f64::from(size),
        input,
        &progress,
    )
    .map_err(|e| format!("threw {e:?}"))?;
    serde_wasm_bindgen::from_value(out).map_err(|e| e.to_string())
}

use serde::Serialize as _;

#[wasm_bindgen_test]
fn every_vector_verifies_in_the_browser_as_stated() {
    let vectors = common::manifest(&text("vectors.json"));
    assert!(vectors.len() > 100, "only {} vectors", vectors.len());
    let failures: Vec<String> = vectors
        .iter()
        .filter_map(|v| {
            verify_in_js(v)
                .and_then(|r| common::check(v, &r))
                .err()
                .map(|e| format!("{}: {e}", v.name))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed in the browser:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

/// `(code, message)` of a thrown value, which must be a JS `Error`.
fn error_parts(err: JsValue) -> (String, String) {
    assert!(
        err.is_instance_of::<js_sys::Error>(),
        "thrown value is not an Error: {err:?}"
    );
    let get = |k: &str| {
        js_sys::Reflect::get(&err, &JsValue::from_str(k))
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    (get("code"), get("message"))
}

#[wasm_bindgen_test]
fn key_set_errors_are_errors_with_codes() {
    let err = wheelsig::wasm::parse_key_set("{\"keys\":[{\"kty\":\"OKP\"}]}", "test").unwrap_err();
    let (code, message) = error_parts(err);
    assert_eq!(code, "key-set");
    assert!(message.contains("keys[0]"), "{message}");
}

fn verify_with(input: serde_json::Value) -> Result<JsValue, JsValue> {
    let bytes = Uint8Array::from(file("pass_detached_trusted/demo-1.0-py3-none-any.whl"));
    let size = bytes.length();
    let read_at = Closure::<dyn Fn(f64, f64) -> Uint8Array>::new(move |offset: f64, len: f64| {
        let start = offset as u32;
        bytes.slice(start, start.saturating_add(len as u32).min(size))
    });
    let input = input
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap();
    wheelsig::wasm::verify_wheel(
        read_at.as_ref().unchecked_ref(),
        f64::from(size),
        input,
        &Function::new_no_args(""),
    )
}

#[wasm_bindgen_test]
fn the_boundary_is_strict() {
    // A misspelled member must not silently drop trust: unknown members are errors, at every level.
    for (input, needle) in [
        (
            json!({"file_name": "demo-1.0-py3-none-any.whl", "key_set": []}),
            "key_set",
        ),
        (
            json!({"file_name": "demo-1.0-py3-none-any.whl", "first_use": {"demo": {"kid": "A".repeat(43), "note": 1}}}),
            "note",
        ),
        (
            json!({"file_name": "demo-1.0-py3-none-any.whl", "key_sets": [{"source": "x", "kind": "keyurl", "text": "{}"}]}),
            "keyurl",
        ),
        (
            json!({"file_name": "demo-1.0-py3-none-any.whl", "pins": {"demo": ["short"]}}),
            "not a key id",
        ),
        (
            json!({"file_name": "demo-1.0-py3-none-any.whl", "now": 1.5}),
            "whole Unix seconds",
        ),
        (
            json!({"file_name": "demo-1.0-py3-none-any.whl", "key_sets": [{"source": "https://x.test/keys.json", "kind": "chosen-key-url", "text": "{\"keys\":[]}"}]}),
            "needs `project`",
        ),
        (
            json!({"file_name": "demo-1.0-py3-none-any.whl", "log": {"policy": "quorum none\n", "proof": null, "required": true}}),
            "required",
        ),
        (
            json!({"file_name": "demo-1.0-py3-none-any.whl", "log": {"policy": "quorum none\n", "proof": {"name": "p", "text": "", "url": "x"}}}),
            "url",
        ),
    ] {
        let (code, message) =
            error_parts(verify_with(input.clone()).expect_err(&input.to_string()));
        assert_eq!(code, "input", "{input}: {message}");
        assert!(message.contains(needle), "{input}: {message}");
    }
    assert!(
        verify_with(json!({"file_name": "demo-1.0-py3-none-any.whl", "now": 1_800_000_000}))
            .is_ok()
    );
    // The witness policy is parsed by the core: a bad one is an Error with code `policy`.
    let (code, message) = error_parts(verify_with(json!({"file_name": "demo-1.0-py3-none-any.whl", "log": {"policy": "quorum nobody\n", "proof": null, "require": false}})).unwrap_err());
    assert_eq!(code, "policy", "{message}");
    // `log` with no proof and not required: verified as before, the report has no `log`.
    let policy =
        "log example.com/log+9be5d3c6+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c\nquorum none\n";
    let r = verify_with(json!({"file_name": "demo-1.0-py3-none-any.whl", "log": {"policy": policy, "proof": null, "require": false}})).unwrap();
    assert!(js_sys::Reflect::get(&r, &JsValue::from_str("log"))
        .unwrap()
        .is_undefined());
}

#[wasm_bindgen_test]
fn generates_keys_with_browser_randomness() {
    let a: serde_json::Value =
        serde_wasm_bindgen::from_value(wheelsig::wasm::generate_key().unwrap()).unwrap();
    let b: serde_json::Value =
        serde_wasm_bindgen::from_value(wheelsig::wasm::generate_key().unwrap()).unwrap();
    assert_ne!(a["kid"], b["kid"]);
    assert!(a["private_jwk"].as_str().unwrap().contains("\"d\""));
}
