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
    /// The JSON Schema of `credentialSubject`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub schema: Value,
    /// A valid example `credentialSubject`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub example: Value,
}

/// One entry of `GET /contexts`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ContextInfo {
    pub url: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub document: Value,
}
