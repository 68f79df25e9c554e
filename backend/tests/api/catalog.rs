//! Credential types, contexts, health and the API contract.

use axum::http::StatusCode;
use serde_json::Value;

use crate::helpers::{kyc_credential, Db, TestApp};
use crate::on_both_databases;

on_both_databases!(
    credential_types_list_each_type_with_its_schema_personal_claims_and_example,
    every_context_an_issued_credential_carries_is_listed,
    health_and_readiness_answer,
);

async fn credential_types_list_each_type_with_its_schema_personal_claims_and_example(db: Db) {
    let app = TestApp::spawn(db).await;
    let (status, types) = app.get("/credential-types").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = types
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|t| t["type"].as_str())
        .collect();
    for wanted in [
        "KycCredential",
        "FoodIngredientCertificate",
        "MachineryInspectionCertificate",
        "ProfessionalQualification",
    ] {
        assert!(names.contains(&wanted), "{wanted} missing from {names:?}");
    }
    let kyc = types
        .as_array()
        .expect("array")
        .iter()
        .find(|t| t["type"] == "KycCredential")
        .expect("kyc");
    assert!(kyc["personalClaims"]
        .as_array()
        .expect("claims")
        .contains(&Value::from("birthDate")));
    assert!(!kyc["personalClaims"]
        .as_array()
        .expect("claims")
        .contains(&Value::from("assuranceLevel")));
    assert_eq!(
        kyc["schema"]["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
}

async fn every_context_an_issued_credential_carries_is_listed(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, contexts) = app.get("/contexts").await;
    let listed: Vec<&str> = contexts
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|c| c["url"].as_str())
        .collect();
    let vc = app.issue(kyc_credential(None), "ldp_vc").await;
    for url in vc["@context"]
        .as_array()
        .expect("contexts")
        .iter()
        .chain(vc["proof"]["@context"].as_array().into_iter().flatten())
    {
        assert!(
            listed.contains(&url.as_str().expect("url")),
            "{url} not listed"
        );
    }
    assert!(contexts
        .as_array()
        .expect("array")
        .iter()
        .all(|c| c["document"]["@context"].is_object()));
}

async fn health_and_readiness_answer(db: Db) {
    let app = TestApp::spawn(db).await;
    assert_eq!(app.get("/health").await.0, StatusCode::OK);
    let (status, body) = app.get("/ready").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );
    let (status, page) = app.get("/api-docs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page
        .as_str()
        .is_some_and(|p| p.contains("/api-docs/openapi.json")));
}

/// The OpenAPI document is the API contract: a change to it shows in review. Set
/// `UPDATE_SNAPSHOTS=1` to rewrite `docs/openapi.json` after an intended change.
#[tokio::test]
async fn the_openapi_document_matches_its_committed_snapshot() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let (status, doc) = app.get("/api-docs/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    let rendered = serde_json::to_string_pretty(&doc).expect("json") + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &rendered).expect("write snapshot");
    }
    let committed = std::fs::read_to_string(&path)
        .expect("docs/openapi.json exists (UPDATE_SNAPSHOTS=1 creates it)");
    assert_eq!(
        committed, rendered,
        "the API changed: review it, then UPDATE_SNAPSHOTS=1"
    );
}
