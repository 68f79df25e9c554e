//! Keys in a PKCS#11 token (an HSM, or SoftHSM2 for development and tests): generated
//! inside it as sensitive, non-extractable token objects, used by handle, never read out.
//!
//! Ed25519 (`CKM_EC_EDWARDS_KEY_PAIR_GEN`, signing with `CKM_EDDSA`) where the token offers
//! it — SoftHSM2 2.6 does —, P-256 (`CKM_EC_KEY_PAIR_GEN`, `CKM_ECDSA` over a SHA-256
//! digest) otherwise; a tenant gets both when the token can make both.
//! A stored key is named by its `CKA_ID` (16 random bytes) in the configured token.

use std::sync::{Arc, Mutex};

use anyhow::{bail, Context};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Function, Pkcs11};
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{
    Attribute, AttributeType, KeyType as TokenKeyType, ObjectClass, ObjectHandle,
};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use sha2::{Digest, Sha256};
use ssi::jwk::{ed25519_parse, p256_parse, Algorithm, JWK};

use super::KeyType;
use crate::config::Pkcs11Config;
use certus_credential::signer::{SignError, Signer};

/// `CKA_EC_PARAMS` of Ed25519: the printable string "edwards25519" (RFC 8410's curve name,
/// as PKCS#11 3.0 and SoftHSM2 accept it).
const ED25519_PARAMS: &[u8] = b"\x13\x0cedwards25519";
/// `CKA_EC_PARAMS` of P-256: the DER of OID 1.2.840.10045.3.1.7.
const P256_PARAMS: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// An open, logged-in token.
pub struct Token {
    pkcs11: Pkcs11,
    slot: Slot,
    label: String,
    eddsa: bool,
    /// Sessions ready for use; one is kept open for the process's life, which keeps the
    /// token logged in.
    sessions: Mutex<Vec<Session>>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("label", &self.label)
            .field("eddsa", &self.eddsa)
            .finish_non_exhaustive()
    }
}

impl Token {
    /// Loads the module, finds the token by its label and logs in as its user.
    pub fn open(config: &Pkcs11Config) -> anyhow::Result<Arc<Self>> {
        let (Some(module), Some(label), Some(pin)) = (&config.module, &config.token, &config.pin)
        else {
            bail!("a PKCS#11 token needs CERTUS_PKCS11_MODULE, CERTUS_PKCS11_TOKEN and CERTUS_PKCS11_PIN");
        };
        let pkcs11 = Pkcs11::new(module)
            .with_context(|| format!("loading the PKCS#11 module {}", module.display()))?;
        match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(())
            | Err(Error::Pkcs11(RvError::CryptokiAlreadyInitialized, Function::Initialize)) => {}
            Err(e) => return Err(e).context("initialising the PKCS#11 module"),
        }
        let mut found = None;
        for slot in pkcs11.get_slots_with_token()? {
            if pkcs11.get_token_info(slot)?.label().trim_end() == label {
                found = Some(slot);
                break;
            }
        }
        let slot = found.with_context(|| format!("no PKCS#11 token is labelled `{label}`"))?;
        // Asked one by one: the list of all would name mechanisms cryptoki cannot map.
        let offers = |mechanism| pkcs11.get_mechanism_info(slot, mechanism).is_ok();
        let eddsa = offers(MechanismType::EDDSA) && offers(MechanismType::ECC_EDWARDS_KEY_PAIR_GEN);
        let session = pkcs11.open_rw_session(slot)?;
        session
            .login(UserType::User, Some(&AuthPin::new(pin.clone().into())))
            .with_context(|| format!("logging in to the PKCS#11 token `{label}`"))?;
        tracing::info!(
            token = label.as_str(),
            eddsa,
            "private keys are held in a PKCS#11 token"
        );
        Ok(Arc::new(Self {
            pkcs11,
            slot,
            label: label.clone(),
            eddsa,
            sessions: Mutex::new(vec![session]),
        }))
    }

    /// The key types this token can generate, the preferred first.
    pub fn key_types(&self) -> Vec<KeyType> {
        if self.eddsa {
            vec![KeyType::Ed25519, KeyType::P256]
        } else {
            vec![KeyType::P256]
        }
    }

    /// Runs `f` with a logged-in session of the pool (opening one when all are in use).
    fn with_session<T>(
        &self,
        f: impl FnOnce(&Session) -> cryptoki::error::Result<T>,
    ) -> anyhow::Result<T> {
        let pooled = self.pool().pop();
        let session = match pooled {
            Some(session) => session,
            None => self.pkcs11.open_rw_session(self.slot)?,
        };
        let result = f(&session);
        self.pool().push(session);
        Ok(result?)
    }

    fn pool(&self) -> std::sync::MutexGuard<'_, Vec<Session>> {
        // A session is only pushed or popped under the lock: a poisoned pool is intact.
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Generates a key pair inside the token, labelled `label`; the private half is
    /// sensitive and cannot be extracted.
    pub fn generate(
        self: &Arc<Self>,
        key_type: KeyType,
        label: &str,
    ) -> anyhow::Result<(Arc<TokenKey>, [u8; 16])> {
        if key_type == KeyType::Ed25519 && !self.eddsa {
            bail!(
                "the PKCS#11 token `{}` cannot make Ed25519 keys",
                self.label
            );
        }
        let id: [u8; 16] = rand::random();
        let (mechanism, params) = match key_type {
            KeyType::Ed25519 => (Mechanism::EccEdwardsKeyPairGen, ED25519_PARAMS),
            KeyType::P256 => (Mechanism::EccKeyPairGen, P256_PARAMS),
        };
        let public = [
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::EcParams(params.to_vec()),
            Attribute::Id(id.to_vec()),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        let private = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sign(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Id(id.to_vec()),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        self.with_session(|s| s.generate_key_pair(&mechanism, &public, &private))
            .with_context(|| format!("generating a {key_type:?} key in the PKCS#11 token"))?;
        Ok((self.key(&id)?, id))
    }

    /// The object of `class` whose `CKA_ID` is `id`.
    fn find(&self, class: ObjectClass, id: &[u8]) -> anyhow::Result<ObjectHandle> {
        let found = self.with_session(|s| {
            s.find_objects(&[Attribute::Class(class), Attribute::Id(id.to_vec())])
        })?;
        found.first().copied().with_context(|| {
            format!(
                "the PKCS#11 token `{}` holds no {class} {}",
                self.label,
                hex::encode(id)
            )
        })
    }

    /// The key whose `CKA_ID` is `id`.
    pub fn key(self: &Arc<Self>, id: &[u8]) -> anyhow::Result<Arc<TokenKey>> {
        let private = self.find(ObjectClass::PRIVATE_KEY, id)?;
        let public = self.find(ObjectClass::PUBLIC_KEY, id)?;
        let attributes = self.with_session(|s| {
            s.get_attributes(public, &[AttributeType::KeyType, AttributeType::EcPoint])
        })?;
        let (mut key_type, mut point) = (None, None);
        for attribute in attributes {
            match attribute {
                Attribute::KeyType(t) => key_type = Some(t),
                Attribute::EcPoint(p) => point = Some(p),
                _ => {}
            }
        }
        let point = point.context("the public key has no CKA_EC_POINT")?;
        let (algorithm, mut jwk) = match key_type {
            Some(t) if t == TokenKeyType::EC_EDWARDS => {
                (Algorithm::EdDSA, ed25519_parse(unwrap_point(&point, 32))?)
            }
            Some(t) if t == TokenKeyType::EC => {
                (Algorithm::ES256, p256_parse(unwrap_point(&point, 65))?)
            }
            other => bail!(
                "the token key {} is of an unsupported type {other:?}",
                hex::encode(id)
            ),
        };
        jwk.algorithm = Some(algorithm);
        Ok(Arc::new(TokenKey {
            token: Arc::clone(self),
            private,
            algorithm,
            public: jwk,
        }))
    }

    /// Whether the private key `id` is sensitive and never extractable, as the token says.
    pub fn is_sealed(&self, id: &[u8]) -> anyhow::Result<bool> {
        let handle = self.find(ObjectClass::PRIVATE_KEY, id)?;
        let attributes = self.with_session(|s| {
            s.get_attributes(
                handle,
                &[AttributeType::Sensitive, AttributeType::Extractable],
            )
        })?;
        Ok(attributes.contains(&Attribute::Sensitive(true))
            && attributes.contains(&Attribute::Extractable(false)))
    }
}

/// A private key in the token, used by handle.
pub struct TokenKey {
    token: Arc<Token>,
    private: ObjectHandle,
    algorithm: Algorithm,
    public: JWK,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKey")
            .field("token", &self.token.label)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl Signer for TokenKey {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    fn public_jwk(&self) -> JWK {
        self.public.clone()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        // ES256 hashes here and signs the digest with plain CKM_ECDSA, which every token
        // offers (SoftHSM2 has no CKM_ECDSA_SHA256); both give `r ‖ s`, as JOSE wants.
        let digest;
        let (mechanism, data) = match self.algorithm {
            Algorithm::EdDSA => (
                Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
                message,
            ),
            _ => {
                digest = Sha256::digest(message);
                (Mechanism::Ecdsa, &digest[..])
            }
        };
        self.token
            .with_session(|s| s.sign(&mechanism, self.private, data))
            .map_err(|e| SignError(format!("PKCS#11 token `{}`: {e:#}", self.token.label)))
    }
}

/// `CKA_EC_POINT` is a DER OCTET STRING around a point of `size` bytes; some tokens give
/// the bare point.
fn unwrap_point(value: &[u8], size: usize) -> &[u8] {
    match value {
        [0x04, len, point @ ..] if usize::from(*len) == size && point.len() == size => point,
        bare => bare,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_points_are_read_with_or_without_their_octet_string() {
        let point = [7u8; 32];
        let mut wrapped = vec![0x04, 32];
        wrapped.extend_from_slice(&point);
        assert_eq!(unwrap_point(&wrapped, 32), &point);
        assert_eq!(unwrap_point(&point, 32), &point);
        // A bare P-256 point whose second byte happens to read as a length stays whole.
        let mut p256 = vec![0x04, 63];
        p256.extend_from_slice(&[1u8; 63]);
        assert_eq!(unwrap_point(&p256, 65), p256.as_slice());
        let mut long = vec![0x04, 0x41];
        long.extend_from_slice(&p256);
        assert_eq!(unwrap_point(&long, 65), p256.as_slice());
    }
}
