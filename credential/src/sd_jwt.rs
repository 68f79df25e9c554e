//! IETF SD-JWT (RFC 9901) and SD-JWT VC (`dc+sd-jwt`): issuing with chosen claims
//! concealed, decoding with disclosure digests checked, and key-binding JWT checks.
//!
//! Concealment and reveal are ssi's (`ssi-sd-jwt`); the JWS layer is [`super::jose`], so
//! the header (`typ`, `kid`) and the algorithm policy are ours.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use ssi::claims::sd_jwt::{JsonPointerBuf, RevealError, SdAlg, SdJwt, SdJwtPayload};
use ssi::jwk::JWK;

use super::jose::{self, DecodedJws, JwsError};
use crate::signer::{SignError, Signer};

/// `typ` of an SD-JWT VC.
pub const SD_JWT_VC_TYP: &str = "dc+sd-jwt";
pub use certus_schemas::openid::KB_JWT_TYP;
/// Tolerated clock skew for `iat` of a key-binding JWT, in seconds.
pub const CLOCK_SKEW_SECS: i64 = 300;

/// Why an SD-JWT was refused.
#[derive(Debug, thiserror::Error)]
pub enum SdJwtError {
    /// Not `<jwt>~<disclosure>~…~[<kb-jwt>]`.
    #[error("malformed SD-JWT")]
    Malformed,
    /// The issuer-signed JWT or the KB-JWT is refused by the JWS policy.
    #[error(transparent)]
    Jws(#[from] JwsError),
    /// A disclosure is malformed, unreferenced, repeated, or its digest is missing.
    #[error("invalid disclosure: {0}")]
    Disclosure(&'static str),
}

impl SdJwtError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed => "MALFORMED_SD_JWT",
            Self::Jws(e) => e.code(),
            Self::Disclosure(_) => "DISCLOSURE_INVALID",
        }
    }
}

/// Why a key-binding JWT was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyBindingError {
    #[error("the credential is bound to a holder key but no key-binding JWT was presented")]
    Missing,
    #[error("the key-binding JWT's `typ` is not `kb+jwt`")]
    WrongType,
    #[error("the key-binding JWT is not signed by the holder key: {0}")]
    Signature(JwsError),
    #[error("the key-binding JWT's `sd_hash` does not match the presented SD-JWT")]
    SdHash,
    #[error("the key-binding JWT's nonce does not match the challenge")]
    Nonce,
    #[error("the key-binding JWT's audience does not match the domain")]
    Audience,
    #[error("the key-binding JWT's `iat` is missing or not within the accepted window")]
    IssuedAt,
    #[error("the credential's `cnf` holds no usable JWK")]
    NoHolderKey,
}

impl KeyBindingError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "KEY_BINDING_MISSING",
            Self::WrongType => "KEY_BINDING_TYPE",
            Self::Signature(_) => "KEY_BINDING_SIGNATURE_INVALID",
            Self::SdHash => "KEY_BINDING_SD_HASH",
            Self::Nonce => "CHALLENGE_MISMATCH",
            Self::Audience => "DOMAIN_MISMATCH",
            Self::IssuedAt => "KEY_BINDING_IAT",
            Self::NoHolderKey => "NO_HOLDER_KEY",
        }
    }
}

/// Signs `claims` as an SD-JWT with every top-level claim named in `disclosable` concealed
/// behind a salted digest. `header` is the protected header (without `alg`).
pub fn issue(
    claims: Map<String, Value>,
    disclosable: &[String],
    header: Map<String, Value>,
    key: &dyn Signer,
) -> anyhow::Result<String> {
    let pointers = disclosable
        .iter()
        .map(|name| {
            let escaped = name.replace('~', "~0").replace('/', "~1");
            JsonPointerBuf::new(format!("/{escaped}"))
                .map_err(|_| anyhow::anyhow!("invalid claim name"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (payload, disclosures) =
        SdJwtPayload::conceal(&Value::Object(claims), SdAlg::Sha256, &pointers)?;
    let jwt = jose::sign(header, &serde_json::to_value(&payload)?, key)?;
    let mut out = jwt;
    out.push('~');
    for d in &disclosures {
        out.push_str(d.encoded.as_str());
        out.push('~');
    }
    Ok(out)
}

/// A decoded SD-JWT: the issuer-signed JWT (not yet verified), the claims revealed by the
/// disclosures (digests checked), and the key-binding JWT if one was presented.
#[derive(Debug)]
pub struct Decoded<'a> {
    pub issuer_jwt: DecodedJws<'a>,
    /// The payload with every presented disclosure put back in place, `_sd` and `_sd_alg`
    /// removed.
    pub claims: Map<String, Value>,
    pub key_binding: Option<DecodedJws<'a>>,
    /// The presentation without the KB-JWT, over which `sd_hash` is computed.
    without_kb: &'a str,
}

/// Decodes an SD-JWT (with or without key binding).
pub fn decode(input: &str) -> Result<Decoded<'_>, SdJwtError> {
    let sd_jwt = SdJwt::new(input).map_err(|_| SdJwtError::Malformed)?;
    let last_tilde = input.rfind('~').ok_or(SdJwtError::Malformed)?;
    let (without_kb, kb) = input.split_at(last_tilde + 1);
    let jwt_end = input.find('~').ok_or(SdJwtError::Malformed)?;
    let issuer_jwt = jose::decode(&input[..jwt_end])?;
    let key_binding = if kb.is_empty() {
        None
    } else {
        Some(jose::decode(kb)?)
    };
    // Each disclosure once (RFC 9901 §7.1): a repeated one would count twice.
    let mut seen = std::collections::HashSet::new();
    if !without_kb[jwt_end + 1..]
        .split('~')
        .filter(|d| !d.is_empty())
        .all(|d| seen.insert(d))
    {
        return Err(SdJwtError::Disclosure("a disclosure is presented twice"));
    }
    let revealed = sd_jwt.decode_reveal_any().map_err(|e| {
        // Never echo a disclosure: its value may be personal data.
        SdJwtError::Disclosure(match e {
            RevealError::UnusedDisclosure(_) => "a disclosure is not referenced by any digest",
            RevealError::Collision => "a disclosed claim collides with another claim",
            RevealError::InvalidDisclosureHash => "unsupported or invalid `_sd_alg`",
            _ => "a disclosure or digest is malformed",
        })
    })?;
    let claims = match serde_json::to_value(&revealed.jwt.signing_bytes.payload) {
        Ok(Value::Object(mut map)) => {
            map.remove("_sd_alg");
            map
        }
        _ => return Err(SdJwtError::Malformed),
    };
    Ok(Decoded {
        issuer_jwt,
        claims,
        key_binding,
        without_kb,
    })
}

/// What a key-binding JWT must be bound to.
#[derive(Debug, Clone, Copy)]
pub struct BindingExpectations<'a> {
    pub nonce: Option<&'a str>,
    pub audience: Option<&'a str>,
    /// Current time, seconds since the epoch.
    pub now: i64,
    /// Oldest acceptable `iat`, seconds before `now`.
    pub max_age_secs: i64,
}

impl Decoded<'_> {
    /// The holder key from `cnf.jwk`, if the credential is key-bound.
    pub fn holder_key(&self) -> Option<Result<JWK, KeyBindingError>> {
        let jwk = self.claims.get("cnf")?.get("jwk")?;
        Some(serde_json::from_value(jwk.clone()).map_err(|_| KeyBindingError::NoHolderKey))
    }

    /// Checks the key-binding JWT against the holder key and the expectations.
    pub fn verify_key_binding(
        &self,
        holder: &JWK,
        expect: BindingExpectations<'_>,
    ) -> Result<(), KeyBindingError> {
        let kb = self.key_binding.as_ref().ok_or(KeyBindingError::Missing)?;
        if kb.header_str("typ") != Some(KB_JWT_TYP) {
            return Err(KeyBindingError::WrongType);
        }
        kb.verify(holder).map_err(KeyBindingError::Signature)?;
        let digest = URL_SAFE_NO_PAD.encode(Sha256::digest(self.without_kb.as_bytes()));
        if kb.payload.get("sd_hash").and_then(Value::as_str) != Some(digest.as_str()) {
            return Err(KeyBindingError::SdHash);
        }
        if let Some(nonce) = expect.nonce {
            if kb.payload.get("nonce").and_then(Value::as_str) != Some(nonce) {
                return Err(KeyBindingError::Nonce);
            }
        }
        if let Some(aud) = expect.audience {
            if !jose::audience_matches(kb.payload.get("aud"), aud) {
                return Err(KeyBindingError::Audience);
            }
        }
        let iat = kb
            .payload
            .get("iat")
            .and_then(Value::as_i64)
            .ok_or(KeyBindingError::IssuedAt)?;
        if iat > expect.now + CLOCK_SKEW_SECS || iat < expect.now - expect.max_age_secs {
            return Err(KeyBindingError::IssuedAt);
        }
        Ok(())
    }
}

/// Builds a key-binding JWT for `presentation` (an SD-JWT ending in `~`), as a holder does,
/// authorizing the transactions whose hashes are given.
pub fn key_binding_jwt(
    presentation: &str,
    holder: &dyn Signer,
    nonce: &str,
    audience: &str,
    iat: i64,
    transaction_hashes: &[String],
) -> Result<String, SignError> {
    let header = json!({"typ": KB_JWT_TYP})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let payload = certus_schemas::holder::kb_jwt_payload(
        presentation,
        nonce,
        audience,
        iat,
        transaction_hashes,
    );
    jose::sign(header, &payload, holder)
}
