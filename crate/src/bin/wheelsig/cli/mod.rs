//! CLI-only modules: HTTP, the first-use store, key sites and printing.
pub mod fetch;
pub mod index;
pub mod keysrc;
pub mod logstate;
pub mod output;
pub mod site;
pub mod store;
pub mod witness;

