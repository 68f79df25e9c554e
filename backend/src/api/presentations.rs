//! `POST /presentations/verify` (W3C VC API).

use axum::extract::State;
use axum::response::Response;
use certus_schemas::wire::{ErrorBody, VerificationResult, VerifyPresentationRequest};

use super::credentials::verification_response;
use super::extract::JsonBody;
use super::policies;
use crate::error::ApiError;
use crate::state::AppState;
use crate::verification::{policy, Binding};

/// Verifies a presentation: the holder's proof, its challenge and domain, and every
/// credential it carries.
#[utoipa::path(post, path = "/presentations/verify", tag = "presentations",
    request_body = VerifyPresentationRequest,
    responses(
        (status = 200, description = "Verified", body = VerificationResult),
        (status = 400, description = "Not verified: a check failed, or the input is not a presentation", body = VerificationResult),
        (status = 422, description = "Not verified: no check failed but one could not be carried out", body = VerificationResult),
        (status = 429, description = "Rate limited", body = ErrorBody),
    ))]
pub async fn verify(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<VerifyPresentationRequest>,
) -> Result<Response, ApiError> {
    let policy = policies::requested(&state, &request.options).await?;
    let now = state.clock.now();
    let mut result = state
        .verifier
        .verify_presentation(
            &request.verifiable_presentation,
            Binding::from(&request.options),
            now,
        )
        .await
        .map_err(|e| {
            ApiError::bad_request("MALFORMED_PRESENTATION", e.to_string())
                .at("/verifiablePresentation")
        })?;
    if let Some((policy, id)) = policy {
        policy::apply_to_presentation(&mut result, &policy, id.as_deref(), now);
    }
    Ok(verification_response(result))
}
