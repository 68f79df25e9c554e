//! Signed transactions, as every member checks them before it votes for a block and
//! before it stores one a peer sent: a `did:certus` operation must apply to its DID as the
//! chain's earlier operations left it (sequence, link, a current key's signature); a trust
//! statement must be signed by its grantor — for `root`, the root authority the genesis
//! names (any validator when it names none); for a DID, the key its `kid` names, as the
//! chain's operations give it (`did:certus`) or as the DID itself does (`did:key`,
//! `did:jwk`); a reliance notice must be signed by its relying party the same way. A
//! validator change must start the next epoch, signed by more than two thirds of the
//! current validators. Reliance records and erasure receipts put only hashes on the chain:
//! the signed record stays with its institution, so there is no signature here to check.

use std::collections::HashMap;

use certus_credential::did::certus::{self as certus_did, At, DidState};
use certus_credential::did::holder_key;
use certus_credential::jose;
use ssi::jwk::JWK;

use crate::kyc::register::{is_month, RELIANCE_NOTICE_TYP};
use crate::ledger::block::{Block, Genesis};
use crate::ledger::epoch::{Epoch, Epochs};
use crate::ledger::hash::Digest;
use crate::ledger::store::Placed;
use crate::ledger::transaction::Transaction;
use crate::trust::{Statement, ROOT};
use certus_schemas::kyc::RelianceNotice;

/// The chain's `did:certus` registry as its final blocks leave it, and whom it trusts to
/// sign statements.
pub struct Registry {
    dids: HashMap<String, DidState>,
    /// The keys that sign as the root authority.
    roots: Vec<JWK>,
    /// The public keys of `did:key` and `did:jwk` grantors (`None`: not one), resolved
    /// ahead of the checks, which do not wait.
    fixed: HashMap<String, Option<JWK>>,
    /// The chain's validator sets, as its final blocks leave them.
    epochs: Epochs,
}

/// The registry with the changes of blocks not final yet (ancestors of a proposal, a
/// proposal itself) on top, the registry itself untouched.
pub struct View<'a> {
    registry: &'a Registry,
    changes: Changes,
}

/// What a [`View`] changed: DID states, and the epochs when a validator change came.
#[derive(Default)]
pub struct Changes {
    dids: HashMap<String, DidState>,
    epochs: Option<Epochs>,
}

impl Registry {
    /// The registry of a chain whose final blocks made `epochs`, before any DID operation
    /// ([`Registry::replay`] takes them).
    pub fn new(genesis: &Genesis, epochs: Epochs) -> Self {
        let roots = match genesis.root_authority {
            Some(root) => vec![root],
            None => genesis.validators.keys().to_vec(),
        };
        Self {
            dids: HashMap::new(),
            roots: roots.iter().map(|key| JWK::from(key.0)).collect(),
            fixed: HashMap::new(),
            epochs,
        }
    }

    /// The validator sets as the final blocks leave them.
    pub fn epochs(&self) -> &Epochs {
        &self.epochs
    }

    /// The `did:key` and `did:jwk` grantors of `transactions`' statements not resolved
    /// yet: for [`Registry::resolve`], before they are checked.
    pub fn unresolved<'t>(
        &self,
        transactions: impl IntoIterator<Item = &'t Transaction>,
    ) -> Vec<String> {
        let mut dids: Vec<String> = transactions
            .into_iter()
            .filter_map(|tx| match tx {
                Transaction::TrustStatement { statement } => {
                    payload::<Statement>(statement).map(|s| s.grantor)
                }
                Transaction::RelianceNotice { notice } => {
                    payload::<RelianceNotice>(notice).map(|n| n.relying_party)
                }
                _ => None,
            })
            .filter(|g| g != ROOT && !certus_did::is_certus(g) && !self.fixed.contains_key(g))
            .collect();
        dids.sort();
        dids.dedup();
        dids
    }

    /// Resolves `dids` (from [`Registry::unresolved`]) to their keys, once.
    pub async fn resolve(&mut self, dids: Vec<String>) {
        for did in dids {
            let key = holder_key(&did).await;
            self.fixed.insert(did, key);
        }
    }

    /// Replays the chain's `did:certus` operations (each final, where it was sealed).
    pub fn replay(&mut self, operations: &[(Placed, Transaction)]) -> anyhow::Result<()> {
        let mut view = self.view();
        for (placed, tx) in operations {
            let at = At::Anchored {
                height: placed.height,
                position: placed.position,
                time_ms: placed.time_ms,
            };
            view.take(tx, at).map_err(|why| {
                anyhow::anyhow!(
                    "block {} transaction {}: {why}",
                    placed.height,
                    placed.position
                )
            })?;
        }
        let changed = view.into_changes();
        self.commit(changed);
        Ok(())
    }

    pub fn view(&self) -> View<'_> {
        View {
            registry: self,
            changes: Changes::default(),
        }
    }

    /// Keeps what a view changed: its blocks are final.
    pub fn commit(&mut self, changes: Changes) {
        self.dids.extend(changes.dids);
        if let Some(epochs) = changes.epochs {
            self.epochs = epochs;
        }
    }
}

impl View<'_> {
    /// Takes `block`'s signed transactions in order; the first that does not hold, and why.
    pub fn take_block(&mut self, block: &Block) -> Result<(), String> {
        for (position, tx) in block.transactions.iter().enumerate() {
            let at = At::Anchored {
                height: block.header.height,
                position: position as u64,
                time_ms: block.header.time_ms,
            };
            self.take(tx, at)
                .map_err(|why| format!("transaction {position}: {why}"))?;
        }
        Ok(())
    }

    /// Takes one transaction sealed at `at`, if it holds (else nothing changes).
    pub fn take(&mut self, tx: &Transaction, at: At) -> Result<(), String> {
        match tx {
            Transaction::DidOperation { operation } => {
                let (_, op) = certus_did::decode(operation).map_err(|e| e.to_string())?;
                let next = match self.did(&op.did) {
                    None => DidState::create(operation, at),
                    Some(state) => {
                        let mut next = state.clone();
                        next.apply(operation, at).map(|()| next)
                    }
                }
                .map_err(|e| format!("a DID operation of {}: {e}", op.did))?;
                self.changes.dids.insert(op.did, next);
                Ok(())
            }
            Transaction::TrustStatement { statement } => self.check_statement(statement, at),
            Transaction::RelianceNotice { notice } => self.check_notice(notice, at),
            Transaction::ValidatorChange(change) => {
                let At::Anchored { height, .. } = at else {
                    return Err("a validator change is only ever anchored".into());
                };
                let mut epochs = self.epochs().clone();
                if epochs.current().first_height > height {
                    return Err("a block holds more than one validator change".into());
                }
                epochs
                    .push(change, height + 1)
                    .map_err(|e| format!("a validator change: {e}"))?;
                self.changes.epochs = Some(epochs);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The validator sets with the changes taken so far.
    pub fn epochs(&self) -> &Epochs {
        self.changes
            .epochs
            .as_ref()
            .unwrap_or(&self.registry.epochs)
    }

    /// The epoch of the block at `height`.
    pub fn epoch_at(&self, height: u64) -> &Epoch {
        self.epochs().at(height)
    }

    pub fn into_changes(self) -> Changes {
        self.changes
    }

    fn did(&self, did: &str) -> Option<&DidState> {
        self.changes
            .dids
            .get(did)
            .or_else(|| self.registry.dids.get(did))
    }

    fn check_statement(&self, statement: &str, at: At) -> Result<(), String> {
        let decoded = jose::decode(statement).map_err(|e| format!("a trust statement: {e}"))?;
        let parsed: Statement = serde_json::from_value(decoded.payload.clone())
            .map_err(|e| format!("not a trust statement: {e}"))?;
        let holds = if parsed.grantor == ROOT {
            decoded.header_str("kid") == Some(ROOT)
                && self
                    .registry
                    .roots
                    .iter()
                    .any(|key| decoded.verify(key).is_ok())
        } else {
            self.signed_by(&decoded, &parsed.grantor, at)
                .map_err(|e| format!("a trust statement of {}: {e}", parsed.grantor))?
        };
        if holds {
            Ok(())
        } else {
            Err(format!(
                "trust statement {} is not signed by its grantor {}",
                parsed.id, parsed.grantor
            ))
        }
    }

    fn check_notice(&self, notice: &str, at: At) -> Result<(), String> {
        let decoded = jose::decode(notice).map_err(|e| format!("a reliance notice: {e}"))?;
        if decoded.header_str("typ") != Some(RELIANCE_NOTICE_TYP) {
            return Err(format!(
                "a reliance notice is typed `{RELIANCE_NOTICE_TYP}`"
            ));
        }
        let parsed: RelianceNotice = serde_json::from_value(decoded.payload.clone())
            .map_err(|e| format!("not a reliance notice: {e}"))?;
        if !is_month(&parsed.month) || Digest::from_hex(&parsed.record).is_err() {
            return Err(format!(
                "reliance notice of {}: `month` is YYYY-MM and `record` a hex SHA-256",
                parsed.record
            ));
        }
        let signed = self
            .signed_by(&decoded, &parsed.relying_party, at)
            .map_err(|e| format!("a reliance notice of {}: {e}", parsed.relying_party))?;
        if signed {
            Ok(())
        } else {
            Err(format!(
                "reliance notice of {} is not signed by its relying party {}",
                parsed.record, parsed.relying_party
            ))
        }
    }

    /// Whether `decoded` is signed by `did` with the key its `kid` names: as the chain's
    /// operations give it at `at` (`did:certus`), or as the DID itself does (`did:key`,
    /// `did:jwk`, resolved ahead by [`Registry::resolve`]).
    fn signed_by(&self, decoded: &jose::DecodedJws<'_>, did: &str, at: At) -> Result<bool, String> {
        let fragment = decoded
            .header_str("kid")
            .and_then(|kid| kid.strip_prefix(did))
            .and_then(|rest| rest.strip_prefix('#'));
        let signed = |key: &JWK| decoded.verify(key).is_ok();
        Ok(match (fragment, self.did(did)) {
            (Some(fragment), Some(state)) => state
                .key_at(fragment, at)
                .map_err(|e| e.to_string())
                .map(signed)?,
            (Some(_), None) => self
                .registry
                .fixed
                .get(did)
                .and_then(Option::as_ref)
                .is_some_and(signed),
            (None, _) => false,
        })
    }
}

/// A JWS's payload, if it reads as a `T`.
fn payload<T: serde::de::DeserializeOwned>(jws: &str) -> Option<T> {
    serde_json::from_value(jose::decode(jws).ok()?.payload).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::block::{ChainId, Member, ValidatorKey};
    use crate::trust::StatementKind;
    use certus_credential::did::certus::{new_did, Op, Operation, PublicKey};
    use certus_credential::did::did_key_for;

    fn signed(payload: &serde_json::Value, typ: &str, kid: &str, key: &JWK) -> String {
        let header = jose::header(&[("typ", typ), ("kid", kid)]);
        jose::sign(header, payload, key).expect("signs")
    }

    fn validator(key: &JWK) -> ValidatorKey {
        let ssi::jwk::Params::OKP(okp) = &key.params else {
            panic!("an Ed25519 key")
        };
        let bytes: [u8; 32] = okp.public_key.0.as_slice().try_into().expect("32 bytes");
        ValidatorKey(ed25519_dalek::VerifyingKey::from_bytes(&bytes).expect("a key"))
    }

    /// A consortium of two whose first member is the root authority; its key.
    fn genesis() -> (Genesis, JWK) {
        let root = JWK::generate_ed25519().expect("key");
        let other = JWK::generate_ed25519().expect("key");
        let members = [("root", &root), ("other", &other)]
            .iter()
            .enumerate()
            .map(|(i, (name, key))| Member {
                name: (*name).into(),
                validator: validator(key),
                address: format!("127.0.0.1:{}", i + 1),
            })
            .collect();
        let chain = ChainId::parse("signed").expect("id");
        let genesis = Genesis::consortium(chain, members, Some("root"), 1_000).expect("genesis");
        (genesis, root)
    }

    fn operation(did: &str, op: Op, sequence: u64, previous: Option<String>) -> Operation {
        Operation {
            did: did.to_owned(),
            op,
            sequence,
            previous,
            key: None,
            key_id: None,
            since: None,
            services: Vec::new(),
        }
    }

    fn did_tx(op: &Operation, key: &JWK, key_id: &str) -> Transaction {
        let payload = serde_json::to_value(op).expect("json");
        let kid = format!("{}#{key_id}", op.did);
        Transaction::DidOperation {
            operation: signed(&payload, "did-operation+jwt", &kid, key),
        }
    }

    fn statement(grantor: &str, kid: &str, key: &JWK) -> Transaction {
        let payload = serde_json::to_value(Statement {
            id: "urn:uuid:00000000-0000-4000-8000-000000000001".into(),
            kind: StatementKind::Accreditation,
            grantor: grantor.to_owned(),
            subject: Some("did:example:subject".into()),
            schemas: Vec::new(),
            valid_from: None,
            valid_until: None,
            max_count: None,
            parent: None,
            issued: "2026-12-05T00:00:00Z".into(),
        })
        .expect("json");
        Transaction::TrustStatement {
            statement: signed(&payload, "trust-statement+jwt", kid, key),
        }
    }

    fn at(position: u64) -> At {
        At::Anchored {
            height: 1,
            position,
            time_ms: 2_000,
        }
    }

    /// A did:certus DID created with `key` (id `key-1`): its create operation.
    fn created(key: &JWK) -> (String, Transaction) {
        let did = new_did();
        let mut create = operation(&did, Op::Create, 0, None);
        create.key = Some(PublicKey {
            id: "key-1".into(),
            public_key_jwk: key.to_public(),
        });
        let tx = did_tx(&create, key, "key-1");
        (did, tx)
    }

    #[test]
    fn did_operations_hold_only_in_sequence_and_signed_by_a_current_key() {
        let (genesis, _) = genesis();
        let mut registry = Registry::new(&genesis, Epochs::new(&genesis));
        let key = JWK::generate_ed25519().expect("key");
        let stranger = JWK::generate_ed25519().expect("key");
        let (did, create) = created(&key);
        let Transaction::DidOperation { operation: jws } = &create else {
            unreachable!()
        };
        let head = certus_did::operation_hash(jws).to_hex();
        let mut next = operation(&did, Op::AddKey, 1, Some(head.clone()));
        next.key = Some(PublicKey {
            id: "key-2".into(),
            public_key_jwk: stranger.to_public(),
        });

        // Before its create, an update does not hold; a forged create does not either.
        let mut view = registry.view();
        assert!(view.take(&did_tx(&next, &key, "key-1"), at(0)).is_err());
        let mut forged = operation(&did, Op::Create, 0, None);
        forged.key = Some(PublicKey {
            id: "key-1".into(),
            public_key_jwk: key.to_public(),
        });
        assert!(view
            .take(&did_tx(&forged, &stranger, "key-1"), at(0))
            .is_err());
        let changes = view.into_changes();
        assert!(
            changes.dids.is_empty() && changes.epochs.is_none(),
            "nothing taken"
        );

        // In order, it holds; the registry keeps it once committed.
        let mut view = registry.view();
        view.take(&create, at(0)).expect("the create holds");
        assert!(
            view.take(&did_tx(&next, &stranger, "key-2"), at(1))
                .is_err(),
            "signed by a key the DID does not hold yet"
        );
        assert!(view.take(&create, at(1)).is_err(), "the same create again");
        view.take(&did_tx(&next, &key, "key-1"), at(1))
            .expect("the update holds");
        let changed = view.into_changes();
        registry.commit(changed);
        let stale = operation(&did, Op::RemoveKey, 1, Some(head));
        assert!(
            registry
                .view()
                .take(&did_tx(&stale, &key, "key-1"), at(0))
                .is_err(),
            "a second operation with the same sequence"
        );
    }

    #[tokio::test]
    async fn a_trust_statement_holds_only_signed_by_its_grantor() {
        let (genesis, root) = genesis();
        let mut registry = Registry::new(&genesis, Epochs::new(&genesis));
        let stranger = JWK::generate_ed25519().expect("key");

        // The root authority's validator key, and no other, signs as `root`.
        let by_root = statement(ROOT, ROOT, &root);
        assert_eq!(registry.view().take(&by_root, at(0)), Ok(()));
        let forged = statement(ROOT, ROOT, &stranger);
        assert!(registry.view().take(&forged, at(0)).is_err());

        // A did:certus grantor: the key the chain's operations gave it.
        let key = JWK::generate_ed25519().expect("key");
        let (did, create) = created(&key);
        let kid = format!("{did}#key-1");
        let mut view = registry.view();
        assert!(
            view.take(&statement(&did, &kid, &key), at(0)).is_err(),
            "before the DID exists"
        );
        view.take(&create, at(0)).expect("created");
        assert_eq!(view.take(&statement(&did, &kid, &key), at(1)), Ok(()));
        assert!(view.take(&statement(&did, &kid, &stranger), at(1)).is_err());
        assert!(
            view.take(&statement(&did, &format!("{did}#key-9"), &key), at(1))
                .is_err(),
            "a key the DID never had"
        );

        // A did:key grantor: its own key, once resolved.
        let (did_key, method) = did_key_for(&key.to_public()).expect("did:key");
        let by_did_key = statement(&did_key, &method, &key);
        assert!(
            registry.view().take(&by_did_key, at(0)).is_err(),
            "not resolved"
        );
        let missing = registry.unresolved([&by_did_key]);
        assert_eq!(missing, vec![did_key.clone()]);
        registry.resolve(missing).await;
        assert!(registry.unresolved([&by_did_key]).is_empty());
        assert_eq!(registry.view().take(&by_did_key, at(0)), Ok(()));
        let forged = statement(&did_key, &method, &stranger);
        assert!(registry.view().take(&forged, at(0)).is_err());

        // Not a statement at all.
        let garbage = Transaction::TrustStatement {
            statement: "e30.e30.AAAA".into(),
        };
        assert!(registry.view().take(&garbage, at(0)).is_err());
    }

    fn notice(relying_party: &str, typ: &str, kid: &str, key: &JWK) -> Transaction {
        let payload = serde_json::to_value(RelianceNotice {
            record: "ab".repeat(32),
            relying_party: relying_party.to_owned(),
            relying_institution: "Bank B".into(),
            kyc_issuer: "did:example:bank-a".into(),
            assurance_level: certus_schemas::kyc::AssuranceLevel::Substantial,
            month: "2026-12".into(),
        })
        .expect("json");
        Transaction::RelianceNotice {
            notice: signed(&payload, typ, kid, key),
        }
    }

    #[tokio::test]
    async fn a_reliance_notice_holds_only_signed_by_its_relying_party() {
        let (genesis, _) = genesis();
        let mut registry = Registry::new(&genesis, Epochs::new(&genesis));
        let stranger = JWK::generate_ed25519().expect("key");
        let key = JWK::generate_ed25519().expect("key");

        // A did:certus relying party: the key the chain's operations gave it.
        let (did, create) = created(&key);
        let kid = format!("{did}#key-1");
        let mut view = registry.view();
        view.take(&create, at(0)).expect("created");
        let by_did = notice(&did, RELIANCE_NOTICE_TYP, &kid, &key);
        assert_eq!(view.take(&by_did, at(1)), Ok(()));
        let forged = notice(&did, RELIANCE_NOTICE_TYP, &kid, &stranger);
        assert!(view.take(&forged, at(1)).is_err(), "another key");
        let untyped = notice(&did, "trust-statement+jwt", &kid, &key);
        assert!(view.take(&untyped, at(1)).is_err(), "another type");

        // A did:key relying party: its own key, once resolved.
        let (did_key, method) = did_key_for(&key.to_public()).expect("did:key");
        let by_did_key = notice(&did_key, RELIANCE_NOTICE_TYP, &method, &key);
        let missing = registry.unresolved([&by_did_key]);
        assert_eq!(missing, vec![did_key.clone()]);
        registry.resolve(missing).await;
        assert_eq!(registry.view().take(&by_did_key, at(0)), Ok(()));
        let in_its_name = notice(&did_key, RELIANCE_NOTICE_TYP, &method, &stranger);
        assert!(registry.view().take(&in_its_name, at(0)).is_err());

        // A day, not a month: finer than a notice may say.
        let mut payload = jose::decode(match &by_did_key {
            Transaction::RelianceNotice { notice } => notice,
            _ => unreachable!(),
        })
        .expect("jws")
        .payload;
        payload["month"] = "2026-12-05".into();
        let daily = Transaction::RelianceNotice {
            notice: signed(&payload, RELIANCE_NOTICE_TYP, &method, &key),
        };
        assert!(registry.view().take(&daily, at(0)).is_err());

        // Not a notice at all.
        let garbage = Transaction::RelianceNotice {
            notice: "e30.e30.AAAA".into(),
        };
        assert!(registry.view().take(&garbage, at(0)).is_err());
    }

    #[test]
    fn a_validator_change_holds_once_per_block_as_the_next_epoch_signed_by_a_quorum() {
        use crate::ledger::epoch::ValidatorChange;
        let keys: Vec<ed25519_dalek::SigningKey> = (1..=3u8)
            .map(|i| ed25519_dalek::SigningKey::from_bytes(&[i; 32]))
            .collect();
        let member = |i: usize| Member {
            name: format!("m{i}"),
            validator: ValidatorKey(keys[i].verifying_key()),
            address: format!("127.0.0.1:{}", i + 1),
        };
        let chain = ChainId::parse("signed").expect("id");
        let genesis = Genesis::consortium(chain.clone(), vec![member(0), member(1)], None, 1_000)
            .expect("genesis");
        let registry = Registry::new(&genesis, Epochs::new(&genesis));
        let mut change = ValidatorChange {
            epoch: 1,
            members: vec![member(0), member(1), member(2)],
            signatures: Vec::new(),
        };
        let in_block = |height| At::Anchored {
            height,
            position: 0,
            time_ms: 2_000,
        };
        change.sign(&chain, &keys[0]).expect("signs");
        let one = Transaction::ValidatorChange(change.clone());
        assert!(
            registry.view().take(&one, in_block(1)).is_err(),
            "one of two"
        );
        change.sign(&chain, &keys[2]).expect("signs");
        let stranger = Transaction::ValidatorChange(change.clone());
        assert!(
            registry.view().take(&stranger, in_block(1)).is_err(),
            "signed by a member not yet a validator"
        );
        change.signatures.pop();
        change.sign(&chain, &keys[1]).expect("signs");
        let both = Transaction::ValidatorChange(change);
        let mut view = registry.view();
        view.take(&both, in_block(1)).expect("a quorum of two");
        assert_eq!(
            view.epoch_at(1).number,
            0,
            "the block that holds it ends epoch 0"
        );
        assert_eq!(view.epoch_at(2).number, 1);
        assert_eq!(view.epoch_at(2).validators.keys().len(), 3);
        assert!(
            view.take(&both, in_block(1)).is_err(),
            "a second change in the block"
        );
        assert!(view.take(&both, in_block(2)).is_err(), "epoch 1 again");
    }
}
