//! Verification policies: inline or stored, each requirement reported, on credentials and
//! presentations.

use axum::http::StatusCode;
use certus_schemas::portal::Role;
use serde_json::{json, Value};

use crate::helpers::{check, kyc_credential, token_of, Db, TestApp};
use crate::on_both_databases;
use crate::presentations::{new_holder, sign_vp};

on_both_databases!(
    a_credential_meeting_every_requirement_satisfies_the_policy,
    each_unmet_requirement_is_named_and_fails_the_verification,
    stored_policies_are_named_public_and_checked,
    a_presentation_satisfies_a_policy_when_each_credential_does,
);

async fn verify_with(app: &TestApp, credential: &Value, options: Value) -> (StatusCode, Value) {
    app.post(
        "/credentials/verify",
        &json!({"verifiableCredential": credential, "options": options}),
        None,
    )
    .await
}

fn unmet(result: &Value) -> Vec<String> {
    result["policy"]["requirements"]
        .as_array()
        .expect("requirements")
        .iter()
        .filter(|r| r["satisfied"] == false)
        .map(|r| r["requirement"].as_str().expect("name").to_owned())
        .collect()
}

async fn a_credential_meeting_every_requirement_satisfies_the_policy(db: Db) {
    let app = TestApp::spawn(db).await;
    for format in ["ldp_vc", "vc+jwt", "dc+sd-jwt"] {
        let vc = app.issue(kyc_credential(None), format).await;
        let (_, plain) = app.verify(&vc).await;
        let issuer = plain["credential"]["issuer"]
            .as_str()
            .expect("issuer")
            .to_owned();
        assert!(plain["credential"]["types"]
            .as_array()
            .expect("types")
            .contains(&json!("KycCredential")));
        assert!(plain.get("policy").is_none(), "no policy, no outcome");
        let policy = json!({
            "requiredChecks": ["signature", "status", "schema"],
            "acceptedIssuers": [issuer],
            "maxAgeSeconds": 3600,
            "requiredTypes": ["KycCredential"],
            "requiredClaims": ["birthDate", "assuranceLevel"],
        });
        let (status, result) = verify_with(&app, &vc, json!({"policy": policy})).await;
        assert_eq!(status, StatusCode::OK, "{format}: {result}");
        assert_eq!(result["policy"]["satisfied"], true);
        assert_eq!(
            result["policy"]["requirements"].as_array().map(Vec::len),
            Some(8)
        );
        assert_eq!(check(&result, "policy"), ("passed", None));
    }
}

async fn each_unmet_requirement_is_named_and_fails_the_verification(db: Db) {
    let app = TestApp::spawn(db).await;
    let vc = app.issue(kyc_credential(None), "ldp_vc").await;
    let policy = json!({
        "requiredChecks": ["anchored"],
        "acceptedIssuers": ["did:web:other-bank.example"],
        "requiredTypes": ["ProfessionalQualification"],
        "requiredClaims": ["licenceNumber"],
    });
    let (status, result) = verify_with(&app, &vc, json!({"policy": policy})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{result}");
    assert_eq!(result["verified"], false);
    assert_eq!(
        check(&result, "policy"),
        ("failed", Some("POLICY_NOT_SATISFIED"))
    );
    assert_eq!(
        check(&result, "signature"),
        ("passed", None),
        "the credential itself is fine"
    );
    assert_eq!(
        unmet(&result),
        [
            "requiredChecks: anchored",
            "acceptedIssuers",
            "requiredTypes: ProfessionalQualification",
            "requiredClaims: licenceNumber"
        ]
    );
    // Once anchored, the anchored requirement holds.
    app.seal().await;
    let (_, result) = verify_with(
        &app,
        &vc,
        json!({"policy": {"requiredChecks": ["anchored"]}}),
    )
    .await;
    assert_eq!(result["policy"]["satisfied"], true, "{result}");

    // Too old: valid since January.
    let mut old = kyc_credential(None);
    old["validFrom"] = json!("2026-01-01T00:00:00Z");
    let old = app.issue(old, "vc+jwt").await;
    let (_, result) = verify_with(&app, &old, json!({"policy": {"maxAgeSeconds": 86400}})).await;
    assert_eq!(unmet(&result), ["maxAgeSeconds"]);

    // Revoked: status must have passed.
    let id = vc["id"].as_str().expect("id");
    let (status, _) = app
        .post(
            "/credentials/status",
            &json!({"credentialId": id, "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}}),
            Some(&app.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, result) =
        verify_with(&app, &vc, json!({"policy": {"requiredChecks": ["status"]}})).await;
    assert_eq!(unmet(&result), ["requiredChecks: status"]);

    // An undisclosed claim is not present.
    let sd = app.issue(kyc_credential(None), "dc+sd-jwt").await;
    let token = token_of(&sd);
    let kept: Vec<&str> = token
        .split('~')
        .filter(|part| {
            use base64::prelude::{Engine, BASE64_URL_SAFE_NO_PAD};
            let decoded = BASE64_URL_SAFE_NO_PAD.decode(part).unwrap_or_default();
            serde_json::from_slice::<Value>(&decoded)
                .map(|d| d[1] != "birthDate")
                .unwrap_or(true)
        })
        .collect();
    let withheld = Value::String(kept.join("~"));
    let (_, result) = verify_with(
        &app,
        &withheld,
        json!({"policy": {"requiredClaims": ["birthDate", "givenName"]}}),
    )
    .await;
    assert_eq!(unmet(&result), ["requiredClaims: birthDate"], "{result}");
}

async fn stored_policies_are_named_public_and_checked(db: Db) {
    let app = TestApp::spawn(db).await;
    let policy =
        json!({"requiredChecks": ["signature", "status"], "requiredTypes": ["KycCredential"]});
    let put = |body: Value, name: &'static str| {
        let app = &app;
        async move {
            let request = axum::http::Request::put(format!("/policies/{name}"))
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {}", app.token))
                .body(axum::body::Body::from(body.to_string()))
                .expect("request");
            app.send(request).await
        }
    };
    let (status, stored) = put(policy.clone(), "kyc-basic").await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    let (status, read) = app.get("/policies/kyc-basic").await;
    assert_eq!((status, &read["policy"]), (StatusCode::OK, &policy));
    let (_, all) = app.get("/policies").await;
    assert_eq!(all.as_array().map(Vec::len), Some(1));

    let vc = app.issue(kyc_credential(None), "vc+jwt").await;
    let (status, result) = verify_with(&app, &vc, json!({"policyId": "kyc-basic"})).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["policy"]["policyId"], "kyc-basic");

    // Bad requests get clear errors, and nothing is stored.
    let (status, body) = verify_with(&app, &vc, json!({"policyId": "nope"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("UNKNOWN_POLICY"))
    );
    let (status, body) =
        verify_with(&app, &vc, json!({"policyId": "kyc-basic", "policy": {}})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("INVALID_POLICY"))
    );
    let (status, body) = verify_with(
        &app,
        &vc,
        json!({"policy": {"requiredChecks": ["signatur"]}}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("INVALID_POLICY"))
    );
    // Each list entry becomes a requirement in the answer: 200,000 of them once turned a
    // 1 MB anonymous request into a 44 MB answer.
    let (status, body) = verify_with(
        &app,
        &vc,
        json!({"policy": {"requiredClaims": vec!["a"; 65]}}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str(), body["path"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("INVALID_POLICY"),
            Some("/options/policy/requiredClaims")
        ),
        "{body}"
    );
    let (status, body) = verify_with(&app, &vc, json!({"policy": {"maxAge": 5}})).await;
    assert_eq!(
        (status, body["path"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("/options/policy/maxAge")
        ),
        "unknown policy fields are refused: {body}"
    );
    let (status, _) = put(json!({"requiredChecks": ["nope"]}), "bad").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = put(policy.clone(), "Bad-Name").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("INVALID_POLICY"))
    );
    let (status, _) = app.get("/policies/bad").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Storing a policy is audited (once: the refused ones wrote nothing).
    app.user("default", "adele@food-cert.test", Role::Admin)
        .await;
    let admin = app.sign_in("adele@food-cert.test").await;
    let (_, audit) = app.call(&admin, "GET", "/audit", None).await;
    let stored: Vec<&Value> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "policy.put")
        .collect();
    assert_eq!(stored.len(), 1, "{audit}");
    assert_eq!(stored[0]["subject"], "kyc-basic");
}

async fn a_presentation_satisfies_a_policy_when_each_credential_does(db: Db) {
    let app = TestApp::spawn(db).await;
    let holder = new_holder();
    let kyc = app.issue(kyc_credential(Some(&holder.did)), "ldp_vc").await;
    let vp = sign_vp(&app, &holder, vec![kyc], "c-1", "bank.example").await;
    let verify = |policy: Value| {
        let app = &app;
        let vp = vp.clone();
        async move {
            app.post(
                "/presentations/verify",
                &json!({"verifiablePresentation": vp, "options": {"challenge": "c-1", "domain": "bank.example", "policy": policy}}),
                None,
            )
            .await
        }
    };
    let (status, result) = verify(json!({"requiredTypes": ["KycCredential"]})).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["credentials"][0]["policy"]["satisfied"], true);
    let (status, result) = verify(json!({"requiredClaims": ["licenceNumber"]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(unmet(&result), ["credential 0"]);
    assert_eq!(
        unmet(&result["credentials"][0]),
        ["requiredClaims: licenceNumber"]
    );
}
