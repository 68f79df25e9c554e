//! Deferred issuance (issue 25, decision 26): an offer the institution approves before it
//! is issued — whether it needs approval and the decision, and the wallet's request kept
//! meanwhile (its keys, the configuration asked for, the transaction id it comes back with).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CredentialOffers {
    Table,
    Approval,
    TransactionId,
    DeferredRequest,
    RequestedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            string_null(CredentialOffers::Approval),
            string_null(CredentialOffers::TransactionId),
            text_null(CredentialOffers::DeferredRequest),
            timestamp_with_time_zone_null(CredentialOffers::RequestedAt),
        ];
        for column in columns {
            crate::add_column(manager, CredentialOffers::Table, column).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            CredentialOffers::Approval,
            CredentialOffers::TransactionId,
            CredentialOffers::DeferredRequest,
            CredentialOffers::RequestedAt,
        ] {
            crate::drop_column(manager, CredentialOffers::Table, column).await?;
        }
        Ok(())
    }
}
