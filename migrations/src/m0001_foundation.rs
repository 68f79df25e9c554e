//! Tenants, their signing keys, API keys, and the record of issued credentials.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Id,
    TenantId,
    Did,
    Algorithm,
    PublicJwk,
    PrivateJwe,
    IsDefault,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    TenantId,
    TokenHash,
    Scopes,
    Label,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum IssuedCredentials {
    Table,
    Id,
    TenantId,
    CredentialId,
    Types,
    Issuer,
    Format,
    IssuedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .if_not_exists()
                    .col(string(Tenants::Id).primary_key())
                    .col(string(Tenants::Name))
                    .col(timestamp_with_time_zone(Tenants::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .if_not_exists()
                    .col(string(SigningKeys::Id).primary_key())
                    .col(string(SigningKeys::TenantId))
                    .col(string(SigningKeys::Did))
                    .col(string(SigningKeys::Algorithm))
                    .col(text(SigningKeys::PublicJwk))
                    .col(text(SigningKeys::PrivateJwe))
                    .col(boolean(SigningKeys::IsDefault))
                    .col(timestamp_with_time_zone(SigningKeys::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SigningKeys::Table, SigningKeys::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .if_not_exists()
                    .col(string(ApiKeys::Id).primary_key())
                    .col(string(ApiKeys::TenantId))
                    .col(string_uniq(ApiKeys::TokenHash))
                    .col(string(ApiKeys::Scopes))
                    .col(string_null(ApiKeys::Label))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiKeys::Table, ApiKeys::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IssuedCredentials::Table)
                    .if_not_exists()
                    .col(string(IssuedCredentials::Id).primary_key())
                    .col(string(IssuedCredentials::TenantId))
                    .col(string_uniq(IssuedCredentials::CredentialId))
                    .col(string(IssuedCredentials::Types))
                    .col(string(IssuedCredentials::Issuer))
                    .col(string(IssuedCredentials::Format))
                    .col(timestamp_with_time_zone(IssuedCredentials::IssuedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(IssuedCredentials::Table, IssuedCredentials::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_issued_credentials_tenant_time")
                    .table(IssuedCredentials::Table)
                    .col(IssuedCredentials::TenantId)
                    .col(IssuedCredentials::IssuedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IssuedCredentials::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            SigningKeys::Table.into_iden(),
            Tenants::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
