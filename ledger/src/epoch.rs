//! Validator-set changes: a consortium's validators change at a block boundary, by a
//! [`ValidatorChange`] transaction signed by more than two thirds of the validators of the
//! epoch it ends. The block that holds it is the last of its epoch; the next block starts
//! the new one, final with the new validators' votes (their [`Finality::epoch`] is the new
//! epoch's number).
//!
//! The genesis fixes epoch 0. Each change names the epoch it starts, so the chain of
//! changes from the genesis proves every later set — which is what a receipt of a block of
//! a later epoch carries ([`super::receipt::Receipt::epochs`]).
//!
//! [`Finality::epoch`]: super::block::Finality::epoch

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::block::{
    check_members, Block, BlockError, BlockSignature, ChainId, Genesis, Member, ValidatorKey,
    ValidatorSet, ValidatorSigner,
};
use super::hash::{Digest, VALIDATOR_CHANGE};
use super::transaction::{DecodeError, Transaction};

/// The members of a consortium from the next block on, signed by more than two thirds of
/// the current validators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValidatorChange {
    /// The epoch this change starts: one after the epoch whose validators sign it.
    pub epoch: u64,
    /// Every member of the new epoch (kept ones included), one per validator.
    pub members: Vec<Member>,
    /// Validators of the current epoch, each over [`ValidatorChange::message`].
    pub signatures: Vec<BlockSignature>,
}

/// Most members a change may name: as many as `certus consortium init` makes, and what a
/// node's network sizes its peer sets for.
pub const MAX_MEMBERS: usize = 100;

impl ValidatorChange {
    /// What each signing validator signs: SHA-256 over [`VALIDATOR_CHANGE`], the chain id,
    /// the epoch and the members' encoding — never the signatures.
    pub fn message(&self, chain: &ChainId) -> Digest {
        let chain = chain.as_str().as_bytes();
        let mut members = Vec::new();
        encode_members(&mut members, &self.members);
        Digest::of(&[
            VALIDATOR_CHANGE,
            &(chain.len() as u16).to_be_bytes(),
            chain,
            &self.epoch.to_be_bytes(),
            &members,
        ])
    }

    /// Adds `key`'s signature (replacing an earlier one by the same key).
    pub fn sign(
        &mut self,
        chain: &ChainId,
        key: &impl ValidatorSigner,
    ) -> Result<(), ed25519_dalek::SignatureError> {
        let validator = key.validator();
        let signature = key.sign_message(self.message(chain).as_bytes())?;
        self.signatures.retain(|s| s.validator != validator);
        self.signatures.push(BlockSignature {
            validator,
            signature,
        });
        Ok(())
    }

    /// The new epoch's validators.
    pub fn validators(&self) -> Result<ValidatorSet, BlockError> {
        ValidatorSet::new(self.members.iter().map(|m| m.validator).collect())
    }

    /// Checks this change as the successor of `current`: the next epoch's number, members
    /// well formed (one per validator, distinct names and addresses), and signed by a
    /// quorum of `current`'s validators.
    pub fn verify(&self, chain: &ChainId, current: &Epoch) -> Result<ValidatorSet, BlockError> {
        if current.number.checked_add(1) != Some(self.epoch) {
            return Err(BlockError::WrongEpoch);
        }
        let set = self.validators()?;
        if self.members.len() > MAX_MEMBERS || !check_members(&self.members, &set) {
            return Err(BlockError::BadMembers);
        }
        let message = self.message(chain);
        current
            .validators
            .check_signatures(&self.signatures, message.as_bytes())?;
        Ok(set)
    }

    /// The binary encoding (after the transaction's kind byte): epoch, members, then
    /// signatures, counts in two bytes and strings length-prefixed (two bytes).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.epoch.to_be_bytes());
        encode_members(out, &self.members);
        out.extend_from_slice(&(self.signatures.len() as u16).to_be_bytes());
        for s in &self.signatures {
            out.extend_from_slice(s.validator.0.as_bytes());
            out.extend_from_slice(&s.signature.to_bytes());
        }
    }

    /// Parses [`ValidatorChange::encode`]'s output, all of it.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader(bytes);
        let epoch = u64::from_be_bytes(r.array()?);
        let count = r.count()?;
        let mut members = Vec::with_capacity(count);
        for _ in 0..count {
            let validator = r.key()?;
            let name = r.string()?;
            let address = r.string()?;
            members.push(Member {
                name,
                validator,
                address,
            });
        }
        let count = r.count()?;
        let mut signatures = Vec::with_capacity(count);
        for _ in 0..count {
            let validator = r.key()?;
            let signature = ed25519_dalek::Signature::from_bytes(&r.array()?);
            signatures.push(BlockSignature {
                validator,
                signature,
            });
        }
        if !r.0.is_empty() {
            return Err(DecodeError::WrongLength);
        }
        Ok(Self {
            epoch,
            members,
            signatures,
        })
    }
}

fn encode_members(out: &mut Vec<u8>, members: &[Member]) {
    out.extend_from_slice(&(members.len() as u16).to_be_bytes());
    for m in members {
        out.extend_from_slice(m.validator.0.as_bytes());
        for text in [&m.name, &m.address] {
            out.extend_from_slice(&(text.len() as u16).to_be_bytes());
            out.extend_from_slice(text.as_bytes());
        }
    }
}

/// Reads the parts of an encoding in turn; too short is [`DecodeError::WrongLength`].
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        if self.0.len() < n {
            return Err(DecodeError::WrongLength);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        self.take(N)?
            .try_into()
            .map_err(|_| DecodeError::WrongLength)
    }

    fn count(&mut self) -> Result<usize, DecodeError> {
        Ok(usize::from(u16::from_be_bytes(self.array()?)))
    }

    fn key(&mut self) -> Result<ValidatorKey, DecodeError> {
        ed25519_dalek::VerifyingKey::from_bytes(&self.array()?)
            .map(ValidatorKey)
            .map_err(|_| DecodeError::WrongLength)
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let n = self.count()?;
        core::str::from_utf8(self.take(n)?)
            .map(String::from)
            .map_err(|_| DecodeError::WrongLength)
    }
}

/// The validator change `block` holds, if any: a block holds at most one.
pub fn change_in(block: &Block) -> Result<Option<&ValidatorChange>, BlockError> {
    let mut changes = block.transactions.iter().filter_map(|tx| match tx {
        Transaction::ValidatorChange(change) => Some(change),
        _ => None,
    });
    let change = changes.next();
    if changes.next().is_some() {
        return Err(BlockError::TwoChanges);
    }
    Ok(change)
}

/// One epoch of a chain: its number, its first block and its validators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Epoch {
    pub number: u64,
    /// The height of its first block (1 for epoch 0: the genesis is no epoch's block).
    pub first_height: u64,
    /// Its institutions (empty on a single node's chain).
    pub members: Vec<Member>,
    pub validators: ValidatorSet,
    /// The change that started it (none for epoch 0, which the genesis starts).
    pub change: Option<ValidatorChange>,
}

/// A chain's epochs, from the genesis's on, as its blocks' [`ValidatorChange`]s made them.
#[derive(Debug, Clone)]
pub struct Epochs {
    chain: ChainId,
    epochs: Vec<Epoch>,
}

impl Epochs {
    /// Epoch 0: the genesis's validators.
    pub fn new(genesis: &Genesis) -> Self {
        Self {
            chain: genesis.header.chain_id.clone(),
            epochs: alloc::vec![Epoch {
                number: 0,
                first_height: 1,
                members: genesis.members.clone(),
                validators: genesis.validators.clone(),
                change: None,
            }],
        }
    }

    /// The latest epoch.
    pub fn current(&self) -> &Epoch {
        &self.epochs[self.epochs.len() - 1]
    }

    /// Every epoch, oldest first.
    pub fn all(&self) -> &[Epoch] {
        &self.epochs
    }

    /// The changes from the genesis's validators to those of the epoch of block `height`:
    /// what a receipt of that block carries.
    pub fn changes_to(&self, height: u64) -> Vec<ValidatorChange> {
        let number = self.at(height).number;
        self.epochs
            .iter()
            .take_while(|e| e.number <= number)
            .filter_map(|e| e.change.clone())
            .collect()
    }

    /// The epoch the block at `height` belongs to.
    pub fn at(&self, height: u64) -> &Epoch {
        self.epochs
            .iter()
            .rev()
            .find(|e| e.first_height <= height)
            .unwrap_or(&self.epochs[0])
    }

    /// Starts the epoch `change` makes (checked against the current one) at block
    /// `first_height`.
    pub fn push(&mut self, change: &ValidatorChange, first_height: u64) -> Result<(), BlockError> {
        let validators = change.verify(&self.chain, self.current())?;
        self.epochs.push(Epoch {
            number: change.epoch,
            first_height,
            members: change.members.clone(),
            validators,
            change: Some(change.clone()),
        });
        Ok(())
    }

    /// Takes the next block of the chain (checked already): a change in it (at most one)
    /// starts a new epoch from the block after it.
    pub fn apply(&mut self, block: &Block) -> Result<(), BlockError> {
        match change_in(block)? {
            Some(change) => self.push(change, block.header.height + 1),
            None => Ok(()),
        }
    }

    /// Checks `block` as the successor of `previous` in the epoch of its height
    /// ([`Block::verify`]), then takes it ([`Epochs::apply`]).
    pub fn verify_and_apply(
        &mut self,
        block: &Block,
        previous: &super::block::BlockHeader,
    ) -> Result<(), BlockError> {
        let epoch = self.at(block.header.height);
        block.verify(previous, epoch)?;
        self.apply(block)
    }
}

#[cfg(test)]
mod tests {
    use alloc::format;
    use alloc::vec;

    use ed25519_dalek::SigningKey;

    use super::*;
    use crate::block::Finality;
    use crate::merkle::LeafIndex;
    use crate::receipt::{Receipt, ReceiptError};
    use crate::transaction::credential_commitment;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn member(seed: u8) -> Member {
        Member {
            name: format!("member-{seed}"),
            validator: ValidatorKey(key(seed).verifying_key()),
            address: format!("127.0.0.1:{}", 7000 + u16::from(seed)),
        }
    }

    fn genesis() -> Genesis {
        let members = (1..=4).map(member).collect();
        Genesis::consortium(ChainId::parse("c").expect("id"), members, None, 1_000)
            .expect("genesis")
    }

    /// Epoch 1: members 1–5, signed by `signers` of epoch 0.
    fn add_five(signers: &[u8]) -> ValidatorChange {
        let mut change = ValidatorChange {
            epoch: 1,
            members: (1..=5).map(member).collect(),
            signatures: Vec::new(),
        };
        let chain = ChainId::parse("c").expect("id");
        for s in signers {
            change.sign(&chain, &key(*s)).expect("signs");
        }
        change
    }

    /// `block` final with the votes of `voters` in `epoch`.
    fn finalise(block: &mut Block, voters: &[u8], epoch: u64) {
        let finality = Finality {
            epoch,
            view: block.header.height,
            parent: block.header.height - 1,
            height: block.header.height,
        };
        let message =
            crate::block::finalize_message(&block.header.chain_id, &finality, &block.header.hash());
        block.signatures = voters
            .iter()
            .map(|v| BlockSignature {
                validator: ValidatorKey(key(*v).verifying_key()),
                signature: ed25519_dalek::Signer::sign(&key(*v), &message),
            })
            .collect();
        block.finality = Some(finality);
    }

    #[test]
    fn a_change_signed_by_a_quorum_starts_the_next_epoch_at_the_next_block() {
        let genesis = genesis();
        let mut epochs = Epochs::new(&genesis);
        let change = add_five(&[1, 2, 3]);
        let (mut b1, _) = Block::propose(
            &genesis.header,
            vec![Transaction::ValidatorChange(change.clone())],
            2_000,
            genesis.validators.hash(),
        );
        finalise(&mut b1, &[1, 2, 3], 0);
        epochs.verify_and_apply(&b1, &genesis.header).expect("b1");
        assert_eq!(epochs.current().number, 1);
        assert_eq!(epochs.current().first_height, 2);
        assert_eq!(epochs.at(1).number, 0);

        // The next block names the new set and is final with the new epoch's votes: four
        // of five now (three of them would have been a quorum before).
        let new_set = change.validators().expect("set");
        let anchor = Transaction::CredentialAnchor {
            commitment: credential_commitment(b"x"),
        };
        let (mut b2, _) = Block::propose(&b1.header, vec![anchor], 3_000, new_set.hash());
        finalise(&mut b2, &[1, 2, 3], 1);
        assert_eq!(
            epochs.clone().verify_and_apply(&b2, &b1.header),
            Err(BlockError::NoQuorum)
        );
        finalise(&mut b2, &[2, 3, 4, 5], 0);
        assert_eq!(
            epochs.clone().verify_and_apply(&b2, &b1.header),
            Err(BlockError::WrongEpoch)
        );
        finalise(&mut b2, &[2, 3, 4, 5], 1);
        epochs
            .clone()
            .verify_and_apply(&b2, &b1.header)
            .expect("b2");

        // A receipt of b2 proves the new set from the genesis with the change it carries.
        let mut receipt = Receipt::new(&b2, LeafIndex(0), Vec::new()).expect("receipt");
        assert_eq!(
            receipt.verify(&genesis).map(|_| ()),
            Err(ReceiptError::Header(BlockError::WrongEpoch))
        );
        receipt.epochs = vec![change.clone()];
        assert_eq!(receipt.verify(&genesis).expect("holds").height, 2);
        let mut forged = receipt.clone();
        forged.epochs[0].members[0].name = "mallory".into();
        assert_eq!(
            forged.verify(&genesis).map(|_| ()),
            Err(ReceiptError::Header(BlockError::BadSignature))
        );

        let mut old_set = b2.clone();
        old_set.header.validator_set = genesis.validators.hash();
        finalise(&mut old_set, &[2, 3, 4, 5], 1);
        assert_eq!(
            epochs.verify_and_apply(&old_set, &b1.header),
            Err(BlockError::ValidatorSetMismatch)
        );
    }

    #[test]
    fn a_change_without_a_quorum_or_out_of_turn_is_refused() {
        let genesis = genesis();
        let epochs = Epochs::new(&genesis);
        let current = epochs.current();
        let chain = &genesis.header.chain_id;
        assert_eq!(
            add_five(&[1, 2]).verify(chain, current),
            Err(BlockError::NoQuorum)
        );
        assert_eq!(
            add_five(&[1, 2, 5]).verify(chain, current),
            Err(BlockError::UnknownValidator),
            "member 5 is not a validator yet"
        );
        let mut skipped = add_five(&[1, 2, 3]);
        skipped.epoch = 2;
        assert_eq!(skipped.verify(chain, current), Err(BlockError::WrongEpoch));
        let mut tampered = add_five(&[1, 2, 3]);
        tampered.members[4].address = "10.0.0.1:1".into();
        assert_eq!(
            tampered.verify(chain, current),
            Err(BlockError::BadSignature)
        );
        let mut twice = add_five(&[]);
        twice.members[4].name = "member-1".into();
        for s in [1, 2, 3] {
            twice.sign(chain, &key(s)).expect("signs");
        }
        assert_eq!(twice.verify(chain, current), Err(BlockError::BadMembers));
        let other = ChainId::parse("other").expect("id");
        assert_eq!(
            add_five(&[1, 2, 3]).verify(&other, current),
            Err(BlockError::BadSignature)
        );
    }

    #[test]
    fn the_encoding_round_trips_and_refuses_trailing_or_missing_bytes() {
        let change = add_five(&[1, 2, 3]);
        let tx = Transaction::ValidatorChange(change);
        let bytes = tx.encode();
        assert_eq!(Transaction::decode(&bytes), Ok(tx.clone()));
        let json = serde_json::to_string(&tx).expect("json");
        assert!(
            json.starts_with(r#"{"type":"validatorChange","epoch":1,"#),
            "{json}"
        );
        assert_eq!(
            serde_json::from_str::<Transaction>(&json).expect("parses"),
            tx
        );
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(Transaction::decode(&longer), Err(DecodeError::WrongLength));
        assert_eq!(
            Transaction::decode(&bytes[..bytes.len() - 1]),
            Err(DecodeError::WrongLength)
        );
    }
}
