//! Key attestations (issue 25, decision 26): whether an institution requires wallets to
//! prove their keys are attested, and the wallet providers' roots it trusts to attest them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InstitutionSettings {
    Table,
    RequireKeyAttestation,
    WalletProviders,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::add_column(
            manager,
            InstitutionSettings::Table,
            boolean_null(InstitutionSettings::RequireKeyAttestation),
        )
        .await?;
        crate::add_column(
            manager,
            InstitutionSettings::Table,
            text_null(InstitutionSettings::WalletProviders),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::drop_column(
            manager,
            InstitutionSettings::Table,
            InstitutionSettings::WalletProviders,
        )
        .await?;
        crate::drop_column(
            manager,
            InstitutionSettings::Table,
            InstitutionSettings::RequireKeyAttestation,
        )
        .await
    }
}
