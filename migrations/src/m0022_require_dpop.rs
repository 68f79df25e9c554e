//! An institution's choice to require DPoP-bound access tokens of wallets (issue 25, HAIP).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InstitutionSettings {
    Table,
    RequireDpop,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::add_column(
            manager,
            InstitutionSettings::Table,
            boolean_null(InstitutionSettings::RequireDpop),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::drop_column(
            manager,
            InstitutionSettings::Table,
            InstitutionSettings::RequireDpop,
        )
        .await
    }
}
