//! The audit log: every state change, appended in the request's transaction, and its hash
//! chain, extended by the block producer, whose head is anchored on the chain.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    TenantId,
    Actor,
    Action,
    Subject,
    AtMs,
}

#[derive(DeriveIden)]
enum AuditChain {
    Table,
    Position,
    EntryId,
    Hash,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .if_not_exists()
                    .col(big_pk_auto(AuditLog::Id))
                    .col(string(AuditLog::TenantId))
                    .col(string(AuditLog::Actor))
                    .col(string(AuditLog::Action))
                    .col(string(AuditLog::Subject))
                    .col(big_integer(AuditLog::AtMs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditChain::Table)
                    .if_not_exists()
                    .col(big_integer(AuditChain::Position).primary_key())
                    .col(big_integer(AuditChain::EntryId).unique_key())
                    .col(string(AuditChain::Hash))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditChain::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await
    }
}
