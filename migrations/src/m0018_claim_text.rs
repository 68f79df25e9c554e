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
        crate::add_column(
            manager,
            IssuedCredentials::Table,
            text_null(IssuedCredentials::ClaimText),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::drop_column(
            manager,
            IssuedCredentials::Table,
            IssuedCredentials::ClaimText,
        )
        .await
    }
}
