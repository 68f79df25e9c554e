//! Issued credentials can be found by what their non-personal claims say (issue 24): each
//! record keeps those claims' values, case-folded, for the portal's search. Claims a type
//! flags personal, or whose name usually holds personal data, are never kept here.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IssuedCredentials {
    Table,
    ClaimText,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(IssuedCredentials::Table)
                    .add_column(text_null(IssuedCredentials::ClaimText))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(IssuedCredentials::Table)
                    .drop_column(IssuedCredentials::ClaimText)
                    .to_owned(),
            )
            .await
    }
}
