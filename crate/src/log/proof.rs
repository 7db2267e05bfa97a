//! C2SP tlog-proof (`.tlog-proof` files): a leaf index, its inclusion proof, and the signed
//! (and cosigned) checkpoint it is included in.
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! [extra <base64>]
//! index <leaf index>
//! <base64 hash>…
//!
//! <checkpoint note>
//! ```

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::checkpoint::Checkpoint;
use super::merkle::{verify_inclusion, Hash};
use super::note::{Note, NoteError};

const HEADER: &str = "c2sp.org/tlog-proof@v1";
/// Largest proof file accepted.
pub const MAX_PROOF_BYTES: usize = 64 * 1024;

/// A parsed tlog-proof.
#[derive(Debug, Clone)]
pub struct TlogProof {
    /// Optional unauthenticated data.
    pub extra: Option<Vec<u8>>,
    /// The leaf's index.
    pub index: u64,
    /// The inclusion path, leaf sibling first.
    pub path: Vec<Hash>,
    /// The checkpoint note (log signature and cosignatures).
    pub note: Note,
    /// The checkpoint it carries.
    pub checkpoint: Checkpoint,
}

impl TlogProof {
    /// Parse strictly.
    pub fn parse(bytes: &[u8]) -> Result<TlogProof, NoteError> {
        let bad = |m: &str| NoteError(format!("not a tlog-proof: {m}"));
        if bytes.len() > MAX_PROOF_BYTES {
            return Err(bad("too large"));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8"))?;
        let (head, note) = text
            .split_once("\n\n")
            .ok_or_else(|| bad("no blank line before the checkpoint"))?;
        let mut lines = head.split('\n').peekable();
        if lines.next() != Some(HEADER) {
            return Err(bad("the first line must be c2sp.org/tlog-proof@v1"));
        }
        let mut extra = None;
        if let Some(e) = lines.peek().and_then(|l| l.strip_prefix("extra ")) {
            extra = Some(STANDARD.decode(e).map_err(|_| bad("extra is not base64"))?);
            lines.next();
        }
        let index = lines
            .next()
            .and_then(|l| l.strip_prefix("index "))
            .filter(|n| {
                !n.is_empty()
                    && n.bytes().all(|b| b.is_ascii_digit())
                    && (n.len() == 1 || !n.starts_with('0'))
            })
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| bad("expected `index <n>`"))?;
        let mut path = Vec::new();
        for l in lines {
            if path.len() == 64 {
                return Err(bad("more than 64 hashes"));
            }
            let h: Hash = STANDARD
                .decode(l)
                .ok()
                .filter(|r| STANDARD.encode(r) == l)
                .and_then(|r| r.try_into().ok())
                .ok_or_else(|| bad("a hash line is not canonical base64 of 32 bytes"))?;
            path.push(h);
        }
        let note = Note::parse(note.as_bytes())?;
        let checkpoint = Checkpoint::parse(note.text())?;
        Ok(TlogProof {
            extra,
            index,
            path,
            note,
            checkpoint,
        })
    }

    /// The file's text.
    pub fn to_text(&self) -> String {
        let mut out = format!("{HEADER}\n");
        if let Some(e) = &self.extra {
            out.push_str(&format!("extra {}\n", STANDARD.encode(e)));
        }
        out.push_str(&format!("index {}\n", self.index));
        for h in &self.path {
            out.push_str(&STANDARD.encode(h));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.note.to_text());
        out
    }

    /// Whether the proof shows `leaf` (a leaf hash) in its checkpoint. Signatures are checked
    /// separately (`Note::verify_by`, and a witness policy).
    pub fn includes(&self, leaf: &Hash) -> bool {
        verify_inclusion(
            leaf,
            self.index,
            self.checkpoint.size,
            &self.path,
            &self.checkpoint.root,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::merkle::leaf_hash;

    /// Made with Go's golang.org/x/mod/sumdb/tlog (leaf "leaf 617" of 1000) and a cosignature/v1.
    const GO: &str = "c2sp.org/tlog-proof@v1
index 617
g2n7eHkpo/kSvZRkjPrIWRLLdoMREHy/zH/LV+ovvuc=
hAniHCBoRga1dAXyLIRGOMqq8w6KEaHewgUlAjCYqZo=
auTbPbwP6f6Ba0O4fUM2jHel6QFvxkd2/lAqYHO1Cwg=
uCNZHenj7tdkXiiUMKcV/HZ45Q4qAm/Yb54X1Gb5IlQ=
/+JyNC+vcQQKEfyDRC7ZnsrjMBzBHVqxEy7lBjy6N1w=
+tkYyjpr3lsUAopQzT9i5Slv2BeXu3WkiDCOWb49hXg=
8vjP0WxDproKTKL8LGfcs4fbnUYrKnyudLm14d4/nvk=
2gnlIf4PJ+B5Jo3IZKJjMdAn4UqZZxVNSu71FVNu+iY=
s6+KE36e8vbS7sCkXOwnnBX3dqUTi9kKPcKdNjKyJyU=
2VeYcxZqpZvI032oZJI79j2s8P/xnqLKumOyDKuCzTA=

example.com/log
1000
L/M/udjxT4nKMGKJYzM2oWj/P0Uy6PdBoAGdy0wdYKE=

\u{2014} example.com/log m+XTxkSy28CARmfKbroY6dvnhEnoL4QReOxFNxmssjOQ0yNCCtrAd5VYSzV3Xf/2OcUgaoHc7nsVPwMYSn3mbKNNtw0=
\u{2014} witness.example/w1 3xwKNQAAAABkGFDLq355hXSwTvYy/pSyGAj77vcVzEA2JZDGxl+0/6wU+oDeVKzNv/aj7MHZ6+c3f5FID4Q6Nbp216d2s/zVmsxMAQ==
";

    #[test]
    fn go_proof_verifies_and_round_trips() {
        let p = TlogProof::parse(GO.as_bytes()).unwrap();
        assert!(p.includes(&leaf_hash(b"leaf 617")));
        assert!(!p.includes(&leaf_hash(b"leaf 618")));
        assert_eq!(p.to_text(), GO);
        assert!(TlogProof::parse(GO.replace("index 617", "index 0617").as_bytes()).is_err());
        assert!(TlogProof::parse(
            GO.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2")
                .as_bytes()
        )
        .is_err());
    }
}
