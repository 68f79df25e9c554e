//! Stored verification policies, named so verifiers can refer to them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum VerificationPolicies {
    Table,
    Name,
    TenantId,
    Document,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(VerificationPolicies::Table)
                    .if_not_exists()
                    .col(string(VerificationPolicies::Name).primary_key())
                    .col(string(VerificationPolicies::TenantId))
                    .col(text(VerificationPolicies::Document))
                    .col(timestamp_with_time_zone(VerificationPolicies::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(VerificationPolicies::Table).to_owned())
            .await
    }
}
