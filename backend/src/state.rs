//! The state every request handler shares: the services, one per domain, each built with
//! exactly what it needs (see `build_state`). No handler reaches the database but through
//! a service.

use std::sync::Arc;

use crate::api::rate_limit::RateLimiter;
use crate::auth::Accounts;
use crate::consensus::Consortium;
use crate::did::registry::DidRegistry;
use crate::issuance::Issuer;
use crate::issued::Records;
use crate::kyc::Kyc;
use crate::ledger::store::Ledger;
use crate::openid::OpenId;
use crate::privacy::Privacy;
use crate::settings::Settings;
use crate::status::StatusLists;
use crate::trust::TrustRegistry;
use crate::types::CredentialTypes;
use crate::verification::policies::Policies;
use crate::verification::Verifier;
use certus_credential::time::Clock;

/// Shared application state; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Checks, secures and records credentials.
    pub issuer: Issuer,
    /// Verifies credentials and presentations.
    pub verifier: Verifier,
    /// Credential status lists: allocation, changes and publication.
    pub status: Arc<StatusLists>,
    /// The chain: blocks, receipts, checkpoints.
    pub ledger: Arc<Ledger>,
    /// On a consortium's chain: its members as this node sees them.
    pub consortium: Option<Consortium>,
    /// This node's `did:certus` DIDs.
    pub dids: Arc<DidRegistry>,
    /// The trust registry: schemas, accreditations, delegations.
    pub trust: Arc<TrustRegistry>,
    /// The personal-data vault, erasure, export, retention.
    pub privacy: Privacy,
    /// KYC reliance: the register, status watches, webhooks.
    pub kyc: Kyc,
    /// OpenID4VCI offers and OpenID4VP requests.
    pub openid: OpenId,
    /// Credential types: defined, versioned, retired.
    pub types: Arc<CredentialTypes>,
    /// What each institution allows beyond the server profile's defaults.
    pub settings: Arc<Settings>,
    /// People, sessions and API keys.
    pub accounts: Accounts,
    /// What each institution issued, for its portal.
    pub records: Records,
    /// Stored verification policies.
    pub policies: Policies,
    /// Limits anonymous verification.
    pub verify_limiter: Arc<RateLimiter>,
    /// Where every "now" of a request comes from (tests move it).
    pub clock: Arc<dyn Clock>,
}
