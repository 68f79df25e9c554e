//! Someone with write access to the database edits one column of one row of a ledger,
//! status, DID or trust table, in turn for every column and row: `certus chain verify`
//! (`certus_server::integrity`) names the edit, or the column is one whose edit cannot
//! matter, listed here with the reason and in docs/security.md.

use axum::http::StatusCode;
use certus_server::auth::Scope;
use certus_server::integrity;
use certus_server::store::entities::{
    credential_types, did_operations, issued_credentials, ledger_blocks, ledger_genesis,
    ledger_outbox, ledger_transactions, schema_registrations, status_list_versions, status_lists,
    trust_statements,
};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IdenStatic, Iterable, ModelTrait,
    PrimaryKeyToColumn, QueryFilter, Value,
};
use serde_json::json;

use crate::helpers::{kyc_credential, Db, TestApp};
use crate::on_both_databases;

on_both_databases!(every_column_of_every_chain_table_is_checked_or_cannot_matter);

/// Columns whose edit `certus chain verify` does not notice, and why that cannot matter
/// (docs/security.md, "What an edit of the store can change").
const CANNOT_MATTER: &[(&str, &str)] = &[
    (
        "ledger_outbox.id",
        "orders the anchors waiting for the next block; each is anchored whatever the order",
    ),
    (
        "ledger_outbox.created_at",
        "when an anchor started waiting; nothing decides by it",
    ),
    (
        "status_lists.open",
        "which pair new credentials are given indexes in; the indexes taken are read from the \
         records, so none is handed out twice whatever it says",
    ),
    (
        "status_lists.created_at",
        "orders an issuer's open pairs; the same reasoning",
    ),
    (
        "status_lists.leased_by",
        "which process hands out indexes in an open pair; whoever does reads the indexes \
         taken from the records, and the unique index on a list's entries refuses a second \
         credential with one",
    ),
    (
        "status_lists.lease_until_ms",
        "when another process may take the pair over; the same reasoning",
    ),
    (
        "issued_credentials.revoked_at",
        "when the register says a credential was revoked: whether it was is checked against the \
         lists, and the change itself, with its time, is in the hash-chained, anchored audit log",
    ),
    (
        "issued_credentials.suspended_at",
        "the same, for a suspension",
    ),
    (
        "issued_credentials.status_reason",
        "the reason the register shows; the status itself is checked, the change is audited",
    ),
    (
        "issued_credentials.claim_text",
        "what a claim search of the portal finds (decision 25); no credential, status or proof \
         is read from it",
    ),
    (
        "did_operations.tenant_id",
        "which institution may update the DID: access control, which someone who can write the \
         database holds anyway (API keys and accounts live there too); an update still needs \
         the DID's key and is signed, anchored and audited",
    ),
    (
        "did_operations.at_ms",
        "used only while the operation waits for its block; once anchored, the block's time is \
         the operation's",
    ),
    (
        "schema_registrations.at_ms",
        "when the registration was stored; nothing decides by it",
    ),
    (
        "credential_types.created_at_ms",
        "for a type that ships with Certus, when it was seeded: it only orders the list of \
         types (a defined type's time is checked against the audit log)",
    ),
];

/// The same value changed a little: a number by one, a string's last letter or digit to
/// another of its kind (hex stays hex, JSON stays JSON), a byte's low bit, a time by a
/// second, nothing to something.
fn altered(value: &Value) -> Value {
    match value {
        Value::Bool(Some(b)) => Value::Bool(Some(!b)),
        Value::SmallInt(Some(n)) => Value::SmallInt(Some(n + 1)),
        Value::Int(Some(n)) => Value::Int(Some(n + 1)),
        Value::BigInt(Some(n)) => Value::BigInt(Some(n + 1)),
        Value::SmallInt(None) => Value::SmallInt(Some(1)),
        Value::Int(None) => Value::Int(Some(1)),
        Value::BigInt(None) => Value::BigInt(Some(1)),
        Value::String(Some(s)) => Value::String(Some(altered_text(s))),
        Value::String(None) => Value::String(Some("x".into())),
        Value::Bytes(Some(b)) if !b.is_empty() => {
            let mut b = b.clone();
            *b.last_mut().expect("a byte") ^= 1;
            Value::Bytes(Some(b))
        }
        Value::Bytes(_) => Value::Bytes(Some(vec![1])),
        Value::ChronoDateTimeUtc(Some(t)) => {
            Value::ChronoDateTimeUtc(Some(*t + chrono::Duration::seconds(1)))
        }
        Value::ChronoDateTimeUtc(None) => {
            Value::ChronoDateTimeUtc(Some(chrono::DateTime::UNIX_EPOCH))
        }
        other => panic!("no alteration for {other:?}"),
    }
}

fn altered_text(s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    match chars.iter().rposition(char::is_ascii_alphanumeric) {
        Some(i) => {
            chars[i] = match chars[i] {
                '0'..='8' | 'a'..='e' | 'A'..='E' => (chars[i] as u8 + 1) as char,
                '9' => '0',
                'f' => 'a',
                'F' => 'A',
                'z' => 'y',
                'Z' => 'Y',
                c => (c as u8 + 1) as char,
            };
            chars.into_iter().collect()
        }
        None => format!("{s}x"),
    }
}

/// What became of each column's edits.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// Every edit was named by `certus chain verify` (or refused by the database).
    Caught,
    /// At least one edit went unnoticed.
    Unnoticed,
}

async fn tamper<E: EntityTrait>(app: &TestApp, outcomes: &mut Vec<(String, Outcome)>) {
    let db = &app.db;
    let table = E::default().table_name().to_owned();
    let rows = E::find().all(db).await.expect("rows");
    assert!(!rows.is_empty(), "{table} has rows to edit");
    for column in E::Column::iter() {
        let name = format!("{table}.{}", column.as_str());
        let mut outcome = Outcome::Caught;
        for row in &rows {
            let original = row.get(column);
            let changed = altered(&original);
            let where_row = |update: &mut sea_orm::sea_query::UpdateStatement, edited: bool| {
                for key in E::PrimaryKey::iter() {
                    let key = key.into_column();
                    let value = match (edited, key.as_str() == column.as_str()) {
                        (true, true) => changed.clone(),
                        _ => row.get(key),
                    };
                    update.and_where(key.eq(value));
                }
            };
            let mut edit = Query::update();
            edit.table(E::default().table_ref())
                .value(column, changed.clone());
            where_row(&mut edit, false);
            match db.execute(&edit).await {
                // Refused by the database's own constraints.
                Err(_) => continue,
                Ok(done) => assert_eq!(done.rows_affected(), 1, "{name}"),
            }
            let report = integrity::verify(&app.state.ledger, db, &app.seal).await;
            if report.broken.is_none() {
                outcome = Outcome::Unnoticed;
            }
            let mut restore = Query::update();
            restore
                .table(E::default().table_ref())
                .value(column, original.clone());
            where_row(&mut restore, true);
            let done = db.execute(&restore).await.expect("restore");
            assert_eq!(done.rows_affected(), 1, "{name} restored");
        }
        outcomes.push((name, outcome));
    }
}

/// A store with a row in every table: blocks and transactions, an anchor still pending,
/// status lists with a revoked and a suspended credential, a `did:certus` DID, a schema
/// registration and accreditations (made when the test node starts), one of them revoked.
async fn a_store_with_everything(db: Db) -> TestApp {
    let app = TestApp::spawn(db).await;
    let (status, created) = app.post("/dids", &json!({}), Some(&app.token)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    // An accreditation made and revoked by the root authority.
    let did = created["didDocument"]["id"].as_str().expect("a DID");
    app.accredit_for_kyc(did).await;
    let accreditation = trust_statements::Entity::find()
        .filter(trust_statements::Column::Subject.eq(did))
        .one(&app.db)
        .await
        .expect("db")
        .expect("the accreditation");
    app.state
        .trust
        .revoke(&accreditation.id, None, chrono::Utc::now())
        .await
        .expect("revoked");
    let mut ids = Vec::new();
    for _ in 0..2 {
        let issued = app.issue(kyc_credential(None), "ldp_vc").await;
        ids.push(issued["id"].as_str().expect("an id").to_owned());
    }
    for (id, purpose) in ids.iter().zip(["revocation", "suspension"]) {
        let (status, body) = app
            .post(
                "/credentials/status",
                &json!({"credentialId": id, "status": true, "credentialStatus":
                    {"type": "BitstringStatusListEntry", "statusPurpose": purpose}}),
                Some(&app.token),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // A credential type of the institution's own, in two versions, one retired.
    let admin = app.key("default", &[Scope::Types]).await;
    let mut definition = json!({"type": "BoilerInspection", "title": "Boiler inspection",
        "retention": "P6Y", "claims": [{"name": "serialNumber", "type": "string", "required": true}]});
    let (status, body) = app
        .call(
            &admin,
            "POST",
            "/credential-types",
            Some(definition.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    definition["title"] = json!("Boiler inspection (2027)");
    let (status, body) = app
        .call(
            &admin,
            "POST",
            "/credential-types/BoilerInspection/versions",
            Some(definition),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app
        .call(
            &admin,
            "POST",
            "/credential-types/BoilerInspection/v1/retire",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.seal().await;
    // One anchor left waiting for the next block.
    app.issue(kyc_credential(None), "vc+jwt").await;
    app
}

async fn every_column_of_every_chain_table_is_checked_or_cannot_matter(db: Db) {
    let app = a_store_with_everything(db).await;
    let clean = integrity::verify(&app.state.ledger, &app.db, &app.seal).await;
    assert_eq!(clean.broken, None, "the untouched store holds");

    let mut outcomes = Vec::new();
    tamper::<ledger_genesis::Entity>(&app, &mut outcomes).await;
    tamper::<ledger_blocks::Entity>(&app, &mut outcomes).await;
    tamper::<ledger_transactions::Entity>(&app, &mut outcomes).await;
    tamper::<ledger_outbox::Entity>(&app, &mut outcomes).await;
    tamper::<status_lists::Entity>(&app, &mut outcomes).await;
    tamper::<status_list_versions::Entity>(&app, &mut outcomes).await;
    tamper::<issued_credentials::Entity>(&app, &mut outcomes).await;
    tamper::<did_operations::Entity>(&app, &mut outcomes).await;
    tamper::<schema_registrations::Entity>(&app, &mut outcomes).await;
    tamper::<trust_statements::Entity>(&app, &mut outcomes).await;
    tamper::<credential_types::Entity>(&app, &mut outcomes).await;

    let unnoticed: Vec<&str> = outcomes
        .iter()
        .filter(|(_, o)| *o == Outcome::Unnoticed)
        .map(|(c, _)| c.as_str())
        .collect();
    let exempt: Vec<&str> = CANNOT_MATTER.iter().map(|(c, _)| *c).collect();
    assert_eq!(
        unnoticed, exempt,
        "every column is checked, or its edit cannot matter (and is listed as such)"
    );
    let after = integrity::verify(&app.state.ledger, &app.db, &app.seal).await;
    assert_eq!(after.broken, None, "every edit was undone");
}
