//! Records of processing activities (GDPR Art. 30(1)), generated from what an institution
//! does on Certus: each credential type it may issue, and each verification policy it
//! keeps.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use certus_schemas::privacy::{Controller, ProcessingActivity, RecordsOfProcessing};
use certus_schemas::wire::VerificationPolicy;

use super::{retention, Privacy};
use crate::issuance::OPEN_TYPE;
use crate::store::entities::{personal_records, tenants, verification_policies};
use certus_credential::catalog::CredentialType;
use certus_credential::time::xsd_now;

/// The measures Certus takes for every activity.
const SECURITY: &[&str] = &[
    "personal data encrypted at rest per data subject (JWE, AES-256-GCM), each subject's key wrapped by the institution's key, itself wrapped by the node's master key",
    "erasure by destroying the subject's key (crypto-shredding), with a signed receipt anchored on the ledger",
    "only salted hashes, public keys and signed non-personal statements on the ledger",
    "selective disclosure (SD-JWT VC) for personal claims by default; holders present through pairwise DIDs",
    "role-based access, hashed API keys, an audit log hash-chained and anchored",
];

/// The controller: the institution, its name and DIDs.
pub async fn controller(privacy: &Privacy, tenant_id: &str) -> anyhow::Result<Controller> {
    let name = tenants::Entity::find_by_id(tenant_id)
        .one(&privacy.db)
        .await?
        .map(|t| t.name)
        .unwrap_or_else(|| tenant_id.to_owned());
    Ok(Controller {
        tenant: tenant_id.to_owned(),
        name,
        dids: privacy
            .keys
            .tenant_keys(tenant_id)
            .iter()
            .map(|k| k.did.clone())
            .collect(),
    })
}

/// The processing activity of issuing credentials of type `t`, kept for `retention`.
pub fn issuance_activity(t: &CredentialType, retention: &str) -> ProcessingActivity {
    issuance(
        format!("Issuing {}", t.name),
        t.description.clone(),
        t.data_subjects.clone(),
        t.personal_claims.clone(),
        retention,
    )
}

/// The processing activity of issuing credentials of no registered type (open issuance),
/// kept for `retention`: no schema says which claims are personal, so all of them count.
fn open_issuance_activity(retention: &str) -> ProcessingActivity {
    issuance(
        format!("Issuing credentials of no registered type ({OPEN_TYPE})"),
        "issuing credentials integrators compose through the VC API (open issuance), outside \
         the institution's registered credential types"
            .into(),
        "the subjects the credentials name".into(),
        vec!["every claim of credentialSubject (no schema marks them)".into()],
        retention,
    )
}

/// An issuance activity: what it is, about whom, which data; every issuance shares its
/// recipients, transfers and measures.
fn issuance(
    name: String,
    purpose: String,
    data_subjects: String,
    personal_data: Vec<String>,
    retention: &str,
) -> ProcessingActivity {
    ProcessingActivity {
        name,
        activity: "issuance".into(),
        purpose,
        data_subjects,
        personal_data,
        recipients: vec![
            "the data subject, as holder of the credential".into(),
            "verifiers the holder chooses to present it to, limited to the claims disclosed"
                .into(),
        ],
        transfers: "none: the ledger carries only salted hashes and public keys".into(),
        retention: format!(
            "{retention} after issuance (ISO 8601), then erased automatically; issuance records without personal data are kept for revocation and status checks"
        ),
        security: SECURITY.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn verification_activity(
    privacy: &Privacy,
    name: &str,
    policy: &VerificationPolicy,
) -> ProcessingActivity {
    let types: Vec<Arc<CredentialType>> = policy
        .required_types
        .iter()
        .filter_map(|t| privacy.catalog.get(t))
        .collect();
    let personal_data: Vec<String> = if policy.required_claims.is_empty() {
        types
            .iter()
            .flat_map(|t| t.personal_claims.iter().cloned())
            .collect()
    } else {
        policy.required_claims.clone()
    };
    let purpose = match &policy.kyc {
        Some(_) => {
            "customer due diligence by relying on another institution's KYC check".to_owned()
        }
        None if policy.required_types.is_empty() => {
            "checking presented credentials against the institution's policy".to_owned()
        }
        None => format!(
            "checking presented {} credentials against the institution's policy",
            policy.required_types.join(", ")
        ),
    };
    ProcessingActivity {
        name: format!("Verifying under policy {name}"),
        activity: "verification".into(),
        purpose,
        data_subjects: if types.is_empty() {
            "holders presenting credentials".into()
        } else {
            types
                .iter()
                .map(|t| t.data_subjects.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        },
        personal_data,
        recipients: vec!["none: the institution's own verifiers".into()],
        transfers: "none".into(),
        retention: "disclosed claims are kept encrypted with the answered request; the signed verification receipt and the consent receipt hold no claim values".into(),
        security: SECURITY.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// The institution's record of processing activities: each credential type it may issue
/// (every type that needs no accreditation, and those it is accredited for), and each of
/// its verification policies.
pub async fn records_of_processing(
    privacy: &Privacy,
    tenant_id: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<RecordsOfProcessing> {
    let controller = controller(privacy, tenant_id).await?;
    let periods = retention::periods(privacy, tenant_id).await?;
    let mut activities = Vec::new();
    for t in privacy.catalog.newest() {
        let mut may_issue = !t.accreditation_required;
        for did in &controller.dids {
            if may_issue {
                break;
            }
            may_issue = privacy
                .trust
                .require_accreditation(did, &t, now)
                .await
                .is_ok();
        }
        if may_issue {
            let retention = periods
                .get(&t.name)
                .map(|(p, _)| p.as_str())
                .unwrap_or(&t.retention);
            activities.push(issuance_activity(&t, retention));
        }
    }
    // Open issuance, once the institution holds personal data of it.
    let holds_open = personal_records::Entity::find()
        .filter(personal_records::Column::TenantId.eq(tenant_id))
        .filter(personal_records::Column::CredentialType.eq(OPEN_TYPE))
        .filter(personal_records::Column::Jwe.is_not_null())
        .count(&privacy.db)
        .await?
        > 0;
    if holds_open {
        let retention = periods
            .get(OPEN_TYPE)
            .map_or(retention::OPEN_RETENTION, |(p, _)| p.as_str());
        activities.push(open_issuance_activity(retention));
    }
    let policies = verification_policies::Entity::find()
        .filter(verification_policies::Column::TenantId.eq(tenant_id))
        .all(&privacy.db)
        .await?;
    for row in policies {
        if let Ok(policy) = serde_json::from_str::<VerificationPolicy>(&row.document) {
            activities.push(verification_activity(privacy, &row.name, &policy));
        }
    }
    Ok(RecordsOfProcessing {
        controller,
        generated_at: xsd_now(now),
        activities,
    })
}
