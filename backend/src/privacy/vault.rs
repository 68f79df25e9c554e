//! The personal-data vault's keys and records.
//!
//! Three levels of keys: the node's master key wraps each tenant's vault key; a tenant's
//! key wraps the key of each of its data subjects; a subject's key encrypts that person's
//! records. All three are 256-bit AES keys and every wrapping and record is a compact JWE
//! (`dir`, `A256GCM`, josekit). Erasing a person drops their wrapped key: their records
//! stay as ciphertext no key opens (crypto-shredding), and are cleared as well.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use anyhow::Context;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use josekit::jwe::{self, Dir, JweHeader};
use rand::RngCore;
use sea_orm::sea_query::{Expr, IntoCondition, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
};
use serde_json::Value;
use sha2::Sha256;

use certus_schemas::privacy::RecordKind;

use super::PersonalRows;
use crate::keys::MasterKey;
use crate::ledger::hash::erasure_tag;
use crate::store::entities::{data_subjects, personal_records, tenant_keys};
use crate::store::{time_ordered_id, Inserts};

/// A 256-bit key of the vault; its bytes never reach a log.
#[derive(Clone)]
pub struct VaultKey([u8; 32]);

impl std::fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultKey(..)")
    }
}

impl VaultKey {
    fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Encrypts `plaintext` as a compact JWE naming the key `kid`.
    fn seal(&self, plaintext: &[u8], kid: &str, content_type: &str) -> anyhow::Result<String> {
        let mut header = JweHeader::new();
        header.set_content_encryption("A256GCM");
        header.set_content_type(content_type);
        header.set_key_id(kid);
        let encrypter = Dir.encrypter_from_bytes(self.0)?;
        Ok(jwe::serialize_compact(plaintext, &header, &encrypter)?)
    }

    /// Decrypts a compact JWE made by [`Self::seal`] with this key.
    fn open(&self, token: &str) -> anyhow::Result<Vec<u8>> {
        let decrypter = Dir.decrypter_from_bytes(self.0)?;
        let (plaintext, _) = jwe::deserialize_compact(token, &decrypter)
            .context("the vault key does not open it")?;
        Ok(plaintext)
    }

    fn unwrap_key(&self, wrapped: &str) -> anyhow::Result<Self> {
        let bytes = self.open(wrapped)?;
        Ok(Self(bytes.try_into().map_err(|_| {
            anyhow::anyhow!("a wrapped vault key is not 32 bytes")
        })?))
    }
}

/// A data subject whose key is at hand.
#[derive(Debug, Clone)]
pub struct Subject {
    pub id: String,
    key: VaultKey,
    /// The subject's row, when it is new and not stored yet: written with its first
    /// records.
    pub new: Option<data_subjects::ActiveModel>,
}

impl Subject {
    /// Encrypts one record about this subject.
    #[allow(clippy::too_many_arguments)]
    pub fn seal(
        &self,
        tenant_id: &str,
        kind: RecordKind,
        credential_id: Option<&str>,
        credential_type: Option<&str>,
        data: &Value,
        now: DateTime<Utc>,
    ) -> anyhow::Result<personal_records::ActiveModel> {
        let id = time_ordered_id();
        Ok(personal_records::ActiveModel {
            tag: Set(tag(&id)),
            jwe: Set(Some(self.key.seal(
                &serde_json::to_vec(data)?,
                &self.id,
                "json",
            )?)),
            id: Set(id),
            tenant_id: Set(tenant_id.to_owned()),
            subject_id: Set(self.id.clone()),
            kind: Set(kind.as_str().to_owned()),
            credential_id: Set(credential_id.map(str::to_owned)),
            credential_type: Set(credential_type.map(str::to_owned)),
            created_at: Set(now),
            erased_at: Set(None),
            erased_by: Set(None),
        })
    }

    /// Encrypts a JSON document that waits for this subject (an offer).
    pub fn seal_json(&self, document: &Value) -> anyhow::Result<String> {
        self.key
            .seal(&serde_json::to_vec(document)?, &self.id, "json")
    }

    /// Decrypts a record or document sealed for this subject.
    pub fn open_json(&self, token: &str) -> anyhow::Result<Value> {
        Ok(serde_json::from_slice(&self.key.open(token)?)?)
    }
}

/// The salted hash naming a data subject or a record in an anchored erasure receipt:
/// SHA-256 over a domain prefix, 16 random bytes and the id. The salt is kept by no one,
/// so the hash links to nothing but the row that stores it.
pub fn tag(id: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    erasure_tag(&salt, id).to_hex()
}

/// The vault: tenant keys (cached once unwrapped) and data subjects.
#[derive(Debug)]
pub struct Vault {
    db: DatabaseConnection,
    master: Arc<MasterKey>,
    tenants: RwLock<HashMap<String, VaultKey>>,
}

/// Writes vault rows (new subjects and sealed records) with `inserts`, in the transaction
/// of the issuances or the offer they belong to.
pub fn insert<'a>(inserts: &mut Inserts, rows: impl IntoIterator<Item = &'a PersonalRows>) {
    let (mut subjects, mut records) = (Vec::new(), Vec::new());
    for row in rows {
        subjects.extend(row.subject.clone());
        records.extend(row.records.iter().cloned());
    }
    inserts.rows(subjects);
    inserts.rows(records);
}

/// Destroys the keys (and reference hashes) of the subjects `ids` that still have one and
/// clears their records: (subjects, records) erased.
pub async fn shred(
    conn: &impl ConnectionTrait,
    ids: &[&str],
    erased_by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(u64, u64), DbErr> {
    if ids.is_empty() {
        return Ok((0, 0));
    }
    let shredded = data_subjects::Entity::update_many()
        .col_expr(
            data_subjects::Column::WrappedKey,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            data_subjects::Column::ReferenceHash,
            Expr::value(Option::<String>::None),
        )
        .col_expr(data_subjects::Column::ErasedAt, Expr::value(now))
        .filter(data_subjects::Column::Id.is_in(ids.iter().copied()))
        .filter(data_subjects::Column::WrappedKey.is_not_null())
        .exec(conn)
        .await?
        .rows_affected;
    let records = clear(
        conn,
        personal_records::Column::SubjectId.is_in(ids.iter().copied()),
        erased_by,
        now,
    )
    .await?;
    Ok((shredded, records))
}

/// Clears the ciphertexts of the records `filter` selects that still hold any.
pub async fn clear(
    conn: &impl ConnectionTrait,
    filter: impl IntoCondition,
    erased_by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(personal_records::Entity::update_many()
        .col_expr(
            personal_records::Column::Jwe,
            Expr::value(Option::<String>::None),
        )
        .col_expr(personal_records::Column::ErasedAt, Expr::value(now))
        .col_expr(
            personal_records::Column::ErasedBy,
            Expr::value(erased_by.map(str::to_owned)),
        )
        .filter(filter)
        .filter(personal_records::Column::Jwe.is_not_null())
        .exec(conn)
        .await?
        .rows_affected)
}

/// A data subject was erased: nothing of theirs can be read any more.
#[derive(Debug, thiserror::Error)]
#[error("the data subject's personal data was erased")]
pub struct Erased;

impl Vault {
    pub fn new(db: DatabaseConnection, master: Arc<MasterKey>) -> Self {
        Self {
            db,
            master,
            tenants: RwLock::default(),
        }
    }

    /// The tenant's vault key, created on first use.
    async fn tenant_key(&self, tenant_id: &str) -> anyhow::Result<VaultKey> {
        if let Some(key) = self.tenants.read().expect("not poisoned").get(tenant_id) {
            return Ok(key.clone());
        }
        let fresh = VaultKey::generate();
        tenant_keys::Entity::insert(tenant_keys::ActiveModel {
            tenant_id: Set(tenant_id.to_owned()),
            wrapped_key: Set(self.master.encrypt(&fresh.0)?),
            created_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::column(tenant_keys::Column::TenantId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        let row = tenant_keys::Entity::find_by_id(tenant_id)
            .one(&self.db)
            .await?
            .context("the tenant's vault key vanished")?;
        let bytes = self.master.decrypt(&row.wrapped_key)?;
        let key = VaultKey(
            bytes
                .try_into()
                .map_err(|_| anyhow::anyhow!("the tenant's vault key is not 32 bytes"))?,
        );
        self.tenants
            .write()
            .expect("not poisoned")
            .insert(tenant_id.to_owned(), key.clone());
        Ok(key)
    }

    /// The keyed hash under which the institution's reference for a person is kept.
    pub async fn reference_hash(&self, tenant_id: &str, reference: &str) -> anyhow::Result<String> {
        let key = self.tenant_key(tenant_id).await?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.0)?;
        mac.update(b"certus/data-subject-reference/v1\0");
        mac.update(reference.trim().as_bytes());
        Ok(hex::encode(mac.finalize().into_bytes()))
    }

    /// A new data subject, not stored yet (see [`Subject::new`]).
    pub async fn new_subject(
        &self,
        tenant_id: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Subject> {
        self.create(tenant_id, None, now).await
    }

    async fn create(
        &self,
        tenant_id: &str,
        reference_hash: Option<String>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Subject> {
        let tenant_key = self.tenant_key(tenant_id).await?;
        let id = time_ordered_id();
        let key = VaultKey::generate();
        let row = data_subjects::ActiveModel {
            tag: Set(tag(&id)),
            wrapped_key: Set(Some(tenant_key.seal(&key.0, tenant_id, "octet-stream")?)),
            id: Set(id.clone()),
            tenant_id: Set(tenant_id.to_owned()),
            reference_hash: Set(reference_hash),
            created_at: Set(now),
            erased_at: Set(None),
        };
        Ok(Subject {
            id,
            key,
            new: Some(row),
        })
    }

    /// The data subject the institution knows by `reference`, stored now if new (so
    /// concurrent issuances for one person find one subject).
    pub async fn subject_by_reference(
        &self,
        tenant_id: &str,
        reference: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Subject> {
        let hash = self.reference_hash(tenant_id, reference).await?;
        if let Some(subject) = self.find_by_reference(tenant_id, &hash).await? {
            return Ok(subject);
        }
        let Subject { new, .. } = self.create(tenant_id, Some(hash.clone()), now).await?;
        if let Some(row) = new {
            data_subjects::Entity::insert(row)
                .on_conflict(
                    OnConflict::columns([
                        data_subjects::Column::TenantId,
                        data_subjects::Column::ReferenceHash,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(&self.db)
                .await?;
        }
        self.find_by_reference(tenant_id, &hash)
            .await?
            .context("the new data subject vanished")
    }

    async fn find_by_reference(
        &self,
        tenant_id: &str,
        hash: &str,
    ) -> anyhow::Result<Option<Subject>> {
        let row = data_subjects::Entity::find()
            .filter(data_subjects::Column::TenantId.eq(tenant_id))
            .filter(data_subjects::Column::ReferenceHash.eq(hash))
            .one(&self.db)
            .await?;
        match row {
            Some(row) => Ok(Some(self.open(&row).await?.map_err(anyhow::Error::from)?)),
            None => Ok(None),
        }
    }

    /// The stored subject `id` of `tenant_id`, with its key; `Err(Erased)` once erased.
    pub async fn subject(
        &self,
        conn: &impl ConnectionTrait,
        tenant_id: &str,
        id: &str,
    ) -> anyhow::Result<Option<Result<Subject, Erased>>> {
        let row = data_subjects::Entity::find_by_id(id)
            .filter(data_subjects::Column::TenantId.eq(tenant_id))
            .one(conn)
            .await?;
        match row {
            Some(row) => Ok(Some(self.open(&row).await?)),
            None => Ok(None),
        }
    }

    /// Unwraps a stored subject's key.
    pub async fn open(
        &self,
        row: &data_subjects::Model,
    ) -> anyhow::Result<Result<Subject, Erased>> {
        let Some(wrapped) = &row.wrapped_key else {
            return Ok(Err(Erased));
        };
        let key = self.tenant_key(&row.tenant_id).await?.unwrap_key(wrapped)?;
        Ok(Ok(Subject {
            id: row.id.clone(),
            key,
            new: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_record_opens_with_its_key_only() {
        let key = VaultKey::generate();
        let subject = Subject {
            id: "s".into(),
            key: key.clone(),
            new: None,
        };
        let data = serde_json::json!({"givenName": "Maria"});
        let token = subject.seal_json(&data).expect("seals");
        assert!(!token.contains("Maria"));
        assert_eq!(subject.open_json(&token).expect("opens"), data);
        let other = Subject {
            id: "s".into(),
            key: VaultKey::generate(),
            new: None,
        };
        assert!(other.open_json(&token).is_err());
        let wrapped = key
            .seal(&VaultKey::generate().0, "t", "octet-stream")
            .expect("wraps");
        assert!(key.unwrap_key(&wrapped).is_ok());
        assert!(VaultKey::generate().unwrap_key(&wrapped).is_err());
    }

    #[test]
    fn tags_are_salted() {
        assert_ne!(tag("same id"), tag("same id"));
        assert_eq!(tag("x").len(), 64);
    }
}
