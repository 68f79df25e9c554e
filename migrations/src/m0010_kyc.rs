//! KYC reuse: the reliance register, the status entries a relying institution watches
//! (only where the holder allowed it), each tenant's webhook endpoint, and the outbox of
//! webhook deliveries.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum RelianceRecords {
    Table,
    Id,
    TenantId,
    RequestId,
    RelyingParty,
    RelyingInstitution,
    KycIssuer,
    AssuranceLevel,
    CheckDate,
    ReliedAt,
    ConsentReceiptHash,
    PolicyId,
    Jws,
    Commitment,
    Notifications,
}

#[derive(DeriveIden)]
enum StatusWatches {
    Table,
    Id,
    TenantId,
    RelianceId,
    ListUrl,
    StatusIndex,
    Purpose,
}

#[derive(DeriveIden)]
enum Webhooks {
    Table,
    TenantId,
    Url,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    TenantId,
    RelianceId,
    Event,
    Url,
    Payload,
    State,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    DeliveredAt,
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
                    .table(RelianceRecords::Table)
                    .if_not_exists()
                    .col(string(RelianceRecords::Id).primary_key())
                    .col(string(RelianceRecords::TenantId))
                    .col(string(RelianceRecords::RequestId))
                    .col(string(RelianceRecords::RelyingParty))
                    .col(string(RelianceRecords::RelyingInstitution))
                    .col(string(RelianceRecords::KycIssuer))
                    .col(string(RelianceRecords::AssuranceLevel))
                    .col(string_null(RelianceRecords::CheckDate))
                    .col(timestamp_with_time_zone(RelianceRecords::ReliedAt))
                    .col(string(RelianceRecords::ConsentReceiptHash))
                    .col(string_null(RelianceRecords::PolicyId))
                    .col(text(RelianceRecords::Jws))
                    .col(string(RelianceRecords::Commitment))
                    .col(boolean(RelianceRecords::Notifications))
                    .foreign_key(&mut tenant(
                        RelianceRecords::Table.into_iden(),
                        RelianceRecords::TenantId.into_iden(),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_reliance_records_tenant", RelianceRecords::TenantId),
            ("idx_reliance_records_issuer", RelianceRecords::KycIssuer),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(RelianceRecords::Table)
                        .col(column)
                        .col(RelianceRecords::ReliedAt)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(StatusWatches::Table)
                    .if_not_exists()
                    .col(string(StatusWatches::Id).primary_key())
                    .col(string(StatusWatches::TenantId))
                    .col(string(StatusWatches::RelianceId))
                    .col(string(StatusWatches::ListUrl))
                    .col(big_integer(StatusWatches::StatusIndex))
                    .col(string(StatusWatches::Purpose))
                    .foreign_key(&mut tenant(
                        StatusWatches::Table.into_iden(),
                        StatusWatches::TenantId.into_iden(),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_status_watches_entry")
                    .table(StatusWatches::Table)
                    .col(StatusWatches::ListUrl)
                    .col(StatusWatches::StatusIndex)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Webhooks::Table)
                    .if_not_exists()
                    .col(string(Webhooks::TenantId).primary_key())
                    .col(string(Webhooks::Url))
                    .col(timestamp_with_time_zone(Webhooks::UpdatedAt))
                    .foreign_key(&mut tenant(
                        Webhooks::Table.into_iden(),
                        Webhooks::TenantId.into_iden(),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .if_not_exists()
                    .col(string(WebhookDeliveries::Id).primary_key())
                    .col(string(WebhookDeliveries::TenantId))
                    .col(string(WebhookDeliveries::RelianceId))
                    .col(string(WebhookDeliveries::Event))
                    .col(string(WebhookDeliveries::Url))
                    .col(text(WebhookDeliveries::Payload))
                    .col(string(WebhookDeliveries::State))
                    .col(integer(WebhookDeliveries::Attempts).default(0))
                    .col(timestamp_with_time_zone(WebhookDeliveries::NextAttemptAt))
                    .col(text_null(WebhookDeliveries::LastError))
                    .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::DeliveredAt,
                    ))
                    .foreign_key(&mut tenant(
                        WebhookDeliveries::Table.into_iden(),
                        WebhookDeliveries::TenantId.into_iden(),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_due")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::State)
                    .col(WebhookDeliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebhookDeliveries::Table.into_iden(),
            Webhooks::Table.into_iden(),
            StatusWatches::Table.into_iden(),
            RelianceRecords::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
