//! Retention: each credential type's schema declares how long the personal data of its
//! credentials is kept after issuance (`x-certus-retention`); an institution may set its
//! own period. A sweep erases what is past its period — the whole data subject when
//! nothing of theirs is left to keep, else the records — each with an anchored receipt,
//! and the report says what is held, what is due and what was erased.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Months, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use certus_schemas::privacy::{
    ErasureReason, Period, RetentionReport, RetentionRule, RetentionSource, SweepReport,
};

use super::erasure::{self, ErasureError};
use super::Privacy;
use crate::auth::Principal;
use crate::error::{DomainError, ErrorKind};
use crate::issuance::OPEN_TYPE;
use crate::store::entities::{data_subjects, erasures, personal_records, retention_rules};
use crate::work::Work;

/// How long the personal data of credentials issued openly (of no registered type, so no
/// schema declares a period) is kept, unless the institution sets its own period for
/// [`OPEN_TYPE`].
pub const OPEN_RETENTION: &str = "P1Y";

/// The period a credential type declares (for [`OPEN_TYPE`], Certus's default).
fn declared_period(privacy: &Privacy, credential_type: &str) -> Option<String> {
    if credential_type == OPEN_TYPE {
        return Some(OPEN_RETENTION.to_owned());
    }
    privacy
        .catalog
        .get(credential_type)
        .map(|t| t.retention.clone())
}

/// Records erased per query of a sweep.
const BATCH: u64 = 500;
/// Retention erasures listed in a report.
const REPORTED: u64 = 50;

/// Why a retention period was not set.
#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error("no credential type `{0}`; GET /credential-types lists them")]
    UnknownType(String),
    #[error("`{0}` is not an ISO 8601 duration of whole units of at most 100 years (e.g. P5Y, P18M, P30D)")]
    InvalidPeriod(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl DomainError for RetentionError {
    fn code(&self) -> &'static str {
        match self {
            Self::UnknownType(_) => "UNKNOWN_CREDENTIAL_TYPE",
            Self::InvalidPeriod(_) => "INVALID_PERIOD",
            Self::Internal(_) => "INTERNAL",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::UnknownType(_) => ErrorKind::NotFound,
            Self::InvalidPeriod(_) => ErrorKind::Invalid,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }

    fn pointer(&self) -> Option<String> {
        matches!(self, Self::InvalidPeriod(_)).then(|| "/period".into())
    }
}

/// `created + period`, when representable.
pub fn until(created: DateTime<Utc>, period: &Period) -> Option<DateTime<Utc>> {
    created
        .checked_add_months(Months::new(period.years * 12 + period.months))?
        .checked_add_signed(chrono::Duration::days(i64::from(period.days)))?
        .checked_add_signed(chrono::Duration::seconds(
            i64::try_from(period.seconds).ok()?,
        ))
}

/// `now - period`: what was created before it is past its period.
pub fn cutoff(now: DateTime<Utc>, period: &Period) -> Option<DateTime<Utc>> {
    now.checked_sub_months(Months::new(period.years * 12 + period.months))?
        .checked_sub_signed(chrono::Duration::days(i64::from(period.days)))?
        .checked_sub_signed(chrono::Duration::seconds(
            i64::try_from(period.seconds).ok()?,
        ))
}

/// Each credential type's period at `tenant_id` (the institution's, else the schema's),
/// with its source.
pub async fn periods(
    privacy: &Privacy,
    tenant_id: &str,
) -> Result<BTreeMap<String, (String, RetentionSource)>, sea_orm::DbErr> {
    let own: HashMap<String, String> = retention_rules::Entity::find()
        .filter(retention_rules::Column::TenantId.eq(tenant_id))
        .all(&privacy.db)
        .await?
        .into_iter()
        .map(|r| (r.credential_type, r.period))
        .collect();
    let declared = privacy
        .catalog
        .newest()
        .iter()
        .map(|t| (t.name.clone(), t.retention.clone(), RetentionSource::Schema))
        .chain([(
            OPEN_TYPE.to_owned(),
            OPEN_RETENTION.to_owned(),
            RetentionSource::Default,
        )])
        .collect::<Vec<_>>();
    Ok(declared
        .into_iter()
        .map(|(name, period, source)| {
            let period = match own.get(&name) {
                Some(p) => (p.clone(), RetentionSource::Institution),
                None => (period, source),
            };
            (name, period)
        })
        .collect())
}

/// Sets (or, with `None`, clears) the principal's institution's own period for a credential
/// type, with its audit entry, in one transaction.
pub async fn set(
    privacy: &Privacy,
    principal: &Principal,
    credential_type: &str,
    period: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), RetentionError> {
    if declared_period(privacy, credential_type).is_none() {
        return Err(RetentionError::UnknownType(credential_type.to_owned()));
    }
    if let Some(invalid) = period.filter(|p| Period::parse(p).is_none()) {
        return Err(RetentionError::InvalidPeriod(invalid.to_owned()));
    }
    let tenant_id = principal.tenant_id.as_str();
    let written: Result<(), DbErr> = async {
        let mut work = Work::begin(&privacy.db, now).await?;
        write_rule(work.conn(), tenant_id, credential_type, period, now).await?;
        work.audit_by(principal, "privacy.retention", credential_type);
        work.commit().await
    }
    .await;
    written.map_err(anyhow::Error::from)?;
    Ok(())
}

/// Writes (or with `None` deletes) an institution's period for a type.
async fn write_rule(
    conn: &impl ConnectionTrait,
    tenant_id: &str,
    credential_type: &str,
    period: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let Some(period) = period else {
        retention_rules::Entity::delete_many()
            .filter(retention_rules::Column::TenantId.eq(tenant_id))
            .filter(retention_rules::Column::CredentialType.eq(credential_type))
            .exec(conn)
            .await?;
        return Ok(());
    };
    retention_rules::Entity::insert(retention_rules::ActiveModel {
        tenant_id: Set(tenant_id.to_owned()),
        credential_type: Set(credential_type.to_owned()),
        period: Set(period.to_owned()),
        updated_at: Set(now),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::columns([
            retention_rules::Column::TenantId,
            retention_rules::Column::CredentialType,
        ])
        .update_columns([
            retention_rules::Column::Period,
            retention_rules::Column::UpdatedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// What `tenant_id` holds per credential type, what is due, and what retention erased.
pub async fn report(
    privacy: &Privacy,
    tenant_id: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<RetentionReport> {
    let mut rules = Vec::new();
    for (credential_type, (period, source)) in periods(privacy, tenant_id).await? {
        let live = || {
            personal_records::Entity::find()
                .filter(personal_records::Column::TenantId.eq(tenant_id))
                .filter(personal_records::Column::CredentialType.eq(&credential_type))
                .filter(personal_records::Column::Jwe.is_not_null())
        };
        let held = live().count(&privacy.db).await?;
        let due = match Period::parse(&period).and_then(|p| cutoff(now, &p)) {
            Some(cutoff) => {
                live()
                    .filter(personal_records::Column::CreatedAt.lt(cutoff))
                    .count(&privacy.db)
                    .await?
            }
            None => 0,
        };
        let erased = personal_records::Entity::find()
            .filter(personal_records::Column::TenantId.eq(tenant_id))
            .filter(personal_records::Column::CredentialType.eq(&credential_type))
            .filter(
                personal_records::Column::ErasedBy.in_subquery(
                    Query::select()
                        .column(erasures::Column::Id)
                        .from(erasures::Entity)
                        .and_where(erasures::Column::TenantId.eq(tenant_id))
                        .and_where(erasures::Column::Reason.eq(ErasureReason::Retention.as_str()))
                        .to_owned(),
                ),
            )
            .count(&privacy.db)
            .await?;
        if credential_type == OPEN_TYPE
            && source != RetentionSource::Institution
            && held + erased == 0
        {
            // An institution that never issued openly is not shown the open type's row.
            continue;
        }
        let schema_period = declared_period(privacy, &credential_type).unwrap_or_default();
        rules.push(RetentionRule {
            credential_type,
            period,
            schema_period,
            source,
            held,
            due,
            erased,
        });
    }
    Ok(RetentionReport {
        rules,
        erasures: erasure::list(privacy, tenant_id, Some(ErasureReason::Retention), REPORTED)
            .await?,
    })
}

/// Erases what `tenant_id` holds past its retention periods.
pub async fn sweep_tenant(
    privacy: &Privacy,
    tenant_id: &str,
    now: DateTime<Utc>,
) -> Result<SweepReport, ErasureError> {
    let mut report = SweepReport {
        records: 0,
        erasures: Vec::new(),
    };
    for (credential_type, (period, _)) in periods(privacy, tenant_id).await? {
        let Some(cutoff) = Period::parse(&period).and_then(|p| cutoff(now, &p)) else {
            continue;
        };
        loop {
            let due = personal_records::Entity::find()
                .filter(personal_records::Column::TenantId.eq(tenant_id))
                .filter(personal_records::Column::CredentialType.eq(&credential_type))
                .filter(personal_records::Column::Jwe.is_not_null())
                .filter(personal_records::Column::CreatedAt.lt(cutoff))
                .order_by_asc(personal_records::Column::SubjectId)
                .limit(BATCH)
                .all(&privacy.db)
                .await?;
            if due.is_empty() {
                break;
            }
            let mut by_subject: BTreeMap<&str, Vec<personal_records::Model>> = BTreeMap::new();
            for record in &due {
                by_subject
                    .entry(record.subject_id.as_str())
                    .or_default()
                    .push(record.clone());
            }
            for (subject_id, records) in by_subject {
                let info = erase_due(privacy, tenant_id, subject_id, &records, now).await?;
                report.records += info.records;
                report.erasures.push(info);
            }
        }
    }
    Ok(report)
}

/// Erases a subject's due records: the whole subject when they are all it still holds.
async fn erase_due(
    privacy: &Privacy,
    tenant_id: &str,
    subject_id: &str,
    due: &[personal_records::Model],
    now: DateTime<Utc>,
) -> Result<certus_schemas::privacy::ErasureInfo, ErasureError> {
    let subject = data_subjects::Entity::find_by_id(subject_id)
        .one(&privacy.db)
        .await?
        .ok_or_else(|| ErasureError::NotFound(subject_id.to_owned()))?;
    let live = personal_records::Entity::find()
        .filter(personal_records::Column::SubjectId.eq(subject_id))
        .filter(personal_records::Column::Jwe.is_not_null())
        .count(&privacy.db)
        .await?;
    if live <= due.len() as u64 && subject.wrapped_key.is_some() {
        return erasure::erase_subject(
            privacy,
            tenant_id,
            subject_id,
            ErasureReason::Retention,
            "system",
            now,
        )
        .await;
    }
    erasure::erase_records(privacy, &subject, due, ErasureReason::Retention, now).await
}

/// Sweeps every institution.
pub async fn sweep(privacy: &Privacy, now: DateTime<Utc>) -> Result<u64, ErasureError> {
    let tenants: Vec<String> = personal_records::Entity::find()
        .select_only()
        .column(personal_records::Column::TenantId)
        .filter(personal_records::Column::Jwe.is_not_null())
        .distinct()
        .into_tuple()
        .all(&privacy.db)
        .await?;
    let mut erased = 0;
    for tenant_id in tenants {
        erased += sweep_tenant(privacy, &tenant_id, now).await?.records;
    }
    Ok(erased)
}

/// Sweeps every `interval`, for ever.
pub fn spawn(privacy: Privacy, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match sweep(&privacy, privacy.clock.now()).await {
                Ok(0) => {}
                Ok(records) => tracing::info!(records, "retention erased personal records"),
                Err(e) => tracing::warn!(error = %e, "the retention sweep failed"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_count_calendar_months_and_seconds() {
        let t = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("date")
                .with_timezone(&Utc)
        };
        let p = |s| Period::parse(s).expect("period");
        assert_eq!(
            until(t("2024-02-29T00:00:00Z"), &p("P1Y")),
            Some(t("2025-02-28T00:00:00Z"))
        );
        assert_eq!(
            until(t("2024-01-31T10:00:00Z"), &p("P1M1DT1H")),
            Some(t("2024-03-01T11:00:00Z"))
        );
        assert_eq!(
            cutoff(t("2030-06-15T00:00:00Z"), &p("P5Y")),
            Some(t("2025-06-15T00:00:00Z"))
        );
        assert_eq!(
            cutoff(t("2030-06-15T00:00:10Z"), &p("PT10S")),
            Some(t("2030-06-15T00:00:00Z"))
        );
    }
}
