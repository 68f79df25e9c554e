//! The trust registry: who may issue which credential types, on the chain.
//!
//! The root authority is the chain's validator set, fixed in its genesis: it registers
//! credential types by the SHA-256 of their published JSON Schema, and accredits
//! institutions (DIDs) to issue given types for a period. An accredited institution may
//! delegate to a sub-issuer a bounded mandate — types among its own, a window within its
//! own, and a maximum number of credentials — which issuance enforces. Every statement
//! (accreditation, delegation, revocation) is a compact JWS signed by its grantor (the root
//! with a validator key, an institution with its DID's current key) and anchored as a
//! `trustStatement` transaction; verification asks whether a credential's issuer was
//! accredited for its type at the credential's point on the chain.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use crate::coherence::{Cache, Cached, Reload};
use crate::error::{DomainError, ErrorKind};
use crate::keys::KeyStore;
use crate::ledger::hash::Digest;
use crate::ledger::store::{self as ledger_store, Ledger};
use crate::ledger::transaction::{Kind, Transaction};
use crate::store::entities::{
    issued_credentials, mandate_uses, schema_registrations, trust_statements,
};
use crate::store::has_type;
use crate::work::Work;
use certus_credential::catalog::{Catalog, CredentialType};
use certus_credential::jose;
use certus_credential::signer::Signer;
use certus_credential::time::xsd_millis;

/// The grantor name of the root authority.
pub const ROOT: &str = "root";

/// What a statement does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StatementKind {
    Accreditation,
    Delegation,
    Revocation,
}

impl StatementKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Accreditation => "accreditation",
            Self::Delegation => "delegation",
            Self::Revocation => "revocation",
        }
    }
}

/// A statement, as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Statement {
    pub id: String,
    pub kind: StatementKind,
    /// `root`, or the granting DID.
    pub grantor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Hex SHA-256 of the schemas of the credential types granted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_count: Option<u64>,
    /// For a delegation, the grantor's accreditation; for a revocation, what it revokes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    pub issued: String,
}

/// Why a trust operation, or an issuance under a mandate, was refused.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("unknown credential type `{0}`")]
    UnknownType(String),
    #[error("the schema of `{0}` is not registered on the chain")]
    SchemaNotRegistered(String),
    #[error("the schema of `{0}` is already registered")]
    AlreadyRegistered(String),
    #[error("no statement `{0}`")]
    NotFound(String),
    #[error("`{0}` is not accredited for every type it delegates, now")]
    GrantorNotAccredited(String),
    #[error("{0}")]
    BadMandate(String),
    #[error("the statement was granted by someone else")]
    NotGrantor,
    #[error("the statement is already revoked")]
    AlreadyRevoked,
    #[error("the sub-issuer's mandate does not cover `{0}`")]
    NotInMandate(String),
    #[error("the sub-issuer's mandate is revoked or not valid now (from {from}, until {until})")]
    MandateExpired { from: String, until: String },
    #[error("the sub-issuer's mandate allows {0} credentials, all issued")]
    MandateExhausted(u64),
    #[error(
        "only issuers accredited for {0} may issue it, and the issuer is not accredited for it now"
    )]
    NotAccredited(String),
    #[error("this node is not the chain's root authority (a validator; on a consortium's chain, the one its genesis names)")]
    NotRoot,
    #[error("this tenant holds no current key of `{0}`")]
    NoKey(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for TrustError {
    fn from(e: DbErr) -> Self {
        Self::Internal(e.into())
    }
}

impl DomainError for TrustError {
    fn code(&self) -> &'static str {
        match self {
            Self::UnknownType(_) => "UNKNOWN_CREDENTIAL_TYPE",
            Self::SchemaNotRegistered(_) => "SCHEMA_NOT_REGISTERED",
            Self::AlreadyRegistered(_) => "SCHEMA_ALREADY_REGISTERED",
            Self::NotFound(_) => "STATEMENT_NOT_FOUND",
            Self::GrantorNotAccredited(_) => "GRANTOR_NOT_ACCREDITED",
            Self::BadMandate(_) => "INVALID_MANDATE",
            Self::NotGrantor => "NOT_GRANTOR",
            Self::AlreadyRevoked => "ALREADY_REVOKED",
            Self::NotInMandate(_) => "NOT_IN_MANDATE",
            Self::MandateExpired { .. } => "MANDATE_EXPIRED",
            Self::MandateExhausted(_) => "MANDATE_EXHAUSTED",
            Self::NotAccredited(_) => "ISSUER_NOT_ACCREDITED",
            Self::NotRoot => "NOT_ROOT_AUTHORITY",
            Self::NoKey(_) => "NO_CURRENT_KEY",
            Self::Internal(_) => "INTERNAL",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::UnknownType(_) | Self::BadMandate(_) => ErrorKind::Invalid,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::NotGrantor
            | Self::NotRoot
            | Self::NotInMandate(_)
            | Self::NotAccredited(_)
            | Self::MandateExpired { .. }
            | Self::MandateExhausted(_) => ErrorKind::Forbidden,
            Self::SchemaNotRegistered(_)
            | Self::AlreadyRegistered(_)
            | Self::GrantorNotAccredited(_)
            | Self::AlreadyRevoked
            | Self::NoKey(_) => ErrorKind::Conflict,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }
}

/// A grant asked for: to whom, which types, when, how many.
#[derive(Debug, Clone)]
pub struct Grant {
    pub subject: String,
    pub credential_types: Vec<String>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub max_count: Option<u64>,
}

/// Why a credential's issuer counts as accredited: the statements, root first.
#[derive(Debug, Clone)]
pub struct Accredited {
    pub path: Vec<trust_statements::Model>,
}

/// A sub-issuer's issuance under a mandate: counted when the credential is recorded
/// ([`count_use`]), in the recording transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandateUse {
    /// The delegation statement's id.
    pub mandate: String,
    pub credential_type: String,
    /// Its `maxCount`.
    pub max: u64,
}

/// Counts one credential against `usage`'s mandate, in `conn`'s transaction; false when
/// the mandate has no room left. One conditional update: PostgreSQL re-checks the count
/// after a concurrent transaction's update of the same row commits, SQLite has one writer.
pub async fn count_use(conn: &impl ConnectionTrait, usage: &MandateUse) -> Result<bool, DbErr> {
    use sea_orm::sea_query::ExprTrait as _;
    Ok(mandate_uses::Entity::update_many()
        .col_expr(
            mandate_uses::Column::Used,
            Expr::col(mandate_uses::Column::Used).add(1),
        )
        .filter(mandate_uses::Column::Mandate.eq(usage.mandate.as_str()))
        .filter(mandate_uses::Column::CredentialType.eq(usage.credential_type.as_str()))
        .filter(mandate_uses::Column::Used.lt(usage.max as i64))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// The trust registry of this node's chain.
pub struct TrustRegistry {
    db: DatabaseConnection,
    ledger: Arc<Ledger>,
    keys: Arc<KeyStore>,
    catalog: Arc<Catalog>,
    /// The DIDs that have ever held a mandate (loaded on first use, kept up to date by
    /// [`TrustRegistry::delegate`] and, for delegations made through other processes, by
    /// [`Reload`]), so issuance by any other DID — nearly all — costs no database read.
    mandated: std::sync::RwLock<Option<HashSet<String>>>,
    /// Each subject's statements ([`TrustRegistry::statements_for`]), emptied when a
    /// statement is written here, arrives on the chain, or is written through another
    /// process.
    statements: Cache<String, Arc<Vec<trust_statements::Model>>>,
    /// On a consortium's chain: the height up to which the statements and registrations
    /// other members made are applied here ([`TrustRegistry::follow_chain`]), one pass at
    /// a time.
    followed: tokio::sync::Mutex<u64>,
}

impl std::fmt::Debug for TrustRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustRegistry").finish_non_exhaustive()
    }
}

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// A time as a statement signs it: `xsd:dateTime` to the millisecond, so the stored
/// columns the registry decides by are exactly the signed times.
fn signed_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A signed time in milliseconds since the epoch.
fn signed_ms(xsd: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(xsd)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// The row of `statement` (before its JWS and any revocation are added): every column the
/// registry decides by is the statement's, its times the signed ones, so `certus chain
/// verify` can rebuild it and compare.
fn row_of(statement: &Statement, tenant_id: Option<&str>) -> trust_statements::Model {
    let issued = signed_ms(&statement.issued).unwrap_or_default();
    trust_statements::Model {
        id: statement.id.clone(),
        kind: statement.kind.as_str().to_owned(),
        grantor: statement.grantor.clone(),
        subject: statement.subject.clone(),
        tenant_id: tenant_id.map(str::to_owned),
        schemas: serde_json::to_string(&statement.schemas).unwrap_or_else(|_| "[]".into()),
        valid_from_ms: statement
            .valid_from
            .as_deref()
            .and_then(signed_ms)
            .unwrap_or(issued),
        valid_until_ms: statement.valid_until.as_deref().and_then(signed_ms),
        max_count: statement.max_count.map(|c| c as i64),
        parent: statement.parent.clone(),
        revoked_at_ms: None,
        statement: String::new(),
        at_ms: issued,
    }
}

fn schemas_of(row: &trust_statements::Model) -> Vec<String> {
    serde_json::from_str(&row.schemas).unwrap_or_default()
}

/// True when `row` grants `schema` at `time_ms` (in its window, not revoked by then).
fn grants(row: &trust_statements::Model, schema: &str, time_ms: i64) -> bool {
    row.valid_from_ms <= time_ms
        && row.valid_until_ms.is_none_or(|u| time_ms < u)
        && row.revoked_at_ms.is_none_or(|r| time_ms < r)
        && schemas_of(row).iter().any(|s| s == schema)
}

impl TrustRegistry {
    pub fn new(
        db: DatabaseConnection,
        ledger: Arc<Ledger>,
        keys: Arc<KeyStore>,
        catalog: Arc<Catalog>,
    ) -> Self {
        Self {
            db,
            ledger,
            keys,
            catalog,
            mandated: Default::default(),
            statements: Default::default(),
            followed: Default::default(),
        }
    }

    /// Applies the schema registrations and trust statements final on the shared chain
    /// since the last pass — those other members made (every member checked each
    /// statement's signature before it was final): on a consortium, every node reads one
    /// trust registry. Nothing to do on a single node's chain.
    async fn follow_chain(&self) -> Result<(), TrustError> {
        if !self.ledger.genesis().is_consortium() {
            return Ok(());
        }
        let mut followed = self.followed.lock().await;
        let head = self
            .ledger
            .head()
            .await
            .map_err(anyhow::Error::from)?
            .height;
        if head <= *followed {
            return Ok(());
        }
        for (placed, tx) in
            ledger_store::sealed_after(&self.db, Kind::SchemaRegistration, *followed).await?
        {
            let Transaction::SchemaRegistration { hash, name } = tx else {
                continue;
            };
            let hash = hash.to_hex();
            if schema_registrations::Entity::find_by_id(hash.clone())
                .one(&self.db)
                .await?
                .is_none()
            {
                schema_registrations::ActiveModel {
                    hash: Set(hash),
                    name: Set(name),
                    at_ms: Set(placed.time_ms),
                }
                .insert(&self.db)
                .await?;
            }
        }
        for (_, tx) in ledger_store::sealed_after(&self.db, Kind::TrustStatement, *followed).await?
        {
            let Transaction::TrustStatement { statement: jws } = tx else {
                continue;
            };
            let Some(statement) = jose::decode(&jws)
                .ok()
                .and_then(|d| serde_json::from_value::<Statement>(d.payload).ok())
            else {
                continue;
            };
            if trust_statements::Entity::find_by_id(statement.id.clone())
                .one(&self.db)
                .await?
                .is_some()
            {
                continue;
            }
            trust_statements::Model {
                statement: jws,
                ..row_of(&statement, None)
            }
            .into_active_model()
            .reset_all()
            .insert(&self.db)
            .await?;
            match (statement.kind, &statement.parent, &statement.subject) {
                (StatementKind::Revocation, Some(target), _) => {
                    trust_statements::Entity::update_many()
                        .col_expr(
                            trust_statements::Column::RevokedAtMs,
                            Expr::value(signed_ms(&statement.issued)),
                        )
                        .filter(trust_statements::Column::Id.eq(target.as_str()))
                        .exec(&self.db)
                        .await?;
                }
                (StatementKind::Delegation, _, Some(subject)) => self.note_mandated(subject),
                _ => {}
            }
            self.statements.clear();
        }
        *followed = head;
        Ok(())
    }

    fn credential_type(&self, name: &str) -> Result<Arc<CredentialType>, TrustError> {
        self.catalog
            .get(name)
            .ok_or_else(|| TrustError::UnknownType(name.to_owned()))
    }

    /// Registers a credential type's schema on the chain (root authority).
    pub async fn register_schema(
        &self,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<schema_registrations::Model, TrustError> {
        self.root_key()?;
        self.follow_chain().await?;
        let t = self.credential_type(name)?;
        let hash = t.schema_hash.to_hex();
        if schema_registrations::Entity::find_by_id(hash.clone())
            .one(&self.db)
            .await?
            .is_some()
        {
            return Err(TrustError::AlreadyRegistered(name.to_owned()));
        }
        let mut work = Work::begin(&self.db, now).await?;
        let row = schema_registrations::ActiveModel {
            hash: Set(hash),
            name: Set(t.name.clone()),
            at_ms: Set(millis(now)),
        }
        .insert(work.conn())
        .await?;
        work.anchor(&Transaction::SchemaRegistration {
            hash: t.schema_hash,
            name: t.name.clone(),
        });
        work.audit("root", ROOT, "schema.register", name);
        work.commit().await?;
        Ok(row)
    }

    /// Every registered schema.
    pub async fn schemas(&self) -> Result<Vec<schema_registrations::Model>, TrustError> {
        self.follow_chain().await?;
        Ok(schema_registrations::Entity::find()
            .order_by_asc(schema_registrations::Column::Name)
            .all(&self.db)
            .await?)
    }

    /// The schema hashes of `types`, each registered on the chain.
    async fn registered(&self, types: &[String]) -> Result<Vec<String>, TrustError> {
        self.follow_chain().await?;
        let mut hashes = Vec::with_capacity(types.len());
        for name in types {
            let hash = self.credential_type(name)?.schema_hash.to_hex();
            if schema_registrations::Entity::find_by_id(hash.clone())
                .one(&self.db)
                .await?
                .is_none()
            {
                return Err(TrustError::SchemaNotRegistered(name.clone()));
            }
            hashes.push(hash);
        }
        if hashes.is_empty() {
            return Err(TrustError::BadMandate(
                "name at least one credential type".into(),
            ));
        }
        Ok(hashes)
    }

    /// The root authority's signing key (this node's validator key) as a JWK. On a
    /// consortium's chain only the validator its genesis names acts as the root.
    fn root_key(&self) -> Result<Arc<dyn Signer>, TrustError> {
        let key = self.ledger.validator_key().ok_or(TrustError::NotRoot)?;
        let root = self.ledger.genesis().root_authority;
        if root.is_some_and(|root| root != crate::ledger::block::ValidatorSigner::validator(key)) {
            return Err(TrustError::NotRoot);
        }
        Ok(key.signer().clone())
    }

    /// Signs `statement` and writes it with its chain transaction and audit entry.
    async fn write(
        &self,
        statement: Statement,
        tenant_id: Option<&str>,
        key: &dyn Signer,
        kid: &str,
        row: trust_statements::Model,
        now: DateTime<Utc>,
    ) -> Result<trust_statements::Model, TrustError> {
        let header = jose::header(&[("typ", "trust-statement+jwt"), ("kid", kid)]);
        let payload = serde_json::to_value(&statement).map_err(anyhow::Error::from)?;
        let jws = jose::sign(header, &payload, key)
            .map_err(|e| anyhow::anyhow!("signing a trust statement: {e}"))?;
        let mut work = Work::begin(&self.db, now).await?;
        let stored = trust_statements::Model {
            statement: jws.clone(),
            ..row
        }
        .into_active_model()
        .reset_all()
        .insert(work.conn())
        .await?;
        if let (StatementKind::Revocation, Some(target)) = (statement.kind, &statement.parent) {
            trust_statements::Entity::update_many()
                .col_expr(
                    trust_statements::Column::RevokedAtMs,
                    Expr::value(signed_ms(&statement.issued)),
                )
                .filter(trust_statements::Column::Id.eq(target.as_str()))
                .exec(work.conn())
                .await?;
        }
        work.anchor(&Transaction::TrustStatement { statement: jws });
        work.touch(Cached::Trust);
        work.audit(
            tenant_id.unwrap_or(ROOT),
            &statement.grantor,
            &format!("trust.{}", statement.kind.as_str()),
            &statement.id,
        );
        work.commit().await?;
        self.statements.clear();
        Ok(stored)
    }

    /// The root authority accredits `grant.subject` for `grant.credential_types`.
    pub async fn accredit(
        &self,
        grant: Grant,
        now: DateTime<Utc>,
    ) -> Result<trust_statements::Model, TrustError> {
        let key = self.root_key()?;
        let schemas = self.registered(&grant.credential_types).await?;
        let from = grant.valid_from.unwrap_or(now);
        if grant.valid_until.is_some_and(|u| u <= from) {
            return Err(TrustError::BadMandate(
                "validUntil must be after validFrom".into(),
            ));
        }
        let statement = Statement {
            id: format!("urn:uuid:{}", uuid::Uuid::new_v4()),
            kind: StatementKind::Accreditation,
            grantor: ROOT.into(),
            subject: Some(grant.subject),
            schemas,
            valid_from: Some(signed_time(from)),
            valid_until: grant.valid_until.map(signed_time),
            max_count: None,
            parent: None,
            issued: signed_time(now),
        };
        let row = row_of(&statement, None);
        self.write(statement, None, key.as_ref(), ROOT, row, now)
            .await
    }

    /// The root authority registers `type_name`'s schema (unless it is already) and
    /// accredits every DID of `tenant_id` for it, from now on; how many DIDs it accredited.
    pub async fn accredit_tenant(
        &self,
        tenant_id: &str,
        type_name: &str,
        now: DateTime<Utc>,
    ) -> Result<usize, TrustError> {
        match self.register_schema(type_name, now).await {
            Ok(_) | Err(TrustError::AlreadyRegistered(_)) => {}
            Err(e) => return Err(e),
        }
        let keys = self.keys.tenant_keys(tenant_id);
        for key in &keys {
            self.accredit(
                Grant {
                    subject: key.did.clone(),
                    credential_types: vec![type_name.to_owned()],
                    valid_from: None,
                    valid_until: None,
                    max_count: None,
                },
                now,
            )
            .await?;
        }
        Ok(keys.len())
    }

    /// An institution of `tenant_id` (`grantor`, a DID it holds a key of) delegates a
    /// mandate to `grant.subject`: types it is accredited for now, within its own window,
    /// for at most `grant.max_count` credentials.
    pub async fn delegate(
        &self,
        tenant_id: &str,
        grantor: &str,
        grant: Grant,
        now: DateTime<Utc>,
    ) -> Result<trust_statements::Model, TrustError> {
        let key = self
            .keys
            .key_for_issuer(tenant_id, grantor)
            .ok_or_else(|| TrustError::NoKey(grantor.to_owned()))?;
        let max_count = grant
            .max_count
            .filter(|c| *c > 0)
            .ok_or_else(|| TrustError::BadMandate("a mandate needs maxCount above 0".into()))?;
        let until = grant
            .valid_until
            .ok_or_else(|| TrustError::BadMandate("a mandate needs validUntil".into()))?;
        let from = grant.valid_from.unwrap_or(now);
        if until <= from {
            return Err(TrustError::BadMandate(
                "validUntil must be after validFrom".into(),
            ));
        }
        let schemas = self.registered(&grant.credential_types).await?;
        // The grantor's own root accreditation must cover every type, now and through the
        // mandate's window.
        let parents = self.statements_for(grantor).await?;
        let parent = parents
            .iter()
            .filter(|p| p.kind == StatementKind::Accreditation.as_str())
            .find(|p| {
                schemas.iter().all(|s| grants(p, s, millis(now)))
                    && p.valid_until_ms.is_none_or(|u| millis(until) <= u)
            })
            .ok_or_else(|| TrustError::GrantorNotAccredited(grantor.to_owned()))?;
        let statement = Statement {
            id: format!("urn:uuid:{}", uuid::Uuid::new_v4()),
            kind: StatementKind::Delegation,
            grantor: grantor.to_owned(),
            subject: Some(grant.subject),
            schemas,
            valid_from: Some(signed_time(from)),
            valid_until: Some(signed_time(until)),
            max_count: Some(max_count),
            parent: Some(parent.id.clone()),
            issued: signed_time(now),
        };
        let subject = statement.subject.clone().unwrap_or_default();
        let row = row_of(&statement, Some(tenant_id));
        let written = self
            .write(
                statement,
                Some(tenant_id),
                key.signer.as_ref(),
                &key.verification_method,
                row,
                now,
            )
            .await?;
        self.note_mandated(&subject);
        Ok(written)
    }

    /// Revokes a statement: the root's with the root key (`tenant_id` `None`), a
    /// delegation with its grantor's key (its tenant).
    pub async fn revoke(
        &self,
        id: &str,
        tenant_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<trust_statements::Model, TrustError> {
        self.follow_chain().await?;
        let target = trust_statements::Entity::find_by_id(id.to_owned())
            .one(&self.db)
            .await?
            .filter(|t| t.kind != StatementKind::Revocation.as_str())
            .ok_or_else(|| TrustError::NotFound(id.to_owned()))?;
        if target.revoked_at_ms.is_some() {
            return Err(TrustError::AlreadyRevoked);
        }
        let (key, kid) = match (tenant_id, target.tenant_id.as_deref()) {
            (None, None) => (self.root_key()?, ROOT.to_owned()),
            (Some(tenant), Some(owner)) if tenant == owner => {
                let key = self
                    .keys
                    .key_for_issuer(tenant, &target.grantor)
                    .ok_or_else(|| TrustError::NoKey(target.grantor.clone()))?;
                (key.signer.clone(), key.verification_method.clone())
            }
            _ => return Err(TrustError::NotGrantor),
        };
        let statement = Statement {
            id: format!("urn:uuid:{}", uuid::Uuid::new_v4()),
            kind: StatementKind::Revocation,
            grantor: target.grantor.clone(),
            subject: target.subject.clone(),
            schemas: Vec::new(),
            valid_from: None,
            valid_until: None,
            max_count: None,
            parent: Some(target.id.clone()),
            issued: signed_time(now),
        };
        let row = row_of(&statement, tenant_id);
        self.write(statement, tenant_id, key.as_ref(), &kid, row, now)
            .await?;
        trust_statements::Entity::find_by_id(id.to_owned())
            .one(&self.db)
            .await?
            .ok_or_else(|| TrustError::NotFound(id.to_owned()))
    }

    /// The accreditations and delegations granted to `subject`, oldest first (cached:
    /// every issuance and verification of an accredited type asks).
    pub async fn statements_for(
        &self,
        subject: &str,
    ) -> Result<Arc<Vec<trust_statements::Model>>, TrustError> {
        self.follow_chain().await?;
        let generation = match self.statements.get(subject) {
            Ok(cached) => return Ok(cached),
            Err(generation) => generation,
        };
        let rows = Arc::new(
            trust_statements::Entity::find()
                .filter(trust_statements::Column::Subject.eq(subject))
                .filter(trust_statements::Column::Kind.ne(StatementKind::Revocation.as_str()))
                .order_by_asc(trust_statements::Column::AtMs)
                .all(&self.db)
                .await?,
        );
        self.statements
            .fill(generation, subject.to_owned(), rows.clone());
        Ok(rows)
    }

    /// Whether `issuer` was accredited (directly, or by a delegation from an institution
    /// accredited then) to issue credentials of schema `schema` at `time_ms`.
    pub async fn accredited_at(
        &self,
        issuer: &str,
        schema: &str,
        time_ms: i64,
    ) -> Result<Option<Accredited>, TrustError> {
        for row in self.statements_for(issuer).await?.iter() {
            if !grants(row, schema, time_ms) {
                continue;
            }
            if row.kind == StatementKind::Accreditation.as_str() {
                return Ok(Some(Accredited {
                    path: vec![row.clone()],
                }));
            }
            let parent = match &row.parent {
                Some(p) => {
                    trust_statements::Entity::find_by_id(p.clone())
                        .one(&self.db)
                        .await?
                }
                None => None,
            };
            if let Some(parent) = parent.filter(|p| grants(p, schema, time_ms)) {
                return Ok(Some(Accredited {
                    path: vec![parent, row.clone()],
                }));
            }
        }
        Ok(None)
    }

    /// The DIDs that have ever held a mandate, as stored.
    async fn load_mandated(&self) -> Result<HashSet<String>, DbErr> {
        let subjects: Vec<Option<String>> = trust_statements::Entity::find()
            .filter(trust_statements::Column::Kind.eq(StatementKind::Delegation.as_str()))
            .select_only()
            .column(trust_statements::Column::Subject)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(subjects.into_iter().flatten().collect())
    }

    fn note_mandated(&self, subject: &str) {
        if let Some(mandated) = self
            .mandated
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            mandated.insert(subject.to_owned());
        }
    }

    /// Whether some delegation ever named `issuer` as a sub-issuer.
    async fn is_mandated(&self, issuer: &str) -> Result<bool, TrustError> {
        if let Some(mandated) = self
            .mandated
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            return Ok(mandated.contains(issuer));
        }
        let loaded = self.load_mandated().await?;
        let answer = loaded.contains(issuer);
        // A reload that finished meanwhile read a newer set: it is kept.
        self.mandated
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(loaded);
        Ok(answer)
    }

    /// How many credentials of `usage`'s type its mandate has counted (from the records
    /// issued under it, the first time).
    async fn mandate_used(
        &self,
        usage: &MandateUse,
        issuer: &str,
        since: DateTime<Utc>,
    ) -> Result<u64, TrustError> {
        let find = || {
            mandate_uses::Entity::find_by_id((usage.mandate.clone(), usage.credential_type.clone()))
                .one(&self.db)
        };
        if let Some(row) = find().await? {
            return Ok(row.used.max(0) as u64);
        }
        let issued = issued_credentials::Entity::find()
            .filter(
                Condition::all()
                    .add(issued_credentials::Column::Issuer.eq(issuer))
                    .add(issued_credentials::Column::IssuedAt.gte(since))
                    .add(has_type(&usage.credential_type)),
            )
            .count(&self.db)
            .await?;
        // Another process may have started the count first: its row stands.
        mandate_uses::Entity::insert(mandate_uses::ActiveModel {
            mandate: Set(usage.mandate.clone()),
            credential_type: Set(usage.credential_type.clone()),
            used: Set(issued as i64),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(&self.db)
        .await?;
        Ok(find().await?.map_or(issued, |row| row.used.max(0) as u64))
    }

    /// Checks that `issuer` may issue a credential of no registered type (open issuance):
    /// a sub-issuer may not, as its mandate names the types it covers.
    pub async fn permit_open(&self, issuer: &str) -> Result<(), TrustError> {
        if self.is_mandated(issuer).await? {
            return Err(TrustError::NotInMandate(
                "a credential of no registered type".into(),
            ));
        }
        Ok(())
    }

    /// Refuses a type that only accredited issuers may issue (KYC) to an `issuer` not
    /// accredited for it — directly or by a delegation — at `now`.
    pub async fn require_accreditation(
        &self,
        issuer: &str,
        credential_type: &CredentialType,
        now: DateTime<Utc>,
    ) -> Result<(), TrustError> {
        if !credential_type.accreditation_required {
            return Ok(());
        }
        let schema = credential_type.schema_hash.to_hex();
        match self.accredited_at(issuer, &schema, millis(now)).await? {
            Some(_) => Ok(()),
            None => Err(TrustError::NotAccredited(credential_type.name.clone())),
        }
    }

    /// Checks that `issuer` may issue a credential of `credential_type` now: its
    /// accreditation when the type requires one, and a sub-issuer's mandate. `None` when
    /// `issuer` has no mandate (it is not a sub-issuer); otherwise the mandate to count the
    /// credential against when it is recorded (a mandate already full is refused here).
    pub async fn mandate(
        &self,
        issuer: &str,
        credential_type: &CredentialType,
        now: DateTime<Utc>,
    ) -> Result<Option<MandateUse>, TrustError> {
        if !self.is_mandated(issuer).await? {
            self.require_accreditation(issuer, credential_type, now)
                .await?;
            return Ok(None);
        }
        let statements = self.statements_for(issuer).await?;
        let schema = credential_type.schema_hash.to_hex();
        let is_delegation =
            |s: &&trust_statements::Model| s.kind == StatementKind::Delegation.as_str();
        let directly_accredited = statements.iter().any(|s| {
            s.kind == StatementKind::Accreditation.as_str() && grants(s, &schema, millis(now))
        });
        if directly_accredited || !statements.iter().any(|s| is_delegation(&s)) {
            return Ok(None);
        }
        // A sub-issuer: only a current, unrevoked mandate covering the type lets it issue.
        let covering: Vec<_> = statements
            .iter()
            .filter(is_delegation)
            .filter(|d| schemas_of(d).contains(&schema))
            .collect();
        let Some(first) = covering.first() else {
            return Err(TrustError::NotInMandate(credential_type.name.clone()));
        };
        let Some(mandate) = covering.iter().find(|d| grants(d, &schema, millis(now))) else {
            return Err(TrustError::MandateExpired {
                from: xsd_millis(first.valid_from_ms),
                until: first.valid_until_ms.map(xsd_millis).unwrap_or_default(),
            });
        };
        let usage = MandateUse {
            mandate: mandate.id.clone(),
            credential_type: credential_type.name.clone(),
            max: mandate.max_count.unwrap_or(0).max(0) as u64,
        };
        let since = Utc
            .timestamp_millis_opt(mandate.valid_from_ms)
            .single()
            .unwrap_or(now);
        if self.mandate_used(&usage, issuer, since).await? >= usage.max {
            return Err(TrustError::MandateExhausted(usage.max));
        }
        Ok(Some(usage))
    }
}

impl Reload for TrustRegistry {
    /// Takes in the sub-issuers mandated through another process.
    fn reload(&self) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + '_>> {
        Box::pin(async move {
            self.statements.clear();
            let loaded = self.load_mandated().await?;
            // The set only grows (a delegation is never deleted): what this process noted
            // while the database was read stays.
            self.mandated
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert_default()
                .extend(loaded);
            Ok(())
        })
    }
}

/// Checks every stored trust statement and schema registration against what was signed
/// and anchored: each statement's signed JWS is on the chain (or waiting for the next
/// block) and every column the registry decides by — kind, grantor, subject, schemas,
/// validity, count, parent, revocation — is what the statement says; each registration
/// is anchored. The number checked, or the first that does not hold.
pub async fn verify_store(db: &DatabaseConnection) -> Result<u64, String> {
    let failed = |e: DbErr| e.to_string();
    let rows = trust_statements::Entity::find()
        .all(db)
        .await
        .map_err(failed)?;
    // What each revocation revokes, and since when (its row's time, checked below).
    let revoked: std::collections::HashMap<&str, i64> = rows
        .iter()
        .filter(|r| r.kind == StatementKind::Revocation.as_str())
        .filter_map(|r| Some((r.parent.as_deref()?, r.at_ms)))
        .collect();
    for row in &rows {
        let wrong = |what: &str| format!("trust statement {}: {what}", row.id);
        let decoded = jose::decode(&row.statement).map_err(|_| wrong("unreadable"))?;
        let statement: Statement = serde_json::from_value(decoded.payload.clone())
            .map_err(|_| wrong("not a statement"))?;
        let tx = Transaction::TrustStatement {
            statement: row.statement.clone(),
        };
        if !ledger_store::is_recorded(db, &tx).await.map_err(failed)? {
            return Err(wrong("not anchored"));
        }
        // The stored row is the one the statement makes (its owner and revocation aside).
        let expected = trust_statements::Model {
            statement: row.statement.clone(),
            revoked_at_ms: row.revoked_at_ms,
            ..row_of(&statement, row.tenant_id.as_deref())
        };
        let same = expected == *row && (row.grantor == ROOT) == row.tenant_id.is_none();
        if !same {
            return Err(wrong(
                "a stored column is not what the signed statement says",
            ));
        }
        if revoked.get(row.id.as_str()).copied() != row.revoked_at_ms {
            return Err(wrong("its revocation is not what the statements say"));
        }
    }
    let registrations = schema_registrations::Entity::find()
        .all(db)
        .await
        .map_err(failed)?;
    for registration in &registrations {
        let hash = Digest::from_hex(&registration.hash)
            .map_err(|_| format!("schema registration {}: malformed", registration.name))?;
        let tx = Transaction::SchemaRegistration {
            hash,
            name: registration.name.clone(),
        };
        if !ledger_store::is_recorded(db, &tx).await.map_err(failed)? {
            return Err(format!(
                "schema registration {}: not anchored",
                registration.name
            ));
        }
    }
    Ok((rows.len() + registrations.len()) as u64)
}
