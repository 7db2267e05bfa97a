//! wheelsig core (temporary lib root while modules land)
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
pub mod encoding;
pub mod keys;
pub mod limits;
pub mod names;
pub mod record;
pub mod report;
pub mod jws;
pub mod zip;
pub mod trust;
pub mod verify;
pub mod sign;
#[cfg(feature = "wasm")]
pub mod wasm;
