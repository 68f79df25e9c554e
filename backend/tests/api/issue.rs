//! Issuing credentials through `POST /credentials/issue`.

use axum::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sea_orm::EntityTrait;
use serde_json::{json, Value};

use crate::helpers::{check, kyc_credential, token_of, Db, TestApp, SEEDED_AUDIT_ENTRIES};
use crate::on_both_databases;
use certus_server::store::entities::issued_credentials;

on_both_databases!(
    every_type_issues_in_every_format_and_verifies,
    issuance_is_recorded_without_claim_values,
    issuing_needs_an_api_key_with_the_issue_scope,
    a_subject_that_breaks_its_schema_is_refused_with_the_failing_path,
    unknown_types_contexts_and_foreign_issuers_are_refused,
    the_p256_issuer_signs_es256_and_ecdsa_rdfc_2019,
    eddsa_jcs_2022_is_issued_when_asked_and_refused_where_it_does_not_fit,
    a_vc_1_1_context_issues_a_vc_1_1_credential_in_every_format,
    issuer_id_and_valid_from_are_filled_in_when_absent,
    concurrent_issuances_are_all_recorded_and_a_reused_id_is_a_conflict,
);

async fn every_type_issues_in_every_format_and_verifies(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, types) = app.get("/credential-types").await;
    for t in types.as_array().expect("types") {
        for format in ["ldp_vc", "vc+jwt", "dc+sd-jwt"] {
            let credential = json!({
                "@context": ["https://www.w3.org/ns/credentials/v2", t["context"]],
                "type": ["VerifiableCredential", t["type"]],
                "credentialSubject": t["example"],
            });
            let vc = app.issue(credential, format).await;
            let (status, result) = app.verify(&vc).await;
            assert_eq!(status, StatusCode::OK, "{} {format}: {result}", t["type"]);
            assert_eq!(result["verified"], true);
            assert_eq!(check(&result, "signature").0, "passed");
            assert_eq!(check(&result, "schema").0, "passed");
        }
    }
}

async fn issuance_is_recorded_without_claim_values(db: Db) {
    let app = TestApp::spawn(db).await;
    let vc = app.issue(kyc_credential(None), "ldp_vc").await;
    let rows = issued_credentials::Entity::find()
        .all(&app.db)
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.credential_id, vc["id"].as_str().expect("id"));
    assert_eq!(row.format, "ldp_vc");
    assert!(row.types.contains("KycCredential"));
    let stored = format!("{row:?}");
    for personal in ["Maria", "Rossi", "1988-04-12", "YA1234567"] {
        assert!(!stored.contains(personal), "{personal} stored in {stored}");
    }
}

async fn issuing_needs_an_api_key_with_the_issue_scope(db: Db) {
    let app = TestApp::spawn(db).await;
    let body = json!({"credential": kyc_credential(None)});
    let (status, err) = app.post("/credentials/issue", &body, None).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("UNAUTHORIZED"))
    );
    let (status, _) = app
        .post("/credentials/issue", &body, Some("certus_not-a-real-token"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, verify_only) = certus_server::auth::create_api_key(
        &app.db,
        "default",
        &[certus_server::auth::Scope::Verify],
        None,
    )
    .await
    .expect("key");
    let (status, err) = app
        .post("/credentials/issue", &body, Some(&verify_only))
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("FORBIDDEN"))
    );
}

async fn a_subject_that_breaks_its_schema_is_refused_with_the_failing_path(db: Db) {
    let app = TestApp::spawn(db).await;
    let mut credential = kyc_credential(None);
    credential["credentialSubject"]["birthDate"] = json!("12/04/1988");
    let (status, err) = app.try_issue(credential, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["code"], "SCHEMA_VIOLATION");
    assert_eq!(err["path"], "/credential/credentialSubject/birthDate");
    assert!(
        !err["message"]
            .as_str()
            .unwrap_or_default()
            .contains("12/04/1988"),
        "{err}"
    );

    let mut credential = kyc_credential(None);
    credential["credentialSubject"]
        .as_object_mut()
        .expect("subject")
        .remove("assuranceLevel");
    let (_, err) = app.try_issue(credential, json!({})).await;
    assert!(
        err["message"]
            .as_str()
            .unwrap_or_default()
            .contains("assuranceLevel"),
        "{err}"
    );

    let mut credential = kyc_credential(None);
    credential["credentialSubject"]["favouriteColour"] = json!("blue");
    let (status, err) = app.try_issue(credential, json!({})).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("SCHEMA_VIOLATION"))
    );

    let mut credential = kyc_credential(None);
    credential["validFrom"] = json!("2026-01-01T00:00:00Z");
    credential["validUntil"] = json!("2025-01-01T00:00:00Z");
    let (_, err) = app.try_issue(credential, json!({})).await;
    assert_eq!(
        (err["code"].as_str(), err["path"].as_str()),
        (Some("INVALID_DATE"), Some("/credential/validUntil"))
    );
    let rows = issued_credentials::Entity::find()
        .all(&app.db)
        .await
        .expect("rows");
    assert!(rows.is_empty(), "a refused credential must leave no record");
}

async fn unknown_types_contexts_and_foreign_issuers_are_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let cases: Vec<(Value, &str)> = vec![
        (
            {
                let mut c = kyc_credential(None);
                c["type"] = json!(["VerifiableCredential", "AlienCredential"]);
                c
            },
            "UNKNOWN_CREDENTIAL_TYPE",
        ),
        (
            {
                let mut c = kyc_credential(None);
                c["@context"]
                    .as_array_mut()
                    .expect("ctx")
                    .push(json!("https://attacker.example/ctx"));
                c
            },
            "UNKNOWN_CONTEXT",
        ),
        (
            // A context given inline cannot redefine the type's (protected) terms...
            {
                let mut c = kyc_credential(None);
                c["@context"]
                    .as_array_mut()
                    .expect("ctx")
                    .push(json!({"familyName": "https://attacker.example/#name"}));
                c
            },
            "JSONLD_INVALID",
        ),
        (
            // An embedded context is no claim of a schema-checked subject.
            {
                let mut c = kyc_credential(None);
                c["credentialSubject"]["@context"] = json!({"familyName": "@id"});
                c
            },
            "SCHEMA_VIOLATION",
        ),
        (
            // ...nor load what is not known.
            {
                let mut c = kyc_credential(None);
                c["@context"]
                    .as_array_mut()
                    .expect("ctx")
                    .push(json!({"@import": "https://attacker.example/ctx"}));
                c
            },
            "UNKNOWN_CONTEXT",
        ),
        (
            {
                let mut c = kyc_credential(None);
                // The W3C credentials context (2.0 or 1.1) must come first.
                c["@context"] = json!([
                    "https://w3id.org/certus/contexts/kyc/v1",
                    "https://www.w3.org/ns/credentials/v2"
                ]);
                c
            },
            "UNSUPPORTED_VC_VERSION",
        ),
        (
            {
                let mut c = kyc_credential(None);
                c["issuer"] = json!("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK");
                c
            },
            "ISSUER_NOT_OWNED",
        ),
        (
            {
                let mut c = kyc_credential(None);
                c["proof"] = json!({});
                c
            },
            "MALFORMED_CREDENTIAL",
        ),
        (
            {
                let mut c = kyc_credential(None);
                c["credentialSubject"] = json!([]);
                c
            },
            "MALFORMED_CREDENTIAL",
        ),
        (
            {
                let mut c = kyc_credential(None);
                c["holderNickname"] = json!("x");
                c
            },
            "JSONLD_INVALID",
        ),
    ];
    for (credential, code) in cases {
        let (status, err) = app.try_issue(credential, json!({})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{code}: {err}");
        assert_eq!(err["code"], code, "{err}");
    }
}

async fn the_p256_issuer_signs_es256_and_ecdsa_rdfc_2019(db: Db) {
    let app = TestApp::spawn(db).await;
    let issuers = get_issuers(&app).await;
    let p256 = issuers
        .iter()
        .find(|i| i["algorithm"] == "ES256")
        .expect("a P-256 issuer");
    assert_eq!(issuers.iter().filter(|i| i["default"] == true).count(), 1);
    let mut credential = kyc_credential(None);
    credential["issuer"] = p256["did"].clone();
    let jwt = app.issue(credential.clone(), "vc+jwt").await;
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token_of(&jwt).split('.').next().expect("header"))
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "vc+jwt");
    assert_eq!(app.verify(&jwt).await.0, StatusCode::OK);
    let di = app.issue(credential, "ldp_vc").await;
    assert_eq!(di["proof"]["cryptosuite"], "ecdsa-rdfc-2019");
    assert_eq!(app.verify(&di).await.0, StatusCode::OK);
}

async fn eddsa_jcs_2022_is_issued_when_asked_and_refused_where_it_does_not_fit(db: Db) {
    let app = TestApp::spawn(db).await;
    let jcs = json!({"format": "ldp_vc", "cryptosuite": "eddsa-jcs-2022"});
    let (status, body) = app.try_issue(kyc_credential(None), jcs.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let vc = body["verifiableCredential"].clone();
    assert_eq!(vc["proof"]["cryptosuite"], "eddsa-jcs-2022");
    assert_eq!(
        vc["proof"]["@context"], vc["@context"],
        "the proof carries the document's context"
    );
    let (status, result) = app.verify(&vc).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(check(&result, "signature").0, "passed");
    assert_eq!(check(&result, "status").0, "passed");
    let mut tampered = vc.clone();
    tampered["credentialSubject"]["assuranceLevel"] = json!("high");
    let (status, result) = app.verify(&tampered).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        check(&result, "signature").1,
        Some("SIGNATURE_INVALID"),
        "{result}"
    );

    // Where it does not fit: another format, a P-256 issuer, an unknown suite.
    let p256 = get_issuers(&app)
        .await
        .into_iter()
        .find(|i| i["algorithm"] == "ES256")
        .expect("a P-256 issuer");
    let mut by_p256 = kyc_credential(None);
    by_p256["issuer"] = p256["did"].clone();
    for (credential, options) in [
        (
            kyc_credential(None),
            json!({"format": "vc+jwt", "cryptosuite": "eddsa-jcs-2022"}),
        ),
        (by_p256, jcs),
        (
            kyc_credential(None),
            json!({"format": "ldp_vc", "cryptosuite": "bbs-2023"}),
        ),
    ] {
        let (status, body) = app.try_issue(credential, options.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{options}: {body}"
        );
        assert_eq!(body["code"], "UNSUPPORTED_CRYPTOSUITE", "{body}");
        assert_eq!(body["path"], "/options/cryptosuite");
    }
}

/// A KYC credential in VC Data Model 1.1.
fn kyc_v1_1() -> Value {
    let mut credential = kyc_credential(None);
    credential["@context"][0] = json!("https://www.w3.org/2018/credentials/v1");
    credential
}

async fn a_vc_1_1_context_issues_a_vc_1_1_credential_in_every_format(db: Db) {
    let app = TestApp::spawn(db).await;
    // Data Integrity over VC 1.1: issuanceDate, and the contexts its proof and status need.
    let ldp = app.issue(kyc_v1_1(), "ldp_vc").await;
    assert!(
        ldp["issuanceDate"].is_string() && ldp.get("validFrom").is_none(),
        "{ldp}"
    );
    let contexts = ldp["@context"].as_array().expect("contexts");
    assert_eq!(contexts[0], "https://www.w3.org/2018/credentials/v1");
    assert!(contexts.contains(&json!("https://w3id.org/security/data-integrity/v2")));
    assert!(contexts.contains(&json!("https://w3id.org/certus/contexts/status/v1")));
    assert_eq!(
        ldp["credentialStatus"][0]["type"],
        "BitstringStatusListEntry"
    );
    let jcs = app
        .try_issue(
            kyc_v1_1(),
            json!({"format": "ldp_vc", "cryptosuite": "eddsa-jcs-2022"}),
        )
        .await
        .1["verifiableCredential"]
        .clone();
    // A JWT with a `vc` claim, not an envelope.
    let jwt = app.issue(kyc_v1_1(), "vc+jwt").await;
    let token = jwt.as_str().expect("a compact JWT");
    let part = |i: usize| -> Value {
        serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(token.split('.').nth(i).expect("part"))
                .expect("b64"),
        )
        .expect("json")
    };
    assert_eq!(part(0)["typ"], "JWT");
    let claims = part(1);
    assert_eq!(claims["iss"], claims["vc"]["issuer"]);
    assert_eq!(claims["jti"], claims["vc"]["id"]);
    assert!(claims["nbf"].is_i64());
    assert_eq!(
        claims["vc"]["@context"][0],
        "https://www.w3.org/2018/credentials/v1"
    );
    let sd = app.issue(kyc_v1_1(), "dc+sd-jwt").await;
    for vc in [&ldp, &jcs, &jwt, &sd] {
        let (status, result) = app.verify(vc).await;
        assert_eq!(status, StatusCode::OK, "{vc}: {result}");
        for name in ["signature", "validity", "schema", "status"] {
            assert_eq!(check(&result, name).0, "passed", "{name}: {result}");
        }
    }

    // Tampered: a claim of the Data Integrity credential; the JWT's claims.
    let mut tampered = ldp.clone();
    tampered["issuanceDate"] = json!("2020-01-01T00:00:00Z");
    assert_eq!(app.verify(&tampered).await.0, StatusCode::BAD_REQUEST);
    let (header, _, signature) = {
        let mut parts = token.split('.');
        (
            parts.next().expect("h"),
            parts.next(),
            parts.next().expect("s"),
        )
    };
    let mut forged = claims.clone();
    forged["vc"]["credentialSubject"]["assuranceLevel"] = json!("high");
    let forged = format!(
        "{header}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(forged.to_string())
    );
    let (status, result) = app.verify(&json!(forged)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{result}");
    assert_eq!(check(&result, "signature").1, Some("SIGNATURE_INVALID"));

    // Each model's own date properties.
    let mut mixed = kyc_v1_1();
    mixed["validFrom"] = json!("2026-01-01T00:00:00Z");
    let (status, body) = app.try_issue(mixed, json!({"format": "ldp_vc"})).await;
    assert_eq!(
        (status, body["path"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("/credential/validFrom")
        ),
        "{body}"
    );
    let mut mixed = kyc_credential(None);
    mixed["expirationDate"] = json!("2030-01-01T00:00:00Z");
    let (status, body) = app.try_issue(mixed, json!({"format": "vc+jwt"})).await;
    assert_eq!(
        (status, body["path"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("/credential/expirationDate")
        ),
        "{body}"
    );
}

async fn get_issuers(app: &TestApp) -> Vec<Value> {
    let request = axum::http::Request::get("/issuers")
        .header("authorization", format!("Bearer {}", app.token))
        .body(axum::body::Body::empty())
        .expect("request");
    let (status, body) = app.send(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().cloned().expect("array")
}

async fn issuer_id_and_valid_from_are_filled_in_when_absent(db: Db) {
    let app = TestApp::spawn(db).await;
    let vc = app.issue(kyc_credential(None), "ldp_vc").await;
    assert!(
        vc["issuer"]
            .as_str()
            .expect("issuer")
            .starts_with("did:key:z6Mk"),
        "Ed25519 by default"
    );
    assert!(vc["id"].as_str().expect("id").starts_with("urn:uuid:"));
    assert!(vc["validFrom"].is_string());
    assert_eq!(vc["proof"]["cryptosuite"], "eddsa-rdfc-2022");
    let other = app.issue(kyc_credential(None), "ldp_vc").await;
    assert_ne!(vc["id"], other["id"], "ids are random");
}

async fn concurrent_issuances_are_all_recorded_and_a_reused_id_is_a_conflict(db: Db) {
    let app = TestApp::spawn(db).await;
    let mut with_id = kyc_credential(None);
    with_id["id"] = json!("urn:uuid:7d8f0a52-1c1e-4f55-9b0e-2a4f4b9a3c11");
    // Twenty issuances at once, one of them reusing the id of another: the recorder
    // commits them together, and only the duplicate fails.
    let mut requests = vec![with_id.clone(), with_id.clone()];
    requests.extend((0..18).map(|_| kyc_credential(None)));
    let answers = futures::future::join_all(
        requests
            .into_iter()
            .map(|c| app.try_issue(c, json!({"format": "vc+jwt"}))),
    )
    .await;
    let created = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let conflicts: Vec<_> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CONFLICT)
        .collect();
    assert_eq!((created, conflicts.len()), (19, 1), "{answers:?}");
    assert_eq!(conflicts[0].1["code"], "CREDENTIAL_ID_TAKEN");
    assert_eq!(conflicts[0].1["path"], "/credential/id");
    let rows = issued_credentials::Entity::find()
        .all(&app.db)
        .await
        .expect("rows");
    assert_eq!(rows.len(), 19);
    assert_eq!(app.seal().await, 1);
    assert_eq!(
        app.state.ledger.verify_audit().await,
        Ok(Some(19 + SEEDED_AUDIT_ENTRIES))
    );
}
