//! KYC reuse: the level of assurance a KYC credential states, the KYC requirements of a
//! relying institution's policy, and the wire types of the reliance register and its
//! webhooks. Pure: the frontend and the backend evaluate and show them alike.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// The credential type a KYC desk issues.
pub const KYC_CREDENTIAL: &str = "KycCredential";

/// eIDAS level of assurance (Commission Implementing Regulation (EU) 2015/1502), ordered
/// low < substantial < high.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AssuranceLevel {
    Low,
    Substantial,
    High,
}

impl AssuranceLevel {
    /// Every level, lowest first.
    pub const ALL: [Self; 3] = [Self::Low, Self::Substantial, Self::High];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Substantial => "substantial",
            Self::High => "high",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == text)
    }
}

/// What a KYC credential says about its check — none of it personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Assurance {
    pub level: AssuranceLevel,
    /// The date of the check (`YYYY-MM-DD`), when disclosed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_date: Option<String>,
    /// How the person was checked, when disclosed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_method: Option<String>,
}

impl Assurance {
    /// The assurance a credential subject (as disclosed) states: none without a valid
    /// `assuranceLevel`.
    pub fn of(subject: &Map<String, Value>) -> Option<Self> {
        let level = AssuranceLevel::parse(subject.get("assuranceLevel")?.as_str()?)?;
        let text = |name: &str| subject.get(name).and_then(Value::as_str).map(str::to_owned);
        Some(Self {
            level,
            check_date: text("checkDate"),
            check_method: text("checkMethod"),
        })
    }
}

/// The KYC part of a verification policy: how strong and how recent the check behind a
/// KYC credential must be. Which issuers are accepted is the policy's `acceptedIssuers`
/// (or `requiredChecks: ["accreditation"]`), which claims it needs its `requiredClaims`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KycRequirements {
    /// The lowest level of assurance accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_assurance: Option<AssuranceLevel>,
    /// The oldest check accepted, in days before the day of the presentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_check_age_days: Option<u32>,
    /// Ask the holder to let the institution be told when the credential is suspended or
    /// revoked (a webhook); the holder may refuse and still be onboarded.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub status_notifications: bool,
}

/// One entry of the reliance register: an institution relied on another's KYC. Signed by
/// the relying institution, kept by it and anchored by hash; it names institutions and
/// the check's strength and date, never the person. What every member may see of it is
/// its [`RelianceNotice`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RelianceRecord {
    /// `urn:uuid:…`.
    pub id: String,
    /// The relying institution's DID (the verifier that accepted the presentation).
    pub relying_party: String,
    /// The relying institution's name.
    pub relying_institution: String,
    /// The DID that issued the KYC credential relied on.
    pub kyc_issuer: String,
    pub assurance_level: AssuranceLevel,
    /// The date of the KYC check relied on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_date: Option<String>,
    /// When the reliance was accepted (RFC 3339).
    pub relied_at: String,
    /// Hex SHA-256 of the consent receipt of the presentation.
    pub consent_receipt_hash: String,
    /// The stored policy the presentation was checked under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
}

/// A reliance record as the register holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RelianceEntry {
    pub record: RelianceRecord,
    /// The record as the relying institution signed it (`typ: reliance-record+jwt`).
    pub jws: String,
    /// Hex commitment anchored on the chain; `GET /anchors/{commitment}/receipt`.
    pub commitment: String,
    /// The presentation request it answered.
    pub request_id: String,
    /// Whether the holder let the institution be told of status changes.
    pub notifications: bool,
}

/// `GET /kyc/reliances` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RelianceList {
    pub records: Vec<RelianceEntry>,
}

/// What every member of a consortium may know of a reliance record, on the shared chain
/// beside its hash: who relied on whose KYC, at which assurance, in which month. Signed by
/// the relying institution (`typ: reliance-notice+jwt`). No person, no check date, no time
/// finer than the month: a KYC issuer must not be able to tell which of its customers
/// onboarded where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RelianceNotice {
    /// Hex hash of the signed record (`GET /anchors/{record}/receipt`).
    pub record: String,
    pub relying_party: String,
    pub relying_institution: String,
    pub kyc_issuer: String,
    pub assurance_level: AssuranceLevel,
    /// `YYYY-MM` of the reliance (UTC).
    pub month: String,
}

/// An entry of the register as the shared chain holds it, whichever member relied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RegisteredReliance {
    pub notice: RelianceNotice,
    /// The notice as the relying institution signed it.
    pub jws: String,
    /// The block that holds it, and its time (RFC 3339).
    pub height: u64,
    pub sealed_at: String,
    /// The full record, when the relying institution is on this node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<RelianceRecord>,
}

/// `GET /kyc/register` response: the whole register, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RelianceRegister {
    pub records: Vec<RegisteredReliance>,
}

/// Reliance on a KYC issuer's credentials by one institution in one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RelianceCount {
    /// The KYC issuer's DID (one of the caller's).
    pub kyc_issuer: String,
    pub relying_party: String,
    pub relying_institution: String,
    /// `YYYY-MM`.
    pub month: String,
    pub count: u64,
}

/// `GET /kyc/reliances/summary` response: who relies on the caller's KYC, counted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RelianceSummary {
    pub counts: Vec<RelianceCount>,
}

/// The state of a relied-on credential now, from its status entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RelianceState {
    Active,
    Suspended,
    Revoked,
}

/// `POST /kyc/reliances/{id}/check` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RelianceCheck {
    pub id: String,
    pub state: RelianceState,
    /// False once the credential is suspended or revoked.
    pub valid: bool,
    pub message: String,
}

/// `PUT /webhook` body and `GET /webhook` response: where the institution is told of
/// status changes of credentials it relies on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookEndpoint {
    /// An `https` URL (`http` only for a loopback host).
    pub url: String,
}

/// One delivery of a webhook event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    /// The event's `jti`.
    pub id: String,
    pub reliance_id: String,
    /// `suspended`, `reinstated` or `revoked`.
    pub event: String,
    pub url: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<String>,
}

/// `GET /webhook/deliveries` response, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookDeliveries {
    pub deliveries: Vec<WebhookDelivery>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn levels_are_ordered_and_named() {
        assert!(AssuranceLevel::Low < AssuranceLevel::Substantial);
        assert!(AssuranceLevel::Substantial < AssuranceLevel::High);
        for level in AssuranceLevel::ALL {
            assert_eq!(AssuranceLevel::parse(level.as_str()), Some(level));
        }
        assert_eq!(AssuranceLevel::parse("medium"), None);
    }

    #[test]
    fn assurance_is_read_from_the_disclosed_subject() {
        let subject =
            json!({"assuranceLevel": "high", "checkDate": "2026-10-01", "givenName": "M"});
        let assurance = Assurance::of(subject.as_object().unwrap()).unwrap();
        assert_eq!(assurance.level, AssuranceLevel::High);
        assert_eq!(assurance.check_date.as_deref(), Some("2026-10-01"));
        assert_eq!(assurance.check_method, None);
        let withheld = json!({"checkDate": "2026-10-01"});
        assert_eq!(Assurance::of(withheld.as_object().unwrap()), None);
        let invalid = json!({"assuranceLevel": "very"});
        assert_eq!(Assurance::of(invalid.as_object().unwrap()), None);
    }
}
