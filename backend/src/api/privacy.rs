//! GDPR: data subjects (find, export, erase), erasure receipts, retention, and the records
//! of processing.

use axum::extract::{Path, State};
use axum::http::header::CONTENT_DISPOSITION;
use axum::http::{HeaderName, StatusCode};
use axum::Json;
use certus_schemas::privacy::{
    DataSubjectInfo, DataSubjectList, DataSubjectSearch, ErasureInfo, ErasureList, ErasureReason,
    RecordsOfProcessing, RetentionReport, RetentionUpdate, SubjectExport, SweepReport,
};
use certus_schemas::wire::ErrorBody;

use super::extract::JsonBody;
use crate::auth::{Principal, Scope};
use crate::error::ApiError;
use crate::privacy::erasure;
use crate::privacy::retention;
use crate::privacy::{export, processing};
use crate::state::AppState;

/// Erasures listed by `GET /erasures`.
const LISTED: u64 = 200;

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "DATA_SUBJECT_NOT_FOUND",
        format!("no data subject `{id}` at this institution"),
    )
}

fn internal(e: anyhow::Error) -> ApiError {
    ApiError::internal(format_args!("{e:#}"))
}

/// Finds data subjects by the institution's reference (given at issuance as
/// `options.dataSubject.reference`) or by a credential issued with their data. A POST, so
/// the reference never appears in a URL or an access log.
#[utoipa::path(post, path = "/data-subjects/search", tag = "privacy", security(("bearer" = [])),
    request_body = DataSubjectSearch,
    responses(
        (status = 200, body = DataSubjectList),
        (status = 403, description = "Lacks the privacy scope", body = ErrorBody),
        (status = 422, description = "Neither reference nor credentialId", body = ErrorBody),
    ))]
pub async fn search(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(request): JsonBody<DataSubjectSearch>,
) -> Result<Json<DataSubjectList>, ApiError> {
    principal.require(Scope::Privacy)?;
    if request.reference.is_none() && request.credential_id.is_none() {
        return Err(ApiError::unprocessable(
            "EMPTY_QUERY",
            "give reference or credentialId",
        ));
    }
    let subjects = export::search(
        &state.privacy,
        &principal.tenant_id,
        request.reference.as_deref(),
        request.credential_id.as_deref(),
    )
    .await
    .map_err(internal)?;
    Ok(Json(DataSubjectList { subjects }))
}

/// A data subject: their records (described, not opened) and credentials.
#[utoipa::path(get, path = "/data-subjects/{id}", tag = "privacy", security(("bearer" = [])),
    params(("id" = String, Path, description = "The data subject's id")),
    responses((status = 200, body = DataSubjectInfo), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<DataSubjectInfo>, ApiError> {
    principal.require(Scope::Privacy)?;
    export::subject(&state.privacy, &principal.tenant_id, &id)
        .await
        .map_err(internal)?
        .map(Json)
        .ok_or_else(|| not_found(&id))
}

/// Everything held about a data subject (GDPR Art. 15 and 20), as a JSON download: each
/// record with its contents while they exist, the credentials issued with them, the
/// erasures, and the processing it serves.
#[utoipa::path(get, path = "/data-subjects/{id}/export", tag = "privacy", security(("bearer" = [])),
    params(("id" = String, Path, description = "The data subject's id")),
    responses((status = 200, body = SubjectExport), (status = 404, body = ErrorBody)))]
pub async fn export_subject(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<([(HeaderName, String); 1], Json<SubjectExport>), ApiError> {
    principal.require(Scope::Privacy)?;
    let bundle = export::export(&state.privacy, &principal, &id, state.clock.now())
        .await
        .map_err(internal)?
        .ok_or_else(|| not_found(&id))?;
    Ok((
        [(
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"data-subject-{id}.json\""),
        )],
        Json(bundle),
    ))
}

/// Erases a data subject (GDPR Art. 17): destroys their key, clears their records and
/// any offer still waiting for them, and anchors a signed receipt. Their credentials'
/// records stay, so revocation and status checks keep working.
#[utoipa::path(post, path = "/data-subjects/{id}/erasure", tag = "privacy", security(("bearer" = [])),
    params(("id" = String, Path, description = "The data subject's id")),
    responses(
        (status = 201, body = ErasureInfo),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Already erased (ALREADY_ERASED)", body = ErrorBody),
    ))]
pub async fn erase(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<ErasureInfo>), ApiError> {
    principal.require(Scope::Privacy)?;
    let info = erasure::erase_subject(
        &state.privacy,
        &principal.tenant_id,
        &id,
        ErasureReason::Request,
        &principal.actor_id(),
        state.clock.now(),
    )
    .await?;
    tracing::info!(data_subject = %id, records = info.records, "erased a data subject");
    Ok((StatusCode::CREATED, Json(info)))
}

/// The institution's erasures with their signed receipts, newest first.
#[utoipa::path(get, path = "/erasures", tag = "privacy", security(("bearer" = [])),
    responses((status = 200, body = ErasureList), (status = 403, body = ErrorBody)))]
pub async fn erasures(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<ErasureList>, ApiError> {
    principal.require(Scope::Read)?;
    let erasures = erasure::list(&state.privacy, &principal.tenant_id, None, LISTED).await?;
    Ok(Json(ErasureList { erasures }))
}

/// Each credential type's retention period at the institution, what it holds and what is
/// due, and the latest retention erasures.
#[utoipa::path(get, path = "/retention", tag = "privacy", security(("bearer" = [])),
    responses((status = 200, body = RetentionReport), (status = 403, body = ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<RetentionReport>, ApiError> {
    principal.require(Scope::Read)?;
    Ok(Json(
        retention::report(&state.privacy, &principal.tenant_id, state.clock.now())
            .await
            .map_err(internal)?,
    ))
}

/// Sets the institution's own retention period for a credential type (`null`: the
/// schema's again). Data already past the new period is erased by the next sweep.
#[utoipa::path(put, path = "/retention/{type}", tag = "privacy", security(("bearer" = [])),
    params(("type" = String, Path, description = "The credential type")),
    request_body = RetentionUpdate,
    responses(
        (status = 200, body = RetentionReport),
        (status = 404, description = "Unknown type", body = ErrorBody),
        (status = 422, description = "Not an ISO 8601 duration", body = ErrorBody),
    ))]
pub async fn set_retention(
    State(state): State<AppState>,
    principal: Principal,
    Path(credential_type): Path<String>,
    JsonBody(update): JsonBody<RetentionUpdate>,
) -> Result<Json<RetentionReport>, ApiError> {
    principal.require(Scope::Privacy)?;
    retention::set(
        &state.privacy,
        &principal,
        &credential_type,
        update.period.as_deref(),
        state.clock.now(),
    )
    .await?;
    report(State(state), principal).await
}

/// Erases now what is past its retention period (a background task also does, every
/// `CERTUS_RETENTION_INTERVAL_SECS`).
#[utoipa::path(post, path = "/retention/sweep", tag = "privacy", security(("bearer" = [])),
    responses((status = 200, body = SweepReport), (status = 403, body = ErrorBody)))]
pub async fn sweep(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<SweepReport>, ApiError> {
    principal.require(Scope::Privacy)?;
    retention::sweep_tenant(&state.privacy, &principal.tenant_id, state.clock.now())
        .await
        .map(Json)
        .map_err(ApiError::from)
}

/// The institution's record of processing activities (GDPR Art. 30), generated from the
/// credential types it may issue and its verification policies.
#[utoipa::path(get, path = "/records-of-processing", tag = "privacy", security(("bearer" = [])),
    responses((status = 200, body = RecordsOfProcessing), (status = 403, body = ErrorBody)))]
pub async fn records_of_processing(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<RecordsOfProcessing>, ApiError> {
    principal.require(Scope::Read)?;
    Ok(Json(
        processing::records_of_processing(&state.privacy, &principal.tenant_id, state.clock.now())
            .await
            .map_err(internal)?,
    ))
}
