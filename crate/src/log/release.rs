//! The leaf a key site's log holds for one release: a versioned, domain-separated text record
//! binding the project, version, file name, the file's sha256, the sha256 of the published
//! `.jws`, and the signing key id.
//!
//! ```text
//! wheelsig-release/v1
//! project demo
//! version 1.0
//! file demo-1.0-py3-none-any.whl
//! sha256 <64 hex>
//! jws-sha256 <64 hex>
//! kid <RFC 7638 thumbprint>
//! ```

use super::note::NoteError;

const HEADER: &str = "wheelsig-release/v1";

/// One release, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseLeaf {
    /// Normalized project name.
    pub project: String,
    /// Version, as in the file name.
    pub version: String,
    /// The wheel's file name.
    pub file: String,
    /// Lowercase hex SHA-256 of the wheel.
    pub sha256: String,
    /// Lowercase hex SHA-256 of the published `.jws` document.
    pub jws_sha256: String,
    /// The signing key's id.
    pub kid: String,
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl ReleaseLeaf {
    /// The entry bytes.
    pub fn encode(&self) -> Vec<u8> {
        format!(
            "{HEADER}\nproject {}\nversion {}\nfile {}\nsha256 {}\njws-sha256 {}\nkid {}\n",
            self.project, self.version, self.file, self.sha256, self.jws_sha256, self.kid
        )
        .into_bytes()
    }

    /// Parse an entry strictly (the exact layout [`encode`](Self::encode) writes).
    pub fn parse(bytes: &[u8]) -> Result<ReleaseLeaf, NoteError> {
        let bad = |m: &str| NoteError(format!("not a wheelsig release entry: {m}"));
        let [project, version, file, sha256, jws_sha256, kid] = entry_fields(
            bytes,
            HEADER,
            "release",
            ["project", "version", "file", "sha256", "jws-sha256", "kid"],
        )?;
        let leaf = ReleaseLeaf {
            project,
            version,
            file,
            sha256,
            jws_sha256,
            kid,
        };
        if !is_hex64(&leaf.sha256) || !is_hex64(&leaf.jws_sha256) {
            return Err(bad("a digest is not 64 lowercase hex digits"));
        }
        // The file name must be a wheel's, of this project: edges build paths from the two
        // (`releases/<project>/<file>.tlog-proof`), so nothing else may pass.
        match crate::names::parse_wheel_filename(&leaf.file) {
            Ok(w) if w.project == leaf.project => {}
            Ok(_) => return Err(bad("`file` is not a wheel of `project`")),
            Err(_) => return Err(bad("`file` is not a wheel file name")),
        }
        if leaf.encode() != bytes {
            return Err(bad("not in canonical form"));
        }
        Ok(leaf)
    }
}

/// The values of a log entry's `<name> <value>` lines, in order, after its header line: the
/// exact layout, each value non-empty printable ASCII, a final newline, no extra lines (the
/// release and index entries share it).
pub(crate) fn entry_fields<const N: usize>(
    bytes: &[u8],
    header: &str,
    what: &str,
    names: [&str; N],
) -> Result<[String; N], NoteError> {
    let bad = |m: &str| NoteError(format!("not a wheelsig {what} entry: {m}"));
    let text = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8"))?;
    let mut lines = text
        .strip_suffix('\n')
        .ok_or_else(|| bad("no final newline"))?
        .split('\n');
    if lines.next() != Some(header) {
        return Err(bad("unknown entry type"));
    }
    let mut out: [String; N] = std::array::from_fn(|_| String::new());
    for (slot, name) in out.iter_mut().zip(names) {
        let v = lines
            .next()
            .and_then(|l| l.strip_prefix(name))
            .and_then(|l| l.strip_prefix(' '))
            .ok_or_else(|| bad(&format!("expected `{name} …`")))?;
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad(&format!("`{name}` is not printable ASCII")));
        }
        *slot = v.to_string();
    }
    if lines.next().is_some() {
        return Err(bad("extra lines"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let l = ReleaseLeaf {
            project: "demo".into(),
            version: "1.0".into(),
            file: "demo-1.0-py3-none-any.whl".into(),
            sha256: "a".repeat(64),
            jws_sha256: "b".repeat(64),
            kid: "k".repeat(43),
        };
        assert_eq!(ReleaseLeaf::parse(&l.encode()).unwrap(), l);
        let text = String::from_utf8(l.encode()).unwrap();
        assert!(
            ReleaseLeaf::parse(text.replace("project demo", "project  demo").as_bytes()).is_err()
        );
        assert!(
            ReleaseLeaf::parse(text.replace(&"a".repeat(64), &"A".repeat(64)).as_bytes()).is_err()
        );
        assert!(ReleaseLeaf::parse(format!("{text}x\n").as_bytes()).is_err());
        // Edges build paths from project and file: only a wheel of that project passes.
        for (project, file) in [
            ("..", "demo-1.0-py3-none-any.whl"),
            ("demo", "../../x-1.0-py3-none-any.whl"),
            ("other", "demo-1.0-py3-none-any.whl"),
            ("demo", "demo-1.0.tar.gz"),
        ] {
            let bad = ReleaseLeaf {
                project: project.into(),
                file: file.into(),
                ..l.clone()
            };
            assert!(
                ReleaseLeaf::parse(&bad.encode()).is_err(),
                "{project} {file}"
            );
        }
    }
}
