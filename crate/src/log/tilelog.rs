//! Large logs as C2SP tlog-tiles without holding them in memory (an index log reaches millions
//! of entries, unlike a key site's): an append-only [`TileWriter`] that keeps only the stored
//! hashes (32 bytes per tile-level node, Go sumdb's layout) and the current partial bundle,
//! and emits just the files an append touched; and proofs computed from tiles alone
//! ([`inclusion_from_tiles`], [`root_from_tiles`]) for readers, which fetch O(log n) tiles,
//! every one checked by the result against a signed checkpoint's root.

use super::merkle::{leaf_hash, node_hash, tile_path, Hash};
use super::note::NoteError;
use super::tiles::{parse_bundle, MAX_ENTRY, WIDTH};

fn err(m: impl Into<String>) -> NoteError {
    NoteError(m.into())
}

/// Largest tree handled (2^40 leaves: far beyond any index).
pub const MAX_SIZE: u64 = 1 << 40;

/// Tiles have height 8: tile level `l` holds the hashes of tree level `8 l`.
const HEIGHT: u32 = 8;

/// The Merkle hash of `hashes` (a power-of-two count, or any count: RFC 6962's split).
fn mth(hashes: &[Hash]) -> Hash {
    super::merkle::tree_hash(hashes)
}

/// An append-only log writer over stored hashes.
#[derive(Debug, Clone, Default)]
pub struct TileWriter {
    /// `levels[l]`: every complete level-`8 l` node hash, in order (level 0: the leaf hashes).
    levels: Vec<Vec<Hash>>,
    /// Entries of the bundle after the last full one.
    partial: Vec<Vec<u8>>,
    /// Bundles completed since the last flush.
    pending_full: Vec<Vec<Vec<u8>>>,
    /// The size at the last [`TileWriter::flush`].
    flushed: u64,
}

impl TileWriter {
    /// An empty log.
    pub fn new() -> Self {
        TileWriter {
            levels: vec![Vec::new()],
            partial: Vec::new(),
            pending_full: Vec::new(),
            flushed: 0,
        }
    }

    /// Resume a log of `size` entries from its files (`read(path)`): the level-0 hash tiles and
    /// the last partial entry bundle. Every tile read is recomputed from the one below (level 0
    /// from the bundles' entries where they are read), so the caller checks just the root
    /// against the signed checkpoint.
    pub fn resume(
        size: u64,
        read: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
    ) -> Result<TileWriter, NoteError> {
        if size > MAX_SIZE {
            return Err(err("log too large"));
        }
        let mut w = TileWriter::new();
        let full = size / WIDTH as u64;
        for n in 0..full {
            let path = tile_path(Some(0), n, 256);
            let bytes = read(&path).ok_or_else(|| err(format!("missing {path}")))?;
            if bytes.len() != 32 * WIDTH {
                return Err(err(format!(
                    "{path}: {} bytes, expected {}",
                    bytes.len(),
                    32 * WIDTH
                )));
            }
            for h in bytes.chunks_exact(32) {
                w.push_leaf_hash(h.try_into().map_err(|_| err("hash"))?);
            }
        }
        let rest = (size % WIDTH as u64) as u16;
        if rest > 0 {
            let path = tile_path(None, full, rest);
            let bytes = read(&path).ok_or_else(|| err(format!("missing {path}")))?;
            let entries = parse_bundle(&bytes).map_err(|e| err(format!("{path}: {e}")))?;
            if entries.len() != usize::from(rest) {
                return Err(err(format!(
                    "{path}: {} entries, expected {rest}",
                    entries.len()
                )));
            }
            for e in entries {
                w.push_leaf_hash(leaf_hash(&e));
                w.partial.push(e);
            }
        }
        w.flushed = size;
        Ok(w)
    }

    /// Entries in the log.
    pub fn size(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// The root hash of the whole log.
    pub fn root(&self) -> Hash {
        root_of(&self.levels, self.size())
    }

    fn push_leaf_hash(&mut self, h: Hash) {
        self.levels[0].push(h);
        let mut l = 0;
        // A full group of 256 at level l completes a node at level l + 1.
        while self.levels[l].len().is_multiple_of(WIDTH) {
            let start = self.levels[l].len() - WIDTH;
            let up = mth(&self.levels[l][start..]);
            if self.levels.len() == l + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[l + 1].push(up);
            l += 1;
        }
    }

    /// Append an entry; returns its index.
    pub fn append(&mut self, entry: Vec<u8>) -> Result<u64, NoteError> {
        if entry.len() > MAX_ENTRY {
            return Err(err(format!(
                "an entry of {} bytes; the limit is {MAX_ENTRY}",
                entry.len()
            )));
        }
        if self.size() >= MAX_SIZE {
            return Err(err("log too large"));
        }
        let index = self.size();
        self.push_leaf_hash(leaf_hash(&entry));
        self.partial.push(entry);
        if self.partial.len() == WIDTH {
            self.pending_full.push(std::mem::take(&mut self.partial));
        }
        Ok(index)
    }

    /// The files the appends since the last flush touched (entry bundles, and hash tiles at
    /// every level, full and partial of the current size), with their bytes; then marks them
    /// written. A reader of the new checkpoint finds every tile it needs among them and the
    /// files written before.
    pub fn flush(&mut self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let size = self.size();
        let from = self.flushed;
        // Entry bundles: the full ones completed since, and the current partial one.
        let first_bundle = from / WIDTH as u64;
        let full_bundles = std::mem::take(&mut self.pending_full);
        for (n, b) in (first_bundle..).zip(full_bundles.iter()) {
            out.push((tile_path(None, n, 256), bundle(b)));
        }
        if !self.partial.is_empty() {
            out.push((
                tile_path(None, size / WIDTH as u64, self.partial.len() as u16),
                bundle(&self.partial),
            ));
        }
        // Hash tiles: at level l, the tiles over level-8l nodes from the first one touched.
        for (l, hashes) in self.levels.iter().enumerate() {
            let shift = HEIGHT * l as u32;
            let touched_from = (from >> shift) / WIDTH as u64;
            let count = hashes.len() as u64;
            if count == 0 {
                break;
            }
            let tiles = count.div_ceil(WIDTH as u64);
            for t in touched_from..tiles {
                let lo = (t as usize) * WIDTH;
                let hi = (lo + WIDTH).min(hashes.len());
                if hi <= lo {
                    continue;
                }
                out.push((
                    tile_path(Some(l as u8), t, (hi - lo) as u16),
                    hashes[lo..hi].concat(),
                ));
            }
        }
        self.flushed = size;
        out
    }
}

fn bundle(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut b = Vec::new();
    for e in entries {
        b.extend_from_slice(&(e.len() as u16).to_be_bytes());
        b.extend_from_slice(e);
    }
    b
}

/// MTH(D[lo:hi]) from stored hashes held in memory.
fn root_of(levels: &[Vec<Hash>], size: u64) -> Hash {
    if size == 0 {
        return super::merkle::empty_root();
    }
    subtree(&mut |level, index| stored(levels, level, index), 0, size).unwrap_or_default()
}

fn stored(levels: &[Vec<Hash>], level: u32, index: u64) -> Option<Hash> {
    // A complete node at `level`: from tile level level/8, combining 2^(level%8) stored hashes.
    let tl = (level / HEIGHT) as usize;
    let r = level % HEIGHT;
    let lo = usize::try_from(index << r).ok()?;
    let hi = lo + (1usize << r);
    levels.get(tl)?.get(lo..hi).map(mth)
}

/// MTH(D[lo:hi]) given `complete(level, index)`, the hash of the complete subtree of 2^level
/// leaves starting at leaf `index << level`.
fn subtree(complete: &mut dyn FnMut(u32, u64) -> Option<Hash>, lo: u64, hi: u64) -> Option<Hash> {
    let n = hi - lo;
    if n.is_power_of_two() && lo.is_multiple_of(n) {
        return complete(n.trailing_zeros(), lo >> n.trailing_zeros());
    }
    let k = 1u64 << (63 - (n - 1).leading_zeros());
    let left = subtree(complete, lo, lo + k)?;
    let right = subtree(complete, lo + k, hi)?;
    Some(node_hash(&left, &right))
}

/// Reads hash tiles for a tree of `size` leaves, caching each tile: the complete subtree at
/// (`level`, `index`) from tile level `level / 8`.
struct TileHashes<'a> {
    size: u64,
    read: &'a mut dyn FnMut(&str) -> Option<Vec<u8>>,
    cache: std::collections::HashMap<(u32, u64), Vec<u8>>,
    error: Option<String>,
    /// Tiles fetched.
    fetched: usize,
}

impl TileHashes<'_> {
    fn complete(&mut self, level: u32, index: u64) -> Option<Hash> {
        let tl = level / HEIGHT;
        let r = level % HEIGHT;
        let first = index << r; // first stored hash at tile level tl
        let count = 1u64 << r;
        let tile = first / WIDTH as u64;
        let stored_at_level = self.size >> (HEIGHT * tl);
        let width = if (tile + 1) * WIDTH as u64 <= stored_at_level {
            256
        } else {
            stored_at_level - tile * WIDTH as u64
        };
        if width == 0 || first + count > tile * WIDTH as u64 + width {
            self.error = Some(format!(
                "tile level {tl} has no node {first} for a tree of {}",
                self.size
            ));
            return None;
        }
        if !self.cache.contains_key(&(tl, tile)) {
            let path = tile_path(Some(tl as u8), tile, width as u16);
            let Some(bytes) = (self.read)(&path) else {
                self.error = Some(format!("missing {path}"));
                return None;
            };
            if bytes.len() as u64 != 32 * width {
                self.error = Some(format!(
                    "{path}: {} bytes, expected {}",
                    bytes.len(),
                    32 * width
                ));
                return None;
            }
            self.fetched += 1;
            self.cache.insert((tl, tile), bytes);
        }
        let bytes = &self.cache[&(tl, tile)];
        let off = ((first - tile * WIDTH as u64) * 32) as usize;
        let hashes: Vec<Hash> = bytes[off..off + (count as usize) * 32]
            .chunks_exact(32)
            .map(|c| c.try_into().unwrap_or([0; 32]))
            .collect();
        Some(mth(&hashes))
    }
}

fn path_of(t: &mut TileHashes<'_>, m: u64, lo: u64, hi: u64, out: &mut Vec<Hash>) -> Option<()> {
    let n = hi - lo;
    if n <= 1 {
        return Some(());
    }
    let k = 1u64 << (63 - (n - 1).leading_zeros());
    if m < k {
        path_of(t, m, lo, lo + k, out)?;
        out.push(subtree(&mut |l, i| t.complete(l, i), lo + k, hi)?);
    } else {
        path_of(t, m - k, lo + k, hi, out)?;
        out.push(subtree(&mut |l, i| t.complete(l, i), lo, lo + k)?);
    }
    Some(())
}

/// The RFC 6962 inclusion proof of leaf `index` in a tree of `size` leaves, from hash tiles
/// (`read(path)` fetches `tile/<L>/…`). Returns the proof and the number of tiles fetched.
/// Verify it against the signed root: the tiles are not trusted.
pub fn inclusion_from_tiles(
    index: u64,
    size: u64,
    read: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
) -> Result<(Vec<Hash>, usize), NoteError> {
    if index >= size || size > MAX_SIZE {
        return Err(err(format!("no leaf {index} in a tree of {size}")));
    }
    let mut t = TileHashes {
        size,
        read,
        cache: Default::default(),
        error: None,
        fetched: 0,
    };
    let mut out = Vec::new();
    match path_of(&mut t, index, 0, size, &mut out) {
        Some(()) => Ok((out, t.fetched)),
        None => Err(err(t.error.unwrap_or_else(|| "a tile is missing".into()))),
    }
}

fn subproof(
    t: &mut TileHashes<'_>,
    m: u64,
    lo: u64,
    hi: u64,
    complete_subtree: bool,
    out: &mut Vec<Hash>,
) -> Option<()> {
    let n = hi - lo;
    if m == n {
        if !complete_subtree {
            out.push(subtree(&mut |l, i| t.complete(l, i), lo, hi)?);
        }
        return Some(());
    }
    let k = 1u64 << (63 - (n - 1).leading_zeros());
    if m <= k {
        subproof(t, m, lo, lo + k, complete_subtree, out)?;
        out.push(subtree(&mut |l, i| t.complete(l, i), lo + k, hi)?);
    } else {
        subproof(t, m - k, lo + k, hi, false, out)?;
        out.push(subtree(&mut |l, i| t.complete(l, i), lo, lo + k)?);
    }
    Some(())
}

/// The RFC 6962 consistency proof from the first `old` leaves to `size`, from hash tiles.
pub fn consistency_from_tiles(
    old: u64,
    size: u64,
    read: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
) -> Result<Vec<Hash>, NoteError> {
    if old > size || size > MAX_SIZE {
        return Err(err(format!("no consistency proof from {old} to {size}")));
    }
    if old == 0 || old == size {
        return Ok(Vec::new());
    }
    let mut t = TileHashes {
        size,
        read,
        cache: Default::default(),
        error: None,
        fetched: 0,
    };
    let mut out = Vec::new();
    match subproof(&mut t, old, 0, size, true, &mut out) {
        Some(()) => Ok(out),
        None => Err(err(t.error.unwrap_or_else(|| "a tile is missing".into()))),
    }
}

/// The root hash of the first `size` leaves, from hash tiles (for consistency with a smaller
/// remembered checkpoint: compare with its root, after the tiles were checked against the
/// larger one by an inclusion proof or by this same computation at the larger size).
pub fn root_from_tiles(
    size: u64,
    read: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
) -> Result<Hash, NoteError> {
    if size == 0 {
        return Ok(super::merkle::empty_root());
    }
    if size > MAX_SIZE {
        return Err(err("log too large"));
    }
    let mut t = TileHashes {
        size,
        read,
        cache: Default::default(),
        error: None,
        fetched: 0,
    };
    subtree(&mut |l, i| t.complete(l, i), 0, size).ok_or_else(|| {
        err(t
            .error
            .clone()
            .unwrap_or_else(|| "a tile is missing".into()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::merkle::{inclusion_proof, tree_hash, verify_inclusion};
    use crate::log::tiles::Log;
    use std::collections::HashMap;

    /// The writer's files (flushed in several batches) equal the in-memory Log's, and proofs
    /// from tiles equal the reference proofs, at sizes around tile boundaries.
    #[test]
    fn writer_matches_the_reference_log_and_tile_proofs_verify() {
        for total in [1u64, 2, 255, 256, 257, 511, 512, 513, 65_536 + 300] {
            let mut w = TileWriter::new();
            let mut log = Log::new();
            let mut files: HashMap<String, Vec<u8>> = HashMap::new();
            for i in 0..total {
                let e = format!("entry {i}\n").into_bytes();
                w.append(e.clone()).unwrap();
                log.append(e).unwrap();
                if i % 97 == 0 || i + 1 == total {
                    files.extend(w.flush());
                }
            }
            assert_eq!(w.root(), tree_hash(log.leaves()), "root at {total}");
            for (path, bytes) in log.files() {
                assert_eq!(files.get(&path), Some(&bytes), "{path} at {total}");
            }
            let mut read = |p: &str| files.get(p).cloned();
            for index in [0, total / 2, total - 1] {
                let (proof, fetched) = inclusion_from_tiles(index, total, &mut read).unwrap();
                assert_eq!(
                    proof,
                    inclusion_proof(log.leaves(), index as usize),
                    "index {index} of {total}"
                );
                assert!(verify_inclusion(
                    &log.leaves()[index as usize],
                    index,
                    total,
                    &proof,
                    &w.root()
                ));
                assert!(fetched <= 6, "{fetched} tiles for one proof");
            }
            for old in [1, total / 3, total] {
                if old == 0 {
                    continue;
                }
                // Older sizes' partial tiles are kept, so older roots can be rebuilt too.
                let want = tree_hash(&log.leaves()[..old as usize]);
                if let Ok(got) = root_from_tiles(old, &mut read) {
                    assert_eq!(got, want, "root of {old}");
                }
            }
            for old in [1, total / 2, total - 1] {
                let want = crate::log::merkle::consistency_proof(log.leaves(), old as usize);
                assert_eq!(
                    consistency_from_tiles(old, total, &mut read).unwrap(),
                    want,
                    "{old} -> {total}"
                );
            }
            let resumed = TileWriter::resume(total, &mut read).unwrap();
            assert_eq!(resumed.root(), w.root());
        }
    }

    #[test]
    fn missing_or_wrong_sized_tiles_are_errors_not_panics() {
        let mut w = TileWriter::new();
        for i in 0..600u32 {
            w.append(i.to_be_bytes().to_vec()).unwrap();
        }
        let files: HashMap<String, Vec<u8>> = w.flush().into_iter().collect();
        let mut none = |_: &str| None;
        assert!(inclusion_from_tiles(5, 600, &mut none)
            .unwrap_err()
            .0
            .contains("missing"));
        let mut short = |p: &str| files.get(p).map(|b| b[..b.len() - 1].to_vec());
        assert!(inclusion_from_tiles(5, 600, &mut short).is_err());
        assert!(inclusion_from_tiles(600, 600, &mut |p: &str| files.get(p).cloned()).is_err());
        assert!(TileWriter::resume(600, &mut none).is_err());
    }
}
