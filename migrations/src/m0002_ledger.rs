//! The built-in chain: blocks, their transactions, the outbox of transactions waiting for
//! a block, the node's keys, and the commitment of each issued credential.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LedgerGenesis {
    Table,
    ChainId,
    Document,
}

#[derive(DeriveIden)]
enum LedgerBlocks {
    Table,
    Height,
    Hash,
    Header,
    Signatures,
    TxCount,
    TimeMs,
    ChunkRoots,
}

#[derive(DeriveIden)]
enum LedgerTransactions {
    Table,
    BlockHeight,
    Position,
    Kind,
    Data,
    Commitment,
}

#[derive(DeriveIden)]
enum LedgerOutbox {
    Table,
    Id,
    Data,
    Commitment,
    CreatedAt,
}

#[derive(DeriveIden)]
enum NodeKeys {
    Table,
    Purpose,
    PublicKey,
    PrivateJwe,
    CreatedAt,
}

#[derive(DeriveIden)]
enum IssuedCredentials {
    Table,
    Commitment,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LedgerGenesis::Table)
                    .if_not_exists()
                    .col(string(LedgerGenesis::ChainId).primary_key())
                    .col(text(LedgerGenesis::Document))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LedgerBlocks::Table)
                    .if_not_exists()
                    .col(big_integer(LedgerBlocks::Height).primary_key())
                    .col(string(LedgerBlocks::Hash).unique_key())
                    .col(text(LedgerBlocks::Header))
                    .col(text(LedgerBlocks::Signatures))
                    .col(big_integer(LedgerBlocks::TxCount))
                    .col(big_integer(LedgerBlocks::TimeMs))
                    .col(blob(LedgerBlocks::ChunkRoots))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LedgerTransactions::Table)
                    .if_not_exists()
                    .col(big_integer(LedgerTransactions::BlockHeight))
                    .col(big_integer(LedgerTransactions::Position))
                    .col(small_integer(LedgerTransactions::Kind))
                    .col(blob(LedgerTransactions::Data))
                    .col(string_null(LedgerTransactions::Commitment))
                    .primary_key(
                        Index::create()
                            .col(LedgerTransactions::BlockHeight)
                            .col(LedgerTransactions::Position),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ledger_transactions_kind")
                    .table(LedgerTransactions::Table)
                    .col(LedgerTransactions::Kind)
                    .col(LedgerTransactions::BlockHeight)
                    .col(LedgerTransactions::Position)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ledger_transactions_commitment")
                    .table(LedgerTransactions::Table)
                    .col(LedgerTransactions::Commitment)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LedgerOutbox::Table)
                    .if_not_exists()
                    .col(big_pk_auto(LedgerOutbox::Id))
                    .col(blob(LedgerOutbox::Data))
                    .col(string_null(LedgerOutbox::Commitment))
                    .col(timestamp_with_time_zone(LedgerOutbox::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ledger_outbox_commitment")
                    .table(LedgerOutbox::Table)
                    .col(LedgerOutbox::Commitment)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NodeKeys::Table)
                    .if_not_exists()
                    .col(string(NodeKeys::Purpose).primary_key())
                    .col(text(NodeKeys::PublicKey))
                    .col(text(NodeKeys::PrivateJwe))
                    .col(timestamp_with_time_zone(NodeKeys::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(IssuedCredentials::Table)
                    .add_column(string_null(IssuedCredentials::Commitment))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_issued_credentials_commitment")
                    .table(IssuedCredentials::Table)
                    .col(IssuedCredentials::Commitment)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_issued_credentials_commitment")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(IssuedCredentials::Table)
                    .drop_column(IssuedCredentials::Commitment)
                    .to_owned(),
            )
            .await?;
        for table in [
            NodeKeys::Table.into_iden(),
            LedgerOutbox::Table.into_iden(),
            LedgerTransactions::Table.into_iden(),
            LedgerBlocks::Table.into_iden(),
            LedgerGenesis::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
