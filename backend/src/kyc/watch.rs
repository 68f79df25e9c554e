//! Status changes of relied-on credentials that another member issued. A change on this
//! node's own lists queues its webhook events in the change's transaction
//! ([`super::webhooks::WatchedStatus`]); a change on another member's list reaches this
//! node only as a new list version final on the shared chain. So this node watches the
//! chain: for each version of a list it holds watches on, it reads the watched entries
//! (from the issuing member's node, checked against the anchored hash), and queues the
//! events of those whose bit changed since the chain last showed them — delivered, signed
//! by the relying institution's own key, from its own node (decision 21). A list that
//! cannot be read (its node unreachable) is read again after the next block.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use certus_schemas::wire::StatusPurpose;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use super::{Kyc, StatusRef};
use crate::consensus::Follower;
use crate::ledger::store as ledger_store;
use crate::ledger::transaction::{Kind, Transaction};
use crate::store::entities::{reliance_records, status_watches};

/// The watches on other members' lists, following the chain ([`Consortium::follow`]): at
/// start every watched list (changes made while this node was down), then the lists with a
/// version in each new block, and those that could not be read before (the issuing node
/// unreachable).
///
/// [`Consortium::follow`]: crate::consensus::Consortium::follow
pub struct Watch {
    kyc: Kyc,
    retry: BTreeSet<String>,
}

impl Watch {
    pub fn new(kyc: Kyc) -> Self {
        Self {
            kyc,
            retry: BTreeSet::new(),
        }
    }
}

impl Follower for Watch {
    fn what(&self) -> &'static str {
        "status of relied-on credentials"
    }

    async fn pass(&mut self, after: Option<u64>) -> anyhow::Result<()> {
        let kyc = &self.kyc;
        let urls: Vec<String> = status_watches::Entity::find()
            .select_only()
            .column(status_watches::Column::ListUrl)
            .distinct()
            .into_tuple()
            .all(&kyc.db)
            .await?;
        let watched: HashMap<_, String> = urls
            .into_iter()
            .filter_map(|url| Some((kyc.status.other_list(&url)?, url)))
            .collect();
        if watched.is_empty() {
            return Ok(());
        }
        let mut due: BTreeSet<String> = std::mem::take(&mut self.retry);
        match after {
            None => due.extend(watched.values().cloned()),
            Some(after) => {
                for (_, tx) in
                    ledger_store::sealed_after(&kyc.db, Kind::StatusListVersion, after).await?
                {
                    if let Transaction::StatusListVersion { list, .. } = tx {
                        due.extend(watched.get(&list).cloned());
                    }
                }
            }
        }
        for url in due {
            if let Err(why) = read_list(kyc, &url).await? {
                tracing::warn!(
                    url = url.as_str(),
                    why = why.as_str(),
                    "a relied-on status list"
                );
                self.retry.insert(url);
            }
        }
        Ok(())
    }
}

/// Reads the watched entries of the list at `url` and queues the events of those whose bit
/// changed since last read; `Ok(Err(why))` when the list cannot be read now.
async fn read_list(kyc: &Kyc, url: &str) -> Result<Result<(), String>, DbErr> {
    let watches = status_watches::Entity::find()
        .filter(status_watches::Column::ListUrl.eq(url))
        .all(&kyc.db)
        .await?;
    let reliances: BTreeSet<&str> = watches.iter().map(|w| w.reliance_id.as_str()).collect();
    let issuers: BTreeMap<String, String> = reliance_records::Entity::find()
        .filter(reliance_records::Column::Id.is_in(reliances))
        .all(&kyc.db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.kyc_issuer))
        .collect();
    // Entries watched by several institutions are read once, and told to all of them.
    let mut entries: BTreeMap<(i64, &str), (bool, &str)> = BTreeMap::new();
    for watch in &watches {
        let issuer = issuers.get(&watch.reliance_id).map_or("", String::as_str);
        entries
            .entry((watch.status_index, watch.purpose.as_str()))
            .or_insert((watch.observed, issuer));
    }
    let now = kyc.clock.now();
    for ((index, purpose), (observed, issuer)) in entries {
        let purpose = if purpose == StatusPurpose::Suspension.as_str() {
            StatusPurpose::Suspension
        } else {
            StatusPurpose::Revocation
        };
        let set = match kyc
            .status
            .check(url, index as usize, purpose, Some(issuer))
            .await
        {
            Ok((set, _)) => set,
            Err(e) => return Ok(Err(e.to_string())),
        };
        if set == observed {
            continue;
        }
        let changed = [StatusRef {
            url: url.to_owned(),
            index: index as u64,
            purpose,
        }];
        let txn = crate::store::begin_writing(&kyc.db).await?;
        super::webhooks::enqueue(&txn, &changed, set, now).await?;
        status_watches::Entity::update_many()
            .col_expr(status_watches::Column::Observed, Expr::value(set))
            .filter(status_watches::Column::ListUrl.eq(url))
            .filter(status_watches::Column::StatusIndex.eq(index))
            .filter(status_watches::Column::Purpose.eq(purpose.as_str()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        tracing::info!(
            url,
            index,
            purpose = purpose.as_str(),
            set,
            "a relied-on credential another member issued changed status"
        );
    }
    Ok(Ok(()))
}
