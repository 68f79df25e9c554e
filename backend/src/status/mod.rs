//! Credential status: W3C Bitstring Status List v1.0 lists that say whether a credential is
//! revoked or suspended, published as signed credentials and anchored version by version.
//!
//! Lists come in pairs that share their indexes: every credential gets the same random
//! index in its issuer's open revocation list and open suspension list ([`allocate`]). A
//! status change updates the records and the bits, signs a new version of each list it
//! touched, and queues that version's hash for the next block, all in one database
//! transaction ([`change`]); the served list changes at once and is anchored within one
//! block interval. [`list`] is the bitstring itself.

mod allocate;
mod change;
pub mod event;
pub mod list;
mod publish;
pub mod requested;
mod strangers;
mod token;
pub mod verify;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use certus_schemas::wire::StatusPurpose;

use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{json, Value};

pub use allocate::Allocation;
pub use change::{Change, Selection, StatusError};
pub use publish::Published;
use strangers::Fetched;
pub use strangers::Strangers;
pub use token::STATUS_LIST_JWT;

use crate::keys::KeyStore;
use crate::ledger::transaction::ListId;
use crate::store::entities::{status_list_versions, status_lists};
use crate::store::Reads;
use certus_credential::contexts::Contexts;
use event::StatusListener;

/// How long a cached list is served without asking the database whether another process
/// sharing it published a newer version.
const FRESH_FOR: Duration = Duration::from_secs(1);
/// How long fetching another member's list version may take, connection included.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest list version fetched from another member (a list of 2^17 entries, GZIP'd
/// and base64url-encoded in a signed credential, is about 25 KB when full of entropy).
const MAX_FETCHED: usize = 1 << 20;

/// The other members of this node's consortium, as far as status lists go.
pub trait Members: Send + Sync {
    /// The name of the member under whose node's public URL `url` is, if any.
    fn serving(&self, url: &str) -> Option<String>;
}

/// The status lists of this node: allocation, changes, publication and the served cache.
pub struct StatusLists {
    db: DatabaseConnection,
    /// Where served and checked lists are read (a read replica, when configured).
    reads: Reads,
    keys: Arc<KeyStore>,
    contexts: Arc<Contexts>,
    /// The public base URL lists are served under, without a trailing slash.
    base_url: String,
    /// The indexes taken in the pairs this process hands out indexes in.
    allocations: tokio::sync::Mutex<allocate::Allocations>,
    /// This process, as the holder of its leases on pairs of lists (random per start).
    holder: String,
    /// How long a lease lasts from its last renewal.
    lease: Duration,
    /// Status changes run one at a time in this process (the database orders them across
    /// processes).
    changes: tokio::sync::Mutex<()>,
    /// The latest version of each list, as served and checked.
    served: RwLock<HashMap<ListId, (Arc<Published>, Instant)>>,
    /// Each list's partner in its pair (which never changes).
    partners: RwLock<HashMap<ListId, ListId>>,
    /// Told of every status change, in its transaction.
    listeners: Vec<Arc<dyn StatusListener>>,
    /// Other members' lists: the newest anchored version of each read so far.
    members: RwLock<HashMap<ListId, Arc<Published>>>,
    /// Fetches other members' list versions.
    client: reqwest::Client,
    /// The other members, on a consortium's chain: whose nodes lists are fetched from.
    members_at: Option<Arc<dyn Members>>,
    /// Where lists of issuers outside the consortium may be fetched from, when configured.
    strangers: Option<Strangers>,
}

impl std::fmt::Debug for StatusLists {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusLists")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl StatusLists {
    /// The status lists in `db`, served under `base_url`.
    pub fn new(
        db: DatabaseConnection,
        keys: Arc<KeyStore>,
        contexts: Arc<Contexts>,
        base_url: &str,
        listeners: Vec<Arc<dyn StatusListener>>,
    ) -> Self {
        Self {
            reads: Reads::primary(db.clone()),
            db,
            keys,
            contexts,
            base_url: base_url.trim_end_matches('/').to_owned(),
            allocations: Default::default(),
            holder: uuid::Uuid::new_v4().to_string(),
            lease: allocate::LEASE,
            changes: Default::default(),
            served: Default::default(),
            partners: Default::default(),
            listeners,
            members: Default::default(),
            client: reqwest::Client::builder()
                .timeout(FETCH_TIMEOUT)
                .connect_timeout(FETCH_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            members_at: None,
            strangers: None,
        }
    }

    /// On a consortium's chain: the other members, whose lists are read from their nodes.
    pub fn with_members(self, members: Arc<dyn Members>) -> Self {
        Self {
            members_at: Some(members),
            ..self
        }
    }

    /// Leases on pairs of lists last `lease` from their last renewal.
    pub fn with_lease(self, lease: Duration) -> Self {
        Self { lease, ..self }
    }

    /// Served and checked lists are read through `reads` (a read replica, when configured).
    pub fn with_reads(self, reads: Reads) -> Self {
        Self { reads, ..self }
    }

    /// Lists of issuers outside the consortium, fetched from the origins `strangers` allows.
    pub fn with_strangers(self, strangers: Strangers) -> Self {
        Self {
            strangers: Some(strangers),
            ..self
        }
    }

    /// The URL of a list (its `statusListCredential`).
    pub fn url(&self, list: ListId) -> String {
        format!("{}/status/{list}", self.base_url)
    }

    /// The list a URL names, when it is one of this node's.
    pub fn local_list(&self, url: &str) -> Option<ListId> {
        let id = url.strip_prefix(&self.base_url)?.strip_prefix("/status/")?;
        ListId::parse(id)
    }

    /// The list a URL names, when it is not one of this node's (another member's, if a
    /// member serves it).
    pub fn other_list(&self, url: &str) -> Option<ListId> {
        self.local_list(url)
            .is_none()
            .then(|| member_list_id(url))?
    }

    /// The `credentialStatus` entries of an allocation: one per purpose.
    pub fn entries(&self, allocation: &Allocation) -> Value {
        let entry = |list: ListId, purpose: StatusPurpose| {
            let url = self.url(list);
            json!({
                "id": format!("{url}#{}", allocation.index),
                "type": "BitstringStatusListEntry",
                "statusPurpose": purpose.as_str(),
                "statusListIndex": allocation.index.to_string(),
                "statusListCredential": url,
            })
        };
        json!([
            entry(allocation.revocation, StatusPurpose::Revocation),
            entry(allocation.suspension, StatusPurpose::Suspension),
        ])
    }

    /// Whether `list` is one of `tenant_id`'s lists.
    pub async fn owned_by(&self, list: ListId, tenant_id: &str) -> Result<bool, DbErr> {
        Ok(status_lists::Entity::find_by_id(list.to_string())
            .filter(status_lists::Column::TenantId.eq(tenant_id))
            .one(&self.db)
            .await?
            .is_some())
    }

    /// The latest version of `list`, from the cache when it is fresh. Read from a replica,
    /// it may be behind by the replica's lag, but never behind a version this process has
    /// already served or made.
    pub async fn latest(&self, list: ListId) -> Result<Option<Arc<Published>>, DbErr> {
        let cached = self.cached(list);
        if let Some((published, checked)) = &cached {
            if checked.elapsed() < FRESH_FOR {
                return Ok(Some(published.clone()));
            }
        }
        let stored = self
            .reads
            .lagging(
                |db| async move {
                    status_lists::Entity::find_by_id(list.to_string())
                        .select_only()
                        .column(status_lists::Column::Version)
                        .into_tuple::<i64>()
                        .one(&db)
                        .await
                },
                Option::is_some,
            )
            .await?;
        let Some(version) = stored else {
            return Ok(None);
        };
        if let Some((published, _)) = cached.filter(|(p, _)| p.version >= version as u64) {
            self.remember(published.clone());
            return Ok(Some(published));
        }
        let published = self.version(list, version as u64).await?.map(Arc::new);
        if let Some(published) = &published {
            self.remember(published.clone());
        }
        Ok(published)
    }

    /// The cached latest version of `list`, however old: the fast path of status checks,
    /// which [`StatusLists::latest`] keeps fresh.
    pub fn cached(&self, list: ListId) -> Option<(Arc<Published>, Instant)> {
        self.served
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&list)
            .cloned()
    }

    /// Version `version` of `list`, as published.
    pub async fn version(&self, list: ListId, version: u64) -> Result<Option<Published>, DbErr> {
        let row = self
            .reads
            .lagging(
                |db| async move {
                    status_list_versions::Entity::find_by_id((list.to_string(), version as i64))
                        .one(&db)
                        .await
                },
                Option::is_some,
            )
            .await?;
        Ok(row.and_then(|row| Published::from_row(list, row)))
    }

    fn remember(&self, published: Arc<Published>) {
        let mut served = self.served.write().unwrap_or_else(|e| e.into_inner());
        let newer = served
            .get(&published.list)
            .is_none_or(|(p, _)| p.version <= published.version);
        if newer {
            served.insert(published.list, (published, Instant::now()));
        }
    }
}

/// Why a status entry could not be checked against its list.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The list is neither this node's nor another member's anchored on its chain and
    /// served by that member's node, nor under an origin the operator allows.
    #[error("the status list {0} is neither this node's nor another member's anchored on the chain, and its origin is not one this node may fetch lists from (CERTUS_STATUS_LIST_ORIGINS)")]
    NotLocal(String),
    /// Another member's list with no version final on the chain yet (a new list is, within
    /// a block of the first credential that names it).
    #[error("the status list {0} of another member has no version final on the chain yet")]
    NotYetAnchored(String),
    /// Another member's list could not be fetched.
    #[error("the status list version {url} could not be fetched: {why}")]
    Unreachable { url: String, why: String },
    /// What another member served is not the version its chain anchors.
    #[error("the status list version {url} as served is not the one anchored on the chain")]
    NotAnchored { url: String },
    /// A list from an allowed origin outside the consortium whose proof does not hold
    /// (or that is no Bitstring Status List credential).
    #[error("the status list {url} is not one its issuer signed: {why}")]
    Unverified { url: String, why: String },
    /// The URL names a list of this node that does not exist.
    #[error("the status list {0} does not exist")]
    NoSuchList(String),
    #[error("the entry's purpose is {entry}, but the list's is {list}")]
    PurposeMismatch {
        entry: &'static str,
        list: &'static str,
    },
    #[error("the list is signed by {list}, not by the credential's issuer")]
    IssuerMismatch { list: String },
    #[error("index {index} is beyond the list's {len} entries")]
    OutOfRange { index: usize, len: usize },
    #[error("the status store failed: {0}")]
    Store(#[from] DbErr),
}

impl CheckError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotLocal(_) | Self::NotYetAnchored(_) | Self::Unreachable { .. } => {
                "STATUS_LIST_UNAVAILABLE"
            }
            Self::NotAnchored { .. } => "STATUS_LIST_NOT_ANCHORED",
            Self::Unverified { .. } => "STATUS_LIST_UNVERIFIED",
            Self::NoSuchList(_) => "STATUS_LIST_NOT_FOUND",
            Self::PurposeMismatch { .. } => "STATUS_PURPOSE_MISMATCH",
            Self::IssuerMismatch { .. } => "STATUS_ISSUER_MISMATCH",
            Self::OutOfRange { .. } => "STATUS_INDEX_OUT_OF_RANGE",
            Self::Store(_) => "STATUS_UNCHECKABLE",
        }
    }

    /// True when the entry could not be checked, rather than checked and found wrong.
    pub fn is_indeterminate(&self) -> bool {
        matches!(
            self,
            Self::NotLocal(_)
                | Self::NotYetAnchored(_)
                | Self::Unreachable { .. }
                | Self::NotAnchored { .. }
                | Self::Unverified { .. }
                | Self::Store(_)
        )
    }
}

impl StatusLists {
    /// Reads entry `index` of the list at `url` for a credential of `issuer`: whether its
    /// bit is set, and the version read.
    pub async fn check(
        &self,
        url: &str,
        index: usize,
        purpose: StatusPurpose,
        issuer: Option<&str>,
    ) -> Result<(bool, Arc<Published>), CheckError> {
        let published = match self.local_list(url) {
            Some(list) => self
                .latest(list)
                .await?
                .ok_or_else(|| CheckError::NoSuchList(url.to_owned()))?,
            None => match self.member_list(url).await {
                Err(CheckError::NotLocal(_)) if self.stranger_allowed(url) => {
                    self.stranger_list(url).await?
                }
                other => other?,
            },
        };
        if published.purpose != purpose {
            return Err(CheckError::PurposeMismatch {
                entry: purpose.as_str(),
                list: published.purpose.as_str(),
            });
        }
        if issuer != Some(published.issuer.as_str()) {
            return Err(CheckError::IssuerMismatch {
                list: published.issuer.clone(),
            });
        }
        let set = published.bits.get(index).ok_or(CheckError::OutOfRange {
            index,
            len: published.bits.len(),
        })?;
        Ok((set, published))
    }
}

impl StatusLists {
    /// Another member's list at `url`: the newest version the chain anchors, fetched from
    /// `url/versions/N` (where every Certus node serves each version, immutable) and kept
    /// once its bytes hash to the anchored hash. A list the chain does not anchor is a
    /// stranger's, and is not fetched.
    async fn member_list(&self, url: &str) -> Result<Arc<Published>, CheckError> {
        let not_local = || CheckError::NotLocal(url.to_owned());
        let member = self
            .members_at
            .as_ref()
            .and_then(|m| m.serving(url))
            .ok_or_else(not_local)?;
        let list = member_list_id(url).ok_or_else(not_local)?;
        let (version, hash) = crate::ledger::store::newest_list_version(&self.db, list)
            .await?
            .ok_or_else(|| CheckError::NotYetAnchored(url.to_owned()))?;
        let cached = self
            .members
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&list)
            .filter(|p| p.version == version)
            .cloned();
        if let Some(published) = cached {
            return Ok(published);
        }
        let versioned = format!("{url}/versions/{version}");
        let unreachable = |why| CheckError::Unreachable {
            url: versioned.clone(),
            why,
        };
        let bytes = match self.fetch(&versioned, None).await.map_err(unreachable)? {
            Fetched::Body { bytes, .. } => bytes,
            Fetched::NotModified { .. } => {
                return Err(unreachable("304 to an unconditional request".into()))
            }
        };
        let not_anchored = || CheckError::NotAnchored {
            url: versioned.clone(),
        };
        if crate::ledger::transaction::status_list_hash(&bytes) != hash {
            tracing::warn!(
                url = versioned.as_str(),
                "a member served a status list version that is not the one anchored"
            );
            return Err(not_anchored());
        }
        let text = String::from_utf8(bytes).map_err(|_| not_anchored())?;
        let published = Published::parse(list, version, text).ok_or_else(not_anchored)?;
        let published = Arc::new(Published {
            member: Some(member),
            ..published
        });
        self.members
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(list, published.clone());
        Ok(published)
    }

    /// The URL of the suspension list paired with another member's revocation list at
    /// `url`, when the chain anchors it ([`ListId::suspension_partner`]).
    pub async fn member_partner(&self, url: &str) -> Result<Option<String>, DbErr> {
        let Some(list) = member_list_id(url) else {
            return Ok(None);
        };
        if self
            .members_at
            .as_ref()
            .and_then(|m| m.serving(url))
            .is_none()
        {
            return Ok(None);
        }
        let partner = list.suspension_partner();
        let anchored = crate::ledger::store::newest_list_version(&self.db, partner).await?;
        let base = &url[..url.len() - 32];
        Ok(anchored.map(|_| format!("{base}{partner}")))
    }

    /// The body at `url` (at most [`MAX_FETCHED`] bytes), or why not; with `etag`, asked
    /// for only if it changed (`If-None-Match`).
    async fn fetch(&self, url: &str, etag: Option<&str>) -> Result<Fetched, String> {
        let mut request = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(etag) = etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let max_age = header(reqwest::header::CACHE_CONTROL).and_then(|value| {
            value.split(',').find_map(|directive| {
                let seconds = directive.trim().strip_prefix("max-age=")?;
                seconds.parse().ok().map(Duration::from_secs)
            })
        });
        let etag = header(reqwest::header::ETAG);
        if response.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified { max_age });
        }
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status().as_u16()));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| e.without_url().to_string())?
        {
            if bytes.len() + chunk.len() > MAX_FETCHED {
                return Err(format!("larger than {MAX_FETCHED} bytes"));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body {
            bytes,
            etag,
            max_age,
        })
    }
}

/// The list id of a status list URL of another Certus node: `http(s)://…/status/<id>`.
fn member_list_id(url: &str) -> Option<ListId> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    if rest.contains(['?', '#']) {
        return None;
    }
    let (_, id) = rest.rsplit_once("/status/")?;
    ListId::parse(id)
}

#[cfg(test)]
mod tests {
    use super::CheckError;

    #[test]
    fn what_could_not_be_checked_is_indeterminate_never_a_failure() {
        let url = || "https://a.example/status/0123456789abcdef0123456789abcdef".to_owned();
        for error in [
            CheckError::NotLocal(url()),
            CheckError::NotYetAnchored(url()),
            CheckError::Unreachable {
                url: url(),
                why: "HTTP 503".into(),
            },
            CheckError::NotAnchored { url: url() },
        ] {
            assert!(error.is_indeterminate(), "{error}");
        }
        let wrong = CheckError::OutOfRange { index: 9, len: 8 };
        assert!(!wrong.is_indeterminate());
    }
}
