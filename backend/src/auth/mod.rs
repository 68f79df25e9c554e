//! API keys for machines: random bearer tokens, stored only as their SHA-256, each with a
//! tenant and scopes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::store::entities::api_keys;

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
    /// Act as the chain's root authority (a validator's operator): register credential
    /// types, accredit institutions.
    Trust,
}

impl Scope {
    /// The scope's name in tokens and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issue => "issue",
            Self::Verify => "verify",
            Self::Status => "status",
            Self::Trust => "trust",
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
            "trust" => Ok(Self::Trust),
            other => Err(format!(
                "unknown scope `{other}` (issue, verify, status, trust)"
            )),
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant_id: String,
    pub api_key_id: String,
    pub scopes: Vec<Scope>,
}

impl Principal {
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
            format!("the API key lacks the {} scope", scope.as_str()),
        ))
    }
}

/// Prefix of every Certus API token, so leaked tokens are easy to recognise and scan for.
pub const TOKEN_PREFIX: &str = "certus_";

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates an API key for `tenant_id` and returns its token: the only time it is shown.
pub async fn create_api_key(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    scopes: &[Scope],
    label: Option<String>,
) -> Result<String, sea_orm::DbErr> {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(secret));
    let scopes = scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",");
    api_keys::ActiveModel {
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
    Ok(token)
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
    Ok(key.map(|k| Principal {
        scopes: k.scopes.split(',').filter_map(|s| s.parse().ok()).collect(),
        tenant_id: k.tenant_id,
        api_key_id: k.id,
    }))
}
