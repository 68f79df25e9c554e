//! People's accounts: created by an admin of their institution (or, for an institution's
//! first admin, by the command line or the first start) with a one-time password they
//! must change at first sign-in.

use certus_schemas::portal::{Role, UserInfo};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set, SqlErr,
};

use super::passwords;
use crate::error::{DomainError, ErrorKind};
use crate::store::entities::{sessions, users};
use certus_credential::time::xsd_now;

/// Why an account change was refused. Every variant but `Internal` is the client's.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Not an email address.
    #[error("`{0}` is not an email address")]
    InvalidEmail(String),
    /// An empty or overlong name.
    #[error("the name must be 1 to 200 characters")]
    InvalidName,
    /// Another account has this email, in this institution or another.
    #[error("an account with this email already exists")]
    EmailTaken,
    /// No such account in the caller's institution.
    #[error("no user `{0}` in this institution")]
    NotFound(String),
    /// An admin tried to disable or demote themselves.
    #[error("you cannot disable your own account or take away your own admin role")]
    SelfLockout,
    /// The new password is too short or too long.
    #[error("{0}")]
    WeakPassword(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for AccountError {
    fn from(e: sea_orm::DbErr) -> Self {
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::EmailTaken,
            _ => Self::Internal(e.into()),
        }
    }
}

impl DomainError for AccountError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidEmail(_) => "INVALID_EMAIL",
            Self::InvalidName => "INVALID_NAME",
            Self::EmailTaken => "EMAIL_TAKEN",
            Self::NotFound(_) => "USER_NOT_FOUND",
            Self::SelfLockout => "SELF_LOCKOUT",
            Self::WeakPassword(_) => "WEAK_PASSWORD",
            Self::Internal(_) => "INTERNAL",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidEmail(_) | Self::InvalidName | Self::WeakPassword(_) => ErrorKind::Invalid,
            Self::EmailTaken => ErrorKind::Conflict,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::SelfLockout => ErrorKind::Forbidden,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }

    fn pointer(&self) -> Option<String> {
        match self {
            Self::InvalidEmail(_) | Self::EmailTaken => Some("/email".into()),
            Self::InvalidName => Some("/name".into()),
            _ => None,
        }
    }
}

/// An email address, trimmed and lower-cased: the account's sign-in name.
pub fn normalise_email(email: &str) -> Result<String, AccountError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email)
    } else {
        Err(AccountError::InvalidEmail(email))
    }
}

/// The portal's view of an account.
pub fn info(user: &users::Model) -> UserInfo {
    UserInfo {
        id: user.id.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        role: user.role.parse().unwrap_or(Role::Auditor),
        created_at: xsd_now(user.created_at),
        disabled_at: user.disabled_at.map(xsd_now),
        must_change_password: user.must_change_password,
    }
}

/// Creates an account in `tenant_id`. With `password` absent it gets a one-time password,
/// returned here and never again, that must be changed at first sign-in.
pub async fn create(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    email: &str,
    name: &str,
    role: Role,
    password: Option<String>,
) -> Result<(users::Model, Option<String>), AccountError> {
    let email = normalise_email(email)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AccountError::InvalidName);
    }
    let (password, one_time) = match password {
        Some(password) => {
            passwords::check_new(&password).map_err(AccountError::WeakPassword)?;
            (password, None)
        }
        None => {
            let password = passwords::one_time();
            (password.clone(), Some(password))
        }
    };
    let user = users::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        tenant_id: Set(tenant_id.to_owned()),
        email: Set(email),
        name: Set(name.to_owned()),
        role: Set(role.as_str().to_owned()),
        password_hash: Set(passwords::hash_blocking(password).await?),
        must_change_password: Set(one_time.is_some()),
        created_at: Set(Utc::now()),
        disabled_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok((user, one_time))
}

/// The accounts of `tenant_id`, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    tenant_id: &str,
) -> Result<Vec<users::Model>, AccountError> {
    Ok(users::Entity::find()
        .filter(users::Column::TenantId.eq(tenant_id))
        .order_by_asc(users::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Changes the role of an account of `tenant_id`, or disables or re-enables it (ending its
/// sessions). `acting` is the admin making the change, who cannot lock themselves out.
pub async fn update(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    acting: &str,
    id: &str,
    role: Option<Role>,
    disabled: Option<bool>,
) -> Result<users::Model, AccountError> {
    let user = users::Entity::find_by_id(id)
        .filter(users::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
        .ok_or_else(|| AccountError::NotFound(id.to_owned()))?;
    if id == acting && (disabled == Some(true) || role.is_some_and(|r| r != Role::Admin)) {
        return Err(AccountError::SelfLockout);
    }
    let mut active: users::ActiveModel = user.clone().into();
    if let Some(role) = role {
        active.role = Set(role.as_str().to_owned());
    }
    match disabled {
        Some(true) if user.disabled_at.is_none() => active.disabled_at = Set(Some(Utc::now())),
        Some(false) => active.disabled_at = Set(None),
        _ => {}
    }
    let user = active.update(db).await?;
    if user.disabled_at.is_some() || role.is_some() {
        // A disabled account signs out everywhere; a new role takes effect at the next
        // sign-in, so none keeps a session with the old one.
        sessions::Entity::delete_many()
            .filter(sessions::Column::UserId.eq(id))
            .exec(db)
            .await?;
    }
    Ok(user)
}

/// Sets a new password, which ends the need to change a one-time password.
pub async fn set_password(
    db: &impl ConnectionTrait,
    user: users::Model,
    new_password: String,
) -> Result<(), AccountError> {
    passwords::check_new(&new_password).map_err(AccountError::WeakPassword)?;
    let mut active: users::ActiveModel = user.into();
    active.password_hash = Set(passwords::hash_blocking(new_password).await?);
    active.must_change_password = Set(false);
    active.update(db).await?;
    Ok(())
}

/// The sign-in name of the first admin created at first start.
pub const FIRST_ADMIN_EMAIL: &str = "admin@certus.local";

/// At first start, when the default institution has no account yet: its admin, with a
/// one-time password. Returns its email and password, to be shown once.
pub async fn bootstrap_first_admin(
    db: &impl ConnectionTrait,
) -> Result<Option<(String, String)>, AccountError> {
    let accounts = users::Entity::find()
        .filter(users::Column::TenantId.eq(crate::keys::DEFAULT_TENANT))
        .count(db)
        .await?;
    if accounts > 0 {
        return Ok(None);
    }
    let created = create(
        db,
        crate::keys::DEFAULT_TENANT,
        FIRST_ADMIN_EMAIL,
        "Administrator",
        Role::Admin,
        None,
    )
    .await;
    match created {
        Ok((user, password)) => Ok(password.map(|p| (user.email, p))),
        // Another node of the same store, started at the same moment, made it first: its
        // console shows the password.
        Err(AccountError::EmailTaken) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lower_cased_and_checked() {
        assert_eq!(
            normalise_email("  Maria.Rossi@Bank-A.example ").unwrap(),
            "maria.rossi@bank-a.example"
        );
        for bad in ["", "no-at-sign", "@x.test", "a@", "a b@x.test"] {
            assert!(normalise_email(bad).is_err(), "{bad:?}");
        }
    }
}
