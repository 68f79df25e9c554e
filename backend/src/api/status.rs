//! Credential status: changing it (W3C VC API `POST /credentials/status`, and in bulk by
//! query) and the published Bitstring Status List credentials.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use certus_schemas::wire::{
    BulkStatusRequest, CredentialStatusInfo, ErrorBody, StatusChangeResult, UpdateStatusRequest,
};

use super::extract::JsonBody;
use crate::auth::{Principal, Scope};
use crate::error::ApiError;
use crate::ledger::transaction::ListId;
use crate::state::AppState;
use crate::status::{Change, Published, Selection, STATUS_LIST_JWT};

/// Seconds a client may reuse the latest version of a list without asking again.
const LATEST_MAX_AGE_SECS: u32 = 60;

/// Revokes, suspends or reinstates one credential (W3C VC API). Each entry of
/// `credentialStatus` names a purpose; `status: false` lifts a suspension. Revocation is
/// final. The lists that change are republished and anchored at once.
#[utoipa::path(post, path = "/credentials/status", tag = "status", security(("bearer" = [])),
    request_body = UpdateStatusRequest,
    responses(
        (status = 200, description = "Status updated; the new list versions", body = StatusChangeResult),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "No such credential of this tenant", body = ErrorBody),
        (status = 409, description = "Revocation is final, or the credential has no status entries", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(request): JsonBody<UpdateStatusRequest>,
) -> Result<Json<StatusChangeResult>, ApiError> {
    principal.require(Scope::Status)?;
    let entries = request.credential_status.into_vec();
    if entries.is_empty() {
        return Err(ApiError::unprocessable(
            "MALFORMED_REQUEST",
            "credentialStatus names no entry",
        )
        .at("/credentialStatus"));
    }
    if let Some(other) = entries
        .iter()
        .find(|e| e.entry_type != "BitstringStatusListEntry")
    {
        return Err(ApiError::unprocessable(
            "UNSUPPORTED_STATUS_TYPE",
            format!(
                "status entries of type `{}` are not supported; use BitstringStatusListEntry",
                other.entry_type
            ),
        )
        .at("/credentialStatus"));
    }
    let mut total = StatusChangeResult {
        matched: 0,
        changed: 0,
        published: Vec::new(),
    };
    for entry in entries {
        let result = state
            .status
            .change(
                &principal.tenant_id,
                &principal.actor_id(),
                Change {
                    selection: Selection::One(request.credential_id.clone()),
                    purpose: entry.status_purpose,
                    set: entry.status.or(request.status).unwrap_or(true),
                    reason: request.reason.unwrap_or_default(),
                },
                state.clock.now(),
            )
            .await?;
        total.matched = total.matched.max(result.matched);
        total.changed += result.changed;
        total.published.extend(result.published);
    }
    tracing::info!(credential_id = %request.credential_id, changed = total.changed, "credential status updated");
    Ok(Json(total))
}

/// Revokes, suspends or reinstates every credential of this tenant that a query selects
/// (credential type, issue-time range, issuing API key), publishing one new version of
/// each list that changed.
#[utoipa::path(post, path = "/credentials/status/bulk", tag = "status", security(("bearer" = [])),
    request_body = BulkStatusRequest,
    responses(
        (status = 200, description = "Statuses updated; the new list versions", body = StatusChangeResult),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "Revocation is final", body = ErrorBody),
        (status = 422, description = "An empty or malformed query", body = ErrorBody),
    ))]
pub async fn bulk(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(request): JsonBody<BulkStatusRequest>,
) -> Result<Json<StatusChangeResult>, ApiError> {
    principal.require(Scope::Status)?;
    let selection = Selection::try_from(request.query)?;
    let result = state
        .status
        .change(
            &principal.tenant_id,
            &principal.actor_id(),
            Change {
                selection,
                purpose: request.status_purpose,
                set: request.status,
                reason: request.reason.unwrap_or_default(),
            },
            state.clock.now(),
        )
        .await?;
    tracing::info!(
        matched = result.matched,
        changed = result.changed,
        lists = result.published.len(),
        "bulk status change"
    );
    Ok(Json(result))
}

/// The recorded status of a credential this tenant issued.
#[utoipa::path(get, path = "/credentials/{id}/status", tag = "status", security(("bearer" = [])),
    params(("id" = String, Path, description = "The credential's id")),
    responses(
        (status = 200, body = CredentialStatusInfo),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn credential_status(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<CredentialStatusInfo>, ApiError> {
    principal.require(Scope::Read)?;
    let record = crate::issued::find(&state.records, &principal.tenant_id, &id)
        .await?
        .ok_or_else(|| crate::status::StatusError::NotFound(id.clone()))?;
    Ok(Json(CredentialStatusInfo {
        credential_id: id,
        revoked: record.revoked_at.is_some(),
        suspended: record.suspended_at.is_some(),
        reason: crate::issued::reason_of(&record),
    }))
}

fn parse_list(list: &str) -> Result<ListId, ApiError> {
    ListId::parse(list).ok_or_else(no_such_list)
}

fn no_such_list() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "STATUS_LIST_NOT_FOUND",
        "there is no such status list",
    )
}

/// A list version as a response: the stored bytes, with validators for caching.
fn served(published: &Published, headers: &HeaderMap, cache_control: &str) -> Response {
    let etag = format!("\"{}\"", published.hash.to_hex());
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let content_type = if headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/vc"))
    {
        "application/vc"
    } else {
        "application/json"
    };
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, content_type)],
            published.credential.clone(),
        )
            .into_response()
    };
    let headers = response.headers_mut();
    let mut set = |name, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set(header::ETAG, etag);
    set(header::CACHE_CONTROL, cache_control.to_owned());
    set(
        header::LAST_MODIFIED,
        published
            .published_at
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string(),
    );
    set(
        header::HeaderName::from_static("x-status-list-version"),
        published.version.to_string(),
    );
    response
}

/// The latest version of a status list: a BitstringStatusListCredential signed by the
/// issuer. Its `ETag` is the version's hash as anchored on the chain
/// (`GET /anchors/{hash}/receipt`); `If-None-Match` gets 304. Asked for
/// `application/statuslist+jwt`, the pair's statuses as an IETF Token Status List (the
/// `status` claim of SD-JWT VCs points here).
#[utoipa::path(get, path = "/status/{list}", tag = "status",
    params(("list" = String, Path, description = "The list's id (32 hex digits)")),
    responses(
        (status = 200, description = "The signed list credential (or, for `Accept: application/statuslist+jwt`, the pair's status list token)", content_type = "application/json"),
        (status = 304, description = "Not modified"),
        (status = 404, body = ErrorBody),
    ))]
pub async fn latest(
    State(state): State<AppState>,
    Path(list): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let list = parse_list(&list)?;
    let wants_token = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(STATUS_LIST_JWT));
    if wants_token {
        let token = state
            .status
            .token(list, state.clock.now())
            .await
            .map_err(|e| ApiError::internal(format_args!("status list token: {e:#}")))?
            .ok_or_else(no_such_list)?;
        return Ok((
            [
                (header::CONTENT_TYPE, STATUS_LIST_JWT.to_owned()),
                (
                    header::CACHE_CONTROL,
                    format!("public, max-age={LATEST_MAX_AGE_SECS}"),
                ),
            ],
            token,
        )
            .into_response());
    }
    let published = state.status.latest(list).await?.ok_or_else(no_such_list)?;
    Ok(served(
        &published,
        &headers,
        &format!("public, max-age={LATEST_MAX_AGE_SECS}"),
    ))
}

/// One published version of a status list, as it was served; versions never change.
#[utoipa::path(get, path = "/status/{list}/versions/{version}", tag = "status",
    params(
        ("list" = String, Path, description = "The list's id (32 hex digits)"),
        ("version" = u64, Path, description = "The version, from 1"),
    ),
    responses(
        (status = 200, description = "The signed list credential", content_type = "application/json"),
        (status = 404, body = ErrorBody),
    ))]
pub async fn version(
    State(state): State<AppState>,
    Path((list, version)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let list = parse_list(&list)?;
    let version: u64 = version.parse().map_err(|_| no_such_list())?;
    let published = state
        .status
        .version(list, version)
        .await?
        .ok_or_else(no_such_list)?;
    Ok(served(
        &published,
        &headers,
        "public, max-age=31536000, immutable",
    ))
}

/// Publishes the list's pending changes (W3C status-list test suite). Certus publishes
/// every change as it is made, so this only confirms the list is this tenant's.
#[utoipa::path(post, path = "/status/{list}/publish", tag = "status", security(("bearer" = [])),
    params(("list" = String, Path, description = "The list's id (32 hex digits)")),
    responses(
        (status = 204, description = "The list is published"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn publish(
    State(state): State<AppState>,
    principal: Principal,
    Path(list): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require(Scope::Status)?;
    let list = parse_list(&list)?;
    if !state.status.owned_by(list, &principal.tenant_id).await? {
        return Err(no_such_list());
    }
    Ok(StatusCode::NO_CONTENT)
}
