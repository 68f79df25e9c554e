//! The contract between Certus and its clients: the credential types (JSON Schema files with
//! their JSON-LD contexts, embedded at compile time) and the wire types of the HTTP API.
//!
//! Pure code (serde, plus base64 and SHA-256 for SD-JWT) so the wasm frontend and the
//! backend share it unchanged: the wire types, DCQL, and the holder's wallet model.

pub mod dcql;
pub mod documents;
pub mod holder;
pub mod kyc;
pub mod openid;
pub mod portal;
pub mod privacy;
pub mod response;
pub mod settings;
pub mod transaction;
pub mod types;
pub mod web;
pub mod wire;
pub mod x509;

pub use documents::{BundledDocument, CONTEXTS, CREDENTIAL_TYPE_SCHEMAS, STATUS_V1_CONTEXT};
