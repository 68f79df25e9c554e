//! Verification of credentials and presentations in every format Certus speaks. Each check
//! is reported with its outcome; "could not check" (`error`) is kept apart from "checked and
//! invalid" (`failed`).

mod accreditation;
mod anchor;
pub mod credential;
pub mod policies;
pub mod policy;
pub mod presentation;
mod report;
pub mod status;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

pub use certus_schemas::holder::{issuer_of, types_of};

use crate::ledger::store::Ledger;
use crate::status::StatusLists;
use crate::trust::TrustRegistry;
use certus_credential::catalog::{Catalog, CredentialType};
use certus_credential::contexts::{context_urls, Contexts};
use certus_credential::did::{AuthorisedKey, Resolver};
use certus_credential::jose::DecodedJws;
use certus_credential::{VC_V1_CONTEXT, VC_V2_CONTEXT};
use certus_schemas::kyc::Assurance;
use certus_schemas::wire::{CredentialSummary, VerifyOptions};
use report::Report;

/// Names of the checks, as they appear in results.
pub mod checks {
    pub const FORMAT: &str = "format";
    pub const CONTEXTS: &str = "contexts";
    pub const ISSUER: &str = "issuer";
    pub const HOLDER: &str = "holder";
    pub const SIGNATURE: &str = "signature";
    pub const DISCLOSURES: &str = "disclosures";
    pub const VALIDITY: &str = "validity";
    pub const SCHEMA: &str = "schema";
    pub const HOLDER_BINDING: &str = "holderBinding";
    pub const CHALLENGE: &str = "challenge";
    pub const DOMAIN: &str = "domain";
    pub const CREDENTIALS: &str = "credentials";
    pub const ANCHORED: &str = "anchored";
    pub const STATUS: &str = "status";
    pub const POLICY: &str = "policy";
    pub const ACCREDITATION: &str = "accreditation";
}

/// The input is not a credential (or presentation) in any form Certus reads.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UnrecognisedInput(pub String);

/// Everything a verification needs besides its input.
#[derive(Debug, Clone)]
pub struct Verifier {
    /// The chain credentials are anchored on; without one the `anchored` check is skipped.
    pub ledger: Option<Arc<Ledger>>,
    /// This node's status lists; without them only lists of other nodes could be read,
    /// which are never fetched, so the `status` check cannot be carried out.
    pub status: Option<Arc<StatusLists>>,
    /// The chain's trust registry; without it the `accreditation` check is skipped.
    pub trust: Option<Arc<TrustRegistry>>,
    pub resolver: Resolver,
    pub contexts: Arc<Contexts>,
    pub catalog: Arc<Catalog>,
    /// Oldest acceptable key-binding JWT, in seconds.
    pub max_key_binding_age_secs: i64,
}

/// What the verifier expects a presentation (or key binding) to be bound to.
#[derive(Debug, Clone, Copy, Default)]
pub struct Binding<'a> {
    pub challenge: Option<&'a str>,
    pub domain: Option<&'a str>,
}

impl<'a> From<&'a VerifyOptions> for Binding<'a> {
    fn from(options: &'a VerifyOptions) -> Self {
        Self {
            challenge: options.challenge.as_deref(),
            domain: options.domain.as_deref(),
        }
    }
}

/// Reports the `signature` check of a JWS against the key the issuer (or holder) check
/// found; skipped when that check found none.
fn check_jws_signature(report: &mut Report, jws: &DecodedJws<'_>, key: Option<&AuthorisedKey>) {
    match key {
        Some(key) => match jws.verify(&key.jwk) {
            Ok(()) => report.pass(checks::SIGNATURE),
            Err(e) => report.fail(checks::SIGNATURE, e.code(), &e),
        },
        None => report.skip(checks::SIGNATURE, "no authorised key to check against"),
    }
}

/// Checks the `@context` list: the VC base context first, every context bundled.
fn check_contexts(report: &mut Report, document: &Value, contexts: &Contexts) -> bool {
    let urls = document.as_object().map(context_urls).unwrap_or_default();
    match urls.first() {
        Some(&VC_V2_CONTEXT) | Some(&VC_V1_CONTEXT) => {}
        _ => {
            report.fail(
                checks::CONTEXTS,
                "INVALID_CONTEXT",
                "the first @context must be the W3C credentials context",
            );
            return false;
        }
    }
    match document
        .as_object()
        .and_then(|d| contexts.first_unlisted(d))
    {
        Some(unknown) => {
            report.fail(
                checks::CONTEXTS,
                "UNKNOWN_CONTEXT",
                format!(
                    "JSON-LD context `{unknown}` is not a bundled one (contexts are never \
                     fetched, and none is given inline)"
                ),
            );
            false
        }
        None => {
            report.pass(checks::CONTEXTS);
            true
        }
    }
}

fn parse_time(value: Option<&Value>) -> Result<Option<DateTime<Utc>>, ()> {
    match value {
        None => Ok(None),
        Some(v) => v
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| Some(d.with_timezone(&Utc)))
            .ok_or(()),
    }
}

/// Checks `validFrom`/`validUntil` (VC 2.0) or `issuanceDate`/`expirationDate` (VC 1.1).
fn check_validity(report: &mut Report, credential: &Value, now: DateTime<Utc>) {
    let from = parse_time(
        credential
            .get("validFrom")
            .or(credential.get("issuanceDate")),
    );
    let until = parse_time(
        credential
            .get("validUntil")
            .or(credential.get("expirationDate")),
    );
    let (Ok(from), Ok(until)) = (from, until) else {
        report.fail(
            checks::VALIDITY,
            "INVALID_DATE",
            "a validity date is not an XSD dateTime",
        );
        return;
    };
    check_window(report, from, until, now);
}

fn check_window(
    report: &mut Report,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) {
    if let Some(from) = from.filter(|f| *f > now) {
        report.fail(
            checks::VALIDITY,
            "NOT_YET_VALID",
            format!("valid from {from}"),
        );
    } else if let Some(until) = until.filter(|u| *u <= now) {
        report.fail(checks::VALIDITY, "EXPIRED", format!("expired at {until}"));
    } else {
        report.pass(checks::VALIDITY);
    }
}

/// Validates the subject against the schema of the type version it was issued under.
fn check_schema(
    report: &mut Report,
    credential_type: Option<&CredentialType>,
    subject: Option<&Value>,
    disclosed_only: bool,
) {
    let Some(credential_type) = credential_type else {
        report.skip(checks::SCHEMA, "no credential type known to this server");
        return;
    };
    let Some(subject) = subject else {
        report.fail(
            checks::SCHEMA,
            "SCHEMA_VIOLATION",
            "credentialSubject is missing",
        );
        return;
    };
    let violations = if disclosed_only {
        credential_type.validate_disclosed(subject)
    } else {
        credential_type.validate(subject)
    };
    match violations.first() {
        None => report.pass(checks::SCHEMA),
        Some(v) => report.fail(
            checks::SCHEMA,
            "SCHEMA_VIOLATION",
            format!(
                "{} at `{}`: {}",
                credential_type.name,
                if v.path.is_empty() { "/" } else { &v.path },
                v.message
            ),
        ),
    }
}

/// What a JSON credential (Data Integrity, or a `vc+jwt` payload) says about itself.
fn summary_of(credential: &Value) -> CredentialSummary {
    CredentialSummary {
        issuer: issuer_of(credential).map(str::to_owned),
        types: types_of(credential)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        valid_from: credential
            .get("validFrom")
            .or(credential.get("issuanceDate"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        claims: credential
            .get("credentialSubject")
            .and_then(Value::as_object)
            .map(|s| s.keys().cloned().collect())
            .unwrap_or_default(),
        assurance: credential
            .get("credentialSubject")
            .and_then(Value::as_object)
            .and_then(Assurance::of),
    }
}
