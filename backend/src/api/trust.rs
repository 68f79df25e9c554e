//! The trust registry: schema registration and accreditation (root authority), delegation
//! (accredited institutions), revocation, and the public view of a DID's statements.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use certus_schemas::wire::ErrorBody;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{JsonBody, QueryParams};
use crate::auth::{Principal, Scope};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::entities::{schema_registrations, trust_statements};
use crate::trust::Grant;
use certus_credential::time::xsd_millis;

/// `POST /trust/schemas` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterSchema {
    /// A credential type of `GET /credential-types`.
    #[serde(rename = "type")]
    pub credential_type: String,
}

/// A registered schema.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchemaInfo {
    #[serde(rename = "type")]
    pub credential_type: String,
    /// Hex SHA-256 of the published schema file.
    pub hash: String,
}

impl From<schema_registrations::Model> for SchemaInfo {
    fn from(row: schema_registrations::Model) -> Self {
        Self {
            credential_type: row.name,
            hash: row.hash,
        }
    }
}

/// An accreditation or delegation asked for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrantRequest {
    /// For a delegation: the accredited DID of this tenant that grants it.
    #[serde(default)]
    pub grantor: Option<String>,
    /// The DID accredited (or given the mandate).
    pub subject: String,
    pub credential_types: Vec<String>,
    #[serde(default)]
    pub valid_from: Option<String>,
    #[serde(default)]
    pub valid_until: Option<String>,
    /// For a delegation: the most credentials the sub-issuer may issue.
    #[serde(default)]
    pub max_count: Option<u64>,
}

/// A statement of the trust registry.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatementInfo {
    pub id: String,
    /// `accreditation`, `delegation` or `revocation`.
    pub kind: String,
    pub grantor: String,
    pub subject: Option<String>,
    /// Hex schema hashes granted.
    pub schemas: Vec<String>,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub max_count: Option<i64>,
    pub parent: Option<String>,
    pub revoked: bool,
    /// The signed statement (compact JWS) as anchored.
    pub statement: String,
}

impl From<trust_statements::Model> for StatementInfo {
    fn from(row: trust_statements::Model) -> Self {
        Self {
            schemas: serde_json::from_str(&row.schemas).unwrap_or_default(),
            valid_from: xsd_millis(row.valid_from_ms),
            valid_until: row.valid_until_ms.map(xsd_millis),
            revoked: row.revoked_at_ms.is_some(),
            id: row.id,
            kind: row.kind,
            grantor: row.grantor,
            subject: row.subject,
            max_count: row.max_count,
            parent: row.parent,
            statement: row.statement,
        }
    }
}

fn time(value: Option<&str>, path: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    ApiError::unprocessable(
                        "INVALID_DATE",
                        format!("{} must be an RFC 3339 date-time", &path[1..]),
                    )
                    .at(path)
                })
        })
        .transpose()
}

fn grant(request: GrantRequest) -> Result<(Option<String>, Grant), ApiError> {
    Ok((
        request.grantor,
        Grant {
            valid_from: time(request.valid_from.as_deref(), "/validFrom")?,
            valid_until: time(request.valid_until.as_deref(), "/validUntil")?,
            subject: request.subject,
            credential_types: request.credential_types,
            max_count: request.max_count,
        },
    ))
}

/// Registers a credential type's schema on the chain (root authority: `trust` scope).
#[utoipa::path(post, path = "/trust/schemas", tag = "trust", security(("bearer" = [])),
    request_body = RegisterSchema,
    responses(
        (status = 201, body = SchemaInfo),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn register_schema(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(request): JsonBody<RegisterSchema>,
) -> Result<(StatusCode, Json<SchemaInfo>), ApiError> {
    principal.require(Scope::Trust)?;
    let row = state
        .trust
        .register_schema(&request.credential_type, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// The schemas registered on the chain.
#[utoipa::path(get, path = "/trust/schemas", tag = "trust", responses((status = 200, body = [SchemaInfo])))]
pub async fn schemas(State(state): State<AppState>) -> Result<Json<Vec<SchemaInfo>>, ApiError> {
    Ok(Json(
        state
            .trust
            .schemas()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// The root authority accredits an institution to issue credential types (`trust` scope).
#[utoipa::path(post, path = "/trust/accreditations", tag = "trust", security(("bearer" = [])),
    request_body = GrantRequest,
    responses(
        (status = 201, body = StatementInfo),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn accredit(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(request): JsonBody<GrantRequest>,
) -> Result<(StatusCode, Json<StatementInfo>), ApiError> {
    principal.require(Scope::Trust)?;
    let (_, grant) = grant(request)?;
    let row = state.trust.accredit(grant, state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// An accredited institution of this tenant (`grantor`) delegates a bounded mandate to a
/// sub-issuer: types among its own, a window within its own, at most `maxCount`
/// credentials (`issue` scope).
#[utoipa::path(post, path = "/trust/delegations", tag = "trust", security(("bearer" = [])),
    request_body = GrantRequest,
    responses(
        (status = 201, body = StatementInfo),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn delegate(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(request): JsonBody<GrantRequest>,
) -> Result<(StatusCode, Json<StatementInfo>), ApiError> {
    principal.require(Scope::Issue)?;
    let (grantor, grant) = grant(request)?;
    let grantor = grantor.ok_or_else(|| {
        ApiError::unprocessable("INVALID_MANDATE", "a delegation names its grantor DID")
            .at("/grantor")
    })?;
    let row = state
        .trust
        .delegate(&principal.tenant_id, &grantor, grant, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Revokes an accreditation (`trust` scope) or a delegation this tenant granted (`issue`).
#[utoipa::path(post, path = "/trust/statements/{id}/revoke", tag = "trust", security(("bearer" = [])),
    params(("id" = String, Path, description = "The statement's id")),
    responses(
        (status = 200, body = StatementInfo),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ))]
pub async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<StatementInfo>, ApiError> {
    let tenant = if principal.has(Scope::Trust) {
        None
    } else {
        principal.require(Scope::Issue)?;
        Some(principal.tenant_id.as_str())
    };
    let row = state.trust.revoke(&id, tenant, state.clock.now()).await?;
    Ok(Json(row.into()))
}

/// `GET /trust/statements` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementsQuery {
    /// The DID whose accreditations and delegations to list.
    pub subject: String,
}

/// The accreditations and delegations granted to a DID (public).
#[utoipa::path(get, path = "/trust/statements", tag = "trust", params(StatementsQuery),
    responses((status = 200, body = [StatementInfo])))]
pub async fn statements(
    State(state): State<AppState>,
    QueryParams(query): QueryParams<StatementsQuery>,
) -> Result<Json<Vec<StatementInfo>>, ApiError> {
    Ok(Json(
        state
            .trust
            .statements_for(&query.subject)
            .await?
            .iter()
            .cloned()
            .map(Into::into)
            .collect(),
    ))
}
