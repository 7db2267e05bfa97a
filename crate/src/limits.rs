//! Budgets for hostile input.
//!
//! Every size declared in a ZIP header is attacker-controlled, so the verifier never allocates
//! from one: it counts the bytes it actually inflates and stops at these limits. The defaults
//! sit well above the largest real wheels. For scale: torch 2.x for CUDA is ~540 MB
//! compressed, ~1.1 GB uncompressed, ~13,000 members, with one ~800 MB shared library; RECORD
//! for it is ~1.5 MB.
//!
//! Two defaults are PyPI's upload rules rather than sizes of real wheels: the compression
//! ratio and the refusal of per-entry comments (docs/STRICTNESS.md rules 10 and 11), so a
//! wheel PyPI would accept is never refused for either, and one it would refuse is not
//! accepted here.

use serde::{Deserialize, Serialize};

/// Resource limits for verifying one wheel. The numeric fields are upper bounds; hitting one
/// is a `limit-*` problem and makes the wheel `invalid`. `entry_comments` is a policy (a
/// rejected comment is `zip-entry-comment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Number of archive entries. Default 200,000 (15× torch's 13k members).
    pub max_entries: u64,
    /// Bytes of central directory held in memory. Default 64 MiB (torch's is ~1.5 MB).
    pub max_central_directory: u64,
    /// Bytes in one member name. Default 4,096 (Linux `PATH_MAX`).
    pub max_name_length: usize,
    /// Uncompressed bytes of one member. Default 8 GiB (the largest real members are ~1–2 GB
    /// CUDA libraries).
    pub max_member_size: u64,
    /// Uncompressed bytes of all members together. Default 32 GiB (torch: 1.1 GB).
    pub max_total_size: u64,
    /// Bytes of RECORD, which is held in memory. Default 64 MiB.
    pub max_record_size: u64,
    /// Bytes of one signature file (`RECORD.jws` or a detached `.jws`). Default 1 MiB
    /// (a signature is ~1 KB).
    pub max_signature_size: u64,
    /// Highest accepted overall compression ratio: the members' total declared uncompressed
    /// size over the size of the whole file, checked only when that total is above
    /// [`Limits::compression_ratio_floor`]. Default 50, PyPI's upload rule
    /// (`COMPRESSION_RATIO_THRESHOLD = 50` in pypi/warehouse `warehouse/forklift/legacy.py`,
    /// raised from 10 in pypi/warehouse#13967 after real wheels of JSON and interface
    /// descriptions hit it). Real wheels sit far below it: torch compresses ~2:1.
    pub max_compression_ratio: u64,
    /// Total declared uncompressed bytes at or below which the ratio is not checked.
    /// Default 64 MiB, PyPI's `COMPRESSION_RATIO_MIN_SIZE = 64 * ONE_MIB` (same file), so
    /// small, very compressible wheels pass as they do on upload.
    pub compression_ratio_floor: u64,
    /// Whether a central directory record may carry a per-entry file comment. Default
    /// [`EntryComments::Reject`], as PyPI has refused them on upload since 2025-10
    /// ("Comment in central directory", pypi/warehouse#18846, `warehouse/utils/zipfiles.py`).
    pub entry_comments: EntryComments,
}

/// Policy for per-entry file comments in central directory records. No build backend writes
/// them, and they are a place where ZIP parsers have disagreed (a reader that mis-skips the
/// comment reads the next record from the wrong offset), so the default rejects them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryComments {
    /// A record with a comment is a `zip-entry-comment` problem.
    #[default]
    Reject,
    /// Comments are read past and ignored.
    Allow,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 200_000,
            max_central_directory: 64 << 20,
            max_name_length: 4096,
            max_member_size: 8 << 30,
            max_total_size: 32 << 30,
            max_record_size: 64 << 20,
            max_signature_size: 1 << 20,
            max_compression_ratio: 50,
            compression_ratio_floor: 64 << 20,
            entry_comments: EntryComments::Reject,
        }
    }
}

/// Maximum bytes of `<dist-info>/WHEEL`, which is held in memory. Real WHEEL files are a few
/// hundred bytes; one that lists every manylinux and macOS tag of a wheel is still under 4 KiB.
/// Larger is a `wheel-bad-wheel-file` problem.
pub const MAX_WHEEL_FILE: u64 = 64 << 10;
/// Maximum bytes of a JWK Set document (a key URL response or key file).
pub const MAX_KEY_SET_BYTES: usize = 1 << 20;
/// Maximum number of keys in one JWK Set.
pub const MAX_KEYS: usize = 1000;
/// Maximum JSON nesting depth accepted anywhere (signatures, key sets, trust store).
pub const MAX_JSON_DEPTH: usize = 32;
