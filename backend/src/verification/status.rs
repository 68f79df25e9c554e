//! The `status` check: a credential's W3C Bitstring Status List entries against the lists
//! they name, which must be this node's (status lists, like contexts and DID documents,
//! are never fetched).

use certus_schemas::wire::{PublishedList, StatusPurpose};
use serde_json::Value;

use super::report::Report;
use super::{checks, Verifier};

impl Verifier {
    /// Reports the `status` check of a credential whose `credentialStatus` is `status`,
    /// issued by `issuer`.
    pub(super) async fn check_status(
        &self,
        report: &mut Report,
        status: Option<&Value>,
        issuer: Option<&str>,
    ) {
        let entries: Vec<&Value> = match status {
            None => return report.skip(checks::STATUS, "the credential has no credentialStatus"),
            Some(Value::Array(entries)) => entries.iter().collect(),
            Some(entry) => vec![entry],
        };
        let Some(lists) = &self.status else {
            return report.error(
                checks::STATUS,
                "STATUS_LIST_UNAVAILABLE",
                "this verifier has no status lists, and status lists are never fetched",
            );
        };
        let mut read = Vec::new();
        for entry in entries {
            if entry.get("type").and_then(Value::as_str) != Some("BitstringStatusListEntry") {
                report.warn(
                    checks::STATUS,
                    "STATUS_TYPE_UNSUPPORTED",
                    "a credentialStatus entry is not a BitstringStatusListEntry and was not checked",
                );
                continue;
            }
            let purpose = match entry.get("statusPurpose").and_then(Value::as_str) {
                Some("revocation") => StatusPurpose::Revocation,
                Some("suspension") => StatusPurpose::Suspension,
                other => {
                    report.warn(
                        checks::STATUS,
                        "STATUS_PURPOSE_UNSUPPORTED",
                        format!("a status entry with purpose {other:?} was not checked"),
                    );
                    continue;
                }
            };
            let index = entry
                .get("statusListIndex")
                .and_then(Value::as_str)
                .and_then(|i| i.parse::<usize>().ok());
            let url = entry.get("statusListCredential").and_then(Value::as_str);
            let (Some(index), Some(url)) = (index, url) else {
                return report.fail(
                    checks::STATUS,
                    "STATUS_ENTRY_INVALID",
                    "a status entry needs statusListIndex (a decimal string) and statusListCredential",
                );
            };
            match lists.check(url, index, purpose, issuer).await {
                Ok((set, published)) => {
                    let seen = format!("{url} version {}", published.version);
                    read.push(PublishedList {
                        status_list_credential: url.to_owned(),
                        status_purpose: purpose,
                        version: published.version,
                        hash: published.hash.to_hex(),
                    });
                    if set {
                        let (code, state) = match purpose {
                            StatusPurpose::Revocation => ("REVOKED", "revoked"),
                            StatusPurpose::Suspension => ("SUSPENDED", "suspended"),
                        };
                        read.into_iter().for_each(|l| report.saw_status_list(l));
                        return report.fail(
                            checks::STATUS,
                            code,
                            format!("the credential is {state} ({seen})"),
                        );
                    }
                }
                Err(e) if e.is_indeterminate() => {
                    return report.error(checks::STATUS, e.code(), e);
                }
                Err(e) => return report.fail(checks::STATUS, e.code(), e),
            }
        }
        if read.is_empty() {
            return report.skip(checks::STATUS, "no status entry Certus checks");
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
