//! What an institution reads about its own work: its issued credentials (search, detail
//! with anchor and history), its audit log and its dashboard.

use axum::extract::{Path, State};

use super::extract::{page_limit, page_position, JsonBody, QueryParams};
use axum::http::StatusCode;
use axum::Json;
use std::collections::BTreeMap;

use certus_schemas::portal::{
    AuditEntry, AuditPage, CredentialDetail, CredentialPage, CredentialSearch, Dashboard,
};
use certus_schemas::wire::ErrorBody;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::{Principal, Scope};
use crate::error::ApiError;
use crate::issued::{self, SearchError};
use crate::ledger::hash::Digest;
use crate::ledger::store::AnchorState;
use crate::privacy::export;
use crate::state::AppState;

/// Searches the institution's issued credentials, newest first. To search by the
/// person's reference, use `POST /credentials/search`.
#[utoipa::path(get, path = "/credentials", tag = "records", security(("bearer" = []), ("session" = [])),
    params(CredentialSearch),
    responses(
        (status = 200, body = CredentialPage),
        (status = 400, body = ErrorBody, description = "INVALID_QUERY, or a reference in the URL (REFERENCE_IN_URL)"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub async fn search(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(search): QueryParams<CredentialSearch>,
) -> Result<Json<CredentialPage>, ApiError> {
    if search.reference.is_some() {
        return Err(ApiError::bad_request(
            "REFERENCE_IN_URL",
            "a person's reference is searched with POST /credentials/search, so that it stays out of URLs and access logs",
        )
        .at("reference"));
    }
    find(&state, &principal, search).await.map(Json)
}

/// Searches the institution's issued credentials as `GET /credentials` does, the filters
/// in the body; it also finds the credentials issued to the person the institution knows
/// by `reference` (exactly as given at issuance).
#[utoipa::path(post, path = "/credentials/search", tag = "records", security(("bearer" = []), ("session" = [])),
    request_body = CredentialSearch,
    responses(
        (status = 200, body = CredentialPage),
        (status = 400, body = ErrorBody, description = "INVALID_QUERY"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub async fn search_by_body(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(search): JsonBody<CredentialSearch>,
) -> Result<Json<CredentialPage>, ApiError> {
    find(&state, &principal, search).await.map(Json)
}

async fn find(
    state: &AppState,
    principal: &Principal,
    search: CredentialSearch,
) -> Result<CredentialPage, ApiError> {
    principal.require(Scope::Read)?;
    let limit = page_limit(search.limit, 50, 200)?;
    page_position(search.offset, "offset")?;
    let among = match search.reference.as_deref().map(str::trim) {
        Some(reference) if !reference.is_empty() => Some(
            export::credentials_of(&state.privacy, &principal.tenant_id, reference)
                .await
                .map_err(|e| ApiError::internal(format_args!("{e:#}")))?,
        ),
        _ => None,
    };
    let (total, items) =
        issued::search(&state.records, &principal.tenant_id, &search, among, limit)
            .await
            .map_err(|e| match e {
                SearchError::Invalid { message, parameter } => {
                    ApiError::bad_request("INVALID_QUERY", message).at(parameter)
                }
                SearchError::Db(e) => e.into(),
            })?;
    Ok(CredentialPage { total, items })
}

/// One credential of the institution: its record, where it is anchored, and its history
/// (issuance and every status change, from the audit log).
#[utoipa::path(get, path = "/credentials/{id}", tag = "records", security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "The credential's id")),
    responses(
        (status = 200, body = CredentialDetail),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "No such credential of this institution"),
    ))]
pub async fn detail(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<CredentialDetail>, ApiError> {
    principal.require(Scope::Read)?;
    let row = issued::find(&state.records, &principal.tenant_id, &id)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "CREDENTIAL_NOT_FOUND",
                format!("this institution issued no credential `{id}`"),
            )
        })?;
    let anchor = match row.commitment.as_deref().map(Digest::from_hex) {
        Some(Ok(commitment)) => match state.ledger.locate(&commitment).await? {
            AnchorState::Anchored(receipt) => receipt
                .verify(state.ledger.genesis())
                .ok()
                .map(|a| a.info()),
            _ => None,
        },
        _ => None,
    };
    let mut record = issued::record(&row);
    let mut history = issued::history(&state.records, &principal.tenant_id, &id).await?;
    let names = state
        .accounts
        .actor_names(
            &principal.tenant_id,
            history
                .iter()
                .map(|e| e.actor.as_str())
                .chain(record.issued_by.as_deref()),
        )
        .await?;
    name_actors(&names, &mut history);
    record.issued_by_name = record
        .issued_by
        .as_ref()
        .and_then(|b| names.get(b).cloned());
    let mut copies = issued::copies(
        state.records.db(),
        &principal.tenant_id,
        std::slice::from_ref(&id),
    )
    .await?;
    copies.retain(|copy| *copy != id);
    copies.sort();
    Ok(Json(CredentialDetail {
        record,
        anchor,
        history,
        copies,
    }))
}

/// Puts the names of the people and API keys beside their ids in `entries`.
fn name_actors(names: &BTreeMap<String, String>, entries: &mut [AuditEntry]) {
    for entry in entries {
        entry.actor_name = names.get(&entry.actor).cloned();
    }
}

/// Paging of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Sealed entries before this position (the next page); absent for the newest.
    before: Option<u64>,
    /// At most 500; 100 when absent.
    limit: Option<u64>,
}

/// The institution's audit log, newest first: entries waiting for the next block (no
/// position yet), then sealed, hash-chained ones.
#[utoipa::path(get, path = "/audit", tag = "records", security(("bearer" = []), ("session" = [])),
    params(AuditQuery),
    responses(
        (status = 200, body = AuditPage),
        (status = 400, body = ErrorBody, description = "INVALID_QUERY"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub async fn audit(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(query): QueryParams<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    principal.require(Scope::Read)?;
    let limit = page_limit(query.limit, 100, 500)?;
    let before = page_position(query.before, "before")?;
    let mut entries =
        issued::audit_log(&state.records, &principal.tenant_id, before, limit).await?;
    let names = state
        .accounts
        .actor_names(
            &principal.tenant_id,
            entries.iter().map(|e| e.actor.as_str()),
        )
        .await?;
    name_actors(&names, &mut entries);
    Ok(Json(AuditPage { entries }))
}

/// The institution's figures and the chain's latest blocks.
#[utoipa::path(get, path = "/dashboard", tag = "records", security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, body = Dashboard),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub async fn dashboard(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Dashboard>, ApiError> {
    principal.require(Scope::Read)?;
    Ok(Json(
        issued::dashboard(&state.records, &principal.tenant_id, state.clock.now()).await?,
    ))
}
