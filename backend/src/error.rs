//! The HTTP error policy, in one place.
//!
//! Every error response has a stable machine `code` and a human `message` (see
//! [`certus_schemas::wire::ErrorBody`]). Client errors say what is wrong and, for input,
//! where (`path`, a JSON pointer). Server errors (5xx) are logged with their cause and
//! answered with a generic message: internal details never reach the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use certus_schemas::wire::ErrorBody;

/// An error answered to an HTTP client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    path: Option<String>,
    retry_after: Option<u64>,
}

impl ApiError {
    /// A client error with a status, a stable code and a message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            path: None,
            retry_after: None,
        }
    }

    /// Adds `Retry-After: seconds` (for 429 and 503 answers).
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Points the error at a place in the request body (a JSON pointer).
    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// 400: the request is malformed.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 422: the request is well-formed but cannot be processed as asked.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 500: logs the cause and answers a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "internal error; the server log has the details",
        )
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code.to_owned(),
            message: self.message,
            path: self.path,
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::internal(format_args!("database: {e}"))
    }
}

impl From<crate::ledger::store::StoreError> for ApiError {
    fn from(e: crate::ledger::store::StoreError) -> Self {
        Self::internal(format_args!("chain store: {e}"))
    }
}

impl From<crate::status::StatusError> for ApiError {
    fn from(e: crate::status::StatusError) -> Self {
        use crate::status::StatusError;
        let status = match &e {
            StatusError::NotFound(_) => StatusCode::NOT_FOUND,
            StatusError::NoStatusEntry(_)
            | StatusError::RevocationFinal
            | StatusError::Revoked(_) => StatusCode::CONFLICT,
            StatusError::EmptyQuery | StatusError::InvalidQuery { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            StatusError::Internal(cause) => return Self::internal(format_args!("{cause:#}")),
        };
        let error = Self::new(status, e.code(), e.to_string());
        match e {
            StatusError::InvalidQuery { path, .. } => error.at(path),
            StatusError::EmptyQuery => error.at("/query"),
            _ => error,
        }
    }
}

impl From<crate::did::registry::RegistryError> for ApiError {
    fn from(e: crate::did::registry::RegistryError) -> Self {
        use crate::did::registry::RegistryError;
        let status = match &e {
            RegistryError::NotFound(_) => StatusCode::NOT_FOUND,
            RegistryError::NotOwned(_) => StatusCode::FORBIDDEN,
            RegistryError::NoKey(_) | RegistryError::Did(_) => StatusCode::CONFLICT,
            RegistryError::Internal(cause) => {
                return Self::internal(format_args!("DID registry: {cause:#}"))
            }
        };
        Self::new(status, e.code(), e.to_string())
    }
}

impl From<crate::trust::TrustError> for ApiError {
    fn from(e: crate::trust::TrustError) -> Self {
        use crate::trust::TrustError;
        let status = match &e {
            TrustError::UnknownType(_) | TrustError::BadMandate(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            TrustError::NotFound(_) => StatusCode::NOT_FOUND,
            TrustError::NotGrantor | TrustError::NotRoot => StatusCode::FORBIDDEN,
            TrustError::SchemaNotRegistered(_)
            | TrustError::AlreadyRegistered(_)
            | TrustError::GrantorNotAccredited(_)
            | TrustError::AlreadyRevoked
            | TrustError::NoKey(_) => StatusCode::CONFLICT,
            TrustError::NotInMandate(_)
            | TrustError::NotAccredited(_)
            | TrustError::MandateExpired { .. }
            | TrustError::MandateExhausted(_) => StatusCode::FORBIDDEN,
            TrustError::Internal(cause) => {
                return Self::internal(format_args!("trust registry: {cause:#}"))
            }
        };
        Self::new(status, e.code(), e.to_string())
    }
}

impl From<crate::auth::accounts::AccountError> for ApiError {
    fn from(e: crate::auth::accounts::AccountError) -> Self {
        use crate::auth::accounts::AccountError;
        let (status, path) = match &e {
            AccountError::InvalidEmail(_) => (StatusCode::UNPROCESSABLE_ENTITY, Some("/email")),
            AccountError::InvalidName => (StatusCode::UNPROCESSABLE_ENTITY, Some("/name")),
            AccountError::WeakPassword(_) => (StatusCode::UNPROCESSABLE_ENTITY, None),
            AccountError::EmailTaken => (StatusCode::CONFLICT, Some("/email")),
            AccountError::NotFound(_) => (StatusCode::NOT_FOUND, None),
            AccountError::SelfLockout => (StatusCode::FORBIDDEN, None),
            AccountError::Internal(cause) => {
                return Self::internal(format_args!("accounts: {cause:#}"))
            }
        };
        let error = Self::new(status, e.code(), e.to_string());
        match path {
            Some(path) => error.at(path),
            None => error,
        }
    }
}
