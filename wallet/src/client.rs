//! The wallet's HTTP side: redeeming an offer (pre-authorized, or through the issuer's page
//! by the authorization code flow), fetching and checking a request, answering it with
//! `direct_post`.

use anyhow::{anyhow, bail, Context};
use certus_schemas::dcql::{formats, DcqlQuery};
use certus_schemas::holder::{
    check_wallet_nonce, copies_to_ask, fresh_keys, held_format, link_parameter, pkce_challenge,
    request_uri_post, wallet_metadata, Answer, Key, Received,
};
use certus_schemas::openid::{ClientIdPrefix, RequestTerms, STATUS_NOTIFICATIONS_ALLOWED};
use certus_schemas::response::{requested_encryption, AuthorizationResponse, Encryption};
use certus_schemas::transaction::{self, hashes_for, Transaction};
use certus_schemas::x509::{self, Cert};
use chrono::Utc;
use serde_json::{json, Value};
use ssi::jwk::JWK;

use super::{present, Audience, HeldCredential, HolderKey, Wallet};
use certus_credential::contexts::Contexts;
use certus_credential::did;
use certus_credential::jose;
use certus_credential::time::xsd_now;
use certus_schemas::openid::{AUTHORIZATION_CODE_GRANT, PRE_AUTHORIZED_GRANT};
use certus_schemas::openid::{DID_CLIENT_PREFIX, REQUEST_OBJECT_MEDIA_TYPE, REQUEST_OBJECT_TYP};

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap_or_default()
}

/// The JSON body of a response, or an error naming what the server said.
async fn json_of(response: reqwest::Response, what: &str) -> anyhow::Result<Value> {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let said = body["error_description"]
            .as_str()
            .or(body["message"].as_str())
            .unwrap_or("no reason given");
        bail!("{what}: {status}: {said}");
    }
    Ok(body)
}

fn endpoint(metadata: &Value, name: &str) -> anyhow::Result<String> {
    metadata[name]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("the issuer publishes no {name}"))
}

/// How long the wallet waits for the holder to confirm at the issuer's page: as long as
/// the page lets them.
const PAGE_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// How long the wallet waits for the issuer to approve a credential it issues only then
/// (deferred issuance).
const APPROVAL_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// What [`accept`] tells the holder while it waits on them or on the issuer.
#[derive(Debug, Clone, Copy)]
pub enum Notice<'a> {
    /// The address of the issuer's page, to open in a browser on this computer and
    /// confirm there (the authorization code flow).
    OpenPage(&'a str),
    /// The issuer approves the credential before issuing it: the wallet waits.
    AwaitingApproval,
}

/// Redeems an offer link (`openid-credential-offer://…`) with a key made for its issuer;
/// the credential, added to the wallet, and the receipt to tell the issuer once it is
/// stored (when the issuer has a notification endpoint). An offer of the pre-authorized
/// code flow is redeemed with `tx_code` when it asks for one; for one of the authorization
/// code flow, the holder is told the address of the issuer's page to open in a browser,
/// which comes back to this wallet on a loopback address (RFC 8252 §7.3). A credential the
/// issuer approves first is waited for, up to ten minutes.
pub async fn accept(
    wallet: &mut Wallet,
    link: &str,
    tx_code: Option<&str>,
    tell: impl Fn(Notice<'_>),
) -> anyhow::Result<(HeldCredential, Option<Receipt>)> {
    let client = http();
    let param = |name: &str| link_parameter(link, name);
    let offer: Value = match (param("credential_offer"), param("credential_offer_uri")) {
        (Some(offer), _) => serde_json::from_str(&offer).context("credential_offer is not JSON")?,
        (None, Some(uri)) => json_of(client.get(&uri).send().await?, "fetching the offer").await?,
        _ => bail!("not a credential offer link: it has no credential_offer(_uri)"),
    };
    let issuer = offer["credential_issuer"]
        .as_str()
        .context("the offer names no credential_issuer")?;
    let configuration = offer["credential_configuration_ids"][0]
        .as_str()
        .context("the offer names no credential configuration")?;
    let metadata = json_of(
        client
            .get(format!("{issuer}/.well-known/openid-credential-issuer"))
            .send()
            .await?,
        "fetching the issuer's metadata",
    )
    .await?;
    let server = json_of(
        client
            .get(format!("{issuer}/.well-known/oauth-authorization-server"))
            .send()
            .await?,
        "fetching the authorization server's metadata",
    )
    .await?;
    let config = &metadata["credential_configurations_supported"][configuration];
    let format = config["format"]
        .as_str()
        .map(held_format)
        .context("the issuer does not describe the offered credential")?
        .to_owned();
    // The access token is bound by DPoP to a key of this issuance only (RFC 9449): a token
    // that leaks is worth nothing without it, and it links nothing else to the holder.
    let dpop_key = HolderKey::generate(issuer)?;
    let grants = &offer["grants"];
    let grant: Vec<(&str, String)> = if let Some(grant) = grants.get(PRE_AUTHORIZED_GRANT) {
        let code = grant["pre-authorized_code"]
            .as_str()
            .context("the offer has no pre-authorized code")?;
        if grant.get("tx_code").is_some() && tx_code.is_none() {
            bail!("this offer needs the transaction code the issuer sent you: pass --tx-code");
        }
        let mut form = vec![
            ("grant_type", PRE_AUTHORIZED_GRANT.to_owned()),
            ("pre-authorized_code", code.to_owned()),
        ];
        if let Some(tx) = tx_code {
            form.push(("tx_code", tx.to_owned()));
        }
        form
    } else if let Some(grant) = grants.get(AUTHORIZATION_CODE_GRANT) {
        let flow = Authorization {
            client: &client,
            issuer,
            server: &server,
            configuration,
            issuer_state: grant["issuer_state"].as_str(),
            dpop_key: &dpop_key,
        };
        flow.run(|page| tell(Notice::OpenPage(page))).await?
    } else {
        bail!("the offer names no grant this wallet speaks");
    };
    let token_endpoint = endpoint(&server, "token_endpoint")?;
    let token = json_of(
        client
            .post(&token_endpoint)
            .header(
                "DPoP",
                dpop_key.dpop("POST", &token_endpoint, None, Utc::now())?,
            )
            .form(&grant)
            .send()
            .await?,
        "exchanging the code",
    )
    .await?;
    let access = Access {
        token: token["access_token"]
            .as_str()
            .context("no access_token")?
            .to_owned(),
        scheme: token["token_type"].as_str().unwrap_or("Bearer").to_owned(),
        dpop_key,
    };
    let nonce = json_of(
        client
            .post(endpoint(&metadata, "nonce_endpoint")?)
            .send()
            .await?,
        "fetching a nonce",
    )
    .await?;
    let c_nonce = nonce["c_nonce"].as_str().context("no c_nonce")?;
    // A copy per fresh key, as many as the issuer gives at once (batch issuance): each
    // presentation shows another copy.
    let keys: Vec<HolderKey> = fresh_keys(issuer, copies_to_ask(&metadata))?;
    let proofs = keys
        .iter()
        .map(|key| key.proof(issuer, c_nonce, Utc::now()))
        .collect::<anyhow::Result<Vec<String>>>()?;
    let credential_endpoint = endpoint(&metadata, "credential_endpoint")?;
    let answer = json_of(
        access
            .post(&client, &credential_endpoint)?
            .json(&json!({"credential_configuration_id": configuration, "proofs": {"jwt": proofs}}))
            .send()
            .await?,
        "requesting the credential",
    )
    .await?;
    let answer = match answer["transaction_id"].as_str() {
        Some(transaction_id) => {
            tell(Notice::AwaitingApproval);
            let interval = answer["interval"].as_u64().unwrap_or(5);
            collect_deferred(&client, &access, &metadata, transaction_id, interval).await?
        }
        None => answer,
    };
    let receipt = match (
        answer["notification_id"].as_str(),
        metadata["notification_endpoint"].as_str(),
    ) {
        (Some(id), Some(endpoint)) => Some(Receipt {
            endpoint: endpoint.to_owned(),
            notification_id: id.to_owned(),
            access,
        }),
        _ => None,
    };
    let received = Received::from_answer(&answer, keys, &format, issuer, xsd_now(Utc::now()))?;
    let id = wallet.keep(received)?;
    let held = wallet
        .credentials
        .iter()
        .find(|c| c.id == id)
        .cloned()
        .expect("just added");
    Ok((held, receipt))
}

/// Collects a credential the issuer approves before it issues it (OpenID4VCI §9): asks
/// its deferred credential endpoint every `interval` seconds (as the issuer says, within
/// 1–60), for at most [`APPROVAL_WAIT`]; the answer with the credentials.
async fn collect_deferred(
    client: &reqwest::Client,
    access: &Access,
    metadata: &Value,
    transaction_id: &str,
    mut interval: u64,
) -> anyhow::Result<Value> {
    let endpoint = endpoint(metadata, "deferred_credential_endpoint")?;
    let deadline = std::time::Instant::now() + APPROVAL_WAIT;
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(interval.clamp(1, 60))).await;
        let response = access
            .post(client, &endpoint)?
            .json(&json!({ "transaction_id": transaction_id }))
            .send()
            .await?;
        let pending = response.status() == reqwest::StatusCode::ACCEPTED;
        let answer = json_of(response, "collecting the credential").await?;
        if !pending {
            return Ok(answer);
        }
        if std::time::Instant::now() >= deadline {
            bail!("the issuer did not approve the credential within ten minutes; ask it to");
        }
        interval = answer["interval"].as_u64().unwrap_or(interval);
    }
}

/// What tells the issuer, once the credential is stored, that it was (OpenID4VCI §11): its
/// notification endpoint, the `notification_id` and the access token it came with.
#[derive(Debug)]
pub struct Receipt {
    endpoint: String,
    notification_id: String,
    access: Access,
}

/// An access token, with the DPoP key it is bound to.
#[derive(Debug)]
struct Access {
    token: String,
    /// `DPoP` or `Bearer`.
    scheme: String,
    dpop_key: HolderKey,
}

impl Access {
    /// A POST to `url` presenting the token: with the `DPoP` scheme and a fresh proof when
    /// the token is bound.
    fn post(&self, client: &reqwest::Client, url: &str) -> anyhow::Result<reqwest::RequestBuilder> {
        let request = client
            .post(url)
            .header("Authorization", format!("{} {}", self.scheme, self.token));
        if !self.scheme.eq_ignore_ascii_case("DPoP") {
            return Ok(request);
        }
        let proof = self
            .dpop_key
            .dpop("POST", url, Some(&self.token), Utc::now())?;
        Ok(request.header("DPoP", proof))
    }
}

/// Tells the issuer the credential of `receipt` was stored (`credential_accepted`).
pub async fn acknowledge(receipt: &Receipt) -> anyhow::Result<()> {
    let response = receipt
        .access
        .post(&http(), &receipt.endpoint)?
        .json(&json!({"notification_id": receipt.notification_id, "event": "credential_accepted"}))
        .send()
        .await?;
    if !response.status().is_success() {
        json_of(response, "telling the issuer the credential was stored").await?;
    }
    Ok(())
}

/// The authorization code flow of one offer, as a native app runs it (RFC 8252).
struct Authorization<'a> {
    client: &'a reqwest::Client,
    issuer: &'a str,
    /// The authorization server's metadata.
    server: &'a Value,
    configuration: &'a str,
    issuer_state: Option<&'a str>,
    /// The key the whole flow, and the token, are bound to.
    dpop_key: &'a HolderKey,
}

impl Authorization<'_> {
    /// Pushes the request (PAR, with PKCE and DPoP) for a redirect to a loopback address
    /// of this wallet's, has the holder open the issuer's page, and waits for the browser
    /// to come back; the token request's form for the code it brings.
    async fn run(self, open_page: impl Fn(&str)) -> anyhow::Result<Vec<(&'static str, String)>> {
        let listener = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
            .await
            .context("listening on a loopback port for the issuer's answer")?;
        let redirect_uri = format!(
            "http://127.0.0.1:{}/callback",
            listener.local_addr()?.port()
        );
        let code_verifier = random_text();
        let state = random_text();
        let details = json!([{"type": "openid_credential", "credential_configuration_id": self.configuration}])
            .to_string();
        let client_id = "certus-wallet";
        let mut form = vec![
            ("response_type", "code".to_owned()),
            ("client_id", client_id.to_owned()),
            ("redirect_uri", redirect_uri.clone()),
            ("code_challenge", pkce_challenge(&code_verifier)),
            ("code_challenge_method", "S256".to_owned()),
            ("state", state.clone()),
            ("authorization_details", details),
        ];
        if let Some(issuer_state) = self.issuer_state {
            form.push(("issuer_state", issuer_state.to_owned()));
        }
        let par = endpoint(self.server, "pushed_authorization_request_endpoint")?;
        let pushed = json_of(
            self.client
                .post(&par)
                .header("DPoP", self.dpop_key.dpop("POST", &par, None, Utc::now())?)
                .form(&form)
                .send()
                .await?,
            "pushing the authorization request",
        )
        .await?;
        let request_uri = pushed["request_uri"]
            .as_str()
            .context("the issuer gave no request_uri")?;
        let mut page = url::Url::parse(&endpoint(self.server, "authorization_endpoint")?)
            .context("the issuer's authorization_endpoint is not a URL")?;
        page.query_pairs_mut()
            .append_pair("client_id", client_id)
            .append_pair("request_uri", request_uri);
        open_page(page.as_str());
        let answer = tokio::time::timeout(PAGE_WAIT, loopback_answer(&listener, &state))
            .await
            .map_err(|_| anyhow!("no answer from the issuer's page within 10 minutes"))??;
        if let Some(iss) = answer.get("iss") {
            if iss != self.issuer {
                bail!("the answer comes from another issuer ({iss}) than the one asked");
            }
        }
        if let Some(error) = answer.get("error") {
            let why = answer
                .get("error_description")
                .map_or("no reason given", String::as_str);
            bail!("the issuer's page answered {error}: {why}");
        }
        let code = answer
            .get("code")
            .context("the issuer's page sent no code")?
            .clone();
        Ok(vec![
            ("grant_type", AUTHORIZATION_CODE_GRANT.to_owned()),
            ("code", code),
            ("code_verifier", code_verifier),
            ("redirect_uri", redirect_uri),
            ("client_id", client_id.to_owned()),
        ])
    }
}

/// 32 random bytes, base64url: a PKCE verifier, a `state` or a `wallet_nonce`.
fn random_text() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Waits on `listener` for the browser's return to `/callback` with this flow's `state`;
/// its query. Anything else (a favicon, a stray request) is answered 404 and waited past.
async fn loopback_answer(
    listener: &tokio::net::TcpListener,
    state: &str,
) -> anyhow::Result<std::collections::HashMap<String, String>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    loop {
        let (mut stream, _) = listener.accept().await?;
        let mut head = Vec::new();
        let mut buffer = [0u8; 1024];
        // The request line and headers, up to 8 KiB.
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
            let read = stream.read(&mut buffer).await?;
            if read == 0 {
                break;
            }
            head.extend_from_slice(&buffer[..read]);
        }
        let line = String::from_utf8_lossy(&head);
        let target = line
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("GET "))
            .and_then(|l| l.split(' ').next())
            .unwrap_or_default();
        let query: std::collections::HashMap<String, String> =
            url::Url::parse(&format!("http://127.0.0.1{target}"))
                .ok()
                .filter(|u| u.path() == "/callback")
                .map(|u| u.query_pairs().into_owned().collect())
                .unwrap_or_default();
        let ours = query.get("state").map(String::as_str) == Some(state);
        let (status, text) = if ours {
            (
                "200 OK",
                "The wallet has the issuer's answer: you can close this tab.",
            )
        } else {
            ("404 Not Found", "Not an answer for this wallet.")
        };
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{text}",
            text.len()
        );
        stream.write_all(response.as_bytes()).await.ok();
        stream.shutdown().await.ok();
        if ours {
            return Ok(query);
        }
    }
}

/// A verifier's request, its signature checked against the verifier's DID.
#[derive(Debug, Clone)]
pub struct Request {
    pub client_id: String,
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

/// Fetches the request object of an `openid4vp://` (or `haip://`) link and checks it is
/// signed by the key its client id names: a key of the verifier's DID
/// (`decentralized_identifier`), or the key of the certificate in its `x5c` header, whose
/// chain leads to one of `anchors` (`x509_san_dns`, `x509_hash`).
pub async fn fetch_request(link: &str, anchors: &[Cert]) -> anyhow::Result<Request> {
    let param = |name: &str| link_parameter(link, name);
    let uri = param("request_uri").context("not a request link: it has no request_uri")?;
    // By POST when the verifier offers it: the object then carries a nonce of this fetch.
    let wallet_nonce = request_uri_post(link)
        .map_err(|e| anyhow!(e))?
        .then(random_text);
    let response = match &wallet_nonce {
        None => http().get(&uri).send().await?,
        Some(nonce) => {
            let metadata = wallet_metadata(
                formats::ALL,
                jose::ALLOWED_ALGORITHMS,
                &[
                    ClientIdPrefix::DecentralizedIdentifier,
                    ClientIdPrefix::X509SanDns,
                    ClientIdPrefix::X509Hash,
                ],
            )
            .to_string();
            http()
                .post(&uri)
                .header(reqwest::header::ACCEPT, REQUEST_OBJECT_MEDIA_TYPE)
                .form(&[
                    ("wallet_nonce", nonce.as_str()),
                    ("wallet_metadata", &metadata),
                ])
                .send()
                .await?
        }
    };
    if !response.status().is_success() {
        let body = json_of(response, "fetching the request").await;
        return Err(body
            .err()
            .unwrap_or_else(|| anyhow!("fetching the request failed")));
    }
    let jwt = response.text().await?;
    let decoded = jose::decode(jwt.trim()).context("the request object is not a JWS")?;
    if decoded.header_str("typ") != Some(REQUEST_OBJECT_TYP) {
        bail!("the request object's typ is not {REQUEST_OBJECT_TYP}");
    }
    let payload = &decoded.payload;
    let text = |name: &str| {
        payload[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("the request object has no {name}"))
    };
    let client_id = text("client_id")?;
    if param("client_id").is_some_and(|c| c != client_id) {
        bail!("the link's client_id is not the signed request's");
    }
    let response_uri = text("response_uri")?;
    let header = Value::Object(decoded.header.clone());
    let certified = x509::verifier_certificate(
        &header,
        &client_id,
        &response_uri,
        anchors,
        Utc::now().timestamp(),
    )
    .map_err(|e| anyhow!("the verifier's certificate: {e}"))?;
    let key = match certified {
        Some(leaf) => serde_json::from_value(leaf.public_jwk().map_err(|e| anyhow!(e))?)?,
        None => {
            let verifier_did = client_id.strip_prefix(DID_CLIENT_PREFIX).context(
                "only verifiers identified by a DID (decentralized_identifier:) or an X.509 certificate (x509_san_dns:, x509_hash:) are supported",
            )?;
            let kid = decoded
                .header_str("kid")
                .context("the request object names no key")?;
            if kid.split('#').next() != Some(verifier_did) {
                bail!("the request object is signed by a key of another DID than its client id");
            }
            verifier_key(verifier_did, kid, &response_uri).await?
        }
    };
    decoded
        .verify(&key)
        .context("the request object's signature does not verify")?;
    if let Some(nonce) = &wallet_nonce {
        check_wallet_nonce(payload, nonce).map_err(|e| anyhow!(e))?;
    }
    let encryption = requested_encryption(payload).map_err(|e| anyhow!(e))?;
    let transactions =
        transaction::requested(payload).map_err(|e| anyhow!("invalid_transaction_data: {e}"))?;
    Ok(Request {
        encryption,
        transactions,
        verifier_name: payload["client_metadata"]["client_name"]
            .as_str()
            .map(str::to_owned),
        nonce: text("nonce")?,
        state: text("state")?,
        query: serde_json::from_value(payload["dcql_query"].clone())
            .context("the request's dcql_query is not DCQL")?,
        terms: serde_json::from_value(payload["terms"].clone()).unwrap_or_default(),
        response_uri,
        client_id,
    })
}

/// The verifier's key: a `did:key`/`did:jwk` resolves here; any other DID is resolved by
/// the verifier's own server (its `/1.0/identifiers/` resolver).
async fn verifier_key(verifier: &str, kid: &str, response_uri: &str) -> anyhow::Result<JWK> {
    if let Some(jwk) = did::holder_key(verifier).await {
        return Ok(jwk);
    }
    let origin = response_uri
        .splitn(4, '/')
        .take(3)
        .collect::<Vec<_>>()
        .join("/");
    let resolved = json_of(
        http()
            .get(format!("{origin}/1.0/identifiers/{verifier}"))
            .send()
            .await?,
        "resolving the verifier's DID",
    )
    .await?;
    let methods = resolved["didDocument"]["verificationMethod"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let method = methods
        .iter()
        .find(|m| m["id"] == kid)
        .context("the verifier's DID document does not list the request's key")?;
    serde_json::from_value(method["publicKeyJwk"].clone())
        .context("the verifier's key is not a JWK")
}

/// Answers `request` with the planned presentations — of each credential, the copy whose
/// turn it is ([`HeldCredential::next_copy`]) — and, with `allow_notifications`, the
/// holder's leave to be told of status changes; the verifier's reply. The caller counts
/// the presentations ([`Wallet::presented`]) once it is accepted.
pub async fn respond(
    wallet: &Wallet,
    request: &Request,
    answers: &[Answer<'_, '_>],
    contexts: &Contexts,
    allow_notifications: bool,
) -> anyhow::Result<Value> {
    let mut vp_token = serde_json::Map::new();
    for (query_id, held, claims) in answers {
        // Each copy of a batch in turn: this verifier sees one no other saw before.
        let held = &held.next_copy();
        let key = wallet
            .key_of(held)
            .context("the key of a credential is missing from the wallet")?;
        let to = Audience {
            nonce: &request.nonce,
            client_id: &request.client_id,
            now: Utc::now(),
            transaction_hashes: &hashes_for(&request.transactions, query_id),
        };
        let presentation = present(held, claims, key, to, contexts).await?;
        vp_token.insert((*query_id).to_owned(), json!([presentation]));
    }
    let answer = AuthorizationResponse {
        vp_token: Some(vp_token),
        state: Some(request.state.clone()),
        status_notifications: allow_notifications.then(|| STATUS_NOTIFICATIONS_ALLOWED.to_owned()),
        ..Default::default()
    };
    post_answer(request, &answer).await
}

/// Tells the verifier the holder declined.
pub async fn decline(request: &Request) -> anyhow::Result<Value> {
    let answer = AuthorizationResponse {
        error: Some("access_denied".into()),
        error_description: Some("the holder declined".into()),
        state: Some(request.state.clone()),
        ..Default::default()
    };
    post_answer(request, &answer).await
}

/// Sends an answer as the request asks: a form, or one `response` encrypted to the
/// verifier's key.
async fn post_answer(request: &Request, answer: &AuthorizationResponse) -> anyhow::Result<Value> {
    let form = match &request.encryption {
        None => answer.form(),
        Some(encryption) => vec![("response", encrypt_answer(encryption, answer)?)],
    };
    let response = http()
        .post(&request.response_uri)
        .form(&form)
        .send()
        .await?;
    json_of(response, "the verifier refused the answer").await
}

/// The answer as a compact JWE to the verifier's key (ECDH-ES, josekit).
pub fn encrypt_answer(
    encryption: &Encryption,
    answer: &AuthorizationResponse,
) -> anyhow::Result<String> {
    let jwk = josekit::jwk::Jwk::from_map(encryption.jwk.clone())
        .context("the verifier's encryption key is not a JWK")?;
    let encrypter = josekit::jwe::ECDH_ES
        .encrypter_from_jwk(&jwk)
        .context("the verifier's encryption key is not a P-256 key")?;
    let mut header = josekit::jwe::JweHeader::new();
    header.set_content_encryption(encryption.enc);
    if let Some(kid) = encryption.kid() {
        header.set_key_id(kid);
    }
    Ok(josekit::jwe::serialize_compact(
        &answer.payload(),
        &header,
        &encrypter,
    )?)
}
