//! The `did:certus` DIDs of this node: their operations in the database (each queued as a
//! chain transaction in the same database transaction), their states replayed in chain
//! order, and the tenants' private keys for them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};

use crate::coherence::Reload;
use crate::error::{DomainError, ErrorKind};
use crate::keys::{self, Custody, IssuerKey, KeyStore, KeyType};
use crate::ledger::store as ledger_store;
use crate::ledger::transaction::Transaction;
use crate::store::entities::{did_operations, signing_keys};
use crate::store::Reads;
use crate::work::Work;
use certus_credential::did::certus::{
    self, At, DidError, DidState, Op, Operation, PublicKey, Service,
};
use certus_credential::did::CertusDids;
use certus_credential::jose;

/// Why a DID could not be resolved or changed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("there is no DID `{0}` on this chain")]
    NotFound(String),
    #[error("the DID `{0}` is not controlled by this tenant")]
    NotOwned(String),
    #[error("this node holds no current private key of `{0}`")]
    NoKey(String),
    #[error(transparent)]
    Did(#[from] DidError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for RegistryError {
    fn from(e: DbErr) -> Self {
        Self::Internal(e.into())
    }
}

impl DomainError for RegistryError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "DID_NOT_FOUND",
            Self::NotOwned(_) => "DID_NOT_OWNED",
            Self::NoKey(_) => "NO_CURRENT_KEY",
            Self::Did(e) => e.code(),
            Self::Internal(_) => "INTERNAL",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::NotOwned(_) => ErrorKind::Forbidden,
            Self::NoKey(_) | Self::Did(_) => ErrorKind::Conflict,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }
}

/// The `did:certus` DIDs in this node's database.
pub struct DidRegistry {
    db: DatabaseConnection,
    /// Where DIDs are resolved from (a read replica, when configured).
    reads: Reads,
    keys: Arc<KeyStore>,
    custody: Custody,
    /// Operations are written one at a time in this process.
    writing: tokio::sync::Mutex<()>,
}

impl Reload for DidRegistry {
    /// Takes in the issuer keys created, rotated or retired through another process.
    fn reload(&self) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + '_>> {
        Box::pin(self.keys.reload(&self.db, &self.custody))
    }
}

impl std::fmt::Debug for DidRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DidRegistry").finish_non_exhaustive()
    }
}

/// The resolver's `did:certus` source: every operation this node holds, anchored or pending.
impl CertusDids for DidRegistry {
    fn current_state<'a>(
        &'a self,
        did: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Option<DidState>, String>> + Send + 'a>> {
        Box::pin(async move { self.resolve(did, None).await.map_err(|e| e.to_string()) })
    }
}

/// A change to write: the operation (without sequence and chain link) and its signer.
struct Pending {
    op: Operation,
    signer: Arc<IssuerKey>,
}

impl DidRegistry {
    pub fn new(db: DatabaseConnection, keys: Arc<KeyStore>, custody: Custody) -> Self {
        Self {
            reads: Reads::primary(db.clone()),
            db,
            keys,
            custody,
            writing: Default::default(),
        }
    }

    /// DIDs are resolved through `reads` (a read replica, when configured); what they are
    /// changed from is always read from the primary.
    pub fn with_reads(self, reads: Reads) -> Self {
        Self { reads, ..self }
    }

    /// The DID's signed operations in `db` in sequence (compact JWS), each with where it
    /// stands on the chain: those this node made, or — for a DID another member of the
    /// consortium made — those final on the shared chain, in chain order.
    async fn operations(db: &DatabaseConnection, did: &str) -> Result<Vec<(String, At)>, DbErr> {
        let rows = did_operations::Entity::find()
            .filter(did_operations::Column::Did.eq(did))
            .order_by_asc(did_operations::Column::Sequence)
            .all(db)
            .await?;
        if rows.is_empty() {
            return Self::operations_on_chain(db, did).await;
        }
        let placed = ledger_store::placed(db, rows.iter().map(|r| r.hash.clone())).await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let at = placed
                    .get(&row.hash)
                    .map(anchored_at)
                    .unwrap_or(At::Pending { at_ms: row.at_ms });
                (row.operation, at)
            })
            .collect())
    }

    /// The final operations of `did` on the chain, in chain order: how a node resolves a
    /// DID that another member made.
    async fn operations_on_chain(
        db: &DatabaseConnection,
        did: &str,
    ) -> Result<Vec<(String, At)>, DbErr> {
        Ok(
            ledger_store::sealed(db, crate::ledger::transaction::Kind::DidOperation)
                .await?
                .into_iter()
                .filter_map(|(placed, tx)| match tx {
                    Transaction::DidOperation { operation }
                        if certus::decode(&operation).is_ok_and(|(_, op)| op.did == did) =>
                    {
                        Some((operation, anchored_at(&placed)))
                    }
                    _ => None,
                })
                .collect(),
        )
    }

    /// The DID's state as resolved (see [`DidRegistry::state_in`]): from a replica when
    /// configured, which may be behind by its lag, and from the primary when the replica
    /// does not know the DID (yet).
    pub async fn resolve(
        &self,
        did: &str,
        version_time_ms: Option<i64>,
    ) -> Result<Option<DidState>, RegistryError> {
        self.reads
            .lagging(
                |db| async move { Self::state_in(&db, did, version_time_ms).await },
                Option::is_some,
            )
            .await
    }

    /// The DID's current state in the primary, which changes are made from.
    async fn state(&self, did: &str) -> Result<Option<DidState>, RegistryError> {
        Self::state_in(&self.db, did, None).await
    }

    /// The DID's state in `db` after all its operations, or (with `version_time_ms`) after
    /// those anchored by then; `None` when it did not exist.
    async fn state_in(
        db: &DatabaseConnection,
        did: &str,
        version_time_ms: Option<i64>,
    ) -> Result<Option<DidState>, RegistryError> {
        let mut state: Option<DidState> = None;
        for (sequence, (operation, at)) in Self::operations(db, did).await?.into_iter().enumerate()
        {
            let included = match (version_time_ms, at) {
                (None, _) => true,
                (Some(t), At::Anchored { time_ms, .. }) => time_ms <= t,
                (Some(_), At::Pending { .. }) => false,
            };
            if !included {
                break;
            }
            // Every stored operation was checked when written (or, another member's, by
            // every member before it was final): one that no longer applies means the
            // store was altered.
            let replayed = match &mut state {
                None => DidState::create(&operation, at).map(|s| state = Some(s)),
                Some(s) => s.apply(&operation, at),
            };
            replayed.map_err(|e| {
                anyhow::anyhow!("stored operation {sequence} of {did} does not replay: {e}")
            })?;
        }
        Ok(state)
    }

    /// The tenant that controls `did`.
    async fn controller(&self, did: &str) -> Result<String, RegistryError> {
        did_operations::Entity::find_by_id((did.to_owned(), 0))
            .one(&self.db)
            .await?
            .map(|r| r.tenant_id)
            .ok_or_else(|| RegistryError::NotFound(did.to_owned()))
    }

    /// A new key for `did`, with its private part's row.
    fn new_key(
        &self,
        tenant_id: &str,
        did: &str,
        key_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(Arc<IssuerKey>, signing_keys::ActiveModel), RegistryError> {
        let verification_method = format!("{did}#{key_id}");
        let (signer, stored) = self
            .custody
            .generate(KeyType::Ed25519, &verification_method)?;
        let row = signing_keys::ActiveModel {
            id: Set(verification_method.clone()),
            tenant_id: Set(tenant_id.to_owned()),
            did: Set(did.to_owned()),
            algorithm: Set(signer.algorithm().to_string()),
            public_jwk: Set(
                serde_json::to_string(&signer.public_jwk()).map_err(anyhow::Error::from)?
            ),
            private_jwe: Set(stored),
            is_default: Set(false),
            created_at: Set(now),
        };
        let key = Arc::new(IssuerKey {
            tenant_id: tenant_id.to_owned(),
            did: did.to_owned(),
            verification_method,
            signer,
        });
        Ok((key, row))
    }

    /// Signs, checks and writes `changes` in order after `state` (`None`: a create), with
    /// the key rows to add and the key ids to forget, in one database transaction.
    async fn write(
        &self,
        tenant_id: &str,
        mut state: Option<DidState>,
        changes: Vec<Pending>,
        new_keys: Vec<(Arc<IssuerKey>, signing_keys::ActiveModel)>,
        forget: Vec<String>,
        now: DateTime<Utc>,
    ) -> Result<DidState, RegistryError> {
        let mut work = Work::begin(&self.db, now).await?;
        let at = At::Pending {
            at_ms: now.timestamp_millis(),
        };
        for Pending { mut op, signer } in changes {
            if let Some(s) = &state {
                op.sequence = s.sequence + 1;
                op.previous = Some(s.head.to_hex());
            }
            let header = jose::header(&[
                ("typ", "did-operation+jwt"),
                ("kid", &signer.verification_method),
            ]);
            let payload = serde_json::to_value(&op).map_err(anyhow::Error::from)?;
            let jws = jose::sign(header, &payload, signer.signer.as_ref())
                .map_err(|e| anyhow::anyhow!("signing a DID operation: {e}"))?;
            match &mut state {
                None => state = Some(DidState::create(&jws, at)?),
                Some(s) => s.apply(&jws, at)?,
            }
            did_operations::ActiveModel {
                did: Set(op.did.clone()),
                sequence: Set(op.sequence as i64),
                tenant_id: Set(tenant_id.to_owned()),
                operation: Set(jws.clone()),
                hash: Set(certus::operation_hash(&jws).to_hex()),
                at_ms: Set(now.timestamp_millis()),
            }
            .insert(work.conn())
            .await?;
            work.anchor(&Transaction::DidOperation { operation: jws });
            let action = match op.op {
                Op::Create => "did.create",
                Op::AddKey => "did.add-key",
                Op::RemoveKey => "did.remove-key",
                Op::Compromise => "did.compromise",
                Op::Deactivate => "did.deactivate",
            };
            work.audit(tenant_id, "system", action, &op.did);
        }
        let rows: Vec<signing_keys::ActiveModel> =
            new_keys.iter().map(|(_, row)| row.clone()).collect();
        keys::save(work.conn(), rows).await?;
        keys::delete(work.conn(), &forget).await?;
        work.commit().await?;
        for (key, _) in new_keys {
            self.keys.insert(key);
        }
        for method in forget {
            self.keys.forget(&method);
        }
        state.ok_or_else(|| RegistryError::Internal(anyhow::anyhow!("no operation was written")))
    }

    /// Creates a `did:certus` DID for `tenant_id` with a new Ed25519 key (`key-1`).
    pub async fn create(
        &self,
        tenant_id: &str,
        services: Vec<Service>,
        now: DateTime<Utc>,
    ) -> Result<DidState, RegistryError> {
        let _one = self.writing.lock().await;
        let did = certus::new_did();
        let (key, row) = self.new_key(tenant_id, &did, "key-1", now)?;
        let op = Operation {
            did: did.clone(),
            op: Op::Create,
            sequence: 0,
            previous: None,
            key: Some(PublicKey {
                id: "key-1".into(),
                public_key_jwk: key.public_jwk(),
            }),
            key_id: None,
            since: None,
            services,
        };
        let changes = vec![Pending {
            op,
            signer: key.clone(),
        }];
        self.write(tenant_id, None, changes, vec![(key, row)], Vec::new(), now)
            .await
    }

    /// The current state of a DID `tenant_id` controls, and the key it signs with now.
    async fn owned(
        &self,
        tenant_id: &str,
        did: &str,
    ) -> Result<(DidState, Arc<IssuerKey>), RegistryError> {
        if self.controller(did).await? != tenant_id {
            return Err(RegistryError::NotOwned(did.to_owned()));
        }
        let state = self
            .state(did)
            .await?
            .ok_or_else(|| RegistryError::NotFound(did.to_owned()))?;
        if state.deactivated.is_some() {
            return Err(DidError::Deactivated.into());
        }
        let signer = self
            .keys
            .key_for_issuer(tenant_id, did)
            .ok_or_else(|| RegistryError::NoKey(did.to_owned()))?;
        Ok((state, signer))
    }

    fn operation(did: &str, op: Op) -> Operation {
        Operation {
            did: did.to_owned(),
            op,
            sequence: 0,
            previous: None,
            key: None,
            key_id: None,
            since: None,
            services: Vec::new(),
        }
    }

    /// Adds a new key (signed by the current one) and, with `retire`, then removes the
    /// current one (signed by the new one): a rotation. Credentials anchored before stay
    /// verifiable.
    pub async fn add_key(
        &self,
        tenant_id: &str,
        did: &str,
        retire: bool,
        now: DateTime<Utc>,
    ) -> Result<DidState, RegistryError> {
        let _one = self.writing.lock().await;
        let (state, current) = self.owned(tenant_id, did).await?;
        let key_id = format!("key-{}", state.keys.len() + 1);
        let (next, row) = self.new_key(tenant_id, did, &key_id, now)?;
        let mut add = Self::operation(did, Op::AddKey);
        add.key = Some(PublicKey {
            id: key_id,
            public_key_jwk: next.public_jwk(),
        });
        let mut remove = Self::operation(did, Op::RemoveKey);
        remove.key_id = current
            .verification_method
            .split_once('#')
            .map(|(_, id)| id.to_owned());
        let mut changes = vec![Pending {
            op: add,
            signer: current.clone(),
        }];
        let mut forget = Vec::new();
        if retire {
            changes.push(Pending {
                op: remove,
                signer: next.clone(),
            });
            forget.push(current.verification_method.clone());
        }
        self.write(
            tenant_id,
            Some(state),
            changes,
            vec![(next, row)],
            forget,
            now,
        )
        .await
    }

    /// Marks `key_id` compromised since `since`: credentials anchored from then on no
    /// longer verify with it. This node forgets its private part.
    pub async fn compromise(
        &self,
        tenant_id: &str,
        did: &str,
        key_id: &str,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<DidState, RegistryError> {
        let _one = self.writing.lock().await;
        let (state, signer) = self.owned(tenant_id, did).await?;
        let mut op = Self::operation(did, Op::Compromise);
        op.key_id = Some(key_id.to_owned());
        op.since = Some(since.to_rfc3339());
        let method = format!("{did}#{key_id}");
        self.write(
            tenant_id,
            Some(state),
            vec![Pending { op, signer }],
            Vec::new(),
            vec![method],
            now,
        )
        .await
    }

    /// Deactivates the DID for good; this node forgets its private keys.
    pub async fn deactivate(
        &self,
        tenant_id: &str,
        did: &str,
        now: DateTime<Utc>,
    ) -> Result<DidState, RegistryError> {
        let _one = self.writing.lock().await;
        let (state, signer) = self.owned(tenant_id, did).await?;
        let forget = state
            .current_keys()
            .map(|k| format!("{did}#{}", k.id))
            .collect();
        let op = Self::operation(did, Op::Deactivate);
        self.write(
            tenant_id,
            Some(state),
            vec![Pending { op, signer }],
            Vec::new(),
            forget,
            now,
        )
        .await
    }
}

/// Where a final transaction stands on the chain, as a DID operation's point in time.
fn anchored_at(placed: &ledger_store::Placed) -> At {
    At::Anchored {
        height: placed.height,
        position: placed.position,
        time_ms: placed.time_ms,
    }
}

/// Checks every stored DID operation: its hash column is its hash, it is on the chain (or
/// waiting for the next block), and each DID's operations replay in sequence — signatures,
/// links and keys — from its creation. The number of operations, or the first that does
/// not hold.
pub async fn verify_store(db: &DatabaseConnection) -> Result<u64, String> {
    let rows = did_operations::Entity::find()
        .order_by_asc(did_operations::Column::Did)
        .order_by_asc(did_operations::Column::Sequence)
        .all(db)
        .await
        .map_err(|e| e.to_string())?;
    let mut state: Option<DidState> = None;
    let mut previous: Option<&str> = None;
    let mut sequence = 0;
    for row in &rows {
        let wrong = |what: &str| format!("operation {} of {}: {what}", row.sequence, row.did);
        if row.hash != certus::operation_hash(&row.operation).to_hex() {
            return Err(wrong("its stored hash is not its hash"));
        }
        let tx = Transaction::DidOperation {
            operation: row.operation.clone(),
        };
        if !ledger_store::is_recorded(db, &tx)
            .await
            .map_err(|e| e.to_string())?
        {
            return Err(wrong("not anchored"));
        }
        if previous != Some(row.did.as_str()) {
            state = None;
            previous = Some(row.did.as_str());
            sequence = 0;
        }
        if row.sequence != sequence {
            return Err(wrong(&format!("out of sequence (expected {sequence})")));
        }
        sequence += 1;
        let at = At::Pending { at_ms: row.at_ms };
        let replayed = match &mut state {
            None => DidState::create(&row.operation, at).map(|s| state = Some(s)),
            Some(s) => s.apply(&row.operation, at),
        };
        replayed.map_err(|e| wrong(&format!("does not replay: {e}")))?;
        if state.as_ref().map(|s| s.did.as_str()) != Some(row.did.as_str()) {
            return Err(wrong("it is an operation of another DID"));
        }
    }
    Ok(rows.len() as u64)
}
