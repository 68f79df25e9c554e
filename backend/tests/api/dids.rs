//! `did:certus`: institution DIDs on the chain — issuing under them, rotation, compromise
//! cut-off, deactivation, and DID resolution (with `versionTime`).

use axum::http::StatusCode;
use std::sync::Arc;

use certus_credential::jose;
use certus_credential::signer::Signer;
use serde_json::{json, Map, Value};

use crate::helpers::{check, kyc_credential, Db, TestApp};
use crate::on_both_databases;

on_both_databases!(
    a_did_certus_resolves_and_issues_in_every_format,
    a_credential_anchored_before_a_rotation_still_verifies,
    a_compromise_fails_credentials_anchored_from_its_time_on,
    deactivation_and_bad_requests_get_clear_answers,
);

async fn create_did(app: &TestApp) -> Value {
    let (status, body) = app.post("/dids", &json!({}), Some(&app.token)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    app.accredit_for_kyc(body["did"].as_str().expect("did"))
        .await;
    body
}

fn issued_by(did: &str) -> Value {
    let mut credential = kyc_credential(None);
    credential["issuer"] = json!(did);
    credential
}

/// The private key of `did`'s current key, as the node holds it (to forge with later).
fn current_key(app: &TestApp, did: &str) -> (Arc<dyn Signer>, String) {
    let key = app
        .state
        .issuer
        .keys()
        .key_for_issuer("default", did)
        .expect("a current key");
    (key.signer.clone(), key.verification_method.clone())
}

/// A `vc+jwt` signed outside the API with `key` as `kid`, issued by `did`.
fn forged(did: &str, key: &dyn Signer, kid: &str) -> Value {
    let mut payload = issued_by(did);
    payload["id"] = json!(format!("urn:uuid:{}", uuid::Uuid::new_v4()));
    payload["validFrom"] = json!("2026-01-01T00:00:00Z");
    let header: Map<String, Value> = json!({"typ": "vc+jwt", "kid": kid})
        .as_object()
        .cloned()
        .expect("object");
    let token = jose::sign(header, &payload, key).expect("signs");
    json!({
        "@context": "https://www.w3.org/ns/credentials/v2",
        "type": "EnvelopedVerifiableCredential",
        "id": format!("data:application/vc+jwt,{token}"),
    })
}

async fn a_did_certus_resolves_and_issues_in_every_format(db: Db) {
    let app = TestApp::spawn(db).await;
    let created = create_did(&app).await;
    let did = created["did"].as_str().expect("did").to_owned();
    assert!(did.starts_with("did:certus:") && did.len() == "did:certus:".len() + 32);
    assert_eq!(created["verificationMethod"], json!(format!("{did}#key-1")));

    let (status, resolved) = app.get(&format!("/1.0/identifiers/{did}")).await;
    assert_eq!(status, StatusCode::OK, "{resolved}");
    let document = &resolved["didDocument"];
    assert_eq!(document["id"], json!(did));
    assert_eq!(document["assertionMethod"], json!([format!("{did}#key-1")]));
    assert_eq!(document["verificationMethod"][0]["type"], "Multikey");
    assert_eq!(resolved["didDocumentMetadata"]["deactivated"], false);

    for format in ["ldp_vc", "vc+jwt", "dc+sd-jwt"] {
        let vc = app.issue(issued_by(&did), format).await;
        let (status, result) = app.verify(&vc).await;
        assert_eq!(status, StatusCode::OK, "{format}: {result}");
        assert_eq!(check(&result, "issuer"), ("passed", None));
        assert_eq!(result["credential"]["issuer"], json!(did));
    }
    // The create operation is a chain transaction: only the DID and its public key.
    app.seal().await;
    let (_, head) = app.get("/chain/head").await;
    let mut found = false;
    for height in 1..=head["height"].as_u64().expect("height") {
        let (_, block) = app.get(&format!("/chain/blocks/{height}")).await;
        for tx in block["transactions"].as_array().expect("txs") {
            if tx["type"] == "didOperation" {
                let jws = tx["operation"].as_str().expect("jws");
                let payload = jose::decode(jws).expect("a JWS").payload.clone();
                assert_eq!(payload["did"], json!(did));
                assert_eq!(payload["op"], "create");
                assert!(
                    payload["key"]["publicKeyJwk"].get("d").is_none(),
                    "no private key"
                );
                found = true;
            }
        }
    }
    assert!(found, "the create operation is on the chain");
}

async fn a_credential_anchored_before_a_rotation_still_verifies(db: Db) {
    let app = TestApp::spawn(db).await;
    let did = create_did(&app).await["did"]
        .as_str()
        .expect("did")
        .to_owned();
    let before = app.issue(issued_by(&did), "vc+jwt").await;
    let before_di = app.issue(issued_by(&did), "ldp_vc").await;
    let (old_key, old_kid) = current_key(&app, &did);
    app.seal().await;
    let (_, anchored) = app.verify(&before).await;
    let rotated_after = anchored["anchor"]["time"]
        .as_str()
        .expect("anchored")
        .to_owned();
    app.clock.advance(chrono::TimeDelta::milliseconds(5));

    let (status, rotated) = app
        .post(&format!("/dids/{did}/keys"), &json!({}), Some(&app.token))
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    assert_eq!(rotated["verificationMethod"], json!(format!("{did}#key-2")));
    assert_eq!(
        rotated["didDocument"]["assertionMethod"],
        json!([format!("{did}#key-2")])
    );
    app.seal().await;

    for vc in [&before, &before_di] {
        let (status, result) = app.verify(vc).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "anchored before the rotation: {result}"
        );
    }
    let after = app.issue(issued_by(&did), "vc+jwt").await;
    assert_eq!(
        app.verify(&after).await.0,
        StatusCode::OK,
        "signed with key-2"
    );
    // A standby key is added without retiring the signing one.
    let (status, added) = app
        .post(
            &format!("/dids/{did}/keys"),
            &json!({"retire": false}),
            Some(&app.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(
        added["verificationMethod"],
        json!(format!("{did}#key-2")),
        "still signing with key-2"
    );
    assert_eq!(
        added["didDocument"]["assertionMethod"],
        json!([format!("{did}#key-2"), format!("{did}#key-3")])
    );
    // A credential made with the retired key now is refused.
    let (status, result) = app.verify(&forged(&did, old_key.as_ref(), &old_kid)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{result}");
    assert_eq!(
        check(&result, "issuer"),
        ("failed", Some("KEY_NOT_AUTHORISED"))
    );

    // Resolution as of the first block holds key-1 only; now, key-2.
    let (_, then) = app
        .get(&format!(
            "/1.0/identifiers/{did}?versionTime={}",
            urlencode(&rotated_after)
        ))
        .await;
    assert_eq!(
        then["didDocument"]["assertionMethod"],
        json!([format!("{did}#key-1")]),
        "{then}"
    );
    assert_eq!(then["didDocumentMetadata"]["versionId"], "0");
    let (_, now) = app.get(&format!("/1.0/identifiers/{did}")).await;
    assert_eq!(
        now["didDocumentMetadata"]["versionId"], "3",
        "add, remove, add"
    );
    let (status, _) = app
        .get(&format!(
            "/1.0/identifiers/{did}?versionTime=2000-01-01T00:00:00Z"
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "it did not exist then");
}

fn urlencode(text: &str) -> String {
    text.replace(':', "%3A").replace('+', "%2B")
}

async fn a_compromise_fails_credentials_anchored_from_its_time_on(db: Db) {
    let app = TestApp::spawn(db).await;
    let did = create_did(&app).await["did"]
        .as_str()
        .expect("did")
        .to_owned();
    let early = app.issue(issued_by(&did), "vc+jwt").await;
    app.seal().await;
    app.clock.advance(chrono::TimeDelta::milliseconds(5));
    let late = app.issue(issued_by(&did), "ldp_vc").await;
    app.seal().await;
    let (_, late_result) = app.verify(&late).await;
    let late_time = late_result["anchor"]["time"]
        .as_str()
        .expect("anchored")
        .to_owned();
    let (_, early_result) = app.verify(&early).await;
    assert!(early_result["anchor"]["time"].as_str().expect("anchored") < late_time.as_str());

    // The institution rotates away from key-1, then reports it compromised since the
    // late credential's anchor time.
    let (status, _) = app
        .post(&format!("/dids/{did}/keys"), &json!({}), Some(&app.token))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app
        .post(
            &format!("/dids/{did}/keys/key-1/compromise"),
            &json!({"since": late_time}),
            Some(&app.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.seal().await;

    let (status, result) = app.verify(&early).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "anchored before the compromise: {result}"
    );
    let (status, result) = app.verify(&late).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{result}");
    assert_eq!(
        check(&result, "issuer"),
        ("failed", Some("KEY_COMPROMISED"))
    );
    // key-2 is unaffected.
    let fresh = app.issue(issued_by(&did), "dc+sd-jwt").await;
    assert_eq!(app.verify(&fresh).await.0, StatusCode::OK);
}

async fn deactivation_and_bad_requests_get_clear_answers(db: Db) {
    let app = TestApp::spawn(db).await;
    let did = create_did(&app).await["did"]
        .as_str()
        .expect("did")
        .to_owned();
    let before = app.issue(issued_by(&did), "vc+jwt").await;
    app.seal().await;
    app.clock.advance(chrono::TimeDelta::milliseconds(5));
    let (status, body) = app
        .post(
            &format!("/dids/{did}/deactivate"),
            &json!({}),
            Some(&app.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["didDocumentMetadata"]["deactivated"], true);
    assert!(
        body.get("verificationMethod").is_none(),
        "no key left to sign with"
    );
    app.seal().await;
    assert_eq!(
        app.verify(&before).await.0,
        StatusCode::OK,
        "anchored before"
    );
    let (status, body) = app.try_issue(issued_by(&did), json!({})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("ISSUER_NOT_OWNED"))
    );
    let (status, body) = app
        .post(&format!("/dids/{did}/keys"), &json!({}), Some(&app.token))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("DID_DEACTIVATED"))
    );

    let unknown = format!("did:certus:{}", "0".repeat(32));
    let (status, body) = app
        .post(
            &format!("/dids/{unknown}/keys"),
            &json!({}),
            Some(&app.token),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("DID_NOT_FOUND"))
    );
    let (status, _) = app.post("/dids", &json!({}), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = app
        .post(
            &format!("/dids/{did}/keys/key-1/compromise"),
            &json!({"since": "soon"}),
            Some(&app.token),
        )
        .await;
    assert_eq!(
        (status, body["path"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("/since"))
    );

    let (status, body) = app.get(&format!("/1.0/identifiers/{unknown}")).await;
    assert_eq!(
        (status, body["didResolutionMetadata"]["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("notFound"))
    );
    let (status, body) = app.get("/1.0/identifiers/did:web:example.com").await;
    assert_eq!(
        (status, body["didResolutionMetadata"]["error"].as_str()),
        (StatusCode::NOT_IMPLEMENTED, Some("methodNotSupported"))
    );
    let (status, body) = app.get("/1.0/identifiers/not-a-did").await;
    assert_eq!(
        (status, body["didResolutionMetadata"]["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalidDid"))
    );
    let (status, _) = app
        .get(&format!("/1.0/identifiers/{did}?versionTime=yesterday"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // did:key resolves locally.
    let (_, issuers) = app.get_authorised("/issuers").await;
    let did_key = issuers[0]["did"].as_str().expect("did").to_owned();
    let (status, body) = app.get(&format!("/1.0/identifiers/{did_key}")).await;
    assert_eq!(
        (status, &body["didDocument"]["id"]),
        (StatusCode::OK, &json!(did_key))
    );
}
