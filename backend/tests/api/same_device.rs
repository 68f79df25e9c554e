//! Same-device presentations (OpenID4VP 1.0 §8.2; HAIP 1.0 asks for them with
//! `direct_post.jwt`): a request names the verifier's page; once the wallet has answered,
//! the response endpoint gives it that page with a one-time `response_code` in the
//! fragment, which the page's backend redeems before it trusts the outcome is its user's
//! (a link passed on to someone else cannot complete the sender's session).

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{Db, TestApp};
use crate::on_both_databases;
use crate::openid::{answer_for, held, post_form, request_by, request_info};

on_both_databases!(
    a_same_device_request_sends_the_holder_back_with_a_one_time_response_code,
    a_verifier_page_must_be_an_https_url_without_a_fragment,
);

const PAGE: &str = "https://shop.example/checkout/done?order=7";

/// A request for the holder's given name, sending the browser back to `page` when given.
async fn same_device_request(app: &TestApp, page: Option<&str>) -> (Value, Value) {
    let mut body = json!({"credentialType": "KycCredential", "claims": ["givenName"],
                          "purpose": "Age check"});
    if let Some(page) = page {
        body["redirectUri"] = json!(page);
    }
    request_by(app, &app.token, "default", body).await
}

/// `POST /presentation-requests/{id}/response-code` of `created` with `code`.
async fn redeem(app: &TestApp, created: &Value, code: &str) -> (StatusCode, Value) {
    let id = created["id"].as_str().expect("id");
    app.post(
        &format!("/presentation-requests/{id}/response-code"),
        &json!({ "responseCode": code }),
        Some(&app.token),
    )
    .await
}

fn assert_mismatch((status, body): (StatusCode, Value)) {
    assert_eq!(
        (status, body["code"].as_str(), body["path"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("RESPONSE_CODE_MISMATCH"),
            Some("/responseCode")
        ),
        "{body}"
    );
}

/// The response code in the page a response endpoint answered with, checking the page.
fn response_code(answer: &Value) -> String {
    let page = answer["redirect_uri"].as_str().expect("a redirect_uri");
    let (to, code) = page.split_once("#response_code=").expect("a response code");
    assert_eq!(to, PAGE);
    assert!(code.len() >= 32, "{code}");
    code.to_owned()
}

async fn a_same_device_request_sends_the_holder_back_with_a_one_time_response_code(db: Db) {
    let app = TestApp::spawn(db).await;
    let (key, credential, _) = app.redeem("dc+sd-jwt").await;
    let (created, object) = same_device_request(&app, Some(PAGE)).await;
    assert_eq!(request_info(&app, &created).await["redirectUri"], PAGE);
    // Nothing to redeem before the wallet answers.
    assert_mismatch(redeem(&app, &created, "guess").await);

    let client_id = object["client_id"].as_str().expect("client id");
    let presentation = answer_for(
        &key,
        held("dc+sd-jwt", credential, &key),
        &object,
        client_id,
    )
    .await;
    let vp_token = json!({"credential": [presentation]}).to_string();
    let state = object["state"].as_str().expect("state");
    let (status, answer) =
        post_form(&app, &object, &[("vp_token", &vp_token), ("state", state)]).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let code = response_code(&answer);

    // Another request's page cannot take it, nor another code this one.
    let (other, other_object) = same_device_request(&app, Some(PAGE)).await;
    assert_mismatch(redeem(&app, &other, &code).await);
    assert_mismatch(redeem(&app, &created, &format!("{code}x")).await);
    // Redeemed: the outcome, once.
    let (status, info) = redeem(&app, &created, &code).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["status"], "accepted");
    assert_eq!(
        info["outcome"]["credentials"][0]["claims"]["givenName"],
        "Maria"
    );
    assert_mismatch(redeem(&app, &created, &code).await);

    // A holder who declines is sent back too, and the page learns it.
    let state = other_object["state"].as_str().expect("state");
    let (status, answer) = post_form(
        &app,
        &other_object,
        &[("error", "access_denied"), ("state", state)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, info) = redeem(&app, &other, &response_code(&answer)).await;
    assert_eq!(
        (status, info["status"].as_str()),
        (StatusCode::OK, Some("declined"))
    );

    // A request without a page answers the wallet as before.
    let (_, plain) = same_device_request(&app, None).await;
    let state = plain["state"].as_str().expect("state");
    let (status, answer) = post_form(
        &app,
        &plain,
        &[("error", "access_denied"), ("state", state)],
    )
    .await;
    assert_eq!((status, answer), (StatusCode::OK, json!({})));
}

async fn a_verifier_page_must_be_an_https_url_without_a_fragment(db: Db) {
    let app = TestApp::spawn(db).await;
    for refused in [
        "http://shop.example/done",
        "javascript:alert(1)",
        "https://shop.example/done#section",
        "/checkout/done",
        "shop-app://done",
    ] {
        let body = json!({"credentialType": "KycCredential", "claims": ["givenName"],
                          "purpose": "Age check", "redirectUri": refused});
        let (status, answer) = app
            .post("/presentation-requests", &body, Some(&app.token))
            .await;
        assert_eq!(
            (status, answer["path"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("/redirectUri")),
            "{refused}: {answer}"
        );
    }
    // http on this machine is for development.
    same_device_request(&app, Some("http://127.0.0.1:8080/done")).await;
}
