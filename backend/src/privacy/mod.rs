//! GDPR: the personal-data vault, erasure (Art. 17), export (Art. 15 and 20), retention,
//! the records of processing (Art. 30) and the privacy lint.
//!
//! Every personal value Certus keeps — a credential's subject as issued, the holder's
//! contact data, KYC evidence, an offer waiting for its wallet — is a JWE under the key
//! of the person it is about ([`vault`]). Erasing the person destroys that key and clears
//! the ciphertexts, signs a receipt naming them by a salted hash, and anchors the
//! receipt's hash with that salted hash; a node restored from an older backup re-applies
//! every anchored erasure at start ([`erasure::reapply`]). Issuance records, status
//! entries and anchors hold no personal data and stay, so a credential can still be
//! revoked and its status checked.

pub mod erasure;
pub mod export;
pub mod processing;
pub mod retention;
pub mod vault;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};
use serde_json::Value;

use certus_schemas::privacy::{DataSubjectOptions, RecordKind};

use crate::issuance::IssueError;
use crate::keys::KeyStore;
use crate::store::entities::{data_subjects, personal_records};
use crate::trust::TrustRegistry;
use certus_credential::catalog::Catalog;
use certus_credential::time::Clock;
pub use vault::{Subject, Vault};

/// The privacy service: the vault's subjects and records, erasure, export, retention and
/// the records of processing.
#[derive(Clone)]
pub struct Privacy {
    db: DatabaseConnection,
    vault: Arc<Vault>,
    /// Sign erasure receipts; name the controller's DIDs.
    keys: Arc<KeyStore>,
    catalog: Arc<Catalog>,
    /// Which types an institution may issue (records of processing).
    trust: Arc<TrustRegistry>,
    clock: Arc<dyn Clock>,
    listeners: Arc<[Arc<dyn ErasureListener>]>,
}

impl std::fmt::Debug for Privacy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Privacy").finish_non_exhaustive()
    }
}

impl Privacy {
    pub fn new(
        db: DatabaseConnection,
        vault: Arc<Vault>,
        keys: Arc<KeyStore>,
        catalog: Arc<Catalog>,
        trust: Arc<TrustRegistry>,
        clock: Arc<dyn Clock>,
        listeners: Vec<Arc<dyn ErasureListener>>,
    ) -> Self {
        Self {
            db,
            vault,
            keys,
            catalog,
            trust,
            clock,
            listeners: listeners.into(),
        }
    }

    /// The personal-data vault.
    pub fn vault(&self) -> &Arc<Vault> {
        &self.vault
    }
}

/// Hears, inside an erasure's database transaction, of the data subjects it erases, so
/// that what other domains keep about them (offers waiting for a wallet) goes with the
/// erasure, without the privacy module writing their tables.
pub trait ErasureListener: Send + Sync {
    fn subjects_erased<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        subjects: &'a [&'a str],
    ) -> Pin<Box<dyn Future<Output = Result<(), DbErr>> + Send + 'a>>;
}

/// Longest institution reference for a person, in bytes.
const MAX_REFERENCE_LEN: usize = 200;

/// Whose personal data an issuance carries.
#[derive(Debug)]
pub enum DataSubject<'a> {
    /// As the request names them (`options.dataSubject`); without a reference, a data
    /// subject of its own.
    Given(Option<&'a DataSubjectOptions>),
    /// A stored subject: an offer's, whose contact data and evidence were kept with the
    /// offer.
    Stored(Box<Subject>),
}

/// The vault rows an issuance writes with its record.
#[derive(Debug, Default)]
pub struct PersonalRows {
    /// The data subject's row, when new.
    pub subject: Option<data_subjects::ActiveModel>,
    pub records: Vec<personal_records::ActiveModel>,
}

/// Checks `options.dataSubject` before anything is signed or stored.
pub fn check(options: Option<&DataSubjectOptions>) -> Result<(), IssueError> {
    let Some(reference) = options.and_then(|o| o.reference.as_deref()) else {
        return Ok(());
    };
    if reference.trim().is_empty() || reference.len() > MAX_REFERENCE_LEN {
        return Err(IssueError::Malformed {
            message: format!(
                "dataSubject.reference must be 1 to {MAX_REFERENCE_LEN} bytes, not blank"
            ),
            path: "/options/dataSubject/reference".into(),
        });
    }
    Ok(())
}

/// The data subject of an issuance or offer, and the contact data and evidence given
/// with it, sealed under the subject's key.
pub async fn subject_of(
    vault: &Vault,
    tenant_id: &str,
    given: Option<&DataSubjectOptions>,
    credential_type: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<(Subject, Vec<personal_records::ActiveModel>)> {
    let subject = match given.and_then(|o| o.reference.as_deref()) {
        Some(reference) => {
            vault
                .subject_by_reference(tenant_id, reference, now)
                .await?
        }
        None => vault.new_subject(tenant_id, now).await?,
    };
    let mut records = Vec::new();
    for (kind, data) in given.into_iter().flat_map(|o| {
        [
            (RecordKind::Contact, &o.contact),
            (RecordKind::Evidence, &o.evidence),
        ]
    }) {
        if let Some(data) = data {
            records.push(subject.seal(
                tenant_id,
                kind,
                None,
                Some(credential_type),
                &Value::Object(data.clone()),
                now,
            )?);
        }
    }
    Ok((subject, records))
}

/// The vault rows of an issuance, one set per credential issued (one, or the copies of a
/// batch): each credential's `credentialSubject` as issued; with the first, the data
/// subject's row when new and what else the request gave about the person.
pub async fn issuance_rows<'c>(
    vault: &Vault,
    tenant_id: &str,
    data_subject: DataSubject<'_>,
    credential_type: &str,
    credentials: impl IntoIterator<Item = (&'c str, &'c Value)>,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<PersonalRows>> {
    let (mut subject, mut given) = match data_subject {
        DataSubject::Given(given) => {
            subject_of(vault, tenant_id, given, credential_type, now).await?
        }
        DataSubject::Stored(subject) => (*subject, Vec::new()),
    };
    let mut rows = Vec::new();
    for (credential_id, credential_subject) in credentials {
        let mut records = std::mem::take(&mut given);
        for record in &mut records {
            record.credential_id = sea_orm::Set(Some(credential_id.to_owned()));
        }
        records.insert(
            0,
            subject.seal(
                tenant_id,
                RecordKind::CredentialSubject,
                Some(credential_id),
                Some(credential_type),
                credential_subject,
                now,
            )?,
        );
        rows.push(PersonalRows {
            subject: subject.new.take(),
            records,
        });
    }
    Ok(rows)
}
