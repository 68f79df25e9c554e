//! The institution's verifier certificates (admins): the X.509 identity its presentation
//! requests can name it by (`x509_san_dns`, `x509_hash`).

use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderName, StatusCode};
use axum::Json;
use certus_schemas::openid::{
    VerifierCertificate, VerifierCertificateCreate, VerifierChainInstall,
};
use certus_schemas::wire::ErrorBody;

use super::extract::JsonBody;
use crate::auth::{Principal, Scope};
use crate::error::ApiError;
use crate::openid::certificates;
use crate::state::AppState;

/// Makes a P-256 key for a verifier certificate, kept like the institution's other keys
/// (sealed, or in the PKCS#11 token). `selfSigned`: certified by itself at once, for
/// development. Otherwise the answer's `csr` goes to the institution's CA, and
/// `PUT /verifier/certificates/{id}/chain` installs what it returns. Audited as
/// `verifier.certificate.create`.
#[utoipa::path(post, path = "/verifier/certificates", tag = "openid4vc", security(("session" = [])),
    request_body = VerifierCertificateCreate,
    responses(
        (status = 201, body = VerifierCertificate, description = "The certificate: `pending` with its `csr`, or `active` when self-signed"),
        (status = 403, body = ErrorBody, description = "Not an admin"),
        (status = 422, body = ErrorBody, description = "INVALID_DNS_NAME"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<VerifierCertificateCreate>,
) -> Result<
    (
        StatusCode,
        [(HeaderName, String); 1],
        Json<VerifierCertificate>,
    ),
    ApiError,
> {
    principal.require(Scope::Admin)?;
    let made = certificates::create(&state.openid, &principal, body, state.clock.now()).await?;
    Ok((
        StatusCode::CREATED,
        [(LOCATION, format!("/verifier/certificates/{}", made.id))],
        Json(made),
    ))
}

/// The institution's verifier certificates, the newest first.
#[utoipa::path(get, path = "/verifier/certificates", tag = "openid4vc", security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<VerifierCertificate>), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<VerifierCertificate>>, ApiError> {
    principal.require(Scope::Read)?;
    Ok(Json(
        certificates::list(&state.openid, &principal.tenant_id).await?,
    ))
}

/// One verifier certificate: while pending, its `csr`.
#[utoipa::path(get, path = "/verifier/certificates/{id}", tag = "openid4vc", security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = VerifierCertificate), (status = 404, body = ErrorBody, description = "CERTIFICATE_NOT_FOUND")))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<VerifierCertificate>, ApiError> {
    principal.require(Scope::Read)?;
    Ok(Json(
        certificates::view(&state.openid, &principal.tenant_id, &id).await?,
    ))
}

/// Installs the chain the institution's CA returned for a pending certificate: PEM, the
/// key's certificate first. It must certify the key, name the DNS name, be valid now and
/// hold together (each certificate signed by the next, a CA). The installed certificate
/// then signs requests named by X.509. Audited as `verifier.certificate.install`.
#[utoipa::path(put, path = "/verifier/certificates/{id}/chain", tag = "openid4vc", security(("session" = [])),
    params(("id" = String, Path)),
    request_body = VerifierChainInstall,
    responses(
        (status = 200, body = VerifierCertificate, description = "Installed: `active`"),
        (status = 403, body = ErrorBody, description = "Not an admin"),
        (status = 404, body = ErrorBody, description = "CERTIFICATE_NOT_FOUND"),
        (status = 409, body = ErrorBody, description = "CERTIFICATE_INSTALLED"),
        (status = 422, body = ErrorBody, description = "INVALID_CERTIFICATE_CHAIN, CERTIFICATE_KEY_MISMATCH, CERTIFICATE_NAME_MISMATCH"),
    ))]
pub async fn install(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<VerifierChainInstall>,
) -> Result<Json<VerifierCertificate>, ApiError> {
    principal.require(Scope::Admin)?;
    Ok(Json(
        certificates::install(&state.openid, &principal, &id, body, state.clock.now()).await?,
    ))
}
