//! Changing credentials' status — one credential, or every credential a query selects —
//! and publishing one new version of each list that changed, in one database transaction.

use std::collections::BTreeMap;

use certus_schemas::wire::{
    CredentialQuery, PublishedList, StatusChangeResult, StatusPurpose, StatusReason,
};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};

use super::event::{StatusChanged, StatusRef};
use super::{verify, StatusLists};
use crate::error::{DomainError, ErrorKind};
use crate::issued;
use crate::ledger::transaction::ListId;
use crate::store::entities::{issued_credentials, status_lists};
use crate::store::has_type;
use crate::work::Work;

/// Why a status change was refused. Every variant but `Internal` is the client's.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("no credential with id `{0}` was issued by this tenant")]
    NotFound(String),
    #[error("credential `{0}` was issued without status entries, so its status cannot change")]
    NoStatusEntry(String),
    #[error("revocation is final: a revoked credential cannot be reinstated")]
    RevocationFinal,
    #[error("credential `{0}` is revoked; a revoked credential cannot be suspended or reinstated")]
    Revoked(String),
    #[error("the query selects every credential; give at least one criterion")]
    EmptyQuery,
    #[error("{message}")]
    InvalidQuery { message: String, path: String },
    /// The stored list is not its latest signed and anchored version: the store was altered.
    #[error(
        "status list {0} as stored differs from its latest signed and anchored version; \
         nothing was changed (see `certus chain verify`)"
    )]
    Altered(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for StatusError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Internal(e.into())
    }
}

impl DomainError for StatusError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "CREDENTIAL_NOT_FOUND",
            Self::NoStatusEntry(_) => "NO_STATUS_ENTRY",
            Self::RevocationFinal => "REVOCATION_FINAL",
            Self::Revoked(_) => "CREDENTIAL_REVOKED",
            Self::EmptyQuery => "EMPTY_QUERY",
            Self::InvalidQuery { .. } => "INVALID_QUERY",
            Self::Altered(_) => "STATUS_LIST_ALTERED",
            Self::Internal(_) => "INTERNAL",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::NoStatusEntry(_)
            | Self::RevocationFinal
            | Self::Revoked(_)
            | Self::Altered(_) => ErrorKind::Conflict,
            Self::EmptyQuery | Self::InvalidQuery { .. } => ErrorKind::Invalid,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }

    fn pointer(&self) -> Option<String> {
        match self {
            Self::InvalidQuery { path, .. } => Some(path.clone()),
            Self::EmptyQuery => Some("/query".into()),
            _ => None,
        }
    }
}

/// Which of a tenant's credentials a change applies to.
#[derive(Debug, Clone)]
pub enum Selection {
    /// The credential with this `id`.
    One(String),
    /// Every credential matching all the given criteria.
    Query {
        credential_type: Option<String>,
        issued_from: Option<DateTime<Utc>>,
        issued_until: Option<DateTime<Utc>>,
        issued_by: Option<String>,
        ids: Option<Vec<String>>,
    },
}

/// Most credential ids one query may list.
pub const MAX_IDS: usize = 1_000;

impl TryFrom<CredentialQuery> for Selection {
    type Error = StatusError;

    fn try_from(query: CredentialQuery) -> Result<Self, StatusError> {
        let time = |value: Option<String>, name: &str| {
            value
                .map(|v| {
                    DateTime::parse_from_rfc3339(&v)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|_| StatusError::InvalidQuery {
                            message: format!("{name} must be an RFC 3339 date-time"),
                            path: format!("/query/{name}"),
                        })
                })
                .transpose()
        };
        if let Some(t) = &query.credential_type {
            if t.is_empty() || t.contains('"') {
                return Err(StatusError::InvalidQuery {
                    message: "type must be a credential type name".into(),
                    path: "/query/type".into(),
                });
            }
        }
        if let Some(ids) = &query.ids {
            if ids.is_empty() || ids.len() > MAX_IDS {
                return Err(StatusError::InvalidQuery {
                    message: format!("ids must list 1 to {MAX_IDS} credential ids"),
                    path: "/query/ids".into(),
                });
            }
        }
        let selection = Self::Query {
            issued_from: time(query.issued_from, "issuedFrom")?,
            issued_until: time(query.issued_until, "issuedUntil")?,
            credential_type: query.credential_type,
            issued_by: query.issued_by,
            ids: query.ids,
        };
        match &selection {
            Self::Query {
                credential_type: None,
                issued_from: None,
                issued_until: None,
                issued_by: None,
                ids: None,
            } => Err(StatusError::EmptyQuery),
            _ => Ok(selection),
        }
    }
}

impl Selection {
    fn condition(&self, tenant_id: &str) -> Condition {
        use issued_credentials::Column;
        let mut condition = Condition::all().add(Column::TenantId.eq(tenant_id));
        match self {
            Self::One(id) => condition = condition.add(Column::CredentialId.eq(id.as_str())),
            Self::Query {
                credential_type,
                issued_from,
                issued_until,
                issued_by,
                ids,
            } => {
                if let Some(ids) = ids {
                    condition = condition.add(Column::CredentialId.is_in(ids.iter().cloned()));
                }
                if let Some(name) = credential_type {
                    condition = condition.add(has_type(name));
                }
                if let Some(from) = issued_from {
                    condition = condition.add(Column::IssuedAt.gte(*from));
                }
                if let Some(until) = issued_until {
                    condition = condition.add(Column::IssuedAt.lt(*until));
                }
                if let Some(key) = issued_by {
                    condition = condition.add(Column::IssuedBy.eq(key.as_str()));
                }
            }
        }
        condition
    }
}

/// A status change: set (or, with `set: false`, clear) the `purpose` status of the
/// selected credentials, for a public `reason`.
#[derive(Debug, Clone)]
pub struct Change {
    pub selection: Selection,
    pub purpose: StatusPurpose,
    pub set: bool,
    pub reason: StatusReason,
}

impl StatusLists {
    /// Applies `change` to credentials of `tenant_id`, publishing one new version of every
    /// list that changed. Credentials that already have the requested status are left
    /// alone (and counted as matched only).
    pub async fn change(
        &self,
        tenant_id: &str,
        actor: &str,
        change: Change,
        now: DateTime<Utc>,
    ) -> Result<StatusChangeResult, StatusError> {
        use issued_credentials::Column;
        let Change {
            mut selection,
            purpose,
            set,
            reason,
        } = change;
        if purpose == StatusPurpose::Revocation && !set {
            return Err(StatusError::RevocationFinal);
        }
        let _one_at_a_time = self.changes.lock().await;
        // The copies of a batch, held by one wallet, change together: a credential named
        // by id brings its copies. (A query by type, time or issuer selects every copy of
        // a batch alike.)
        if let Selection::Query { ids: Some(ids), .. } = &mut selection {
            for copy in issued::copies(&self.db, tenant_id, ids).await? {
                if !ids.contains(&copy) {
                    ids.push(copy);
                }
            }
        }
        let mut selected = selection.condition(tenant_id);
        if let Selection::One(id) = &selection {
            let record = issued_credentials::Entity::find()
                .filter(selected.clone())
                .one(&self.db)
                .await?
                .ok_or_else(|| StatusError::NotFound(id.clone()))?;
            if record.status_index.is_none() {
                return Err(StatusError::NoStatusEntry(id.clone()));
            }
            if record.revoked_at.is_some() && purpose == StatusPurpose::Suspension {
                return Err(StatusError::Revoked(id.clone()));
            }
            let copies = issued::copies(&self.db, tenant_id, std::slice::from_ref(id)).await?;
            if !copies.is_empty() {
                selected = Condition::all()
                    .add(Column::TenantId.eq(tenant_id))
                    .add(Column::CredentialId.is_in(copies));
            }
        }
        let selected = selected.add(Column::StatusIndex.is_not_null());
        let mut work = Work::begin(&self.db, now).await?;
        // The update comes first so that SQLite takes its write lock before any read.
        let changed =
            issued::set_status(work.conn(), selected.clone(), purpose, set, reason, now).await?;
        let matched = issued_credentials::Entity::find()
            .filter(selected)
            .select_only()
            .column(Column::Id)
            .count(work.conn())
            .await?;

        // Whoever listens (institutions relying on these credentials, when the holder let
        // them) hears of the change in its transaction.
        let entries: Vec<StatusRef> = changed
            .iter()
            .filter_map(|r| {
                let list = match purpose {
                    StatusPurpose::Revocation => &r.revocation_list,
                    StatusPurpose::Suspension => &r.suspension_list,
                };
                Some(StatusRef {
                    url: self.url(ListId::parse(list.as_deref()?)?),
                    index: u64::try_from(r.status_index?).ok()?,
                    purpose,
                })
            })
            .collect();
        let event = StatusChanged {
            entries: &entries,
            set,
            at: now,
        };
        for listener in &self.listeners {
            listener.status_changed(work.conn(), &event).await?;
        }

        let mut by_list: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for record in &changed {
            let list = match purpose {
                StatusPurpose::Revocation => &record.revocation_list,
                StatusPurpose::Suspension => &record.suspension_list,
            };
            if let (Some(list), Some(index)) = (list, record.status_index) {
                by_list
                    .entry(list.clone())
                    .or_default()
                    .push(index as usize);
            }
        }
        let mut published = Vec::with_capacity(by_list.len());
        for (list, indexes) in by_list {
            let row = status_lists::Entity::find_by_id(list.clone())
                .lock_exclusive()
                .one(work.conn())
                .await?
                .ok_or_else(|| anyhow::anyhow!("status list {list} is missing"))?;
            let mut bits = verify::checked_bits(work.conn(), &row).await?;
            for index in indexes {
                bits.set(index, set);
            }
            published.push(self.publish(&mut work, row, bits).await?);
        }
        let action = match (purpose, set) {
            (StatusPurpose::Revocation, _) => "credential.revoke",
            (StatusPurpose::Suspension, true) => "credential.suspend",
            (StatusPurpose::Suspension, false) => "credential.reinstate",
        };
        for record in &changed {
            work.audit(tenant_id, actor, action, &record.credential_id);
        }
        work.commit().await?;

        let published = published
            .into_iter()
            .map(|p| {
                let summary = PublishedList {
                    status_list_credential: self.url(p.list),
                    status_purpose: p.purpose,
                    version: p.version,
                    hash: p.hash.to_hex(),
                    member: None,
                };
                self.remember(p);
                summary
            })
            .collect();
        Ok(StatusChangeResult {
            matched,
            changed: changed.len() as u64,
            published,
        })
    }
}
