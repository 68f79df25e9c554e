//! The personal-data vault: each tenant's key (wrapped by the node's master key), each data
//! subject's key (wrapped by the tenant's key, dropped on erasure), the encrypted records,
//! the erasure receipts, the institutions' retention periods, and the data subject an
//! offer's personal data belongs to.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum TenantKeys {
    Table,
    TenantId,
    WrappedKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DataSubjects {
    Table,
    Id,
    TenantId,
    ReferenceHash,
    Tag,
    WrappedKey,
    CreatedAt,
    ErasedAt,
}

#[derive(DeriveIden)]
enum PersonalRecords {
    Table,
    Id,
    TenantId,
    SubjectId,
    Kind,
    CredentialId,
    CredentialType,
    Tag,
    Jwe,
    CreatedAt,
    ErasedAt,
    ErasedBy,
}

#[derive(DeriveIden)]
enum Erasures {
    Table,
    Id,
    TenantId,
    SubjectId,
    Reason,
    Records,
    Receipt,
    Commitment,
    ErasedAt,
}

#[derive(DeriveIden)]
enum RetentionRules {
    Table,
    TenantId,
    CredentialType,
    Period,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CredentialOffers {
    Table,
    SubjectId,
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
                    .table(TenantKeys::Table)
                    .if_not_exists()
                    .col(string(TenantKeys::TenantId).primary_key())
                    .col(text(TenantKeys::WrappedKey))
                    .col(timestamp_with_time_zone(TenantKeys::CreatedAt))
                    .foreign_key(&mut tenant(
                        TenantKeys::Table.into_iden(),
                        TenantKeys::TenantId.into_iden(),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DataSubjects::Table)
                    .if_not_exists()
                    .col(string(DataSubjects::Id).primary_key())
                    .col(string(DataSubjects::TenantId))
                    .col(string_null(DataSubjects::ReferenceHash))
                    .col(string(DataSubjects::Tag).unique_key())
                    .col(text_null(DataSubjects::WrappedKey))
                    .col(timestamp_with_time_zone(DataSubjects::CreatedAt))
                    .col(timestamp_with_time_zone_null(DataSubjects::ErasedAt))
                    .foreign_key(&mut tenant(
                        DataSubjects::Table.into_iden(),
                        DataSubjects::TenantId.into_iden(),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_data_subjects_reference")
                    .table(DataSubjects::Table)
                    .col(DataSubjects::TenantId)
                    .col(DataSubjects::ReferenceHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PersonalRecords::Table)
                    .if_not_exists()
                    .col(string(PersonalRecords::Id).primary_key())
                    .col(string(PersonalRecords::TenantId))
                    .col(string(PersonalRecords::SubjectId))
                    .col(string(PersonalRecords::Kind))
                    .col(string_null(PersonalRecords::CredentialId))
                    .col(string_null(PersonalRecords::CredentialType))
                    .col(string(PersonalRecords::Tag).unique_key())
                    .col(text_null(PersonalRecords::Jwe))
                    .col(timestamp_with_time_zone(PersonalRecords::CreatedAt))
                    .col(timestamp_with_time_zone_null(PersonalRecords::ErasedAt))
                    .col(string_null(PersonalRecords::ErasedBy))
                    .foreign_key(&mut tenant(
                        PersonalRecords::Table.into_iden(),
                        PersonalRecords::TenantId.into_iden(),
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PersonalRecords::Table, PersonalRecords::SubjectId)
                            .to(DataSubjects::Table, DataSubjects::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_personal_records_subject",
                vec![PersonalRecords::SubjectId],
            ),
            (
                "idx_personal_records_credential",
                vec![PersonalRecords::CredentialId],
            ),
            (
                "idx_personal_records_retention",
                vec![
                    PersonalRecords::TenantId,
                    PersonalRecords::CredentialType,
                    PersonalRecords::CreatedAt,
                ],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(PersonalRecords::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Erasures::Table)
                    .if_not_exists()
                    .col(string(Erasures::Id).primary_key())
                    .col(string(Erasures::TenantId))
                    .col(string(Erasures::SubjectId))
                    .col(string(Erasures::Reason))
                    .col(big_integer(Erasures::Records))
                    .col(text(Erasures::Receipt))
                    .col(string(Erasures::Commitment))
                    .col(timestamp_with_time_zone(Erasures::ErasedAt))
                    .foreign_key(&mut tenant(
                        Erasures::Table.into_iden(),
                        Erasures::TenantId.into_iden(),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_erasures_tenant")
                    .table(Erasures::Table)
                    .col(Erasures::TenantId)
                    .col(Erasures::ErasedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RetentionRules::Table)
                    .if_not_exists()
                    .col(string(RetentionRules::TenantId))
                    .col(string(RetentionRules::CredentialType))
                    .col(string(RetentionRules::Period))
                    .col(timestamp_with_time_zone(RetentionRules::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(RetentionRules::TenantId)
                            .col(RetentionRules::CredentialType),
                    )
                    .foreign_key(&mut tenant(
                        RetentionRules::Table.into_iden(),
                        RetentionRules::TenantId.into_iden(),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CredentialOffers::Table)
                    .add_column(string_null(CredentialOffers::SubjectId))
                    .to_owned(),
            )
            .await
    }
}
