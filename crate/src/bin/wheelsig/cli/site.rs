//! `wheelsig site`: create, maintain and build a publisher's key site (see
//! static-site-template/README.md), including its release log: the log key, appending
//! releases, and asking witnesses to cosign (HTTP). Checks and rendering live in
//! `wheelsig::site`, notes, tiles and proofs in `wheelsig::log`; this module reads and writes
//! files and talks to witnesses.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use sha2::{Digest as _, Sha256};
use wheelsig::encoding::hex;
use wheelsig::keys::{KeySet, ListedKey};
use wheelsig::log::note::{KeyKind, NoteSigner, NoteVerifier};
use wheelsig::log::release::ReleaseLeaf;
use wheelsig::log::tiles::Log;
use wheelsig::names::{is_valid_project, normalize_project, parse_wheel_filename};
use wheelsig::site::{self, Config, LogConfig, SourceFile, WitnessConfig};
use wheelsig::{jws, sign, time};

use crate::cli::fetch;
use crate::{file_name, now, read_limited, replace_file, Failure};

// The template's own files (`TEMPLATE_FILES`), compiled in by crate/build.rs so `site init`
// needs nothing else; `.nojekyll` is empty and written too.
include!(concat!(env!("OUT_DIR"), "/template_files.rs"));

// The built widget compiled into this binary (crate/build.rs), `WIDGET_FILES`; empty when it
// was built before the wasm.
include!(concat!(env!("OUT_DIR"), "/widget_files.rs"));

/// Files of the `<wheel-verify>` widget a site ships in `wheelsig/` (the list is crate/build.rs's).
const WIDGET: &[&str] = WIDGET_NAMES;

/// The widget's files: from `--widget DIR` (www/ after the wasm build), else those built in.
fn widget_files(dir: Option<&Path>) -> Result<Vec<(&'static str, Vec<u8>)>, Failure> {
    match dir {
        Some(dir) => WIDGET
            .iter()
            .map(|rel| {
                let p = dir.join(rel);
                if !p.is_file() {
                    return Err(Failure(format!("{}: no {rel}; pass --widget the www/ directory after the wasm build (npm start or npm test builds www/pkg)", dir.display())));
                }
                std::fs::read(&p).map(|b| (*rel, b)).map_err(|e| Failure(format!("{}: {e}", p.display())))
            })
            .collect(),
        None if WIDGET_FILES.len() == WIDGET.len() => Ok(WIDGET_FILES.iter().map(|(rel, b)| (*rel, b.to_vec())).collect()),
        None => Err(Failure("this wheelsig was built without the widget: pass --widget the www/ directory after the wasm build (npm start or npm test builds www/pkg)".into())),
    }
}

#[derive(Subcommand)]
pub enum SiteAction {
    /// Create a key site in DIR: site.json, an empty keys.json, releases/, an empty release
    /// log (log/; its private key written outside DIR), the Pages workflow and the widget
    Init {
        /// Directory to create (must not exist or be empty)
        dir: PathBuf,
        /// Your name as users should see it
        #[arg(long)]
        publisher: String,
        /// The site's https address, e.g. https://alice.github.io/keys/ (the key URL is
        /// <site-url>keys.json)
        #[arg(long, value_name = "URL")]
        site_url: String,
        /// Projects you sign (comma-separated)
        #[arg(long, value_delimiter = ',', value_name = "NAMES")]
        projects: Vec<String>,
        /// The widget to copy: www/ after the wasm build [default: the copy built into this
        /// binary]
        #[arg(long, value_name = "DIR")]
        widget: Option<PathBuf>,
        /// Where to write the release log's private key (mode 0600, never inside DIR)
        /// [default: $XDG_CONFIG_HOME/wheelsig/log-keys/<origin>.key, else ~/.config/…]
        #[arg(long, value_name = "FILE")]
        log_key: Option<PathBuf>,
    },
    /// List a key in the site's keys.json (the public half only, even from a private key file)
    AddKey {
        /// The site directory
        dir: PathBuf,
        #[command(flatten)]
        key: crate::cli::keysrc::KeySource,
        /// Projects the key may sign (comma-separated) [default: all of the site's]
        #[arg(long, value_delimiter = ',', value_name = "NAMES")]
        projects: Vec<String>,
    },
    /// Retire a key: it stays listed, valid only for signatures made before WHEN
    RetireKey {
        /// The site directory
        dir: PathBuf,
        /// Key id (kid); may start with '-', as base64url can
        #[arg(allow_hyphen_values = true)]
        kid: String,
        /// Retirement time (YYYY-MM-DD, RFC 3339 UTC or Unix seconds) [default: now]
        #[arg(long, value_name = "WHEN")]
        date: Option<String>,
    },
    /// Revoke a key: remove it from keys.json (its signatures stop verifying)
    RemoveKey {
        /// The site directory
        dir: PathBuf,
        /// Key id (kid); may start with '-', as base64url can
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
    /// Add a witness (C2SP tlog-witness) that `site cosign` submits the log's checkpoints to
    AddWitness {
        /// The site directory
        dir: PathBuf,
        /// The witness's cosignature/v1 verifier key (from `wheelsig witness keygen`)
        #[arg(long, value_name = "VKEY")]
        vkey: String,
        /// Its submission URL (https; http only on loopback): POST <URL>/add-checkpoint
        #[arg(long, value_name = "URL")]
        url: String,
    },
    /// Print the site's release-log verifier key (a signed-note vkey; the site serves it at log/vkey)
    Vkey {
        /// The site directory
        dir: PathBuf,
    },
    /// Sign wheels into releases/<project>/<wheel>.jws with a key the site lists, and append
    /// each release to the site's log (log/)
    Publish {
        /// The site directory
        dir: PathBuf,
        #[command(flatten)]
        key: crate::cli::keysrc::KeySource,
        /// The release log's private key [default: the one `site init` wrote]
        #[arg(long, value_name = "FILE")]
        log_key: Option<PathBuf>,
        /// Wheels to sign
        #[arg(required = true, value_name = "WHEEL")]
        wheels: Vec<PathBuf>,
    },
    /// Have every witness cosign the log's checkpoint; then write the cosigned log/checkpoint
    /// and a .tlog-proof beside each logged release that has none (exit 1, changing nothing,
    /// if any witness refuses or cannot be reached)
    Cosign {
        /// The site directory
        dir: PathBuf,
    },
    /// Check the site (keys.json, every signature, the release log) and render it into OUT
    Build {
        /// The site directory
        dir: PathBuf,
        /// Output directory (created; files in it are replaced)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The checkpoint that is live now (e.g. the deployed log/checkpoint): the build fails
        /// unless the log extends it
        #[arg(long, value_name = "CHECKPOINT_FILE")]
        previous: Option<PathBuf>,
        /// An index audit of this site (`wheelsig audit --json`, or the template's
        /// tools/audit-site.mjs): shown on the page, published as audit.json
        #[arg(long, value_name = "FILE")]
        audit: Option<PathBuf>,
    },
    /// Replace the site's widget (wheelsig/) with this wheelsig's, to update a site made by an
    /// older version (`pip install -U wheelsig` first)
    UpdateWidget {
        /// The site directory
        dir: PathBuf,
        /// The widget to copy: www/ after the wasm build [default: the copy built into this
        /// binary]
        #[arg(long, value_name = "DIR")]
        widget: Option<PathBuf>,
    },
}

pub fn run(action: SiteAction) -> Result<ExitCode, Failure> {
    match action {
        SiteAction::Init {
            dir,
            publisher,
            site_url,
            projects,
            widget,
            log_key,
        } => init(
            &dir,
            &publisher,
            &site_url,
            &projects,
            widget.as_deref(),
            log_key.as_deref(),
        ),
        SiteAction::Vkey { dir } => {
            let config = load_config(&dir)?;
            let lc = need_log(&dir, &config)?;
            println!("{}", lc.vkey.vkey());
            Ok(ExitCode::SUCCESS)
        }
        SiteAction::AddWitness { dir, vkey, url } => add_witness(&dir, &vkey, &url),
        SiteAction::AddKey { dir, key, projects } => add_key(&dir, &key, &projects),
        SiteAction::RetireKey { dir, kid, date } => edit_keys(&dir, |set| {
            let when = date
                .as_deref()
                .map(time::parse)
                .transpose()?
                .unwrap_or_else(now);
            let k = find(set, &kid)?;
            k.exp = Some(when);
            eprintln!(
                "retired {kid} from {}: signatures made after that no longer verify",
                time::format(when)
            );
            Ok(())
        }),
        SiteAction::RemoveKey { dir, kid } => {
            edit_keys(&dir, |set| {
                find(set, &kid)?;
                set.keys.retain(|k| k.key.kid() != kid);
                eprintln!("removed {kid}: every signature it made stops verifying once the site is deployed");
                Ok(())
            })
        }
        SiteAction::Publish {
            dir,
            key,
            log_key,
            wheels,
        } => publish(&dir, &key, log_key.as_deref(), &wheels),
        SiteAction::Cosign { dir } => cosign(&dir),
        SiteAction::Build {
            dir,
            out,
            previous,
            audit,
        } => build(&dir, &out, previous.as_deref(), audit.as_deref()),
        SiteAction::UpdateWidget { dir, widget } => {
            load_config(&dir)?;
            let files = widget_files(widget.as_deref())?;
            let mut changed = 0;
            for (rel, bytes) in &files {
                let path = dir.join("wheelsig").join(rel);
                if std::fs::read(&path).is_ok_and(|b| &b == bytes) {
                    continue;
                }
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(io_err(parent))?;
                }
                replace_file(&path, |w| w.write_all(bytes).map_err(Failure::from))?;
                changed += 1;
            }
            eprintln!("{}/wheelsig: {changed} of {} widget files replaced with wheelsig {}'s; commit them", dir.display(), files.len(), env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub(crate) fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Failure + '_ {
    move |e| Failure(format!("{}: {e}", path.display()))
}

fn write(path: &Path, text: &[u8]) -> Result<(), Failure> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    std::fs::write(path, text).map_err(io_err(path))
}

fn names(projects: &[String]) -> Result<Vec<String>, Failure> {
    let mut out: Vec<String> = Vec::new();
    for p in projects.iter().filter(|p| !p.is_empty()) {
        if !is_valid_project(p) {
            return Err(Failure(format!("{p:?} is not a valid project name")));
        }
        let n = normalize_project(p);
        if !out.contains(&n) {
            out.push(n);
        }
    }
    Ok(out)
}

/// `$XDG_CONFIG_HOME/wheelsig/log-keys/<origin, '/' and other unsafe bytes as '_'>.key`
/// (falling back to `~/.config`).
pub(crate) fn default_log_key(origin: &str) -> Result<PathBuf, Failure> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|p| !p.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(
            std::env::var_os("HOME")
                .ok_or("neither XDG_CONFIG_HOME nor HOME is set: pass --log-key FILE")?,
        )
        .join(".config"),
    };
    let name: String = origin
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(base
        .join("wheelsig")
        .join("log-keys")
        .join(format!("{name}.key")))
}

/// An absolute path with symbolic links resolved as far as the path exists.
pub(crate) fn resolved(path: &Path) -> Result<PathBuf, Failure> {
    let abs = std::path::absolute(path).map_err(io_err(path))?;
    let mut existing = abs.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => break,
        }
    }
    let mut out = existing
        .canonicalize()
        .unwrap_or_else(|_| existing.to_path_buf());
    out.extend(rest.iter().rev());
    Ok(out)
}

/// Create a file that must not exist yet, mode 0600, with `text`.
pub(crate) fn write_secret(path: &Path, text: &str) -> Result<(), Failure> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    crate::write_private(path, text, crate::Existing::Refuse(": is it the key of another log? Pass --log-key with a new file (a log key is never overwritten)"))
}

fn init(
    dir: &Path,
    publisher: &str,
    site_url: &str,
    projects: &[String],
    widget: Option<&Path>,
    log_key: Option<&Path>,
) -> Result<ExitCode, Failure> {
    if dir.exists()
        && std::fs::read_dir(dir)
            .map_err(io_err(dir))?
            .next()
            .is_some()
    {
        return Err(Failure(format!(
            "{} exists and is not empty",
            dir.display()
        )));
    }
    let config = serde_json::json!({"publisher": publisher, "site_url": site_url, "projects": names(projects)?});
    let mut config =
        Config::parse(config.to_string().as_bytes()).map_err(|e| format!("site.json: {e}"))?;
    let widget = widget_files(widget)?;
    // The release log: its own Ed25519 note key, named after the origin, kept off the site.
    let origin = config.log_origin();
    let signer = NoteSigner::generate(&origin, KeyKind::Ed25519)
        .map_err(|e| format!("the log origin {origin}: {e}"))?;
    let key_path = match log_key {
        Some(p) => p.to_path_buf(),
        None => default_log_key(&origin)?,
    };
    if resolved(&key_path)?.starts_with(resolved(dir)?) {
        return Err(Failure(format!("--log-key {}: the log's private key must not be inside the site directory (it is published)", key_path.display())));
    }
    if std::fs::symlink_metadata(&key_path).is_ok() {
        return Err(Failure(format!("{} exists: is it the key of another log? Pass --log-key with a new file (a log key is never overwritten)", key_path.display())));
    }
    config.log = Some(LogConfig {
        origin: origin.clone(),
        vkey: signer.verifier().clone(),
    });
    let config =
        Config::parse(config.to_json().as_bytes()).map_err(|e| format!("site.json: {e}"))?;
    write_secret(&key_path, &format!("{}\n", signer.to_private()))?;
    let written = (|| {
        write(&dir.join("site.json"), config.to_json().as_bytes())?;
        write(
            &dir.join("keys.json"),
            KeySet::default().to_json().as_bytes(),
        )?;
        if TEMPLATE_FILES.is_empty() {
            return Err(Failure(
                "this wheelsig was built without the key-site template".into(),
            ));
        }
        write(&dir.join(".nojekyll"), b"")?;
        for (rel, text) in TEMPLATE_FILES {
            write(&dir.join(rel), text.as_bytes())?;
        }
        for (rel, bytes) in &widget {
            write(&dir.join("wheelsig").join(rel), bytes)?;
        }
        write(
            &dir.join("log").join("vkey"),
            format!("{}\n", signer.verifier().vkey()).as_bytes(),
        )?;
        write(
            &dir.join("log").join("checkpoint"),
            signed_checkpoint(&Log::new(), &signer)?.as_bytes(),
        )
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&key_path); // unused: the site was not created
        return Err(e);
    }
    eprintln!(
        "created {} for {} (key URL {})",
        dir.display(),
        config.publisher,
        config.key_url()
    );
    eprintln!("release log {origin}: private key written to {} (mode 0600): keep it secret, back it up; publishing needs it", key_path.display());
    eprintln!("next: wheelsig keygen --out ~/wheelsig-key.jwk && wheelsig site add-key {} --key ~/wheelsig-key.jwk", dir.display());
    Ok(ExitCode::SUCCESS)
}

/// The checkpoint of `log`, signed with the log's key (no cosignatures).
fn signed_checkpoint(log: &Log, signer: &NoteSigner) -> Result<String, Failure> {
    let text = log.checkpoint(signer.verifier().name()).text();
    Ok(format!("{text}\n{}", signer.sign(&text)?))
}

fn need_log<'a>(dir: &Path, config: &'a Config) -> Result<&'a LogConfig, Failure> {
    config.log.as_ref().ok_or_else(|| {
        Failure(format!(
            "{}: site.json has no `log` (sites made by `wheelsig site init` have one)",
            dir.display()
        ))
    })
}

fn save_config(dir: &Path, config: &Config) -> Result<(), Failure> {
    // Through the parser, so that site.json is never written in a form the build refuses.
    let text = config.to_json();
    Config::parse(text.as_bytes()).map_err(|e| format!("site.json: {e}"))?;
    let path = dir.join("site.json");
    replace_file(&path, |w| {
        w.write_all(text.as_bytes()).map_err(Failure::from)
    })
}

fn add_witness(dir: &Path, vkey: &str, url: &str) -> Result<ExitCode, Failure> {
    let mut config = load_config(dir)?;
    need_log(dir, &config)?;
    let key = NoteVerifier::parse(vkey).map_err(|e| format!("--vkey: {e}"))?;
    if key.kind() != KeyKind::Cosignature {
        return Err(Failure("--vkey: a log's note key, not a witness's cosignature/v1 key (from `wheelsig witness keygen`)".into()));
    }
    site::check_url("--url", url)?;
    if let Some(w) = config
        .witnesses
        .iter()
        .find(|w| w.name() == key.name() || w.vkey.public_key() == key.public_key())
    {
        return Err(Failure(format!(
            "site.json already lists witness {} ({})",
            w.name(),
            w.vkey.vkey()
        )));
    }
    config.witnesses.push(WitnessConfig {
        vkey: key.clone(),
        url: url.to_string(),
    });
    save_config(dir, &config)?;
    eprintln!(
        "added witness {} at {url}: `wheelsig site cosign {}` submits checkpoints to it",
        key.name(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn load_config(dir: &Path) -> Result<Config, Failure> {
    let path = dir.join("site.json");
    Config::parse(&read_limited(
        &path,
        site::MAX_CONFIG_BYTES as u64,
        "site.json",
    )?)
    .map_err(|e| Failure(format!("{}: {e}", path.display())))
}

fn load_keys(dir: &Path) -> Result<KeySet, Failure> {
    let path = dir.join("keys.json");
    KeySet::parse(&read_limited(
        &path,
        wheelsig::limits::MAX_KEY_SET_BYTES as u64,
        "keys.json",
    )?)
    .map_err(|e| Failure(format!("{}: {e}", path.display())))
}

fn find<'a>(set: &'a mut KeySet, kid: &str) -> Result<&'a mut ListedKey, Failure> {
    set.keys
        .iter_mut()
        .find(|k| k.key.kid() == kid)
        .ok_or_else(|| Failure(format!("keys.json does not list a key with id {kid}")))
}

fn edit_keys(
    dir: &Path,
    edit: impl FnOnce(&mut KeySet) -> Result<(), Failure>,
) -> Result<ExitCode, Failure> {
    load_config(dir)?;
    let mut set = load_keys(dir)?;
    edit(&mut set)?;
    write(&dir.join("keys.json"), set.to_json().as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn add_key(
    dir: &Path,
    key: &crate::cli::keysrc::KeySource,
    projects: &[String],
) -> Result<ExitCode, Failure> {
    let config = load_config(dir)?;
    let public = key.public()?;
    let projects = names(projects)?;
    if let Some(p) = projects.iter().find(|p| !config.projects.contains(p)) {
        return Err(Failure(format!(
            "{p} is not one of site.json's projects ({})",
            config.projects.join(", ")
        )));
    }
    edit_keys(dir, |set| {
        if set.keys.iter().any(|k| k.key == public) {
            return Err(Failure(format!("keys.json already lists {}", public.kid())));
        }
        set.keys.push(ListedKey {
            key: public,
            projects: (!projects.is_empty()).then_some(projects),
            exp: None,
            key_url: None,
        });
        eprintln!("listed {} ({})", public.kid(), public.fingerprint());
        Ok(())
    })
}

/// The log as it is on disk: its signed checkpoint verified with the site's log key, and the
/// tree rebuilt from the entry bundles with that checkpoint's root.
fn load_log(dir: &Path, lc: &LogConfig) -> Result<Log, Failure> {
    let root = dir.join("log");
    let bytes = read_limited(
        &root.join("checkpoint"),
        wheelsig::log::note::MAX_NOTE_BYTES as u64,
        "log/checkpoint",
    )?;
    let mut read_err = None;
    let read = site::read_log(lc, &bytes, &mut read_bundle(&root, &mut read_err));
    let (_, _, log) = read.map_err(|(path, e)| {
        read_err.take().map_or_else(
            || {
                Failure(format!(
                    "{}: {e} (`wheelsig site build` lists what is wrong)",
                    dir.join(path).display()
                ))
            },
            Failure,
        )
    })?;
    Ok(log)
}

/// Read a file under `log/` (no symlinks); a read error is kept in `err`.
fn read_bundle<'a>(
    root: &'a Path,
    err: &'a mut Option<String>,
) -> impl FnMut(&str) -> Option<Vec<u8>> + 'a {
    move |p| {
        let f = root.join(p);
        std::fs::symlink_metadata(&f).ok().filter(|m| m.is_file())?;
        read_limited(&f, MAX_LOG_FILE, "an entry bundle")
            .map_err(|Failure(e)| *err = Some(e))
            .ok()
    }
}

fn sha256_file(path: &Path) -> Result<String, Failure> {
    let mut f = File::open(path).map_err(io_err(path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn load_log_key(path: Option<&Path>, lc: &LogConfig) -> Result<NoteSigner, Failure> {
    load_note_key(path, &lc.origin, &lc.vkey, "this site's log key")
}

/// A log's private note key (`--log-key FILE`, else the default place for `origin`), which
/// must be the one `vkey` names (`what` says whose, in the error).
pub(crate) fn load_note_key(
    path: Option<&Path>,
    origin: &str,
    vkey: &NoteVerifier,
    what: &str,
) -> Result<NoteSigner, Failure> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => default_log_key(origin)?,
    };
    let bytes = read_limited(&path, 4096, "a log key").map_err(|Failure(e)| {
        Failure(format!(
            "{e} (the release log's private key: pass --log-key FILE)"
        ))
    })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| format!("{}: not a private note key", path.display()))?;
    let signer = NoteSigner::from_private(text).map_err(|e| format!("{}: {e}", path.display()))?;
    if signer.verifier() != vkey {
        return Err(Failure(format!(
            "{}: the key of {}, not {what} {}",
            path.display(),
            signer.verifier().vkey(),
            vkey.vkey()
        )));
    }
    Ok(signer)
}

fn publish(
    dir: &Path,
    key: &crate::cli::keysrc::KeySource,
    log_key: Option<&Path>,
    wheels: &[PathBuf],
) -> Result<ExitCode, Failure> {
    let config = load_config(dir)?;
    let set = load_keys(dir)?;
    let key = key.private()?;
    let listed = set
        .keys
        .iter()
        .find(|k| &k.key == key.public())
        .ok_or_else(|| {
            format!(
                "keys.json does not list this key ({}): run `wheelsig site add-key` first",
                key.public().kid()
            )
        })?;
    if let Some(exp) = listed.exp {
        return Err(Failure(format!(
            "key {} was retired on {}: sign with an active key",
            key.public().kid(),
            time::format(exp)
        )));
    }
    // With a log: its key and its current state first, so nothing is written on a mismatch.
    let mut log = match &config.log {
        Some(lc) => Some((lc, load_log_key(log_key, lc)?, load_log(dir, lc)?)),
        None => None,
    };
    let before = log.as_ref().map(|(_, _, d)| d.size());
    let mut known = log
        .as_ref()
        .map(|(_, _, d)| site::logged(d))
        .unwrap_or_default();
    let key_url = config.key_url();
    let mut pending: Vec<(PathBuf, PathBuf, String)> = Vec::new();
    for path in wheels {
        let name = file_name(path)?;
        let parsed = parse_wheel_filename(&name).map_err(|e| format!("{}: {e}", path.display()))?;
        let project = parsed.project;
        if !config.projects.contains(&project) {
            return Err(Failure(format!(
                "{}: {project} is not one of site.json's projects",
                path.display()
            )));
        }
        if !listed.covers(&project) {
            return Err(Failure(format!(
                "{}: keys.json does not list key {} for {project}",
                path.display(),
                key.public().kid()
            )));
        }
        let out = dir
            .join("releases")
            .join(&project)
            .join(format!("{name}.jws"));
        if let Some((_, _, disk)) = &mut log {
            let sha256 = sha256_file(path)?;
            if let Some((i, leaf)) = known.get(&name) {
                if leaf.sha256 != sha256 {
                    return Err(Failure(format!(
                        "{}: {name} is already in the release log (entry {i}) with sha256 {}, and this file's is {sha256}: a logged release cannot be changed (publish it under a new version)",
                        path.display(),
                        leaf.sha256
                    )));
                }
                let on_disk = pending
                    .iter()
                    .find(|(_, o, _)| o == &out)
                    .map(|(_, _, d)| d.as_bytes().to_vec())
                    .or_else(|| std::fs::read(&out).ok());
                if on_disk.map(|b| hex(&Sha256::digest(&b))) != Some(leaf.jws_sha256.clone()) {
                    return Err(Failure(format!(
                        "{}: {name} is already in the release log (entry {i}), but {} is missing or not the logged signature: a logged release cannot be signed again",
                        path.display(),
                        out.display()
                    )));
                }
                eprintln!(
                    "{}: already published and logged (entry {i}): unchanged",
                    path.display()
                );
                continue;
            }
            let file = File::open(path).map_err(io_err(path))?;
            let doc = sign::verify_and_sign_detached(&file, &name, &key, now(), Some(&key_url))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let signed_sha = jws::parse(doc.as_bytes(), &None)
                .ok()
                .and_then(|p| p.payload().file_sha256.clone());
            if signed_sha.as_deref() != Some(sha256.as_str()) {
                return Err(Failure(format!(
                    "{}: the file changed while it was signed",
                    path.display()
                )));
            }
            let leaf = ReleaseLeaf {
                project: project.clone(),
                version: parsed.version,
                file: name.clone(),
                sha256,
                jws_sha256: hex(&Sha256::digest(doc.as_bytes())),
                kid: key.public().kid(),
            };
            let index = disk
                .append(leaf.encode())
                .map_err(|e| format!("{}: {e}", path.display()))?;
            known.insert(name, (index, leaf));
            pending.push((path.clone(), out, doc));
        } else {
            let file = File::open(path).map_err(io_err(path))?;
            let doc = sign::verify_and_sign_detached(&file, &name, &key, now(), Some(&key_url))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            pending.push((path.clone(), out, doc));
        }
    }
    for (path, out, doc) in &pending {
        write(out, doc.as_bytes())?;
        eprintln!("published {} -> {}", path.display(), out.display());
    }
    if let Some((lc, signer, disk)) = &log {
        if Some(disk.size()) != before {
            write_log_files(dir, disk)?;
            let cp = signed_checkpoint(disk, signer)?;
            let path = dir.join("log").join("checkpoint");
            replace_file(&path, |w| w.write_all(cp.as_bytes()).map_err(Failure::from))?;
            eprintln!("logged {} release{} in {} (now {} entries): run `wheelsig site cosign {}` to have the witnesses cosign it", pending.len(), if pending.len() == 1 { "" } else { "s" }, lc.origin, disk.size(), dir.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Largest file read under log/ (a full entry bundle of maximum-size entries).
const MAX_LOG_FILE: u64 = 256 * (2 + wheelsig::log::tiles::MAX_ENTRY as u64);
/// Most files read under log/ (partial tiles of earlier sizes stay, as C2SP asks).
const MAX_LOG_FILES: usize = 1_000_000;

/// Write the log's tiles and bundles for its current size; files already there with the same
/// bytes are left alone, and partial tiles of earlier sizes stay (clients may still fetch them).
fn write_log_files(dir: &Path, log: &Log) -> Result<(), Failure> {
    for (rel, bytes) in log.files() {
        let path = dir.join("log").join(&rel);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file())
            && std::fs::read(&path).is_ok_and(|b| b == bytes)
        {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        replace_file(&path, |w| w.write_all(&bytes).map_err(Failure::from))?;
    }
    Ok(())
}

/// `log/witnessed.json`: per witness (by vkey), the checkpoint size it last cosigned.
const WITNESSED: &str = "witnessed.json";

/// Ask every witness to cosign (the protocol is the core's: `wheelsig::log::cosign`); write
/// the cosigned checkpoint and the new proofs only if all of them did.
fn cosign(dir: &Path) -> Result<ExitCode, Failure> {
    let config = load_config(dir)?;
    need_log(dir, &config)?;
    let root = dir.join("log");
    let checkpoint = read_limited(
        &root.join("checkpoint"),
        wheelsig::log::note::MAX_NOTE_BYTES as u64,
        "log/checkpoint",
    )?;
    let witnessed_path = root.join(WITNESSED);
    let witnessed = if witnessed_path.exists() {
        Some(read_limited(
            &witnessed_path,
            wheelsig::log::cosign::MAX_WITNESSED_BYTES as u64,
            WITNESSED,
        )?)
    } else {
        None
    };
    let mut read_err = None;
    let round = site::cosign_round(
        &config,
        &checkpoint,
        &mut read_bundle(&root, &mut read_err),
        witnessed.as_deref(),
    );
    let mut round = round.map_err(|e| {
        read_err
            .take()
            .map_or_else(|| Failure(format!("{}: {e}", dir.display())), Failure)
    })?;
    fetch::ask_witnesses(&mut round);
    let size = round.checkpoint().size;
    let cosigned = match round.finish() {
        Ok(c) => c,
        Err(failures) => {
            for r in round.results().iter().flatten() {
                eprintln!(
                    "witness {r} cosigned {} at size {size}",
                    round.checkpoint().origin
                );
            }
            for f in &failures {
                eprintln!("wheelsig: {f}");
            }
            eprintln!("wheelsig: not cosigned by every witness: nothing was written (run `wheelsig site cosign` again once they accept)");
            return Ok(ExitCode::from(1));
        }
    };
    for (name, size) in &cosigned.witnesses {
        eprintln!(
            "witness {name} cosigned {} at size {size}",
            round.checkpoint().origin
        );
    }
    let exists = |p: &str| std::fs::symlink_metadata(dir.join(p)).is_ok();
    let proofs = site::new_proofs(round.log(), &cosigned.note, &exists).map_err(Failure)?;
    for (path, text) in &proofs {
        replace_file(&dir.join(path), |w| {
            w.write_all(text.as_bytes()).map_err(Failure::from)
        })?;
    }
    replace_file(&witnessed_path, |w| {
        w.write_all(cosigned.witnessed_json.as_bytes())
            .map_err(Failure::from)
    })?;
    replace_file(&root.join("checkpoint"), |w| {
        w.write_all(cosigned.note.to_text().as_bytes())
            .map_err(Failure::from)
    })?;
    let n = cosigned.witnesses.len();
    eprintln!(
        "cosigned by {n} witness{}: wrote log/checkpoint and {} new .tlog-proof file{}",
        if n == 1 { "" } else { "es" },
        proofs.len(),
        if proofs.len() == 1 { "" } else { "s" }
    );
    Ok(ExitCode::SUCCESS)
}

/// Every `releases/<project>/<file>` (the checks in `wheelsig::site` say what is acceptable).
fn read_releases(dir: &Path) -> Result<Vec<SourceFile>, Failure> {
    let root = dir.join("releases");
    let mut out = Vec::new();
    if !root.is_dir() {
        return Ok(out);
    }
    let limit = wheelsig::limits::Limits::default().max_signature_size;
    let mut projects: Vec<_> = std::fs::read_dir(&root)
        .map_err(io_err(&root))?
        .collect::<Result<_, _>>()
        .map_err(io_err(&root))?;
    projects.sort_by_key(std::fs::DirEntry::file_name);
    for p in projects {
        let pname = p.file_name().to_string_lossy().into_owned();
        let kind = p.file_type().map_err(io_err(&p.path()))?;
        if kind.is_symlink() {
            return Err(Failure(format!(
                "{}: a symbolic link; releases/ may hold only folders and files",
                p.path().display()
            )));
        }
        if !kind.is_dir() {
            if pname != "README.md" {
                return Err(Failure(format!(
                    "{}: expected only project directories in releases/",
                    p.path().display()
                )));
            }
            continue;
        }
        let mut files: Vec<_> = std::fs::read_dir(p.path())
            .map_err(io_err(&p.path()))?
            .collect::<Result<_, _>>()
            .map_err(io_err(&p.path()))?;
        files.sort_by_key(std::fs::DirEntry::file_name);
        for f in files {
            if !f.file_type().map_err(io_err(&f.path()))?.is_file() {
                return Err(Failure(format!("{}: not a regular file (a link or a folder); releases/<project>/ may hold only signature files", f.path().display())));
            }
            let fname = f
                .file_name()
                .to_str()
                .map(str::to_string)
                .ok_or_else(|| format!("{}: file name is not UTF-8", f.path().display()))?;
            if out.len() >= site::MAX_RELEASES {
                return Err(Failure(format!(
                    "{}: more than {} files",
                    root.display(),
                    site::MAX_RELEASES
                )));
            }
            out.push(SourceFile {
                path: format!("releases/{pname}/{fname}"),
                bytes: read_limited(&f.path(), limit, "signature")?,
            });
        }
    }
    Ok(out)
}

/// Every file under log/ but witnessed.json (the publisher's own record), sorted by path.
fn read_log(dir: &Path) -> Result<Vec<SourceFile>, Failure> {
    fn walk(root: &Path, rel: &str, out: &mut Vec<SourceFile>) -> Result<(), Failure> {
        let here = root.join(rel);
        let mut entries: Vec<_> = std::fs::read_dir(&here)
            .map_err(io_err(&here))?
            .collect::<Result<_, _>>()
            .map_err(io_err(&here))?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for e in entries {
            let name = e
                .file_name()
                .to_str()
                .map(str::to_string)
                .ok_or_else(|| format!("{}: file name is not UTF-8", e.path().display()))?;
            let sub = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let kind = e.file_type().map_err(io_err(&e.path()))?;
            if kind.is_symlink() {
                return Err(Failure(format!(
                    "{}: a symbolic link; log/ may hold only folders and files",
                    e.path().display()
                )));
            } else if kind.is_dir() {
                walk(root, &sub, out)?;
            } else if kind.is_file() {
                if sub == WITNESSED {
                    continue;
                }
                if out.len() >= MAX_LOG_FILES {
                    return Err(Failure(format!(
                        "{}: more than {MAX_LOG_FILES} files",
                        root.display()
                    )));
                }
                out.push(SourceFile {
                    path: format!("log/{sub}"),
                    bytes: read_limited(&e.path(), MAX_LOG_FILE, "a log file")?,
                });
            } else {
                return Err(Failure(format!(
                    "{}: not a regular file",
                    e.path().display()
                )));
            }
        }
        Ok(())
    }
    let root = dir.join("log");
    let mut out = Vec::new();
    match std::fs::symlink_metadata(&root) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Failure(format!("{}: {e}", root.display()))),
        Ok(m) if !m.is_dir() => {
            return Err(Failure(format!(
                "{}: not a folder (a link?)",
                root.display()
            )))
        }
        Ok(_) => {}
    }
    walk(&root, "", &mut out)?;
    Ok(out)
}

/// A site's sources, read as `site build` reads them (and `audit --site`).
pub struct Sources {
    /// site.json's bytes.
    pub config: Vec<u8>,
    /// keys.json's bytes.
    pub keys: Vec<u8>,
    /// Every file under releases/.
    pub releases: Vec<SourceFile>,
    /// Every file under log/ but witnessed.json.
    pub log: Vec<SourceFile>,
}

/// Read `dir`'s site.json, keys.json, releases/ and log/ within their limits.
pub fn read_sources(dir: &Path) -> Result<Sources, Failure> {
    let config = read_limited(
        &dir.join("site.json"),
        site::MAX_CONFIG_BYTES as u64,
        "site.json",
    )?;
    let keys = read_limited(
        &dir.join("keys.json"),
        wheelsig::limits::MAX_KEY_SET_BYTES as u64,
        "keys.json",
    )?;
    Ok(Sources {
        config,
        keys,
        releases: read_releases(dir)?,
        log: read_log(dir)?,
    })
}

fn build(
    dir: &Path,
    out: &Path,
    previous: Option<&Path>,
    audit: Option<&Path>,
) -> Result<ExitCode, Failure> {
    let Sources {
        config,
        keys,
        releases,
        log,
    } = read_sources(dir)?;
    let previous = previous
        .map(|p| {
            read_limited(
                p,
                wheelsig::log::note::MAX_NOTE_BYTES as u64,
                "--previous checkpoint",
            )
        })
        .transpose()?;
    let audit = audit
        .map(|p| {
            read_limited(
                p,
                wheelsig::audit::MAX_REPORT_BYTES as u64,
                "--audit report",
            )
        })
        .transpose()?;
    let built = match site::build_with_log(
        &config,
        &keys,
        &releases,
        &log,
        previous.as_deref(),
        audit.as_deref(),
        env!("CARGO_PKG_VERSION"),
    ) {
        Ok(s) => s,
        Err(problems) => {
            for p in &problems {
                eprintln!("{}: {p}", dir.display()); // the core escapes site problems
            }
            eprintln!(
                "wheelsig: the site was not built: {} problem{}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            );
            return Ok(ExitCode::from(1));
        }
    };
    for (rel, text) in &built.files {
        write(&out.join(rel), text.as_bytes())?;
    }
    write(&out.join("keys.json"), &keys)?;
    write(&out.join(".nojekyll"), b"")?;
    for r in releases.iter().chain(&log) {
        write(&out.join(&r.path), &r.bytes)?;
    }
    let widget = dir.join("wheelsig");
    let mut missing = Vec::new();
    for rel in WIDGET {
        let from = widget.join(rel);
        if std::fs::symlink_metadata(&from).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(Failure(format!(
                "{}: a symbolic link; the widget files must be regular files",
                from.display()
            )));
        }
        if from.is_file() {
            let to = out.join("wheelsig").join(rel);
            write(&to, &std::fs::read(&from).map_err(io_err(&from))?)?;
        } else {
            missing.push(*rel);
        }
    }
    if !missing.is_empty() {
        eprintln!(
            "wheelsig: warning: {} lacks {}: the page's checker will not load",
            widget.display(),
            missing.join(", ")
        );
    }
    eprintln!(
        "built {} -> {}: {} key{}, {} release{}{}{}",
        dir.display(),
        out.display(),
        built.keys.keys.len(),
        if built.keys.keys.len() == 1 { "" } else { "s" },
        built.releases.len(),
        if built.releases.len() == 1 { "" } else { "s" },
        built
            .log
            .as_ref()
            .map(|l| format!(
                ", log of {} entr{}",
                l.size,
                if l.size == 1 { "y" } else { "ies" }
            ))
            .unwrap_or_default(),
        built
            .audit
            .as_ref()
            .map(|a| format!(", index audit {}", if a.passed { "PASS" } else { "FAIL" }))
            .unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}
