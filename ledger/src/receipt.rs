//! Receipts and checkpoints: what a verifier needs, besides the genesis, to check that a
//! transaction is on the chain, or to pin the chain's head.
//!
//! A [`Receipt`] is a block header, its validator signatures and the Merkle inclusion path
//! of one transaction. A [`Checkpoint`] is the chain id, a height and that block's hash,
//! as a signed note in the C2SP `signed-note` format (the format of transparency-log
//! checkpoints: body lines, a blank line, then `— <key name> <base64(key hash ‖
//! signature)>` lines), so existing note tooling can read and check it.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use base64::prelude::{Engine, BASE64_STANDARD};
use ed25519_dalek::{Signature, SignatureError};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::block::{
    verify_seal, Block, BlockError, BlockHeader, BlockSignature, ChainId, Finality, Genesis,
    ValidatorKey, ValidatorSigner,
};
use super::epoch::{Epochs, ValidatorChange};
use super::hash::Digest;
use super::merkle::{verify_inclusion, LeafIndex, ProofError, TreeSize};
use super::transaction::Transaction;

/// Proof that a transaction is in a sealed block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Receipt {
    pub transaction: Transaction,
    pub leaf_index: LeafIndex,
    /// Sibling hashes from the transaction's leaf up to the block's `txRoot`.
    pub inclusion_path: Vec<Digest>,
    pub header: BlockHeader,
    pub signatures: Vec<BlockSignature>,
    /// On a consortium chain: the round whose finalize votes `signatures` are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finality: Option<Finality>,
    /// When the block became final with a descendant's votes: the headers after it, up to
    /// that descendant's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<BlockHeader>,
    /// On a consortium chain whose validators changed before the block: every change from
    /// the genesis's validators on, each signed by a quorum of the set before it, so the
    /// genesis alone proves the set that voted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub epochs: Vec<ValidatorChange>,
}

/// Where and when a verified receipt says its transaction was anchored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Anchored {
    pub chain_id: ChainId,
    pub height: u64,
    pub block: Digest,
    pub time_ms: i64,
}

impl Anchored {
    /// The block's time as RFC 3339 UTC with milliseconds (empty if out of range).
    pub fn time_rfc3339(&self) -> String {
        chrono::DateTime::from_timestamp_millis(self.time_ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default()
    }

    /// The wire form: chain, height, block hash and the block's time.
    #[cfg(feature = "wire")]
    pub fn info(&self) -> certus_schemas::wire::AnchorInfo {
        certus_schemas::wire::AnchorInfo {
            chain_id: String::from(self.chain_id.as_str()),
            height: self.height,
            block: self.block.to_hex(),
            time: self.time_rfc3339(),
            member: None,
        }
    }
}

/// Checks a receipt document — a bare [`Receipt`], or a receipt endpoint's answer holding
/// one under `receipt` — against the chain's genesis: what `certus receipt verify`, the
/// `POST /chain/receipts/verify` endpoint and the web app all do.
pub fn check_document(
    document: serde_json::Value,
    genesis: &Genesis,
) -> Result<Anchored, DocumentError> {
    let receipt = match document {
        serde_json::Value::Object(mut fields) if fields.contains_key("receipt") => {
            fields.remove("receipt").unwrap_or_default()
        }
        bare => bare,
    };
    let receipt: Receipt =
        serde_json::from_value(receipt).map_err(|e| DocumentError::NotAReceipt(format!("{e}")))?;
    Ok(receipt.verify(genesis)?)
}

/// Why a receipt document was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// The document is not a receipt (nor an answer holding one).
    #[error("not a receipt: {0}")]
    NotAReceipt(String),
    /// It is a receipt, and it does not hold.
    #[error(transparent)]
    Invalid(#[from] ReceiptError),
}

/// [`check_document`] as the wire's verdict.
#[cfg(feature = "wire")]
pub fn check_document_wire(
    document: serde_json::Value,
    genesis: &Genesis,
) -> certus_schemas::portal::ReceiptCheck {
    match check_document(document, genesis) {
        Ok(anchored) => certus_schemas::portal::ReceiptCheck {
            valid: true,
            anchor: Some(anchored.info()),
            error: None,
        },
        Err(e) => certus_schemas::portal::ReceiptCheck {
            valid: false,
            anchor: None,
            error: Some(format!("{e}")),
        },
    }
}

/// Why a receipt does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// The genesis given to check against is itself invalid.
    #[error("the genesis is invalid: {0}")]
    Genesis(BlockError),
    /// The receipt's block is not of the genesis's chain.
    #[error("the receipt is for another chain")]
    WrongChain,
    /// The block header's signatures do not hold for the chain's validators.
    #[error("the block header does not hold: {0}")]
    Header(BlockError),
    /// The transaction is not at that position under the header's root.
    #[error("the transaction is not in the block: {0}")]
    NotIncluded(ProofError),
}

impl Receipt {
    /// The receipt of the transaction at `index` of `block`; `links` are the headers
    /// from the block's up to the one its [`Finality`] names, when that is a descendant.
    pub fn new(block: &Block, index: LeafIndex, links: Vec<BlockHeader>) -> Option<Self> {
        let position = usize::try_from(index.0).ok()?;
        let transaction = block.transactions.get(position)?.clone();
        Some(Self {
            transaction,
            leaf_index: index,
            inclusion_path: block.tree().inclusion_proof(index)?,
            header: block.header.clone(),
            signatures: block.signatures.clone(),
            finality: block.finality,
            links,
            epochs: Vec::new(),
        })
    }

    /// Checks the receipt against the chain's genesis, with nothing else trusted.
    pub fn verify(&self, genesis: &Genesis) -> Result<Anchored, ReceiptError> {
        genesis.verify().map_err(ReceiptError::Genesis)?;
        self.verify_seal(genesis)?;
        self.verify_inclusion(genesis)
    }

    /// The digest of everything the check of the block's seal reads: the header, its
    /// signatures, finality, links and epoch changes. Receipts with the same seal digest
    /// have the same seal, so a verifier that checks many receipts of one block may
    /// remember the digests of the seals it has checked (against one checked genesis) and
    /// check only [`Receipt::verify_inclusion`] for the others.
    pub fn seal_digest(&self) -> Digest {
        let seal = (
            &self.header,
            &self.signatures,
            &self.finality,
            &self.links,
            &self.epochs,
        );
        // Serialising these plain values cannot fail.
        Digest::of(&[&serde_json::to_vec(&seal).unwrap_or_default()])
    }

    /// Checks that the block's seal holds for the validators `genesis` names (and the
    /// epoch changes the receipt carries), `genesis` itself having been checked.
    pub fn verify_seal(&self, genesis: &Genesis) -> Result<(), ReceiptError> {
        if self.header.chain_id != genesis.header.chain_id {
            return Err(ReceiptError::WrongChain);
        }
        let mut epochs = Epochs::new(genesis);
        for change in &self.epochs {
            epochs
                .push(change, self.header.height)
                .map_err(ReceiptError::Header)?;
        }
        verify_seal(
            &self.header,
            &self.signatures,
            self.finality.as_ref(),
            &self.links,
            epochs.current(),
        )
        .map_err(ReceiptError::Header)
    }

    /// Checks that the transaction is at its position under the header's root, in a block
    /// of `genesis`'s chain: the receipt's whole check once its seal is known to hold
    /// (see [`Receipt::seal_digest`]).
    pub fn verify_inclusion(&self, genesis: &Genesis) -> Result<Anchored, ReceiptError> {
        if self.header.chain_id != genesis.header.chain_id {
            return Err(ReceiptError::WrongChain);
        }
        verify_inclusion(
            &self.transaction.leaf_hash(),
            self.leaf_index,
            TreeSize(self.header.tx_count),
            &self.inclusion_path,
            &self.header.tx_root,
        )
        .map_err(ReceiptError::NotIncluded)?;
        Ok(Anchored {
            chain_id: self.header.chain_id.clone(),
            height: self.header.height,
            block: self.header.hash(),
            time_ms: self.header.time_ms,
        })
    }
}

/// A chain head third parties can pin: chain id, height and that block's header hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    pub chain_id: ChainId,
    pub height: u64,
    pub head: Digest,
}

/// Why a signed checkpoint does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The text is not a signed note with a three-line checkpoint body.
    #[error("not a signed checkpoint note: {0}")]
    Malformed(&'static str),
    /// The note is for another chain than the genesis's.
    #[error("the checkpoint is for another chain")]
    WrongChain,
    /// Fewer than a quorum of the genesis validators signed the note.
    #[error("fewer than two thirds of the validators signed the checkpoint")]
    NoQuorum,
}

/// The signed-note line prefix: an em dash and a space.
const SIGNATURE_LINE: &str = "\u{2014} ";

impl Checkpoint {
    /// The checkpoint of `header`.
    pub fn of(header: &BlockHeader) -> Self {
        Self {
            chain_id: header.chain_id.clone(),
            height: header.height,
            head: header.hash(),
        }
    }

    fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.chain_id.as_str(),
            self.height,
            BASE64_STANDARD.encode(self.head.as_bytes())
        )
    }

    /// The checkpoint as a note signed by `key`.
    pub fn sign(&self, key: &impl ValidatorSigner) -> Result<String, SignatureError> {
        let body = self.body();
        let validator = key.validator();
        let name = key_name(&self.chain_id, &validator);
        let mut blob = key_hash(&name, &validator).to_vec();
        blob.extend_from_slice(&key.sign_message(body.as_bytes())?.to_bytes());
        Ok(format!(
            "{body}\n{SIGNATURE_LINE}{name} {}\n",
            BASE64_STANDARD.encode(blob)
        ))
    }

    /// Parses a signed checkpoint note and checks its signatures against the genesis
    /// validators. Signature lines by unknown keys are ignored, as the note format asks.
    pub fn verify_note(note: &str, genesis: &Genesis) -> Result<Self, CheckpointError> {
        let (body, signatures) = note.split_once("\n\n").ok_or(CheckpointError::Malformed(
            "no blank line before the signatures",
        ))?;
        let body = format!("{body}\n");
        let mut lines = body.lines();
        let (Some(chain), Some(height), Some(head), None) =
            (lines.next(), lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::Malformed("the body must have three lines"));
        };
        let chain_id = ChainId::parse(chain).map_err(|_| CheckpointError::Malformed("chain id"))?;
        if chain_id != genesis.header.chain_id {
            return Err(CheckpointError::WrongChain);
        }
        let height = height
            .parse()
            .map_err(|_| CheckpointError::Malformed("height"))?;
        let head = BASE64_STANDARD
            .decode(head)
            .ok()
            .and_then(|b| Digest::from_slice(&b).ok())
            .ok_or(CheckpointError::Malformed("head hash"))?;
        let mut signers: Vec<ValidatorKey> = Vec::new();
        for line in signatures.lines() {
            let (name, blob) = line
                .strip_prefix(SIGNATURE_LINE)
                .and_then(|l| l.split_once(' '))
                .ok_or(CheckpointError::Malformed("signature line"))?;
            let blob = BASE64_STANDARD
                .decode(blob)
                .map_err(|_| CheckpointError::Malformed("signature encoding"))?;
            let Some((hash, signature)) = blob.split_first_chunk::<4>() else {
                continue;
            };
            let Ok(signature) = Signature::from_slice(signature) else {
                continue;
            };
            for validator in genesis.validators.keys() {
                if name == key_name(&chain_id, validator)
                    && *hash == key_hash(name, validator)
                    && validator
                        .0
                        .verify_strict(body.as_bytes(), &signature)
                        .is_ok()
                    && !signers.contains(validator)
                {
                    signers.push(*validator);
                }
            }
        }
        if signers.len() < genesis.validators.quorum() {
            return Err(CheckpointError::NoQuorum);
        }
        Ok(Self {
            chain_id,
            height,
            head,
        })
    }
}

/// A validator's key name in notes: the chain id and the first 8 hex digits of the key.
fn key_name(chain_id: &ChainId, key: &ValidatorKey) -> String {
    format!("{}/{}", chain_id.as_str(), &key.to_hex()[..8])
}

/// The signed-note key hash: the first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ key), where
/// 0x01 names Ed25519.
fn key_hash(name: &str, key: &ValidatorKey) -> [u8; 4] {
    let digest = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update(b"\n\x01")
        .chain_update(key.0.as_bytes())
        .finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;
    use crate::transaction::credential_commitment;
    use ed25519_dalek::SigningKey;

    fn setup(n: u64) -> (Genesis, SigningKey, Block) {
        let key = SigningKey::generate(&mut StdRng::seed_from_u64(7));
        let genesis =
            Genesis::create(ChainId::parse("receipts").expect("id"), &key, 0).expect("signs");
        let txs = (0..n)
            .map(|i| Transaction::CredentialAnchor {
                commitment: credential_commitment(&i.to_be_bytes()),
            })
            .collect();
        let block = Block::seal(&genesis.header, txs, 5, &key).expect("signs");
        (genesis, key, block)
    }

    #[test]
    fn every_receipt_of_a_block_verifies_against_the_genesis_alone() {
        let (genesis, _, block) = setup(37);
        for i in 0..37 {
            let receipt = Receipt::new(&block, LeafIndex(i), Vec::new()).expect("in block");
            let anchored = receipt.verify(&genesis).expect("holds");
            assert_eq!(anchored.height, 1);
            assert_eq!(anchored.block, block.header.hash());
            // A receipt survives a JSON round trip unchanged.
            let json = serde_json::to_string(&receipt).expect("json");
            assert_eq!(
                serde_json::from_str::<Receipt>(&json).expect("parses"),
                receipt
            );
        }
        assert!(Receipt::new(&block, LeafIndex(37), Vec::new()).is_none());
    }

    #[test]
    fn a_tampered_receipt_fails() {
        let (genesis, _, block) = setup(8);
        let receipt = Receipt::new(&block, LeafIndex(3), Vec::new()).expect("in block");
        let mut r = receipt.clone();
        r.transaction = Transaction::CredentialAnchor {
            commitment: Digest::ZERO,
        };
        assert!(matches!(
            r.verify(&genesis),
            Err(ReceiptError::NotIncluded(_))
        ));
        let mut r = receipt.clone();
        r.leaf_index = LeafIndex(4);
        assert!(matches!(
            r.verify(&genesis),
            Err(ReceiptError::NotIncluded(_))
        ));
        let mut r = receipt.clone();
        r.header.time_ms += 1;
        assert_eq!(
            r.verify(&genesis),
            Err(ReceiptError::Header(BlockError::BadSignature))
        );
        let other_key = SigningKey::generate(&mut StdRng::seed_from_u64(8));
        let other =
            Genesis::create(ChainId::parse("receipts").expect("id"), &other_key, 0).expect("signs");
        assert_eq!(
            receipt.verify(&other),
            Err(ReceiptError::Header(BlockError::ValidatorSetMismatch))
        );
    }

    #[test]
    fn receipts_grow_with_the_log_of_the_block_size() {
        for (n, expected) in [(1u64, 0usize), (2, 1), (1000, 10), (1024, 10), (1025, 11)] {
            let (_, _, block) = setup(n);
            let receipt = Receipt::new(&block, LeafIndex(0), Vec::new()).expect("in block");
            assert_eq!(receipt.inclusion_path.len(), expected, "{n} transactions");
        }
    }

    #[test]
    fn a_signed_checkpoint_verifies_and_tampering_is_caught() {
        let (genesis, key, block) = setup(2);
        let checkpoint = Checkpoint::of(&block.header);
        let note = checkpoint.sign(&key).expect("signs");
        assert!(note.starts_with("receipts\n1\n"));
        assert_eq!(Checkpoint::verify_note(&note, &genesis), Ok(checkpoint));
        let tampered = note.replacen("\n1\n", "\n2\n", 1);
        assert_eq!(
            Checkpoint::verify_note(&tampered, &genesis),
            Err(CheckpointError::NoQuorum)
        );
        let other_key = SigningKey::generate(&mut StdRng::seed_from_u64(9));
        let forged = Checkpoint::of(&block.header)
            .sign(&other_key)
            .expect("signs");
        assert_eq!(
            Checkpoint::verify_note(&forged, &genesis),
            Err(CheckpointError::NoQuorum)
        );
        assert!(matches!(
            Checkpoint::verify_note("receipts\n1\n", &genesis),
            Err(CheckpointError::Malformed(_))
        ));
    }
}
