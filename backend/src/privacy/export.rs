//! Finding data subjects, and exporting everything held about one (GDPR Art. 15 and 20).

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Select};

use certus_schemas::privacy::{
    DataSubjectInfo, ErasureInfo, ExportedRecord, Period, PersonalRecordInfo, RecordKind,
    SubjectExport,
};

use super::{erasure, processing, retention, Privacy};
use crate::audit;
use crate::auth::Principal;
use crate::issued;
use crate::store::entities::{data_subjects, erasures, issued_credentials, personal_records};
use certus_credential::time::xsd_now;

/// The format of an export.
pub const EXPORT_FORMAT: &str = "certus-data-subject-export/1";

/// A subject with its records, oldest first.
struct Held {
    subject: data_subjects::Model,
    records: Vec<personal_records::Model>,
}

async fn held(privacy: &Privacy, subject: data_subjects::Model) -> Result<Held, sea_orm::DbErr> {
    let records = personal_records::Entity::find()
        .filter(personal_records::Column::SubjectId.eq(&subject.id))
        .order_by_asc(personal_records::Column::CreatedAt)
        .all(&privacy.db)
        .await?;
    Ok(Held { subject, records })
}

fn credential_ids(records: &[personal_records::Model]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for id in records.iter().filter_map(|r| r.credential_id.as_ref()) {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    ids
}

async fn describe(privacy: &Privacy, held: &Held) -> anyhow::Result<DataSubjectInfo> {
    let periods = retention::periods(privacy, &held.subject.tenant_id).await?;
    let records = held
        .records
        .iter()
        .map(|r| {
            let retain_until = r
                .credential_type
                .as_ref()
                .and_then(|t| periods.get(t))
                .and_then(|(p, _)| Period::parse(p))
                .filter(|_| r.erased_at.is_none())
                .and_then(|p| retention::until(r.created_at, &p))
                .map(xsd_now);
            PersonalRecordInfo {
                id: r.id.clone(),
                kind: RecordKind::parse(&r.kind).unwrap_or(RecordKind::CredentialSubject),
                credential_id: r.credential_id.clone(),
                credential_type: r.credential_type.clone(),
                created_at: xsd_now(r.created_at),
                retain_until,
                erased_at: r.erased_at.map(xsd_now),
            }
        })
        .collect();
    Ok(DataSubjectInfo {
        id: held.subject.id.clone(),
        created_at: xsd_now(held.subject.created_at),
        erased_at: held.subject.erased_at.map(xsd_now),
        records,
        credentials: credential_ids(&held.records),
    })
}

/// The stored data subject `id` of `tenant_id`.
async fn find(
    privacy: &Privacy,
    tenant_id: &str,
    id: &str,
) -> Result<Option<data_subjects::Model>, sea_orm::DbErr> {
    data_subjects::Entity::find_by_id(id)
        .filter(data_subjects::Column::TenantId.eq(tenant_id))
        .one(&privacy.db)
        .await
}

/// The data subject `id` of `tenant_id`.
pub async fn subject(
    privacy: &Privacy,
    tenant_id: &str,
    id: &str,
) -> anyhow::Result<Option<DataSubjectInfo>> {
    let Some(row) = find(privacy, tenant_id, id).await? else {
        return Ok(None);
    };
    Ok(Some(describe(privacy, &held(privacy, row).await?).await?))
}

/// The query of `tenant_id`'s data subjects, those it knows by `reference` when given.
async fn subjects(
    privacy: &Privacy,
    tenant_id: &str,
    reference: Option<&str>,
) -> anyhow::Result<Select<data_subjects::Entity>> {
    let query = data_subjects::Entity::find().filter(data_subjects::Column::TenantId.eq(tenant_id));
    Ok(match reference {
        Some(reference) => {
            let hash = privacy.vault.reference_hash(tenant_id, reference).await?;
            query.filter(data_subjects::Column::ReferenceHash.eq(hash))
        }
        None => query,
    })
}

/// The data subjects known by an institution's `reference`, or whose data came with
/// `credential_id` (at most one each).
pub async fn search(
    privacy: &Privacy,
    tenant_id: &str,
    reference: Option<&str>,
    credential_id: Option<&str>,
) -> anyhow::Result<Vec<DataSubjectInfo>> {
    let mut query = subjects(privacy, tenant_id, reference).await?;
    if let Some(credential_id) = credential_id {
        let subject_ids: Vec<String> = personal_records::Entity::find()
            .filter(personal_records::Column::TenantId.eq(tenant_id))
            .filter(personal_records::Column::CredentialId.eq(credential_id))
            .all(&privacy.db)
            .await?
            .into_iter()
            .map(|r| r.subject_id)
            .collect();
        query = query.filter(data_subjects::Column::Id.is_in(subject_ids));
    }
    let mut subjects = Vec::new();
    for row in query.all(&privacy.db).await? {
        subjects.push(describe(privacy, &held(privacy, row).await?).await?);
    }
    Ok(subjects)
}

/// The credentials issued with the data of the person `tenant_id` knows by `reference`.
pub async fn credentials_of(
    privacy: &Privacy,
    tenant_id: &str,
    reference: &str,
) -> anyhow::Result<Vec<String>> {
    let subjects: Vec<String> = subjects(privacy, tenant_id, Some(reference))
        .await?
        .all(&privacy.db)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    if subjects.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<String> = personal_records::Entity::find()
        .filter(personal_records::Column::TenantId.eq(tenant_id))
        .filter(personal_records::Column::SubjectId.is_in(subjects))
        .all(&privacy.db)
        .await?
        .into_iter()
        .filter_map(|r| r.credential_id)
        .collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Everything held about the data subject `id` of `tenant_id`: each record with its
/// contents while they can still be read, the credentials issued with them, the
/// erasures, and why and how the data is processed.
pub async fn export(
    privacy: &Privacy,
    principal: &Principal,
    id: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<SubjectExport>> {
    let tenant_id = principal.tenant_id.as_str();
    let Some(row) = find(privacy, tenant_id, id).await? else {
        return Ok(None);
    };
    let key = privacy.vault.open(&row).await?.ok();
    let held = held(privacy, row).await?;
    let info = describe(privacy, &held).await?;
    let mut records = Vec::new();
    for (record, described) in held.records.iter().zip(info.records) {
        let data = match (&key, &record.jwe) {
            (Some(key), Some(jwe)) => Some(key.open_json(jwe)?),
            _ => None,
        };
        records.push(ExportedRecord {
            info: described,
            data,
        });
    }
    let credentials = issued_credentials::Entity::find()
        .filter(issued_credentials::Column::TenantId.eq(tenant_id))
        .filter(issued_credentials::Column::CredentialId.is_in(info.credentials.clone()))
        .all(&privacy.db)
        .await?
        .iter()
        .map(issued::record)
        .collect();
    let erasures: Vec<ErasureInfo> = erasures::Entity::find()
        .filter(erasures::Column::SubjectId.eq(id))
        .order_by_asc(erasures::Column::ErasedAt)
        .all(&privacy.db)
        .await?
        .iter()
        .map(erasure::info)
        .collect();
    let periods = retention::periods(privacy, tenant_id).await?;
    let mut types: Vec<&str> = held
        .records
        .iter()
        .filter_map(|r| r.credential_type.as_deref())
        .collect();
    types.sort_unstable();
    types.dedup();
    let processing = types
        .into_iter()
        .filter_map(|name| privacy.catalog.get(name))
        .map(|t| {
            let period = periods
                .get(&t.name)
                .map(|(p, _)| p.as_str())
                .unwrap_or(&t.retention);
            processing::issuance_activity(&t, period)
        })
        .collect();
    let export = SubjectExport {
        format: EXPORT_FORMAT.into(),
        exported_at: xsd_now(now),
        controller: processing::controller(privacy, tenant_id).await?,
        data_subject: info.id,
        created_at: info.created_at,
        erased_at: info.erased_at,
        records,
        credentials,
        erasures,
        processing,
    };
    // A read, recorded on its own.
    audit::record(&privacy.db, principal, "privacy.export", id, now).await?;
    Ok(Some(export))
}
