//! GDPR: personal data sealed per data subject; nothing personal in clear in the database
//! files, a PostgreSQL dump or the chain; export; erasure by crypto-shredding with an
//! anchored receipt, after which revocation and status still work; a backup restored from
//! before the erasure does not bring the data back; retention; the records of processing
//! and the minimisation warnings.

use axum::http::StatusCode;
use certus_credential::jose;
use certus_schemas::holder::Key;
use certus_server::auth::Scope;
use certus_server::ledger::portable;
use certus_server::store::entities::{credential_offers, data_subjects, personal_records};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};

use crate::helpers::{Caller, Db, TestApp, PUBLIC_URL};
use crate::on_both_databases;
use crate::openid::{form, FORM};

on_both_databases!(
    personal_data_is_sealed_per_person_and_erasure_shreds_it_while_status_still_works,
    retention_erases_what_is_past_its_period_and_reports_it,
    records_of_processing_and_minimisation_warnings_come_from_types_and_policies,
);

/// Personal values of the test person: none may appear in clear at rest.
const PERSONAL: &[&str] = &[
    "Giulia",
    "Verdi",
    "1991-02-27",
    "YB7654321",
    "giulia.verdi@example.org",
    "+39 333 1234567",
    "CUST-4711",
    "Via Roma 12",
];

fn data_subject() -> Value {
    json!({
        "reference": "CUST-4711",
        "contact": {"email": "giulia.verdi@example.org", "phone": "+39 333 1234567", "address": "Via Roma 12, Milano"},
        "evidence": {"documentType": "passport", "documentNumber": "YB7654321", "issuingState": "IT"},
    })
}

/// A KYC credential of the test person (not the schema's example person, whose values the
/// published schema holds).
fn kyc_credential(holder: Option<&str>) -> Value {
    let mut credential = crate::helpers::kyc_credential(holder);
    let subject = &mut credential["credentialSubject"];
    subject["givenName"] = json!("Giulia");
    subject["familyName"] = json!("Verdi");
    subject["birthDate"] = json!("1991-02-27");
    subject["documentNumber"] = json!("YB7654321");
    credential
}

fn qualification() -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/certus/contexts/qualification/v1"],
        "type": ["VerifiableCredential", "ProfessionalQualification"],
        "credentialSubject": {
            "givenName": "Giulia", "familyName": "Verdi", "birthDate": "1991-02-27",
            "qualificationName": "Certified food auditor", "eqfLevel": 6, "awardDate": "2020-06-30",
            "registrationNumber": "REG-YB7654321",
        },
    })
}

fn credential_id(issued: &Value) -> String {
    crate::ids::credential_id(&issued["verifiableCredential"])
}

async fn issue_for_person(app: &TestApp, credential: Value, format: &str) -> String {
    let (status, body) = app
        .try_issue(
            credential,
            json!({"format": format, "dataSubject": data_subject()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    credential_id(&body)
}

/// `POST /data-subjects/search` as `caller`: the subjects found.
async fn search(app: &TestApp, caller: &Caller, query: Value) -> Vec<Value> {
    let (status, body) = app
        .call(caller, "POST", "/data-subjects/search", Some(query))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["subjects"].as_array().expect("subjects").clone()
}

/// `POST /credentials/search` as `caller`: the ids of the credentials found.
async fn credentials_of(app: &TestApp, caller: &Caller, search: Value) -> Vec<String> {
    let (status, body) = app
        .call(caller, "POST", "/credentials/search", Some(search))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Every byte the store holds: the SQLite files, or a `pg_dump` of the database.
async fn store_bytes(app: &TestApp) -> Vec<u8> {
    match app.postgres_url() {
        Some(url) => {
            let out = std::process::Command::new("pg_dump")
                .arg("--data-only")
                .arg(&url)
                .output()
                .expect("pg_dump runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        }
        None => {
            let mut bytes = Vec::new();
            for entry in std::fs::read_dir(app.data_dir()).expect("data dir") {
                let path = entry.expect("entry").path();
                if path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("certus.db"))
                {
                    bytes.extend(std::fs::read(&path).expect("read"));
                }
            }
            bytes
        }
    }
}

/// The protected header of a compact JWE.
fn jwe_header(token: &str) -> Value {
    use base64::Engine;
    let part = token.split('.').next().expect("header");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

fn assert_nothing_personal(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for value in PERSONAL {
        assert!(!text.contains(value), "{what} holds `{value}` in clear");
    }
}

/// The chain as exported: genesis and every block.
async fn chain_export(app: &TestApp) -> Vec<u8> {
    let mut out = Vec::new();
    portable::export(&app.state.ledger, &mut out)
        .await
        .expect("export");
    out
}

async fn personal_data_is_sealed_per_person_and_erasure_shreds_it_while_status_still_works(db: Db) {
    let app = TestApp::spawn(db).await;
    let dpo = app.key("default", &[Scope::Privacy, Scope::Read]).await;
    let kyc_id = issue_for_person(&app, kyc_credential(None), "dc+sd-jwt").await;
    let qualification_id = issue_for_person(&app, qualification(), "vc+jwt").await;
    let offer = app
        .post(
            "/credentials/offers",
            &json!({"credential": kyc_credential(None), "options": {"format": "dc+sd-jwt", "dataSubject": {"reference": "CUST-4711"}}}),
            Some(&app.token),
        )
        .await;
    assert_eq!(offer.0, StatusCode::CREATED, "{}", offer.1);
    // An offer for the same person that waits for the institution's approval, asked for.
    let (_, waiting) = app
        .post(
            "/credentials/offers",
            &json!({"credential": kyc_credential(None), "options": {"format": "dc+sd-jwt", "dataSubject": {"reference": "CUST-4711"}}, "approval": true}),
            Some(&app.token),
        )
        .await;
    let waiting_access = app.access_token(&waiting, None).await;
    let holder = certus_wallet::HolderKey::generate(PUBLIC_URL).expect("key");
    let proof = holder
        .proof(PUBLIC_URL, &app.c_nonce().await, chrono::Utc::now())
        .expect("proof");
    let (status, deferred) = app
        .credential_request(
            &waiting_access,
            &json!({"credential_configuration_id": "KycCredential_sd_jwt", "proofs": {"jwt": [proof]}}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{deferred}");
    // Bad references are refused before anything is signed or stored.
    for bad in [json!(""), json!("   "), json!("x".repeat(201))] {
        let (status, body) = app
            .try_issue(
                kyc_credential(None),
                json!({"dataSubject": {"reference": bad}}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["path"], "/options/dataSubject/reference");
    }
    app.seal().await;

    // At rest: nothing personal in clear — not in the database, not on the chain. (The
    // store's bytes do hold the credentials' ids: what is read is the real store.)
    let store = store_bytes(&app).await;
    assert!(String::from_utf8_lossy(&store).contains(&kyc_id));
    assert_nothing_personal("the store", &store);
    assert_nothing_personal("the chain", &chain_export(&app).await);

    // One person: found by the institution's reference, with both credentials.
    let subjects = search(&app, &dpo, json!({"reference": "CUST-4711"})).await;
    assert_eq!(subjects.len(), 1, "{subjects:?}");
    let subject = subjects[0].clone();
    let subject_id = subject["id"].as_str().expect("id").to_owned();
    assert_eq!(subject["credentials"], json!([kyc_id, qualification_id]));
    // The portal finds the person's credentials by the same reference, given in a POST
    // body (never in a URL) by anyone who may read the records.
    let reader = app.key("default", &[Scope::Read]).await;
    let mut found = credentials_of(&app, &reader, json!({"reference": " CUST-4711 "})).await;
    found.sort();
    let mut both = vec![kyc_id.clone(), qualification_id.clone()];
    both.sort();
    assert_eq!(found, both);
    assert_eq!(
        credentials_of(
            &app,
            &reader,
            json!({"reference": "CUST-4711", "type": "KycCredential"})
        )
        .await,
        std::slice::from_ref(&kyc_id)
    );
    assert!(
        credentials_of(&app, &reader, json!({"reference": "CUST-4712"}))
            .await
            .is_empty()
    );
    let (status, body) = app
        .call(&reader, "GET", "/credentials?reference=CUST-4711", None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("REFERENCE_IN_URL"))
    );
    let kinds: Vec<&str> = subject["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "credentialSubject").count(),
        2
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "contact").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "evidence").count(),
        2,
        "{kinds:?}"
    );
    assert!(subject["records"][0]["retainUntil"].is_string());
    let by_credential = search(&app, &dpo, json!({"credentialId": qualification_id})).await;
    assert_eq!(by_credential[0]["id"], subject_id);

    // Each record is a JWE under the subject's own key.
    let rows = personal_records::Entity::find()
        .filter(personal_records::Column::SubjectId.eq(&subject_id))
        .all(&app.db)
        .await
        .expect("records");
    for row in &rows {
        let jwe = row.jwe.as_deref().expect("sealed");
        let header = jwe_header(jwe);
        assert_eq!(header["alg"], "dir");
        assert_eq!(header["enc"], "A256GCM");
        assert_eq!(header["kid"], subject_id);
    }

    // Only the privacy scope reaches people's data.
    let clerk = app.key("default", &[Scope::Issue, Scope::Read]).await;
    for (method, path, body) in [
        (
            "POST",
            "/data-subjects/search".to_owned(),
            Some(json!({"reference": "CUST-4711"})),
        ),
        ("GET", format!("/data-subjects/{subject_id}/export"), None),
        ("POST", format!("/data-subjects/{subject_id}/erasure"), None),
    ] {
        let (status, _) = app.call(&clerk, method, &path, body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        let (status, _) = app.call(&Caller::Anonymous, method, &path, body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }
    let other = {
        app.tenant("other").await;
        app.key("other", &[Scope::Privacy]).await
    };
    let (status, body) = app
        .call(
            &other,
            "GET",
            &format!("/data-subjects/{subject_id}/export"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["code"], "DATA_SUBJECT_NOT_FOUND");

    // Export (Art. 15/20): everything, readable.
    let (status, export) = app
        .call(
            &dpo,
            "GET",
            &format!("/data-subjects/{subject_id}/export"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{export}");
    assert_eq!(export["format"], "certus-data-subject-export/1");
    let text = export.to_string();
    for value in [
        "Giulia",
        "giulia.verdi@example.org",
        "YB7654321",
        "Certified food auditor",
    ] {
        assert!(text.contains(value), "the export lacks {value}");
    }
    assert_eq!(
        export["credentials"].as_array().expect("credentials").len(),
        2
    );
    assert_eq!(export["credentials"][0]["status"], "active");
    assert!(export["processing"]
        .as_array()
        .expect("processing")
        .iter()
        .any(|a| a["name"] == "Issuing KycCredential"));

    // Erasure (Art. 17).
    let before_backup = app.backup().await;
    let (status, erasure) = app
        .call(
            &dpo,
            "POST",
            &format!("/data-subjects/{subject_id}/erasure"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{erasure}");
    assert_eq!(erasure["reason"], "request");
    assert_eq!(erasure["records"], 6);
    // The stored receipt is checked against its anchor by `certus chain verify`.
    app.seal().await;
    assert_eq!(
        certus_server::privacy::erasure::verify_store(&app.db).await,
        Ok(1)
    );
    {
        use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
        let row = certus_server::store::entities::erasures::Entity::find()
            .one(&app.db)
            .await
            .expect("query")
            .expect("erasure");
        let original = row.clone();
        let mut altered = row.into_active_model();
        altered.commitment = Set("00".repeat(32));
        altered.update(&app.db).await.expect("alter");
        assert!(certus_server::privacy::erasure::verify_store(&app.db)
            .await
            .is_err());
        original
            .into_active_model()
            .reset_all()
            .update(&app.db)
            .await
            .expect("restore");
    }
    let (status, again) = app
        .call(
            &dpo,
            "POST",
            &format!("/data-subjects/{subject_id}/erasure"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert_eq!(again["code"], "ALREADY_ERASED");

    // The receipt: signed by the institution, naming the person by a salted hash only.
    let receipt = erasure["receipt"].as_str().expect("receipt");
    let decoded = jose::decode(receipt).expect("a JWS");
    assert_eq!(decoded.header_str("typ"), Some("erasure-receipt+jwt"));
    let key = app.state.issuer.keys().default_key("default").expect("key");
    decoded
        .verify(&key.public_jwk())
        .expect("signed by the institution");
    let claims = decoded.payload.clone();
    let stored = data_subjects::Entity::find_by_id(&subject_id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("subject");
    assert_eq!(claims["sub"], stored.tag);
    assert!(!receipt.contains(&subject_id));
    assert_nothing_personal("the receipt", receipt.as_bytes());
    let mut tampered = receipt.to_owned();
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    assert!(jose::decode(&tampered).is_ok_and(|d| d.verify(&key.public_jwk()).is_err()));
    // …and anchored.
    app.seal().await;
    let (status, anchor) = app
        .get(&format!(
            "/anchors/{}/receipt",
            erasure["commitment"].as_str().expect("hex")
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{anchor}");
    let chain = String::from_utf8(chain_export(&app).await).expect("utf-8");
    assert!(chain.contains("erasureReceipt") && chain.contains(&stored.tag));

    // The key is gone, the ciphertexts too; nothing can be decrypted any more.
    assert!(stored.wrapped_key.is_none() && stored.reference_hash.is_none());
    assert!(app
        .state
        .privacy
        .vault()
        .open(&stored)
        .await
        .expect("query")
        .is_err());
    let rows = personal_records::Entity::find()
        .filter(personal_records::Column::SubjectId.eq(&subject_id))
        .all(&app.db)
        .await
        .expect("records");
    assert!(rows
        .iter()
        .all(|r| r.jwe.is_none() && r.erased_at.is_some()));
    assert!(
        credentials_of(&app, &dpo, json!({"reference": "CUST-4711"}))
            .await
            .is_empty()
    );
    // Export returns nothing personal; the reference finds no one; the offer is withdrawn.
    let (_, export) = app
        .call(
            &dpo,
            "GET",
            &format!("/data-subjects/{subject_id}/export"),
            None,
        )
        .await;
    assert_nothing_personal("the export after erasure", export.to_string().as_bytes());
    assert!(export["erasedAt"].is_string());
    assert!(export["records"]
        .as_array()
        .expect("records")
        .iter()
        .all(|r| r.get("data").is_none()));
    assert!(search(&app, &dpo, json!({"reference": "CUST-4711"}))
        .await
        .is_empty());
    let offer_info = app.offer_info(&offer.1).await;
    assert_eq!(offer_info["status"], "erased", "{offer_info}");
    // The request waiting for approval is dropped with it: nothing can be approved or
    // collected, and the wallet's keys are not kept.
    assert_eq!(app.offer_info(&waiting).await["status"], "erased");
    let kept = credential_offers::Entity::find_by_id(waiting["id"].as_str().expect("id"))
        .one(&app.db)
        .await
        .expect("query")
        .expect("the offer");
    assert!(kept.document.is_none() && kept.deferred_request.is_none());
    let (status, refused) = app
        .post(
            "/openid4vci/deferred_credential",
            &json!({"transaction_id": deferred["transaction_id"]}),
            Some(&waiting_access),
        )
        .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("credential_request_denied")),
        "{refused}"
    );
    let code = offer.1["credentialOffer"]["grants"]
        ["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]
        .as_str()
        .expect("code");
    let (status, refused) = app
        .post_raw(
            "/openid4vci/token",
            FORM,
            form(&[
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:pre-authorized_code",
                ),
                ("pre-authorized_code", code),
            ]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["error"], "invalid_grant");
    assert!(refused["error_description"]
        .as_str()
        .expect("text")
        .contains("erased"));

    // Status still works: the issuer revokes, the status answers.
    let (status, body) = app
        .post(
            "/credentials/status",
            &json!({"credentialId": qualification_id, "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": true}),
            Some(&app.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .get_authorised(&format!(
            "/credentials/{}/status",
            certus_server::uri::percent_encode(&qualification_id, b":@")
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.to_string().contains("revoked"), "{body}");
    let (_, erasures) = app.call(&dpo, "GET", "/erasures", None).await;
    assert_eq!(erasures["erasures"][0]["id"], erasure["id"]);

    // A backup taken before the erasure, restored and caught up with the chain, does not
    // bring the data back.
    {
        let restored = before_backup;
        let node = restored.open().await;
        let row = data_subjects::Entity::find_by_id(&subject_id)
            .one(&node.db)
            .await
            .expect("query")
            .expect("subject");
        let vault = certus_server::privacy::Vault::new(node.db.clone(), node.master.clone());
        assert!(
            vault.open(&row).await.expect("query").is_ok(),
            "the backup predates the erasure"
        );
        let export = chain_export(&app).await;
        let mut lines = portable::lines(export.as_slice());
        let genesis =
            serde_json::from_str(&lines.next().expect("line").expect("genesis")).expect("genesis");
        let (held, appended) = portable::catch_up(&node.ledger, &genesis, lines)
            .await
            .expect("catches up");
        assert!(held >= 1 && appended >= 1, "{held} {appended}");
        let erased = certus_server::privacy::erasure::reapply(
            &node.db,
            &certus_server::erasure_listeners(),
            chrono::Utc::now(),
        )
        .await
        .expect("re-applies");
        assert!(erased >= 1);
        let row = data_subjects::Entity::find_by_id(&subject_id)
            .one(&node.db)
            .await
            .expect("query")
            .expect("subject");
        assert!(
            row.wrapped_key.is_none(),
            "the restored backup brought the key back"
        );
        let live = personal_records::Entity::find()
            .filter(personal_records::Column::SubjectId.eq(&subject_id))
            .filter(personal_records::Column::Jwe.is_not_null())
            .all(&node.db)
            .await
            .expect("records");
        assert!(live.is_empty());
        // Opening the restored store again (a restart) finds nothing left to erase, and
        // the chain's outbox does not anchor twice what the caught-up blocks hold.
        let pending = certus_server::store::entities::ledger_outbox::Entity::find()
            .count(&node.db)
            .await
            .expect("count");
        assert_eq!(pending, 0);
    }
}

async fn retention_erases_what_is_past_its_period_and_reports_it(db: Db) {
    let app = TestApp::spawn(db).await;
    let dpo = app.key("default", &[Scope::Privacy, Scope::Read]).await;
    // Refusals first.
    let (status, body) = app
        .call(
            &dpo,
            "PUT",
            "/retention/KycCredential",
            Some(json!({"period": "5 years"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "INVALID_PERIOD");
    let (status, body) = app
        .call(
            &dpo,
            "PUT",
            "/retention/NoSuchType",
            Some(json!({"period": "P1Y"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let reader = app.key("default", &[Scope::Read]).await;
    let (status, _) = app
        .call(
            &reader,
            "PUT",
            "/retention/KycCredential",
            Some(json!({"period": "P1Y"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, report) = app.call(&reader, "GET", "/retention", None).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let kyc_rule = |report: &Value| {
        report["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .find(|r| r["credentialType"] == "KycCredential")
            .expect("kyc")
            .clone()
    };
    assert_eq!(kyc_rule(&report)["period"], "P5Y");
    assert_eq!(kyc_rule(&report)["source"], "schema");

    // One person with only a KYC credential, another with a KYC and a qualification.
    let (status, body) = app
        .try_issue(
            kyc_credential(None),
            json!({"dataSubject": {"reference": "A-1", "contact": {"email": "a@example.org"}}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for credential in [kyc_credential(None), qualification()] {
        let (status, body) = app
            .try_issue(
                credential,
                json!({"format": "vc+jwt", "dataSubject": {"reference": "B-2"}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, report) = app
        .call(
            &dpo,
            "PUT",
            "/retention/KycCredential",
            Some(json!({"period": "PT1S"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(kyc_rule(&report)["source"], "institution");
    assert_eq!(kyc_rule(&report)["held"], 3);
    app.clock.advance(chrono::TimeDelta::milliseconds(1100));
    let (_, report) = app.call(&reader, "GET", "/retention", None).await;
    assert_eq!(kyc_rule(&report)["due"], 3);

    let (status, sweep) = app
        .call(&dpo, "POST", "/retention/sweep", Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::OK, "{sweep}");
    assert_eq!(sweep["records"], 3, "{sweep}");
    assert_eq!(sweep["erasures"].as_array().expect("erasures").len(), 2);
    // A-1 had nothing else: the whole person is erased. B-2 keeps the qualification.
    assert!(search(&app, &dpo, json!({"reference": "A-1"}))
        .await
        .is_empty());
    let b = search(&app, &dpo, json!({"reference": "B-2"})).await;
    assert_eq!(b.len(), 1);
    let records = b[0]["records"].as_array().expect("records");
    let live: Vec<_> = records.iter().filter(|r| r["erasedAt"].is_null()).collect();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["credentialType"], "ProfessionalQualification");
    let (_, report) = app.call(&reader, "GET", "/retention", None).await;
    let rule = kyc_rule(&report);
    assert_eq!(
        (
            rule["held"].clone(),
            rule["due"].clone(),
            rule["erased"].clone()
        ),
        (json!(0), json!(0), json!(3))
    );
    assert_eq!(report["erasures"].as_array().expect("erasures").len(), 2);
    assert!(report["erasures"]
        .as_array()
        .expect("e")
        .iter()
        .all(|e| e["reason"] == "retention"));
    // Both erasures are anchored: one naming a person, one naming a record.
    app.seal().await;
    for erasure in report["erasures"].as_array().expect("erasures") {
        let (status, _) = app
            .get(&format!(
                "/anchors/{}/receipt",
                erasure["commitment"].as_str().expect("hex")
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    // A second sweep finds nothing.
    let (_, sweep) = app
        .call(&dpo, "POST", "/retention/sweep", Some(json!({})))
        .await;
    assert_eq!(sweep["records"], 0);
    // Back to the schema's period.
    let (status, report) = app
        .call(
            &dpo,
            "PUT",
            "/retention/KycCredential",
            Some(json!({"period": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kyc_rule(&report)["period"], "P5Y");
}

async fn records_of_processing_and_minimisation_warnings_come_from_types_and_policies(db: Db) {
    let app = TestApp::spawn(db).await;
    // The lint of each type.
    let (_, types) = app.get("/credential-types").await;
    let kyc = types
        .as_array()
        .expect("types")
        .iter()
        .find(|t| t["type"] == "KycCredential")
        .expect("kyc");
    assert_eq!(kyc["retention"], "P5Y");
    assert!(kyc["lint"]
        .as_array()
        .expect("lint")
        .iter()
        .any(|f| f["code"] == "PERSONAL_NOT_DISCLOSABLE"));

    // A policy that needs the name only; a request asking for the birth date too.
    let (status, body) = app
        .call(
            &Caller::Key(app.token.clone()),
            "PUT",
            "/policies/age-free-onboarding",
            Some(json!({"requiredTypes": ["KycCredential"], "requiredClaims": ["givenName", "familyName"]})),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let (status, created) = app
        .post(
            "/presentation-requests",
            &json!({
                "credentialType": "KycCredential",
                "claims": ["givenName", "familyName", "birthDate"],
                "purpose": "Opening an account",
                "policyId": "age-free-onboarding",
            }),
            Some(&app.token),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let warnings = created["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 1, "{created}");
    assert_eq!(warnings[0]["code"], "ASKS_MORE_THAN_POLICY");
    assert_eq!(warnings[0]["claim"], "birthDate");
    let (_, fitting) = app
        .post(
            "/presentation-requests",
            &json!({"credentialType": "KycCredential", "claims": ["givenName"], "purpose": "Opening an account", "policyId": "age-free-onboarding"}),
            Some(&app.token),
        )
        .await;
    assert_eq!(fitting["warnings"], json!([]));

    // The records of processing: the types the institution may issue and its policies.
    let (status, ropa) = app.get_authorised("/records-of-processing").await;
    assert_eq!(status, StatusCode::OK, "{ropa}");
    assert_eq!(ropa["controller"]["tenant"], "default");
    let activity = |name: &str| {
        ropa["activities"]
            .as_array()
            .expect("activities")
            .iter()
            .find(|a| a["name"] == name)
            .cloned()
    };
    let kyc = activity("Issuing KycCredential").expect("the default tenant is accredited for KYC");
    assert!(kyc["personalData"]
        .as_array()
        .expect("data")
        .contains(&json!("birthDate")));
    assert!(kyc["retention"]
        .as_str()
        .expect("retention")
        .starts_with("P5Y"));
    let policy = activity("Verifying under policy age-free-onboarding").expect("policy");
    assert_eq!(policy["personalData"], json!(["givenName", "familyName"]));
    // A tenant not accredited for KYC does not issue it.
    app.tenant("bakery").await;
    let bakery = app.key("bakery", &[Scope::Read]).await;
    let (_, ropa) = app
        .call(&bakery, "GET", "/records-of-processing", None)
        .await;
    assert!(ropa["activities"]
        .as_array()
        .expect("activities")
        .iter()
        .all(|a| a["name"] != "Issuing KycCredential"));
}
