#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod encoding;
pub mod jws;
pub mod keys;
pub mod limits;
pub mod lock;
pub mod names;
pub mod record;
pub mod report;
pub mod sign;
pub mod site;
pub mod time;
pub mod trust;
pub mod verify;
#[cfg(feature = "wasm")]
pub mod wasm;
pub mod zip;
