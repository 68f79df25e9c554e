//! The holder's web wallet at `/wallet`: keys made and kept in the browser under a
//! passphrase, a pairwise `did:jwk` per issuer and per verifier, offers accepted by link,
//! paste or camera, credentials listed with their current status and anchor, and
//! presentations made after a consent screen where the holder picks what to disclose.
//!
//! The wallet model (keys, credentials, DCQL matching, SD-JWT disclosure) is
//! `certus_schemas::holder`, the same code `certus wallet` runs.

mod jwe;
mod keys;
mod pages;
mod protocol;
mod scan;
mod vault;

pub use pages::Wallet;

/// The web wallet's contents: the `certus wallet` file model with browser-made keys.
pub type WebWallet = certus_schemas::holder::Wallet<keys::BrowserKey>;
