//! The built-in chain.
//!
//! The core — [`hash`], [`merkle`], [`transaction`], [`block`], [`receipt`] — is pure: no
//! database, clock or network, so it can be checked by anyone with the genesis and reused
//! by the offline `certus receipt verify`. The store and the block producer wrap it.

pub mod block;
pub mod hash;
pub mod merkle;
pub mod portable;
pub mod producer;
pub mod receipt;
pub mod store;
pub mod transaction;
