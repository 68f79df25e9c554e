//! Ledger transactions: only hashes and public data, never a name, a claim value or a
//! holder DID.
//!
//! Each transaction has one binary encoding, which is the Merkle leaf data of its block:
//! a kind byte followed by the kind's fixed fields (integers big-endian). Kind bytes are
//! never reused (0x07 and 0x08 are reserved for erasure receipts), so old receipts keep
//! their meaning.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::epoch::ValidatorChange;
use super::hash::{
    Digest, CREDENTIAL_COMMITMENT, DID_OPERATION, ERASURE_RECEIPT, RELIANCE_NOTICE,
    RELIANCE_RECORD, STATUS_LIST_PAIR, STATUS_LIST_VERSION, TRUST_STATEMENT,
};
use super::merkle::leaf_hash;

/// The kind byte that starts a transaction's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// [`Transaction::CredentialAnchor`].
    CredentialAnchor = 0x01,
    /// [`Transaction::AuditCheckpoint`].
    AuditCheckpoint = 0x02,
    /// [`Transaction::StatusListVersion`].
    StatusListVersion = 0x03,
    /// [`Transaction::DidOperation`].
    DidOperation = 0x04,
    /// [`Transaction::TrustStatement`].
    TrustStatement = 0x05,
    /// [`Transaction::SchemaRegistration`].
    SchemaRegistration = 0x06,
    // Reserved: 0x07 (key compromise: a DID operation instead).
    /// [`Transaction::ErasureReceipt`].
    ErasureReceipt = 0x08,
    /// [`Transaction::RelianceRecord`].
    RelianceRecord = 0x09,
    /// [`Transaction::NodeAuditCheckpoint`].
    NodeAuditCheckpoint = 0x0a,
    /// [`Transaction::ValidatorChange`].
    ValidatorChange = 0x0b,
    /// [`Transaction::RelianceNotice`].
    RelianceNotice = 0x0c,
}

impl From<Kind> for i16 {
    fn from(kind: Kind) -> Self {
        i16::from(kind as u8)
    }
}

/// A ledger transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum Transaction {
    /// A credential was issued. The commitment ([`credential_commitment`]) is over the
    /// secured credential, which carries a random id: without the credential no one can
    /// compute it or link it to the credential's id.
    #[serde(rename_all = "camelCase")]
    CredentialAnchor { commitment: Digest },
    /// The head of the audit log after `sequence` entries.
    #[serde(rename_all = "camelCase")]
    AuditCheckpoint { sequence: u64, head: Digest },
    /// On a consortium's chain, where every member keeps its own audit log: the head of
    /// the log of the node whose validator key is `node`, after `sequence` entries.
    #[serde(rename_all = "camelCase")]
    NodeAuditCheckpoint {
        node: Digest,
        sequence: u64,
        head: Digest,
    },
    /// Version `version` of the status list `list` (its random 16-byte id, hex in URLs)
    /// was published; `hash` ([`status_list_hash`]) is over the signed list credential
    /// exactly as served.
    #[serde(rename_all = "camelCase")]
    StatusListVersion {
        list: ListId,
        version: u64,
        hash: Digest,
    },
    /// A `did:certus` operation: the compact JWS exactly as signed (ASCII), whose payload
    /// holds only the DID, public keys and service endpoints (see `did::certus`).
    #[serde(rename_all = "camelCase")]
    DidOperation { operation: String },
    /// A trust-registry statement — an accreditation, a delegation or the revocation of
    /// one — as the compact JWS its grantor signed (see `trust`).
    #[serde(rename_all = "camelCase")]
    TrustStatement { statement: String },
    /// A credential type's JSON Schema registered by the root authority: its SHA-256 (of
    /// the published file) and its type name.
    #[serde(rename_all = "camelCase")]
    SchemaRegistration { hash: Digest, name: String },
    /// An entry of the reliance register (an institution relied on another's KYC): the
    /// hash ([`reliance_record_hash`]) of the record as its relying institution signed it.
    #[serde(rename_all = "camelCase")]
    RelianceRecord { hash: Digest },
    /// Personal data was erased: `erased` is the salted hash (`privacy::tag`) of the data
    /// subject, or of one record, whose data is gone, and `receipt` the hash
    /// ([`erasure_receipt_hash`]) of the receipt the institution signed. A node restored
    /// from an older backup re-applies the erasure from this alone.
    #[serde(rename_all = "camelCase")]
    ErasureReceipt { erased: Digest, receipt: Digest },
    /// A consortium's validators change from the next block on (see [`crate::epoch`]).
    ValidatorChange(ValidatorChange),
    /// What every member may know of a reliance record (decision 21): the compact JWS its
    /// relying institution signed, naming the relying institution, the KYC issuer, the
    /// assurance, the month and the record's hash — no person, no date finer than the
    /// month. KYC issuers count the reliance on their KYC from these.
    #[serde(rename_all = "camelCase")]
    RelianceNotice { notice: String },
}

/// True for the bytes of a compact JWS: three non-empty base64url parts.
fn is_compact_jws(text: &str) -> bool {
    text.split('.').count() == 3
        && text.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// A status list's id: 16 random bytes (a revocation list's) or derived from its pair's
/// ([`ListId::suspension_partner`]), written as 32 lower-case hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListId(pub [u8; 16]);

impl ListId {
    /// Parses 32 lower-case hex digits.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != 32 || text.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        hex::decode(text).ok()?.try_into().ok().map(Self)
    }

    /// The suspension list paired with this revocation list: the first 16 bytes of
    /// SHA-256 over [`STATUS_LIST_PAIR`] and this id. An SD-JWT VC names only its
    /// revocation list; any verifier finds the suspension list from it.
    pub fn suspension_partner(&self) -> Self {
        let digest = Digest::of(&[STATUS_LIST_PAIR, &self.0]);
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest.as_bytes()[..16]);
        Self(id)
    }
}

impl core::fmt::Display for ListId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl Serialize for ListId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ListId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom("not a status list id"))
    }
}

/// Bytes that are not a transaction encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Empty input, or a kind byte no release has defined.
    #[error("unknown transaction kind")]
    UnknownKind,
    /// The fields are shorter or longer than the kind requires.
    #[error("transaction has the wrong length for its kind")]
    WrongLength,
}

impl Transaction {
    /// The kind byte.
    pub fn kind(&self) -> Kind {
        match self {
            Self::CredentialAnchor { .. } => Kind::CredentialAnchor,
            Self::AuditCheckpoint { .. } => Kind::AuditCheckpoint,
            Self::NodeAuditCheckpoint { .. } => Kind::NodeAuditCheckpoint,
            Self::StatusListVersion { .. } => Kind::StatusListVersion,
            Self::DidOperation { .. } => Kind::DidOperation,
            Self::TrustStatement { .. } => Kind::TrustStatement,
            Self::SchemaRegistration { .. } => Kind::SchemaRegistration,
            Self::RelianceRecord { .. } => Kind::RelianceRecord,
            Self::ErasureReceipt { .. } => Kind::ErasureReceipt,
            Self::ValidatorChange(_) => Kind::ValidatorChange,
            Self::RelianceNotice { .. } => Kind::RelianceNotice,
        }
    }

    /// The canonical encoding (the Merkle leaf data).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.kind() as u8];
        match self {
            Self::CredentialAnchor { commitment } => out.extend_from_slice(commitment.as_bytes()),
            Self::AuditCheckpoint { sequence, head } => {
                out.extend_from_slice(&sequence.to_be_bytes());
                out.extend_from_slice(head.as_bytes());
            }
            Self::NodeAuditCheckpoint {
                node,
                sequence,
                head,
            } => {
                out.extend_from_slice(node.as_bytes());
                out.extend_from_slice(&sequence.to_be_bytes());
                out.extend_from_slice(head.as_bytes());
            }
            Self::StatusListVersion {
                list,
                version,
                hash,
            } => {
                out.extend_from_slice(&list.0);
                out.extend_from_slice(&version.to_be_bytes());
                out.extend_from_slice(hash.as_bytes());
            }
            Self::DidOperation { operation: jws }
            | Self::TrustStatement { statement: jws }
            | Self::RelianceNotice { notice: jws } => out.extend_from_slice(jws.as_bytes()),
            Self::SchemaRegistration { hash, name } => {
                out.extend_from_slice(hash.as_bytes());
                out.extend_from_slice(name.as_bytes());
            }
            Self::RelianceRecord { hash } => out.extend_from_slice(hash.as_bytes()),
            Self::ErasureReceipt { erased, receipt } => {
                out.extend_from_slice(erased.as_bytes());
                out.extend_from_slice(receipt.as_bytes());
            }
            Self::ValidatorChange(change) => change.encode(&mut out),
        }
        out
    }

    /// Parses a canonical encoding; anything else is refused.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (kind, fields) = bytes.split_first().ok_or(DecodeError::UnknownKind)?;
        let digest = |b: &[u8]| Digest::from_slice(b).map_err(|_| DecodeError::WrongLength);
        match *kind {
            k if k == Kind::CredentialAnchor as u8 => Ok(Self::CredentialAnchor {
                commitment: digest(fields)?,
            }),
            k if k == Kind::AuditCheckpoint as u8 => {
                if fields.len() != 40 {
                    return Err(DecodeError::WrongLength);
                }
                let (sequence, head) = fields.split_at(8);
                let sequence =
                    u64::from_be_bytes(sequence.try_into().map_err(|_| DecodeError::WrongLength)?);
                Ok(Self::AuditCheckpoint {
                    sequence,
                    head: digest(head)?,
                })
            }
            k if k == Kind::NodeAuditCheckpoint as u8 => {
                if fields.len() != 72 {
                    return Err(DecodeError::WrongLength);
                }
                let (node, rest) = fields.split_at(32);
                let (sequence, head) = rest.split_at(8);
                Ok(Self::NodeAuditCheckpoint {
                    node: digest(node)?,
                    sequence: u64::from_be_bytes(
                        sequence.try_into().map_err(|_| DecodeError::WrongLength)?,
                    ),
                    head: digest(head)?,
                })
            }
            k if k == Kind::StatusListVersion as u8 => {
                if fields.len() != 56 {
                    return Err(DecodeError::WrongLength);
                }
                let (list, rest) = fields.split_at(16);
                let (version, hash) = rest.split_at(8);
                Ok(Self::StatusListVersion {
                    list: ListId(list.try_into().map_err(|_| DecodeError::WrongLength)?),
                    version: u64::from_be_bytes(
                        version.try_into().map_err(|_| DecodeError::WrongLength)?,
                    ),
                    hash: digest(hash)?,
                })
            }
            k if k == Kind::DidOperation as u8
                || k == Kind::TrustStatement as u8
                || k == Kind::RelianceNotice as u8 =>
            {
                let jws = core::str::from_utf8(fields)
                    .ok()
                    .filter(|t| is_compact_jws(t))
                    .ok_or(DecodeError::WrongLength)?
                    .to_owned();
                Ok(if k == Kind::DidOperation as u8 {
                    Self::DidOperation { operation: jws }
                } else if k == Kind::TrustStatement as u8 {
                    Self::TrustStatement { statement: jws }
                } else {
                    Self::RelianceNotice { notice: jws }
                })
            }
            k if k == Kind::SchemaRegistration as u8 => {
                if fields.len() <= 32 {
                    return Err(DecodeError::WrongLength);
                }
                let (hash, name) = fields.split_at(32);
                let name = core::str::from_utf8(name)
                    .ok()
                    .filter(|n| n.len() <= 128 && n.bytes().all(|b| b.is_ascii_alphanumeric()))
                    .ok_or(DecodeError::WrongLength)?;
                Ok(Self::SchemaRegistration {
                    hash: digest(hash)?,
                    name: name.to_owned(),
                })
            }
            k if k == Kind::RelianceRecord as u8 => Ok(Self::RelianceRecord {
                hash: digest(fields)?,
            }),
            k if k == Kind::ErasureReceipt as u8 => {
                if fields.len() != 64 {
                    return Err(DecodeError::WrongLength);
                }
                let (erased, receipt) = fields.split_at(32);
                Ok(Self::ErasureReceipt {
                    erased: digest(erased)?,
                    receipt: digest(receipt)?,
                })
            }
            k if k == Kind::ValidatorChange as u8 => {
                ValidatorChange::decode(fields).map(Self::ValidatorChange)
            }
            _ => Err(DecodeError::UnknownKind),
        }
    }

    /// The commitment a transaction anchors, by which its receipt is looked up: a
    /// credential's, a status-list version's hash, or a DID operation's hash.
    pub fn commitment(&self) -> Option<Digest> {
        match self {
            Self::CredentialAnchor { commitment } => Some(*commitment),
            Self::StatusListVersion { hash, .. } => Some(*hash),
            Self::DidOperation { operation } => Some(did_operation_hash(operation)),
            Self::TrustStatement { statement } => Some(statement_hash(statement)),
            Self::RelianceNotice { notice } => Some(reliance_notice_hash(notice)),
            Self::SchemaRegistration { hash, .. }
            | Self::RelianceRecord { hash }
            | Self::ErasureReceipt { receipt: hash, .. } => Some(*hash),
            Self::AuditCheckpoint { .. }
            | Self::NodeAuditCheckpoint { .. }
            | Self::ValidatorChange(_) => None,
        }
    }

    /// The transaction's Merkle leaf hash, which also identifies it.
    pub fn leaf_hash(&self) -> Digest {
        leaf_hash(&self.encode())
    }
}

/// The commitment anchoring a credential: SHA-256 over the domain prefix and the secured
/// credential's bytes (see `issuance::anchor` for which bytes each format commits to).
pub fn credential_commitment(secured: &[u8]) -> Digest {
    Digest::of(&[CREDENTIAL_COMMITMENT, secured])
}

/// The hash of a `did:certus` operation (over its JWS bytes): its commitment, and what the
/// next operation of the DID names as its predecessor.
pub fn did_operation_hash(jws: &str) -> Digest {
    Digest::of(&[DID_OPERATION, jws.as_bytes()])
}

/// The hash of a trust-registry statement (over its JWS bytes): its commitment.
pub fn statement_hash(jws: &str) -> Digest {
    Digest::of(&[TRUST_STATEMENT, jws.as_bytes()])
}

/// The hash anchoring a reliance record: SHA-256 over the domain prefix and its JWS bytes.
pub fn reliance_record_hash(jws: &str) -> Digest {
    Digest::of(&[RELIANCE_RECORD, jws.as_bytes()])
}

/// The hash of a reliance notice (over its JWS bytes): its commitment.
pub fn reliance_notice_hash(jws: &str) -> Digest {
    Digest::of(&[RELIANCE_NOTICE, jws.as_bytes()])
}

/// The hash anchoring an erasure receipt: SHA-256 over the domain prefix and its JWS bytes.
pub fn erasure_receipt_hash(jws: &str) -> Digest {
    Digest::of(&[ERASURE_RECEIPT, jws.as_bytes()])
}

/// The hash anchoring a status-list version: SHA-256 over the domain prefix and the signed
/// list credential's bytes as served.
pub fn status_list_hash(served: &[u8]) -> Digest {
    Digest::of(&[STATUS_LIST_VERSION, served])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examples() -> Vec<Transaction> {
        vec![
            Transaction::CredentialAnchor {
                commitment: credential_commitment(b"a secured credential"),
            },
            Transaction::AuditCheckpoint {
                sequence: 42,
                head: Digest::of(&[b"audit head"]),
            },
            Transaction::NodeAuditCheckpoint {
                node: Digest::from_bytes([9; 32]),
                sequence: 43,
                head: Digest::of(&[b"a member's audit head"]),
            },
            Transaction::StatusListVersion {
                list: ListId([7; 16]),
                version: 3,
                hash: status_list_hash(b"a list credential"),
            },
            Transaction::DidOperation {
                operation: "eyJh.eyJi.c2ln".into(),
            },
            Transaction::TrustStatement {
                statement: "eyJj.eyJk.c2ln".into(),
            },
            Transaction::SchemaRegistration {
                hash: Digest::of(&[b"a schema"]),
                name: "KycCredential".into(),
            },
            Transaction::RelianceRecord {
                hash: reliance_record_hash("eyJl.eyJm.c2ln"),
            },
            Transaction::ErasureReceipt {
                erased: Digest::of(&[b"a salted subject hash"]),
                receipt: erasure_receipt_hash("eyJn.eyJv.c2ln"),
            },
            Transaction::RelianceNotice {
                notice: "eyJw.eyJx.c2ln".into(),
            },
        ]
    }

    #[test]
    fn encodings_round_trip_and_start_with_their_kind() {
        for tx in examples() {
            let bytes = tx.encode();
            assert_eq!(bytes[0], tx.kind() as u8);
            assert_eq!(Transaction::decode(&bytes), Ok(tx));
        }
    }

    #[test]
    fn malformed_encodings_are_refused() {
        let fixed_length = examples().into_iter().filter(|tx| {
            matches!(
                tx.kind(),
                Kind::CredentialAnchor
                    | Kind::AuditCheckpoint
                    | Kind::NodeAuditCheckpoint
                    | Kind::StatusListVersion
                    | Kind::RelianceRecord
                    | Kind::ErasureReceipt
            )
        });
        for tx in fixed_length {
            let bytes = tx.encode();
            assert_eq!(
                Transaction::decode(&bytes[..bytes.len() - 1]),
                Err(DecodeError::WrongLength)
            );
            let mut longer = bytes.clone();
            longer.push(0);
            assert_eq!(Transaction::decode(&longer), Err(DecodeError::WrongLength));
        }
        assert_eq!(Transaction::decode(&[]), Err(DecodeError::UnknownKind));
        for not_a_jws in [
            &b""[..],
            b"abc",
            b"a.b",
            b"a..c",
            b"a.b.c\0",
            b"a.b.c.d",
            b"a.b.{}",
        ] {
            for kind in [
                Kind::DidOperation,
                Kind::TrustStatement,
                Kind::RelianceNotice,
            ] {
                let bytes = [&[kind as u8][..], not_a_jws].concat();
                assert_eq!(Transaction::decode(&bytes), Err(DecodeError::WrongLength));
            }
        }
        let hash = [0u8; 32];
        for bad_name in [&b""[..], b"Kyc Credential", b"Kyc\xff"] {
            let bytes = [&[Kind::SchemaRegistration as u8][..], &hash, bad_name].concat();
            assert_eq!(Transaction::decode(&bytes), Err(DecodeError::WrongLength));
        }
        for reserved in [0x07, 0x0d] {
            assert_eq!(
                Transaction::decode(&[reserved; 33]),
                Err(DecodeError::UnknownKind)
            );
        }
    }

    #[test]
    fn a_suspension_list_id_is_derived_from_its_revocation_list_id() {
        // SHA-256("certus/status-list-pair/v1\0" ‖ 16 zero bytes), first 16 bytes.
        let zero = ListId([0; 16]);
        assert_eq!(
            alloc::format!("{}", zero.suspension_partner()),
            "aae0acd6ee140526b890fad48d0c9bf0"
        );
        let other = ListId([1; 16]);
        assert_ne!(other.suspension_partner(), zero.suspension_partner());
    }

    #[test]
    fn the_json_form_names_the_kind() {
        let json = serde_json::to_value(&examples()[1]).expect("serializes");
        assert_eq!(json["type"], "auditCheckpoint");
        assert_eq!(json["sequence"], 42);
        let json = serde_json::to_value(&examples()[2]).expect("serializes");
        assert_eq!(json["type"], "nodeAuditCheckpoint");
        assert_eq!(json["node"], "09".repeat(32));
        let json = serde_json::to_value(&examples()[3]).expect("serializes");
        assert_eq!(json["type"], "statusListVersion");
        assert_eq!(json["list"], "07".repeat(16));
        assert_eq!(json["version"], 3);
    }

    #[test]
    fn list_ids_are_32_lower_case_hex_digits() {
        let id = ListId(rand::random());
        assert_eq!(
            ListId::parse(&alloc::string::ToString::to_string(&id)),
            Some(id)
        );
        for bad in ["", "00", &"0".repeat(33), &"A".repeat(32), &"g".repeat(32)] {
            assert_eq!(ListId::parse(bad), None, "{bad}");
        }
    }
}
