//! One-time `c_nonce` values (OpenID4VCI §7): issued by the nonce endpoint, consumed by the
//! proof of possession that carries one.
//!
//! Giving one out writes nothing: a nonce is its expiry time and 16 random bytes,
//! authenticated with a key derived from the master key, so anyone may ask for one
//! (rate-limited) without growing the database. Using one up records it (until it expires)
//! in the shared store, so any node of a deployment accepts a nonce another gave out, and
//! a nonce is used at most once across all of them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set};
use sha2::{Digest as _, Sha256};

use crate::keys::MasterKey;
use crate::store::entities::openid_nonces;

/// How long a `c_nonce` stays usable.
pub const LIFETIME_SECS: i64 = 300;
/// Bytes of a nonce before encoding: expiry (8), random (16), tag (16).
const NONCE_LEN: usize = 40;

/// Makes and checks nonces.
#[derive(Clone)]
pub struct Nonces {
    key: [u8; 32],
}

impl std::fmt::Debug for Nonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Nonces(..)")
    }
}

impl Nonces {
    pub fn new(master: &MasterKey) -> Self {
        Self {
            key: master.derive("openid4vci c_nonce"),
        }
    }

    fn mac(&self, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC takes a key of any length");
        mac.update(body);
        mac
    }

    /// A fresh nonce, usable for [`LIFETIME_SECS`]. Writes nothing.
    pub fn issue(&self, now: DateTime<Utc>) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        let expires = (now + Duration::seconds(LIFETIME_SECS)).timestamp();
        nonce[..8].copy_from_slice(&expires.to_be_bytes());
        rand::rngs::OsRng.fill_bytes(&mut nonce[8..24]);
        let tag = self.mac(&nonce[..24]).finalize().into_bytes();
        nonce[24..].copy_from_slice(&tag[..16]);
        URL_SAFE_NO_PAD.encode(nonce)
    }

    /// When `nonce` expires, if this deployment made it.
    fn expiry(&self, nonce: &str) -> Option<DateTime<Utc>> {
        let bytes: [u8; NONCE_LEN] = URL_SAFE_NO_PAD.decode(nonce).ok()?.try_into().ok()?;
        // The tag is the first 16 bytes of the HMAC, compared in constant time.
        self.mac(&bytes[..24])
            .verify_truncated_left(&bytes[24..])
            .ok()?;
        let expires = i64::from_be_bytes(bytes[..8].try_into().ok()?);
        DateTime::from_timestamp(expires, 0)
    }

    /// Uses up `nonce`: true when this deployment made it, it has not expired and it was
    /// not used before.
    pub async fn consume(
        &self,
        db: &DatabaseConnection,
        nonce: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, DbErr> {
        let Some(expires_at) = self.expiry(nonce).filter(|e| *e > now) else {
            return Ok(false);
        };
        used_once(db, nonce, expires_at, now).await
    }
}

/// Records the `jti` of a proof of `kind` (`dpop`, `wallet-attestation`) made with the key
/// of thumbprint `jkt` as used: true the first time. It is remembered until `window_secs`
/// after the proof's `iat`, when the proof could no longer be accepted anyway.
pub async fn first_use_of_jti(
    db: &DatabaseConnection,
    kind: &str,
    jkt: &str,
    jti: &str,
    iat: i64,
    window_secs: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let remembered = format!(
        "{kind}:{}",
        hex::encode(Sha256::digest(format!("{jkt}.{jti}")))
    );
    let until = DateTime::from_timestamp(iat, 0).unwrap_or(now) + Duration::seconds(window_secs);
    used_once(db, &remembered, until.max(now), now).await
}

/// Records that `value` was used, until `expires_at` (when it could no longer be accepted
/// anyway): true the first time, false when it was used before — on any node sharing the
/// database. Values that expired are cleared on the way.
pub async fn used_once(
    db: &DatabaseConnection,
    value: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    openid_nonces::Entity::delete_many()
        .filter(openid_nonces::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    let inserted = openid_nonces::Entity::insert(openid_nonces::ActiveModel {
        nonce: Set(value.to_owned()),
        expires_at: Set(expires_at),
    })
    .on_conflict(
        OnConflict::column(openid_nonces::Column::Nonce)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(inserted == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_authenticated_and_expire() {
        let nonces = Nonces::new(&MasterKey::generate());
        let now = Utc::now();
        let nonce = nonces.issue(now);
        let expiry = nonces.expiry(&nonce).expect("made here");
        assert_eq!(expiry.timestamp(), now.timestamp() + LIFETIME_SECS);
        // Another deployment's nonce, a forged one and garbage are not ours.
        assert!(Nonces::new(&MasterKey::generate()).expiry(&nonce).is_none());
        let mut bytes = URL_SAFE_NO_PAD.decode(&nonce).expect("b64");
        bytes[0] ^= 1;
        assert!(nonces.expiry(&URL_SAFE_NO_PAD.encode(bytes)).is_none());
        assert!(nonces.expiry("not a nonce").is_none());
    }
}
