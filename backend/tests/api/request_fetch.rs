//! Request objects fetched by POST (`request_uri_method=post`, OpenID4VP 1.0 §5.10): the
//! link offers it, the object carries back the wallet's `wallet_nonce`, signed anew by the
//! verifier; what cannot be taken is refused, and a GET is served as ever.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use certus_credential::jose;
use certus_schemas::holder::{check_wallet_nonce, link_parameter, request_uri_post};
use serde_json::{json, Value};

use crate::helpers::{Db, TestApp, PUBLIC_URL};
use crate::on_both_databases;
use crate::openid::{form, post_form, request_by, FORM};

on_both_databases!(
    a_wallet_fetching_by_post_gets_the_request_signed_with_its_nonce,
    fetches_by_post_that_cannot_be_taken_are_refused,
);

/// POSTs `pairs` to the request URI of `created`: the status, content type and body.
async fn fetch_by_post(
    app: &TestApp,
    created: &Value,
    pairs: &[(&str, &str)],
) -> (StatusCode, String, Value) {
    let path = created["requestUri"]
        .as_str()
        .expect("uri")
        .replace(PUBLIC_URL, "");
    let request = Request::post(&path)
        .header(header::CONTENT_TYPE, FORM)
        .header(header::ACCEPT, "application/oauth-authz-req+jwt")
        .body(Body::from(form(pairs)))
        .expect("request");
    app.send_typed(request).await
}

fn ask() -> Value {
    json!({"credentialType": "KycCredential", "claims": ["givenName"], "purpose": "Name check"})
}

async fn a_wallet_fetching_by_post_gets_the_request_signed_with_its_nonce(db: Db) {
    let app = TestApp::spawn(db).await;
    let (created, by_get) = request_by(&app, &app.token, "default", ask()).await;
    // The link offers the POST method.
    let link = created["authorizationRequest"].as_str().expect("link");
    assert_eq!(request_uri_post(link), Ok(true));
    assert_eq!(
        link_parameter(link, "request_uri_method").as_deref(),
        Some("post")
    );

    let metadata = json!({"vp_formats_supported": {"dc+sd-jwt": {}}}).to_string();
    let (status, content_type, body) = fetch_by_post(
        &app,
        &created,
        &[
            ("wallet_nonce", "n-0S6_WzA2Mj"),
            ("wallet_metadata", &metadata),
            ("unknown", "ignored"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(content_type, "application/oauth-authz-req+jwt");
    let jwt = body.as_str().expect("jwt");
    let decoded = jose::decode(jwt).expect("jws");
    assert_eq!(decoded.header_str("typ"), Some("oauth-authz-req+jwt"));
    let verifier = app.state.issuer.keys().default_key("default").expect("key");
    decoded
        .verify(&verifier.public_jwk())
        .expect("signed by the verifier's key");
    assert_eq!(check_wallet_nonce(&decoded.payload, "n-0S6_WzA2Mj"), Ok(()));
    // The same request otherwise.
    let mut same = decoded.payload.clone();
    same.as_object_mut().expect("object").remove("wallet_nonce");
    assert_eq!(same, by_get);
    // Altered, the nonce no longer verifies.
    let (head, rest) = jwt.split_once('.').expect("jws");
    let (_, signature) = rest.split_once('.').expect("jws");
    let mut forged = decoded.payload.clone();
    forged["wallet_nonce"] = json!("another");
    let forged_payload = base64_url(&forged);
    let forged_jwt = format!("{head}.{forged_payload}.{signature}");
    assert!(jose::decode(&forged_jwt)
        .expect("jws")
        .verify(&verifier.public_jwk())
        .is_err());

    // Without a nonce, the object as stored; a GET is served as ever.
    let (status, _, plain) = fetch_by_post(&app, &created, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        jose::decode(plain.as_str().expect("jwt"))
            .expect("jws")
            .payload,
        by_get
    );
    assert!(by_get.get("wallet_nonce").is_none());
}

fn base64_url(value: &Value) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    URL_SAFE_NO_PAD.encode(value.to_string())
}

async fn fetches_by_post_that_cannot_be_taken_are_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let (created, object) = request_by(&app, &app.token, "default", ask()).await;
    let refused = |(status, _, body): (StatusCode, String, Value)| {
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"], "invalid_request", "{body}");
    };
    refused(fetch_by_post(&app, &created, &[("wallet_metadata", "not json")]).await);
    refused(fetch_by_post(&app, &created, &[("wallet_metadata", "[1]")]).await);
    refused(fetch_by_post(&app, &created, &[("wallet_nonce", "")]).await);
    refused(fetch_by_post(&app, &created, &[("wallet_nonce", "with space")]).await);
    refused(fetch_by_post(&app, &created, &[("wallet_nonce", &"n".repeat(257))]).await);
    // Answered (here, declined): nothing waits at the address any more.
    let state = object["state"].as_str().expect("state");
    let (status, _) = post_form(
        &app,
        &object,
        &[("error", "access_denied"), ("state", state)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = fetch_by_post(&app, &created, &[("wallet_nonce", "n1")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("invalid_request"))
    );
    let unknown = json!({"requestUri": format!("{PUBLIC_URL}/openid4vp/requests/unknown")});
    let (status, _, _) = fetch_by_post(&app, &unknown, &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
