//! Institution settings: what an institution allows beyond the server profile's defaults
//! (decision 18). Read on every issuance, so each institution's row is cached after its
//! first read, replaced when this process changes it and reloaded when another does
//! ([`crate::coherence`]).

use std::future::Future;
use std::pin::Pin;

use certus_schemas::settings::{InstitutionSettings, SettingSource, SettingsChoice};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, Set};

use crate::auth::Principal;
use crate::coherence::{Cache, Cached, Reload};
use crate::config::Profile;
use crate::store::entities::institution_settings;
use crate::work::Work;

/// The settings service.
#[derive(Debug)]
pub struct Settings {
    db: DatabaseConnection,
    profile: Profile,
    /// Each institution's own choices, as stored (the default where it has none).
    chosen: Cache<String, SettingsChoice>,
}

impl Settings {
    pub fn new(db: DatabaseConnection, profile: Profile) -> Self {
        Self {
            db,
            profile,
            chosen: Cache::default(),
        }
    }

    /// `tenant_id`'s settings in effect.
    pub async fn of(&self, tenant_id: &str) -> Result<InstitutionSettings, DbErr> {
        let chosen = self.chosen(tenant_id).await?;
        let (open_issuance, open_issuance_source) = match chosen.open_issuance {
            Some(open) => (open, SettingSource::Institution),
            None => (self.profile == Profile::Open, SettingSource::Profile),
        };
        Ok(InstitutionSettings {
            open_issuance,
            open_issuance_source,
            require_dpop: chosen.require_dpop.unwrap_or(false),
            require_key_attestation: chosen.require_key_attestation.unwrap_or(false),
            require_wallet_attestation: chosen.require_wallet_attestation.unwrap_or(false),
            wallet_providers: chosen.wallet_providers,
            profile: self.profile.as_str().to_owned(),
        })
    }

    /// Whether `tenant_id` requires DPoP-bound access tokens of wallets.
    pub async fn require_dpop(&self, tenant_id: &str) -> Result<bool, DbErr> {
        Ok(self.of(tenant_id).await?.require_dpop)
    }

    /// Whether `tenant_id` issues credentials of no registered type.
    pub async fn open_issuance(&self, tenant_id: &str) -> Result<bool, DbErr> {
        Ok(self.of(tenant_id).await?.open_issuance)
    }

    /// Stores the principal's institution's choices, with an audit entry naming them.
    pub async fn choose(
        &self,
        principal: &Principal,
        choice: SettingsChoice,
        now: DateTime<Utc>,
    ) -> Result<InstitutionSettings, DbErr> {
        let tenant_id = principal.tenant_id.as_str();
        let mut work = Work::begin(&self.db, now).await?;
        institution_settings::Entity::insert(institution_settings::ActiveModel {
            tenant_id: Set(tenant_id.to_owned()),
            open_issuance: Set(choice.open_issuance),
            require_dpop: Set(choice.require_dpop),
            require_key_attestation: Set(choice.require_key_attestation),
            require_wallet_attestation: Set(choice.require_wallet_attestation),
            wallet_providers: Set(choice.wallet_providers.clone()),
            updated_by: Set(principal.actor_id()),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(institution_settings::Column::TenantId)
                .update_columns([
                    institution_settings::Column::OpenIssuance,
                    institution_settings::Column::RequireDpop,
                    institution_settings::Column::RequireKeyAttestation,
                    institution_settings::Column::RequireWalletAttestation,
                    institution_settings::Column::WalletProviders,
                    institution_settings::Column::UpdatedBy,
                    institution_settings::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(work.conn())
        .await?;
        let described = match choice.open_issuance {
            Some(open) => format!("openIssuance={open}"),
            None => "openIssuance=default".to_owned(),
        };
        let described = format!(
            "{described} requireDpop={} requireKeyAttestation={} requireWalletAttestation={} \
             walletProviders={}",
            choice.require_dpop.unwrap_or(false),
            choice.require_key_attestation.unwrap_or(false),
            choice.require_wallet_attestation.unwrap_or(false),
            choice
                .wallet_providers
                .as_deref()
                .map_or(0, |p| p.matches("BEGIN CERTIFICATE").count())
        );
        work.audit_by(principal, "settings.update", &described);
        work.touch(Cached::Settings);
        work.commit().await?;
        self.chosen.clear();
        self.of(tenant_id).await
    }

    async fn chosen(&self, tenant_id: &str) -> Result<SettingsChoice, DbErr> {
        let generation = match self.chosen.get(tenant_id) {
            Ok(found) => return Ok(found),
            Err(generation) => generation,
        };
        let choice = institution_settings::Entity::find_by_id(tenant_id)
            .one(&self.db)
            .await?
            .map(|row| SettingsChoice {
                open_issuance: row.open_issuance,
                require_dpop: row.require_dpop,
                require_key_attestation: row.require_key_attestation,
                require_wallet_attestation: row.require_wallet_attestation,
                wallet_providers: row.wallet_providers,
            })
            .unwrap_or_default();
        self.chosen
            .fill(generation, tenant_id.to_owned(), choice.clone());
        Ok(choice)
    }
}

impl Reload for Settings {
    /// Forgets the choices: those made through another process are read at next use.
    fn reload(&self) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + '_>> {
        self.chosen.clear();
        Box::pin(std::future::ready(Ok(())))
    }
}
