//! Private keys: where they are made and kept ([`Custody`]: sealed in the database under
//! the master key, or inside a PKCS#11 token), and the tenants' issuer keys, opened once at
//! start-up. Every key signs through [`Signer`], wherever it is held.

mod master;
pub mod pkcs11;

pub use master::MasterKey;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use anyhow::Context;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, Set,
};
use ssi::jwk::{Algorithm, Base64urlUInt, Params, JWK};

use crate::coherence::{self, Cached};
use crate::store::entities::{signing_keys, tenants};
use certus_credential::did;
use certus_credential::signer::Signer;
use pkcs11::Token;

/// The prefix of a stored key that a PKCS#11 token holds: `pkcs11:` and its `CKA_ID` in hex.
const TOKEN_KEY_PREFIX: &str = "pkcs11:";

/// Where private keys are made and kept: sealed (a JWE under the node's master key, in the
/// database) or, when a PKCS#11 token is configured, inside the token, which signs without
/// letting them out. A stored key says which: a sealed key is a JWE, a token key is
/// `pkcs11:` and its id. Keys sealed before a token was configured keep working.
#[derive(Debug, Clone)]
pub struct Custody {
    master: Arc<MasterKey>,
    token: Option<Arc<Token>>,
}

impl Custody {
    /// Keys sealed under `master`, or made in `token` when there is one.
    pub fn new(master: Arc<MasterKey>, token: Option<Arc<Token>>) -> Self {
        Self { master, token }
    }

    /// The types of a new tenant's issuer keys, the default first: Ed25519 and P-256, or
    /// P-256 alone in a token that cannot make Ed25519 keys.
    pub fn issuer_key_types(&self) -> Vec<KeyType> {
        match &self.token {
            Some(token) => token.key_types(),
            None => vec![KeyType::Ed25519, KeyType::P256],
        }
    }

    /// A new key of `key_type` (`label` names it in a token): its signer, and the value
    /// stored for it.
    pub fn generate(
        &self,
        key_type: KeyType,
        label: &str,
    ) -> anyhow::Result<(Arc<dyn Signer>, String)> {
        match &self.token {
            Some(token) => {
                let (key, id) = token.generate(key_type, label)?;
                Ok((key, format!("{TOKEN_KEY_PREFIX}{}", hex::encode(id))))
            }
            None => {
                let jwk = key_type.generate();
                let sealed = self.master.encrypt(&serde_json::to_vec(&jwk)?)?;
                Ok((Arc::new(jwk), sealed))
            }
        }
    }

    /// Opens a stored key (a JWE of a JWK, or a token key).
    pub fn open(&self, stored: &str) -> anyhow::Result<Arc<dyn Signer>> {
        if let Some(key) = self.open_in_token(stored)? {
            return Ok(key);
        }
        let jwk: JWK = serde_json::from_slice(&self.master.decrypt(stored)?)
            .context("decrypted key is not a JWK")?;
        Ok(Arc::new(jwk))
    }

    /// A new Ed25519 key for the node's validator: made in the token when there is one
    /// (which must then offer Ed25519), else 32 random bytes sealed under the master key.
    pub fn generate_validator(&self) -> anyhow::Result<(Arc<dyn Signer>, String)> {
        if self.token.is_some() {
            return self.generate(KeyType::Ed25519, "certus validator");
        }
        let secret: [u8; 32] = rand::random();
        Ok((
            Arc::new(ed25519_jwk(&secret)),
            self.master.encrypt(&secret)?,
        ))
    }

    /// Opens the validator key: a token key, or 32 bytes sealed under the master key.
    pub fn open_validator(&self, stored: &str) -> anyhow::Result<Arc<dyn Signer>> {
        if let Some(key) = self.open_in_token(stored)? {
            anyhow::ensure!(
                key.algorithm() == Algorithm::EdDSA,
                "the validator key must be Ed25519"
            );
            return Ok(key);
        }
        let secret: [u8; 32] = self
            .master
            .decrypt(stored)?
            .try_into()
            .map_err(|_| anyhow::anyhow!("the stored validator key is not 32 bytes"))?;
        Ok(Arc::new(ed25519_jwk(&secret)))
    }

    /// The validator key's 32 secret bytes, for a consortium node's consensus engine,
    /// which signs its votes and authenticates its peer connections in memory. A key held
    /// in a token cannot be read out: such a node runs alone.
    pub fn validator_secret(&self, stored: &str) -> anyhow::Result<zeroize::Zeroizing<[u8; 32]>> {
        anyhow::ensure!(
            !stored.starts_with(TOKEN_KEY_PREFIX),
            "this node's validator key is in a PKCS#11 token, which never shows it: a \
             consortium's engine signs votes in memory, so its validator key must be in the \
             key store (make the node's key without the token)"
        );
        let secret = zeroize::Zeroizing::new(self.master.decrypt(stored)?);
        let bytes: [u8; 32] = secret
            .as_slice()
            .try_into()
            .map_err(|_| anyhow::anyhow!("the stored validator key is not 32 bytes"))?;
        Ok(zeroize::Zeroizing::new(bytes))
    }

    fn open_in_token(&self, stored: &str) -> anyhow::Result<Option<Arc<dyn Signer>>> {
        let Some(id) = stored.strip_prefix(TOKEN_KEY_PREFIX) else {
            return Ok(None);
        };
        let token = self.token.as_ref().context(
            "a key is held in a PKCS#11 token: set CERTUS_PKCS11_MODULE, CERTUS_PKCS11_TOKEN and CERTUS_PKCS11_PIN",
        )?;
        let id = hex::decode(id).context("a stored token key id is not hex")?;
        Ok(Some(token.key(&id)?))
    }
}

/// The private JWK of an Ed25519 secret.
fn ed25519_jwk(secret: &[u8; 32]) -> JWK {
    let mut jwk = JWK::from(ed25519_dalek::SigningKey::from_bytes(secret).verifying_key());
    if let Params::OKP(okp) = &mut jwk.params {
        okp.private_key = Some(Base64urlUInt(secret.to_vec()));
    }
    jwk
}

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

    /// A new key of this type in memory.
    pub fn generate(self) -> JWK {
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
    /// The private key, wherever it is held.
    pub signer: Arc<dyn Signer>,
}

impl IssuerKey {
    /// The JOSE algorithm the key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.signer.algorithm()
    }

    /// The public key.
    pub fn public_jwk(&self) -> JWK {
        self.signer.public_jwk()
    }
}

/// The tenants' issuer keys, decrypted in memory.
#[derive(Debug, Default)]
pub struct KeyStore {
    /// Per tenant: its keys, the default one first.
    by_tenant: RwLock<HashMap<String, Vec<Arc<IssuerKey>>>>,
    /// Keys added or forgotten by this process so far: a reload that read the database
    /// before one of them is not applied (it is tried again at the next poll).
    changes: std::sync::atomic::AtomicU64,
}

impl KeyStore {
    /// Opens every key the database names (decrypted, or found in the token).
    pub async fn load(db: &DatabaseConnection, custody: &Custody) -> anyhow::Result<Self> {
        let store = Self::default();
        store.reload(db, custody).await?;
        Ok(store)
    }

    /// Replaces the keys with those the database names now (another process created,
    /// rotated or retired some); keys already open are kept as they are.
    pub async fn reload(&self, db: &DatabaseConnection, custody: &Custody) -> anyhow::Result<()> {
        let changes = self.changes.load(std::sync::atomic::Ordering::SeqCst);
        let mut rows = signing_keys::Entity::find().all(db).await?;
        rows.sort_by_key(|r| (!r.is_default, r.created_at));
        let open: HashMap<String, Arc<IssuerKey>> = self
            .read()
            .values()
            .flatten()
            .map(|k| (k.verification_method.clone(), k.clone()))
            .collect();
        let mut by_tenant: HashMap<String, Vec<Arc<IssuerKey>>> = HashMap::new();
        for row in rows {
            let key = match open.get(&row.id) {
                Some(key) => key.clone(),
                None => Arc::new(IssuerKey {
                    signer: custody
                        .open(&row.private_jwe)
                        .with_context(|| format!("opening key {}", row.id))?,
                    tenant_id: row.tenant_id.clone(),
                    did: row.did,
                    verification_method: row.id,
                }),
            };
            by_tenant.entry(row.tenant_id).or_default().push(key);
        }
        let mut current = self.by_tenant.write().unwrap_or_else(|p| p.into_inner());
        if self.changes.load(std::sync::atomic::Ordering::SeqCst) != changes {
            anyhow::bail!("a key was added or forgotten here while reloading");
        }
        *current = by_tenant;
        Ok(())
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
        self.changes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.by_tenant
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.tenant_id.clone())
            .or_default()
            .push(key);
    }

    /// Forgets a key (retired or compromised) by its verification method.
    pub fn forget(&self, verification_method: &str) {
        self.changes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
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
pub async fn bootstrap(db: &DatabaseConnection, custody: &Custody) -> anyhow::Result<bool> {
    if tenants::Entity::find_by_id(DEFAULT_TENANT)
        .one(db)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    create_tenant(db, custody, DEFAULT_TENANT, "Default institution").await?;
    Ok(true)
}

/// Creates a tenant with its issuer keys (Ed25519, the default, and P-256; see
/// [`Custody::issuer_key_types`]), kept by `custody`. Running servers over the database
/// load them within [`crate::coherence::POLL`].
pub async fn create_tenant(
    db: &DatabaseConnection,
    custody: &Custody,
    id: &str,
    name: &str,
) -> anyhow::Result<()> {
    let txn = crate::store::begin_writing(db).await?;
    let now = Utc::now();
    tenants::ActiveModel {
        id: Set(id.to_owned()),
        name: Set(name.to_owned()),
        created_at: Set(now),
    }
    .insert(&txn)
    .await
    .with_context(|| format!("creating tenant `{id}` (is the id taken?)"))?;
    for (n, key_type) in custody.issuer_key_types().into_iter().enumerate() {
        let (signer, stored) = custody.generate(key_type, &format!("certus issuer {id}"))?;
        let public = signer.public_jwk();
        let (did, verification_method) = did::did_key_for(&public)?;
        signing_keys::ActiveModel {
            id: Set(verification_method),
            tenant_id: Set(id.to_owned()),
            did: Set(did),
            algorithm: Set(key_type.algorithm().to_string()),
            public_jwk: Set(serde_json::to_string(&public)?),
            private_jwe: Set(stored),
            is_default: Set(n == 0),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    coherence::touch(&txn, Cached::Keys).await?;
    txn.commit().await?;
    Ok(())
}

/// Stores new signing-key rows in `conn`'s transaction (a DID's keys, with its operation).
pub async fn save(
    conn: &impl ConnectionTrait,
    rows: Vec<signing_keys::ActiveModel>,
) -> Result<(), DbErr> {
    for row in rows {
        row.insert(conn).await?;
    }
    coherence::touch(conn, Cached::Keys).await
}

/// Deletes the signing keys `ids` in `conn`'s transaction.
pub async fn delete(conn: &impl ConnectionTrait, ids: &[String]) -> Result<(), DbErr> {
    if !ids.is_empty() {
        signing_keys::Entity::delete_many()
            .filter(signing_keys::Column::Id.is_in(ids.iter().cloned()))
            .exec(conn)
            .await?;
        coherence::touch(conn, Cached::Keys).await?;
    }
    Ok(())
}
