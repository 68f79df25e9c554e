//! Status entries a client names in an unsecured credential's `credentialStatus`
//! (decision 18): honoured when they point at an index of one of the issuer's own pairs
//! of lists that no other credential holds, refused otherwise. Certus always gives a
//! credential both entries of its pair, so naming one names both.

use certus_schemas::wire::StatusPurpose;
use sea_orm::EntityTrait;
use serde_json::Value;

use super::list::LIST_ENTRIES;
use super::{Allocation, StatusLists};
use crate::keys::IssuerKey;
use crate::ledger::transaction::ListId;
use crate::store::entities::status_lists;

/// The longest `statusListCredential` read (and echoed in an error).
const MAX_URL_BYTES: usize = 2048;

/// Members a requested entry may have: those of Certus's own entries.
const ENTRY_MEMBERS: &[&str] = &[
    "id",
    "type",
    "statusPurpose",
    "statusListIndex",
    "statusListCredential",
    "statusSize",
];

/// What a credential's `credentialStatus` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Requested {
    /// Entries Certus chooses (no `credentialStatus`, or entries naming only a purpose).
    #[default]
    Any,
    /// These indexes of these lists (`statusListCredential`, purpose, index).
    Entries(Vec<(String, StatusPurpose, usize)>),
}

/// Why requested status entries are refused.
#[derive(Debug, thiserror::Error)]
pub enum RequestedError {
    /// Not a `BitstringStatusListEntry` Certus can honour.
    #[error("{0}")]
    Unsupported(String),
    /// A list that is not one of the issuer's on this node.
    #[error(
        "`{0}` is not a status list of this credential's issuer on this node: Certus \
         publishes the status of its credentials on its own lists (leave credentialStatus \
         out, and the credential gets entries of its own)"
    )]
    Foreign(String),
    /// The index is another credential's.
    #[error("index {index} of {url} is already another credential's")]
    Taken { url: String, index: usize },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl RequestedError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unsupported(_) => "UNSUPPORTED_STATUS_ENTRY",
            Self::Foreign(_) => "FOREIGN_STATUS_LIST",
            Self::Taken { .. } => "STATUS_INDEX_TAKEN",
            Self::Internal(_) => "INTERNAL",
        }
    }
}

fn unsupported(message: impl Into<String>) -> RequestedError {
    RequestedError::Unsupported(message.into())
}

impl Requested {
    /// Reads a `credentialStatus` value: one entry or an array of at most one per purpose.
    pub fn parse(value: &Value) -> Result<Self, RequestedError> {
        let entries = match value {
            Value::Array(items) if !items.is_empty() => items.iter().collect(),
            Value::Object(_) => vec![value],
            _ => {
                return Err(unsupported(
                    "credentialStatus must be a status entry or a non-empty array of them",
                ))
            }
        };
        let mut purposes = Vec::new();
        let mut named = Vec::new();
        for entry in entries {
            let Value::Object(entry) = entry else {
                return Err(unsupported("a status entry must be an object"));
            };
            if let Some(other) = entry.keys().find(|k| !ENTRY_MEMBERS.contains(&k.as_str())) {
                return Err(unsupported(match other.len() {
                    ..=64 => format!("status entries of Certus have no `{other}`"),
                    _ => "a status entry has a member Certus's entries do not have".to_owned(),
                }));
            }
            match entry.get("type").and_then(Value::as_str) {
                Some("BitstringStatusListEntry") => {}
                other => {
                    return Err(unsupported(format!(
                        "Certus honours BitstringStatusListEntry entries, not {}",
                        other.map_or("an entry without a type".to_owned(), |t| format!("`{t}`"))
                    )))
                }
            }
            if entry
                .get("statusSize")
                .is_some_and(|s| s != &Value::from(1))
            {
                return Err(unsupported("Certus's status lists have statusSize 1"));
            }
            let purpose = match entry.get("statusPurpose").and_then(Value::as_str) {
                Some("revocation") => StatusPurpose::Revocation,
                Some("suspension") => StatusPurpose::Suspension,
                other => {
                    return Err(unsupported(format!(
                        "statusPurpose must be revocation or suspension, not {}",
                        other.map_or("absent".to_owned(), |p| format!("`{p}`"))
                    )))
                }
            };
            if purposes.contains(&purpose) {
                return Err(unsupported(format!(
                    "two entries with statusPurpose {}",
                    purpose.as_str()
                )));
            }
            purposes.push(purpose);
            match (
                entry.get("statusListCredential"),
                entry.get("statusListIndex"),
            ) {
                (None, None) => {}
                (Some(Value::String(url)), Some(_)) if url.len() > MAX_URL_BYTES => {
                    return Err(unsupported(format!(
                        "statusListCredential is longer than {MAX_URL_BYTES} bytes"
                    )))
                }
                (Some(Value::String(url)), Some(Value::String(index))) => {
                    let index = index
                        .parse::<usize>()
                        .ok()
                        .filter(|i| *i < LIST_ENTRIES && index.bytes().all(|b| b.is_ascii_digit()))
                        .ok_or_else(|| {
                            unsupported(format!(
                                "statusListIndex must be a decimal string below {LIST_ENTRIES}"
                            ))
                        })?;
                    named.push((url.clone(), purpose, index));
                }
                _ => {
                    return Err(unsupported(
                        "an entry names both statusListCredential and statusListIndex (as \
                         strings), or neither",
                    ))
                }
            }
        }
        Ok(if named.is_empty() {
            Self::Any
        } else {
            Self::Entries(named)
        })
    }
}

impl StatusLists {
    /// The entries `requested` names for a credential `key` signs, claimed so no other
    /// credential gets them.
    pub async fn claim(
        &self,
        key: &IssuerKey,
        requested: &[(String, StatusPurpose, usize)],
    ) -> Result<Allocation, RequestedError> {
        let mut claimed: Option<Allocation> = None;
        for (url, purpose, index) in requested {
            let foreign = || RequestedError::Foreign(url.clone());
            let list = self.local_list(url).ok_or_else(foreign)?;
            let row = status_lists::Entity::find_by_id(list.to_string())
                .one(&self.db)
                .await
                .map_err(anyhow::Error::from)?
                .filter(|row| row.issuer == key.did)
                .ok_or_else(foreign)?;
            if row.purpose != purpose.as_str() {
                return Err(unsupported(format!(
                    "{url} is a {} list, not a {} list",
                    row.purpose,
                    purpose.as_str()
                )));
            }
            let partner = ListId::parse(&row.partner)
                .ok_or_else(|| anyhow::anyhow!("status list {list} has a malformed partner"))?;
            let (revocation, suspension) = match purpose {
                StatusPurpose::Revocation => (list, partner),
                StatusPurpose::Suspension => (partner, list),
            };
            let this = Allocation {
                revocation,
                suspension,
                index: *index,
            };
            match claimed {
                Some(other) if other != this => {
                    return Err(unsupported(
                        "the entries must name the same index of one pair of lists (a \
                         revocation list and its suspension list)",
                    ))
                }
                _ => claimed = Some(this),
            }
        }
        let allocation = claimed.ok_or_else(|| unsupported("no status entry names a list"))?;
        let taken = || RequestedError::Taken {
            url: self.url(allocation.revocation),
            index: allocation.index,
        };
        let mut allocations = self.allocations.lock().await;
        match allocations
            .open
            .get_mut(&key.did)
            .filter(|pair| pair.revocation == allocation.revocation)
        {
            // A pair this process hands out indexes in: the index is no longer its to give.
            Some(pair) => {
                if pair.taken.get(allocation.index) != Some(false) {
                    return Err(taken());
                }
                pair.taken.set(allocation.index, true);
                pair.count += 1;
            }
            // Another pair: free unless a recorded credential holds it (one being issued
            // elsewhere meanwhile loses to the unique index when recorded).
            None => {
                if self.is_taken(&allocation).await? {
                    return Err(taken());
                }
            }
        }
        Ok(allocation)
    }
}
