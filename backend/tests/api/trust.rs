//! The trust registry: schemas registered by hash, accreditation reported at the
//! credential's time, delegated mandates enforced at issuance.

use axum::http::StatusCode;
use certus_server::auth::{create_api_key, Scope};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{check, kyc_credential, server_config, Db, TestApp};
use crate::on_both_databases;

on_both_databases!(
    accreditation_is_reported_as_it_stood_when_the_credential_was_anchored,
    a_sub_issuer_issues_within_its_mandate_only,
    trust_requests_get_clear_errors,
);

struct Trust {
    root: String,
}

async fn root(app: &TestApp) -> Trust {
    let (_, root) = create_api_key(&app.db, "default", &[Scope::Trust], Some("root".into()))
        .await
        .expect("key");
    Trust { root }
}

async fn register(app: &TestApp, trust: &Trust, name: &str) -> Value {
    let (status, body) = app
        .post("/trust/schemas", &json!({"type": name}), Some(&trust.root))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn new_did(app: &TestApp) -> String {
    let (status, body) = app.post("/dids", &json!({}), Some(&app.token)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["did"].as_str().expect("did").to_owned()
}

fn by(did: &str, mut credential: Value) -> Value {
    credential["issuer"] = json!(did);
    credential
}

async fn accredit(app: &TestApp, trust: &Trust, did: &str, types: &[&str]) -> Value {
    let (status, body) = app
        .post(
            "/trust/accreditations",
            &json!({"subject": did, "credentialTypes": types}),
            Some(&trust.root),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// A food-ingredient certificate: a type anyone may issue, accredited or not.
async fn food_credential(app: &TestApp) -> Value {
    let (_, types) = app.get("/credential-types").await;
    let food = types
        .as_array()
        .and_then(|t| t.iter().find(|t| t["type"] == "FoodIngredientCertificate"))
        .cloned()
        .expect("food");
    assert_eq!(food["accreditationRequired"], false);
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", food["context"]],
        "type": ["VerifiableCredential", "FoodIngredientCertificate"],
        "credentialSubject": food["example"],
    })
}

/// The code of the 403 refusing an offer of `credential`.
async fn offer_refusal(app: &TestApp, credential: Value) -> String {
    let (status, body) = app
        .post(
            "/credentials/offers",
            &json!({"credential": credential, "options": {"format": "dc+sd-jwt"}}),
            Some(&app.token),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    body["code"].as_str().expect("code").to_owned()
}

async fn refused_kyc(app: &TestApp, did: &str) -> Value {
    let (status, body) = app
        .try_issue(by(did, kyc_credential(None)), json!({}))
        .await;
    assert_eq!(
        (status, body["code"].as_str(), body["path"].as_str()),
        (
            StatusCode::FORBIDDEN,
            Some("ISSUER_NOT_ACCREDITED"),
            Some("/credential/issuer")
        ),
        "{body}"
    );
    body
}

async fn accreditation_is_reported_as_it_stood_when_the_credential_was_anchored(db: Db) {
    let app = TestApp::spawn_unaccredited(db, server_config()).await;
    let trust = root(&app).await;
    let registered = register(&app, &trust, "KycCredential").await;
    // The schema's identity is the SHA-256 of the published file.
    let file = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schemas/credential-types/KycCredential.schema.json"
    ))
    .expect("schema file");
    assert_eq!(
        registered["hash"],
        json!(hex::encode(Sha256::digest(&file)))
    );

    register(&app, &trust, "FoodIngredientCertificate").await;

    let did = new_did(&app).await;
    // KYC credentials need an accreditation; food certificates do not.
    let (_, types) = app.get("/credential-types").await;
    let kyc_type = types
        .as_array()
        .and_then(|t| t.iter().find(|t| t["type"] == "KycCredential"))
        .expect("kyc type");
    assert_eq!(kyc_type["accreditationRequired"], true);
    let refused = refused_kyc(&app, &did).await;
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("accredited for KycCredential")),
        "{refused}"
    );
    let food = food_credential(&app).await;
    let before = app.issue(by(&did, food.clone()), "vc+jwt").await;
    app.seal().await;
    app.clock.advance(chrono::TimeDelta::milliseconds(5));
    let accreditation = accredit(
        &app,
        &trust,
        &did,
        &["KycCredential", "FoodIngredientCertificate"],
    )
    .await;
    assert_eq!(accreditation["grantor"], "root");
    let during = app.issue(by(&did, food.clone()), "ldp_vc").await;
    let kyc = app.issue(by(&did, kyc_credential(None)), "dc+sd-jwt").await;
    app.seal().await;
    assert_eq!(
        check(&app.verify(&kyc).await.1, "accreditation").0,
        "passed"
    );

    let (status, result) = app.verify(&during).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(check(&result, "accreditation").0, "passed");
    let (status, result) = app.verify(&before).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "not accredited does not invalidate by itself"
    );
    assert_eq!(check(&result, "accreditation").0, "skipped", "{result}");
    assert!(result["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .any(|w| w["code"] == "NOT_ACCREDITED"));

    // Revoked: what was anchored before keeps its accreditation, what comes after has none.
    app.clock.advance(chrono::TimeDelta::milliseconds(5));
    let id = accreditation["id"].as_str().expect("id");
    let (status, revoked) = app
        .post(
            &format!("/trust/statements/{id}/revoke"),
            &json!({}),
            Some(&trust.root),
        )
        .await;
    assert_eq!(
        (status, revoked["revoked"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{revoked}"
    );
    let after = app.issue(by(&did, food), "dc+sd-jwt").await;
    refused_kyc(&app, &did).await;
    app.seal().await;
    assert_eq!(
        check(&app.verify(&during).await.1, "accreditation").0,
        "passed"
    );
    assert_eq!(
        check(&app.verify(&after).await.1, "accreditation").0,
        "skipped"
    );
    // A verifier that requires accreditation refuses it.
    let (status, result) = app
        .post(
            "/credentials/verify",
            &json!({"verifiableCredential": after, "options": {"policy": {"requiredChecks": ["accreditation"]}}}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        check(&result, "policy"),
        ("failed", Some("POLICY_NOT_SATISFIED"))
    );

    // The statements are public and anchored.
    let (_, listed) = app.get(&format!("/trust/statements?subject={did}")).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    let (_, head) = app.get("/chain/head").await;
    let mut kinds = Vec::new();
    for height in 1..=head["height"].as_u64().expect("height") {
        let (_, block) = app.get(&format!("/chain/blocks/{height}")).await;
        for tx in block["transactions"].as_array().expect("txs") {
            kinds.push(tx["type"].as_str().expect("type").to_owned());
        }
    }
    assert!(kinds.contains(&"schemaRegistration".to_owned()));
    assert_eq!(
        kinds.iter().filter(|k| *k == "trustStatement").count(),
        2,
        "accreditation and revocation"
    );
}

async fn a_sub_issuer_issues_within_its_mandate_only(db: Db) {
    let app = TestApp::spawn_unaccredited(db, server_config()).await;
    let trust = root(&app).await;
    register(&app, &trust, "KycCredential").await;
    register(&app, &trust, "FoodIngredientCertificate").await;
    let bank = new_did(&app).await;
    let branch = new_did(&app).await;
    accredit(&app, &trust, &bank, &["KycCredential"]).await;
    let until = (Utc::now() + Duration::hours(1)).to_rfc3339();
    let (status, mandate) = app
        .post(
            "/trust/delegations",
            &json!({"grantor": bank, "subject": branch, "credentialTypes": ["KycCredential"],
                    "validUntil": until, "maxCount": 2}),
            Some(&app.token),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{mandate}");
    assert_eq!(mandate["kind"], "delegation");
    assert_eq!(mandate["maxCount"], 2);

    let first = app.issue(by(&branch, kyc_credential(None)), "vc+jwt").await;
    app.issue(by(&branch, kyc_credential(None)), "ldp_vc").await;
    let (status, body) = app
        .try_issue(by(&branch, kyc_credential(None)), json!({}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("MANDATE_EXHAUSTED")),
        "{body}"
    );
    // An offer is refused as an issuance would be: it makes the same checks.
    assert_eq!(
        offer_refusal(&app, by(&branch, kyc_credential(None))).await,
        "MANDATE_EXHAUSTED"
    );

    let food = food_credential(&app).await;
    let (status, body) = app.try_issue(by(&branch, food.clone()), json!({})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("NOT_IN_MANDATE"))
    );
    assert_eq!(
        offer_refusal(&app, by(&branch, food)).await,
        "NOT_IN_MANDATE"
    );

    app.seal().await;
    let (status, result) = app.verify(&first).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    let (outcome, _) = check(&result, "accreditation");
    assert_eq!(outcome, "passed");
    let message = result["results"]
        .as_array()
        .and_then(|r| r.iter().find(|c| c["check"] == "accreditation"))
        .and_then(|c| c["message"].as_str())
        .expect("message");
    assert!(
        message.contains("accreditation by root")
            && message.contains(&format!("delegation by {bank}")),
        "{message}"
    );

    // An expired mandate, and a revoked one, allow nothing.
    let office = new_did(&app).await;
    let (status, _) = app
        .post(
            "/trust/delegations",
            &json!({"grantor": bank, "subject": office, "credentialTypes": ["KycCredential"],
                    "validFrom": (Utc::now() - Duration::hours(2)).to_rfc3339(),
                    "validUntil": (Utc::now() - Duration::hours(1)).to_rfc3339(), "maxCount": 5}),
            Some(&app.token),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = app
        .try_issue(by(&office, kyc_credential(None)), json!({}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("MANDATE_EXPIRED"))
    );
    assert_eq!(
        offer_refusal(&app, by(&office, kyc_credential(None))).await,
        "MANDATE_EXPIRED"
    );
    let kiosk = new_did(&app).await;
    let (_, granted) = app
        .post(
            "/trust/delegations",
            &json!({"grantor": bank, "subject": kiosk, "credentialTypes": ["KycCredential"],
                    "validUntil": until, "maxCount": 5}),
            Some(&app.token),
        )
        .await;
    app.issue(by(&kiosk, kyc_credential(None)), "vc+jwt").await;
    let id = granted["id"].as_str().expect("id");
    let (status, _) = app
        .post(
            &format!("/trust/statements/{id}/revoke"),
            &json!({}),
            Some(&app.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app
        .try_issue(by(&kiosk, kyc_credential(None)), json!({}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("MANDATE_EXPIRED"))
    );
}

async fn trust_requests_get_clear_errors(db: Db) {
    let app = TestApp::spawn_unaccredited(db, server_config()).await;
    let trust = root(&app).await;
    let did = new_did(&app).await;
    // Only the root authority registers and accredits.
    let (status, _) = app
        .post(
            "/trust/schemas",
            &json!({"type": "KycCredential"}),
            Some(&app.token),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = app
        .post(
            "/trust/schemas",
            &json!({"type": "Nope"}),
            Some(&trust.root),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("UNKNOWN_CREDENTIAL_TYPE")
        )
    );
    register(&app, &trust, "KycCredential").await;
    let (status, body) = app
        .post(
            "/trust/schemas",
            &json!({"type": "KycCredential"}),
            Some(&trust.root),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("SCHEMA_ALREADY_REGISTERED"))
    );
    let (status, body) = app
        .post(
            "/trust/accreditations",
            &json!({"subject": did, "credentialTypes": ["MachineryInspectionCertificate"]}),
            Some(&trust.root),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("SCHEMA_NOT_REGISTERED"))
    );

    // Delegating without an accreditation, beyond it, or without bounds.
    let sub = new_did(&app).await;
    let until = (Utc::now() + Duration::hours(1)).to_rfc3339();
    let delegation = |types: Value, max: Value| json!({"grantor": did, "subject": sub, "credentialTypes": types, "validUntil": until, "maxCount": max});
    let (status, body) = app
        .post(
            "/trust/delegations",
            &delegation(json!(["KycCredential"]), json!(3)),
            Some(&app.token),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("GRANTOR_NOT_ACCREDITED"))
    );
    accredit(&app, &trust, &did, &["KycCredential"]).await;
    let (status, body) = app
        .post(
            "/trust/delegations",
            &delegation(json!(["KycCredential"]), json!(0)),
            Some(&app.token),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("INVALID_MANDATE"))
    );
    let (status, body) = app
        .post(
            "/trust/statements/urn:uuid:nope/revoke",
            &json!({}),
            Some(&trust.root),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("STATEMENT_NOT_FOUND"))
    );
    let (status, body) = app
        .post(
            "/trust/accreditations",
            &json!({"subject": did, "credentialTypes": ["KycCredential"], "validUntil": "later"}),
            Some(&trust.root),
        )
        .await;
    assert_eq!(
        (status, body["path"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("/validUntil"))
    );
}
