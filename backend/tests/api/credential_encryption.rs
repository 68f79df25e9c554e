//! Credential requests and responses encrypted on top of TLS (OpenID4VCI 1.0 §10,
//! decision 26): the wallet encrypts its request to the issuer's request key and asks for
//! the answer encrypted to a key of its own; the answer opens with that key only. What
//! cannot be used is refused `invalid_encryption_parameters`.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use certus_schemas::holder::Key;
use certus_wallet::HolderKey;
use chrono::Utc;
use josekit::jwe::{self, JweHeader, ECDH_ES};
use josekit::jwk::alg::ec::{EcCurve, EcKeyPair};
use josekit::jwk::Jwk;
use serde_json::{json, Value};

use crate::helpers::{altered_last_part, Db, TestApp, PUBLIC_URL};
use crate::on_both_databases;

on_both_databases!(
    an_encrypted_request_is_answered_encrypted_to_the_wallets_key,
    encryption_that_cannot_be_used_is_refused,
);

/// The wallet's key pair for the answer, its public JWK as the request gives it.
fn wallet_key() -> (EcKeyPair, Value) {
    let pair = ECDH_ES.generate_ec_key_pair(EcCurve::P256).expect("key");
    let public = Value::Object(pair.to_jwk_public_key().into());
    (pair, public)
}

/// `request` as a JWE to `key` (a public JWK).
fn encrypt(request: &Value, key: &Value, enc: &str) -> String {
    let jwk = Jwk::from_map(key.as_object().expect("jwk").clone()).expect("jwk");
    let mut header = JweHeader::new();
    header.set_content_encryption(enc);
    if let Some(kid) = jwk.key_id() {
        header.set_key_id(kid);
    }
    let encrypter = ECDH_ES.encrypter_from_jwk(&jwk).expect("P-256");
    jwe::serialize_compact(request.to_string().as_bytes(), &header, &encrypter).expect("jwe")
}

/// Posts `body` with `content_type` to the credential endpoint: status, content type, body.
async fn post(
    app: &TestApp,
    access: &str,
    content_type: &str,
    body: String,
) -> (StatusCode, String, Value) {
    let request = Request::post("/openid4vci/credential")
        .header(header::CONTENT_TYPE, content_type)
        .header(header::AUTHORIZATION, format!("Bearer {access}"))
        .body(Body::from(body))
        .expect("request");
    app.send_typed(request).await
}

/// A credential request of a fresh offer: the access token and the request.
async fn credential_request(app: &TestApp) -> (String, Value) {
    let offer = app.offer("dc+sd-jwt", false).await;
    let access = app.access_token(&offer, None).await;
    let nonce = app.c_nonce().await;
    let key = HolderKey::generate(PUBLIC_URL).expect("key");
    let proof = key.proof(PUBLIC_URL, &nonce, Utc::now()).expect("proof");
    let request = json!({
        "credential_configuration_id": offer["credentialOffer"]["credential_configuration_ids"][0],
        "proofs": {"jwt": [proof]},
    });
    (access, request)
}

async fn an_encrypted_request_is_answered_encrypted_to_the_wallets_key(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, metadata) = app.get("/.well-known/openid-credential-issuer").await;
    let requests = &metadata["credential_request_encryption"];
    assert_eq!(requests["encryption_required"], false);
    assert_eq!(
        requests["enc_values_supported"],
        json!(["A128GCM", "A256GCM"])
    );
    let issuer_key = &requests["jwks"]["keys"][0];
    assert_eq!(
        (issuer_key["crv"].as_str(), issuer_key["alg"].as_str()),
        (Some("P-256"), Some("ECDH-ES"))
    );
    assert!(
        issuer_key["kid"].is_string() && issuer_key.get("d").is_none(),
        "{issuer_key}"
    );
    let responses = &metadata["credential_response_encryption"];
    assert_eq!(responses["alg_values_supported"], json!(["ECDH-ES"]));
    assert_eq!(responses["encryption_required"], false);

    for enc in ["A128GCM", "A256GCM"] {
        let (access, mut request) = credential_request(&app).await;
        let (pair, public) = wallet_key();
        request["credential_response_encryption"] = json!({"jwk": public, "enc": enc});
        let (status, content_type, body) = post(
            &app,
            &access,
            "application/jwt",
            encrypt(&request, issuer_key, "A128GCM"),
        )
        .await;
        assert_eq!(
            (status, content_type.as_str()),
            (StatusCode::OK, "application/jwt"),
            "{body}"
        );
        let jwe = body.as_str().expect("a JWE");
        let decrypter = ECDH_ES
            .decrypter_from_jwk(&pair.to_jwk_private_key())
            .expect("key");
        let (plain, header) =
            jwe::deserialize_compact(jwe, &decrypter).expect("opens with the wallet's key");
        assert_eq!(header.content_encryption(), Some(enc));
        let answer: Value = serde_json::from_slice(&plain).expect("json");
        assert!(answer["credentials"][0]["credential"]
            .as_str()
            .expect("sd-jwt")
            .contains('~'));
        // Another key does not open it.
        let (other, _) = wallet_key();
        let other = ECDH_ES
            .decrypter_from_jwk(&other.to_jwk_private_key())
            .expect("key");
        assert!(jwe::deserialize_compact(jwe, &other).is_err());
    }
    // The deferred endpoint alike: the wallet collects an approved credential encrypted.
    let offer = app.offer_for_approval().await;
    let access = app.access_token(&offer, None).await;
    let nonce = app.c_nonce().await;
    let key = HolderKey::generate(PUBLIC_URL).expect("key");
    let proof = key.proof(PUBLIC_URL, &nonce, Utc::now()).expect("proof");
    let asked = json!({
        "credential_configuration_id": offer["credentialOffer"]["credential_configuration_ids"][0],
        "proofs": {"jwt": [proof]},
    });
    let (status, _, deferred) = post(&app, &access, "application/json", asked.to_string()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{deferred}");
    assert_eq!(app.decide(&offer, true).await.0, StatusCode::OK);
    let (pair, public) = wallet_key();
    let collect = json!({
        "transaction_id": deferred["transaction_id"],
        "credential_response_encryption": {"jwk": public, "enc": "A128GCM"},
    });
    let request = Request::post("/openid4vci/deferred_credential")
        .header(header::CONTENT_TYPE, "application/jwt")
        .header(header::AUTHORIZATION, format!("Bearer {access}"))
        .body(Body::from(encrypt(&collect, issuer_key, "A128GCM")))
        .expect("request");
    let (status, headers, body) = app.send_full(request).await;
    assert_eq!(
        (status, headers[header::CONTENT_TYPE].to_str().ok()),
        (StatusCode::OK, Some("application/jwt")),
        "{body}"
    );
    let decrypter = ECDH_ES
        .decrypter_from_jwk(&pair.to_jwk_private_key())
        .expect("key");
    let (plain, _) =
        jwe::deserialize_compact(body.as_str().expect("jwe"), &decrypter).expect("opens");
    let answer: Value = serde_json::from_slice(&plain).expect("json");
    assert!(
        answer["credentials"][0]["credential"].is_string(),
        "{answer}"
    );

    // An encrypted request that asks for a plain answer gets JSON.
    let (access, request) = credential_request(&app).await;
    let (status, content_type, body) = post(
        &app,
        &access,
        "application/jwt",
        encrypt(&request, issuer_key, "A256GCM"),
    )
    .await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::OK, "application/json"),
        "{body}"
    );
    assert!(body["credentials"][0]["credential"].is_string());
}

async fn encryption_that_cannot_be_used_is_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, metadata) = app.get("/.well-known/openid-credential-issuer").await;
    let issuer_key = metadata["credential_request_encryption"]["jwks"]["keys"][0].clone();
    let (access, request) = credential_request(&app).await;
    let (_, public) = wallet_key();
    let refused = |(status, _, body): (StatusCode, String, Value), about: &str| {
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"], "invalid_encryption_parameters", "{body}");
        assert!(
            body["error_description"]
                .as_str()
                .expect("description")
                .contains(about),
            "{body}"
        );
    };
    let asking = |encryption: Value| {
        let mut asked = request.clone();
        asked["credential_response_encryption"] = encryption;
        asked
    };
    // Asked in clear: it could have been swapped on the way.
    let clear = asking(json!({"jwk": public, "enc": "A128GCM"}));
    refused(
        post(&app, &access, "application/json", clear.to_string()).await,
        "encrypted",
    );
    // Encrypted to another key, altered, or not a JWE.
    let (_, elsewhere) = wallet_key();
    let mut elsewhere = elsewhere;
    elsewhere["alg"] = json!("ECDH-ES");
    refused(
        post(
            &app,
            &access,
            "application/jwt",
            encrypt(&request, &elsewhere, "A128GCM"),
        )
        .await,
        "JWE",
    );
    let jwe = encrypt(&request, &issuer_key, "A128GCM");
    refused(
        post(&app, &access, "application/jwt", altered_last_part(&jwe)).await,
        "altered",
    );
    refused(
        post(&app, &access, "application/jwt", "not a JWE".into()).await,
        "JWE",
    );
    // Keys and algorithms that cannot be used for the answer.
    let private = Value::Object(wallet_key().0.to_jwk_private_key().into());
    let p384 = Value::Object(
        ECDH_ES
            .generate_ec_key_pair(EcCurve::P384)
            .expect("key")
            .to_jwk_public_key()
            .into(),
    );
    let mut no_alg = public.clone();
    no_alg.as_object_mut().expect("jwk").remove("alg");
    for (encryption, about) in [
        (json!({"jwk": private, "enc": "A128GCM"}), "public"),
        (json!({"jwk": p384, "enc": "A128GCM"}), "P-256"),
        (json!({"jwk": no_alg, "enc": "A128GCM"}), "P-256"),
        (json!({"jwk": public, "enc": "A128CBC-HS256"}), "enc"),
        (
            json!({"jwk": public, "enc": "A128GCM", "zip": "DEF"}),
            "compression",
        ),
    ] {
        let sealed = encrypt(&asking(encryption), &issuer_key, "A128GCM");
        refused(post(&app, &access, "application/jwt", sealed).await, about);
    }
    // None of that used the request up: asked properly, it is answered.
    let (status, _, body) = post(&app, &access, "application/json", request.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
