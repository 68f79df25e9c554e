//! The `status` check: a credential's status entries against the lists they name, which
//! must be this node's (status lists, like contexts and DID documents, are never fetched).
//! W3C Bitstring Status List entries (`credentialStatus`) and the IETF Token Status List
//! reference of SD-JWT VCs (`status.status_list`) are read from the same lists.

use certus_schemas::wire::{PublishedList, StatusPurpose};
use serde_json::Value;

use super::report::Report;
use super::{checks, Verifier};
use crate::status::StatusLists;

/// One entry to read: a list, an index and what a set bit means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    pub url: &'a str,
    pub index: usize,
    pub purpose: StatusPurpose,
}

/// One W3C `credentialStatus` entry, as Certus reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BitstringEntry<'a> {
    Read(Entry<'a>),
    /// Not a `BitstringStatusListEntry`.
    UnsupportedType,
    /// A purpose other than revocation and suspension.
    UnsupportedPurpose(Option<&'a str>),
    /// No decimal `statusListIndex`, or no `statusListCredential`.
    Invalid,
}

/// The entries of a `credentialStatus` (one, or an array).
pub fn bitstring_entries(status: &Value) -> impl Iterator<Item = BitstringEntry<'_>> {
    match status {
        Value::Array(entries) => entries.iter().collect::<Vec<_>>(),
        entry => vec![entry],
    }
    .into_iter()
    .map(|entry| {
        if entry.get("type").and_then(Value::as_str) != Some("BitstringStatusListEntry") {
            return BitstringEntry::UnsupportedType;
        }
        let purpose = match entry.get("statusPurpose").and_then(Value::as_str) {
            Some("revocation") => StatusPurpose::Revocation,
            Some("suspension") => StatusPurpose::Suspension,
            other => return BitstringEntry::UnsupportedPurpose(other),
        };
        let index = entry
            .get("statusListIndex")
            .and_then(Value::as_str)
            .and_then(|i| i.parse::<usize>().ok());
        match (
            index,
            entry.get("statusListCredential").and_then(Value::as_str),
        ) {
            (Some(index), Some(url)) => BitstringEntry::Read(Entry {
                url,
                index,
                purpose,
            }),
            _ => BitstringEntry::Invalid,
        }
    })
}

/// The revocation entry an SD-JWT VC's `status` claim names (`status_list` with `uri` and
/// `idx`): `None` without one, `Some(None)` when it is malformed.
pub fn token_status_entry(status: Option<&Value>) -> Option<Option<Entry<'_>>> {
    let reference = status?.get("status_list")?;
    let index = reference
        .get("idx")
        .and_then(Value::as_u64)
        .map(|i| i as usize);
    let url = reference.get("uri").and_then(Value::as_str);
    Some(match (index, url) {
        (Some(index), Some(url)) => Some(Entry {
            url,
            index,
            purpose: StatusPurpose::Revocation,
        }),
        _ => None,
    })
}

/// The entries to check of a `credentialStatus`, reporting those not checked; `Err` when
/// one is malformed.
fn checked_entries<'a>(report: &mut Report, status: &'a Value) -> Result<Vec<Entry<'a>>, ()> {
    let mut read = Vec::new();
    for entry in bitstring_entries(status) {
        match entry {
            BitstringEntry::Read(entry) => read.push(entry),
            BitstringEntry::UnsupportedType => report.warn(
                checks::STATUS,
                "STATUS_TYPE_UNSUPPORTED",
                "a credentialStatus entry is not a BitstringStatusListEntry and was not checked",
            ),
            BitstringEntry::UnsupportedPurpose(other) => report.warn(
                checks::STATUS,
                "STATUS_PURPOSE_UNSUPPORTED",
                format!("a status entry with purpose {other:?} was not checked"),
            ),
            BitstringEntry::Invalid => {
                report.fail(
                    checks::STATUS,
                    "STATUS_ENTRY_INVALID",
                    "a status entry needs statusListIndex (a decimal string) and statusListCredential",
                );
                return Err(());
            }
        }
    }
    Ok(read)
}

impl Verifier {
    /// Reports the `status` check of a credential whose `credentialStatus` is `status`,
    /// issued by `issuer`.
    pub(super) async fn check_status(
        &self,
        report: &mut Report,
        status: Option<&Value>,
        issuer: Option<&str>,
    ) {
        let Some(status) = status else {
            return report.skip(checks::STATUS, "the credential has no credentialStatus");
        };
        let Ok(entries) = checked_entries(report, status) else {
            return;
        };
        self.read_entries(report, entries, issuer).await;
    }

    /// Reports the `status` check of an SD-JWT VC whose `status` claim is `status`: its
    /// `status_list` names a revocation list (this node's, or another member's anchored on
    /// the chain), whose pair also holds the suspension bit.
    pub(super) async fn check_token_status(
        &self,
        report: &mut Report,
        status: Option<&Value>,
        issuer: Option<&str>,
    ) {
        let entry = match token_status_entry(status) {
            None => return report.skip(checks::STATUS, "the credential has no status_list claim"),
            Some(None) => {
                return report.fail(
                    checks::STATUS,
                    "STATUS_ENTRY_INVALID",
                    "status.status_list needs idx (an integer) and uri",
                )
            }
            Some(Some(entry)) => entry,
        };
        let Some(lists) = self.lists(report) else {
            return;
        };
        let partner = match lists.local_list(entry.url) {
            Some(list) => lists
                .partner(list)
                .await
                .map(|partner| partner.map(|p| lists.url(p))),
            None => lists.member_partner(entry.url).await,
        };
        let partner = match partner {
            Ok(partner) => partner,
            Err(e) => return report.error(checks::STATUS, "STATUS_UNCHECKABLE", e),
        };
        let index = entry.index;
        let mut entries = vec![entry];
        if let Some(partner) = &partner {
            entries.push(Entry {
                url: partner,
                index,
                purpose: StatusPurpose::Suspension,
            });
        }
        self.read_entries(report, entries, issuer).await;
    }

    fn lists(&self, report: &mut Report) -> Option<&StatusLists> {
        if self.status.is_none() {
            report.error(
                checks::STATUS,
                "STATUS_LIST_UNAVAILABLE",
                "this verifier has no status lists, and status lists are never fetched",
            );
        }
        self.status.as_deref()
    }

    async fn read_entries(
        &self,
        report: &mut Report,
        entries: Vec<Entry<'_>>,
        issuer: Option<&str>,
    ) {
        if entries.is_empty() {
            return report.skip(checks::STATUS, "no status entry Certus checks");
        }
        let Some(lists) = self.lists(report) else {
            return;
        };
        let mut read = Vec::new();
        for entry in entries {
            match lists
                .check(entry.url, entry.index, entry.purpose, issuer)
                .await
            {
                Ok((set, published)) => {
                    read.push(PublishedList {
                        status_list_credential: entry.url.to_owned(),
                        status_purpose: entry.purpose,
                        version: published.version,
                        hash: published.hash.to_hex(),
                        member: published.member.clone(),
                    });
                    if set {
                        let (code, state) = match entry.purpose {
                            StatusPurpose::Revocation => ("REVOKED", "revoked"),
                            StatusPurpose::Suspension => ("SUSPENDED", "suspended"),
                        };
                        read.into_iter().for_each(|l| report.saw_status_list(l));
                        return report.fail(
                            checks::STATUS,
                            code,
                            format!(
                                "the credential is {state} ({} version {})",
                                entry.url, published.version
                            ),
                        );
                    }
                }
                Err(e) if e.is_indeterminate() => {
                    return report.error(checks::STATUS, e.code(), e);
                }
                Err(e) => return report.fail(checks::STATUS, e.code(), e),
            }
        }
        let message = read
            .iter()
            .map(|l| format!("{} list version {}", l.status_purpose.as_str(), l.version))
            .collect::<Vec<_>>()
            .join(", ");
        read.into_iter().for_each(|l| report.saw_status_list(l));
        report.pass_with(
            checks::STATUS,
            format!("not revoked or suspended ({message})"),
        );
    }
}
