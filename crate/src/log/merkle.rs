//! RFC 6962 / RFC 9162 Merkle trees: leaf and node hashes, tree hashes, inclusion and
//! consistency proofs (generation from leaf hashes, and verification), and C2SP tlog-tiles
//! paths.

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// The root of the empty tree, SHA-256("").
pub fn empty_root() -> Hash {
    Sha256::digest(b"").into()
}

/// RFC 6962 leaf hash: SHA-256(0x00 || data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// RFC 6962 interior node: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two smaller than `n` (n ≥ 2).
fn split(n: usize) -> usize {
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// MTH(D[0:n]) from the leaf hashes (RFC 9162 §2.1.1).
pub fn tree_hash(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&tree_hash(&leaves[..k]), &tree_hash(&leaves[k..]))
        }
    }
}

/// The inclusion proof of leaf `index` in the tree of `leaves` (RFC 9162 §2.1.3.1).
pub fn inclusion_proof(leaves: &[Hash], index: usize) -> Vec<Hash> {
    let mut out = Vec::new();
    fn path(m: usize, d: &[Hash], out: &mut Vec<Hash>) {
        if d.len() <= 1 {
            return;
        }
        let k = split(d.len());
        if m < k {
            path(m, &d[..k], out);
            out.push(tree_hash(&d[k..]));
        } else {
            path(m - k, &d[k..], out);
            out.push(tree_hash(&d[..k]));
        }
    }
    if index < leaves.len() {
        path(index, leaves, &mut out);
    }
    out
}

/// The consistency proof from the first `old` leaves to all of `leaves` (RFC 9162 §2.1.4.1).
/// Empty when `old` is 0 or equals the size.
pub fn consistency_proof(leaves: &[Hash], old: usize) -> Vec<Hash> {
    fn sub(m: usize, d: &[Hash], first: bool, out: &mut Vec<Hash>) {
        if m == d.len() {
            if !first {
                out.push(tree_hash(d));
            }
            return;
        }
        let k = split(d.len());
        if m <= k {
            sub(m, &d[..k], first, out);
            out.push(tree_hash(&d[k..]));
        } else {
            sub(m - k, &d[k..], false, out);
            out.push(tree_hash(&d[..k]));
        }
    }
    let mut out = Vec::new();
    if old > 0 && old < leaves.len() {
        sub(old, leaves, true, &mut out);
    }
    out
}

/// Whether `proof` shows `leaf` at `index` in the tree of `size` with `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size || proof.len() > 64 {
        return false;
    }
    let (mut f, mut s, mut r) = (index, size - 1, *leaf);
    for p in proof {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}

/// Whether `proof` shows the tree (`old`, `old_root`) is a prefix of (`new`, `new_root`)
/// (RFC 9162 §2.1.4.2). Old size 0 is consistent with anything given an empty proof; equal
/// sizes need equal roots and an empty proof.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old > new || proof.len() > 64 {
        return false;
    }
    if old == 0 {
        return proof.is_empty() && *old_root == empty_root();
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    if proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    fr == *old_root && sr == *new_root && s == 0
}

/// C2SP tlog-tiles path of tile `n` at `level` (`None`: the entry bundle) of width `width`
/// (256 = full): `tile/<L>/<N>[.p/<W>]`, N in zero-padded 3-digit segments, `x`-prefixed
/// except the last (1234067 → `x001/x234/067`).
pub fn tile_path(level: Option<u8>, n: u64, width: u16) -> String {
    let mut s = format!("{:03}", n % 1000);
    let mut m = n / 1000;
    while m > 0 {
        s = format!("x{:03}/{s}", m % 1000);
        m /= 1000;
    }
    let l = level.map_or_else(|| "entries".to_string(), |l| l.to_string());
    if width >= 256 {
        format!("tile/{l}/{s}")
    } else {
        format!("tile/{l}/{s}.p/{width}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
            .collect()
    }

    fn b64s(hs: &[Hash]) -> Vec<String> {
        hs.iter().map(|h| STANDARD.encode(h)).collect()
    }

    /// Values computed by Go's golang.org/x/mod/sumdb/tlog over leaves "leaf 0".."leaf 999".
    #[test]
    fn matches_go_sumdb() {
        let l = leaves(1000);
        assert_eq!(
            STANDARD.encode(tree_hash(&l)),
            "L/M/udjxT4nKMGKJYzM2oWj/P0Uy6PdBoAGdy0wdYKE="
        );
        assert_eq!(
            b64s(&inclusion_proof(&l, 617))[..3],
            [
                "g2n7eHkpo/kSvZRkjPrIWRLLdoMREHy/zH/LV+ovvuc=",
                "hAniHCBoRga1dAXyLIRGOMqq8w6KEaHewgUlAjCYqZo=",
                "auTbPbwP6f6Ba0O4fUM2jHel6QFvxkd2/lAqYHO1Cwg="
            ]
        );
        assert_eq!(
            b64s(&consistency_proof(&l, 600)),
            [
                "lE1OGr7skwUQjB5eyYJKwpjmugETxPBaWDvBRGOsBGE=",
                "9BYgdsKsQMd7g54mJhL29Vyg2Q6Td0nZ9+Q3EiKQRjs=",
                "2OStEZ1jKIAZGK44JR+EPhzyRQKA0QnqjD4IWzSpWg0=",
                "zXXVb7CQbiBESK5qm9vwt8gLANCD9LZIdbrDPfqTz6E=",
                "8vjP0WxDproKTKL8LGfcs4fbnUYrKnyudLm14d4/nvk=",
                "2gnlIf4PJ+B5Jo3IZKJjMdAn4UqZZxVNSu71FVNu+iY=",
                "s6+KE36e8vbS7sCkXOwnnBX3dqUTi9kKPcKdNjKyJyU=",
                "2VeYcxZqpZvI032oZJI79j2s8P/xnqLKumOyDKuCzTA="
            ]
        );
        assert_eq!(
            STANDARD.encode(empty_root()),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn every_proof_up_to_80_verifies_and_tampering_fails() {
        let l = leaves(80);
        for n in 1..=l.len() {
            let t = &l[..n];
            let root = tree_hash(t);
            for m in 0..n {
                let p = inclusion_proof(t, m);
                assert!(
                    verify_inclusion(&t[m], m as u64, n as u64, &p, &root),
                    "inclusion {m}@{n}"
                );
                if m + 1 < n {
                    assert!(!verify_inclusion(&t[m + 1], m as u64, n as u64, &p, &root));
                }
            }
            for m in 0..=n {
                let p = consistency_proof(t, m);
                let old = tree_hash(&t[..m]);
                assert!(
                    verify_consistency(m as u64, n as u64, &old, &root, &p),
                    "consistency {m}->{n}"
                );
                if m > 0 && m < n {
                    let mut bad = p.clone();
                    bad[0][0] ^= 1;
                    assert!(!verify_consistency(m as u64, n as u64, &old, &root, &bad));
                    assert!(!verify_consistency(m as u64, n as u64, &root, &root, &p));
                }
            }
        }
    }

    #[test]
    fn tile_paths() {
        assert_eq!(tile_path(Some(0), 1234067, 256), "tile/0/x001/x234/067");
        assert_eq!(tile_path(Some(1), 1234067, 17), "tile/1/x001/x234/067.p/17");
        assert_eq!(tile_path(None, 3, 232), "tile/entries/003.p/232");
        assert_eq!(tile_path(Some(0), 1000, 256), "tile/0/x001/000");
    }
}
