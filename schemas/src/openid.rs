//! Bodies of the OpenID4VC side of the API: credential offers a certifier makes
//! (OpenID4VCI, pre-authorized code flow) and presentation requests a verifier makes
//! (OpenID4VP with DCQL), with their outcomes and receipts.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::dcql::DcqlQuery;
pub use crate::response::ResponseMode;
use crate::wire::{IssueOptions, Problem, VerificationPolicy, VerificationResult};

/// The `direct_post` parameter by which a holder lets a verifier keep a credential's status
/// entries and be told of its suspension or revocation, and its one accepted value.
pub const STATUS_NOTIFICATIONS_PARAM: &str = "status_notifications";
/// See [`STATUS_NOTIFICATIONS_PARAM`].
pub const STATUS_NOTIFICATIONS_ALLOWED: &str = "allowed";
/// The OAuth grant type of OpenID4VCI's pre-authorized code flow.
pub const PRE_AUTHORIZED_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
/// The OAuth grant type of the authorization code flow (RFC 6749 §4.1).
pub const AUTHORIZATION_CODE_GRANT: &str = "authorization_code";
/// The `typ` of an OpenID4VCI key proof.
pub const PROOF_TYP: &str = "openid4vci-proof+jwt";
/// The `typ` of a DPoP proof (RFC 9449).
pub const DPOP_TYP: &str = "dpop+jwt";
/// The `typ` of a signed OpenID4VP request object (RFC 9101).
pub const REQUEST_OBJECT_TYP: &str = "oauth-authz-req+jwt";
/// The media type a request object is served as (RFC 9101).
pub const REQUEST_OBJECT_MEDIA_TYPE: &str = "application/oauth-authz-req+jwt";
/// The OpenID4VP client identifier prefix of a verifier identified by a DID.
pub const DID_CLIENT_PREFIX: &str = "decentralized_identifier:";
/// The `typ` of an SD-JWT key-binding JWT.
pub const KB_JWT_TYP: &str = "kb+jwt";

/// `POST /credentials/offers` body: a credential to be issued to whichever wallet redeems
/// the offer, bound to that wallet's key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OfferRequest {
    /// An unsecured W3C VC 2.0 credential, as for `POST /credentials/issue`. Its
    /// `credentialSubject.id` is set to the wallet's DID on redemption.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub credential: Value,
    #[serde(default)]
    pub options: IssueOptions,
    /// Ask the wallet for a 6-digit transaction code, shown once in the answer, to be
    /// passed to the holder by another channel. The authorization code flow always has
    /// one: the holder enters it on the institution's page.
    #[serde(default)]
    pub tx_code: bool,
    /// How the holder's wallet redeems the offer (default `preAuthorized`).
    #[serde(default)]
    pub flow: OfferFlow,
    /// Issue only once the institution approves (deferred issuance, OpenID4VCI §9): the
    /// wallet's request is kept and it is told to come back; someone with the `issue` scope
    /// approves or refuses it (`POST /credentials/offers/{id}/approval`), and the wallet
    /// then collects the credential at the deferred credential endpoint.
    #[serde(default)]
    pub approval: bool,
    /// How long the offer can be redeemed, in seconds (default 7 days, at most 30 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
}

/// How a wallet redeems an offer (OpenID4VCI §3.4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum OfferFlow {
    /// The pre-authorized code flow: the wallet exchanges the offer's code (and the
    /// transaction code, when one is asked) for a token.
    #[default]
    PreAuthorized,
    /// The authorization code flow (with PAR, PKCE and optionally DPoP): the wallet
    /// sends the holder to the institution's page, where they enter the offer's one-time
    /// code.
    AuthorizationCode,
}

impl OfferFlow {
    /// The OAuth grant type of the flow.
    pub fn grant_type(self) -> &'static str {
        match self {
            Self::PreAuthorized => PRE_AUTHORIZED_GRANT,
            Self::AuthorizationCode => AUTHORIZATION_CODE_GRANT,
        }
    }

    /// The flow of an OAuth grant type, if it is one.
    pub fn of_grant_type(grant_type: &str) -> Option<Self> {
        [Self::PreAuthorized, Self::AuthorizationCode]
            .into_iter()
            .find(|f| f.grant_type() == grant_type)
    }
}

/// What a wallet tells the issuer it did with a credential (OpenID4VCI §11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NotificationEvent {
    /// The wallet stored the credential.
    CredentialAccepted,
    /// The wallet could not store it (e.g. it did not verify).
    CredentialFailure,
    /// The holder deleted it (or declined it after receiving it).
    CredentialDeleted,
}

impl NotificationEvent {
    /// The event's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CredentialAccepted => "credential_accepted",
            Self::CredentialFailure => "credential_failure",
            Self::CredentialDeleted => "credential_deleted",
        }
    }
}

/// Where an offer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum OfferStatus {
    /// Waiting for a wallet.
    Pending,
    /// A wallet received the credential.
    Redeemed,
    /// Not redeemed in time.
    Expired,
    /// Closed after too many wrong transaction codes.
    Blocked,
    /// Closed because its data subject's personal data was erased.
    Erased,
    /// A wallet asked for the credential; the institution has yet to approve it.
    Requested,
    /// Approved; the wallet has yet to collect it.
    Approved,
    /// The institution refused to issue it.
    Refused,
}

/// `POST /credentials/offers/{id}/approval` body.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovalDecision {
    /// `true` to issue the credential the wallet asked for, `false` to refuse it.
    pub approve: bool,
}

/// `POST /credentials/offers` answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OfferCreated {
    pub id: String,
    /// `openid-credential-offer://?credential_offer_uri=…`: what the holder's wallet opens.
    pub offer_uri: String,
    /// Where the offer's JSON is served.
    pub credential_offer_uri: String,
    /// The credential offer itself (OpenID4VCI §4.1.1).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub credential_offer: Value,
    /// The transaction code, when one was asked for. Shown only here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_code: Option<String>,
    /// The offer URI as a QR code: `GET` this path for SVG, with `?format=png` for PNG.
    pub qr_code: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// An offer as its institution sees it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OfferInfo {
    pub id: String,
    pub credential_type: String,
    pub format: String,
    pub status: OfferStatus,
    pub flow: OfferFlow,
    pub tx_code_required: bool,
    /// Whether the credential is issued only once the institution approves.
    pub approval_required: bool,
    /// When a wallet asked for it, for an offer that needs approval (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redeemed_at: Option<String>,
    /// The credential issued on redemption (`GET /credentials/{id}`); of a batch, the
    /// first copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
    /// How many copies of the credential the wallet received on redemption, each bound to
    /// another of its keys (batch issuance; 1 when it asked for one). A status change of
    /// one applies to every copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copies: Option<u32>,
    /// What the wallet last notified it did with the credential, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<NotificationEvent>,
    /// When (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_at: Option<String>,
}

/// `POST /presentation-requests` body. Give a DCQL `query`, or let one be built from
/// `credentialType`, `claims` and `format`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PresentationRequestCreate {
    /// A DCQL query, as OpenID4VP 1.0 defines it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<DcqlQuery>,
    /// Without `query`: the credential type asked for (e.g. `KycCredential`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_type: Option<String>,
    /// Without `query`: the subject claims asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<String>,
    /// Without `query`: `dc+sd-jwt` (default), `jwt_vc_json` or `ldp_vc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Why the verifier asks; shown to the holder.
    pub purpose: String,
    /// Requirements each presented credential must meet (accepted issuers, required
    /// checks, maximum age…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<VerificationPolicy>,
    /// A stored policy (`PUT /policies/{name}`) instead of `policy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    /// How long the request can be answered, in seconds (default 600, at most 1 day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// `direct_post` (default), or `direct_post.jwt`: the wallet encrypts its answer to a
    /// key made for this request (ECDH-ES, P-256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_mode: Option<ResponseMode>,
    /// Transactions the holder authorizes with the presentation (OpenID4VP 1.0 §8.4): each
    /// an object with `type` (Certus's wallets know
    /// `https://w3id.org/certus/transaction-data/approval/v1`, with the `text` approved) and
    /// optionally `credential_ids` (default: every SD-JWT VC query).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub transaction_data: Vec<Map<String, Value>>,
    /// How the request names the verifier to the wallet: `decentralized_identifier`
    /// (default, the institution's DID), or by its X.509 certificate
    /// (`POST /verifier/certificates`): `x509_san_dns` (the DNS name it certifies) or
    /// `x509_hash` (its SHA-256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id_prefix: Option<ClientIdPrefix>,
    /// `haip`: the request as the High Assurance Interoperability Profile 1.0 has it —
    /// `x509_hash`, `direct_post.jwt`, SD-JWT VCs only, a `haip://` link. Conflicting
    /// choices above are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<RequestProfile>,
    /// For a same-device flow: the verifier's page (https) the wallet sends the holder's
    /// browser to once it answered, with a one-time `response_code` in the fragment that
    /// the page's backend redeems (`POST /presentation-requests/{id}/response-code`)
    /// before it trusts the outcome is its user's (OpenID4VP 1.0 §8.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
}

/// `POST /presentation-requests/{id}/response-code` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResponseCodeRedemption {
    /// The `response_code` the holder's browser brought to the verifier's page.
    pub response_code: String,
}

/// How a presentation request names its verifier (OpenID4VP 1.0 §5.9.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClientIdPrefix {
    /// By its DID, whose key signs the request.
    #[default]
    DecentralizedIdentifier,
    /// By a DNS name its certificate carries, the host of its response URI.
    X509SanDns,
    /// By the SHA-256 of its certificate.
    X509Hash,
}

impl ClientIdPrefix {
    /// Its name, as wallet metadata lists it.
    pub fn name(self) -> &'static str {
        match self {
            Self::DecentralizedIdentifier => "decentralized_identifier",
            Self::X509SanDns => "x509_san_dns",
            Self::X509Hash => "x509_hash",
        }
    }
}

/// A profile a presentation request follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RequestProfile {
    /// OpenID4VC High Assurance Interoperability Profile 1.0.
    Haip,
}

/// `POST /verifier/certificates` body: a new certificate key of the institution as a
/// verifier.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifierCertificateCreate {
    /// The DNS name the certificate certifies: the host of this node's public URL, where
    /// wallets send their answers (default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_name: Option<String>,
    /// Certify the key itself, for development (wallets trust it only when told to);
    /// otherwise the answer carries a certificate signing request for the institution's
    /// CA, whose chain `PUT /verifier/certificates/{id}/chain` then installs.
    #[serde(default)]
    pub self_signed: bool,
}

/// `PUT /verifier/certificates/{id}/chain` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifierChainInstall {
    /// PEM: the certificate the CA issued for the request, then the CAs' certificates up
    /// to (optionally) the root.
    pub chain: String,
}

/// A certificate key of the institution as a verifier.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VerifierCertificate {
    pub id: String,
    pub dns_name: String,
    /// `pending` (waiting for the CA's chain), `active` (signs the institution's requests
    /// named by X.509: the newest installed), or `superseded`.
    pub status: CertificateStatus,
    pub self_signed: bool,
    /// PEM, while pending: the certificate signing request (PKCS #10) for the CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csr: Option<String>,
    /// PEM, once installed: the chain, the key's certificate first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    /// Once installed: the client identifiers requests signed under it carry
    /// (`x509_san_dns:…`, `x509_hash:…`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_ids: Vec<String>,
    /// RFC 3339, once installed: when the key's certificate expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activated_at: Option<String>,
}

/// Where a verifier certificate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CertificateStatus {
    Pending,
    Active,
    Superseded,
}

/// `POST /presentation-requests` answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PresentationRequestCreated {
    pub id: String,
    /// `openid4vp://?client_id=…&request_uri=…&request_uri_method=post`: what the holder's wallet
    /// opens.
    pub authorization_request: String,
    /// Where the signed request object is served.
    pub request_uri: String,
    /// The request as a QR code: `GET` this path for SVG, with `?format=png` for PNG.
    pub qr_code: String,
    /// RFC 3339.
    pub expires_at: String,
    /// Data-minimisation warnings: claims asked for beyond what the policy requires.
    #[serde(default)]
    pub warnings: Vec<crate::privacy::LintFinding>,
}

/// Where a presentation request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RequestStatus {
    /// Waiting for the wallet.
    Pending,
    /// Answered with presentations that met the request.
    Accepted,
    /// Answered with presentations that did not.
    Rejected,
    /// The holder declined.
    Declined,
    /// Not answered in time.
    Expired,
}

/// What the verifier and its policy said, in the request object, so a wallet can show the
/// holder who asks, for what, and under which policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RequestTerms {
    pub purpose: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<VerificationPolicy>,
}

impl RequestTerms {
    /// Whether the request asks the holder's leave to be told of the credential's
    /// suspension or revocation (a KYC policy's `statusNotifications`).
    pub fn asks_status_notifications(&self) -> bool {
        self.policy
            .as_ref()
            .and_then(|p| p.kyc.as_ref())
            .is_some_and(|k| k.status_notifications)
    }
}

/// One credential the wallet presented, as the verifier checked it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PresentedCredential {
    /// The DCQL credential query it answers.
    pub query_id: String,
    pub format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// W3C types, or the SD-JWT VC `vct`.
    pub types: Vec<String>,
    /// The subject claims the holder disclosed.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub claims: serde_json::Map<String, Value>,
    pub verification: VerificationResult,
}

/// The outcome of an answered request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PresentationOutcome {
    /// Why the answer was rejected or declined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
    pub credentials: Vec<PresentedCredential>,
    /// What the holder agreed to disclose, to whom and why (claim names, no values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub consent_receipt: Option<Value>,
    /// A JWS by the verifier's key over the checks performed, the status-list versions and
    /// anchors seen, the consent receipt's hash and the time: archive it instead of the
    /// personal data.
    pub verification_receipt: String,
    /// The reliance records written, when KYC was accepted under a KYC policy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reliances: Vec<crate::kyc::RelianceEntry>,
}

/// `GET /presentation-requests/{id}` answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PresentationRequestInfo {
    pub id: String,
    pub status: RequestStatus,
    /// How the request names the verifier (`decentralized_identifier:…`, `x509_san_dns:…`,
    /// `x509_hash:…`).
    pub client_id: String,
    /// What the holder's wallet opens, as at creation.
    pub authorization_request: String,
    pub terms: RequestTerms,
    pub query: DcqlQuery,
    /// How the wallet was asked to answer.
    pub response_mode: ResponseMode,
    /// The transactions asked to be authorized, as sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub transaction_data: Vec<Map<String, Value>>,
    pub created_at: String,
    pub expires_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<String>,
    /// The verifier's page the holder's browser is sent back to, when the request has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<PresentationOutcome>,
}
