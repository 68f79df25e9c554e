//! The audit log: an append-only record of state changes (who, what, which record, when —
//! identifiers only), hash-chained and anchored.
//!
//! Requests append entries to `audit_outbox` in their own database transaction, without
//! hashes, so they never contend for the log's head. The block producer, the single writer
//! of the chain, takes them out of the outbox in the sealing transaction, writes them to
//! `audit_log` with their positions and chained hashes, and anchors the new head as an
//! `auditCheckpoint` transaction of the same block. Altering, removing or reordering a
//! chained entry breaks every later hash and the anchored head.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryOrder, Set, Statement};

use crate::ledger::audit::Entry;
use crate::ledger::hash::Digest;
use crate::store::entities::{audit_log, audit_outbox};
use crate::store::Inserts;

/// Entries chained per statement.
const INSERT_CHUNK: usize = 1_000;

/// The outbox row of a new entry; insert it in the same database transaction as the
/// change it records.
pub fn entry(
    tenant_id: &str,
    actor: &str,
    action: &str,
    subject: &str,
    at: DateTime<Utc>,
) -> audit_outbox::ActiveModel {
    audit_outbox::ActiveModel {
        tenant_id: Set(tenant_id.to_owned()),
        actor: Set(actor.to_owned()),
        action: Set(action.to_owned()),
        subject: Set(subject.to_owned()),
        at_ms: Set(at.timestamp_millis()),
        ..Default::default()
    }
}

/// Records that `principal` did `action` to `subject` at `now`. Call it with the
/// transaction of the change it records, so the entry commits with the change or not at
/// all (a read, such as an export, is recorded on its own).
pub async fn record(
    conn: &impl ConnectionTrait,
    principal: &crate::auth::Principal,
    action: &str,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut inserts = Inserts::default();
    append(
        &mut inserts,
        vec![entry(
            &principal.tenant_id,
            &principal.actor_id(),
            action,
            subject,
            now,
        )],
    );
    inserts.execute(conn).await
}

/// Queues many entries at once with `inserts`, in the transaction of the changes they
/// record.
pub fn append(inserts: &mut Inserts, entries: Vec<audit_outbox::ActiveModel>) {
    inserts.rows(entries);
}

/// The entries waiting in the outbox, chained onto the log's head but not yet written
/// ([`Chaining::write`]). Preparing reads only, so the sealing transaction can compute the
/// chain before it takes the store's write lock.
#[derive(Debug)]
pub struct Chaining {
    ids: Vec<i64>,
    chained: Vec<(i64, Entry<String>, String)>,
    /// How many entries the log holds once written, and its head then.
    pub sequence: u64,
    pub head: Digest,
}

/// Reads the entries waiting in the outbox and chains them onto the log's head; `None`
/// when none waited.
pub async fn prepare(conn: &impl ConnectionTrait) -> Result<Option<Chaining>, DbErr> {
    let pending = audit_outbox::Entity::find()
        .order_by_asc(audit_outbox::Column::Id)
        .all(conn)
        .await?;
    if pending.is_empty() {
        return Ok(None);
    }
    let last = audit_log::Entity::find()
        .order_by_desc(audit_log::Column::Position)
        .one(conn)
        .await?;
    let (mut position, mut head) = match last {
        Some(row) => (
            row.position + 1,
            Digest::from_hex(&row.hash).map_err(|_| {
                DbErr::Custom(format!("audit entry {} has no valid hash", row.position))
            })?,
        ),
        None => (0, Digest::ZERO),
    };
    let mut ids = Vec::with_capacity(pending.len());
    let mut chained = Vec::with_capacity(pending.len());
    for row in pending {
        ids.push(row.id);
        let entry = Entry {
            tenant_id: row.tenant_id,
            actor: row.actor,
            action: row.action,
            subject: row.subject,
            at_ms: row.at_ms,
        };
        head = entry.hash(&head, position);
        chained.push((position, entry, head.to_hex()));
        position += 1;
    }
    Ok(Some(Chaining {
        ids,
        chained,
        sequence: position as u64,
        head,
    }))
}

impl Chaining {
    /// Moves the prepared entries from the outbox into the log, in the caller's transaction.
    /// False when another writer took any of them meanwhile: the caller then rolls its
    /// transaction back. (Another writer chaining other entries fails the log's unique
    /// positions.)
    pub async fn write(self, conn: &impl ConnectionTrait) -> Result<bool, DbErr> {
        let taken = crate::store::delete_ids::<audit_outbox::Entity>(
            conn,
            audit_outbox::Column::Id,
            &self.ids,
        )
        .await?;
        if taken != self.ids.len() as u64 {
            return Ok(false);
        }
        insert_chained(conn, self.chained).await?;
        Ok(true)
    }
}

/// Writes chained entries: multi-row INSERTs, or on PostgreSQL one statement with an
/// array per column (7 parameters instead of 7 per entry).
async fn insert_chained(
    conn: &impl ConnectionTrait,
    chained: Vec<(i64, Entry<String>, String)>,
) -> Result<(), DbErr> {
    if conn.get_database_backend() == DbBackend::Postgres {
        let text = |field: fn(&(i64, Entry<String>, String)) -> &str| -> Vec<String> {
            chained.iter().map(|c| field(c).to_owned()).collect()
        };
        let (t, a, ac, s, h) = (
            text(|c| &c.1.tenant_id),
            text(|c| &c.1.actor),
            text(|c| &c.1.action),
            text(|c| &c.1.subject),
            text(|c| &c.2),
        );
        let p: Vec<i64> = chained.iter().map(|c| c.0).collect();
        let at: Vec<i64> = chained.iter().map(|c| c.1.at_ms).collect();
        conn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO audit_log (position, tenant_id, actor, action, subject, at_ms, hash) \
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], \
             $5::text[], $6::bigint[], $7::text[])",
            [
                p.into(),
                t.into(),
                a.into(),
                ac.into(),
                s.into(),
                at.into(),
                h.into(),
            ],
        ))
        .await?;
        return Ok(());
    }
    let rows: Vec<audit_log::ActiveModel> = chained
        .into_iter()
        .map(|(position, entry, hash)| audit_log::ActiveModel {
            position: Set(position),
            tenant_id: Set(entry.tenant_id),
            actor: Set(entry.actor),
            action: Set(entry.action),
            subject: Set(entry.subject),
            at_ms: Set(entry.at_ms),
            hash: Set(hash),
        })
        .collect();
    for chunk in rows.chunks(INSERT_CHUNK) {
        audit_log::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// Recomputes the whole chain; the number of chained entries and the head, or the first
/// position that does not hold.
pub async fn verify(conn: &impl ConnectionTrait) -> Result<(u64, Digest), (i64, String)> {
    let entries = audit_log::Entity::find()
        .order_by_asc(audit_log::Column::Position)
        .all(conn)
        .await
        .map_err(|e| (0, e.to_string()))?;
    let mut head = Digest::ZERO;
    for (expected, row) in entries.iter().enumerate() {
        let position = expected as i64;
        if row.position != position {
            return Err((position, "an entry is missing".into()));
        }
        let entry = Entry {
            tenant_id: row.tenant_id.as_str(),
            actor: row.actor.as_str(),
            action: row.action.as_str(),
            subject: row.subject.as_str(),
            at_ms: row.at_ms,
        };
        head = entry.hash(&head, position);
        if row.hash != head.to_hex() {
            return Err((position, "the entry's hash does not chain".into()));
        }
    }
    Ok((entries.len() as u64, head))
}
