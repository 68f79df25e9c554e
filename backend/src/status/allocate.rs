//! Allocating a credential's status entries: a random free index in its issuer's open pair
//! of lists, so an index reveals nothing about when (or how many) credentials were issued.

use certus_schemas::wire::StatusPurpose;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::list::{random_free_index, StatusBits, LIST_ENTRIES};
use super::StatusLists;
use crate::keys::IssuerKey;
use crate::ledger::transaction::ListId;
use crate::store::entities::{issued_credentials, status_lists};
use crate::work::Work;

/// Entries handed out per pair before it is closed and a new pair opened: half the list,
/// so random probing finds a free index at once and a list's fill level says little.
const CLOSE_AT: usize = LIST_ENTRIES / 2;

/// A credential's entries: the same index in a revocation and a suspension list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    pub revocation: ListId,
    pub suspension: ListId,
    pub index: usize,
}

/// The taken indexes of the pairs this process hands out indexes in.
#[derive(Debug, Default)]
pub(super) struct Allocations {
    /// Per issuer DID: its open pair.
    pub open: std::collections::HashMap<String, OpenPair>,
    /// Per revocation list of a closed pair: its taken indexes, once an index of it was
    /// claimed (or it was closed by this process).
    pub closed: std::collections::HashMap<ListId, StatusBits>,
}

/// An issuer's open pair and the indexes taken in it.
#[derive(Debug)]
pub(super) struct OpenPair {
    pub revocation: ListId,
    suspension: ListId,
    pub taken: StatusBits,
    pub count: usize,
}

impl StatusLists {
    /// Allocates status entries for a credential `key` signs. An index handed out to an
    /// issuance that then fails is simply never used.
    pub async fn allocate(
        &self,
        key: &IssuerKey,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Allocation> {
        let mut allocations = self.allocations.lock().await;
        loop {
            let pair = match allocations.open.get_mut(&key.did) {
                Some(pair) => pair,
                None => {
                    let pair = match self.load_open_pair(&key.did).await? {
                        Some(pair) => pair,
                        None => self.open_pair(key, now).await?,
                    };
                    allocations.open.entry(key.did.clone()).or_insert(pair)
                }
            };
            let index = (pair.count < CLOSE_AT)
                .then(|| {
                    random_free_index(&mut rand::thread_rng(), |i| pair.taken.get(i) == Some(true))
                })
                .flatten();
            match index {
                Some(index) => {
                    pair.taken.set(index, true);
                    pair.count += 1;
                    return Ok(Allocation {
                        revocation: pair.revocation,
                        suspension: pair.suspension,
                        index,
                    });
                }
                None => {
                    let full = [pair.revocation.to_string(), pair.suspension.to_string()];
                    status_lists::Entity::update_many()
                        .col_expr(status_lists::Column::Open, false.into())
                        .filter(status_lists::Column::Id.is_in(full))
                        .exec(&self.db)
                        .await?;
                    if let Some(closed) = allocations.open.remove(&key.did) {
                        // Kept: an index claimed in it later must not be one handed out
                        // to an issuance not yet recorded.
                        allocations.closed.insert(closed.revocation, closed.taken);
                    }
                }
            }
        }
    }

    /// The issuer's open pair in the database, with the indexes its credentials took.
    pub(super) async fn load_open_pair(&self, issuer: &str) -> anyhow::Result<Option<OpenPair>> {
        let Some(row) = status_lists::Entity::find()
            .filter(status_lists::Column::Issuer.eq(issuer))
            .filter(status_lists::Column::Open.eq(true))
            .filter(status_lists::Column::Purpose.eq(StatusPurpose::Revocation.as_str()))
            .order_by_desc(status_lists::Column::CreatedAt)
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let (Some(revocation), Some(suspension)) =
            (ListId::parse(&row.id), ListId::parse(&row.partner))
        else {
            anyhow::bail!("status list {} has a malformed id or partner", row.id);
        };
        let (taken, count) = self.taken_in(revocation).await?;
        Ok(Some(OpenPair {
            revocation,
            suspension,
            taken,
            count,
        }))
    }

    /// The indexes of the pair of revocation list `revocation` its recorded credentials
    /// hold, and how many they are.
    pub(super) async fn taken_in(&self, revocation: ListId) -> anyhow::Result<(StatusBits, usize)> {
        let indexes: Vec<Option<i64>> = issued_credentials::Entity::find()
            .filter(issued_credentials::Column::RevocationList.eq(revocation.to_string()))
            .select_only()
            .column(issued_credentials::Column::StatusIndex)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut taken = StatusBits::default();
        for index in indexes.iter().flatten() {
            taken.set(*index as usize, true);
        }
        Ok((taken, indexes.len()))
    }

    /// Creates a pair of lists for `key`'s DID and publishes their empty first versions.
    async fn open_pair(&self, key: &IssuerKey, now: DateTime<Utc>) -> anyhow::Result<OpenPair> {
        let revocation = ListId(rand::random());
        let suspension = revocation.suspension_partner();
        let mut work = Work::begin(&self.db, now).await?;
        let mut published = Vec::new();
        for (list, partner, purpose) in [
            (revocation, suspension, StatusPurpose::Revocation),
            (suspension, revocation, StatusPurpose::Suspension),
        ] {
            let row = status_lists::ActiveModel {
                id: Set(list.to_string()),
                tenant_id: Set(key.tenant_id.clone()),
                issuer: Set(key.did.clone()),
                purpose: Set(purpose.as_str().to_owned()),
                partner: Set(partner.to_string()),
                bits: Set(StatusBits::default().as_bytes().to_vec()),
                version: Set(0),
                open: Set(true),
                created_at: Set(now),
            }
            .insert(work.conn())
            .await?;
            published.push(self.publish(&mut work, row, StatusBits::default()).await?);
        }
        work.commit().await?;
        published.into_iter().for_each(|p| self.remember(p));
        tracing::info!(issuer = %key.did, %revocation, %suspension, "opened a pair of status lists");
        Ok(OpenPair {
            revocation,
            suspension,
            taken: StatusBits::default(),
            count: 0,
        })
    }
}
