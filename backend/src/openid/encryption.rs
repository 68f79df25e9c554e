//! The verifier's side of `direct_post.jwt` (OpenID4VP 1.0 §8.3): a key pair made for each
//! request that asks for an encrypted answer (ECDH-ES on P-256, josekit), its public half
//! in the request's `client_metadata`, its private half sealed under the master key until
//! the answer is opened with it.

use certus_schemas::response::{AuthorizationResponse, ALG, ENC_VALUES};
use josekit::jwe::{self, ECDH_ES};
use josekit::jwk::alg::ec::EcCurve;
use josekit::jwk::Jwk;
use serde_json::Value;

use crate::auth::random_token;
use crate::keys::MasterKey;

/// A request's encryption key: the public JWK to publish and the sealed private one.
pub struct RequestKey {
    pub public: Value,
    pub sealed: String,
}

/// A fresh key pair for one request's answer.
pub fn generate(master: &MasterKey) -> anyhow::Result<RequestKey> {
    let pair = ECDH_ES.generate_ec_key_pair(EcCurve::P256)?;
    // Short: the wallet echoes it in the JWE header.
    let kid = random_token()[..16].to_owned();
    let label = |mut jwk: Jwk| {
        jwk.set_key_id(&kid);
        jwk.set_key_use("enc");
        jwk.set_algorithm(ALG);
        jwk
    };
    let private = label(pair.to_jwk_private_key());
    let public = label(pair.to_jwk_public_key());
    Ok(RequestKey {
        public: Value::Object(public.into()),
        sealed: master.encrypt(private.to_string().as_bytes())?,
    })
}

/// Why an encrypted answer could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Not a JWE to this request's key with an algorithm the request allows, or altered.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Opens a wallet's encrypted answer with the request's sealed key: its parameters.
pub fn open(
    master: &MasterKey,
    sealed: &str,
    response: &str,
) -> Result<AuthorizationResponse, OpenError> {
    let private = Jwk::from_bytes(master.decrypt(sealed)?).map_err(anyhow::Error::from)?;
    let decrypter = ECDH_ES
        .decrypter_from_jwk(&private)
        .map_err(anyhow::Error::from)?;
    let refused = |why: &str| OpenError::Refused(why.to_owned());
    let (payload, header) = jwe::deserialize_compact(response.trim(), &decrypter).map_err(|_| {
        refused("`response` is not a JWE this request's key opens (ECDH-ES on P-256), or it was altered")
    })?;
    let enc = header.content_encryption().unwrap_or_default();
    if !ENC_VALUES.contains(&enc) {
        return Err(OpenError::Refused(format!(
            "the answer is encrypted with `{enc}`; the request allows {}",
            ENC_VALUES.join(" and ")
        )));
    }
    if header
        .key_id()
        .is_some_and(|kid| Some(kid) != private.key_id())
    {
        return Err(refused("the answer's `kid` is not the request's key"));
    }
    serde_json::from_slice(&payload)
        .map_err(|_| refused("the decrypted answer is not a JSON object of response parameters"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use josekit::jwe::JweHeader;
    use serde_json::json;

    fn encrypt_to(public: &Value, enc: &str, kid: Option<&str>, payload: &Value) -> String {
        let jwk = Jwk::from_map(public.as_object().unwrap().clone()).unwrap();
        let encrypter = ECDH_ES.encrypter_from_jwk(&jwk).unwrap();
        let mut header = JweHeader::new();
        header.set_content_encryption(enc);
        if let Some(kid) = kid {
            header.set_key_id(kid);
        }
        jwe::serialize_compact(&serde_json::to_vec(payload).unwrap(), &header, &encrypter).unwrap()
    }

    #[test]
    fn an_answer_encrypted_to_the_request_key_opens_and_nothing_else_does() {
        let master = MasterKey::generate();
        let key = generate(&master).unwrap();
        assert_eq!(key.public["crv"], "P-256");
        assert_eq!(key.public["alg"], "ECDH-ES");
        assert!(
            key.public.get("d").is_none(),
            "the private part is never published"
        );
        let kid = key.public["kid"].as_str().unwrap();
        let answer = json!({ "vp_token": { "q": ["x"] }, "state": "s" });
        for enc in ENC_VALUES {
            let opened = open(
                &master,
                &key.sealed,
                &encrypt_to(&key.public, enc, Some(kid), &answer),
            )
            .unwrap();
            assert_eq!(opened.state.as_deref(), Some("s"));
            assert_eq!(opened.vp_token.unwrap()["q"], json!(["x"]));
        }
        let refused =
            |jwe: &str| matches!(open(&master, &key.sealed, jwe), Err(OpenError::Refused(_)));
        // Another enc, another kid, another request's key, altered bytes, not a JWE.
        assert!(refused(&encrypt_to(
            &key.public,
            "A128CBC-HS256",
            Some(kid),
            &answer
        )));
        assert!(refused(&encrypt_to(
            &key.public,
            "A128GCM",
            Some("other"),
            &answer
        )));
        let other = generate(&master).unwrap();
        assert!(refused(&encrypt_to(
            &other.public,
            "A128GCM",
            None,
            &answer
        )));
        let jwe = encrypt_to(&key.public, "A128GCM", Some(kid), &answer);
        let (head, tag) = jwe.rsplit_once('.').unwrap();
        let other_first = if tag.starts_with('A') { "B" } else { "A" };
        assert!(refused(&format!("{head}.{other_first}{}", &tag[1..])));
        assert!(refused("vp_token"));
        assert!(refused(&encrypt_to(
            &key.public,
            "A128GCM",
            Some(kid),
            &json!(["not", "an", "object"])
        )));
    }

    /// The example of OpenID4VP 1.0 §8.3: an answer encrypted by another implementation to
    /// the key given there opens to the payload given there.
    #[test]
    fn the_openid4vp_specification_example_answer_opens() {
        let master = MasterKey::generate();
        let private = json!({
            "kty": "EC", "kid": "ac", "use": "enc", "crv": "P-256", "alg": "ECDH-ES",
            "x": "YO4epjifD-KWeq1sL2tNmm36BhXnkJ0He-WqMYrp9Fk",
            "y": "Hekpm0zfK7C-YccH5iBjcIXgf6YdUvNUac_0At55Okk",
            "d": "Et-3ce0omz8_TuZ96Df9lp0GAaaDoUnDe6X-CRO7Aww"
        });
        let sealed = master.encrypt(private.to_string().as_bytes()).unwrap();
        let response = concat!(
            "eyJhbGciOiJFQ0RILUVTIiwiZW5jIjoiQTEyOEdDTSIsImtpZCI6ImFjIiwiZXBrIjp7Imt",
            "0eSI6IkVDIiwieCI6Im5ubVZwbTNWM2piaGNhZlFhUkJrU1ZOSGx3Wkh3dC05ck9wSnVmeVlJdWsiLCJ5I",
            "joicjRmakRxd0p5czlxVU9QLV9iM21SNVNaRy0tQ3dPMm1pYzVWU05UWU45ZyIsImNydiI6IlAtMjU2In1",
            "9..uAYcHRUSSn2X0WPX.yVzlGSYG4qbg0bq18JcUiDRw56yVnbKR8E7S7YlEtzT00RqE3Pw5oTpUG3hdLN",
            "4taHZ9gC1kwak8JOnJgQ.1wR024_3-qtAlx1oFIUpQQ"
        );
        let opened = open(&master, &sealed, response).unwrap();
        assert_eq!(
            serde_json::to_value(opened.vp_token).unwrap(),
            json!({ "example_credential_id": ["eyJhb...YMetA"] })
        );
    }
}
