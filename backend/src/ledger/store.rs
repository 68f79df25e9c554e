//! The chain in the database: the genesis, sealed blocks with their transactions, the
//! outbox of transactions waiting for a block, and the node's validator key. Everything read back is re-checked by the pure core before it is
//! trusted (receipts, `certus chain verify`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, SignatureError, VerifyingKey};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    Statement,
};

use super::block::{
    Block, BlockError, BlockHeader, BlockSignature, ChainId, FinalLater, Finality, Genesis,
    ValidatorKey, ValidatorSigner,
};
use super::epoch::{Epoch, Epochs};
use super::hash::Digest;
use super::merkle::{chunked_inclusion_proof, LeafIndex, Tree, CHUNK_LEAVES};
use super::receipt::{Anchored, Receipt, ReceiptError};
use super::transaction::{Kind, ListId, Transaction};
use crate::keys::Custody;
use crate::store::entities::{
    issued_credentials, ledger_blocks, ledger_genesis, ledger_outbox, ledger_transactions,
    node_keys,
};
use crate::store::{self, Inserts, Reads};
use certus_credential::signer::Signer;
use certus_credential::time::Clock;

/// `node_keys.purpose` of the validator key.
const VALIDATOR_KEY: &str = "validator";
/// The PostgreSQL advisory lock that makes block sealing single-writer across processes
/// sharing one database ("certus-l" in ASCII). On SQLite the sealing transaction holds the
/// database's write lock, which serves the same purpose.
const SEALING_LOCK: i64 = 0x6365_7274_7573_2d6c;
/// Block seals remembered as checked ([`Ledger::check_receipt`]): forgotten all at once
/// beyond this many (32 bytes each).
const SEALS_KEPT: usize = 4096;
/// The leaf hashes of a chunk of a stored block, shared.
type Leaves = Arc<Vec<Digest>>;
/// Chunks whose leaf hashes are kept for receipts (up to 8 KB each): forgotten all at once
/// beyond this many.
const CHUNKS_KEPT: usize = 256;
/// Rows per INSERT statement (within both databases' parameter limits).
const INSERT_CHUNK: usize = 1_000;

/// Why the stored chain could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// A stored row does not parse: the store was altered or damaged.
    #[error("block {height}: {what} is corrupt")]
    Corrupt { height: u64, what: &'static str },
    /// This node is not a validator of its chain, so it cannot seal.
    #[error("this node is not a validator of the chain")]
    NotValidator,
    /// The validator key could not sign (its token refused or failed).
    #[error("the validator key could not sign: {0}")]
    Sign(#[from] ed25519_dalek::SignatureError),
}

/// Where a commitment stands.
#[derive(Debug)]
pub enum AnchorState {
    /// In a sealed block; the receipt is as stored (check it before trusting it).
    Anchored(Box<Receipt>),
    /// Waiting in the outbox for the next block.
    Pending,
    /// Recorded as issued by this node, yet neither sealed nor pending: the chain's store
    /// lost or altered it.
    Missing,
    /// Not on this chain.
    Unknown,
}

/// The chain of this node, over its database.
pub struct Ledger {
    db: DatabaseConnection,
    /// Where the anchors of credentials are looked up (a read replica, when configured).
    reads: Reads,
    /// Whether the genesis holds, checked at the first receipt checked.
    genesis_holds: std::sync::OnceLock<Result<(), BlockError>>,
    /// The seals ([`Receipt::seal_digest`]) found to hold, so that each block's signatures
    /// are checked once however many of its receipts are (at most [`SEALS_KEPT`]).
    seals_checked: std::sync::Mutex<HashSet<Digest>>,
    /// The leaf hashes of chunks of stored blocks by (height, first position), as read
    /// once for a receipt: a stored block's transactions never change, and receipts of
    /// one chunk then read no more than their own transaction (at most [`CHUNKS_KEPT`]).
    chunks: std::sync::Mutex<HashMap<(u64, u64), Leaves>>,
    genesis: Genesis,
    /// This node's validator key, when it is a validator of the chain; otherwise the node
    /// only reads and checks the chain (for example after `certus chain import`).
    key: Option<Validator>,
    /// The chain's epochs (its validator sets) as far as the stored blocks go.
    epochs: std::sync::RwLock<Epochs>,
    /// Where block times come from.
    clock: Arc<dyn Clock>,
}

/// The node's validator key, wherever it is held, as the ledger core signs with it.
#[derive(Debug, Clone)]
pub struct Validator {
    signer: Arc<dyn Signer>,
    key: ValidatorKey,
}

impl Validator {
    /// Wraps an Ed25519 signer.
    pub fn new(signer: Arc<dyn Signer>) -> anyhow::Result<Self> {
        let ssi::jwk::Params::OKP(okp) = signer.public_jwk().params else {
            anyhow::bail!("a validator key is Ed25519");
        };
        let bytes: [u8; 32] = okp
            .public_key
            .0
            .as_slice()
            .try_into()
            .map_err(|_| anyhow::anyhow!("an Ed25519 public key is 32 bytes"))?;
        Ok(Self {
            key: ValidatorKey(VerifyingKey::from_bytes(&bytes)?),
            signer,
        })
    }

    /// The key as a signer of JWS (the root authority's trust statements).
    pub fn signer(&self) -> &Arc<dyn Signer> {
        &self.signer
    }
}

impl ValidatorSigner for Validator {
    fn validator(&self) -> ValidatorKey {
        self.key
    }

    fn sign_message(&self, message: &[u8]) -> Result<Signature, SignatureError> {
        let bytes = self
            .signer
            .sign(message)
            .map_err(SignatureError::from_source)?;
        Signature::from_slice(&bytes)
    }
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("chain_id", &self.genesis.header.chain_id)
            .finish_non_exhaustive()
    }
}

/// A transaction on its way to the outbox; written by [`enqueue`] with the change it
/// anchors (see [`crate::work`]).
#[derive(Debug, Clone)]
pub struct Anchor(ledger_outbox::ActiveModel);

/// Queues `tx` for the next block, as of `now`.
pub fn anchor(tx: &Transaction, now: DateTime<Utc>) -> Anchor {
    Anchor(ledger_outbox::ActiveModel {
        data: Set(tx.encode()),
        commitment: Set(tx.commitment().map(|c| c.to_hex())),
        created_at: Set(now),
        ..Default::default()
    })
}

/// Writes `anchors` to the outbox with `inserts`, in the transaction of the change they
/// anchor: the only writer of the outbox besides the block producer, which empties it.
pub fn enqueue(inserts: &mut Inserts, anchors: Vec<Anchor>) {
    inserts.rows(anchors.into_iter().map(|a| a.0));
}

/// Every sealed transaction of `kind`, in chain order (a row that does not decode is left
/// to `certus chain verify` to report).
pub async fn anchored(conn: &impl ConnectionTrait, kind: Kind) -> Result<Vec<Transaction>, DbErr> {
    Ok(rows_of_kind(conn, kind, 0)
        .await?
        .iter()
        .filter_map(|(_, _, data)| Transaction::decode(data).ok())
        .collect())
}

/// Every sealed transaction of `kind`, in chain order, with where it was sealed (a row
/// that does not decode is left to `certus chain verify` to report).
pub async fn sealed(
    conn: &impl ConnectionTrait,
    kind: Kind,
) -> Result<Vec<(Placed, Transaction)>, DbErr> {
    sealed_after(conn, kind, 0).await
}

/// [`sealed`], in the blocks after height `after` only.
pub async fn sealed_after(
    conn: &impl ConnectionTrait,
    kind: Kind,
    after: u64,
) -> Result<Vec<(Placed, Transaction)>, DbErr> {
    let rows = rows_of_kind(conn, kind, after).await?;
    let times = block_times(conn, rows.iter().map(|(height, _, _)| *height)).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(height, position, data)| {
            let placed = Placed {
                height: height as u64,
                position: position as u64,
                time_ms: *times.get(&height)?,
            };
            Some((placed, Transaction::decode(&data).ok()?))
        })
        .collect())
}

/// The sealed transactions of `kind` in the blocks after height `after`, in chain order:
/// block height, position, encoding.
async fn rows_of_kind(
    conn: &impl ConnectionTrait,
    kind: Kind,
    after: u64,
) -> Result<Vec<(i64, i64, Vec<u8>)>, DbErr> {
    ledger_transactions::Entity::find()
        .select_only()
        .column(ledger_transactions::Column::BlockHeight)
        .column(ledger_transactions::Column::Position)
        .column(ledger_transactions::Column::Data)
        .filter(ledger_transactions::Column::Kind.eq(i16::from(kind)))
        .filter(ledger_transactions::Column::BlockHeight.gt(after as i64))
        .order_by_asc(ledger_transactions::Column::BlockHeight)
        .order_by_asc(ledger_transactions::Column::Position)
        .into_tuple()
        .all(conn)
        .await
}

/// The times of the blocks at `heights`, by height (a height with no block is absent).
async fn block_times(
    conn: &impl ConnectionTrait,
    heights: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, i64>, DbErr> {
    let mut heights: Vec<i64> = heights.into_iter().collect();
    heights.sort_unstable();
    heights.dedup();
    let mut times = HashMap::new();
    for chunk in heights.chunks(INSERT_CHUNK) {
        let found: Vec<(i64, i64)> = ledger_blocks::Entity::find()
            .select_only()
            .column(ledger_blocks::Column::Height)
            .column(ledger_blocks::Column::TimeMs)
            .filter(ledger_blocks::Column::Height.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        times.extend(found);
    }
    Ok(times)
}

/// The newest version of status list `list` sealed on the chain (by whichever member
/// published it): its number and hash.
pub async fn newest_list_version(
    conn: &impl ConnectionTrait,
    list: ListId,
) -> Result<Option<(u64, Digest)>, DbErr> {
    // A version's encoding is its kind, the list id, then the version (big-endian) and the
    // hash: every version of one list falls between these two, byte for byte, and the
    // greatest encoding is the newest version's.
    let bound = |fill: u8| {
        let mut bytes = vec![Kind::StatusListVersion as u8];
        bytes.extend_from_slice(&list.0);
        bytes.extend_from_slice(&[fill; 40]);
        bytes
    };
    let newest: Option<Vec<u8>> = ledger_transactions::Entity::find()
        .select_only()
        .column(ledger_transactions::Column::Data)
        .filter(ledger_transactions::Column::Kind.eq(i16::from(Kind::StatusListVersion)))
        .filter(ledger_transactions::Column::Data.between(bound(0x00), bound(0xff)))
        .order_by_desc(ledger_transactions::Column::Data)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(match newest.map(|data| Transaction::decode(&data)) {
        Some(Ok(Transaction::StatusListVersion {
            list: found,
            version,
            hash,
        })) if found == list => Some((version, hash)),
        _ => None,
    })
}

/// Whether `tx` is on the chain or waiting in the outbox for the next block (found by its
/// commitment, compared byte for byte).
pub async fn is_recorded(conn: &impl ConnectionTrait, tx: &Transaction) -> Result<bool, DbErr> {
    let Some(commitment) = tx.commitment().map(|c| c.to_hex()) else {
        return Ok(false);
    };
    let data = tx.encode();
    let sealed: Vec<Vec<u8>> = ledger_transactions::Entity::find()
        .select_only()
        .column(ledger_transactions::Column::Data)
        .filter(ledger_transactions::Column::Commitment.eq(commitment.clone()))
        .into_tuple()
        .all(conn)
        .await?;
    if sealed.contains(&data) {
        return Ok(true);
    }
    let pending: Vec<Vec<u8>> = ledger_outbox::Entity::find()
        .select_only()
        .column(ledger_outbox::Column::Data)
        .filter(ledger_outbox::Column::Commitment.eq(commitment))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(pending.contains(&data))
}

/// The commitments of every transaction of `kind` on the chain or waiting in the outbox.
pub async fn committed(conn: &impl ConnectionTrait, kind: Kind) -> Result<HashSet<Digest>, DbErr> {
    let mut commitments: HashSet<Digest> = anchored(conn, kind)
        .await?
        .iter()
        .filter_map(Transaction::commitment)
        .collect();
    let pending: Vec<Vec<u8>> = ledger_outbox::Entity::find()
        .select_only()
        .column(ledger_outbox::Column::Data)
        .into_tuple()
        .all(conn)
        .await?;
    commitments.extend(
        pending
            .iter()
            .filter_map(|data| Transaction::decode(data).ok())
            .filter(|tx| tx.kind() == kind)
            .filter_map(|tx| tx.commitment()),
    );
    Ok(commitments)
}

/// Where a transaction was sealed.
#[derive(Debug, Clone, Copy)]
pub struct Placed {
    pub height: u64,
    pub position: u64,
    /// Its block's time.
    pub time_ms: i64,
}

/// Where the transactions with these commitments were sealed, by commitment (hex); those
/// not sealed (yet) are absent.
pub async fn placed(
    conn: &impl ConnectionTrait,
    commitments: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, Placed>, DbErr> {
    let sealed = ledger_transactions::Entity::find()
        .filter(ledger_transactions::Column::Commitment.is_in(commitments))
        .all(conn)
        .await?;
    let times = block_times(conn, sealed.iter().map(|t| t.block_height)).await?;
    Ok(sealed
        .into_iter()
        .filter_map(|t| {
            let time_ms = *times.get(&t.block_height)?;
            Some((
                t.commitment?,
                Placed {
                    height: t.block_height as u64,
                    position: t.position as u64,
                    time_ms,
                },
            ))
        })
        .collect())
}

/// The newest blocks' headers, `limit` at most, before `before` (from the head when
/// absent).
pub async fn blocks(
    conn: &impl ConnectionTrait,
    before: Option<u64>,
    limit: u64,
) -> Result<Vec<ledger_blocks::Model>, DbErr> {
    let mut query = ledger_blocks::Entity::find();
    if let Some(before) = before {
        query = query.filter(ledger_blocks::Column::Height.lt(before as i64));
    }
    query
        .order_by_desc(ledger_blocks::Column::Height)
        .limit(limit)
        .all(conn)
        .await
}

/// The commitments waiting in the outbox, as a subquery.
pub fn pending_commitments() -> SelectStatement {
    Query::select()
        .column(ledger_outbox::Column::Commitment)
        .from(ledger_outbox::Entity)
        .to_owned()
}

/// A validator, and what it signed lately.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatorActivity {
    pub key: ValidatorKey,
    /// The newest block it signed within the window looked at.
    pub last_signed: Option<u64>,
    /// True for this node's own validator key.
    pub this_node: bool,
}

/// The chain a single node creates when none is named.
pub fn default_chain_id() -> ChainId {
    ChainId::parse("certus-local").expect("a valid chain id")
}

/// Whether the store holds a chain already.
pub async fn has_chain(conn: &impl ConnectionTrait) -> Result<bool, DbErr> {
    Ok(ledger_genesis::Entity::find().one(conn).await?.is_some())
}

impl Ledger {
    /// Opens the chain in `db`, creating the node's validator key on first start, and with
    /// it the chain: a consortium's from `genesis` when one is given, else a new chain of
    /// this node alone named `chain_id` (`certus-local` when `None`). Fails if the store
    /// holds another chain than the one named or given.
    pub async fn open(
        db: DatabaseConnection,
        custody: &Custody,
        chain_id: Option<&ChainId>,
        genesis: Option<Genesis>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let key = validator_key(&db, custody, clock.now()).await?;
        let stored = ledger_genesis::Entity::find().one(&db).await?;
        let genesis = match (stored, genesis) {
            (Some(row), given) => {
                let stored = serde_json::from_str::<Genesis>(&row.document)?;
                anyhow::ensure!(
                    given.is_none_or(|given| given == stored),
                    "the genesis given is not the one of the chain this store holds (`{}`)",
                    stored.header.chain_id.as_str()
                );
                stored
            }
            (None, Some(given)) => {
                anyhow::ensure!(
                    given.is_consortium(),
                    "the genesis given is a single node's: join a consortium's genesis, or \
                     import a chain with `certus chain import`"
                );
                import_genesis(&db, &given).await?;
                tracing::info!(
                    chain = given.header.chain_id.as_str(),
                    validators = given.validators.keys().len(),
                    "joined the consortium's chain from its genesis"
                );
                given
            }
            (None, None) => {
                let chain_id = chain_id.cloned().unwrap_or_else(default_chain_id);
                let genesis =
                    Genesis::create(chain_id.clone(), &key, clock.now().timestamp_millis())?;
                import_genesis(&db, &genesis).await?;
                tracing::info!(chain = chain_id.as_str(), "created the chain's genesis");
                genesis
            }
        };
        if let Some(chain_id) = chain_id {
            anyhow::ensure!(
                genesis.header.chain_id == *chain_id,
                "the database holds chain `{}`, not `{}`",
                genesis.header.chain_id.as_str(),
                chain_id.as_str()
            );
        }
        let mut epochs = Epochs::new(&genesis);
        for (placed, tx) in sealed(&db, Kind::ValidatorChange).await? {
            if let Transaction::ValidatorChange(change) = tx {
                epochs
                    .push(&change, placed.height + 1)
                    .with_context(|| format!("the validator change of block {}", placed.height))?;
            }
        }
        // A consortium's member may become a validator by a later change: its key stays.
        let is_validator = genesis.is_consortium()
            || genesis
                .validators
                .keys()
                .iter()
                .any(|k| *k == key.validator());
        if !is_validator {
            tracing::warn!(
                chain = genesis.header.chain_id.as_str(),
                "this node's key is not a validator of the chain: it will not seal blocks"
            );
        }
        Ok(Self {
            reads: Reads::primary(db.clone()),
            genesis_holds: Default::default(),
            seals_checked: Default::default(),
            chunks: Default::default(),
            db,
            genesis,
            key: is_validator.then_some(key),
            epochs: std::sync::RwLock::new(epochs),
            clock,
        })
    }

    /// The chain's epochs up to the head: the genesis's validators and every change since.
    pub fn epochs(&self) -> Epochs {
        self.epochs
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The epochs once blocks that made them are stored.
    fn set_epochs(&self, epochs: Epochs) {
        *self
            .epochs
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = epochs;
    }

    /// The validators from the block after the head on.
    pub fn current_epoch(&self) -> Epoch {
        self.epochs
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .current()
            .clone()
    }

    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// Every final transaction of `kind`, in chain order, with where it was sealed.
    pub async fn sealed(&self, kind: Kind) -> Result<Vec<(Placed, Transaction)>, StoreError> {
        Ok(sealed(&self.db, kind).await?)
    }

    /// Now, in milliseconds since the epoch, by the node's clock: a new block's time.
    pub fn now_ms(&self) -> i64 {
        self.clock.now().timestamp_millis()
    }

    /// This node's validator key, if it is a validator.
    pub fn validator_key(&self) -> Option<&Validator> {
        self.key.as_ref()
    }

    /// The header of the highest block.
    pub async fn head(&self) -> Result<BlockHeader, StoreError> {
        let row = ledger_blocks::Entity::find()
            .order_by_desc(ledger_blocks::Column::Height)
            .one(&self.db)
            .await?
            .ok_or(StoreError::Corrupt {
                height: 0,
                what: "the genesis block",
            })?;
        parse_header(&row)
    }

    /// Each validator of the genesis with the height of the newest block it signed among
    /// the newest `window` blocks (`None`: not within them), and whether it is this node.
    pub async fn validator_activity(
        &self,
        window: u64,
    ) -> Result<Vec<ValidatorActivity>, StoreError> {
        let epoch = self.current_epoch();
        let keys = epoch.validators.keys();
        let mut last_signed: Vec<Option<u64>> = vec![None; keys.len()];
        let mut before = None;
        let mut scanned = 0;
        while scanned < window && last_signed.iter().any(Option::is_none) {
            let page = blocks(&self.db, before, (window - scanned).min(100)).await?;
            let Some(last) = page.last() else { break };
            before = Some(last.height as u64);
            scanned += page.len() as u64;
            for row in &page {
                let signatures: Vec<BlockSignature> = serde_json::from_str(&row.signatures)
                    .map_err(|_| StoreError::Corrupt {
                        height: row.height as u64,
                        what: "the signatures",
                    })?;
                for (key, seen) in keys.iter().zip(last_signed.iter_mut()) {
                    if seen.is_none() && signatures.iter().any(|s| s.validator == *key) {
                        *seen = Some(row.height as u64);
                    }
                }
            }
        }
        let this_node = self.key.as_ref().map(|k| k.validator());
        Ok(keys
            .iter()
            .zip(last_signed)
            .map(|(key, last_signed)| ValidatorActivity {
                key: *key,
                last_signed,
                this_node: this_node == Some(*key),
            })
            .collect())
    }

    /// The block at `height`, as stored.
    pub async fn block(&self, height: u64) -> Result<Option<Block>, StoreError> {
        Ok(load_block(&self.db, height).await?.map(|(block, _)| block))
    }

    /// Seals up to `max` pending transactions into a new block: the outbox rows are removed
    /// exactly when the block is stored, in one database transaction. Returns the new
    /// header, or `None` when nothing was pending, another process is sealing, or another
    /// writer changed the outbox or the chain meanwhile (the next interval seals again).
    ///
    /// Everything but the writes — reading the outboxes, chaining the audit entries,
    /// building and signing the block — happens before that transaction: on SQLite it holds
    /// the store's only write lock, and every issuance waits while it does
    /// (`docs/performance.md`). The transaction then checks that it removes exactly the rows
    /// it read and builds on the head it read.
    ///
    /// Two sealers can never fork the chain or lose a transaction: the sealing lock keeps
    /// them apart, and were it bypassed, those checks and the block height's primary key
    /// would make one of them roll back with its outbox rows intact.
    pub async fn seal_pending(
        &self,
        now_ms: i64,
        max: u64,
    ) -> Result<Option<BlockHeader>, StoreError> {
        let Some(key) = &self.key else {
            return Err(StoreError::NotValidator);
        };
        let pending = ledger_outbox::Entity::find()
            .order_by_asc(ledger_outbox::Column::Id)
            .limit(max)
            .all(&self.db)
            .await?;
        let audit = crate::audit::prepare(&self.db).await?;
        if pending.is_empty() && audit.is_none() {
            return Ok(None);
        }
        let ids: Vec<i64> = pending.iter().map(|row| row.id).collect();
        let mut transactions = pending
            .iter()
            .map(|row| Transaction::decode(&row.data))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| StoreError::Corrupt {
                height: 0,
                what: "an outbox transaction",
            })?;
        if let Some(audit) = &audit {
            transactions.push(Transaction::AuditCheckpoint {
                sequence: audit.sequence,
                head: audit.head,
            });
        }
        let previous = self.head().await?;
        let (block, tree) = Block::seal_with_tree(&previous, transactions, now_ms, key)?;

        let txn = crate::store::begin_writing(&self.db).await?;
        if !sealing_lock(&txn).await? {
            return Ok(None);
        }
        let taken =
            store::delete_ids::<ledger_outbox::Entity>(&txn, ledger_outbox::Column::Id, &ids)
                .await?;
        let chained = match audit {
            Some(audit) => audit.write(&txn).await?,
            None => true,
        };
        let head = ledger_blocks::Entity::find()
            .order_by_desc(ledger_blocks::Column::Height)
            .select_only()
            .column(ledger_blocks::Column::Height)
            .into_tuple::<i64>()
            .one(&txn)
            .await?;
        if taken != ids.len() as u64 || !chained || head != Some(previous.height as i64) {
            tracing::debug!(
                "the outbox or the chain changed while a block was sealed; sealing again at the next interval"
            );
            return Ok(None);
        }
        insert_block(&txn, &block, &tree).await?;
        txn.commit().await?;
        Ok(Some(block.header))
    }

    /// Checks `receipt` against the chain's genesis as [`Receipt::verify`] does, but the
    /// genesis once and each block's seal once per process (receipts of one block share
    /// it): a verification's `anchored` check then costs a few hashes rather than two
    /// signature checks. A seal read differently from the store is checked afresh.
    pub fn check_receipt(&self, receipt: &Receipt) -> Result<Anchored, ReceiptError> {
        self.genesis_holds
            .get_or_init(|| self.genesis.verify())
            .map_err(ReceiptError::Genesis)?;
        let seal = receipt.seal_digest();
        let known = (self.seals_checked.lock().unwrap_or_else(|e| e.into_inner())).contains(&seal);
        if !known {
            receipt.verify_seal(&self.genesis)?;
            let mut seals = self.seals_checked.lock().unwrap_or_else(|e| e.into_inner());
            if seals.len() >= SEALS_KEPT {
                seals.clear();
            }
            seals.insert(seal);
        }
        receipt.verify_inclusion(&self.genesis)
    }

    /// Anchors are looked up through `reads` (a read replica, when configured).
    pub fn with_reads(self, reads: Reads) -> Self {
        Self { reads, ..self }
    }

    /// Where the credential with this commitment stands. A replica's answer is taken when
    /// the credential is anchored there (which is final); anything else may be a replica
    /// not caught up yet, and is read from the primary.
    pub async fn locate(&self, commitment: &Digest) -> Result<AnchorState, StoreError> {
        self.reads
            .lagging(
                |db| async move { self.locate_in(&db, commitment).await },
                |state| matches!(state, AnchorState::Anchored(_)),
            )
            .await
    }

    async fn locate_in(
        &self,
        db: &DatabaseConnection,
        commitment: &Digest,
    ) -> Result<AnchorState, StoreError> {
        let hex = commitment.to_hex();
        // The transaction and its block in one read: a verification's `anchored` check is
        // one round trip to the store, not two (`docs/performance.md`).
        let found = ledger_transactions::Entity::find()
            .filter(ledger_transactions::Column::Commitment.eq(hex.clone()))
            .find_also_related(ledger_blocks::Entity)
            .one(db)
            .await?;
        if let Some((row, block)) = found {
            let height = row.block_height as u64;
            let transaction = Transaction::decode(&row.data).map_err(|_| StoreError::Corrupt {
                height,
                what: "a transaction",
            })?;
            let block = block.ok_or(StoreError::Corrupt {
                height,
                what: "the block of a transaction",
            })?;
            let receipt = self
                .receipt_at(db, &block, row.position as u64, transaction)
                .await?;
            return Ok(AnchorState::Anchored(Box::new(receipt)));
        }
        let pending = ledger_outbox::Entity::find()
            .filter(ledger_outbox::Column::Commitment.eq(&hex))
            .select_only()
            .column(ledger_outbox::Column::Id)
            .into_tuple::<i64>()
            .one(db)
            .await?;
        if pending.is_some() {
            return Ok(AnchorState::Pending);
        }
        let issued_here = issued_credentials::Entity::find()
            .filter(issued_credentials::Column::Commitment.eq(&hex))
            .select_only()
            .column(issued_credentials::Column::Id)
            .into_tuple::<String>()
            .one(db)
            .await?;
        Ok(if issued_here.is_some() {
            AnchorState::Missing
        } else {
            AnchorState::Unknown
        })
    }

    /// The receipt of `transaction`, at `position` of the stored block `row` of `db`. It
    /// takes the block's header, signatures and chunk roots from `row`, and reads —
    /// unless they are kept from an earlier receipt — the leaves of the one chunk of
    /// transactions holding the position, not the whole block.
    async fn receipt_at(
        &self,
        db: &DatabaseConnection,
        row: &ledger_blocks::Model,
        position: u64,
        transaction: Transaction,
    ) -> Result<Receipt, StoreError> {
        let height = row.height as u64;
        let corrupt = |what| StoreError::Corrupt { height, what };
        let header = parse_header(row)?;
        let signatures =
            serde_json::from_str(&row.signatures).map_err(|_| corrupt("the signatures"))?;
        let finality = parse_finality(row)?;
        let links = match finality {
            Some(f) if f.height > height => headers(db, height + 1, f.height).await?,
            _ => Vec::new(),
        };
        let chunk_roots = parse_chunk_roots(row)?;
        let start = position / CHUNK_LEAVES as u64 * CHUNK_LEAVES as u64;
        let leaves = self.chunk_leaves(db, height, start).await?;
        // The path is built from the chunk's other leaves: a transaction altered in the
        // store since they were read no longer hashes to the header's root.
        let inclusion_path =
            chunked_inclusion_proof(leaves.to_vec(), chunk_roots, LeafIndex(position))
                .ok_or(corrupt("the chunk roots"))?;
        Ok(Receipt {
            transaction,
            leaf_index: LeafIndex(position),
            inclusion_path,
            header,
            signatures,
            finality,
            links,
            epochs: self.epochs().changes_to(height),
        })
    }

    /// The leaf hashes of the chunk of block `height` from position `start`: kept, or
    /// read from `db` and kept.
    async fn chunk_leaves(
        &self,
        db: &DatabaseConnection,
        height: u64,
        start: u64,
    ) -> Result<Leaves, StoreError> {
        let kept = (self.chunks.lock().unwrap_or_else(|e| e.into_inner()))
            .get(&(height, start))
            .cloned();
        if let Some(leaves) = kept {
            return Ok(leaves);
        }
        let leaves = ledger_transactions::Entity::find()
            .filter(ledger_transactions::Column::BlockHeight.eq(height as i64))
            .filter(ledger_transactions::Column::Position.gte(start as i64))
            .filter(ledger_transactions::Column::Position.lt((start + CHUNK_LEAVES as u64) as i64))
            .order_by_asc(ledger_transactions::Column::Position)
            .all(db)
            .await?
            .iter()
            .map(|t| Transaction::decode(&t.data).map(|t| t.leaf_hash()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| StoreError::Corrupt {
                height,
                what: "a transaction",
            })?;
        let leaves = Arc::new(leaves);
        let mut chunks = self.chunks.lock().unwrap_or_else(|e| e.into_inner());
        if chunks.len() >= CHUNKS_KEPT {
            chunks.clear();
        }
        chunks.insert((height, start), leaves.clone());
        Ok(leaves)
    }

    /// The commitment of a credential that `tenant_id` issued, by the credential's id.
    pub async fn commitment_of(
        &self,
        tenant_id: &str,
        credential_id: &str,
    ) -> Result<Option<Digest>, StoreError> {
        let record = issued_credentials::Entity::find()
            .filter(issued_credentials::Column::CredentialId.eq(credential_id))
            .filter(issued_credentials::Column::TenantId.eq(tenant_id))
            .one(&self.db)
            .await?;
        Ok(record
            .and_then(|r| r.commitment)
            .and_then(|c| Digest::from_hex(&c).ok()))
    }

    /// Re-checks every stored block from the genesis: links, roots and signatures.
    /// Returns the height of the head, or the first height that does not hold.
    pub async fn verify_chain(&self) -> Result<u64, (u64, String)> {
        self.genesis.verify().map_err(|e| (0, e.to_string()))?;
        self.check_stored_genesis()
            .await
            .map_err(|reason| (0, reason))?;
        let stored = self.block(0).await.map_err(|e| (0, e.to_string()))?;
        let genesis_block = self.genesis.block();
        if stored.as_ref() != Some(&genesis_block) {
            return Err((
                0,
                "the stored genesis block differs from the genesis".into(),
            ));
        }
        check_columns(&self.db, &genesis_block)
            .await
            .map_err(|reason| (0, reason))?;
        let head = self.head().await.map_err(|e| (0, e.to_string()))?.height;
        let mut previous = self.genesis.header.clone();
        let mut final_later = FinalLater::default();
        let mut epochs = Epochs::new(&self.genesis);
        for height in 1..=head {
            let (block, stored_roots) = match load_block(&self.db, height).await {
                Ok(Some(stored)) => stored,
                Ok(None) => return Err((height, "the block is missing".into())),
                Err(e) => return Err((height, e.to_string())),
            };
            if block.finality.is_some() != self.genesis.is_consortium() {
                return Err((
                    height,
                    "the block's certificate is not of the chain's kind".into(),
                ));
            }
            epochs
                .verify_and_apply(&block, &previous)
                .map_err(|e: BlockError| (height, e.to_string()))?;
            final_later.take(&block).map_err(|earlier| {
                (
                    earlier,
                    format!("the certificate is not the one of block {height}, which it names"),
                )
            })?;
            if stored_roots != block.tree().chunk_roots() {
                return Err((
                    height,
                    "the stored chunk roots do not match the transactions".into(),
                ));
            }
            check_columns(&self.db, &block)
                .await
                .map_err(|reason| (height, reason))?;
            previous = block.header;
        }
        if let Some((earlier, named)) = final_later.waiting() {
            return Err((
                earlier,
                format!("the block is final with block {named}, which is missing"),
            ));
        }
        // Transactions of a block past the head: the head block was deleted.
        let orphans = ledger_transactions::Entity::find()
            .filter(ledger_transactions::Column::BlockHeight.gt(head as i64))
            .count(&self.db)
            .await
            .map_err(|e| (head + 1, e.to_string()))?;
        if orphans > 0 {
            return Err((
                head + 1,
                format!("the block is missing, though {orphans} of its transactions remain"),
            ));
        }
        Ok(head)
    }

    /// The genesis row is the genesis this node runs on: the one document, its chain id.
    async fn check_stored_genesis(&self) -> Result<(), String> {
        let rows = ledger_genesis::Entity::find()
            .all(&self.db)
            .await
            .map_err(|e| e.to_string())?;
        let expected = serde_json::to_value(&self.genesis).map_err(|e| e.to_string())?;
        match rows.as_slice() {
            [row]
                if row.chain_id == self.genesis.header.chain_id.as_str()
                    && serde_json::from_str::<serde_json::Value>(&row.document).ok()
                        == Some(expected) =>
            {
                Ok(())
            }
            _ => Err("the stored genesis is not the genesis this node runs on".into()),
        }
    }

    /// Re-checks the anchors waiting for the next block: each decodes, and its commitment
    /// column is its transaction's. The number waiting, or the first that does not hold.
    pub async fn verify_pending(&self) -> Result<u64, String> {
        let rows = ledger_outbox::Entity::find()
            .all(&self.db)
            .await
            .map_err(|e| e.to_string())?;
        for row in &rows {
            let tx = Transaction::decode(&row.data)
                .map_err(|_| format!("pending anchor {}: not a transaction", row.id))?;
            let commitment = tx.commitment().map(|c| c.to_hex());
            if row.commitment.clone().filter(|c| !c.is_empty()) != commitment {
                return Err(format!(
                    "pending anchor {}: the stored commitment is not the transaction's",
                    row.id
                ));
            }
        }
        Ok(rows.len() as u64)
    }

    /// Re-checks the audit log's hash chain and that its head is the one last anchored;
    /// the number of entries (`None` when this store holds no audit log but the chain
    /// anchors one, as after `certus chain import`), or why not.
    pub async fn verify_audit(&self) -> Result<Option<u64>, String> {
        let (count, head) = crate::audit::verify(&self.db)
            .await
            .map_err(|(position, reason)| format!("audit entry {position}: {reason}"))?;
        let anchored = if self.genesis.is_consortium() {
            self.own_audit_checkpoint().await?
        } else {
            let last = ledger_transactions::Entity::find()
                .filter(ledger_transactions::Column::Kind.eq(i16::from(Kind::AuditCheckpoint)))
                .order_by_desc(ledger_transactions::Column::BlockHeight)
                .order_by_desc(ledger_transactions::Column::Position)
                .one(&self.db)
                .await
                .map_err(|e| e.to_string())?;
            match last.map(|t| Transaction::decode(&t.data)) {
                None => None,
                Some(Ok(Transaction::AuditCheckpoint { sequence, head })) => Some((sequence, head)),
                Some(_) => return Err("the last audit checkpoint on the chain is corrupt".into()),
            }
        };
        match anchored {
            None if count == 0 => Ok(Some(0)),
            Some(_) if count == 0 => Ok(None),
            Some((sequence, anchored)) if sequence == count && anchored == head => Ok(Some(count)),
            _ => Err(format!(
                "the audit log's head after {count} entries is not the head anchored on the chain"
            )),
        }
    }

    /// On a consortium's chain: this node's newest audit checkpoint, the one covering the
    /// most entries, whether it waits in the outbox or is on the chain.
    async fn own_audit_checkpoint(&self) -> Result<Option<(u64, Digest)>, String> {
        let me = self.node_digest();
        let own = |data: &[u8]| match Transaction::decode(data) {
            Ok(Transaction::NodeAuditCheckpoint {
                node,
                sequence,
                head,
            }) => Ok((node == me).then_some((sequence, head))),
            _ => Err("an audit checkpoint on the chain is corrupt".to_owned()),
        };
        let pending = ledger_outbox::Entity::find()
            .all(&self.db)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|row| row.data)
            .filter(|data| data.first() == Some(&(Kind::NodeAuditCheckpoint as u8)));
        let anchored = ledger_transactions::Entity::find()
            .filter(ledger_transactions::Column::Kind.eq(i16::from(Kind::NodeAuditCheckpoint)))
            .all(&self.db)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|row| row.data);
        // The one covering the most entries: blocks need not take a node's checkpoints in
        // the order it made them (one shared during a partition may wait in the outbox
        // while a later one is already on the chain).
        let mut newest: Option<(u64, Digest)> = None;
        for data in pending.chain(anchored) {
            if let Some((sequence, head)) = own(&data)? {
                if newest.is_none_or(|(covered, _)| sequence > covered) {
                    newest = Some((sequence, head));
                }
            }
        }
        Ok(newest)
    }

    /// This node's validator key as the 32 bytes a [`Kind::NodeAuditCheckpoint`] names.
    fn node_digest(&self) -> Digest {
        self.key
            .as_ref()
            .map(|k| Digest::from_bytes(*k.validator().0.as_bytes()))
            .unwrap_or(Digest::ZERO)
    }

    /// On a consortium's chain, where blocks are decided by votes rather than sealed here:
    /// chains the audit entries waiting and queues this node's checkpoint of the new head
    /// for the next block. True when there was something to chain.
    pub async fn checkpoint_audit(&self) -> Result<bool, StoreError> {
        let Some(chaining) = crate::audit::prepare(&self.db).await? else {
            return Ok(false);
        };
        let checkpoint = Transaction::NodeAuditCheckpoint {
            node: self.node_digest(),
            sequence: chaining.sequence,
            head: chaining.head,
        };
        let txn = crate::store::begin_writing(&self.db).await?;
        if !chaining.write(&txn).await? {
            // Another writer chained them first; nothing of this transaction is kept.
            return Ok(false);
        }
        let mut inserts = Inserts::default();
        enqueue(&mut inserts, vec![anchor(&checkpoint, self.clock.now())]);
        inserts.execute(&txn).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Drops from the outbox the transactions `sealed` already anchors (appended from
    /// elsewhere), so they are not anchored twice.
    pub async fn forget_pending(&self, sealed: &[Transaction]) -> Result<(), DbErr> {
        forget_pending(&self.db, sealed).await
    }

    /// The transactions waiting in the outbox after row `after`, oldest first, at most
    /// `limit`, with their row ids; nothing is taken out.
    pub async fn outbox_after(
        &self,
        after: i64,
        limit: u64,
    ) -> Result<Vec<(i64, Transaction)>, StoreError> {
        let rows = ledger_outbox::Entity::find()
            .filter(ledger_outbox::Column::Id.gt(after))
            .order_by_asc(ledger_outbox::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|row| {
                Transaction::decode(&row.data)
                    .map(|tx| (row.id, tx))
                    .map_err(|_| StoreError::Corrupt {
                        height: 0,
                        what: "an outbox transaction",
                    })
            })
            .collect()
    }

    /// Stored blocks from `height` on, in order: at most `max_blocks`, and no more once
    /// their transactions reach `max_transactions` (at least one block when there is one).
    pub async fn blocks_from(
        &self,
        height: u64,
        max_blocks: u64,
        max_transactions: u64,
    ) -> Result<Vec<Block>, StoreError> {
        let mut blocks = Vec::new();
        let mut transactions = 0;
        for h in height..height.saturating_add(max_blocks) {
            if !blocks.is_empty() && transactions >= max_transactions {
                break;
            }
            let Some(block) = self.block(h).await? else {
                break;
            };
            transactions += block.header.tx_count;
            blocks.push(block);
        }
        Ok(blocks)
    }

    /// Stores blocks the consortium decided, in height order from the one after the head:
    /// each checked — link, contents, and the certificate of a quorum of finalize votes; a
    /// block final with a later block's votes only together with that block — in one
    /// database transaction that also drops their transactions from the outbox. Blocks
    /// from the first whose finality cannot be proven yet are left out. Returns the new
    /// head, or why a block does not hold (nothing is stored then).
    pub async fn append_final(&self, blocks: &[Block]) -> anyhow::Result<BlockHeader> {
        let mut previous = self.head().await?;
        let start = previous.clone();
        let mut proven = (0, self.epochs());
        let mut epochs = proven.1.clone();
        let mut final_later = FinalLater::default();
        for (index, block) in blocks.iter().enumerate() {
            let height = block.header.height;
            anyhow::ensure!(
                block.finality.is_some(),
                "block {height} carries no consensus certificate"
            );
            epochs
                .verify_and_apply(block, &previous)
                .with_context(|| format!("block {height} does not hold"))?;
            final_later.take(block).map_err(|earlier| {
                anyhow::anyhow!("block {earlier} names a certificate that is not block {height}'s")
            })?;
            if final_later.waiting().is_none() {
                proven = (index + 1, epochs.clone());
            }
            previous = block.header.clone();
        }
        let (proven, epochs) = proven;
        let blocks = &blocks[..proven];
        if blocks.is_empty() {
            return Ok(start);
        }
        let txn = crate::store::begin_writing(&self.db).await?;
        for block in blocks {
            insert_block(&txn, block, &block.tree()).await?;
            forget_pending(&txn, &block.transactions).await?;
        }
        txn.commit().await?;
        self.set_epochs(epochs);
        Ok(blocks[blocks.len() - 1].header.clone())
    }

    pub async fn append(&self, block: &Block) -> anyhow::Result<()> {
        let head = self.head().await?;
        let mut epochs = self.epochs();
        epochs.verify_and_apply(block, &head)?;
        let txn = crate::store::begin_writing(&self.db).await?;
        insert_block(&txn, block, &block.tree()).await?;
        txn.commit().await?;
        self.set_epochs(epochs);
        Ok(())
    }
}

/// Drops from the outbox the transactions `sealed` holds: found by their commitment
/// (indexed) where they have one, and matched on their whole encoding.
async fn forget_pending(conn: &impl ConnectionTrait, sealed: &[Transaction]) -> Result<(), DbErr> {
    let (committed, other): (Vec<&Transaction>, Vec<&Transaction>) =
        sealed.iter().partition(|tx| tx.commitment().is_some());
    for chunk in committed.chunks(500) {
        ledger_outbox::Entity::delete_many()
            .filter(
                ledger_outbox::Column::Commitment.is_in(
                    chunk
                        .iter()
                        .filter_map(|tx| tx.commitment())
                        .map(|c| c.to_hex()),
                ),
            )
            .filter(ledger_outbox::Column::Data.is_in(chunk.iter().map(|tx| tx.encode())))
            .exec(conn)
            .await?;
    }
    for chunk in other.chunks(500) {
        ledger_outbox::Entity::delete_many()
            .filter(ledger_outbox::Column::Data.is_in(chunk.iter().map(|tx| tx.encode())))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Stores a genesis read from elsewhere (an import) into an empty store.
pub async fn import_genesis(db: &DatabaseConnection, genesis: &Genesis) -> anyhow::Result<()> {
    genesis.verify()?;
    anyhow::ensure!(
        !has_chain(db).await?,
        "the target store already holds a chain"
    );
    let txn = crate::store::begin_writing(db).await?;
    ledger_genesis::ActiveModel {
        chain_id: Set(genesis.header.chain_id.as_str().to_owned()),
        document: Set(serde_json::to_string(genesis)?),
    }
    .insert(&txn)
    .await?;
    let block = genesis.block();
    insert_block(&txn, &block, &block.tree()).await?;
    txn.commit().await?;
    Ok(())
}

/// The node's validator key: opened from its row, or made (in the token, when there is one)
/// and stored on first start.
pub async fn validator_key(
    db: &DatabaseConnection,
    custody: &Custody,
    now: DateTime<Utc>,
) -> anyhow::Result<Validator> {
    if let Some(row) = node_keys::Entity::find_by_id(VALIDATOR_KEY).one(db).await? {
        return Validator::new(custody.open_validator(&row.private_jwe)?);
    }
    let (signer, stored) = custody.generate_validator()?;
    let key = Validator::new(signer)?;
    node_keys::ActiveModel {
        purpose: Set(VALIDATOR_KEY.to_owned()),
        public_key: Set(key.key.to_hex()),
        private_jwe: Set(stored),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(key)
}

/// The validator key's secret bytes (see [`Custody::validator_secret`]).
pub async fn validator_secret(
    db: &DatabaseConnection,
    custody: &Custody,
) -> anyhow::Result<zeroize::Zeroizing<[u8; 32]>> {
    let row = node_keys::Entity::find_by_id(VALIDATOR_KEY)
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("this node has no validator key yet"))?;
    custody.validator_secret(&row.private_jwe)
}

/// Takes the sealing lock for `txn`, which releases it when it ends: on PostgreSQL an
/// advisory lock (false when another process holds it); SQLite's write lock already keeps
/// sealers apart.
async fn sealing_lock(txn: &DatabaseTransaction) -> Result<bool, DbErr> {
    let backend = txn.get_database_backend();
    if backend != DbBackend::Postgres {
        return Ok(true);
    }
    Ok(txn
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT pg_try_advisory_xact_lock({SEALING_LOCK}) AS locked"),
        ))
        .await?
        .map(|row| row.try_get::<bool>("", "locked"))
        .transpose()?
        .unwrap_or(false))
}

/// Stores `block` with the chunk roots of its transaction `tree`.
async fn insert_block(
    conn: &impl ConnectionTrait,
    block: &Block,
    tree: &Tree,
) -> Result<(), DbErr> {
    let header = &block.header;
    ledger_blocks::ActiveModel {
        height: Set(header.height as i64),
        hash: Set(header.hash().to_hex()),
        header: Set(json(header)),
        signatures: Set(json(&block.signatures)),
        finality: Set(block.finality.as_ref().map(json)),
        tx_count: Set(header.tx_count as i64),
        time_ms: Set(header.time_ms),
        chunk_roots: Set(tree
            .chunk_roots()
            .iter()
            .flat_map(|d| *d.as_bytes())
            .collect()),
    }
    .insert(conn)
    .await?;
    let height = header.height as i64;
    if conn.get_database_backend() == DbBackend::Postgres {
        // One statement with an array per column: PostgreSQL binds five parameters instead
        // of five per row.
        let count = block.transactions.len();
        let heights: Vec<i64> = vec![height; count];
        let positions: Vec<i64> = (0..count as i64).collect();
        let kinds: Vec<i16> = block
            .transactions
            .iter()
            .map(|tx| tx.kind().into())
            .collect();
        let data: Vec<Vec<u8>> = block.transactions.iter().map(Transaction::encode).collect();
        let commitments: Vec<String> = block
            .transactions
            .iter()
            .map(|tx| tx.commitment().map(|c| c.to_hex()).unwrap_or_default())
            .collect();
        conn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO ledger_transactions (block_height, position, kind, data, commitment) \
             SELECT h, p, k, d, NULLIF(c, '') FROM unnest($1::bigint[], $2::bigint[], \
             $3::smallint[], $4::bytea[], $5::text[]) AS t(h, p, k, d, c)",
            [
                heights.into(),
                positions.into(),
                kinds.into(),
                data.into(),
                commitments.into(),
            ],
        ))
        .await?;
        return Ok(());
    }
    let rows: Vec<ledger_transactions::ActiveModel> = block
        .transactions
        .iter()
        .enumerate()
        .map(|(position, tx)| ledger_transactions::ActiveModel {
            block_height: Set(height),
            position: Set(position as i64),
            kind: Set(tx.kind().into()),
            data: Set(tx.encode()),
            commitment: Set(tx.commitment().map(|c| c.to_hex())),
        })
        .collect();
    for chunk in rows.chunks(INSERT_CHUNK) {
        ledger_transactions::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// Ledger types are structs of strings, numbers and hex: serialising them cannot fail.
fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("ledger types serialise to JSON")
}

fn parse_chunk_roots(row: &ledger_blocks::Model) -> Result<Vec<Digest>, StoreError> {
    row.chunk_roots
        .chunks(32)
        .map(Digest::from_slice)
        .collect::<Result<_, _>>()
        .map_err(|_| StoreError::Corrupt {
            height: row.height as u64,
            what: "the chunk roots",
        })
}

fn parse_finality(row: &ledger_blocks::Model) -> Result<Option<Finality>, StoreError> {
    row.finality
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|_| StoreError::Corrupt {
            height: row.height as u64,
            what: "the finality",
        })
}

/// The stored headers of heights `from..=to` in `db`, in order.
async fn headers(
    db: &DatabaseConnection,
    from: u64,
    to: u64,
) -> Result<Vec<BlockHeader>, StoreError> {
    let rows = ledger_blocks::Entity::find()
        .filter(ledger_blocks::Column::Height.between(from as i64, to as i64))
        .order_by_asc(ledger_blocks::Column::Height)
        .all(db)
        .await?;
    if rows.len() as u64 != to + 1 - from {
        return Err(StoreError::Corrupt {
            height: from,
            what: "the blocks up to the finalising one",
        });
    }
    rows.iter().map(parse_header).collect()
}

fn parse_header(row: &ledger_blocks::Model) -> Result<BlockHeader, StoreError> {
    serde_json::from_str(&row.header).map_err(|_| StoreError::Corrupt {
        height: row.height as u64,
        what: "the header",
    })
}

/// Checks the columns stored beside a block for queries — its hash, time and count, each
/// transaction's kind and commitment — against the block itself, so that none of them can
/// be altered unnoticed.
async fn check_columns(conn: &impl ConnectionTrait, block: &Block) -> Result<(), String> {
    let height = block.header.height as i64;
    let row = ledger_blocks::Entity::find_by_id(height)
        .one(conn)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the block is missing")?;
    if row.hash != block.header.hash().to_hex() {
        return Err("the stored block hash is not the header's".into());
    }
    if row.time_ms != block.header.time_ms || row.tx_count as u64 != block.header.tx_count {
        return Err("the stored time or transaction count is not the header's".into());
    }
    let rows = ledger_transactions::Entity::find()
        .filter(ledger_transactions::Column::BlockHeight.eq(height))
        .order_by_asc(ledger_transactions::Column::Position)
        .all(conn)
        .await
        .map_err(|e| e.to_string())?;
    for (position, (row, tx)) in rows.iter().zip(&block.transactions).enumerate() {
        if row.position != position as i64 {
            return Err(format!(
                "transaction {position} of the block is stored at position {}",
                row.position
            ));
        }
        let commitment = tx.commitment().map(|c| c.to_hex());
        let stored = row.commitment.clone().filter(|c| !c.is_empty());
        if row.kind != i16::from(tx.kind()) || stored != commitment {
            return Err(format!(
                "transaction {}: the stored kind or commitment is not the transaction's",
                row.position
            ));
        }
    }
    Ok(())
}

/// A stored block and its stored chunk roots.
async fn load_block(
    conn: &impl ConnectionTrait,
    height: u64,
) -> Result<Option<(Block, Vec<Digest>)>, StoreError> {
    let Some(row) = ledger_blocks::Entity::find_by_id(height as i64)
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let header = parse_header(&row)?;
    let signatures = serde_json::from_str(&row.signatures).map_err(|_| StoreError::Corrupt {
        height,
        what: "the signatures",
    })?;
    let transactions = ledger_transactions::Entity::find()
        .filter(ledger_transactions::Column::BlockHeight.eq(height as i64))
        .order_by_asc(ledger_transactions::Column::Position)
        .all(conn)
        .await?
        .into_iter()
        .map(|t| Transaction::decode(&t.data))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| StoreError::Corrupt {
            height,
            what: "a transaction",
        })?;
    let chunk_roots = parse_chunk_roots(&row)?;
    Ok(Some((
        Block {
            header,
            transactions,
            signatures,
            finality: parse_finality(&row)?,
        },
        chunk_roots,
    )))
}
