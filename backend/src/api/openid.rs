//! The OpenID4VC protocol endpoints wallets call: issuer and authorization-server metadata,
//! credential offers by reference, pushed authorization requests, token, nonce and
//! credential endpoints (OpenID4VCI), and
//! request objects and `direct_post` answers (OpenID4VP). Errors are OAuth errors.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use certus_schemas::openid::REQUEST_OBJECT_MEDIA_TYPE;
use serde_json::{json, Value};

use crate::openid::authorization::{self, PushedRequest};
use crate::openid::encryption::{OpenError, ResponseEncryption};
use crate::openid::issuer::{self, TokenRequest};
use crate::openid::verifier::{self, AnswerError, DirectPost, FetchError, RequestFetch};
use crate::openid::{client_attestation, metadata, nonces, offers, OAuthError, OAuthErrorKind};
use crate::state::AppState;

/// An OAuth error answer (RFC 6749 §5.2), as every protocol endpoint gives it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_grant`, `unsupported_grant_type`,
    /// `unsupported_response_type`, `invalid_scope`, `invalid_authorization_details`,
    /// `invalid_target`, `invalid_token`, `invalid_credential_request`,
    /// `unknown_credential_configuration`, `invalid_proof`, `invalid_nonce`,
    /// `invalid_dpop_proof`, `invalid_client`, `use_attestation_challenge`,
    /// `credential_request_denied`, `invalid_notification_id`,
    /// `invalid_notification_request` or `server_error`.
    pub error: String,
    pub error_description: String,
    /// A fresh `c_nonce` to retry with (proof and nonce errors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c_nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c_nonce_expires_in: Option<i64>,
    /// Certus's stable code, on a refused presentation answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl OAuthErrorBody {
    fn new(error: &str, description: impl Into<String>) -> Self {
        Self {
            error: error.to_owned(),
            error_description: description.into(),
            c_nonce: None,
            c_nonce_expires_in: None,
            code: None,
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = match self.kind {
            OAuthErrorKind::InvalidToken | OAuthErrorKind::InvalidClient => {
                StatusCode::UNAUTHORIZED
            }
            OAuthErrorKind::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            OAuthErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        let mut body = OAuthErrorBody::new(self.kind.code(), self.description);
        if let Some(nonce) = self.c_nonce {
            body.c_nonce = Some(nonce);
            body.c_nonce_expires_in = Some(nonces::LIFETIME_SECS);
        }
        let mut response = (status, no_store(), Json(body)).into_response();
        let headers = response.headers_mut();
        if self.kind == OAuthErrorKind::InvalidToken {
            headers.insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        if let Some(value) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(client_attestation::CHALLENGE_HEADER, value);
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

/// A JSON request body; a body that cannot be read, or is too large, or is not JSON (then
/// `kind` with `description`), refused.
fn json_body(
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
    kind: OAuthErrorKind,
    description: &str,
) -> Result<Value, OAuthError> {
    serde_json::from_slice(&read_body(body)?).map_err(|_| OAuthError::new(kind, description))
}

/// A request body; one that cannot be read, or is too large, refused.
fn read_body(
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<axum::body::Bytes, OAuthError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            OAuthError::new(OAuthErrorKind::InvalidRequest, "the body could not be read")
        }
    })
}

fn too_large() -> OAuthError {
    OAuthError::new(
        OAuthErrorKind::TooLarge,
        "the request body is larger than this server accepts",
    )
}

/// `GET /.well-known/openid-credential-issuer`: the credential issuer metadata, as JSON or,
/// to a wallet that accepts `application/jwt`, signed.
#[utoipa::path(get, path = "/.well-known/openid-credential-issuer", tag = "openid4vc",
    responses(
        (status = 200, description = "OpenID4VCI 1.0 credential issuer metadata; with `Accept: application/jwt`, the same signed (`typ: openidvci-issuer-metadata+jwt`) by the key of the node's own institution", content((Object = "application/json"), (String = "application/jwt"))),
        (status = 500, body = OAuthErrorBody),
    ))]
pub async fn issuer_metadata(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, OAuthError> {
    let vary = [(VARY, "accept")];
    if !accepts_jwt(&headers) {
        let metadata = state.openid.issuer_metadata().await?;
        return Ok((vary, Json(metadata)).into_response());
    }
    let signed = state
        .openid
        .signed_issuer_metadata(state.clock.now())
        .await
        .map_err(|cause| OAuthError::internal(format_args!("{cause:#}")))?;
    Ok((vary, [(CONTENT_TYPE, "application/jwt")], signed).into_response())
}

/// Whether `Accept` names `application/jwt` (and does not refuse it with `q=0`).
fn accepts_jwt(headers: &HeaderMap) -> bool {
    header(headers, "accept").is_some_and(|accept| {
        accept.split(',').any(|range| {
            let mut parts = range.split(';').map(str::trim);
            let jwt = parts
                .next()
                .is_some_and(|t| t.eq_ignore_ascii_case("application/jwt"));
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            jwt && !refused
        })
    })
}

/// `GET /.well-known/oauth-authorization-server`: the authorization server metadata.
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "openid4vc",
    responses((status = 200, description = "RFC 8414 authorization server metadata", body = Object)))]
pub async fn authorization_server(State(state): State<AppState>) -> Json<Value> {
    Json(metadata::authorization_server(state.openid.public_url()))
}

/// `GET /openid4vci/offers/{id}`: a credential offer by reference.
#[utoipa::path(get, path = "/openid4vci/offers/{id}", tag = "openid4vc",
    params(("id" = String, Path, description = "The offer's id")),
    responses(
        (status = 200, description = "The credential offer object", body = Object),
        (status = 404, description = "Redeemed, expired or unknown", body = OAuthErrorBody),
    ))]
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
            Json(OAuthErrorBody::new(
                "invalid_request",
                "no offer waits at this address: it was redeemed, has expired, or never existed",
            )),
        )
            .into_response()),
    }
}

/// `POST /openid4vci/par`: a pushed authorization request (RFC 9126) for an offer of the
/// authorization code flow.
#[utoipa::path(post, path = "/openid4vci/par", tag = "openid4vc",
    request_body(content = Object, content_type = "application/x-www-form-urlencoded",
        description = "`response_type=code`, `client_id`, `redirect_uri` (https, loopback http, or a wallet app's own scheme), `code_challenge` with `code_challenge_method=S256`, the offer's `issuer_state`, and optionally `state`, `scope` or `authorization_details` naming the offered credential, `resource` (this issuer) and `dpop_jkt`. With a `DPoP` header, the flow is bound to the proof's key: the token must be asked for with a proof by it. With the `OAuth-Client-Attestation` and `OAuth-Client-Attestation-PoP` headers, the wallet authenticates by its provider's attestation (required when the institution requires it)"),
    responses(
        (status = 201, description = "`{\"request_uri\": \"urn:ietf:params:oauth:request_uri:…\", \"expires_in\": 60}`: send the holder's browser to the authorization endpoint with it and `client_id`", body = Object),
        (status = 400, description = "invalid_request, unsupported_response_type, invalid_scope, invalid_authorization_details, invalid_target, invalid_dpop_proof, or use_attestation_challenge (with a fresh challenge in the `OAuth-Client-Attestation-Challenge` header)", body = OAuthErrorBody),
        (status = 401, description = "invalid_client: the wallet attestation is missing where required, or refused", body = OAuthErrorBody),
        (status = 413, body = OAuthErrorBody),
        (status = 500, body = OAuthErrorBody),
    ))]
pub async fn par(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<PushedRequest>, FormRejection>,
) -> Result<Response, OAuthError> {
    let Form(request) = form.map_err(form_error)?;
    let body = authorization::push(
        &state.openid,
        request,
        header(&headers, "dpop"),
        wallet_attestation(&headers),
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, no_store(), Json(body)).into_response())
}

/// `POST /openid4vci/token`: an offer's grant — a pre-authorized code (and transaction
/// code), or an authorization code (with its PKCE verifier) — for an access token.
#[utoipa::path(post, path = "/openid4vci/token", tag = "openid4vc",
    request_body(content = Object, content_type = "application/x-www-form-urlencoded",
        description = "`grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code`, `pre-authorized_code`, and `tx_code` when the offer asks for one; or `grant_type=authorization_code`, `code`, `code_verifier`, `redirect_uri` and `client_id` as pushed. With a `DPoP` header (a proof, RFC 9449), the token is bound to the proof's key (`token_type: DPoP`); a proof by the pushed key is required when the authorization request was bound to one. With the `OAuth-Client-Attestation` and `OAuth-Client-Attestation-PoP` headers, the wallet authenticates by its provider's attestation (required when the institution requires it)"),
    responses(
        (status = 200, description = "The access token (and, for draft-13 wallets, a `c_nonce`)", body = Object),
        (status = 400, body = OAuthErrorBody),
        (status = 401, description = "invalid_client: the wallet attestation is missing where required, or refused", body = OAuthErrorBody),
        (status = 413, body = OAuthErrorBody),
        (status = 500, body = OAuthErrorBody),
    ))]
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Result<Response, OAuthError> {
    let Form(request) = form.map_err(form_error)?;
    let body = issuer::token(
        &state.openid,
        request,
        header(&headers, "dpop"),
        wallet_attestation(&headers),
        state.clock.now(),
    )
    .await?;
    Ok((no_store(), Json(body)).into_response())
}

/// `POST /openid4vci/nonce`: a fresh `c_nonce`. Open to anyone, rate-limited per client,
/// and writes nothing.
#[utoipa::path(post, path = "/openid4vci/nonce", tag = "openid4vc",
    responses(
        (status = 200, description = "`{\"c_nonce\": …}`", body = Object),
        (status = 429, description = "RATE_LIMITED, with Retry-After", body = certus_schemas::wire::ErrorBody),
    ))]
pub async fn nonce(State(state): State<AppState>) -> Response {
    fresh_nonce(&state, "c_nonce")
}

/// A fresh one-time nonce of this issuer, as the member `name`, not to be cached.
fn fresh_nonce(state: &AppState, name: &str) -> Response {
    let nonce = state.openid.nonce(state.clock.now());
    let body = serde_json::Map::from_iter([(name.to_owned(), Value::String(nonce))]);
    (no_store(), Json(body)).into_response()
}

/// `POST /openid4vci/challenge`: a fresh challenge for a wallet attestation's proof of
/// possession (its `challenge`). Open to anyone, rate-limited per client, and writes
/// nothing; a proof without one is taken all the same.
#[utoipa::path(post, path = "/openid4vci/challenge", tag = "openid4vc",
    responses(
        (status = 200, description = "`{\"attestation_challenge\": …}`", body = Object),
        (status = 429, description = "RATE_LIMITED, with Retry-After", body = certus_schemas::wire::ErrorBody),
    ))]
pub async fn challenge(State(state): State<AppState>) -> Response {
    fresh_nonce(&state, "attestation_challenge")
}

/// `POST /openid4vci/credential`: the credential, bound to the proof's key. Authorised
/// by the access token from the token endpoint: `Authorization: Bearer <token>`, or for a
/// token bound by DPoP `Authorization: DPoP <token>` with a fresh proof in the `DPoP`
/// header (a refused proof: 401 `invalid_dpop_proof`).
#[utoipa::path(post, path = "/openid4vci/credential", tag = "openid4vc",
    request_body(description = "An OpenID4VCI credential request with a `jwt` proof; or, as `application/jwt`, the same encrypted to the key in `credential_request_encryption`",
        content((Object = "application/json"), (String = "application/jwt"))),
    responses(
        (status = 200, description = "The credential; encrypted to the wallet's key when an encrypted request asked (`credential_response_encryption`)",
            content((Object = "application/json"), (String = "application/jwt"))),
        (status = 202, description = "`transaction_id` and `interval`: the institution approves the credential first (deferred issuance)",
            content((Object = "application/json"), (String = "application/jwt"))),
        (status = 400, body = OAuthErrorBody),
        (status = 401, description = "invalid_token, or invalid_dpop_proof", body = OAuthErrorBody),
        (status = 413, body = OAuthErrorBody),
        (status = 500, body = OAuthErrorBody),
    ))]
pub async fn credential(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, OAuthError> {
    let (request, sealing) = credential_request(&state, &headers, body, "credential request")?;
    let answer = issuer::credential(
        &state.openid,
        presented(&headers),
        &request,
        state.clock.now(),
    )
    .await;
    Ok(answered(answer, sealing.as_ref()))
}

/// `POST /openid4vci/deferred_credential`: the credentials of a request kept for the
/// institution's approval (OpenID4VCI §9), authorised by the same access token; until
/// the institution approves, 202 with the `transaction_id` and the `interval` to wait.
#[utoipa::path(post, path = "/openid4vci/deferred_credential", tag = "openid4vc",
    request_body(description = "`transaction_id`, from the credential endpoint's 202 answer; or, as `application/jwt`, encrypted as at the credential endpoint",
        content((Object = "application/json"), (String = "application/jwt"))),
    responses(
        (status = 200, description = "`credentials`: the institution approved", content((Object = "application/json"), (String = "application/jwt"))),
        (status = 202, description = "`transaction_id` and `interval`: not yet approved", content((Object = "application/json"), (String = "application/jwt"))),
        (status = 400, description = "invalid_transaction_id (unknown, or already collected), credential_request_denied (refused by the institution, or withdrawn), or invalid_credential_request", body = OAuthErrorBody),
        (status = 401, description = "invalid_token, or invalid_dpop_proof", body = OAuthErrorBody),
        (status = 413, body = OAuthErrorBody),
        (status = 500, body = OAuthErrorBody),
    ))]
pub async fn deferred_credential(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, OAuthError> {
    let (request, sealing) =
        credential_request(&state, &headers, body, "deferred credential request")?;
    let answer = issuer::deferred(
        &state.openid,
        presented(&headers),
        &request,
        state.clock.now(),
    )
    .await;
    Ok(answered(answer, sealing.as_ref()))
}

/// A (deferred) credential request as sent: JSON, or a JWT encrypted to the issuer's
/// request key (`application/jwt`, OpenID4VCI 1.0 §10); with the encryption its answer
/// asks for, which only an encrypted request may ask (so it cannot be swapped on the way).
fn credential_request(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
    what: &str,
) -> Result<(Value, Option<ResponseEncryption>), OAuthError> {
    let encrypted = header(headers, "content-type").is_some_and(|t| {
        t.split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/jwt"))
    });
    let body = read_body(body)?;
    let request = if encrypted {
        let jwe = std::str::from_utf8(&body).unwrap_or_default();
        state.openid.request_key().open(jwe).map_err(|e| match e {
            OpenError::Refused(why) => {
                OAuthError::new(OAuthErrorKind::InvalidEncryptionParameters, why)
            }
            OpenError::Internal(cause) => OAuthError::internal(format_args!("{cause:#}")),
        })?
    } else {
        serde_json::from_slice(&body).map_err(|_| {
            OAuthError::new(
                OAuthErrorKind::InvalidCredentialRequest,
                format!("the body must be a JSON {what}"),
            )
        })?
    };
    let Some(asked) = request.get("credential_response_encryption") else {
        return Ok((request, None));
    };
    if !encrypted {
        return Err(OAuthError::new(
            OAuthErrorKind::InvalidEncryptionParameters,
            "credential_response_encryption is taken only in a request encrypted to the issuer (credential_request_encryption in its metadata), so that it cannot be swapped on the way",
        ));
    }
    let sealing = ResponseEncryption::read(asked)
        .map_err(|why| OAuthError::new(OAuthErrorKind::InvalidEncryptionParameters, why))?;
    Ok((request, Some(sealing)))
}

/// The answer of the credential and deferred credential endpoints: 200 with credentials,
/// 202 to come back later, or the error; encrypted to the wallet's key when it asked
/// (`application/jwt`), errors excepted.
fn answered(
    answer: Result<issuer::Answer, OAuthError>,
    sealing: Option<&ResponseEncryption>,
) -> Response {
    let (status, body) = match answer {
        Ok(issuer::Answer::Issued(body)) => (StatusCode::OK, body),
        Ok(issuer::Answer::Deferred(body)) => (StatusCode::ACCEPTED, body),
        Err(e) => return at_resource(e),
    };
    let Some(sealing) = sealing else {
        return (status, no_store(), Json(body)).into_response();
    };
    match sealing.seal(&body) {
        Ok(jwe) => (status, no_store(), [(CONTENT_TYPE, "application/jwt")], jwe).into_response(),
        Err(cause) => OAuthError::internal(format_args!("{cause:#}")).into_response(),
    }
}

/// An error of an endpoint a wallet reaches with its access token: a refused DPoP proof is
/// a 401 that names the scheme (RFC 9449 §7.1).
fn at_resource(e: OAuthError) -> Response {
    let dpop = e.kind == OAuthErrorKind::InvalidDpopProof;
    let mut response = e.into_response();
    if dpop {
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("DPoP error=\"invalid_dpop_proof\""),
        );
    }
    response
}

/// The access token a request presents: its `Authorization` and `DPoP` headers.
fn presented(headers: &HeaderMap) -> issuer::Presented<'_> {
    issuer::Presented {
        authorization: header(headers, axum::http::header::AUTHORIZATION.as_str()),
        dpop_proof: header(headers, "dpop"),
    }
}

/// `POST /openid4vci/notification`: what the wallet did with the credential it received
/// (OpenID4VCI §11). Authorised by the same access token as the credential request.
#[utoipa::path(post, path = "/openid4vci/notification", tag = "openid4vc",
    request_body(content = Object, description = "`notification_id` (from the credential answer) and `event`: `credential_accepted`, `credential_failure` or `credential_deleted`; `event_description` is read and not kept"),
    responses(
        (status = 204, description = "Recorded on the offer"),
        (status = 400, description = "invalid_notification_id, or invalid_notification_request", body = OAuthErrorBody),
        (status = 401, description = "invalid_token, or invalid_dpop_proof", body = OAuthErrorBody),
        (status = 413, body = OAuthErrorBody),
        (status = 500, body = OAuthErrorBody),
    ))]
pub async fn notification(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, OAuthError> {
    let request = json_body(
        body,
        OAuthErrorKind::InvalidNotificationRequest,
        "the body must be a JSON notification",
    )?;
    match issuer::notify(
        &state.openid,
        presented(&headers),
        &request,
        state.clock.now(),
    )
    .await
    {
        Ok(()) => Ok((StatusCode::NO_CONTENT, no_store()).into_response()),
        Err(e) => Ok(at_resource(e)),
    }
}

/// A request header's value, when it is text.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The wallet attestation headers of a request.
fn wallet_attestation(headers: &HeaderMap) -> client_attestation::Presented<'_> {
    client_attestation::Presented {
        attestation: header(headers, client_attestation::ATTESTATION_HEADER),
        pop: header(headers, client_attestation::POP_HEADER),
    }
}

/// `GET /openid4vp/requests/{id}`: the signed request object.
#[utoipa::path(get, path = "/openid4vp/requests/{id}", tag = "openid4vc",
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The signed request object", body = String, content_type = "application/oauth-authz-req+jwt"),
        (status = 404, description = "Answered, expired or unknown", body = OAuthErrorBody),
        (status = 500, body = OAuthErrorBody),
    ))]
pub async fn request_object(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, OAuthError> {
    let found = verifier::request_object(&state.openid, &id, state.clock.now()).await?;
    Ok(request_object_answer(found))
}

/// `POST /openid4vp/requests/{id}`: the signed request object for a wallet that fetches it
/// by POST (`request_uri_method=post`), with its `wallet_nonce` when it sends one.
#[utoipa::path(post, path = "/openid4vp/requests/{id}", tag = "openid4vc",
    params(("id" = String, Path, description = "The request's id")),
    request_body(content = Object, content_type = "application/x-www-form-urlencoded",
        description = "Optional `wallet_nonce` (carried back in the request object) and `wallet_metadata` (a JSON object); other parameters are ignored"),
    responses(
        (status = 200, description = "The signed request object", body = String, content_type = "application/oauth-authz-req+jwt"),
        (status = 400, description = "A `wallet_nonce` or `wallet_metadata` that cannot be taken", body = OAuthErrorBody),
        (status = 404, description = "Answered, expired or unknown", body = OAuthErrorBody),
        (status = 413, body = OAuthErrorBody),
        (status = 500, body = OAuthErrorBody),
    ))]
pub async fn request_object_posted(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Result<Form<RequestFetch>, FormRejection>,
) -> Result<Response, OAuthError> {
    let Form(fetch) = form.map_err(form_error)?;
    match verifier::request_object_for(&state.openid, &id, fetch, state.clock.now()).await {
        Ok(found) => Ok(request_object_answer(found)),
        Err(FetchError::Invalid(why)) => Err(OAuthError::new(OAuthErrorKind::InvalidRequest, why)),
        Err(FetchError::Internal(cause)) => Err(OAuthError::internal(format_args!("{cause:#}"))),
    }
}

/// A request object, or why there is none to serve.
fn request_object_answer(found: Option<String>) -> Response {
    match found {
        Some(jwt) => ([(CONTENT_TYPE, REQUEST_OBJECT_MEDIA_TYPE)], no_store(), jwt).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(OAuthErrorBody::new(
                "invalid_request",
                "no request waits at this address: it was answered, has expired, or never existed",
            )),
        )
            .into_response(),
    }
}

/// `POST /openid4vp/responses/{id}`: a wallet's `direct_post` or `direct_post.jwt` answer.
#[utoipa::path(post, path = "/openid4vp/responses/{id}", tag = "openid4vc",
    params(("id" = String, Path, description = "The request's id")),
    request_body(content = Object, content_type = "application/x-www-form-urlencoded",
        description = "`vp_token` (JSON keyed by DCQL query id) and `state`, or `error` to decline; for a `direct_post.jwt` request, `response`: those parameters as a JWE to the request's key"),
    responses(
        (status = 200, description = "Received: `{}`, or for a request with a `redirectUri`, accepted or declined, `{\"redirect_uri\": …}` to send the holder's browser to (with a one-time `response_code` in its fragment)", body = Object),
        (status = 400, description = "Refused, with Certus's `code`", body = OAuthErrorBody),
        (status = 404, description = "No such request", body = OAuthErrorBody),
        (status = 413, body = OAuthErrorBody),
        (status = 500, body = OAuthErrorBody),
    ))]
pub async fn response(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Result<Form<DirectPost>, FormRejection>,
) -> Result<Response, OAuthError> {
    let Form(post) = form.map_err(form_error)?;
    match verifier::answer(&state.openid, &id, post, state.clock.now()).await {
        // For a same-device request: where the wallet sends the holder's browser.
        Ok(taken) => {
            let body = match taken.redirect_uri {
                Some(redirect_uri) => json!({ "redirect_uri": redirect_uri }),
                None => json!({}),
            };
            Ok((no_store(), Json(body)).into_response())
        }
        Err(AnswerError::Internal(cause)) => Err(OAuthError::internal(format_args!("{cause:#}"))),
        Err(refused) => {
            let status = match refused {
                AnswerError::UnknownRequest => StatusCode::NOT_FOUND,
                _ => StatusCode::BAD_REQUEST,
            };
            let mut body = OAuthErrorBody::new("invalid_request", refused.to_string());
            body.code = Some(refused.code().to_owned());
            Ok((status, no_store(), Json(body)).into_response())
        }
    }
}
