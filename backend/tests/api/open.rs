//! Open issuance through the VC API (decision 18): an institution's setting (off by
//! default, on in the `open` profile) to issue any well-formed credential whose contexts
//! are known and whose terms are defined; VC API issue options; client-supplied
//! `credentialStatus` on the institution's own lists; contexts given inline.

use axum::http::StatusCode;
use certus_schemas::portal::Role;
use certus_server::auth::Scope;
use certus_server::config::Profile;
use certus_server::store::entities::audit_outbox;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use crate::helpers::{check, kyc_credential, server_config, token_of, Caller, Db, TestApp};
use crate::on_both_databases;

on_both_databases!(
    open_issuance_is_an_institutions_choice_and_issues_any_well_formed_credential,
    the_open_profile_turns_open_issuance_on_by_default,
    vc_api_issue_options_are_applied_or_refused_clearly,
    a_client_may_name_a_free_entry_of_its_own_lists_and_nothing_else,
);

const EXAMPLES_V2: &str = "https://www.w3.org/ns/credentials/examples/v2";

/// The VC Data Model's example degree: a type no institution registered.
fn example_degree() -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", EXAMPLES_V2],
        "type": ["VerifiableCredential", "ExampleDegreeCredential"],
        "credentialSubject": {
            "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
            "degree": {"type": "ExampleBachelorDegree", "name": "Bachelor of Science and Arts"}
        }
    })
}

async fn admin(app: &TestApp) -> Caller {
    app.user("default", "admin@open.test", Role::Admin).await;
    app.sign_in("admin@open.test").await
}

async fn settings(app: &TestApp, caller: &Caller, open: Value) -> Value {
    let (status, body) = app
        .call(
            caller,
            "PUT",
            "/settings",
            Some(json!({"openIssuance": open})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn open_issuance_is_an_institutions_choice_and_issues_any_well_formed_credential(db: Db) {
    let app = TestApp::spawn(db).await;
    let reader = app.key("default", &[Scope::Read]).await;
    let (status, current) = app.call(&reader, "GET", "/settings", None).await;
    assert_eq!(status, StatusCode::OK, "{current}");
    assert_eq!(
        current,
        json!({"openIssuance": false, "openIssuanceSource": "profile", "requireDpop": false, "requireKeyAttestation": false, "requireWalletAttestation": false, "profile": "standard"})
    );

    // Off: a credential of no registered type is refused, and says why.
    let (status, body) = app.try_issue(example_degree(), json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "UNKNOWN_CREDENTIAL_TYPE");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("open issuance is off"),
        "{body}"
    );

    // Only an admin changes it; an API key cannot, whatever its scopes.
    let issuer_key = app.key("default", &[Scope::Issue, Scope::Types]).await;
    let (status, body) = app
        .call(
            &issuer_key,
            "PUT",
            "/settings",
            Some(json!({"openIssuance": true})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let admin = admin(&app).await;
    let (status, body) = app
        .call(
            &admin,
            "PUT",
            "/settings",
            Some(json!({"openIssuance": "yes"})),
        )
        .await;
    assert!(status.is_client_error(), "{status} {body}");
    let on = settings(&app, &admin, json!(true)).await;
    assert_eq!(
        (
            on["openIssuance"].as_bool(),
            on["openIssuanceSource"].as_str()
        ),
        (Some(true), Some("institution"))
    );
    let audited = audit_outbox::Entity::find()
        .filter(audit_outbox::Column::Action.eq("settings.update"))
        .all(&app.db)
        .await
        .expect("audit");
    assert_eq!(audited.len(), 1);
    assert_eq!(
        audited[0].subject,
        "openIssuance=true requireDpop=false requireKeyAttestation=false requireWalletAttestation=false \
         walletProviders=0"
    );

    // On: issued in each format that needs no registered type, verified, and said to be
    // unchecked by any schema.
    let options = [
        json!({"format": "ldp_vc"}),
        json!({"format": "ldp_vc", "cryptosuite": "eddsa-jcs-2022"}),
        json!({"format": "vc+jwt"}),
    ];
    for options in options {
        let (status, body) = app.try_issue(example_degree(), options.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{options}: {body}");
        assert_eq!(body["schemaChecked"], false, "{body}");
        assert!(body.get("credentialSchema").is_none(), "{body}");
        let vc = body["verifiableCredential"].clone();
        let (status, result) = app.verify(&vc).await;
        assert_eq!(status, StatusCode::OK, "{options}: {result}");
        assert_eq!(check(&result, "status").0, "passed", "{result}");
        let tampered = match vc.get("proof") {
            Some(_) => {
                let mut t = vc.clone();
                t["credentialSubject"]["degree"]["name"] = json!("Doctor of Arts");
                t
            }
            None => crate::helpers::reenvelop(&vc, &tamper_jwt(&token_of(&vc))),
        };
        assert_eq!(
            app.verify(&tampered).await.0,
            StatusCode::BAD_REQUEST,
            "{options}"
        );
    }
    // The smallest credential there is: only VerifiableCredential, several subjects.
    let minimal = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "credentialSubject": [{"id": "did:example:a"}, {"id": "did:example:b"}]
    });
    let (status, body) = app.try_issue(minimal, json!({"format": "ldp_vc"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // A context given inline defines the terms it brings.
    let mut inline = example_degree();
    inline["@context"]
        .as_array_mut()
        .expect("contexts")
        .push(json!({"nickname": "https://example.org/vocab#nickname"}));
    inline["credentialSubject"]["nickname"] = json!("Pat");
    for format in ["ldp_vc", "vc+jwt"] {
        let vc = app.issue(inline.clone(), format).await;
        assert_eq!(app.verify(&vc).await.0, StatusCode::OK, "{format}");
    }

    // A registered type is still checked against its schema, and the answer names it.
    let (status, body) = app.try_issue(kyc_credential(None), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["schemaChecked"], true);
    let (_, kyc) = app.get("/credential-types/KycCredential").await;
    assert_eq!(
        body["credentialSchema"],
        json!({"type": "KycCredential", "version": kyc[0]["version"], "schemaHash": kyc[0]["schemaHash"]}),
        "{kyc}"
    );
    let mut wrong = kyc_credential(None);
    wrong["credentialSubject"]["favouriteColour"] = json!("blue");
    let (_, body) = app.try_issue(wrong, json!({})).await;
    assert_eq!(body["code"], "SCHEMA_VIOLATION", "{body}");

    // Refused: an undefined term in every format (JSON-LD safe mode), SD-JWT VC (its vct
    // names a registered type), a context that is not known.
    // (The examples context defines every term with its @vocab; the VC context does not.)
    let undefined = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:a", "nickname": "Pat"}
    });
    for options in [
        json!({"format": "vc+jwt"}),
        json!({"format": "ldp_vc", "cryptosuite": "eddsa-jcs-2022"}),
        json!({"format": "ldp_vc"}),
    ] {
        let (status, body) = app.try_issue(undefined.clone(), options.clone()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("JSONLD_INVALID")),
            "{options}: {body}"
        );
    }
    let (_, body) = app
        .try_issue(example_degree(), json!({"format": "dc+sd-jwt"}))
        .await;
    assert_eq!(body["code"], "UNKNOWN_CREDENTIAL_TYPE", "{body}");
    let mut unknown_context = example_degree();
    unknown_context["@context"][1] = json!("https://example.org/unknown/v1");
    let (_, body) = app.try_issue(unknown_context, json!({})).await;
    assert_eq!(body["code"], "UNKNOWN_CONTEXT", "{body}");
    for subject in [json!([]), json!("did:example:a"), json!([{"id": "x"}, 4])] {
        let mut c = example_degree();
        c["credentialSubject"] = subject;
        let (_, body) = app.try_issue(c, json!({})).await;
        assert_eq!(body["code"], "MALFORMED_CREDENTIAL", "{body}");
    }

    // The personal data of open credentials is kept for the institution's period of
    // the open type (Certus's default until it sets one).
    let privacy = app.key("default", &[Scope::Read, Scope::Privacy]).await;
    let (_, report) = app.call(&privacy, "GET", "/retention", None).await;
    let open_rule = report["rules"]
        .as_array()
        .and_then(|rules| {
            rules
                .iter()
                .find(|r| r["credentialType"] == "VerifiableCredential")
        })
        .unwrap_or_else(|| panic!("no rule for open credentials in {report}"));
    assert_eq!(
        (open_rule["period"].as_str(), open_rule["source"].as_str()),
        (Some("P1Y"), Some("default"))
    );
    assert!(open_rule["held"].as_u64() >= Some(1), "{open_rule}");
    // ...and the records of processing (Art. 30) name open issuance, all claims personal.
    let (_, ropa) = app.get_authorised("/records-of-processing").await;
    let open_activity = ropa["activities"]
        .as_array()
        .and_then(|a| {
            a.iter().find(|a| {
                a["name"] == "Issuing credentials of no registered type (VerifiableCredential)"
            })
        })
        .unwrap_or_else(|| panic!("no open issuance activity in {ropa}"));
    assert!(
        open_activity["retention"]
            .as_str()
            .unwrap_or_default()
            .starts_with("P1Y"),
        "{open_activity}"
    );

    // Back to the profile's default: off again.
    let back = settings(&app, &admin, Value::Null).await;
    assert_eq!(
        (
            back["openIssuance"].as_bool(),
            back["openIssuanceSource"].as_str()
        ),
        (Some(false), Some("profile"))
    );
    let (_, body) = app.try_issue(example_degree(), json!({})).await;
    assert_eq!(body["code"], "UNKNOWN_CREDENTIAL_TYPE", "{body}");
}

/// A JWT with one letter of its payload changed.
fn tamper_jwt(token: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let payload = &mut parts[1];
    let last = payload.pop().expect("a payload");
    payload.push(if last == 'A' { 'B' } else { 'A' });
    parts.join(".")
}

async fn the_open_profile_turns_open_issuance_on_by_default(db: Db) {
    let server = certus_server::config::ServerConfig {
        profile: Profile::Open,
        ..server_config()
    };
    let app = TestApp::spawn_with(db, server).await;
    let reader = app.key("default", &[Scope::Read]).await;
    let (_, current) = app.call(&reader, "GET", "/settings", None).await;
    assert_eq!(
        current,
        json!({"openIssuance": true, "openIssuanceSource": "profile", "requireDpop": false, "requireKeyAttestation": false, "requireWalletAttestation": false, "profile": "open"})
    );
    let (status, body) = app.try_issue(example_degree(), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // An institution may still keep to its registered types.
    let admin = admin(&app).await;
    let off = settings(&app, &admin, json!(false)).await;
    assert_eq!(off["openIssuanceSource"], "institution");
    let (_, body) = app.try_issue(example_degree(), json!({})).await;
    assert_eq!(body["code"], "UNKNOWN_CREDENTIAL_TYPE", "{body}");
}

async fn vc_api_issue_options_are_applied_or_refused_clearly(db: Db) {
    let app = TestApp::spawn(db).await;
    // credentialId names the credential; it may repeat the credential's own id.
    let id = "urn:uuid:5a8f6d2e-2a4b-4c8e-9f1d-0b9e1c2d3e4f";
    let (status, body) = app
        .try_issue(kyc_credential(None), json!({"credentialId": id}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["verifiableCredential"]["id"], id);
    let mut own = kyc_credential(None);
    own["id"] = json!("urn:uuid:11111111-2222-4333-8444-555555555555");
    let (status, body) = app
        .try_issue(
            own,
            json!({"credentialId": "urn:uuid:11111111-2222-4333-8444-666666666666"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str(), body["path"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("INVALID_OPTION"),
            Some("/options/credentialId")
        )
    );

    // mandatoryPointers: what an SD-JWT VC always discloses; the rest is disclosable.
    let (status, body) = app
        .try_issue(
            kyc_credential(None),
            json!({"format": "dc+sd-jwt", "mandatoryPointers": ["/issuer", "/credentialSubject/assuranceLevel"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let sd_jwt = token_of(&body["verifiableCredential"]);
    let issuer_jwt =
        certus_credential::jose::decode(sd_jwt.split('~').next().expect("jwt")).expect("a JWT");
    assert_eq!(issuer_jwt.payload["assuranceLevel"], "substantial");
    assert!(issuer_jwt.payload.get("givenName").is_none());
    let disclosures = sd_jwt.split('~').skip(1).filter(|d| !d.is_empty()).count();
    assert_eq!(disclosures, 7, "every other subject claim is disclosable");

    // Refused, each naming the option: pointers where nothing is selectively disclosed,
    // with selectivelyDisclosable, at nothing; an option the VC API does not define.
    for (options, path) in [
        (
            json!({"format": "ldp_vc", "mandatoryPointers": ["/issuer"]}),
            "/options/mandatoryPointers",
        ),
        (
            json!({"format": "dc+sd-jwt", "mandatoryPointers": ["/issuer"], "selectivelyDisclosable": ["givenName"]}),
            "/options/mandatoryPointers",
        ),
        (
            json!({"format": "dc+sd-jwt", "mandatoryPointers": ["/credentialSubject/nickname"]}),
            "/options/mandatoryPointers",
        ),
    ] {
        let (status, body) = app.try_issue(kyc_credential(None), options.clone()).await;
        assert_eq!(
            (status, body["code"].as_str(), body["path"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("INVALID_OPTION"),
                Some(path)
            ),
            "{options}: {body}"
        );
    }
    let (status, body) = app
        .try_issue(
            kyc_credential(None),
            json!({"proofType": "Ed25519Signature2020"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str(), body["path"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("INVALID_REQUEST"),
            Some("/options/proofType")
        ),
        "an unknown option is named: {body}"
    );
}

/// The `credentialStatus` entries of a Data Integrity credential.
fn entries(vc: &Value) -> Vec<Value> {
    vc["credentialStatus"].as_array().cloned().expect("entries")
}

async fn a_client_may_name_a_free_entry_of_its_own_lists_and_nothing_else(db: Db) {
    let app = TestApp::spawn(db).await;
    let first = app.issue(kyc_credential(None), "ldp_vc").await;
    let [revocation, suspension] = <[Value; 2]>::try_from(entries(&first)).expect("two entries");
    let taken: usize = revocation["statusListIndex"]
        .as_str()
        .and_then(|i| i.parse().ok())
        .expect("an index");
    let free = (taken + 1) % 131_072;
    let list = revocation["statusListCredential"].as_str().expect("a list");
    let named = |purpose: &str, url: &str, index: usize| {
        json!({"type": "BitstringStatusListEntry", "statusPurpose": purpose,
            "statusListCredential": url, "statusListIndex": index.to_string()})
    };
    let with_status = |status: Value| {
        let mut c = kyc_credential(None);
        c["credentialStatus"] = status;
        c
    };

    // A free index of the issuer's own revocation list: honoured, with its suspension
    // partner at the same index.
    let (status, body) = app
        .try_issue(with_status(named("revocation", list, free)), json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let claimed = body["verifiableCredential"].clone();
    let got = entries(&claimed);
    assert_eq!(got[0]["statusListCredential"], list);
    assert_eq!(got[0]["statusListIndex"], free.to_string());
    assert_eq!(
        got[1]["statusListCredential"],
        suspension["statusListCredential"]
    );
    assert_eq!(got[1]["statusListIndex"], free.to_string());
    // ...and it is that entry a revocation sets.
    let (status, body) = app
        .post(
            "/credentials/status",
            &json!({"credentialId": claimed["id"], "credentialStatus":
                {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}}),
            Some(&app.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, result) = app.verify(&claimed).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{result}");
    assert_eq!(check(&result, "status").1, Some("REVOKED"), "{result}");
    assert_eq!(
        app.verify(&first).await.0,
        StatusCode::OK,
        "the neighbour is untouched"
    );

    // An entry naming only its purpose: Certus chooses the index.
    let (status, body) = app
        .try_issue(
            with_status(json!({"type": "BitstringStatusListEntry", "statusPurpose": "suspension"})),
            json!({"format": "vc+jwt"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Refused: a taken index (either entry of it), a list of no issuer here, a list of
    // the other purpose, entries that disagree, other entry types and purposes.
    let cases = [
        (
            named("revocation", list, taken),
            StatusCode::CONFLICT,
            "STATUS_INDEX_TAKEN",
        ),
        (
            named(
                "suspension",
                suspension["statusListCredential"].as_str().expect("url"),
                free,
            ),
            StatusCode::CONFLICT,
            "STATUS_INDEX_TAKEN",
        ),
        (
            named(
                "revocation",
                "https://example.com/credentials/status/3",
                94567,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "FOREIGN_STATUS_LIST",
        ),
        (
            named("revocation", &format!("{list}0"), 1),
            StatusCode::UNPROCESSABLE_ENTITY,
            "FOREIGN_STATUS_LIST",
        ),
        (
            named("suspension", list, free + 1),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNSUPPORTED_STATUS_ENTRY",
        ),
        (
            json!([
                named("revocation", list, free + 1),
                named(
                    "suspension",
                    suspension["statusListCredential"].as_str().expect("url"),
                    free + 2
                )
            ]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNSUPPORTED_STATUS_ENTRY",
        ),
        (
            json!({"type": "StatusList2021Entry", "statusPurpose": "revocation"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNSUPPORTED_STATUS_ENTRY",
        ),
        (
            json!({"type": "BitstringStatusListEntry", "statusPurpose": "message"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNSUPPORTED_STATUS_ENTRY",
        ),
        (
            json!({"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
                "statusListCredential": list, "statusListIndex": 7}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNSUPPORTED_STATUS_ENTRY",
        ),
        (
            json!([]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNSUPPORTED_STATUS_ENTRY",
        ),
        (
            json!({"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "x".repeat(5000): 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNSUPPORTED_STATUS_ENTRY",
        ),
        (
            named("revocation", &format!("{list}{}", "0".repeat(5000)), 1),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNSUPPORTED_STATUS_ENTRY",
        ),
    ];
    for (status_entries, expected, code) in cases {
        let (status, body) = app
            .try_issue(with_status(status_entries.clone()), json!({}))
            .await;
        assert_eq!(
            (status, body["code"].as_str(), body["path"].as_str()),
            (expected, Some(code), Some("/credential/credentialStatus")),
            "{status_entries}: {body}"
        );
        assert!(
            body["message"].as_str().unwrap_or_default().len() < 600,
            "an error does not echo what it was sent at length: {body}"
        );
    }
}
