//! Blocks: signed headers over a Merkle root of transactions, chained by hash, and the
//! genesis that fixes the chain id and its validators.
//!
//! A header's hash is SHA-256 over [`super::hash::BLOCK_HEADER`] and the header's binary
//! encoding. A block is final with valid Ed25519 signatures from more than two thirds of the
//! validator set: on a single-validator chain over the header hash itself; on a consortium
//! chain (a genesis naming [`Member`]s), the finalize votes of the consensus round that
//! decided it ([`Finality`], [`finalize_message`]).

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use ed25519_dalek::{Signature, SignatureError, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::epoch::{Epoch, Epochs};
use super::hash::{Digest, BLOCK_HEADER, VALIDATOR_SET};
use super::merkle::{empty_root, Tree};
use super::transaction::Transaction;

/// The name of a chain: 1–64 characters of `a-z`, `0-9`, `-` and `.`, so it fits in URLs
/// and signed notes unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ChainId(String);

impl ChainId {
    /// Parses a chain id.
    pub fn parse(text: &str) -> Result<Self, BlockError> {
        let valid = (1..=64).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(BlockError::InvalidChainId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl core::str::FromStr for ChainId {
    type Err = BlockError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl<'de> Deserialize<'de> for ChainId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// A validator's Ed25519 public key, hex in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ValidatorKey(pub VerifyingKey);

impl ValidatorKey {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.as_bytes())
    }
}

impl Serialize for ValidatorKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for ValidatorKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(&text, &mut bytes).map_err(serde::de::Error::custom)?;
        VerifyingKey::from_bytes(&bytes)
            .map(Self)
            .map_err(serde::de::Error::custom)
    }
}

/// The validators of a chain, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ValidatorSet(Vec<ValidatorKey>);

impl ValidatorSet {
    /// A set of distinct keys, kept sorted by key bytes.
    pub fn new(mut keys: Vec<ValidatorKey>) -> Result<Self, BlockError> {
        keys.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        keys.dedup();
        if keys.is_empty() {
            return Err(BlockError::NoValidators);
        }
        Ok(Self(keys))
    }

    pub fn keys(&self) -> &[ValidatorKey] {
        &self.0
    }

    /// The hash a header commits to.
    pub fn hash(&self) -> Digest {
        let mut parts: Vec<&[u8]> = vec![VALIDATOR_SET];
        parts.extend(self.0.iter().map(|k| k.0.as_bytes().as_slice()));
        Digest::of(&parts)
    }

    /// How many distinct validator signatures make a block final: more than two thirds.
    pub fn quorum(&self) -> usize {
        self.0.len() * 2 / 3 + 1
    }

    /// Checks that a quorum of distinct validators of this set signed `message`.
    pub fn check_signatures(
        &self,
        signatures: &[BlockSignature],
        message: &[u8],
    ) -> Result<(), BlockError> {
        let mut signers: Vec<&ValidatorKey> = Vec::with_capacity(signatures.len());
        for s in signatures {
            if !self.0.contains(&s.validator) {
                return Err(BlockError::UnknownValidator);
            }
            s.validator
                .0
                .verify_strict(message, &s.signature)
                .map_err(|_| BlockError::BadSignature)?;
            if !signers.contains(&&s.validator) {
                signers.push(&s.validator);
            }
        }
        if signers.len() < self.quorum() {
            return Err(BlockError::NoQuorum);
        }
        Ok(())
    }
}

/// A block header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BlockHeader {
    pub chain_id: ChainId,
    pub height: u64,
    /// Hash of the previous block's header ([`Digest::ZERO`] for genesis).
    pub previous: Digest,
    /// Sealing time, milliseconds since the Unix epoch (UTC).
    pub time_ms: i64,
    /// RFC 6962 root of the block's transactions, in order.
    pub tx_root: Digest,
    pub tx_count: u64,
    /// Hash of the validator set that signs this block.
    pub validator_set: Digest,
}

impl BlockHeader {
    /// The header's hash: its identity, and what validators sign.
    pub fn hash(&self) -> Digest {
        let chain = self.chain_id.as_str().as_bytes();
        Digest::of(&[
            BLOCK_HEADER,
            &(chain.len() as u16).to_be_bytes(),
            chain,
            &self.height.to_be_bytes(),
            self.previous.as_bytes(),
            &self.time_ms.to_be_bytes(),
            self.tx_root.as_bytes(),
            &self.tx_count.to_be_bytes(),
            self.validator_set.as_bytes(),
        ])
    }
}

/// A validator's signing key, wherever it is held: in memory ([`SigningKey`]) or in a
/// hardware token that signs without ever showing the key.
pub trait ValidatorSigner {
    /// The public key the signatures verify under.
    fn validator(&self) -> ValidatorKey;
    /// An Ed25519 signature over `message`; a token may fail to give one.
    fn sign_message(&self, message: &[u8]) -> Result<Signature, SignatureError>;
}

impl ValidatorSigner for SigningKey {
    fn validator(&self) -> ValidatorKey {
        ValidatorKey(self.verifying_key())
    }

    fn sign_message(&self, message: &[u8]) -> Result<Signature, SignatureError> {
        Ok(self.sign(message))
    }
}

/// One validator's signature over a header hash, hex in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BlockSignature {
    pub validator: ValidatorKey,
    #[serde(with = "hex_signature")]
    pub signature: Signature,
}

impl BlockSignature {
    /// Signs `header` with a validator key.
    pub fn sign(key: &impl ValidatorSigner, header: &BlockHeader) -> Result<Self, SignatureError> {
        Ok(Self {
            validator: key.validator(),
            signature: key.sign_message(header.hash().as_bytes())?,
        })
    }
}

mod hex_signature {
    use alloc::string::String;
    use ed25519_dalek::Signature;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(s: &Signature, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(s.to_bytes()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Signature, D::Error> {
        let mut bytes = [0u8; 64];
        hex::decode_to_slice(String::deserialize(deserializer)?, &mut bytes)
            .map_err(serde::de::Error::custom)?;
        Ok(Signature::from_bytes(&bytes))
    }
}

/// Checks that a quorum of distinct validators of `set` signed `header`.
pub fn verify_signatures(
    header: &BlockHeader,
    signatures: &[BlockSignature],
    set: &ValidatorSet,
) -> Result<(), BlockError> {
    check_quorum(header, signatures, set, header.hash().as_bytes())
}

/// Checks that a quorum of distinct validators of `set` signed `message` about `header`.
fn check_quorum(
    header: &BlockHeader,
    signatures: &[BlockSignature],
    set: &ValidatorSet,
    message: &[u8],
) -> Result<(), BlockError> {
    if header.validator_set != set.hash() {
        return Err(BlockError::ValidatorSetMismatch);
    }
    set.check_signatures(signatures, message)
}

/// A block as stored and served: header, transactions in order, signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Block {
    pub header: BlockHeader,
    pub transactions: Vec<Transaction>,
    pub signatures: Vec<BlockSignature>,
    /// On a consortium chain: the consensus round whose finalize votes `signatures` are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finality: Option<Finality>,
}

impl Block {
    /// Seals `transactions` on top of `previous`, signed by `key`.
    pub fn seal(
        previous: &BlockHeader,
        transactions: Vec<Transaction>,
        time_ms: i64,
        key: &impl ValidatorSigner,
    ) -> Result<Self, SignatureError> {
        Ok(Self::seal_with_tree(previous, transactions, time_ms, key)?.0)
    }

    /// [`Block::seal`], also returning the block's transaction tree for whoever stores it.
    pub fn seal_with_tree(
        previous: &BlockHeader,
        transactions: Vec<Transaction>,
        time_ms: i64,
        key: &impl ValidatorSigner,
    ) -> Result<(Self, Tree), SignatureError> {
        let (mut block, tree) =
            Self::propose(previous, transactions, time_ms, previous.validator_set);
        block.signatures = vec![BlockSignature::sign(key, &block.header)?];
        Ok((block, tree))
    }

    /// The Merkle tree over this block's transactions.
    pub fn tree(&self) -> Tree {
        Tree::new(
            self.transactions
                .iter()
                .map(Transaction::leaf_hash)
                .collect(),
        )
    }

    /// A consortium block as its proposer builds it: not yet final, so unsigned; signed
    /// by the validators whose set hashes to `validator_set` (the previous block's but
    /// for the first block of an epoch).
    pub fn propose(
        previous: &BlockHeader,
        transactions: Vec<Transaction>,
        time_ms: i64,
        validator_set: Digest,
    ) -> (Self, Tree) {
        let tree = Tree::new(transactions.iter().map(Transaction::leaf_hash).collect());
        let header = BlockHeader {
            chain_id: previous.chain_id.clone(),
            height: previous.height + 1,
            previous: previous.hash(),
            time_ms: time_ms.max(previous.time_ms),
            tx_root: tree.root(),
            tx_count: transactions.len() as u64,
            validator_set,
        };
        let block = Self {
            header,
            transactions,
            signatures: Vec::new(),
            finality: None,
        };
        (block, tree)
    }

    /// Checks this block as the successor of `previous` in `epoch`: link, height, time,
    /// root, count, validator set and signatures. A consortium block final with a
    /// descendant's certificate ([`Finality::height`] above its own) has its votes checked
    /// with that descendant, which the chain of `previous` hashes links it to.
    pub fn verify(&self, previous: &BlockHeader, epoch: &Epoch) -> Result<(), BlockError> {
        self.verify_contents(previous, epoch.validators.hash())?;
        match &self.finality {
            Some(f) if f.height > self.header.height => Ok(()),
            finality => verify_seal(
                &self.header,
                &self.signatures,
                finality.as_ref(),
                &[],
                epoch,
            ),
        }
    }

    /// [`Block::verify`] without the signatures: link, height, time, root, count and the
    /// validator set (its hash) — what a validator checks of a proposal before voting.
    pub fn verify_contents(
        &self,
        previous: &BlockHeader,
        validator_set: Digest,
    ) -> Result<(), BlockError> {
        let h = &self.header;
        if h.chain_id != previous.chain_id {
            return Err(BlockError::WrongChain);
        }
        if h.height != previous.height + 1 || h.previous != previous.hash() {
            return Err(BlockError::BrokenLink);
        }
        if h.time_ms < previous.time_ms {
            return Err(BlockError::TimeGoesBack);
        }
        if h.tx_count != self.transactions.len() as u64 || h.tx_root != self.tree().root() {
            return Err(BlockError::RootMismatch);
        }
        if h.validator_set != validator_set {
            return Err(BlockError::ValidatorSetMismatch);
        }
        Ok(())
    }
}

/// Blocks final with a later block's votes ([`Finality::height`] above their own), each
/// checked when that block comes: it must carry the very certificate they name. Fed a
/// chain's blocks in height order, each after [`Block::verify`].
#[derive(Debug, Default)]
pub struct FinalLater(Vec<(u64, Finality, Vec<BlockSignature>)>);

impl FinalLater {
    /// Takes the next block; `Err` with the height of an earlier block that names this one
    /// but not its certificate.
    pub fn take(&mut self, block: &Block) -> Result<(), u64> {
        let height = block.header.height;
        for (earlier, f, votes) in self.0.extract_if(.., |(_, f, _)| f.height == height) {
            if Some(f) != block.finality || votes != block.signatures {
                return Err(earlier);
            }
        }
        if let Some(f) = block.finality.filter(|f| f.height > height) {
            self.0.push((height, f, block.signatures.clone()));
        }
        Ok(())
    }

    /// The first block still waiting for the block it names: its height and that one's.
    pub fn waiting(&self) -> Option<(u64, u64)> {
        self.0.first().map(|(height, f, _)| (*height, f.height))
    }
}

/// The consensus round that finalised a consortium block: the validators' signatures are
/// their finalize votes of that round over the header hash of the block at `height`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Finality {
    pub epoch: u64,
    pub view: u64,
    /// The view of the finalised block's parent.
    pub parent: u64,
    /// The height of the block the votes are for: the block's own, or a descendant's when
    /// the block became final with it (a round whose own votes fell short).
    pub height: u64,
}

/// The consensus namespace of a chain: every vote is signed under it, so no vote of one
/// chain counts on another.
pub fn consensus_namespace(chain: &ChainId) -> Vec<u8> {
    let mut namespace = b"certus/consensus/v1/".to_vec();
    namespace.extend_from_slice(chain.as_str().as_bytes());
    namespace
}

/// The bytes a validator's finalize vote signs: the engine's (commonware simplex, Ed25519
/// scheme) encoding of the finalize subject — the length-prefixed namespace
/// `<consensus namespace>_FINALIZE`, then the proposal: epoch, view and parent view as
/// LEB128 varints and the 32-byte payload, the block's header hash. A known-answer test
/// in the server pins this against the engine itself.
pub fn finalize_message(chain: &ChainId, finality: &Finality, block: &Digest) -> Vec<u8> {
    let mut namespace = consensus_namespace(chain);
    namespace.extend_from_slice(b"_FINALIZE");
    let mut message = Vec::with_capacity(namespace.len() + 64);
    leb128(&mut message, namespace.len() as u64);
    message.extend_from_slice(&namespace);
    leb128(&mut message, finality.epoch);
    leb128(&mut message, finality.view);
    leb128(&mut message, finality.parent);
    message.extend_from_slice(block.as_bytes());
    message
}

fn leb128(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Checks that a quorum of distinct validators of `epoch` made `header` final: signed its
/// hash (no `finality`), or voted in that epoch to finalise it — directly, or through the
/// descendant `links` (the headers after it, up to the one at `finality.height`).
pub fn verify_seal(
    header: &BlockHeader,
    signatures: &[BlockSignature],
    finality: Option<&Finality>,
    links: &[BlockHeader],
    epoch: &Epoch,
) -> Result<(), BlockError> {
    let set = &epoch.validators;
    let Some(finality) = finality else {
        return verify_signatures(header, signatures, set);
    };
    if finality.epoch != epoch.number {
        return Err(BlockError::WrongEpoch);
    }
    let mut last = header;
    for link in links {
        if link.chain_id != header.chain_id
            || link.height != last.height + 1
            || link.previous != last.hash()
        {
            return Err(BlockError::BrokenLink);
        }
        last = link;
    }
    if last.height != finality.height {
        return Err(BlockError::BrokenLink);
    }
    let message = finalize_message(&header.chain_id, finality, &last.hash());
    check_quorum(last, signatures, set, &message)
}

/// The first block of a chain and the validators it names. Anyone holding it can check
/// every later block and receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Genesis {
    pub validators: ValidatorSet,
    /// A consortium's institutions, one per validator: name, key and where its node
    /// listens for its peers. Empty on a single node's chain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Member>,
    /// The validator whose key acts as the trust registry's root authority (a
    /// consortium's; on a single node's chain, its own validator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_authority: Option<ValidatorKey>,
    pub header: BlockHeader,
    /// The validators' signatures over the genesis header. A consortium's genesis is
    /// assembled from the members' public keys by one party and carries none: each member
    /// checks the file it is given (its hash) before starting from it.
    pub signatures: Vec<BlockSignature>,
}

/// One institution of a consortium.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Member {
    /// The institution's name, as operators and the chain explorer show it.
    pub name: String,
    pub validator: ValidatorKey,
    /// `host:port` of the node's consensus (peer-to-peer) listener.
    pub address: String,
}

impl Genesis {
    /// A new chain whose sole validator is `key`.
    pub fn create(
        chain_id: ChainId,
        key: &impl ValidatorSigner,
        time_ms: i64,
    ) -> Result<Self, SignatureError> {
        let validators = ValidatorSet(vec![key.validator()]);
        let header = genesis_header(chain_id, &validators, time_ms);
        let signatures = vec![BlockSignature::sign(key, &header)?];
        Ok(Self {
            validators,
            members: Vec::new(),
            root_authority: None,
            header,
            signatures,
        })
    }

    /// A consortium's chain: its validators are the members' keys; the root authority is
    /// the member named `root` (the first member when `None`).
    pub fn consortium(
        chain_id: ChainId,
        members: Vec<Member>,
        root: Option<&str>,
        time_ms: i64,
    ) -> Result<Self, BlockError> {
        let validators = ValidatorSet::new(members.iter().map(|m| m.validator).collect())?;
        let root_authority = match root {
            None => members.first().map(|m| m.validator),
            Some(name) => Some(
                members
                    .iter()
                    .find(|m| m.name == name)
                    .ok_or(BlockError::BadMembers)?
                    .validator,
            ),
        };
        let genesis = Self {
            header: genesis_header(chain_id, &validators, time_ms),
            validators,
            members,
            root_authority,
            signatures: Vec::new(),
        };
        genesis.verify()?;
        Ok(genesis)
    }

    /// Whether this is a consortium's chain (decided by votes, [`Finality`]) rather than a
    /// single node's (signed by its one validator).
    pub fn is_consortium(&self) -> bool {
        !self.members.is_empty()
    }

    /// Checks that this is a well-formed genesis: a single node's signed by its own
    /// validators; a consortium's with one member per validator, distinct names and
    /// addresses, and its root authority among them.
    pub fn verify(&self) -> Result<(), BlockError> {
        let h = &self.header;
        if h.height != 0 || h.previous != Digest::ZERO {
            return Err(BlockError::BrokenLink);
        }
        if h.tx_count != 0 || h.tx_root != empty_root() {
            return Err(BlockError::RootMismatch);
        }
        if !self.is_consortium() {
            return verify_signatures(h, &self.signatures, &self.validators);
        }
        if h.validator_set != self.validators.hash() {
            return Err(BlockError::ValidatorSetMismatch);
        }
        let well_formed = check_members(&self.members, &self.validators)
            && self
                .root_authority
                .is_none_or(|root| self.validators.keys().contains(&root));
        if !well_formed {
            return Err(BlockError::BadMembers);
        }
        if self.signatures.is_empty() {
            Ok(())
        } else {
            verify_signatures(h, &self.signatures, &self.validators)
        }
    }

    /// Epoch 0: the validators this genesis names, from block 1 on.
    pub fn epoch(&self) -> Epoch {
        Epochs::new(self).current().clone()
    }

    /// The genesis as a block (height 0, no transactions).
    pub fn block(&self) -> Block {
        Block {
            header: self.header.clone(),
            transactions: Vec::new(),
            signatures: self.signatures.clone(),
            finality: None,
        }
    }
}

/// Whether `members` are one per validator of `set`, with distinct, non-empty names and
/// addresses.
pub(crate) fn check_members(members: &[Member], set: &ValidatorSet) -> bool {
    let keys = set.keys();
    let each_once = |f: fn(&Member) -> &str| {
        members
            .iter()
            .enumerate()
            .all(|(i, m)| members[..i].iter().all(|o| f(o) != f(m)))
    };
    members.len() == keys.len()
        && keys
            .iter()
            .all(|k| members.iter().any(|m| m.validator == *k))
        && each_once(|m| &m.name)
        && each_once(|m| &m.address)
        && members
            .iter()
            .all(|m| !m.name.trim().is_empty() && !m.address.is_empty())
}

fn genesis_header(chain_id: ChainId, validators: &ValidatorSet, time_ms: i64) -> BlockHeader {
    BlockHeader {
        chain_id,
        height: 0,
        previous: Digest::ZERO,
        time_ms,
        tx_root: empty_root(),
        tx_count: 0,
        validator_set: validators.hash(),
    }
}

/// Why a block, header or genesis does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// The chain id is empty, too long, or has characters outside `a-z0-9-.`.
    #[error("invalid chain id")]
    InvalidChainId,
    /// A validator set must name at least one key.
    #[error("a validator set needs at least one key")]
    NoValidators,
    /// The block belongs to another chain.
    #[error("the block belongs to another chain")]
    WrongChain,
    /// The height or previous hash does not follow the previous block.
    #[error("the block does not follow the previous block (height or previous hash)")]
    BrokenLink,
    /// The block is timed before its predecessor.
    #[error("the block's time is before the previous block's")]
    TimeGoesBack,
    /// The transaction root or count does not match the transactions.
    #[error("the transaction root or count does not match the transactions")]
    RootMismatch,
    /// The header names a validator set other than the chain's.
    #[error("the header names another validator set")]
    ValidatorSetMismatch,
    /// A signature is by a key outside the validator set.
    #[error("a signature is by a key that is not a validator")]
    UnknownValidator,
    /// A signature does not verify.
    #[error("a validator signature does not verify")]
    BadSignature,
    /// Fewer than a quorum of distinct validators signed.
    #[error("fewer than two thirds of the validators signed")]
    NoQuorum,
    /// A consortium's members do not match its validators one to one, repeat a name or
    /// an address, or its root authority is not one of them.
    #[error("the consortium's members do not match its validators (one each, distinct names and addresses, the root among them)")]
    BadMembers,
    /// The certificate's votes are of another epoch than the block's, or a validator
    /// change does not start the epoch after the current one.
    #[error("the votes or the validator change are of another epoch")]
    WrongEpoch,
    /// A block holds more than one validator change.
    #[error("a block holds more than one validator change")]
    TwoChanges,
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;
    use crate::transaction::credential_commitment;

    fn key(seed: u64) -> SigningKey {
        SigningKey::generate(&mut StdRng::seed_from_u64(seed))
    }

    fn chain() -> (Genesis, SigningKey) {
        let k = key(1);
        let genesis =
            Genesis::create(ChainId::parse("test.certus").expect("id"), &k, 1_000).expect("signs");
        (genesis, k)
    }

    fn anchors(n: u8) -> Vec<Transaction> {
        (0..n)
            .map(|i| Transaction::CredentialAnchor {
                commitment: credential_commitment(&[i]),
            })
            .collect()
    }

    #[test]
    fn a_sealed_chain_verifies_block_by_block() {
        let (genesis, k) = chain();
        genesis.verify().expect("genesis holds");
        let b1 = Block::seal(&genesis.header, anchors(3), 2_000, &k).expect("signs");
        let b2 = Block::seal(&b1.header, anchors(1), 3_000, &k).expect("signs");
        b1.verify(&genesis.header, &genesis.epoch()).expect("b1");
        b2.verify(&b1.header, &genesis.epoch()).expect("b2");
        assert_eq!(
            b2.verify(&genesis.header, &genesis.epoch()),
            Err(BlockError::BrokenLink)
        );
    }

    #[test]
    fn every_tampered_part_of_a_block_is_detected() {
        let (genesis, k) = chain();
        let epoch = genesis.epoch();
        let set = &epoch;
        let block = Block::seal(&genesis.header, anchors(4), 2_000, &k).expect("signs");
        let check = |b: &Block| b.verify(&genesis.header, set);

        let mut b = block.clone();
        b.transactions[2] = Transaction::CredentialAnchor {
            commitment: Digest::ZERO,
        };
        assert_eq!(check(&b), Err(BlockError::RootMismatch));
        let mut b = block.clone();
        b.transactions.pop();
        assert_eq!(check(&b), Err(BlockError::RootMismatch));
        let mut b = block.clone();
        b.header.time_ms += 1;
        assert_eq!(check(&b), Err(BlockError::BadSignature));
        let mut b = block.clone();
        b.header.time_ms = 999;
        assert_eq!(check(&b), Err(BlockError::TimeGoesBack));
        let mut b = block.clone();
        let mut sig = b.signatures[0].signature.to_bytes();
        sig[10] ^= 1;
        b.signatures[0].signature = Signature::from_bytes(&sig);
        assert_eq!(check(&b), Err(BlockError::BadSignature));
        let mut b = block.clone();
        b.signatures = vec![BlockSignature::sign(&key(2), &b.header).expect("signs")];
        assert_eq!(check(&b), Err(BlockError::UnknownValidator));
        let mut b = block.clone();
        b.signatures.clear();
        assert_eq!(check(&b), Err(BlockError::NoQuorum));
        let mut b = block;
        b.header.chain_id = ChainId::parse("other").expect("id");
        assert_eq!(check(&b), Err(BlockError::WrongChain));
    }

    #[test]
    fn a_quorum_is_more_than_two_thirds_of_distinct_validators() {
        let keys: Vec<SigningKey> = (10..14).map(key).collect();
        let set = ValidatorSet::new(
            keys.iter()
                .map(|k| ValidatorKey(k.verifying_key()))
                .collect(),
        )
        .expect("set");
        assert_eq!(set.quorum(), 3);
        let (genesis, _) = chain();
        let mut header = genesis.header.clone();
        header.validator_set = set.hash();
        let sigs: Vec<BlockSignature> = keys
            .iter()
            .map(|k| BlockSignature::sign(k, &header).expect("signs"))
            .collect();
        assert_eq!(verify_signatures(&header, &sigs[..3], &set), Ok(()));
        assert_eq!(
            verify_signatures(&header, &sigs[..2], &set),
            Err(BlockError::NoQuorum)
        );
        let repeated = vec![sigs[0].clone(), sigs[0].clone(), sigs[1].clone()];
        assert_eq!(
            verify_signatures(&header, &repeated, &set),
            Err(BlockError::NoQuorum)
        );
    }

    #[test]
    fn headers_round_trip_through_json_and_chain_ids_are_checked() {
        let (genesis, _) = chain();
        let json = serde_json::to_string(&genesis).expect("json");
        let back: Genesis = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, genesis);
        assert!(ChainId::parse("Has Space").is_err());
        assert!(ChainId::parse("").is_err());
        assert!(serde_json::from_str::<Genesis>(&json.replace("test.certus", "BAD ID")).is_err());
    }
    fn consortium(n: u64) -> (Genesis, Vec<SigningKey>) {
        let keys: Vec<SigningKey> = (20..20 + n).map(key).collect();
        let members = keys
            .iter()
            .enumerate()
            .map(|(i, k)| Member {
                name: alloc::format!("Member {i}"),
                validator: ValidatorKey(k.verifying_key()),
                address: alloc::format!("127.0.0.1:{}", 7000 + i),
            })
            .collect();
        let genesis = Genesis::consortium(
            ChainId::parse("consortium").expect("id"),
            members,
            Some("Member 1"),
            5_000,
        )
        .expect("a well-formed consortium");
        (genesis, keys)
    }

    /// The votes of `voters` finalising the block at `target` in `finality`'s round.
    fn votes(
        voters: &[SigningKey],
        target: &BlockHeader,
        finality: &Finality,
    ) -> Vec<BlockSignature> {
        let message = finalize_message(&target.chain_id, finality, &target.hash());
        voters
            .iter()
            .map(|k| BlockSignature {
                validator: ValidatorKey(k.verifying_key()),
                signature: k.sign(&message),
            })
            .collect()
    }

    #[test]
    fn a_consortium_genesis_names_one_member_per_validator_and_its_root() {
        let (genesis, keys) = consortium(4);
        genesis.verify().expect("holds unsigned");
        assert!(genesis.is_consortium());
        assert_eq!(genesis.validators.quorum(), 3);
        assert_eq!(
            genesis.root_authority,
            Some(ValidatorKey(keys[1].verifying_key()))
        );
        let json = serde_json::to_string(&genesis).expect("json");
        assert_eq!(
            serde_json::from_str::<Genesis>(&json).expect("parses"),
            genesis
        );

        let mut g = genesis.clone();
        g.members[2].name = g.members[0].name.clone();
        assert_eq!(g.verify(), Err(BlockError::BadMembers));
        let mut g = genesis.clone();
        g.members[3].address = g.members[1].address.clone();
        assert_eq!(g.verify(), Err(BlockError::BadMembers));
        let mut g = genesis.clone();
        g.members.pop();
        assert_eq!(g.verify(), Err(BlockError::BadMembers));
        let mut g = genesis.clone();
        g.root_authority = Some(ValidatorKey(key(99).verifying_key()));
        assert_eq!(g.verify(), Err(BlockError::BadMembers));
        let mut g = genesis.clone();
        g.members[0].validator = ValidatorKey(key(99).verifying_key());
        assert_eq!(g.verify(), Err(BlockError::BadMembers));
        let mut g = genesis;
        g.header.validator_set = Digest::ZERO;
        assert_eq!(g.verify(), Err(BlockError::ValidatorSetMismatch));
        assert!(
            Genesis::consortium(ChainId::parse("c").expect("id"), Vec::new(), None, 0).is_err()
        );
    }

    #[test]
    fn a_consortium_block_is_final_with_a_quorum_of_finalize_votes() {
        let (genesis, keys) = consortium(4);
        let epoch = genesis.epoch();
        let set = &epoch;
        let (mut block, _) = Block::propose(
            &genesis.header,
            anchors(5),
            6_000,
            genesis.header.validator_set,
        );
        assert_eq!(
            block.verify(&genesis.header, set),
            Err(BlockError::NoQuorum),
            "unsigned"
        );
        let finality = Finality {
            epoch: 0,
            view: 3,
            parent: 0,
            height: 1,
        };
        block.finality = Some(finality);
        block.signatures = votes(&keys[..3], &block.header, &finality);
        block.verify(&genesis.header, set).expect("three of four");

        let mut b = block.clone();
        b.signatures.truncate(2);
        assert_eq!(b.verify(&genesis.header, set), Err(BlockError::NoQuorum));
        for changed in [
            Finality {
                view: 4,
                ..finality
            },
            Finality {
                parent: 1,
                ..finality
            },
        ] {
            let mut b = block.clone();
            b.finality = Some(changed);
            assert_eq!(
                b.verify(&genesis.header, set),
                Err(BlockError::BadSignature)
            );
        }
        let mut b = block.clone();
        b.finality = Some(Finality {
            epoch: 1,
            ..finality
        });
        assert_eq!(
            b.verify(&genesis.header, set),
            Err(BlockError::WrongEpoch),
            "votes of another epoch"
        );
        let mut b = block.clone();
        b.header.time_ms += 1;
        assert_eq!(
            b.verify(&genesis.header, set),
            Err(BlockError::BadSignature)
        );
        let mut b = block.clone();
        b.finality = None;
        assert_eq!(
            b.verify(&genesis.header, set),
            Err(BlockError::BadSignature),
            "votes are not signatures over the header hash"
        );
        // Votes of another chain do not count here.
        let other = ChainId::parse("other").expect("id");
        let message = finalize_message(&other, &finality, &block.header.hash());
        let mut b = block.clone();
        b.signatures = keys[..3]
            .iter()
            .map(|k| BlockSignature {
                validator: ValidatorKey(k.verifying_key()),
                signature: k.sign(&message),
            })
            .collect();
        assert_eq!(
            b.verify(&genesis.header, set),
            Err(BlockError::BadSignature)
        );
    }

    #[test]
    fn a_block_final_with_its_descendant_is_proven_through_the_links() {
        let (genesis, keys) = consortium(4);
        let epoch = genesis.epoch();
        let set = &epoch;
        let (first, _) = Block::propose(
            &genesis.header,
            anchors(2),
            6_000,
            genesis.header.validator_set,
        );
        let (second, _) =
            Block::propose(&first.header, anchors(1), 7_000, first.header.validator_set);
        let finality = Finality {
            epoch: 0,
            view: 9,
            parent: 8,
            height: 2,
        };
        let signatures = votes(&keys[1..], &second.header, &finality);
        let seal = |links: &[BlockHeader]| {
            verify_seal(&first.header, &signatures, Some(&finality), links, set)
        };
        seal(core::slice::from_ref(&second.header)).expect("through its child");
        assert_eq!(seal(&[]), Err(BlockError::BrokenLink));
        let mut forged = second.header.clone();
        forged.previous = Digest::ZERO;
        assert_eq!(seal(&[forged]), Err(BlockError::BrokenLink));
        let mut other = second.header.clone();
        other.tx_count += 1;
        assert_eq!(seal(&[other]), Err(BlockError::BadSignature));
    }

    #[test]
    fn a_block_final_later_must_carry_the_certificate_of_the_block_it_names() {
        let (genesis, keys) = consortium(4);
        let (mut first, _) = Block::propose(
            &genesis.header,
            anchors(1),
            6_000,
            genesis.header.validator_set,
        );
        let (mut second, _) =
            Block::propose(&first.header, anchors(2), 7_000, first.header.validator_set);
        let finality = Finality {
            epoch: 0,
            view: 5,
            parent: 3,
            height: 2,
        };
        second.finality = Some(finality);
        second.signatures = votes(&keys[..3], &second.header, &finality);
        first.finality = Some(finality);
        first.signatures = second.signatures.clone();

        let mut later = FinalLater::default();
        assert_eq!(later.take(&first), Ok(()));
        assert_eq!(later.waiting(), Some((1, 2)), "until block 2 comes");
        assert_eq!(later.take(&second), Ok(()));
        assert_eq!(later.waiting(), None);

        let mut other = FinalLater::default();
        first.signatures.pop();
        assert_eq!(other.take(&first), Ok(()));
        assert_eq!(other.take(&second), Err(1), "not block 2's votes");
    }

    #[test]
    fn the_finalize_message_is_the_engines_encoding() {
        // LEB128 varints: 300 takes two bytes (0xac 0x02).
        let chain = ChainId::parse("c").expect("id");
        let finality = Finality {
            epoch: 1,
            view: 300,
            parent: 299,
            height: 7,
        };
        let message = finalize_message(&chain, &finality, &Digest::from_bytes([7; 32]));
        let namespace = b"certus/consensus/v1/c_FINALIZE";
        let mut expected = alloc::vec![namespace.len() as u8];
        expected.extend_from_slice(namespace);
        expected.extend_from_slice(&[0x01, 0xac, 0x02, 0xab, 0x02]);
        expected.extend_from_slice(&[7; 32]);
        assert_eq!(message, expected);
    }
}
