//! Compact JWS (RFC 7515) with a strict algorithm policy, over ssi's signing primitives.
//!
//! Only `EdDSA` (Ed25519) and `ES256` (P-256) are accepted; `none`, unknown algorithms,
//! critical headers and an algorithm that does not fit the key are refused before any
//! signature is checked.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};
use ssi::claims::jws;
use ssi::jwk::{Algorithm, Params, JWK};

use crate::signer::{SignError, Signer};

/// Algorithms Certus signs and verifies with.
pub const ALLOWED_ALGORITHMS: &[&str] = &["EdDSA", "ES256"];

/// Why a JWS was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    /// Not three base64url parts, or a header/payload that is not a JSON object.
    #[error("malformed JWS: {0}")]
    Malformed(&'static str),
    /// `alg` is `none`: unsigned tokens are never accepted.
    #[error("`alg: none` is not accepted")]
    AlgorithmNone,
    /// `alg` is not one of [`ALLOWED_ALGORITHMS`].
    #[error("algorithm `{0}` is not supported (EdDSA, ES256)")]
    UnsupportedAlgorithm(String),
    /// The header lists critical extensions Certus does not understand.
    #[error("critical header parameters are not supported")]
    CriticalHeader,
    /// `alg` does not match the type of the verification key.
    #[error("algorithm `{0}` does not match the key")]
    AlgorithmMismatch(String),
    /// The signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
}

impl JwsError {
    /// Stable code for errors and verification results.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "MALFORMED_JWS",
            Self::AlgorithmNone => "ALG_NONE",
            Self::UnsupportedAlgorithm(_) => "UNSUPPORTED_ALGORITHM",
            Self::CriticalHeader => "UNSUPPORTED_CRITICAL_HEADER",
            Self::AlgorithmMismatch(_) => "ALGORITHM_MISMATCH",
            Self::BadSignature => "SIGNATURE_INVALID",
        }
    }
}

/// A decoded, not yet verified, compact JWS.
#[derive(Debug, Clone)]
pub struct DecodedJws<'a> {
    /// The protected header.
    pub header: Map<String, Value>,
    /// The algorithm, already checked against [`ALLOWED_ALGORITHMS`].
    pub algorithm: Algorithm,
    /// The decoded payload: always a JSON object.
    pub payload: Value,
    signing_input: &'a str,
    signature: Vec<u8>,
}

impl DecodedJws<'_> {
    /// A header parameter as a string.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    /// Checks the signature with `key`.
    pub fn verify(&self, key: &JWK) -> Result<(), JwsError> {
        if !algorithm_fits_key(self.algorithm, key) {
            return Err(JwsError::AlgorithmMismatch(self.algorithm.to_string()));
        }
        jws::verify_bytes(
            self.algorithm,
            self.signing_input.as_bytes(),
            key,
            &self.signature,
        )
        .map_err(|_| JwsError::BadSignature)
    }
}

/// Whether a JWT's `aud` claim (a string, or an array of them) names `expected`.
pub fn audience_matches(aud: Option<&Value>, expected: &str) -> bool {
    match aud {
        Some(Value::String(a)) => a == expected,
        Some(Value::Array(items)) => items.iter().any(|a| a.as_str() == Some(expected)),
        _ => false,
    }
}

/// A protected header of string parameters (`typ`, `kid`, …); [`sign`] adds `alg`.
pub fn header(entries: &[(&str, &str)]) -> Map<String, Value> {
    entries
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
        .collect()
}

/// Decodes a compact JWS whose payload is a JSON object, refusing what the policy refuses.
pub fn decode(compact: &str) -> Result<DecodedJws<'_>, JwsError> {
    let mut parts = compact.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwsError::Malformed("a compact JWS has three parts"));
    };
    let header = json_object(h).ok_or(JwsError::Malformed("header is not a JSON object"))?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(JwsError::Malformed("header has no `alg`"))?;
    if alg.eq_ignore_ascii_case("none") {
        return Err(JwsError::AlgorithmNone);
    }
    if !ALLOWED_ALGORITHMS.contains(&alg) {
        return Err(JwsError::UnsupportedAlgorithm(alg.to_owned()));
    }
    let algorithm: Algorithm = serde_json::from_value(Value::String(alg.to_owned()))
        .map_err(|_| JwsError::UnsupportedAlgorithm(alg.to_owned()))?;
    if header.contains_key("crit") || header.contains_key("b64") {
        return Err(JwsError::CriticalHeader);
    }
    let payload = json_object(p).ok_or(JwsError::Malformed("payload is not a JSON object"))?;
    let signature = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| JwsError::Malformed("signature is not base64url"))?;
    Ok(DecodedJws {
        header,
        algorithm,
        payload: Value::Object(payload),
        signing_input: &compact[..h.len() + 1 + p.len()],
        signature,
    })
}

/// Signs `payload` as a compact JWS with the protected header `header` (to which `alg` is
/// added from the key).
pub fn sign(
    mut header: Map<String, Value>,
    payload: &Value,
    key: &dyn Signer,
) -> Result<String, SignError> {
    header.insert("alg".into(), Value::String(key.algorithm().to_string()));
    let header_b64 = URL_SAFE_NO_PAD.encode(Value::Object(header).to_string());
    let payload_b64 = URL_SAFE_NO_PAD.encode(payload.to_string());
    let signing_input = format!("{header_b64}.{payload_b64}");
    let signature = key.sign(signing_input.as_bytes())?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

fn json_object(b64: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(b64).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

fn algorithm_fits_key(algorithm: Algorithm, key: &JWK) -> bool {
    match (&key.params, algorithm) {
        (Params::OKP(okp), Algorithm::EdDSA) => okp.curve == "Ed25519",
        (Params::EC(ec), Algorithm::ES256) => ec.curve.as_deref() == Some("P-256"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn header() -> Map<String, Value> {
        json!({"typ": "vc+jwt"})
            .as_object()
            .cloned()
            .expect("object")
    }

    #[test]
    fn a_signed_jws_verifies_with_its_key_only() {
        for (key, alg) in [
            (JWK::generate_ed25519().expect("key"), Algorithm::EdDSA),
            (JWK::generate_p256(), Algorithm::ES256),
        ] {
            let token = sign(header(), &json!({"a": 1}), &key).expect("signs");
            let decoded = decode(&token).expect("decodes");
            assert_eq!(decoded.algorithm, alg);
            assert_eq!(decoded.payload["a"], 1);
            decoded.verify(&key.to_public()).expect("verifies");
            let other = JWK::generate_ed25519().expect("key");
            assert!(decoded.verify(&other).is_err());
        }
    }

    #[test]
    fn alg_none_unknown_algorithms_and_mismatched_keys_are_refused() {
        let key = JWK::generate_ed25519().expect("key");
        let token = sign(header(), &json!({"a": 1}), &key).expect("signs");
        let (_, rest) = token.split_once('.').expect("dot");
        for (alg, code) in [
            ("none", "ALG_NONE"),
            ("HS256", "UNSUPPORTED_ALGORITHM"),
            ("RS256", "UNSUPPORTED_ALGORITHM"),
        ] {
            let h = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}"}}"#));
            let forged = format!("{h}.{rest}");
            assert_eq!(decode(&forged).unwrap_err().code(), code, "{alg}");
        }
        let es = URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256"}"#);
        let forged = format!("{es}.{rest}");
        assert_eq!(
            decode(&forged).expect("decodes").verify(&key).unwrap_err(),
            JwsError::AlgorithmMismatch("ES256".into())
        );
    }

    #[test]
    fn flipping_any_byte_of_payload_or_signature_breaks_verification() {
        let key = JWK::generate_ed25519().expect("key");
        let token = sign(header(), &json!({"claim": "value"}), &key).expect("signs");
        let public = key.to_public();
        let first_dot = token.find('.').expect("dot");
        for i in (first_dot + 1..token.len()).step_by(3) {
            let mut bytes = token.clone().into_bytes();
            if bytes[i] == b'.' {
                continue;
            }
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).expect("ascii");
            let ok = decode(&tampered).map(|d| d.verify(&public).is_ok());
            assert!(!matches!(ok, Ok(true)), "tampering at {i} went unnoticed");
        }
    }
}
