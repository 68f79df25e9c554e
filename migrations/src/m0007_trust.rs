//! The trust registry: credential-type schemas registered on the chain, and the signed
//! statements (accreditations, delegations, revocations) indexed for lookups.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SchemaRegistrations {
    Table,
    Hash,
    Name,
    AtMs,
}

#[derive(DeriveIden)]
enum TrustStatements {
    Table,
    Id,
    Kind,
    Grantor,
    Subject,
    TenantId,
    Schemas,
    ValidFromMs,
    ValidUntilMs,
    MaxCount,
    Parent,
    RevokedAtMs,
    Statement,
    AtMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SchemaRegistrations::Table)
                    .if_not_exists()
                    .col(string(SchemaRegistrations::Hash).primary_key())
                    .col(string(SchemaRegistrations::Name))
                    .col(big_integer(SchemaRegistrations::AtMs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TrustStatements::Table)
                    .if_not_exists()
                    .col(string(TrustStatements::Id).primary_key())
                    .col(string(TrustStatements::Kind))
                    .col(string(TrustStatements::Grantor))
                    .col(string_null(TrustStatements::Subject))
                    .col(string_null(TrustStatements::TenantId))
                    .col(text(TrustStatements::Schemas))
                    .col(big_integer(TrustStatements::ValidFromMs))
                    .col(big_integer_null(TrustStatements::ValidUntilMs))
                    .col(big_integer_null(TrustStatements::MaxCount))
                    .col(string_null(TrustStatements::Parent))
                    .col(big_integer_null(TrustStatements::RevokedAtMs))
                    .col(text(TrustStatements::Statement))
                    .col(big_integer(TrustStatements::AtMs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_trust_statements_subject")
                    .table(TrustStatements::Table)
                    .col(TrustStatements::Subject)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TrustStatements::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SchemaRegistrations::Table).to_owned())
            .await
    }
}
