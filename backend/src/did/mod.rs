//! `did:certus` in the server: the [`registry`] of this node's DIDs (operations stored
//! and anchored, states replayed from the chain, the tenants' keys), which is the
//! resolver's source of `did:certus` states. The method itself — operations, states,
//! resolution — is in [`certus_credential::did`].

pub mod registry;
