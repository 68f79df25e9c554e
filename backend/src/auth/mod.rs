//! Who is calling: people signed in to the portal (accounts, sessions, roles) and machines
//! with API keys (random bearer tokens, stored only as their SHA-256, each with a tenant
//! and scopes). Both become a [`Principal`] whose scopes every handler checks.

pub mod accounts;
pub mod passwords;
mod service;
pub mod sessions;
pub mod throttle;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use certus_schemas::portal::{ApiKeyInfo, Role};
use chrono::Utc;
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use sha2::{Digest, Sha256};

pub use service::Accounts;

use crate::store::entities::api_keys;
use certus_credential::time::xsd_now;

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Issue credentials.
    Issue,
    /// Verify credentials and presentations (verification is also open to anyone, with a
    /// lower rate limit).
    Verify,
    /// Revoke, suspend and reinstate the tenant's credentials.
    Status,
    /// Read the tenant's records: its credentials, their histories, its audit log. The
    /// `issue` and `status` scopes include it.
    Read,
    /// Act as the chain's root authority (a validator's operator): register credential
    /// types, accredit institutions. Only the command line grants it.
    Trust,
    /// Manage the tenant's users and API keys. Only the admin role holds it; no API key
    /// can.
    Admin,
    /// Define, version and retire the tenant's credential types.
    Types,
    /// Act on data subjects' rights: find, export and erase personal data, and set
    /// retention periods (the institution's data-protection officer).
    Privacy,
}

impl Scope {
    /// The scope's name in tokens and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issue => "issue",
            Self::Verify => "verify",
            Self::Status => "status",
            Self::Read => "read",
            Self::Trust => "trust",
            Self::Admin => "admin",
            Self::Privacy => "privacy",
            Self::Types => "types",
        }
    }

    /// True for the scopes an admin may give an API key in the portal.
    pub fn grantable(&self) -> bool {
        matches!(
            self,
            Self::Issue | Self::Verify | Self::Status | Self::Read | Self::Privacy | Self::Types
        )
    }

    /// What a person with `role` may do.
    pub fn of_role(role: Role) -> Vec<Scope> {
        match role {
            Role::Admin => vec![
                Self::Issue,
                Self::Verify,
                Self::Status,
                Self::Read,
                Self::Admin,
                Self::Privacy,
                Self::Types,
            ],
            Role::Certifier => vec![Self::Issue, Self::Verify, Self::Status, Self::Read],
            Role::Auditor => vec![Self::Verify, Self::Read],
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "issue" => Ok(Self::Issue),
            "verify" => Ok(Self::Verify),
            "status" => Ok(Self::Status),
            "read" => Ok(Self::Read),
            "trust" => Ok(Self::Trust),
            "privacy" => Ok(Self::Privacy),
            "types" => Ok(Self::Types),
            other => Err(format!(
                "unknown scope `{other}` (issue, verify, status, read, privacy, types, trust)"
            )),
        }
    }
}

/// Who acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A machine, by its API key's id.
    ApiKey(String),
    /// A person signed in to the portal.
    User { id: String, role: Role },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant_id: String,
    pub actor: Actor,
    pub scopes: Vec<Scope>,
}

impl Principal {
    /// How records and the audit log name the caller: an API key's id, or `user:` and a
    /// user's id.
    pub fn actor_id(&self) -> String {
        match &self.actor {
            Actor::ApiKey(id) => id.clone(),
            Actor::User { id, .. } => format!("user:{id}"),
        }
    }

    /// The signed-in person's id, when a person calls.
    pub fn user_id(&self) -> Option<&str> {
        match &self.actor {
            Actor::User { id, .. } => Some(id),
            Actor::ApiKey(_) => None,
        }
    }

    /// True when the caller holds `scope`.
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// `Ok` when the caller holds `scope`; otherwise 403 `FORBIDDEN` naming it.
    pub fn require(&self, scope: Scope) -> Result<(), crate::error::ApiError> {
        if self.has(scope) {
            return Ok(());
        }
        Err(crate::error::ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "FORBIDDEN",
            match &self.actor {
                Actor::ApiKey(_) => format!("the API key lacks the {} scope", scope.as_str()),
                Actor::User { role, .. } => format!(
                    "the {} role may not do this (it lacks the {} scope)",
                    role.as_str(),
                    scope.as_str()
                ),
            },
        ))
    }
}

/// Prefix of every Certus API token, so leaked tokens are easy to recognise and scan for.
pub const TOKEN_PREFIX: &str = "certus_";

/// Hex SHA-256 of a bearer or cookie token: what is stored in its place.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// 32 random bytes, base64url: a session, CSRF or API token body.
pub fn random_token() -> String {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    URL_SAFE_NO_PAD.encode(secret)
}

/// Creates an API key for `tenant_id`; returns it with its token, the only time the token
/// is shown.
pub async fn create_api_key(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    scopes: &[Scope],
    label: Option<String>,
) -> Result<(api_keys::Model, String), sea_orm::DbErr> {
    let token = format!("{TOKEN_PREFIX}{}", random_token());
    let scopes = scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let key = api_keys::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        tenant_id: Set(tenant_id.to_owned()),
        token_hash: Set(token_hash(&token)),
        scopes: Set(scopes),
        label: Set(label),
        created_at: Set(Utc::now()),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok((key, token))
}

/// The API keys of `tenant_id`, newest first, revoked ones included.
pub async fn list_api_keys(
    db: &impl ConnectionTrait,
    tenant_id: &str,
) -> Result<Vec<api_keys::Model>, sea_orm::DbErr> {
    api_keys::Entity::find()
        .filter(api_keys::Column::TenantId.eq(tenant_id))
        .order_by_desc(api_keys::Column::CreatedAt)
        .all(db)
        .await
}

/// Revokes API key `id` of `tenant_id`; false when the tenant has no such key.
pub async fn revoke_api_key(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    id: &str,
) -> Result<bool, sea_orm::DbErr> {
    let Some(key) = api_keys::Entity::find_by_id(id)
        .filter(api_keys::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
    else {
        return Ok(false);
    };
    if key.revoked_at.is_none() {
        let mut key: api_keys::ActiveModel = key.into();
        key.revoked_at = Set(Some(Utc::now()));
        key.update(db).await?;
    }
    Ok(true)
}

/// The portal's view of an API key (never its token).
pub fn api_key_info(key: &api_keys::Model) -> ApiKeyInfo {
    ApiKeyInfo {
        id: key.id.clone(),
        scopes: key.scopes.split(',').map(str::to_owned).collect(),
        label: key.label.clone(),
        created_at: xsd_now(key.created_at),
        revoked_at: key.revoked_at.map(xsd_now),
    }
}

/// The caller a bearer token belongs to, unless it is unknown or revoked.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<Principal>, sea_orm::DbErr> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let key = api_keys::Entity::find()
        .filter(api_keys::Column::TokenHash.eq(token_hash(token)))
        .filter(api_keys::Column::RevokedAt.is_null())
        .one(db)
        .await?;
    Ok(key.map(|k| {
        let mut scopes: Vec<Scope> = k
            .scopes
            .split(',')
            .filter_map(|s| s.parse().ok())
            .filter(|s| *s != Scope::Admin)
            .collect();
        if scopes
            .iter()
            .any(|s| matches!(s, Scope::Issue | Scope::Status))
        {
            scopes.push(Scope::Read);
        }
        Principal {
            scopes,
            tenant_id: k.tenant_id,
            actor: Actor::ApiKey(k.id),
        }
    }))
}

/// The principal of a signed-in person.
pub fn of_user(user: &crate::store::entities::users::Model) -> Principal {
    let role = user.role.parse().unwrap_or(Role::Auditor);
    Principal {
        tenant_id: user.tenant_id.clone(),
        actor: Actor::User {
            id: user.id.clone(),
            role,
        },
        scopes: Scope::of_role(role),
    }
}
