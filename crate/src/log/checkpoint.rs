//! C2SP tlog-checkpoint: the signed note body `<origin>\n<size>\n<base64 root>\n[extensions]`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::merkle::Hash;
use super::note::NoteError;

/// Most extension lines accepted (they are NOT RECOMMENDED by the spec; none are used here).
const MAX_EXTENSIONS: usize = 16;

/// A checkpoint: a log's claim "my tree of `size` leaves has root `root`".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin (its key name), e.g. `alice.github.io/keys/log`.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 6962 root hash.
    pub root: Hash,
    /// Opaque extension lines.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// Parse a note's text as a checkpoint (strict: decimal without leading zeros, canonical
    /// base64 of 32 bytes).
    pub fn parse(text: &str) -> Result<Checkpoint, NoteError> {
        let bad = |m: &str| NoteError(format!("not a checkpoint: {m}"));
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("no final newline"))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| bad("no origin line"))?;
        if origin.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("the origin contains spaces or controls"));
        }
        let size = lines.next().ok_or_else(|| bad("no size line"))?;
        if size.is_empty()
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return Err(bad(
                "the size is not a decimal number without leading zeros",
            ));
        }
        let size: u64 = size.parse().map_err(|_| bad("the size is too large"))?;
        let root_b64 = lines.next().ok_or_else(|| bad("no root hash line"))?;
        let root: Hash = STANDARD
            .decode(root_b64)
            .ok()
            .filter(|r| STANDARD.encode(r) == root_b64)
            .and_then(|r| r.try_into().ok())
            .ok_or_else(|| bad("the root is not canonical base64 of 32 bytes"))?;
        let extensions: Vec<String> = lines.map(str::to_string).collect();
        if extensions.len() > MAX_EXTENSIONS || extensions.iter().any(String::is_empty) {
            return Err(bad("too many or empty extension lines"));
        }
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
            extensions,
        })
    }

    /// The note text of this checkpoint.
    pub fn text(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        );
        for e in &self.extensions {
            out.push_str(e);
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        let text = "example.com/log\n1000\nL/M/udjxT4nKMGKJYzM2oWj/P0Uy6PdBoAGdy0wdYKE=\n";
        let c = Checkpoint::parse(text).unwrap();
        assert_eq!((c.origin.as_str(), c.size), ("example.com/log", 1000));
        assert_eq!(c.text(), text);
        for bad in [
            "example.com/log\n01\nL/M/udjxT4nKMGKJYzM2oWj/P0Uy6PdBoAGdy0wdYKE=\n",
            "example.com/log\n1\nAAAA\n",
            "\n1\nL/M/udjxT4nKMGKJYzM2oWj/P0Uy6PdBoAGdy0wdYKE=\n",
            "a b\n1\nL/M/udjxT4nKMGKJYzM2oWj/P0Uy6PdBoAGdy0wdYKE=\n",
            "example.com/log\n1\n",
            "example.com/log\n-1\nL/M/udjxT4nKMGKJYzM2oWj/P0Uy6PdBoAGdy0wdYKE=\n",
        ] {
            assert!(Checkpoint::parse(bad).is_err(), "{bad:?}");
        }
    }
}
