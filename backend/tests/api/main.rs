//! Integration tests through the real router, each on SQLite and on PostgreSQL.

mod helpers;
#[path = "../common/ids.rs"]
mod ids;

mod access;
mod accounts;
mod authorization_code;
mod bad_input;
mod batch;
mod catalog;
mod chain;
mod credential_encryption;
mod deferred;
mod dids;
mod encrypted_answers;
mod issue;
mod key_attestation;
mod kyc;
mod open;
mod openid;
mod policies;
mod presentations;
mod privacy;
mod records;
mod request_fetch;
mod same_device;
mod sd_jwt;
mod status;
mod tamper;
mod transactions;
mod trust;
mod types;
mod verify;
mod wallet_attestation;
mod x509_verifiers;
