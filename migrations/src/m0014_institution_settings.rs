//! An institution's settings: what it allows beyond the defaults. A missing row (or a
//! missing value) means the server profile's default.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InstitutionSettings {
    Table,
    TenantId,
    OpenIssuance,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InstitutionSettings::Table)
                    .if_not_exists()
                    .col(string(InstitutionSettings::TenantId).primary_key())
                    .col(boolean_null(InstitutionSettings::OpenIssuance))
                    .col(string(InstitutionSettings::UpdatedBy))
                    .col(timestamp_with_time_zone(InstitutionSettings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(InstitutionSettings::Table, InstitutionSettings::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(InstitutionSettings::Table).to_owned())
            .await
    }
}
