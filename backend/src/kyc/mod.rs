//! KYC reuse across institutions.
//!
//! A KYC desk issues `KycCredential`s, which only issuers accredited for the type may do
//! (the trust registry refuses the others at issuance). A relying institution onboards a
//! customer with an OpenID4VP request under a policy with KYC requirements (minimum level
//! of assurance, maximum age of the check); each accepted answer becomes an entry of the
//! [`register`]: a record signed by the relying institution and anchored by hash, naming
//! institutions and the check's strength and date, never the person. Where the holder
//! allowed it, the relying institution keeps the credential's status entries and is told
//! of suspension and revocation through signed [`webhooks`] — on a consortium, also when the
//! credential's issuer is another member, from the status-list versions on the shared
//! chain ([`watch`]).

pub mod register;
pub mod watch;
pub mod webhooks;

use std::sync::Arc;

use certus_schemas::wire::{PublishedList, StatusPurpose, VerificationResult};
use sea_orm::DatabaseConnection;
use serde_json::Value;

use crate::keys::KeyStore;
use crate::status::StatusLists;
use crate::verification::status::{bitstring_entries, token_status_entry, BitstringEntry, Entry};
use certus_credential::time::Clock;

pub use crate::status::event::StatusRef;

/// The KYC service: the reliance register, its status watches and webhooks.
#[derive(Clone)]
pub struct Kyc {
    db: DatabaseConnection,
    /// Sign reliance records and webhook events.
    keys: Arc<KeyStore>,
    /// Reads the status of relied-on credentials.
    status: Arc<StatusLists>,
    clock: Arc<dyn Clock>,
    /// The chain height up to which the reliance register is indexed (`None`: read it
    /// from the index on first use).
    followed: Arc<tokio::sync::Mutex<Option<u64>>>,
}

impl std::fmt::Debug for Kyc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kyc").finish_non_exhaustive()
    }
}

impl Kyc {
    pub fn new(
        db: DatabaseConnection,
        keys: Arc<KeyStore>,
        status: Arc<StatusLists>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            db,
            keys,
            status,
            clock,
            followed: Default::default(),
        }
    }
}

/// The status entries of a presented credential (`document`: a W3C credential, or an
/// SD-JWT VC's claims) and of the lists its verification read (an SD-JWT VC names its
/// revocation list; the suspension list read beside it shares the index).
pub fn status_refs(document: &Value, verification: &VerificationResult) -> Vec<StatusRef> {
    let owned = |e: Entry<'_>| StatusRef {
        url: e.url.to_owned(),
        index: e.index as u64,
        purpose: e.purpose,
    };
    let mut refs = Vec::new();
    if let Some(Some(entry)) = token_status_entry(document.get("status")) {
        let (url, index) = (entry.url, entry.index as u64);
        refs.push(owned(entry));
        refs.extend(
            read_lists(verification)
                .filter(|l| {
                    l.status_purpose == StatusPurpose::Suspension && l.status_list_credential != url
                })
                .map(|l| StatusRef {
                    url: l.status_list_credential.clone(),
                    index,
                    purpose: StatusPurpose::Suspension,
                }),
        );
    }
    if let Some(status) = document.get("credentialStatus") {
        refs.extend(bitstring_entries(status).filter_map(|e| match e {
            BitstringEntry::Read(entry) => Some(owned(entry)),
            _ => None,
        }));
    }
    refs
}

/// The status lists a verification read, its own and its embedded credentials'.
fn read_lists(verification: &VerificationResult) -> impl Iterator<Item = &PublishedList> {
    verification.status_lists.iter().chain(
        verification
            .credentials
            .iter()
            .flat_map(|c| &c.status_lists),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result(lists: Value) -> VerificationResult {
        serde_json::from_value(json!({
            "verified": true, "verdict": "valid", "checks": [], "errors": [], "warnings": [],
            "results": [], "statusLists": lists,
        }))
        .expect("a result")
    }

    #[test]
    fn an_sd_jwt_vc_names_its_revocation_list_and_shares_the_index_with_its_suspension_list() {
        let document = json!({"status": {"status_list": {"uri": "https://n/status/r", "idx": 7}}});
        let verification = result(json!([
            {"statusListCredential": "https://n/status/r", "statusPurpose": "revocation", "version": 1, "hash": "00"},
            {"statusListCredential": "https://n/status/s", "statusPurpose": "suspension", "version": 1, "hash": "00"},
        ]));
        assert_eq!(
            status_refs(&document, &verification),
            vec![
                StatusRef {
                    url: "https://n/status/r".into(),
                    index: 7,
                    purpose: StatusPurpose::Revocation
                },
                StatusRef {
                    url: "https://n/status/s".into(),
                    index: 7,
                    purpose: StatusPurpose::Suspension
                },
            ]
        );
    }

    #[test]
    fn w3c_entries_are_read_with_their_purpose_and_malformed_ones_skipped() {
        let document = json!({"credentialStatus": [
            {"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "12", "statusListCredential": "https://n/status/r"},
            {"type": "BitstringStatusListEntry", "statusPurpose": "suspension", "statusListIndex": "13", "statusListCredential": "https://n/status/s"},
            {"type": "BitstringStatusListEntry", "statusPurpose": "message", "statusListIndex": "1", "statusListCredential": "https://n/status/m"},
            {"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": 12, "statusListCredential": "https://n/status/x"},
        ]});
        let refs = status_refs(&document, &result(json!([])));
        assert_eq!(refs.len(), 2);
        assert_eq!(refs[1].index, 13);
        assert_eq!(refs[1].purpose, StatusPurpose::Suspension);
    }
}
