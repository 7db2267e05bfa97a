//! A log held as static files (C2SP tlog-tiles): entry bundles and hash tiles, rebuilt from
//! the entries. Key sites hold at most 100,000 releases, so the whole log fits in memory:
//! every tile is derived from the entries, nothing else is trusted.

use super::checkpoint::Checkpoint;
use super::merkle::{
    consistency_proof, inclusion_proof, leaf_hash, node_hash, tile_path, tree_hash, Hash,
};
use super::note::NoteError;

/// Entries per tile and per bundle.
pub const WIDTH: usize = 256;
/// Largest entry (bundles use 16-bit length prefixes).
pub const MAX_ENTRY: usize = u16::MAX as usize;

/// A log's entries and their leaf hashes.
#[derive(Debug, Clone, Default)]
pub struct Log {
    entries: Vec<Vec<u8>>,
    leaves: Vec<Hash>,
}

/// Decode one entry bundle (`uint16_be(len) || entry`, repeated).
pub fn parse_bundle(bytes: &[u8]) -> Result<Vec<Vec<u8>>, NoteError> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.len() < 2 || out.len() == WIDTH {
            return Err(NoteError("malformed entry bundle".into()));
        }
        let n = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let entry = rest
            .get(2..2 + n)
            .ok_or_else(|| NoteError("an entry bundle is truncated".into()))?;
        out.push(entry.to_vec());
        rest = &rest[2 + n..];
    }
    Ok(out)
}

impl Log {
    /// An empty log.
    pub fn new() -> Self {
        Log::default()
    }

    /// Rebuild from the entry bundles of a tree of `size` leaves; `read(path)` returns the
    /// bytes at a `tile/entries/…` path. The caller compares `checkpoint()` with the signed one.
    pub fn from_bundles(
        size: u64,
        read: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
    ) -> Result<Log, NoteError> {
        let size = usize::try_from(size).map_err(|_| NoteError("log too large".into()))?;
        if size > 10_000_000 {
            return Err(NoteError("log too large to hold in memory".into()));
        }
        let mut log = Log::new();
        let mut n = 0;
        while log.entries.len() < size {
            let width = (size - n * WIDTH).min(WIDTH);
            let path = tile_path(None, n as u64, width as u16);
            let bytes =
                read(&path).ok_or_else(|| NoteError(format!("missing entry bundle {path}")))?;
            let entries = parse_bundle(&bytes).map_err(|e| NoteError(format!("{path}: {e}")))?;
            if entries.len() != width {
                return Err(NoteError(format!(
                    "{path}: {} entries, expected {width}",
                    entries.len()
                )));
            }
            for e in entries {
                log.append(e)?;
            }
            n += 1;
        }
        Ok(log)
    }

    /// Append an entry; returns its index.
    pub fn append(&mut self, entry: Vec<u8>) -> Result<u64, NoteError> {
        if entry.len() > MAX_ENTRY {
            return Err(NoteError(format!(
                "an entry of {} bytes; the limit is {MAX_ENTRY}",
                entry.len()
            )));
        }
        self.leaves.push(leaf_hash(&entry));
        self.entries.push(entry);
        Ok(self.entries.len() as u64 - 1)
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.entries.len() as u64
    }

    /// The entries, in order.
    pub fn entries(&self) -> &[Vec<u8>] {
        &self.entries
    }

    /// The leaf hashes, in order.
    pub fn leaves(&self) -> &[Hash] {
        &self.leaves
    }

    /// The unsigned checkpoint of the whole log.
    pub fn checkpoint(&self, origin: &str) -> Checkpoint {
        Checkpoint {
            origin: origin.to_string(),
            size: self.size(),
            root: tree_hash(&self.leaves),
            extensions: Vec::new(),
        }
    }

    /// The inclusion proof of entry `index` in the whole log.
    pub fn inclusion(&self, index: u64) -> Vec<Hash> {
        usize::try_from(index).map_or_else(|_| Vec::new(), |i| inclusion_proof(&self.leaves, i))
    }

    /// The consistency proof from the first `old` entries to the whole log.
    pub fn consistency(&self, old: u64) -> Vec<Hash> {
        usize::try_from(old).map_or_else(|_| Vec::new(), |o| consistency_proof(&self.leaves, o))
    }

    /// Every file of the log at its current size: entry bundles and hash tiles at every
    /// level, full ones and the partial ones of this size, under C2SP paths.
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for (n, chunk) in self.entries.chunks(WIDTH).enumerate() {
            let mut b = Vec::new();
            for e in chunk {
                b.extend_from_slice(&(e.len() as u16).to_be_bytes());
                b.extend_from_slice(e);
            }
            out.push((tile_path(None, n as u64, chunk.len() as u16), b));
        }
        let mut level: Vec<Hash> = self.leaves.clone();
        let mut l = 0u8;
        while !level.is_empty() {
            for (n, chunk) in level.chunks(WIDTH).enumerate() {
                out.push((
                    tile_path(Some(l), n as u64, chunk.len() as u16),
                    chunk.concat(),
                ));
            }
            // Only full tiles are hashed into the level above.
            level = level
                .chunks_exact(WIDTH)
                .map(|c| {
                    let mut v = c.to_vec();
                    while v.len() > 1 {
                        v = v.chunks(2).map(|p| node_hash(&p[0], &p[1])).collect();
                    }
                    v[0]
                })
                .collect();
            l += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;

    #[test]
    fn tiles_rebuild_and_match_go() {
        let mut log = Log::new();
        for i in 0..1000 {
            log.append(format!("leaf {i}").into_bytes()).unwrap();
        }
        assert_eq!(
            STANDARD.encode(log.checkpoint("x").root),
            "L/M/udjxT4nKMGKJYzM2oWj/P0Uy6PdBoAGdy0wdYKE="
        );
        let files = log.files();
        let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        for p in [
            "tile/entries/000",
            "tile/entries/003.p/232",
            "tile/0/003.p/232",
            "tile/1/000.p/3",
        ] {
            assert!(paths.contains(&p), "{p} in {paths:?}");
        }
        let back = Log::from_bundles(1000, &mut |p| {
            files.iter().find(|(q, _)| q == p).map(|(_, b)| b.clone())
        })
        .unwrap();
        assert_eq!(back.checkpoint("x"), log.checkpoint("x"));
        assert!(Log::from_bundles(1001, &mut |p| files
            .iter()
            .find(|(q, _)| q == p)
            .map(|(_, b)| b.clone()))
        .is_err());
        assert!(parse_bundle(&[0, 5, 1]).is_err());
    }
}
