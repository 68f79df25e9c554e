//! Consortium chains: a block decided by the validators' votes stores the consensus round
//! they voted in (`Finality`, JSON) beside its signatures.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LedgerBlocks {
    Table,
    Finality,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LedgerBlocks::Table)
                    .add_column(text_null(LedgerBlocks::Finality))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LedgerBlocks::Table)
                    .drop_column(LedgerBlocks::Finality)
                    .to_owned(),
            )
            .await
    }
}
