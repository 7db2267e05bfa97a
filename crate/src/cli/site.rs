//! `wheelsig site`: create, maintain and build a publisher's key site (see
//! static-site-template/README.md). Checks and rendering live in `wheelsig::site`; this
//! module only reads and writes files.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use wheelsig::keys::{KeySet, ListedKey, PrivateKey};
use wheelsig::names::{is_valid_project, normalize_project, parse_wheel_filename};
use wheelsig::site::{self, Config, SourceFile};
use wheelsig::{sign, time};

use crate::{file_name, load_public, now, read_limited, Failure};

/// The template's own files, compiled in so `site init` needs nothing else.
const TEMPLATE: &[(&str, &str)] = &[
    ("README.md", include_str!("../../../static-site-template/README.md")),
    (".nojekyll", ""),
    (".gitignore", include_str!("../../../static-site-template/.gitignore")),
    ("releases/README.md", include_str!("../../../static-site-template/releases/README.md")),
    (".github/workflows/pages.yml", include_str!("../../../static-site-template/.github/workflows/pages.yml")),
    ("tools/build-site.mjs", include_str!("../../../static-site-template/tools/build-site.mjs")),
];

/// Files of the `<wheel-verify>` widget a site ships in `wheelsig/` (from www/ after the wasm build).
const WIDGET: &[&str] = &["wheel-verify.js", "worker.js", "worker-client.js", "first-use.js", "escape.js", "pkg/wheelsig.js", "pkg/wheelsig_bg.wasm"];

#[derive(Subcommand)]
pub enum SiteAction {
    /// Create a key site in DIR: site.json, an empty keys.json, releases/, the Pages workflow
    /// and the widget
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
        /// The built widget: www/ after `npm start` or `npm test` built www/pkg
        #[arg(long, value_name = "DIR")]
        widget: PathBuf,
    },
    /// List a key in the site's keys.json (the public half only, even from a private key file)
    AddKey {
        /// The site directory
        dir: PathBuf,
        /// Private or public JWK file
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
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
    /// Sign wheels into releases/<project>/<wheel>.jws with a key the site lists
    Publish {
        /// The site directory
        dir: PathBuf,
        /// Private key file
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Wheels to sign
        #[arg(required = true, value_name = "WHEEL")]
        wheels: Vec<PathBuf>,
    },
    /// Check the site (keys.json and every signature) and render it into OUT
    Build {
        /// The site directory
        dir: PathBuf,
        /// Output directory (created; files in it are replaced)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

pub fn run(action: SiteAction) -> Result<ExitCode, Failure> {
    match action {
        SiteAction::Init { dir, publisher, site_url, projects, widget } => init(&dir, &publisher, &site_url, &projects, &widget),
        SiteAction::AddKey { dir, key, projects } => add_key(&dir, &key, &projects),
        SiteAction::RetireKey { dir, kid, date } => edit_keys(&dir, |set| {
            let when = date.as_deref().map(time::parse).transpose()?.unwrap_or_else(now);
            let k = find(set, &kid)?;
            k.exp = Some(when);
            eprintln!("retired {kid} from {}: signatures made after that no longer verify", time::format(when));
            Ok(())
        }),
        SiteAction::RemoveKey { dir, kid } => edit_keys(&dir, |set| {
            find(set, &kid)?;
            set.keys.retain(|k| k.key.kid() != kid);
            eprintln!("removed {kid}: every signature it made stops verifying once the site is deployed");
            Ok(())
        }),
        SiteAction::Publish { dir, key, wheels } => publish(&dir, &key, &wheels),
        SiteAction::Build { dir, out } => build(&dir, &out),
    }
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Failure + '_ {
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

fn init(dir: &Path, publisher: &str, site_url: &str, projects: &[String], widget: &Path) -> Result<ExitCode, Failure> {
    if dir.exists() && std::fs::read_dir(dir).map_err(io_err(dir))?.next().is_some() {
        return Err(Failure(format!("{} exists and is not empty", dir.display())));
    }
    let config = serde_json::json!({"publisher": publisher, "site_url": site_url, "projects": names(projects)?});
    let config = Config::parse(config.to_string().as_bytes()).map_err(|e| format!("site.json: {e}"))?;
    for rel in WIDGET {
        if !widget.join(rel).is_file() {
            return Err(Failure(format!("{}: no {rel}; pass --widget the www/ directory after the wasm build (npm start or npm test builds www/pkg)", widget.display())));
        }
    }
    write(&dir.join("site.json"), config.to_json().as_bytes())?;
    write(&dir.join("keys.json"), KeySet::default().to_json().as_bytes())?;
    for (rel, text) in TEMPLATE {
        write(&dir.join(rel), text.as_bytes())?;
    }
    for rel in WIDGET {
        let to = dir.join("wheelsig").join(rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        std::fs::copy(widget.join(rel), &to).map_err(io_err(&to))?;
    }
    eprintln!("created {} for {} (key URL {})", dir.display(), config.publisher, config.key_url());
    eprintln!("next: wheelsig keygen --out ~/wheelsig-key.jwk && wheelsig site add-key {} --key ~/wheelsig-key.jwk", dir.display());
    Ok(ExitCode::SUCCESS)
}

fn load_config(dir: &Path) -> Result<Config, Failure> {
    let path = dir.join("site.json");
    Config::parse(&read_limited(&path, site::MAX_CONFIG_BYTES as u64, "site.json")?).map_err(|e| Failure(format!("{}: {e}", path.display())))
}

fn load_keys(dir: &Path) -> Result<KeySet, Failure> {
    let path = dir.join("keys.json");
    KeySet::parse(&read_limited(&path, wheelsig::limits::MAX_KEY_SET_BYTES as u64, "keys.json")?).map_err(|e| Failure(format!("{}: {e}", path.display())))
}

fn find<'a>(set: &'a mut KeySet, kid: &str) -> Result<&'a mut ListedKey, Failure> {
    set.keys.iter_mut().find(|k| k.key.kid() == kid).ok_or_else(|| Failure(format!("keys.json does not list a key with id {kid}")))
}

fn edit_keys(dir: &Path, edit: impl FnOnce(&mut KeySet) -> Result<(), Failure>) -> Result<ExitCode, Failure> {
    load_config(dir)?;
    let mut set = load_keys(dir)?;
    edit(&mut set)?;
    write(&dir.join("keys.json"), set.to_json().as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn add_key(dir: &Path, key: &Path, projects: &[String]) -> Result<ExitCode, Failure> {
    let config = load_config(dir)?;
    let public = load_public(key)?;
    let projects = names(projects)?;
    if let Some(p) = projects.iter().find(|p| !config.projects.contains(p)) {
        return Err(Failure(format!("{p} is not one of site.json's projects ({})", config.projects.join(", "))));
    }
    edit_keys(dir, |set| {
        if set.keys.iter().any(|k| k.key == public) {
            return Err(Failure(format!("keys.json already lists {}", public.kid())));
        }
        set.keys.push(ListedKey { key: public, projects: (!projects.is_empty()).then_some(projects), exp: None, key_url: None });
        eprintln!("listed {} ({})", public.kid(), public.fingerprint());
        Ok(())
    })
}

fn publish(dir: &Path, key: &Path, wheels: &[PathBuf]) -> Result<ExitCode, Failure> {
    let config = load_config(dir)?;
    let set = load_keys(dir)?;
    let key = PrivateKey::from_jwk_text(&read_limited(key, 64 * 1024, "key file")?).map_err(|e| format!("{}: {e}", key.display()))?;
    let listed = set
        .keys
        .iter()
        .find(|k| &k.key == key.public())
        .ok_or_else(|| format!("keys.json does not list this key ({}): run `wheelsig site add-key` first", key.public().kid()))?;
    if let Some(exp) = listed.exp {
        return Err(Failure(format!("key {} was retired on {}: sign with an active key", key.public().kid(), time::format(exp))));
    }
    let key_url = config.key_url();
    for path in wheels {
        let name = file_name(path)?;
        let project = parse_wheel_filename(&name).map_err(|e| format!("{}: {e}", path.display()))?.project;
        if !config.projects.contains(&project) {
            return Err(Failure(format!("{}: {project} is not one of site.json's projects", path.display())));
        }
        if !listed.covers(&project) {
            return Err(Failure(format!("{}: keys.json does not list key {} for {project}", path.display(), key.public().kid())));
        }
        let file = File::open(path).map_err(io_err(path))?;
        let doc = sign::verify_and_sign_detached(&file, &name, &key, now(), Some(&key_url)).map_err(|e| format!("{}: {e}", path.display()))?;
        let out = dir.join("releases").join(&project).join(format!("{name}.jws"));
        write(&out, doc.as_bytes())?;
        eprintln!("published {} -> {}", path.display(), out.display());
    }
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
    let mut projects: Vec<_> = std::fs::read_dir(&root).map_err(io_err(&root))?.collect::<Result<_, _>>().map_err(io_err(&root))?;
    projects.sort_by_key(std::fs::DirEntry::file_name);
    for p in projects {
        let pname = p.file_name().to_string_lossy().into_owned();
        let kind = p.file_type().map_err(io_err(&p.path()))?;
        if kind.is_symlink() {
            return Err(Failure(format!("{}: a symbolic link; releases/ may hold only folders and files", p.path().display())));
        }
        if !kind.is_dir() {
            if pname != "README.md" {
                return Err(Failure(format!("{}: expected only project directories in releases/", p.path().display())));
            }
            continue;
        }
        let mut files: Vec<_> = std::fs::read_dir(p.path()).map_err(io_err(&p.path()))?.collect::<Result<_, _>>().map_err(io_err(&p.path()))?;
        files.sort_by_key(std::fs::DirEntry::file_name);
        for f in files {
            if !f.file_type().map_err(io_err(&f.path()))?.is_file() {
                return Err(Failure(format!("{}: not a regular file (a link or a folder); releases/<project>/ may hold only signature files", f.path().display())));
            }
            let fname = f.file_name().to_str().map(str::to_string).ok_or_else(|| format!("{}: file name is not UTF-8", f.path().display()))?;
            if out.len() >= site::MAX_RELEASES {
                return Err(Failure(format!("{}: more than {} files", root.display(), site::MAX_RELEASES)));
            }
            out.push(SourceFile { path: format!("releases/{pname}/{fname}"), bytes: read_limited(&f.path(), limit, "signature")? });
        }
    }
    Ok(out)
}

fn build(dir: &Path, out: &Path) -> Result<ExitCode, Failure> {
    let config = read_limited(&dir.join("site.json"), site::MAX_CONFIG_BYTES as u64, "site.json")?;
    let keys = read_limited(&dir.join("keys.json"), wheelsig::limits::MAX_KEY_SET_BYTES as u64, "keys.json")?;
    let releases = read_releases(dir)?;
    let built = match site::build(&config, &keys, &releases, env!("CARGO_PKG_VERSION")) {
        Ok(s) => s,
        Err(problems) => {
            for p in &problems {
                eprintln!("{}: {p}", dir.display()); // the core escapes site problems
            }
            eprintln!("wheelsig: the site was not built: {} problem{}", problems.len(), if problems.len() == 1 { "" } else { "s" });
            return Ok(ExitCode::from(1));
        }
    };
    for (rel, text) in &built.files {
        write(&out.join(rel), text.as_bytes())?;
    }
    write(&out.join("keys.json"), &keys)?;
    write(&out.join(".nojekyll"), b"")?;
    for r in &releases {
        write(&out.join(&r.path), &r.bytes)?;
    }
    let widget = dir.join("wheelsig");
    let mut missing = Vec::new();
    for rel in WIDGET {
        let from = widget.join(rel);
        if std::fs::symlink_metadata(&from).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(Failure(format!("{}: a symbolic link; the widget files must be regular files", from.display())));
        }
        if from.is_file() {
            let to = out.join("wheelsig").join(rel);
            write(&to, &std::fs::read(&from).map_err(io_err(&from))?)?;
        } else {
            missing.push(*rel);
        }
    }
    if !missing.is_empty() {
        eprintln!("wheelsig: warning: {} lacks {}: the page's checker will not load", widget.display(), missing.join(", "));
    }
    eprintln!(
        "built {} -> {}: {} key{}, {} release{}",
        dir.display(),
        out.display(),
        built.keys.keys.len(),
        if built.keys.keys.len() == 1 { "" } else { "s" },
        built.releases.len(),
        if built.releases.len() == 1 { "" } else { "s" }
    );
    Ok(ExitCode::SUCCESS)
}
