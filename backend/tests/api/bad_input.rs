//! Bad input gets a clear 4xx with a stable code: never a 500, never a panic.

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::{kyc_credential, server_config, Db, TestApp};
use crate::on_both_databases;

on_both_databases!(
    malformed_and_mistyped_bodies_get_stable_codes,
    oversized_and_deeply_nested_bodies_are_refused,
    verify_is_rate_limited_per_client_unless_the_key_has_the_verify_scope,
);

async fn malformed_and_mistyped_bodies_get_stable_codes(db: Db) {
    let app = TestApp::spawn(db).await;
    let token = Some(app.token.as_str());
    let cases: Vec<(&str, &str, Vec<u8>, StatusCode, &str)> = vec![
        ("/credentials/issue", "application/json", b"{\"credential\": ".to_vec(), StatusCode::BAD_REQUEST, "MALFORMED_JSON"),
        ("/credentials/issue", "text/plain", b"{}".to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE"),
        ("/credentials/issue", "application/json", b"{}".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "INVALID_REQUEST"),
        ("/credentials/issue", "application/json", json!({"credential": kyc_credential(None), "options": {"format": "mso_mdoc"}}).to_string().into_bytes(), StatusCode::UNPROCESSABLE_ENTITY, "INVALID_REQUEST"),
        ("/credentials/issue", "application/json", json!({"credential": kyc_credential(None), "options": {"format": 5}}).to_string().into_bytes(), StatusCode::UNPROCESSABLE_ENTITY, "INVALID_REQUEST"),
        ("/credentials/issue", "application/json", json!({"credential": "a string"}).to_string().into_bytes(), StatusCode::UNPROCESSABLE_ENTITY, "MALFORMED_CREDENTIAL"),
        ("/credentials/verify", "application/json", b"[]".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "INVALID_REQUEST"),
        ("/credentials/verify", "application/json", json!({"verifiableCredential": 7}).to_string().into_bytes(), StatusCode::BAD_REQUEST, "MALFORMED_CREDENTIAL"),
        ("/credentials/verify", "application/json", json!({"verifiableCredential": {"type": "EnvelopedVerifiableCredential", "id": "data:text/plain,hi"}}).to_string().into_bytes(), StatusCode::BAD_REQUEST, "MALFORMED_CREDENTIAL"),
    ];
    for (path, content_type, body, status, code) in cases {
        let (got, err) = app.post_raw(path, content_type, body, token).await;
        assert_eq!(got, status, "{path} {code}: {err}");
        assert_eq!(err["code"], code, "{err}");
        assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (status, err) = app
        .post(
            "/credentials/issue",
            &json!({"credential": kyc_credential(None), "options": {"format": 5}}),
            token,
        )
        .await;
    assert_eq!(
        (status, err["path"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("/options/format"))
    );
    let (status, err) = app.get("/no/such/route").await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NOT_FOUND"))
    );
    for vc in [json!("not.a.jwt"), json!("a~b~"), json!("....")] {
        let (status, _) = app.verify(&vc).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{vc}");
    }
}

async fn oversized_and_deeply_nested_bodies_are_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let big = json!({"verifiableCredential": "x".repeat(100 * 1024)});
    let (status, err) = app.post("/credentials/verify", &big, None).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("PAYLOAD_TOO_LARGE"))
    );
    let deep = format!(
        "{{\"verifiableCredential\": {}1{}}}",
        "[".repeat(200),
        "]".repeat(200)
    );
    let (status, err) = app
        .post_raw(
            "/credentials/verify",
            "application/json",
            deep.into_bytes(),
            None,
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("JSON_TOO_DEEP"))
    );
}

async fn verify_is_rate_limited_per_client_unless_the_key_has_the_verify_scope(db: Db) {
    let mut config = server_config();
    config.verify_rate = 1;
    let app = TestApp::spawn_with(db, config).await;
    let body = json!({"verifiableCredential": 7});
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(app.post("/credentials/verify", &body, None).await.0);
    }
    assert_eq!(
        statuses[..2],
        [StatusCode::BAD_REQUEST, StatusCode::BAD_REQUEST]
    );
    let (status, err) = app.post("/credentials/verify", &body, None).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("RATE_LIMITED"))
    );
    let (status, _) = app
        .post("/credentials/verify", &body, Some(&app.token))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a verify-scoped key is not limited"
    );
}
