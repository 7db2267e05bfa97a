#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod audit;
pub mod display;
pub mod encoding;
pub mod index;
pub mod jwe;
pub mod jws;
pub mod keys;
pub mod limits;
pub mod lock;
pub mod log;
pub mod metadata;
pub mod names;
pub mod record;
pub mod report;
pub mod sign;
pub mod site;
pub mod time;
pub mod trust;
pub mod urls;
pub mod verify;
#[cfg(feature = "wasm")]
pub mod wasm;
/// `<dist-info>/WHEEL` parsing, and the binding of the file name's build and compatibility
/// tags to it.
pub mod wheel_file;
pub mod zip;
