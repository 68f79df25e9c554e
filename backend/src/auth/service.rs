//! The accounts service: what the HTTP layer asks of people, sessions and API keys. Every
//! change is a unit of work with its audit entry.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

use certus_schemas::portal::Role;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use super::accounts::{self, AccountError};
use super::sessions::{self, Session, SignInError};
use super::throttle::SignInThrottle;
use super::{Principal, Scope};
use crate::coherence::{Cache, Cached, Reload};
use crate::store::entities::{api_keys, tenants, users};
use crate::work::Work;

/// People, sessions and API keys.
#[derive(Debug, Clone)]
pub struct Accounts {
    db: DatabaseConnection,
    /// Failed sign-ins per account and client address.
    throttle: Arc<SignInThrottle>,
    /// Session cookies carry `Secure`: the public URL is https.
    secure_cookies: bool,
    /// The live API keys met so far, by token hash: every API request asks. Emptied when
    /// a key is revoked here or through another process ([`crate::coherence`]).
    api_keys: Arc<Cache<String, Principal>>,
}

impl Accounts {
    pub fn new(db: DatabaseConnection, secure_cookies: bool) -> Self {
        Self {
            db,
            throttle: Arc::default(),
            secure_cookies,
            api_keys: Arc::default(),
        }
    }

    /// Whether session cookies carry `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies
    }

    /// The caller an API key names, while it is live.
    pub async fn by_api_key(&self, token: &str) -> Result<Option<Principal>, DbErr> {
        let hash = super::token_hash(token);
        let generation = match self.api_keys.get(&hash) {
            Ok(principal) => return Ok(Some(principal)),
            Err(generation) => generation,
        };
        let principal = super::authenticate(&self.db, token).await?;
        if let Some(principal) = &principal {
            self.api_keys.fill(generation, hash, principal.clone());
        }
        Ok(principal)
    }

    /// The live session of a cookie token.
    pub async fn by_session(&self, token: &str) -> Result<Option<Session>, DbErr> {
        sessions::authenticate(&self.db, token).await
    }

    /// Checks `email` and `password` and opens a session; with the cookie token.
    pub async fn sign_in(
        &self,
        email: &str,
        password: String,
        client: Option<IpAddr>,
    ) -> Result<(Session, String), SignInError> {
        sessions::sign_in(&self.db, &self.throttle, email, password, client).await
    }

    /// Ends a session.
    pub async fn sign_out(&self, session: &Session) -> Result<(), DbErr> {
        sessions::sign_out(&self.db, &session.id).await
    }

    /// Sets the session's person's password and ends their other sessions.
    pub async fn change_password(
        &self,
        session: Session,
        new_password: String,
    ) -> Result<(), AccountError> {
        let (user_id, session_id) = (session.user.id.clone(), session.id.clone());
        accounts::set_password(&self.db, session.user, new_password).await?;
        sessions::end_others(&self.db, &user_id, &session_id).await?;
        Ok(())
    }

    /// An institution.
    pub async fn tenant(&self, id: &str) -> Result<Option<tenants::Model>, DbErr> {
        tenants::Entity::find_by_id(id).one(&self.db).await
    }

    /// How people read the `actors` of records and the audit log (`user:` and a user's id,
    /// or an API key's id): the person's name, or the key's label; for those of
    /// `tenant_id` that still exist.
    pub async fn actor_names<'a>(
        &self,
        tenant_id: &str,
        actors: impl IntoIterator<Item = &'a str>,
    ) -> Result<BTreeMap<String, String>, DbErr> {
        let (people, keys): (Vec<&str>, Vec<&str>) =
            actors.into_iter().partition(|a| a.starts_with("user:"));
        let mut names = BTreeMap::new();
        let people: BTreeSet<&str> = people
            .iter()
            .filter_map(|a| a.strip_prefix("user:"))
            .collect();
        if !people.is_empty() {
            for user in users::Entity::find()
                .filter(users::Column::TenantId.eq(tenant_id))
                .filter(users::Column::Id.is_in(people))
                .all(&self.db)
                .await?
            {
                names.insert(format!("user:{}", user.id), user.name);
            }
        }
        let keys: BTreeSet<&str> = keys.into_iter().collect();
        if !keys.is_empty() {
            for key in api_keys::Entity::find()
                .filter(api_keys::Column::TenantId.eq(tenant_id))
                .filter(api_keys::Column::Id.is_in(keys))
                .all(&self.db)
                .await?
            {
                let name = match key.label {
                    Some(label) => format!("API key “{label}”"),
                    None => "an unlabelled API key".to_owned(),
                };
                names.insert(key.id, name);
            }
        }
        Ok(names)
    }

    /// The institution's people.
    pub async fn users(&self, tenant_id: &str) -> Result<Vec<users::Model>, AccountError> {
        accounts::list(&self.db, tenant_id).await
    }

    /// Creates an account in `principal`'s institution; with its one-time password.
    pub async fn create_user(
        &self,
        principal: &Principal,
        email: &str,
        name: &str,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<(users::Model, Option<String>), AccountError> {
        let mut work = Work::begin(&self.db, now).await?;
        let (user, password) =
            accounts::create(work.conn(), &principal.tenant_id, email, name, role, None).await?;
        work.audit_by(principal, "user.create", &user.id);
        work.commit().await?;
        Ok((user, password))
    }

    /// Changes the role of, or disables or re-enables, an account of `principal`'s
    /// institution.
    pub async fn update_user(
        &self,
        principal: &Principal,
        id: &str,
        role: Option<Role>,
        disabled: Option<bool>,
        now: DateTime<Utc>,
    ) -> Result<users::Model, AccountError> {
        let mut work = Work::begin(&self.db, now).await?;
        let user = accounts::update(
            work.conn(),
            &principal.tenant_id,
            principal.user_id().unwrap_or_default(),
            id,
            role,
            disabled,
        )
        .await?;
        work.audit_by(principal, "user.update", &user.id);
        work.commit().await?;
        Ok(user)
    }

    /// The institution's API keys.
    pub async fn api_keys(&self, tenant_id: &str) -> Result<Vec<api_keys::Model>, DbErr> {
        super::list_api_keys(&self.db, tenant_id).await
    }

    /// Creates an API key for `principal`'s institution; with its token.
    pub async fn create_api_key(
        &self,
        principal: &Principal,
        scopes: &[Scope],
        label: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(api_keys::Model, String), DbErr> {
        let mut work = Work::begin(&self.db, now).await?;
        let (key, token) =
            super::create_api_key(work.conn(), &principal.tenant_id, scopes, label).await?;
        work.audit_by(principal, "api-key.create", &key.id);
        work.commit().await?;
        Ok((key, token))
    }

    /// Revokes an API key of `principal`'s institution; `false` when it has none `id`.
    pub async fn revoke_api_key(
        &self,
        principal: &Principal,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, DbErr> {
        let mut work = Work::begin(&self.db, now).await?;
        if !super::revoke_api_key(work.conn(), &principal.tenant_id, id).await? {
            return Ok(false);
        }
        work.audit_by(principal, "api-key.revoke", id);
        work.touch(Cached::ApiKeys);
        work.commit().await?;
        self.api_keys.clear();
        Ok(true)
    }

    /// The default institution's first admin, made on first start: (email, password).
    pub async fn bootstrap_first_admin(&self) -> Result<Option<(String, String)>, AccountError> {
        accounts::bootstrap_first_admin(&self.db).await
    }
}

impl Reload for Accounts {
    /// Forgets the API keys met so far: one was revoked through another process.
    fn reload(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send + '_>> {
        self.api_keys.clear();
        Box::pin(std::future::ready(Ok(())))
    }
}
