//! Issuing from several processes over one database (issue 23): leases on open pairs of
//! status lists, mandates counted in the database, and the epochs by which each process
//! learns that a cached table changed through another.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StatusLists {
    Table,
    LeasedBy,
    LeaseUntilMs,
}

#[derive(DeriveIden)]
enum MandateUses {
    Table,
    Mandate,
    CredentialType,
    Used,
}

#[derive(DeriveIden)]
enum CacheEpochs {
    Table,
    Name,
    Epoch,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for mut column in [
            string_null(StatusLists::LeasedBy),
            big_integer_null(StatusLists::LeaseUntilMs),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(StatusLists::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(MandateUses::Table)
                    .if_not_exists()
                    .col(string(MandateUses::Mandate))
                    .col(string(MandateUses::CredentialType))
                    .col(big_integer(MandateUses::Used))
                    .primary_key(
                        Index::create()
                            .col(MandateUses::Mandate)
                            .col(MandateUses::CredentialType),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CacheEpochs::Table)
                    .if_not_exists()
                    .col(string(CacheEpochs::Name).primary_key())
                    .col(big_integer(CacheEpochs::Epoch))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CacheEpochs::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(MandateUses::Table).to_owned())
            .await?;
        for column in [StatusLists::LeasedBy, StatusLists::LeaseUntilMs] {
            manager
                .alter_table(
                    Table::alter()
                        .table(StatusLists::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
