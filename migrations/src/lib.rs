//! Database migrations for Certus. One schema, run unchanged on SQLite and PostgreSQL.
//!
//! Migrations only ever add: a released migration is never edited.

pub use sea_orm_migration::prelude::*;

mod m0001_foundation;
mod m0002_ledger;
mod m0003_audit_log;
mod m0004_status;
mod m0005_policies;
mod m0006_did_operations;
mod m0007_trust;
mod m0008_accounts;
mod m0009_openid4vc;
mod m0010_kyc;
mod m0011_privacy;
mod m0012_record_seal;
mod m0013_credential_types;
mod m0014_institution_settings;
mod m0015_consortium;
mod m0016_reliance_register;
mod m0017_scale_out;
mod m0018_claim_text;
mod m0019_dpop;
mod m0020_authorization_code;
mod m0021_notifications;
mod m0022_require_dpop;
mod m0023_batch_issuance;
mod m0024_deferred_issuance;
mod m0025_response_encryption;
mod m0026_verifier_certificates;
mod m0027_key_attestation;
mod m0028_wallet_attestation;
mod m0029_response_code;

/// Adds one column to `table` (SQLite alters one column per statement).
async fn add_column(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    mut column: ColumnDef,
) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(table)
                .add_column(&mut column)
                .to_owned(),
        )
        .await
}

/// Drops one column of `table`: the undoing of [`add_column`].
async fn drop_column(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    column: impl IntoIden,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).drop_column(column).to_owned())
        .await
}

/// The ordered list of migrations.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_foundation::Migration),
            Box::new(m0002_ledger::Migration),
            Box::new(m0003_audit_log::Migration),
            Box::new(m0004_status::Migration),
            Box::new(m0005_policies::Migration),
            Box::new(m0006_did_operations::Migration),
            Box::new(m0007_trust::Migration),
            Box::new(m0008_accounts::Migration),
            Box::new(m0009_openid4vc::Migration),
            Box::new(m0010_kyc::Migration),
            Box::new(m0011_privacy::Migration),
            Box::new(m0012_record_seal::Migration),
            Box::new(m0013_credential_types::Migration),
            Box::new(m0014_institution_settings::Migration),
            Box::new(m0015_consortium::Migration),
            Box::new(m0016_reliance_register::Migration),
            Box::new(m0017_scale_out::Migration),
            Box::new(m0018_claim_text::Migration),
            Box::new(m0019_dpop::Migration),
            Box::new(m0020_authorization_code::Migration),
            Box::new(m0021_notifications::Migration),
            Box::new(m0022_require_dpop::Migration),
            Box::new(m0023_batch_issuance::Migration),
            Box::new(m0024_deferred_issuance::Migration),
            Box::new(m0025_response_encryption::Migration),
            Box::new(m0026_verifier_certificates::Migration),
            Box::new(m0027_key_attestation::Migration),
            Box::new(m0028_wallet_attestation::Migration),
            Box::new(m0029_response_code::Migration),
        ]
    }
}
