//! Credential offers of an institution (OpenID4VCI, pre-authorized code flow): making one,
//! following it, and its QR code.

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use certus_schemas::openid::{ApprovalDecision, OfferCreated, OfferInfo, OfferRequest};
use certus_schemas::wire::ErrorBody;
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::{JsonBody, QueryParams};
use crate::auth::{Principal, Scope};
use crate::error::ApiError;
use crate::openid::OpenId;
use crate::openid::{offers, qr};
use crate::state::AppState;

/// Makes an offer: the credential is checked as for issuance, kept encrypted, and issued
/// bound to the key of the wallet that redeems the offer.
#[utoipa::path(post, path = "/credentials/offers", tag = "openid4vc", security(("bearer" = []), ("session" = [])),
    request_body = OfferRequest,
    responses(
        (status = 201, body = OfferCreated, description = "The offer; `Location` names it"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "NO_ISSUER_KEY"),
        (status = 422, body = ErrorBody, description = "The credential cannot be issued as given"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(request): JsonBody<OfferRequest>,
) -> Result<(StatusCode, [(HeaderName, String); 1], Json<OfferCreated>), ApiError> {
    principal.require(Scope::Issue)?;
    let created = offers::create(&state.openid, &principal, request, state.clock.now()).await?;
    Ok((
        StatusCode::CREATED,
        [(LOCATION, format!("/credentials/offers/{}", created.id))],
        Json(created),
    ))
}

/// The institution's latest offers, newest first (at most 100).
#[utoipa::path(get, path = "/credentials/offers", tag = "openid4vc", security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = [OfferInfo]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<OfferInfo>>, ApiError> {
    principal.require(Scope::Read)?;
    let now = state.clock.now();
    let rows = offers::latest(&state.openid, &principal.tenant_id, 100).await?;
    Ok(Json(rows.iter().map(|o| offers::info(o, now)).collect()))
}

/// One offer: pending, redeemed (with the credential issued), expired or blocked.
#[utoipa::path(get, path = "/credentials/offers/{id}", tag = "openid4vc", security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "The offer's id")),
    responses((status = 200, body = OfferInfo), (status = 404, body = ErrorBody, description = "OFFER_NOT_FOUND")))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<OfferInfo>, ApiError> {
    principal.require(Scope::Read)?;
    let offer = find(&state.openid, &principal, &id).await?;
    Ok(Json(offers::info(&offer, state.clock.now())))
}

/// Approves or refuses the credential a wallet asked for with an offer that needs the
/// institution's approval (deferred issuance). Approved, the wallet collects it at the
/// deferred credential endpoint; refused, the offer's credential is dropped.
#[utoipa::path(post, path = "/credentials/offers/{id}/approval", tag = "openid4vc", security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "The offer's id")),
    request_body = ApprovalDecision,
    responses(
        (status = 200, body = OfferInfo, description = "The offer, `approved` or `refused`"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "OFFER_NOT_FOUND"),
        (status = 409, body = ErrorBody, description = "OFFER_NOT_AWAITING_APPROVAL: it needs no approval, no wallet asked yet, or it was decided"),
    ))]
pub async fn approval(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(decision): JsonBody<ApprovalDecision>,
) -> Result<Json<OfferInfo>, ApiError> {
    principal.require(Scope::Issue)?;
    let now = state.clock.now();
    let offer = find(&state.openid, &principal, &id).await?;
    if !offers::decide(&state.openid, &principal, &id, decision.approve, now).await? {
        let status = offers::status_of(&offer, now);
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "OFFER_NOT_AWAITING_APPROVAL",
            format!(
                "this offer is not waiting for approval (it is {})",
                serde_json::to_value(status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ),
        ));
    }
    let offer = find(&state.openid, &principal, &id).await?;
    Ok(Json(offers::info(&offer, now)))
}

async fn find(
    openid: &OpenId,
    principal: &Principal,
    id: &str,
) -> Result<crate::store::entities::credential_offers::Model, ApiError> {
    offers::find(openid, &principal.tenant_id, id)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "OFFER_NOT_FOUND",
                "no offer of this institution has this id",
            )
        })
}

/// `?format=` of a QR code.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QrFormat {
    /// `svg` (default) or `png`.
    #[serde(default)]
    pub format: Option<String>,
}

/// The offer URI as a QR code, while the offer can be redeemed.
#[utoipa::path(get, path = "/credentials/offers/{id}/qr", tag = "openid4vc", security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "The offer's id"), QrFormat),
    responses((status = 200, description = "image/svg+xml or image/png"), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody, description = "OFFER_CLOSED")))]
pub async fn qr_code(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    QueryParams(format): QueryParams<QrFormat>,
) -> Result<Response, ApiError> {
    principal.require(Scope::Issue)?;
    find(&state.openid, &principal, &id).await?;
    if offers::published(&state.openid, &id, state.clock.now())
        .await
        .map_err(ApiError::internal)?
        .is_none()
    {
        return Err(ApiError::new(
            StatusCode::GONE,
            "OFFER_CLOSED",
            "the offer was redeemed or has expired",
        ));
    }
    let uri = offers::offer_uri(&format!(
        "{}{}/{id}",
        state.openid.public_url(),
        crate::openid::metadata::paths::OFFERS
    ));
    qr_response(&uri, format.format.as_deref())
}

/// `text` as a QR code in the format asked for.
pub fn qr_response(text: &str, format: Option<&str>) -> Result<Response, ApiError> {
    let private = (CACHE_CONTROL, "private, no-store");
    match format.unwrap_or("svg") {
        "svg" => Ok((
            [(CONTENT_TYPE, "image/svg+xml"), private],
            qr::svg(text).map_err(ApiError::internal)?,
        )
            .into_response()),
        "png" => Ok((
            [(CONTENT_TYPE, "image/png"), private],
            qr::png(text).map_err(ApiError::internal)?,
        )
            .into_response()),
        other => Err(ApiError::bad_request(
            "INVALID_QUERY",
            format!("format `{other}` is not svg or png"),
        )
        .at("format")),
    }
}
