//! Credential types, JSON-LD contexts and the caller's issuer DIDs.

use axum::extract::State;
use axum::Json;
use certus_schemas::privacy::lint_credential_type;
use certus_schemas::wire::{ContextInfo, CredentialTypeInfo};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::state::AppState;

/// Every credential type this server issues, with its JSON Schema and a valid example.
#[utoipa::path(get, path = "/credential-types", tag = "catalog", responses(
    (status = 200, body = [CredentialTypeInfo]),
))]
pub async fn credential_types(State(state): State<AppState>) -> Json<Vec<CredentialTypeInfo>> {
    Json(
        state
            .issuer
            .catalog()
            .types()
            .iter()
            .map(|t| CredentialTypeInfo {
                type_name: t.name.clone(),
                title: t.title.clone(),
                description: t.description.clone(),
                schema_id: t.schema_id.clone(),
                context: t.context.clone(),
                personal_claims: t.personal_claims.clone(),
                accreditation_required: t.accreditation_required,
                retention: t.retention.clone(),
                lint: lint_credential_type(t.claim_names().map(|(n, _, _)| n), &t.personal_claims),
                schema: t.schema.clone(),
                example: t.example.clone(),
            })
            .collect(),
    )
}

/// Every JSON-LD context Certus puts in credentials, with its document, so offline
/// verifiers can load them.
#[utoipa::path(get, path = "/contexts", tag = "catalog", responses(
    (status = 200, body = [ContextInfo]),
))]
pub async fn contexts(State(state): State<AppState>) -> Json<Vec<ContextInfo>> {
    Json(
        state
            .issuer
            .contexts()
            .listed()
            .iter()
            .map(|(url, document)| ContextInfo {
                url: url.clone(),
                document: document.clone(),
            })
            .collect(),
    )
}

/// An issuer DID of the caller's tenant.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssuerInfo {
    pub did: String,
    pub verification_method: String,
    /// `EdDSA` or `ES256`.
    pub algorithm: String,
    /// Used when a credential names no issuer.
    pub default: bool,
}

/// The caller's issuer DIDs; put one in `issuer` to sign with that key.
#[utoipa::path(get, path = "/issuers", tag = "catalog", security(("bearer" = [])), responses(
    (status = 200, body = [IssuerInfo]),
    (status = 401, body = certus_schemas::wire::ErrorBody),
))]
pub async fn issuers(State(state): State<AppState>, principal: Principal) -> Json<Vec<IssuerInfo>> {
    Json(
        state
            .issuer
            .keys()
            .tenant_keys(&principal.tenant_id)
            .iter()
            .enumerate()
            .map(|(i, k)| IssuerInfo {
                did: k.did.clone(),
                verification_method: k.verification_method.clone(),
                algorithm: k.algorithm().to_string(),
                default: i == 0,
            })
            .collect(),
    )
}
