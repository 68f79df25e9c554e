//! Institutions' own credential types: defined through the API, published (schema,
//! context, type metadata), registered on the chain, issued in every format and through
//! OpenID4VCI, versioned and retired.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use certus_server::auth::Scope;
use certus_server::store::entities::{audit_log, audit_outbox, credential_types};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{check, Caller, Db, TestApp, PUBLIC_URL};
use crate::on_both_databases;

on_both_databases!(
    an_institution_defines_a_type_publishes_it_and_issues_it_in_every_format,
    a_new_version_keeps_the_old_credentials_valid_and_a_retired_version_is_not_issued,
    bad_definitions_and_callers_are_refused_and_nothing_is_written,
);

/// A boiler inspector's certificate, drafted from a list of claims.
fn boiler(extra_required: Option<&str>) -> Value {
    let mut claims = vec![
        json!({"name": "serialNumber", "title": "Serial number", "type": "string", "required": true}),
        json!({"name": "inspectionDate", "type": "date", "required": true}),
        json!({"name": "outcome", "type": "string", "required": true, "enum": ["pass", "pass-with-remarks"]}),
        json!({"name": "pressureBar", "type": "number"}),
        json!({"name": "inspectorName", "type": "string", "personal": true}),
    ];
    if let Some(name) = extra_required {
        claims.push(json!({"name": name, "type": "string", "required": true}));
    }
    json!({
        "type": "BoilerInspection",
        "title": "Boiler inspection certificate",
        "description": "A pressure-equipment inspection passed.",
        "retention": "P6Y",
        "claims": claims,
        "display": [{"locale": "en", "name": "Boiler inspection", "backgroundColor": "#12355b", "textColor": "#ffffff"}],
    })
}

fn subject() -> Value {
    json!({
        "serialNumber": "SN-2026-0042",
        "inspectionDate": "2026-11-30",
        "outcome": "pass",
        "pressureBar": 12.5,
        "inspectorName": "Ada Lovelace",
    })
}

fn credential(subject: Value, contexts: &[&str]) -> Value {
    let mut context = vec![json!("https://www.w3.org/ns/credentials/v2")];
    context.extend(contexts.iter().map(|c| json!(c)));
    json!({
        "@context": context,
        "type": ["VerifiableCredential", "BoilerInspection"],
        "credentialSubject": subject,
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl TestApp {
    /// The default tenant's admin key for credential types.
    async fn types_key(&self) -> Caller {
        self.key("default", &[Scope::Types]).await
    }

    /// A GET of a published document: status, headers and the raw body.
    async fn raw(
        &self,
        path: &str,
        etag: Option<&str>,
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let mut request = Request::get(path);
        if let Some(etag) = etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, headers, body.to_vec())
    }
}

async fn an_institution_defines_a_type_publishes_it_and_issues_it_in_every_format(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.types_key().await;
    let (status, defined) = app
        .call(&admin, "POST", "/credential-types", Some(boiler(None)))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{defined}");
    let base = format!("{PUBLIC_URL}/credential-types/BoilerInspection");
    assert_eq!(defined["type"], "BoilerInspection");
    assert_eq!(defined["version"], 1);
    assert_eq!(defined["owner"], "default");
    assert_eq!(defined["vct"], format!("{base}/v1"));
    assert_eq!(defined["context"], format!("{base}/v1/context"));
    assert_eq!(defined["schemaId"], format!("{base}/v1/schema"));
    assert_eq!(defined["personalClaims"], json!(["inspectorName"]));
    assert_eq!(defined["retention"], "P6Y");
    assert_eq!(
        defined["schema"]["required"],
        json!(["serialNumber", "inspectionDate", "outcome"])
    );

    // Listed, like the bundled types, with a valid example.
    let (_, listed) = app.get("/credential-types").await;
    let entry = listed
        .as_array()
        .expect("array")
        .iter()
        .find(|t| t["type"] == "BoilerInspection")
        .expect("listed");
    assert_eq!(entry["context"], defined["context"]);
    assert!(entry["example"]["serialNumber"].is_string());

    // The schema and context are served byte for byte as hashed, and cached by ETag.
    let (status, headers, schema) = app
        .raw("/credential-types/BoilerInspection/v1/schema", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/schema+json");
    assert_eq!(sha256_hex(&schema), defined["schemaHash"]);
    let (status, headers, context) = app
        .raw("/credential-types/BoilerInspection/v1/context", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/ld+json");
    let integrity = format!(
        "sha256-{}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            Sha256::digest(&context)
        )
    );
    assert_eq!(defined["contextIntegrity"], integrity);
    let schema: Value = serde_json::from_slice(&schema).expect("schema");
    assert_eq!(
        schema["x-certus-context-integrity"], integrity,
        "the schema pins its context"
    );
    let etag = headers[header::ETAG].to_str().expect("etag").to_owned();
    let (status, _, _) = app
        .raw("/credential-types/BoilerInspection/v1/context", Some(&etag))
        .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    let (_, contexts) = app.get("/contexts").await;
    assert!(contexts
        .as_array()
        .expect("array")
        .iter()
        .any(|c| c["url"] == defined["context"]
            && c["document"]["@context"]["BoilerInspection"].is_object()));

    // The vct resolves to SD-JWT VC type metadata, at the URL and under /.well-known/vct.
    for path in [
        "/credential-types/BoilerInspection/v1",
        "/.well-known/vct/credential-types/BoilerInspection/v1",
    ] {
        let (status, metadata) = app.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {metadata}");
        assert_eq!(metadata["vct"], defined["vct"]);
        assert_eq!(
            metadata["display"][0]["rendering"]["simple"]["background_color"],
            "#12355b"
        );
        assert!(metadata["claims"]
            .as_array()
            .expect("claims")
            .iter()
            .any(|c| c["path"] == json!(["inspectorName"]) && c["sd"] == "always"));
    }

    // Wallets show it as the type says: the issuer metadata's configurations carry its
    // display (name, locale, colours).
    let (_, issuer) = app.get("/.well-known/openid-credential-issuer").await;
    let configuration = &issuer["credential_configurations_supported"]["BoilerInspection_sd_jwt"];
    for display in [
        &configuration["display"][0],
        &configuration["credential_metadata"]["display"][0],
    ] {
        assert_eq!(display["name"], "Boiler inspection", "{configuration}");
        assert_eq!(display["locale"], "en");
        assert_eq!(display["background_color"], "#12355b");
        assert_eq!(display["text_color"], "#ffffff");
    }

    // Registered on the chain by the hash of its schema, in the next block.
    assert!(app.seal().await >= 1);
    let (_, schemas) = app.get("/trust/schemas").await;
    assert!(
        schemas
            .as_array()
            .expect("array")
            .iter()
            .any(|s| s["hash"] == defined["schemaHash"] && s["type"] == "BoilerInspection"),
        "{schemas}"
    );

    let report = certus_server::integrity::verify(&app.state.ledger, &app.db, &app.seal).await;
    assert_eq!(report.broken, None);
    assert!(report
        .held
        .iter()
        .any(|l| l.starts_with("the credential types hold: 5 versions")));

    // Offered to wallets, and issued in every format.
    let (_, metadata) = app.get("/.well-known/openid-credential-issuer").await;
    let configurations = &metadata["credential_configurations_supported"];
    for id in [
        "BoilerInspection_sd_jwt",
        "BoilerInspection_jwt_vc_json",
        "BoilerInspection_ldp_vc",
    ] {
        assert!(configurations[id].is_object(), "{id} not offered");
    }
    assert_eq!(
        configurations["BoilerInspection_sd_jwt"]["vct"],
        defined["vct"]
    );
    for format in ["ldp_vc", "vc+jwt", "dc+sd-jwt"] {
        let vc = app.issue(credential(subject(), &[]), format).await;
        let (status, result) = app.verify(&vc).await;
        assert_eq!(status, StatusCode::OK, "{format}: {result}");
        assert_eq!(result["verified"], true, "{format}: {result}");
        assert_eq!(check(&result, "schema").0, "passed", "{format}: {result}");
    }
    let (_, received, _) = app
        .redeem_offer(
            app.offer_of(credential(subject(), &[]), "dc+sd-jwt", false)
                .await,
        )
        .await;
    assert!(
        received.as_str().is_some_and(|c| c.contains('~')),
        "{received}"
    );
    // The SD-JWT VC names its type metadata's integrity: the SHA-256 of the bytes its vct
    // serves, which a wallet checks before it trusts the names and claims it shows.
    let token = received.as_str().expect("an SD-JWT");
    let payload = crate::openid::payload(token);
    let (status, _, served) = app
        .raw(
            "/.well-known/vct/credential-types/BoilerInspection/v1",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let digest = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        Sha256::digest(&served),
    );
    assert_eq!(payload["vct#integrity"], format!("sha256-{digest}"));

    // The schema is enforced at issuance.
    let mut wrong = subject();
    wrong["outcome"] = json!("fail");
    let (status, body) = app
        .try_issue(credential(wrong, &[]), json!({"format": "vc+jwt"}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("SCHEMA_VIOLATION")),
        "{body}"
    );

    // A credential that claims the type but breaks its schema fails the schema check.
    let ldp = app.issue(credential(subject(), &[]), "ldp_vc").await;
    let mut tampered = ldp.clone();
    tampered["credentialSubject"]["outcome"] = json!("fail");
    let (_, result) = app.verify(&tampered).await;
    assert_eq!(result["verified"], false);
}

async fn a_new_version_keeps_the_old_credentials_valid_and_a_retired_version_is_not_issued(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.types_key().await;
    let (status, v1) = app
        .call(&admin, "POST", "/credential-types", Some(boiler(None)))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v1}");
    let old_jwt = app.issue(credential(subject(), &[]), "vc+jwt").await;
    let old_ldp = app.issue(credential(subject(), &[]), "ldp_vc").await;

    // Version 2 requires a claim version 1 did not have.
    let mut body = boiler(Some("siteAddress"));
    body.as_object_mut().expect("object").remove("type");
    let (status, v2) = app
        .call(
            &admin,
            "POST",
            "/credential-types/BoilerInspection/versions",
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v2}");
    assert_eq!(v2["version"], 2);
    assert_ne!(v2["schemaHash"], v1["schemaHash"]);
    assert_ne!(v2["context"], v1["context"]);
    let (_, versions) = app.get("/credential-types/BoilerInspection").await;
    assert_eq!(versions.as_array().map(Vec::len), Some(2));

    // New issuance uses version 2; the old credentials keep version 1's schema and verify.
    let (status, body) = app
        .try_issue(credential(subject(), &[]), json!({"format": "vc+jwt"}))
        .await;
    assert_eq!(body["code"], "SCHEMA_VIOLATION", "{status} {body}");
    let mut full = subject();
    full["siteAddress"] = json!("Hafenstrasse 1, Zürich");
    let new = app.issue(credential(full, &[]), "vc+jwt").await;
    for vc in [&old_jwt, &old_ldp, &new] {
        let (_, result) = app.verify(vc).await;
        assert_eq!(result["verified"], true, "{result}");
        assert_eq!(check(&result, "schema").0, "passed", "{result}");
    }
    // Naming version 1's context still issues under version 1.
    let v1_context = v1["context"].as_str().expect("context");
    app.issue(credential(subject(), &[v1_context]), "ldp_vc")
        .await;

    // Retired, version 1 is no longer issued; its credentials still verify.
    let (status, retired) = app
        .call(
            &admin,
            "POST",
            "/credential-types/BoilerInspection/v1/retire",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{retired}");
    assert_eq!(retired["retired"], true);
    let (status, body) = app
        .try_issue(
            credential(subject(), &[v1_context]),
            json!({"format": "ldp_vc"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("CREDENTIAL_TYPE_RETIRED")
        ),
        "{body}"
    );
    let (status, body) = app
        .call(
            &admin,
            "POST",
            "/credential-types/BoilerInspection/v1/retire",
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("CREDENTIAL_TYPE_RETIRED"))
    );
    for vc in [&old_jwt, &old_ldp] {
        let (_, result) = app.verify(vc).await;
        assert_eq!(result["verified"], true, "{result}");
    }

    // Retiring the last version takes the type out of the list and the wallet metadata.
    let (status, _) = app
        .call(
            &admin,
            "POST",
            "/credential-types/BoilerInspection/v2/retire",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app
        .try_issue(credential(subject(), &[]), json!({"format": "vc+jwt"}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("CREDENTIAL_TYPE_RETIRED")
        )
    );
    let (_, listed) = app.get("/credential-types").await;
    assert!(!listed.to_string().contains("BoilerInspection"));
    let (_, all) = app.get("/credential-types?all=true").await;
    let retired: Vec<&Value> = all
        .as_array()
        .expect("array")
        .iter()
        .filter(|t| t["type"] == "BoilerInspection")
        .collect();
    assert_eq!(retired.len(), 2);
    assert!(retired.iter().all(|t| t["retired"] == true));
    let (_, metadata) = app.get("/.well-known/openid-credential-issuer").await;
    assert!(metadata["credential_configurations_supported"]["BoilerInspection_sd_jwt"].is_null());

    // A restarted node reads its types back from the store, as they were left.
    let node = app.backup().await.open().await;
    let restored = node.catalog.get("BoilerInspection").expect("restored");
    assert_eq!((restored.version, restored.retired), (2, true));
    assert!(node.contexts.is_known(v1_context));
}

async fn bad_definitions_and_callers_are_refused_and_nothing_is_written(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.types_key().await;
    let rows = || async {
        credential_types::Entity::find()
            .count(&app.db)
            .await
            .expect("count")
    };
    let audits = || async {
        audit_log::Entity::find()
            .count(&app.db)
            .await
            .expect("count")
            + audit_outbox::Entity::find()
                .count(&app.db)
                .await
                .expect("count")
    };
    let (rows_before, audits_before) = (rows().await, audits().await);
    assert_eq!(rows_before, 4, "the bundled types are seeded");

    // Who may define types.
    let (status, _) = app
        .call(
            &Caller::Anonymous,
            "POST",
            "/credential-types",
            Some(boiler(None)),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let clerk = app.key("default", &[Scope::Issue]).await;
    let (status, body) = app
        .call(&clerk, "POST", "/credential-types", Some(boiler(None)))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("FORBIDDEN"))
    );

    // What a definition must be.
    let with = |key: &str, value: Value| {
        let mut body = boiler(None);
        body[key] = value;
        body
    };
    let cases = [
        (with("type", json!("boiler")), "/type"),
        (with("type", json!("VerifiableCredential")), "/type"),
        (with("retention", json!("six years")), "/retention"),
        (with("title", json!(" ")), "/title"),
        (
            with("claims", json!([{"name": "a:b", "type": "string"}])),
            "/claims/0/name",
        ),
        (
            with(
                "claims",
                json!([{"name": "x", "type": "string"}, {"name": "x", "type": "date"}]),
            ),
            "/claims/1/name",
        ),
        (
            with(
                "claims",
                json!([{"name": "n", "type": "integer", "enum": ["1"]}]),
            ),
            "/claims/0/enum",
        ),
        (
            with(
                "display",
                json!([{"name": "B", "logo": "http://insecure.example/logo.png"}]),
            ),
            "/display/0/logo",
        ),
        (
            with(
                "schema",
                json!({"type": "object", "properties": {"@id": {"type": "string"}}}),
            ),
            "",
        ),
    ];
    for (body, pointer) in cases {
        let (status, error) = app
            .call(&admin, "POST", "/credential-types", Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {error}");
        assert_eq!(error["code"], "INVALID_CREDENTIAL_TYPE", "{error}");
        assert_eq!(
            error["path"].as_str().unwrap_or(""),
            pointer,
            "{body}: {error}"
        );
    }
    // A pasted schema whose claim cannot be a JSON-LD term, or whose example breaks it.
    let pasted = |properties: Value, example: Value| {
        let mut body = boiler(None);
        let object = body.as_object_mut().expect("object");
        object.remove("claims");
        object.insert(
            "schema".into(),
            json!({"type": "object", "properties": properties, "required": ["a"]}),
        );
        object.insert("example".into(), example);
        body
    };
    let (status, error) = app
        .call(
            &admin,
            "POST",
            "/credential-types",
            Some(pasted(
                json!({"a": {"type": "string"}, "b c": {"type": "string"}}),
                json!({"a": "x"}),
            )),
        )
        .await;
    assert_eq!(
        (status, error["path"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("/schema/properties/b c")
        ),
        "{error}"
    );
    let (status, error) = app
        .call(
            &admin,
            "POST",
            "/credential-types",
            Some(pasted(json!({"a": {"type": "integer"}}), json!({"a": "x"}))),
        )
        .await;
    assert_eq!(
        (status, error["path"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("/example/a")),
        "{error}"
    );
    // Unknown fields are refused, not ignored.
    let (status, _) = app
        .call(
            &admin,
            "POST",
            "/credential-types",
            Some(with("colour", json!("red"))),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Names are taken once on a server; only the owner versions or retires a type.
    let mut kyc = boiler(None);
    kyc["type"] = json!("KycCredential");
    let (status, body) = app
        .call(&admin, "POST", "/credential-types", Some(kyc))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("CREDENTIAL_TYPE_EXISTS"))
    );
    let (status, body) = app
        .call(
            &admin,
            "POST",
            "/credential-types/KycCredential/versions",
            Some(boiler(None)),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("INVALID_CREDENTIAL_TYPE")
        ),
        "{body}"
    );
    let mut unnamed = boiler(None);
    unnamed.as_object_mut().expect("object").remove("type");
    let (status, body) = app
        .call(
            &admin,
            "POST",
            "/credential-types/KycCredential/versions",
            Some(unnamed.clone()),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("NOT_TYPE_OWNER"))
    );
    let (status, body) = app
        .call(
            &admin,
            "POST",
            "/credential-types/Nothing/versions",
            Some(unnamed),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("UNKNOWN_CREDENTIAL_TYPE"))
    );
    let (status, _) = app.get("/credential-types/KycCredential/vx/schema").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get("/credential-types/Nothing/v1").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    assert_eq!(
        (rows().await, audits().await),
        (rows_before, audits_before),
        "a refusal writes nothing"
    );

    let (status, _) = app
        .call(&admin, "POST", "/credential-types", Some(boiler(None)))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    app.tenant("other").await;
    let other = app.key("other", &[Scope::Types]).await;
    let (status, body) = app
        .call(
            &other,
            "POST",
            "/credential-types/BoilerInspection/v1/retire",
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("NOT_TYPE_OWNER"))
    );
    assert_eq!(rows().await, rows_before + 1);
}
