//! The same status, as IETF Token Status List (draft-ietf-oauth-status-list) for SD-JWT VC:
//! a credential's `status.status_list` names its revocation list's URL and index, and that
//! URL, asked for `application/statuslist+jwt`, answers with a signed token of two bits per
//! entry (0 valid, 1 invalid = revoked, 2 suspended) drawn from the pair's published
//! versions.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use flate2::Compression;
use sea_orm::{DbErr, EntityTrait};
use serde_json::{json, Value};
use ssi::status::token_status_list::{BitString, StatusSize};

use super::{Allocation, Published, StatusLists};
use crate::ledger::transaction::ListId;
use crate::store::entities::status_lists;
use certus_credential::jose;

/// The media type of a status list token.
pub const STATUS_LIST_JWT: &str = "application/statuslist+jwt";
/// Seconds a relying party may cache a token (its `ttl` claim).
const TOKEN_TTL_SECS: u64 = 60;
/// Token Status List values.
const INVALID: u8 = 1;
const SUSPENDED: u8 = 2;

impl StatusLists {
    /// The SD-JWT VC `status` claim of an allocation.
    pub fn token_reference(&self, allocation: &Allocation) -> Value {
        json!({
            "status_list": {
                "idx": allocation.index,
                "uri": self.url(allocation.revocation),
            }
        })
    }

    /// The other list of `list`'s pair.
    pub async fn partner(&self, list: ListId) -> Result<Option<ListId>, DbErr> {
        if let Some(partner) = self
            .partners
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&list)
        {
            return Ok(Some(*partner));
        }
        let Some(row) = status_lists::Entity::find_by_id(list.to_string())
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let partner = ListId::parse(&row.partner);
        if let Some(partner) = partner {
            self.partners
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(list, partner);
        }
        Ok(partner)
    }

    /// The signed status list token of `list`'s pair, with `sub` the URL of `list`, issued
    /// at `now`.
    pub async fn token(&self, list: ListId, now: DateTime<Utc>) -> anyhow::Result<Option<String>> {
        let Some(partner) = self.partner(list).await? else {
            return Ok(None);
        };
        let (Some(first), Some(second)) = (self.latest(list).await?, self.latest(partner).await?)
        else {
            return Ok(None);
        };
        let (revocation, suspension) = match first.purpose {
            certus_schemas::wire::StatusPurpose::Revocation => (first, second),
            certus_schemas::wire::StatusPurpose::Suspension => (second, first),
        };
        let row = status_lists::Entity::find_by_id(list.to_string())
            .one(&self.db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("status list {list} vanished"))?;
        let key = self
            .keys
            .key_for_issuer(&row.tenant_id, &row.issuer)
            .ok_or_else(|| anyhow::anyhow!("no key of {} to sign its status list", row.issuer))?;
        let lst = combined_bits(&revocation, &suspension);
        let header = jose::header(&[("typ", "statuslist+jwt"), ("kid", &key.verification_method)]);
        let payload = json!({
            "sub": self.url(list),
            "iat": now.timestamp(),
            "ttl": TOKEN_TTL_SECS,
            "status_list": {"bits": 2, "lst": lst},
        });
        Ok(Some(jose::sign(header, &payload, key.signer.as_ref())?))
    }
}

/// The pair's statuses, two bits per entry, ZLIB-compressed and base64url-encoded (`lst`).
fn combined_bits(revocation: &Arc<Published>, suspension: &Arc<Published>) -> String {
    use base64::prelude::{Engine, BASE64_URL_SAFE_NO_PAD};
    let size = StatusSize::try_from(2u8).expect("2 is a valid status size");
    let len = revocation.bits.len().min(suspension.bits.len());
    let mut bits = BitString::new_zeroed(size, len);
    for index in 0..len {
        let value = if revocation.bits.get(index) == Some(true) {
            INVALID
        } else if suspension.bits.get(index) == Some(true) {
            SUSPENDED
        } else {
            continue;
        };
        // The index is below the length and the value fits two bits.
        let _ = bits.set(index, value);
    }
    BASE64_URL_SAFE_NO_PAD.encode(bits.to_compressed_bytes(Compression::default()))
}
