//! The web wallet's side of OpenID4VCI (the pre-authorized code flow, and the authorization
//! code flow with PAR and PKCE; access tokens bound by DPoP) and OpenID4VP (DCQL, `direct_post`), over `fetch`. The same steps as `certus
//! wallet`, in the browser.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use certus_schemas::dcql::{formats, ClaimsQuery, DcqlQuery};
use certus_schemas::holder::{
    check_wallet_nonce, copies_to_ask, dpop_payload, fresh_keys, held_format, kb_jwt_payload,
    link_parameter, pkce_challenge, request_uri_post, select_disclosures, vp_jwt_payload,
    wallet_metadata, HeldCredential, HolderError, Key, Received,
};
use certus_schemas::openid::{
    ClientIdPrefix, RequestTerms, AUTHORIZATION_CODE_GRANT, DID_CLIENT_PREFIX, DPOP_TYP,
    KB_JWT_TYP, PRE_AUTHORIZED_GRANT, PROOF_TYP, REQUEST_OBJECT_MEDIA_TYPE, REQUEST_OBJECT_TYP,
    STATUS_NOTIFICATIONS_ALLOWED,
};
use certus_schemas::response::{requested_encryption, AuthorizationResponse, Encryption};
use certus_schemas::transaction::{self, hashes_for, Transaction};
use certus_schemas::x509;
use ed25519_dalek::VerifyingKey;
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::jwe;
use super::keys::{jws_header, random_bytes, self_certifying_key, verify_jws, BrowserKey, Jwk};
use super::WebWallet;

fn err(message: impl Into<String>) -> HolderError {
    HolderError(message.into())
}

fn now() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// Now, as an XSD date-time.
pub fn now_xsd() -> String {
    String::from(js_sys::Date::new_0().to_iso_string())
}

/// A DPoP proof (RFC 9449) of `key` for one `method` request to `url`, sent with
/// `access_token` when there is one.
fn dpop(
    key: &BrowserKey,
    method: &str,
    url: &str,
    access_token: Option<&str>,
) -> Result<String, HolderError> {
    let public = json!({"kty": key.jwk.kty, "crv": key.jwk.crv, "x": key.jwk.x});
    let jti = URL_SAFE_NO_PAD.encode(random_bytes::<16>()?);
    key.sign(
        json!({"typ": DPOP_TYP, "jwk": public}),
        &dpop_payload(method, url, access_token, &jti, now()),
    )
}

/// Sends a request; the JSON answer, or an error naming what the server said.
async fn call(request: Result<Request, gloo_net::Error>, what: &str) -> Result<Value, HolderError> {
    let response = request
        .map_err(|e| err(format!("{what}: {e}")))?
        .send()
        .await
        .map_err(|e| err(format!("{what}: the server could not be reached ({e})")))?;
    json_of(response, what).await
}

async fn json_of(response: Response, what: &str) -> Result<Value, HolderError> {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !response.ok() {
        let code = body["error"]
            .as_str()
            .or(body["code"].as_str())
            .unwrap_or("error");
        let said = body["error_description"]
            .as_str()
            .or(body["message"].as_str())
            .unwrap_or("no reason given");
        return Err(err(format!("{what}: {status} {code}: {said}")));
    }
    Ok(body)
}

fn form(builder: RequestBuilder, pairs: &[(&str, &str)]) -> Result<Request, gloo_net::Error> {
    let body = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", js_sys::encode_uri_component(v)))
        .collect::<Vec<_>>()
        .join("&");
    builder
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
}

fn text<'v>(value: &'v Value, name: &str, whose: &str) -> Result<&'v str, HolderError> {
    value[name]
        .as_str()
        .ok_or_else(|| err(format!("{whose} has no {name}")))
}

/// How an offer is redeemed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Grant {
    /// The pre-authorized code; true when the issuer sent a transaction code by another
    /// channel.
    PreAuthorized { code: String, needs_tx_code: bool },
    /// The authorization code flow: the holder continues at the issuer's page.
    AuthorizationCode { issuer_state: Option<String> },
}

/// An offer, fetched and read, before it is redeemed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Offer {
    pub credential_issuer: String,
    pub configuration: String,
    pub grant: Grant,
    /// The issuer's metadata (OpenID4VCI §12.2).
    pub metadata: Value,
}

impl Offer {
    /// True when the holder types here the transaction code the issuer sent them.
    pub fn needs_tx_code(&self) -> bool {
        matches!(
            self.grant,
            Grant::PreAuthorized {
                needs_tx_code: true,
                ..
            }
        )
    }

    /// True when the holder continues at the issuer's page.
    pub fn at_issuer(&self) -> bool {
        matches!(self.grant, Grant::AuthorizationCode { .. })
    }

    /// A `display` list's first name (OpenID4VCI §12.2.4).
    fn display_name(value: &Value) -> Option<String> {
        value["display"]
            .as_array()
            .and_then(|d| d.first())
            .and_then(|d| d["name"].as_str())
            .map(str::to_owned)
    }

    /// The offered credential's name, from the issuer's metadata.
    pub fn credential_name(&self) -> String {
        let configuration =
            &self.metadata["credential_configurations_supported"][&self.configuration];
        Self::display_name(&configuration["credential_metadata"])
            .or_else(|| Self::display_name(configuration))
            .unwrap_or_else(|| self.configuration.clone())
    }

    /// What the offer is, for the holder: the issuer's name and where it is, and the
    /// credential's name.
    pub fn summary(&self) -> String {
        let host = self
            .credential_issuer
            .split_once("://")
            .map_or(self.credential_issuer.as_str(), |(_, rest)| rest);
        let issuer = Self::display_name(&self.metadata)
            .map_or_else(|| host.to_owned(), |name| format!("{name} at {host}"));
        format!(
            "{issuer} offers you a credential: “{}”.",
            self.credential_name()
        )
    }
}

/// Reads an offer link (`openid-credential-offer://…`, or this page's `?credential_offer_uri=`)
/// and its issuer's metadata.
pub async fn offer(link: &str) -> Result<Offer, HolderError> {
    let offer: Value = match (
        link_parameter(link, "credential_offer"),
        link_parameter(link, "credential_offer_uri"),
    ) {
        (Some(offer), _) => serde_json::from_str(&offer)
            .map_err(|_| err("the link's credential_offer is not JSON"))?,
        (None, Some(uri)) => {
            let response = Request::get(&uri).send().await.map_err(|e| {
                err(format!(
                    "fetching the offer: the server could not be reached ({e})"
                ))
            })?;
            if response.status() == 404 {
                return Err(err(
                    "this offer is no longer available: it was accepted already, or it expired. Ask the issuer for a new one.",
                ));
            }
            json_of(response, "fetching the offer").await?
        }
        _ => {
            return Err(err(
                "not a credential offer link: it has no credential_offer_uri",
            ))
        }
    };
    let grants = &offer["grants"];
    let grant = if let Some(grant) = grants.get(PRE_AUTHORIZED_GRANT) {
        Grant::PreAuthorized {
            code: text(grant, "pre-authorized_code", "the offer's grant")?.to_owned(),
            needs_tx_code: grant.get("tx_code").is_some(),
        }
    } else if let Some(grant) = grants.get(AUTHORIZATION_CODE_GRANT) {
        Grant::AuthorizationCode {
            issuer_state: grant["issuer_state"].as_str().map(str::to_owned),
        }
    } else {
        return Err(err("the offer names no grant this wallet speaks"));
    };
    let credential_issuer = text(&offer, "credential_issuer", "the offer")?.to_owned();
    let metadata = call(
        Request::get(&format!(
            "{credential_issuer}/.well-known/openid-credential-issuer"
        ))
        .build(),
        "fetching the issuer's metadata",
    )
    .await?;
    Ok(Offer {
        credential_issuer,
        configuration: offer["credential_configuration_ids"][0]
            .as_str()
            .ok_or_else(|| err("the offer names no credential configuration"))?
            .to_owned(),
        grant,
        metadata,
    })
}

/// An access token for an offer, with the DPoP key it is bound to.
#[derive(Debug, Clone)]
pub struct Access {
    token: String,
    /// `DPoP` or `Bearer`.
    scheme: String,
    dpop_key: BrowserKey,
}

impl Access {
    /// A POST to `url` presenting the token: with the `DPoP` scheme and a fresh proof when
    /// the token is bound.
    fn post(&self, url: &str) -> Result<RequestBuilder, HolderError> {
        let request =
            Request::post(url).header("Authorization", &format!("{} {}", self.scheme, self.token));
        if !self.scheme.eq_ignore_ascii_case("DPoP") {
            return Ok(request);
        }
        let proof = dpop(&self.dpop_key, "POST", url, Some(&self.token))?;
        Ok(request.header("DPoP", &proof))
    }
}

async fn authorization_server(issuer: &str) -> Result<Value, HolderError> {
    call(
        Request::get(&format!("{issuer}/.well-known/oauth-authorization-server")).build(),
        "fetching the authorization server's metadata",
    )
    .await
}

/// Asks the token endpoint of `issuer` for an access token with `pairs`, bound by DPoP to
/// `dpop_key`: a key of this issuance only, so that the token is worth nothing without it
/// if it leaks, and links nothing else to the holder.
async fn access(
    issuer: &str,
    pairs: &[(&str, &str)],
    dpop_key: BrowserKey,
) -> Result<Access, HolderError> {
    let server = authorization_server(issuer).await?;
    let token_endpoint = text(&server, "token_endpoint", "the authorization server")?;
    let token = call(
        form(
            Request::post(token_endpoint)
                .header("DPoP", &dpop(&dpop_key, "POST", token_endpoint, None)?),
            pairs,
        ),
        "exchanging the code",
    )
    .await?;
    Ok(Access {
        token: text(&token, "access_token", "the token answer")?.to_owned(),
        scheme: token["token_type"].as_str().unwrap_or("Bearer").to_owned(),
        dpop_key,
    })
}

/// Redeems a pre-authorized `offer` ([`receive`]).
pub async fn redeem(
    offer: &Offer,
    tx_code: Option<&str>,
) -> Result<(Received<BrowserKey>, Option<Receipt>), HolderError> {
    let Grant::PreAuthorized {
        code,
        needs_tx_code,
    } = &offer.grant
    else {
        return Err(err(
            "this offer is received through the issuer's page: choose Continue at the issuer",
        ));
    };
    if *needs_tx_code && tx_code.is_none_or(str::is_empty) {
        return Err(err(
            "this offer needs the transaction code the issuer sent you",
        ));
    }
    let mut pairs = vec![
        ("grant_type", PRE_AUTHORIZED_GRANT),
        ("pre-authorized_code", code.as_str()),
    ];
    if let Some(tx) = tx_code.filter(|t| !t.is_empty()) {
        pairs.push(("tx_code", tx));
    }
    let issuer = offer.credential_issuer.as_str();
    let access = access(issuer, &pairs, BrowserKey::generate(issuer)?).await?;
    receive(offer, &access).await
}

/// Receives the credential of `offer` with `access`: a copy bound to each of fresh keys,
/// as many as the issuer gives at once. The credential received (not yet kept), and the
/// receipt to tell the issuer once it is.
pub async fn receive(
    offer: &Offer,
    access: &Access,
) -> Result<(Received<BrowserKey>, Option<Receipt>), HolderError> {
    let issuer = offer.credential_issuer.as_str();
    let metadata = &offer.metadata;
    let format = metadata["credential_configurations_supported"][&offer.configuration]["format"]
        .as_str()
        .map(held_format)
        .ok_or_else(|| err("the issuer does not describe the offered credential"))?
        .to_owned();
    let nonce_endpoint = text(metadata, "nonce_endpoint", "the issuer")?;
    let nonce = call(Request::post(nonce_endpoint).build(), "fetching a nonce").await?;
    let c_nonce = text(&nonce, "c_nonce", "the nonce answer")?;
    // A copy per fresh key, as many as the issuer gives at once (batch issuance): each
    // presentation shows another copy.
    let keys: Vec<BrowserKey> = fresh_keys(issuer, copies_to_ask(metadata))?;
    let proofs = keys
        .iter()
        .map(|key| {
            key.sign(
                json!({"typ": PROOF_TYP, "kid": key.kid()}),
                &json!({"aud": issuer, "iat": now(), "nonce": c_nonce}),
            )
        })
        .collect::<Result<Vec<String>, HolderError>>()?;
    let body =
        json!({"credential_configuration_id": offer.configuration, "proofs": {"jwt": proofs}});
    let credential_endpoint = text(metadata, "credential_endpoint", "the issuer")?;
    let answer = call(
        access.post(credential_endpoint)?.json(&body),
        "requesting the credential",
    )
    .await?;
    let answer = collect_deferred(metadata, access, answer).await?;
    let receipt = match (
        answer["notification_id"].as_str(),
        metadata["notification_endpoint"].as_str(),
    ) {
        (Some(id), Some(endpoint)) => Some(Receipt {
            endpoint: endpoint.to_owned(),
            notification_id: id.to_owned(),
            access: access.clone(),
        }),
        _ => None,
    };
    let received = Received::from_answer(&answer, keys, &format, issuer, now_xsd())?;
    Ok((received, receipt))
}

/// How long the wallet waits, while its page is open, for the issuer to approve a credential
/// it issues only then (deferred issuance), in milliseconds.
const APPROVAL_WAIT_MS: f64 = 600_000.0;

/// The credential answer `answer`, or — when it names a `transaction_id`, for a credential
/// the issuer approves first (OpenID4VCI §9) — the answer of the issuer's deferred
/// credential endpoint once it approved: asked every `interval` seconds (1–60), for at most
/// ten minutes.
async fn collect_deferred(
    metadata: &Value,
    access: &Access,
    mut answer: Value,
) -> Result<Value, HolderError> {
    let started = js_sys::Date::now();
    while let Some(transaction_id) = answer["transaction_id"].as_str().map(str::to_owned) {
        if js_sys::Date::now() - started > APPROVAL_WAIT_MS {
            return Err(err(
                "the issuer did not approve the credential within ten minutes; ask it to",
            ));
        }
        sleep(answer["interval"].as_u64().unwrap_or(5).clamp(1, 60)).await;
        let endpoint = text(metadata, "deferred_credential_endpoint", "the issuer")?;
        answer = call(
            access
                .post(endpoint)?
                .json(&json!({ "transaction_id": transaction_id })),
            "collecting the credential",
        )
        .await?;
    }
    Ok(answer)
}

/// Waits `seconds`.
async fn sleep(seconds: u64) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let millis = i32::try_from(seconds * 1000).unwrap_or(i32::MAX);
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, millis);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// What tells the issuer, once the credential is kept, that it was (OpenID4VCI §11).
#[derive(Debug, Clone)]
pub struct Receipt {
    endpoint: String,
    notification_id: String,
    access: Access,
}

/// Tells the issuer the credential of `receipt` was kept (`credential_accepted`).
pub async fn acknowledge(receipt: &Receipt) -> Result<(), HolderError> {
    let request = receipt.access.post(&receipt.endpoint)?;
    let body = json!({"notification_id": receipt.notification_id, "event": "credential_accepted"});
    let response = request
        .json(&body)
        .map_err(|e| err(e.to_string()))?
        .send()
        .await
        .map_err(|e| err(format!("telling the issuer: {e}")))?;
    if !response.ok() {
        json_of(response, "telling the issuer the credential was kept").await?;
    }
    Ok(())
}

/// What the wallet keeps in this tab while the holder is at the issuer's page: the offer,
/// the PKCE verifier, the `state` that names the request, and the DPoP key the flow is
/// bound to (made for this issuance only).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    offer: Offer,
    state: String,
    code_verifier: String,
    redirect_uri: String,
    dpop_key: BrowserKey,
}

/// Where [`Pending`] waits: this tab's session storage, gone with the tab.
const PENDING: &str = "certus-wallet-authorization";

fn session_storage() -> Result<web_sys::Storage, HolderError> {
    web_sys::window()
        .and_then(|w| w.session_storage().ok().flatten())
        .ok_or_else(|| err("this browser keeps no session storage"))
}

/// This wallet as an OAuth client: its page's address, to which the issuer's page sends
/// the browser back, names it.
fn wallet_address() -> Result<String, HolderError> {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .ok_or_else(|| err("the page has no origin"))?;
    Ok(format!("{origin}/wallet"))
}

/// Starts the authorization code flow for `offer`: pushes the request (PAR) with a PKCE
/// challenge and a DPoP key; the address of the issuer's page to send the browser to.
pub async fn start_authorization(offer: &Offer) -> Result<String, HolderError> {
    let Grant::AuthorizationCode { issuer_state } = &offer.grant else {
        return Err(err("this offer is received here, with its code"));
    };
    let issuer = offer.credential_issuer.as_str();
    let server = authorization_server(issuer).await?;
    let par_endpoint = text(
        &server,
        "pushed_authorization_request_endpoint",
        "the authorization server",
    )?;
    let authorization_endpoint = text(
        &server,
        "authorization_endpoint",
        "the authorization server",
    )?;
    let code_verifier = URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
    let state = URL_SAFE_NO_PAD.encode(random_bytes::<16>()?);
    let redirect_uri = wallet_address()?;
    let dpop_key = BrowserKey::generate(issuer)?;
    let details =
        json!([{"type": "openid_credential", "credential_configuration_id": offer.configuration}])
            .to_string();
    let challenge = pkce_challenge(&code_verifier);
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", redirect_uri.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("state", state.as_str()),
        ("authorization_details", details.as_str()),
    ];
    if let Some(issuer_state) = issuer_state {
        pairs.push(("issuer_state", issuer_state));
    }
    let pushed = call(
        form(
            Request::post(par_endpoint)
                .header("DPoP", &dpop(&dpop_key, "POST", par_endpoint, None)?),
            &pairs,
        ),
        "sending the request to the issuer",
    )
    .await?;
    let request_uri = text(&pushed, "request_uri", "the issuer's answer")?;
    let pending = Pending {
        offer: offer.clone(),
        state,
        code_verifier,
        redirect_uri: redirect_uri.clone(),
        dpop_key,
    };
    let kept = serde_json::to_string(&pending).map_err(|e| err(e.to_string()))?;
    session_storage()?
        .set_item(PENDING, &kept)
        .map_err(|_| err("the wallet could not keep the request in this tab"))?;
    Ok(format!(
        "{authorization_endpoint}?client_id={}&request_uri={}",
        js_sys::encode_uri_component(&redirect_uri),
        js_sys::encode_uri_component(request_uri)
    ))
}

/// The issuer's page's answer, as it sent the browser back: `code` or `error`, with
/// `state` and `iss` (RFC 9207).
#[derive(Debug, Clone, Default)]
pub struct Returned {
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
}

/// Back from the issuer's page: the offer, and an access token for it in exchange for the
/// code (checked against the request this tab made — its `state` and issuer — and sent
/// with the PKCE verifier and a proof of the flow's DPoP key).
pub async fn finish_authorization(returned: Returned) -> Result<(Offer, Access), HolderError> {
    let storage = session_storage()?;
    let pending: Pending = storage
        .get_item(PENDING)
        .ok()
        .flatten()
        .and_then(|kept| serde_json::from_str(&kept).ok())
        .ok_or_else(|| {
            err("this tab started no request to an issuer, or it was answered already")
        })?;
    if returned.state.as_deref() != Some(pending.state.as_str()) {
        return Err(err("the answer is not for the request this wallet made"));
    }
    // Used once, whatever the answer.
    let _ = storage.remove_item(PENDING);
    let issuer = pending.offer.credential_issuer.clone();
    if returned.iss.as_deref().is_some_and(|iss| iss != issuer) {
        return Err(err(
            "the answer comes from another issuer than the one asked",
        ));
    }
    if let Some(error) = returned.error {
        let why = returned
            .error_description
            .unwrap_or_else(|| "no reason given".into());
        return Err(err(format!("the issuer's page answered {error}: {why}")));
    }
    let code = returned
        .code
        .ok_or_else(|| err("the issuer's page sent no code"))?;
    let pairs = [
        ("grant_type", AUTHORIZATION_CODE_GRANT),
        ("code", code.as_str()),
        ("code_verifier", pending.code_verifier.as_str()),
        ("redirect_uri", pending.redirect_uri.as_str()),
        ("client_id", pending.redirect_uri.as_str()),
    ];
    let access = access(&issuer, &pairs, pending.dpop_key).await?;
    Ok((pending.offer, access))
}

/// A verifier's request whose signature was checked against the verifier's DID, or its
/// certificate chained to a root the holder trusts.
#[derive(Debug, Clone)]
pub struct VerifierRequest {
    pub client_id: String,
    /// The verifier's DID, or the subject of its certificate.
    pub identified_as: String,
    pub verifier_name: Option<String>,
    pub response_uri: String,
    pub nonce: String,
    pub state: String,
    pub query: DcqlQuery,
    pub terms: RequestTerms,
    /// For `direct_post.jwt`: the key and algorithm the answer is encrypted with.
    pub encryption: Option<Encryption>,
    /// What the holder is asked to authorize with the presentation.
    pub transactions: Vec<Transaction>,
}

/// Fetches the request object of an `openid4vp://` (or `haip://`) link (or this page's
/// `?request_uri=`) and checks it is signed by a key of the DID its client id names, or by
/// the key of the certificate in its `x5c`, chained to one of `anchors`.
pub async fn fetch_request(
    link: &str,
    anchors: &[x509::Cert],
) -> Result<VerifierRequest, HolderError> {
    let uri = link_parameter(link, "request_uri")
        .ok_or_else(|| err("not a presentation request link: it has no request_uri"))?;
    // By POST when the verifier offers it: the object then carries a nonce of this fetch.
    let wallet_nonce = if request_uri_post(link)? {
        Some(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
    } else {
        None
    };
    let request = match &wallet_nonce {
        None => Request::get(&uri).build(),
        Some(nonce) => {
            // What this wallet presents (a Data Integrity proof needs the CLI) and checks.
            let metadata = wallet_metadata(
                &[formats::SD_JWT, formats::JWT_VC],
                &["EdDSA", "ES256"],
                &[
                    ClientIdPrefix::DecentralizedIdentifier,
                    ClientIdPrefix::X509SanDns,
                    ClientIdPrefix::X509Hash,
                ],
            );
            form(
                Request::post(&uri).header("Accept", REQUEST_OBJECT_MEDIA_TYPE),
                &[
                    ("wallet_nonce", nonce),
                    ("wallet_metadata", &metadata.to_string()),
                ],
            )
        }
    };
    let response = request
        .map_err(|e| err(format!("fetching the request: {e}")))?
        .send()
        .await
        .map_err(|e| err(format!("fetching the request: {e}")))?;
    if !response.ok() {
        return Err(json_of(response, "fetching the request")
            .await
            .err()
            .unwrap_or_else(|| err("fetching the request failed")));
    }
    let jws = response.text().await.map_err(|e| err(e.to_string()))?;
    let jws = jws.trim();
    let header = jws_header(jws)?;
    if header["typ"] != REQUEST_OBJECT_TYP {
        return Err(err(format!(
            "the request object's typ is not {REQUEST_OBJECT_TYP}"
        )));
    }
    let unverified = certus_schemas::holder::jwt_payload(jws)?;
    let client_id = text(&unverified, "client_id", "the request")?.to_owned();
    if link_parameter(link, "client_id").is_some_and(|c| c != client_id) {
        return Err(err("the link's client_id is not the signed request's"));
    }
    let response_uri = text(&unverified, "response_uri", "the request")?.to_owned();
    let now = (js_sys::Date::now() / 1000.0) as i64;
    let certified = x509::verifier_certificate(&header, &client_id, &response_uri, anchors, now)
        .map_err(|e| err(format!("the verifier's certificate: {e}")))?;
    let (identified_as, payload) = match certified {
        Some(leaf) => {
            leaf.verify_jws(jws)
                .map_err(|e| err(format!("the request object is not the verifier's: {e}")))?;
            (leaf.subject(), unverified)
        }
        None => {
            let verifier_did = client_id
                .strip_prefix(DID_CLIENT_PREFIX)
                .ok_or_else(|| {
                    err("only verifiers identified by a DID (decentralized_identifier:) or an X.509 certificate (x509_san_dns:, x509_hash:) are supported")
                })?
                .to_owned();
            let kid = header["kid"]
                .as_str()
                .ok_or_else(|| err("the request object names no key"))?;
            if kid.split('#').next() != Some(verifier_did.as_str()) {
                return Err(err(
                    "the request object is signed by a key of another DID than its client id",
                ));
            }
            let key = verifier_key(&verifier_did, kid, &response_uri).await?;
            let payload = verify_jws(jws, &key)
                .map_err(|e| err(format!("the request object is not the verifier's: {e}")))?;
            (verifier_did, payload)
        }
    };
    if let Some(nonce) = &wallet_nonce {
        check_wallet_nonce(&payload, nonce)?;
    }
    let encryption = requested_encryption(&payload).map_err(err)?;
    let transactions = transaction::requested(&payload).map_err(|e| {
        err(format!(
            "this request cannot be answered here (invalid_transaction_data): {e}"
        ))
    })?;
    Ok(VerifierRequest {
        encryption,
        transactions,
        verifier_name: payload["client_metadata"]["client_name"]
            .as_str()
            .map(str::to_owned),
        nonce: text(&payload, "nonce", "the request")?.to_owned(),
        state: text(&payload, "state", "the request")?.to_owned(),
        query: serde_json::from_value(payload["dcql_query"].clone())
            .map_err(|_| err("the request's dcql_query is not DCQL"))?,
        terms: serde_json::from_value(payload["terms"].clone()).unwrap_or_default(),
        response_uri,
        identified_as,
        client_id,
    })
}

/// The verifier's key: a `did:key`/`did:jwk` is decoded here; any other DID is resolved by
/// the verifier's node (its `/1.0/identifiers/` resolver), as `certus wallet` does.
async fn verifier_key(
    did: &str,
    kid: &str,
    response_uri: &str,
) -> Result<VerifyingKey, HolderError> {
    if let Some(key) = self_certifying_key(did) {
        return key;
    }
    let origin = response_uri
        .splitn(4, '/')
        .take(3)
        .collect::<Vec<_>>()
        .join("/");
    let url = format!(
        "{origin}/1.0/identifiers/{}",
        js_sys::encode_uri_component(did)
    );
    let resolved = call(Request::get(&url).build(), "resolving the verifier's DID").await?;
    let methods = resolved["didDocument"]["verificationMethod"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let method = methods
        .iter()
        .find(|m| m["id"] == kid)
        .ok_or_else(|| err("the verifier's DID document does not list the request's key"))?;
    serde_json::from_value::<Jwk>(method["publicKeyJwk"].clone())
        .map_err(|_| err("the verifier's key is not a JWK"))?
        .verifying_key()
}

/// A presentation of `held` for query `query_id`, bound to the verifier's nonce and client
/// id with `key`. For SD-JWT only the disclosures of `names` go, and its key-binding JWT
/// authorizes the transactions this query's credential may; a `vc+jwt` is shown whole in
/// a `vp+jwt`.
pub fn present(
    held: &HeldCredential,
    query_id: &str,
    names: &[&str],
    key: &BrowserKey,
    request: &VerifierRequest,
) -> Result<Value, HolderError> {
    let token = held
        .credential
        .as_str()
        .ok_or_else(|| err("a JOSE credential is a string"));
    match held.format.as_str() {
        formats::SD_JWT => {
            let presented = select_disclosures(token?, names);
            let hashes = hashes_for(&request.transactions, query_id);
            let payload = kb_jwt_payload(
                &presented,
                &request.nonce,
                &request.client_id,
                now(),
                &hashes,
            );
            let kb = key.sign(json!({"typ": KB_JWT_TYP}), &payload)?;
            Ok(json!(format!("{presented}{kb}")))
        }
        formats::JWT_VC => {
            let (typ, payload) =
                vp_jwt_payload(&key.did, token?, &request.nonce, &request.client_id, now());
            Ok(json!(key.sign(json!({"typ": typ, "kid": key.kid()}), &payload)?))
        }
        other => Err(err(format!(
            "the web wallet cannot present {other} credentials yet (a Data Integrity proof needs JSON-LD canonicalization); present it with `certus wallet present`"
        ))),
    }
}

/// One credential to present: the query it answers, the credential, and the claim names
/// the holder chose to disclose.
#[derive(Debug, Clone)]
pub struct Choice {
    pub query_id: String,
    pub credential_id: String,
    pub names: Vec<String>,
}

/// Sends the browser on to the verifier's page when the verifier's answer names one
/// (same-device flows, OpenID4VP 1.0 §8.2): it then shows the outcome to its user.
pub fn follow(answer: &Value) {
    if let (Some(page), Some(window)) = (
        certus_schemas::holder::verifier_page(answer),
        web_sys::window(),
    ) {
        // A page that cannot be opened leaves the holder in the wallet, told it shared.
        let _ = window.location().assign(page.as_str());
    }
}

/// Answers `request` with the chosen disclosures, of each credential the copy whose turn it
/// is (the caller counts the presentations once accepted); `allow_notifications` lets the
/// verifier keep the credential's status entries and be told of its suspension or
/// revocation.
pub async fn respond(
    wallet: &WebWallet,
    request: &VerifierRequest,
    choices: &[Choice],
    allow_notifications: bool,
) -> Result<Value, HolderError> {
    let mut vp_token = serde_json::Map::new();
    for choice in choices {
        // Each copy of a batch in turn: this verifier sees one no other saw before.
        let held = &wallet
            .credentials
            .iter()
            .find(|c| c.id == choice.credential_id)
            .ok_or_else(|| err("the chosen credential is no longer in the wallet"))?
            .next_copy();
        let key = wallet
            .key_of(held)
            .ok_or_else(|| err("the key of a credential is missing from the wallet"))?;
        let names: Vec<&str> = choice.names.iter().map(String::as_str).collect();
        vp_token.insert(
            choice.query_id.clone(),
            json!([present(held, &choice.query_id, &names, key, request)?]),
        );
    }
    let answer = AuthorizationResponse {
        vp_token: Some(vp_token),
        state: Some(request.state.clone()),
        status_notifications: allow_notifications.then(|| STATUS_NOTIFICATIONS_ALLOWED.to_owned()),
        ..Default::default()
    };
    send(request, &answer, "the verifier refused the answer").await
}

/// Tells the verifier the holder declined.
pub async fn decline(request: &VerifierRequest) -> Result<Value, HolderError> {
    let answer = AuthorizationResponse {
        error: Some("access_denied".into()),
        error_description: Some("the holder declined".into()),
        state: Some(request.state.clone()),
        ..Default::default()
    };
    send(request, &answer, "declining").await
}

/// Sends an answer as the request asks: a form, or one `response` encrypted to the
/// verifier's key.
async fn send(
    request: &VerifierRequest,
    answer: &AuthorizationResponse,
    what: &str,
) -> Result<Value, HolderError> {
    let pairs = match &request.encryption {
        None => answer.form(),
        Some(to) => vec![("response", jwe::encrypt(to, &answer.payload()).await?)],
    };
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    call(form(Request::post(&request.response_uri), &pairs), what).await
}

/// The claim names asked by `claims` that an SD-JWT can disclose (top-level claims).
pub fn asked_names(claims: &[&ClaimsQuery]) -> Vec<String> {
    claims
        .iter()
        .filter_map(|c| c.top_level())
        .map(str::to_owned)
        .collect()
}
