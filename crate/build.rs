//! Generates two files in `$OUT_DIR`:
//! - `vector_files.rs`: every file under ../tests/vectors with `include_bytes!`, so the wasm
//!   test (tests/wasm.rs) can run the vectors inside a browser, which has no file system;
//! - `widget_files.rs`: the built `<wheel-verify>` widget (www/ after the wasm build, or the
//!   `widget/` copy a packaged crate carries), so `wheelsig site init` needs no checkout. Empty
//!   when neither is there (then `site init` asks for `--widget`); never for wasm32 builds;
//! - `template_files.rs`: the key-site template's own files (../static-site-template, or the
//!   `template/` copy a packaged crate carries), which `site init` writes.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, root, out);
        } else if let Ok(rel) = p.strip_prefix(root) {
            let rel = rel.to_string_lossy().replace('\\', "/");
            if !rel.ends_with(".py") && !rel.ends_with(".md") {
                out.push((rel, p.clone()));
            }
        }
    }
}

/// The files a key site serves in `wheelsig/` (the template's tools/build-site.mjs copies the
/// same list).
const WIDGET: &[&str] = &[
    "wheel-verify.js",
    "worker.js",
    "worker-client.js",
    "first-use.js",
    "log-memory.js",
    "escape.js",
    "pkg/wheelsig.js",
    "pkg/wheelsig_bg.wasm",
];

fn widget() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let wasm = std::env::var("TARGET").is_ok_and(|t| t.starts_with("wasm32"));
    let mut src = format!("/// The files a key site serves in wheelsig/ (crate/build.rs).\npub static WIDGET_NAMES: &[&str] = &{WIDGET:?};\n/// (path under wheelsig/, bytes) of the built widget, or empty.\npub static WIDGET_FILES: &[(&str, &[u8])] = &[\n");
    if !wasm {
        let candidates = [manifest.join("widget"), manifest.join("../www")];
        for dir in &candidates {
            for rel in WIDGET {
                println!("cargo:rerun-if-changed={}", dir.join(rel).display());
            }
        }
        if let Some(dir) = candidates
            .iter()
            .find(|d| WIDGET.iter().all(|rel| d.join(rel).is_file()))
        {
            for rel in WIDGET {
                let _ = writeln!(
                    src,
                    "    ({rel:?}, include_bytes!({:?})),",
                    dir.join(rel).display().to_string()
                );
            }
        }
    }
    src.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("widget_files.rs");
    if let Err(e) = std::fs::write(&out, src) {
        println!("cargo:warning=cannot write {}: {e}", out.display());
    }
}

/// The template files `site init` writes (site.json and keys.json it makes itself).
const TEMPLATE: &[&str] = &[
    "README.md",
    ".gitignore",
    "releases/README.md",
    ".github/workflows/pages.yml",
    "tools/build-site.mjs",
    "tools/cosign-site.mjs",
    "tools/audit-site.mjs",
    "tools/site-files.mjs",
];

fn template() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let candidates = [
        manifest.join("template"),
        manifest.join("../static-site-template"),
    ];
    let mut src = String::from("/// (path, text) of the key-site template's files.\npub static TEMPLATE_FILES: &[(&str, &str)] = &[\n");
    match candidates.iter().find(|d| TEMPLATE.iter().all(|rel| d.join(rel).is_file())) {
        Some(dir) => {
            for rel in TEMPLATE {
                println!("cargo:rerun-if-changed={}", dir.join(rel).display());
                let _ = writeln!(src, "    ({rel:?}, include_str!({:?})),", dir.join(rel).display().to_string());
            }
        }
        None => println!("cargo:warning=the key-site template is missing (neither template/ nor ../static-site-template/): `site init` will refuse"),
    }
    src.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("template_files.rs");
    if let Err(e) = std::fs::write(&out, src) {
        println!("cargo:warning=cannot write {}: {e}", out.display());
    }
}

fn main() {
    widget();
    template();
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default())
        .join("../tests/vectors");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    files.sort();
    let mut src = String::from("/// (manifest-relative path, bytes) of every test vector file.\npub static VECTOR_FILES: &[(&str, &[u8])] = &[\n");
    for (rel, abs) in &files {
        let _ = writeln!(
            src,
            "    ({rel:?}, include_bytes!({:?})),",
            abs.display().to_string()
        );
    }
    src.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("vector_files.rs");
    if let Err(e) = std::fs::write(&out, src) {
        println!("cargo:warning=cannot write {}: {e}", out.display());
    }
}
