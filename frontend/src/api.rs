//! The typed client of the Certus JSON API, on the same origin as the page. The session
//! cookie travels by itself; every change also carries the session's CSRF token.

use std::cell::RefCell;

use certus_ledger::block::Genesis;
use certus_schemas::kyc::{
    RelianceCheck, RelianceList, RelianceSummary, WebhookDeliveries, WebhookEndpoint,
};
use certus_schemas::openid::{
    ApprovalDecision, OfferCreated, OfferFlow, OfferInfo, PresentationRequestCreate,
    PresentationRequestCreated, PresentationRequestInfo, VerifierCertificate,
    VerifierCertificateCreate, VerifierChainInstall,
};
use certus_schemas::portal::*;
use certus_schemas::privacy::{
    DataSubjectInfo, DataSubjectList, DataSubjectOptions, DataSubjectSearch, ErasureInfo,
    RecordsOfProcessing, RetentionReport, RetentionUpdate, SweepReport,
};
use certus_schemas::settings::{InstitutionSettings, SettingsChoice};
use certus_schemas::types::NewCredentialType;
use certus_schemas::wire::{
    BulkStatusRequest, CredentialTypeInfo, ErrorBody, IssueResponse, StatusChangeResult,
    VerificationPolicy, VerificationResult,
};
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

thread_local! {
    static CSRF: RefCell<Option<String>> = const { RefCell::new(None) };
    static GENESIS: RefCell<Option<Genesis>> = const { RefCell::new(None) };
}

/// Remembers the CSRF token of the current session (or forgets it).
pub fn set_csrf(token: Option<String>) {
    CSRF.with(|c| *c.borrow_mut() = token);
}

/// An error the API answered, or a failure to reach it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// A JSON pointer into the request, when the error is about one field.
    pub path: Option<String>,
}

impl ApiError {
    fn network(e: impl std::fmt::Display) -> Self {
        Self {
            status: 0,
            code: "NETWORK".into(),
            message: format!("the server could not be reached: {e}"),
            path: None,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} — {}", self.code, self.message)
    }
}

pub type Result<T> = std::result::Result<T, ApiError>;

fn with_csrf(builder: RequestBuilder) -> RequestBuilder {
    match CSRF.with(|c| c.borrow().clone()) {
        Some(token) => builder.header("X-CSRF-Token", &token),
        None => builder,
    }
}

async fn answer<T: DeserializeOwned>(response: Response) -> Result<T> {
    if response.ok() {
        response.json().await.map_err(ApiError::network)
    } else {
        Err(error_of(response).await)
    }
}

async fn error_of(response: Response) -> ApiError {
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(body) => ApiError {
            status,
            code: body.code,
            message: body.message,
            path: body.path,
        },
        Err(_) => ApiError {
            status,
            code: format!("HTTP_{status}"),
            message: response.status_text(),
            path: None,
        },
    }
}

async fn get<T: DeserializeOwned>(url: &str) -> Result<T> {
    let response = Request::get(url).send().await.map_err(ApiError::network)?;
    answer(response).await
}

/// A resource that may be absent: `None` for the API's 204.
async fn get_optional<T: DeserializeOwned>(url: &str) -> Result<Option<T>> {
    let response = Request::get(url).send().await.map_err(ApiError::network)?;
    if response.status() == 204 {
        Ok(None)
    } else {
        answer(response).await.map(Some)
    }
}

/// Sends a change with a JSON body (and the CSRF token); the raw answer.
async fn send_json(builder: RequestBuilder, body: &impl Serialize) -> Result<Response> {
    with_csrf(builder)
        .json(body)
        .map_err(ApiError::network)?
        .send()
        .await
        .map_err(ApiError::network)
}

async fn send<T: DeserializeOwned>(builder: RequestBuilder, body: &impl Serialize) -> Result<T> {
    answer(send_json(builder, body).await?).await
}

/// Sends a change without a body (and the CSRF token).
async fn send_bare(builder: RequestBuilder) -> Result<Response> {
    with_csrf(builder)
        .build()
        .map_err(ApiError::network)?
        .send()
        .await
        .map_err(ApiError::network)
}

/// `Ok` for a 2xx answer with no body of interest.
async fn no_content(response: Response) -> Result<()> {
    if response.ok() {
        Ok(())
    } else {
        Err(error_of(response).await)
    }
}

/// A query string of the pairs with a value.
pub fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| {
            v.as_ref()
                .filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", js_sys::encode_uri_component(v)))
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// Who is signed in with this browser; `None` when no one is.
pub async fn session() -> Result<Option<SessionInfo>> {
    get_optional("/session").await
}

pub async fn sign_in(email: String, password: String) -> Result<SessionInfo> {
    send(
        Request::post("/session"),
        &SignInRequest { email, password },
    )
    .await
}

pub async fn sign_out() -> Result<()> {
    no_content(send_bare(Request::delete("/session")).await?).await
}

pub async fn change_password(current_password: String, new_password: String) -> Result<()> {
    let body = ChangePasswordRequest {
        current_password,
        new_password,
    };
    no_content(send_json(Request::post("/session/password"), &body).await?).await
}

pub async fn credential_types() -> Result<Vec<CredentialTypeInfo>> {
    get("/credential-types").await
}

/// Defines a credential type of the institution's own.
pub async fn define_credential_type(definition: NewCredentialType) -> Result<CredentialTypeInfo> {
    send(Request::post("/credential-types"), &definition).await
}

/// Retires version `version` of one of the institution's types.
pub async fn retire_credential_type(name: String, version: u32) -> Result<CredentialTypeInfo> {
    answer(
        send_bare(Request::post(&format!(
            "/credential-types/{name}/v{version}/retire"
        )))
        .await?,
    )
    .await
}

pub async fn dashboard() -> Result<Dashboard> {
    get("/dashboard").await
}

/// A credential just issued, with its id (from the `Location` of the answer: a JWT
/// envelope does not show it).
#[derive(Debug, Clone)]
pub struct Issued {
    pub id: String,
    pub credential: Value,
}

/// The options of an issuance or offer: the format, and whom the personal data is about.
fn issue_options(format: &str, data_subject: Option<&DataSubjectOptions>) -> Value {
    let mut options = json!({ "format": format });
    if let Some(subject) = data_subject {
        options["dataSubject"] = json!(subject);
    }
    options
}

/// `POST /credentials/issue`.
pub async fn issue(
    credential: Value,
    format: String,
    data_subject: Option<DataSubjectOptions>,
) -> Result<Issued> {
    let body = json!({ "credential": credential, "options": issue_options(&format, data_subject.as_ref()) });
    let response = send_json(Request::post("/credentials/issue"), &body).await?;
    let id = response
        .headers()
        .get("location")
        .and_then(|l| l.strip_prefix("/credentials/").map(decode))
        .unwrap_or_default();
    let body: IssueResponse = answer(response).await?;
    Ok(Issued {
        id,
        credential: body.verifiable_credential,
    })
}

fn decode(text: &str) -> String {
    js_sys::decode_uri_component(text)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| text.to_owned())
}

pub async fn search(search: CredentialSearch) -> Result<CredentialPage> {
    send(Request::post("/credentials/search"), &search).await
}

pub async fn credential(id: &str) -> Result<CredentialDetail> {
    get(&format!(
        "/credentials/{}",
        js_sys::encode_uri_component(id)
    ))
    .await
}

/// Sets or clears a status of the credentials with these ids.
pub async fn change_status(
    ids: Vec<String>,
    purpose: &str,
    set: bool,
    reason: &str,
) -> Result<StatusChangeResult> {
    let request: BulkStatusRequest = serde_json::from_value(json!({
        "query": { "ids": ids },
        "statusPurpose": purpose,
        "status": set,
        "reason": reason,
    }))
    .map_err(|e| ApiError {
        status: 0,
        code: "CLIENT".into(),
        message: e.to_string(),
        path: None,
    })?;
    send(Request::post("/credentials/status/bulk"), &request).await
}

pub async fn receipt(id: &str) -> Result<Value> {
    get(&format!(
        "/credentials/{}/receipt",
        js_sys::encode_uri_component(id)
    ))
    .await
}

/// Checks an anchor receipt here in the browser, with the same ledger core the server
/// uses, against this chain's genesis: a quorum of its validators must have signed the
/// block, and the transaction must be under the block's root.
pub async fn verify_receipt(receipt: Value) -> Result<ReceiptCheck> {
    let genesis = genesis().await?;
    Ok(certus_ledger::receipt::check_document_wire(
        receipt, &genesis,
    ))
}

/// The chain's genesis, fetched once for the page's life.
async fn genesis() -> Result<Genesis> {
    if let Some(genesis) = GENESIS.with(|g| g.borrow().clone()) {
        return Ok(genesis);
    }
    let genesis: Genesis = get("/chain/genesis").await?;
    GENESIS.with(|g| *g.borrow_mut() = Some(genesis.clone()));
    Ok(genesis)
}

pub async fn blocks(before: Option<u64>) -> Result<Vec<BlockSummary>> {
    get(&format!(
        "/chain/blocks{}",
        query(&[("before", before.map(|b| b.to_string()))])
    ))
    .await
}

pub async fn block(height: u64) -> Result<Value> {
    get(&format!("/chain/blocks/{height}")).await
}

/// The chain's validators, the quorum, and the newest block each signed.
pub async fn validators() -> Result<Value> {
    get("/chain/validators").await
}

pub async fn audit(before: Option<u64>) -> Result<AuditPage> {
    get(&format!(
        "/audit{}",
        query(&[("before", before.map(|b| b.to_string()))])
    ))
    .await
}

pub async fn users() -> Result<Vec<UserInfo>> {
    get("/users").await
}

pub async fn create_user(user: NewUser) -> Result<CreatedUser> {
    send(Request::post("/users"), &user).await
}

pub async fn update_user(id: String, update: UserUpdate) -> Result<UserInfo> {
    send(
        Request::patch(&format!("/users/{}", js_sys::encode_uri_component(&id))),
        &update,
    )
    .await
}

pub async fn api_keys() -> Result<Vec<ApiKeyInfo>> {
    get("/api-keys").await
}

pub async fn create_api_key(key: NewApiKey) -> Result<CreatedApiKey> {
    send(Request::post("/api-keys"), &key).await
}

pub async fn revoke_api_key(id: String) -> Result<()> {
    let url = format!("/api-keys/{}", js_sys::encode_uri_component(&id));
    no_content(send_bare(Request::delete(&url)).await?).await
}

/// `POST /credentials/verify` with pasted text: JSON is sent as JSON, anything else as a
/// JWT string.
pub async fn verify(text: String) -> Result<VerificationResult> {
    let credential = certus_schemas::holder::pasted_credential(&text);
    let response = Request::post("/credentials/verify")
        .json(&json!({ "verifiableCredential": credential }))
        .map_err(ApiError::network)?
        .send()
        .await
        .map_err(ApiError::network)?;
    let body: Value = response.json().await.map_err(ApiError::network)?;
    if body.get("verdict").is_some() {
        serde_json::from_value(body).map_err(ApiError::network)
    } else {
        let error: ErrorBody = serde_json::from_value(body).map_err(ApiError::network)?;
        Err(ApiError {
            status: 400,
            code: error.code,
            message: error.message,
            path: error.path,
        })
    }
}

/// `POST /credentials/offers`: the credential, offered to whichever wallet redeems the link.
pub async fn create_offer(
    credential: Value,
    format: String,
    data_subject: Option<DataSubjectOptions>,
    tx_code: bool,
    flow: OfferFlow,
    approval: bool,
) -> Result<OfferCreated> {
    let body = json!({
        "credential": credential,
        "options": issue_options(&format, data_subject.as_ref()),
        "txCode": tx_code,
        "flow": flow,
        "approval": approval,
    });
    send(Request::post("/credentials/offers"), &body).await
}

/// `GET /credentials/offers`: the institution's latest offers, newest first.
pub async fn offers() -> Result<Vec<OfferInfo>> {
    get("/credentials/offers").await
}

/// `POST /credentials/offers/{id}/approval`: issue (or refuse) what the wallet asked for.
pub async fn decide_offer(id: &str, approve: bool) -> Result<OfferInfo> {
    send(
        Request::post(&format!(
            "/credentials/offers/{}/approval",
            js_sys::encode_uri_component(id)
        )),
        &ApprovalDecision { approve },
    )
    .await
}

pub async fn offer(id: &str) -> Result<OfferInfo> {
    get(&format!(
        "/credentials/offers/{}",
        js_sys::encode_uri_component(id)
    ))
    .await
}

pub async fn create_presentation_request(
    body: PresentationRequestCreate,
) -> Result<PresentationRequestCreated> {
    send(Request::post("/presentation-requests"), &body).await
}

pub async fn presentation_request(id: &str) -> Result<PresentationRequestInfo> {
    get(&format!(
        "/presentation-requests/{}",
        js_sys::encode_uri_component(id)
    ))
    .await
}

/// `PUT /policies/{name}`: stores (or replaces) a verification policy of the institution.
pub async fn put_policy(name: &str, policy: &VerificationPolicy) -> Result<Value> {
    send(
        Request::put(&format!("/policies/{}", js_sys::encode_uri_component(name))),
        policy,
    )
    .await
}

pub async fn reliances() -> Result<RelianceList> {
    get("/kyc/reliances").await
}

pub async fn reliance_summary() -> Result<RelianceSummary> {
    get("/kyc/reliances/summary").await
}

/// `POST /kyc/reliances/{id}/check`: the relied-on credential's state now.
pub async fn check_reliance(id: &str) -> Result<RelianceCheck> {
    answer(
        send_bare(Request::post(&format!(
            "/kyc/reliances/{}/check",
            js_sys::encode_uri_component(id)
        )))
        .await?,
    )
    .await
}

/// The institution's settings in effect.
pub async fn settings() -> Result<InstitutionSettings> {
    get("/settings").await
}

/// Sets the institution's own choices (admins).
pub async fn set_settings(choice: SettingsChoice) -> Result<InstitutionSettings> {
    send(Request::put("/settings"), &choice).await
}

/// The institution's verifier certificates, the newest first.
pub async fn verifier_certificates() -> Result<Vec<VerifierCertificate>> {
    get("/verifier/certificates").await
}

/// Makes a verifier certificate key (admins): self-signed, or with a signing request.
pub async fn create_verifier_certificate(
    body: VerifierCertificateCreate,
) -> Result<VerifierCertificate> {
    send(Request::post("/verifier/certificates"), &body).await
}

/// Installs the chain the institution's CA returned for certificate `id` (admins).
pub async fn install_verifier_chain(id: &str, chain: String) -> Result<VerifierCertificate> {
    let path = format!(
        "/verifier/certificates/{}/chain",
        js_sys::encode_uri_component(id)
    );
    send(Request::put(&path), &VerifierChainInstall { chain }).await
}

/// The webhook endpoint; `None` when none is set.
pub async fn webhook() -> Result<Option<WebhookEndpoint>> {
    get_optional("/webhook").await
}

pub async fn set_webhook(url: String) -> Result<WebhookEndpoint> {
    send(Request::put("/webhook"), &WebhookEndpoint { url }).await
}

pub async fn webhook_deliveries() -> Result<WebhookDeliveries> {
    get("/webhook/deliveries").await
}

/// `POST /data-subjects/search`.
pub async fn find_data_subjects(search: DataSubjectSearch) -> Result<Vec<DataSubjectInfo>> {
    let list: DataSubjectList = send(Request::post("/data-subjects/search"), &search).await?;
    Ok(list.subjects)
}

pub async fn data_subject(id: &str) -> Result<DataSubjectInfo> {
    get(&format!(
        "/data-subjects/{}",
        js_sys::encode_uri_component(id)
    ))
    .await
}

/// Where a data subject's export downloads from.
pub fn export_url(id: &str) -> String {
    format!("/data-subjects/{}/export", js_sys::encode_uri_component(id))
}

/// `POST /data-subjects/{id}/erasure`.
pub async fn erase_data_subject(id: &str) -> Result<ErasureInfo> {
    let url = format!(
        "/data-subjects/{}/erasure",
        js_sys::encode_uri_component(id)
    );
    answer(send_bare(Request::post(&url)).await?).await
}

pub async fn retention() -> Result<RetentionReport> {
    get("/retention").await
}

/// `PUT /retention/{type}`: the institution's own period (`None`: the schema's).
pub async fn set_retention(
    credential_type: &str,
    period: Option<String>,
) -> Result<RetentionReport> {
    send(
        Request::put(&format!(
            "/retention/{}",
            js_sys::encode_uri_component(credential_type)
        )),
        &RetentionUpdate { period },
    )
    .await
}

pub async fn sweep_retention() -> Result<SweepReport> {
    send(Request::post("/retention/sweep"), &json!({})).await
}

pub async fn records_of_processing() -> Result<RecordsOfProcessing> {
    get("/records-of-processing").await
}
