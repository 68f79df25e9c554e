//! Stored verification policies, and resolving the policy a verify request names.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use certus_schemas::wire::{ErrorBody, StoredPolicy, VerificationPolicy, VerifyOptions};

use super::extract::JsonBody;
use crate::auth::{Principal, Scope};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::entities::verification_policies;
use crate::verification::policy;

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
}

fn invalid_policy(message: String, path: &str) -> ApiError {
    ApiError::unprocessable("INVALID_POLICY", message).at(path)
}

fn parse(row: verification_policies::Model) -> Result<StoredPolicy, ApiError> {
    let policy = serde_json::from_str(&row.document)
        .map_err(|e| ApiError::internal(format_args!("stored policy {}: {e}", row.name)))?;
    Ok(StoredPolicy {
        name: row.name,
        policy,
    })
}

/// The policy a verify request asks for, checked: inline, or stored under `policyId`.
pub async fn requested(
    state: &AppState,
    options: &VerifyOptions,
) -> Result<Option<(VerificationPolicy, Option<String>)>, ApiError> {
    let requested = match (&options.policy, &options.policy_id) {
        (Some(_), Some(_)) => {
            return Err(invalid_policy(
                "give either policy or policyId, not both".into(),
                "/options",
            ))
        }
        (Some(policy), None) => (policy.clone(), None),
        (None, Some(name)) => {
            let row = state.policies.get(name).await?.ok_or_else(|| {
                ApiError::unprocessable(
                    "UNKNOWN_POLICY",
                    format!("no policy is stored under `{name}`"),
                )
                .at("/options/policyId")
            })?;
            (parse(row)?.policy, Some(name.clone()))
        }
        (None, None) => return Ok(None),
    };
    policy::validate(&requested.0)
        .map_err(|(m, field)| invalid_policy(m, &format!("/options/policy/{field}")))?;
    Ok(Some(requested))
}

/// Stores (or replaces) a named policy. A name belongs to the tenant that first stored it.
#[utoipa::path(put, path = "/policies/{name}", tag = "policies", security(("bearer" = [])),
    params(("name" = String, Path, description = "`a-z`, `0-9`, `-`, `_`, `.`; up to 64")),
    request_body = VerificationPolicy,
    responses(
        (status = 200, body = StoredPolicy),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Lacks the verify scope, or the name is another tenant's", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn put(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
    JsonBody(policy): JsonBody<VerificationPolicy>,
) -> Result<Json<StoredPolicy>, ApiError> {
    principal.require(Scope::Verify)?;
    if !valid_name(&name) {
        return Err(invalid_policy(
            "a policy name is 1 to 64 of a-z, 0-9, `-`, `_` and `.`".into(),
            "",
        ));
    }
    policy::validate(&policy).map_err(|(m, field)| invalid_policy(m, &format!("/{field}")))?;
    state
        .policies
        .put(&principal, &name, &policy, state.clock.now())
        .await?;
    Ok(Json(StoredPolicy { name, policy }))
}

/// A stored policy; policies are public, so verifiers can see what a name requires.
#[utoipa::path(get, path = "/policies/{name}", tag = "policies",
    params(("name" = String, Path, description = "The policy's name")),
    responses((status = 200, body = StoredPolicy), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<StoredPolicy>, ApiError> {
    let row = state.policies.get(&name).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "UNKNOWN_POLICY",
            format!("no policy is stored under `{name}`"),
        )
    })?;
    Ok(Json(parse(row)?))
}

/// Every stored policy, by name.
#[utoipa::path(get, path = "/policies", tag = "policies",
    responses((status = 200, body = [StoredPolicy])))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<StoredPolicy>>, ApiError> {
    let rows = state.policies.list().await?;
    Ok(Json(rows.into_iter().map(parse).collect::<Result<_, _>>()?))
}
