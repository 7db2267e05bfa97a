//! Budgets for hostile input.
//!
//! Every size declared in a ZIP header is attacker-controlled, so the verifier never allocates
//! from one: it counts the bytes it actually inflates and stops at these limits. The defaults
//! sit well above the largest real wheels. For scale: torch 2.x for CUDA is ~540 MB
//! compressed, ~1.1 GB uncompressed, ~13,000 members, with one ~800 MB shared library; RECORD
//! for it is ~1.5 MB.

use serde::{Deserialize, Serialize};

/// Resource limits for verifying one wheel. All fields are upper bounds; hitting one is a
/// `limit-*` problem and makes the wheel `invalid`.
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
        }
    }
}

/// Maximum bytes of a JWK Set document (a key URL response or key file).
pub const MAX_KEY_SET_BYTES: usize = 1 << 20;
/// Maximum number of keys in one JWK Set.
pub const MAX_KEYS: usize = 1000;
/// Maximum JSON nesting depth accepted anywhere (signatures, key sets, trust store).
pub const MAX_JSON_DEPTH: usize = 32;
