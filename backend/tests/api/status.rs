//! Credential status: entries at issuance, revocation, suspension and reinstatement (one
//! credential or by query), the published lists, their anchored versions, and the
//! `status` check of verification.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use certus_credential::jose;
use certus_credential::signer::Signer;
use certus_server::auth::{create_api_key, Scope};
use certus_server::status::list::StatusBits;
use certus_server::status::StatusLists;
use certus_server::store::entities::issued_credentials;
use certus_server::store::{unique_violation, Unique};
use chrono::Utc;
use http_body_util::BodyExt;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
use serde_json::{json, Map, Value};
use ssi::jwk::JWK;
use tower::ServiceExt;

use crate::helpers::{check, kyc_credential, token_of, Db, TestApp, PUBLIC_URL};
use crate::on_both_databases;

on_both_databases!(
    every_credential_gets_revocation_and_suspension_entries_at_random_indexes,
    a_revoked_credential_fails_verification_and_revocation_is_final,
    a_suspended_credential_fails_until_reinstated,
    bulk_revocation_changes_exactly_what_the_query_selects,
    every_list_version_is_served_with_validators_and_anchored,
    bad_status_requests_get_clear_errors,
    entries_naming_other_lists_or_issuers_are_not_trusted,
    sd_jwt_credentials_carry_a_token_status_list_reference,
    altered_status_bits_and_records_are_caught_never_signed,
    processes_lease_their_own_pairs_and_take_over_those_of_a_stopped_one,
    unique_violations_are_told_apart_by_their_constraint,
);

/// The status entries of an issued credential (any format).
fn entries(app_credential: &Value) -> Vec<Value> {
    let payload = match app_credential.get("proof") {
        Some(_) => app_credential.clone(),
        None => jose::decode(&token_of(app_credential))
            .expect("a JWT")
            .payload
            .clone(),
    };
    payload["credentialStatus"]
        .as_array()
        .cloned()
        .expect("credentialStatus")
}

fn list_path(entry: &Value) -> String {
    entry["statusListCredential"]
        .as_str()
        .and_then(|u| u.strip_prefix(PUBLIC_URL))
        .expect("a list of this server")
        .to_owned()
}

async fn set_status(app: &TestApp, id: &str, purpose: &str, status: bool) -> (StatusCode, Value) {
    app.post(
        "/credentials/status",
        &json!({
            "credentialId": id,
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": purpose},
            "status": status,
        }),
        Some(&app.token),
    )
    .await
}

fn credential_id(vc: &Value) -> String {
    match vc.get("proof") {
        Some(_) => vc["id"].as_str().expect("id").to_owned(),
        None => jose::decode(&token_of(vc)).expect("jwt").payload["id"]
            .as_str()
            .expect("id")
            .to_owned(),
    }
}

/// The bits of the list a status entry names, as served now.
async fn served_bits(app: &TestApp, entry: &Value) -> StatusBits {
    let (status, list) = app.get(&list_path(entry)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    StatusBits::decode(
        list["credentialSubject"]["encodedList"]
            .as_str()
            .expect("list"),
    )
    .expect("decodes")
}

fn index_of(entry: &Value) -> usize {
    entry["statusListIndex"]
        .as_str()
        .and_then(|i| i.parse().ok())
        .expect("index")
}

async fn every_credential_gets_revocation_and_suspension_entries_at_random_indexes(db: Db) {
    let app = TestApp::spawn(db).await;
    let mut indexes = Vec::new();
    for format in ["ldp_vc", "vc+jwt"].into_iter().cycle().take(12) {
        let vc = app.issue(kyc_credential(None), format).await;
        let entries = entries(&vc);
        assert_eq!(entries.len(), 2, "{vc}");
        let (revocation, suspension) = (&entries[0], &entries[1]);
        assert_eq!(revocation["type"], "BitstringStatusListEntry");
        assert_eq!(revocation["statusPurpose"], "revocation");
        assert_eq!(suspension["statusPurpose"], "suspension");
        assert_eq!(revocation["statusListIndex"], suspension["statusListIndex"]);
        assert_ne!(
            revocation["statusListCredential"],
            suspension["statusListCredential"]
        );
        assert!(revocation["statusListCredential"]
            .as_str()
            .expect("url")
            .starts_with(&format!("{PUBLIC_URL}/status/")));
        assert_eq!(
            revocation["id"],
            json!(format!(
                "{}#{}",
                revocation["statusListCredential"].as_str().expect("url"),
                index_of(revocation)
            ))
        );
        indexes.push(index_of(revocation));
        let (status, result) = app.verify(&vc).await;
        assert_eq!(status, StatusCode::OK, "{result}");
        assert_eq!(check(&result, "status"), ("passed", None));
        assert_eq!(result["statusLists"].as_array().map(Vec::len), Some(2));
    }
    let mut sorted = indexes.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), indexes.len(), "indexes are never reused");
    assert_ne!(sorted, indexes, "indexes do not follow issuance order");

    // The list itself is a credential signed by the issuer, which verifies.
    let vc = app.issue(kyc_credential(None), "ldp_vc").await;
    let (_, list) = app.get(&list_path(&entries(&vc)[0])).await;
    assert_eq!(
        list["type"],
        json!(["VerifiableCredential", "BitstringStatusListCredential"])
    );
    assert_eq!(list["issuer"], vc["issuer"]);
    assert_eq!(list["credentialSubject"]["statusPurpose"], "revocation");
    assert_eq!(list["proof"]["cryptosuite"], "eddsa-rdfc-2022");
    let (status, result) = app.verify(&list).await;
    assert_eq!(status, StatusCode::OK, "{result}");
}

async fn a_revoked_credential_fails_verification_and_revocation_is_final(db: Db) {
    let app = TestApp::spawn(db).await;
    for format in ["ldp_vc", "vc+jwt"] {
        let vc = app.issue(kyc_credential(None), format).await;
        let other = app.issue(kyc_credential(None), format).await;
        let id = credential_id(&vc);
        let (status, changed) = set_status(&app, &id, "revocation", true).await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(
            (changed["matched"].as_u64(), changed["changed"].as_u64()),
            (Some(1), Some(1))
        );
        assert_eq!(changed["published"].as_array().map(Vec::len), Some(1));
        assert_eq!(changed["published"][0]["statusPurpose"], "revocation");

        let (status, result) = app.verify(&vc).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{result}");
        assert_eq!(check(&result, "status"), ("failed", Some("REVOKED")));
        assert_eq!(check(&result, "signature"), ("passed", None));
        let (status, result) = app.verify(&other).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "the neighbour stays valid: {result}"
        );

        let entry = &entries(&vc)[0];
        let bits = served_bits(&app, entry).await;
        assert_eq!(bits.get(index_of(entry)), Some(true));
        assert_eq!(bits.get(index_of(&entries(&other)[0])), Some(false));

        // Revocation is final; repeating it changes nothing.
        let (status, body) = set_status(&app, &id, "revocation", false).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("REVOCATION_FINAL"))
        );
        let (status, body) = set_status(&app, &id, "suspension", true).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("CREDENTIAL_REVOKED"))
        );
        let (status, body) = set_status(&app, &id, "revocation", true).await;
        assert_eq!(
            (status, body["changed"].as_u64()),
            (StatusCode::OK, Some(0))
        );
        assert_eq!(body["published"], json!([]));

        let (status, info) = app
            .get_authorised(&format!("/credentials/{id}/status"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            (info["revoked"].as_bool(), info["suspended"].as_bool()),
            (Some(true), Some(false))
        );
        assert_eq!(info["reason"], "unspecified");
    }
}

async fn a_suspended_credential_fails_until_reinstated(db: Db) {
    let app = TestApp::spawn(db).await;
    let vc = app.issue(kyc_credential(None), "ldp_vc").await;
    let id = credential_id(&vc);
    let suspension = entries(&vc)[1].clone();

    let (status, body) = app
        .post(
            "/credentials/status",
            &json!({
                "credentialId": id,
                "credentialStatus": [{"type": "BitstringStatusListEntry", "statusPurpose": "suspension"}],
                "reason": "certificateHold",
            }),
            Some(&app.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, result) = app.verify(&vc).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(check(&result, "status"), ("failed", Some("SUSPENDED")));
    assert_eq!(
        served_bits(&app, &suspension)
            .await
            .get(index_of(&suspension)),
        Some(true)
    );
    let (_, info) = app
        .get_authorised(&format!("/credentials/{id}/status"))
        .await;
    assert_eq!(
        (info["suspended"].as_bool(), info["reason"].as_str()),
        (Some(true), Some("certificateHold"))
    );

    let (status, body) = set_status(&app, &id, "suspension", false).await;
    assert_eq!(
        (status, body["changed"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{body}"
    );
    assert_eq!(
        body["published"][0]["version"], 3,
        "created, suspended, reinstated"
    );
    let (status, result) = app.verify(&vc).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(
        served_bits(&app, &suspension)
            .await
            .get(index_of(&suspension)),
        Some(false)
    );
    // Reinstating what is not suspended changes nothing.
    let (_, body) = set_status(&app, &id, "suspension", false).await;
    assert_eq!(body["changed"], 0);
}

async fn bulk_revocation_changes_exactly_what_the_query_selects(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, types) = app.get("/credential-types").await;
    let food = types
        .as_array()
        .and_then(|t| t.iter().find(|t| t["type"] == "FoodIngredientCertificate"))
        .cloned()
        .expect("food type");
    let food_credential = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", food["context"]],
        "type": ["VerifiableCredential", "FoodIngredientCertificate"],
        "credentialSubject": food["example"],
    });
    let mut kyc = Vec::new();
    for _ in 0..3 {
        kyc.push(app.issue(kyc_credential(None), "vc+jwt").await);
    }
    let foods = [
        app.issue(food_credential.clone(), "ldp_vc").await,
        app.issue(food_credential.clone(), "vc+jwt").await,
    ];
    // A second API key of the same tenant issues one more KYC credential.
    let (_, second) = create_api_key(&app.db, "default", &[Scope::Issue], Some("desk 2".into()))
        .await
        .expect("key");
    let body = json!({"credential": kyc_credential(None), "options": {"format": "ldp_vc"}});
    let (status, by_second) = app.post("/credentials/issue", &body, Some(&second)).await;
    assert_eq!(status, StatusCode::CREATED);
    let by_second = by_second["verifiableCredential"].clone();

    let bulk = |query: Value| json!({"query": query, "statusPurpose": "revocation", "reason": "privilegeWithdrawn"});
    // A window in the future selects nothing.
    let future = (Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let (status, body) = app
        .post(
            "/credentials/status/bulk",
            &bulk(json!({"issuedFrom": future})),
            Some(&app.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["matched"].as_u64(), body["changed"].as_u64()),
        (Some(0), Some(0))
    );

    // The second key's issuance, by issuing key.
    let second_id = certus_server::store::entities::api_keys::Entity::find()
        .filter(certus_server::store::entities::api_keys::Column::Label.eq("desk 2"))
        .one(&app.db)
        .await
        .expect("query")
        .expect("key row")
        .id;
    let (_, body) = app
        .post(
            "/credentials/status/bulk",
            &bulk(json!({"issuedBy": second_id})),
            Some(&app.token),
        )
        .await;
    assert_eq!(
        (body["matched"].as_u64(), body["changed"].as_u64()),
        (Some(1), Some(1)),
        "{body}"
    );
    assert_eq!(
        check(&app.verify(&by_second).await.1, "status").1,
        Some("REVOKED")
    );

    // Every KYC credential issued up to now: the three left, one list version.
    let (status, body) = app
        .post(
            "/credentials/status/bulk",
            &bulk(json!({"type": "KycCredential", "issuedUntil": Utc::now().to_rfc3339()})),
            Some(&app.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["matched"].as_u64(), body["changed"].as_u64()),
        (Some(4), Some(3)),
        "{body}"
    );
    assert_eq!(body["published"].as_array().map(Vec::len), Some(1));
    for vc in &kyc {
        let (status, result) = app.verify(vc).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(check(&result, "status"), ("failed", Some("REVOKED")));
    }
    for vc in &foods {
        let (status, result) = app.verify(vc).await;
        assert_eq!(status, StatusCode::OK, "outside the query: {result}");
    }
    let (_, info) = app
        .get_authorised(&format!("/credentials/{}/status", credential_id(&kyc[0])))
        .await;
    assert_eq!(info["reason"], "privilegeWithdrawn");
}

async fn every_list_version_is_served_with_validators_and_anchored(db: Db) {
    let app = TestApp::spawn(db).await;
    let vc = app.issue(kyc_credential(None), "ldp_vc").await;
    let entry = entries(&vc)[0].clone();
    let path = list_path(&entry);
    let (_, body) = set_status(&app, &credential_id(&vc), "revocation", true).await;
    let published = body["published"][0].clone();
    assert_eq!(published["version"], 2);
    assert_eq!(
        published["statusListCredential"],
        entry["statusListCredential"]
    );

    let response = app
        .router
        .clone()
        .oneshot(Request::get(&path).body(Body::empty()).expect("request"))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    let etag = headers[header::ETAG].to_str().expect("etag").to_owned();
    assert_eq!(
        etag,
        format!("\"{}\"", published["hash"].as_str().expect("hash"))
    );
    assert_eq!(headers["x-status-list-version"], "2");
    assert!(headers[header::CACHE_CONTROL]
        .to_str()
        .expect("cc")
        .contains("max-age"));
    assert!(headers.contains_key(header::LAST_MODIFIED));
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    // The hash is over the bytes served.
    assert_eq!(
        certus_server::ledger::transaction::status_list_hash(&bytes).to_hex(),
        published["hash"].as_str().expect("hash")
    );

    let revalidated = app
        .router
        .clone()
        .oneshot(
            Request::get(&path)
                .header(header::IF_NONE_MATCH, &etag)
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);

    // Each version stays available, unchanged.
    let (status, first) = app.get(&format!("{path}/versions/1")).await;
    assert_eq!(status, StatusCode::OK);
    let first_bits = StatusBits::decode(
        first["credentialSubject"]["encodedList"]
            .as_str()
            .expect("list"),
    )
    .expect("decodes");
    assert_eq!(first_bits.get(index_of(&entry)), Some(false));
    let (status, _) = app.get(&format!("{path}/versions/3")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Anchored at the next block: the receipt names the list, the version and the hash.
    let (status, _) = app
        .get(&format!(
            "/anchors/{}/receipt",
            published["hash"].as_str().expect("hash")
        ))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "pending until the block");
    app.seal().await;
    let (status, receipt) = app
        .get(&format!(
            "/anchors/{}/receipt",
            published["hash"].as_str().expect("hash")
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    let tx = &receipt["receipt"]["transaction"];
    assert_eq!(tx["type"], "statusListVersion", "{receipt}");
    assert_eq!(tx["version"], 2);
    assert_eq!(tx["list"], json!(path.trim_start_matches("/status/")));

    // Anyone can see the list; only its tenant may publish it.
    let (status, _) = app
        .post(&format!("{path}/publish"), &json!({}), Some(&app.token))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.post(&format!("{path}/publish"), &json!({}), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn bad_status_requests_get_clear_errors(db: Db) {
    let app = TestApp::spawn(db).await;
    let vc = app.issue(kyc_credential(None), "ldp_vc").await;
    let id = credential_id(&vc);

    let (status, body) = set_status(&app, "urn:uuid:not-issued-here", "revocation", true).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("CREDENTIAL_NOT_FOUND"))
    );
    let (status, body) = app
        .post(
            "/credentials/status",
            &json!({"credentialId": id, "credentialStatus": {"type": "StatusList2021Entry", "statusPurpose": "revocation"}}),
            Some(&app.token),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("UNSUPPORTED_STATUS_TYPE")
        )
    );
    let (status, body) = app
        .post(
            "/credentials/status",
            &json!({"credentialId": id, "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "refresh"}}),
            Some(&app.token),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = app
        .post(
            "/credentials/status",
            &json!({"credentialId": id, "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, issue_only) = create_api_key(&app.db, "default", &[Scope::Issue], None)
        .await
        .expect("key");
    let (status, body) = app
        .post(
            "/credentials/status",
            &json!({"credentialId": id, "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}}),
            Some(&issue_only),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("FORBIDDEN"))
    );

    let (status, body) = app
        .post(
            "/credentials/status/bulk",
            &json!({"query": {}, "statusPurpose": "revocation"}),
            Some(&app.token),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("EMPTY_QUERY"))
    );
    let (status, body) = app
        .post(
            "/credentials/status/bulk",
            &json!({"query": {"issuedFrom": "yesterday"}, "statusPurpose": "revocation"}),
            Some(&app.token),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str(), body["path"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("INVALID_QUERY"),
            Some("/query/issuedFrom")
        )
    );
    let (status, body) = app
        .post(
            "/credentials/status/bulk",
            &json!({"query": {"type": "KycCredential"}, "statusPurpose": "revocation", "status": false}),
            Some(&app.token),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("REVOCATION_FINAL"))
    );

    // A client may name an entry of the issuer's lists, but not one another credential holds.
    let mut credential = kyc_credential(None);
    credential["credentialStatus"] = entries(&vc)[0].clone();
    let (status, body) = app.try_issue(credential, json!({})).await;
    assert_eq!(
        (status, body["code"].as_str(), body["path"].as_str()),
        (
            StatusCode::CONFLICT,
            Some("STATUS_INDEX_TAKEN"),
            Some("/credential/credentialStatus")
        )
    );

    for path in [
        "/status/nope",
        &format!("/status/{}", "0".repeat(32)),
        &format!("/status/{}/versions/x", "0".repeat(32)),
    ] {
        let (status, body) = app.get(path).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("STATUS_LIST_NOT_FOUND")),
            "{path}"
        );
    }
    // Nothing was half-written: the credential is still valid.
    assert_eq!(app.verify(&vc).await.0, StatusCode::OK);
}

/// A `vc+jwt` with the given status entries, signed by `key` as `did` (`kid` `vm`).
fn vc_jwt(key: &dyn Signer, did: &str, vm: &str, status: Value) -> Value {
    let mut payload = kyc_credential(None);
    payload["issuer"] = json!(did);
    payload["id"] = json!(format!("urn:uuid:{}", uuid::Uuid::new_v4()));
    payload["validFrom"] = json!("2026-01-01T00:00:00Z");
    payload["credentialStatus"] = status;
    let header: Map<String, Value> = json!({"typ": "vc+jwt", "kid": vm})
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

/// A `vc+jwt` signed by a fresh did:key.
fn foreign_vc_jwt(status: Value) -> Value {
    let key = JWK::generate_ed25519().expect("key");
    let (did, vm) = certus_credential::did::did_key_for(&key).expect("did");
    vc_jwt(&key, &did, &vm, status)
}

/// A `vc+jwt` signed with the test tenant's own issuer key, outside the issuance API.
fn own_vc_jwt(app: &TestApp, status: Value) -> Value {
    let key = app
        .state
        .issuer
        .keys()
        .default_key("default")
        .expect("issuer key");
    vc_jwt(
        key.signer.as_ref(),
        &key.did,
        &key.verification_method,
        status,
    )
}

async fn entries_naming_other_lists_or_issuers_are_not_trusted(db: Db) {
    let app = TestApp::spawn(db).await;
    let ours = app.issue(kyc_credential(None), "ldp_vc").await;
    let our_entry = entries(&ours)[0].clone();

    // Another issuer pointing at our list (to borrow its clear bit) fails.
    let (status, result) = app.verify(&foreign_vc_jwt(our_entry.clone())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{result}");
    assert_eq!(
        check(&result, "status"),
        ("failed", Some("STATUS_ISSUER_MISMATCH"))
    );

    // A revocation entry pointing at a suspension list fails.
    let mut crossed = entries(&ours)[1].clone();
    crossed["statusPurpose"] = json!("revocation");
    let (_, result) = app.verify(&foreign_vc_jwt(crossed)).await;
    assert_eq!(
        check(&result, "status"),
        ("failed", Some("STATUS_PURPOSE_MISMATCH"))
    );

    // An index beyond the list, and a malformed index, in credentials of the list's issuer.
    let mut beyond = our_entry.clone();
    beyond["statusListIndex"] = json!("99999999");
    let (_, result) = app.verify(&own_vc_jwt(&app, beyond)).await;
    assert_eq!(check(&result, "signature"), ("passed", None));
    assert_eq!(
        check(&result, "status"),
        ("failed", Some("STATUS_INDEX_OUT_OF_RANGE"))
    );
    let mut numeric = our_entry.clone();
    numeric["statusListIndex"] = json!(5);
    let (_, result) = app.verify(&own_vc_jwt(&app, numeric)).await;
    assert_eq!(
        check(&result, "status"),
        ("failed", Some("STATUS_ENTRY_INVALID"))
    );
    // A list id of this node that does not exist.
    let mut missing = our_entry.clone();
    missing["statusListCredential"] = json!(format!("{PUBLIC_URL}/status/{}", "ab".repeat(16)));
    let (_, result) = app.verify(&own_vc_jwt(&app, missing)).await;
    assert_eq!(
        check(&result, "status"),
        ("failed", Some("STATUS_LIST_NOT_FOUND"))
    );

    // A list elsewhere is never fetched: the check cannot be carried out.
    let mut remote = our_entry.clone();
    remote["statusListCredential"] = json!("https://status.example/lists/1");
    let (status, result) = app.verify(&foreign_vc_jwt(remote)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{result}");
    assert_eq!(
        check(&result, "status"),
        ("error", Some("STATUS_LIST_UNAVAILABLE"))
    );
}

async fn sd_jwt_credentials_carry_a_token_status_list_reference(db: Db) {
    let app = TestApp::spawn(db).await;
    let vc = app.issue(kyc_credential(None), "dc+sd-jwt").await;
    let token = token_of(&vc);
    let claims = certus_credential::sd_jwt::decode(&token)
        .expect("decodes")
        .claims
        .clone();
    let reference = &claims["status"]["status_list"];
    let index = reference["idx"].as_u64().expect("idx") as usize;
    let uri = reference["uri"].as_str().expect("uri");
    assert!(uri.starts_with(&format!("{PUBLIC_URL}/status/")));
    assert!(claims.get("credentialStatus").is_none());
    let (status, result) = app.verify(&vc).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(check(&result, "status"), ("passed", None));

    // The list URL answers a status list token when asked for one.
    let token_value = |app: &TestApp| {
        let path = uri.strip_prefix(PUBLIC_URL).expect("local").to_owned();
        let router = app.router.clone();
        async move {
            let response = router
                .oneshot(
                    Request::get(&path)
                        .header(header::ACCEPT, "application/statuslist+jwt")
                        .body(Body::empty())
                        .expect("request"),
                )
                .await
                .expect("response");
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(
                response.headers()[header::CONTENT_TYPE],
                "application/statuslist+jwt"
            );
            let bytes = response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            let jwt = String::from_utf8(bytes.to_vec()).expect("text");
            let decoded = jose::decode(&jwt).expect("a JWT");
            assert_eq!(decoded.header_str("typ"), Some("statuslist+jwt"));
            let payload = decoded.payload.clone();
            assert_eq!(payload["status_list"]["bits"], 2);
            use base64::prelude::{Engine, BASE64_URL_SAFE_NO_PAD};
            let compressed = BASE64_URL_SAFE_NO_PAD
                .decode(payload["status_list"]["lst"].as_str().expect("lst"))
                .expect("base64url");
            let bits = ssi::status::token_status_list::BitString::from_compressed_bytes(
                2u8.try_into().expect("size"),
                &compressed,
                None,
            )
            .expect("zlib");
            bits.get(index).expect("in range")
        }
    };
    assert_eq!(token_value(&app).await, 0);
    let id = claims["jti"].as_str().expect("jti").to_owned();
    assert_eq!(
        set_status(&app, &id, "suspension", true).await.0,
        StatusCode::OK
    );
    assert_eq!(token_value(&app).await, 2, "suspended");
    let (status, result) = app.verify(&vc).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(check(&result, "status"), ("failed", Some("SUSPENDED")));
    assert_eq!(
        set_status(&app, &id, "revocation", true).await.0,
        StatusCode::OK
    );
    assert_eq!(token_value(&app).await, 1, "revoked (invalid)");
    let (_, result) = app.verify(&vc).await;
    assert_eq!(check(&result, "status"), ("failed", Some("REVOKED")));
}

/// The attack: clear a revoked credential's bit in the store, then let an ordinary change
/// on the same list sign and anchor a version that says "valid". The change is refused,
/// nothing is published, and the store check names the list; an edited record is named
/// too.
async fn altered_status_bits_and_records_are_caught_never_signed(db: Db) {
    use certus_server::status::verify::verify_store;
    use certus_server::store::entities::{issued_credentials, status_lists};
    use sea_orm::{ActiveModelTrait, Set};

    let app = TestApp::spawn(db).await;
    let revoked = app.issue(kyc_credential(None), "ldp_vc").await;
    let other = app.issue(kyc_credential(None), "ldp_vc").await;
    assert_eq!(
        set_status(&app, &credential_id(&revoked), "revocation", true)
            .await
            .0,
        StatusCode::OK
    );
    app.seal().await;
    assert!(verify_store(&app.db).await.is_ok());

    let entry = entries(&revoked)
        .into_iter()
        .find(|e| e["statusPurpose"] == "revocation")
        .expect("revocation entry");
    let list_id = list_path(&entry).rsplit('/').next().expect("id").to_owned();
    let row = status_lists::Entity::find_by_id(list_id.clone())
        .one(&app.db)
        .await
        .expect("query")
        .expect("list");
    let version = row.version;
    let mut bits = StatusBits::from_bytes(row.bits.clone()).expect("bits");
    bits.set(index_of(&entry), false);
    let mut altered: status_lists::ActiveModel = row.into();
    altered.bits = Set(bits.as_bytes().to_vec());
    altered.update(&app.db).await.expect("alter");

    let err = verify_store(&app.db).await.expect_err("caught");
    assert!(err.contains(&list_id), "{err}");
    let (status, body) = set_status(&app, &credential_id(&other), "revocation", true).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("STATUS_LIST_ALTERED")),
        "{body}"
    );
    let after = status_lists::Entity::find_by_id(list_id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("list");
    assert_eq!(
        after.version, version,
        "no version was signed on altered bits"
    );
    assert!(
        served_bits(&app, &entry).await.get(index_of(&entry)) == Some(true),
        "the served list still says revoked"
    );

    // Put the bits back: the store holds again. Then edit the record instead: revoked_at
    // cleared while the lists say revoked.
    bits.set(index_of(&entry), true);
    let mut restored: status_lists::ActiveModel = after.into();
    restored.bits = Set(bits.as_bytes().to_vec());
    restored.update(&app.db).await.expect("restore");
    assert!(verify_store(&app.db).await.is_ok());
    let record = issued_credentials::Entity::find()
        .filter(issued_credentials::Column::CredentialId.eq(credential_id(&revoked)))
        .one(&app.db)
        .await
        .expect("query")
        .expect("record");
    let mut edited: issued_credentials::ActiveModel = record.into();
    edited.revoked_at = Set(None);
    edited.update(&app.db).await.expect("edit");
    let err = verify_store(&app.db).await.expect_err("caught");
    assert!(err.contains(&credential_id(&revoked)), "{err}");
}

/// Processes sharing one database (issue 23) each hand out indexes only in pairs of lists
/// they lease; a pair whose holder stopped renewing its lease is taken over, without the
/// indexes its recorded credentials hold. Here the processes are `StatusLists` over the
/// test node's database, each with its own lease, and the clock is moved on, not waited.
async fn processes_lease_their_own_pairs_and_take_over_those_of_a_stopped_one(db: Db) {
    let app = TestApp::spawn(db).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(entries(&app.issue(kyc_credential(None), "vc+jwt").await)[0].clone());
    }
    let first_pair = list_path(&held[0]);
    assert!(held.iter().all(|e| list_path(e) == first_pair));
    let recorded: Vec<usize> = held.iter().map(index_of).collect();
    let key = app
        .state
        .issuer
        .keys()
        .default_key("default")
        .expect("the default key");
    let process = || {
        StatusLists::new(
            app.db.clone(),
            app.state.issuer.keys().clone(),
            app.state.issuer.contexts().clone(),
            PUBLIC_URL,
            Vec::new(),
        )
    };
    let path = |list| format!("/status/{list}");
    let now = Utc::now();

    // While the node holds its pair, another process opens a pair of its own.
    let other = process();
    let theirs = other.allocate(&key, now).await.expect("allocates");
    assert_ne!(path(theirs.revocation), first_pair);

    // The node stops renewing (as a crashed process would): once its lease ran out, the
    // next process to issue takes its pair over and hands out none of its taken indexes.
    let after_lease = now + chrono::Duration::seconds(31);
    let next = process();
    let taken_over = next.allocate(&key, after_lease).await.expect("allocates");
    assert_eq!(path(taken_over.revocation), first_pair);
    for _ in 0..200 {
        let more = next.allocate(&key, after_lease).await.expect("allocates");
        assert_eq!(path(more.revocation), first_pair);
        assert!(
            !recorded.contains(&more.index),
            "index {} is held",
            more.index
        );
    }
    // The node, back, finds its lease gone and hands out no index of that pair.
    let back = app
        .state
        .status
        .allocate(&key, after_lease)
        .await
        .expect("allocates");
    assert_ne!(path(back.revocation), first_pair);

    // A process that stops cleanly releases its pairs for the next at once.
    next.release_leases().await.expect("releases");
    let successor = process();
    let released = successor
        .allocate(&key, after_lease)
        .await
        .expect("allocates");
    assert_eq!(path(released.revocation), first_pair);
}

/// A failed write says which unique constraint it broke, on both databases: a client's
/// duplicate credential `id` is told apart from a status entry held twice and from any
/// other key, so only the first is reported as CREDENTIAL_ID_TAKEN.
async fn unique_violations_are_told_apart_by_their_constraint(db: Db) {
    let app = TestApp::spawn(db).await;
    let id = credential_id(&app.issue(kyc_credential(None), "vc+jwt").await);
    let row = issued_credentials::Entity::find()
        .filter(issued_credentials::Column::CredentialId.eq(id))
        .one(&app.db)
        .await
        .expect("reads")
        .expect("recorded");
    let refused = |row: issued_credentials::Model| {
        let db = app.db.clone();
        async move {
            let e = row
                .into_active_model()
                .reset_all()
                .insert(&db)
                .await
                .expect_err("a duplicate is refused");
            unique_violation(&e)
        }
    };
    let new_row_id = || certus_server::store::time_ordered_id();
    assert_eq!(
        refused(issued_credentials::Model {
            id: new_row_id(),
            revocation_list: None,
            suspension_list: None,
            status_index: None,
            ..row.clone()
        })
        .await,
        Some(Unique::CredentialId)
    );
    assert_eq!(
        refused(issued_credentials::Model {
            id: new_row_id(),
            credential_id: "urn:uuid:2f0c8a4e-0000-4000-8000-000000000001".into(),
            ..row.clone()
        })
        .await,
        Some(Unique::StatusEntry)
    );
    assert!(matches!(
        refused(issued_credentials::Model {
            credential_id: "urn:uuid:2f0c8a4e-0000-4000-8000-000000000002".into(),
            revocation_list: None,
            suspension_list: None,
            status_index: None,
            ..row
        })
        .await,
        Some(Unique::Other(_))
    ));
}
