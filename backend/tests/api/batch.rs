//! Batch issuance (OpenID4VCI 1.0 §8.2, decision 26): a wallet sends a proof for each of
//! several keys and receives a copy of the offered credential bound to each — each with
//! its own id and status entry, recorded together — whose status changes together.

use axum::http::StatusCode;
use certus_schemas::holder::Key;
use certus_wallet::HolderKey;
use chrono::Utc;
use serde_json::{json, Value};

use crate::helpers::{check, Db, TestApp, PUBLIC_URL};
use crate::on_both_databases;
use crate::openid::{payload, unbound_kyc};

on_both_databases!(
    a_wallet_receives_a_copy_bound_to_each_of_its_keys_and_they_change_status_together,
    batches_with_a_repeated_key_mixed_nonces_or_too_many_proofs_are_refused,
);

fn keys(n: usize) -> Vec<HolderKey> {
    (0..n)
        .map(|_| HolderKey::generate(PUBLIC_URL).expect("key"))
        .collect()
}

fn proofs(keys: &[HolderKey], nonce: &str) -> Vec<String> {
    keys.iter()
        .map(|k| k.proof(PUBLIC_URL, nonce, Utc::now()).expect("proof"))
        .collect()
}

fn batch_request(offer: &Value, proofs: &[String]) -> Value {
    json!({
        "credential_configuration_id": offer["credentialOffer"]["credential_configuration_ids"][0],
        "proofs": {"jwt": proofs},
    })
}

/// The status list entry an SD-JWT VC names.
fn status_entry(sd_jwt: &Value) -> (String, u64) {
    let claims = payload(sd_jwt.as_str().expect("an SD-JWT"));
    let list = &claims["status"]["status_list"];
    (
        list["uri"].as_str().expect("uri").to_owned(),
        list["idx"].as_u64().expect("idx"),
    )
}

async fn a_wallet_receives_a_copy_bound_to_each_of_its_keys_and_they_change_status_together(
    db: Db,
) {
    let app = TestApp::spawn(db).await;
    let (_, metadata) = app.get("/.well-known/openid-credential-issuer").await;
    assert_eq!(metadata["batch_credential_issuance"]["batch_size"], 10);

    let offer = app.offer("dc+sd-jwt", false).await;
    let access = app.access_token(&offer, None).await;
    let keys = keys(3);
    let nonce = app.c_nonce().await;
    let (status, body) = app
        .credential_request(&access, &batch_request(&offer, &proofs(&keys, &nonce)))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let credentials: Vec<Value> = body["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .map(|c| c["credential"].clone())
        .collect();
    assert_eq!(credentials.len(), 3, "a copy per key");
    assert!(body["notification_id"].is_string(), "one notification id");

    let mut entries = Vec::new();
    for (credential, key) in credentials.iter().zip(&keys) {
        let claims = payload(credential.as_str().expect("an SD-JWT"));
        assert_eq!(
            claims["cnf"]["jwk"]["x"],
            json!(key.jwk.to_public())["x"],
            "each copy is bound to its own key, in the order of the proofs"
        );
        let (status, result) = app.verify(credential).await;
        assert_eq!(status, StatusCode::OK, "{result}");
        entries.push(status_entry(credential));
    }
    entries.sort();
    entries.dedup();
    assert_eq!(entries.len(), 3, "each copy has its own status entry");

    // The institution sees one offer taken as three copies, and each copy's record names
    // the others.
    let info = app.offer_info(&offer).await;
    assert_eq!(info["status"], "redeemed");
    assert_eq!(info["copies"], 3);
    let first = info["credentialId"].as_str().expect("credential id");
    let record_path = certus_server::api::credentials::record_path;
    let (status, detail) = app.get_authorised(&record_path(first)).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    let copies: Vec<String> =
        serde_json::from_value(detail["copies"].clone()).expect("the other copies");
    assert_eq!(copies.len(), 2, "{detail}");
    assert!(!copies.iter().any(|c| c == first));
    let (_, other) = app.get_authorised(&record_path(&copies[0])).await;
    let mut seen_from_other: Vec<String> =
        serde_json::from_value(other["copies"].clone()).expect("copies");
    seen_from_other.sort();
    let mut expected = vec![first.to_owned(), copies[1].clone()];
    expected.sort();
    assert_eq!(seen_from_other, expected);

    // Suspending one copy suspends all three; reinstating one reinstates all three.
    for (set, changed_to) in [(true, "failed"), (false, "passed")] {
        let (status, change) = app
            .post(
                "/credentials/status",
                &json!({
                    "credentialId": copies[1],
                    "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"},
                    "status": set,
                }),
                Some(&app.token),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{change}");
        assert_eq!(change["changed"], 3, "{change}");
        for credential in &credentials {
            let (_, result) = app.verify(credential).await;
            assert_eq!(check(&result, "status").0, changed_to, "{result}");
        }
    }

    // A bulk change naming one copy by id (as the portal's buttons send it) brings the
    // others, and a credential issued alone stays as it was.
    let (_, _, single) = app.redeem_offer(app.offer("dc+sd-jwt", false).await).await;
    let alone = app.offer_info(&single).await["credentialId"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, change) = app
        .post(
            "/credentials/status/bulk",
            &json!({"query": {"ids": [copies[0]]}, "statusPurpose": "revocation", "reason": "superseded"}),
            Some(&app.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{change}");
    assert_eq!(change["changed"], 3, "{change}");
    for credential in &credentials {
        let (_, result) = app.verify(credential).await;
        assert_eq!(
            check(&result, "status"),
            ("failed", Some("REVOKED")),
            "{result}"
        );
    }
    let (_, record) = app
        .get_authorised(&format!("/credentials/{alone}/status"))
        .await;
    assert_eq!(record["revoked"], false, "{record}");

    // Single issuance is unchanged: an offer taken with one proof has no copies.
    let info = app.offer_info(&single).await;
    assert_eq!(info["copies"], 1);
    let (_, detail) = app
        .get_authorised(&record_path(info["credentialId"].as_str().expect("id")))
        .await;
    assert!(detail.get("copies").is_none(), "{detail}");
}

async fn batches_with_a_repeated_key_mixed_nonces_or_too_many_proofs_are_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let offer = app.offer("dc+sd-jwt", false).await;
    let access = app.access_token(&offer, None).await;
    let [one, two] = <[HolderKey; 2]>::try_from(keys(2)).expect("two keys");

    let nonce = app.c_nonce().await;
    let other_nonce = app.c_nonce().await;
    let mixed = vec![
        proofs(std::slice::from_ref(&one), &nonce).remove(0),
        proofs(std::slice::from_ref(&two), &other_nonce).remove(0),
    ];
    let cases = [
        ("one key twice", proofs(&[one.clone(), one.clone()], &nonce)),
        ("two nonces", mixed),
        ("more than batch_size", proofs(&keys(11), &nonce)),
    ];
    for (why, proofs) in cases {
        let (status, body) = app
            .credential_request(&access, &batch_request(&offer, &proofs))
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_proof")),
            "{why}: {body}"
        );
    }
    let mut request = batch_request(&offer, &proofs(std::slice::from_ref(&one), &nonce));
    request["proofs"]["jwt"]
        .as_array_mut()
        .expect("jwt")
        .push(json!({"not": "a JWT"}));
    let (_, body) = app.credential_request(&access, &request).await;
    assert_eq!(body["error"], "invalid_proof", "{body}");

    // None of that used the offer or the nonce up.
    let (status, body) = app
        .credential_request(
            &access,
            &batch_request(&offer, &proofs(&[one, two], &nonce)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["credentials"].as_array().map(Vec::len), Some(2));

    // A credential the certifier gave its own id names one credential: it is issued once,
    // to the first key, whatever the batch.
    let mut named = unbound_kyc();
    named["id"] = json!("urn:uuid:5d0b4a4e-6a4b-4d0e-9c55-2f1d1f7c0b11");
    let offer = app.offer_of(named, "dc+sd-jwt", false).await;
    let access = app.access_token(&offer, None).await;
    let nonce = app.c_nonce().await;
    let (status, body) = app
        .credential_request(&access, &batch_request(&offer, &proofs(&keys(2), &nonce)))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["credentials"].as_array().map(Vec::len), Some(1));
}
