//! Verifying credentials through `POST /credentials/verify`: every tampering is caught,
//! "could not check" is kept apart from "invalid".

use axum::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use ssi::jwk::JWK;

use crate::helpers::{check, kyc_credential, reenvelop, token_of, Db, TestApp};
use crate::on_both_databases;
use certus_credential::jose;

on_both_databases!(
    tampering_with_a_data_integrity_credential_is_detected,
    tampering_with_a_vc_jwt_is_detected,
    an_expired_or_future_credential_fails_only_its_validity,
    an_unresolvable_issuer_is_indeterminate_not_invalid,
    alg_none_and_unsupported_algorithms_are_refused,
    unsupported_cryptosuites_and_unknown_contexts_are_refused,
);

/// What is changed, how, and the check and code that must catch it.
type Tampering = (
    &'static str,
    Box<dyn Fn(&mut Value)>,
    &'static str,
    &'static str,
);

async fn tampering_with_a_data_integrity_credential_is_detected(db: Db) {
    let app = TestApp::spawn(db).await;
    let vc = app.issue(kyc_credential(None), "ldp_vc").await;
    let tamperings: Vec<Tampering> = vec![
        (
            "a claim",
            Box::new(|v| v["credentialSubject"]["familyName"] = json!("Bianchi")),
            "signature",
            "SIGNATURE_INVALID",
        ),
        (
            "the validity",
            Box::new(|v| v["validFrom"] = json!("2020-01-01T00:00:00Z")),
            "signature",
            "SIGNATURE_INVALID",
        ),
        (
            "the proof value",
            Box::new(|v| {
                let pv = v["proof"]["proofValue"].as_str().expect("pv").to_owned();
                let flipped = if pv.ends_with('A') {
                    format!("{}B", &pv[..pv.len() - 1])
                } else {
                    format!("{}A", &pv[..pv.len() - 1])
                };
                v["proof"]["proofValue"] = json!(flipped);
            }),
            "signature",
            "SIGNATURE_INVALID",
        ),
        (
            "the proof's created time",
            Box::new(|v| v["proof"]["created"] = json!("2020-01-01T00:00:00Z")),
            "signature",
            "SIGNATURE_INVALID",
        ),
        (
            "an added claim",
            Box::new(|v| v["credentialSubject"]["nationality"] = json!("FR")),
            "signature",
            "SIGNATURE_INVALID",
        ),
        (
            "an undefined term",
            Box::new(|v| v["credentialSubject"]["undefinedTerm"] = json!("x")),
            "signature",
            "JSONLD_INVALID",
        ),
        (
            "the issuer",
            Box::new(|v| {
                v["issuer"] = json!("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
            }),
            "issuer",
            "ISSUER_MISMATCH",
        ),
        (
            "the proof purpose",
            Box::new(|v| v["proof"]["proofPurpose"] = json!("authentication")),
            "issuer",
            "PROOF_PURPOSE",
        ),
    ];
    for (what, tamper, failing_check, code) in tamperings {
        let mut forged = vc.clone();
        tamper(&mut forged);
        let (status, result) = app.verify(&forged).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "tampering with {what}: {result}"
        );
        assert_eq!(result["verified"], false);
        assert_eq!(
            check(&result, failing_check),
            ("failed", Some(code)),
            "tampering with {what}: {result}"
        );
    }
    assert_eq!(
        app.verify(&vc).await.0,
        StatusCode::OK,
        "the original still verifies"
    );
}

fn b64_json(part: &str) -> Map<String, Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("b64")).expect("json")
}

fn b64(value: &Map<String, Value>) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("json"))
}

async fn tampering_with_a_vc_jwt_is_detected(db: Db) {
    let app = TestApp::spawn(db).await;
    let vc = app.issue(kyc_credential(None), "vc+jwt").await;
    let token = token_of(&vc);
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload = b64_json(parts[1]);
    payload["credentialSubject"]["familyName"] = json!("Bianchi");
    let forged_payload = format!("{}.{}.{}", parts[0], b64(&payload), parts[2]);
    let (status, result) = app.verify(&reenvelop(&vc, &forged_payload)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        check(&result, "signature"),
        ("failed", Some("SIGNATURE_INVALID"))
    );

    let mut header = b64_json(parts[0]);
    header["kid"] = json!("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK");
    let forged_kid = format!("{}.{}.{}", b64(&header), parts[1], parts[2]);
    let (status, result) = app.verify(&reenvelop(&vc, &forged_kid)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        check(&result, "issuer"),
        ("failed", Some("ISSUER_MISMATCH"))
    );

    let truncated = format!("{}.{}.", parts[0], parts[1]);
    let (status, _) = app.verify(&reenvelop(&vc, &truncated)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A compact JWT may also be posted as a bare string.
    assert_eq!(app.verify(&json!(token)).await.0, StatusCode::OK);
}

async fn an_expired_or_future_credential_fails_only_its_validity(db: Db) {
    let app = TestApp::spawn(db).await;
    for (from, until, code) in [
        (
            "2020-01-01T00:00:00Z",
            Some("2021-01-01T00:00:00Z"),
            "EXPIRED",
        ),
        ("2999-01-01T00:00:00Z", None, "NOT_YET_VALID"),
    ] {
        let mut credential = kyc_credential(None);
        credential["validFrom"] = json!(from);
        if let Some(until) = until {
            credential["validUntil"] = json!(until);
        }
        for format in ["ldp_vc", "vc+jwt", "dc+sd-jwt"] {
            let vc = app.issue(credential.clone(), format).await;
            let (status, result) = app.verify(&vc).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{format}: {result}");
            assert_eq!(
                check(&result, "validity"),
                ("failed", Some(code)),
                "{format}"
            );
            assert_eq!(check(&result, "signature").0, "passed", "{format}");
        }
    }
}

async fn an_unresolvable_issuer_is_indeterminate_not_invalid(db: Db) {
    let app = TestApp::spawn(db).await;
    let key = JWK::generate_ed25519().expect("key");
    let mut credential = kyc_credential(None);
    credential["issuer"] = json!("did:web:issuer.example");
    credential["validFrom"] = json!("2026-01-01T00:00:00Z");
    let header: Map<String, Value> =
        json!({"typ": "vc+jwt", "kid": "did:web:issuer.example#key-1"})
            .as_object()
            .cloned()
            .expect("object");
    let token = jose::sign(header, &credential, &key).expect("signs");
    let (status, result) = app.verify(&json!(token)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{result}");
    assert_eq!(result["verdict"], "indeterminate");
    assert_eq!(
        check(&result, "issuer"),
        ("error", Some("DID_UNRESOLVABLE"))
    );
    assert_eq!(check(&result, "signature").0, "skipped");
}

async fn alg_none_and_unsupported_algorithms_are_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let vc = app.issue(kyc_credential(None), "vc+jwt").await;
    let token = token_of(&vc);
    let parts: Vec<&str> = token.split('.').collect();
    for (alg, code) in [
        ("none", "ALG_NONE"),
        ("HS256", "UNSUPPORTED_ALGORITHM"),
        ("ES256", "ALGORITHM_MISMATCH"),
    ] {
        let mut header = b64_json(parts[0]);
        header["alg"] = json!(alg);
        let signature = if alg == "none" { "" } else { parts[2] };
        let forged = format!("{}.{}.{signature}", b64(&header), parts[1]);
        let (status, result) = app.verify(&reenvelop(&vc, &forged)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{alg}: {result}");
        assert!(
            result["errors"]
                .as_array()
                .expect("errors")
                .iter()
                .any(|e| e["code"] == code),
            "{alg}: {result}"
        );
    }
}

async fn unsupported_cryptosuites_and_unknown_contexts_are_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let vc = app.issue(kyc_credential(None), "ldp_vc").await;
    let mut bbs = vc.clone();
    bbs["proof"]["cryptosuite"] = json!("bbs-2023");
    let (status, result) = app.verify(&bbs).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        check(&result, "signature"),
        ("failed", Some("UNSUPPORTED_CRYPTOSUITE"))
    );

    let mut legacy = vc.clone();
    legacy["proof"]["type"] = json!("Ed25519Signature2018");
    assert_eq!(
        check(&app.verify(&legacy).await.1, "signature").1,
        Some("UNSUPPORTED_CRYPTOSUITE")
    );

    let mut remote = vc.clone();
    remote["@context"]
        .as_array_mut()
        .expect("ctx")
        .push(json!("https://attacker.example/context.jsonld"));
    let (status, result) = app.verify(&remote).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        check(&result, "contexts"),
        ("failed", Some("UNKNOWN_CONTEXT"))
    );

    // A proof set is bounded and has no repeats: 2,000 copies of one proof once verified,
    // anonymously, at over a second a request.
    for copies in [2, 100] {
        let mut repeated = vc.clone();
        repeated["proof"] = json!(vec![vc["proof"].clone(); copies]);
        let (status, result) = app.verify(&repeated).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{copies}: {result}");
        assert_eq!(
            check(&result, "signature"),
            ("failed", Some("PROOF_SET_INVALID")),
            "{copies}"
        );
    }

    // A context given inline is JSON-LD 1.1's; it may not load what is not known...
    let mut inline = vc.clone();
    inline["@context"]
        .as_array_mut()
        .expect("ctx")
        .push(json!({"@import": "https://attacker.example/context.jsonld"}));
    let (status, result) = app.verify(&inline).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        check(&result, "contexts"),
        ("failed", Some("UNKNOWN_CONTEXT"))
    );
    // ...and what it adds is signed like everything else: a claim its `@vocab` would
    // define changes the signed statements. (The `@vocab` alone changes none of them, so
    // the proof still holds, as in every RDFC implementation.)
    let mut vocab = vc.clone();
    vocab["@context"]
        .as_array_mut()
        .expect("ctx")
        .push(json!({"@vocab": "https://attacker.example/#"}));
    assert_eq!(app.verify(&vocab).await.0, StatusCode::OK);
    vocab["credentialSubject"]["trustLevel"] = json!("maximum");
    let (status, result) = app.verify(&vocab).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{result}");
    assert_eq!(check(&result, "signature").1, Some("SIGNATURE_INVALID"));

    let mut unsecured = vc.clone();
    unsecured.as_object_mut().expect("object").remove("proof");
    assert_eq!(
        check(&app.verify(&unsecured).await.1, "format"),
        ("failed", Some("PROOF_MISSING"))
    );
}
