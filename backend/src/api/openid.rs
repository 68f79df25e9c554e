//! The OpenID4VC protocol endpoints wallets call: issuer and authorization-server metadata,
//! credential offers by reference, token, nonce and credential endpoints (OpenID4VCI), and
//! request objects and `direct_post` answers (OpenID4VP). Errors are OAuth errors.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde_json::{json, Value};

use crate::openid::issuer::{self, TokenRequest};
use crate::openid::verifier::{self, AnswerError, DirectPost};
use crate::openid::{metadata, nonces, offers, OAuthError, OAuthErrorKind};
use crate::state::AppState;

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = match self.kind {
            OAuthErrorKind::InvalidToken => StatusCode::UNAUTHORIZED,
            OAuthErrorKind::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            OAuthErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        let mut body = json!({"error": self.kind.code(), "error_description": self.description});
        if let Some(nonce) = self.c_nonce {
            body["c_nonce"] = json!(nonce);
            body["c_nonce_expires_in"] = json!(nonces::LIFETIME_SECS);
        }
        let mut response = (status, no_store(), Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        response
    }
}

fn no_store() -> [(axum::http::HeaderName, &'static str); 1] {
    [(CACHE_CONTROL, "no-store")]
}

fn form_error(e: FormRejection) -> OAuthError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large();
    }
    OAuthError::new(
        OAuthErrorKind::InvalidRequest,
        format!("the body must be application/x-www-form-urlencoded: {e}"),
    )
}

fn too_large() -> OAuthError {
    OAuthError::new(
        OAuthErrorKind::TooLarge,
        "the request body is larger than this server accepts",
    )
}

/// `GET /.well-known/openid-credential-issuer`: the credential issuer metadata.
pub async fn issuer_metadata(State(state): State<AppState>) -> Json<Value> {
    Json(metadata::credential_issuer(
        state.openid.public_url(),
        state.openid.catalog(),
    ))
}

/// `GET /.well-known/oauth-authorization-server`: the authorization server metadata.
pub async fn authorization_server(State(state): State<AppState>) -> Json<Value> {
    Json(metadata::authorization_server(state.openid.public_url()))
}

/// `GET /openid4vci/offers/{id}`: a credential offer by reference.
pub async fn offer(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, OAuthError> {
    match offers::published(&state.openid, &id, state.clock.now())
        .await
        .map_err(OAuthError::internal)?
    {
        Some(offer) => Ok((no_store(), Json(offer)).into_response()),
        None => Ok((
            StatusCode::NOT_FOUND,
            Json(json!({"error": "invalid_request", "error_description": "no offer waits at this address: it was redeemed, has expired, or never existed"})),
        )
            .into_response()),
    }
}

/// `POST /openid4vci/token`.
pub async fn token(
    State(state): State<AppState>,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Result<Response, OAuthError> {
    let Form(request) = form.map_err(form_error)?;
    let body = issuer::token(&state.openid, request, state.clock.now()).await?;
    Ok((no_store(), Json(body)).into_response())
}

/// `POST /openid4vci/nonce`: a fresh `c_nonce`. Open to anyone, rate-limited per client,
/// and writes nothing.
pub async fn nonce(State(state): State<AppState>) -> Response {
    let c_nonce = state.openid.nonce(state.clock.now());
    (no_store(), Json(json!({ "c_nonce": c_nonce }))).into_response()
}

/// `POST /openid4vci/credential`: the credential, bound to the proof's key.
pub async fn credential(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, OAuthError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            OAuthError::new(OAuthErrorKind::InvalidRequest, "the body could not be read")
        }
    })?;
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let request: Value = serde_json::from_slice(&body).map_err(|_| {
        OAuthError::new(
            OAuthErrorKind::InvalidCredentialRequest,
            "the body must be a JSON credential request",
        )
    })?;
    let answer = issuer::credential(&state.openid, bearer, &request, state.clock.now()).await?;
    Ok((no_store(), Json(answer)).into_response())
}

/// `GET /openid4vp/requests/{id}`: the signed request object.
pub async fn request_object(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, OAuthError> {
    match verifier::request_object(&state.openid, &id, state.clock.now()).await? {
        Some(jwt) => Ok((
            [(CONTENT_TYPE, "application/oauth-authz-req+jwt")],
            no_store(),
            jwt,
        )
            .into_response()),
        None => Ok((
            StatusCode::NOT_FOUND,
            Json(json!({"error": "invalid_request", "error_description": "no request waits at this address: it was answered, has expired, or never existed"})),
        )
            .into_response()),
    }
}

/// `POST /openid4vp/responses/{id}`: a wallet's `direct_post` answer.
pub async fn response(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Result<Form<DirectPost>, FormRejection>,
) -> Result<Response, OAuthError> {
    let Form(post) = form.map_err(form_error)?;
    match verifier::answer(&state.openid, &id, post, state.clock.now()).await {
        Ok(_) => Ok((no_store(), Json(json!({}))).into_response()),
        Err(AnswerError::Internal(cause)) => Err(OAuthError::internal(format_args!("{cause:#}"))),
        Err(refused) => {
            let status = match refused {
                AnswerError::UnknownRequest => StatusCode::NOT_FOUND,
                _ => StatusCode::BAD_REQUEST,
            };
            Ok((
                status,
                no_store(),
                Json(json!({
                    "error": "invalid_request",
                    "error_description": refused.to_string(),
                    "code": refused.code(),
                })),
            )
                .into_response())
        }
    }
}
