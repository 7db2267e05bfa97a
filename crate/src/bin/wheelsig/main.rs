//! `wheelsig`: the command-line adapter over the wheelsig core. Glue only: argument parsing,
//! files, HTTP, the first-use store and printing live here; every check lives in the library.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

mod cli;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use cli::{fetch, output, store};
use wheelsig::display::escape;
use wheelsig::keys::{KeySet, ListedKey, PrivateKey, PublicKey};
use wheelsig::names::normalize_project;
use wheelsig::report::{Requirement, Verdict};
use wheelsig::trust::{TrustBuilder, TrustPolicy};
use wheelsig::urls::Loopback;
use wheelsig::verify::{
    verify_wheel_parallel, DetachedSignature, LogInput, LogRequirement, ReadSeekSend, VerifyInput,
};
use wheelsig::{sign, time};

/// Verify and sign Python wheels: strict archive and RECORD checks, Ed25519 JWS signatures,
/// keys published at a key URL.
#[derive(Parser)]
#[command(name = "wheelsig", version, about, long_about = None, max_term_width = 100, after_help = TOP_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const TOP_HELP: &str = "\
Exit codes: 0 done (every wheel passed the policy), 1 a wheel (or site, or log) failed its
checks, 2 usage or I/O error.

Examples:
  wheelsig verify --key-url https://alice.github.io/keys/keys.json --require-trusted dist/
  wheelsig verify --tofu ~/Downloads/            # a folder: every .whl in it
  wheelsig keygen --out ~/my-wheel-key.jwk && wheelsig site add-key my-keys --key ~/my-wheel-key.jwk
  wheelsig sign --key-env WHEEL_SIGNING_KEY dist/*.whl   # in CI: the key from a secret
  wheelsig inspect dist/demo-1.0-py3-none-any.whl.jws
  wheelsig completions bash > ~/.local/share/bash-completion/completions/wheelsig

Docs: docs/SPEC.md (formats, problem codes, JSON report) in the wheelsig repository.";

const VERIFY_HELP: &str = "\
Exit codes: 0 every wheel passed (--require-… sets the bar: intact by default), 1 at least one
did not, 2 usage or I/O error (with --json, reported as JSON too).

Examples:
  wheelsig verify demo-1.0-py3-none-any.whl                   # intact? signed? by whom?
  wheelsig verify --key-url https://alice.github.io/keys/keys.json --require-trusted dist/
  wheelsig verify --jwks deps-keys.json --require-trusted wheels/   # a `wheelsig lock` list
  wheelsig verify --tofu --quiet ~/Downloads/*.whl           # remember keys; print only failures
  wheelsig verify --json dist/ | jq '.summary'";

#[derive(Subcommand)]
enum Command {
    /// Generate an Ed25519 signing key (private JWK written with mode 0600; public JWK printed)
    Keygen {
        /// Where to write the private key
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Overwrite an existing file
        #[arg(long)]
        force: bool,
        /// Encrypt the private key with a passphrase (asked twice, or $WHEELSIG_KEY_PASSPHRASE):
        /// a JWE with PBES2-HS512+A256KW and A256GCM, as jwcrypto reads
        #[arg(long)]
        encrypt: bool,
    },
    /// Print a JWK Set (keys.json) listing the public halves of key files
    Jwks {
        /// Private or public JWK files
        #[arg(required = true, value_name = "KEY")]
        keys: Vec<PathBuf>,
        /// Restrict the keys to these projects (comma-separated)
        #[arg(long, value_delimiter = ',', value_name = "NAMES")]
        projects: Vec<String>,
        /// Mark the keys retired from this time (YYYY-MM-DD, RFC 3339 UTC or Unix seconds)
        #[arg(long, value_name = "WHEN")]
        exp: Option<String>,
    },
    /// Sign wheels: a detached <wheel>.jws (default) or an embedded RECORD.jws
    Sign {
        #[command(flatten)]
        key: cli::keysrc::KeySource,
        /// Append <dist-info>/RECORD.jws inside the wheel instead (rewrites the wheel)
        #[arg(long)]
        embed: bool,
        /// Your key URL, recorded in the signature as a hint (`jku`) for verifiers
        #[arg(long, value_name = "URL")]
        key_url: Option<String>,
        /// Write detached signatures here instead of next to each wheel
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
        /// Wheels to sign, or directories of wheels (e.g. dist/)
        #[arg(required = true, value_name = "WHEEL")]
        wheels: Vec<PathBuf>,
    },
    /// Remove an embedded RECORD.jws, restoring the unsigned wheel byte for byte
    Unsign {
        /// Wheels to unsign
        #[arg(required = true, value_name = "WHEEL")]
        wheels: Vec<PathBuf>,
    },
    /// Verify wheels: archive, RECORD, signatures and trust
    #[command(after_help = VERIFY_HELP)]
    Verify(VerifyArgs),
    /// Show what a signature file (.jws) says: its payload, what it binds, each entry's key
    /// and whether it verifies (trust is `verify`'s job)
    Inspect {
        /// A detached <wheel>.jws, or a wheel (its embedded RECORD.jws)
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Create, maintain and build a key site (keys.json, releases/, a human key page)
    Site {
        #[command(subcommand)]
        action: cli::site::SiteAction,
    },
    /// Compare what a package index serves for a key site's projects with the releases the site
    /// signed (exit 1 when they differ)
    #[command(after_help = cli::audit::AUDIT_HELP)]
    Audit(cli::audit::AuditArgs),
    /// Write a dependency key list: the key each project's wheels are signed with (a JWK Set
    /// for `verify --jwks … --require-trusted`)
    Lock {
        #[command(flatten)]
        trust: TrustArgs,
        /// Where to write the key list
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Also lock wheels that are validly signed but that no trust source covers
        #[arg(long)]
        allow_signed: bool,
        /// Leave unsigned wheels out of the list instead of failing
        #[arg(long)]
        allow_unsigned: bool,
        /// The verified set of wheels, or a directory of them (for example from
        /// `pip download -d wheels/`)
        #[arg(required = true, value_name = "WHEEL")]
        wheels: Vec<PathBuf>,
    },
    /// Keep a transparency log of every file a package index serves (index-log init, follow,
    /// cosign): the same bytes everyone else got, signed or not
    IndexLog {
        #[command(subcommand)]
        action: cli::indexlog::IndexLogAction,
    },
    /// Run a transparency-log witness (C2SP tlog-witness): keys, and the cosigning service
    Witness {
        #[command(subcommand)]
        action: cli::witness::WitnessAction,
    },
    /// List or remove trust-on-first-use entries
    Trust {
        #[command(subcommand)]
        action: TrustAction,
        /// Trust store file [default: $WHEELSIG_TRUST_STORE or $XDG_CONFIG_HOME/wheelsig/trust.json]
        #[arg(long, global = true, value_name = "FILE")]
        trust_store: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum TrustAction {
    /// List remembered project keys
    List,
    /// Forget the key remembered for a project
    Remove {
        /// Project name
        project: String,
    },
}

/// Where trust comes from: shared by `verify` and `lock`.
#[derive(Args)]
struct TrustArgs {
    /// Trust the keys in this JWK Set file (repeatable)
    #[arg(long, value_name = "FILE")]
    jwks: Vec<PathBuf>,
    /// Fetch and trust the JWK Set at this https URL, and look for signatures under its
    /// releases/ (repeatable)
    #[arg(long, value_name = "URL")]
    key_url: Vec<String>,
    /// Pin a project to a key id: only that key is trusted for it (repeatable)
    #[arg(long, value_name = "PROJECT=KID")]
    pin: Vec<String>,
    /// Read pins from a file of `project kid` lines (# comments allowed)
    #[arg(long, value_name = "FILE")]
    pins: Vec<PathBuf>,
    /// Trust on first use: remember each project's key, report `key-changed` if it changes
    #[arg(long)]
    tofu: bool,
    /// Trust store file [default: $WHEELSIG_TRUST_STORE or $XDG_CONFIG_HOME/wheelsig/trust.json]
    #[arg(long, value_name = "FILE")]
    trust_store: Option<PathBuf>,
    /// Testing only: let a key list's per-key key_url be plain http on loopback (otherwise a
    /// committed list could make CI probe local services)
    #[arg(long)]
    allow_loopback_in_lists: bool,
}

#[derive(Args)]
struct VerifyArgs {
    #[command(flatten)]
    trust: TrustArgs,
    /// Detached signature to check (only with a single wheel) [default: <wheel>.jws if present]
    #[arg(long, value_name = "FILE")]
    sig: Option<PathBuf>,
    /// Fail (exit 1) unless every wheel is signed
    #[arg(long)]
    require_signed: bool,
    /// Fail (exit 1) unless every wheel is trusted
    #[arg(long)]
    require_trusted: bool,
    /// Print a JSON report instead of text (usage and I/O errors too)
    #[arg(long)]
    json: bool,
    /// Print only the wheels that fail (and any warnings); nothing when all pass
    #[arg(long, short, conflicts_with = "json")]
    quiet: bool,
    /// List every member and its status
    #[arg(long)]
    members: bool,
    /// Check release log proofs (<wheel>.tlog-proof, or releases/<project>/<file>.tlog-proof on
    /// the key site) against this C2SP tlog-policy file: log keys, witnesses, quorum
    #[arg(long, value_name = "FILE")]
    witness_policy: Option<PathBuf>,
    /// Fail (exit 1) when a wheel has no log proof or its checkpoint lacks the policy's quorum
    #[arg(long, requires = "witness_policy")]
    require_logged: bool,
    /// Also compare each wheel's sha256 with the digest the package index lists for its file
    /// name (`index-digest-mismatch` when they differ; exit 2 when the index cannot be asked)
    #[arg(long)]
    index_check: bool,
    /// The package index (the simple API root) for --index-check and PROJECT==VERSION
    #[arg(long, value_name = "URL", default_value = "https://pypi.org/simple/")]
    index_url: String,
    /// Check each wheel against an index log (`wheelsig index-log`, served at URL): is this exact
    /// file (sha256) in it, or was its name logged with another digest? Log key and witnesses
    /// from --witness-policy (else the log's vkey on first use, no witnesses required)
    #[arg(long, value_name = "URL")]
    index_log: Option<String>,
    /// With --index-log: fail files first witnessed in the log less than this long ago (e.g.
    /// 7d, 12h, 90m; a verifiable cool-down: the time comes from the witnesses)
    #[arg(long, value_name = "AGE", requires = "index_log", value_parser = wheelsig::time::parse_age)]
    min_age: Option<i64>,
    /// Keep the wheels downloaded for PROJECT==VERSION or a URL here (a verified wheelhouse
    /// for `pip install --no-index --find-links DIR`) [default: a temporary directory]
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// Wheels to verify: files, directories of wheels (every .whl under them), PROJECT==VERSION
    /// (its wheels downloaded from the index) or a wheel's URL
    #[arg(required = true, value_name = "WHEEL")]
    wheels: Vec<PathBuf>,
}

/// A failure to carry out the command (exit 2), as opposed to a wheel failing (exit 1).
struct Failure(String);

impl<T: std::fmt::Display> From<T> for Failure {
    fn from(e: T) -> Self {
        Failure(e.to_string())
    }
}

/// The JSON report's schema version (docs/SPEC.md "JSON report"): bumped on an incompatible change.
const JSON_SCHEMA: u32 = 1;

/// An error as JSON, for `--json` callers: `{"schema_version", "error": {"kind", "message"}}`.
fn json_error(kind: &str, message: &str) {
    println!("{}", serde_json::to_string_pretty(&serde_json::json!({"schema_version": JSON_SCHEMA, "wheels": [], "error": {"kind": kind, "message": message}})).unwrap_or_default());
}

fn main() -> ExitCode {
    // With --json, even a usage error is JSON (on stdout), so scripts parse one format.
    let json = std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json");
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if json && e.use_stderr() => {
            json_error("usage", e.to_string().trim_end());
            return ExitCode::from(2);
        }
        Err(e) => e.exit(),
    };
    let result = match cli.command {
        Command::Keygen {
            out,
            force,
            encrypt,
        } => keygen(&out, force, encrypt),
        Command::Jwks {
            keys,
            projects,
            exp,
        } => jwks(&keys, &projects, exp.as_deref()),
        Command::Sign {
            key,
            embed,
            key_url,
            out_dir,
            wheels,
        } => sign_cmd(&key, embed, key_url.as_deref(), out_dir.as_deref(), &wheels),
        Command::Unsign { wheels } => unsign_cmd(&wheels),
        Command::Verify(args) => verify_cmd(&args),
        Command::Inspect { file, json } => inspect_cmd(&file, json),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "wheelsig",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Site { action } => cli::site::run(action),
        Command::Audit(args) => cli::audit::run(&args),
        Command::Lock {
            trust,
            out,
            allow_signed,
            allow_unsigned,
            wheels,
        } => lock_cmd(
            &trust,
            &out,
            wheelsig::lock::LockPolicy {
                allow_signed,
                allow_unsigned,
            },
            &wheels,
        ),
        Command::Trust {
            action,
            trust_store,
        } => trust_cmd(action, trust_store.as_deref()),
        Command::Witness { action } => cli::witness::run(action),
        Command::IndexLog { action } => cli::indexlog::run(action),
    };
    match result {
        Ok(code) => code,
        Err(Failure(msg)) if json => {
            json_error("error", &msg);
            ExitCode::from(2)
        }
        Err(Failure(msg)) => {
            eprintln!("wheelsig: error: {}", escape(&msg));
            ExitCode::from(2)
        }
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn read_limited(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, Failure> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.len() > limit {
        return Err(Failure(format!(
            "{}: {what} is {} bytes; the limit is {limit}",
            path.display(),
            meta.len()
        )));
    }
    std::fs::read(path).map_err(|e| Failure(format!("{}: {e}", path.display())))
}

/// Whether writing a private key file may replace an existing one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    /// Refuse, saying `exists` after the path.
    Refuse(&'static str),
    /// Replace it (`--force`).
    Replace,
}

/// Write a private key file: mode 0600 from creation (never readable by others, even briefly),
/// synced; an existing file is refused unless `existing` allows replacing it.
pub(crate) fn write_private(path: &Path, text: &str, existing: Existing) -> Result<(), Failure> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    match existing {
        Existing::Replace => opts.create(true).truncate(true),
        Existing::Refuse(_) => opts.create_new(true),
    };
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(|e| match (e.kind(), existing) {
        (std::io::ErrorKind::AlreadyExists, Existing::Refuse(why)) => {
            Failure(format!("{} exists{why}", path.display()))
        }
        _ => Failure(format!("{}: {e}", path.display())),
    })?;
    // A replaced file keeps its old mode through open(): set it again.
    #[cfg(unix)]
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| Failure(format!("{}: {e}", path.display())))
}

fn keygen(out: &Path, force: bool, encrypt: bool) -> Result<ExitCode, Failure> {
    let key = PrivateKey::generate()?;
    let text = if encrypt {
        cli::keysrc::encrypt(&key.to_jwk_text())?
    } else {
        key.to_jwk_text()
    };
    write_private(
        out,
        &text,
        if force {
            Existing::Replace
        } else {
            Existing::Refuse("; pass --force to overwrite it")
        },
    )?;
    let listed = ListedKey {
        key: *key.public(),
        projects: None,
        exp: None,
        key_url: None,
    };
    print!("{}", serde_json::to_string_pretty(&listed.to_jwk())? + "\n");
    let how = if encrypt {
        "encrypted with your passphrase, mode 0600"
    } else {
        "mode 0600"
    };
    eprintln!(
        "wheelsig: private key written to {} ({how}): keep it secret, back it up",
        out.display()
    );
    eprintln!(
        "wheelsig: key id {}  fingerprint {}",
        key.public().kid(),
        key.public().fingerprint()
    );
    eprintln!("wheelsig: next: wheelsig site add-key <site dir> --key {} (or: wheelsig jwks {} --projects <your projects> > keys.json)", out.display(), out.display());
    Ok(ExitCode::SUCCESS)
}

/// The public half of a key file (private, public or encrypted JWK).
fn load_public(path: &Path) -> Result<PublicKey, Failure> {
    cli::keysrc::KeySource {
        key: Some(path.to_path_buf()),
        key_env: None,
    }
    .public()
}

fn jwks(keys: &[PathBuf], projects: &[String], exp: Option<&str>) -> Result<ExitCode, Failure> {
    let exp = exp.map(time::parse).transpose()?;
    let mut names = Vec::new();
    for p in projects.iter().filter(|p| !p.is_empty()) {
        if !wheelsig::names::is_valid_project(p) {
            return Err(Failure(format!("{p:?} is not a valid project name")));
        }
        names.push(normalize_project(p));
    }
    let mut set = KeySet::default();
    for path in keys {
        let key = load_public(path)?;
        if set.keys.iter().any(|k| k.key == key) {
            return Err(Failure(format!(
                "{}: key {} given twice",
                path.display(),
                key.kid()
            )));
        }
        set.keys.push(ListedKey {
            key,
            projects: (!names.is_empty()).then(|| names.clone()),
            exp,
            key_url: None,
        });
    }
    print!("{}", set.to_json());
    Ok(ExitCode::SUCCESS)
}

fn file_name(path: &Path) -> Result<String, Failure> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| Failure(format!("{}: file name is not valid UTF-8", path.display())))
}

/// Most wheels one directory argument may expand to.
const MAX_DIR_WHEELS: usize = 100_000;

/// The wheels the arguments name: a file as given; a directory, every `*.whl` under it (by
/// path, sorted; symbolic links inside it are not followed), at least one.
fn expand_wheels(args: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), Failure> {
        if depth > 16 {
            return Err(Failure(format!(
                "{}: folders nested more than 16 deep",
                dir.display()
            )));
        }
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for e in entries {
            let kind = e
                .file_type()
                .map_err(|err| format!("{}: {err}", e.path().display()))?;
            if kind.is_dir() {
                walk(&e.path(), depth + 1, out)?;
            } else if kind.is_file() && e.path().extension().is_some_and(|x| x == "whl") {
                if out.len() >= MAX_DIR_WHEELS {
                    return Err(Failure(format!(
                        "{}: more than {MAX_DIR_WHEELS} wheels",
                        dir.display()
                    )));
                }
                out.push(e.path());
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for a in args {
        if a.is_dir() {
            let before = out.len();
            walk(a, 0, &mut out)?;
            if out.len() == before {
                return Err(Failure(format!(
                    "{}: a folder with no .whl files",
                    a.display()
                )));
            }
        } else {
            out.push(a.clone());
        }
    }
    Ok(out)
}

/// Write `path` atomically: a new temporary file with a random name, created with O_EXCL in
/// the same directory (so a planted symlink or file is never followed or reused), given the
/// original file's permissions, synced, then renamed over `path`.
pub(crate) fn replace_file(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&mut File>) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let prefix = format!(".{}.", file_name(path)?);
    let mut tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".wheelsig.tmp")
        .tempfile_in(dir)
        .map_err(|e| format!("{}: cannot create a temporary file: {e}", dir.display()))?;
    match std::fs::metadata(path) {
        Ok(meta) => tmp
            .as_file()
            .set_permissions(meta.permissions())
            .map_err(|e| format!("{}: {e}", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Failure(format!("{}: {e}", path.display()))),
    }
    {
        let mut w = BufWriter::new(tmp.as_file_mut());
        write(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    // On error the temporary file is removed when `tmp` drops.
    tmp.persist(path)
        .map_err(|e| Failure(format!("{}: {}", path.display(), e.error)))?;
    Ok(())
}

fn sign_cmd(
    key: &cli::keysrc::KeySource,
    embed: bool,
    key_url: Option<&str>,
    out_dir: Option<&Path>,
    wheels: &[PathBuf],
) -> Result<ExitCode, Failure> {
    let key = key.private()?;
    if let Some(u) = key_url {
        wheelsig::urls::check_jku(u).map_err(|e| format!("--key-url: {e}"))?;
    }
    if embed && out_dir.is_some() {
        return Err(Failure(
            "--out-dir applies to detached signatures, not --embed".into(),
        ));
    }
    for path in &expand_wheels(wheels)? {
        let name = file_name(path)?;
        let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if embed {
            replace_file(path, |w| {
                sign::verify_and_embed(&file, &name, &key, now(), key_url, w).map_err(Failure::from)
            })
            .map_err(|Failure(m)| Failure(format!("{}: {m}", path.display())))?;
            eprintln!(
                "signed {} (embedded RECORD.jws, key {})",
                path.display(),
                key.public().kid()
            );
        } else {
            let doc = sign::verify_and_sign_detached(&file, &name, &key, now(), key_url)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let dir = match out_dir {
                Some(d) => {
                    std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
                    d.to_path_buf()
                }
                None => path.parent().unwrap_or(Path::new(".")).to_path_buf(),
            };
            let out = dir.join(format!("{name}.jws"));
            replace_file(&out, |w| w.write_all(doc.as_bytes()).map_err(Failure::from))
                .map_err(|Failure(m)| Failure(format!("{}: {m}", out.display())))?;
            eprintln!(
                "signed {} -> {} (key {})",
                path.display(),
                out.display(),
                key.public().kid()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `wheelsig inspect`: a detached .jws, or a wheel's embedded RECORD.jws.
fn inspect_cmd(file: &Path, json: bool) -> Result<ExitCode, Failure> {
    let limit = wheelsig::limits::Limits::default().max_signature_size;
    let (bytes, at) = if file.extension().is_some_and(|x| x == "whl") {
        let mut f = File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let (bytes, member) = wheelsig::sign::embedded_signature(&mut f)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        (bytes, Some(member))
    } else {
        (read_limited(file, limit, "signature")?, None)
    };
    let inspection = wheelsig::jws::inspect(&bytes, &at)
        .map_err(|p| format!("{}: {}: {}", file.display(), p.code, p.message))?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"schema_version": JSON_SCHEMA, "file": file.display().to_string(), "signature": inspection})
            )?
        );
    } else {
        output::inspection(
            &mut std::io::stdout().lock(),
            &file.display().to_string(),
            &inspection,
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn unsign_cmd(wheels: &[PathBuf]) -> Result<ExitCode, Failure> {
    for path in wheels {
        let mut file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut problems = Vec::new();
        let dir = match wheelsig::zip::read_directory(
            &mut file,
            &wheelsig::limits::Limits::default(),
            &mut problems,
        ) {
            Ok(d) => d,
            Err(wheelsig::zip::Fatal::Problem(p)) => {
                return Err(Failure(format!("{}: {p}", path.display())))
            }
            Err(wheelsig::zip::Fatal::Io(e)) => {
                return Err(Failure(format!("{}: {e}", path.display())))
            }
        };
        if let Some(p) = problems.first() {
            return Err(Failure(format!("{}: {p}", path.display())));
        }
        replace_file(path, |w| {
            sign::unsign(&file, &dir, w).map_err(Failure::from)
        })
        .map_err(|Failure(m)| Failure(format!("{}: {m}", path.display())))?;
        eprintln!("unsigned {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_pins(b: &mut TrustBuilder, args: &TrustArgs) -> Result<(), Failure> {
    for p in &args.pin {
        let (project, kid) = p
            .split_once('=')
            .ok_or_else(|| format!("--pin {:?}: expected PROJECT=KID", escape(p)))?;
        b.pin(project.trim(), kid.trim())
            .map_err(|e| format!("--pin {:?}: {e}", escape(p)))?;
    }
    for file in &args.pins {
        let text = String::from_utf8(read_limited(file, 4 << 20, "pins file")?)
            .map_err(|_| format!("{}: not UTF-8", file.display()))?;
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let at = format!("{}:{}", file.display(), i + 1);
            match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                [project, kid] => b
                    .pin(project, kid)
                    .map_err(|e| format!("{at}: expected `project kid`: {e}"))?,
                _ => return Err(Failure(format!("{at}: expected `project kid`"))),
            };
        }
    }
    Ok(())
}

/// The first-use store's path and contents, when `--tofu` is given.
type FirstUseStore = Option<(PathBuf, store::Store)>;

/// The trust policy the arguments name (key URLs fetched), and the first-use store if `--tofu`.
fn trust_policy(args: &TrustArgs) -> Result<(TrustPolicy, FirstUseStore), Failure> {
    let mut b = TrustBuilder::new();
    for path in &args.jwks {
        let bytes = read_limited(path, wheelsig::limits::MAX_KEY_SET_BYTES as u64, "JWK Set")?;
        b.key_file(&path.display().to_string(), &bytes)?;
    }
    for u in &args.key_url {
        let url = wheelsig::urls::check_key_url(u, Loopback::Allow)
            .map_err(|e| format!("--key-url: {e}"))?;
        let bytes = fetch::key_set(&url)?;
        b.key_url(url.as_str(), &bytes)?;
    }
    parse_pins(&mut b, args)?;
    b.loopback_in_lists(if args.allow_loopback_in_lists {
        Loopback::Allow
    } else {
        Loopback::Deny
    });
    let tofu = if args.tofu {
        let path = store::path(args.trust_store.as_deref())?;
        let s = store::load(&path)?;
        for (project, entry) in &s.projects {
            b.first_use(project, entry.clone())
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Some((path, s))
    } else {
        None
    };
    Ok((b.build(), tofu))
}

/// Verify every wheel; an I/O failure is returned with its path, not fatal to the others.
fn verify_all(
    jobs: &[Job],
    policy: &TrustPolicy,
    members: bool,
    log: Option<&LogConfig>,
    digest: bool,
) -> (Vec<Verdicted>, Vec<(String, String)>) {
    let mut errors = Vec::new();
    let mut reports = Vec::new();
    for (job, r) in jobs
        .iter()
        .zip(run_parallel(jobs, policy, members, log, digest))
    {
        match r {
            Ok(rep) => reports.push(rep),
            Err(Failure(m)) => errors.push((job.path.display().to_string(), m)),
        }
    }
    (reports, errors)
}

fn print_errors(errors: &[(String, String)]) {
    for (path, m) in errors {
        eprintln!("wheelsig: error: {}: {}", escape(path), escape(m));
    }
}

fn lock_cmd(
    trust: &TrustArgs,
    out: &Path,
    policy: wheelsig::lock::LockPolicy,
    wheels: &[PathBuf],
) -> Result<ExitCode, Failure> {
    // With --tofu, keys remembered on first use count as trust sources; lock never adds to the store.
    let (trust_policy, _) = trust_policy(trust)?;
    let jobs: Vec<Job> = expand_wheels(wheels)?
        .into_iter()
        .map(|w| Job {
            path: w,
            sig: None,
            downloaded: false,
        })
        .collect();
    let (verdicted, errors) = verify_all(&jobs, &trust_policy, false, None, false);
    let reports: Vec<wheelsig::report::Report> = verdicted.into_iter().map(|v| v.report).collect();
    if !errors.is_empty() {
        print_errors(&errors);
        return Ok(ExitCode::from(2));
    }
    match wheelsig::lock::lock(&reports, policy) {
        Ok(set) => {
            std::fs::write(out, set.to_json()).map_err(|e| format!("{}: {e}", out.display()))?;
            let projects: usize = set
                .keys
                .iter()
                .map(|k| k.projects.as_ref().map_or(0, Vec::len))
                .sum();
            eprintln!(
                "wrote {}: {projects} project{} pinned to {} key{} ({} wheels checked)",
                out.display(),
                if projects == 1 { "" } else { "s" },
                set.keys.len(),
                if set.keys.len() == 1 { "" } else { "s" },
                reports.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            for p in &problems {
                eprintln!("wheelsig: not locked: {}", escape(&p.to_string()));
            }
            eprintln!(
                "wheelsig: {} not written: {} problem{}",
                out.display(),
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            );
            Ok(ExitCode::from(1))
        }
    }
}

/// What one `verify` argument names.
enum Target {
    /// A file or directory.
    Local(PathBuf),
    /// `PROJECT==VERSION`: its wheels on the index.
    Release(String, String),
    /// A wheel's URL.
    Url(url::Url),
}

fn target(arg: &Path) -> Result<Target, Failure> {
    let text = arg.to_string_lossy();
    if arg.exists() {
        return Ok(Target::Local(arg.to_path_buf()));
    }
    if text.starts_with("https://") || text.starts_with("http://") {
        let url = url::Url::parse(&text).map_err(|e| format!("{}: {e}", escape(&text)))?;
        return Ok(Target::Url(url));
    }
    if let Some((project, version)) = text.split_once("==") {
        if !wheelsig::names::is_valid_project(project)
            || version.is_empty()
            || version.contains(['/', '=', ' '])
        {
            return Err(Failure(format!(
                "{}: expected PROJECT==VERSION (for example requests==2.32.3)",
                escape(&text)
            )));
        }
        return Ok(Target::Release(project.to_string(), version.to_string()));
    }
    Ok(Target::Local(arg.to_path_buf()))
}

/// Index listings per project (one request each), for --index-check and downloads.
type Listings =
    std::collections::HashMap<String, Result<(url::Url, Vec<wheelsig::index::IndexFile>), String>>;

fn listing<'a>(
    cache: &'a mut Listings,
    index: &url::Url,
    project: &str,
) -> &'a Result<(url::Url, Vec<wheelsig::index::IndexFile>), String> {
    let key = normalize_project(project);
    cache.entry(key.clone()).or_insert_with(|| {
        let page = wheelsig::index::project_url(index, &key).map_err(|e| e.to_string())?;
        // A project the index does not have lists no files (a download then says so).
        cli::index::listed_files(index, &key).map(|files| (page, files.unwrap_or_default()))
    })
}

/// Download what the `Release` and `Url` targets name into `dir`, digests checked against the
/// index; returns the files, each with its index entry.
fn download_targets(
    targets: &[Target],
    index: &url::Url,
    dir: &Path,
    cache: &mut Listings,
) -> Result<Vec<PathBuf>, Failure> {
    let mut out = Vec::new();
    for t in targets {
        let (project, files): (String, Vec<wheelsig::index::IndexFile>) = match t {
            Target::Local(_) => continue,
            Target::Release(project, version) => {
                let (page, listed) = listing(cache, index, project)
                    .as_ref()
                    .map_err(|e| Failure(e.clone()))?;
                let wheels: Vec<_> = listed
                    .iter()
                    .filter(|f| f.wheel.as_ref().is_some_and(|w| w.version == *version))
                    .cloned()
                    .collect();
                if wheels.is_empty() {
                    let mut versions: Vec<&str> = listed
                        .iter()
                        .filter_map(|f| f.wheel.as_ref().map(|w| w.version.as_str()))
                        .collect();
                    versions.sort_unstable();
                    versions.dedup();
                    let tail = versions
                        .iter()
                        .rev()
                        .take(8)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ");
                    return Err(Failure(format!("{page}: no wheel of {project} {version} (versions with wheels, newest by name: {})", if tail.is_empty() { "none" } else { &tail })));
                }
                (project.clone(), wheels)
            }
            Target::Url(url) => {
                let name = url
                    .path_segments()
                    .and_then(|mut s| s.next_back())
                    .map(percent_decode)
                    .unwrap_or_default();
                let wheel = wheelsig::names::parse_wheel_filename(&name)
                    .map_err(|e| format!("{url}: not a wheel's URL: {e}"))?;
                let (page, listed) = listing(cache, index, &wheel.project)
                    .as_ref()
                    .map_err(|e| Failure(e.clone()))?;
                let entry = wheelsig::index::find(listed, &name).ok_or_else(|| format!("{page} does not list {}: its digest cannot be checked (use --index-url for another index)", escape(&name)))?;
                let mut f = entry.clone();
                f.url = url.clone();
                (wheel.project, vec![f])
            }
        };
        for f in &files {
            let path = cli::index::download(f, dir).map_err(|e| format!("{project}: {e}"))?;
            eprintln!(
                "downloaded {} ({}, sha256 as the index lists)",
                escape(&f.filename),
                escape(f.url.as_str())
            );
            out.push(path);
        }
    }
    Ok(out)
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fn verify_cmd(args: &VerifyArgs) -> Result<ExitCode, Failure> {
    let targets: Vec<Target> = args
        .wheels
        .iter()
        .map(|a| target(a))
        .collect::<Result<_, _>>()?;
    let local: Vec<PathBuf> = targets
        .iter()
        .filter_map(|t| {
            if let Target::Local(p) = t {
                Some(p.clone())
            } else {
                None
            }
        })
        .collect();
    let mut wheels = if local.is_empty() {
        Vec::new()
    } else {
        expand_wheels(&local)?
    };
    let index = url::Url::parse(&args.index_url)
        .map_err(|e| format!("--index-url {}: {e}", escape(&args.index_url)))?;
    let mut listings = Listings::new();
    // Downloads: into --keep DIR, else a temporary directory removed at the end.
    let scratch;
    let remote = targets.iter().any(|t| !matches!(t, Target::Local(_)));
    let downloaded = if remote {
        let dir = match &args.keep {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
                d.clone()
            }
            None => {
                scratch = tempfile::tempdir().map_err(|e| format!("a temporary directory: {e}"))?;
                scratch.path().to_path_buf()
            }
        };
        download_targets(&targets, &index, &dir, &mut listings)?
    } else {
        if args.keep.is_some() {
            return Err(Failure(
                "--keep keeps the wheels PROJECT==VERSION or a URL downloads; give one".into(),
            ));
        }
        Vec::new()
    };
    let first_downloaded = wheels.len();
    wheels.extend(downloaded);
    if args.sig.is_some() && wheels.len() != 1 {
        return Err(Failure(
            "--sig applies to a single wheel; for several, put <wheel>.jws next to each".into(),
        ));
    }
    let (policy, tofu) = trust_policy(&args.trust)?;
    let requirement = if args.require_trusted {
        Requirement::Trusted
    } else if args.require_signed {
        Requirement::Signed
    } else {
        Requirement::Intact
    };

    let log = match &args.witness_policy {
        None => None,
        Some(path) => {
            let text = String::from_utf8(read_limited(
                path,
                wheelsig::log::policy::MAX_POLICY_BYTES as u64,
                "witness policy",
            )?)
            .map_err(|_| format!("{}: not UTF-8", path.display()))?;
            let policy = wheelsig::log::policy::Policy::parse(&text)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let state = cli::logstate::load(&cli::logstate::dir()?)?;
            Some(LogConfig {
                policy,
                require: if args.require_logged {
                    LogRequirement::Required
                } else {
                    LogRequirement::IfPresent
                },
                state,
            })
        }
    };
    let jobs: Vec<Job> = wheels
        .iter()
        .enumerate()
        .map(|(i, w)| Job {
            path: w.clone(),
            sig: args.sig.clone(),
            downloaded: i >= first_downloaded,
        })
        .collect();
    let digest = args.index_check || args.index_log.is_some() || first_downloaded < jobs.len();
    let (verdicted, mut errors) = verify_all(&jobs, &policy, args.members, log.as_ref(), digest);
    let mut reports: Vec<wheelsig::report::Report> = Vec::with_capacity(verdicted.len());
    let mut logged = Vec::new();
    let mut new_log_keys = Vec::new();
    for v in verdicted {
        logged.push((v.log, v.log_url));
        new_log_keys.extend(v.new_log_key);
        reports.push(v.report);
    }
    // The index's digest for each file (downloads were checked against it already).
    for r in reports.iter_mut() {
        let downloaded = jobs.iter().any(|j| {
            j.downloaded
                && j.path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy() == r.file)
        });
        let Some(project) = r.project.clone().filter(|_| args.index_check || downloaded) else {
            continue;
        };
        match listing(&mut listings, &index, &project) {
            Ok((page, files)) => {
                let entry = wheelsig::index::find(files, &r.file);
                r.check_index(
                    page.as_str(),
                    entry.map(|f| {
                        (
                            f.sha256.as_deref().unwrap_or_default(),
                            f.upload_time.as_deref(),
                        )
                    }),
                );
            }
            Err(e) => errors.push((r.file.clone(), format!("--index-check: {e}"))),
        }
    }
    if log.is_some() {
        // What this machine saw of each log: a later sighting must be consistent with it.
        let dir = cli::logstate::dir()?;
        let mut items: Vec<_> = reports
            .iter_mut()
            .zip(logged)
            .map(|(r, (c, u))| (r, c, u))
            .collect();
        cli::logstate::remember(&dir, &mut items, &new_log_keys)?;
    }
    // First use over the whole batch: one key per project is remembered; two keys for one
    // project are `key-changed` and nothing is remembered for it.
    let remember = match &tofu {
        Some(_) => wheelsig::trust::settle_first_use(&mut reports, &time::format(now())),
        None => Vec::new(),
    };
    // The index log: this exact file in it, and how long witnesses have seen it there.
    if let Some(url) = &args.index_log {
        let policy = match log.as_ref() {
            Some(l) => l.policy.clone(),
            None => wheelsig::log::policy::Policy::parse("quorum none\n")
                .map_err(|e| format!("the default witness policy: {e}"))?,
        };
        let dir = cli::logstate::dir()?;
        let mut state = cli::logstate::load(&dir)?;
        // An index log that cannot be read is a failure of the whole check (exit 2).
        match cli::indexlog::Reader::open(url, &policy, &state) {
            Err(e) => return Err(e),
            Ok(reader) => {
                let mut seen_ok = false;
                for r in reports.iter_mut() {
                    if let Some((note, cp)) = reader.check(r, now(), args.min_age) {
                        seen_ok = true;
                        if reader.remember(&mut state, &note, &cp)
                            == wheelsig::log::check::Consistency::SplitView
                        {
                            r.fail_log(wheelsig::report::Problem::file(wheelsig::report::Code::SplitView, format!("SPLIT VIEW: the index log {} showed this machine a different history before", escape(&cp.origin))));
                        }
                    }
                }
                if let (true, Some((origin, vkey))) = (seen_ok, reader.new_key()) {
                    state.log_keys.entry(origin).or_insert(vkey);
                }
                cli::logstate::save(&dir, &state)?;
            }
        }
    }
    let summary = output::Summary::of(&reports, errors.len(), requirement);
    if args.json {
        let errors: Vec<_> = errors
            .iter()
            .map(|(path, message)| serde_json::json!({"path": path, "message": message}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"schema_version": JSON_SCHEMA, "wheels": reports, "errors": errors, "summary": summary})
            )?
        );
    } else {
        print_errors(&errors);
        let mut out = std::io::stdout().lock();
        let hint = if tofu.is_some() {
            output::Hint::FirstUse
        } else {
            output::Hint::Sources
        };
        for r in reports
            .iter()
            .filter(|r| !args.quiet || !requirement.accepts(r.verdict))
        {
            output::human(&mut out, r, args.members, hint)?;
        }
        if reports.len() + errors.len() > 1 && !(args.quiet && summary.passed) {
            writeln!(out, "{}", summary.line())?;
        }
    }
    for r in reports
        .iter()
        .filter(|r| r.has(wheelsig::report::Code::SplitView))
    {
        output::split_view_banner(r);
    }
    for r in reports.iter().filter(|r| r.verdict == Verdict::KeyChanged) {
        output::key_changed_banner(
            r,
            r.project
                .as_ref()
                .is_some_and(|p| policy.first_use().contains_key(p)),
        );
    }
    if let Some((path, mut store)) = tofu {
        for m in &remember {
            eprintln!(
                "wheelsig: remembered key {} for {} (trust on first use, {})",
                m.entry.kid,
                m.project,
                path.display()
            );
            store.projects.insert(m.project.clone(), m.entry.clone());
        }
        if !remember.is_empty() {
            store::save(&path, &store)?;
        }
    }
    let failed = reports.iter().any(|r| !requirement.accepts(r.verdict));
    Ok(if !errors.is_empty() {
        ExitCode::from(2)
    } else if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

struct Job {
    path: PathBuf,
    sig: Option<PathBuf>,
    /// Downloaded from an index: look for signatures at the key URL its METADATA names too.
    downloaded: bool,
}

/// Verify wheels on all cores: each worker takes the next job until none are left.
fn run_parallel(
    jobs: &[Job],
    policy: &TrustPolicy,
    members: bool,
    log: Option<&LogConfig>,
    digest: bool,
) -> Vec<Result<Verdicted, Failure>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<Verdicted, Failure>>>> =
        jobs.iter().map(|_| Mutex::new(None)).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cores.min(jobs.len()).max(1);
    // Cores left over when there are fewer wheels than cores verify members of one wheel in parallel.
    let per_wheel = (cores / jobs.len().max(1)).max(1);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let r = verify_one(job, policy, members, per_wheel, log, digest);
                if let Ok(mut slot) = slots[i].lock() {
                    *slot = Some(r);
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|m| {
            m.into_inner()
                .ok()
                .flatten()
                .unwrap_or_else(|| Err(Failure("worker failed".into())))
        })
        .collect()
}

fn verify_one(
    job: &Job,
    policy: &TrustPolicy,
    members: bool,
    threads: usize,
    log: Option<&LogConfig>,
    digest: bool,
) -> Result<Verdicted, Failure> {
    let name = file_name(&job.path)?;
    let limit = wheelsig::limits::Limits::default().max_signature_size;
    let mut detached: Vec<DetachedSignature> = Vec::new();
    let mut add = |source: String, bytes: Vec<u8>| {
        if !detached.iter().any(|d| d.bytes == bytes) {
            detached.push(DetachedSignature { source, bytes });
        }
    };
    match &job.sig {
        Some(p) => add(
            p.display().to_string(),
            read_limited(p, limit, "signature")?,
        ),
        None => {
            let beside = job.path.with_file_name(format!("{name}.jws"));
            if beside.is_file() {
                add(
                    beside.display().to_string(),
                    read_limited(&beside, limit, "signature")?,
                );
            }
        }
    }
    let mut site_urls: Vec<url::Url> = Vec::new();
    let mut log_url: Option<url::Url> = None;
    if let Ok(wheel) = wheelsig::names::parse_wheel_filename(&name) {
        // Only sites whose key sets cover this project are asked (the core decides which).
        let (urls, warnings) = policy.signature_urls(&wheel.project, &name);
        for w in warnings {
            eprintln!("wheelsig: warning: {}: {}", escape(&name), escape(&w));
        }
        for url in &urls {
            if let fetch::Fetched::Body(b) =
                fetch::get(url, usize::try_from(limit).unwrap_or(usize::MAX))?
            {
                add(url.to_string(), b);
            }
        }
        site_urls = urls;
    }
    // The release log proof: next to the wheel, else next to the signature on a key site.
    let log_input = match log {
        None => None,
        Some(cfg) => {
            let max = wheelsig::log::proof::MAX_PROOF_BYTES as u64;
            let beside = job.path.with_file_name(format!("{name}.tlog-proof"));
            let mut proof = None;
            if beside.is_file() {
                proof = Some((
                    beside.display().to_string(),
                    read_limited(&beside, max, "log proof")?,
                ));
            }
            for sig_url in &site_urls {
                if proof.is_some() {
                    break;
                }
                let Some(u) = sig_url
                    .as_str()
                    .strip_suffix(".jws")
                    .and_then(|u| url::Url::parse(&format!("{u}.tlog-proof")).ok())
                else {
                    continue;
                };
                if let fetch::Fetched::Body(b) = fetch::get(&u, max as usize)? {
                    proof = Some((u.to_string(), b));
                    // The key site's log: <site>/log/, for consistency with what we saw before.
                    log_url = u.join("../../log/").ok();
                }
            }
            // A log the policy does not list: its key site's log/vkey, remembered on first use
            // (the core decides which key counts).
            let mut log_key = None;
            if let (Some((_, bytes)), Some(url)) = (&proof, &log_url) {
                if let Ok(p) = wheelsig::log::proof::TlogProof::parse(bytes) {
                    if !cfg.policy.lists_log(&p.checkpoint.origin) {
                        log_key = Some(cli::logstate::log_key(
                            &cfg.state,
                            &p.checkpoint.origin,
                            url,
                        ));
                    }
                }
            }
            Some(LogInput {
                policy: cfg.policy.clone(),
                proof,
                require: cfg.require,
                log_key,
            })
        }
    };
    let file_digest = if digest {
        wheelsig::verify::FileDigest::Compute
    } else {
        wheelsig::verify::FileDigest::IfNeeded
    };
    let mut input = VerifyInput {
        file_name: name.clone(),
        detached,
        trust: policy.clone(),
        now: Some(now()),
        log: log_input,
        file_digest,
        ..VerifyInput::default()
    };
    // Open once: every thread reads this same file (positional reads on one handle), so a
    // file swapped on disk mid-verification cannot give threads different bytes.
    let file = std::sync::Arc::new(File::open(&job.path).map_err(|e| format!("{e}"))?);
    let open = || {
        Ok(Box::new(SharedFile {
            file: file.clone(),
            pos: 0,
        }) as Box<dyn ReadSeekSend>)
    };
    let mut verified = verify_wheel_parallel(&open, threads, &input, &mut |_, _| {})?;
    // A wheel downloaded from an index with no signature found: look at the key URL its
    // METADATA names (a hint: what is found there is checked like any signature, and trusted
    // only if a trust source covers it).
    if job.downloaded && input.detached.is_empty() {
        let hint = verified
            .report
            .key_url_hint
            .as_deref()
            .and_then(|h| url::Url::parse(h).ok());
        if let (Some(hint), Ok(w)) = (hint, wheelsig::names::parse_wheel_filename(&name)) {
            if let Ok(sig_url) = wheelsig::urls::release_url(&hint, &w.project, &name) {
                if let fetch::Fetched::Body(b) =
                    fetch::get(&sig_url, usize::try_from(limit).unwrap_or(usize::MAX))?
                {
                    input.detached.push(DetachedSignature {
                        source: sig_url.to_string(),
                        bytes: b,
                    });
                    verified = verify_wheel_parallel(&open, threads, &input, &mut |_, _| {})?;
                }
            }
        }
    }
    let mut report = verified.report;
    if !members {
        report.members.clear();
    }
    Ok(Verdicted {
        report,
        log: verified.log,
        log_url,
        new_log_key: verified.new_log_key,
    })
}

/// A report, and the checked log proof (for this machine's memory of the log).
struct Verdicted {
    report: wheelsig::report::Report,
    log: Option<wheelsig::log::check::CheckedProof>,
    log_url: Option<url::Url>,
    /// A log key fetched from a key site and used on first use: to remember.
    new_log_key: Option<(String, String)>,
}

/// `--witness-policy` and `--require-logged`.
struct LogConfig {
    policy: wheelsig::log::policy::Policy,
    require: LogRequirement,
    /// What this machine remembers of logs (read before the batch, written after it).
    state: cli::logstate::State,
}

/// One open file read by several threads, each with its own position.
struct SharedFile {
    file: std::sync::Arc<File>,
    pos: u64,
}

impl std::io::Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(&*self.file, buf, self.pos)?;
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(&*self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl std::io::Seek for SharedFile {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let len = self.file.metadata()?.len();
        let target = match to {
            std::io::SeekFrom::Start(n) => Some(n),
            std::io::SeekFrom::End(d) => len.checked_add_signed(d),
            std::io::SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek out of range")
        })?;
        Ok(self.pos)
    }
}

fn trust_cmd(action: TrustAction, flag: Option<&Path>) -> Result<ExitCode, Failure> {
    let path = store::path(flag)?;
    let mut s = store::load(&path)?;
    match action {
        TrustAction::List => {
            if s.projects.is_empty() {
                eprintln!("no remembered keys in {}", path.display());
            }
            for (project, e) in &s.projects {
                println!(
                    "{}\t{}\t{}\t{}",
                    escape(project),
                    escape(&e.kid),
                    escape(e.first_seen.as_deref().unwrap_or("-")),
                    escape(e.key_url.as_deref().unwrap_or("-"))
                );
            }
        }
        TrustAction::Remove { project } => {
            let key = normalize_project(&project);
            if s.projects.remove(&key).is_none() {
                return Err(Failure(format!(
                    "no remembered key for {key} in {}",
                    path.display()
                )));
            }
            store::save(&path, &s)?;
            eprintln!("forgot the key remembered for {key}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
