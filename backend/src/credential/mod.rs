//! Securing formats and the documents they rely on: bundled JSON-LD contexts, the credential
//! type catalog, compact JWS (VC-JOSE), IETF SD-JWT VC, Data Integrity, and the
//! `EnvelopedVerifiableCredential` wrapper of the JWT forms.

pub mod catalog;
pub mod commitment;
pub mod contexts;
pub mod data_integrity;
pub mod envelope;
pub mod jose;
pub mod sd_jwt;

pub use certus_schemas::holder::VC_V2_CONTEXT;
/// The W3C VC Data Model 1.1 base context (read only).
pub const VC_V1_CONTEXT: &str = "https://www.w3.org/2018/credentials/v1";
