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
pub use token::STATUS_LIST_JWT;

use crate::keys::KeyStore;
use crate::ledger::transaction::ListId;
use crate::store::entities::{status_list_versions, status_lists};
use certus_credential::contexts::Contexts;
use event::StatusListener;

/// How long a cached list is served without asking the database whether another process
/// sharing it published a newer version.
const FRESH_FOR: Duration = Duration::from_secs(1);

/// The status lists of this node: allocation, changes, publication and the served cache.
pub struct StatusLists {
    db: DatabaseConnection,
    keys: Arc<KeyStore>,
    contexts: Arc<Contexts>,
    /// The public base URL lists are served under, without a trailing slash.
    base_url: String,
    /// The indexes taken in the pairs this process hands out indexes in.
    allocations: tokio::sync::Mutex<allocate::Allocations>,
    /// Status changes run one at a time in this process (the database orders them across
    /// processes).
    changes: tokio::sync::Mutex<()>,
    /// The latest version of each list, as served and checked.
    served: RwLock<HashMap<ListId, (Arc<Published>, Instant)>>,
    /// Each list's partner in its pair (which never changes).
    partners: RwLock<HashMap<ListId, ListId>>,
    /// Told of every status change, in its transaction.
    listeners: Vec<Arc<dyn StatusListener>>,
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
            db,
            keys,
            contexts,
            base_url: base_url.trim_end_matches('/').to_owned(),
            allocations: Default::default(),
            changes: Default::default(),
            served: Default::default(),
            partners: Default::default(),
            listeners,
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

    /// The latest version of `list`, from the cache when it is fresh.
    pub async fn latest(&self, list: ListId) -> Result<Option<Arc<Published>>, DbErr> {
        let cached = self.cached(list);
        if let Some((published, checked)) = &cached {
            if checked.elapsed() < FRESH_FOR {
                return Ok(Some(published.clone()));
            }
        }
        let Some(version) = status_lists::Entity::find_by_id(list.to_string())
            .select_only()
            .column(status_lists::Column::Version)
            .into_tuple::<i64>()
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        if let Some((published, _)) = cached.filter(|(p, _)| p.version == version as u64) {
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
        let Some(row) =
            status_list_versions::Entity::find_by_id((list.to_string(), version as i64))
                .one(&self.db)
                .await?
        else {
            return Ok(None);
        };
        Ok(Published::from_row(list, row))
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
    /// The list is not served by this node (lists are never fetched).
    #[error("the status list {0} is not one of this node's, and status lists are never fetched")]
    NotLocal(String),
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
            Self::NotLocal(_) => "STATUS_LIST_UNAVAILABLE",
            Self::NoSuchList(_) => "STATUS_LIST_NOT_FOUND",
            Self::PurposeMismatch { .. } => "STATUS_PURPOSE_MISMATCH",
            Self::IssuerMismatch { .. } => "STATUS_ISSUER_MISMATCH",
            Self::OutOfRange { .. } => "STATUS_INDEX_OUT_OF_RANGE",
            Self::Store(_) => "STATUS_UNCHECKABLE",
        }
    }

    /// True when the entry could not be checked, rather than checked and found wrong.
    pub fn is_indeterminate(&self) -> bool {
        matches!(self, Self::NotLocal(_) | Self::Store(_))
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
        let list = self
            .local_list(url)
            .ok_or_else(|| CheckError::NotLocal(url.to_owned()))?;
        let published = self
            .latest(list)
            .await?
            .ok_or_else(|| CheckError::NoSuchList(url.to_owned()))?;
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
