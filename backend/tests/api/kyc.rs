//! KYC reuse across institutions: bank A (accredited) does KYC and issues; the holder
//! accepts; bank B onboards under a KYC policy and relies; bank C, stricter, refuses; the
//! reliance register shows each party what its role allows and holds no personal data;
//! bank A revokes, and bank B's next check fails and its webhook fires.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use certus_credential::jose;
use certus_schemas::portal::Role;
use certus_server::auth::Scope;
use certus_server::kyc::webhooks;
use certus_wallet::HolderKey;
use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::helpers::{Caller, Db, TestApp};
use crate::on_both_databases;
use crate::openid::{answer_for, held, post_form, request_by, unbound_kyc};

on_both_databases!(
    kyc_done_once_is_reused_under_policies_and_its_revocation_reaches_the_relying_bank,
    without_the_holders_leave_nothing_is_watched_and_suspension_is_told_both_ways,
    kyc_issuance_and_webhooks_refuse_what_they_must,
);

/// Words of the holder's KYC that must never leave the relying bank's own outcome.
const PERSONAL: &[&str] = &["Maria", "Rossi", "1988-04-12", "YA1234567"];

/// A webhook receiver on loopback: every request's content type and body.
#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<(String, String)>>>,
}

impl Receiver {
    /// Serves on 127.0.0.1 answering `status`; the hook's URL.
    async fn start(&self, status: StatusCode) -> String {
        let received = self.received.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let received = received.clone();
                async move {
                    let kind = headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    received.lock().expect("lock").push((kind, body));
                    status
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/hook")
    }

    fn received(&self) -> Vec<(String, String)> {
        self.received.lock().expect("lock").clone()
    }
}

/// A relying bank: a tenant with its own DID (its key signs requests, records and
/// events), a verifier API key and an admin.
struct Bank {
    tenant: String,
    did: String,
    key: String,
    admin: Caller,
}

async fn bank(app: &TestApp, tenant: &str) -> Bank {
    app.tenant(tenant).await;
    let Caller::Key(key) = app
        .key(tenant, &[Scope::Issue, Scope::Verify, Scope::Read])
        .await
    else {
        unreachable!("an API key");
    };
    let (status, did) = app.post("/dids", &json!({}), Some(&key)).await;
    assert_eq!(status, StatusCode::CREATED, "{did}");
    let email = format!("admin@{tenant}.test");
    app.user(tenant, &email, Role::Admin).await;
    Bank {
        tenant: tenant.to_owned(),
        did: did["did"].as_str().expect("did").to_owned(),
        key,
        admin: app.sign_in(&email).await,
    }
}

/// Bank A's KYC of Maria, checked `days_ago`.
fn kyc_checked(days_ago: i64) -> Value {
    let mut credential = unbound_kyc();
    credential["credentialSubject"]["checkDate"] = json!((Utc::now() - Duration::days(days_ago))
        .format("%Y-%m-%d")
        .to_string());
    credential["credentialSubject"]["assuranceLevel"] = json!("substantial");
    credential
}

/// Bank A issues a KYC credential (SD-JWT VC) checked 100 days ago; the holder takes it.
async fn issued_kyc(app: &TestApp) -> (HolderKey, Value, String) {
    let offer = app.offer_of(kyc_checked(100), "dc+sd-jwt", false).await;
    let (key, credential, offer) = app.redeem_offer(offer).await;
    let id = offer["id"].as_str().expect("offer id");
    let (_, info) = app
        .get_authorised(&format!("/credentials/offers/{id}"))
        .await;
    let credential_id = info["credentialId"].as_str().expect("issued").to_owned();
    (key, credential, credential_id)
}

async fn put_policy(app: &TestApp, bank: &Bank, name: &str, policy: Value) {
    let (status, body) = app
        .call(
            &Caller::Key(bank.key.clone()),
            "PUT",
            &format!("/policies/{name}"),
            Some(policy),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// `bank` asks for Maria's KYC under `policy`; the holder answers (allowing status
/// notifications or not); the request's final state.
async fn onboard(
    app: &TestApp,
    bank: &Bank,
    policy: &str,
    holder: &HolderKey,
    credential: &Value,
    allow_notifications: bool,
) -> Value {
    let (created, object) = request_by(
        app,
        &bank.key,
        &bank.tenant,
        json!({
            "credentialType": "KycCredential",
            "claims": ["givenName", "familyName", "birthDate", "assuranceLevel", "checkDate"],
            "purpose": "Open a current account",
            "policyId": policy,
        }),
    )
    .await;
    let client_id = object["client_id"].as_str().expect("client").to_owned();
    let presentation = answer_for(
        holder,
        held("dc+sd-jwt", credential.clone(), holder),
        &object,
        &client_id,
    )
    .await;
    let vp_token = json!({"credential": [presentation]}).to_string();
    let state = object["state"].as_str().expect("state");
    let mut pairs = vec![("vp_token", vp_token.as_str()), ("state", state)];
    if allow_notifications {
        pairs.push(("status_notifications", "allowed"));
    }
    post_form(app, &object, &pairs).await;
    let id = created["id"].as_str().expect("id");
    let (status, info) = app
        .call(
            &Caller::Key(bank.key.clone()),
            "GET",
            &format!("/presentation-requests/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{info}");
    info
}

fn requirement<'a>(info: &'a Value, name: &str) -> &'a Value {
    info["outcome"]["credentials"][0]["verification"]["policy"]["requirements"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["requirement"] == name))
        .unwrap_or_else(|| panic!("no requirement {name}: {info}"))
}

async fn kyc_done_once_is_reused_under_policies_and_its_revocation_reaches_the_relying_bank(
    db: Db,
) {
    let app = TestApp::spawn(db).await;
    let bank_a = app
        .state
        .issuer
        .keys()
        .default_key("default")
        .expect("key")
        .did
        .clone();
    let bank_b = bank(&app, "bank-b").await;
    let bank_c = bank(&app, "bank-c").await;
    let receiver = Receiver::default();
    let hook = receiver.start(StatusCode::ACCEPTED).await;
    let (status, body) = app
        .call(&bank_b.admin, "PUT", "/webhook", Some(json!({"url": hook})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Bank C is not accredited for KYC: it cannot issue it, nor offer it.
    let mut by_c = kyc_checked(1);
    by_c["issuer"] = json!(bank_c.did);
    for path in ["/credentials/issue", "/credentials/offers"] {
        let (status, body) = app
            .post(path, &json!({"credential": by_c}), Some(&bank_c.key))
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("ISSUER_NOT_ACCREDITED")),
            "{path}: {body}"
        );
    }

    // Bank A does the KYC; the holder accepts it into a wallet.
    let (holder, credential, credential_id) = issued_kyc(&app).await;
    app.seal().await;

    // Bank B: accredited KYC issuers, at least substantial, checked within a year.
    put_policy(
        &app,
        &bank_b,
        "bank-b-onboarding",
        json!({
            "requiredChecks": ["status", "accreditation"],
            "requiredClaims": ["givenName", "familyName", "birthDate"],
            "kyc": {"minAssurance": "substantial", "maxCheckAgeDays": 365, "statusNotifications": true},
        }),
    )
    .await;
    let info = onboard(
        &app,
        &bank_b,
        "bank-b-onboarding",
        &holder,
        &credential,
        true,
    )
    .await;
    assert_eq!(info["status"], "accepted", "{info}");
    assert_eq!(requirement(&info, "kyc.minAssurance")["satisfied"], true);
    assert_eq!(requirement(&info, "kyc.maxCheckAgeDays")["satisfied"], true);
    assert_eq!(
        info["outcome"]["consentReceipt"]["statusNotifications"],
        true
    );
    let reliance = info["outcome"]["reliances"][0].clone();
    let record = &reliance["record"];
    assert_eq!(record["relyingParty"], json!(bank_b.did));
    assert_eq!(record["relyingInstitution"], "Tenant bank-b");
    assert_eq!(record["kycIssuer"], json!(bank_a));
    assert_eq!(record["assuranceLevel"], "substantial");
    assert_eq!(
        record["checkDate"],
        kyc_checked(100)["credentialSubject"]["checkDate"]
    );
    assert_eq!(record["policyId"], "bank-b-onboarding");
    assert_eq!(
        record["consentReceiptHash"],
        json!(certus_server::openid::receipts::hash(
            &info["outcome"]["consentReceipt"]
        ))
    );
    assert_eq!(reliance["notifications"], true);

    // The record is signed by bank B and anchored; a tampered record does not verify.
    let jws = reliance["jws"].as_str().expect("jws");
    let decoded = jose::decode(jws).expect("jws");
    assert_eq!(decoded.header_str("typ"), Some("reliance-record+jwt"));
    let b_key = app
        .state
        .issuer
        .keys()
        .default_key("bank-b")
        .expect("bank B's key")
        .public_jwk();
    decoded.verify(&b_key).expect("signed by bank B");
    assert_eq!(&decoded.payload, record);
    let mut tampered = jws.to_owned();
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    assert!(jose::decode(&tampered)
        .expect("jws")
        .verify(&b_key)
        .is_err());
    app.seal().await;
    let commitment = reliance["commitment"].as_str().expect("commitment");
    assert_eq!(
        commitment,
        certus_server::ledger::transaction::reliance_record_hash(jws).to_hex()
    );
    let (status, anchored) = app.get(&format!("/anchors/{commitment}/receipt")).await;
    assert_eq!(status, StatusCode::OK, "{anchored}");

    // Bank C wants a check at most 30 days old: refused, and it says why.
    put_policy(
        &app,
        &bank_c,
        "bank-c-onboarding",
        json!({"requiredChecks": ["status"], "kyc": {"minAssurance": "substantial", "maxCheckAgeDays": 30}}),
    )
    .await;
    let info = onboard(
        &app,
        &bank_c,
        "bank-c-onboarding",
        &holder,
        &credential,
        true,
    )
    .await;
    assert_eq!(info["status"], "rejected", "{info}");
    assert_eq!(info["outcome"]["problem"]["code"], "POLICY_NOT_SATISFIED");
    let age = requirement(&info, "kyc.maxCheckAgeDays");
    assert_eq!(age["satisfied"], false);
    assert!(
        age["message"]
            .as_str()
            .is_some_and(|m| m.contains("100 days ago") && m.contains("at most 30")),
        "{age}"
    );
    assert!(info["outcome"].get("reliances").is_none(), "{info}");

    // Each party sees what its role allows.
    let as_b = Caller::Key(bank_b.key.clone());
    let as_c = Caller::Key(bank_c.key.clone());
    let (_, listed) = app.call(&as_b, "GET", "/kyc/reliances", None).await;
    assert_eq!(listed["records"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["records"][0], reliance);
    let (_, listed) = app.call(&as_c, "GET", "/kyc/reliances", None).await;
    assert_eq!(listed["records"], json!([]));
    let reliance_id = record["id"].as_str().expect("id");
    let path = format!("/kyc/reliances/{reliance_id}");
    let (status, _) = app.call(&as_b, "GET", &path, None).await;
    assert_eq!(status, StatusCode::OK);
    for outsider in [&as_c, &Caller::Key(app.token.clone())] {
        let (status, body) = app.call(outsider, "GET", &path, None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("RELIANCE_NOT_FOUND"))
        );
    }
    // Bank A, the KYC issuer, sees counts per institution and month, no record.
    let (status, summary) = app.get_authorised("/kyc/reliances/summary").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        summary["counts"],
        json!([{
            "kycIssuer": bank_a,
            "relyingParty": bank_b.did,
            "relyingInstitution": "Tenant bank-b",
            "month": Utc::now().format("%Y-%m").to_string(),
            "count": 1,
        }])
    );
    let (_, summary) = app.call(&as_b, "GET", "/kyc/reliances/summary", None).await;
    assert_eq!(summary["counts"], json!([]));
    // The regulator (root authority) sees the whole register; a bank does not.
    let regulator = app.key("default", &[Scope::Trust]).await;
    let (status, all) = app.call(&regulator, "GET", "/kyc/register", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all["records"].as_array().map(Vec::len), Some(1));
    // … as the chain holds it: the notice bank B signed — institutions, assurance, month
    // and the record's hash — in the block that holds it, with the record it holds here.
    let registered = &all["records"][0];
    assert_eq!(
        registered["notice"],
        json!({
            "record": reliance["commitment"],
            "relyingParty": bank_b.did,
            "relyingInstitution": "Tenant bank-b",
            "kycIssuer": bank_a,
            "assuranceLevel": "substantial",
            "month": Utc::now().format("%Y-%m").to_string(),
        })
    );
    let notice = jose::decode(registered["jws"].as_str().expect("jws")).expect("jws");
    assert_eq!(notice.header_str("typ"), Some("reliance-notice+jwt"));
    notice.verify(&b_key).expect("signed by bank B");
    assert_eq!(
        notice.payload, registered["notice"],
        "nothing else on the chain"
    );
    assert_eq!(&registered["record"], record);
    assert!(registered["height"].as_u64() > Some(0), "{registered}");
    assert!(registered["sealedAt"].is_string(), "{registered}");
    let (status, _) = app.call(&as_b, "GET", "/kyc/register", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .call(&Caller::Anonymous, "GET", "/kyc/reliances", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Nothing personal in the register, its anchors, or the chain.
    for text in [all.to_string(), summary.to_string()] {
        for word in PERSONAL {
            assert!(!text.contains(word), "{word} in {text}");
        }
    }
    let (_, head) = app.get("/chain/head").await;
    for height in 0..=head["height"].as_u64().expect("height") {
        let (_, block) = app.get(&format!("/chain/blocks/{height}")).await;
        for word in PERSONAL {
            assert!(
                !block.to_string().contains(word),
                "{word} in block {height}"
            );
        }
    }

    // Bank B checks again: still good. Bank A revokes; bank B's next check fails.
    let check = format!("/kyc/reliances/{reliance_id}/check");
    let (status, checked) = app.call(&as_b, "POST", &check, None).await;
    assert_eq!(status, StatusCode::OK, "{checked}");
    assert_eq!(
        (checked["state"].as_str(), checked["valid"].as_bool()),
        (Some("active"), Some(true))
    );
    let (status, changed) = app
        .post(
            "/credentials/status",
            &json!({"credentialId": credential_id, "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "reason": "superseded"}),
            Some(&app.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    let (_, checked) = app.call(&as_b, "POST", &check, None).await;
    assert_eq!(
        (checked["state"].as_str(), checked["valid"].as_bool()),
        (Some("revoked"), Some(false)),
        "{checked}"
    );

    // … and its webhook fires: one signed security event token, pushed (RFC 8935).
    let (_, deliveries) = app.call(&as_b, "GET", "/webhook/deliveries", None).await;
    assert_eq!(
        deliveries["deliveries"][0]["state"], "pending",
        "{deliveries}"
    );
    let delivered = webhooks::deliver_due(&app.state.kyc, &webhooks::client(), Utc::now()).await;
    assert_eq!(delivered, 1);
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let (kind, token) = &received[0];
    assert_eq!(kind, "application/secevent+jwt");
    let event = jose::decode(token).expect("a JWS");
    assert_eq!(event.header_str("typ"), Some("secevent+jwt"));
    event.verify(&b_key).expect("signed by bank B's key");
    assert_eq!(event.payload["iss"], json!(bank_b.did));
    assert_eq!(event.payload["aud"], json!(hook));
    let body = &event.payload["events"][webhooks::STATUS_EVENT];
    assert_eq!(body["reliance"], json!(reliance_id));
    assert_eq!(body["event"], "revoked");
    assert_eq!(body["kycIssuer"], json!(bank_a));
    for word in PERSONAL {
        assert!(!token.contains(word) && !event.payload.to_string().contains(word));
    }
    let (_, deliveries) = app.call(&as_b, "GET", "/webhook/deliveries", None).await;
    assert_eq!(deliveries["deliveries"][0]["state"], "delivered");
    assert_eq!(deliveries["deliveries"][0]["attempts"], 1);
    // Delivered once: nothing more is due.
    assert_eq!(
        webhooks::deliver_due(
            &app.state.kyc,
            &webhooks::client(),
            Utc::now() + Duration::hours(1)
        )
        .await,
        0
    );

    // The holder presenting the revoked KYC again is refused.
    let info = onboard(
        &app,
        &bank_b,
        "bank-b-onboarding",
        &holder,
        &credential,
        true,
    )
    .await;
    assert_eq!(info["status"], "rejected");
    assert_eq!(info["outcome"]["problem"]["code"], "REVOKED", "{info}");
}

async fn without_the_holders_leave_nothing_is_watched_and_suspension_is_told_both_ways(db: Db) {
    let app = TestApp::spawn(db).await;
    let bank_b = bank(&app, "bank-b").await;
    let as_b = Caller::Key(bank_b.key.clone());
    let failing = Receiver::default();
    let hook = failing.start(StatusCode::SERVICE_UNAVAILABLE).await;
    app.call(&bank_b.admin, "PUT", "/webhook", Some(json!({"url": hook})))
        .await;
    put_policy(
        &app,
        &bank_b,
        "watchful",
        json!({"kyc": {"minAssurance": "low", "statusNotifications": true}}),
    )
    .await;

    // The holder declines notifications: the reliance is recorded, nothing is kept to
    // check later, and no event is queued.
    let (holder, credential, first) = issued_kyc(&app).await;
    let info = onboard(&app, &bank_b, "watchful", &holder, &credential, false).await;
    assert_eq!(info["status"], "accepted", "{info}");
    assert_eq!(
        info["outcome"]["consentReceipt"]["statusNotifications"],
        false
    );
    let unwatched = info["outcome"]["reliances"][0]["record"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(info["outcome"]["reliances"][0]["notifications"], false);
    let (status, body) = app
        .call(
            &as_b,
            "POST",
            &format!("/kyc/reliances/{unwatched}/check"),
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("RELIANCE_NOT_WATCHED"))
    );

    // Another holder allows them. A suspension and a reinstatement are both told; an
    // endpoint that fails is retried later, not given up.
    let (holder, credential, second) = issued_kyc(&app).await;
    let info = onboard(&app, &bank_b, "watchful", &holder, &credential, true).await;
    let watched = info["outcome"]["reliances"][0]["record"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for (id, status) in [(&first, true), (&second, true), (&second, false)] {
        let (code, body) = app
            .post(
                "/credentials/status",
                &json!({"credentialId": id, "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"}, "status": status}),
                Some(&app.token),
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{body}");
        if status {
            let (_, checked) = app
                .call(
                    &as_b,
                    "POST",
                    &format!("/kyc/reliances/{watched}/check"),
                    None,
                )
                .await;
            let expected = if id == &second { "suspended" } else { "active" };
            assert_eq!(checked["state"], expected, "{checked}");
        }
    }
    let (_, checked) = app
        .call(
            &as_b,
            "POST",
            &format!("/kyc/reliances/{watched}/check"),
            None,
        )
        .await;
    assert_eq!(checked["state"], "active");
    let (_, deliveries) = app.call(&as_b, "GET", "/webhook/deliveries", None).await;
    let mut events: Vec<&str> = deliveries["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|d| {
            assert_eq!(d["relianceId"], json!(watched), "only the watched reliance");
            d["event"].as_str().expect("event")
        })
        .collect();
    events.sort();
    assert_eq!(events, ["reinstated", "suspended"]);
    assert_eq!(
        webhooks::deliver_due(&app.state.kyc, &webhooks::client(), Utc::now()).await,
        0
    );
    assert_eq!(failing.received().len(), 2, "both were tried");
    let (_, deliveries) = app.call(&as_b, "GET", "/webhook/deliveries", None).await;
    for delivery in deliveries["deliveries"].as_array().expect("deliveries") {
        assert_eq!(delivery["state"], "pending", "{delivery}");
        assert_eq!(delivery["attempts"], 1);
        assert!(delivery["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("503")));
    }
    // Not due again until the back-off has passed.
    assert_eq!(
        webhooks::deliver_due(&app.state.kyc, &webhooks::client(), Utc::now()).await,
        0
    );
    assert_eq!(failing.received().len(), 2);
}

async fn kyc_issuance_and_webhooks_refuse_what_they_must(db: Db) {
    let app = TestApp::spawn(db).await;
    let bank_b = bank(&app, "bank-b").await;
    // Only an admin sets the endpoint, and only to https (or loopback http).
    let (status, _) = app
        .call(
            &Caller::Key(bank_b.key.clone()),
            "PUT",
            "/webhook",
            Some(json!({"url": "https://bank-b.example/hook"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for (url, code) in [
        ("http://bank-b.example/hook", "INVALID_WEBHOOK_URL"),
        ("not a url", "INVALID_WEBHOOK_URL"),
    ] {
        let (status, body) = app
            .call(&bank_b.admin, "PUT", "/webhook", Some(json!({"url": url})))
            .await;
        assert_eq!(
            (status, body["code"].as_str(), body["path"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code), Some("/url")),
            "{url}: {body}"
        );
    }
    let (status, body) = app
        .call(&bank_b.admin, "PUT", "/webhook", Some(json!({"uri": "x"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = app
        .call(&Caller::Key(bank_b.key.clone()), "GET", "/webhook", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "none set yet: {body}");
    let (status, _) = app
        .call(
            &bank_b.admin,
            "PUT",
            "/webhook",
            Some(json!({"url": "https://bank-b.example/hook"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = app
        .call(&Caller::Key(bank_b.key.clone()), "GET", "/webhook", None)
        .await;
    assert_eq!(body["url"], "https://bank-b.example/hook");

    // A KYC policy's requirements are checked as a policy's: an unknown member is refused.
    let (status, body) = app
        .call(
            &Caller::Key(bank_b.key.clone()),
            "PUT",
            "/policies/sloppy",
            Some(json!({"kyc": {"minAssurance": "medium"}})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = app
        .call(
            &Caller::Key(bank_b.key.clone()),
            "POST",
            "/kyc/reliances/urn:uuid:nope/check",
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("RELIANCE_NOT_FOUND"))
    );
}
