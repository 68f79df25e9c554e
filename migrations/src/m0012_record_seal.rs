//! Each issued credential's record carries a seal: an HMAC, under a key derived from the
//! node's master key (kept outside the database), over the columns fixed at issuance —
//! so an edit of the register (which status index a revocation flips, which credential a
//! record is) is caught by `certus chain verify`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IssuedCredentials {
    Table,
    Seal,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(IssuedCredentials::Table)
                    .add_column(string_null(IssuedCredentials::Seal))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(IssuedCredentials::Table)
                    .drop_column(IssuedCredentials::Seal)
                    .to_owned(),
            )
            .await
    }
}
