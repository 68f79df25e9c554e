//! The institution's settings: `GET /settings` (anyone of it), `PUT /settings` (admins).

use axum::extract::State;
use axum::Json;
use certus_schemas::settings::{InstitutionSettings, SettingsChoice};
use certus_schemas::wire::ErrorBody;

use super::extract::JsonBody;
use crate::auth::{Principal, Scope};
use crate::error::ApiError;
use crate::state::AppState;

/// The institution's settings in effect, and where each comes from.
#[utoipa::path(get, path = "/settings", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = InstitutionSettings), (status = 401, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<InstitutionSettings>, ApiError> {
    principal.require(Scope::Read)?;
    Ok(Json(state.settings.of(&principal.tenant_id).await?))
}

/// Sets the institution's own choices (admins); a setting left out or `null` follows the
/// server profile's default. Audited as `settings.update`.
#[utoipa::path(put, path = "/settings", tag = "accounts", security(("session" = [])),
    request_body = SettingsChoice,
    responses(
        (status = 200, body = InstitutionSettings),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "INVALID_WALLET_PROVIDERS", body = ErrorBody),
    ))]
pub async fn put(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(choice): JsonBody<SettingsChoice>,
) -> Result<Json<InstitutionSettings>, ApiError> {
    principal.require(Scope::Admin)?;
    if let Some(pem) = &choice.wallet_providers {
        let read = certus_schemas::x509::certificates_in(pem).map_err(|e| {
            ApiError::unprocessable("INVALID_WALLET_PROVIDERS", e.0).at("/walletProviders")
        })?;
        if read.is_empty() {
            return Err(ApiError::unprocessable(
                "INVALID_WALLET_PROVIDERS",
                "walletProviders must hold the providers' root certificates in PEM",
            )
            .at("/walletProviders"));
        }
    }
    let now = state.clock.now();
    Ok(Json(state.settings.choose(&principal, choice, now).await?))
}
