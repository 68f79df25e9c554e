//! The domain event of a status change. Whoever must hear of changed status bits — the KYC
//! reliance watches, whose webhook events must commit with the change — registers a
//! [`StatusListener`] when the node is built, so the status module calls no other domain.

use std::future::Future;
use std::pin::Pin;

use certus_schemas::wire::StatusPurpose;
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseTransaction, DbErr};

/// A status entry of a credential: a list, an index, and what a set bit means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRef {
    pub url: String,
    pub index: u64,
    pub purpose: StatusPurpose,
}

/// Status bits set (or, with `set` false, cleared) at `at`.
#[derive(Debug)]
pub struct StatusChanged<'a> {
    pub entries: &'a [StatusRef],
    pub set: bool,
    pub at: DateTime<Utc>,
}

/// Hears every status change inside the change's database transaction: what it writes
/// there commits with the change, or not at all.
pub trait StatusListener: Send + Sync {
    fn status_changed<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        change: &'a StatusChanged<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<(), DbErr>> + Send + 'a>>;
}
