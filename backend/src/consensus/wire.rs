//! What members send each other on Certus's channels (JSON; the engine's own channels carry
//! its votes and certificates in its encoding). Every message is authenticated by the
//! transport — it comes from the member whose key opened the connection — and everything
//! in it is checked before use: blocks against the chain, certificates against the genesis.

use serde::{Deserialize, Serialize};

use crate::ledger::block::Block;
use crate::ledger::hash::Digest;
use crate::ledger::transaction::Transaction;

/// On the sync channel.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type", deny_unknown_fields)]
pub enum Sync {
    /// The sender's head, every second: how peers know who is connected and how far; and
    /// the public URL its API answers at (where it serves its status lists).
    #[serde(rename_all = "camelCase")]
    Status {
        height: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        public_url: Option<String>,
    },
    /// Asks for the finalised blocks from `height` on.
    BlocksFrom { height: u64 },
    /// Finalised blocks, in height order, with their certificates.
    Blocks { blocks: Vec<Block> },
    /// Asks for a proposed block, not final yet, that the sender must vote on (or that
    /// lies between its head and one it must vote on) but never received; peers holding
    /// it send it on the blocks channel.
    BlockOf { hash: Digest },
}

/// On the mempool channel: transactions waiting in the sender's outbox.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pending {
    pub transactions: Vec<Transaction>,
}

/// Serialises a message (ledger types are strings, numbers and hex: it cannot fail).
pub fn encode(message: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(message).expect("wire messages serialise to JSON")
}
