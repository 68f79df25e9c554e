//! Private keys behind a trait. Every signature Certus makes — credentials in all three
//! formats, status lists, DID operations, trust statements, receipts, webhook events,
//! presentations — goes through [`Signer`], so a key may be held in memory or in a hardware
//! token (PKCS#11) that signs without ever letting the key out.

use ssi::claims::jws;
use ssi::jwk::{Algorithm, Params, JWK};

/// A key that signs. Signatures are in their JOSE form: 64 bytes for `EdDSA` (Ed25519),
/// `r ‖ s` (64 bytes) for `ES256` (P-256, over the SHA-256 of the message).
pub trait Signer: Send + Sync + std::fmt::Debug {
    /// The JOSE algorithm: `EdDSA` or `ES256`.
    fn algorithm(&self) -> Algorithm;
    /// The public key.
    fn public_jwk(&self) -> JWK;
    /// Signs `message`; a token may refuse or fail.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// A key could not sign: a token failed or refused, or the key fits no algorithm Certus
/// signs with. The text names the cause, never key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the key could not sign: {0}")]
pub struct SignError(pub String);

/// A private JWK held in memory signs with ssi.
impl Signer for JWK {
    fn algorithm(&self) -> Algorithm {
        self.get_algorithm().unwrap_or(match &self.params {
            Params::EC(_) => Algorithm::ES256,
            _ => Algorithm::EdDSA,
        })
    }

    fn public_jwk(&self) -> JWK {
        self.to_public()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        jws::sign_bytes(Signer::algorithm(self), message, self)
            .map_err(|e| SignError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memory_key_signs_in_its_own_algorithm_and_shows_only_its_public_half() {
        let ed = JWK::generate_ed25519().expect("key");
        let p256 = JWK::generate_p256();
        assert_eq!(Signer::algorithm(&ed), Algorithm::EdDSA);
        assert_eq!(Signer::algorithm(&p256), Algorithm::ES256);
        for key in [&ed, &p256] {
            let signature = Signer::sign(key, b"message").expect("signs");
            assert_eq!(signature.len(), 64);
            assert!(key.public_jwk().params.is_public());
            let ok = jws::verify_bytes(
                Signer::algorithm(key),
                b"message",
                &key.public_jwk(),
                &signature,
            );
            assert!(ok.is_ok());
            let bad = jws::verify_bytes(
                Signer::algorithm(key),
                b"other",
                &key.public_jwk(),
                &signature,
            );
            assert!(bad.is_err());
        }
    }
}
