//! Request and response bodies of the portal's API: accounts, sessions, API keys, the
//! tenant's credentials, its audit log, and the chain explorer.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

use crate::wire::{AnchorInfo, StatusReason};

/// What a person may do in their institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything a certifier may, and manages users and API keys.
    Admin,
    /// Issues credentials and changes their status.
    Certifier,
    /// Reads: credentials, their histories, the audit log. Changes nothing.
    Auditor,
}

impl Role {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Certifier => "certifier",
            Self::Auditor => "auditor",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "admin" => Ok(Self::Admin),
            "certifier" => Ok(Self::Certifier),
            "auditor" => Ok(Self::Auditor),
            other => Err(format!(
                "unknown role `{other}` (admin, certifier, auditor)"
            )),
        }
    }
}

/// `POST /session` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    pub email: String,
    pub password: String,
}

/// `POST /session/password` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// At least 12 characters.
    pub new_password: String,
}

/// A person's account, as the portal shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub created_at: String,
    /// Set once an admin disables the account; its sessions end at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<String>,
    /// The account still has its one-time password.
    pub must_change_password: bool,
}

/// The signed-in person and their institution: `POST /session`, `GET /session`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    pub user: UserInfo,
    pub tenant: TenantInfo,
    /// Send it back as `X-CSRF-Token` with every request that changes something.
    pub csrf_token: String,
    pub expires_at: String,
}

/// An institution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TenantInfo {
    pub id: String,
    pub name: String,
}

/// `POST /users` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
}

/// `POST /users` answer: the account and its one-time password, shown only here.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreatedUser {
    pub user: UserInfo,
    pub one_time_password: String,
}

/// `PATCH /users/{id}` body: what to change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}

/// An API key, without its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyInfo {
    pub id: String,
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// `POST /api-keys` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// Any of `issue`, `verify`, `status`, `read`.
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// `POST /api-keys` answer: the token is shown only here.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedApiKey {
    pub key: ApiKeyInfo,
    pub token: String,
}

/// A credential's status in lists and searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CredentialState {
    Active,
    Suspended,
    Revoked,
}

impl CredentialState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Revoked => "revoked",
        }
    }
}

/// Query of `GET /credentials`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema, IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CredentialSearch {
    /// A part of the credential's `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Text in the value of one of the credential's non-personal claims, whatever the case
    /// (`olive oil`, `ISO 22000`). Claims the type flags personal, or whose name usually
    /// holds personal data, are not searched; nor are credentials issued openly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// The institution's own reference for the person the credentials were issued to
    /// (`options.dataSubject.reference` at issuance), exactly. Only in the body of
    /// `POST /credentials/search`, so that it stays out of URLs and access logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// A credential type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub credential_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CredentialState>,
    /// Issued at or after this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_from: Option<String>,
    /// Issued before this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_until: Option<String>,
    /// At most 200; 50 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

/// An issued credential as its issuer records it: identifiers only, no claim values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CredentialRecord {
    pub id: String,
    pub types: Vec<String>,
    pub issuer: String,
    pub format: String,
    pub issued_at: String,
    /// An API key's id, or `user:` and a user's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_by: Option<String>,
    /// Who that is, for people: the person's name or the API key's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_by_name: Option<String>,
    pub status: CredentialState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<StatusReason>,
    /// Hex commitment anchored on the chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitment: Option<String>,
}

/// `GET /credentials` answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CredentialPage {
    /// Credentials matching the search, over all pages.
    pub total: u64,
    pub items: Vec<CredentialRecord>,
}

/// One entry of the audit log: who did what to which record, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEntry {
    /// Position in the hash-chained log; absent until the next block seals the entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u64>,
    pub actor: String,
    /// Who the actor is, for people: the person's name or the API key's label.
    #[serde(rename = "actorName", default, skip_serializing_if = "Option::is_none")]
    pub actor_name: Option<String>,
    pub action: String,
    pub subject: String,
    /// RFC 3339, UTC.
    pub at: String,
    /// Hex chained hash; absent until sealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

/// A credential with its anchor and history: `GET /credentials/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CredentialDetail {
    pub record: CredentialRecord,
    /// Where the commitment was sealed; absent while it waits for the next block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<AnchorInfo>,
    /// Its issuance and every status change, oldest first.
    pub history: Vec<AuditEntry>,
    /// The ids of the other copies of the batch it was issued in: one credential a wallet
    /// received bound to several of its keys (OpenID4VCI batch issuance). A status change
    /// of any copy applies to every copy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub copies: Vec<String>,
}

/// `GET /audit` answer, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
}

/// A block as the explorer lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BlockSummary {
    pub height: u64,
    pub hash: String,
    pub time: String,
    pub tx_count: u64,
}

/// `GET /dashboard` answer: the tenant's figures and the chain's latest blocks.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub issued: u64,
    pub active: u64,
    pub suspended: u64,
    pub revoked: u64,
    /// The tenant's credentials whose anchor waits for the next block.
    pub pending_anchors: u64,
    /// Issued credentials per type.
    pub by_type: Vec<TypeCount>,
    pub latest_blocks: Vec<BlockSummary>,
    /// What happened each day (UTC) of the last [`ACTIVITY_DAYS`], oldest first, today last.
    #[serde(default)]
    pub activity: Vec<DayActivity>,
}

/// How many days the dashboard's activity covers: twelve weeks.
pub const ACTIVITY_DAYS: u32 = 84;

/// The institution's work on one day (UTC).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DayActivity {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Credentials issued.
    pub issued: u64,
    /// Revocations, suspensions and reinstatements.
    pub status_changes: u64,
    /// Presentations answering the institution's own presentation requests, checked.
    pub verifications: u64,
}

/// A count of credentials of one type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TypeCount {
    #[serde(rename = "type")]
    pub type_name: String,
    pub count: u64,
}

/// `POST /chain/receipts/verify` answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReceiptCheck {
    pub valid: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<AnchorInfo>,
    /// Why the receipt does not hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
