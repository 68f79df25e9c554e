//! Presentation requests of a verifier (OpenID4VP with DCQL): making one, reading its
//! outcome, and its QR code.

use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderName, StatusCode};
use axum::response::Response;
use axum::Json;
use certus_schemas::openid::{
    PresentationRequestCreate, PresentationRequestCreated, PresentationRequestInfo,
    ResponseCodeRedemption,
};
use certus_schemas::wire::{ErrorBody, VerifyOptions};

use super::extract::{JsonBody, QueryParams};
use super::offers::{qr_response, QrFormat};
use super::policies;
use crate::auth::{Principal, Scope};
use crate::error::ApiError;
use crate::openid::verifier;
use crate::state::AppState;

/// Makes a request: the DCQL query (given, or built from a credential type and claims),
/// the purpose and the policy, signed by the institution's key. Give the holder the
/// `authorizationRequest` (a link or its QR code).
#[utoipa::path(post, path = "/presentation-requests", tag = "openid4vc", security(("bearer" = []), ("session" = [])),
    request_body = PresentationRequestCreate,
    responses(
        (status = 201, body = PresentationRequestCreated, description = "The request; `Location` names it"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "NO_VERIFIER_KEY"),
        (status = 422, body = ErrorBody, description = "INVALID_PRESENTATION_REQUEST, UNKNOWN_POLICY"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<PresentationRequestCreate>,
) -> Result<
    (
        StatusCode,
        [(HeaderName, String); 1],
        Json<PresentationRequestCreated>,
    ),
    ApiError,
> {
    principal.require(Scope::Verify)?;
    let policy = policies::requested(
        &state,
        &VerifyOptions {
            policy: body.policy.clone(),
            policy_id: body.policy_id.clone(),
            ..VerifyOptions::default()
        },
    )
    .await?;
    let created =
        verifier::create(&state.openid, &principal, body, policy, state.clock.now()).await?;
    Ok((
        StatusCode::CREATED,
        [(LOCATION, format!("/presentation-requests/{}", created.id))],
        Json(created),
    ))
}

/// A request and, once the wallet answered, its outcome: the credentials presented with
/// the claims disclosed and every check, the consent receipt and the signed verification
/// receipt.
#[utoipa::path(get, path = "/presentation-requests/{id}", tag = "openid4vc", security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "The request's id")),
    responses((status = 200, body = PresentationRequestInfo), (status = 404, body = ErrorBody, description = "REQUEST_NOT_FOUND")))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<PresentationRequestInfo>, ApiError> {
    principal.require(Scope::Verify)?;
    verifier::info(&state.openid, &principal.tenant_id, &id, state.clock.now())
        .await
        .map_err(ApiError::internal)?
        .map(Json)
        .ok_or_else(not_found)
}

/// Redeems the one-time `response_code` a request with a `redirectUri` gave the holder's
/// browser: the verifier's page sends it here before it trusts the outcome belongs to the
/// browser that brought it (OpenID4VP 1.0 §8.2, against session fixation). Once; the
/// request and its outcome as `GET` shows them.
#[utoipa::path(post, path = "/presentation-requests/{id}/response-code", tag = "openid4vc", security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "The request's id")),
    request_body = ResponseCodeRedemption,
    responses(
        (status = 200, body = PresentationRequestInfo),
        (status = 422, body = ErrorBody, description = "RESPONSE_CODE_MISMATCH: not the code given for this request, or redeemed already"),
    ))]
pub async fn redeem_response_code(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ResponseCodeRedemption>,
) -> Result<Json<PresentationRequestInfo>, ApiError> {
    principal.require(Scope::Verify)?;
    verifier::redeem_response_code(
        &state.openid,
        &principal.tenant_id,
        &id,
        &body.response_code,
        state.clock.now(),
    )
    .await
    .map_err(ApiError::internal)?
    .map(Json)
    .ok_or_else(|| {
        ApiError::unprocessable(
            "RESPONSE_CODE_MISMATCH",
            "this is not the response code given for this request, or it was redeemed already",
        )
        .at("/responseCode")
    })
}

fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "REQUEST_NOT_FOUND",
        "no presentation request of this institution has this id",
    )
}

/// The authorization request as a QR code.
#[utoipa::path(get, path = "/presentation-requests/{id}/qr", tag = "openid4vc", security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "The request's id"), QrFormat),
    responses((status = 200, description = "image/svg+xml or image/png"), (status = 404, body = ErrorBody)))]
pub async fn qr_code(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    QueryParams(format): QueryParams<QrFormat>,
) -> Result<Response, ApiError> {
    principal.require(Scope::Verify)?;
    let uri = verifier::authorization_request(&state.openid, &principal.tenant_id, &id)
        .await?
        .ok_or_else(not_found)?;
    qr_response(&uri, format.format.as_deref())
}
