//! Nothing in the status store is trusted unchecked: a list's stored bits are checked
//! against its latest signed and anchored version before a change is built on them, and
//! `certus chain verify` checks every list, every version's anchor and every issued
//! credential's recorded status against the bits.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};

use super::list::StatusBits;
use super::publish::purpose_of;
use super::{Published, StatusError};
use crate::ledger::store as ledger_store;
use crate::ledger::transaction::{ListId, Transaction};
use crate::store::entities::{issued_credentials, status_list_versions, status_lists};

/// The stored bits of a list when it holds — its latest version parses, is hashed as
/// stored, is on the chain (or waiting for the next block) and holds the stored bits — or
/// why it does not.
async fn held_bits(
    conn: &impl ConnectionTrait,
    row: &status_lists::Model,
) -> Result<Result<StatusBits, &'static str>, sea_orm::DbErr> {
    let Some(list) = ListId::parse(&row.id) else {
        return Ok(Err("its id is malformed"));
    };
    let Some(bits) = StatusBits::from_bytes(row.bits.clone()) else {
        return Ok(Err("its bits are malformed"));
    };
    let Some(version) = status_list_versions::Entity::find_by_id((row.id.clone(), row.version))
        .one(conn)
        .await?
        .and_then(|v| Published::from_row(list, v))
    else {
        return Ok(Err(
            "its latest version is missing, unreadable or not hashed as stored",
        ));
    };
    let anchor = Transaction::StatusListVersion {
        list,
        version: version.version,
        hash: version.hash,
    };
    if !ledger_store::is_recorded(conn, &anchor).await? {
        return Ok(Err("its latest version is not the one anchored"));
    }
    if version.issuer != row.issuer || purpose_of(row).ok() != Some(version.purpose) {
        return Ok(Err(
            "its stored issuer or purpose is not its latest version's",
        ));
    }
    if version.bits != bits {
        return Ok(Err("its stored bits are not its latest version's"));
    }
    Ok(Ok(bits))
}

/// The stored bits of `row`, checked (see [`held_bits`]). A change is never built on bits
/// altered in the store: a cleared revocation would otherwise be signed and anchored as
/// valid. A mismatch stops the change and raises an alarm in the log.
pub(super) async fn checked_bits(
    conn: &impl ConnectionTrait,
    row: &status_lists::Model,
) -> Result<StatusBits, StatusError> {
    held_bits(conn, row).await?.map_err(|reason| {
        tracing::error!(list = %row.id, reason, "ALARM: a status list in the store differs from its signed, anchored version");
        StatusError::Altered(row.id.clone())
    })
}

/// What [`verify_store`] checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    pub lists: u64,
    pub versions: u64,
    pub credentials: u64,
}

/// Checks every status list (see [`held_bits`]), that every version of every list is
/// anchored, and that every issued credential's recorded status is what its lists say.
pub async fn verify_store(db: &DatabaseConnection) -> Result<Checked, String> {
    let failed = |e: sea_orm::DbErr| e.to_string();
    let rows = status_lists::Entity::find().all(db).await.map_err(failed)?;
    let by_id: HashMap<&str, &status_lists::Model> =
        rows.iter().map(|row| (row.id.as_str(), row)).collect();
    let mut bits = HashMap::new();
    for row in &rows {
        let held = held_bits(db, row)
            .await
            .map_err(failed)?
            .map_err(|reason| format!("status list {}: {reason}", row.id))?;
        // Lists come in pairs (revocation and suspension) sharing indexes, issuer and owner.
        let paired = by_id.get(row.partner.as_str()).is_some_and(|partner| {
            partner.partner == row.id
                && partner.issuer == row.issuer
                && partner.tenant_id == row.tenant_id
                && partner.purpose != row.purpose
        });
        if !paired {
            return Err(format!(
                "status list {}: its partner {} is not its pair",
                row.id, row.partner
            ));
        }
        bits.insert(row.id.clone(), held);
    }
    // Every version of every list, numbered from 1 without a gap, each anchored.
    let mut versions = 0;
    let mut next: HashMap<&str, i64> = HashMap::new();
    for stored in status_list_versions::Entity::find()
        .order_by_asc(status_list_versions::Column::ListId)
        .order_by_asc(status_list_versions::Column::Version)
        .all(db)
        .await
        .map_err(failed)?
    {
        let (id, number) = (stored.list_id.clone(), stored.version);
        let Some((&key, _)) = by_id.get_key_value(id.as_str()) else {
            return Err(format!("status list version {id}/{number}: no such list"));
        };
        let expected = next.entry(key).or_insert(1);
        // (Versions past the list's own number are caught below, as a run not ending there.)
        if number != *expected {
            return Err(format!(
                "status list {id} version {number}: out of sequence (expected {expected})"
            ));
        }
        *expected += 1;
        let list = ListId::parse(&id).ok_or("a list id is malformed")?;
        let version = Published::from_row(list, stored).ok_or_else(|| {
            format!("status list {id} version {number}: unreadable or not as signed")
        })?;
        let anchor = Transaction::StatusListVersion {
            list,
            version: version.version,
            hash: version.hash,
        };
        if !ledger_store::is_recorded(db, &anchor)
            .await
            .map_err(failed)?
        {
            return Err(format!(
                "status list {id} version {number}: not the version anchored"
            ));
        }
        versions += 1;
    }
    if let Some(row) = rows
        .iter()
        .find(|row| next.get(row.id.as_str()).copied().unwrap_or(1) != row.version + 1)
    {
        return Err(format!(
            "status list {}: its versions do not run from 1 to {}",
            row.id, row.version
        ));
    }
    let set = |list: &Option<String>, index: Option<i64>| -> Option<bool> {
        bits.get(list.as_ref()?)?.get(usize::try_from(index?).ok()?)
    };
    let mut credentials = 0;
    for record in issued_credentials::Entity::find()
        .filter(issued_credentials::Column::StatusIndex.is_not_null())
        .all(db)
        .await
        .map_err(failed)?
    {
        let revoked = set(&record.revocation_list, record.status_index);
        let suspended = set(&record.suspension_list, record.status_index);
        if revoked != Some(record.revoked_at.is_some())
            || suspended != Some(record.suspended_at.is_some())
        {
            return Err(format!(
                "credential {}: its recorded status is not what its status lists say",
                record.credential_id
            ));
        }
        credentials += 1;
    }
    Ok(Checked {
        lists: rows.len() as u64,
        versions,
        credentials,
    })
}
