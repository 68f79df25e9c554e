//! SHA-256 digests and the domain-separation prefixes of everything the ledger hashes.
//!
//! Every hash the chain commits to starts with a prefix naming what is hashed, so a value
//! of one kind can never be passed off as another (a leaf as an inner node, a transaction
//! as a block header). The Merkle prefixes are RFC 6962's single bytes; the others are
//! ASCII labels ending in a NUL byte.

use alloc::string::String;
use core::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

/// RFC 6962 §2.1: prefix of a Merkle leaf hash.
pub const MERKLE_LEAF: &[u8] = &[0x00];
/// RFC 6962 §2.1: prefix of a Merkle inner-node hash.
pub const MERKLE_NODE: &[u8] = &[0x01];
/// Prefix of a credential commitment (over the secured credential's bytes).
pub const CREDENTIAL_COMMITMENT: &[u8] = b"certus/credential-commitment/v1\0";
/// Prefix of a status-list version's hash (over the signed list credential's bytes).
pub const STATUS_LIST_VERSION: &[u8] = b"certus/status-list-version/v1\0";
/// Prefix of a `did:certus` operation's hash (over its JWS bytes).
pub const DID_OPERATION: &[u8] = b"certus/did-operation/v1\0";
/// Prefix of a trust-registry statement's hash (over its JWS bytes).
pub const TRUST_STATEMENT: &[u8] = b"certus/trust-statement/v1\0";
/// Prefix of a reliance record's hash (over its JWS bytes).
pub const RELIANCE_RECORD: &[u8] = b"certus/reliance-record/v1\0";
/// Prefix of a reliance notice's hash (over its JWS bytes).
pub const RELIANCE_NOTICE: &[u8] = b"certus/reliance-notice/v1\0";
/// Prefix of an erasure receipt's hash (over its JWS bytes).
pub const ERASURE_RECEIPT: &[u8] = b"certus/erasure-receipt/v1\0";
/// Prefix of the salted hash naming an erased data subject or record ([`erasure_tag`]).
pub const ERASURE_TAG: &[u8] = b"certus/erasure-tag/v1\0";
/// Prefix of a block header hash (the block's identity and what validators sign).
pub const BLOCK_HEADER: &[u8] = b"certus/block-header/v1\0";
/// Prefix of an audit-log entry's chained hash.
pub const AUDIT_ENTRY: &[u8] = b"certus/audit-entry/v1\0";
/// Prefix of a validator-set hash.
pub const VALIDATOR_SET: &[u8] = b"certus/validator-set/v1\0";
/// Prefix of the hash that derives a suspension list's id from its revocation list's.
pub const STATUS_LIST_PAIR: &[u8] = b"certus/status-list-pair/v1\0";
/// Prefix of what validators sign to change the validator set.
pub const VALIDATOR_CHANGE: &[u8] = b"certus/validator-change/v1\0";

/// The salted hash naming an erased data subject or record on the chain: SHA-256 over the
/// prefix, 16 random bytes and the id. The salt is kept by no one, so the hash links to
/// nothing but the row that stores it.
pub fn erasure_tag(salt: &[u8; 16], id: &str) -> Digest {
    Digest::of(&[ERASURE_TAG, salt, id.as_bytes()])
}

/// A SHA-256 digest. Equality is constant-time: digests are compared against values an
/// attacker supplies (receipts, proofs).
#[derive(Clone, Copy)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The all-zero digest: the previous hash of the genesis block.
    pub const ZERO: Digest = Digest([0; 32]);

    /// Wraps 32 bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// SHA-256 of the concatenation of `parts`, the first of which is normally a prefix
    /// from this module.
    pub fn of(parts: &[&[u8]]) -> Self {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update(part);
        }
        Self(hasher.finalize().into())
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex, the form used in JSON and URLs.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, InvalidDigest> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| InvalidDigest)?;
        Ok(Self(bytes))
    }

    /// Parses 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, InvalidDigest> {
        Ok(Self(bytes.try_into().map_err(|_| InvalidDigest)?))
    }
}

/// Text or bytes that are not a SHA-256 digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a SHA-256 digest (64 hex digits)")]
pub struct InvalidDigest;

impl PartialEq for Digest {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for Digest {}

impl core::hash::Hash for Digest {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl core::str::FromStr for Digest {
    type Err = InvalidDigest;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_hex(s)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_hash_is_sha256_of_nothing() {
        assert_eq!(
            Digest::of(&[]).to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn prefixes_separate_domains() {
        let data: &[u8] = b"same bytes";
        assert_ne!(
            Digest::of(&[CREDENTIAL_COMMITMENT, data]),
            Digest::of(&[BLOCK_HEADER, data])
        );
        assert_ne!(
            Digest::of(&[MERKLE_LEAF, data]),
            Digest::of(&[MERKLE_NODE, data])
        );
    }

    #[test]
    fn hex_round_trips_and_rejects_other_lengths() {
        let d = Digest::of(&[b"x"]);
        assert_eq!(Digest::from_hex(&d.to_hex()), Ok(d));
        assert_eq!(Digest::from_hex("abcd"), Err(InvalidDigest));
        assert_eq!(Digest::from_hex(&"zz".repeat(32)), Err(InvalidDigest));
    }
}
