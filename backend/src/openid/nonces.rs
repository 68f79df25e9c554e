//! One-time `c_nonce` values (OpenID4VCI §7): issued by the nonce endpoint, consumed by the
//! proof of possession that carries one. Stored, so any node of a deployment accepts a
//! nonce another gave out, and a nonce is used at most once across all of them.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set};

use crate::auth::random_token;
use crate::store::entities::openid_nonces;

/// How long a `c_nonce` stays usable.
pub const LIFETIME_SECS: i64 = 300;

/// Gives out a fresh nonce (and clears expired ones).
pub async fn issue(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<String, DbErr> {
    openid_nonces::Entity::delete_many()
        .filter(openid_nonces::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    let nonce = random_token();
    openid_nonces::Entity::insert(openid_nonces::ActiveModel {
        nonce: Set(nonce.clone()),
        expires_at: Set(now + Duration::seconds(LIFETIME_SECS)),
    })
    .exec_without_returning(db)
    .await?;
    Ok(nonce)
}

/// Uses up `nonce`: true when it was given out, unexpired and not used before.
pub async fn consume(
    db: &DatabaseConnection,
    nonce: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let deleted = openid_nonces::Entity::delete_many()
        .filter(openid_nonces::Column::Nonce.eq(nonce))
        .filter(openid_nonces::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected == 1)
}
