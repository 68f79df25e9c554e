//! The chain through the API: anchoring on issuance, receipts, the `anchored` check,
//! tampering with the stored chain, and what reaches the chain.

use axum::http::StatusCode;
use certus_server::ledger::block::Genesis;
use certus_server::ledger::receipt::{Checkpoint, Receipt};
use certus_server::store::entities::{audit_log, ledger_blocks, ledger_transactions};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set, TransactionTrait,
};
use serde_json::{json, Value};

use crate::helpers::{check, kyc_credential, Db, TestApp, SEEDED_AUDIT_ENTRIES};
use crate::on_both_databases;

on_both_databases!(
    an_issued_credential_is_pending_then_anchored_with_a_receipt_that_verifies_offline,
    tampering_with_a_stored_block_fails_chain_verification_and_the_anchored_check,
    nothing_personal_reaches_the_chain,
    the_audit_log_is_hash_chained_and_its_head_anchored,
    audit_entries_chained_by_another_writer_first_are_not_chained_twice,
    chain_endpoints_answer_bad_requests_with_clear_errors,
    every_column_stored_beside_a_block_is_checked,
    did_operations_and_trust_statements_are_checked_against_what_was_signed,
);

async fn genesis(app: &TestApp) -> Genesis {
    let (status, body) = app.get("/chain/genesis").await;
    assert_eq!(status, StatusCode::OK);
    serde_json::from_value(body).expect("a genesis document")
}

async fn an_issued_credential_is_pending_then_anchored_with_a_receipt_that_verifies_offline(
    db: Db,
) {
    let app = TestApp::spawn(db).await;
    let credential = app.issue(kyc_credential(None), "ldp_vc").await;
    let id = credential["id"].as_str().expect("id");
    let path = format!("/credentials/{id}/receipt");

    let (status, pending) = app.get_authorised(&path).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{pending}");
    assert_eq!(pending["state"], "pending");
    let (_, result) = app.verify(&credential).await;
    assert_eq!(check(&result, "anchored").0, "skipped");
    assert!(
        result["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .any(|w| w["code"] == "ANCHOR_PENDING"),
        "{result}"
    );
    assert_eq!(result["verified"], true);

    assert_eq!(app.seal().await, 1);
    let (status, anchored) = app.get_authorised(&path).await;
    assert_eq!(status, StatusCode::OK, "{anchored}");
    assert_eq!(anchored["state"], "anchored");
    let receipt: Receipt = serde_json::from_value(anchored["receipt"].clone()).expect("receipt");
    let proven = receipt
        .verify(&genesis(&app).await)
        .expect("the receipt holds offline");
    assert_eq!(proven.height, 1);

    let (status, result) = app.verify(&credential).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(check(&result, "anchored").0, "passed");
    assert_eq!(result["anchor"]["height"], 1);

    // Anyone holding the credential can ask by commitment; the commitment is not its id.
    let commitment = anchored["commitment"].as_str().expect("commitment");
    assert!(!commitment.contains(id));
    let (status, by_commitment) = app.get(&format!("/anchors/{commitment}/receipt")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_commitment["receipt"], anchored["receipt"]);

    // JWT forms are anchored too, and the head moved on.
    let jwt = app.issue(kyc_credential(None), "vc+jwt").await;
    app.seal().await;
    let (_, result) = app.verify(&jwt).await;
    assert_eq!(check(&result, "anchored").0, "passed", "{result}");
    let (_, head) = app.get("/chain/head").await;
    assert_eq!(head["height"], 2);

    // The validators: the genesis's one, this node, which signed the head.
    let (status, validators) = app.get("/chain/validators").await;
    assert_eq!(status, StatusCode::OK, "{validators}");
    let only = genesis(&app).await.validators.keys()[0].to_hex();
    assert_eq!(
        validators,
        json!({"epoch": 0, "sinceHeight": 1, "quorum": 1, "window": 1000, "validators": [
            {"key": only, "lastSignedHeight": 2, "thisNode": true}]})
    );
    // A single node's peers: itself, connected, at its head.
    let (status, peers) = app.get("/chain/peers").await;
    assert_eq!(status, StatusCode::OK, "{peers}");
    assert_eq!(
        peers,
        json!({"consortium": false, "quorum": 1, "connected": 1, "peers": [
            {"name": "this node", "key": only, "address": "", "height": 2,
             "connected": true, "thisNode": true}]})
    );

    // The signed checkpoint of the head verifies against the genesis.
    let response = app
        .send(
            axum::http::Request::get("/chain/checkpoint")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await;
    let note = response.1.as_str().expect("text note").to_owned();
    let checkpoint = Checkpoint::verify_note(&note, &genesis(&app).await).expect("signed");
    assert_eq!(checkpoint.height, 2);
    assert_eq!(
        checkpoint.head.to_hex(),
        head["hash"].as_str().expect("hash")
    );
}

async fn tampering_with_a_stored_block_fails_chain_verification_and_the_anchored_check(db: Db) {
    let app = TestApp::spawn(db).await;
    let mut credentials = Vec::new();
    for _ in 0..4 {
        credentials.push(app.issue(kyc_credential(None), "ldp_vc").await);
        app.seal().await;
    }
    assert_eq!(app.state.ledger.verify_chain().await, Ok(4));
    let conn = &app.db;
    // Each verifies as anchored first: the node remembers each block's seal as checked,
    // and must still notice every alteration below.
    for credential in &credentials {
        let (_, result) = app.verify(credential).await;
        assert_eq!(check(&result, "anchored").0, "passed", "{result}");
    }

    // Block 4: one byte of a signature.
    let row = ledger_blocks::Entity::find_by_id(4)
        .one(conn)
        .await
        .expect("db")
        .expect("row");
    let mut signatures: Value = serde_json::from_str(&row.signatures).expect("json");
    let signature = signatures[0]["signature"].as_str().expect("hex").to_owned();
    let first = if signature.starts_with('0') { "1" } else { "0" };
    signatures[0]["signature"] = json!(format!("{first}{}", &signature[1..]));
    let mut block = row.into_active_model();
    block.signatures = Set(signatures.to_string());
    block.update(conn).await.expect("update");
    assert_eq!(
        app.state.ledger.verify_chain().await.map_err(|e| e.0),
        Err(4)
    );

    // Block 3: the header's time.
    let row = ledger_blocks::Entity::find_by_id(3)
        .one(conn)
        .await
        .expect("db")
        .expect("row");
    let mut header: Value = serde_json::from_str(&row.header).expect("json");
    header["timeMs"] = json!(header["timeMs"].as_i64().expect("time") + 1);
    let mut block = row.into_active_model();
    block.header = Set(header.to_string());
    block.update(conn).await.expect("update");
    assert_eq!(
        app.state.ledger.verify_chain().await.map_err(|e| e.0),
        Err(3)
    );

    // Block 2: one byte of its transaction.
    let row = ledger_transactions::Entity::find()
        .filter(ledger_transactions::Column::BlockHeight.eq(2))
        .one(conn)
        .await
        .expect("db")
        .expect("row");
    let mut data = row.data.clone();
    data[5] ^= 0x01;
    let mut tx = row.into_active_model();
    tx.data = Set(data);
    tx.update(conn).await.expect("update");
    assert_eq!(
        app.state.ledger.verify_chain().await.map_err(|e| e.0),
        Err(2)
    );

    // Block 1 is intact and still proves its credential; every altered one fails.
    let (status, result) = app.verify(&credentials[0]).await;
    assert_eq!(
        (status, check(&result, "anchored").0),
        (StatusCode::OK, "passed")
    );
    for credential in &credentials[1..] {
        let (status, result) = app.verify(credential).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{result}");
        let (outcome, code) = check(&result, "anchored");
        assert_eq!(outcome, "failed");
        assert!(
            matches!(code, Some("ANCHOR_INVALID" | "ANCHOR_MISSING")),
            "{result}"
        );
    }
}

/// The columns kept beside a block for queries — its hash, time, count, and each
/// transaction's kind and commitment — once could be edited unnoticed; and deleting the
/// head block was caught only indirectly.
async fn every_column_stored_beside_a_block_is_checked(db: Db) {
    let app = TestApp::spawn(db).await;
    for _ in 0..2 {
        app.issue(kyc_credential(None), "vc+jwt").await;
        app.seal().await;
    }
    let head = app.state.ledger.verify_chain().await.expect("holds");
    let conn = &app.db;

    // An issued credential's record: its commitment must be one anchored.
    assert_eq!(
        certus_server::issued::verify_store(conn, &app.seal).await,
        Ok(2)
    );
    {
        use certus_server::store::entities::issued_credentials;
        let record = issued_credentials::Entity::find()
            .one(conn)
            .await
            .expect("db")
            .expect("row");
        let mut altered = record.clone().into_active_model();
        altered.commitment = Set(Some("22".repeat(32)));
        altered.update(conn).await.expect("alter");
        let err = certus_server::issued::verify_store(conn, &app.seal)
            .await
            .expect_err("caught");
        assert!(err.contains(&record.credential_id), "{err}");
        record
            .into_active_model()
            .reset_all()
            .update(conn)
            .await
            .expect("restore");
    }
    let block = |height: i64| async move {
        ledger_blocks::Entity::find_by_id(height)
            .one(conn)
            .await
            .expect("db")
            .expect("row")
    };
    let tx = |height: i64| async move {
        ledger_transactions::Entity::find()
            .filter(ledger_transactions::Column::BlockHeight.eq(height))
            .one(conn)
            .await
            .expect("db")
            .expect("row")
    };
    type Edit = fn(&mut ledger_blocks::ActiveModel);
    let edits: [(&str, Edit); 3] = [
        ("hash", |b| b.hash = Set("00".repeat(32))),
        ("time", |b| b.time_ms = Set(1)),
        ("count", |b| b.tx_count = Set(99)),
    ];
    for (what, edit) in edits {
        let original = block(1).await;
        let mut altered = original.clone().into_active_model();
        edit(&mut altered);
        altered.update(conn).await.expect("update");
        assert_eq!(
            app.state.ledger.verify_chain().await.map_err(|e| e.0),
            Err(1),
            "the block's {what}"
        );
        original
            .into_active_model()
            .reset_all()
            .update(conn)
            .await
            .expect("restore");
        assert_eq!(app.state.ledger.verify_chain().await, Ok(head));
    }
    for what in ["kind", "commitment"] {
        let original = tx(1).await;
        let mut altered = original.clone().into_active_model();
        match what {
            "kind" => altered.kind = Set(original.kind + 1),
            _ => altered.commitment = Set(Some("11".repeat(32))),
        }
        altered.update(conn).await.expect("update");
        assert_eq!(
            app.state.ledger.verify_chain().await.map_err(|e| e.0),
            Err(1),
            "a transaction's {what}"
        );
        original
            .into_active_model()
            .reset_all()
            .update(conn)
            .await
            .expect("restore");
    }
    assert_eq!(app.state.ledger.verify_chain().await, Ok(head));

    // The head block deleted: its transactions remain, and name it.
    ledger_blocks::Entity::delete_by_id(head as i64)
        .exec(conn)
        .await
        .expect("delete");
    assert_eq!(
        app.state.ledger.verify_chain().await.map_err(|e| e.0),
        Err(head)
    );
}

/// Every column the DID registry and the trust registry decide by is checked by
/// `certus chain verify` against the signed, anchored object it came from.
async fn did_operations_and_trust_statements_are_checked_against_what_was_signed(db: Db) {
    use certus_server::store::entities::{did_operations, trust_statements};
    let app = TestApp::spawn(db).await;
    let (status, created) = app.post("/dids", &json!({}), Some(&app.token)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let did = created["didDocument"]["id"]
        .as_str()
        .expect("did")
        .to_owned();
    app.accredit_for_kyc(&did).await;
    app.seal().await;
    let db = &app.db;
    assert_eq!(certus_server::did::registry::verify_store(db).await, Ok(1));
    let trusted = certus_server::trust::verify_store(db).await.expect("holds");
    assert!(
        trusted >= 2,
        "the KYC schema and two accreditations: {trusted}"
    );

    // The operation's hash column.
    let operation = did_operations::Entity::find()
        .one(db)
        .await
        .expect("db")
        .expect("row");
    let mut altered = operation.clone().into_active_model();
    altered.hash = Set("00".repeat(32));
    altered.update(db).await.expect("alter");
    assert!(certus_server::did::registry::verify_store(db)
        .await
        .is_err());
    operation
        .into_active_model()
        .reset_all()
        .update(db)
        .await
        .expect("restore");

    // An accreditation widened in the store: another schema, a later end.
    let accreditation = trust_statements::Entity::find()
        .filter(trust_statements::Column::Subject.eq(did.clone()))
        .one(db)
        .await
        .expect("db")
        .expect("row");
    for edit in [
        |row: &mut trust_statements::ActiveModel| row.schemas = Set("[\"ff\"]".into()),
        |row: &mut trust_statements::ActiveModel| row.valid_until_ms = Set(Some(i64::MAX / 2)),
        |row: &mut trust_statements::ActiveModel| row.revoked_at_ms = Set(Some(1)),
    ] {
        let mut altered = accreditation.clone().into_active_model();
        edit(&mut altered);
        altered.update(db).await.expect("alter");
        let err = certus_server::trust::verify_store(db)
            .await
            .expect_err("caught");
        assert!(err.contains(&accreditation.id), "{err}");
        accreditation
            .clone()
            .into_active_model()
            .reset_all()
            .update(db)
            .await
            .expect("restore");
    }
    assert!(certus_server::trust::verify_store(db).await.is_ok());
}

async fn nothing_personal_reaches_the_chain(db: Db) {
    let app = TestApp::spawn(db).await;
    let holder = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
    for format in ["ldp_vc", "vc+jwt", "dc+sd-jwt"] {
        app.issue(kyc_credential(Some(holder)), format).await;
    }
    app.seal().await;
    let personal = [
        "Maria",
        "Rossi",
        "1988-04-12",
        "YA1234567",
        holder,
        "z6MkhaXgBZDv",
    ];
    let (_, head) = app.get("/chain/head").await;
    let mut seen = String::new();
    for height in 0..=head["height"].as_u64().expect("height") {
        let (_, block) = app.get(&format!("/chain/blocks/{height}")).await;
        seen.push_str(&block.to_string());
    }
    for tx in ledger_transactions::Entity::find()
        .all(&app.db)
        .await
        .expect("db")
    {
        seen.push_str(&String::from_utf8_lossy(&tx.data));
        seen.push_str(&tx.commitment.unwrap_or_default());
    }
    assert!(seen.contains("credentialAnchor"));
    for value in personal {
        assert!(!seen.contains(value), "`{value}` reached the chain");
    }
}

async fn chain_endpoints_answer_bad_requests_with_clear_errors(db: Db) {
    let app = TestApp::spawn(db).await;
    let cases = [
        (
            "/chain/blocks/abc",
            StatusCode::BAD_REQUEST,
            "INVALID_HEIGHT",
        ),
        ("/chain/blocks/99", StatusCode::NOT_FOUND, "BLOCK_NOT_FOUND"),
        (
            "/anchors/xyz/receipt",
            StatusCode::BAD_REQUEST,
            "INVALID_COMMITMENT",
        ),
        (
            "/anchors/0000000000000000000000000000000000000000000000000000000000000000/receipt",
            StatusCode::NOT_FOUND,
            "ANCHOR_NOT_FOUND",
        ),
    ];
    for (path, status, code) in cases {
        let (got, body) = app.get(path).await;
        assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{path}");
    }
    let (status, body) = app.get("/credentials/urn:uuid:nope/receipt").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = app
        .get_authorised("/credentials/urn:uuid:nope/receipt")
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("CREDENTIAL_NOT_FOUND"))
    );
    let (status, block) = app.get("/chain/blocks/0").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(block["header"]["height"], 0);
}

async fn the_audit_log_is_hash_chained_and_its_head_anchored(db: Db) {
    let app = TestApp::spawn(db).await;
    for _ in 0..3 {
        app.issue(kyc_credential(None), "vc+jwt").await;
    }
    app.seal().await;
    app.issue(kyc_credential(None), "ldp_vc").await;
    app.seal().await;
    assert_eq!(
        app.state.ledger.verify_audit().await,
        Ok(Some(4 + SEEDED_AUDIT_ENTRIES))
    );
    let (_, block) = app.get("/chain/blocks/2").await;
    let last = block["transactions"]
        .as_array()
        .expect("txs")
        .last()
        .expect("tx")
        .clone();
    assert_eq!(last["type"], "auditCheckpoint");
    assert_eq!(last["sequence"], 4 + SEEDED_AUDIT_ENTRIES);

    // Rewriting an entry's subject breaks the chain at that entry.
    let entry = audit_log::Entity::find_by_id(1)
        .one(&app.db)
        .await
        .expect("db")
        .expect("an entry");
    assert!(!entry.subject.contains("Maria"));
    let mut altered = entry.into_active_model();
    altered.subject = Set("urn:uuid:forged".into());
    altered.update(&app.db).await.expect("update");
    let error = app.state.ledger.verify_audit().await.expect_err("altered");
    assert!(error.contains("does not chain"), "{error}");
}

/// The sealer chains audit entries it read before taking the write lock; were they chained
/// by another writer meanwhile, its write takes nothing and says so, and the log holds each
/// entry once.
async fn audit_entries_chained_by_another_writer_first_are_not_chained_twice(db: Db) {
    let app = TestApp::spawn(db).await;
    app.issue(kyc_credential(None), "vc+jwt").await;
    let late = certus_server::audit::prepare(&app.db)
        .await
        .expect("db")
        .expect("an entry waits");
    app.seal().await;
    let txn = app.db.begin().await.expect("db");
    assert!(!late.write(&txn).await.expect("db"), "nothing left to take");
    drop(txn);
    assert_eq!(
        app.state.ledger.verify_audit().await,
        Ok(Some(1 + SEEDED_AUDIT_ENTRIES))
    );
    assert_eq!(
        audit_log::Entity::find()
            .all(&app.db)
            .await
            .expect("db")
            .len() as u64,
        1 + SEEDED_AUDIT_ENTRIES
    );
}
