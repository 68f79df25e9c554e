//! The built-in chain in the server: the pure core ([`certus_ledger`]: hashes, Merkle
//! trees, transactions, blocks, receipts) wrapped with its store (outbox, blocks), the
//! block producer and export/import.

pub use certus_ledger::{audit, block, epoch, hash, merkle, receipt, transaction};

pub mod portable;
pub mod producer;
pub mod store;
