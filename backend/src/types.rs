//! Credential types as data (decision 15). Every version of every type is a row: the four
//! bundled ones, seeded at first start, and those an institution defines through the API or
//! the portal. Defining one composes its published schema (with the `x-certus-*`
//! annotations the catalog reads), generates its JSON-LD context, proves the two fit by
//! signing the example with them, and registers the schema's hash on the chain in the same
//! unit of work. A version never changes; a type can be retired.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use serde_json::{json, Value};

use crate::auth::Principal;
use crate::coherence::{Cached, Reload};
use crate::error::{DomainError, ErrorKind};
use crate::store;
use crate::store::entities::{audit_log, audit_outbox, credential_types, schema_registrations};
use crate::work::Work;
use certus_credential::catalog::{
    context_of, defined_by_vc_v2, integrity, is_term, Catalog, CredentialType,
};
use certus_credential::contexts::Contexts;
use certus_credential::data_integrity::{self, ProofConfig};
use certus_credential::did::did_key_for;
use certus_credential::time::xsd_now;
use certus_credential::VC_V2_CONTEXT;
use certus_ledger::transaction::Transaction;
use certus_schemas::privacy::Period;
use certus_schemas::types::{draft_schema, ClaimKind, NewCredentialType, TypeDisplay};

/// The largest schema a type may have, serialized.
pub const MAX_SCHEMA_BYTES: usize = 64 * 1024;
/// The most claims a type may have (at any depth).
pub const MAX_CLAIMS: usize = 200;
const JSON_SCHEMA_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// Why a type could not be defined, versioned or retired.
#[derive(Debug, thiserror::Error)]
pub enum TypeError {
    #[error("{message}")]
    Invalid { message: String, pointer: String },
    #[error("a credential type named `{0}` already exists")]
    Exists(String),
    #[error("no credential type `{0}`")]
    NotFound(String),
    #[error(
        "`{0}` belongs to another institution (or ships with Certus): only its owner may change it"
    )]
    NotOwner(String),
    #[error("`{0}` is already retired")]
    AlreadyRetired(String),
    #[error("storing the credential type failed: {0}")]
    Db(#[from] DbErr),
}

impl DomainError for TypeError {
    fn code(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "INVALID_CREDENTIAL_TYPE",
            Self::Exists(_) => "CREDENTIAL_TYPE_EXISTS",
            Self::NotFound(_) => "UNKNOWN_CREDENTIAL_TYPE",
            Self::NotOwner(_) => "NOT_TYPE_OWNER",
            Self::AlreadyRetired(_) => "CREDENTIAL_TYPE_RETIRED",
            Self::Db(_) => "INTERNAL",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid { .. } => ErrorKind::Invalid,
            Self::Exists(_) | Self::AlreadyRetired(_) => ErrorKind::Conflict,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::NotOwner(_) => ErrorKind::Forbidden,
            Self::Db(_) => ErrorKind::Internal,
        }
    }

    fn pointer(&self) -> Option<String> {
        match self {
            Self::Invalid { pointer, .. } => Some(pointer.clone()),
            _ => None,
        }
    }
}

fn invalid(pointer: &str, message: impl Into<String>) -> TypeError {
    TypeError::Invalid {
        message: message.into(),
        pointer: pointer.to_owned(),
    }
}

/// The row id of version `version` of `name`.
fn row_id(name: &str, version: u32) -> String {
    format!("{name}/v{version}")
}

/// Inserts the bundled types not yet stored (first start, or a release that ships a new
/// one) and returns every stored version, oldest first. A stored version is never replaced.
pub async fn seed(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<Vec<credential_types::Model>, DbErr> {
    let stored = credential_types::Entity::find().all(db).await?;
    for (document, t) in certus_schemas::CREDENTIAL_TYPE_SCHEMAS
        .iter()
        .zip(Catalog::bundled_types())
    {
        let id = row_id(&t.name, t.version);
        if stored.iter().any(|row| row.id == id) {
            continue;
        }
        let context = certus_schemas::CONTEXTS
            .iter()
            .find(|c| c.url == t.context)
            .map(|c| c.json)
            .expect("every bundled type's context is bundled");
        credential_types::ActiveModel {
            id: Set(id),
            name: Set(t.name.clone()),
            version: Set(t.version as i32),
            tenant_id: Set(None),
            schema: Set(document.json.to_owned()),
            schema_hash: Set(t.schema_hash.to_hex()),
            context_url: Set(t.context.clone()),
            context: Set(context.to_owned()),
            created_by: Set("certus".into()),
            created_at_ms: Set(now.timestamp_millis()),
            retired_at_ms: Set(None),
        }
        .insert(db)
        .await?;
    }
    all_stored(db).await
}

/// The catalog type of a stored row.
fn of_row(row: &credential_types::Model) -> Result<CredentialType, String> {
    let mut t = CredentialType::from_schema(&row.schema).map_err(|e| format!("{}: {e}", row.id))?;
    if t.schema_hash.to_hex() != row.schema_hash {
        return Err(format!(
            "{}: the stored schema does not match its hash",
            row.id
        ));
    }
    t.owner = row.tenant_id.clone();
    t.retired = row.retired_at_ms.is_some();
    Ok(t)
}

/// JSON-LD context documents to register with the loader: (URL, JSON text).
pub type ContextDocuments = Vec<(String, String)>;

/// The catalog of the stored rows, and the contexts of the defined types (the bundled ones
/// are in every binary) to register with the JSON-LD loader.
pub fn catalog_of(rows: &[credential_types::Model]) -> anyhow::Result<(Catalog, ContextDocuments)> {
    let (types, contexts) = types_of(rows)?;
    Ok((Catalog::new(types), contexts))
}

fn types_of(
    rows: &[credential_types::Model],
) -> anyhow::Result<(Vec<CredentialType>, ContextDocuments)> {
    let types = rows
        .iter()
        .map(of_row)
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let contexts = rows
        .iter()
        .filter(|row| row.tenant_id.is_some())
        .map(|row| (row.context_url.clone(), row.context.clone()))
        .collect();
    Ok((types, contexts))
}

/// All stored versions, oldest first.
async fn all_stored(db: &DatabaseConnection) -> Result<Vec<credential_types::Model>, DbErr> {
    credential_types::Entity::find()
        .order_by_asc(credential_types::Column::CreatedAtMs)
        .order_by_asc(credential_types::Column::Version)
        .all(db)
        .await
}

/// The audit entry of `action` on `subject` (chained or still waiting): its tenant, actor
/// and time.
async fn audited(
    db: &DatabaseConnection,
    action: &str,
    subject: &str,
) -> Result<Option<(String, String, i64)>, DbErr> {
    if let Some(e) = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .filter(audit_log::Column::Subject.eq(subject))
        .one(db)
        .await?
    {
        return Ok(Some((e.tenant_id, e.actor, e.at_ms)));
    }
    Ok(audit_outbox::Entity::find()
        .filter(audit_outbox::Column::Action.eq(action))
        .filter(audit_outbox::Column::Subject.eq(subject))
        .one(db)
        .await?
        .map(|e| (e.tenant_id, e.actor, e.at_ms)))
}

/// Checks every stored version: its schema is the one hashed (the hash a defined type
/// registered on the chain, whose anchor `trust::verify_store` checks) and names the type,
/// version and context of its row; its context is the one the schema pins; a bundled one
/// is the binary's; a defined one's owner, author and time, and any retirement, are those
/// of the hash-chained audit log. The number of versions checked.
pub async fn verify_store(db: &DatabaseConnection) -> Result<usize, String> {
    let rows = credential_types::Entity::find()
        .all(db)
        .await
        .map_err(|e| e.to_string())?;
    for row in &rows {
        let t = of_row(row)?;
        let broken = |why: &str| Err(format!("{}: {why}", row.id));
        if row.id != row_id(&t.name, t.version)
            || row.name != t.name
            || i64::from(row.version) != i64::from(t.version)
            || row.context_url != t.context
        {
            return broken("the row does not match its schema");
        }
        if integrity(&row.context) != t.context_integrity {
            return broken("the context is not the one its schema pins");
        }
        let audit = |action: &'static str| audited(db, action, &row.id);
        match &row.tenant_id {
            None => {
                let bundled = certus_schemas::CREDENTIAL_TYPE_SCHEMAS
                    .iter()
                    .any(|d| d.json == row.schema);
                if !bundled || row.created_by != "certus" {
                    return broken("not a type that ships with Certus, yet owned by none");
                }
            }
            Some(tenant) => {
                let registered = schema_registrations::Entity::find_by_id(row.schema_hash.clone())
                    .one(db)
                    .await
                    .map_err(|e| e.to_string())?;
                if registered.is_none_or(|r| r.name != row.name) {
                    return broken("its schema is not registered on the chain");
                }
                let defined = audit("credential-type.define")
                    .await
                    .map_err(|e| e.to_string())?;
                if defined != Some((tenant.clone(), row.created_by.clone(), row.created_at_ms)) {
                    return broken("its owner, author or time is not the audit log's");
                }
            }
        }
        let retired = audit("credential-type.retire")
            .await
            .map_err(|e| e.to_string())?;
        if retired.map(|(_, _, at)| at) != row.retired_at_ms {
            return broken("its retirement is not the audit log's");
        }
    }
    Ok(rows.len())
}

/// The credential-type registry: defines, versions and retires types, and keeps the shared
/// catalog and JSON-LD loader up to date.
pub struct CredentialTypes {
    db: DatabaseConnection,
    catalog: Arc<Catalog>,
    contexts: Arc<Contexts>,
    public_url: Arc<str>,
    /// One definition at a time, so two cannot take the same name or version.
    defining: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for CredentialTypes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialTypes").finish_non_exhaustive()
    }
}

/// What a stored version publishes.
pub struct Published {
    pub schema: String,
    pub context: String,
}

impl CredentialTypes {
    pub fn new(
        db: DatabaseConnection,
        catalog: Arc<Catalog>,
        contexts: Arc<Contexts>,
        public_url: Arc<str>,
    ) -> Self {
        Self {
            db,
            catalog,
            contexts,
            public_url,
            defining: Default::default(),
        }
    }

    /// The catalog every service reads.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// Defines a new type, version 1, owned by the caller's tenant.
    pub async fn define(
        &self,
        principal: &Principal,
        body: NewCredentialType,
        now: DateTime<Utc>,
    ) -> Result<Arc<CredentialType>, TypeError> {
        let name = body
            .type_name
            .clone()
            .ok_or_else(|| invalid("/type", "name the type (`type`)"))?;
        check_type_name(&name)?;
        let _one = self.defining.lock().await;
        if self.catalog.get(&name).is_some() {
            return Err(TypeError::Exists(name));
        }
        self.store(principal, &name, 1, body, now).await
    }

    /// Adds a version to the caller's own type `name`; credentials of earlier versions keep
    /// theirs.
    pub async fn add_version(
        &self,
        principal: &Principal,
        name: &str,
        body: NewCredentialType,
        now: DateTime<Utc>,
    ) -> Result<Arc<CredentialType>, TypeError> {
        if body.type_name.as_deref().is_some_and(|t| t != name) {
            return Err(invalid("/type", "a new version keeps the type's name"));
        }
        let _one = self.defining.lock().await;
        let newest = self.owned(principal, name)?;
        self.store(principal, name, newest.version + 1, body, now)
            .await
    }

    /// Retires version `version` of the caller's own type `name`: it can no longer be
    /// issued; its credentials still verify.
    pub async fn retire(
        &self,
        principal: &Principal,
        name: &str,
        version: u32,
        now: DateTime<Utc>,
    ) -> Result<Arc<CredentialType>, TypeError> {
        let _one = self.defining.lock().await;
        self.owned(principal, name)?;
        let t = self
            .catalog
            .version(name, version)
            .ok_or_else(|| TypeError::NotFound(row_id(name, version)))?;
        if t.retired {
            return Err(TypeError::AlreadyRetired(row_id(name, version)));
        }
        let row = credential_types::Entity::find_by_id(row_id(name, version))
            .one(&self.db)
            .await?
            .ok_or_else(|| TypeError::NotFound(row_id(name, version)))?;
        let mut work = Work::begin(&self.db, now).await?;
        let mut active: credential_types::ActiveModel = row.clone().into();
        active.retired_at_ms = Set(Some(now.timestamp_millis()));
        let row = active.update(work.conn()).await?;
        work.audit_by(principal, "credential-type.retire", &row.id);
        work.touch(Cached::Types);
        work.commit().await?;
        let retired = of_row(&row).map_err(|e| TypeError::Db(DbErr::Custom(e)))?;
        self.catalog.put(retired);
        Ok(self.catalog.version(name, version).expect("just put"))
    }

    /// The schema and context text version `version` of `name` publishes.
    pub async fn published(&self, name: &str, version: u32) -> Result<Published, TypeError> {
        let row = credential_types::Entity::find_by_id(row_id(name, version))
            .one(&self.db)
            .await?
            .ok_or_else(|| TypeError::NotFound(row_id(name, version)))?;
        Ok(Published {
            schema: row.schema,
            context: row.context,
        })
    }

    /// The newest version of `name` when the caller's tenant owns it.
    fn owned(&self, principal: &Principal, name: &str) -> Result<Arc<CredentialType>, TypeError> {
        let newest = self
            .catalog
            .get(name)
            .ok_or_else(|| TypeError::NotFound(name.to_owned()))?;
        if newest.owner.as_deref() != Some(principal.tenant_id.as_str()) {
            return Err(TypeError::NotOwner(name.to_owned()));
        }
        Ok(newest)
    }

    async fn store(
        &self,
        principal: &Principal,
        name: &str,
        version: u32,
        body: NewCredentialType,
        now: DateTime<Utc>,
    ) -> Result<Arc<CredentialType>, TypeError> {
        let base = format!("{}/credential-types/{name}", self.public_url);
        let composed = compose(name, version, &base, body)?;
        prove_terms(name, &composed).await?;
        let mut t =
            CredentialType::from_schema(&composed.schema).map_err(|e| invalid("/schema", e))?;
        if let Some(v) = t.validate(&t.example).first() {
            return Err(invalid(
                &format!("/example{}", v.path),
                format!("the example does not match the schema: {}", v.message),
            ));
        }
        t.owner = Some(principal.tenant_id.clone());

        let mut work = Work::begin(&self.db, now).await?;
        credential_types::ActiveModel {
            id: Set(row_id(name, version)),
            name: Set(name.to_owned()),
            version: Set(version as i32),
            tenant_id: Set(Some(principal.tenant_id.clone())),
            schema: Set(composed.schema.clone()),
            schema_hash: Set(t.schema_hash.to_hex()),
            context_url: Set(t.context.clone()),
            context: Set(composed.context.clone()),
            created_by: Set(principal.actor_id()),
            created_at_ms: Set(now.timestamp_millis()),
            retired_at_ms: Set(None),
        }
        .insert(work.conn())
        .await
        .map_err(|e| match store::unique_violation(&e) {
            // Another process defined this version first.
            Some(_) => TypeError::Exists(row_id(name, version)),
            None => e.into(),
        })?;
        schema_registrations::ActiveModel {
            hash: Set(t.schema_hash.to_hex()),
            name: Set(name.to_owned()),
            at_ms: Set(now.timestamp_millis()),
        }
        .insert(work.conn())
        .await?;
        work.anchor(&Transaction::SchemaRegistration {
            hash: t.schema_hash,
            name: name.to_owned(),
        });
        work.audit_by(principal, "credential-type.define", &row_id(name, version));
        work.touch(Cached::Types);
        work.commit().await?;

        self.contexts
            .register([(t.context.clone(), composed.context)])
            .map_err(|e| TypeError::Db(DbErr::Custom(e)))?;
        self.catalog.put(t);
        Ok(self.catalog.version(name, version).expect("just put"))
    }
}

impl Reload for CredentialTypes {
    /// Takes in the versions defined or retired through another process.
    fn reload(&self) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + '_>> {
        Box::pin(async move {
            let _one = self.defining.lock().await;
            let (types, contexts) = types_of(&all_stored(&self.db).await?)?;
            self.contexts
                .register(contexts)
                .map_err(anyhow::Error::msg)?;
            self.catalog.replace(types);
            Ok(())
        })
    }
}

fn check_type_name(name: &str) -> Result<(), TypeError> {
    if !is_term(name) || !name.starts_with(|c: char| c.is_ascii_uppercase()) || name.len() < 3 {
        return Err(invalid(
            "/type",
            "a type name is 3 to 64 letters, digits or `_`, starting with a capital letter (e.g. `BoilerInspection`)",
        ));
    }
    if defined_by_vc_v2(name) {
        return Err(invalid(
            "/type",
            format!("`{name}` is a term of the W3C credentials context"),
        ));
    }
    Ok(())
}

/// A type's published documents, composed from a definition.
struct Composed {
    schema: String,
    context: String,
    context_url: String,
    example: Value,
}

/// The schema (with every `x-certus-*` annotation) and context a definition publishes as
/// version `version` under `base`.
fn compose(
    name: &str,
    version: u32,
    base: &str,
    body: NewCredentialType,
) -> Result<Composed, TypeError> {
    let title = body.title.trim();
    if title.is_empty() || title.len() > 200 {
        return Err(invalid("/title", "a title of 1 to 200 characters"));
    }
    if body.description.len() > 2000 {
        return Err(invalid("/description", "at most 2000 characters"));
    }
    if Period::parse(&body.retention).is_none() {
        return Err(invalid(
            "/retention",
            "an ISO 8601 duration, e.g. P10Y or P6M",
        ));
    }
    let (mut schema, drafted) = match (body.schema, body.claims) {
        (Some(schema), None) => (given_schema(schema)?, None),
        (None, Some(claims)) => {
            check_claims(&claims)?;
            let (schema, example) = draft_schema(&claims);
            (schema, Some(example))
        }
        _ => {
            return Err(invalid(
                "",
                "give either `schema` (a JSON Schema) or `claims`",
            ))
        }
    };
    let example = body.example.or(drafted).ok_or_else(|| {
        invalid(
            "/example",
            "give an example credentialSubject that matches the schema",
        )
    })?;
    let display = body
        .display
        .iter()
        .enumerate()
        .map(|(i, d)| check_display(i, d))
        .collect::<Result<Vec<_>, _>>()?;

    let version_base = format!("{base}/v{version}");
    let context_url = format!("{version_base}/context");
    let context = context_of(name, &format!("{base}/vocab"), &schema)
        .map_err(|(path, message)| invalid(&format!("/schema{path}"), message))?;
    let context = serde_json::to_string_pretty(&context).expect("JSON serializes");
    let object = schema.as_object_mut().expect("checked to be an object");
    for (key, value) in [
        ("$schema", json!(JSON_SCHEMA_2020_12)),
        ("$id", json!(format!("{version_base}/schema"))),
        ("title", json!(title)),
        ("description", json!(body.description)),
        ("x-certus-credential-type", json!(name)),
        ("x-certus-version", json!(version)),
        ("x-certus-context", json!(context_url)),
        ("x-certus-context-integrity", json!(integrity(&context))),
        ("x-certus-vct", json!(version_base)),
        ("x-certus-retention", json!(body.retention)),
        (
            "x-certus-data-subjects",
            json!(body
                .data_subjects
                .unwrap_or_else(|| "Persons named in the credential".into())),
        ),
        (
            "x-certus-accreditation-required",
            json!(body.accreditation_required),
        ),
        ("x-certus-display", json!(display)),
        ("examples", json!([example])),
    ] {
        object.insert(key.into(), value);
    }
    let text = serde_json::to_string_pretty(&schema).expect("JSON serializes");
    if text.len() > MAX_SCHEMA_BYTES {
        return Err(invalid(
            "/schema",
            format!("the schema exceeds {MAX_SCHEMA_BYTES} bytes"),
        ));
    }
    Ok(Composed {
        schema: text,
        context,
        context_url,
        example,
    })
}

/// A pasted JSON Schema of `credentialSubject`, stripped of what Certus decides.
fn given_schema(schema: Value) -> Result<Value, TypeError> {
    let Value::Object(mut object) = schema else {
        return Err(invalid("/schema", "a JSON Schema object"));
    };
    if object
        .get("$schema")
        .is_some_and(|s| s != JSON_SCHEMA_2020_12)
    {
        return Err(invalid(
            "/schema/$schema",
            format!("Certus validates with JSON Schema 2020-12 ({JSON_SCHEMA_2020_12})"),
        ));
    }
    if object.get("type") != Some(&json!("object")) {
        return Err(invalid(
            "/schema/type",
            "credentialSubject is an object: `\"type\": \"object\"`",
        ));
    }
    let properties = object
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("/schema/properties", "list the claims under `properties`"))?;
    if properties.keys().all(|k| k == "id") {
        return Err(invalid(
            "/schema/properties",
            "a type has at least one claim",
        ));
    }
    if count_claims(&Value::Object(object.clone())) > MAX_CLAIMS {
        return Err(invalid(
            "/schema/properties",
            format!("at most {MAX_CLAIMS} claims"),
        ));
    }
    if object
        .keys()
        .any(|k| k == "$ref" || k == "$defs" || k == "$dynamicRef")
    {
        return Err(invalid(
            "/schema",
            "a type's schema is self-contained: no `$ref` or `$defs`",
        ));
    }
    object.retain(|k, _| !k.starts_with("x-certus-") && k != "$id" && k != "examples");
    Ok(Value::Object(object))
}

fn count_claims(schema: &Value) -> usize {
    let item = |v: &Value| match v.get("items") {
        Some(items) => count_claims(items),
        None => count_claims(v),
    };
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| props.values().map(|p| 1 + item(p)).sum())
        .unwrap_or(0)
}

fn check_claims(claims: &[certus_schemas::types::ClaimSpec]) -> Result<(), TypeError> {
    if claims.is_empty() || claims.len() > MAX_CLAIMS {
        return Err(invalid("/claims", format!("1 to {MAX_CLAIMS} claims")));
    }
    for (i, claim) in claims.iter().enumerate() {
        let at = format!("/claims/{i}");
        if !is_term(&claim.name) || claim.name == "type" || claim.name == "id" {
            return Err(invalid(
                &format!("{at}/name"),
                "a claim name is a letter, then letters, digits or `_` (at most 64); not `id` or `type`",
            ));
        }
        if claims[..i].iter().any(|c| c.name == claim.name) {
            return Err(invalid(
                &format!("{at}/name"),
                format!("`{}` is listed twice", claim.name),
            ));
        }
        if let Some(allowed) = &claim.allowed {
            if claim.kind != ClaimKind::String {
                return Err(invalid(
                    &format!("{at}/enum"),
                    "only string claims take a list of values",
                ));
            }
            if allowed.is_empty()
                || allowed.len() > 100
                || allowed.iter().any(|v| v.is_empty() || v.len() > 200)
            {
                return Err(invalid(
                    &format!("{at}/enum"),
                    "1 to 100 values of 1 to 200 characters",
                ));
            }
        }
    }
    Ok(())
}

fn check_display(i: usize, d: &TypeDisplay) -> Result<Value, TypeError> {
    let at = format!("/display/{i}");
    let colour = |c: &Option<String>, field: &str| match c {
        Some(c)
            if !(c.len() == 7
                && c.starts_with('#')
                && c[1..].chars().all(|h| h.is_ascii_hexdigit())) =>
        {
            Err(invalid(&format!("{at}/{field}"), "a colour is #rrggbb"))
        }
        _ => Ok(()),
    };
    colour(&d.background_color, "backgroundColor")?;
    colour(&d.text_color, "textColor")?;
    if d.name.trim().is_empty() || d.name.len() > 200 {
        return Err(invalid(
            &format!("{at}/name"),
            "a name of 1 to 200 characters",
        ));
    }
    if d.locale.as_ref().is_some_and(|l| {
        l.is_empty() || l.len() > 35 || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    }) {
        return Err(invalid(
            &format!("{at}/locale"),
            "a BCP 47 language tag, e.g. en or de-CH",
        ));
    }
    if d.logo.as_ref().is_some_and(|l| {
        !(l.starts_with("https://") || l.starts_with("data:image/")) || l.len() > 100_000
    }) {
        return Err(invalid(
            &format!("{at}/logo"),
            "an https: or data:image/ URL",
        ));
    }
    Ok(serde_json::to_value(d).expect("a display serializes"))
}

/// Proves the generated context defines every claim of the example: the example is
/// signed as a Data Integrity credential (JSON-LD expansion in safe mode) with a
/// throw-away key, with only the W3C contexts and this one loaded.
async fn prove_terms(name: &str, composed: &Composed) -> Result<(), TypeError> {
    let key = ssi::jwk::JWK::generate_ed25519().map_err(|e| invalid("", e.to_string()))?;
    let (did, vm) = did_key_for(&key).map_err(|e| invalid("", e.to_string()))?;
    let mut subject = composed.example.clone();
    if let Some(object) = subject.as_object_mut() {
        object.insert("id".into(), json!(did));
    }
    let credential = json!({
        "@context": [VC_V2_CONTEXT, composed.context_url],
        "type": ["VerifiableCredential", name],
        "issuer": did,
        "validFrom": xsd_now(Utc::now()),
        "credentialSubject": subject,
    });
    let contexts =
        Contexts::with_documents([(composed.context_url.clone(), composed.context.clone())]);
    data_integrity::sign(
        credential,
        &key,
        ProofConfig {
            verification_method: &vm,
            proof_purpose: "assertionMethod",
            created: xsd_now(Utc::now()),
            challenge: None,
            domain: None,
        },
        &contexts,
    )
    .await
    .map(|_| ())
    .map_err(|e| {
        invalid(
            "/schema",
            format!("the generated JSON-LD context does not fit the example: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use certus_schemas::types::ClaimSpec;

    fn boiler() -> NewCredentialType {
        NewCredentialType {
            type_name: Some("BoilerInspection".into()),
            title: "Boiler inspection".into(),
            retention: "P5Y".into(),
            claims: Some(vec![
                ClaimSpec {
                    name: "serialNumber".into(),
                    title: Some("Serial number".into()),
                    description: None,
                    kind: ClaimKind::String,
                    required: true,
                    personal: false,
                    allowed: None,
                },
                ClaimSpec {
                    name: "inspected".into(),
                    title: None,
                    description: None,
                    kind: ClaimKind::Date,
                    required: true,
                    personal: false,
                    allowed: None,
                },
                ClaimSpec {
                    name: "name".into(),
                    title: None,
                    description: None,
                    kind: ClaimKind::String,
                    required: false,
                    personal: true,
                    allowed: None,
                },
            ]),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn a_drafted_type_composes_into_a_schema_the_catalog_reads_and_a_context_that_fits() {
        let composed = compose(
            "BoilerInspection",
            2,
            "https://certus.example/credential-types/BoilerInspection",
            boiler(),
        )
        .expect("composes");
        prove_terms("BoilerInspection", &composed)
            .await
            .expect("every claim has a term");
        let t = CredentialType::from_schema(&composed.schema).expect("the catalog reads it");
        assert_eq!(t.version, 2);
        assert_eq!(
            t.vct,
            "https://certus.example/credential-types/BoilerInspection/v2"
        );
        assert_eq!(t.context, composed.context_url);
        assert_eq!(t.personal_claims, vec!["name".to_owned()]);
        assert_eq!(t.validate(&t.example), vec![]);
        let context: Value = serde_json::from_str(&composed.context).expect("JSON");
        let terms = &context["@context"];
        assert_eq!(
            terms["inspected"]["@type"],
            "http://www.w3.org/2001/XMLSchema#date"
        );
        // `name` keeps the meaning the W3C context protects.
        assert!(terms.get("name").is_none());
        assert_eq!(
            terms["BoilerInspection"]["@id"],
            "https://certus.example/credential-types/BoilerInspection/vocab#BoilerInspection"
        );
    }

    #[test]
    fn bad_definitions_are_refused_with_a_pointer() {
        let base = "https://certus.example/credential-types/X";
        let cases: Vec<(NewCredentialType, &str)> = vec![
            (
                NewCredentialType {
                    retention: "ten years".into(),
                    ..boiler()
                },
                "/retention",
            ),
            (
                NewCredentialType {
                    claims: None,
                    ..boiler()
                },
                "",
            ),
            (
                NewCredentialType {
                    schema: Some(json!({"type": "object"})),
                    ..boiler()
                },
                "",
            ),
            (
                NewCredentialType {
                    claims: None,
                    schema: Some(
                        json!({"type": "object", "properties": {"a:b": {"type": "string"}}}),
                    ),
                    example: Some(json!({})),
                    ..boiler()
                },
                "/schema/properties/a:b",
            ),
            (
                NewCredentialType {
                    claims: None,
                    schema: Some(json!({"type": "array"})),
                    ..boiler()
                },
                "/schema/type",
            ),
            (
                NewCredentialType {
                    claims: None,
                    schema: Some(
                        json!({"type": "object", "properties": {"x": {"$ref": "#/$defs/y"}}, "$defs": {}}),
                    ),
                    ..boiler()
                },
                "/schema",
            ),
            (
                NewCredentialType {
                    display: vec![TypeDisplay {
                        name: "B".into(),
                        background_color: Some("red".into()),
                        ..Default::default()
                    }],
                    ..boiler()
                },
                "/display/0/backgroundColor",
            ),
        ];
        for (body, pointer) in cases {
            match compose("X", 1, base, body) {
                Err(TypeError::Invalid { pointer: p, .. }) => assert_eq!(p, pointer),
                other => panic!(
                    "expected a refusal at {pointer}, got {:?}",
                    other.map(|c| c.schema)
                ),
            }
        }
        for name in ["boiler", "Ab", "Bad-Name", "VerifiableCredential", "A:b"] {
            assert!(check_type_name(name).is_err(), "{name}");
        }
    }

    #[test]
    fn type_metadata_names_the_vct_its_claims_and_the_schema_by_hash() {
        let composed = compose(
            "BoilerInspection",
            1,
            "https://c.example/credential-types/BoilerInspection",
            boiler(),
        )
        .expect("composes");
        let t = CredentialType::from_schema(&composed.schema).expect("reads");
        let metadata = t.type_metadata();
        assert_eq!(metadata["vct"], t.vct);
        assert_eq!(metadata["claims"][0]["path"], json!(["serialNumber"]));
        assert_eq!(metadata["claims"][0]["mandatory"], true);
        assert_eq!(
            metadata["schema_uri#integrity"],
            integrity(&composed.schema)
        );
    }
}
