//! Access tokens bound to the wallet's key by DPoP (RFC 9449, issue 25): the key's JWK
//! thumbprint, kept with the token it was given with.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CredentialOffers {
    Table,
    AccessTokenJkt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::add_column(
            manager,
            CredentialOffers::Table,
            string_null(CredentialOffers::AccessTokenJkt),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::drop_column(
            manager,
            CredentialOffers::Table,
            CredentialOffers::AccessTokenJkt,
        )
        .await
    }
}
