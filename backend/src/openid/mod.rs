//! OpenID for Verifiable Credentials. The issuer side of OpenID4VCI 1.0 (pre-authorized
//! code flow: offers, token, nonce and credential endpoints, with a JWT proof of
//! possession) and the verifier side of OpenID4VP 1.0 (signed request objects with a DCQL
//! query, `direct_post` answers, consent and verification receipts).
//!
//! Errors of the protocol endpoints are OAuth errors (RFC 6749 §5.2), as wallets expect.

pub mod issuer;
pub mod metadata;
pub mod nonces;
pub mod offers;
pub mod proof;
pub mod qr;
pub mod receipts;
pub mod verifier;

/// The OAuth error codes the protocol endpoints answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorKind {
    /// A parameter is missing, repeated or malformed.
    InvalidRequest,
    /// The pre-authorized code (or transaction code) is wrong, used or expired.
    InvalidGrant,
    /// Only the pre-authorized code grant is offered.
    UnsupportedGrantType,
    /// The access token is missing, unknown, expired or used.
    InvalidToken,
    /// The credential request is malformed.
    InvalidCredentialRequest,
    /// The requested credential configuration is not the one offered.
    UnknownCredentialConfiguration,
    /// The proof of possession is missing or wrong.
    InvalidProof,
    /// The proof's nonce is not a fresh `c_nonce` of this issuer.
    InvalidNonce,
    /// The credential cannot be issued as offered.
    CredentialRequestDenied,
    /// Something failed on the server; nothing was issued.
    ServerError,
}

impl OAuthErrorKind {
    /// The `error` value.
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidGrant => "invalid_grant",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidToken => "invalid_token",
            Self::InvalidCredentialRequest => "invalid_credential_request",
            Self::UnknownCredentialConfiguration => "unknown_credential_configuration",
            Self::InvalidProof => "invalid_proof",
            Self::InvalidNonce => "invalid_nonce",
            Self::CredentialRequestDenied => "credential_request_denied",
            Self::ServerError => "server_error",
        }
    }
}

/// An OAuth error with a description for people (never personal data, never a secret).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {description}", kind.code())]
pub struct OAuthError {
    pub kind: OAuthErrorKind,
    pub description: String,
    /// A fresh `c_nonce` for the wallet to retry with (proof and nonce errors).
    pub c_nonce: Option<String>,
}

impl OAuthError {
    pub fn new(kind: OAuthErrorKind, description: impl Into<String>) -> Self {
        Self {
            kind,
            description: description.into(),
            c_nonce: None,
        }
    }

    /// A server-side failure; the cause is logged, not returned.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "OpenID4VC endpoint failed");
        Self::new(OAuthErrorKind::ServerError, "internal error")
    }
}

impl From<sea_orm::DbErr> for OAuthError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::internal(e)
    }
}
