//! The Certus ledger core: what the chain is, independent of where it is stored or how
//! it travels.
//!
//! - [`hash`]: SHA-256 digests and every domain-separation prefix the chain hashes under;
//! - [`merkle`]: RFC 6962 / RFC 9162 trees, inclusion and consistency proofs;
//! - [`transaction`]: the transaction kinds and their one binary encoding;
//! - [`block`]: headers, validator sets and signatures, the genesis;
//! - [`epoch`]: a consortium's validator-set changes, and the epochs they make;
//! - [`receipt`]: inclusion receipts and signed checkpoints (C2SP signed notes);
//! - [`audit`]: the audit log's hash chain, whose head the chain anchors.
//!
//! The crate is pure: no I/O, clock, randomness or allocator beyond `alloc`, so the
//! server, the offline `certus receipt verify` and the web app (wasm32) all check the
//! chain with the same code. Signing goes through [`block::ValidatorSigner`], so a
//! validator key may live in memory or in a hardware token.

#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod audit;
pub mod block;
pub mod epoch;
pub mod hash;
pub mod merkle;
pub mod receipt;
pub mod transaction;

pub use hash::Digest;
