//! OpenID4VCI credential offers, one-time nonces, OpenID4VP presentation requests and the
//! consent receipts of answered requests.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CredentialOffers {
    Table,
    Id,
    TenantId,
    CredentialType,
    Format,
    Document,
    PreAuthorizedCode,
    TxCode,
    FailedTxCodes,
    AccessToken,
    AccessTokenExpiresAt,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    RedeemedAt,
    CredentialId,
}

#[derive(DeriveIden)]
enum OpenidNonces {
    Table,
    Nonce,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum PresentationRequests {
    Table,
    Id,
    TenantId,
    CreatedBy,
    ClientId,
    Nonce,
    State,
    Query,
    RequestObject,
    CreatedAt,
    ExpiresAt,
    Status,
    AnsweredAt,
    Result,
}

#[derive(DeriveIden)]
enum ConsentReceipts {
    Table,
    Id,
    TenantId,
    RequestId,
    Document,
    Hash,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tenant = |table: DynIden, column: DynIden| {
            ForeignKey::create()
                .from(table, column)
                .to(Tenants::Table, Tenants::Id)
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(CredentialOffers::Table)
                    .if_not_exists()
                    .col(string(CredentialOffers::Id).primary_key())
                    .col(string(CredentialOffers::TenantId))
                    .col(string(CredentialOffers::CredentialType))
                    .col(string(CredentialOffers::Format))
                    .col(text_null(CredentialOffers::Document))
                    .col(string_uniq(CredentialOffers::PreAuthorizedCode))
                    .col(string_null(CredentialOffers::TxCode))
                    .col(integer(CredentialOffers::FailedTxCodes).default(0))
                    .col(string_null(CredentialOffers::AccessToken).unique_key())
                    .col(timestamp_with_time_zone_null(
                        CredentialOffers::AccessTokenExpiresAt,
                    ))
                    .col(string(CredentialOffers::CreatedBy))
                    .col(timestamp_with_time_zone(CredentialOffers::CreatedAt))
                    .col(timestamp_with_time_zone(CredentialOffers::ExpiresAt))
                    .col(timestamp_with_time_zone_null(CredentialOffers::RedeemedAt))
                    .col(string_null(CredentialOffers::CredentialId))
                    .foreign_key(&mut tenant(
                        CredentialOffers::Table.into_iden(),
                        CredentialOffers::TenantId.into_iden(),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_credential_offers_tenant")
                    .table(CredentialOffers::Table)
                    .col(CredentialOffers::TenantId)
                    .col(CredentialOffers::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OpenidNonces::Table)
                    .if_not_exists()
                    .col(string(OpenidNonces::Nonce).primary_key())
                    .col(timestamp_with_time_zone(OpenidNonces::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PresentationRequests::Table)
                    .if_not_exists()
                    .col(string(PresentationRequests::Id).primary_key())
                    .col(string(PresentationRequests::TenantId))
                    .col(string(PresentationRequests::CreatedBy))
                    .col(string(PresentationRequests::ClientId))
                    .col(string(PresentationRequests::Nonce))
                    .col(string(PresentationRequests::State))
                    .col(text(PresentationRequests::Query))
                    .col(text(PresentationRequests::RequestObject))
                    .col(timestamp_with_time_zone(PresentationRequests::CreatedAt))
                    .col(timestamp_with_time_zone(PresentationRequests::ExpiresAt))
                    .col(string(PresentationRequests::Status))
                    .col(timestamp_with_time_zone_null(
                        PresentationRequests::AnsweredAt,
                    ))
                    .col(text_null(PresentationRequests::Result))
                    .foreign_key(&mut tenant(
                        PresentationRequests::Table.into_iden(),
                        PresentationRequests::TenantId.into_iden(),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ConsentReceipts::Table)
                    .if_not_exists()
                    .col(string(ConsentReceipts::Id).primary_key())
                    .col(string(ConsentReceipts::TenantId))
                    .col(string_uniq(ConsentReceipts::RequestId))
                    .col(text(ConsentReceipts::Document))
                    .col(string(ConsentReceipts::Hash))
                    .col(timestamp_with_time_zone(ConsentReceipts::CreatedAt))
                    .foreign_key(&mut tenant(
                        ConsentReceipts::Table.into_iden(),
                        ConsentReceipts::TenantId.into_iden(),
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ConsentReceipts::Table.into_iden(),
            PresentationRequests::Table.into_iden(),
            OpenidNonces::Table.into_iden(),
            CredentialOffers::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
