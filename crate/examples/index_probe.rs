//! The package index client of `src/bin/wheelsig/cli/index.rs`, as a small program, for
//! tests/interop/test_index.py (until a CLI command uses it):
//!
//! ```text
//! index_probe list INDEX PROJECT                       # the project's files, as JSON
//! index_probe download INDEX PROJECT FILENAME DIR      # fetch one into DIR, print its path
//! index_probe download --wait INDEX PROJECT FILENAME DIR   # the same, but after listing, print
//!                                                      # the listed sha256 and wait for a line
//!                                                      # on stdin (the test swaps the file then)
//! index_probe parse FILE CONTENT_TYPE PAGE_URL         # parse a saved page (no network), as JSON
//! ```
//!
//! Exit status 0 on success, 1 with the error on stderr, 2 on a usage error.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use url::Url;

// The CLI's own modules, compiled into this example as they are into the binary (at the top
// level: `super::fetch` in index.rs then names the sibling module here too).
#[allow(dead_code)]
#[path = "../src/bin/wheelsig/cli/fetch.rs"]
mod fetch;
#[path = "../src/bin/wheelsig/cli/index.rs"]
mod index;

fn run(args: &[String]) -> Result<String, String> {
    match args {
        [cmd, index, project] if cmd == "list" => {
            let index = Url::parse(index).map_err(|e| format!("{index}: {e}"))?;
            let files = index::project_files(&index, project)?;
            serde_json::to_string_pretty(&files).map_err(|e| e.to_string())
        }
        [cmd, rest @ ..] if cmd == "download" => {
            let (wait, rest) = match rest {
                [flag, rest @ ..] if flag == "--wait" => (true, rest),
                _ => (false, rest),
            };
            let [index, project, filename, dir] = rest else {
                return Err(String::new());
            };
            let index = Url::parse(index).map_err(|e| format!("{index}: {e}"))?;
            let files = index::project_files(&index, project)?;
            let file = index::find(&files, filename)
                .ok_or_else(|| format!("the index lists no file {filename:?} for {project}"))?;
            if wait {
                println!("{}", file.sha256.as_deref().unwrap_or("-"));
                std::io::stdout().flush().map_err(|e| e.to_string())?;
                std::io::stdin().lines().next();
            }
            let path = index::download(file, Path::new(dir))?;
            Ok(path.display().to_string())
        }
        [cmd, file, content_type, page_url] if cmd == "parse" => {
            let body = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
            let page_url = Url::parse(page_url).map_err(|e| format!("{page_url}: {e}"))?;
            let files = wheelsig::index::parse_project_page(&body, content_type, &page_url)
                .map_err(|e| e.to_string())?;
            serde_json::to_string_pretty(&files).map_err(|e| e.to_string())
        }
        _ => Err(String::new()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) if e.is_empty() => {
            eprintln!("usage: index_probe list INDEX PROJECT | download [--wait] INDEX PROJECT FILENAME DIR | parse FILE CONTENT_TYPE PAGE_URL");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("index_probe: {e}");
            ExitCode::FAILURE
        }
    }
}
