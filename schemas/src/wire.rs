//! Request and response bodies of the HTTP API. Field names follow the W3C VC API
//! (<https://w3c-ccg.github.io/vc-api/>) where it defines them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// How an issued credential is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum CredentialFormat {
    /// W3C VC 2.0 secured with a Data Integrity proof (`eddsa-rdfc-2022` for Ed25519 keys,
    /// `ecdsa-rdfc-2019` for P-256 keys).
    #[default]
    #[serde(rename = "ldp_vc")]
    LdpVc,
    /// W3C VC 2.0 secured with VC-JOSE-COSE as a compact JWS (`typ: vc+jwt`).
    #[serde(rename = "vc+jwt")]
    VcJwt,
    /// IETF SD-JWT VC (`typ: dc+sd-jwt`) with selectively disclosable claims.
    #[serde(rename = "dc+sd-jwt")]
    DcSdJwt,
}

impl CredentialFormat {
    /// The wire name of the format.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LdpVc => "ldp_vc",
            Self::VcJwt => "vc+jwt",
            Self::DcSdJwt => "dc+sd-jwt",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::LdpVc, Self::VcJwt, Self::DcSdJwt]
            .into_iter()
            .find(|f| f.as_str() == text)
    }
}

/// `POST /credentials/issue` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// An unsecured W3C VC 2.0 credential. `issuer`, `id` and `validFrom` are filled in when
    /// absent.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub credential: Value,
    #[serde(default)]
    pub options: IssueOptions,
}

/// Options of an issuance.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IssueOptions {
    /// The securing format; `ldp_vc` when absent.
    #[serde(default)]
    pub format: CredentialFormat,
    /// For `dc+sd-jwt`: the `credentialSubject` claims to make selectively disclosable. When
    /// absent, the claims the credential type marks as personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selectively_disclosable: Option<Vec<String>>,
    /// Who the credential's personal data is about, and their contact data and KYC
    /// evidence: kept encrypted under the person's own key. Without it, the credential's
    /// subject is a data subject of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_subject: Option<crate::privacy::DataSubjectOptions>,
    /// For `ldp_vc`: the Data Integrity cryptosuite — `eddsa-rdfc-2022` (the default for
    /// Ed25519 keys), `eddsa-jcs-2022` (Ed25519, JSON canonicalization, no JSON-LD
    /// processing) or `ecdsa-rdfc-2019` (the default for P-256 keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cryptosuite: Option<String>,
    /// The credential's `id` (VC API), when the credential has none of its own; a random
    /// `urn:uuid:` when neither is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
    /// For `dc+sd-jwt` (VC API): JSON Pointers to what is always disclosed; every other
    /// `credentialSubject` claim is made selectively disclosable. A pointer into a claim
    /// makes the whole claim mandatory. Not with `selectivelyDisclosable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandatory_pointers: Option<Vec<String>>,
}

/// `POST /credentials/issue` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct IssueResponse {
    /// The secured credential: a Data Integrity credential, or an
    /// `EnvelopedVerifiableCredential` whose `id` is a `data:` URL holding the JWT.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub verifiable_credential: Value,
    /// The registered credential type version whose schema the subject was checked
    /// against; absent for a credential issued openly (no schema check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_schema: Option<CheckedSchema>,
    /// Whether the subject was checked against a registered type's schema (false only
    /// for open issuance).
    pub schema_checked: bool,
}

/// The registered schema a credential was checked against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CheckedSchema {
    /// The credential type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Its version (1, 2, …), as `GET /credential-types/{type}` lists it.
    pub version: u32,
    /// The SHA-256 of its published schema, as registered on the chain (hex).
    pub schema_hash: String,
}

/// Options shared by the verify endpoints. Unknown options are ignored, as the VC API asks.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VerifyOptions {
    /// Checks the client asks for (VC API). Certus always runs every applicable check and
    /// reports each in `results`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<Vec<String>>,
    /// The nonce the holder must have bound the presentation (or SD-JWT key binding) to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
    /// The audience the holder must have bound the presentation (or SD-JWT key binding) to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// A verification policy to apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<VerificationPolicy>,
    /// The name of a stored policy (`PUT /policies/{name}`) to apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
}

/// What a verifier requires beyond a valid credential. Every requirement given must hold
/// for the `policy` check to pass; an empty policy holds for every valid credential.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerificationPolicy {
    /// Checks that must have passed (not merely not failed: a skipped or uncheckable
    /// check does not count), e.g. `["status", "anchored"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_checks: Vec<String>,
    /// Issuer DIDs accepted; any when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted_issuers: Vec<String>,
    /// Oldest credential accepted, in seconds since it became valid (`validFrom`, or `iat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<u64>,
    /// Credential types the credential must have, e.g. `["KycCredential"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_types: Vec<String>,
    /// Subject claims that must be present (disclosed, for SD-JWT VC).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_claims: Vec<String>,
    /// For KYC reuse: the lowest level of assurance and the oldest check accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kyc: Option<crate::kyc::KycRequirements>,
}

/// One requirement of a policy, and whether the credential meets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PolicyRequirement {
    /// E.g. `requiredChecks: status`, `maxAgeSeconds`.
    pub requirement: String,
    pub satisfied: bool,
    pub message: String,
}

/// How a credential fared against the verifier's policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PolicyOutcome {
    /// The stored policy's name, when one was named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    pub satisfied: bool,
    pub requirements: Vec<PolicyRequirement>,
}

/// What a verified credential says about itself: no claim values, only what a policy or
/// a reader needs to know which credential this was.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CredentialSummary {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Its types (for SD-JWT VC, the credential type its `vct` names).
    pub types: Vec<String>,
    /// When it became valid (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    /// Names of the subject's claims (disclosed ones, for SD-JWT VC).
    pub claims: Vec<String>,
    /// For a KYC credential: its level of assurance and the date and method of its check,
    /// as disclosed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assurance: Option<crate::kyc::Assurance>,
}

/// A stored verification policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StoredPolicy {
    pub name: String,
    pub policy: VerificationPolicy,
}

/// `POST /credentials/verify` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyCredentialRequest {
    /// A Data Integrity credential, an `EnvelopedVerifiableCredential`, or a compact JWT /
    /// SD-JWT as a string.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub verifiable_credential: Value,
    #[serde(default)]
    pub options: VerifyOptions,
}

/// `POST /presentations/verify` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyPresentationRequest {
    /// A Data Integrity presentation, an `EnvelopedVerifiablePresentation`, or a compact
    /// `vp+jwt` as a string.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub verifiable_presentation: Value,
    #[serde(default)]
    pub options: VerifyOptions,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Checked, and it holds.
    Passed,
    /// Checked, and it does not hold: the credential is not valid.
    Failed,
    /// Could not be checked (for example an unresolvable DID): the credential is neither
    /// shown valid nor invalid.
    Error,
    /// Does not apply to this credential.
    Skipped,
}

/// One check of a verification, with its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Check {
    /// Stable name of the check (`format`, `signature`, `issuer`, `validity`, `schema`,
    /// `disclosures`, `holderBinding`, `challenge`, `domain`, `credentials`, `anchored`).
    pub check: String,
    pub outcome: Outcome,
    /// Stable machine code when the outcome is `failed` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Human-readable explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The overall verdict of a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every applicable check passed.
    Valid,
    /// At least one check failed.
    Invalid,
    /// No check failed, but at least one could not be carried out.
    Indeterminate,
}

/// A problem found by a verification (VC API `errors` / `warnings` entries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Problem {
    /// The check that found it.
    pub check: String,
    /// Stable machine code.
    pub code: String,
    pub message: String,
}

/// Answer of the verify endpoints: HTTP 200 when `verified`, 400 when a check failed, 422
/// when none failed but one could not be carried out.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VerificationResult {
    /// True when the verdict is `valid`.
    pub verified: bool,
    pub verdict: Verdict,
    /// Names of the checks carried out (VC API).
    pub checks: Vec<String>,
    /// Failed checks and checks that could not be carried out (VC API).
    pub errors: Vec<Problem>,
    /// Things worth knowing that do not make the credential invalid (VC API).
    pub warnings: Vec<Problem>,
    /// Every check with its outcome, in order, including skipped ones.
    pub results: Vec<Check>,
    /// For presentations: the result of each embedded credential.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub credentials: Vec<VerificationResult>,
    /// Where the credential is anchored, when its `anchored` check passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<AnchorInfo>,
    /// The status-list versions the `status` check read, so the verifier can prove later
    /// which lists it saw (each version's hash is anchored on the chain).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status_lists: Vec<PublishedList>,
    /// What the credential says about itself (issuer, types, claim names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialSummary>,
    /// The outcome of the verifier's policy, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyOutcome>,
}

/// Where a verified credential stands, told apart the way a person needs it: a revoked
/// credential is not a forged one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Valid,
    /// Its signature (or a disclosure) does not match its content.
    Forged,
    Revoked,
    Suspended,
    Expired,
    NotYetValid,
    /// Its issuer is not accredited for its type on the trust registry.
    NotAccredited,
    /// Nothing failed, but a check could not be carried out.
    Unchecked,
    /// Another check failed (format, schema, holder binding…): see the checks.
    Invalid,
}

impl VerificationResult {
    /// Where the credential stands; a failed signature outranks everything else, since
    /// nothing else a forged credential says can be believed.
    pub fn standing(&self) -> Standing {
        if self.verified {
            return Standing::Valid;
        }
        let failed = self.results.iter().filter(|c| c.outcome == Outcome::Failed);
        let check_failed = |name: &str| failed.clone().any(|c| c.check == name);
        let code = |code: &str| failed.clone().any(|c| c.code.as_deref() == Some(code));
        if check_failed("signature") || check_failed("disclosures") {
            Standing::Forged
        } else if code("REVOKED") {
            Standing::Revoked
        } else if code("SUSPENDED") {
            Standing::Suspended
        } else if code("EXPIRED") {
            Standing::Expired
        } else if code("NOT_YET_VALID") {
            Standing::NotYetValid
        } else if code("NOT_ACCREDITED") {
            Standing::NotAccredited
        } else if self.verdict == Verdict::Indeterminate {
            Standing::Unchecked
        } else {
            Standing::Invalid
        }
    }
}

impl Standing {
    /// A stable lower-case name (a style class, a test id).
    pub fn name(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Forged => "forged",
            Self::Revoked => "revoked",
            Self::Suspended => "suspended",
            Self::Expired => "expired",
            Self::NotYetValid => "not-yet-valid",
            Self::NotAccredited => "not-accredited",
            Self::Unchecked => "unchecked",
            Self::Invalid => "invalid",
        }
    }

    /// The verdict in a few words.
    pub fn headline(self) -> &'static str {
        match self {
            Self::Valid => "Valid",
            Self::Forged => "Forged or altered",
            Self::Revoked => "Revoked",
            Self::Suspended => "Suspended",
            Self::Expired => "Expired",
            Self::NotYetValid => "Not valid yet",
            Self::NotAccredited => "Issuer not accredited",
            Self::Unchecked => "Could not be fully checked",
            Self::Invalid => "Not valid",
        }
    }

    /// What it means, in a sentence.
    pub fn explanation(self) -> &'static str {
        match self {
            Self::Valid => "Its signature holds and every check passed.",
            Self::Forged => "Its content does not match its signature: it was changed after it was issued, or its issuer never signed it.",
            Self::Revoked => "Its issuer has revoked it for good.",
            Self::Suspended => "Its issuer has suspended it for now; it may be reinstated.",
            Self::Expired => "Its period of validity has ended.",
            Self::NotYetValid => "Its period of validity has not started.",
            Self::NotAccredited => "Its issuer is not accredited on the trust registry to issue this type.",
            Self::Unchecked => "Nothing failed, but a check could not be carried out; see the checks below.",
            Self::Invalid => "A check failed; see the checks below.",
        }
    }
}

/// A credential's anchor on the chain, from a receipt checked against the genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AnchorInfo {
    pub chain_id: String,
    /// Height of the block holding the anchor.
    pub height: u64,
    /// Hex hash of that block's header.
    pub block: String,
    /// When the block was sealed (RFC 3339, UTC).
    pub time: String,
    /// On a consortium's chain, for a credential another member issued: that member's
    /// name — the institution whose node serves the credential's status lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
}

/// Body of every error response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `MALFORMED_JSON`.
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// Where the error is, when it is about input: a JSON pointer into the request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// One entry of `GET /credential-types`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CredentialTypeInfo {
    /// The VC `type` value, e.g. `KycCredential`.
    #[serde(rename = "type")]
    pub type_name: String,
    pub title: String,
    pub description: String,
    /// The `$id` of the JSON Schema.
    pub schema_id: String,
    /// The JSON-LD context credentials of this type carry.
    pub context: String,
    /// The claims marked as personal data.
    pub personal_claims: Vec<String>,
    /// Only issuers accredited for this type on the trust registry may issue it.
    #[serde(default)]
    pub accreditation_required: bool,
    /// How long the personal data of a credential of this type is kept after issuance
    /// (ISO 8601 duration), as the schema declares it.
    pub retention: String,
    /// Data-minimisation findings about the type (see `certus_schemas::privacy`).
    #[serde(default)]
    pub lint: Vec<crate::privacy::LintFinding>,
    /// The JSON Schema of `credentialSubject`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub schema: Value,
    /// A valid example `credentialSubject`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub example: Value,
    /// The type's version; a new version never changes credentials issued under an older one.
    #[serde(default = "first_version")]
    pub version: u32,
    /// The SD-JWT VC `vct`.
    #[serde(default)]
    pub vct: String,
    /// Hex SHA-256 of the published schema: the type's identity on the chain.
    #[serde(default)]
    pub schema_hash: String,
    /// `sha256-…` (Subresource Integrity) of the context document.
    #[serde(default)]
    pub context_integrity: String,
    /// The defining institution's tenant id; absent for the types that ship with Certus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Retired: no longer issued; its credentials still verify.
    #[serde(default)]
    pub retired: bool,
    /// How wallets show it (`locale`, `name`, `description`, colours, `logo`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub display: Vec<Value>,
}

fn first_version() -> u32 {
    1
}

/// One entry of `GET /contexts`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ContextInfo {
    pub url: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub document: Value,
}

/// The purpose of a status entry (W3C Bitstring Status List `statusPurpose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum StatusPurpose {
    /// Final: a revoked credential stays revoked.
    Revocation,
    /// Reversible: a suspended credential can be reinstated.
    Suspension,
}

impl StatusPurpose {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revocation => "revocation",
            Self::Suspension => "suspension",
        }
    }
}

/// A public, non-personal reason for a status change: the CRL reason codes of RFC 5280
/// §5.3.1 that apply to credentials. Never free text, so no personal data is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum StatusReason {
    #[default]
    Unspecified,
    KeyCompromise,
    AffiliationChanged,
    Superseded,
    CessationOfOperation,
    /// A temporary hold: the usual reason for a suspension.
    CertificateHold,
    PrivilegeWithdrawn,
}

/// One status entry of a status update.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StatusEntryUpdate {
    /// `BitstringStatusListEntry`.
    #[serde(rename = "type")]
    pub entry_type: String,
    pub status_purpose: StatusPurpose,
    /// `true` (the default) sets the status; `false` lifts a suspension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<bool>,
}

/// One entry, or several.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// The entries as a list.
    pub fn into_vec(self) -> Vec<T> {
        match self {
            Self::One(item) => vec![item],
            Self::Many(items) => items,
        }
    }
}

/// `POST /credentials/status` body (W3C VC API "update status").
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpdateStatusRequest {
    /// The `id` of a credential this tenant issued.
    pub credential_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub credential_status: OneOrMany<StatusEntryUpdate>,
    /// `false` lifts a suspension; applies to entries that do not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<StatusReason>,
}

/// Which of the tenant's credentials a bulk status change applies to; at least one
/// criterion is required.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CredentialQuery {
    /// A credential type, e.g. `FoodSafetyCertificate`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub credential_type: Option<String>,
    /// Issued at or after this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_from: Option<String>,
    /// Issued before this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_until: Option<String>,
    /// Issued by this API key (its id), or this user (`user:` and the user's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_by: Option<String>,
    /// These credentials (their ids; at most 1,000), e.g. a selection in the portal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<String>>,
}

/// `POST /credentials/status/bulk` body: one status change for every credential a query
/// selects.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkStatusRequest {
    pub query: CredentialQuery,
    pub status_purpose: StatusPurpose,
    /// `true` (the default) sets the status; `false` lifts a suspension.
    #[serde(default = "default_true")]
    pub status: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<StatusReason>,
}

fn default_true() -> bool {
    true
}

/// A status-list version published by a status change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PublishedList {
    /// The list's URL (`statusListCredential`).
    pub status_list_credential: String,
    pub status_purpose: StatusPurpose,
    pub version: u64,
    /// Hex hash of the list credential as served, anchored on the chain.
    pub hash: String,
    /// On a consortium's chain, for another member's list: that member's name — the
    /// institution whose node serves the issuer's lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
}

/// Result of a status change.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StatusChangeResult {
    /// Credentials selected.
    pub matched: u64,
    /// Credentials whose status changed (the others already had it).
    pub changed: u64,
    /// The new list versions, one per list that changed.
    pub published: Vec<PublishedList>,
}

/// A credential's status, as its issuer records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CredentialStatusInfo {
    pub credential_id: String,
    pub revoked: bool,
    pub suspended: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<StatusReason>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failing(check: &str, code: &str) -> Check {
        Check {
            check: check.into(),
            outcome: Outcome::Failed,
            code: Some(code.into()),
            message: None,
        }
    }

    fn result(verdict: Verdict, results: Vec<Check>) -> VerificationResult {
        VerificationResult {
            verified: verdict == Verdict::Valid,
            verdict,
            checks: Vec::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
            results,
            credentials: Vec::new(),
            anchor: None,
            status_lists: Vec::new(),
            credential: None,
            policy: None,
        }
    }

    #[test]
    fn revoked_suspended_expired_and_forged_are_told_apart() {
        let invalid = |checks: Vec<Check>| result(Verdict::Invalid, checks).standing();
        assert_eq!(result(Verdict::Valid, vec![]).standing(), Standing::Valid);
        for (check, code, standing) in [
            ("status", "REVOKED", Standing::Revoked),
            ("status", "SUSPENDED", Standing::Suspended),
            ("validity", "EXPIRED", Standing::Expired),
            ("validity", "NOT_YET_VALID", Standing::NotYetValid),
            ("accreditation", "NOT_ACCREDITED", Standing::NotAccredited),
            ("disclosures", "DISCLOSURE_INVALID", Standing::Forged),
            ("schema", "SCHEMA_VIOLATION", Standing::Invalid),
        ] {
            assert_eq!(invalid(vec![failing(check, code)]), standing, "{code}");
        }
        // A forged credential's other failures say nothing: it is forged.
        assert_eq!(
            invalid(vec![
                failing("status", "REVOKED"),
                failing("signature", "SIGNATURE_INVALID")
            ]),
            Standing::Forged
        );
        assert_eq!(
            result(Verdict::Indeterminate, vec![]).standing(),
            Standing::Unchecked
        );
    }
}
