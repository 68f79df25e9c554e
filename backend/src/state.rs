//! The state every request handler shares.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::api::rate_limit::RateLimiter;
use crate::auth::throttle::SignInThrottle;
use crate::did::registry::DidRegistry;
use crate::issuance::record::Recorder;
use crate::keys::{KeyStore, MasterKey};
use crate::ledger::store::Ledger;
use crate::privacy::Vault;
use crate::status::StatusLists;
use crate::trust::TrustRegistry;
use crate::verification::Verifier;
use certus_credential::catalog::Catalog;
use certus_credential::contexts::Contexts;
use certus_credential::time::Clock;

/// Shared application state; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub keys: Arc<KeyStore>,
    pub ledger: Arc<Ledger>,
    /// Records issuances with group commit.
    pub recorder: Recorder,
    /// This node's `did:certus` DIDs.
    pub dids: Arc<DidRegistry>,
    /// The trust registry: schemas, accreditations, delegations.
    pub trust: Arc<TrustRegistry>,
    /// Credential status lists: allocation, changes and publication.
    pub status: Arc<StatusLists>,
    pub catalog: Arc<Catalog>,
    pub contexts: Arc<Contexts>,
    pub verifier: Verifier,
    pub verify_limiter: Arc<RateLimiter>,
    /// Failed sign-ins per account and client address.
    pub sign_in_throttle: Arc<SignInThrottle>,
    /// Session cookies carry `Secure`: the public URL is https.
    pub secure_cookies: bool,
    /// Base URL others reach this server at, without a trailing slash: the credential
    /// issuer identifier, and the base of status-list, offer and request URLs.
    pub public_url: Arc<str>,
    /// Encrypts what waits at rest: presentation outcomes.
    pub master: Arc<MasterKey>,
    /// The personal-data vault: keys per tenant and per data subject.
    pub vault: Arc<Vault>,
    /// Where every "now" of a request comes from (tests move it).
    pub clock: Arc<dyn Clock>,
}
