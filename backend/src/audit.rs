//! The audit log: an append-only record of state changes (who, what, which record, when —
//! identifiers only), hash-chained and anchored.
//!
//! Requests append entries in their own database transaction, without hashes, so they
//! never contend for the log's head. The block producer, the single writer of the chain,
//! then gives the new entries their positions and chained hashes (`audit_chain` rows) in
//! the sealing transaction and anchors the new head as an `auditCheckpoint` transaction of
//! the same block. Altering, removing or reordering a chained entry breaks every later hash and the
//! anchored head.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::ledger::hash::{Digest, AUDIT_ENTRY};
use crate::store::entities::{audit_chain, audit_log};

/// The row of a new entry; insert it in the same database transaction as the change it
/// records.
pub fn entry(
    tenant_id: &str,
    actor: &str,
    action: &str,
    subject: &str,
    at: DateTime<Utc>,
) -> audit_log::ActiveModel {
    audit_log::ActiveModel {
        tenant_id: Set(tenant_id.to_owned()),
        actor: Set(actor.to_owned()),
        action: Set(action.to_owned()),
        subject: Set(subject.to_owned()),
        at_ms: Set(at.timestamp_millis()),
        ..Default::default()
    }
}

/// The chained hash of an entry at `position` after `previous`: SHA-256 over the prefix,
/// the previous hash and the entry's fields (length-prefixed).
pub fn entry_hash(previous: &Digest, position: i64, entry: &audit_log::Model) -> Digest {
    let fields = [
        entry.tenant_id.as_bytes(),
        entry.actor.as_bytes(),
        entry.action.as_bytes(),
        entry.subject.as_bytes(),
    ];
    let lengths: Vec<[u8; 4]> = fields
        .iter()
        .map(|f| (f.len() as u32).to_be_bytes())
        .collect();
    let mut parts: Vec<&[u8]> = vec![AUDIT_ENTRY, previous.as_bytes()];
    let position = position.to_be_bytes();
    let at = entry.at_ms.to_be_bytes();
    parts.push(&position);
    parts.push(&at);
    for (field, length) in fields.iter().zip(&lengths) {
        parts.push(length);
        parts.push(field);
    }
    Digest::of(&parts)
}

/// Chains the entries appended since the last call; the number of chained entries and the
/// new head, or `None` when nothing was appended. Run by the sealing transaction only.
pub async fn chain_pending(conn: &impl ConnectionTrait) -> Result<Option<(u64, Digest)>, DbErr> {
    let chained = Query::select()
        .column(audit_chain::Column::EntryId)
        .from(audit_chain::Entity)
        .to_owned();
    let pending = audit_log::Entity::find()
        .filter(audit_log::Column::Id.not_in_subquery(chained))
        .order_by_asc(audit_log::Column::Id)
        .all(conn)
        .await?;
    if pending.is_empty() {
        return Ok(None);
    }
    let last = audit_chain::Entity::find()
        .order_by_desc(audit_chain::Column::Position)
        .one(conn)
        .await?;
    let (mut position, mut head) = match last {
        Some(row) => (
            row.position + 1,
            Digest::from_hex(&row.hash).map_err(|_| {
                DbErr::Custom(format!(
                    "audit chain position {} has no valid hash",
                    row.position
                ))
            })?,
        ),
        None => (0, Digest::ZERO),
    };
    let mut links = Vec::with_capacity(pending.len());
    for entry in &pending {
        head = entry_hash(&head, position, entry);
        links.push(audit_chain::ActiveModel {
            position: Set(position),
            entry_id: Set(entry.id),
            hash: Set(head.to_hex()),
        });
        position += 1;
    }
    for chunk in links.chunks(1_000) {
        audit_chain::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(Some((position as u64, head)))
}

/// Recomputes the whole chain; the number of chained entries and the head, or the first
/// position that does not hold.
pub async fn verify(conn: &impl ConnectionTrait) -> Result<(u64, Digest), (i64, String)> {
    let db_error = |e: DbErr| (0, e.to_string());
    let links = audit_chain::Entity::find()
        .order_by_asc(audit_chain::Column::Position)
        .all(conn)
        .await
        .map_err(db_error)?;
    let entries: HashMap<i64, audit_log::Model> = audit_log::Entity::find()
        .all(conn)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let mut head = Digest::ZERO;
    for (expected, link) in links.iter().enumerate() {
        let position = expected as i64;
        if link.position != position {
            return Err((position, "a position is missing".into()));
        }
        let entry = entries
            .get(&link.entry_id)
            .ok_or((position, "the entry is missing".to_owned()))?;
        head = entry_hash(&head, position, entry);
        if link.hash != head.to_hex() {
            return Err((position, "the entry's hash does not chain".into()));
        }
    }
    Ok((links.len() as u64, head))
}
