//! The `accreditation` check: was the credential's issuer accredited — by the chain's root
//! authority, or by a delegation from an institution accredited then — to issue its type
//! at the credential's point on the chain (its anchor; now while unanchored)?

use chrono::{DateTime, Utc};

use certus_credential::catalog::CredentialType;

use super::report::Report;
use super::{checks, Verifier};

impl Verifier {
    /// Reports the `accreditation` check for a credential of `credential_type` by `issuer`.
    pub(super) async fn check_accreditation(
        &self,
        report: &mut Report,
        issuer: Option<&str>,
        credential_type: Option<&CredentialType>,
        now: DateTime<Utc>,
    ) {
        let Some(trust) = &self.trust else {
            return report.skip(checks::ACCREDITATION, "no trust registry is configured");
        };
        let (Some(issuer), Some(credential_type)) = (issuer, credential_type) else {
            return report.skip(
                checks::ACCREDITATION,
                "no issuer, or no credential type registered here",
            );
        };
        let time_ms = report
            .key_point()
            .map_or_else(|| now.timestamp_millis(), |at| at.time_ms());
        let schema = credential_type.schema_hash.to_hex();
        match trust.accredited_at(issuer, &schema, time_ms).await {
            Ok(Some(accredited)) => {
                let path = accredited
                    .path
                    .iter()
                    .map(|s| format!("{} by {} ({})", s.kind, s.grantor, s.id))
                    .collect::<Vec<_>>()
                    .join(", then ");
                report.pass_with(
                    checks::ACCREDITATION,
                    format!("accredited for {}: {path}", credential_type.name),
                );
            }
            Ok(None) => {
                report.skip(
                    checks::ACCREDITATION,
                    format!(
                        "the issuer was not accredited for {} at that time",
                        credential_type.name
                    ),
                );
                report.warn(
                    checks::ACCREDITATION,
                    "NOT_ACCREDITED",
                    format!(
                        "no accreditation on this chain covers the issuer for {} at the credential's time; require the accreditation check in a policy to refuse such credentials",
                        credential_type.name
                    ),
                );
            }
            Err(e) => report.error(checks::ACCREDITATION, "ACCREDITATION_UNCHECKABLE", e),
        }
    }
}
