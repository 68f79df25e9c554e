//! An institution's own record of what it issued, as its portal reads it: search, one
//! credential with its anchor and history, the audit log, and the dashboard's figures.
//! Identifiers, types and times, and the text of the non-personal claims for search: no
//! personal claim's value is ever recorded.

use std::collections::BTreeMap;

use certus_schemas::portal::{
    AuditEntry, BlockSummary, CredentialRecord, CredentialSearch, CredentialState, Dashboard,
    DayActivity, TypeCount, ACTIVITY_DAYS,
};
use certus_schemas::wire::{StatusPurpose, StatusReason};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::ledger::hash::Digest;
use crate::ledger::store as ledger_store;
use crate::ledger::transaction::Kind;
use crate::store::entities::{
    audit_log, audit_outbox, credential_copies, issued_credentials, presentation_requests,
};
use crate::store::{containing, has_type, Inserts};
use certus_credential::catalog::CredentialType;
use certus_credential::time::{xsd_millis, xsd_now};

/// Why a search was refused.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// A parameter is malformed; the name says which.
    #[error("{message}")]
    Invalid { message: String, parameter: String },
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// The institutions' records of what they issued, for the portal.
#[derive(Debug, Clone)]
pub struct Records {
    db: DatabaseConnection,
}

impl Records {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Whether the database answers.
    /// The database the records are read from.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub async fn ping(&self) -> Result<(), DbErr> {
        self.db.execute_unprepared("SELECT 1").await.map(drop)
    }
}

/// Records issued credentials with `inserts` (the recorder's batches).
pub fn insert(
    inserts: &mut Inserts,
    rows: impl IntoIterator<Item = issued_credentials::ActiveModel>,
) {
    inserts.rows(rows);
}

/// The credential ids of every copy of the batches the credentials `ids` of `tenant_id` were
/// issued in, themselves included; none when none of them was issued in a batch.
pub async fn copies(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    ids: &[String],
) -> Result<Vec<String>, DbErr> {
    use credential_copies::Column;
    let batches: Vec<String> = credential_copies::Entity::find()
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::CredentialId.is_in(ids.iter().map(String::as_str)))
        .select_only()
        .column(Column::BatchId)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    if batches.is_empty() {
        return Ok(Vec::new());
    }
    credential_copies::Entity::find()
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::BatchId.is_in(batches))
        .select_only()
        .column(Column::CredentialId)
        .into_tuple()
        .all(db)
        .await
}

/// Marks the `selected` credentials that are not revoked as revoked, suspended or
/// reinstated (`purpose` and `set`) for `reason`, in `conn`'s transaction; the records
/// that changed.
pub async fn set_status(
    conn: &impl ConnectionTrait,
    selected: Condition,
    purpose: StatusPurpose,
    set: bool,
    reason: StatusReason,
    now: DateTime<Utc>,
) -> Result<Vec<issued_credentials::Model>, DbErr> {
    use issued_credentials::Column;
    let reason_code = serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned));
    let update = issued_credentials::Entity::update_many()
        .col_expr(Column::StatusReason, Expr::value(reason_code))
        .filter(selected)
        .filter(Column::RevokedAt.is_null());
    let update = match (purpose, set) {
        (StatusPurpose::Revocation, _) => update.col_expr(Column::RevokedAt, Expr::value(now)),
        (StatusPurpose::Suspension, true) => update
            .col_expr(Column::SuspendedAt, Expr::value(now))
            .filter(Column::SuspendedAt.is_null()),
        (StatusPurpose::Suspension, false) => update
            .col_expr(Column::SuspendedAt, Expr::value(None::<DateTime<Utc>>))
            .filter(Column::SuspendedAt.is_not_null()),
    };
    update.exec_with_returning(conn).await
}

/// A claim value longer than this is not searchable text (a photo, a document): it is
/// left out of [`claim_text`].
const SEARCHABLE_VALUE_CHARS: usize = 256;

/// What a claim search looks in, for a credential of `credential_type` about `subject`:
/// the values of the claims its schema lists that are neither flagged personal nor named
/// as personal data usually is (`birthDate`, `email`…), strings and numbers in nested
/// objects and arrays too, each case-folded on its own line. `None` when there is no
/// such value. A credential issued openly has no schema to tell personal claims apart,
/// so nothing of it is kept.
pub fn claim_text(subject: &serde_json::Value, credential_type: &CredentialType) -> Option<String> {
    fn values(value: &serde_json::Value, lines: &mut Vec<String>) {
        match value {
            serde_json::Value::String(s) if s.chars().count() <= SEARCHABLE_VALUE_CHARS => {
                lines.push(fold(s));
            }
            serde_json::Value::Number(n) => lines.push(n.to_string()),
            serde_json::Value::Array(items) => items.iter().for_each(|v| values(v, lines)),
            serde_json::Value::Object(members) => members.values().for_each(|v| values(v, lines)),
            _ => {}
        }
    }
    let mut lines = Vec::new();
    for (name, _, _) in credential_type.claim_names() {
        let personal = credential_type.personal_claims.iter().any(|p| p == name)
            || certus_schemas::privacy::usually_personal(name);
        if let Some(value) = subject.get(name).filter(|_| !personal) {
            values(value, &mut lines);
        }
    }
    lines.retain(|l| !l.trim().is_empty());
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Text as [`claim_text`] keeps it and a claim search compares it: lower case, the same
/// on every database.
fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// The portal's view of a record.
pub fn record(row: &issued_credentials::Model) -> CredentialRecord {
    CredentialRecord {
        id: row.credential_id.clone(),
        types: serde_json::from_str(&row.types).unwrap_or_default(),
        issuer: row.issuer.clone(),
        format: row.format.clone(),
        issued_at: xsd_now(row.issued_at),
        issued_by: row.issued_by.clone(),
        issued_by_name: None,
        status: state_of(row),
        status_reason: reason_of(row),
        commitment: row.commitment.clone(),
    }
}

/// The recorded reason of the credential's last status change.
pub fn reason_of(row: &issued_credentials::Model) -> Option<StatusReason> {
    let reason = row.status_reason.clone()?;
    serde_json::from_value(serde_json::Value::String(reason)).ok()
}

fn state_of(row: &issued_credentials::Model) -> CredentialState {
    if row.revoked_at.is_some() {
        CredentialState::Revoked
    } else if row.suspended_at.is_some() {
        CredentialState::Suspended
    } else {
        CredentialState::Active
    }
}

fn time(value: Option<&str>, parameter: &str) -> Result<Option<DateTime<Utc>>, SearchError> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| SearchError::Invalid {
                    message: format!("{parameter} must be an RFC 3339 date-time"),
                    parameter: parameter.to_owned(),
                })
        })
        .transpose()
}

/// The records of `tenant_id` that `search` selects, newest first, `limit` of them from
/// `search.offset`, with the total count; only those of `among` when given (the
/// credentials of the person `search.reference` names, which the caller resolves).
pub async fn search(
    records: &Records,
    tenant_id: &str,
    search: &CredentialSearch,
    among: Option<Vec<String>>,
    limit: u64,
) -> Result<(u64, Vec<CredentialRecord>), SearchError> {
    use issued_credentials::Column;
    let db = &records.db;
    let mut condition = Condition::all().add(Column::TenantId.eq(tenant_id));
    if let Some(ids) = among {
        condition = condition.add(Column::CredentialId.is_in(ids));
    }
    if let Some(q) = search.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        condition = condition.add(Expr::col(Column::CredentialId).like(containing(q)));
    }
    if let Some(text) = search
        .claim
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        condition = condition.add(Expr::col(Column::ClaimText).like(containing(&fold(text))));
    }
    if let Some(name) = search.credential_type.as_deref().filter(|t| !t.is_empty()) {
        condition = condition.add(has_type(name));
    }
    condition = match search.status {
        None => condition,
        Some(CredentialState::Revoked) => condition.add(Column::RevokedAt.is_not_null()),
        Some(CredentialState::Suspended) => condition
            .add(Column::RevokedAt.is_null())
            .add(Column::SuspendedAt.is_not_null()),
        Some(CredentialState::Active) => condition
            .add(Column::RevokedAt.is_null())
            .add(Column::SuspendedAt.is_null()),
    };
    if let Some(from) = time(search.issued_from.as_deref(), "issuedFrom")? {
        condition = condition.add(Column::IssuedAt.gte(from));
    }
    if let Some(until) = time(search.issued_until.as_deref(), "issuedUntil")? {
        condition = condition.add(Column::IssuedAt.lt(until));
    }
    let query = issued_credentials::Entity::find().filter(condition);
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(Column::IssuedAt)
        .order_by_desc(Column::Id)
        .offset(search.offset.unwrap_or(0))
        .limit(limit)
        .all(db)
        .await?;
    Ok((total, rows.iter().map(record).collect()))
}

/// The record of credential `id` of `tenant_id`.
pub async fn find(
    records: &Records,
    tenant_id: &str,
    id: &str,
) -> Result<Option<issued_credentials::Model>, DbErr> {
    let db = &records.db;
    issued_credentials::Entity::find()
        .filter(issued_credentials::Column::TenantId.eq(tenant_id))
        .filter(issued_credentials::Column::CredentialId.eq(id))
        .one(db)
        .await
}

fn sealed(row: audit_log::Model) -> AuditEntry {
    AuditEntry {
        position: Some(row.position as u64),
        actor: row.actor,
        actor_name: None,
        action: row.action,
        subject: row.subject,
        at: xsd_millis(row.at_ms),
        hash: Some(row.hash),
    }
}

fn pending(row: audit_outbox::Model) -> AuditEntry {
    AuditEntry {
        position: None,
        actor: row.actor,
        actor_name: None,
        action: row.action,
        subject: row.subject,
        at: xsd_millis(row.at_ms),
        hash: None,
    }
}

/// Every audit entry of `tenant_id` about `subject`, sealed or waiting, oldest first.
pub async fn history(
    records: &Records,
    tenant_id: &str,
    subject: &str,
) -> Result<Vec<AuditEntry>, DbErr> {
    let db = &records.db;
    let mut entries: Vec<(i64, AuditEntry)> = audit_log::Entity::find()
        .filter(audit_log::Column::TenantId.eq(tenant_id))
        .filter(audit_log::Column::Subject.eq(subject))
        .order_by_asc(audit_log::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.at_ms, sealed(row)))
        .collect();
    entries.extend(
        audit_outbox::Entity::find()
            .filter(audit_outbox::Column::TenantId.eq(tenant_id))
            .filter(audit_outbox::Column::Subject.eq(subject))
            .order_by_asc(audit_outbox::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(|row| (row.at_ms, pending(row))),
    );
    // Stable: sealed entries keep their chain order, waiting ones follow at equal times.
    entries.sort_by_key(|(at, _)| *at);
    Ok(entries.into_iter().map(|(_, e)| e).collect())
}

/// The newest audit entries of `tenant_id`: those waiting for a block, then sealed ones
/// before position `before` (all when absent), `limit` of each at most.
pub async fn audit_log(
    records: &Records,
    tenant_id: &str,
    before: Option<u64>,
    limit: u64,
) -> Result<Vec<AuditEntry>, DbErr> {
    let db = &records.db;
    let mut entries = Vec::new();
    if before.is_none() {
        entries.extend(
            audit_outbox::Entity::find()
                .filter(audit_outbox::Column::TenantId.eq(tenant_id))
                .order_by_desc(audit_outbox::Column::Id)
                .limit(limit)
                .all(db)
                .await?
                .into_iter()
                .map(pending),
        );
    }
    let mut sealed_query =
        audit_log::Entity::find().filter(audit_log::Column::TenantId.eq(tenant_id));
    if let Some(before) = before {
        sealed_query = sealed_query.filter(audit_log::Column::Position.lt(before as i64));
    }
    entries.extend(
        sealed_query
            .order_by_desc(audit_log::Column::Position)
            .limit(limit)
            .all(db)
            .await?
            .into_iter()
            .map(sealed),
    );
    Ok(entries)
}

/// The newest blocks, `limit` at most, before `before` (from the head when absent).
pub async fn blocks(
    records: &Records,
    before: Option<u64>,
    limit: u64,
) -> Result<Vec<BlockSummary>, DbErr> {
    let db = &records.db;
    Ok(ledger_store::blocks(db, before, limit)
        .await?
        .into_iter()
        .map(|b| BlockSummary {
            height: b.height as u64,
            hash: b.hash,
            time: xsd_millis(b.time_ms),
            tx_count: b.tx_count as u64,
        })
        .collect())
}

/// The dashboard of `tenant_id`.
pub async fn dashboard(
    records: &Records,
    tenant_id: &str,
    now: DateTime<Utc>,
) -> Result<Dashboard, DbErr> {
    use issued_credentials::Column;
    let db = &records.db;
    let mine = || issued_credentials::Entity::find().filter(Column::TenantId.eq(tenant_id));
    let issued = mine().count(db).await?;
    let revoked = mine()
        .filter(Column::RevokedAt.is_not_null())
        .count(db)
        .await?;
    let suspended = mine()
        .filter(Column::RevokedAt.is_null())
        .filter(Column::SuspendedAt.is_not_null())
        .count(db)
        .await?;
    let pending_anchors = mine()
        .filter(Column::Commitment.in_subquery(ledger_store::pending_commitments()))
        .count(db)
        .await?;
    let type_sets: Vec<(String, i64)> = mine()
        .select_only()
        .column(Column::Types)
        .column_as(Column::Id.count(), "n")
        .group_by(Column::Types)
        .into_tuple()
        .all(db)
        .await?;
    let mut by_type: BTreeMap<String, u64> = BTreeMap::new();
    for (types, n) in type_sets {
        let types: Vec<String> = serde_json::from_str(&types).unwrap_or_default();
        for t in types.into_iter().filter(|t| t != "VerifiableCredential") {
            *by_type.entry(t).or_default() += n as u64;
        }
    }
    Ok(Dashboard {
        issued,
        active: issued - revoked - suspended,
        suspended,
        revoked,
        pending_anchors,
        by_type: by_type
            .into_iter()
            .map(|(type_name, count)| TypeCount { type_name, count })
            .collect(),
        latest_blocks: blocks(records, None, 5).await?,
        activity: activity(db, tenant_id, now).await?,
    })
}

/// What `tenant_id` did each day of the [`ACTIVITY_DAYS`] up to `now`'s, oldest first:
/// counted in the database, grouped by day.
async fn activity(
    db: &DatabaseConnection,
    tenant_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<DayActivity>, DbErr> {
    let today = now.date_naive();
    let first = today - chrono::Days::new(u64::from(ACTIVITY_DAYS - 1));
    let start = first.and_time(chrono::NaiveTime::MIN).and_utc();
    // A moment column's day (UTC) as `YYYY-MM-DD`, in the database's own words.
    let day_of = |column: &str| match db.get_database_backend() {
        DbBackend::Postgres => Expr::cust(format!(
            "to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
        )),
        _ => Expr::cust(format!("substr({column}, 1, 10)")),
    };
    let issued: Vec<(String, i64)> = counted_by(
        db,
        issued_credentials::Entity::find()
            .filter(issued_credentials::Column::TenantId.eq(tenant_id))
            .filter(issued_credentials::Column::IssuedAt.gte(start)),
        day_of("issued_at"),
    )
    .await?;
    let verified: Vec<(String, i64)> = counted_by(
        db,
        presentation_requests::Entity::find()
            .filter(presentation_requests::Column::TenantId.eq(tenant_id))
            .filter(presentation_requests::Column::AnsweredAt.gte(start))
            .filter(presentation_requests::Column::Status.is_in(["accepted", "rejected"])),
        day_of("answered_at"),
    )
    .await?;
    // Status changes, sealed or waiting for the next block, by day number since 1970.
    let status_actions = [
        "credential.revoke",
        "credential.suspend",
        "credential.reinstate",
    ];
    let day_number = || Expr::cust(format!("at_ms / {MS_PER_DAY}"));
    let mut changes: Vec<(i64, i64)> = counted_by(
        db,
        audit_log::Entity::find()
            .filter(audit_log::Column::TenantId.eq(tenant_id))
            .filter(audit_log::Column::Action.is_in(status_actions))
            .filter(audit_log::Column::AtMs.gte(start.timestamp_millis())),
        day_number(),
    )
    .await?;
    changes.extend(
        counted_by::<_, i64>(
            db,
            audit_outbox::Entity::find()
                .filter(audit_outbox::Column::TenantId.eq(tenant_id))
                .filter(audit_outbox::Column::Action.is_in(status_actions))
                .filter(audit_outbox::Column::AtMs.gte(start.timestamp_millis())),
            day_number(),
        )
        .await?,
    );
    let mut days: BTreeMap<String, DayActivity> = (0..ACTIVITY_DAYS)
        .map(|i| {
            let day = (first + chrono::Days::new(u64::from(i))).to_string();
            (
                day.clone(),
                DayActivity {
                    day,
                    ..Default::default()
                },
            )
        })
        .collect();
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    for (day, n) in issued {
        if let Some(d) = days.get_mut(&day) {
            d.issued += count(n);
        }
    }
    for (day, n) in verified {
        if let Some(d) = days.get_mut(&day) {
            d.verifications += count(n);
        }
    }
    for (number, n) in changes {
        let day = chrono::DateTime::from_timestamp_millis(number * MS_PER_DAY)
            .map(|t| t.date_naive().to_string());
        if let Some(d) = day.and_then(|day| days.get_mut(&day)) {
            d.status_changes += count(n);
        }
    }
    Ok(days.into_values().collect())
}

/// The rows `query` selects, counted per value of `bucket`.
async fn counted_by<E: EntityTrait, K: sea_orm::TryGetable>(
    db: &DatabaseConnection,
    query: sea_orm::Select<E>,
    bucket: impl sea_orm::ColumnAsExpr,
) -> Result<Vec<(K, i64)>, DbErr> {
    query
        .select_only()
        .column_as(bucket, "bucket")
        .column_as(Expr::cust("COUNT(*)"), "n")
        .group_by(Expr::cust("bucket"))
        .into_tuple()
        .all(db)
        .await
}

const MS_PER_DAY: i64 = 86_400_000;

/// Seals an issued credential's record: an HMAC-SHA256, under a key derived from the
/// node's master key (kept outside the database), over every column fixed at issuance —
/// which credential it is, whose, of what type and format, from which issuer and when, its
/// commitment, and its status lists and index (which a status change acts on). Someone
/// who can write the database but not read the master key cannot re-point a record.
#[derive(Clone)]
pub struct RecordSeal([u8; 32]);

impl std::fmt::Debug for RecordSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordSeal(..)")
    }
}

impl RecordSeal {
    pub fn new(master: &crate::keys::MasterKey) -> Self {
        Self(master.derive("issued-credential-record/v1"))
    }

    /// The HMAC over `record`'s fixed columns, not yet finalised.
    fn mac(&self, record: &issued_credentials::Model) -> hmac::Hmac<sha2::Sha256> {
        use hmac::Mac;
        let fixed = serde_json::json!([
            record.id,
            record.tenant_id,
            record.credential_id,
            record.types,
            record.issuer,
            record.format,
            record.issued_at.timestamp_millis(),
            record.commitment,
            record.issued_by,
            record.revocation_list,
            record.suspension_list,
            record.status_index,
        ]);
        let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.0)
            .expect("HMAC takes a key of any length");
        mac.update(fixed.to_string().as_bytes());
        mac
    }

    /// The seal of `record` (its `seal` column aside), hex.
    pub fn of(&self, record: &issued_credentials::Model) -> String {
        use hmac::Mac;
        hex::encode(self.mac(record).finalize().into_bytes())
    }

    /// Whether `record` carries its seal (compared in constant time).
    fn holds(&self, record: &issued_credentials::Model) -> bool {
        use hmac::Mac;
        record
            .seal
            .as_deref()
            .and_then(|s| hex::decode(s).ok())
            .is_some_and(|seal| self.mac(record).verify_slice(&seal).is_ok())
    }
}

/// Checks every issued credential's record: its seal holds (see [`RecordSeal`]), and its
/// commitment is on the chain (or waiting for the next block). The credential itself is
/// checked against that commitment whenever it is verified; the record's status against
/// its lists by [`crate::status::verify::verify_store`]. The number checked, or the first
/// that does not hold.
pub async fn verify_store(db: &DatabaseConnection, seal: &RecordSeal) -> Result<u64, String> {
    let failed = |e: DbErr| e.to_string();
    let committed = ledger_store::committed(db, Kind::CredentialAnchor)
        .await
        .map_err(failed)?;
    let mut pages = issued_credentials::Entity::find()
        .order_by_asc(issued_credentials::Column::Id)
        .paginate(db, 10_000);
    let mut checked = 0;
    while let Some(records) = pages.fetch_and_next().await.map_err(failed)? {
        for record in &records {
            let id = &record.credential_id;
            if !seal.holds(record) {
                return Err(format!(
                    "credential {id}: its record is not as issued (the seal does not hold)"
                ));
            }
            let anchored = record
                .commitment
                .as_deref()
                .and_then(|c| Digest::from_hex(c).ok())
                .is_some_and(|c| committed.contains(&c));
            if !anchored {
                return Err(format!("credential {id}: its commitment is not anchored"));
            }
            checked += 1;
        }
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::{claim_text, CredentialType};

    /// The bundled food certificate's type, with `more` claims added to its schema.
    fn food_with(more: Value) -> CredentialType {
        let doc = certus_schemas::CREDENTIAL_TYPE_SCHEMAS
            .iter()
            .find(|d| d.json.contains("\"FoodIngredientCertificate\""))
            .expect("bundled food schema");
        let mut schema: Value = serde_json::from_str(doc.json).expect("schema JSON");
        for (name, claim) in more.as_object().expect("claims") {
            schema["properties"][name] = claim.clone();
        }
        CredentialType::from_schema(&schema.to_string()).expect("schema")
    }

    #[test]
    fn keeps_the_non_personal_values_folded_and_nothing_personal() {
        let t = food_with(json!({
            "sites": {"type": "array", "items": {"type": "object"}},
            "contactEmail": {"type": "string"},
            "logo": {"type": "string"},
            "organic": {"type": "boolean"},
        }));
        let subject = json!({
            "id": "did:example:holder",
            "ingredientName": "Cold-pressed Olive Oil",
            "producer": "Frantoio",
            "auditorName": "Luca Bianchi",
            "contactEmail": "luca@example.org",
            "sites": [{"city": "Bari", "hectares": 12}, {"city": "Lecce"}],
            "logo": "x".repeat(257),
            "organic": true,
            "unlisted": "not in the schema",
        });
        let text = claim_text(&subject, &t).expect("text");
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort_unstable();
        assert_eq!(
            lines,
            ["12", "bari", "cold-pressed olive oil", "frantoio", "lecce"],
            "flagged and usually personal claims, long values, booleans, unlisted claims and \
             the subject's id are left out"
        );
    }

    #[test]
    fn a_subject_of_personal_claims_only_keeps_nothing() {
        let t = food_with(json!({}));
        assert_eq!(claim_text(&json!({"auditorName": "Luca"}), &t), None);
        assert_eq!(claim_text(&json!({"producer": "  "}), &t), None);
    }
}
