//! The audit log's hash chain: each entry's hash covers the one before it, and the chain's
//! head is anchored from time to time as a [`crate::transaction::Transaction::AuditCheckpoint`],
//! so an entry altered or dropped after its checkpoint no longer leads to the anchored head.

use alloc::vec;
use alloc::vec::Vec;

use crate::hash::{Digest, AUDIT_ENTRY};

/// The fields of an entry that its hash covers, owned (`Entry<String>`) or borrowed
/// (`Entry<&str>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<S> {
    pub tenant_id: S,
    pub actor: S,
    pub action: S,
    pub subject: S,
    /// When it happened, milliseconds since the Unix epoch (UTC).
    pub at_ms: i64,
}

impl<S: AsRef<str>> Entry<S> {
    /// The chained hash of this entry at `position` after `previous`: SHA-256 over the
    /// prefix, the previous hash, the position, the time and the length-prefixed text
    /// fields.
    pub fn hash(&self, previous: &Digest, position: i64) -> Digest {
        let fields = [
            self.tenant_id.as_ref(),
            self.actor.as_ref(),
            self.action.as_ref(),
            self.subject.as_ref(),
        ];
        let lengths: Vec<[u8; 4]> = fields
            .iter()
            .map(|f| (f.len() as u32).to_be_bytes())
            .collect();
        let position = position.to_be_bytes();
        let at = self.at_ms.to_be_bytes();
        let mut parts: Vec<&[u8]> = vec![AUDIT_ENTRY, previous.as_bytes(), &position, &at];
        for (field, length) in fields.iter().zip(&lengths) {
            parts.push(length);
            parts.push(field.as_bytes());
        }
        Digest::of(&parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(subject: &str) -> Entry<&str> {
        Entry {
            tenant_id: "t",
            actor: "user:1",
            action: "credential.issue",
            subject,
            at_ms: 1,
        }
    }

    #[test]
    fn the_hash_chains_and_covers_every_field() {
        let first = entry("a").hash(&Digest::ZERO, 1);
        assert_ne!(first, entry("a").hash(&Digest::ZERO, 2), "position");
        assert_ne!(first, entry("a").hash(&first, 1), "previous");
        assert_ne!(first, entry("b").hash(&Digest::ZERO, 1), "subject");
        // Length prefixes: moving a character between fields changes the hash.
        let shifted = Entry {
            tenant_id: "tu",
            actor: "ser:1",
            ..entry("a")
        };
        assert_ne!(first, shifted.hash(&Digest::ZERO, 1));
    }
}
