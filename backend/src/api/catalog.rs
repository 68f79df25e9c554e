//! Credential types (listed, defined, versioned, retired, and their published documents),
//! JSON-LD contexts and the caller's issuer DIDs.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use certus_credential::catalog::CredentialType;
use certus_schemas::privacy::lint_credential_type;
use certus_schemas::types::NewCredentialType;
use certus_schemas::wire::{ContextInfo, CredentialTypeInfo, ErrorBody};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::extract::{JsonBody, QueryParams};
use crate::auth::{Principal, Scope};
use crate::error::ApiError;
use crate::state::AppState;

/// What `GET /credential-types` describes of a type version.
pub fn info(t: &CredentialType) -> CredentialTypeInfo {
    CredentialTypeInfo {
        type_name: t.name.clone(),
        title: t.title.clone(),
        description: t.description.clone(),
        schema_id: t.schema_id.clone(),
        context: t.context.clone(),
        personal_claims: t.personal_claims.clone(),
        accreditation_required: t.accreditation_required,
        retention: t.retention.clone(),
        lint: lint_credential_type(t.claim_names().map(|(n, _, _)| n), &t.personal_claims),
        schema: t.schema.clone(),
        example: t.example.clone(),
        version: t.version,
        vct: t.vct.clone(),
        schema_hash: t.schema_hash.to_hex(),
        context_integrity: t.context_integrity.clone(),
        owner: t.owner.clone(),
        retired: t.retired,
        display: t.display.clone(),
    }
}

/// Which types `GET /credential-types` lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TypeListQuery {
    /// Every version of every type, retired ones too (default: the newest issuable
    /// version of each).
    all: Option<bool>,
}

/// The credential types this server issues — those shipped with Certus and those
/// institutions defined — each with its JSON Schema and a valid example.
#[utoipa::path(get, path = "/credential-types", tag = "catalog", params(TypeListQuery), responses(
    (status = 200, body = [CredentialTypeInfo]),
    (status = 400, body = ErrorBody, description = "INVALID_QUERY"),
))]
pub async fn credential_types(
    State(state): State<AppState>,
    QueryParams(query): QueryParams<TypeListQuery>,
) -> Json<Vec<CredentialTypeInfo>> {
    let catalog = state.types.catalog();
    let types = if query.all == Some(true) {
        catalog.types().iter().cloned().collect()
    } else {
        catalog.current()
    };
    Json(types.iter().map(|t| info(t)).collect())
}

/// Defines a credential type owned by the caller's institution, from a JSON Schema or a
/// list of claims: its context is generated, its schema registered on the chain by hash,
/// and it is issuable at once in every format and offered in the OpenID4VCI metadata.
#[utoipa::path(post, path = "/credential-types", tag = "catalog",
    security(("bearer" = []), ("session" = [])),
    request_body = NewCredentialType,
    responses(
        (status = 201, body = CredentialTypeInfo),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Lacks the types scope"),
        (status = 409, body = ErrorBody, description = "CREDENTIAL_TYPE_EXISTS"),
        (status = 422, body = ErrorBody, description = "INVALID_CREDENTIAL_TYPE, with a pointer"),
    ))]
pub async fn define(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<NewCredentialType>,
) -> Result<(StatusCode, Json<CredentialTypeInfo>), ApiError> {
    principal.require(Scope::Types)?;
    let t = state
        .types
        .define(&principal, body, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(info(&t))))
}

/// Every version of a type, oldest first.
#[utoipa::path(get, path = "/credential-types/{type}", tag = "catalog",
    params(("type" = String, Path, description = "The type's name")),
    responses((status = 200, body = [CredentialTypeInfo]), (status = 404, body = ErrorBody)))]
pub async fn versions(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Vec<CredentialTypeInfo>>, ApiError> {
    let mut versions: Vec<CredentialTypeInfo> = state
        .types
        .catalog()
        .types()
        .iter()
        .filter(|t| t.name == name)
        .map(|t| info(t))
        .collect();
    if versions.is_empty() {
        return Err(unknown(&name));
    }
    versions.sort_by_key(|t| t.version);
    Ok(Json(versions))
}

/// Adds a version to one of the caller's institution's types. Credentials issued under
/// earlier versions keep theirs; new issuance uses the newest.
#[utoipa::path(post, path = "/credential-types/{type}/versions", tag = "catalog",
    security(("bearer" = []), ("session" = [])),
    params(("type" = String, Path, description = "The type's name")),
    request_body = NewCredentialType,
    responses(
        (status = 201, body = CredentialTypeInfo),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Lacks the types scope, or NOT_TYPE_OWNER"),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn add_version(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<NewCredentialType>,
) -> Result<(StatusCode, Json<CredentialTypeInfo>), ApiError> {
    principal.require(Scope::Types)?;
    let t = state
        .types
        .add_version(&principal, &name, body, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(info(&t))))
}

/// Retires a version of one of the caller's institution's types: it can no longer be
/// issued; its credentials still verify.
#[utoipa::path(post, path = "/credential-types/{type}/{version}/retire", tag = "catalog",
    security(("bearer" = []), ("session" = [])),
    params(TypeVersion),
    responses(
        (status = 200, body = CredentialTypeInfo),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Lacks the types scope, or NOT_TYPE_OWNER"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "CREDENTIAL_TYPE_RETIRED"),
    ))]
pub async fn retire(
    State(state): State<AppState>,
    principal: Principal,
    Path(TypeVersion { name, version }): Path<TypeVersion>,
) -> Result<Json<CredentialTypeInfo>, ApiError> {
    principal.require(Scope::Types)?;
    let version = version_number(&name, &version)?;
    let t = state
        .types
        .retire(&principal, &name, version, state.clock.now())
        .await?;
    Ok(Json(info(&t)))
}

/// The SD-JWT VC type metadata of a version: what its `vct` resolves to.
#[utoipa::path(get, path = "/credential-types/{type}/{version}", tag = "catalog",
    params(TypeVersion),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn metadata(
    State(state): State<AppState>,
    Path(TypeVersion { name, version }): Path<TypeVersion>,
) -> Result<Json<Value>, ApiError> {
    let version = version_number(&name, &version)?;
    let t = state
        .types
        .catalog()
        .version(&name, version)
        .ok_or_else(|| unknown(&name))?;
    Ok(Json(t.type_metadata()))
}

/// The JSON Schema of a version, byte for byte as its hash on the chain was taken.
#[utoipa::path(get, path = "/credential-types/{type}/{version}/schema", tag = "catalog",
    params(TypeVersion),
    responses((status = 200, body = Object, content_type = "application/schema+json"), (status = 404, body = ErrorBody)))]
pub async fn schema(
    State(state): State<AppState>,
    Path(TypeVersion { name, version }): Path<TypeVersion>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let version = version_number(&name, &version)?;
    let published = state.types.published(&name, version).await?;
    Ok(document(
        published.schema,
        "application/schema+json",
        &headers,
    ))
}

/// The JSON-LD context of a version, byte for byte as the schema pins it.
#[utoipa::path(get, path = "/credential-types/{type}/{version}/context", tag = "catalog",
    params(TypeVersion),
    responses((status = 200, body = Object, content_type = "application/ld+json"), (status = 404, body = ErrorBody)))]
pub async fn context(
    State(state): State<AppState>,
    Path(TypeVersion { name, version }): Path<TypeVersion>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let version = version_number(&name, &version)?;
    let published = state.types.published(&name, version).await?;
    Ok(document(published.context, "application/ld+json", &headers))
}

/// A published document that never changes: its integrity as the ETag, cached for a day,
/// `304` when the client has it.
fn document(text: String, content_type: &'static str, headers: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", certus_credential::catalog::integrity(&text));
    let cached = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=86400, immutable"),
        ),
        (
            header::ETAG,
            HeaderValue::from_str(&etag).expect("base64 is a valid header value"),
        ),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return (StatusCode::NOT_MODIFIED, cached).into_response();
    }
    (cached, text).into_response()
}

fn unknown(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "UNKNOWN_CREDENTIAL_TYPE",
        format!("no credential type `{name}`; GET /credential-types lists them"),
    )
}

/// A version of a type, in a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TypeVersion {
    /// The type's name.
    #[serde(rename = "type")]
    name: String,
    /// `v` and the version, e.g. `v1`.
    version: String,
}

/// `v2` → 2.
fn version_number(name: &str, version: &str) -> Result<u32, ApiError> {
    version
        .strip_prefix('v')
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|v| *v > 0)
        .ok_or_else(|| unknown(&format!("{name}/{version}")))
}

/// Every JSON-LD context Certus puts in credentials, with its document, so offline
/// verifiers can load them.
#[utoipa::path(get, path = "/contexts", tag = "catalog", responses(
    (status = 200, body = [ContextInfo]),
))]
pub async fn contexts(State(state): State<AppState>) -> Json<Vec<ContextInfo>> {
    Json(
        state
            .issuer
            .contexts()
            .listed()
            .into_iter()
            .map(|(url, document)| ContextInfo { url, document })
            .collect(),
    )
}

/// An issuer DID of the caller's tenant.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssuerInfo {
    pub did: String,
    pub verification_method: String,
    /// `EdDSA` or `ES256`.
    pub algorithm: String,
    /// Used when a credential names no issuer.
    pub default: bool,
}

/// The caller's issuer DIDs; put one in `issuer` to sign with that key.
#[utoipa::path(get, path = "/issuers", tag = "catalog", security(("bearer" = [])), responses(
    (status = 200, body = [IssuerInfo]),
    (status = 401, body = certus_schemas::wire::ErrorBody),
))]
pub async fn issuers(State(state): State<AppState>, principal: Principal) -> Json<Vec<IssuerInfo>> {
    Json(
        state
            .issuer
            .keys()
            .tenant_keys(&principal.tenant_id)
            .iter()
            .enumerate()
            .map(|(i, k)| IssuerInfo {
                did: k.did.clone(),
                verification_method: k.verification_method.clone(),
                algorithm: k.algorithm().to_string(),
                default: i == 0,
            })
            .collect(),
    )
}
