//! Allocating a credential's status entries: a random free index in its issuer's open pair
//! of lists, so an index reveals nothing about when (or how many) credentials were issued.

use certus_schemas::wire::StatusPurpose;
use chrono::{DateTime, Utc};
use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
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

/// How long a lease on a pair lasts from its last renewal, unless configured.
pub const LEASE: Duration = Duration::from_secs(30);

/// The pairs this process hands out indexes in, one per issuer DID, each under a lease.
#[derive(Debug, Default)]
pub(super) struct Allocations {
    pub open: std::collections::HashMap<String, OpenPair>,
}

/// An issuer's open pair leased by this process, and the indexes taken in it.
#[derive(Debug)]
pub(super) struct OpenPair {
    pub revocation: ListId,
    suspension: ListId,
    pub taken: StatusBits,
    pub count: usize,
    /// Until when (Unix milliseconds) this process holds the pair.
    leased_until_ms: i64,
}

impl StatusLists {
    /// Allocates status entries for a credential `key` signs. An index handed out to an
    /// issuance that then fails is simply never used.
    ///
    /// Several processes may share the database (issue 23): each hands out indexes only in
    /// pairs it leased (for [`LEASE`] unless configured), renewing the lease while it
    /// issues: a lease with less than two thirds of its length left is renewed before an
    /// index of its pair is handed out, so every index is handed out under a lease that
    /// outlasts its issuance by far. A pair whose
    /// holder stopped renewing (a crash) is leased again by the next process that needs
    /// one, with the indexes its recorded credentials took. The unique index on
    /// (revocation list, index) refuses a second credential with the same entry, whatever
    /// happens to a lease.
    pub async fn allocate(
        &self,
        key: &IssuerKey,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Allocation> {
        let now_ms = now.timestamp_millis();
        let mut allocations = self.allocations.lock().await;
        loop {
            if let Some(pair) = allocations.open.get_mut(&key.did) {
                if self.keep_lease(pair, now_ms).await? {
                    if let Some(index) = (pair.count < CLOSE_AT)
                        .then(|| {
                            random_free_index(&mut rand::thread_rng(), |i| {
                                pair.taken.get(i) == Some(true)
                            })
                        })
                        .flatten()
                    {
                        pair.taken.set(index, true);
                        pair.count += 1;
                        return Ok(Allocation {
                            revocation: pair.revocation,
                            suspension: pair.suspension,
                            index,
                        });
                    }
                    self.close(pair).await?;
                }
                allocations.open.remove(&key.did);
            }
            let pair = match self.lease_open_pair(&key.did, now_ms).await? {
                Some(pair) => pair,
                None => self.open_pair(key, now).await?,
            };
            allocations.open.insert(key.did.clone(), pair);
        }
    }

    /// Whether this process still holds `pair`, renewing its lease when it runs short.
    async fn keep_lease(&self, pair: &mut OpenPair, now_ms: i64) -> anyhow::Result<bool> {
        let lease = self.lease.as_millis() as i64;
        if pair.leased_until_ms - now_ms >= lease * 2 / 3 {
            return Ok(true);
        }
        let until = now_ms + lease;
        let renewed = status_lists::Entity::update_many()
            .col_expr(status_lists::Column::LeaseUntilMs, until.into())
            .filter(status_lists::Column::Id.eq(pair.revocation.to_string()))
            .filter(status_lists::Column::Open.eq(true))
            .filter(status_lists::Column::LeasedBy.eq(self.holder.as_str()))
            .exec(&self.db)
            .await?
            .rows_affected
            == 1;
        if renewed {
            pair.leased_until_ms = until;
        } else {
            tracing::warn!(list = %pair.revocation, "the lease on a status list pair was lost; leasing another");
        }
        Ok(renewed)
    }

    /// Closes a pair that has handed out its share of indexes: no credential gets an entry
    /// in it any more.
    async fn close(&self, pair: &OpenPair) -> anyhow::Result<()> {
        let both = [pair.revocation.to_string(), pair.suspension.to_string()];
        status_lists::Entity::update_many()
            .col_expr(status_lists::Column::Open, false.into())
            .col_expr(
                status_lists::Column::LeasedBy,
                Expr::value(Option::<String>::None),
            )
            .filter(status_lists::Column::Id.is_in(both))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Leases one of the issuer's open pairs no process holds (never leased, released, or
    /// left to expire by a process that stopped), with the indexes its credentials took.
    async fn lease_open_pair(&self, issuer: &str, now_ms: i64) -> anyhow::Result<Option<OpenPair>> {
        let free = || {
            Condition::all()
                .add(status_lists::Column::Open.eq(true))
                .add(
                    Condition::any()
                        .add(status_lists::Column::LeasedBy.is_null())
                        .add(status_lists::Column::LeaseUntilMs.lt(now_ms)),
                )
        };
        loop {
            let Some(row) = status_lists::Entity::find()
                .filter(status_lists::Column::Issuer.eq(issuer))
                .filter(status_lists::Column::Purpose.eq(StatusPurpose::Revocation.as_str()))
                .filter(free())
                .order_by_asc(status_lists::Column::CreatedAt)
                .one(&self.db)
                .await?
            else {
                return Ok(None);
            };
            let until = now_ms + self.lease.as_millis() as i64;
            let leased = status_lists::Entity::update_many()
                .col_expr(status_lists::Column::LeasedBy, self.holder.as_str().into())
                .col_expr(status_lists::Column::LeaseUntilMs, until.into())
                .filter(status_lists::Column::Id.eq(row.id.as_str()))
                .filter(free())
                .exec(&self.db)
                .await?
                .rows_affected
                == 1;
            if !leased {
                // Another process leased it first.
                continue;
            }
            let (Some(revocation), Some(suspension)) =
                (ListId::parse(&row.id), ListId::parse(&row.partner))
            else {
                anyhow::bail!("status list {} has a malformed id or partner", row.id);
            };
            let (taken, count) = self.taken_in(revocation).await?;
            tracing::info!(%revocation, previous = ?row.leased_by, "leased a pair of status lists");
            return Ok(Some(OpenPair {
                revocation,
                suspension,
                taken,
                count,
                leased_until_ms: until,
            }));
        }
    }

    /// Gives up this process's leases (on shutdown), so the next process to issue for
    /// these issuers carries on in their pairs at once.
    pub async fn release_leases(&self) -> anyhow::Result<()> {
        let mut allocations = self.allocations.lock().await;
        status_lists::Entity::update_many()
            .col_expr(
                status_lists::Column::LeasedBy,
                Expr::value(Option::<String>::None),
            )
            .filter(status_lists::Column::LeasedBy.eq(self.holder.as_str()))
            .exec(&self.db)
            .await?;
        allocations.open.clear();
        Ok(())
    }

    /// Whether a recorded credential holds `allocation`'s entries.
    pub(super) async fn is_taken(&self, allocation: &Allocation) -> anyhow::Result<bool> {
        Ok(issued_credentials::Entity::find()
            .filter(
                issued_credentials::Column::RevocationList.eq(allocation.revocation.to_string()),
            )
            .filter(issued_credentials::Column::StatusIndex.eq(allocation.index as i64))
            .count(&self.db)
            .await?
            > 0)
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
        let until = now.timestamp_millis() + self.lease.as_millis() as i64;
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
                leased_by: Set((purpose == StatusPurpose::Revocation).then(|| self.holder.clone())),
                lease_until_ms: Set((purpose == StatusPurpose::Revocation).then_some(until)),
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
            leased_until_ms: until,
        })
    }
}
