//! Who may do what: every tenant-scoped endpoint, called by each role of the owning
//! tenant, by API keys, by another tenant's admin and by nobody. Another tenant's request
//! never reads or changes the owner's data: it gets 404, or an answer without it.

use axum::http::StatusCode;
use certus_schemas::portal::Role;
use certus_server::auth::Scope;
use serde_json::{json, Value};

use crate::helpers::{kyc_credential, Caller, Db, TestApp};
use crate::on_both_databases;

on_both_databases!(every_endpoint_answers_each_role_and_tenant_as_it_should);

/// The expected answer of one caller.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// This status.
    Is(StatusCode),
    /// 200, and the body holds nothing of the owner's (no id of theirs appears in it).
    Foreign,
}

use Expect::{Foreign, Is};
const OK: Expect = Is(StatusCode::OK);
const CREATED: Expect = Is(StatusCode::CREATED);
const NO_CONTENT: Expect = Is(StatusCode::NO_CONTENT);
const DENIED: Expect = Is(StatusCode::FORBIDDEN);
const ANONYMOUS: Expect = Is(StatusCode::UNAUTHORIZED);
const NOT_FOUND: Expect = Is(StatusCode::NOT_FOUND);

async fn every_endpoint_answers_each_role_and_tenant_as_it_should(db: Db) {
    let app = TestApp::spawn(db).await;
    app.tenant("bank-b").await;
    app.user("default", "admin@a.test", Role::Admin).await;
    let certifier_id = app
        .user("default", "certifier@a.test", Role::Certifier)
        .await;
    app.user("default", "auditor@a.test", Role::Auditor).await;
    app.user("bank-b", "admin@b.test", Role::Admin).await;
    let callers: Vec<(&str, Caller)> = vec![
        ("admin", app.sign_in("admin@a.test").await),
        ("certifier", app.sign_in("certifier@a.test").await),
        ("auditor", app.sign_in("auditor@a.test").await),
        (
            "issuing key",
            app.key("default", &[Scope::Issue, Scope::Verify, Scope::Status])
                .await,
        ),
        (
            "verify-only key",
            app.key("default", &[Scope::Verify]).await,
        ),
        ("other tenant's admin", app.sign_in("admin@b.test").await),
        ("anonymous", Caller::Anonymous),
    ];
    let issued = app.issue(kyc_credential(None), "ldp_vc").await;
    let id = issued["id"].as_str().expect("id").to_owned();
    let enc = id.replace(':', "%3A");
    app.seal().await;
    let (key, _) = certus_server::auth::create_api_key(&app.db, "default", &[Scope::Read], None)
        .await
        .expect("key");
    let key_id = key.id;
    let suspend = json!({
        "credentialId": id,
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"},
    });
    let lift = json!({"query": {"ids": [id]}, "statusPurpose": "suspension", "status": false});
    let owner = &callers[3].1;
    let (status, did) = app.call(owner, "POST", "/dids", Some(json!({}))).await;
    assert_eq!(status, StatusCode::CREATED, "{did}");
    let did = did["did"].as_str().expect("did").to_owned();
    let policy = json!({"requiredChecks": ["signature"]});
    let (status, body) = app
        .call(owner, "PUT", "/policies/a-policy", Some(policy.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, issuers) = app.call(owner, "GET", "/issuers", None).await;
    let issuer = issuers[0]["did"].as_str().expect("issuer").to_owned();

    // One row per endpoint: the request, then the answer each caller above gets, in order:
    // admin, certifier, auditor, issuing key, verify-only key, other tenant's admin, anonymous.
    #[rustfmt::skip]
    let matrix: Vec<(&str, String, Option<Value>, [Expect; 7])> = vec![
        ("GET", "/credentials".into(), None, [OK, OK, OK, OK, DENIED, Foreign, ANONYMOUS]),
        ("POST", "/credentials/search".into(), Some(json!({})), [OK, OK, OK, OK, DENIED, Foreign, ANONYMOUS]),
        ("GET", format!("/credentials/{enc}"), None, [OK, OK, OK, OK, DENIED, NOT_FOUND, ANONYMOUS]),
        ("GET", format!("/credentials/{enc}/status"), None, [OK, OK, OK, OK, DENIED, NOT_FOUND, ANONYMOUS]),
        ("GET", format!("/credentials/{enc}/receipt"), None, [OK, OK, OK, OK, DENIED, NOT_FOUND, ANONYMOUS]),
        ("GET", "/audit".into(), None, [OK, OK, OK, OK, DENIED, Foreign, ANONYMOUS]),
        ("GET", "/dashboard".into(), None, [OK, OK, OK, OK, DENIED, Foreign, ANONYMOUS]),
        ("POST", "/credentials/status".into(), Some(suspend), [OK, OK, DENIED, OK, DENIED, NOT_FOUND, ANONYMOUS]),
        ("POST", "/credentials/status/bulk".into(), Some(lift), [OK, OK, DENIED, OK, DENIED, Foreign, ANONYMOUS]),
        // The other tenant, created without issuer keys, is told it has none.
        ("POST", "/credentials/issue".into(), Some(json!({"credential": kyc_credential(None)})),
            [CREATED, CREATED, DENIED, CREATED, DENIED, Is(StatusCode::CONFLICT), ANONYMOUS]),
        // The other tenant creates a DID of its own.
        ("POST", "/dids".into(), Some(json!({})), [CREATED, CREATED, DENIED, CREATED, DENIED, CREATED, ANONYMOUS]),
        ("GET", "/users".into(), None, [OK, DENIED, DENIED, DENIED, DENIED, Foreign, ANONYMOUS]),
        ("PATCH", format!("/users/{certifier_id}"), Some(json!({"role": "certifier"})),
            [OK, DENIED, DENIED, DENIED, DENIED, NOT_FOUND, ANONYMOUS]),
        ("GET", "/api-keys".into(), None, [OK, DENIED, DENIED, DENIED, DENIED, Foreign, ANONYMOUS]),
        ("POST", "/api-keys".into(), Some(json!({"scopes": ["verify"]})),
            [CREATED, DENIED, DENIED, DENIED, DENIED, CREATED, ANONYMOUS]),
        ("DELETE", format!("/api-keys/{key_id}"), None, [NO_CONTENT, DENIED, DENIED, DENIED, DENIED, NOT_FOUND, ANONYMOUS]),
        ("POST", "/trust/schemas".into(), Some(json!({"type": "KycCredential"})),
            [DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, ANONYMOUS]),
        ("GET", "/session".into(), None, [OK, OK, OK, NO_CONTENT, NO_CONTENT, OK, NO_CONTENT]),
        ("GET", "/issuers".into(), None, [OK, OK, OK, OK, OK, Foreign, ANONYMOUS]),
        ("POST", format!("/dids/{did}/keys"), Some(json!({"retire": false})),
            [OK, OK, DENIED, OK, DENIED, DENIED, ANONYMOUS]),
        ("PUT", "/policies/a-policy".into(), Some(policy), [OK, OK, OK, OK, OK, DENIED, ANONYMOUS]),
    ];
    let owned = [
        id.as_str(),
        key_id.as_str(),
        certifier_id.as_str(),
        "admin@a.test",
        did.as_str(),
        issuer.as_str(),
    ];
    for (method, path, body, expected) in &matrix {
        // The other tenant's admin goes first, so that no change by the owner's callers
        // could hide a change it made.
        for index in [5, 0, 1, 2, 3, 4, 6] {
            let (who, caller) = &callers[index];
            // A role change (the PATCH row) signs the certifier out: they sign in anew
            // for each request.
            let fresh;
            let caller = if *who == "certifier" {
                fresh = app.sign_in("certifier@a.test").await;
                &fresh
            } else {
                caller
            };
            let (status, answer) = app.call(caller, method, path, body.clone()).await;
            match expected[index] {
                Is(want) => assert_eq!(status, want, "{method} {path} as {who}: {answer}"),
                Foreign => {
                    assert_eq!(status, StatusCode::OK, "{method} {path} as {who}: {answer}");
                    let text = answer.to_string();
                    for secret in owned {
                        assert!(
                            !text.contains(secret),
                            "{method} {path} as {who} shows {secret}: {text}"
                        );
                    }
                    assert!(
                        answer["total"].as_u64().unwrap_or(0) == 0
                            && answer["issued"].as_u64().unwrap_or(0) == 0
                            && answer["matched"].as_u64().unwrap_or(0) == 0,
                        "{method} {path} as {who} counts the owner's records: {text}"
                    );
                }
            }
        }
    }
    // The owner's credential was suspended and reinstated by its own callers only.
    let (_, detail) = app
        .call(&callers[0].1, "GET", &format!("/credentials/{enc}"), None)
        .await;
    assert_eq!(detail["record"]["status"], "active");
    let actions: Vec<&str> = detail["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "credential.issue",
            "credential.suspend",
            "credential.reinstate"
        ]
    );
}
