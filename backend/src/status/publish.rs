//! Publishing a list version: the signed BitstringStatusListCredential, its hash, its row,
//! and its anchor in the ledger outbox.

use std::sync::Arc;

use certus_schemas::wire::StatusPurpose;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{json, Value};

use super::list::StatusBits;
use super::StatusLists;
use crate::ledger::hash::Digest;
use crate::ledger::transaction::{status_list_hash, ListId, Transaction};
use crate::store::entities::{status_list_versions, status_lists};
use crate::work::Work;
use certus_credential::data_integrity::{self, ProofConfig};
use certus_credential::time::xsd_now;

/// One published version of a list.
#[derive(Debug, Clone)]
pub struct Published {
    pub list: ListId,
    pub purpose: StatusPurpose,
    /// The DID that signed it.
    pub issuer: String,
    pub version: u64,
    /// The anchored hash of `credential`'s bytes.
    pub hash: Digest,
    /// The signed list credential, byte for byte as served.
    pub credential: String,
    pub bits: StatusBits,
    pub published_at: DateTime<Utc>,
    /// Another member's list: that member's name (`None` for this node's own).
    pub member: Option<String>,
}

impl Published {
    /// A version as stored; `None` when the stored credential does not parse (the store
    /// was altered), so it is never served or trusted.
    pub(super) fn from_row(list: ListId, row: status_list_versions::Model) -> Option<Self> {
        let published = Self::parse(list, row.version as u64, row.credential)?;
        // The stored time is the signed `validFrom` (which has whole seconds).
        (published.hash.to_hex() == row.hash
            && published.published_at.timestamp() == row.published_at.timestamp())
        .then_some(published)
    }

    /// Version `version` of `list` from its signed list credential, byte for byte as
    /// served; `None` when it does not read as one.
    pub(super) fn parse(list: ListId, version: u64, credential: String) -> Option<Self> {
        let document: Value = serde_json::from_str(&credential).ok()?;
        let subject = document.get("credentialSubject")?;
        let purpose = serde_json::from_value(subject.get("statusPurpose")?.clone()).ok()?;
        let bits = StatusBits::decode(subject.get("encodedList")?.as_str()?).ok()?;
        let valid_from =
            chrono::DateTime::parse_from_rfc3339(document.get("validFrom")?.as_str()?).ok()?;
        Some(Self {
            list,
            purpose,
            issuer: document.get("issuer")?.as_str()?.to_owned(),
            version,
            hash: status_list_hash(credential.as_bytes()),
            credential,
            bits,
            published_at: valid_from.with_timezone(&chrono::Utc),
            member: None,
        })
    }
}

pub(super) fn purpose_of(row: &status_lists::Model) -> anyhow::Result<StatusPurpose> {
    serde_json::from_value(json!(row.purpose))
        .map_err(|_| anyhow::anyhow!("status list {} has purpose `{}`", row.id, row.purpose))
}

impl StatusLists {
    /// Signs and stores the next version of `row` with `bits`, and anchors it, in `work`;
    /// the caller remembers the result once it commits.
    pub(super) async fn publish(
        &self,
        work: &mut Work,
        row: status_lists::Model,
        bits: StatusBits,
    ) -> anyhow::Result<Arc<Published>> {
        let now = work.now();
        let list = ListId::parse(&row.id)
            .ok_or_else(|| anyhow::anyhow!("status list id `{}` is malformed", row.id))?;
        let purpose = purpose_of(&row)?;
        let key = self
            .keys
            .key_for_issuer(&row.tenant_id, &row.issuer)
            .ok_or_else(|| anyhow::anyhow!("no key of {} to sign its status list", row.issuer))?;
        let url = self.url(list);
        let unsigned = json!({
            "@context": [certus_credential::VC_V2_CONTEXT],
            "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": row.issuer,
            "validFrom": xsd_now(now),
            "credentialSubject": {
                "id": format!("{url}#list"),
                "type": "BitstringStatusList",
                "statusPurpose": purpose.as_str(),
                "encodedList": bits.encode(),
            },
        });
        let signed = data_integrity::sign(
            unsigned,
            key.signer.as_ref(),
            ProofConfig {
                verification_method: &key.verification_method,
                proof_purpose: "assertionMethod",
                created: xsd_now(now),
                challenge: None,
                domain: None,
            },
            &self.contexts,
        )
        .await?;
        let credential = serde_json::to_string(&signed)?;
        let hash = status_list_hash(credential.as_bytes());
        let version = row.version as u64 + 1;
        status_list_versions::Entity::insert(status_list_versions::ActiveModel {
            list_id: Set(row.id.clone()),
            version: Set(version as i64),
            hash: Set(hash.to_hex()),
            credential: Set(credential.clone()),
            published_at: Set(now),
        })
        .exec_without_returning(work.conn())
        .await?;
        let issuer = row.issuer.clone();
        let mut active: status_lists::ActiveModel = row.into();
        active.bits = Set(bits.as_bytes().to_vec());
        active.version = Set(version as i64);
        active.update(work.conn()).await?;
        work.anchor(&Transaction::StatusListVersion {
            list,
            version,
            hash,
        });
        Ok(Arc::new(Published {
            list,
            purpose,
            issuer,
            version,
            hash,
            credential,
            bits,
            published_at: now,
            member: None,
        }))
    }
}
