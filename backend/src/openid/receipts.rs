//! The receipts of an answered presentation request. The consent receipt says what the
//! holder agreed to disclose, to whom and why — claim names, never values. The verification
//! receipt is a JWS by the verifier's key over the checks performed, the status-list
//! versions and anchors seen, the consent receipt's hash and the time: what a verifier
//! archives instead of the personal data.

use certus_schemas::openid::{PresentedCredential, RequestStatus, RequestTerms};
use certus_schemas::wire::Problem;
use chrono::{DateTime, Utc};
use sea_orm::{EntityTrait, Set};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::OpenId;
use crate::keys::IssuerKey;
use crate::store::entities::consent_receipts;
use certus_credential::jose;
use certus_credential::time::xsd_now;

/// `typ` of a verification receipt.
pub const VERIFICATION_RECEIPT_TYP: &str = "verification-receipt+jwt";

/// The consent receipt of an answer; when the request asked to be told of status changes,
/// whether the holder allowed it.
pub fn consent_receipt(
    request_id: &str,
    client_id: &str,
    verifier_name: &str,
    terms: &RequestTerms,
    presented: &[PresentedCredential],
    status_notifications: Option<bool>,
    now: DateTime<Utc>,
) -> Value {
    let disclosed: Vec<Value> = presented
        .iter()
        .map(|p| {
            json!({
                "credentialQuery": p.query_id,
                "format": p.format,
                "issuer": p.issuer,
                "types": p.types,
                "claims": p.claims.keys().collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut receipt = json!({
        "version": "certus-consent-receipt/1",
        "receiptId": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "request": request_id,
        "verifier": {"clientId": client_id, "name": verifier_name},
        "purpose": terms.purpose,
        "policyId": terms.policy_id,
        "disclosed": disclosed,
        "time": xsd_now(now),
    });
    if let Some(allowed) = status_notifications {
        receipt["statusNotifications"] = json!(allowed);
    }
    receipt
}

/// Hex SHA-256 of a JSON document as serialised.
pub fn hash(document: &Value) -> String {
    hex::encode(Sha256::digest(document.to_string().as_bytes()))
}

/// Stores a consent receipt with its hash.
pub async fn store_consent(
    openid: &OpenId,
    tenant_id: &str,
    request_id: &str,
    receipt: &Value,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    consent_receipts::Entity::insert(consent_receipts::ActiveModel {
        id: Set(receipt["receiptId"].as_str().unwrap_or_default().to_owned()),
        tenant_id: Set(tenant_id.to_owned()),
        request_id: Set(request_id.to_owned()),
        document: Set(receipt.to_string()),
        hash: Set(hash(receipt)),
        created_at: Set(now),
    })
    .exec_without_returning(&openid.db)
    .await?;
    Ok(())
}

/// Signs the verification receipt of an answer.
#[allow(clippy::too_many_arguments)]
pub fn verification_receipt(
    key: &IssuerKey,
    request_id: &str,
    client_id: &str,
    status: RequestStatus,
    problem: Option<&Problem>,
    presented: &[PresentedCredential],
    consent: Option<&Value>,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let credentials: Vec<Value> = presented
        .iter()
        .map(|p| {
            let v = &p.verification;
            let checks: Vec<Value> = v
                .results
                .iter()
                .chain(v.credentials.iter().flat_map(|c| c.results.iter()))
                .map(|c| json!({"check": c.check, "outcome": c.outcome, "code": c.code}))
                .collect();
            let status_lists: Vec<_> = v
                .status_lists
                .iter()
                .chain(v.credentials.iter().flat_map(|c| c.status_lists.iter()))
                .collect();
            let anchors: Vec<_> = v
                .anchor
                .iter()
                .chain(v.credentials.iter().filter_map(|c| c.anchor.as_ref()))
                .collect();
            json!({
                "credentialQuery": p.query_id,
                "format": p.format,
                "issuer": p.issuer,
                "types": p.types,
                "verdict": v.verdict,
                "checks": checks,
                "statusLists": status_lists,
                "anchors": anchors,
            })
        })
        .collect();
    let payload = json!({
        "iss": key.did,
        "iat": now.timestamp(),
        "jti": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "request": request_id,
        "clientId": client_id,
        "status": status,
        "problem": problem.map(|p| json!({"check": p.check, "code": p.code})),
        "credentials": credentials,
        "consentReceiptSha256": consent.map(hash),
    });
    let header = jose::header(&[
        ("typ", VERIFICATION_RECEIPT_TYP),
        ("kid", &key.verification_method),
    ]);
    Ok(jose::sign(header, &payload, key.signer.as_ref())?)
}
