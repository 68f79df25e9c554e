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

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde_json::json;

use certus_schemas::privacy::{ErasureInfo, ErasureReason};

use crate::audit;
use crate::error::{DomainError, ErrorKind};
use crate::ledger::hash::Digest;
use crate::ledger::store::outbox_row;
use crate::ledger::transaction::{erasure_receipt_hash, Kind, Transaction};
use crate::state::AppState;
use crate::store::entities::{
    credential_offers, data_subjects, erasures, ledger_transactions, personal_records,
};
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
    state: &AppState,
    tenant_id: &str,
    subject_id: &str,
    reason: ErasureReason,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<ErasureInfo, ErasureError> {
    let txn = state.db.begin().await?;
    let subject = data_subjects::Entity::find_by_id(subject_id)
        .filter(data_subjects::Column::TenantId.eq(tenant_id))
        .one(&txn)
        .await?
        .ok_or_else(|| ErasureError::NotFound(subject_id.to_owned()))?;
    let receipt_id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
    let (shredded, records) = shred(&txn, &[subject_id], Some(&receipt_id), now).await?;
    if shredded != 1 {
        return Err(ErasureError::AlreadyErased);
    }
    let info = seal_receipt(
        state,
        &txn,
        Erasure {
            id: receipt_id,
            tenant_id,
            subject: &subject,
            erased: vec![subject.tag.clone()],
            reason,
            records,
            actor,
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(info)
}

/// Erases some of a data subject's records (those past their retention), keeping the
/// subject and their other records.
pub async fn erase_records(
    state: &AppState,
    subject: &data_subjects::Model,
    records: &[personal_records::Model],
    reason: ErasureReason,
    now: DateTime<Utc>,
) -> Result<ErasureInfo, ErasureError> {
    let txn = state.db.begin().await?;
    let receipt_id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
    let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
    let cleared = clear_records(
        &txn,
        personal_records::Column::Id.is_in(ids),
        Some(&receipt_id),
        now,
    )
    .await?;
    let info = seal_receipt(
        state,
        &txn,
        Erasure {
            id: receipt_id,
            tenant_id: &subject.tenant_id,
            subject,
            erased: records.iter().map(|r| r.tag.clone()).collect(),
            reason,
            records: cleared,
            actor: "system",
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(info)
}

/// Destroys the keys (and reference hashes) of the subjects `ids` that still have one,
/// clears their records and withdraws their waiting offers: (subjects, records) erased.
async fn shred(
    conn: &impl ConnectionTrait,
    ids: &[&str],
    erased_by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(u64, u64), sea_orm::DbErr> {
    if ids.is_empty() {
        return Ok((0, 0));
    }
    let shredded = data_subjects::Entity::update_many()
        .col_expr(
            data_subjects::Column::WrappedKey,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            data_subjects::Column::ReferenceHash,
            Expr::value(Option::<String>::None),
        )
        .col_expr(data_subjects::Column::ErasedAt, Expr::value(now))
        .filter(data_subjects::Column::Id.is_in(ids.iter().copied()))
        .filter(data_subjects::Column::WrappedKey.is_not_null())
        .exec(conn)
        .await?
        .rows_affected;
    let records = clear_records(
        conn,
        personal_records::Column::SubjectId.is_in(ids.iter().copied()),
        erased_by,
        now,
    )
    .await?;
    withdraw_offers(
        conn,
        credential_offers::Column::SubjectId.is_in(ids.iter().copied()),
    )
    .await?;
    Ok((shredded, records))
}

/// Clears the ciphertexts of the records `filter` selects that still hold any.
async fn clear_records(
    conn: &impl ConnectionTrait,
    filter: impl sea_orm::sea_query::IntoCondition,
    erased_by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<u64, sea_orm::DbErr> {
    Ok(personal_records::Entity::update_many()
        .col_expr(
            personal_records::Column::Jwe,
            Expr::value(Option::<String>::None),
        )
        .col_expr(personal_records::Column::ErasedAt, Expr::value(now))
        .col_expr(
            personal_records::Column::ErasedBy,
            Expr::value(erased_by.map(str::to_owned)),
        )
        .filter(filter)
        .filter(personal_records::Column::Jwe.is_not_null())
        .exec(conn)
        .await?
        .rows_affected)
}

/// Withdraws the offers `filter` selects that still wait for their wallet: their sealed
/// credential is cleared, and they answer `erased`.
async fn withdraw_offers(
    conn: &impl ConnectionTrait,
    filter: impl sea_orm::sea_query::IntoCondition,
) -> Result<(), sea_orm::DbErr> {
    credential_offers::Entity::update_many()
        .col_expr(
            credential_offers::Column::Document,
            Expr::value(Option::<String>::None),
        )
        .filter(filter)
        .filter(credential_offers::Column::RedeemedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
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

/// Signs an erasure's receipt and writes it, its anchors and its audit entry in `txn`.
async fn seal_receipt(
    state: &AppState,
    txn: &DatabaseTransaction,
    erasure: Erasure<'_>,
    now: DateTime<Utc>,
) -> Result<ErasureInfo, ErasureError> {
    let key = state
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
    .insert(txn)
    .await?;
    for tag in &erasure.erased {
        let erased = Digest::from_hex(tag)
            .map_err(|_| anyhow::anyhow!("a stored erasure tag is not a digest"))?;
        outbox_row(
            &Transaction::ErasureReceipt {
                erased,
                receipt: hash,
            },
            now,
        )
        .insert(txn)
        .await?;
    }
    audit::append(
        txn,
        vec![audit::entry(
            erasure.tenant_id,
            erasure.actor,
            "privacy.erase",
            &erasure.subject.id,
            now,
        )],
    )
    .await?;
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
    db: &DatabaseConnection,
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
        .all(db)
        .await?
        .iter()
        .map(info)
        .collect())
}

/// Re-applies every erasure anchored on the chain: a data subject or record it names
/// that still holds data (restored from a backup taken before the erasure, say) is
/// erased again. Returns how many subjects and records were erased.
pub async fn reapply(db: &DatabaseConnection, now: DateTime<Utc>) -> anyhow::Result<u64> {
    let anchored: Vec<Vec<u8>> = ledger_transactions::Entity::find()
        .select_only()
        .column(ledger_transactions::Column::Data)
        .filter(ledger_transactions::Column::Kind.eq(i16::from(Kind::ErasureReceipt)))
        .into_tuple()
        .all(db)
        .await?;
    let tags: Vec<String> = anchored
        .iter()
        .filter_map(|data| match Transaction::decode(data) {
            Ok(Transaction::ErasureReceipt { erased, .. }) => Some(erased.to_hex()),
            _ => None,
        })
        .collect();
    let mut erased = 0;
    for chunk in tags.chunks(CHUNK) {
        let txn = db.begin().await?;
        let subjects: Vec<String> = data_subjects::Entity::find()
            .select_only()
            .column(data_subjects::Column::Id)
            .filter(data_subjects::Column::Tag.is_in(chunk.iter().map(String::as_str)))
            .filter(data_subjects::Column::WrappedKey.is_not_null())
            .into_tuple()
            .all(&txn)
            .await?;
        let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
        let (shredded, _) = shred(&txn, &subjects, None, now).await?;
        let records = clear_records(
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
