//! The audit log: entries wait in `audit_outbox`, written in the request's transaction;
//! the block producer moves them into `audit_log` with their position and chained hash,
//! and anchors the head on the chain.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditOutbox {
    Table,
    Id,
    TenantId,
    Actor,
    Action,
    Subject,
    AtMs,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Position,
    TenantId,
    Actor,
    Action,
    Subject,
    AtMs,
    Hash,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditOutbox::Table)
                    .if_not_exists()
                    .col(big_pk_auto(AuditOutbox::Id))
                    .col(string(AuditOutbox::TenantId))
                    .col(string(AuditOutbox::Actor))
                    .col(string(AuditOutbox::Action))
                    .col(string(AuditOutbox::Subject))
                    .col(big_integer(AuditOutbox::AtMs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .if_not_exists()
                    .col(big_integer(AuditLog::Position).primary_key())
                    .col(string(AuditLog::TenantId))
                    .col(string(AuditLog::Actor))
                    .col(string(AuditLog::Action))
                    .col(string(AuditLog::Subject))
                    .col(big_integer(AuditLog::AtMs))
                    .col(string(AuditLog::Hash))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AuditOutbox::Table).to_owned())
            .await
    }
}
