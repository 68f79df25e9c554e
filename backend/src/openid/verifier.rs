//! The verifier side of OpenID4VP 1.0: a request (a DCQL query, the purpose and policy)
//! signed by the verifier's DID key — or by its certificate's key, the chain in `x5c`
//! (`x509_san_dns`, `x509_hash`) — and fetched by the wallet by reference; the wallet's
//! `direct_post` answer — or `direct_post.jwt`, encrypted to a key made for the request —
//! bound to the request's nonce and the verifier's client id and accepted at most once; and its outcome, with consent and verification receipts.

use std::sync::Arc;

use certus_schemas::dcql::{
    formats, Candidate, ClaimsQuery, CredentialMeta, CredentialQuery, DcqlQuery,
};
use certus_schemas::holder::sd_jwt_subject;
use certus_schemas::openid::{
    ClientIdPrefix, PresentationOutcome, PresentationRequestCreate, PresentationRequestCreated,
    PresentationRequestInfo, PresentedCredential, RequestProfile, RequestStatus, RequestTerms,
    STATUS_NOTIFICATIONS_ALLOWED,
};
use certus_schemas::privacy::lint_request;
use certus_schemas::response::{ResponseMode, ENC_VALUES};
use certus_schemas::transaction;
use certus_schemas::wire::{Problem, Verdict, VerificationPolicy, VerificationResult};
use certus_schemas::x509;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::certificates;
use super::encryption::{self, OpenError};
use super::metadata::paths;
use super::receipts;
use super::OpenId;
use crate::auth::{random_token, token_hash, Principal};
use crate::error::{DomainError, ErrorKind};
use crate::keys::IssuerKey;
use crate::kyc::register::{self, Acceptance, Relied};
use crate::kyc::{self, StatusRef};
use crate::store::entities::presentation_requests;
use crate::uri::percent_encode;
use crate::verification::credential::credential_of_jwt;
use crate::verification::{checks, issuer_of, policy, presentation, types_of, Binding};
use crate::work::Work;
use certus_credential::envelope::{self, MediaType};
use certus_credential::time::xsd_now;
use certus_credential::{data_integrity, jose, sd_jwt};

/// Default time a request can be answered.
pub const DEFAULT_LIFETIME_SECS: u64 = 600;
/// Longest time a request can be answered.
pub const MAX_LIFETIME_SECS: u64 = 24 * 3600;
pub use certus_schemas::openid::{DID_CLIENT_PREFIX, REQUEST_OBJECT_TYP};

/// Why a request could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The body does not describe a request Certus can make.
    #[error("{message}")]
    Invalid { message: String, path: String },
    /// The institution has no key to sign the request with.
    #[error("this institution has no key to sign requests with on this server")]
    NoVerifierKey,
    /// A request named by X.509, and the institution has no certificate installed.
    #[error("this institution has no verifier certificate installed: POST /verifier/certificates makes one")]
    NoVerifierCertificate,
    /// The installed certificate cannot name this request's verifier.
    #[error("{0}")]
    CertificateUnfit(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl DomainError for RequestError {
    fn code(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "INVALID_PRESENTATION_REQUEST",
            Self::NoVerifierKey => "NO_VERIFIER_KEY",
            Self::NoVerifierCertificate => "NO_VERIFIER_CERTIFICATE",
            Self::CertificateUnfit(_) => "VERIFIER_CERTIFICATE_UNFIT",
            Self::Internal(_) => "INTERNAL",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid { .. } => ErrorKind::Invalid,
            Self::NoVerifierKey | Self::NoVerifierCertificate | Self::CertificateUnfit(_) => {
                ErrorKind::Conflict
            }
            Self::Internal(_) => ErrorKind::Internal,
        }
    }

    fn pointer(&self) -> Option<String> {
        match self {
            Self::Invalid { path, .. } => Some(path.clone()),
            _ => None,
        }
    }
}

fn invalid(message: impl Into<String>, path: &str) -> RequestError {
    RequestError::Invalid {
        message: message.into(),
        path: path.into(),
    }
}

/// What is stored with a request: the query, the terms the holder is shown, and how the
/// answer comes.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
struct Stored {
    query: DcqlQuery,
    terms: RequestTerms,
    #[serde(default)]
    response_mode: ResponseMode,
    /// The transactions to authorize, as the request object carries them.
    #[serde(default)]
    transaction_data: Vec<String>,
    /// The profile the request follows, which names the link's scheme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    profile: Option<RequestProfile>,
    /// The verifier's page the wallet sends the holder's browser to once answered
    /// (same-device flows, OpenID4VP 1.0 §8.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    redirect_uri: Option<String>,
}

/// Who signs a request object: the key of the institution's DID, or the key of its
/// installed certificate, with the chain in `x5c`.
enum RequestSigner {
    Did(Arc<IssuerKey>),
    X509(certificates::Installed, ClientIdPrefix),
}

impl RequestSigner {
    /// The signer a request's client identifier prefix asks for.
    async fn for_request(
        openid: &OpenId,
        tenant_id: &str,
        prefix: ClientIdPrefix,
        now: DateTime<Utc>,
    ) -> Result<Self, RequestError> {
        if prefix == ClientIdPrefix::DecentralizedIdentifier {
            let key = openid
                .keys
                .default_key(tenant_id)
                .ok_or(RequestError::NoVerifierKey)?;
            return Ok(Self::Did(key));
        }
        let installed = certificates::active(openid, tenant_id)
            .await
            .map_err(|e| anyhow::anyhow!(e))?
            .ok_or(RequestError::NoVerifierCertificate)?;
        if installed.chain.leaf().not_after() <= now.timestamp() {
            return Err(RequestError::CertificateUnfit(
                "the institution's verifier certificate has expired: install a new one".into(),
            ));
        }
        let host = x509::host_of(openid.public_url()).unwrap_or_default();
        if prefix == ClientIdPrefix::X509SanDns && installed.dns_name != host {
            return Err(RequestError::CertificateUnfit(format!(
                "the verifier certificate names {}, but wallets answer this node at {host}: x509_san_dns needs the two the same",
                installed.dns_name
            )));
        }
        Ok(Self::X509(installed, prefix))
    }

    /// The signer of a stored request.
    async fn of(openid: &OpenId, row: &presentation_requests::Model) -> anyhow::Result<Self> {
        match &row.certificate_id {
            None => openid
                .keys
                .default_key(&row.tenant_id)
                .map(Self::Did)
                .ok_or_else(|| anyhow::anyhow!("the verifier's key is gone")),
            Some(id) => {
                let installed = certificates::by_id(openid, id)
                    .await
                    .map_err(|e| anyhow::anyhow!(e))?;
                let prefix = if row.client_id.starts_with(x509::HASH_PREFIX) {
                    ClientIdPrefix::X509Hash
                } else {
                    ClientIdPrefix::X509SanDns
                };
                Ok(Self::X509(installed, prefix))
            }
        }
    }

    /// The client identifier requests signed so carry.
    fn client_id(&self) -> String {
        match self {
            Self::Did(key) => format!("{DID_CLIENT_PREFIX}{}", key.did),
            Self::X509(installed, ClientIdPrefix::X509Hash) => {
                format!("{}{}", x509::HASH_PREFIX, installed.chain.leaf().hash())
            }
            Self::X509(installed, _) => format!("{}{}", x509::SAN_DNS_PREFIX, installed.dns_name),
        }
    }

    fn certificate_id(&self) -> Option<String> {
        match self {
            Self::Did(_) => None,
            Self::X509(installed, _) => Some(installed.id.clone()),
        }
    }

    fn sign(&self, payload: &Value) -> anyhow::Result<String> {
        let (header, signer) = match self {
            Self::Did(key) => (
                jose::header(&[
                    ("typ", REQUEST_OBJECT_TYP),
                    ("kid", &key.verification_method),
                ]),
                key.signer.as_ref(),
            ),
            Self::X509(installed, _) => {
                let mut header = jose::header(&[("typ", REQUEST_OBJECT_TYP)]);
                header.insert("x5c".into(), installed.chain.x5c());
                (header, installed.signer.as_ref())
            }
        };
        Ok(jose::sign(header, payload, signer)?)
    }
}

/// A request body as its profile has it: for HAIP, `x509_hash` and `direct_post.jwt`
/// (refusing other choices); SD-JWT VCs only is checked on the query.
fn profiled(
    mut body: PresentationRequestCreate,
) -> Result<PresentationRequestCreate, RequestError> {
    if body.profile == Some(RequestProfile::Haip) {
        match body.client_id_prefix {
            None | Some(ClientIdPrefix::X509Hash) => {
                body.client_id_prefix = Some(ClientIdPrefix::X509Hash)
            }
            Some(_) => {
                return Err(invalid(
                    "the HAIP profile names the verifier by x509_hash",
                    "/clientIdPrefix",
                ))
            }
        }
        match body.response_mode {
            None | Some(ResponseMode::DirectPostJwt) => {
                body.response_mode = Some(ResponseMode::DirectPostJwt)
            }
            Some(_) => {
                return Err(invalid(
                    "the HAIP profile asks the answer encrypted: direct_post.jwt",
                    "/responseMode",
                ))
            }
        }
    }
    Ok(body)
}

/// The DCQL query of a request body: the one given, or one built from the credential type,
/// claims and format.
fn query_of(openid: &OpenId, body: &PresentationRequestCreate) -> Result<DcqlQuery, RequestError> {
    if let Some(query) = &body.query {
        if body.credential_type.is_some() || !body.claims.is_empty() || body.format.is_some() {
            return Err(invalid(
                "give a DCQL query, or credentialType with claims and format, not both",
                "/query",
            ));
        }
        query.validate().map_err(|e| invalid(e.0, "/query"))?;
        return Ok(query.clone());
    }
    let Some(type_name) = &body.credential_type else {
        return Err(invalid(
            "give a DCQL query, or the credentialType asked for",
            "/credentialType",
        ));
    };
    let credential_type = openid.catalog.get(type_name).ok_or_else(|| {
        invalid(
            format!("unknown credential type `{type_name}`; GET /credential-types lists them"),
            "/credentialType",
        )
    })?;
    let format = body.format.as_deref().unwrap_or(formats::SD_JWT);
    if !formats::ALL.contains(&format) {
        return Err(invalid(
            format!("format must be one of {}", formats::ALL.join(", ")),
            "/format",
        ));
    }
    let known: Vec<&str> = credential_type.claim_names().map(|(n, _, _)| n).collect();
    if let Some(unknown) = body.claims.iter().find(|c| !known.contains(&c.as_str())) {
        return Err(invalid(
            format!("`{unknown}` is not a claim of {type_name}"),
            "/claims",
        ));
    }
    let sd_jwt = format == formats::SD_JWT;
    let claims = body
        .claims
        .iter()
        .map(|name| ClaimsQuery {
            id: None,
            path: if sd_jwt {
                vec![json!(name)]
            } else {
                vec![json!("credentialSubject"), json!(name)]
            },
            values: None,
        })
        .collect::<Vec<_>>();
    let query = DcqlQuery {
        credentials: vec![CredentialQuery {
            id: "credential".into(),
            format: format.into(),
            multiple: false,
            meta: if sd_jwt {
                CredentialMeta {
                    vct_values: Some(vec![credential_type.vct.clone()]),
                    type_values: None,
                }
            } else {
                CredentialMeta {
                    vct_values: None,
                    type_values: Some(vec![vec![
                        "VerifiableCredential".into(),
                        credential_type.name.clone(),
                    ]]),
                }
            },
            claims: (!claims.is_empty()).then_some(claims),
            claim_sets: None,
            require_holder_binding: true,
        }],
        credential_sets: None,
    };
    // The same bounds as a query given whole (a claim named 100,000 times, say).
    query.validate().map_err(|e| invalid(e.0, "/claims"))?;
    Ok(query)
}

/// Most transactions one request asks to authorize.
const MAX_TRANSACTIONS: usize = 10;
/// Longest transaction, encoded.
const MAX_TRANSACTION_BYTES: usize = 4096;

/// The transactions of a request body, encoded as the request object carries them. Each
/// is authorized by the key-binding JWT of an SD-JWT VC bound to its holder, so it may
/// name only such queries; naming none, it names them all.
fn transactions_of(
    given: &[Map<String, Value>],
    query: &DcqlQuery,
) -> Result<Vec<String>, RequestError> {
    if given.len() > MAX_TRANSACTIONS {
        return Err(invalid(
            format!("at most {MAX_TRANSACTIONS} transactions"),
            "/transactionData",
        ));
    }
    let bound: Vec<&str> = query
        .credentials
        .iter()
        .filter(|q| q.format == formats::SD_JWT && q.require_holder_binding)
        .map(|q| q.id.as_str())
        .collect();
    given
        .iter()
        .enumerate()
        .map(|(i, data)| {
            let path = format!("/transactionData/{i}");
            let mut data = data.clone();
            if !data.contains_key("credential_ids") {
                if bound.is_empty() {
                    return Err(invalid(
                        "a transaction is authorized with an SD-JWT VC bound to its holder; the request asks for none",
                        &path,
                    ));
                }
                data.insert("credential_ids".into(), json!(bound));
            }
            let encoded = transaction::encode(&data);
            if encoded.len() > MAX_TRANSACTION_BYTES {
                return Err(invalid(
                    format!("a transaction may take {MAX_TRANSACTION_BYTES} bytes encoded"),
                    &path,
                ));
            }
            let read = transaction::decode(&encoded).map_err(|e| invalid(e, &path))?;
            if let Some(other) = read.credential_ids.iter().find(|id| !bound.contains(&id.as_str())) {
                return Err(invalid(
                    format!("credential_ids: `{other}` is not a query of this request for an SD-JWT VC bound to its holder"),
                    &path,
                ));
            }
            Ok(encoded)
        })
        .collect()
}

/// A verifier's page the holder's browser may be sent back to: an absolute https URL (http
/// on a loopback address, for development) without a fragment, where the response code
/// goes.
fn verifier_page(uri: &str) -> Result<String, RequestError> {
    let refused = |why: &str| invalid(format!("redirectUri {why}"), "/redirectUri");
    let url = certus_schemas::web::page(uri).ok_or_else(|| {
        refused("must be an absolute https URL (http only on a loopback address)")
    })?;
    if url.fragment().is_some() {
        return Err(refused(
            "must not have a fragment: the response code is sent in it",
        ));
    }
    Ok(url.into())
}

/// Makes a request: signs its request object and stores it.
pub async fn create(
    openid: &OpenId,
    principal: &Principal,
    body: PresentationRequestCreate,
    policy: Option<(VerificationPolicy, Option<String>)>,
    now: DateTime<Utc>,
) -> Result<PresentationRequestCreated, RequestError> {
    let lifetime = body.expires_in.unwrap_or(DEFAULT_LIFETIME_SECS);
    if !(1..=MAX_LIFETIME_SECS).contains(&lifetime) {
        return Err(invalid(
            format!("expiresIn must be between 1 and {MAX_LIFETIME_SECS} seconds"),
            "/expiresIn",
        ));
    }
    if body.purpose.trim().is_empty() {
        return Err(invalid(
            "purpose must say why the credential is asked for",
            "/purpose",
        ));
    }
    let body = profiled(body)?;
    let query = query_of(openid, &body)?;
    if body.profile == Some(RequestProfile::Haip) {
        if let Some(other) = query
            .credentials
            .iter()
            .find(|c| c.format != formats::SD_JWT)
        {
            return Err(invalid(
                format!(
                    "the HAIP profile asks for SD-JWT VCs only (dc+sd-jwt), not {}",
                    other.format
                ),
                "/query",
            ));
        }
    }
    let transaction_data = transactions_of(&body.transaction_data, &query)?;
    let redirect_uri = body
        .redirect_uri
        .as_deref()
        .map(verifier_page)
        .transpose()?;
    let signer = RequestSigner::for_request(
        openid,
        &principal.tenant_id,
        body.client_id_prefix.unwrap_or_default(),
        now,
    )
    .await?;
    let (policy, policy_id) = match policy {
        Some((p, id)) => (Some(p), id),
        None => (None, None),
    };
    let terms = RequestTerms {
        purpose: body.purpose.trim().to_owned(),
        policy_id,
        policy,
    };
    let id = uuid::Uuid::new_v4().simple().to_string();
    let client_id = signer.client_id();
    let nonce = random_token();
    let request_state = random_token();
    let expires_at = now + Duration::seconds(lifetime as i64);
    let verifier_name = tenant_name(openid, &principal.tenant_id).await?;
    let response_mode = body.response_mode.unwrap_or_default();
    let response_key = match response_mode {
        ResponseMode::DirectPost => None,
        ResponseMode::DirectPostJwt => Some(encryption::answer_key(&openid.master)?),
    };
    let warnings = lint_request(
        &asked_claims(openid, &query),
        terms.policy.as_ref().map(needed_claims).as_deref(),
    );
    let mut client_metadata = json!({
        "client_name": verifier_name,
        "vp_formats_supported": {
            formats::SD_JWT: {"sd-jwt_alg_values": jose::ALLOWED_ALGORITHMS, "kb-jwt_alg_values": jose::ALLOWED_ALGORITHMS},
            formats::JWT_VC: {"alg_values": jose::ALLOWED_ALGORITHMS},
            formats::LDP_VC: {"proof_type_values": ["DataIntegrityProof"], "cryptosuite_values": data_integrity::SUPPORTED_CRYPTOSUITES},
        },
    });
    if let Some(key) = &response_key {
        client_metadata["jwks"] = json!({ "keys": [key.public] });
        client_metadata["encrypted_response_enc_values_supported"] = json!(ENC_VALUES);
    }
    // No `iss`: it is optional (OpenID4VP 1.0 §5), and wallets that compare it with the
    // `kid`'s DID refuse the prefixed client id in it.
    let mut payload = json!({
        "aud": "https://self-issued.me/v2",
        "client_id": client_id,
        "response_type": "vp_token",
        "response_mode": response_mode.as_str(),
        "response_uri": format!("{}{}/{id}", openid.public_url, paths::RESPONSES),
        "nonce": nonce,
        "state": request_state,
        "dcql_query": query,
        "client_metadata": client_metadata,
        "terms": terms,
        "iat": now.timestamp(),
        "exp": expires_at.timestamp(),
    });
    if !transaction_data.is_empty() {
        payload["transaction_data"] = json!(transaction_data);
    }
    let request_object = signer.sign(&payload)?;
    let stored = serde_json::to_string(&Stored {
        query,
        terms,
        response_mode,
        transaction_data,
        profile: body.profile,
        redirect_uri,
    })
    .map_err(anyhow::Error::from)?;
    let mut work = Work::begin(&openid.db, now)
        .await
        .map_err(anyhow::Error::from)?;
    presentation_requests::Entity::insert(presentation_requests::ActiveModel {
        id: Set(id.clone()),
        tenant_id: Set(principal.tenant_id.clone()),
        created_by: Set(principal.actor_id()),
        client_id: Set(client_id.clone()),
        nonce: Set(nonce),
        state: Set(request_state),
        query: Set(stored),
        request_object: Set(request_object),
        created_at: Set(now),
        expires_at: Set(expires_at),
        status: Set("pending".into()),
        answered_at: Set(None),
        result: Set(None),
        response_key: Set(response_key.map(|k| k.sealed)),
        certificate_id: Set(signer.certificate_id()),
        response_code: Set(None),
    })
    .exec_without_returning(work.conn())
    .await
    .map_err(anyhow::Error::from)?;
    work.audit_by(principal, "presentation.request", &id);
    work.commit().await.map_err(anyhow::Error::from)?;
    Ok(PresentationRequestCreated {
        authorization_request: authorization_uri(openid, body.profile, &client_id, &id),
        request_uri: request_uri(openid, &id),
        qr_code: format!("/presentation-requests/{id}/qr"),
        id,
        expires_at: xsd_now(expires_at),
        warnings,
    })
}

/// The subject claims a DCQL query asks for; a credential query naming none asks for
/// every claim of its type (OpenID4VP §6.1).
fn asked_claims(openid: &OpenId, query: &DcqlQuery) -> Vec<String> {
    let mut asked: Vec<String> = Vec::new();
    for credential in &query.credentials {
        let names: Vec<String> = match &credential.claims {
            Some(claims) => claims
                .iter()
                .filter_map(|c| {
                    c.path
                        .iter()
                        .filter_map(Value::as_str)
                        .find(|p| *p != "credentialSubject")
                        .map(str::to_owned)
                })
                .collect(),
            None => {
                let meta = &credential.meta;
                let by_vct = meta
                    .vct_values
                    .iter()
                    .flatten()
                    .filter_map(|v| openid.catalog.by_vct(v));
                let by_type = meta
                    .type_values
                    .iter()
                    .flatten()
                    .flatten()
                    .filter_map(|t| openid.catalog.get(t));
                by_vct
                    .chain(by_type)
                    .flat_map(|t| {
                        t.claim_names()
                            .map(|(n, _, _)| n.to_owned())
                            .collect::<Vec<_>>()
                    })
                    .collect()
            }
        };
        for name in names {
            if !asked.contains(&name) {
                asked.push(name);
            }
        }
    }
    asked
}

/// The claims a policy needs: those it requires, and for KYC reuse the check's level,
/// date and method.
fn needed_claims(policy: &VerificationPolicy) -> Vec<String> {
    let mut needed = policy.required_claims.clone();
    if policy.kyc.is_some() {
        needed.extend(["assuranceLevel", "checkDate", "checkMethod"].map(String::from));
    }
    needed
}

fn request_uri(openid: &OpenId, id: &str) -> String {
    format!("{}{}/{id}", openid.public_url, paths::REQUESTS)
}

/// `openid4vp://?client_id=…&request_uri=…&request_uri_method=post` (`haip://` for a
/// request of the HAIP profile): what a wallet opens. A wallet that can fetches the
/// request object by POST, with a nonce of its own the object then carries; any other
/// fetches it by GET.
fn authorization_uri(
    openid: &OpenId,
    profile: Option<RequestProfile>,
    client_id: &str,
    id: &str,
) -> String {
    let scheme = match profile {
        Some(RequestProfile::Haip) => "haip",
        None => "openid4vp",
    };
    format!(
        "{scheme}://?client_id={}&request_uri={}&request_uri_method=post",
        percent_encode(client_id, b""),
        percent_encode(&request_uri(openid, id), b"")
    )
}

/// The authorization request of request `id` of `tenant_id`.
pub async fn authorization_request(
    openid: &OpenId,
    tenant_id: &str,
    id: &str,
) -> Result<Option<String>, sea_orm::DbErr> {
    let row = presentation_requests::Entity::find_by_id(id)
        .filter(presentation_requests::Column::TenantId.eq(tenant_id))
        .one(&openid.db)
        .await?;
    Ok(row.map(|r| {
        let profile = serde_json::from_str::<Stored>(&r.query)
            .ok()
            .and_then(|s| s.profile);
        authorization_uri(openid, profile, &r.client_id, &r.id)
    }))
}

async fn tenant_name(openid: &OpenId, tenant_id: &str) -> anyhow::Result<String> {
    use crate::store::entities::tenants;
    Ok(tenants::Entity::find_by_id(tenant_id)
        .one(&openid.db)
        .await?
        .map(|t| t.name)
        .unwrap_or_else(|| tenant_id.to_owned()))
}

fn status_of(row: &presentation_requests::Model, now: DateTime<Utc>) -> RequestStatus {
    match row.status.as_str() {
        "accepted" => RequestStatus::Accepted,
        "rejected" => RequestStatus::Rejected,
        "declined" => RequestStatus::Declined,
        _ if row.expires_at <= now => RequestStatus::Expired,
        _ => RequestStatus::Pending,
    }
}

/// The signed request object, while the request can be answered.
pub async fn request_object(
    openid: &OpenId,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, sea_orm::DbErr> {
    Ok(waiting(openid, id, now).await?.map(|r| r.request_object))
}

async fn waiting(
    openid: &OpenId,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<presentation_requests::Model>, sea_orm::DbErr> {
    let row = presentation_requests::Entity::find_by_id(id)
        .one(&openid.db)
        .await?;
    Ok(row.filter(|r| r.status == "pending" && r.expires_at > now))
}

/// What a wallet sends when it fetches a request object by POST (OpenID4VP 1.0 §5.10).
#[derive(Debug, Deserialize)]
pub struct RequestFetch {
    /// A value of the wallet's own the request object must carry back, so the wallet
    /// knows the object was made for this fetch.
    pub wallet_nonce: Option<String>,
    /// The wallet's capabilities, a JSON object.
    pub wallet_metadata: Option<String>,
}

/// Longest `wallet_nonce` taken.
const MAX_WALLET_NONCE: usize = 256;

/// Why a fetch by POST was refused.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The request object for a wallet that fetched it by POST, while the request can be
/// answered: with the wallet's `wallet_nonce`, signed anew, when it sent one.
pub async fn request_object_for(
    openid: &OpenId,
    id: &str,
    fetch: RequestFetch,
    now: DateTime<Utc>,
) -> Result<Option<String>, FetchError> {
    if let Some(metadata) = &fetch.wallet_metadata {
        if !matches!(serde_json::from_str(metadata), Ok(Value::Object(_))) {
            return Err(FetchError::Invalid("wallet_metadata must be a JSON object"));
        }
    }
    if let Some(nonce) = &fetch.wallet_nonce {
        if nonce.is_empty()
            || nonce.len() > MAX_WALLET_NONCE
            || !nonce.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(FetchError::Invalid(
                "wallet_nonce must be 1 to 256 printable ASCII characters",
            ));
        }
    }
    let Some(row) = waiting(openid, id, now)
        .await
        .map_err(anyhow::Error::from)?
    else {
        return Ok(None);
    };
    let Some(nonce) = fetch.wallet_nonce else {
        return Ok(Some(row.request_object));
    };
    let mut payload = jose::decode(&row.request_object)
        .map_err(|e| anyhow::anyhow!("a stored request object does not decode: {e}"))?
        .payload;
    payload["wallet_nonce"] = Value::String(nonce);
    Ok(Some(RequestSigner::of(openid, &row).await?.sign(&payload)?))
}

/// A request of `tenant_id` with its outcome.
pub async fn info(
    openid: &OpenId,
    tenant_id: &str,
    id: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<PresentationRequestInfo>> {
    let Some(row) = presentation_requests::Entity::find_by_id(id)
        .filter(presentation_requests::Column::TenantId.eq(tenant_id))
        .one(&openid.db)
        .await?
    else {
        return Ok(None);
    };
    let stored: Stored = serde_json::from_str(&row.query)?;
    let outcome = match &row.result {
        Some(sealed) => Some(serde_json::from_value(openid.master.decrypt_json(sealed)?)?),
        None => None,
    };
    Ok(Some(PresentationRequestInfo {
        id: row.id.clone(),
        status: status_of(&row, now),
        client_id: row.client_id.clone(),
        authorization_request: authorization_uri(openid, stored.profile, &row.client_id, &row.id),
        terms: stored.terms,
        query: stored.query,
        response_mode: stored.response_mode,
        transaction_data: stored
            .transaction_data
            .iter()
            .filter_map(|t| transaction::data(t))
            .collect(),
        created_at: xsd_now(row.created_at),
        expires_at: xsd_now(row.expires_at),
        answered_at: row.answered_at.map(xsd_now),
        redirect_uri: stored.redirect_uri,
        outcome,
    }))
}

/// A wallet's `direct_post` (form-encoded): the answer's parameters, or for
/// `direct_post.jwt` the `response` that encrypts them.
#[derive(Debug, Deserialize)]
pub struct DirectPost {
    pub response: Option<String>,
    pub vp_token: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// `allowed` when the holder lets the verifier keep the credential's status entries
    /// and be told of its suspension or revocation (asked by a KYC policy).
    pub status_notifications: Option<String>,
}

/// Why an answer was not taken.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error("no presentation request is waiting at this address")]
    UnknownRequest,
    #[error("`state` does not match the request")]
    StateMismatch,
    #[error("the request has expired")]
    Expired,
    #[error("the request was already answered; a response is accepted once")]
    AlreadyAnswered,
    #[error("{0}")]
    Malformed(String),
    /// The request asks for an encrypted answer and the presentations came in clear.
    #[error("the request asks for an answer encrypted to its key (direct_post.jwt); the presentations came unencrypted")]
    NotEncrypted,
    /// The encrypted answer does not open with the request's key.
    #[error("{0}")]
    Undecryptable(String),
    /// The answer was taken and checked, and does not meet the request.
    #[error("{}", .0.message)]
    Rejected(Problem),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AnswerError {
    /// Stable code.
    pub fn code(&self) -> &str {
        match self {
            Self::UnknownRequest => "UNKNOWN_REQUEST",
            Self::StateMismatch => "STATE_MISMATCH",
            Self::Expired => "REQUEST_EXPIRED",
            Self::AlreadyAnswered => "REQUEST_ALREADY_ANSWERED",
            Self::Malformed(_) => "MALFORMED_RESPONSE",
            Self::NotEncrypted => "RESPONSE_NOT_ENCRYPTED",
            Self::Undecryptable(_) => "RESPONSE_UNDECRYPTABLE",
            Self::Rejected(problem) => &problem.code,
            Self::Internal(_) => "INTERNAL",
        }
    }
}

fn problem(check: &str, code: &str, message: impl Into<String>) -> Problem {
    Problem {
        check: check.into(),
        code: code.into(),
        message: message.into(),
    }
}

/// What the response endpoint tells the wallet of an answer it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub status: RequestStatus,
    /// Where the wallet sends the holder's browser, with a one-time `response_code` in the
    /// fragment: for a request with a `redirectUri`, accepted or declined.
    pub redirect_uri: Option<String>,
}

/// Takes a wallet's answer to request `id`: checks it once, stores the outcome and its
/// receipts. `Ok` when accepted; the holder declining is `Ok` too.
pub async fn answer(
    openid: &OpenId,
    id: &str,
    post: DirectPost,
    now: DateTime<Utc>,
) -> Result<Taken, AnswerError> {
    let row = presentation_requests::Entity::find_by_id(id)
        .one(&openid.db)
        .await
        .map_err(anyhow::Error::from)?
        .ok_or(AnswerError::UnknownRequest)?;
    match status_of(&row, now) {
        RequestStatus::Pending => {}
        RequestStatus::Expired => return Err(AnswerError::Expired),
        _ => return Err(AnswerError::AlreadyAnswered),
    }
    let stored: Stored = serde_json::from_str(&row.query).map_err(anyhow::Error::from)?;
    let post = opened(openid, &row, stored.response_mode, post)?;
    if post.state.as_deref() != Some(row.state.as_str()) {
        return Err(AnswerError::StateMismatch);
    }
    // One answer per request, even when two race: claim it first.
    let claimed = presentation_requests::Entity::update_many()
        .col_expr(
            presentation_requests::Column::Status,
            Expr::value("answering"),
        )
        .col_expr(presentation_requests::Column::AnsweredAt, Expr::value(now))
        // The answer is opened: nothing more is decrypted with its key.
        .col_expr(
            presentation_requests::Column::ResponseKey,
            Expr::value(Option::<String>::None),
        )
        .filter(presentation_requests::Column::Id.eq(id))
        .filter(presentation_requests::Column::Status.eq("pending"))
        .exec(&openid.db)
        .await
        .map_err(anyhow::Error::from)?;
    if claimed.rows_affected != 1 {
        return Err(AnswerError::AlreadyAnswered);
    }
    let (status, outcome_problem, presented) = match (&post.error, &post.vp_token) {
        (Some(error), _) => {
            let message = post
                .error_description
                .clone()
                .unwrap_or_else(|| format!("the wallet answered `{error}`"));
            (
                RequestStatus::Declined,
                Some(problem("consent", "HOLDER_DECLINED", message)),
                Vec::new(),
            )
        }
        (None, None) => (
            RequestStatus::Rejected,
            Some(problem(
                "format",
                "MALFORMED_RESPONSE",
                "vp_token is required",
            )),
            Vec::new(),
        ),
        (None, Some(token)) => {
            let (presented, problem) = evaluate(openid, &row, &stored, token, now).await;
            let status = if problem.is_none() {
                RequestStatus::Accepted
            } else {
                RequestStatus::Rejected
            };
            (status, problem, presented)
        }
    };
    let (presented, status_refs): (Vec<_>, Vec<_>) = presented.into_iter().unzip();
    let kyc = stored.terms.policy.as_ref().and_then(|p| p.kyc.as_ref());
    // Only asked, and only given, notifications count.
    let notifications = stored
        .terms
        .asks_status_notifications()
        .then(|| post.status_notifications.as_deref() == Some(STATUS_NOTIFICATIONS_ALLOWED));
    let verifier_name = tenant_name(openid, &row.tenant_id).await?;
    let consent = (!presented.is_empty()).then(|| {
        receipts::consent_receipt(
            &row.id,
            &row.client_id,
            &verifier_name,
            &stored.terms,
            &presented,
            notifications,
            now,
        )
    });
    let key = openid
        .keys
        .default_key(&row.tenant_id)
        .ok_or_else(|| anyhow::anyhow!("the verifier's key is gone"))?;
    let verification_receipt = receipts::verification_receipt(
        &key,
        &row.id,
        &row.client_id,
        status,
        outcome_problem.as_ref(),
        &presented,
        consent.as_ref(),
        now,
    )?;
    if let Some(consent) = &consent {
        receipts::store_consent(openid, &row.tenant_id, &row.id, consent, now).await?;
    }
    let reliances = match (&consent, kyc, status) {
        (Some(consent), Some(_), RequestStatus::Accepted) => {
            let accepted: Vec<Relied> = presented
                .iter()
                .zip(status_refs)
                .map(|(credential, status)| Relied { credential, status })
                .collect();
            let acceptance = Acceptance {
                tenant_id: &row.tenant_id,
                institution: &verifier_name,
                request_id: &row.id,
                policy_id: stored.terms.policy_id.as_deref(),
                consent_receipt_hash: &receipts::hash(consent),
                notifications: notifications.unwrap_or(false),
            };
            register::record(&openid.kyc, &acceptance, &accepted, now).await?
        }
        _ => Vec::new(),
    };
    let outcome = PresentationOutcome {
        problem: outcome_problem.clone(),
        credentials: presented,
        consent_receipt: consent,
        verification_receipt,
        reliances,
    };
    let sealed = openid
        .master
        .encrypt_json(&serde_json::to_value(&outcome).map_err(anyhow::Error::from)?)?;
    let status_name = match status {
        RequestStatus::Accepted => "accepted",
        RequestStatus::Declined => "declined",
        _ => "rejected",
    };
    let response_code = match (&stored.redirect_uri, status) {
        (Some(_), RequestStatus::Accepted | RequestStatus::Declined) => Some(random_token()),
        _ => None,
    };
    presentation_requests::Entity::update_many()
        .col_expr(
            presentation_requests::Column::Status,
            Expr::value(status_name),
        )
        .col_expr(presentation_requests::Column::Result, Expr::value(sealed))
        .col_expr(
            presentation_requests::Column::ResponseCode,
            Expr::value(response_code.as_deref().map(token_hash)),
        )
        .filter(presentation_requests::Column::Id.eq(id))
        .exec(&openid.db)
        .await
        .map_err(anyhow::Error::from)?;
    tracing::info!(request = %row.id, status = status_name, "presentation request answered");
    match (status, outcome_problem) {
        (RequestStatus::Rejected, Some(problem)) => Err(AnswerError::Rejected(problem)),
        _ => Ok(Taken {
            status,
            redirect_uri: stored
                .redirect_uri
                .zip(response_code)
                .map(|(page, code)| format!("{page}#response_code={code}")),
        }),
    }
}

/// Redeems the `response_code` the holder's browser brought back to the verifier's page
/// for request `id` of `tenant_id`: once, and only the one given for it. The request, as
/// [`info`] shows it; `None` when the code is not (or no longer) this request's.
pub async fn redeem_response_code(
    openid: &OpenId,
    tenant_id: &str,
    id: &str,
    code: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<PresentationRequestInfo>> {
    let redeemed = presentation_requests::Entity::update_many()
        .col_expr(
            presentation_requests::Column::ResponseCode,
            Expr::value(Option::<String>::None),
        )
        .filter(presentation_requests::Column::Id.eq(id))
        .filter(presentation_requests::Column::TenantId.eq(tenant_id))
        .filter(presentation_requests::Column::ResponseCode.eq(token_hash(code)))
        .exec(&openid.db)
        .await?;
    if redeemed.rows_affected != 1 {
        return Ok(None);
    }
    info(openid, tenant_id, id, now).await
}

/// The answer's parameters as the request asks them sent: in clear by `direct_post`;
/// encrypted to the request's key by `direct_post.jwt`, where only a refusal (`error`) may
/// come in clear (OpenID4VP 1.0 §8.3.1). A refused answer leaves the request waiting.
fn opened(
    openid: &OpenId,
    row: &presentation_requests::Model,
    mode: ResponseMode,
    mut post: DirectPost,
) -> Result<DirectPost, AnswerError> {
    match (mode, post.response.take()) {
        (ResponseMode::DirectPost, None) => Ok(post),
        (ResponseMode::DirectPost, Some(_)) => Err(AnswerError::Malformed(
            "the request asks for a direct_post answer; `response` is for direct_post.jwt".into(),
        )),
        (ResponseMode::DirectPostJwt, None) if post.vp_token.is_none() && post.error.is_some() => {
            Ok(post)
        }
        (ResponseMode::DirectPostJwt, None) => Err(AnswerError::NotEncrypted),
        (ResponseMode::DirectPostJwt, Some(response)) => {
            let sealed = row
                .response_key
                .as_deref()
                .ok_or_else(|| anyhow::anyhow!("a waiting direct_post.jwt request has no key"))?;
            let answer =
                encryption::open(&openid.master, sealed, &response).map_err(|e| match e {
                    OpenError::Refused(why) => AnswerError::Undecryptable(why),
                    OpenError::Internal(e) => AnswerError::Internal(e),
                })?;
            Ok(DirectPost {
                response: None,
                vp_token: answer.vp_token.map(|t| Value::Object(t).to_string()),
                state: answer.state,
                error: answer.error,
                error_description: answer.error_description,
                status_notifications: answer.status_notifications,
            })
        }
    }
}

/// A `vp_token` as OpenID4VP 1.0 sends it with DCQL: a JSON object from credential query
/// id to a presentation or an array of them.
pub fn answers(vp_token: &str) -> Result<Map<String, Value>, Problem> {
    match serde_json::from_str::<Value>(vp_token) {
        Ok(Value::Object(answers)) => Ok(answers),
        _ => Err(problem(
            "format",
            "MALFORMED_RESPONSE",
            "vp_token must be a JSON object keyed by credential query id",
        )),
    }
}

/// Checks every presentation of a `vp_token` against the request: the presentations
/// presented, and the first problem found (none: accepted).
async fn evaluate(
    openid: &OpenId,
    row: &presentation_requests::Model,
    stored: &Stored,
    vp_token: &str,
    now: DateTime<Utc>,
) -> (Vec<(PresentedCredential, Vec<StatusRef>)>, Option<Problem>) {
    let answers = match answers(vp_token) {
        Ok(answers) => answers,
        Err(p) => return (Vec::new(), Some(p)),
    };
    let binding = Binding {
        challenge: Some(&row.nonce),
        domain: Some(&row.client_id),
    };
    let mut presented = Vec::new();
    let mut first_problem = None;
    let mut answered: Vec<&str> = Vec::new();
    // The transactions each checked presentation authorizes, by query id.
    let mut authorized: Vec<(&str, Vec<String>)> = Vec::new();
    for (query_id, presentations) in &answers {
        let Some(query) = stored.query.credentials.iter().find(|q| &q.id == query_id) else {
            first_problem.get_or_insert(problem(
                "dcql",
                "UNKNOWN_CREDENTIAL_QUERY",
                format!("the request has no credential query `{query_id}`"),
            ));
            continue;
        };
        let list: Vec<&Value> = match presentations {
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        if list.is_empty() || (list.len() > 1 && !query.multiple) {
            first_problem.get_or_insert(problem(
                "dcql",
                "DCQL_NOT_SATISFIED",
                format!(
                    "`{query_id}` asks for one credential, {} were presented",
                    list.len()
                ),
            ));
            continue;
        }
        let mut all_good = true;
        for presentation in list {
            let (credential, problem_found) =
                check_presentation(openid, query, presentation, binding, &stored.terms, now).await;
            if let Some(p) = problem_found {
                all_good = false;
                first_problem.get_or_insert(p);
            } else if !stored.transaction_data.is_empty() {
                // Only a request with transactions reads the key-binding JWTs again.
                authorized.push((query_id, transaction_hashes(presentation)));
            }
            presented.extend(credential);
        }
        if all_good {
            answered.push(query_id);
        }
    }
    if first_problem.is_none() && !stored.query.satisfied_by(&answered) {
        first_problem = Some(problem(
            "dcql",
            "DCQL_NOT_SATISFIED",
            "the presentations do not answer every credential the request asks for",
        ));
    }
    if first_problem.is_none() {
        first_problem = unauthorized(&stored.transaction_data, &authorized);
    }
    (presented, first_problem)
}

/// The hashes of the transactions an SD-JWT presentation's key-binding JWT authorizes
/// (verified with the presentation): none for other formats or another hash algorithm.
fn transaction_hashes(presentation: &Value) -> Vec<String> {
    let Some(kb) = presentation
        .as_str()
        .and_then(|token| token.rsplit('~').next())
        .and_then(|kb| jose::decode(kb).ok())
    else {
        return Vec::new();
    };
    let claims = &kb.payload;
    if claims
        .get("transaction_data_hashes_alg")
        .is_some_and(|alg| alg != transaction::HASH_ALG)
    {
        return Vec::new();
    }
    claims["transaction_data_hashes"]
        .as_array()
        .map(|hashes| {
            hashes
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The first transaction no presentation for one of its queries authorizes, as a problem.
fn unauthorized(transactions: &[String], authorized: &[(&str, Vec<String>)]) -> Option<Problem> {
    transactions.iter().find_map(|encoded| {
        let read = transaction::decode(encoded).ok()?;
        let hash = transaction::hash(encoded);
        let done = authorized.iter().any(|(query_id, hashes)| {
            read.credential_ids.iter().any(|id| id == query_id) && hashes.contains(&hash)
        });
        (!done).then(|| {
            problem(
                "transaction_data",
                "TRANSACTION_NOT_AUTHORIZED",
                format!(
                    "no presentation authorizes the transaction of type {} (its hash is not in a key-binding JWT's transaction_data_hashes)",
                    read.kind
                ),
            )
        })
    })
}

/// What a presented credential shows of itself: format, issuer, type, the claims document
/// DCQL paths apply to, and the subject claims disclosed.
pub struct Shown {
    format: &'static str,
    issuer: Option<String>,
    vct: Option<String>,
    types: Vec<String>,
    document: Value,
    claims: Map<String, Value>,
}

fn shown_sd_jwt(token: &str) -> Option<Shown> {
    let decoded = sd_jwt::decode(token).ok()?;
    let claims = sd_jwt_subject(&decoded.claims);
    let vct = decoded
        .claims
        .get("vct")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Some(Shown {
        format: formats::SD_JWT,
        issuer: decoded
            .claims
            .get("iss")
            .and_then(Value::as_str)
            .map(str::to_owned),
        types: vct.iter().cloned().collect(),
        vct,
        document: Value::Object(decoded.claims),
        claims,
    })
}

fn shown_w3c(credential: &Value, format: &'static str) -> Shown {
    let types = types_of(credential)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let issuer = issuer_of(credential).map(str::to_owned);
    let claims = credential["credentialSubject"]
        .as_object()
        .map(|s| {
            s.iter()
                .filter(|(k, _)| *k != "id")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    Shown {
        format,
        issuer,
        vct: None,
        types,
        document: credential.clone(),
        claims,
    }
}

/// The credentials inside a presentation as DCQL sees them.
pub fn shown_in(presentation: &Value) -> Vec<Shown> {
    match presentation {
        Value::String(token) if token.contains('~') => shown_sd_jwt(token).into_iter().collect(),
        // A `vp+jwt` with enveloped `vc+jwt`s, or a VC 1.1 presentation JWT (a `vp` claim)
        // with 1.1 credential JWTs (each a `vc` claim).
        Value::String(token) => jose::decode(token)
            .map(|vp| {
                embedded(vp.payload.get("vp").unwrap_or(&vp.payload))
                    .filter_map(|c| {
                        let jwt = match (c, envelope::open(c)) {
                            (Value::String(jwt), _) => jwt.as_str(),
                            (_, Some((MediaType::VcJwt, jwt))) => jwt,
                            _ => return None,
                        };
                        let payload = jose::decode(jwt).ok()?.payload;
                        let credential = credential_of_jwt(&payload).ok()?;
                        Some(shown_w3c(&credential, formats::JWT_VC))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        Value::Object(_) => embedded(presentation)
            .filter(|c| !envelope::is_enveloped(c))
            .map(|c| shown_w3c(c, formats::LDP_VC))
            .collect(),
        _ => Vec::new(),
    }
}

fn embedded(presentation: &Value) -> impl Iterator<Item = &Value> {
    match presentation.get("verifiableCredential") {
        Some(Value::Array(items)) => items.iter().collect::<Vec<_>>(),
        Some(one) => vec![one],
        None => Vec::new(),
    }
    .into_iter()
}

/// Verifies one presentation bound to the request and matches it to its query; with the
/// credential, its status entries.
async fn check_presentation(
    openid: &OpenId,
    query: &CredentialQuery,
    presentation: &Value,
    binding: Binding<'_>,
    terms: &RequestTerms,
    now: DateTime<Utc>,
) -> (
    Option<(PresentedCredential, Vec<StatusRef>)>,
    Option<Problem>,
) {
    let mut result = match openid
        .verifier
        .verify_presentation(presentation, binding, now)
        .await
    {
        Ok(result) => result,
        Err(e) => {
            return (None, Some(problem("format", "MALFORMED_PRESENTATION", e.0)));
        }
    };
    if query.require_holder_binding
        && result
            .warnings
            .iter()
            .any(|w| w.code == presentation::HOLDER_MISMATCH)
    {
        return (
            None,
            Some(problem(
                checks::HOLDER_BINDING,
                presentation::HOLDER_MISMATCH,
                "the query requires holder binding, and a credential's subject is not the presentation's holder",
            )),
        );
    }
    let is_vp = !matches!(presentation, Value::String(t) if t.contains('~'));
    if let Some(policy) = &terms.policy {
        if is_vp {
            policy::apply_to_presentation(&mut result, policy, terms.policy_id.as_deref(), now);
        } else {
            policy::apply_to_credential(&mut result, policy, terms.policy_id.as_deref(), now);
        }
    }
    let shown = shown_in(presentation);
    let matched = shown.into_iter().find_map(|s| {
        let candidate = Candidate {
            format: s.format,
            vct: s.vct.as_deref(),
            types: &s.types,
            claims: &s.document,
        };
        query.match_candidate(&candidate).map(|_| s)
    });
    let problem_found = first_failure(&result);
    let Some(shown) = matched else {
        let p = problem(
            "dcql",
            "DCQL_NOT_SATISFIED",
            format!(
                "the credential presented for `{}` is not a {} credential of the type asked for, or does not disclose every claim asked for",
                query.id, query.format
            ),
        );
        return (None, Some(problem_found.unwrap_or(p)));
    };
    let status = kyc::status_refs(&shown.document, &result);
    let presented = PresentedCredential {
        query_id: query.id.clone(),
        format: shown.format.into(),
        issuer: shown.issuer,
        types: shown.types,
        claims: shown.claims,
        verification: result,
    };
    (Some((presented, status)), problem_found)
}

/// The first failed (else uncheckable) check of a result, and of its embedded results.
fn first_failure(result: &VerificationResult) -> Option<Problem> {
    if result.verdict == Verdict::Valid {
        return None;
    }
    let from = |r: &VerificationResult| {
        r.errors
            .iter()
            .find(|p| p.code != "CREDENTIAL_INVALID" && p.code != "CREDENTIAL_UNCHECKABLE")
            .cloned()
    };
    from(result)
        .or_else(|| result.credentials.iter().find_map(from))
        .or_else(|| result.errors.first().cloned())
        .or_else(|| {
            Some(problem(
                "verification",
                "PRESENTATION_INVALID",
                "the presentation is not valid",
            ))
        })
}
