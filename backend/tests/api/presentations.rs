//! Verifying presentations through `POST /presentations/verify`.

use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{json, Map, Value};
use ssi::jwk::JWK;

use crate::helpers::{check, kyc_credential, Db, TestApp};
use crate::on_both_databases;
use certus_credential::data_integrity::{self, ProofConfig};
use certus_credential::jose;

on_both_databases!(
    a_holder_signed_presentation_verifies_bound_to_its_challenge_and_domain,
    a_vp_jwt_carrying_enveloped_credentials_verifies,
    a_vc_1_1_presentation_jwt_with_a_vp_claim_verifies,
    a_presentation_with_a_tampered_credential_or_foreign_holder_fails,
);

pub struct Holder {
    pub key: JWK,
    pub did: String,
    pub vm: String,
}

pub fn new_holder() -> Holder {
    let key = JWK::generate_ed25519().expect("key");
    let (did, vm) = certus_credential::did::did_key_for(&key).expect("did");
    Holder { key, did, vm }
}

pub async fn sign_vp(
    app: &TestApp,
    holder: &Holder,
    credentials: Vec<Value>,
    challenge: &str,
    domain: &str,
) -> Value {
    let vp = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": holder.did,
        "verifiableCredential": credentials,
    });
    data_integrity::sign(
        vp,
        &holder.key,
        ProofConfig {
            verification_method: &holder.vm,
            proof_purpose: "authentication",
            created: certus_credential::time::xsd_now(Utc::now()),
            challenge: Some(challenge),
            domain: Some(domain),
        },
        app.state.issuer.contexts(),
    )
    .await
    .expect("signs")
}

async fn verify_vp(
    app: &TestApp,
    vp: &Value,
    challenge: &str,
    domain: &str,
) -> (StatusCode, Value) {
    app.post(
        "/presentations/verify",
        &json!({"verifiablePresentation": vp, "options": {"challenge": challenge, "domain": domain}}),
        None,
    )
    .await
}

async fn a_holder_signed_presentation_verifies_bound_to_its_challenge_and_domain(db: Db) {
    let app = TestApp::spawn(db).await;
    let holder = new_holder();
    let vc = app.issue(kyc_credential(Some(&holder.did)), "ldp_vc").await;
    let jwt_vc = app.issue(kyc_credential(Some(&holder.did)), "vc+jwt").await;
    let vp = sign_vp(&app, &holder, vec![vc, jwt_vc], "c-1", "bank-b.example").await;
    let (status, result) = verify_vp(&app, &vp, "c-1", "bank-b.example").await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(
        result["credentials"].as_array().expect("credentials").len(),
        2
    );
    for name in [
        "holder",
        "signature",
        "challenge",
        "domain",
        "credentials",
        "holderBinding",
    ] {
        assert_eq!(check(&result, name).0, "passed", "{name}: {result}");
    }
    let (status, result) = verify_vp(&app, &vp, "c-2", "bank-b.example").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        check(&result, "challenge"),
        ("failed", Some("CHALLENGE_MISMATCH"))
    );
    let (_, result) = verify_vp(&app, &vp, "c-1", "evil.example").await;
    assert_eq!(
        check(&result, "domain"),
        ("failed", Some("DOMAIN_MISMATCH"))
    );
    let mut forged = vp.clone();
    forged["proof"]["challenge"] = json!("c-2");
    let (status, result) = verify_vp(&app, &forged, "c-2", "bank-b.example").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        check(&result, "signature"),
        ("failed", Some("SIGNATURE_INVALID"))
    );
}

async fn a_vp_jwt_carrying_enveloped_credentials_verifies(db: Db) {
    let app = TestApp::spawn(db).await;
    let holder = new_holder();
    let vc = app.issue(kyc_credential(Some(&holder.did)), "vc+jwt").await;
    let payload = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": holder.did,
        "verifiableCredential": [vc],
        "nonce": "n-9",
        "aud": "verifier.example",
    });
    let header: Map<String, Value> = json!({"typ": "vp+jwt", "kid": holder.vm})
        .as_object()
        .cloned()
        .expect("object");
    let token = jose::sign(header, &payload, &holder.key).expect("signs");
    let enveloped = json!({
        "@context": "https://www.w3.org/ns/credentials/v2",
        "type": "EnvelopedVerifiablePresentation",
        "id": format!("data:application/vp+jwt,{token}"),
    });
    let (status, result) = verify_vp(&app, &enveloped, "n-9", "verifier.example").await;
    assert_eq!(status, StatusCode::OK, "{result}");
    let (status, _) = verify_vp(&app, &json!(token), "n-8", "verifier.example").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a replay under another nonce fails"
    );
}

async fn a_vc_1_1_presentation_jwt_with_a_vp_claim_verifies(db: Db) {
    let app = TestApp::spawn(db).await;
    let holder = new_holder();
    let mut credential = kyc_credential(Some(&holder.did));
    credential["@context"][0] = json!("https://www.w3.org/2018/credentials/v1");
    let vc = app.issue(credential, "vc+jwt").await;
    assert!(vc.is_string(), "a VC 1.1 JWT");
    let header: Map<String, Value> = json!({"typ": "JWT", "kid": holder.vm})
        .as_object()
        .cloned()
        .expect("object");
    let claims = |iss: &str, vcs: Vec<Value>| {
        json!({
            "iss": iss, "nonce": "n-11", "aud": "verifier.example",
            "vp": {
                "@context": ["https://www.w3.org/2018/credentials/v1"],
                "type": ["VerifiablePresentation"],
                "verifiableCredential": vcs,
            },
        })
    };
    let token = jose::sign(
        header.clone(),
        &claims(&holder.did, vec![vc.clone()]),
        &holder.key,
    )
    .expect("signs");
    let (status, result) = verify_vp(&app, &json!(token), "n-11", "verifier.example").await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(check(&result, "holderBinding").0, "passed", "{result}");
    assert_eq!(check(&result, "credentials").0, "passed");
    let (status, _) = verify_vp(&app, &json!(token), "n-12", "verifier.example").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "another nonce");

    // A vp claim that names another holder than the JWT's issuer.
    let mut contradicting = claims(&holder.did, vec![vc.clone()]);
    contradicting["vp"]["holder"] = json!(new_holder().did);
    let token = jose::sign(header.clone(), &contradicting, &holder.key).expect("signs");
    let (status, result) = verify_vp(&app, &json!(token), "n-11", "verifier.example").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        check(&result, "format").1,
        Some("MALFORMED_PRESENTATION"),
        "{result}"
    );

    // Signed by another key than the holder's; a credential tampered inside.
    let thief = new_holder();
    let forged = jose::sign(
        header.clone(),
        &claims(&holder.did, vec![vc.clone()]),
        &thief.key,
    )
    .expect("signs");
    let (status, result) = verify_vp(&app, &json!(forged), "n-11", "verifier.example").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{result}");
    let mut parts: Vec<String> = vc
        .as_str()
        .expect("jwt")
        .split('.')
        .map(str::to_owned)
        .collect();
    let mut payload: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &parts[1])
            .expect("b64"),
    )
    .expect("json");
    payload["vc"]["credentialSubject"]["assuranceLevel"] = json!("high");
    parts[1] = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        payload.to_string(),
    );
    let tampered = jose::sign(
        header,
        &claims(&holder.did, vec![json!(parts.join("."))]),
        &holder.key,
    )
    .expect("signs");
    let (status, result) = verify_vp(&app, &json!(tampered), "n-11", "verifier.example").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        check(&result, "credentials").1,
        Some("CREDENTIAL_INVALID"),
        "{result}"
    );
}

async fn a_presentation_with_a_tampered_credential_or_foreign_holder_fails(db: Db) {
    let app = TestApp::spawn(db).await;
    let holder = new_holder();
    let mut vc = app.issue(kyc_credential(Some(&holder.did)), "ldp_vc").await;
    vc["credentialSubject"]["assuranceLevel"] = json!("high");
    let vp = sign_vp(&app, &holder, vec![vc], "c", "d").await;
    let (status, result) = verify_vp(&app, &vp, "c", "d").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        check(&result, "credentials"),
        ("failed", Some("CREDENTIAL_INVALID"))
    );
    assert_eq!(
        check(&result, "signature").0,
        "passed",
        "the holder's own proof is fine"
    );

    let someone_else = new_holder().did;
    let others = app
        .issue(kyc_credential(Some(&someone_else)), "ldp_vc")
        .await;
    // A holder may present a credential about someone else: it is reported, and refused
    // only where a policy requires holder binding.
    let vp = sign_vp(&app, &holder, vec![others], "c", "d").await;
    let (status, result) = verify_vp(&app, &vp, "c", "d").await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(check(&result, "holderBinding").0, "skipped");
    assert!(
        result["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .any(|w| w["code"] == "HOLDER_MISMATCH"),
        "{result}"
    );
    let (status, result) = app
        .post(
            "/presentations/verify",
            &json!({"verifiablePresentation": vp, "options": {"challenge": "c", "domain": "d",
                "policy": {"requiredChecks": ["holderBinding"]}}}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{result}");
    assert_eq!(check(&result, "policy").0, "failed", "{result}");

    let (status, err) = app
        .post(
            "/presentations/verify",
            &json!({"verifiablePresentation": 42}),
            None,
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("MALFORMED_PRESENTATION"))
    );
}
