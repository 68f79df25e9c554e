//! SD-JWT VC: personal claims concealed by default, selective disclosure by the holder, and
//! key binding to the verifier's nonce and audience.

use axum::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use serde_json::{json, Value};
use ssi::jwk::JWK;

use crate::helpers::{check, kyc_credential, token_of, Db, TestApp};
use crate::on_both_databases;
use certus_credential::sd_jwt::key_binding_jwt;

on_both_databases!(
    personal_claims_are_concealed_by_default_and_disclosable_on_request,
    a_holder_can_withhold_claims_and_the_rest_still_verifies,
    key_binding_must_match_the_holder_key_nonce_and_audience,
    tampered_disclosures_are_rejected,
);

fn payload_of(sd_jwt: &str) -> Value {
    let jwt = sd_jwt.split('~').next().expect("jwt");
    serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(1).expect("payload"))
            .expect("b64"),
    )
    .expect("json")
}

fn disclosure_names(sd_jwt: &str) -> Vec<String> {
    sd_jwt
        .split('~')
        .skip(1)
        .filter(|d| !d.is_empty() && !d.contains('.'))
        .map(|d| {
            let decoded: Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(d).expect("b64")).expect("json");
            decoded[1].as_str().expect("name").to_owned()
        })
        .collect()
}

async fn personal_claims_are_concealed_by_default_and_disclosable_on_request(db: Db) {
    let app = TestApp::spawn(db).await;
    let vc = app.issue(kyc_credential(None), "dc+sd-jwt").await;
    let token = token_of(&vc);
    let payload = payload_of(&token);
    assert_eq!(
        payload["vct"],
        "https://w3id.org/certus/types/KycCredential/v1"
    );
    assert!(payload["iss"]
        .as_str()
        .expect("iss")
        .starts_with("did:key:"));
    let clear = payload.to_string();
    for personal in ["Maria", "Rossi", "1988-04-12", "YA1234567"] {
        assert!(!clear.contains(personal), "{personal} in clear: {clear}");
    }
    assert_eq!(
        payload["assuranceLevel"], "substantial",
        "non-personal claims stay in clear"
    );
    let mut names = disclosure_names(&token);
    names.sort();
    assert_eq!(
        names,
        [
            "birthDate",
            "documentNumber",
            "familyName",
            "givenName",
            "nationality"
        ]
    );

    let (status, body) = app
        .try_issue(
            kyc_credential(None),
            json!({"format": "dc+sd-jwt", "selectivelyDisclosable": ["birthDate"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        disclosure_names(&token_of(&body["verifiableCredential"])),
        ["birthDate"]
    );

    let (status, err) = app
        .try_issue(
            kyc_credential(None),
            json!({"format": "dc+sd-jwt", "selectivelyDisclosable": ["iss"]}),
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("UNKNOWN_DISCLOSABLE_CLAIM")
        )
    );
}

async fn a_holder_can_withhold_claims_and_the_rest_still_verifies(db: Db) {
    let app = TestApp::spawn(db).await;
    let token = token_of(&app.issue(kyc_credential(None), "dc+sd-jwt").await);
    let parts: Vec<&str> = token.split('~').collect();
    let kept: Vec<&str> = parts[1..]
        .iter()
        .filter(|d| !d.is_empty() && disclosure_names(&format!("x~{d}~")) == ["givenName"])
        .copied()
        .collect();
    let presented = format!("{}~{}~", parts[0], kept.join("~"));
    assert_eq!(disclosure_names(&presented), ["givenName"]);
    let (status, result) = app.verify(&json!(presented)).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(
        check(&result, "schema").0,
        "passed",
        "withheld required claims are not missing"
    );
}

async fn key_binding_must_match_the_holder_key_nonce_and_audience(db: Db) {
    let app = TestApp::spawn(db).await;
    let holder = JWK::generate_ed25519().expect("key");
    let (holder_did, _) = certus_credential::did::did_key_for(&holder).expect("did");
    let token = token_of(
        &app.issue(kyc_credential(Some(&holder_did)), "dc+sd-jwt")
            .await,
    );
    assert!(
        payload_of(&token)["cnf"]["jwk"].is_object(),
        "the subject DID's key becomes cnf"
    );
    assert!(
        payload_of(&token).get("sub").is_none(),
        "the holder DID is not repeated"
    );
    let now = Utc::now().timestamp();
    let present = |key: &JWK, nonce: &str, aud: &str, iat: i64| {
        let kb = key_binding_jwt(&token, key, nonce, aud, iat, &[]).expect("kb");
        format!("{token}{kb}")
    };
    let verify = |presentation: String, challenge: Option<&str>| {
        let options = match challenge {
            Some(c) => json!({"challenge": c, "domain": "https://bank-b.example"}),
            None => json!({}),
        };
        let app = &app;
        async move {
            app.post(
                "/credentials/verify",
                &json!({"verifiableCredential": presentation, "options": options}),
                None,
            )
            .await
        }
    };
    let good = present(&holder, "n-123", "https://bank-b.example", now);
    let (status, result) = verify(good.clone(), Some("n-123")).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(check(&result, "holderBinding").0, "passed");

    let cases = [
        (
            verify(good.clone(), Some("other-nonce")).await,
            "CHALLENGE_MISMATCH",
        ),
        (
            verify(
                present(&holder, "n-123", "https://evil.example", now),
                Some("n-123"),
            )
            .await,
            "DOMAIN_MISMATCH",
        ),
        (
            verify(
                present(
                    &JWK::generate_ed25519().expect("key"),
                    "n-123",
                    "https://bank-b.example",
                    now,
                ),
                Some("n-123"),
            )
            .await,
            "KEY_BINDING_SIGNATURE_INVALID",
        ),
        (
            verify(
                present(&holder, "n-123", "https://bank-b.example", now - 3600),
                Some("n-123"),
            )
            .await,
            "KEY_BINDING_IAT",
        ),
        (
            verify(token.clone(), Some("n-123")).await,
            "KEY_BINDING_MISSING",
        ),
    ];
    for ((status, result), code) in cases {
        assert_eq!(status, StatusCode::BAD_REQUEST, "{code}: {result}");
        assert_eq!(
            check(&result, "holderBinding"),
            ("failed", Some(code)),
            "{result}"
        );
    }
    // A key-binding JWT made for one disclosure set does not cover another.
    let without_first_disclosure = {
        let mut parts: Vec<&str> = good.split('~').collect();
        parts.remove(1);
        parts.join("~")
    };
    let (_, result) = verify(without_first_disclosure, Some("n-123")).await;
    assert_eq!(
        check(&result, "holderBinding"),
        ("failed", Some("KEY_BINDING_SD_HASH"))
    );
}

async fn tampered_disclosures_are_rejected(db: Db) {
    let app = TestApp::spawn(db).await;
    let token = token_of(&app.issue(kyc_credential(None), "dc+sd-jwt").await);
    let parts: Vec<&str> = token.split('~').collect();
    let forged_disclosure =
        URL_SAFE_NO_PAD.encode(json!(["salt", "familyName", "Bianchi"]).to_string());
    let forged = format!("{}~{forged_disclosure}~", parts[0]);
    let (status, result) = app.verify(&json!(forged)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{result}");
    assert_eq!(
        check(&result, "disclosures"),
        ("failed", Some("DISCLOSURE_INVALID"))
    );
    assert!(
        !result.to_string().contains("Bianchi"),
        "disclosed values are never echoed"
    );

    // A disclosure presented twice (RFC 9901 §7.1: reject), once verified `valid`.
    let repeated = format!(
        "{}~{}~{}~",
        parts[0],
        parts[1],
        parts[1..parts.len() - 1].join("~")
    );
    let (status, result) = app.verify(&json!(repeated)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{result}");
    assert_eq!(
        check(&result, "disclosures"),
        ("failed", Some("DISCLOSURE_INVALID"))
    );

    let mut payload: Value = payload_of(&token);
    payload["assuranceLevel"] = json!("high");
    let jwt_parts: Vec<&str> = parts[0].split('.').collect();
    let forged_jwt = format!(
        "{}.{}.{}",
        jwt_parts[0],
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        jwt_parts[2]
    );
    let forged = token.replacen(parts[0], &forged_jwt, 1);
    let (status, result) = app.verify(&json!(forged)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        check(&result, "signature"),
        ("failed", Some("SIGNATURE_INVALID"))
    );
}
