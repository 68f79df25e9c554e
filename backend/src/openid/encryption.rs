//! Messages encrypted on top of TLS: ECDH-ES on P-256 with A128GCM or A256GCM (josekit).
//! The verifier's side of `direct_post.jwt` (OpenID4VP 1.0 §8.3): a key pair made for each
//! request that asks for an encrypted answer, its public half in the request's
//! `client_metadata`, its private half sealed under the master key until the answer is
//! opened with it. The issuer's side of encrypted credential requests and responses
//! (OpenID4VCI 1.0 §10): the node's request key, derived from the master key, and each
//! response encrypted to the key its request gives.

use certus_schemas::response::{AuthorizationResponse, ALG, CURVE, ENC_VALUES};
use josekit::jwe::{self, JweHeader, ECDH_ES};
use josekit::jwk::alg::ec::EcCurve;
use josekit::jwk::Jwk;
use serde_json::Value;

use crate::auth::random_token;
use crate::keys::MasterKey;

/// The key a presentation request's answer is encrypted to: the public JWK to publish
/// and the sealed private one.
pub struct AnswerKey {
    pub public: Value,
    pub sealed: String,
}

/// A fresh key pair for one presentation request's answer.
pub fn answer_key(master: &MasterKey) -> anyhow::Result<AnswerKey> {
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
    Ok(AnswerKey {
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
    let payload = decrypt(&private, response, "`response`")?;
    serde_json::from_slice(&payload).map_err(|_| {
        OpenError::Refused(
            "the decrypted answer is not a JSON object of response parameters".into(),
        )
    })
}

/// The plaintext of a compact JWE to `private` (`what` names it in refusals): ECDH-ES,
/// an `enc` of [`ENC_VALUES`], and the key's `kid` if the JWE names one.
pub fn decrypt(private: &Jwk, message: &str, what: &str) -> Result<Vec<u8>, OpenError> {
    let decrypter = ECDH_ES
        .decrypter_from_jwk(private)
        .map_err(anyhow::Error::from)?;
    let (payload, header) = jwe::deserialize_compact(message.trim(), &decrypter).map_err(|_| {
        OpenError::Refused(format!(
            "{what} is not a JWE the key named for it opens (ECDH-ES on P-256), or it was altered"
        ))
    })?;
    let enc = header.content_encryption().unwrap_or_default();
    if !ENC_VALUES.contains(&enc) {
        return Err(OpenError::Refused(format!(
            "{what} is encrypted with `{enc}`; {} are taken",
            ENC_VALUES.join(" and ")
        )));
    }
    if header
        .key_id()
        .is_some_and(|kid| Some(kid) != private.key_id())
    {
        return Err(OpenError::Refused(format!(
            "{what}'s `kid` is not the key named for it"
        )));
    }
    Ok(payload)
}

/// What a wallet asks a credential response encrypted to (`credential_response_encryption`).
#[derive(Debug, Clone)]
pub struct ResponseEncryption {
    jwk: Jwk,
    enc: &'static str,
}

impl ResponseEncryption {
    /// Reads a request's `credential_response_encryption`: a P-256 public JWK with `alg`
    /// ECDH-ES, an `enc` of [`ENC_VALUES`], no compression.
    pub fn read(asked: &Value) -> Result<Self, String> {
        let jwk = asked
            .get("jwk")
            .and_then(Value::as_object)
            .filter(|k| k.get("d").is_none())
            .and_then(|k| Jwk::from_map(k.clone()).ok())
            .ok_or("credential_response_encryption.jwk must be a public JWK")?;
        if jwk.algorithm() != Some(ALG) || jwk.curve() != Some(CURVE) {
            return Err(format!(
                "credential_response_encryption.jwk must be a {CURVE} key with alg {ALG}"
            ));
        }
        ECDH_ES
            .encrypter_from_jwk(&jwk)
            .map_err(|_| "credential_response_encryption.jwk is not a usable key")?;
        let enc = asked.get("enc").and_then(Value::as_str).unwrap_or_default();
        let enc = ENC_VALUES.into_iter().find(|e| *e == enc).ok_or_else(|| {
            format!(
                "credential_response_encryption.enc must be one of {}",
                ENC_VALUES.join(", ")
            )
        })?;
        if asked.get("zip").is_some() {
            return Err("credential_response_encryption.zip: no compression is supported".into());
        }
        Ok(Self { jwk, enc })
    }

    /// `body` as a compact JWE to the wallet's key.
    pub fn seal(&self, body: &Value) -> anyhow::Result<String> {
        let encrypter = ECDH_ES.encrypter_from_jwk(&self.jwk)?;
        let mut header = JweHeader::new();
        header.set_content_encryption(self.enc);
        if let Some(kid) = self.jwk.key_id() {
            header.set_key_id(kid);
        }
        Ok(jwe::serialize_compact(
            &serde_json::to_vec(body)?,
            &header,
            &encrypter,
        )?)
    }
}

/// The node's key for encrypted credential requests: a P-256 key derived from the master
/// key, so every API node of an institution (one master key) has the same, and none is
/// stored.
pub struct IssuerRequestKey {
    private: Jwk,
    public: Value,
}

impl IssuerRequestKey {
    pub fn derive(master: &MasterKey) -> anyhow::Result<Self> {
        use openssl::bn::{BigNum, BigNumContext};
        use openssl::ec::{EcGroup, EcKey, EcPoint};
        use openssl::nid::Nid;
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
        let mut context = BigNumContext::new()?;
        let mut order = BigNum::new()?;
        group.order(&mut order, &mut context)?;
        let seed = BigNum::from_slice(&master.derive("openid4vci/credential-request-encryption"))?;
        let mut secret = BigNum::new()?;
        secret.nnmod(&seed, &order, &mut context)?;
        anyhow::ensure!(secret.num_bits() > 0, "the derived key is zero");
        let mut point = EcPoint::new(&group)?;
        point.mul_generator2(&group, &secret, &mut context)?;
        let key = EcKey::from_private_components(&group, &secret, &point)?;
        let pkcs8 = openssl::pkey::PKey::from_ec_key(key)?.private_key_to_pkcs8()?;
        let pair = ECDH_ES.key_pair_from_ec_der(pkcs8)?;
        // Named by its public key: the same name on every node.
        let x = pair.to_jwk_public_key();
        let x = x.parameter("x").and_then(Value::as_str).unwrap_or_default();
        let kid = format!("request-{}", &x[..x.len().min(16)]);
        let label = |mut jwk: Jwk| {
            jwk.set_key_id(&kid);
            jwk.set_key_use("enc");
            jwk.set_algorithm(ALG);
            jwk
        };
        Ok(Self {
            private: label(pair.to_jwk_private_key()),
            public: Value::Object(label(pair.to_jwk_public_key()).into()),
        })
    }

    /// The public key, for the issuer metadata.
    pub fn public(&self) -> &Value {
        &self.public
    }

    /// A credential or deferred credential request encrypted to this key: its JSON.
    pub fn open(&self, message: &str) -> Result<Value, OpenError> {
        let payload = decrypt(&self.private, message, "the encrypted credential request")?;
        match serde_json::from_slice(&payload) {
            Ok(Value::Object(request)) => Ok(Value::Object(request)),
            _ => Err(OpenError::Refused(
                "the decrypted credential request is not a JSON object".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let key = answer_key(&master).unwrap();
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
        let other = answer_key(&master).unwrap();
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

    #[test]
    fn the_request_key_is_the_same_for_one_master_key_and_opens_what_is_encrypted_to_it() {
        let master = MasterKey::generate();
        let key = IssuerRequestKey::derive(&master).unwrap();
        assert_eq!(
            key.public(),
            IssuerRequestKey::derive(&master).unwrap().public()
        );
        assert_ne!(
            key.public(),
            IssuerRequestKey::derive(&MasterKey::generate())
                .unwrap()
                .public()
        );
        assert!(key.public().get("d").is_none());
        let kid = key.public()["kid"].as_str().unwrap().to_owned();
        let request = json!({ "credential_configuration_id": "c" });
        let sealed = encrypt_to(key.public(), "A256GCM", Some(&kid), &request);
        assert_eq!(key.open(&sealed).unwrap(), request);
        let list = encrypt_to(key.public(), "A256GCM", Some(&kid), &json!([1]));
        assert!(matches!(key.open(&list), Err(OpenError::Refused(_))));
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
