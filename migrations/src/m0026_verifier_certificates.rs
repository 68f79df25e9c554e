//! Verifiers named by X.509 certificates (issue 25, decision 26): each institution's
//! certificate keys, with the chain its CA returned (or a self-signed certificate), and the
//! certificate a presentation request was signed under.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum VerifierCertificates {
    Table,
    Id,
    TenantId,
    DnsName,
    Key,
    Chain,
    SelfSigned,
    CreatedBy,
    CreatedAt,
    ActivatedAt,
}

#[derive(DeriveIden)]
enum PresentationRequests {
    Table,
    CertificateId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(VerifierCertificates::Table)
                    .col(string(VerifierCertificates::Id).primary_key())
                    .col(string(VerifierCertificates::TenantId))
                    .col(string(VerifierCertificates::DnsName))
                    .col(text(VerifierCertificates::Key))
                    .col(text_null(VerifierCertificates::Chain))
                    .col(boolean(VerifierCertificates::SelfSigned))
                    .col(string(VerifierCertificates::CreatedBy))
                    .col(timestamp_with_time_zone(VerifierCertificates::CreatedAt))
                    .col(timestamp_with_time_zone_null(
                        VerifierCertificates::ActivatedAt,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_verifier_certificates_tenant")
                    .table(VerifierCertificates::Table)
                    .col(VerifierCertificates::TenantId)
                    .to_owned(),
            )
            .await?;
        crate::add_column(
            manager,
            PresentationRequests::Table,
            string_null(PresentationRequests::CertificateId),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::drop_column(
            manager,
            PresentationRequests::Table,
            PresentationRequests::CertificateId,
        )
        .await?;
        manager
            .drop_table(Table::drop().table(VerifierCertificates::Table).to_owned())
            .await
    }
}
