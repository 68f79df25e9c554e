//! The contract between Certus and its clients: the credential types (JSON Schema files with
//! their JSON-LD contexts, embedded at compile time) and the wire types of the HTTP API.
//!
//! This crate is serde-only so the wasm frontend and the backend share it unchanged.

pub mod dcql;
pub mod documents;
pub mod openid;
pub mod portal;
pub mod wire;

pub use documents::{BundledDocument, CONTEXTS, CREDENTIAL_TYPE_SCHEMAS};
