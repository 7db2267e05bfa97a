//! The object storage backend of `src/bin/wheelsig/cli/objstore.rs`, as a small program, for
//! tests/interop/test_objstore.py (until a CLI command uses it):
//!
//! ```text
//! objstore_probe push DIR s3://BUCKET/PREFIX [--endpoint URL]   # mirror a log directory; stats as JSON
//! objstore_probe get s3://BUCKET/PREFIX KEY [--endpoint URL]    # one object's bytes on stdout
//! ```
//!
//! Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and the other AWS_* variables).
//! Exit status 0 on success, 1 with the error on stderr, 2 on a usage error.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

#[path = "../src/bin/wheelsig/cli/objstore.rs"]
mod objstore;

/// `--endpoint URL` anywhere after the subcommand; the rest in order.
fn split_endpoint(args: &[String]) -> Result<(Option<&str>, Vec<&str>), String> {
    let mut endpoint = None;
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--endpoint" {
            endpoint = Some(it.next().ok_or_else(String::new)?.as_str());
        } else if let Some(e) = a.strip_prefix("--endpoint=") {
            endpoint = Some(e);
        } else {
            rest.push(a.as_str());
        }
    }
    Ok((endpoint, rest))
}

fn run(args: &[String]) -> Result<Vec<u8>, String> {
    let (cmd, rest) = args.split_first().ok_or_else(String::new)?;
    let (endpoint, rest) = split_endpoint(rest)?;
    match (cmd.as_str(), rest.as_slice()) {
        ("push", [dir, to]) => {
            let stats = objstore::push(Path::new(dir), to, endpoint)?;
            let mut out = serde_json::to_vec_pretty(&stats).map_err(|e| e.to_string())?;
            out.push(b'\n');
            Ok(out)
        }
        ("get", [to, key]) => objstore::fetch_object(to, endpoint, key),
        _ => Err(String::new()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(&out)
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) if e.is_empty() => {
            eprintln!("usage: objstore_probe push DIR s3://BUCKET/PREFIX [--endpoint URL] | get s3://BUCKET/PREFIX KEY [--endpoint URL]");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("objstore_probe: {e}");
            ExitCode::FAILURE
        }
    }
}
