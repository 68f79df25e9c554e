//! W3C Bitstring Status List v1.0: the lists that say whether a credential is revoked or
//! suspended.
//!
//! [`list`] is the bitstring itself (over ssi's implementation of the encoding); the lists'
//! storage, publication and anchoring build on it.

pub mod list;
