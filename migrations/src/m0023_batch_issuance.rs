//! Batch issuance (issue 25, decision 26): the copies of one credential a wallet received
//! at once, each bound to another of its keys, so that a status change of one applies to
//! every copy; and how many copies an offer gave.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CredentialOffers {
    Table,
    Copies,
}

#[derive(DeriveIden)]
enum CredentialCopies {
    Table,
    CredentialId,
    BatchId,
    TenantId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CredentialCopies::Table)
                    .col(string(CredentialCopies::CredentialId).primary_key())
                    .col(string(CredentialCopies::BatchId))
                    .col(string(CredentialCopies::TenantId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_credential_copies_batch")
                    .table(CredentialCopies::Table)
                    .col(CredentialCopies::BatchId)
                    .to_owned(),
            )
            .await?;
        crate::add_column(
            manager,
            CredentialOffers::Table,
            integer_null(CredentialOffers::Copies),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::drop_column(manager, CredentialOffers::Table, CredentialOffers::Copies).await?;
        manager
            .drop_table(Table::drop().table(CredentialCopies::Table).to_owned())
            .await
    }
}
