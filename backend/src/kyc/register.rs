//! The reliance register: who relied on whose KYC, when, at which assurance — no personal
//! data. Each record is a JWS by the relying institution (`typ: reliance-record+jwt`),
//! anchored by hash in the same database transaction that stores it. The relying
//! institution reads its own records; a KYC issuer reads only counts of reliance on its
//! KYC per institution and month; the regulator (the root authority) reads them all.

use std::collections::BTreeMap;

use certus_schemas::kyc::{
    Assurance, AssuranceLevel, RelianceCheck, RelianceCount, RelianceEntry, RelianceRecord,
    RelianceState,
};
use certus_schemas::openid::PresentedCredential;
use certus_schemas::wire::{StatusPurpose, VerificationResult};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::Kyc;
use super::StatusRef;
use crate::error::{DomainError, ErrorKind};
use crate::ledger::transaction::{reliance_record_hash, Transaction};
use crate::store::entities::{reliance_records, status_watches};
use crate::work::Work;
use certus_credential::jose;
use certus_credential::time::xsd_now;

/// `typ` of a signed reliance record.
pub const RELIANCE_RECORD_TYP: &str = "reliance-record+jwt";

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
                }
                .insert(work.conn())
                .await?;
            }
        }
        work.anchor(&Transaction::RelianceRecord { hash });
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

/// The records of one relying institution (`Some(tenant)`), or all of them, newest first.
pub async fn list(kyc: &Kyc, tenant_id: Option<&str>) -> Result<Vec<RelianceEntry>, DbErr> {
    let db = &kyc.db;
    let mut query = reliance_records::Entity::find();
    if let Some(tenant) = tenant_id {
        query = query.filter(reliance_records::Column::TenantId.eq(tenant));
    }
    Ok(query
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

/// Reliance on KYC issued by `tenant_id`'s DIDs, counted per issuer, institution and
/// month.
pub async fn summary(kyc: &Kyc, tenant_id: &str) -> Result<Vec<RelianceCount>, DbErr> {
    let issuers: Vec<String> = kyc
        .keys
        .tenant_keys(tenant_id)
        .iter()
        .map(|k| k.did.clone())
        .collect();
    let rows = reliance_records::Entity::find()
        .filter(reliance_records::Column::KycIssuer.is_in(issuers))
        .all(&kyc.db)
        .await?;
    let mut counts: BTreeMap<(String, String, String), (String, u64)> = BTreeMap::new();
    for row in rows {
        let month = row.relied_at.format("%Y-%m").to_string();
        counts
            .entry((row.kyc_issuer, row.relying_party, month))
            .or_insert_with(|| (row.relying_institution, 0))
            .1 += 1;
    }
    Ok(counts
        .into_iter()
        .map(
            |((kyc_issuer, relying_party, month), (relying_institution, count))| RelianceCount {
                kyc_issuer,
                relying_party,
                relying_institution,
                month,
                count,
            },
        )
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
