//! Encrypted answers to presentation requests (`direct_post.jwt`, OpenID4VP 1.0 §8.3,
//! decision 26): a request asks for one with a key made for it; the wallet's answer opens
//! with that key only, once; anything else is refused and leaves the request waiting.

use axum::http::StatusCode;
use certus_schemas::response::{requested_encryption, AuthorizationResponse, Encryption};
use certus_server::store::entities::presentation_requests;
use certus_wallet::client::encrypt_answer;
use sea_orm::EntityTrait;
use serde_json::{json, Map, Value};

use crate::helpers::{altered_last_part, Db, TestApp};
use crate::on_both_databases;
use crate::openid::{answer_for, held, post_form, request_by, request_info};

on_both_databases!(
    an_encrypted_answer_is_opened_with_the_requests_key_which_is_then_dropped,
    clear_misdirected_and_altered_answers_to_an_encrypted_request_are_refused,
);

const ASK: &str = r#"{"credentialType": "KycCredential", "claims": ["givenName"], "purpose": "Name check", "responseMode": "direct_post.jwt"}"#;

/// A request asking for an encrypted answer: what the API answered, the request object,
/// and the encryption a wallet reads from it.
async fn encrypted_request(app: &TestApp) -> (Value, Value, Encryption) {
    let ask: Value = serde_json::from_str(ASK).expect("json");
    let (created, object) = request_by(app, &app.token, "default", ask).await;
    let encryption = requested_encryption(&object)
        .expect("a usable request")
        .expect("an encrypted answer asked for");
    (created, object, encryption)
}

/// The wallet's answer to `object`: its SD-JWT presentation and the request's state.
async fn answer(app: &TestApp, object: &Value) -> AuthorizationResponse {
    let (key, credential, _) = app.redeem("dc+sd-jwt").await;
    let client_id = object["client_id"].as_str().expect("client");
    let presentation =
        answer_for(&key, held("dc+sd-jwt", credential, &key), object, client_id).await;
    let vp_token: Map<String, Value> =
        serde_json::from_value(json!({ "credential": [presentation] })).expect("map");
    AuthorizationResponse {
        vp_token: Some(vp_token),
        state: object["state"].as_str().map(str::to_owned),
        ..Default::default()
    }
}

fn refused(result: (StatusCode, Value), code: &str) {
    let (status, body) = result;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_request", "{body}");
    assert_eq!(body["code"], code, "{body}");
}

async fn an_encrypted_answer_is_opened_with_the_requests_key_which_is_then_dropped(db: Db) {
    let app = TestApp::spawn(db).await;
    let (created, object, encryption) = encrypted_request(&app).await;
    // The request names the mode and a P-256 key for encryption, without its private part.
    assert_eq!(object["response_mode"], "direct_post.jwt");
    let keys = object["client_metadata"]["jwks"]["keys"]
        .as_array()
        .expect("keys");
    assert_eq!(keys.len(), 1);
    assert_eq!(
        (keys[0]["kty"].as_str(), keys[0]["crv"].as_str()),
        (Some("EC"), Some("P-256"))
    );
    assert_eq!(
        (keys[0]["alg"].as_str(), keys[0]["use"].as_str()),
        (Some("ECDH-ES"), Some("enc"))
    );
    assert!(keys[0].get("d").is_none(), "{}", keys[0]);
    assert_eq!(
        object["client_metadata"]["encrypted_response_enc_values_supported"],
        json!(["A128GCM", "A256GCM"])
    );
    // Each request has a key of its own.
    let (_, other, _) = encrypted_request(&app).await;
    assert_ne!(
        other["client_metadata"]["jwks"],
        object["client_metadata"]["jwks"]
    );

    let answer = answer(&app, &object).await;
    let jwe = encrypt_answer(&encryption, &answer).expect("encrypted");
    assert!(!jwe.contains(&object["state"].as_str().expect("state")[..8]));
    let (status, body) = post_form(&app, &object, &[("response", &jwe)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let info = request_info(&app, &created).await;
    assert_eq!(info["status"], "accepted", "{info}");
    assert_eq!(info["responseMode"], "direct_post.jwt");
    assert_eq!(
        info["outcome"]["credentials"][0]["claims"]["givenName"],
        "Maria"
    );

    // The key is gone once the answer is opened; the same answer again is refused.
    let id = created["id"].as_str().expect("id");
    let row = presentation_requests::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("db")
        .expect("row");
    assert_eq!(row.response_key, None);
    refused(
        post_form(&app, &object, &[("response", &jwe)]).await,
        "REQUEST_ALREADY_ANSWERED",
    );
    // A request asking for a plain answer says so, and keeps no key.
    let (plain, _) = request_by(
        &app,
        &app.token,
        "default",
        json!({"credentialType": "KycCredential", "claims": ["givenName"], "purpose": "Name check"}),
    )
    .await;
    assert_eq!(
        request_info(&app, &plain).await["responseMode"],
        "direct_post"
    );
}

async fn clear_misdirected_and_altered_answers_to_an_encrypted_request_are_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let (created, object, encryption) = encrypted_request(&app).await;
    let answer = answer(&app, &object).await;
    let form = answer.form();
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();

    // The presentations in clear: refused as the spec names it, and the request waits on.
    refused(
        post_form(&app, &object, &pairs).await,
        "RESPONSE_NOT_ENCRYPTED",
    );
    assert_eq!(request_info(&app, &created).await["status"], "pending");
    // Encrypted to another request's key, altered, or not a JWE.
    let (_, _, elsewhere) = encrypted_request(&app).await;
    let misdirected = encrypt_answer(&elsewhere, &answer).expect("jwe");
    refused(
        post_form(&app, &object, &[("response", &misdirected)]).await,
        "RESPONSE_UNDECRYPTABLE",
    );
    let jwe = encrypt_answer(&encryption, &answer).expect("jwe");
    let altered = altered_last_part(&jwe);
    refused(
        post_form(&app, &object, &[("response", &altered)]).await,
        "RESPONSE_UNDECRYPTABLE",
    );
    refused(
        post_form(&app, &object, &[("response", "not a JWE")]).await,
        "RESPONSE_UNDECRYPTABLE",
    );
    // Opened, with a state that is not the request's.
    let forged = AuthorizationResponse {
        state: Some("forged".into()),
        ..answer.clone()
    };
    refused(
        post_form(
            &app,
            &object,
            &[(
                "response",
                &encrypt_answer(&encryption, &forged).expect("jwe"),
            )],
        )
        .await,
        "STATE_MISMATCH",
    );
    assert_eq!(request_info(&app, &created).await["status"], "pending");
    // After all that, the wallet's encrypted answer is taken.
    let (status, body) = post_form(&app, &object, &[("response", &jwe)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(request_info(&app, &created).await["status"], "accepted");

    // A request for a plain answer refuses an encrypted one.
    let (plain, plain_object) = request_by(
        &app,
        &app.token,
        "default",
        json!({"credentialType": "KycCredential", "claims": ["givenName"], "purpose": "Name check"}),
    )
    .await;
    refused(
        post_form(&app, &plain_object, &[("response", &jwe)]).await,
        "MALFORMED_RESPONSE",
    );
    assert_eq!(request_info(&app, &plain).await["status"], "pending");

    // A wallet that cannot encrypt may still decline in clear (§8.3.1).
    let (declined, declined_object, _) = encrypted_request(&app).await;
    let state = declined_object["state"].as_str().expect("state");
    let (status, body) = post_form(
        &app,
        &declined_object,
        &[("error", "access_denied"), ("state", state)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(request_info(&app, &declined).await["status"], "declined");
}
