//! `POST /credentials/issue` and `POST /credentials/verify` (W3C VC API).

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use certus_schemas::wire::{
    CheckedSchema, ErrorBody, IssueRequest, IssueResponse, Verdict, VerificationResult,
    VerifyCredentialRequest,
};

use super::extract::JsonBody;
use super::policies;
use crate::auth::{Principal, Scope};
use crate::error::ApiError;
use crate::issuance::{with_credential_id, Securing};
use crate::privacy::DataSubject;
use crate::state::AppState;
use crate::verification::{policy, Binding};

/// Issues a credential: checks it against its type's schema (or, where the institution
/// issues openly and it names no registered type, its terms against its contexts), signs
/// it in the requested format with the tenant's key, and records it (identifiers only).
#[utoipa::path(post, path = "/credentials/issue", tag = "credentials", security(("bearer" = [])),
    request_body = IssueRequest,
    responses(
        (status = 201, description = "Issued; `Location` names its record (`GET /credentials/{id}`)", body = IssueResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 403, description = "The API key lacks the issue scope, or a sub-issuer's mandate does not allow the credential", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "The credential cannot be issued as given", body = ErrorBody),
        (status = 409, description = "A credential with this id was already issued (CREDENTIAL_ID_TAKEN), the status index its credentialStatus names is taken (STATUS_INDEX_TAKEN), or the institution has no issuer key (NO_ISSUER_KEY)", body = ErrorBody),
    ))]
pub async fn issue(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(request): JsonBody<IssueRequest>,
) -> Result<(StatusCode, [(HeaderName, String); 1], Json<IssueResponse>), ApiError> {
    principal.require(Scope::Issue)?;
    let credential =
        with_credential_id(request.credential, request.options.credential_id.as_deref())?;
    let issued = state
        .issuer
        .issue_recorded(
            &principal.tenant_id,
            &principal.actor_id(),
            credential,
            Securing::of(&request.options),
            DataSubject::Given(request.options.data_subject.as_ref()),
            state.clock.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        [(LOCATION, record_path(&issued.credential_id))],
        Json(IssueResponse {
            credential_schema: issued.checked_against.as_deref().map(|t| CheckedSchema {
                type_name: t.name.clone(),
                version: t.version,
                schema_hash: t.schema_hash.to_hex(),
            }),
            schema_checked: issued.checked_against.is_some(),
            verifiable_credential: issued.secured,
        }),
    ))
}

/// `/credentials/{id}`, the record of an issued credential, with the id percent-encoded
/// but for the characters a path segment keeps as they are.
pub fn record_path(id: &str) -> String {
    format!("/credentials/{}", crate::uri::percent_encode(id, b":@"))
}

/// Verifies a credential in any format Certus speaks, reporting every check; with a
/// policy (`options.policy`, or a stored one named by `options.policyId`), also whether
/// the credential meets it (the `policy` check).
#[utoipa::path(post, path = "/credentials/verify", tag = "credentials",
    request_body = VerifyCredentialRequest,
    responses(
        (status = 200, description = "Verified", body = VerificationResult),
        (status = 400, description = "Not verified: a check failed, or the input is not a credential", body = VerificationResult),
        (status = 422, description = "Not verified: no check failed but one could not be carried out", body = VerificationResult),
        (status = 429, description = "Rate limited", body = ErrorBody),
    ))]
pub async fn verify(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<VerifyCredentialRequest>,
) -> Result<Response, ApiError> {
    let policy = policies::requested(&state, &request.options).await?;
    let now = state.clock.now();
    let mut result = state
        .verifier
        .verify_credential(
            &request.verifiable_credential,
            Binding::from(&request.options),
            now,
        )
        .await
        .map_err(|e| {
            ApiError::bad_request("MALFORMED_CREDENTIAL", e.to_string()).at("/verifiableCredential")
        })?;
    if let Some((policy, id)) = policy {
        policy::apply_to_credential(&mut result, &policy, id.as_deref(), now);
    }
    Ok(verification_response(result))
}

/// 200 when verified, 400 when a check failed, 422 when one could not be carried out.
pub fn verification_response(result: VerificationResult) -> Response {
    let status = match result.verdict {
        Verdict::Valid => StatusCode::OK,
        Verdict::Invalid => StatusCode::BAD_REQUEST,
        Verdict::Indeterminate => StatusCode::UNPROCESSABLE_ENTITY,
    };
    (status, Json(result)).into_response()
}
