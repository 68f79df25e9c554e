//! OpenID4VCI's authorization code flow through the real router: a pushed authorization
//! request (PAR) with PKCE and a DPoP key, the issuer's page where the holder enters the
//! offer's one-time code, and the code's exchange for a token and a credential — and every
//! way each step is refused.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use certus_credential::time::Clock;
use certus_schemas::holder::Key;
use certus_schemas::portal::Role;
use certus_wallet::HolderKey;
use chrono::TimeDelta;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{Db, TestApp, PUBLIC_URL};
use crate::on_both_databases;
use crate::openid::{form, unbound_kyc, FORM};

on_both_databases!(
    an_offer_is_redeemed_through_par_pkce_dpop_and_the_holders_code,
    pushed_requests_are_refused_with_the_error_the_rfcs_name,
    the_page_refuses_what_was_not_pushed_and_blocks_after_five_wrong_codes,
    authorization_codes_are_one_time_short_lived_and_bound_to_their_request,
    an_institution_that_requires_dpop_gives_no_bearer_token,
);

pub(crate) const REDIRECT: &str = "https://wallet.example/cb";
pub(crate) const CLIENT: &str = "wallet-e2e";
const TOKEN_URL: &str = "https://certus.test/openid4vci/token";
const PAR_URL: &str = "https://certus.test/openid4vci/par";

/// A PKCE verifier and its S256 challenge.
pub(crate) fn pkce() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes().repeat(2));
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    // The wallets' function agrees with the RFC's computation.
    assert_eq!(certus_schemas::holder::pkce_challenge(&verifier), challenge);
    (verifier, challenge)
}

pub(crate) fn issuer_state(offer: &Value) -> String {
    offer["credentialOffer"]["grants"]["authorization_code"]["issuer_state"]
        .as_str()
        .expect("issuer_state")
        .to_owned()
}

/// A step of the flow: its status, headers and body (HTML as a string).
async fn send(
    app: &TestApp,
    request: axum::http::request::Builder,
    body: Vec<u8>,
) -> (StatusCode, HeaderMap, Value) {
    app.send_full(request.body(Body::from(body)).expect("request"))
        .await
}

/// The query parameters of a redirect's `Location`.
fn redirected_to(headers: &HeaderMap) -> (String, HashMap<String, String>) {
    let location = headers[header::LOCATION].to_str().expect("location");
    let url = url::Url::parse(location).expect("absolute");
    let base = format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.path()
    );
    (base, url.query_pairs().into_owned().collect())
}

/// The parameters every pushed request needs, for the offer of `issuer_state`.
pub(crate) fn required_pairs<'a>(
    challenge: &'a str,
    issuer_state: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", CLIENT),
        ("redirect_uri", REDIRECT),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("issuer_state", issuer_state),
    ]
}

/// A flow's wallet side: its PKCE verifier and request.
pub(crate) struct Flow {
    pub(crate) verifier: String,
    pub(crate) offer: Value,
    pub(crate) request_uri: String,
}

impl TestApp {
    pub(crate) async fn authorization_code_offer(&self) -> Value {
        let (status, body) = self
            .post(
                "/credentials/offers",
                &json!({"credential": unbound_kyc(), "options": {"format": "dc+sd-jwt"},
                        "flow": "authorizationCode"}),
                Some(&self.token),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// A form POST to `path`, with a DPoP proof when given.
    async fn form_post(
        &self,
        path: &str,
        pairs: &[(&str, &str)],
        dpop: Option<&str>,
    ) -> (StatusCode, Value) {
        let headers: Vec<(&str, &str)> = dpop.map(|proof| ("DPoP", proof)).into_iter().collect();
        let (status, _, body) = self.form_post_with(path, pairs, &headers).await;
        (status, body)
    }

    /// A form POST to `path` with `headers`.
    pub(crate) async fn form_post_with(
        &self,
        path: &str,
        pairs: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, Value) {
        let mut request = Request::post(path).header(header::CONTENT_TYPE, FORM);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        send(self, request, form(pairs)).await
    }

    async fn push(&self, pairs: &[(&str, &str)], dpop: Option<&str>) -> (StatusCode, Value) {
        self.form_post("/openid4vci/par", pairs, dpop).await
    }

    /// A new offer and a request pushed for it, bound to `dpop_key` when given.
    async fn pushed_flow(&self, dpop_key: Option<&HolderKey>) -> Flow {
        let offer = self.authorization_code_offer().await;
        let (verifier, challenge) = pkce();
        let proof = dpop_key.map(|k| {
            k.dpop("POST", PAR_URL, None, self.clock.now())
                .expect("proof")
        });
        let state = issuer_state(&offer);
        let mut pairs = required_pairs(&challenge, &state);
        pairs.extend([
            ("state", "wallet-state"),
            ("scope", "KycCredential"),
            ("resource", PUBLIC_URL),
        ]);
        let (status, body) = self.push(&pairs, proof.as_deref()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["expires_in"], 60);
        let request_uri = body["request_uri"]
            .as_str()
            .expect("request_uri")
            .to_owned();
        assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
        Flow {
            verifier,
            offer,
            request_uri,
        }
    }

    async fn open_page(
        &self,
        client_id: &str,
        request_uri: &str,
    ) -> (StatusCode, HeaderMap, Value) {
        let query = String::from_utf8(form(&[
            ("client_id", client_id),
            ("request_uri", request_uri),
        ]))
        .expect("utf-8");
        send(
            self,
            Request::get(format!("/openid4vci/authorize?{query}")),
            Vec::new(),
        )
        .await
    }

    /// The holder's answer on the page of `flow`: `field` (`tx_code` or `decline`) set to
    /// `value`.
    async fn answer_flow(
        &self,
        flow: &Flow,
        field: &str,
        value: &str,
    ) -> (StatusCode, HeaderMap, Value) {
        let request = Request::post("/openid4vci/authorize").header(header::CONTENT_TYPE, FORM);
        let pairs = [
            ("client_id", CLIENT),
            ("request_uri", flow.request_uri.as_str()),
            (field, value),
        ];
        send(self, request, form(&pairs)).await
    }

    /// The holder opens the page and enters the offer's code: the authorization code.
    pub(crate) async fn authorize(&self, flow: &Flow) -> String {
        let (status, _, _) = self.open_page(CLIENT, &flow.request_uri).await;
        assert_eq!(status, StatusCode::OK);
        let tx = flow.offer["txCode"].as_str().expect("one-time code");
        let (status, headers, body) = self.answer_flow(flow, "tx_code", tx).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        let (to, params) = redirected_to(&headers);
        assert_eq!(to, REDIRECT);
        assert_eq!(params["state"], "wallet-state");
        assert_eq!(params["iss"], PUBLIC_URL);
        params["code"].clone()
    }

    /// A credential request presenting `access`, bound to `dpop_key`, with a fresh proof.
    async fn bound_credential_request(
        &self,
        dpop_key: &HolderKey,
        access: &str,
        body: &Value,
    ) -> (StatusCode, Value) {
        let url = format!("{PUBLIC_URL}/openid4vci/credential");
        let proof = dpop_key
            .dpop("POST", &url, Some(access), self.clock.now())
            .expect("proof");
        let request = Request::post("/openid4vci/credential")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("DPoP {access}"))
            .header("DPoP", proof);
        let (status, _, answer) = send(self, request, body.to_string().into_bytes()).await;
        (status, answer)
    }

    async fn exchange(&self, pairs: &[(&str, &str)], dpop: Option<&str>) -> (StatusCode, Value) {
        self.form_post("/openid4vci/token", pairs, dpop).await
    }
}

pub(crate) fn code_grant<'a>(code: &'a str, verifier: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("code_verifier", verifier),
        ("redirect_uri", REDIRECT),
        ("client_id", CLIENT),
    ]
}

/// A token request's form, its DPoP proof, and the error it gets.
type Refusal<'a> = (Vec<(&'a str, &'a str)>, Option<String>, &'a str);

/// Asserts `answer` is a 400 with the OAuth `error`, its description containing `saying`.
fn assert_refused(answer: &(StatusCode, Value), error: &str, saying: &str) {
    assert_eq!(
        error_of(answer),
        (StatusCode::BAD_REQUEST, error),
        "{}",
        answer.1
    );
    let description = answer.1["error_description"].as_str().unwrap_or_default();
    assert!(description.contains(saying), "{description}");
}

fn error_of(answer: &(StatusCode, Value)) -> (StatusCode, &str) {
    (answer.0, answer.1["error"].as_str().unwrap_or("none"))
}

async fn an_offer_is_redeemed_through_par_pkce_dpop_and_the_holders_code(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, metadata) = app.get("/.well-known/oauth-authorization-server").await;
    assert_eq!(metadata["pushed_authorization_request_endpoint"], PAR_URL);
    assert_eq!(metadata["require_pushed_authorization_requests"], true);
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        json!(["S256"])
    );
    assert_eq!(
        metadata["authorization_endpoint"],
        format!("{PUBLIC_URL}/openid4vci/authorize")
    );
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        true
    );

    // The offer names the authorization code grant only, and always has a one-time code.
    let offer = app.authorization_code_offer().await;
    let grants = offer["credentialOffer"]["grants"]
        .as_object()
        .expect("grants");
    assert_eq!(grants.keys().collect::<Vec<_>>(), ["authorization_code"]);
    assert_eq!(offer["txCode"].as_str().map(str::len), Some(6));
    let id = offer["id"].as_str().expect("id");
    let (_, published) = app.get(&format!("/openid4vci/offers/{id}")).await;
    assert_eq!(published, offer["credentialOffer"]);
    let (_, info) = app
        .get_authorised(&format!("/credentials/offers/{id}"))
        .await;
    assert_eq!(info["flow"], "authorizationCode");
    assert_eq!(info["txCodeRequired"], true);

    let dpop_key = HolderKey::generate(PUBLIC_URL).expect("key");
    let flow = app.pushed_flow(Some(&dpop_key)).await;
    // The page names the institution and the credential, and lets its form reach the
    // wallet; a wrong code shows it again with the attempts left.
    let (status, headers, page) = app.open_page(CLIENT, &flow.request_uri).await;
    assert_eq!(status, StatusCode::OK);
    let page = page.as_str().expect("html");
    assert!(
        page.contains("Default institution") && page.contains("KYC credential"),
        "{page}"
    );
    let csp = headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("csp");
    assert!(
        csp.contains("form-action 'self' https://wallet.example;"),
        "{csp}"
    );
    assert!(!csp.contains("script-src"), "no script: {csp}");
    let (status, _, again) = app.answer_flow(&flow, "tx_code", "000000x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        again.as_str().expect("html").contains("4 attempt(s) left"),
        "{again}"
    );
    let code = app.authorize(&flow).await;

    // The token: with the verifier, and a proof by the pushed key.
    let proof = |key: &HolderKey| {
        key.dpop("POST", TOKEN_URL, None, app.clock.now())
            .expect("proof")
    };
    let (status, token) = app
        .exchange(&code_grant(&code, &flow.verifier), Some(&proof(&dpop_key)))
        .await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["token_type"], "DPoP");
    assert_eq!(
        token["authorization_details"][0]["credential_configuration_id"],
        "KycCredential_sd_jwt"
    );
    let access = token["access_token"].as_str().expect("token");

    // The credential, bound to the holder's key.
    let holder = HolderKey::generate(PUBLIC_URL).expect("key");
    let (_, nonce) = app
        .post_raw("/openid4vci/nonce", FORM, Vec::new(), None)
        .await;
    let key_proof = holder
        .proof(
            PUBLIC_URL,
            nonce["c_nonce"].as_str().expect("nonce"),
            app.clock.now(),
        )
        .expect("proof");
    let body = json!({"credential_configuration_id": "KycCredential_sd_jwt", "proofs": {"jwt": [key_proof]}});
    let (status, issued) = app.bound_credential_request(&dpop_key, access, &body).await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let credential = issued["credentials"][0]["credential"]
        .as_str()
        .expect("sd-jwt");
    let (status, verified) = app.verify(&json!(credential)).await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    let info = app.offer_info(&flow.offer).await;
    assert_eq!(info["status"], "redeemed");

    // The code, used again: refused.
    let replay = app
        .exchange(&code_grant(&code, &flow.verifier), Some(&proof(&dpop_key)))
        .await;
    assert_refused(&replay, "invalid_grant", "");

    // The pre-authorized grant does not take an issuer_state.
    let state = issuer_state(&offer);
    let pre = app
        .exchange(
            &[
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:pre-authorized_code",
                ),
                ("pre-authorized_code", &state),
            ],
            None,
        )
        .await;
    assert_refused(&pre, "invalid_grant", "");
}

async fn pushed_requests_are_refused_with_the_error_the_rfcs_name(db: Db) {
    let app = TestApp::spawn(db).await;
    let offer = app.authorization_code_offer().await;
    let state = issuer_state(&offer);
    let (_, challenge) = pkce();
    let pre_authorized = app
        .post(
            "/credentials/offers",
            &json!({"credential": unbound_kyc(), "options": {"format": "dc+sd-jwt"}}),
            Some(&app.token),
        )
        .await
        .1;
    let pre_code = pre_authorized["credentialOffer"]["grants"]
        ["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]
        .as_str()
        .expect("code")
        .to_owned();
    let good = required_pairs(&challenge, &state);
    let with = |name: &'static str, value: &'static str| {
        let mut pairs: Vec<(&str, &str)> =
            good.iter().filter(|(n, _)| *n != name).copied().collect();
        if !value.is_empty() {
            pairs.push((name, value));
        }
        pairs
    };
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (with("response_type", ""), "invalid_request"),
        (with("response_type", "token"), "unsupported_response_type"),
        (with("client_id", ""), "invalid_request"),
        (with("redirect_uri", ""), "invalid_request"),
        (with("redirect_uri", "http://wallet.example/cb"), "invalid_request"),
        (with("redirect_uri", "javascript:alert(1)"), "invalid_request"),
        (with("redirect_uri", "https://wallet.example/cb#x"), "invalid_request"),
        (with("code_challenge", ""), "invalid_request"),
        (with("code_challenge", "too-short"), "invalid_request"),
        (with("code_challenge_method", ""), "invalid_request"),
        (with("code_challenge_method", "plain"), "invalid_request"),
        (with("issuer_state", ""), "invalid_request"),
        (with("issuer_state", "not-an-offer"), "invalid_request"),
        ([good.clone(), vec![("scope", "MachineryInspectionCertificate")]].concat(), "invalid_scope"),
        (
            [good.clone(), vec![("authorization_details", r#"[{"type":"openid_credential","credential_configuration_id":"KycCredential_ldp_vc"}]"#)]].concat(),
            "invalid_authorization_details",
        ),
        ([good.clone(), vec![("authorization_details", "not json")]].concat(), "invalid_authorization_details"),
        ([good.clone(), vec![("resource", "https://elsewhere.example")]].concat(), "invalid_target"),
        ([good.clone(), vec![("request", "eyJ.e30.")]].concat(), "invalid_request"),
        ([good.clone(), vec![("request_uri", "urn:x")]].concat(), "invalid_request"),
    ];
    for (pairs, error) in cases {
        let answer = app.push(&pairs, None).await;
        assert_eq!(
            error_of(&answer),
            (StatusCode::BAD_REQUEST, error),
            "{pairs:?}: {}",
            answer.1
        );
    }
    // A pre-authorized offer's code is no issuer_state.
    let mut pairs = with("issuer_state", "");
    pairs.push(("issuer_state", &pre_code));
    let answer = app.push(&pairs, None).await;
    assert_eq!(
        error_of(&answer),
        (StatusCode::BAD_REQUEST, "invalid_request"),
        "{}",
        answer.1
    );

    // A DPoP proof for another endpoint, or a dpop_jkt that is not its key's.
    let key = HolderKey::generate(PUBLIC_URL).expect("key");
    let misdirected = key
        .dpop("POST", TOKEN_URL, None, app.clock.now())
        .expect("proof");
    let answer = app.push(&good, Some(&misdirected)).await;
    assert_refused(&answer, "invalid_dpop_proof", "");
    let proof = key
        .dpop("POST", PAR_URL, None, app.clock.now())
        .expect("proof");
    let answer = app
        .push(
            &[good.clone(), vec![("dpop_jkt", "AAAA")]].concat(),
            Some(&proof),
        )
        .await;
    assert_refused(&answer, "invalid_dpop_proof", "");

    // No more than ten requests of one offer wait at once.
    for _ in 0..10 {
        assert_eq!(app.push(&good, None).await.0, StatusCode::CREATED);
    }
    let answer = app.push(&good, None).await;
    assert_refused(&answer, "invalid_request", "");
    // Nothing waits once the offer has expired.
    app.clock.advance(TimeDelta::days(8));
    let answer = app.push(&good, None).await;
    assert_refused(&answer, "invalid_request", "expired");
}

async fn the_page_refuses_what_was_not_pushed_and_blocks_after_five_wrong_codes(db: Db) {
    let app = TestApp::spawn(db).await;
    let flow = app.pushed_flow(None).await;
    let html = |body: &Value| body.as_str().expect("html").to_owned();

    // Not pushed, another client, or a reference never given out: a page, no redirect.
    let (status, headers, body) = send(
        &app,
        Request::get(format!(
            "/openid4vci/authorize?client_id={CLIENT}&response_type=code&redirect_uri=https%3A%2F%2Fevil.example"
        )),
        Vec::new(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(headers.get(header::LOCATION).is_none());
    assert!(html(&body).contains("pushed authorization requests only"));
    let (status, _, body) = app.open_page("another-wallet", &flow.request_uri).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html(&body).contains("not the client"));
    let (status, _, _) = app
        .open_page(CLIENT, "urn:ietf:params:oauth:request_uri:never-given")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A pushed request waits a minute for the browser.
    app.clock.advance(TimeDelta::seconds(61));
    let (status, _, body) = app.open_page(CLIENT, &flow.request_uri).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html(&body).contains("expired"));

    // Once open, the holder has ten minutes; a reload shows the page again.
    let flow = app.pushed_flow(None).await;
    assert_eq!(
        app.open_page(CLIENT, &flow.request_uri).await.0,
        StatusCode::OK
    );
    app.clock.advance(TimeDelta::seconds(300));
    assert_eq!(
        app.open_page(CLIENT, &flow.request_uri).await.0,
        StatusCode::OK
    );

    // Declining sends the browser back with access_denied.
    let (status, headers, _) = app.answer_flow(&flow, "decline", "1").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (to, params) = redirected_to(&headers);
    assert_eq!(
        (to.as_str(), params["error"].as_str()),
        (REDIRECT, "access_denied")
    );
    assert_eq!(params["state"], "wallet-state");
    assert!(!params.contains_key("code"));

    // Five wrong codes block the offer: the fifth sends the browser back denied, and the
    // offer can no longer be redeemed by any request.
    let flow = app.pushed_flow(None).await;
    app.open_page(CLIENT, &flow.request_uri).await;
    for left in (1..=4).rev() {
        let (status, _, body) = app.answer_flow(&flow, "tx_code", "999999x").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            html(&body).contains(&format!("{left} attempt(s) left")),
            "{body}"
        );
    }
    let (status, headers, _) = app.answer_flow(&flow, "tx_code", "999999x").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(redirected_to(&headers).1["error"], "access_denied");
    let info = app.offer_info(&flow.offer).await;
    assert_eq!(info["status"], "blocked");
    let (_, challenge) = pkce();
    let state = issuer_state(&flow.offer);
    let answer = app.push(&required_pairs(&challenge, &state), None).await;
    assert_refused(&answer, "invalid_request", "");
}

async fn authorization_codes_are_one_time_short_lived_and_bound_to_their_request(db: Db) {
    let app = TestApp::spawn(db).await;
    let dpop_key = HolderKey::generate(PUBLIC_URL).expect("key");
    let other_key = HolderKey::generate(PUBLIC_URL).expect("key");
    let proof = |key: &HolderKey| {
        key.dpop("POST", TOKEN_URL, None, app.clock.now())
            .expect("proof")
    };
    let flow = app.pushed_flow(Some(&dpop_key)).await;
    let code = app.authorize(&flow).await;
    let grant = code_grant(&code, &flow.verifier);
    let replace = |name: &'static str, value: &'static str| -> Vec<(&str, &str)> {
        grant
            .iter()
            .map(|(n, v)| if *n == name { (*n, value) } else { (*n, *v) })
            .collect()
    };
    let (other_verifier, _) = pkce();
    let mut wrong_verifier = grant.clone();
    wrong_verifier.retain(|(n, _)| *n != "code_verifier");
    wrong_verifier.push(("code_verifier", &other_verifier));
    // Each with a proof by the flow's key; then without one, or with another key's.
    let mut refusals: Vec<Refusal> = [
        (wrong_verifier, "invalid_grant"),
        (replace("code_verifier", "short"), "invalid_request"),
        (
            replace("redirect_uri", "https://wallet.example/other"),
            "invalid_grant",
        ),
        (replace("client_id", "another-wallet"), "invalid_grant"),
        (replace("code", "not-a-code"), "invalid_grant"),
        (replace("client_id", ""), "invalid_request"),
    ]
    .into_iter()
    .map(|(pairs, error)| (pairs, Some(proof(&dpop_key)), error))
    .collect();
    refusals.push((grant.clone(), None, "invalid_dpop_proof"));
    refusals.push((grant.clone(), Some(proof(&other_key)), "invalid_dpop_proof"));
    for (pairs, dpop, error) in refusals {
        let answer = app.exchange(&pairs, dpop.as_deref()).await;
        assert_eq!(
            error_of(&answer),
            (StatusCode::BAD_REQUEST, error),
            "{pairs:?}: {}",
            answer.1
        );
    }
    // None of those used the code up.
    let (status, token) = app.exchange(&grant, Some(&proof(&dpop_key))).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let access = token["access_token"].as_str().expect("token").to_owned();

    // A code used twice ends the token it gave (RFC 6749 §4.1.2).
    let replay = app.exchange(&grant, Some(&proof(&dpop_key))).await;
    assert_refused(&replay, "invalid_grant", "revoked");
    let (status, body) = app
        .bound_credential_request(&dpop_key, &access, &json!({}))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token")),
        "{body}"
    );

    // A code lives a minute.
    let flow = app.pushed_flow(None).await;
    let code = app.authorize(&flow).await;
    app.clock.advance(TimeDelta::seconds(61));
    let answer = app.exchange(&code_grant(&code, &flow.verifier), None).await;
    assert_refused(&answer, "invalid_grant", "expired");

    // An answered request cannot be answered or opened again.
    let (status, _, body) = app.open_page(CLIENT, &flow.request_uri).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.as_str().expect("html").contains("answered already"));
}

/// `grant` is refused without a DPoP proof, then gives a DPoP-bound token with `proof`.
async fn refused_without_then_bound_with_a_proof(
    app: &TestApp,
    grant: &[(&str, &str)],
    proof: &str,
) {
    assert_refused(
        &app.exchange(grant, None).await,
        "invalid_dpop_proof",
        "requires",
    );
    let (status, token) = app.exchange(grant, Some(proof)).await;
    assert_eq!(
        (status, token["token_type"].as_str()),
        (StatusCode::OK, Some("DPoP")),
        "{token}"
    );
}

async fn an_institution_that_requires_dpop_gives_no_bearer_token(db: Db) {
    let app = TestApp::spawn(db).await;
    app.user("default", "admin@dpop.test", Role::Admin).await;
    let admin = app.sign_in("admin@dpop.test").await;
    let (status, settings) = app
        .call(
            &admin,
            "PUT",
            "/settings",
            Some(json!({"requireDpop": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    assert_eq!(settings["requireDpop"], true);

    // The pre-authorized grant without a proof: refused, and the code still works with one.
    let (_, offer) = app
        .post(
            "/credentials/offers",
            &json!({"credential": unbound_kyc(), "options": {"format": "dc+sd-jwt"}}),
            Some(&app.token),
        )
        .await;
    let code = offer["credentialOffer"]["grants"]
        ["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]
        .as_str()
        .expect("code")
        .to_owned();
    let grant = [
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        ),
        ("pre-authorized_code", code.as_str()),
    ];
    let key = HolderKey::generate(PUBLIC_URL).expect("key");
    let proof = || {
        key.dpop("POST", TOKEN_URL, None, app.clock.now())
            .expect("proof")
    };
    refused_without_then_bound_with_a_proof(&app, &grant, &proof()).await;

    // The authorization code grant likewise; the code is not used up by the refusal.
    let flow = app.pushed_flow(None).await;
    let code = app.authorize(&flow).await;
    let grant = code_grant(&code, &flow.verifier);
    refused_without_then_bound_with_a_proof(&app, &grant, &proof()).await;

    // Turned off again: a bearer token is given.
    app.call(
        &admin,
        "PUT",
        "/settings",
        Some(json!({"requireDpop": false})),
    )
    .await;
    let flow = app.pushed_flow(None).await;
    let code = app.authorize(&flow).await;
    let (status, token) = app.exchange(&code_grant(&code, &flow.verifier), None).await;
    assert_eq!(
        (status, token["token_type"].as_str()),
        (StatusCode::OK, Some("Bearer")),
        "{token}"
    );
}
