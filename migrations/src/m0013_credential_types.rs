//! Credential types as data: every version of every type — the four bundled ones, seeded
//! at first start, and those institutions define — with its published schema and context
//! text. A version's row is never changed but to retire it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CredentialTypes {
    Table,
    Id,
    Name,
    Version,
    TenantId,
    Schema,
    SchemaHash,
    ContextUrl,
    Context,
    CreatedBy,
    CreatedAtMs,
    RetiredAtMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CredentialTypes::Table)
                    .if_not_exists()
                    .col(string(CredentialTypes::Id).primary_key())
                    .col(string(CredentialTypes::Name))
                    .col(integer(CredentialTypes::Version))
                    .col(string_null(CredentialTypes::TenantId))
                    .col(text(CredentialTypes::Schema))
                    .col(string(CredentialTypes::SchemaHash))
                    .col(string(CredentialTypes::ContextUrl))
                    .col(text(CredentialTypes::Context))
                    .col(string(CredentialTypes::CreatedBy))
                    .col(big_integer(CredentialTypes::CreatedAtMs))
                    .col(big_integer_null(CredentialTypes::RetiredAtMs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_credential_types_name_version")
                    .table(CredentialTypes::Table)
                    .col(CredentialTypes::Name)
                    .col(CredentialTypes::Version)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CredentialTypes::Table).to_owned())
            .await
    }
}
