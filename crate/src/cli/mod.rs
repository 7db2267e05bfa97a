//! CLI-only modules: HTTP, the first-use store, dates and printing.
pub mod fetch;
pub mod output;
pub mod store;
pub mod time;
