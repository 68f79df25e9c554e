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

/// What a domain error means to the one who asked; the HTTP status follows from it, here
/// and nowhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The thing asked for does not exist (for this institution): 404.
    NotFound,
    /// The caller may not do this: 403.
    Forbidden,
    /// The state of things forbids it (already done, revoked, taken, missing a key): 409.
    Conflict,
    /// Well-formed but not acceptable input: 422.
    Invalid,
    /// What the answer needs could not be read from where it lives: 502.
    Upstream,
    /// The server failed; logged with its cause, answered without it: 500.
    Internal,
}

/// An error of a domain (issuance, status, trust, DIDs, accounts, privacy) as the API
/// answers it: a stable code, a kind, and for input the JSON pointer of the place at fault.
/// One conversion ([`From`] below) turns any of them into the HTTP error.
pub trait DomainError: std::error::Error {
    /// The stable machine code.
    fn code(&self) -> &'static str;
    /// What kind of failure it is.
    fn kind(&self) -> ErrorKind;
    /// Where in the request the fault is.
    fn pointer(&self) -> Option<String> {
        None
    }
}

impl<E: DomainError> From<E> for ApiError {
    fn from(e: E) -> Self {
        let status = match e.kind() {
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::Upstream => StatusCode::BAD_GATEWAY,
            ErrorKind::Internal => {
                // The whole chain of causes, for the log only.
                let mut cause = e.to_string();
                let mut source = e.source();
                while let Some(next) = source {
                    cause = format!("{cause}: {next}");
                    source = next.source();
                }
                return Self::internal(cause);
            }
        };
        let error = Self::new(status, e.code(), e.to_string());
        match e.pointer() {
            Some(pointer) => error.at(pointer),
            None => error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Example {
        #[error("no such thing `{0}`")]
        Missing(String),
        #[error("the field is wrong")]
        Wrong,
        #[error("disk on fire: secret path /var/x")]
        Broken,
    }

    impl DomainError for Example {
        fn code(&self) -> &'static str {
            match self {
                Self::Missing(_) => "MISSING",
                Self::Wrong => "WRONG",
                Self::Broken => "BROKEN",
            }
        }

        fn kind(&self) -> ErrorKind {
            match self {
                Self::Missing(_) => ErrorKind::NotFound,
                Self::Wrong => ErrorKind::Invalid,
                Self::Broken => ErrorKind::Internal,
            }
        }

        fn pointer(&self) -> Option<String> {
            matches!(self, Self::Wrong).then(|| "/field".into())
        }
    }

    #[test]
    fn a_domain_error_becomes_its_status_code_message_and_pointer_and_internals_stay_hidden() {
        let missing = ApiError::from(Example::Missing("x".into()));
        assert_eq!(
            (missing.status(), missing.code()),
            (StatusCode::NOT_FOUND, "MISSING")
        );
        assert_eq!(missing.message, "no such thing `x`");
        let wrong = ApiError::from(Example::Wrong);
        assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(wrong.path.as_deref(), Some("/field"));
        let broken = ApiError::from(Example::Broken);
        assert_eq!(
            (broken.status(), broken.code()),
            (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL")
        );
        assert!(!broken.message.contains("/var/x"), "{}", broken.message);
    }
}
