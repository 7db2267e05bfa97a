//! The entries of an index log (`wheelsig index-log`): one per file a package index serves,
//! the first time a follower saw it, and again when the same file name later shows another
//! sha256 (which is the finding, never a replacement):
//!
//! ```text
//! wheelsig-index/v1
//! index https://pypi.org/simple/
//! project demo
//! file demo-1.0-py3-none-any.whl
//! sha256 <64 lowercase hex>
//! uploaded 2026-01-01T00:00:00Z      (PEP 700 upload-time, or `-` when the index gives none)
//! first-seen 2026-01-02T03:04:05Z    (the follower's clock; witnesses date the checkpoint)
//! ```

use super::note::NoteError;

const HEADER: &str = "wheelsig-index/v1";

/// One file an index served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexLeaf {
    /// The index's simple API root.
    pub index: String,
    /// Normalized project name.
    pub project: String,
    /// The file name.
    pub file: String,
    /// Its sha256, lowercase hex.
    pub sha256: String,
    /// The index's upload time (RFC 3339), if it gives one.
    pub uploaded: Option<String>,
    /// When the follower first saw it (RFC 3339, UTC, seconds).
    pub first_seen: String,
}

impl IndexLeaf {
    /// The canonical text.
    pub fn encode(&self) -> Vec<u8> {
        format!(
            "{HEADER}\nindex {}\nproject {}\nfile {}\nsha256 {}\nuploaded {}\nfirst-seen {}\n",
            self.index,
            self.project,
            self.file,
            self.sha256,
            self.uploaded.as_deref().unwrap_or("-"),
            self.first_seen
        )
        .into_bytes()
    }

    /// Parse strictly: exactly the layout [`encode`](Self::encode) writes, every field
    /// printable ASCII, the digest 64 lowercase hex digits, the project normalized, the file a
    /// plain file name, times RFC 3339.
    pub fn parse(bytes: &[u8]) -> Result<IndexLeaf, NoteError> {
        let bad = |m: &str| NoteError(format!("not a wheelsig index entry: {m}"));
        let [index, project, file, sha256, uploaded, first_seen] = super::release::entry_fields(
            bytes,
            HEADER,
            "index",
            [
                "index",
                "project",
                "file",
                "sha256",
                "uploaded",
                "first-seen",
            ],
        )?;
        if sha256.len() != 64
            || !sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(bad("`sha256` is not 64 lowercase hex digits"));
        }
        if crate::names::normalize_project(&project) != project
            || !crate::names::is_valid_project(&project)
        {
            return Err(bad("`project` is not a normalized project name"));
        }
        crate::index::check_file_name(&file).map_err(|e| bad(&format!("`file`: {e}")))?;
        let uploaded = if uploaded == "-" {
            None
        } else {
            Some(uploaded)
        };
        for t in uploaded.iter().chain(std::iter::once(&first_seen)) {
            crate::time::parse(t).map_err(|_| bad(&format!("{t:?} is not a time")))?;
        }
        let leaf = IndexLeaf {
            index,
            project,
            file,
            sha256,
            uploaded,
            first_seen,
        };
        if leaf.encode() != bytes {
            return Err(bad("not in canonical form"));
        }
        Ok(leaf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        let l = IndexLeaf {
            index: "https://pypi.org/simple/".into(),
            project: "demo".into(),
            file: "demo-1.0-py3-none-any.whl".into(),
            sha256: "a".repeat(64),
            uploaded: Some("2026-01-01T00:00:00Z".into()),
            first_seen: "2026-01-02T03:04:05Z".into(),
        };
        assert_eq!(IndexLeaf::parse(&l.encode()).unwrap(), l);
        let none = IndexLeaf {
            uploaded: None,
            ..l.clone()
        };
        assert_eq!(IndexLeaf::parse(&none.encode()).unwrap(), none);
        let text = String::from_utf8(l.encode()).unwrap();
        for bad in [
            text.replace("project demo", "project Demo"),
            text.replace("file demo", "file ../demo"),
            text.replace(&"a".repeat(64), &"A".repeat(64)),
            format!("{text}x\n"),
            text.replace("first-seen 2026-01-02T03:04:05Z", "first-seen yesterday"),
        ] {
            assert!(IndexLeaf::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
