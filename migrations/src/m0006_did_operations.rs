//! `did:certus` operations: each DID's signed operations in sequence, as anchored on the
//! chain (the chain holds the same JWS bytes; this table indexes them by DID).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DidOperations {
    Table,
    Did,
    Sequence,
    TenantId,
    Operation,
    Hash,
    AtMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DidOperations::Table)
                    .if_not_exists()
                    .col(string(DidOperations::Did))
                    .col(big_integer(DidOperations::Sequence))
                    .col(string(DidOperations::TenantId))
                    .col(text(DidOperations::Operation))
                    .col(string_uniq(DidOperations::Hash))
                    .col(big_integer(DidOperations::AtMs))
                    .primary_key(
                        Index::create()
                            .col(DidOperations::Did)
                            .col(DidOperations::Sequence),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DidOperations::Table).to_owned())
            .await
    }
}
