//! Same-device presentations (issue 25, decision 26): the hash of the one-time
//! `response_code` the response endpoint gives the wallet to send the holder's browser back
//! to the verifier's page with (OpenID4VP 1.0 §8.2).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PresentationRequests {
    Table,
    ResponseCode,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::add_column(
            manager,
            PresentationRequests::Table,
            text_null(PresentationRequests::ResponseCode),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::drop_column(
            manager,
            PresentationRequests::Table,
            PresentationRequests::ResponseCode,
        )
        .await
    }
}
