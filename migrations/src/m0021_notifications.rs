//! The OpenID4VCI notification endpoint (issue 25): what the wallet said it did with the
//! credential of an offer — stored, failed to store, or deleted — and when. The wallet's
//! free-text description is not kept.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CredentialOffers {
    Table,
    NotificationId,
    NotificationEvent,
    NotifiedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            string_null(CredentialOffers::NotificationId),
            string_null(CredentialOffers::NotificationEvent),
            timestamp_with_time_zone_null(CredentialOffers::NotifiedAt),
        ] {
            crate::add_column(manager, CredentialOffers::Table, column).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            CredentialOffers::NotifiedAt,
            CredentialOffers::NotificationEvent,
            CredentialOffers::NotificationId,
        ] {
            crate::drop_column(manager, CredentialOffers::Table, column).await?;
        }
        Ok(())
    }
}
