//! The authorization code flow of OpenID4VCI (issue 25, decision 26): which grant an offer
//! is redeemed through, and the authorization requests wallets push (RFC 9126) for it —
//! their PKCE challenge, redirect URI and DPoP key, and the one-time code given for them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CredentialOffers {
    Table,
    Id,
    GrantType,
}

#[derive(DeriveIden)]
enum AuthorizationRequests {
    Table,
    Id,
    OfferId,
    RequestUri,
    ClientId,
    RedirectUri,
    State,
    CodeChallenge,
    DpopJkt,
    CreatedAt,
    ExpiresAt,
    OpenedAt,
    Code,
    CodeExpiresAt,
    CodeUsedAt,
}

/// The grant of every offer made before this migration.
const PRE_AUTHORIZED: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::add_column(
            manager,
            CredentialOffers::Table,
            string(CredentialOffers::GrantType)
                .default(PRE_AUTHORIZED)
                .to_owned(),
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuthorizationRequests::Table)
                    .col(string(AuthorizationRequests::Id).primary_key())
                    .col(string(AuthorizationRequests::OfferId))
                    .col(string_uniq(AuthorizationRequests::RequestUri))
                    .col(string(AuthorizationRequests::ClientId))
                    .col(text(AuthorizationRequests::RedirectUri))
                    .col(text_null(AuthorizationRequests::State))
                    .col(string(AuthorizationRequests::CodeChallenge))
                    .col(string_null(AuthorizationRequests::DpopJkt))
                    .col(timestamp_with_time_zone(AuthorizationRequests::CreatedAt))
                    .col(timestamp_with_time_zone(AuthorizationRequests::ExpiresAt))
                    .col(timestamp_with_time_zone_null(
                        AuthorizationRequests::OpenedAt,
                    ))
                    .col(string_null(AuthorizationRequests::Code).unique_key())
                    .col(timestamp_with_time_zone_null(
                        AuthorizationRequests::CodeExpiresAt,
                    ))
                    .col(timestamp_with_time_zone_null(
                        AuthorizationRequests::CodeUsedAt,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AuthorizationRequests::Table, AuthorizationRequests::OfferId)
                            .to(CredentialOffers::Table, CredentialOffers::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_authorization_requests_offer")
                    .table(AuthorizationRequests::Table)
                    .col(AuthorizationRequests::OfferId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuthorizationRequests::Table).to_owned())
            .await?;
        crate::drop_column(
            manager,
            CredentialOffers::Table,
            CredentialOffers::GrantType,
        )
        .await
    }
}
