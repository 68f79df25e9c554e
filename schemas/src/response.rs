//! A wallet's answer to an OpenID4VP 1.0 request, shared by both wallets and the verifier:
//! its parameters (§8.1), sent as a form by `direct_post` (§8.2) or as a JWE encrypted to
//! the verifier by `direct_post.jwt` (§8.3): ECDH-ES on P-256 with A128GCM or A256GCM, the
//! algorithms HAIP 1.0 names.
//!
//! Pure code: what to encrypt to and what to send. The encryption itself is the caller's
//! (josekit in `certus wallet`, WebCrypto in the web wallet, which uses [`concat_kdf`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::openid::STATUS_NOTIFICATIONS_PARAM;

/// The JWE `alg` of an encrypted answer: ECDH-ES, the content key agreed directly.
pub const ALG: &str = "ECDH-ES";
/// The curve of the verifier's encryption keys.
pub const CURVE: &str = "P-256";
/// The JWE `enc` values Certus encrypts and decrypts with, preferred first; A128GCM is
/// also what a request naming none means (§8.3).
pub const ENC_VALUES: [&str; 2] = ["A128GCM", "A256GCM"];

/// How the wallet sends its answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum ResponseMode {
    /// A form posted to the response URI.
    #[default]
    #[serde(rename = "direct_post")]
    DirectPost,
    /// One `response` parameter: the answer encrypted to a key of the request's.
    #[serde(rename = "direct_post.jwt")]
    DirectPostJwt,
}

impl ResponseMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DirectPost => "direct_post",
            Self::DirectPostJwt => "direct_post.jwt",
        }
    }
}

/// The parameters of an answer: the presentations by credential query id and the
/// request's `state`, or an error; and, for Certus's KYC reuse, the holder's leave to be
/// told of status changes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vp_token: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_notifications: Option<String>,
}

impl AuthorizationResponse {
    /// The form `direct_post` sends: each parameter, the `vp_token` as JSON text.
    pub fn form(&self) -> Vec<(&'static str, String)> {
        let text = |value: &Option<String>| value.clone();
        [
            (
                "vp_token",
                self.vp_token
                    .as_ref()
                    .map(|t| Value::Object(t.clone()).to_string()),
            ),
            ("state", text(&self.state)),
            ("error", text(&self.error)),
            ("error_description", text(&self.error_description)),
            (STATUS_NOTIFICATIONS_PARAM, text(&self.status_notifications)),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v)))
        .collect()
    }

    /// The JWE payload `direct_post.jwt` encrypts: the parameters as JSON members.
    pub fn payload(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("serialising JSON values cannot fail")
    }
}

/// What a request asks an answer to be encrypted to: the verifier's public key (a P-256
/// JWK) and the content encryption.
#[derive(Debug, Clone, PartialEq)]
pub struct Encryption {
    pub jwk: Map<String, Value>,
    pub enc: &'static str,
}

impl Encryption {
    /// The `kid` the JWE header must carry: the key's, when it has one.
    pub fn kid(&self) -> Option<&str> {
        self.jwk.get("kid").and_then(Value::as_str)
    }

    /// The JWE protected header with the sender's ephemeral public key `epk`.
    pub fn header(&self, epk: Map<String, Value>) -> Map<String, Value> {
        let mut header = Map::new();
        header.insert("alg".into(), ALG.into());
        header.insert("enc".into(), self.enc.into());
        if let Some(kid) = self.kid() {
            header.insert("kid".into(), kid.into());
        }
        header.insert("epk".into(), Value::Object(epk));
        header
    }

    /// The bytes of the content key `enc` needs.
    pub fn key_len(&self) -> usize {
        if self.enc == "A256GCM" {
            32
        } else {
            16
        }
    }
}

/// How a signed request object's payload asks to be answered: `None` for `direct_post`;
/// for `direct_post.jwt`, the key and `enc` to encrypt to, chosen as §8.3 says (a key for
/// encryption, its `alg` ECDH-ES, on P-256; the first `enc` of the request's Certus
/// supports). Any other mode, or no usable key, is an error the holder can read.
pub fn requested_encryption(request: &Value) -> Result<Option<Encryption>, String> {
    match request.get("response_mode").and_then(Value::as_str) {
        Some("direct_post") => return Ok(None),
        Some("direct_post.jwt") => {}
        other => {
            return Err(format!(
            "the request asks for response mode {}; direct_post and direct_post.jwt are supported",
            other.unwrap_or("(none)")
        ))
        }
    }
    let metadata = &request["client_metadata"];
    let usable = |key: &&Value| {
        key["alg"] == ALG
            && key["kty"] == "EC"
            && key["crv"] == CURVE
            && key.get("use").is_none_or(|u| u == "enc")
    };
    let jwk = metadata["jwks"]["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(usable))
        .and_then(Value::as_object)
        .cloned()
        .ok_or("the request asks for an encrypted answer and gives no P-256 ECDH-ES key")?;
    let enc = match metadata["encrypted_response_enc_values_supported"].as_array() {
        None => ENC_VALUES[0],
        Some(asked) => ENC_VALUES
            .into_iter()
            .find(|e| asked.iter().any(|a| a == e))
            .ok_or("the request asks for an answer encryption (enc) this wallet does not have")?,
    };
    Ok(Some(Encryption { jwk, enc }))
}

/// The Concat KDF of JWA (RFC 7518 §4.6.2) for ECDH-ES used directly: the content key of
/// `key_len` bytes (at most 32) agreed from the shared secret `z`, for content encryption
/// `enc`, with the party infos `apu` and `apv` (empty when absent).
pub fn concat_kdf(z: &[u8], enc: &str, key_len: usize, apu: &[u8], apv: &[u8]) -> Vec<u8> {
    assert!(key_len <= 32, "one round of SHA-256 gives 32 bytes");
    let with_length = |hasher: &mut Sha256, data: &[u8]| {
        hasher.update((data.len() as u32).to_be_bytes());
        hasher.update(data);
    };
    let mut hasher = Sha256::new();
    hasher.update(1u32.to_be_bytes());
    hasher.update(z);
    with_length(&mut hasher, enc.as_bytes());
    with_length(&mut hasher, apu);
    with_length(&mut hasher, apv);
    hasher.update(((key_len * 8) as u32).to_be_bytes());
    hasher.finalize()[..key_len].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use serde_json::json;

    /// RFC 7518 Appendix C: ECDH-ES with A128GCM between Alice and Bob.
    #[test]
    fn the_concat_kdf_derives_the_content_key_of_rfc_7518_appendix_c() {
        let z = [
            158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49,
            110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196,
        ];
        let key = concat_kdf(&z, "A128GCM", 16, b"Alice", b"Bob");
        assert_eq!(URL_SAFE_NO_PAD.encode(&key), "VqqN6vgjbSBcIijNcacQGg");
        assert_ne!(concat_kdf(&z, "A128GCM", 16, b"Alice", b"Eve"), key);
    }

    fn request(mode: &str, keys: Value, enc: Option<Value>) -> Value {
        let mut metadata = json!({ "jwks": { "keys": keys } });
        if let Some(enc) = enc {
            metadata["encrypted_response_enc_values_supported"] = enc;
        }
        json!({ "response_mode": mode, "client_metadata": metadata })
    }

    fn p256(kid: &str, usage: &str) -> Value {
        json!({ "kty": "EC", "crv": "P-256", "alg": "ECDH-ES", "use": usage, "kid": kid, "x": "x", "y": "y" })
    }

    #[test]
    fn an_encrypted_answer_goes_to_the_requests_p256_encryption_key_with_an_enc_both_support() {
        assert_eq!(
            requested_encryption(&json!({ "response_mode": "direct_post" })),
            Ok(None)
        );
        let keys = json!([p256("signing", "sig"), { "kty": "OKP", "crv": "X25519", "alg": "ECDH-ES" }, p256("e1", "enc")]);
        let chosen = requested_encryption(&request("direct_post.jwt", keys.clone(), None))
            .unwrap()
            .unwrap();
        assert_eq!(
            (chosen.kid(), chosen.enc, chosen.key_len()),
            (Some("e1"), "A128GCM", 16)
        );
        let chosen = requested_encryption(&request(
            "direct_post.jwt",
            keys.clone(),
            Some(json!(["A128CBC-HS256", "A256GCM"])),
        ))
        .unwrap()
        .unwrap();
        assert_eq!((chosen.enc, chosen.key_len()), ("A256GCM", 32));
        let header = chosen.header(Map::new());
        assert_eq!(
            (header["alg"].as_str(), header["kid"].as_str()),
            (Some("ECDH-ES"), Some("e1"))
        );
        assert!(requested_encryption(&request(
            "direct_post.jwt",
            keys,
            Some(json!(["A128CBC-HS256"]))
        ))
        .unwrap_err()
        .contains("enc"));
        assert!(
            requested_encryption(&request("direct_post.jwt", json!([p256("s", "sig")]), None))
                .unwrap_err()
                .contains("no P-256 ECDH-ES key")
        );
        assert!(
            requested_encryption(&json!({ "response_mode": "fragment" }))
                .unwrap_err()
                .contains("fragment")
        );
    }

    #[test]
    fn an_answer_is_the_same_parameters_as_a_form_or_as_a_jwe_payload() {
        let answer = AuthorizationResponse {
            vp_token: Some(json!({ "q": ["token"] }).as_object().unwrap().clone()),
            state: Some("s".into()),
            ..Default::default()
        };
        assert_eq!(
            answer.form(),
            vec![
                ("vp_token", r#"{"q":["token"]}"#.to_owned()),
                ("state", "s".to_owned())
            ]
        );
        let payload: Value = serde_json::from_slice(&answer.payload()).unwrap();
        assert_eq!(
            payload,
            json!({ "vp_token": { "q": ["token"] }, "state": "s" })
        );
    }
}
