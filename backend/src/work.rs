//! The unit of work: every change that is anchored or audited commits its rows, its
//! anchors in the ledger outbox and its audit entries in one database transaction, or none
//! of them.
//!
//! A domain opens a [`Work`], writes its own rows through [`Work::conn`], names what the
//! chain must anchor ([`Work::anchor`]) and what the audit log must record
//! ([`Work::audit`]), and commits. The ledger outbox is written by the ledger module and
//! the audit outbox by the audit module, here, at commit, never after it. Issuances take
//! the same path in batches: the recorder ([`crate::issuance::record`]) commits many units
//! in one transaction.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};

use crate::audit;
use crate::auth::Principal;
use crate::coherence::{self, Cached};
use crate::ledger::store::{self as ledger_store, Anchor};
use crate::ledger::transaction::Transaction;
use crate::store::entities::audit_outbox;
use crate::store::Inserts;

/// One change in progress.
#[derive(Debug)]
pub struct Work {
    txn: DatabaseTransaction,
    now: DateTime<Utc>,
    trail: Trail,
    /// The cached tables the change writes, whose counters it raises.
    touched: Vec<Cached>,
}

/// What a change adds to the chain and to the audit log, written with it.
#[derive(Debug, Default, Clone)]
pub struct Trail {
    anchors: Vec<Anchor>,
    audit: Vec<audit_outbox::ActiveModel>,
}

impl Trail {
    /// Queues `tx` for the next block, as of `now`.
    pub fn anchor(&mut self, tx: &Transaction, now: DateTime<Utc>) {
        self.anchors.push(ledger_store::anchor(tx, now));
    }

    /// Records that `actor` of `tenant_id` did `action` to `subject` at `now`.
    pub fn audit(
        &mut self,
        tenant_id: &str,
        actor: &str,
        action: &str,
        subject: &str,
        now: DateTime<Utc>,
    ) {
        self.audit
            .push(audit::entry(tenant_id, actor, action, subject, now));
    }

    /// Adds another change's trail to this one (the recorder's batches).
    pub fn extend(&mut self, other: Trail) {
        self.anchors.extend(other.anchors);
        self.audit.extend(other.audit);
    }

    /// Writes the anchors and the audit entries with `inserts`.
    pub fn insert(self, inserts: &mut Inserts) {
        ledger_store::enqueue(inserts, self.anchors);
        audit::append(inserts, self.audit);
    }
}

impl Work {
    /// Opens a unit of work at `now`.
    pub async fn begin(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Self, DbErr> {
        Ok(Self {
            txn: crate::store::begin_writing(db).await?,
            now,
            trail: Trail::default(),
            touched: Vec::new(),
        })
    }

    /// The transaction the change writes its own rows in.
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// When the change happens.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Queues `tx` for the next block with the change.
    pub fn anchor(&mut self, tx: &Transaction) {
        self.trail.anchor(tx, self.now);
    }

    /// Records that `actor` of `tenant_id` did `action` to `subject`.
    pub fn audit(&mut self, tenant_id: &str, actor: &str, action: &str, subject: &str) {
        self.trail
            .audit(tenant_id, actor, action, subject, self.now);
    }

    /// Records that `principal` did `action` to `subject`.
    pub fn audit_by(&mut self, principal: &Principal, action: &str, subject: &str) {
        self.audit(&principal.tenant_id, &principal.actor_id(), action, subject);
    }

    /// Says the change writes a table other processes cache, so they reload it
    /// ([`crate::coherence`]).
    pub fn touch(&mut self, cached: Cached) {
        if !self.touched.contains(&cached) {
            self.touched.push(cached);
        }
    }

    /// Commits the change with its anchors and audit entries.
    pub async fn commit(self) -> Result<(), DbErr> {
        let mut inserts = Inserts::default();
        self.trail.insert(&mut inserts);
        inserts.execute(&self.txn).await?;
        for cached in self.touched {
            coherence::touch(&self.txn, cached).await?;
        }
        self.txn.commit().await
    }
}
