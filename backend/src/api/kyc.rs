//! KYC reuse: the reliance register (each institution its own records; a KYC issuer the
//! counts of reliance on its KYC; the root authority all), re-checking a relied-on
//! credential, and the webhook endpoint and deliveries of status-change events.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use certus_schemas::kyc::{
    RelianceCheck, RelianceEntry, RelianceList, RelianceRegister, RelianceSummary,
    WebhookDeliveries, WebhookEndpoint,
};
use certus_schemas::wire::ErrorBody;

use super::extract::JsonBody;

use crate::auth::{Principal, Scope};
use crate::error::ApiError;
use crate::kyc::register;
use crate::kyc::webhooks;
use crate::state::AppState;

/// The reliance records of the caller's institution, newest first.
#[utoipa::path(get, path = "/kyc/reliances", tag = "kyc", security(("bearer" = [])),
    responses((status = 200, body = RelianceList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<RelianceList>, ApiError> {
    principal.require(Scope::Read)?;
    let records = register::list(&state.kyc, &principal.tenant_id).await?;
    Ok(Json(RelianceList { records }))
}

/// One reliance record of the caller's institution.
#[utoipa::path(get, path = "/kyc/reliances/{id}", tag = "kyc", security(("bearer" = [])),
    params(("id" = String, Path, description = "The record's `urn:uuid:` id")),
    responses((status = 200, body = RelianceEntry), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<RelianceEntry>, ApiError> {
    principal.require(Scope::Read)?;
    register::one(&state.kyc, &principal.tenant_id, &id)
        .await?
        .map(Json)
        .ok_or_else(|| not_found(&id))
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "RELIANCE_NOT_FOUND",
        format!("no reliance record `{id}` of this institution"),
    )
}

/// Reliance on the KYC the caller's institution issued, whichever member's node relied:
/// counts per relying institution and month from the records final on the chain, never
/// who the holders were.
#[utoipa::path(get, path = "/kyc/reliances/summary", tag = "kyc", security(("bearer" = [])),
    responses((status = 200, body = RelianceSummary), (status = 401, body = ErrorBody)))]
pub async fn summary(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<RelianceSummary>, ApiError> {
    principal.require(Scope::Read)?;
    let counts = register::summary(&state.kyc, &principal.tenant_id).await?;
    Ok(Json(RelianceSummary { counts }))
}

/// Every reliance record final on the chain, whichever member's node relied, for the
/// regulator (the chain's root authority, with a `trust` key).
#[utoipa::path(get, path = "/kyc/register", tag = "kyc", security(("bearer" = [])),
    responses((status = 200, body = RelianceRegister), (status = 403, description = "Lacks the trust scope", body = ErrorBody)))]
pub async fn register_all(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<RelianceRegister>, ApiError> {
    principal.require(Scope::Trust)?;
    let records = register::register(&state.kyc).await?;
    Ok(Json(RelianceRegister { records }))
}

/// Checks a relied-on credential again, from the status entries the holder let the
/// institution keep: valid while neither suspended nor revoked.
#[utoipa::path(post, path = "/kyc/reliances/{id}/check", tag = "kyc", security(("bearer" = [])),
    params(("id" = String, Path, description = "The record's `urn:uuid:` id")),
    responses(
        (status = 200, body = RelianceCheck),
        (status = 404, body = ErrorBody),
        (status = 409, description = "RELIANCE_NOT_WATCHED: the holder did not allow it", body = ErrorBody),
    ))]
pub async fn check(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<RelianceCheck>, ApiError> {
    principal.require(Scope::Verify)?;
    register::check(&state.kyc, &principal.tenant_id, &id)
        .await
        .map(Json)
        .map_err(ApiError::from)
}

/// Where the institution is told of status changes of credentials it relies on; 204 when
/// none is set.
#[utoipa::path(get, path = "/webhook", tag = "kyc", security(("bearer" = [])),
    responses((status = 200, body = WebhookEndpoint), (status = 204, description = "None set")))]
pub async fn endpoint(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Response, ApiError> {
    principal.require(Scope::Read)?;
    Ok(
        match webhooks::endpoint(&state.kyc, &principal.tenant_id).await? {
            Some(url) => Json(WebhookEndpoint { url }).into_response(),
            None => StatusCode::NO_CONTENT.into_response(),
        },
    )
}

/// Sets the webhook endpoint (admins). Events are Security Event Tokens (RFC 8417) signed
/// by the institution's key, POSTed as `application/secevent+jwt` (RFC 8935).
#[utoipa::path(put, path = "/webhook", tag = "kyc", security(("session" = [])),
    request_body = WebhookEndpoint,
    responses(
        (status = 200, body = WebhookEndpoint),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "INVALID_WEBHOOK_URL", body = ErrorBody),
    ))]
pub async fn set_endpoint(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<WebhookEndpoint>,
) -> Result<Json<WebhookEndpoint>, ApiError> {
    principal.require(Scope::Admin)?;
    webhooks::check_endpoint(&body.url)
        .map_err(|e| ApiError::unprocessable("INVALID_WEBHOOK_URL", e.to_string()).at("/url"))?;
    let now = state.clock.now();
    webhooks::set_endpoint(&state.kyc, &principal, &body.url, now).await?;
    Ok(Json(body))
}

/// The institution's webhook deliveries, newest first (at most 200).
#[utoipa::path(get, path = "/webhook/deliveries", tag = "kyc", security(("bearer" = [])),
    responses((status = 200, body = WebhookDeliveries), (status = 401, body = ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<WebhookDeliveries>, ApiError> {
    principal.require(Scope::Read)?;
    let deliveries = webhooks::deliveries(&state.kyc, &principal.tenant_id).await?;
    Ok(Json(WebhookDeliveries { deliveries }))
}
