//! Wallet attestations (issue 25, decision 26): whether an institution requires wallets to
//! authenticate with an attestation by a wallet provider it trusts (OpenID4VCI 1.0 Annex E).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InstitutionSettings {
    Table,
    RequireWalletAttestation,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::add_column(
            manager,
            InstitutionSettings::Table,
            boolean_null(InstitutionSettings::RequireWalletAttestation),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::drop_column(
            manager,
            InstitutionSettings::Table,
            InstitutionSettings::RequireWalletAttestation,
        )
        .await
    }
}
