//! Recording issuances with group commit.
//!
//! Each issuance is a unit of work ([`crate::work`]): its record, its anchor in the ledger
//! outbox, its audit entry, and its subject's personal data in the vault commit together,
//! before the client hears 201. One database transaction per
//! issuance would serialise every issuance on SQLite's single writer; instead a recorder
//! task gathers the issuances waiting at that moment and commits them together, then
//! answers each. Nothing is acknowledged before its commit, so a crash loses only
//! issuances that were never acknowledged. If a batch fails (a client-chosen credential
//! `id` already used, say), its issuances are retried one by one so only the faulty one
//! fails. A sub-issuer's issuance counts against its mandate in the same transaction, so
//! processes sharing the database never issue past a mandate's `maxCount`. The copies of
//! one credential issued to one wallet in a batch (OpenID4VCI batch issuance) are one job:
//! they commit together or not at all.

use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbErr, IntoActiveModel, Set};
use tokio::sync::{mpsc, oneshot};

use crate::issued::{self, RecordSeal};
use crate::privacy::{vault, PersonalRows};
use crate::store::entities::{credential_copies, issued_credentials};
use crate::store::{self, Inserts, Unique};
use crate::trust::{self, MandateUse};
use crate::work::Trail;

/// Most jobs (issuances, or batches of copies) committed in one transaction.
const MAX_BATCH: usize = 1_000;
/// Issuances waiting for the recorder before callers wait for room.
const QUEUE: usize = 10_000;

/// The rows of one issuance.
#[derive(Debug)]
pub struct Record {
    /// The record, sealed by the recorder as it is written.
    pub issued: issued_credentials::Model,
    /// Its anchor and audit entry.
    pub trail: Trail,
    pub personal: PersonalRows,
    /// For a sub-issuer: the mandate it issues under, counted as the record is written.
    pub mandate: Option<MandateUse>,
    /// For a copy of a batch: the first copy's credential id, shared by every copy.
    pub batch: Option<String>,
}

/// Why an issuance could not be recorded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RecordError {
    /// A credential with this `id` was already issued.
    #[error("a credential with this id was already issued")]
    DuplicateId,
    /// Another credential holds its status entry.
    #[error("another credential holds this status entry")]
    StatusEntryTaken,
    /// The sub-issuer's mandate allows no more credentials of this type.
    #[error("the mandate allows at most {0} credentials of this type")]
    MandateExhausted(u64),
    /// The database failed, or the recorder stopped.
    #[error("recording the issuance failed: {0}")]
    Failed(String),
}

/// Records committed together, and who waits for them.
type Job = (Vec<Record>, oneshot::Sender<Result<(), RecordError>>);

/// Handle to the recorder task; cheap to clone.
#[derive(Debug, Clone)]
pub struct Recorder {
    jobs: mpsc::Sender<Job>,
}

impl Recorder {
    /// Starts the recorder over `db`, on a thread of its own ([`store::spawn_writer`]),
    /// sealing each record with `seal`.
    pub fn spawn(db: DatabaseConnection, seal: RecordSeal) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        store::spawn_writer("certus-recorder", run(db, seal, queue));
        Self { jobs }
    }

    /// Records issuances together (one, or the copies of a batch): all or none; returns
    /// once they are committed.
    pub async fn record(&self, records: Vec<Record>) -> Result<(), RecordError> {
        let (done, answer) = oneshot::channel();
        self.jobs
            .send((records, done))
            .await
            .map_err(|_| RecordError::Failed("the recorder has stopped".into()))?;
        answer
            .await
            .map_err(|_| RecordError::Failed("the recorder has stopped".into()))?
    }
}

async fn run(db: DatabaseConnection, seal: RecordSeal, mut queue: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let jobs = std::mem::take(&mut batch);
        match write(&db, &seal, jobs.iter().flat_map(|(r, _)| r)).await {
            Ok(()) => jobs.into_iter().for_each(|(_, done)| {
                let _ = done.send(Ok(()));
            }),
            Err(_) if jobs.len() > 1 => {
                for (records, done) in jobs {
                    let result = write(&db, &seal, records.iter()).await;
                    let _ = done.send(result.map_err(classify));
                }
            }
            Err(e) => {
                let e = classify(e);
                jobs.into_iter().for_each(|(_, done)| {
                    let _ = done.send(Err(e.clone()));
                })
            }
        }
    }
}

/// Why a batch could not be written.
#[derive(Debug)]
enum WriteError {
    Db(DbErr),
    MandateExhausted(u64),
}

impl From<DbErr> for WriteError {
    fn from(e: DbErr) -> Self {
        Self::Db(e)
    }
}

async fn write<'a>(
    db: &DatabaseConnection,
    seal: &RecordSeal,
    records: impl Iterator<Item = &'a Record> + Clone,
) -> Result<(), WriteError> {
    let sealed = |record: &Record| {
        let mut row = record.issued.clone();
        row.seal = Some(seal.of(&row));
        row.into_active_model().reset_all()
    };
    let mut inserts = Inserts::default();
    issued::insert(&mut inserts, records.clone().map(sealed));
    vault::insert(&mut inserts, records.clone().map(|r| &r.personal));
    inserts.rows(records.clone().filter_map(|r| {
        Some(credential_copies::ActiveModel {
            credential_id: Set(r.issued.credential_id.clone()),
            batch_id: Set(r.batch.clone()?),
            tenant_id: Set(r.issued.tenant_id.clone()),
        })
    }));
    let mut trail = Trail::default();
    records.clone().for_each(|r| trail.extend(r.trail.clone()));
    trail.insert(&mut inserts);
    let mut statements = inserts.statements(db.get_database_backend());
    let mandates: Vec<&MandateUse> = records.filter_map(|r| r.mandate.as_ref()).collect();
    if statements.len() == 1 && mandates.is_empty() {
        // One statement (PostgreSQL) commits all of it or nothing by itself.
        db.execute_raw(statements.remove(0)).await?;
        return Ok(());
    }
    let txn = crate::store::begin_writing(db).await?;
    for mandate in mandates {
        if !trust::count_use(&txn, mandate).await? {
            return Err(WriteError::MandateExhausted(mandate.max));
        }
    }
    for statement in statements {
        txn.execute_raw(statement).await?;
    }
    Ok(txn.commit().await?)
}

/// A failed write as the issuance reports it: a unique violation by the constraint it hit
/// (a client's duplicate `id` is the client's to fix; anything else is not).
fn classify(e: WriteError) -> RecordError {
    match e {
        WriteError::MandateExhausted(max) => RecordError::MandateExhausted(max),
        WriteError::Db(e) => match store::unique_violation(&e) {
            Some(Unique::CredentialId) => RecordError::DuplicateId,
            Some(Unique::StatusEntry) => RecordError::StatusEntryTaken,
            _ => RecordError::Failed(e.to_string()),
        },
    }
}
