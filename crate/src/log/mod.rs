//! Transparency logs, as C2SP specifies them (docs/SPEC.md "Release log"): signed notes and
//! their Ed25519 keys (`note`), checkpoints (`checkpoint`), RFC 6962 Merkle trees with
//! inclusion and consistency proofs (`merkle`), and the witness protocol's pure half
//! (`witness`: parsing an `add-checkpoint` request and deciding on it), and its client half
//! (`cosign`: what to send each witness and what its answer means). Pure like the rest of
//! the core: no I/O, no clock (times are passed in), builds for wasm32. The witness server
//! itself is an edge (`wheelsig witness serve`, in the CLI).

pub mod check;
pub mod checkpoint;
pub mod cosign;
pub mod index_check;
pub mod index_leaf;
pub mod merkle;
pub mod note;
pub mod policy;
pub mod proof;
pub mod release;
pub mod tilelog;
pub mod tiles;
pub mod witness;
