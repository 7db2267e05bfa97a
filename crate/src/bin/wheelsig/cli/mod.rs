//! CLI-only modules: HTTP, the first-use store, key sites and printing.
pub mod audit;
pub mod fetch;
pub mod index;
pub mod indexlog;
pub mod keysrc;
pub mod logstate;
pub mod objstore;
pub mod output;
pub mod site;
pub mod store;
pub mod witness;
