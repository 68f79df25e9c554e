//! OpenID4VCI (pre-authorized code flow) and OpenID4VP with DCQL through the real router:
//! every step, and every way a step is refused.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use certus_credential::contexts::Contexts;
use certus_credential::jose;
use certus_credential::time::Clock;
use certus_schemas::dcql::DcqlQuery;
use certus_schemas::holder::Key;
use certus_wallet::{present, Audience, HeldCredential, HolderKey, Wallet};
use chrono::Utc;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};

use crate::helpers::{kyc_credential, Db, TestApp, PUBLIC_URL};
use crate::on_both_databases;

on_both_databases!(
    a_wallet_receives_an_offered_credential_in_each_format_bound_to_its_key,
    a_vc_jwt_offer_is_received_as_vc_1_1_or_2_0_as_the_wallet_asks,
    wrong_used_and_expired_codes_are_refused,
    proofs_with_a_wrong_nonce_key_audience_or_type_are_refused,
    nonces_are_given_out_without_a_write_rate_limited_and_expire,
    a_draft_13_wallet_gets_a_draft_13_answer,
    dpop_binds_the_access_token_to_the_wallets_key,
    the_wallet_notifies_what_it_did_with_the_credential,
    a_verifier_sees_only_the_disclosed_claims_with_signed_receipts,
    replayed_redirected_and_unsatisfying_answers_are_refused,
    w3c_presentations_answer_requests_for_their_formats,
    malformed_offers_and_requests_are_refused_with_a_reason,
    a_wallet_that_accepts_a_jwt_gets_the_issuer_metadata_signed,
);

pub(crate) fn unbound_kyc() -> Value {
    let mut credential = kyc_credential(None);
    credential["credentialSubject"]
        .as_object_mut()
        .expect("subject")
        .remove("id");
    credential
}

pub(crate) fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let encode = |text: &str| certus_server::uri::percent_encode(text, b"");
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

pub(crate) const FORM: &str = "application/x-www-form-urlencoded";
pub(crate) const PRE_AUTH: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

impl TestApp {
    pub(crate) async fn offer(&self, format: &str, tx_code: bool) -> Value {
        self.offer_of(unbound_kyc(), format, tx_code).await
    }

    /// An offer of `credential` (without a subject id) by the default tenant.
    pub(crate) async fn offer_of(&self, credential: Value, format: &str, tx_code: bool) -> Value {
        let (status, body) = self
            .post(
                "/credentials/offers",
                &json!({"credential": credential, "options": {"format": format}, "txCode": tx_code}),
                Some(&self.token),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    async fn token_request(&self, pairs: &[(&str, &str)]) -> (StatusCode, Value) {
        self.post_raw("/openid4vci/token", FORM, form(pairs), None)
            .await
    }

    pub(crate) async fn access_token(&self, offer: &Value, tx_code: Option<&str>) -> String {
        let code = pre_authorized_code(offer);
        let mut pairs = vec![
            ("grant_type", PRE_AUTH),
            ("pre-authorized_code", code.as_str()),
        ];
        if let Some(tx) = tx_code {
            pairs.push(("tx_code", tx));
        }
        let (status, body) = self.token_request(&pairs).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        body["access_token"].as_str().expect("token").to_owned()
    }

    /// The offer as its institution sees it (`GET /credentials/offers/{id}`).
    pub(crate) async fn offer_info(&self, offer: &Value) -> Value {
        let id = offer["id"].as_str().expect("an offer id");
        let (status, info) = self
            .get_authorised(&format!("/credentials/offers/{id}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{info}");
        info
    }

    pub(crate) async fn c_nonce(&self) -> String {
        let (status, body) = self
            .post_raw("/openid4vci/nonce", FORM, Vec::new(), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["c_nonce"].as_str().expect("c_nonce").to_owned()
    }

    pub(crate) async fn credential_request(
        &self,
        access_token: &str,
        body: &Value,
    ) -> (StatusCode, Value) {
        self.post("/openid4vci/credential", body, Some(access_token))
            .await
    }

    /// The whole flow for `format`; the holder key and the credential received.
    pub(crate) async fn redeem(&self, format: &str) -> (HolderKey, Value, Value) {
        self.redeem_offer(self.offer(format, false).await).await
    }

    /// Redeems `offer` (made without a transaction code) with a fresh holder key.
    pub(crate) async fn redeem_offer(&self, offer: Value) -> (HolderKey, Value, Value) {
        let access = self.access_token(&offer, None).await;
        let holder = HolderKey::generate(PUBLIC_URL).expect("key");
        let proof = holder
            .proof(PUBLIC_URL, &self.c_nonce().await, Utc::now())
            .expect("proof");
        let configuration = offer["credentialOffer"]["credential_configuration_ids"][0].clone();
        let (status, body) = self
            .credential_request(
                &access,
                &json!({"credential_configuration_id": configuration, "proofs": {"jwt": [proof]}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        (holder, body["credentials"][0]["credential"].clone(), offer)
    }
}

/// A request to a protocol endpoint with the given headers; the status, headers and body.
async fn post_with(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut request = Request::post(path).header(header::CONTENT_TYPE, content_type);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.send_full(request.body(Body::from(body)).expect("request"))
        .await
}

/// The token request for `offer`'s pre-authorized code with the DPoP proof `proof`.
async fn token_with(
    app: &TestApp,
    offer: &Value,
    proof: &str,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let code = pre_authorized_code(offer);
    let body = form(&[("grant_type", PRE_AUTH), ("pre-authorized_code", &code)]);
    post_with(app, "/openid4vci/token", FORM, body, &[("DPoP", proof)]).await
}

/// A credential request with the given headers.
async fn credential_with(
    app: &TestApp,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, Value) {
    post_with(
        app,
        "/openid4vci/credential",
        "application/json",
        body,
        headers,
    )
    .await
}

async fn dpop_binds_the_access_token_to_the_wallets_key(db: Db) {
    let app = TestApp::spawn(db).await;
    let token_url = format!("{PUBLIC_URL}/openid4vci/token");
    let credential_url = format!("{PUBLIC_URL}/openid4vci/credential");
    let dpop_key = HolderKey::generate(PUBLIC_URL).expect("key");
    let other_key = HolderKey::generate(PUBLIC_URL).expect("key");
    let (_, metadata) = app.get("/.well-known/oauth-authorization-server").await;
    assert_eq!(
        metadata["dpop_signing_alg_values_supported"],
        json!(["EdDSA", "ES256"])
    );

    // The token endpoint binds the token to the proof's key.
    let offer = app.offer("dc+sd-jwt", false).await;
    let token_proof = dpop_key
        .dpop("POST", &token_url, None, Utc::now())
        .expect("proof");
    let (status, _, token) = token_with(&app, &offer, &token_proof).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["token_type"], "DPoP");
    let access = token["access_token"].as_str().expect("token").to_owned();

    // The same proof again, for another offer's code: replayed, refused.
    let second = app.offer("dc+sd-jwt", false).await;
    let (status, _, body) = token_with(&app, &second, &token_proof).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_dpop_proof")),
        "{body}"
    );
    // A proof made for the credential endpoint is not one for the token endpoint.
    let misdirected = dpop_key
        .dpop("POST", &credential_url, None, Utc::now())
        .expect("proof");
    let (_, _, body) = token_with(&app, &second, &misdirected).await;
    assert_eq!(body["error"], "invalid_dpop_proof", "{body}");

    // The credential endpoint: only with the token's key, a fresh proof and its hash.
    let holder = HolderKey::generate(PUBLIC_URL).expect("key");
    let configuration = offer["credentialOffer"]["credential_configuration_ids"][0].clone();
    let request = |nonce: &str| {
        let proof = holder.proof(PUBLIC_URL, nonce, Utc::now()).expect("proof");
        json!({"credential_configuration_id": configuration, "proofs": {"jwt": [proof]}})
            .to_string()
            .into_bytes()
    };
    let dpop_auth = format!("DPoP {access}");
    let bearer_auth = format!("Bearer {access}");
    let fresh = |key: &HolderKey, token: Option<&str>| {
        key.dpop("POST", &credential_url, token, Utc::now())
            .expect("proof")
    };
    let refusals = [
        // A bound token presented as a bearer token.
        (
            vec![("Authorization", bearer_auth.clone())],
            "invalid_token",
        ),
        // Without a proof.
        (
            vec![("Authorization", dpop_auth.clone())],
            "invalid_dpop_proof",
        ),
        // A proof by another key.
        (
            vec![
                ("Authorization", dpop_auth.clone()),
                ("DPoP", fresh(&other_key, Some(&access))),
            ],
            "invalid_dpop_proof",
        ),
        // A proof without the token's hash.
        (
            vec![
                ("Authorization", dpop_auth.clone()),
                ("DPoP", fresh(&dpop_key, None)),
            ],
            "invalid_dpop_proof",
        ),
    ];
    for (headers, error) in refusals {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let (status, answer_headers, body) =
            credential_with(&app, request(&app.c_nonce().await), &headers).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some(error)),
            "{headers:?}: {body}"
        );
        let challenge = answer_headers[header::WWW_AUTHENTICATE]
            .to_str()
            .expect("text");
        assert!(
            challenge.starts_with(if error == "invalid_token" {
                "Bearer"
            } else {
                "DPoP"
            }),
            "{challenge}"
        );
    }
    let good = fresh(&dpop_key, Some(&access));
    let (status, _, body) = credential_with(
        &app,
        request(&app.c_nonce().await),
        &[("Authorization", &dpop_auth), ("DPoP", &good)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["credentials"][0]["credential"].is_string());
    // The proof that was accepted is not accepted twice.
    let (status, _, body) = credential_with(
        &app,
        request(&app.c_nonce().await),
        &[("Authorization", &dpop_auth), ("DPoP", &good)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_dpop_proof")),
        "{body}"
    );

    // A bearer token (no proof at the token endpoint) is refused with the DPoP scheme.
    let bearer = app.access_token(&second, None).await;
    let (status, _, body) = credential_with(
        &app,
        request(&app.c_nonce().await),
        &[("Authorization", &format!("DPoP {bearer}"))],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token")),
        "{body}"
    );
}

async fn the_wallet_notifies_what_it_did_with_the_credential(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, metadata) = app.get("/.well-known/openid-credential-issuer").await;
    assert_eq!(
        metadata["notification_endpoint"],
        format!("{PUBLIC_URL}/openid4vci/notification")
    );
    let offer = app.offer("dc+sd-jwt", false).await;
    let access = app.access_token(&offer, None).await;
    let holder = HolderKey::generate(PUBLIC_URL).expect("key");
    let proof = holder
        .proof(PUBLIC_URL, &app.c_nonce().await, Utc::now())
        .expect("proof");
    let (status, issued) = app
        .credential_request(
            &access,
            &json!({"credential_configuration_id": "KycCredential_sd_jwt", "proofs": {"jwt": [proof]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let notification_id = issued["notification_id"].as_str().expect("notification_id");
    let notify = |token: String, body: Value| {
        let app = &app;
        async move {
            app.post("/openid4vci/notification", &body, Some(&token))
                .await
        }
    };
    let info = || async {
        let id = offer["id"].as_str().expect("id");
        app.get_authorised(&format!("/credentials/offers/{id}"))
            .await
            .1
    };
    assert!(info().await.get("notification").is_none());

    // Refused: another id, an event that does not exist, no id, another token.
    for (body, error) in [
        (
            json!({"notification_id": "not-it", "event": "credential_accepted"}),
            "invalid_notification_id",
        ),
        (
            json!({"notification_id": notification_id, "event": "credential_kept"}),
            "invalid_notification_request",
        ),
        (
            json!({"event": "credential_accepted"}),
            "invalid_notification_request",
        ),
    ] {
        let (status, answer) = notify(access.clone(), body).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some(error)),
            "{answer}"
        );
    }
    let (status, answer) = notify(
        "not-a-token".into(),
        json!({"notification_id": notification_id, "event": "credential_accepted"}),
    )
    .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token"))
    );
    assert!(info().await.get("notification").is_none());

    // Stored, then deleted: the offer shows the latest.
    for event in ["credential_accepted", "credential_deleted"] {
        let (status, answer) = notify(
            access.clone(),
            json!({"notification_id": notification_id, "event": event, "event_description": "held"}),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
        let seen = info().await;
        assert_eq!(seen["notification"], event);
        assert!(seen["notifiedAt"].is_string());
    }
}

pub(crate) fn pre_authorized_code(offer: &Value) -> String {
    offer["credentialOffer"]["grants"][PRE_AUTH]["pre-authorized_code"]
        .as_str()
        .expect("code")
        .to_owned()
}

pub(crate) fn payload(jwt: &str) -> Value {
    let part = jwt
        .split('~')
        .next()
        .expect("jwt")
        .split('.')
        .nth(1)
        .expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("b64")).expect("json")
}

/// The issuer metadata fetched with `accept`: the status, content type and body.
async fn metadata_as(app: &TestApp, accept: Option<&str>) -> (StatusCode, String, Value) {
    let mut request = Request::get("/.well-known/openid-credential-issuer");
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT, accept);
    }
    let (status, headers, body) = app
        .send_full(request.body(Body::empty()).expect("request"))
        .await;
    assert_eq!(headers[header::VARY], "accept");
    let content_type = headers[header::CONTENT_TYPE]
        .to_str()
        .expect("text")
        .to_owned();
    (status, content_type, body)
}

async fn a_wallet_that_accepts_a_jwt_gets_the_issuer_metadata_signed(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, _, unsigned) = metadata_as(&app, None).await;
    for accept in [
        None,
        Some("application/json"),
        Some("application/jwt;q=0, application/json"),
    ] {
        let (status, content_type, body) = metadata_as(&app, accept).await;
        assert_eq!(
            (status, content_type.as_str()),
            (StatusCode::OK, "application/json")
        );
        assert_eq!(body, unsigned);
    }
    let (status, content_type, body) =
        metadata_as(&app, Some("application/jwt, application/json;q=0.5")).await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::OK, "application/jwt")
    );
    let jwt = body.as_str().expect("jwt");
    let decoded = jose::decode(jwt).expect("jws");
    assert_eq!(
        decoded.header_str("typ"),
        Some("openidvci-issuer-metadata+jwt")
    );
    let key = app.state.issuer.keys().default_key("default").expect("key");
    assert_eq!(
        decoded.header_str("kid"),
        Some(key.verification_method.as_str())
    );
    decoded
        .verify(&key.public_jwk())
        .expect("signed by the node's institution");
    let mut claims = decoded.payload.as_object().expect("claims").clone();
    assert_eq!(claims.remove("sub"), Some(json!(PUBLIC_URL)));
    assert_eq!(claims.remove("iss"), Some(json!(key.did)));
    let iat = claims.remove("iat").and_then(|v| v.as_i64()).expect("iat");
    let exp = claims.remove("exp").and_then(|v| v.as_i64()).expect("exp");
    assert!((iat - Utc::now().timestamp()).abs() < 60);
    assert_eq!(exp - iat, 24 * 3600);
    assert_eq!(
        Value::Object(claims),
        unsigned,
        "every parameter, as top-level claims"
    );
    // Another credential endpoint in it: the signature no longer holds.
    let (head, rest) = jwt.split_once('.').expect("jws");
    let (_, signature) = rest.split_once('.').expect("jws");
    let mut forged = decoded.payload.clone();
    forged["credential_endpoint"] = json!("https://attacker.example/credential");
    let forged = format!(
        "{head}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(forged.to_string())
    );
    assert!(jose::decode(&forged)
        .expect("jws")
        .verify(&key.public_jwk())
        .is_err());
}

async fn a_wallet_receives_an_offered_credential_in_each_format_bound_to_its_key(db: Db) {
    let app = TestApp::spawn(db).await;
    let (status, metadata) = app.get("/.well-known/openid-credential-issuer").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(metadata["credential_issuer"], PUBLIC_URL);
    assert_eq!(
        metadata["credential_configurations_supported"]["KycCredential_sd_jwt"]["vct"],
        "https://w3id.org/certus/types/KycCredential/v1"
    );
    let (_, server) = app.get("/.well-known/oauth-authorization-server").await;
    assert_eq!(
        server["token_endpoint"],
        format!("{PUBLIC_URL}/openid4vci/token")
    );

    for format in ["dc+sd-jwt", "vc+jwt", "ldp_vc"] {
        let offer = app.offer(format, false).await;
        assert!(offer["offerUri"].as_str().expect("uri").starts_with("openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fcertus.test%2Fopenid4vci%2Foffers%2F"));
        let by_reference = offer["credentialOfferUri"]
            .as_str()
            .expect("uri")
            .replace(PUBLIC_URL, "");
        let (status, served) = app.get(&by_reference).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(served, offer["credentialOffer"]);

        let access = app.access_token(&offer, None).await;
        let holder = HolderKey::generate(PUBLIC_URL).expect("key");
        let proof = holder
            .proof(PUBLIC_URL, &app.c_nonce().await, Utc::now())
            .expect("proof");
        let configuration = served["credential_configuration_ids"][0].clone();
        let request =
            json!({"credential_configuration_id": configuration, "proofs": {"jwt": [proof]}});
        let (status, body) = app.credential_request(&access, &request).await;
        assert_eq!(status, StatusCode::OK, "{format}: {body}");
        let credential = &body["credentials"][0]["credential"];
        match format {
            "dc+sd-jwt" => {
                let claims = payload(credential.as_str().expect("sd-jwt"));
                assert_eq!(
                    claims["cnf"]["jwk"]["x"],
                    json!(holder.jwk.to_public())["x"],
                    "bound to the proof's key"
                );
            }
            "vc+jwt" => {
                // Offered as OpenID4VCI's jwt_vc_json first: a VC Data Model 1.1 JWT.
                assert_eq!(
                    served["credential_configuration_ids"],
                    json!(["KycCredential_jwt_vc_json", "KycCredential_vc_jwt"])
                );
                let token = credential.as_str().expect("jwt");
                let claims = payload(token);
                assert_eq!(claims["vc"]["credentialSubject"]["id"], holder.did);
                assert_eq!(claims["sub"], holder.did);
                assert_eq!(
                    claims["vc"]["@context"][0],
                    "https://www.w3.org/2018/credentials/v1"
                );
                assert!(claims["vc"].get("issuanceDate").is_some(), "{claims}");
                assert_eq!(
                    jose::decode(token).expect("a JWS").header_str("typ"),
                    Some("JWT")
                );
            }
            _ => assert_eq!(credential["credentialSubject"]["id"], holder.did),
        }
        let verifiable = match credential {
            Value::String(token) => json!(token),
            object => object.clone(),
        };
        let (status, result) = app.verify(&verifiable).await;
        assert_eq!(status, StatusCode::OK, "{format}: {result}");

        // Once redeemed: the offer shows the credential, and nothing can be redeemed again.
        let info = app.offer_info(&offer).await;
        assert_eq!(info["status"], "redeemed");
        let credential_id = info["credentialId"].as_str().expect("credential id");
        let (status, _) = app
            .get_authorised(&certus_server::api::credentials::record_path(credential_id))
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, again) = app.credential_request(&access, &request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(again["error"], "invalid_token");
        let (status, _) = app.get(&by_reference).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

/// OpenID4VCI's `jwt_vc_json` is a VC Data Model 1.1 JWT; the 2.0 `vc+jwt` has its own
/// configuration, and a wallet asking for either gets that one.
async fn a_vc_jwt_offer_is_received_as_vc_1_1_or_2_0_as_the_wallet_asks(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, metadata) = app.get("/.well-known/openid-credential-issuer").await;
    let configurations = &metadata["credential_configurations_supported"];
    assert_eq!(
        configurations["KycCredential_jwt_vc_json"]["format"],
        "jwt_vc_json"
    );
    assert_eq!(configurations["KycCredential_vc_jwt"]["format"], "vc+jwt");
    assert_eq!(
        configurations["KycCredential_vc_jwt"]["credential_definition"]["@context"][0],
        "https://www.w3.org/ns/credentials/v2"
    );
    for (configuration, typ) in [
        ("KycCredential_vc_jwt", "vc+jwt"),
        ("KycCredential_jwt_vc_json", "JWT"),
    ] {
        let offer = app.offer("vc+jwt", false).await;
        let access = app.access_token(&offer, None).await;
        let holder = HolderKey::generate(PUBLIC_URL).expect("key");
        // Not offered: another format of the same type.
        for (asked, expected) in [
            ("KycCredential_ldp_vc", StatusCode::BAD_REQUEST),
            (configuration, StatusCode::OK),
        ] {
            let proof = holder
                .proof(PUBLIC_URL, &app.c_nonce().await, Utc::now())
                .expect("proof");
            let (status, body) = app
                .credential_request(
                    &access,
                    &json!({"credential_configuration_id": asked, "proofs": {"jwt": [proof]}}),
                )
                .await;
            assert_eq!(status, expected, "{asked}: {body}");
            if status == StatusCode::BAD_REQUEST {
                assert_eq!(body["error"], "unknown_credential_configuration");
                continue;
            }
            let token = body["credentials"][0]["credential"]
                .as_str()
                .expect("a JWT");
            assert_eq!(
                jose::decode(token).expect("a JWS").header_str("typ"),
                Some(typ)
            );
            let claims = payload(token);
            let subject = match typ {
                "JWT" => &claims["vc"]["credentialSubject"],
                _ => &claims["credentialSubject"],
            };
            assert_eq!(subject["id"], holder.did, "{configuration}");
            let (status, result) = app.verify(&json!(token)).await;
            assert_eq!(status, StatusCode::OK, "{configuration}: {result}");
        }
    }
}

async fn wrong_used_and_expired_codes_are_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let (status, body) = app
        .token_request(&[("grant_type", "client_credentials"), ("code", "x")])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unsupported_grant_type"))
    );
    let (_, body) = app
        .token_request(&[("grant_type", PRE_AUTH), ("pre-authorized_code", "guess")])
        .await;
    assert_eq!(body["error"], "invalid_grant");

    // Bodies over the limit get the OAuth error body with 413, not plain text.
    let huge = "x".repeat(100 * 1024);
    for (path, content_type, body) in [
        (
            "/openid4vci/credential",
            "application/json",
            json!({"p": huge}).to_string(),
        ),
        ("/openid4vci/token", FORM, format!("grant_type={huge}")),
    ] {
        let (status, answer) = app
            .post_raw(path, content_type, body.into_bytes(), None)
            .await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (StatusCode::PAYLOAD_TOO_LARGE, Some("invalid_request")),
            "{path}: {answer}"
        );
    }
    let (status, body) = app
        .post("/openid4vci/token", &json!({"grant_type": PRE_AUTH}), None)
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );

    // A transaction code: required, checked, and five wrong ones block the offer.
    let offer = app.offer("dc+sd-jwt", true).await;
    let tx = offer["txCode"].as_str().expect("tx code").to_owned();
    assert_eq!(tx.len(), 6);
    assert_eq!(
        offer["credentialOffer"]["grants"][PRE_AUTH]["tx_code"]["length"],
        6
    );
    let code = pre_authorized_code(&offer);
    let (_, body) = app
        .token_request(&[("grant_type", PRE_AUTH), ("pre-authorized_code", &code)])
        .await;
    assert_eq!(body["error"], "invalid_request");
    let wrong = if tx == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let (_, body) = app
            .token_request(&[
                ("grant_type", PRE_AUTH),
                ("pre-authorized_code", &code),
                ("tx_code", wrong),
            ])
            .await;
        assert_eq!(body["error"], "invalid_grant");
    }
    let (_, body) = app
        .token_request(&[
            ("grant_type", PRE_AUTH),
            ("pre-authorized_code", &code),
            ("tx_code", &tx),
        ])
        .await;
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"]
        .as_str()
        .expect("description")
        .contains("blocked"));
    let info = app.offer_info(&offer).await;
    assert_eq!(info["status"], "blocked");

    // The right transaction code works, once.
    let offer = app.offer("dc+sd-jwt", true).await;
    let tx = offer["txCode"].as_str().expect("tx code").to_owned();
    app.access_token(&offer, Some(&tx)).await;
    let code = pre_authorized_code(&offer);
    let (_, body) = app
        .token_request(&[
            ("grant_type", PRE_AUTH),
            ("pre-authorized_code", &code),
            ("tx_code", &tx),
        ])
        .await;
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"]
        .as_str()
        .expect("d")
        .contains("already used"));

    // An expired offer.
    let offer = app.offer("dc+sd-jwt", false).await;
    {
        use certus_server::store::entities::credential_offers;
        use sea_orm::{sea_query::Expr, EntityTrait};
        credential_offers::Entity::update_many()
            .col_expr(
                credential_offers::Column::ExpiresAt,
                Expr::value(Utc::now() - chrono::Duration::seconds(1)),
            )
            .exec(&app.db)
            .await
            .expect("expire");
    }
    let (_, body) = app
        .token_request(&[
            ("grant_type", PRE_AUTH),
            ("pre-authorized_code", &pre_authorized_code(&offer)),
        ])
        .await;
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"]
        .as_str()
        .expect("d")
        .contains("expired"));
}

async fn proofs_with_a_wrong_nonce_key_audience_or_type_are_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let offer = app.offer("dc+sd-jwt", false).await;
    let access = app.access_token(&offer, None).await;
    let configuration = offer["credentialOffer"]["credential_configuration_ids"][0].clone();
    let holder = HolderKey::generate(PUBLIC_URL).expect("key");
    let other = HolderKey::generate(PUBLIC_URL).expect("key");
    let send = |proof: String| {
        let request =
            json!({"credential_configuration_id": configuration, "proofs": {"jwt": [proof]}});
        let app = &app;
        let access = access.clone();
        async move { app.credential_request(&access, &request).await }
    };
    let sign = |key: &HolderKey, kid: &str, typ: &str, payload: Value| {
        jose::sign(
            jose::header(&[("typ", typ), ("kid", kid)]),
            &payload,
            &key.jwk,
        )
        .expect("sign")
    };
    let now = Utc::now().timestamp();

    // A nonce this issuer never gave out; then one used twice.
    let (status, body) = send(
        holder
            .proof(PUBLIC_URL, "made-up", Utc::now())
            .expect("proof"),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_nonce"))
    );
    assert!(
        body["c_nonce"].is_string(),
        "a fresh nonce comes with the error"
    );
    let nonce = app.c_nonce().await;
    let cases = [
        (
            "wrong audience",
            sign(
                &holder,
                &holder.kid(),
                "openid4vci-proof+jwt",
                json!({"aud": "https://elsewhere.test", "iat": now, "nonce": nonce}),
            ),
            "invalid_proof",
        ),
        (
            "another key signed",
            sign(
                &other,
                &holder.kid(),
                "openid4vci-proof+jwt",
                json!({"aud": PUBLIC_URL, "iat": now, "nonce": nonce}),
            ),
            "invalid_proof",
        ),
        (
            "wrong typ",
            sign(
                &holder,
                &holder.kid(),
                "JWT",
                json!({"aud": PUBLIC_URL, "iat": now, "nonce": nonce}),
            ),
            "invalid_proof",
        ),
        (
            "stale iat",
            sign(
                &holder,
                &holder.kid(),
                "openid4vci-proof+jwt",
                json!({"aud": PUBLIC_URL, "iat": now - 3600, "nonce": nonce}),
            ),
            "invalid_proof",
        ),
        ("not a JWS", "not-a-jwt".into(), "invalid_proof"),
    ];
    for (why, proof, error) in cases {
        let (status, body) = send(proof).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some(error)),
            "{why}: {body}"
        );
    }
    let (_, body) = app
        .credential_request(
            &access,
            &json!({"credential_configuration_id": configuration}),
        )
        .await;
    assert_eq!(body["error"], "invalid_proof", "no proof");
    let (_, body) = app.credential_request(&access, &json!({"credential_configuration_id": "KycCredential_ldp_vc", "proofs": {"jwt": ["x"]}})).await;
    assert_eq!(body["error"], "unknown_credential_configuration");
    let (status, body) = app.credential_request("unknown-token", &json!({})).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token"))
    );

    // Nothing above used the offer up: a good proof still gets the credential; its nonce
    // then cannot be used again.
    let nonce = app.c_nonce().await;
    let (status, body) = send(holder.proof(PUBLIC_URL, &nonce, Utc::now()).expect("proof")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = app.offer("dc+sd-jwt", false).await;
    let access = app.access_token(&second, None).await;
    let request = json!({"credential_configuration_id": configuration, "proofs": {"jwt": [holder.proof(PUBLIC_URL, &nonce, Utc::now()).expect("proof")]}});
    let (_, body) = app.credential_request(&access, &request).await;
    assert_eq!(body["error"], "invalid_nonce");
}

async fn nonces_are_given_out_without_a_write_rate_limited_and_expire(db: Db) {
    let mut config = crate::helpers::server_config();
    config.verify_rate = 1;
    let app = TestApp::spawn_with(db, config).await;
    let stored = || async {
        certus_server::store::entities::openid_nonces::Entity::find()
            .count(&app.db)
            .await
            .expect("count")
    };
    // Anyone may ask, so asking writes nothing and is limited per client (once 1,435
    // rows a second from one anonymous caller).
    let stale = app.c_nonce().await;
    let mut limited = None;
    for _ in 0..10 {
        let (status, body) = app
            .post_raw("/openid4vci/nonce", FORM, Vec::new(), None)
            .await;
        if status != StatusCode::OK {
            limited = Some((status, body["code"].as_str().map(str::to_owned)));
            break;
        }
    }
    assert_eq!(
        limited,
        Some((
            StatusCode::TOO_MANY_REQUESTS,
            Some("RATE_LIMITED".to_owned())
        )),
        "one request a second, a burst of two"
    );
    assert_eq!(stored().await, 0, "giving out nonces writes nothing");

    // A nonce past its lifetime is refused.
    app.clock.advance(chrono::TimeDelta::seconds(
        certus_server::openid::nonces::LIFETIME_SECS + 1,
    ));
    let offer = app.offer("dc+sd-jwt", false).await;
    let access = app.access_token(&offer, None).await;
    let holder = HolderKey::generate(PUBLIC_URL).expect("key");
    let configuration = offer["credentialOffer"]["credential_configuration_ids"][0].clone();
    let request = json!({"credential_configuration_id": configuration, "proofs": {"jwt": [
        holder.proof(PUBLIC_URL, &stale, app.clock.now()).expect("proof")
    ]}});
    let (_, body) = app.credential_request(&access, &request).await;
    assert_eq!(body["error"], "invalid_nonce", "{body}");
}

async fn a_draft_13_wallet_gets_a_draft_13_answer(db: Db) {
    let app = TestApp::spawn(db).await;
    let offer = app.offer("dc+sd-jwt", false).await;
    let code = pre_authorized_code(&offer);
    let (_, token) = app
        .token_request(&[("grant_type", PRE_AUTH), ("pre-authorized_code", &code)])
        .await;
    let c_nonce = token["c_nonce"]
        .as_str()
        .expect("draft-13 wallets read c_nonce here");
    let holder = HolderKey::generate(PUBLIC_URL).expect("key");
    let request = json!({
        "format": "dc+sd-jwt",
        "vct": "https://w3id.org/certus/types/KycCredential/v1",
        "proof": {"proof_type": "jwt", "jwt": holder.proof(PUBLIC_URL, c_nonce, Utc::now()).expect("proof")},
    });
    let (status, body) = app
        .credential_request(token["access_token"].as_str().expect("token"), &request)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["credential"]
        .as_str()
        .expect("credential")
        .contains('~'));
    assert!(body["c_nonce"].is_string());
}

/// A verifier's request made through the API; the request object as the wallet reads it.
async fn request(app: &TestApp, body: Value) -> (Value, Value) {
    request_by(app, &app.token, "default", body).await
}

/// A presentation request made with `token` of `tenant`; what the API answered and the
/// request object, checked against the tenant's key.
pub(crate) async fn request_by(
    app: &TestApp,
    token: &str,
    tenant: &str,
    body: Value,
) -> (Value, Value) {
    let (status, created) = app.post("/presentation-requests", &body, Some(token)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let path = created["requestUri"]
        .as_str()
        .expect("uri")
        .replace(PUBLIC_URL, "");
    let (status, headers, jwt) = app
        .send_full(Request::get(&path).body(Body::empty()).expect("request"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "application/oauth-authz-req+jwt"
    );
    let jwt = jwt.as_str().expect("jwt").to_owned();
    let decoded = jose::decode(&jwt).expect("jws");
    assert_eq!(decoded.header_str("typ"), Some("oauth-authz-req+jwt"));
    let verifier = app.state.issuer.keys().default_key(tenant).expect("key");
    decoded
        .verify(&verifier.public_jwk())
        .expect("signed by the verifier's key");
    (created, decoded.payload)
}

/// `GET /presentation-requests/{id}` of the request `created` answered by the API.
pub(crate) async fn request_info(app: &TestApp, created: &Value) -> Value {
    let id = created["id"].as_str().expect("id");
    let (status, info) = app
        .get_authorised(&format!("/presentation-requests/{id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    info
}

/// A wallet holding `held` (bound to `key`) that answers `object`, disclosing what the
/// query asks; the presentation.
pub(crate) async fn answer_for(
    key: &HolderKey,
    held: HeldCredential,
    object: &Value,
    client_id: &str,
) -> Value {
    let mut wallet = Wallet::default();
    wallet.keys.push(key.clone());
    wallet.add(held).expect("a readable credential");
    let query: DcqlQuery = serde_json::from_value(object["dcql_query"].clone()).expect("dcql");
    let (query_id, held, claims) = wallet
        .plan(&query)
        .expect("the wallet can answer")
        .remove(0);
    // The wallet authorizes the transactions its credential may authorize.
    let transactions = certus_schemas::transaction::requested(object).expect("known transactions");
    let to = Audience {
        nonce: object["nonce"].as_str().expect("nonce"),
        client_id,
        now: Utc::now(),
        transaction_hashes: &certus_schemas::transaction::hashes_for(&transactions, query_id),
    };
    present(held, &claims, key, to, &Contexts::bundled())
        .await
        .expect("present")
}

pub(crate) fn held(format: &str, credential: Value, key: &HolderKey) -> HeldCredential {
    HeldCredential {
        id: String::new(),
        format: format.into(),
        credential,
        credential_issuer: PUBLIC_URL.into(),
        holder: key.did.clone(),
        received_at: String::new(),
        copies: Vec::new(),
        presentations: 0,
    }
}

async fn post_answer(
    app: &TestApp,
    object: &Value,
    vp_token: &Value,
    state: &str,
) -> (StatusCode, Value) {
    let token = vp_token.to_string();
    post_form(app, object, &[("vp_token", &token), ("state", state)]).await
}

/// Posts a wallet's `direct_post` form to the request's response URI.
pub(crate) async fn post_form(
    app: &TestApp,
    object: &Value,
    pairs: &[(&str, &str)],
) -> (StatusCode, Value) {
    let path = object["response_uri"]
        .as_str()
        .expect("uri")
        .replace(PUBLIC_URL, "");
    app.post_raw(&path, FORM, form(pairs), None).await
}

async fn a_verifier_sees_only_the_disclosed_claims_with_signed_receipts(db: Db) {
    let app = TestApp::spawn(db).await;
    let (key, credential, _) = app.redeem("dc+sd-jwt").await;
    let (created, object) = request(
        &app,
        json!({
            "credentialType": "KycCredential",
            "claims": ["givenName", "nationality"],
            "purpose": "Open an account",
            "policy": {"requiredChecks": ["status"]},
        }),
    )
    .await;
    assert!(created["authorizationRequest"]
        .as_str()
        .expect("uri")
        .starts_with("openid4vp://?client_id=decentralized_identifier%3Adid%3Akey%3A"));
    assert_eq!(object["response_mode"], "direct_post");
    assert_eq!(object["terms"]["purpose"], "Open an account");
    let client_id = object["client_id"].as_str().expect("client id").to_owned();

    let presentation = answer_for(
        &key,
        held("dc+sd-jwt", credential, &key),
        &object,
        &client_id,
    )
    .await;
    let (status, body) = post_answer(
        &app,
        &object,
        &json!({"credential": [presentation]}),
        object["state"].as_str().expect("state"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let id = created["id"].as_str().expect("id");
    let (status, info) = app
        .get_authorised(&format!("/presentation-requests/{id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["status"], "accepted", "{info}");
    let presented = &info["outcome"]["credentials"][0];
    assert_eq!(presented["claims"]["givenName"], "Maria");
    assert_eq!(presented["claims"]["nationality"], "IT");
    for withheld in ["familyName", "birthDate", "documentNumber"] {
        assert!(
            presented["claims"].get(withheld).is_none(),
            "{withheld} was not asked for: {presented}"
        );
    }
    assert_eq!(presented["verification"]["verdict"], "valid");

    // The consent receipt names claims, never values; the verification receipt is signed
    // by the verifier and holds the checks and status lists, and no personal data.
    let consent = &info["outcome"]["consentReceipt"];
    assert_eq!(consent["purpose"], "Open an account");
    let mut named: Vec<&str> = consent["disclosed"][0]["claims"]
        .as_array()
        .expect("claims")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    named.sort();
    assert!(
        named.contains(&"givenName") && !named.contains(&"familyName"),
        "{named:?}"
    );
    assert!(!consent.to_string().contains("Maria"));
    let receipt = info["outcome"]["verificationReceipt"]
        .as_str()
        .expect("receipt");
    let decoded = jose::decode(receipt).expect("jws");
    assert_eq!(decoded.header_str("typ"), Some("verification-receipt+jwt"));
    decoded
        .verify(
            &app.state
                .issuer
                .keys()
                .default_key("default")
                .expect("key")
                .public_jwk(),
        )
        .expect("signed");
    assert_eq!(decoded.payload["status"], "accepted");
    assert_eq!(
        decoded.payload["consentReceiptSha256"],
        certus_server::openid::receipts::hash(consent)
    );
    assert!(!decoded.payload["credentials"][0]["statusLists"]
        .as_array()
        .expect("lists")
        .is_empty());
    for personal in ["Maria", "Rossi", "IT\"", "1988"] {
        assert!(
            !decoded.payload.to_string().contains(personal),
            "{personal} in the receipt"
        );
    }
    let mut tampered = receipt.to_owned();
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    assert!(jose::decode(&tampered)
        .expect("jws")
        .verify(
            &app.state
                .issuer
                .keys()
                .default_key("default")
                .expect("key")
                .public_jwk()
        )
        .is_err());
}

async fn replayed_redirected_and_unsatisfying_answers_are_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let (key, credential, _) = app.redeem("dc+sd-jwt").await;
    let ask =
        json!({"credentialType": "KycCredential", "claims": ["givenName"], "purpose": "Check"});
    let (created, object) = request(&app, ask.clone()).await;
    let client_id = object["client_id"].as_str().expect("client").to_owned();
    let state = object["state"].as_str().expect("state").to_owned();
    let good = answer_for(
        &key,
        held("dc+sd-jwt", credential.clone(), &key),
        &object,
        &client_id,
    )
    .await;
    let vp_token = json!({"credential": [good]});

    // A wrong state is refused without using the request up.
    let (status, body) = post_answer(&app, &object, &vp_token, "forged").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("STATE_MISMATCH"))
    );
    let (status, _) = post_answer(&app, &object, &vp_token, &state).await;
    assert_eq!(status, StatusCode::OK);
    // Replayed to the same request: refused. Replayed to a new request: bound to the old nonce.
    let (status, body) = post_answer(&app, &object, &vp_token, &state).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("REQUEST_ALREADY_ANSWERED"))
    );
    let (second, object2) = request(&app, ask.clone()).await;
    let (status, body) = post_answer(
        &app,
        &object2,
        &vp_token,
        object2["state"].as_str().expect("state"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("CHALLENGE_MISMATCH")),
        "{body}"
    );
    let (_, info) = app
        .get_authorised(&format!(
            "/presentation-requests/{}",
            second["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(info["status"], "rejected");
    assert_eq!(info["outcome"]["problem"]["code"], "CHALLENGE_MISMATCH");
    assert!(
        info["outcome"]["verificationReceipt"].is_string(),
        "a rejection has its receipt too"
    );
    let (_, info) = app
        .get_authorised(&format!(
            "/presentation-requests/{}",
            created["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(info["status"], "accepted");

    // Made for another verifier (redirected): the audience does not match.
    let (_, object3) = request(&app, ask.clone()).await;
    let redirected = answer_for(
        &key,
        held("dc+sd-jwt", credential.clone(), &key),
        &object3,
        "decentralized_identifier:did:key:z6MkOther",
    )
    .await;
    let (status, body) = post_answer(
        &app,
        &object3,
        &json!({"credential": [redirected]}),
        object3["state"].as_str().expect("state"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("DOMAIN_MISMATCH")),
        "{body}"
    );

    // Withholding a claim the query asks for does not satisfy it.
    let (_, object4) = request(&app, json!({"credentialType": "KycCredential", "claims": ["givenName", "familyName"], "purpose": "Check"})).await;
    let nonce4 = object4["nonce"].as_str().expect("nonce");
    let token = credential.as_str().expect("token");
    let only_given = certus_wallet::select_disclosures(token, &["givenName"]);
    let kb = certus_credential::sd_jwt::key_binding_jwt(
        &only_given,
        &key.jwk,
        nonce4,
        &client_id,
        Utc::now().timestamp(),
        &[],
    )
    .expect("kb");
    let (status, body) = post_answer(
        &app,
        &object4,
        &json!({"credential": [format!("{only_given}{kb}")]}),
        object4["state"].as_str().expect("state"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("DCQL_NOT_SATISFIED")),
        "{body}"
    );

    // An answer to a query the request does not have, and a tampered presentation.
    let (_, object5) = request(&app, ask.clone()).await;
    let (_, body) = post_answer(
        &app,
        &object5,
        &json!({"other": ["x"]}),
        object5["state"].as_str().expect("state"),
    )
    .await;
    assert_eq!(body["code"], "UNKNOWN_CREDENTIAL_QUERY");
    let (_, object6) = request(&app, ask.clone()).await;
    let fresh = answer_for(
        &key,
        held("dc+sd-jwt", credential.clone(), &key),
        &object6,
        &client_id,
    )
    .await;
    let fresh = fresh.as_str().expect("sd-jwt");
    let mut parts: Vec<String> = fresh.split('.').map(str::to_owned).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(payload(fresh).to_string().replace("substantial", "high"));
    let (_, body) = post_answer(
        &app,
        &object6,
        &json!({"credential": [parts.join(".")]}),
        object6["state"].as_str().expect("state"),
    )
    .await;
    assert_eq!(body["code"], "SIGNATURE_INVALID", "{body}");

    // The holder declines; an expired request takes no answer.
    let (declined, object7) = request(&app, ask.clone()).await;
    let path = object7["response_uri"]
        .as_str()
        .expect("uri")
        .replace(PUBLIC_URL, "");
    let (status, _) = app
        .post_raw(
            &path,
            FORM,
            form(&[
                ("error", "access_denied"),
                ("state", object7["state"].as_str().expect("state")),
            ]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, info) = app
        .get_authorised(&format!(
            "/presentation-requests/{}",
            declined["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(info["status"], "declined");
    let (_, object8) = request(
        &app,
        json!({"credentialType": "KycCredential", "purpose": "Check", "expiresIn": 1}),
    )
    .await;
    app.clock.advance(chrono::TimeDelta::milliseconds(1100));
    let (status, body) = post_answer(
        &app,
        &object8,
        &vp_token,
        object8["state"].as_str().expect("state"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("REQUEST_EXPIRED"))
    );
}

async fn w3c_presentations_answer_requests_for_their_formats(db: Db) {
    let app = TestApp::spawn(db).await;
    for (issued_as, asked_as) in [("vc+jwt", "jwt_vc_json"), ("ldp_vc", "ldp_vc")] {
        let (key, credential, _) = app.redeem(issued_as).await;
        let (created, object) = request(&app, json!({"credentialType": "KycCredential", "claims": ["givenName"], "format": asked_as, "purpose": "Check"})).await;
        let client_id = object["client_id"].as_str().expect("client").to_owned();
        let presentation =
            answer_for(&key, held(asked_as, credential, &key), &object, &client_id).await;
        let (status, body) = post_answer(
            &app,
            &object,
            &json!({"credential": [presentation]}),
            object["state"].as_str().expect("state"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{asked_as}: {body}");
        let (_, info) = app
            .get_authorised(&format!(
                "/presentation-requests/{}",
                created["id"].as_str().expect("id")
            ))
            .await;
        assert_eq!(info["status"], "accepted");
        assert_eq!(
            info["outcome"]["credentials"][0]["claims"]["givenName"],
            "Maria"
        );

        // Someone else's credential in a presentation signed by another holder.
        let (_, object) = request(
            &app,
            json!({"credentialType": "KycCredential", "format": asked_as, "purpose": "Check"}),
        )
        .await;
        let (_, stolen, _) = app.redeem(issued_as).await;
        let thief = HolderKey::generate(PUBLIC_URL).expect("key");
        let presentation =
            answer_for(&thief, held(asked_as, stolen, &thief), &object, &client_id).await;
        let (status, body) = post_answer(
            &app,
            &object,
            &json!({"credential": [presentation]}),
            object["state"].as_str().expect("state"),
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("HOLDER_MISMATCH")),
            "{asked_as}: {body}"
        );
    }
}

async fn malformed_offers_and_requests_are_refused_with_a_reason(db: Db) {
    let app = TestApp::spawn(db).await;
    let bound = kyc_credential(Some(
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    ));
    let cases = [
        (
            json!({"credential": bound}),
            "/credential/credentialSubject/id",
        ),
        (
            json!({"credential": unbound_kyc(), "expiresIn": 0}),
            "/expiresIn",
        ),
        (
            json!({"credential": unbound_kyc(), "options": {"format": "vc+jwt", "selectivelyDisclosable": ["givenName"]}}),
            "/options/selectivelyDisclosable",
        ),
        (
            json!({"credential": {"type": ["VerifiableCredential", "Nope"]}}),
            "/credential/@context",
        ),
    ];
    for (body, path) in cases {
        let (status, answer) = app
            .post("/credentials/offers", &body, Some(&app.token))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer["path"], path, "{answer}");
    }
    let requests = [
        (json!({"purpose": "x"}), "/credentialType"),
        (
            json!({"credentialType": "KycCredential", "claims": ["shoeSize"], "purpose": "x"}),
            "/claims",
        ),
        (
            json!({"credentialType": "KycCredential", "purpose": " "}),
            "/purpose",
        ),
        (
            json!({"query": {"credentials": []}, "purpose": "x"}),
            "/query",
        ),
        (
            json!({"credentialType": "KycCredential", "format": "mso_mdoc", "purpose": "x"}),
            "/format",
        ),
        // Nothing stored with a request is unbounded: once a 100,000-element path was.
        (
            json!({"query": {"credentials": [{"id": "a", "format": "dc+sd-jwt", "claims": [{"path": vec!["x"; 2_000]}]}]}, "purpose": "x"}),
            "/query",
        ),
        (
            json!({"credentialType": "KycCredential", "claims": vec!["givenName"; 100], "purpose": "x"}),
            "/claims",
        ),
    ];
    for (body, path) in requests {
        let (status, answer) = app
            .post("/presentation-requests", &body, Some(&app.token))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(
            (answer["code"].as_str(), answer["path"].as_str()),
            (Some("INVALID_PRESENTATION_REQUEST"), Some(path))
        );
    }
    // Without the scopes: a status-only key can neither offer nor ask.
    let certus_key = app
        .key("default", &[certus_server::auth::Scope::Status])
        .await;
    let crate::helpers::Caller::Key(token) = certus_key else {
        unreachable!()
    };
    let (status, _) = app
        .post(
            "/credentials/offers",
            &json!({"credential": unbound_kyc()}),
            Some(&token),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .post(
            "/presentation-requests",
            &json!({"credentialType": "KycCredential", "purpose": "x"}),
            Some(&token),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Unknown offers, requests and answers.
    assert_eq!(
        app.get("/openid4vci/offers/nope").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/openid4vp/requests/nope").await.0,
        StatusCode::NOT_FOUND
    );
    let (status, body) = app
        .post_raw(
            "/openid4vp/responses/nope",
            FORM,
            form(&[("state", "x")]),
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("UNKNOWN_REQUEST"))
    );
}
