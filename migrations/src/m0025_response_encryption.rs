//! Encrypted answers to presentation requests (issue 25, decision 26): the private key a
//! request's `direct_post.jwt` answer is encrypted to, sealed under the master key and
//! dropped once the request is answered.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PresentationRequests {
    Table,
    ResponseKey,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::add_column(
            manager,
            PresentationRequests::Table,
            text_null(PresentationRequests::ResponseKey),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::drop_column(
            manager,
            PresentationRequests::Table,
            PresentationRequests::ResponseKey,
        )
        .await
    }
}
