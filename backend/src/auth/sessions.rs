//! Browser sessions: a random token in an HttpOnly cookie, stored only as its SHA-256, with
//! a CSRF token the page sends back on every change.

use std::net::IpAddr;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use subtle::ConstantTimeEq;

use super::throttle::SignInThrottle;
use super::{accounts, passwords, random_token, token_hash};
use crate::store::entities::{sessions, users};

/// The session cookie's name.
pub const COOKIE: &str = "certus_session";
/// The header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a session lasts from sign-in.
pub const LIFETIME: Duration = Duration::hours(12);

/// A signed-in person's session.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub user: users::Model,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

impl Session {
    /// True when `presented` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, presented: &str) -> bool {
        presented
            .as_bytes()
            .ct_eq(self.csrf_token.as_bytes())
            .into()
    }
}

/// Why a sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown email, wrong password, or a disabled account: one answer for all three.
    #[error("the email or password is wrong")]
    InvalidCredentials,
    /// Too many failed attempts; try again after this many seconds.
    #[error("too many failed sign-ins; try again in {0} seconds")]
    Throttled(u64),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Checks `email` and `password` and opens a session; returns it with the cookie token.
pub async fn sign_in(
    db: &impl ConnectionTrait,
    throttle: &SignInThrottle,
    email: &str,
    password: String,
    client: Option<IpAddr>,
) -> Result<(Session, String), SignInError> {
    let email = accounts::normalise_email(email).unwrap_or_else(|_| email.to_owned());
    throttle
        .attempt(&email, client, Instant::now())
        .map_err(SignInError::Throttled)?;
    let user = users::Entity::find()
        .filter(users::Column::Email.eq(&email))
        .one(db)
        .await
        .map_err(anyhow::Error::from)?;
    let matches =
        passwords::verify_blocking(password, user.as_ref().map(|u| u.password_hash.clone()))
            .await?;
    let user = match user {
        Some(user) if matches && user.disabled_at.is_none() => user,
        _ => return Err(SignInError::InvalidCredentials),
    };
    throttle.succeeded(&email, client);
    let token = random_token();
    let now = Utc::now();
    let session = Session {
        id: token_hash(&token),
        csrf_token: random_token(),
        expires_at: now + LIFETIME,
        user,
    };
    sessions::ActiveModel {
        id: Set(session.id.clone()),
        user_id: Set(session.user.id.clone()),
        tenant_id: Set(session.user.tenant_id.clone()),
        csrf_token: Set(session.csrf_token.clone()),
        created_at: Set(now),
        expires_at: Set(session.expires_at),
    }
    .insert(db)
    .await
    .map_err(anyhow::Error::from)?;
    Ok((session, token))
}

/// The live session of a cookie token: not expired, its account not disabled.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<Session>, sea_orm::DbErr> {
    let found = sessions::Entity::find_by_id(token_hash(token))
        .find_also_related(users::Entity)
        .one(db)
        .await?;
    Ok(match found {
        Some((session, Some(user)))
            if session.expires_at > Utc::now() && user.disabled_at.is_none() =>
        {
            Some(Session {
                id: session.id,
                csrf_token: session.csrf_token,
                expires_at: session.expires_at,
                user,
            })
        }
        _ => None,
    })
}

/// Ends a session.
pub async fn sign_out(db: &impl ConnectionTrait, session_id: &str) -> Result<(), sea_orm::DbErr> {
    sessions::Entity::delete_by_id(session_id).exec(db).await?;
    Ok(())
}

/// Ends every other session of the account (after a password change).
pub async fn end_others(
    db: &impl ConnectionTrait,
    user_id: &str,
    keep: &str,
) -> Result<(), sea_orm::DbErr> {
    sessions::Entity::delete_many()
        .filter(sessions::Column::UserId.eq(user_id))
        .filter(sessions::Column::Id.ne(keep))
        .exec(db)
        .await?;
    Ok(())
}
