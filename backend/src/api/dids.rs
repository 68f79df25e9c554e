//! Institution DIDs (`did:certus`): create, rotate, report a compromise, deactivate; and DID
//! resolution in the shape of the W3C DID Resolution specification.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use certus_schemas::wire::ErrorBody;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use ssi::dids::{DIDResolver, DID};
use utoipa::ToSchema;

use super::extract::{JsonBody, QueryParams};
use crate::auth::{Principal, Scope};
use crate::error::ApiError;
use crate::state::AppState;
use certus_credential::did::certus::{self, DidState, Service};
use certus_credential::ids::Did;

/// `POST /dids` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateDid {
    /// Service endpoints to publish (public data only).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub services: Vec<Service>,
}

/// `POST /dids/{did}/keys/{key}/compromise` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Compromise {
    /// From when the key is distrusted (RFC 3339); credentials anchored from then on fail.
    pub since: String,
}

/// A `did:certus` DID after a change: its current document and metadata.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DidResponse {
    pub did: String,
    /// The key credentials are signed with now, when the DID has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_method: Option<String>,
    #[schema(value_type = Object)]
    pub did_document: Value,
    #[schema(value_type = Object)]
    pub did_document_metadata: Value,
}

fn response(state: &AppState, principal: &Principal, did: DidState) -> DidResponse {
    DidResponse {
        verification_method: state
            .issuer
            .keys()
            .key_for_issuer(&principal.tenant_id, &did.did)
            .map(|k| k.verification_method.clone()),
        did_document: did.document(false),
        did_document_metadata: did.metadata(),
        did: did.did,
    }
}

/// A `did:certus` DID named in a path, parsed.
fn certus_did(did: &str) -> Result<Did, ApiError> {
    match Did::parse(did) {
        Ok(parsed) if certus::is_certus(&parsed) => Ok(parsed),
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "DID_NOT_FOUND",
            format!("`{did}` is not a did:certus DID"),
        )),
    }
}

/// Creates a `did:certus` DID for this tenant with a new Ed25519 key; name it as `issuer`
/// to issue under it. The create operation is anchored in the next block.
#[utoipa::path(post, path = "/dids", tag = "dids", security(("bearer" = [])),
    request_body = CreateDid,
    responses(
        (status = 201, body = DidResponse),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(request): JsonBody<CreateDid>,
) -> Result<(StatusCode, Json<DidResponse>), ApiError> {
    principal.require(Scope::Issue)?;
    let did = state
        .dids
        .create(&principal.tenant_id, request.services, state.clock.now())
        .await?;
    tracing::info!(did = %did.did, "created a did:certus DID");
    Ok((StatusCode::CREATED, Json(response(&state, &principal, did))))
}

/// `POST /dids/{did}/keys` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddKey {
    /// Remove the key signing now once the new one is added: a rotation (the default).
    /// `false` adds a standby key.
    #[serde(default = "rotate_by_default")]
    pub retire: bool,
}

fn rotate_by_default() -> bool {
    true
}

/// Adds a key to the DID, by default rotating: the new key is added and the current one
/// removed. Credentials anchored before the rotation keep verifying.
#[utoipa::path(post, path = "/dids/{did}/keys", tag = "dids", security(("bearer" = [])),
    params(("did" = String, Path, description = "A did:certus DID of this tenant")),
    request_body = AddKey,
    responses(
        (status = 200, body = DidResponse),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Deactivated, or no current key here", body = ErrorBody),
    ))]
pub async fn rotate(
    State(state): State<AppState>,
    principal: Principal,
    Path(did): Path<String>,
    JsonBody(request): JsonBody<AddKey>,
) -> Result<Json<DidResponse>, ApiError> {
    principal.require(Scope::Issue)?;
    let did = state
        .dids
        .add_key(
            &principal.tenant_id,
            &certus_did(&did)?,
            request.retire,
            state.clock.now(),
        )
        .await?;
    Ok(Json(response(&state, &principal, did)))
}

/// Marks a key compromised since a time: credentials anchored from then on fail the
/// issuer check; earlier ones still verify. This node forgets the private key.
#[utoipa::path(post, path = "/dids/{did}/keys/{key}/compromise", tag = "dids", security(("bearer" = [])),
    params(
        ("did" = String, Path, description = "A did:certus DID of this tenant"),
        ("key" = String, Path, description = "The key's fragment, e.g. `key-1`"),
    ),
    request_body = Compromise,
    responses(
        (status = 200, body = DidResponse),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn compromise(
    State(state): State<AppState>,
    principal: Principal,
    Path((did, key)): Path<(String, String)>,
    JsonBody(request): JsonBody<Compromise>,
) -> Result<Json<DidResponse>, ApiError> {
    principal.require(Scope::Issue)?;
    let since = DateTime::parse_from_rfc3339(&request.since)
        .map_err(|_| {
            ApiError::unprocessable("INVALID_DATE", "since must be an RFC 3339 date-time")
                .at("/since")
        })?
        .with_timezone(&Utc);
    let did = state
        .dids
        .compromise(
            &principal.tenant_id,
            &certus_did(&did)?,
            &key,
            since,
            state.clock.now(),
        )
        .await?;
    tracing::warn!(did = %did.did, key = %key, %since, "key reported compromised");
    Ok(Json(response(&state, &principal, did)))
}

/// Deactivates the DID for good.
#[utoipa::path(post, path = "/dids/{did}/deactivate", tag = "dids", security(("bearer" = [])),
    params(("did" = String, Path, description = "A did:certus DID of this tenant")),
    responses(
        (status = 200, body = DidResponse),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
    ))]
pub async fn deactivate(
    State(state): State<AppState>,
    principal: Principal,
    Path(did): Path<String>,
) -> Result<Json<DidResponse>, ApiError> {
    principal.require(Scope::Issue)?;
    let did = state
        .dids
        .deactivate(&principal.tenant_id, &certus_did(&did)?, state.clock.now())
        .await?;
    Ok(Json(response(&state, &principal, did)))
}

/// `GET /1.0/identifiers/{did}` options.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ResolveQuery {
    /// Resolve the DID as it was at this time (RFC 3339; `did:certus` only).
    pub version_time: Option<String>,
}

/// A DID resolution result (W3C DID Resolution).
fn resolution(status: StatusCode, document: Value, resolution: Value, metadata: Value) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            "application/ld+json;profile=\"https://w3id.org/did-resolution\"",
        )],
        Json(json!({
            "@context": "https://w3id.org/did-resolution/v1",
            "didDocument": document,
            "didResolutionMetadata": resolution,
            "didDocumentMetadata": metadata,
        })),
    )
        .into_response()
}

fn resolution_error(status: StatusCode, error: &str, message: String) -> Response {
    resolution(
        status,
        Value::Null,
        json!({"error": error, "errorMessage": message}),
        json!({}),
    )
}

/// Resolves a DID (W3C DID Resolution): `did:certus` from this node's chain — at
/// `versionTime` if given — and `did:key`, `did:jwk` (and `did:web` when enabled).
#[utoipa::path(get, path = "/1.0/identifiers/{did}", tag = "dids",
    params(("did" = String, Path, description = "The DID"), ResolveQuery),
    responses(
        (status = 200, description = "A DID resolution result", content_type = "application/ld+json"),
        (status = 400, description = "invalidDid"),
        (status = 404, description = "notFound"),
        (status = 501, description = "methodNotSupported"),
    ))]
pub async fn resolve(
    State(state): State<AppState>,
    Path(did): Path<String>,
    QueryParams(query): QueryParams<ResolveQuery>,
) -> Response {
    let version_time = match query
        .version_time
        .as_deref()
        .map(DateTime::parse_from_rfc3339)
    {
        None => None,
        Some(Ok(t)) => Some(t.timestamp_millis()),
        Some(Err(_)) => {
            return resolution_error(
                StatusCode::BAD_REQUEST,
                "invalidOptions",
                "versionTime must be an RFC 3339 date-time".into(),
            )
        }
    };
    let (document, metadata) = if certus::is_certus(&did) {
        match state.dids.resolve(&did, version_time).await {
            Ok(Some(s)) => (s.document(false), s.metadata()),
            Ok(None) => {
                return resolution_error(
                    StatusCode::NOT_FOUND,
                    "notFound",
                    format!("{did} is not on this chain (at that time)"),
                )
            }
            Err(e) => {
                return resolution_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internalError",
                    e.to_string(),
                )
            }
        }
    } else {
        let Ok(parsed) = DID::new(did.as_str()) else {
            return resolution_error(
                StatusCode::BAD_REQUEST,
                "invalidDid",
                format!("`{did}` is not a DID"),
            );
        };
        if version_time.is_some() {
            return resolution_error(
                StatusCode::BAD_REQUEST,
                "invalidOptions",
                "versionTime applies to did:certus only".into(),
            );
        }
        match state.verifier.resolver.resolve(parsed).await {
            Ok(output) => (
                serde_json::to_value(output.document.into_document()).unwrap_or(Value::Null),
                json!({}),
            ),
            Err(ssi::dids::resolution::Error::MethodNotSupported(m)) => {
                return resolution_error(
                    StatusCode::NOT_IMPLEMENTED,
                    "methodNotSupported",
                    format!("did:{m} is not resolved here"),
                )
            }
            Err(e) => return resolution_error(StatusCode::NOT_FOUND, "notFound", e.to_string()),
        }
    };
    resolution(
        StatusCode::OK,
        document,
        json!({"contentType": "application/did+ld+json"}),
        metadata,
    )
}
