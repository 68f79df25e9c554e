//! Stored verification policies: named, public, owned by the tenant that first stored
//! each name.

use certus_schemas::wire::VerificationPolicy;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, QueryOrder, Set};

use crate::auth::Principal;
use crate::error::{DomainError, ErrorKind};
use crate::store::entities::verification_policies;
use crate::work::Work;

/// Why a policy could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    /// The name belongs to another tenant.
    #[error("the policy `{0}` belongs to another tenant")]
    OwnedElsewhere(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl DomainError for PutError {
    fn code(&self) -> &'static str {
        match self {
            Self::OwnedElsewhere(_) => "POLICY_OWNED_ELSEWHERE",
            Self::Db(_) => "INTERNAL",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::OwnedElsewhere(_) => ErrorKind::Forbidden,
            Self::Db(_) => ErrorKind::Internal,
        }
    }
}

/// The store of named policies.
#[derive(Debug, Clone)]
pub struct Policies {
    db: DatabaseConnection,
}

impl Policies {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// The policy stored under `name`.
    pub async fn get(&self, name: &str) -> Result<Option<verification_policies::Model>, DbErr> {
        verification_policies::Entity::find_by_id(name)
            .one(&self.db)
            .await
    }

    /// Every stored policy, by name.
    pub async fn list(&self) -> Result<Vec<verification_policies::Model>, DbErr> {
        verification_policies::Entity::find()
            .order_by_asc(verification_policies::Column::Name)
            .all(&self.db)
            .await
    }

    /// Stores (or replaces) `policy` under `name` for `principal`'s tenant, with its audit
    /// entry.
    pub async fn put(
        &self,
        principal: &Principal,
        name: &str,
        policy: &VerificationPolicy,
        now: DateTime<Utc>,
    ) -> Result<(), PutError> {
        if let Some(existing) = self.get(name).await? {
            if existing.tenant_id != principal.tenant_id {
                return Err(PutError::OwnedElsewhere(name.to_owned()));
            }
        }
        let document = serde_json::to_string(policy)
            .map_err(|e| DbErr::Custom(format!("serialising a policy: {e}")))?;
        let mut work = Work::begin(&self.db, now).await?;
        verification_policies::Entity::insert(verification_policies::ActiveModel {
            name: Set(name.to_owned()),
            tenant_id: Set(principal.tenant_id.clone()),
            document: Set(document),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(verification_policies::Column::Name)
                .update_columns([
                    verification_policies::Column::Document,
                    verification_policies::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(work.conn())
        .await?;
        work.audit_by(principal, "policy.put", name);
        work.commit().await?;
        Ok(())
    }
}
