//! OpenID for Verifiable Credentials. The issuer side of OpenID4VCI 1.0 (offers redeemed
//! through the pre-authorized code flow or the authorization code flow with PAR and PKCE;
//! token, nonce and credential endpoints, with a JWT proof of possession and DPoP) and the verifier side of OpenID4VP 1.0 (signed request objects with a DCQL
//! query, `direct_post` answers, encrypted to the request by `direct_post.jwt` when it asks, consent and verification receipts).
//!
//! Errors of the protocol endpoints are OAuth errors (RFC 6749 §5.2), as wallets expect.

pub mod authorization;
pub mod certificates;
pub mod client_attestation;
pub mod dpop;
pub mod encryption;
pub mod issuer;
pub mod metadata;
pub mod nonces;
pub mod offers;
pub mod proof;
pub mod providers;
pub mod qr;
pub mod receipts;
pub mod verifier;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::issuance::Issuer;
use crate::keys::{Custody, KeyStore, MasterKey};
use crate::kyc::Kyc;
use crate::privacy::Vault;
use crate::verification::Verifier;
use certus_credential::catalog::Catalog;

/// The OpenID service: offers and their redemption by wallets (through the issuer), and
/// presentation requests answered by wallets (through the verifier, with KYC reliance).
#[derive(Clone)]
pub struct OpenId {
    db: DatabaseConnection,
    /// The credential issuer identifier, and the base of offer and request URLs.
    public_url: Arc<str>,
    catalog: Arc<Catalog>,
    /// The verifier's keys, which sign request objects and receipts.
    keys: Arc<KeyStore>,
    /// Makes and opens the keys of verifier certificates.
    custody: Custody,
    /// Seals presentation outcomes at rest.
    master: Arc<MasterKey>,
    /// Seals offers under their data subject's key.
    vault: Arc<Vault>,
    issuer: Issuer,
    verifier: Verifier,
    kyc: Kyc,
    nonces: nonces::Nonces,
    /// Opens credential requests encrypted to the issuer.
    request_key: Arc<encryption::IssuerRequestKey>,
}

impl std::fmt::Debug for OpenId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenId")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

/// What the OpenID service is built from.
#[derive(Debug)]
pub struct Parts {
    pub db: DatabaseConnection,
    pub public_url: Arc<str>,
    pub keys: Arc<KeyStore>,
    pub custody: Custody,
    pub master: Arc<MasterKey>,
    pub vault: Arc<Vault>,
    pub issuer: Issuer,
    pub verifier: Verifier,
    pub kyc: Kyc,
}

impl OpenId {
    pub fn new(parts: Parts) -> Self {
        Self {
            catalog: parts.issuer.catalog().clone(),
            nonces: nonces::Nonces::new(&parts.master),
            request_key: Arc::new(
                encryption::IssuerRequestKey::derive(&parts.master)
                    .expect("P-256 arithmetic on a key derived from the master key does not fail"),
            ),
            db: parts.db,
            public_url: parts.public_url,
            keys: parts.keys,
            custody: parts.custody,
            master: parts.master,
            vault: parts.vault,
            issuer: parts.issuer,
            verifier: parts.verifier,
            kyc: parts.kyc,
        }
    }

    /// The credential issuer identifier.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// A fresh `c_nonce` (nothing is written).
    pub fn nonce(&self, now: chrono::DateTime<chrono::Utc>) -> String {
        self.nonces.issue(now)
    }

    /// The credential types offered.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The credential issuer metadata, unsigned: every configuration's proofs ask for key
    /// attestations as the node's own institution does.
    pub async fn issuer_metadata(&self) -> Result<serde_json::Value, sea_orm::DbErr> {
        let mut metadata =
            metadata::credential_issuer(&self.public_url, &self.catalog, self.request_key.public());
        let settings = self
            .issuer
            .settings()
            .of(crate::keys::DEFAULT_TENANT)
            .await?;
        metadata::key_attestations(
            &mut metadata,
            settings.wallet_providers.is_some(),
            settings.require_key_attestation,
        );
        Ok(metadata)
    }

    /// The key credential requests are encrypted to.
    pub fn request_key(&self) -> &encryption::IssuerRequestKey {
        &self.request_key
    }

    /// The credential issuer metadata signed by the key of the institution that runs this
    /// node (OpenID4VCI 1.0 §12.2.3).
    pub async fn signed_issuer_metadata(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<String> {
        let key = self
            .keys
            .default_key(crate::keys::DEFAULT_TENANT)
            .ok_or_else(|| {
                anyhow::anyhow!("the node's own institution has no key to sign metadata with")
            })?;
        metadata::signed(self.issuer_metadata().await?, &self.public_url, &key, now)
    }
}

/// The OAuth error codes the protocol endpoints answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorKind {
    /// A parameter is missing, repeated or malformed.
    InvalidRequest,
    /// The pre-authorized code (or transaction code), or the authorization code (or its
    /// PKCE verifier, redirect URI or client), is wrong, used or expired.
    InvalidGrant,
    /// The grant type is neither the pre-authorized code nor the authorization code.
    UnsupportedGrantType,
    /// A pushed authorization request asks for another response type than `code`.
    UnsupportedResponseType,
    /// A pushed authorization request's `scope` names no credential of the offer.
    InvalidScope,
    /// A pushed authorization request's `authorization_details` names no configuration of
    /// the offer (RFC 9396).
    InvalidAuthorizationDetails,
    /// The `resource` is not this credential issuer (RFC 8707).
    InvalidTarget,
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
    /// A DPoP proof (RFC 9449) is missing, malformed, replayed, or not for this request or
    /// this token's key.
    InvalidDpopProof,
    /// A wallet attestation (or its proof) is missing where the institution requires one,
    /// malformed, by a provider it does not trust, replayed, or for another client (HTTP
    /// 401).
    InvalidClient,
    /// A wallet attestation proof's challenge is not a fresh one of this issuer: a fresh
    /// one comes in the `OAuth-Client-Attestation-Challenge` header.
    UseAttestationChallenge,
    /// The credential cannot be issued as offered.
    CredentialRequestDenied,
    /// A notification names no credential this access token received.
    InvalidNotificationId,
    /// A notification is malformed, or names an event that does not exist.
    InvalidNotificationRequest,
    /// A deferred credential request names no deferred request of its access token, or
    /// one whose credential was already collected.
    InvalidTransactionId,
    /// An encrypted credential request does not open with the issuer's key, or the
    /// encryption asked for the answer cannot be used (or was asked in clear).
    InvalidEncryptionParameters,
    /// Something failed on the server; nothing was issued.
    ServerError,
    /// The body is larger than the server accepts (`invalid_request`, with HTTP 413).
    TooLarge,
}

impl OAuthErrorKind {
    /// The `error` value.
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidRequest | Self::TooLarge => "invalid_request",
            Self::InvalidGrant => "invalid_grant",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidAuthorizationDetails => "invalid_authorization_details",
            Self::InvalidTarget => "invalid_target",
            Self::InvalidToken => "invalid_token",
            Self::InvalidCredentialRequest => "invalid_credential_request",
            Self::UnknownCredentialConfiguration => "unknown_credential_configuration",
            Self::InvalidProof => "invalid_proof",
            Self::InvalidNonce => "invalid_nonce",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::InvalidClient => "invalid_client",
            Self::UseAttestationChallenge => "use_attestation_challenge",
            Self::CredentialRequestDenied => "credential_request_denied",
            Self::InvalidNotificationId => "invalid_notification_id",
            Self::InvalidNotificationRequest => "invalid_notification_request",
            Self::InvalidTransactionId => "invalid_transaction_id",
            Self::InvalidEncryptionParameters => "invalid_encryption_parameters",
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
    /// A fresh attestation challenge to retry with (`use_attestation_challenge`), sent in
    /// the `OAuth-Client-Attestation-Challenge` header.
    pub challenge: Option<String>,
}

impl OAuthError {
    pub fn new(kind: OAuthErrorKind, description: impl Into<String>) -> Self {
        Self {
            kind,
            description: description.into(),
            c_nonce: None,
            challenge: None,
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
