//! The web wallet's keys: Ed25519 (ed25519-dalek), generated from the browser's CSPRNG, each
//! a `did:jwk` used with one issuer or one verifier only; compact JWS signing and checking.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use certus_schemas::holder::{HolderError, Key};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// An Ed25519 JWK (RFC 8037); `d` is the private part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<String>,
}

impl Jwk {
    /// The public key of an OKP/Ed25519 JWK.
    pub fn verifying_key(&self) -> Result<VerifyingKey, HolderError> {
        if self.kty != "OKP" || self.crv != "Ed25519" {
            return Err(HolderError(format!(
                "keys of type {}/{} are not supported (Ed25519 only)",
                self.kty, self.crv
            )));
        }
        let bytes: [u8; 32] = URL_SAFE_NO_PAD
            .decode(&self.x)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| HolderError("the key's x is not 32 bytes of base64url".into()))?;
        VerifyingKey::from_bytes(&bytes).map_err(|_| HolderError("not an Ed25519 point".into()))
    }
}

/// A holder key as the web wallet keeps it: the same JSON as a `certus wallet` file key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BrowserKey {
    pub did: String,
    pub relationship: String,
    pub jwk: Jwk,
}

/// `n` bytes from the browser's CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], HolderError> {
    let mut bytes = [0u8; N];
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .and_then(|c| c.get_random_values_with_u8_array(&mut bytes).ok())
        .ok_or_else(|| HolderError("this browser offers no secure random numbers".into()))?;
    Ok(bytes)
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Key for BrowserKey {
    fn generate(relationship: &str) -> Result<Self, HolderError> {
        let secret = SigningKey::from_bytes(&random_bytes::<32>()?);
        let x = b64(secret.verifying_key().as_bytes());
        // did:jwk of the public JWK, members in lexicographic order (as RFC 7638 orders them).
        let public = json!({"crv": "Ed25519", "kty": "OKP", "x": x});
        Ok(Self {
            did: format!("did:jwk:{}", b64(public.to_string())),
            relationship: relationship.to_owned(),
            jwk: Jwk {
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                x,
                d: Some(b64(secret.to_bytes())),
            },
        })
    }

    fn did(&self) -> &str {
        &self.did
    }

    fn relationship(&self) -> &str {
        &self.relationship
    }
}

impl BrowserKey {
    /// The verification method of a `did:jwk`.
    pub fn kid(&self) -> String {
        format!("{}#0", self.did)
    }

    /// A compact JWS (EdDSA) of `payload` with the `header` members given.
    pub fn sign(&self, header: Value, payload: &Value) -> Result<String, HolderError> {
        let secret: [u8; 32] = self
            .jwk
            .d
            .as_deref()
            .and_then(|d| URL_SAFE_NO_PAD.decode(d).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| HolderError("the key has no private part".into()))?;
        let mut header = header;
        header["alg"] = json!("EdDSA");
        let input = format!("{}.{}", b64(header.to_string()), b64(payload.to_string()));
        let signature = SigningKey::from_bytes(&secret).sign(input.as_bytes());
        Ok(format!("{input}.{}", b64(signature.to_bytes())))
    }
}

/// The header of a compact JWS, not verified.
pub fn jws_header(jws: &str) -> Result<Value, HolderError> {
    let part = jws.split('.').next().unwrap_or_default();
    URL_SAFE_NO_PAD
        .decode(part)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| HolderError("the JWS header is not base64url JSON".into()))
}

/// Checks an EdDSA compact JWS against `key`; its payload.
pub fn verify_jws(jws: &str, key: &VerifyingKey) -> Result<Value, HolderError> {
    let invalid = || HolderError("the signature does not verify".into());
    let (input, signature) = jws.rsplit_once('.').ok_or_else(invalid)?;
    let header = jws_header(jws)?;
    if header["alg"] != "EdDSA" && header["alg"] != "Ed25519" {
        return Err(HolderError(format!(
            "the signature algorithm {} is not supported",
            header["alg"]
        )));
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .ok()
        .and_then(|s| Signature::from_slice(&s).ok())
        .ok_or_else(invalid)?;
    key.verify_strict(input.as_bytes(), &signature)
        .map_err(|_| invalid())?;
    certus_schemas::holder::jwt_payload(jws)
}

/// The Ed25519 key of a `did:key` (multicodec 0xed01) or a `did:jwk`, decoded here: both
/// are their own key, so no server is asked.
pub fn self_certifying_key(did: &str) -> Option<Result<VerifyingKey, HolderError>> {
    if let Some(encoded) = did.strip_prefix("did:jwk:") {
        let jwk = URL_SAFE_NO_PAD
            .decode(encoded.split('#').next().unwrap_or_default())
            .ok()
            .and_then(|b| serde_json::from_slice::<Jwk>(&b).ok());
        return Some(
            jwk.ok_or_else(|| HolderError("the did:jwk is not a JWK".into()))
                .and_then(|j| j.verifying_key()),
        );
    }
    let multibase = did.strip_prefix("did:key:z")?;
    let bytes = bs58::decode(multibase.split('#').next().unwrap_or_default())
        .into_vec()
        .ok();
    Some(match bytes.as_deref() {
        Some([0xed, 0x01, key @ ..]) => <[u8; 32]>::try_from(key)
            .ok()
            .and_then(|k| VerifyingKey::from_bytes(&k).ok())
            .ok_or_else(|| HolderError("the did:key is not an Ed25519 key".into())),
        _ => Err(HolderError(
            "only Ed25519 did:key verifiers are supported".into(),
        )),
    })
}
