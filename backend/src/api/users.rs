//! An institution's people and machines, managed by its admins: user accounts and API keys.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use certus_schemas::portal::{
    ApiKeyInfo, CreatedApiKey, CreatedUser, NewApiKey, NewUser, UserInfo, UserUpdate,
};
use certus_schemas::wire::ErrorBody;

use super::extract::JsonBody;

use crate::auth::{self, accounts, Principal, Scope};
use crate::error::ApiError;
use crate::state::AppState;

/// The institution's user accounts (admins only).
#[utoipa::path(get, path = "/users", tag = "accounts", security(("session" = [])),
    responses(
        (status = 200, body = Vec<UserInfo>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<UserInfo>>, ApiError> {
    principal.require(Scope::Admin)?;
    let users = state.accounts.users(&principal.tenant_id).await?;
    Ok(Json(users.iter().map(accounts::info).collect()))
}

/// Creates an account in the admin's institution with a one-time password, shown only in
/// this answer; the person must change it at first sign-in.
#[utoipa::path(post, path = "/users", tag = "accounts", security(("session" = [])),
    request_body = NewUser,
    responses(
        (status = 201, body = CreatedUser),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "EMAIL_TAKEN"),
        (status = 422, body = ErrorBody, description = "INVALID_EMAIL, INVALID_NAME"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(request): JsonBody<NewUser>,
) -> Result<(StatusCode, Json<CreatedUser>), ApiError> {
    principal.require(Scope::Admin)?;
    let (user, password) = state
        .accounts
        .create_user(
            &principal,
            &request.email,
            &request.name,
            request.role,
            state.clock.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser {
            user: accounts::info(&user),
            one_time_password: password.unwrap_or_default(),
        }),
    ))
}

/// Changes an account's role, or disables (signing it out everywhere) or re-enables it.
#[utoipa::path(patch, path = "/users/{id}", tag = "accounts", security(("session" = [])),
    params(("id" = String, Path, description = "The user's id")),
    request_body = UserUpdate,
    responses(
        (status = 200, body = UserInfo),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not an admin, or SELF_LOCKOUT"),
        (status = 404, body = ErrorBody, description = "No such user in this institution"),
    ))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<UserUpdate>,
) -> Result<Json<UserInfo>, ApiError> {
    principal.require(Scope::Admin)?;
    let user = state
        .accounts
        .update_user(
            &principal,
            &id,
            request.role,
            request.disabled,
            state.clock.now(),
        )
        .await?;
    Ok(Json(accounts::info(&user)))
}

/// The institution's API keys, without their tokens (admins only).
#[utoipa::path(get, path = "/api-keys", tag = "accounts", security(("session" = [])),
    responses(
        (status = 200, body = Vec<ApiKeyInfo>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub async fn list_keys(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<ApiKeyInfo>>, ApiError> {
    principal.require(Scope::Admin)?;
    let keys = state.accounts.api_keys(&principal.tenant_id).await?;
    Ok(Json(keys.iter().map(auth::api_key_info).collect()))
}

/// Creates an API key for a machine of the institution. Its token is shown only in this
/// answer; Certus keeps only its hash.
#[utoipa::path(post, path = "/api-keys", tag = "accounts", security(("session" = [])),
    request_body = NewApiKey,
    responses(
        (status = 201, body = CreatedApiKey),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "INVALID_SCOPE"),
    ))]
pub async fn create_key(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(request): JsonBody<NewApiKey>,
) -> Result<(StatusCode, Json<CreatedApiKey>), ApiError> {
    principal.require(Scope::Admin)?;
    let mut scopes = Vec::new();
    for (i, name) in request.scopes.iter().enumerate() {
        let scope: Scope = name.parse().ok().filter(Scope::grantable).ok_or_else(|| {
            ApiError::unprocessable(
                "INVALID_SCOPE",
                format!(
                    "`{name}` is not a scope an API key may hold (issue, verify, status, read)"
                ),
            )
            .at(format!("/scopes/{i}"))
        })?;
        scopes.push(scope);
    }
    if scopes.is_empty() {
        return Err(
            ApiError::unprocessable("INVALID_SCOPE", "name at least one scope").at("/scopes"),
        );
    }
    let label = request
        .label
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty());
    let (key, token) = state
        .accounts
        .create_api_key(&principal, &scopes, label, state.clock.now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKey {
            key: auth::api_key_info(&key),
            token,
        }),
    ))
}

/// Revokes an API key of the institution: it stops working at once.
#[utoipa::path(delete, path = "/api-keys/{id}", tag = "accounts", security(("session" = [])),
    params(("id" = String, Path, description = "The API key's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "No such key in this institution"),
    ))]
pub async fn revoke_key(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require(Scope::Admin)?;
    let revoked = state
        .accounts
        .revoke_api_key(&principal, &id, state.clock.now())
        .await?;
    if !revoked {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "API_KEY_NOT_FOUND",
            format!("no API key `{id}` in this institution"),
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}
