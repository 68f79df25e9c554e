//! Issuer signing keys: generated here, kept in the database as JWEs under the master key,
//! decrypted once at start-up into memory.

mod master;

pub use master::MasterKey;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use anyhow::Context;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set, TransactionTrait};
use ssi::jwk::{Algorithm, JWK};

use crate::store::entities::{signing_keys, tenants};
use certus_credential::did;

/// Kind of issuer key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Ed25519,
    P256,
}

impl KeyType {
    /// The JOSE algorithm this key signs with.
    pub fn algorithm(self) -> Algorithm {
        match self {
            Self::Ed25519 => Algorithm::EdDSA,
            Self::P256 => Algorithm::ES256,
        }
    }

    fn generate(self) -> JWK {
        match self {
            Self::Ed25519 => JWK::generate_ed25519().expect("the OS random generator works"),
            Self::P256 => JWK::generate_p256(),
        }
    }
}

/// A private issuer key with the DID and verification method it is published under.
#[derive(Debug)]
pub struct IssuerKey {
    pub tenant_id: String,
    /// The issuer DID (`did:key:…`).
    pub did: String,
    /// The verification method id (`did:key:…#…`), used as `kid` and `verificationMethod`.
    pub verification_method: String,
    pub algorithm: Algorithm,
    /// The private key.
    pub jwk: JWK,
}

/// The tenants' issuer keys, decrypted in memory.
#[derive(Debug, Default)]
pub struct KeyStore {
    /// Per tenant: its keys, the default one first.
    by_tenant: RwLock<HashMap<String, Vec<Arc<IssuerKey>>>>,
}

impl KeyStore {
    /// Loads and decrypts every key from the database.
    pub async fn load(db: &DatabaseConnection, master: &MasterKey) -> anyhow::Result<Self> {
        let mut rows = signing_keys::Entity::find().all(db).await?;
        rows.sort_by_key(|r| (!r.is_default, r.created_at));
        let mut by_tenant: HashMap<String, Vec<Arc<IssuerKey>>> = HashMap::new();
        for row in rows {
            let jwk: JWK = serde_json::from_slice(
                &master
                    .decrypt(&row.private_jwe)
                    .with_context(|| format!("decrypting key {}", row.id))?,
            )
            .context("decrypted key is not a JWK")?;
            let algorithm = jwk.get_algorithm().context("stored key has no algorithm")?;
            by_tenant
                .entry(row.tenant_id.clone())
                .or_default()
                .push(Arc::new(IssuerKey {
                    tenant_id: row.tenant_id,
                    did: row.did,
                    verification_method: row.id,
                    algorithm,
                    jwk,
                }));
        }
        Ok(Self {
            by_tenant: RwLock::new(by_tenant),
        })
    }

    /// The tenant's default issuer key.
    pub fn default_key(&self, tenant_id: &str) -> Option<Arc<IssuerKey>> {
        self.read().get(tenant_id)?.first().cloned()
    }

    /// The tenant's key published under `did`, if the tenant owns that DID.
    pub fn key_for_issuer(&self, tenant_id: &str, did: &str) -> Option<Arc<IssuerKey>> {
        self.read()
            .get(tenant_id)?
            .iter()
            .find(|k| k.did == did)
            .cloned()
    }

    /// Adds a key whose row is committed.
    pub fn insert(&self, key: Arc<IssuerKey>) {
        self.by_tenant
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.tenant_id.clone())
            .or_default()
            .push(key);
    }

    /// Forgets a key (retired or compromised) by its verification method.
    pub fn forget(&self, verification_method: &str) {
        for keys in self
            .by_tenant
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .values_mut()
        {
            keys.retain(|k| k.verification_method != verification_method);
        }
    }

    /// All keys of a tenant, the default first.
    pub fn tenant_keys(&self, tenant_id: &str) -> Vec<Arc<IssuerKey>> {
        self.read().get(tenant_id).cloned().unwrap_or_default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Vec<Arc<IssuerKey>>>> {
        // A poisoned lock only means a panic elsewhere while holding it; the map is still
        // consistent because every write is a single insert.
        self.by_tenant.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// The tenant created on first start.
pub const DEFAULT_TENANT: &str = "default";

/// Creates the default tenant and its issuer keys on first start; true when it did.
pub async fn bootstrap(db: &DatabaseConnection, master: &MasterKey) -> anyhow::Result<bool> {
    if tenants::Entity::find_by_id(DEFAULT_TENANT)
        .one(db)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    create_tenant(db, master, DEFAULT_TENANT, "Default institution").await?;
    Ok(true)
}

/// Creates a tenant with its issuer keys (Ed25519, the default, and P-256), encrypted
/// under the master key. A running server loads them at its next start.
pub async fn create_tenant(
    db: &DatabaseConnection,
    master: &MasterKey,
    id: &str,
    name: &str,
) -> anyhow::Result<()> {
    let txn = db.begin().await?;
    let now = Utc::now();
    tenants::ActiveModel {
        id: Set(id.to_owned()),
        name: Set(name.to_owned()),
        created_at: Set(now),
    }
    .insert(&txn)
    .await
    .with_context(|| format!("creating tenant `{id}` (is the id taken?)"))?;
    for (key_type, is_default) in [(KeyType::Ed25519, true), (KeyType::P256, false)] {
        let jwk = key_type.generate();
        let (did, verification_method) = did::did_key_for(&jwk)?;
        let public = jwk.to_public();
        signing_keys::ActiveModel {
            id: Set(verification_method),
            tenant_id: Set(id.to_owned()),
            did: Set(did),
            algorithm: Set(key_type.algorithm().to_string()),
            public_jwk: Set(serde_json::to_string(&public)?),
            private_jwe: Set(master.encrypt(&serde_json::to_vec(&jwk)?)?),
            is_default: Set(is_default),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(())
}
