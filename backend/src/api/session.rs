//! Signing in and out of the portal, and changing one's password.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, SET_COOKIE};
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use certus_schemas::portal::{ChangePasswordRequest, SessionInfo, SignInRequest, TenantInfo};
use certus_schemas::wire::ErrorBody;

use super::extract::{ClientAddr, CurrentSession, JsonBody};
use crate::auth::accounts::{self, AccountError};
use crate::auth::passwords;
use crate::auth::sessions::{self, Session, SignInError, COOKIE};
use crate::error::ApiError;
use crate::state::AppState;
use certus_credential::time::xsd_now;

/// Signs in with an email and password. Sets the session cookie (HttpOnly, SameSite=Strict,
/// Secure when the public URL is https) and answers the CSRF token to send back as
/// `X-CSRF-Token` on every change. Five failed attempts for an account (or thirty from one
/// address) lock sign-in for fifteen minutes.
#[utoipa::path(post, path = "/session", tag = "accounts", request_body = SignInRequest,
    responses(
        (status = 200, body = SessionInfo, description = "Signed in; the cookie is set"),
        (status = 401, body = ErrorBody, description = "INVALID_CREDENTIALS"),
        (status = 429, body = ErrorBody, description = "SIGN_IN_THROTTLED, with Retry-After"),
    ))]
pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    JsonBody(request): JsonBody<SignInRequest>,
) -> Result<Response, ApiError> {
    let (session, token) = state
        .accounts
        .sign_in(&request.email, request.password, client)
        .await
        .map_err(|e| match e {
            SignInError::InvalidCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "INVALID_CREDENTIALS",
                e.to_string(),
            ),
            SignInError::Throttled(seconds) => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "SIGN_IN_THROTTLED",
                e.to_string(),
            )
            .with_retry_after(seconds),
            SignInError::Internal(cause) => ApiError::internal(format_args!("sign-in: {cause:#}")),
        })?;
    let info = session_info(&state, &session).await?;
    Ok((
        [
            set_cookie(&state, &token, sessions::LIFETIME.num_seconds()),
            no_store(),
        ],
        Json(info),
    )
        .into_response())
}

/// The signed-in person, their institution and the CSRF token; 204 when the request
/// carries no live session (signed out, ended, or an API key, which has no session). A
/// page asks this to learn whether anyone is signed in, so being signed out is an answer,
/// not an error.
#[utoipa::path(get, path = "/session", tag = "accounts", responses(
    (status = 200, body = SessionInfo),
    (status = 204, description = "No one is signed in with this browser"),
))]
pub async fn current(
    State(state): State<AppState>,
    session: Option<CurrentSession>,
) -> Result<Response, ApiError> {
    let Some(CurrentSession(session)) = session else {
        return Ok((StatusCode::NO_CONTENT, [no_store()]).into_response());
    };
    Ok(([no_store()], Json(session_info(&state, &session).await?)).into_response())
}

/// Signs out: ends the session and clears the cookie.
#[utoipa::path(delete, path = "/session", tag = "accounts", responses(
    (status = 204, description = "Signed out"),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "CSRF_TOKEN_INVALID"),
))]
pub async fn sign_out(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
) -> Result<Response, ApiError> {
    state.accounts.sign_out(&session).await?;
    Ok((StatusCode::NO_CONTENT, [set_cookie(&state, "", 0)]).into_response())
}

/// Changes the signed-in person's password (required after a one-time password). Other
/// sessions of the account end.
#[utoipa::path(post, path = "/session/password", tag = "accounts",
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "The current password is wrong (WRONG_PASSWORD), or CSRF_TOKEN_INVALID"),
        (status = 422, body = ErrorBody, description = "WEAK_PASSWORD"),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    JsonBody(request): JsonBody<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    let matches = passwords::verify_blocking(
        request.current_password,
        Some(session.user.password_hash.clone()),
    )
    .await
    .map_err(ApiError::internal)?;
    if !matches {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "WRONG_PASSWORD",
            "the current password is wrong",
        )
        .at("/currentPassword"));
    }
    state
        .accounts
        .change_password(session, request.new_password)
        .await
        .map_err(|e| match e {
            AccountError::WeakPassword(_) => ApiError::from(e).at("/newPassword"),
            e => e.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Answers that carry the CSRF token are never cached.
fn no_store() -> (HeaderName, String) {
    (CACHE_CONTROL, "no-store".to_owned())
}

/// The session cookie set to `value` for `max_age` seconds (0 clears it): HttpOnly,
/// SameSite=Strict, and Secure when the public URL is https.
fn set_cookie(state: &AppState, value: &str, max_age: i64) -> (HeaderName, String) {
    let secure = if state.accounts.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    (
        SET_COOKIE,
        format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"),
    )
}

async fn session_info(state: &AppState, session: &Session) -> Result<SessionInfo, ApiError> {
    let tenant = state
        .accounts
        .tenant(&session.user.tenant_id)
        .await?
        .ok_or_else(|| ApiError::internal("a session's tenant is missing"))?;
    Ok(SessionInfo {
        user: accounts::info(&session.user),
        tenant: TenantInfo {
            id: tenant.id,
            name: tenant.name,
        },
        csrf_token: session.csrf_token.clone(),
        expires_at: xsd_now(session.expires_at),
    })
}
