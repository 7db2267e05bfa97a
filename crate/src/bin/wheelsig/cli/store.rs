//! The trust-on-first-use store: a JSON file under the XDG config directory.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use wheelsig::encoding::parse_json;
use wheelsig::trust::FirstUse;

/// Largest store accepted (it holds one small entry per project).
const MAX_STORE_BYTES: u64 = 16 << 20;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Store {
    pub version: u32,
    pub projects: BTreeMap<String, FirstUse>,
}

/// `--trust-store`, else `$WHEELSIG_TRUST_STORE`, else `$XDG_CONFIG_HOME/wheelsig/trust.json`
/// (falling back to `~/.config`).
pub fn path(flag: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = flag {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("WHEELSIG_TRUST_STORE").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|p| !p.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(
            std::env::var_os("HOME").ok_or("neither XDG_CONFIG_HOME nor HOME is set")?,
        )
        .join(".config"),
    };
    Ok(base.join("wheelsig").join("trust.json"))
}

pub fn load(path: &Path) -> Result<Store, String> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Store {
                version: 1,
                projects: BTreeMap::new(),
            })
        }
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    if meta.len() > MAX_STORE_BYTES {
        return Err(format!(
            "{}: trust store is larger than {MAX_STORE_BYTES} bytes",
            path.display()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value = parse_json(&bytes)
        .map_err(|e| format!("{}: trust store is not valid JSON: {e}", path.display()))?;
    let store: Store = serde_json::from_value(value)
        .map_err(|e| format!("{}: trust store is malformed: {e}", path.display()))?;
    if store.version != 1 {
        return Err(format!(
            "{}: trust store version {} is not supported",
            path.display(),
            store.version
        ));
    }
    Ok(store)
}

/// Write atomically through a new randomly named temporary file (O_EXCL) in the same
/// directory, synced, then renamed: a planted symlink is never followed.
pub fn save(path: &Path, store: &Store) -> Result<(), String> {
    use std::io::Write as _;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let text = serde_json::to_string_pretty(store).map_err(|e| e.to_string())? + "\n";
    let mut tmp = tempfile::Builder::new()
        .prefix(".trust.json.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| format!("{}: {e}", tmp.path().display()))?;
    tmp.persist(path)
        .map_err(|e| format!("{}: {}", path.display(), e.error))?;
    Ok(())
}
