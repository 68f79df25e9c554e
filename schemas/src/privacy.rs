//! GDPR: the wire types of the personal-data vault (data subjects, their records, export,
//! erasure), retention, records of processing (Art. 30) and the privacy lint; and the
//! pure rules the frontend and the backend apply alike (retention periods, the lint).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::wire::CredentialFormat;

/// Who an issuance's personal data is about, and what else is kept about them
/// (`options.dataSubject` of an issuance or offer). Everything here is stored encrypted
/// under the person's own key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataSubjectOptions {
    /// The institution's own reference for the person (a customer or patient number).
    /// Issuances with the same reference belong to one data subject, so one export or
    /// erasure covers them all. Kept only as a keyed hash, never in clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The holder's contact data (e-mail, phone, postal address), as a JSON object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Map<String, Value>>,
    /// The evidence of a KYC check (document type, number, issuing state, the check's
    /// reference at an identity-verification provider), as a JSON object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Map<String, Value>>,
}

/// What a personal record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum RecordKind {
    /// A credential's `credentialSubject` as issued.
    CredentialSubject,
    /// The holder's contact data.
    Contact,
    /// KYC evidence.
    Evidence,
}

impl RecordKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CredentialSubject => "credentialSubject",
            Self::Contact => "contact",
            Self::Evidence => "evidence",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::CredentialSubject, Self::Contact, Self::Evidence]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// One encrypted record about a data subject, described without its contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PersonalRecordInfo {
    pub id: String,
    pub kind: RecordKind,
    /// The credential it came with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_type: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// When retention erases it (RFC 3339), under the type's period today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain_until: Option<String>,
    /// When it was erased (RFC 3339); its contents are gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<String>,
}

/// A data subject: the person some of a tenant's records are about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DataSubjectInfo {
    pub id: String,
    /// RFC 3339.
    pub created_at: String,
    /// When the subject's key was destroyed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<String>,
    pub records: Vec<PersonalRecordInfo>,
    /// Credentials issued with the subject's data: their records (identifiers and status,
    /// never claims) outlive an erasure, so their status can still be changed and checked.
    pub credentials: Vec<String>,
}

/// `POST /data-subjects/search` body: one of the two.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataSubjectSearch {
    /// The institution's reference given at issuance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// A credential issued with the subject's data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
}

/// `POST /data-subjects/search` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DataSubjectList {
    pub subjects: Vec<DataSubjectInfo>,
}

/// Why personal data was erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum ErasureReason {
    /// The data subject asked (GDPR Art. 17).
    Request,
    /// The credential type's retention period ran out.
    Retention,
}

impl ErasureReason {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::Retention => "retention",
        }
    }
}

/// An erasure and its receipt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ErasureInfo {
    /// The receipt's id (`urn:uuid:…`).
    pub id: String,
    pub data_subject: String,
    pub reason: ErasureReason,
    /// How many records were erased.
    pub records: u64,
    /// RFC 3339.
    pub erased_at: String,
    /// The receipt as the institution signed it (`typ: erasure-receipt+jwt`). It names the
    /// subject and the records by salted hashes only.
    pub receipt: String,
    /// Hex hash of the receipt, anchored on the chain: `GET /anchors/{commitment}/receipt`.
    pub commitment: String,
}

/// `GET /erasures` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ErasureList {
    pub erasures: Vec<ErasureInfo>,
}

/// One record in an export, with its contents while they can still be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExportedRecord {
    #[serde(flatten)]
    pub info: PersonalRecordInfo,
    /// The decrypted contents; absent once erased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub data: Option<Value>,
}

/// `GET /data-subjects/{id}/export`: everything held about a data subject (GDPR Art. 15
/// and 20), machine-readable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SubjectExport {
    /// `certus-data-subject-export/1`.
    pub format: String,
    /// RFC 3339.
    pub exported_at: String,
    pub controller: Controller,
    pub data_subject: String,
    /// RFC 3339.
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<String>,
    pub records: Vec<ExportedRecord>,
    /// The credentials issued with the subject's data, as their records hold them.
    pub credentials: Vec<crate::portal::CredentialRecord>,
    pub erasures: Vec<ErasureInfo>,
    /// Why and how the data is processed: the records of processing of the credential
    /// types the subject's data came with.
    pub processing: Vec<ProcessingActivity>,
}

/// The controller (the institution) of personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Controller {
    pub tenant: String,
    pub name: String,
    pub dids: Vec<String>,
}

/// Where a retention period comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum RetentionSource {
    /// The credential type's schema (`x-certus-retention`).
    Schema,
    /// The institution set it.
    Institution,
    /// Certus's default, for credentials issued openly (of no registered type, whose
    /// subject no schema describes).
    Default,
}

/// The retention of one credential type's personal data at one institution, with what
/// it holds of it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RetentionRule {
    pub credential_type: String,
    /// ISO 8601 duration after issuance, e.g. `P5Y`.
    pub period: String,
    /// The schema's period.
    pub schema_period: String,
    pub source: RetentionSource,
    /// Records still readable.
    pub held: u64,
    /// Of those, past the period (erased by the next sweep).
    pub due: u64,
    /// Records erased because their period ran out.
    pub erased: u64,
}

/// `GET /retention` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RetentionReport {
    pub rules: Vec<RetentionRule>,
    /// The latest retention erasures, newest first.
    pub erasures: Vec<ErasureInfo>,
}

/// `PUT /retention/{type}` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetentionUpdate {
    /// ISO 8601 duration, e.g. `P6Y`; `null` goes back to the schema's period.
    pub period: Option<String>,
}

/// `POST /retention/sweep` response: what one sweep erased.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    pub records: u64,
    pub erasures: Vec<ErasureInfo>,
}

/// One processing activity of a record of processing (GDPR Art. 30(1)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProcessingActivity {
    /// E.g. `Issuing KycCredential`, `Verifying under policy kyc-onboarding`.
    pub name: String,
    /// `issuance` or `verification`.
    pub activity: String,
    pub purpose: String,
    /// Categories of data subjects.
    pub data_subjects: String,
    /// Categories of personal data: the personal claims.
    pub personal_data: Vec<String>,
    /// Recipients of the data.
    pub recipients: Vec<String>,
    /// Transfers to third countries or international organisations.
    pub transfers: String,
    /// Time limits for erasure.
    pub retention: String,
    /// Technical and organisational security measures.
    pub security: Vec<String>,
}

/// `GET /records-of-processing` response: an institution's record of processing
/// activities (GDPR Art. 30), generated from its credential types and verifier policies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RecordsOfProcessing {
    pub controller: Controller,
    /// RFC 3339.
    pub generated_at: String,
    pub activities: Vec<ProcessingActivity>,
}

/// How much a lint finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Info,
}

/// A data-minimisation finding about a credential type, an issuance or a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LintFinding {
    /// Stable code: `PERSONAL_NOT_DISCLOSABLE`, `PERSONAL_NOT_FLAGGED`,
    /// `ASKS_MORE_THAN_POLICY`, `NO_POLICY`.
    pub code: String,
    pub severity: Severity,
    /// The claim concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    pub message: String,
}

impl LintFinding {
    fn new(code: &str, severity: Severity, claim: Option<&str>, message: String) -> Self {
        Self {
            code: code.into(),
            severity,
            claim: claim.map(str::to_owned),
            message,
        }
    }
}

/// Claim names that usually hold personal data; a claim so named that its schema does
/// not flag is worth a second look.
const USUALLY_PERSONAL: &[&str] = &[
    "name",
    "givenname",
    "familyname",
    "fullname",
    "birthdate",
    "dateofbirth",
    "birthplace",
    "placeofbirth",
    "email",
    "phone",
    "telephone",
    "address",
    "streetaddress",
    "nationality",
    "gender",
    "sex",
    "documentnumber",
    "passportnumber",
    "personalnumber",
    "taxid",
    "iban",
    "photo",
    "portrait",
];

/// True for a claim name that usually holds personal data (`birthDate`, `email`,
/// `contactEmail`…): one of the usual names, or ending in one of more than four letters.
pub fn usually_personal(claim: &str) -> bool {
    let lower = claim.to_ascii_lowercase();
    USUALLY_PERSONAL
        .iter()
        .any(|p| lower == *p || (p.len() > 4 && lower.ends_with(p)))
}

/// The privacy lint of a credential type: personal claims the schema does not flag, and,
/// for each format that cannot disclose selectively, the personal claims it would show
/// in full in every presentation.
pub fn lint_credential_type<'a>(
    claims: impl IntoIterator<Item = &'a str>,
    personal: &[String],
) -> Vec<LintFinding> {
    let mut findings = Vec::new();
    for claim in claims {
        let flagged = personal.iter().any(|p| p == claim);
        if !flagged && usually_personal(claim) {
            findings.push(LintFinding::new(
                "PERSONAL_NOT_FLAGGED",
                Severity::Warning,
                Some(claim),
                format!(
                    "`{claim}` looks like personal data but the schema does not flag it \
                     (x-certus-personal): it is neither selectively disclosable by default \
                     nor listed in the records of processing"
                ),
            ));
        }
    }
    if !personal.is_empty() {
        findings.push(LintFinding::new(
            "PERSONAL_NOT_DISCLOSABLE",
            Severity::Info,
            None,
            format!(
                "issued as ldp_vc or vc+jwt, the personal claims ({}) are shown in full in \
                 every presentation; dc+sd-jwt lets the holder disclose them one by one",
                personal.join(", ")
            ),
        ));
    }
    findings
}

/// The privacy lint of one issuance: the personal claims of `subject` a holder will not
/// be able to withhold, given the format and the claims made selectively disclosable.
pub fn lint_issuance(
    subject: &Map<String, Value>,
    personal: &[String],
    format: CredentialFormat,
    disclosable: Option<&[String]>,
) -> Vec<LintFinding> {
    personal
        .iter()
        .filter(|claim| subject.contains_key(claim.as_str()))
        .filter(|claim| match (format, disclosable) {
            (CredentialFormat::DcSdJwt, None) => false,
            (CredentialFormat::DcSdJwt, Some(names)) => !names.contains(claim),
            _ => true,
        })
        .map(|claim| {
            LintFinding::new(
                "PERSONAL_NOT_DISCLOSABLE",
                Severity::Warning,
                Some(claim),
                format!(
                    "`{claim}` is personal data and will not be selectively disclosable: \
                     the holder must show it whenever they present this credential"
                ),
            )
        })
        .collect()
}

/// The privacy lint of a presentation request: the claims it asks for beyond those its
/// policy requires (`needed`), or a note that without a policy need cannot be judged.
pub fn lint_request(asked: &[String], needed: Option<&[String]>) -> Vec<LintFinding> {
    let Some(needed) = needed else {
        return vec![LintFinding::new(
            "NO_POLICY",
            Severity::Info,
            None,
            "the request names no policy, so whether it asks for more than it needs cannot \
             be checked"
                .into(),
        )];
    };
    asked
        .iter()
        .filter(|claim| !needed.contains(claim))
        .map(|claim| {
            LintFinding::new(
                "ASKS_MORE_THAN_POLICY",
                Severity::Warning,
                Some(claim),
                format!(
                    "the request asks for `{claim}`, which its policy does not require; ask \
                     only for what the decision needs"
                ),
            )
        })
        .collect()
}

/// An ISO 8601 duration of whole units (`P5Y`, `P18M`, `P1Y6M`, `P30D`, `P2W`, `PT1H`,
/// `PT30S`): how long personal data is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Period {
    pub years: u32,
    pub months: u32,
    pub days: u32,
    pub seconds: u64,
}

impl Period {
    /// Parses an ISO 8601 duration of whole, non-negative units; at least one unit, and
    /// at most 100 years in all.
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix('P')?;
        let (date, time) = match rest.split_once('T') {
            Some((d, t)) if !t.is_empty() => (d, Some(t)),
            Some(_) => return None,
            None => (rest, None),
        };
        let mut period = Self::default();
        let mut units = 0;
        for (part, designators) in [(date, "YMWD"), (time.unwrap_or(""), "HMS")] {
            let mut number = String::new();
            let mut last = None;
            for c in part.chars() {
                if c.is_ascii_digit() {
                    number.push(c);
                    continue;
                }
                let position = designators.find(c)?;
                if number.is_empty() || last.is_some_and(|l| position <= l) {
                    return None;
                }
                last = Some(position);
                let n: u64 = number.parse().ok()?;
                number.clear();
                units += 1;
                match (designators, c) {
                    ("YMWD", 'Y') => period.years = u32::try_from(n).ok()?,
                    ("YMWD", 'M') => period.months = u32::try_from(n).ok()?,
                    ("YMWD", 'W') => period.days += u32::try_from(n.checked_mul(7)?).ok()?,
                    ("YMWD", _) => period.days += u32::try_from(n).ok()?,
                    (_, 'H') => period.seconds += n.checked_mul(3600)?,
                    (_, 'M') => period.seconds += n.checked_mul(60)?,
                    _ => period.seconds += n,
                }
            }
            if !number.is_empty() {
                return None;
            }
        }
        let approximate_days = u64::from(period.years) * 366
            + u64::from(period.months) * 31
            + u64::from(period.days)
            + period.seconds / 86_400;
        (units > 0 && approximate_days <= 100 * 366).then_some(period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn periods_parse_whole_iso_8601_durations() {
        let p = |t| Period::parse(t);
        assert_eq!(
            p("P5Y"),
            Some(Period {
                years: 5,
                ..Default::default()
            })
        );
        assert_eq!(
            p("P1Y6M2W3D"),
            Some(Period {
                years: 1,
                months: 6,
                days: 17,
                seconds: 0
            })
        );
        assert_eq!(
            p("PT1H30M2S"),
            Some(Period {
                seconds: 5402,
                ..Default::default()
            })
        );
        assert_eq!(
            p("P0D"),
            Some(Period::default()),
            "zero is a period: erase at once"
        );
        for bad in [
            "", "P", "PT", "5Y", "P5", "P5X", "PY", "P1M1Y", "P-1Y", "P1.5Y", "P101Y", "p5y",
            "P1YT",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_type_lint_flags_unflagged_personal_claims_and_non_disclosable_formats() {
        let personal = vec!["givenName".to_owned()];
        let findings = lint_credential_type(
            [
                "givenName",
                "contactEmail",
                "standard",
                "email",
                "productName",
            ],
            &personal,
        );
        let codes: Vec<_> = findings
            .iter()
            .map(|f| (f.code.as_str(), f.claim.as_deref()))
            .collect();
        assert_eq!(
            codes,
            [
                ("PERSONAL_NOT_FLAGGED", Some("contactEmail")),
                ("PERSONAL_NOT_FLAGGED", Some("email")),
                ("PERSONAL_NOT_DISCLOSABLE", None),
            ]
        );
        assert!(lint_credential_type(["standard"], &[]).is_empty());
    }

    #[test]
    fn the_issuance_lint_names_personal_claims_the_holder_cannot_withhold() {
        let subject = json!({"givenName": "A", "familyName": "B", "standard": "X"});
        let subject = subject.as_object().expect("object");
        let personal = vec![
            "givenName".to_owned(),
            "familyName".to_owned(),
            "birthDate".to_owned(),
        ];
        let claims = |format, sd: Option<&[String]>| -> Vec<String> {
            lint_issuance(subject, &personal, format, sd)
                .into_iter()
                .filter_map(|f| f.claim)
                .collect()
        };
        assert!(claims(CredentialFormat::DcSdJwt, None).is_empty());
        assert_eq!(
            claims(CredentialFormat::DcSdJwt, Some(&["givenName".to_owned()])),
            ["familyName"]
        );
        assert_eq!(
            claims(CredentialFormat::VcJwt, None),
            ["givenName", "familyName"]
        );
    }

    #[test]
    fn the_request_lint_names_claims_beyond_the_policy() {
        let asked = vec!["givenName".to_owned(), "birthDate".to_owned()];
        let findings = lint_request(&asked, Some(&["givenName".to_owned()]));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].code, "ASKS_MORE_THAN_POLICY");
        assert_eq!(findings[0].claim.as_deref(), Some("birthDate"));
        assert!(lint_request(&asked, Some(&asked)).is_empty());
        assert_eq!(lint_request(&asked, None)[0].code, "NO_POLICY");
    }
}
