//! Erasure (GDPR Art. 17) by crypto-shredding, with an anchored receipt.
//!
//! Erasing a data subject drops their wrapped key and clears their records' ciphertexts
//! and any offer still waiting for them, in one database transaction with a receipt the
//! institution signs (`typ: erasure-receipt+jwt`), the receipt's anchor in the ledger
//! outbox, and an audit entry. The receipt names the subject, or the records, by salted
//! hashes only ([`super::vault::tag`]); the anchor carries each such hash, so a node
//! restored from a backup taken before the erasure finds it on the chain and erases again
//! ([`reapply`]). Issuance records, status entries and anchors are not personal data and
//! stay: the credential can still be revoked and its status checked.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use certus_schemas::privacy::{ErasureInfo, ErasureReason};

use super::{vault, ErasureListener, Privacy};
use crate::error::{DomainError, ErrorKind};
use crate::ledger::hash::Digest;
use crate::ledger::store as ledger_store;
use crate::ledger::transaction::{erasure_receipt_hash, Kind, Transaction};
use crate::store::entities::{data_subjects, erasures, personal_records};
use crate::work::Work;
use certus_credential::jose;
use certus_credential::time::xsd_now;

/// `typ` of an erasure receipt.
pub const ERASURE_RECEIPT_TYP: &str = "erasure-receipt+jwt";

/// Tags re-applied per query.
const CHUNK: usize = 500;

/// Why an erasure did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ErasureError {
    #[error("no data subject `{0}` at this institution")]
    NotFound(String),
    #[error("the data subject's personal data was already erased")]
    AlreadyErased,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl DomainError for ErasureError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "DATA_SUBJECT_NOT_FOUND",
            Self::AlreadyErased => "ALREADY_ERASED",
            Self::Internal(_) => "INTERNAL",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::AlreadyErased => ErrorKind::Conflict,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }
}

impl From<sea_orm::DbErr> for ErasureError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Internal(e.into())
    }
}

/// Erases everything held about a data subject: their key, their records, their waiting
/// offers.
pub async fn erase_subject(
    privacy: &Privacy,
    tenant_id: &str,
    subject_id: &str,
    reason: ErasureReason,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<ErasureInfo, ErasureError> {
    let mut work = Work::begin(&privacy.db, now).await?;
    let subject = data_subjects::Entity::find_by_id(subject_id)
        .filter(data_subjects::Column::TenantId.eq(tenant_id))
        .one(work.conn())
        .await?
        .ok_or_else(|| ErasureError::NotFound(subject_id.to_owned()))?;
    let receipt_id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
    let (shredded, records) = shred(
        work.conn(),
        &privacy.listeners,
        &[subject_id],
        Some(&receipt_id),
        now,
    )
    .await?;
    if shredded != 1 {
        return Err(ErasureError::AlreadyErased);
    }
    let info = seal_receipt(
        privacy,
        &mut work,
        Erasure {
            id: receipt_id,
            tenant_id,
            subject: &subject,
            erased: vec![subject.tag.clone()],
            reason,
            records,
            actor,
        },
    )
    .await?;
    work.commit().await?;
    Ok(info)
}

/// Erases some of a data subject's records (those past their retention), keeping the
/// subject and their other records.
pub async fn erase_records(
    privacy: &Privacy,
    subject: &data_subjects::Model,
    records: &[personal_records::Model],
    reason: ErasureReason,
    now: DateTime<Utc>,
) -> Result<ErasureInfo, ErasureError> {
    let mut work = Work::begin(&privacy.db, now).await?;
    let receipt_id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
    let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
    let cleared = vault::clear(
        work.conn(),
        personal_records::Column::Id.is_in(ids),
        Some(&receipt_id),
        now,
    )
    .await?;
    let info = seal_receipt(
        privacy,
        &mut work,
        Erasure {
            id: receipt_id,
            tenant_id: &subject.tenant_id,
            subject,
            erased: records.iter().map(|r| r.tag.clone()).collect(),
            reason,
            records: cleared,
            actor: "system",
        },
    )
    .await?;
    work.commit().await?;
    Ok(info)
}

/// Erases the subjects `ids` in the vault and tells `listeners`: (subjects, records)
/// erased.
async fn shred(
    txn: &DatabaseTransaction,
    listeners: &[Arc<dyn ErasureListener>],
    ids: &[&str],
    erased_by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(u64, u64), sea_orm::DbErr> {
    let erased = vault::shred(txn, ids, erased_by, now).await?;
    if !ids.is_empty() {
        for listener in listeners {
            listener.subjects_erased(txn, ids).await?;
        }
    }
    Ok(erased)
}

/// One erasure, for its receipt.
struct Erasure<'a> {
    id: String,
    tenant_id: &'a str,
    subject: &'a data_subjects::Model,
    /// The tags of what was erased: the subject's, or its records'.
    erased: Vec<String>,
    reason: ErasureReason,
    records: u64,
    actor: &'a str,
}

/// Signs an erasure's receipt and writes it, its anchors and its audit entry in `work`.
async fn seal_receipt(
    privacy: &Privacy,
    work: &mut Work,
    erasure: Erasure<'_>,
) -> Result<ErasureInfo, ErasureError> {
    let now = work.now();
    let key = privacy
        .keys
        .default_key(erasure.tenant_id)
        .ok_or_else(|| anyhow::anyhow!("the institution has no key to sign the receipt"))?;
    let payload = json!({
        "iss": key.did,
        "iat": now.timestamp(),
        "jti": erasure.id,
        "sub": erasure.subject.tag,
        "erased": erasure.erased,
        "reason": erasure.reason,
        "records": erasure.records,
        "erasedAt": xsd_now(now),
        "kept": "issuance records (identifiers, types, status entries, anchors), which hold no personal data: credentials can still be revoked and their status checked",
    });
    let header = jose::header(&[
        ("typ", ERASURE_RECEIPT_TYP),
        ("kid", &key.verification_method),
    ]);
    let jws = jose::sign(header, &payload, key.signer.as_ref()).map_err(anyhow::Error::from)?;
    let hash = erasure_receipt_hash(&jws);
    erasures::ActiveModel {
        id: Set(erasure.id.clone()),
        tenant_id: Set(erasure.tenant_id.to_owned()),
        subject_id: Set(erasure.subject.id.clone()),
        reason: Set(erasure.reason.as_str().to_owned()),
        records: Set(erasure.records as i64),
        receipt: Set(jws.clone()),
        commitment: Set(hash.to_hex()),
        erased_at: Set(now),
    }
    .insert(work.conn())
    .await?;
    for tag in &erasure.erased {
        let erased = Digest::from_hex(tag)
            .map_err(|_| anyhow::anyhow!("a stored erasure tag is not a digest"))?;
        work.anchor(&Transaction::ErasureReceipt {
            erased,
            receipt: hash,
        });
    }
    work.audit(
        erasure.tenant_id,
        erasure.actor,
        "privacy.erase",
        &erasure.subject.id,
    );
    Ok(ErasureInfo {
        id: erasure.id,
        data_subject: erasure.subject.id.clone(),
        reason: erasure.reason,
        records: erasure.records,
        erased_at: xsd_now(now),
        receipt: jws,
        commitment: hash.to_hex(),
    })
}

/// An erasure as stored.
pub fn info(row: &erasures::Model) -> ErasureInfo {
    ErasureInfo {
        id: row.id.clone(),
        data_subject: row.subject_id.clone(),
        reason: if row.reason == ErasureReason::Retention.as_str() {
            ErasureReason::Retention
        } else {
            ErasureReason::Request
        },
        records: u64::try_from(row.records).unwrap_or_default(),
        erased_at: xsd_now(row.erased_at),
        receipt: row.receipt.clone(),
        commitment: row.commitment.clone(),
    }
}

/// The tenant's erasures, newest first; only those for `reason` when given.
pub async fn list(
    privacy: &Privacy,
    tenant_id: &str,
    reason: Option<ErasureReason>,
    limit: u64,
) -> Result<Vec<ErasureInfo>, sea_orm::DbErr> {
    let mut query = erasures::Entity::find().filter(erasures::Column::TenantId.eq(tenant_id));
    if let Some(reason) = reason {
        query = query.filter(erasures::Column::Reason.eq(reason.as_str()));
    }
    Ok(query
        .order_by_desc(erasures::Column::ErasedAt)
        .limit(limit)
        .all(&privacy.db)
        .await?
        .iter()
        .map(info)
        .collect())
}

/// Re-applies every erasure anchored on the chain: a data subject or record it names
/// that still holds data (restored from a backup taken before the erasure, say) is
/// erased again. Returns how many subjects and records were erased.
pub async fn reapply(
    db: &DatabaseConnection,
    listeners: &[Arc<dyn ErasureListener>],
    now: DateTime<Utc>,
) -> anyhow::Result<u64> {
    let anchored = ledger_store::anchored(db, Kind::ErasureReceipt).await?;
    erase_tags(db, listeners, anchored.iter(), now).await
}

/// Erases the data subjects and records `transactions`' erasure receipts name, where
/// they still hold data. How many were erased.
async fn erase_tags<'t>(
    db: &DatabaseConnection,
    listeners: &[Arc<dyn ErasureListener>],
    transactions: impl Iterator<Item = &'t Transaction>,
    now: DateTime<Utc>,
) -> anyhow::Result<u64> {
    let tags: Vec<String> = transactions
        .filter_map(|tx| match tx {
            Transaction::ErasureReceipt { erased, .. } => Some(erased.to_hex()),
            _ => None,
        })
        .collect();
    let mut erased = 0;
    for chunk in tags.chunks(CHUNK) {
        let txn = crate::store::begin_writing(db).await?;
        let subjects: Vec<String> = data_subjects::Entity::find()
            .select_only()
            .column(data_subjects::Column::Id)
            .filter(data_subjects::Column::Tag.is_in(chunk.iter().map(String::as_str)))
            .filter(data_subjects::Column::WrappedKey.is_not_null())
            .into_tuple()
            .all(&txn)
            .await?;
        let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
        let (shredded, _) = shred(&txn, listeners, &subjects, None, now).await?;
        let records = vault::clear(
            &txn,
            personal_records::Column::Tag.is_in(chunk.iter().map(String::as_str)),
            None,
            now,
        )
        .await?;
        txn.commit().await?;
        erased += shredded + records;
    }
    if erased > 0 {
        tracing::warn!(
            erased,
            "re-applied erasures anchored on the chain (a restored backup held erased data)"
        );
    }
    Ok(erased)
}

/// The erasures final on a consortium's chain, applied as they come (see
/// [`crate::consensus::Consortium::follow`]): a node restored from a backup re-applies at
/// start what its own copy of the chain holds ([`reapply`]), then catches up on the chain
/// from its peers — the erasures made since its backup are applied as they arrive.
pub struct FollowErasures {
    db: DatabaseConnection,
    listeners: Arc<[Arc<dyn ErasureListener>]>,
    clock: Arc<dyn certus_credential::time::Clock>,
}

impl Privacy {
    /// This node's erasures as a follower of the shared chain.
    pub fn erasures(&self) -> FollowErasures {
        FollowErasures {
            db: self.db.clone(),
            listeners: self.listeners.clone(),
            clock: self.clock.clone(),
        }
    }
}

impl crate::consensus::Follower for FollowErasures {
    fn what(&self) -> &'static str {
        "erasures"
    }

    async fn pass(&mut self, after: Option<u64>) -> anyhow::Result<()> {
        let sealed =
            ledger_store::sealed_after(&self.db, Kind::ErasureReceipt, after.unwrap_or(0)).await?;
        let now = self.clock.now();
        erase_tags(
            &self.db,
            &self.listeners,
            sealed.iter().map(|(_, tx)| tx),
            now,
        )
        .await?;
        Ok(())
    }
}

/// Checks every erasure: its commitment is the hash of its signed receipt, and the receipt
/// is anchored for every tag it names. The number checked, or the first that does not
/// hold.
pub async fn verify_store(db: &DatabaseConnection) -> Result<u64, String> {
    let rows = erasures::Entity::find()
        .all(db)
        .await
        .map_err(|e| e.to_string())?;
    for row in &rows {
        let wrong = |what: &str| format!("erasure {}: {what}", row.id);
        let receipt = erasure_receipt_hash(&row.receipt);
        if row.commitment != receipt.to_hex() {
            return Err(wrong("its commitment is not its receipt's hash"));
        }
        let decoded = jose::decode(&row.receipt).map_err(|_| wrong("unreadable"))?;
        let erased = decoded.payload["erased"]
            .as_array()
            .ok_or_else(|| wrong("the receipt names nothing erased"))?;
        for tag in erased {
            let erased = tag
                .as_str()
                .and_then(|t| Digest::from_hex(t).ok())
                .ok_or_else(|| wrong("a tag is malformed"))?;
            let tx = Transaction::ErasureReceipt { erased, receipt };
            if !ledger_store::is_recorded(db, &tx)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(wrong("not anchored"));
            }
        }
    }
    Ok(rows.len() as u64)
}
