//! Transaction data (OpenID4VP 1.0 §8.4, its SD-JWT VC profile, decision 26): a request asks
//! the holder to authorize transactions; a presentation authorizes one when its
//! key-binding JWT carries the hash of the string sent. Without it, the answer is rejected.

use axum::http::StatusCode;
use certus_schemas::transaction::{self, APPROVAL_TYPE};
use chrono::Utc;
use serde_json::{json, Value};

use crate::helpers::{Db, TestApp};
use crate::on_both_databases;
use crate::openid::{answer_for, held, post_form, request_by, request_info};

on_both_databases!(
    a_presentation_authorizes_the_transactions_its_key_binding_jwt_hashes,
    transactions_no_presentation_could_authorize_are_refused_at_the_request,
);

fn ask(transactions: Value, format: &str) -> Value {
    json!({"credentialType": "KycCredential", "claims": ["givenName"], "purpose": "Open an account",
        "format": format, "transactionData": transactions})
}

fn approval(text: &str) -> Value {
    json!({"type": APPROVAL_TYPE, "text": text})
}

/// Posts a presentation of `credential` whose key-binding JWT carries `hashes`.
async fn answer_with_hashes(
    app: &TestApp,
    object: &Value,
    key: &certus_wallet::HolderKey,
    credential: &Value,
    hashes: &[String],
) -> (StatusCode, Value) {
    let token = credential.as_str().expect("token");
    let presented = certus_wallet::select_disclosures(token, &["givenName"]);
    let kb = certus_credential::sd_jwt::key_binding_jwt(
        &presented,
        &key.jwk,
        object["nonce"].as_str().expect("nonce"),
        object["client_id"].as_str().expect("client"),
        Utc::now().timestamp(),
        hashes,
    )
    .expect("kb");
    let vp_token = json!({"credential": [format!("{presented}{kb}")]}).to_string();
    let state = object["state"].as_str().expect("state");
    post_form(app, object, &[("vp_token", &vp_token), ("state", state)]).await
}

/// A request for a KYC SD-JWT VC that asks the holder to approve opening account 4411:
/// what the API answered and the request object.
async fn approval_request(app: &TestApp) -> (Value, Value) {
    let transactions = json!([approval("Open savings account 4411")]);
    request_by(app, &app.token, "default", ask(transactions, "dc+sd-jwt")).await
}

async fn a_presentation_authorizes_the_transactions_its_key_binding_jwt_hashes(db: Db) {
    let app = TestApp::spawn(db).await;
    let (key, credential, _) = app.redeem("dc+sd-jwt").await;
    let (created, object) = approval_request(&app).await;
    // The request object carries it base64url-encoded, naming the SD-JWT VC query.
    let sent = object["transaction_data"]
        .as_array()
        .expect("transaction_data");
    assert_eq!(sent.len(), 1);
    let read = transaction::requested(&object).expect("a transaction our wallets know");
    assert_eq!(read[0].credential_ids, vec!["credential"]);
    assert_eq!(read[0].text.as_deref(), Some("Open savings account 4411"));
    assert_eq!(
        request_info(&app, &created).await["transactionData"][0]["text"],
        "Open savings account 4411"
    );

    // Without the hash, or with another transaction's, the answer is rejected.
    let (status, body) = answer_with_hashes(&app, &object, &key, &credential, &[]).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("TRANSACTION_NOT_AUTHORIZED")),
        "{body}"
    );
    assert_eq!(request_info(&app, &created).await["status"], "rejected");
    let (created, object) = approval_request(&app).await;
    let other = transaction::encode(
        approval("Open savings account 9999")
            .as_object()
            .expect("object"),
    );
    let (status, body) = answer_with_hashes(
        &app,
        &object,
        &key,
        &credential,
        &[transaction::hash(&other)],
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("TRANSACTION_NOT_AUTHORIZED")),
        "{body}"
    );
    assert_eq!(request_info(&app, &created).await["status"], "rejected");

    // With it (the wallet hashes the string as sent): accepted.
    let (created, object) = approval_request(&app).await;
    let client_id = object["client_id"].as_str().expect("client").to_owned();
    let presentation = answer_for(
        &key,
        held("dc+sd-jwt", credential.clone(), &key),
        &object,
        &client_id,
    )
    .await;
    let vp_token = json!({"credential": [presentation]}).to_string();
    let state = object["state"].as_str().expect("state");
    let (status, body) =
        post_form(&app, &object, &[("vp_token", &vp_token), ("state", state)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(request_info(&app, &created).await["status"], "accepted");
}

async fn transactions_no_presentation_could_authorize_are_refused_at_the_request(db: Db) {
    let app = TestApp::spawn(db).await;
    let many: Vec<Value> = (0..11).map(|i| approval(&i.to_string())).collect();
    let cases = [
        // A W3C VC query has no key-binding JWT to carry it.
        (json!([approval("x")]), "jwt_vc_json", "/transactionData/0"),
        (
            json!([{"text": "no type"}]),
            "dc+sd-jwt",
            "/transactionData/0",
        ),
        (
            json!([{"type": APPROVAL_TYPE, "credential_ids": ["elsewhere"]}]),
            "dc+sd-jwt",
            "/transactionData/0",
        ),
        (
            json!([{"type": APPROVAL_TYPE, "transaction_data_hashes_alg": ["sha-512"]}]),
            "dc+sd-jwt",
            "/transactionData/0",
        ),
        (
            json!([approval("a"), {"type": APPROVAL_TYPE, "text": "x".repeat(5000)}]),
            "dc+sd-jwt",
            "/transactionData/1",
        ),
        (json!(many), "dc+sd-jwt", "/transactionData"),
    ];
    for (transactions, format, path) in cases {
        let (status, body) = app
            .post(
                "/presentation-requests",
                &ask(transactions, format),
                Some(&app.token),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["code"], "INVALID_PRESENTATION_REQUEST", "{body}");
        assert_eq!(body["path"], path, "{body}");
    }
}
