//! The institution's records as the portal reads them: search and filters, one credential
//! with anchor and history, the dashboard, the block list, and checking a receipt.

use axum::http::StatusCode;
use serde_json::{json, Value};

use certus_credential::time::Clock;
use certus_server::store::entities::issued_credentials;
use sea_orm::EntityTrait;

use crate::helpers::{kyc_credential, Caller, Db, TestApp};
use crate::on_both_databases;

on_both_databases!(
    search_filters_by_text_type_status_and_time_and_pages,
    search_by_claim_text_looks_in_non_personal_claims_only,
    the_dashboard_counts_and_a_credential_shows_its_anchor_and_history,
    the_explorer_lists_blocks_and_checks_receipts,
);

fn food() -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/certus/contexts/food/v1"],
        "type": ["VerifiableCredential", "FoodIngredientCertificate"],
        "credentialSubject": {
            "ingredientName": "Olive oil", "producer": "Frantoio", "standard": "ISO 22000:2018",
            "auditDate": "2026-09-15", "result": "certified"
        }
    })
}

/// The ids of a search page's items, in order.
fn item_ids(page: &Value) -> Vec<Value> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].clone())
        .collect()
}

async fn search_by_claim_text_looks_in_non_personal_claims_only(db: Db) {
    let app = TestApp::spawn(db).await;
    let me = Caller::Key(app.token.clone());
    let mut olive = food();
    olive["credentialSubject"]["auditorName"] = json!("Luca Bianchi");
    let olive_id = app.issue(olive, "ldp_vc").await["id"].clone();
    let mut sunflower = food();
    sunflower["credentialSubject"]["ingredientName"] = json!("Sunflower seeds 100%");
    sunflower["credentialSubject"]["auditorName"] = json!("Anna Olivetti");
    let (status, body) = app
        .try_issue(sunflower, json!({"format": "dc+sd-jwt"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    app.issue(kyc_credential(None), "ldp_vc").await;

    let found = |search: Value| {
        let me = me.clone();
        let app = &app;
        async move {
            let (status, body) = app
                .call(&me, "POST", "/credentials/search", Some(search.clone()))
                .await;
            assert_eq!(status, StatusCode::OK, "{search}: {body}");
            item_ids(&body)
        }
    };
    assert_eq!(
        found(json!({"claim": "OLIVE OIL"})).await,
        [olive_id],
        "any case, part of a value"
    );
    assert_eq!(
        found(json!({"claim": "iso 22000"})).await.len(),
        2,
        "both formats"
    );
    assert_eq!(
        found(
            json!({"claim": "frantoio", "status": "active", "type": "FoodIngredientCertificate"})
        )
        .await
        .len(),
        2,
        "with the other filters"
    );
    assert_eq!(
        found(json!({"claim": "100%"})).await.len(),
        1,
        "wildcards are literal"
    );
    assert_eq!(found(json!({"claim": "0%"})).await.len(), 1);
    assert_eq!(found(json!({"claim": "5%"})).await.len(), 0);
    for personal in ["Bianchi", "olivetti"] {
        assert!(
            found(json!({ "claim": personal })).await.is_empty(),
            "{personal}: a personal claim's value is never searched, nor kept"
        );
    }
    let (status, body) = app
        .call(&me, "GET", "/credentials?claim=Olive%20oil", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 1, "GET takes the claim too: {body}");

    let stored: Vec<Option<String>> = issued_credentials::Entity::find()
        .all(&app.db)
        .await
        .expect("records")
        .into_iter()
        .map(|r| r.claim_text)
        .collect();
    assert!(
        stored
            .iter()
            .flatten()
            .all(|t| !t.contains("bianchi") && !t.contains("olivetti")),
        "{stored:?}"
    );
}

async fn search_filters_by_text_type_status_and_time_and_pages(db: Db) {
    let app = TestApp::spawn(db).await;
    let me = Caller::Key(app.token.clone());
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(app.issue(kyc_credential(None), "ldp_vc").await["id"].clone());
    }
    let food_id = app.issue(food(), "ldp_vc").await["id"].clone();
    let (status, _) = app
        .call(&me, "POST", "/credentials/status", Some(json!({
            "credentialId": ids[0],
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            "reason": "superseded",
        })))
        .await;
    assert_eq!(status, StatusCode::OK);

    let search = |query: &str| {
        let me = me.clone();
        let app = &app;
        let path = format!("/credentials{query}");
        async move {
            let (status, body) = app.call(&me, "GET", &path, None).await;
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            (body["total"].as_u64().expect("total"), item_ids(&body))
        }
    };
    let (total, all) = search("").await;
    assert_eq!(total, 4);
    assert_eq!(all[0], food_id, "newest first");
    assert_eq!(
        search("?type=FoodIngredientCertificate").await,
        (1, vec![food_id.clone()])
    );
    assert_eq!(search("?status=revoked").await, (1, vec![ids[0].clone()]));
    assert_eq!(search("?status=active").await.0, 3);
    let tail = ids[1]
        .as_str()
        .expect("id")
        .rsplit('-')
        .next()
        .expect("tail");
    assert_eq!(
        search(&format!("?q={tail}")).await,
        (1, vec![ids[1].clone()])
    );
    assert_eq!(search("?q=%25").await.0, 0, "LIKE wildcards are literal");
    assert_eq!(search("?issuedFrom=2999-01-01T00:00:00Z").await.0, 0);
    let (total, page) = search("?limit=2&offset=2").await;
    assert_eq!((total, page.len()), (4, 2));
    assert_eq!(page, all[2..4]);
    let (_, revoked) = app
        .call(&me, "GET", "/credentials?status=revoked", None)
        .await;
    assert_eq!(revoked["items"][0]["status"], "revoked");
    assert_eq!(revoked["items"][0]["statusReason"], "superseded");
    assert!(
        revoked["items"][0].get("credentialSubject").is_none(),
        "no claim values"
    );

    for (query, code) in [
        ("?limit=0", "INVALID_QUERY"),
        ("?limit=201", "INVALID_QUERY"),
        ("?issuedFrom=yesterday", "INVALID_QUERY"),
        ("?status=lost", "INVALID_QUERY"),
        ("?colour=red", "INVALID_QUERY"),
        // Past what the databases bind: once a panic that left the client without an answer.
        ("?offset=9223372036854775808", "INVALID_QUERY"),
        ("?offset=18446744073709551615", "INVALID_QUERY"),
    ] {
        let (status, body) = app
            .call(&me, "GET", &format!("/credentials{query}"), None)
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{query}: {body}"
        );
    }
}

async fn the_dashboard_counts_and_a_credential_shows_its_anchor_and_history(db: Db) {
    let app = TestApp::spawn(db).await;
    let me = Caller::Key(app.token.clone());
    let first = app.issue(kyc_credential(None), "ldp_vc").await["id"].clone();
    app.issue(food(), "ldp_vc").await;
    let (_, figures) = app.call(&me, "GET", "/dashboard", None).await;
    assert_eq!(
        (
            figures["issued"].as_u64(),
            figures["pendingAnchors"].as_u64()
        ),
        (Some(2), Some(2))
    );
    let id = first.as_str().expect("id");
    let path = format!("/credentials/{id}");
    let (status, detail) = app.call(&me, "GET", &path, None).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert!(detail.get("anchor").is_none(), "not sealed yet");
    assert_eq!(detail["history"][0]["action"], "credential.issue");
    assert!(detail["history"][0].get("position").is_none());

    app.seal().await;
    app.call(
        &me,
        "POST",
        "/credentials/status",
        Some(json!({
            "credentialId": id,
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"},
        })),
    )
    .await;
    let (_, figures) = app.call(&me, "GET", "/dashboard", None).await;
    assert_eq!(
        (
            figures["issued"].as_u64(),
            figures["active"].as_u64(),
            figures["suspended"].as_u64(),
            figures["pendingAnchors"].as_u64()
        ),
        (Some(2), Some(1), Some(1), Some(0))
    );
    assert_eq!(
        figures["byType"],
        json!([{"type": "FoodIngredientCertificate", "count": 1}, {"type": "KycCredential", "count": 1}])
    );
    assert!(figures["latestBlocks"][0]["height"].as_u64() >= Some(1));
    // Twelve weeks of activity, day by day to today: both issuances and the suspension,
    // the latter counted once whether it waits for a block or is sealed (below).
    assert_eq!(activity_totals(&app, &me).await, (2, 1, 0));
    let (_, detail) = app.call(&me, "GET", &path, None).await;
    assert_eq!(detail["record"]["status"], "suspended");
    assert_eq!(detail["anchor"]["chainId"], "test-chain");
    let history: Vec<(&str, bool)> = detail["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action"),
                e["position"].is_u64(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [("credential.issue", true), ("credential.suspend", false)]
    );
    let (status, body) = app
        .call(&me, "GET", "/credentials/urn:uuid:nothing", None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("CREDENTIAL_NOT_FOUND"))
    );
    app.seal().await;
    assert_eq!(activity_totals(&app, &me).await, (2, 1, 0));
}

/// The dashboard's activity summed over its days: issued, status changes, verifications.
/// Checks the days run one by one to today.
async fn activity_totals(app: &TestApp, me: &Caller) -> (u64, u64, u64) {
    let (_, figures) = app.call(me, "GET", "/dashboard", None).await;
    let today = app.clock.now().date_naive();
    let days = figures["activity"].as_array().expect("activity");
    assert_eq!(days.len(), 84);
    let last = days[83]["day"].as_str().expect("day");
    assert!(
        [today, today - chrono::Days::new(1)]
            .iter()
            .any(|d| d.to_string() == last),
        "the last day is today: {last}"
    );
    for pair in days.windows(2) {
        let day = |v: &Value| {
            chrono::NaiveDate::parse_from_str(v["day"].as_str().expect("day"), "%Y-%m-%d")
                .expect("date")
        };
        assert_eq!(day(&pair[1]) - day(&pair[0]), chrono::TimeDelta::days(1));
    }
    let sum = |key: &str| {
        days.iter()
            .map(|d| d[key].as_u64().expect("count"))
            .sum::<u64>()
    };
    (sum("issued"), sum("statusChanges"), sum("verifications"))
}

async fn the_explorer_lists_blocks_and_checks_receipts(db: Db) {
    let app = TestApp::spawn(db).await;
    let me = Caller::Key(app.token.clone());
    for _ in 0..3 {
        app.issue(kyc_credential(None), "ldp_vc").await;
        app.seal().await;
    }
    let id = app.issue(kyc_credential(None), "vc+jwt").await;
    let (_, page) = app
        .call(&Caller::Anonymous, "GET", "/credentials?limit=1", None)
        .await;
    assert_eq!(page["code"], "UNAUTHORIZED");
    app.seal().await;
    let (status, blocks) = app
        .call(&Caller::Anonymous, "GET", "/chain/blocks?limit=2", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let heights: Vec<u64> = blocks
        .as_array()
        .expect("blocks")
        .iter()
        .filter_map(|b| b["height"].as_u64())
        .collect();
    assert_eq!(heights, [4, 3]);
    let (_, older) = app
        .call(&Caller::Anonymous, "GET", "/chain/blocks?before=3", None)
        .await;
    let heights: Vec<u64> = older
        .as_array()
        .expect("blocks")
        .iter()
        .filter_map(|b| b["height"].as_u64())
        .collect();
    assert_eq!(heights, [2, 1, 0]);
    for query in ["limit=101", "before=9223372036854775808"] {
        assert_eq!(
            app.call(
                &Caller::Anonymous,
                "GET",
                &format!("/chain/blocks?{query}"),
                None
            )
            .await
            .0,
            StatusCode::BAD_REQUEST,
            "{query}"
        );
    }
    let (status, body) = app
        .call(&me, "GET", "/audit?before=9223372036854775808", None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_QUERY"))
    );

    let (_, list) = app.call(&me, "GET", "/credentials?limit=1", None).await;
    let newest = list["items"][0]["id"].as_str().expect("id").to_owned();
    assert!(id["id"].as_str().expect("envelope").starts_with("data:"));
    let (status, receipt) = app
        .call(&me, "GET", &format!("/credentials/{newest}/receipt"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    let (status, check) = app
        .call(
            &Caller::Anonymous,
            "POST",
            "/chain/receipts/verify",
            Some(receipt.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (check["valid"].as_bool(), check["anchor"]["height"].as_u64()),
        (Some(true), Some(4))
    );
    // Tampered: the receipt no longer holds, and says why.
    let commitment = receipt["commitment"].as_str().expect("commitment");
    let text = receipt["receipt"]
        .to_string()
        .replace(commitment, &"0".repeat(64));
    assert_ne!(
        text,
        receipt["receipt"].to_string(),
        "the receipt names the commitment"
    );
    let forged: Value = serde_json::from_str(&text).expect("json");
    let (status, check) = app
        .call(
            &Caller::Anonymous,
            "POST",
            "/chain/receipts/verify",
            Some(forged),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(check["valid"], false, "{check}");
    assert!(check["error"].as_str().is_some_and(|e| !e.is_empty()));
    let (status, check) = app
        .call(
            &Caller::Anonymous,
            "POST",
            "/chain/receipts/verify",
            Some(json!({"hello": 1})),
        )
        .await;
    assert_eq!(
        (status, check["valid"].as_bool()),
        (StatusCode::OK, Some(false))
    );
}
