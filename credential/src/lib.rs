//! The credential layer: what a verifiable credential is and how it is secured and
//! checked, with no database and no HTTP.
//!
//! - formats: [`jose`] (compact JWS, VC-JOSE), [`sd_jwt`] (IETF SD-JWT VC),
//!   [`data_integrity`] (`eddsa-rdfc-2022`, `ecdsa-rdfc-2019`), [`envelope`] (the
//!   `EnvelopedVerifiableCredential` of the JWT forms) and [`commitment`] (what the chain
//!   anchors of each);
//! - the documents they rely on: bundled JSON-LD [`contexts`] and the credential-type
//!   [`catalog`];
//! - [`did`]: DID resolution (local for `did:key` and `did:jwk`, `did:web` when allowed,
//!   `did:certus` from a [`did::CertusDids`] source) and the authorised-key lookup;
//! - [`signer`]: private keys behind a trait (in memory, or in a hardware token);
//! - [`time`]: the XSD dateTime forms credentials carry.
//!
//! The server builds on this crate; the crate never reaches up into it.

pub mod catalog;
pub mod commitment;
pub mod contexts;
pub mod data_integrity;
pub mod did;
pub mod envelope;
pub mod ids;
pub mod jose;
pub mod sd_jwt;
pub mod signer;
pub mod time;

pub use certus_schemas::holder::VC_V2_CONTEXT;
/// The W3C VC Data Model 1.1 base context (read only).
pub const VC_V1_CONTEXT: &str = "https://www.w3.org/2018/credentials/v1";
