//! Credential status (W3C Bitstring Status List): the lists with their current bits, every
//! published (signed, anchored) version of each, and each issued credential's entry and
//! status.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StatusLists {
    Table,
    Id,
    TenantId,
    Issuer,
    Purpose,
    Partner,
    Bits,
    Version,
    Open,
    CreatedAt,
}

#[derive(DeriveIden)]
enum StatusListVersions {
    Table,
    ListId,
    Version,
    Hash,
    Credential,
    PublishedAt,
}

#[derive(DeriveIden)]
enum IssuedCredentials {
    Table,
    IssuedBy,
    RevocationList,
    SuspensionList,
    StatusIndex,
    RevokedAt,
    SuspendedAt,
    StatusReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StatusLists::Table)
                    .if_not_exists()
                    .col(string(StatusLists::Id).primary_key())
                    .col(string(StatusLists::TenantId))
                    .col(string(StatusLists::Issuer))
                    .col(string(StatusLists::Purpose))
                    .col(string(StatusLists::Partner))
                    .col(blob(StatusLists::Bits))
                    .col(big_integer(StatusLists::Version))
                    .col(boolean(StatusLists::Open))
                    .col(timestamp_with_time_zone(StatusLists::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_status_lists_issuer_open")
                    .table(StatusLists::Table)
                    .col(StatusLists::Issuer)
                    .col(StatusLists::Open)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StatusListVersions::Table)
                    .if_not_exists()
                    .col(string(StatusListVersions::ListId))
                    .col(big_integer(StatusListVersions::Version))
                    .col(string(StatusListVersions::Hash))
                    .col(text(StatusListVersions::Credential))
                    .col(timestamp_with_time_zone(StatusListVersions::PublishedAt))
                    .primary_key(
                        Index::create()
                            .col(StatusListVersions::ListId)
                            .col(StatusListVersions::Version),
                    )
                    .to_owned(),
            )
            .await?;
        // SQLite alters one column per statement.
        let columns = [
            string_null(IssuedCredentials::IssuedBy),
            string_null(IssuedCredentials::RevocationList),
            string_null(IssuedCredentials::SuspensionList),
            big_integer_null(IssuedCredentials::StatusIndex),
            timestamp_with_time_zone_null(IssuedCredentials::RevokedAt),
            timestamp_with_time_zone_null(IssuedCredentials::SuspendedAt),
            string_null(IssuedCredentials::StatusReason),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(IssuedCredentials::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_issued_credentials_status_entry")
                    .table(IssuedCredentials::Table)
                    .col(IssuedCredentials::RevocationList)
                    .col(IssuedCredentials::StatusIndex)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_issued_credentials_status_entry")
                    .to_owned(),
            )
            .await?;
        for column in [
            IssuedCredentials::IssuedBy,
            IssuedCredentials::RevocationList,
            IssuedCredentials::SuspensionList,
            IssuedCredentials::StatusIndex,
            IssuedCredentials::RevokedAt,
            IssuedCredentials::SuspendedAt,
            IssuedCredentials::StatusReason,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(IssuedCredentials::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(StatusListVersions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(StatusLists::Table).to_owned())
            .await
    }
}
