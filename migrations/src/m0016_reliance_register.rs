//! Reliance across nodes (decision 21): every node indexes the reliance notices final on
//! the shared chain, whoever relied, so a KYC issuer counts the reliance on its KYC and the
//! regulator reads the whole register on its own node; a watch of a status entry on
//! another member's list keeps the state last told to its institution.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RelianceRegister {
    Table,
    Record,
    Height,
    Position,
    TimeMs,
    RelyingParty,
    RelyingInstitution,
    KycIssuer,
    AssuranceLevel,
    Month,
    Jws,
}

#[derive(DeriveIden)]
enum StatusWatches {
    Table,
    Observed,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RelianceRegister::Table)
                    .if_not_exists()
                    .col(string(RelianceRegister::Record).primary_key())
                    .col(big_integer(RelianceRegister::Height))
                    .col(big_integer(RelianceRegister::Position))
                    .col(big_integer(RelianceRegister::TimeMs))
                    .col(string(RelianceRegister::RelyingParty))
                    .col(string(RelianceRegister::RelyingInstitution))
                    .col(string(RelianceRegister::KycIssuer))
                    .col(string(RelianceRegister::AssuranceLevel))
                    .col(string(RelianceRegister::Month))
                    .col(text(RelianceRegister::Jws))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_reliance_register_issuer", RelianceRegister::KycIssuer),
            ("idx_reliance_register_height", RelianceRegister::Height),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(RelianceRegister::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(StatusWatches::Table)
                    .add_column(boolean(StatusWatches::Observed).default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(StatusWatches::Table)
                    .drop_column(StatusWatches::Observed)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(RelianceRegister::Table).to_owned())
            .await
    }
}
