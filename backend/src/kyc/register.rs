//! The reliance register: who relied on whose KYC, when, at which assurance — no personal
//! data. Each record is a JWS by the relying institution (`typ: reliance-record+jwt`),
//! anchored by hash in the same database transaction that stores it, with its notice
//! (`typ: reliance-notice+jwt`): what every member may know of it — institutions,
//! assurance and month — on the shared chain in full (decision 21). The relying
//! institution reads its own records; every node indexes the notices final on the chain,
//! whichever member relied, so a KYC issuer reads the counts of reliance on its KYC per
//! institution and month, and the regulator (the root authority) the whole register, on
//! its own node.

use certus_schemas::kyc::{
    Assurance, AssuranceLevel, RegisteredReliance, RelianceCheck, RelianceCount, RelianceEntry,
    RelianceNotice, RelianceRecord, RelianceState,
};
use certus_schemas::openid::PresentedCredential;
use certus_schemas::wire::{StatusPurpose, VerificationResult};
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::Kyc;
use super::StatusRef;
use crate::error::{DomainError, ErrorKind};
use crate::ledger::store as ledger_store;
use crate::ledger::transaction::{reliance_record_hash, Kind, Transaction};
use crate::store::entities::{reliance_records, reliance_register, status_watches};
use crate::work::Work;
use certus_credential::jose;
use certus_credential::time::{xsd_millis, xsd_now};

/// `typ` of a signed reliance record.
pub const RELIANCE_RECORD_TYP: &str = "reliance-record+jwt";
/// `typ` of a signed reliance notice.
pub const RELIANCE_NOTICE_TYP: &str = "reliance-notice+jwt";

/// A credential accepted under a KYC policy, with its status entries.
pub struct Relied<'a> {
    pub credential: &'a PresentedCredential,
    pub status: Vec<StatusRef>,
}

/// The accepted answer the reliances come from.
pub struct Acceptance<'a> {
    pub tenant_id: &'a str,
    pub institution: &'a str,
    pub request_id: &'a str,
    pub policy_id: Option<&'a str>,
    pub consent_receipt_hash: &'a str,
    /// The holder let the institution be told of status changes.
    pub notifications: bool,
}

/// The assurance a result states (its own, or its first embedded credential's).
fn assurance_of(result: &VerificationResult) -> Option<&Assurance> {
    result
        .credential
        .as_ref()
        .and_then(|c| c.assurance.as_ref())
        .or_else(|| result.credentials.iter().find_map(assurance_of))
}

/// Writes a reliance record for each accepted credential that states an assurance:
/// record, anchor, audit entry and (when the holder allowed it) status watches, at once.
pub async fn record(
    kyc: &Kyc,
    acceptance: &Acceptance<'_>,
    accepted: &[Relied<'_>],
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<RelianceEntry>> {
    let key = kyc
        .keys
        .default_key(acceptance.tenant_id)
        .ok_or_else(|| anyhow::anyhow!("the relying institution has no key"))?;
    let mut entries = Vec::new();
    for relied in accepted {
        let (Some(assurance), Some(issuer)) = (
            assurance_of(&relied.credential.verification),
            relied.credential.issuer.as_deref(),
        ) else {
            continue;
        };
        let record = RelianceRecord {
            id: format!("urn:uuid:{}", uuid::Uuid::new_v4()),
            relying_party: key.did.clone(),
            relying_institution: acceptance.institution.to_owned(),
            kyc_issuer: issuer.to_owned(),
            assurance_level: assurance.level,
            check_date: assurance.check_date.clone(),
            relied_at: xsd_now(now),
            consent_receipt_hash: acceptance.consent_receipt_hash.to_owned(),
            policy_id: acceptance.policy_id.map(str::to_owned),
        };
        let header = jose::header(&[
            ("typ", RELIANCE_RECORD_TYP),
            ("kid", &key.verification_method),
        ]);
        let jws = jose::sign(header, &serde_json::to_value(&record)?, key.signer.as_ref())?;
        let hash = reliance_record_hash(&jws);
        let notice = RelianceNotice {
            record: hash.to_hex(),
            relying_party: record.relying_party.clone(),
            relying_institution: record.relying_institution.clone(),
            kyc_issuer: record.kyc_issuer.clone(),
            assurance_level: record.assurance_level,
            month: now.format("%Y-%m").to_string(),
        };
        let header = jose::header(&[
            ("typ", RELIANCE_NOTICE_TYP),
            ("kid", &key.verification_method),
        ]);
        let notice = jose::sign(header, &serde_json::to_value(&notice)?, key.signer.as_ref())?;
        let mut work = Work::begin(&kyc.db, now).await?;
        reliance_records::ActiveModel {
            id: Set(record.id.clone()),
            tenant_id: Set(acceptance.tenant_id.to_owned()),
            request_id: Set(acceptance.request_id.to_owned()),
            relying_party: Set(record.relying_party.clone()),
            relying_institution: Set(record.relying_institution.clone()),
            kyc_issuer: Set(record.kyc_issuer.clone()),
            assurance_level: Set(record.assurance_level.as_str().to_owned()),
            check_date: Set(record.check_date.clone()),
            relied_at: Set(now),
            consent_receipt_hash: Set(record.consent_receipt_hash.clone()),
            policy_id: Set(record.policy_id.clone()),
            jws: Set(jws.clone()),
            commitment: Set(hash.to_hex()),
            notifications: Set(acceptance.notifications),
        }
        .insert(work.conn())
        .await?;
        if acceptance.notifications {
            for watched in &relied.status {
                status_watches::ActiveModel {
                    id: Set(uuid::Uuid::new_v4().to_string()),
                    tenant_id: Set(acceptance.tenant_id.to_owned()),
                    reliance_id: Set(record.id.clone()),
                    list_url: Set(watched.url.clone()),
                    status_index: Set(watched.index as i64),
                    purpose: Set(watched.purpose.as_str().to_owned()),
                    observed: Set(false),
                }
                .insert(work.conn())
                .await?;
            }
        }
        work.anchor(&Transaction::RelianceRecord { hash });
        work.anchor(&Transaction::RelianceNotice { notice });
        work.audit(
            acceptance.tenant_id,
            &format!("request:{}", acceptance.request_id),
            "kyc.rely",
            &record.id,
        );
        work.commit().await?;
        entries.push(RelianceEntry {
            record,
            jws,
            commitment: hash.to_hex(),
            request_id: acceptance.request_id.to_owned(),
            notifications: acceptance.notifications,
        });
    }
    Ok(entries)
}

/// A stored row as the register shows it.
fn entry(row: reliance_records::Model) -> RelianceEntry {
    RelianceEntry {
        record: RelianceRecord {
            id: row.id,
            relying_party: row.relying_party,
            relying_institution: row.relying_institution,
            kyc_issuer: row.kyc_issuer,
            assurance_level: AssuranceLevel::parse(&row.assurance_level)
                .unwrap_or(AssuranceLevel::Low),
            check_date: row.check_date,
            relied_at: xsd_now(row.relied_at),
            consent_receipt_hash: row.consent_receipt_hash,
            policy_id: row.policy_id,
        },
        jws: row.jws,
        commitment: row.commitment,
        request_id: row.request_id,
        notifications: row.notifications,
    }
}

/// The records of one relying institution, newest first.
pub async fn list(kyc: &Kyc, tenant_id: &str) -> Result<Vec<RelianceEntry>, DbErr> {
    let db = &kyc.db;
    Ok(reliance_records::Entity::find()
        .filter(reliance_records::Column::TenantId.eq(tenant_id))
        .order_by_desc(reliance_records::Column::ReliedAt)
        .order_by_desc(reliance_records::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(entry)
        .collect())
}

/// One record of a relying institution.
pub async fn one(kyc: &Kyc, tenant_id: &str, id: &str) -> Result<Option<RelianceEntry>, DbErr> {
    let db = &kyc.db;
    Ok(reliance_records::Entity::find_by_id(id)
        .filter(reliance_records::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
        .map(entry))
}

/// A signed notice's payload (its signature was checked before its block was final).
fn read_notice(jws: &str) -> Option<RelianceNotice> {
    serde_json::from_value(jose::decode(jws).ok()?.payload).ok()
}

/// Whether `text` is a month as notices name it: `YYYY-MM`.
pub fn is_month(text: &str) -> bool {
    text.len() == 7 && chrono::NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").is_ok()
}

/// Indexes the reliance notices final on the chain since the last pass, whichever member
/// relied (every member checked each notice's signature before it was final). Resumes
/// after the highest block indexed, whose notices were written in one transaction.
async fn follow_chain(kyc: &Kyc) -> Result<(), DbErr> {
    let mut followed = kyc.followed.lock().await;
    let after = match *followed {
        Some(height) => height,
        None => reliance_register::Entity::find()
            .select_only()
            .column_as(
                Expr::expr(Func::max(Expr::col(reliance_register::Column::Height))),
                "height",
            )
            .into_tuple::<Option<i64>>()
            .one(&kyc.db)
            .await?
            .flatten()
            .map_or(0, |h| h as u64),
    };
    let sealed = ledger_store::sealed_after(&kyc.db, Kind::RelianceNotice, after).await?;
    let rows: Vec<reliance_register::ActiveModel> = sealed
        .iter()
        .filter_map(|(placed, tx)| {
            let Transaction::RelianceNotice { notice: jws } = tx else {
                return None;
            };
            let notice = read_notice(jws)?;
            Some(reliance_register::ActiveModel {
                record: Set(notice.record),
                height: Set(placed.height as i64),
                position: Set(placed.position as i64),
                time_ms: Set(placed.time_ms),
                relying_party: Set(notice.relying_party),
                relying_institution: Set(notice.relying_institution),
                kyc_issuer: Set(notice.kyc_issuer),
                assurance_level: Set(notice.assurance_level.as_str().to_owned()),
                month: Set(notice.month),
                jws: Set(jws.clone()),
            })
        })
        .collect();
    if !rows.is_empty() {
        let txn = crate::store::begin_writing(&kyc.db).await?;
        for chunk in rows.chunks(INSERT_CHUNK) {
            reliance_register::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::column(reliance_register::Column::Record)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
    }
    let last = sealed.last().map_or(after, |(placed, _)| placed.height);
    *followed = Some(last.max(after));
    Ok(())
}

/// Rows written per INSERT (10 columns), or looked up per `IN`: well under SQLite's
/// parameter limit.
const INSERT_CHUNK: usize = 500;

/// Reliance on KYC issued by `tenant_id`'s DIDs, counted per issuer, institution and
/// month, from the notices final on the chain.
pub async fn summary(kyc: &Kyc, tenant_id: &str) -> Result<Vec<RelianceCount>, DbErr> {
    follow_chain(kyc).await?;
    let issuers: Vec<String> = kyc
        .keys
        .tenant_keys(tenant_id)
        .iter()
        .map(|k| k.did.clone())
        .collect();
    use reliance_register::Column;
    let rows: Vec<(String, String, String, String, i64)> = reliance_register::Entity::find()
        .select_only()
        .columns([
            Column::KycIssuer,
            Column::RelyingParty,
            Column::RelyingInstitution,
            Column::Month,
        ])
        .column_as(Column::Record.count(), "count")
        .filter(Column::KycIssuer.is_in(issuers))
        .group_by(Column::KycIssuer)
        .group_by(Column::RelyingParty)
        .group_by(Column::RelyingInstitution)
        .group_by(Column::Month)
        .order_by_asc(Column::KycIssuer)
        .order_by_asc(Column::RelyingParty)
        .order_by_asc(Column::Month)
        .order_by_asc(Column::RelyingInstitution)
        .into_tuple()
        .all(&kyc.db)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(kyc_issuer, relying_party, relying_institution, month, count)| RelianceCount {
                kyc_issuer,
                relying_party,
                relying_institution,
                month,
                count: count as u64,
            },
        )
        .collect())
}

/// The whole register as the chain holds it (final notices, every member's), newest
/// first; with the full record where the relying institution is on this node.
pub async fn register(kyc: &Kyc) -> Result<Vec<RegisteredReliance>, DbErr> {
    follow_chain(kyc).await?;
    let rows = reliance_register::Entity::find()
        .order_by_desc(reliance_register::Column::Height)
        .order_by_desc(reliance_register::Column::Position)
        .all(&kyc.db)
        .await?;
    let mut held: HashMap<String, RelianceRecord> = HashMap::new();
    for chunk in rows.chunks(INSERT_CHUNK) {
        let commitments = chunk.iter().map(|r| r.record.clone());
        held.extend(
            reliance_records::Entity::find()
                .filter(reliance_records::Column::Commitment.is_in(commitments))
                .all(&kyc.db)
                .await?
                .into_iter()
                .map(|row| (row.commitment.clone(), entry(row).record)),
        );
    }
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(RegisteredReliance {
                notice: read_notice(&row.jws)?,
                record: held.get(&row.record).cloned(),
                jws: row.jws,
                height: row.height as u64,
                sealed_at: xsd_millis(row.time_ms),
            })
        })
        .collect())
}

/// Why a reliance could not be checked again.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("no reliance record `{0}` of this institution")]
    NotFound(String),
    #[error(
        "the holder did not let this institution keep the credential's status entries; ask \
         for a new presentation"
    )]
    NotWatched,
    #[error("the credential's status cannot be read here: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl DomainError for CheckError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "RELIANCE_NOT_FOUND",
            Self::NotWatched => "RELIANCE_NOT_WATCHED",
            Self::Unreadable(_) => "STATUS_UNCHECKABLE",
            Self::Internal(_) => "INTERNAL",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::NotWatched => ErrorKind::Conflict,
            Self::Unreadable(_) => ErrorKind::Upstream,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }
}

/// Reads the current status of a relied-on credential from the entries kept for it.
pub async fn check(kyc: &Kyc, tenant_id: &str, id: &str) -> Result<RelianceCheck, CheckError> {
    let record = one(kyc, tenant_id, id)
        .await
        .map_err(anyhow::Error::from)?
        .ok_or_else(|| CheckError::NotFound(id.to_owned()))?;
    let watches = status_watches::Entity::find()
        .filter(status_watches::Column::RelianceId.eq(id))
        .filter(status_watches::Column::TenantId.eq(tenant_id))
        .all(&kyc.db)
        .await
        .map_err(anyhow::Error::from)?;
    if watches.is_empty() {
        return Err(CheckError::NotWatched);
    }
    let mut now_state = RelianceState::Active;
    for watch in &watches {
        let purpose = if watch.purpose == StatusPurpose::Suspension.as_str() {
            StatusPurpose::Suspension
        } else {
            StatusPurpose::Revocation
        };
        let (set, _) = kyc
            .status
            .check(
                &watch.list_url,
                watch.status_index as usize,
                purpose,
                Some(&record.record.kyc_issuer),
            )
            .await
            .map_err(|e| CheckError::Unreadable(e.to_string()))?;
        match (set, purpose) {
            (true, StatusPurpose::Revocation) => now_state = RelianceState::Revoked,
            (true, StatusPurpose::Suspension) if now_state == RelianceState::Active => {
                now_state = RelianceState::Suspended
            }
            _ => {}
        }
    }
    let valid = now_state == RelianceState::Active;
    Ok(RelianceCheck {
        id: id.to_owned(),
        state: now_state,
        valid,
        message: match now_state {
            RelianceState::Active => format!(
                "the KYC credential of {} relied on is neither suspended nor revoked",
                record.record.kyc_issuer
            ),
            RelianceState::Suspended => format!(
                "{} has suspended the KYC credential relied on",
                record.record.kyc_issuer
            ),
            RelianceState::Revoked => format!(
                "{} has revoked the KYC credential relied on",
                record.record.kyc_issuer
            ),
        },
    })
}

/// Checks every reliance record: its commitment is the hash of its signed JWS, that hash is
/// on the chain (or waiting for the next block), and the columns the register shows are
/// what the signed record says. The number checked, or the first that does not hold.
pub async fn verify_store(db: &sea_orm::DatabaseConnection) -> Result<u64, String> {
    let rows = reliance_records::Entity::find()
        .all(db)
        .await
        .map_err(|e| e.to_string())?;
    for row in &rows {
        let wrong = |what: &str| format!("reliance record {}: {what}", row.id);
        let hash = reliance_record_hash(&row.jws);
        if row.commitment != hash.to_hex() {
            return Err(wrong("its commitment is not its hash"));
        }
        let tx = Transaction::RelianceRecord { hash };
        if !crate::ledger::store::is_recorded(db, &tx)
            .await
            .map_err(|e| e.to_string())?
        {
            return Err(wrong("not anchored"));
        }
        let decoded = jose::decode(&row.jws).map_err(|_| wrong("unreadable"))?;
        let record: RelianceRecord = serde_json::from_value(decoded.payload.clone())
            .map_err(|_| wrong("not a reliance record"))?;
        let same = record.id == row.id
            && record.relying_party == row.relying_party
            && record.relying_institution == row.relying_institution
            && record.kyc_issuer == row.kyc_issuer
            && record.assurance_level.as_str() == row.assurance_level
            && record.check_date == row.check_date
            && record.consent_receipt_hash == row.consent_receipt_hash
            && record.policy_id == row.policy_id;
        if !same {
            return Err(wrong("a stored column is not what the signed record says"));
        }
    }
    Ok(rows.len() as u64)
}
