//! DPoP (RFC 9449): access tokens bound to a key of the wallet's, so that a token that
//! leaks is worth nothing without that key. The wallet signs a fresh proof for every
//! request to the pushed authorization, token and credential endpoints: the method and
//! URL it is for, when, a unique `jti`, and — with an access token — the token's hash
//! (`ath`).

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde_json::Value;
use ssi::jwk::JWK;

use super::nonces::first_use_of_jti;
use super::{OAuthError, OAuthErrorKind, OpenId};
use certus_credential::jose;
use certus_schemas::holder::access_token_hash;
pub use certus_schemas::openid::DPOP_TYP;

/// How old (or how far ahead of this server's clock) a proof may be, in seconds. Its
/// `jti` is remembered this long, so that it is accepted once.
pub const MAX_AGE_SECS: i64 = 120;

/// What a request's DPoP proof must be made for.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The HTTP method (`POST`).
    pub method: &'a str,
    /// The endpoint's URL as the wallet reaches it: the public URL and the path, without
    /// query or fragment.
    pub url: &'a str,
    /// The access token the request presents, whose hash the proof must carry.
    pub access_token: Option<&'a str>,
}

fn invalid(description: impl Into<String>) -> OAuthError {
    OAuthError::new(OAuthErrorKind::InvalidDpopProof, description)
}

/// The JWK SHA-256 thumbprint (RFC 7638) of the key a proof was made with: what a bound
/// token remembers (`cnf.jkt`).
pub type Thumbprint = String;

/// Checks the DPoP proof `proof` (the `DPoP` header's value) for `expected`, and records
/// its `jti` so that it is not accepted again; the thumbprint of its key.
pub async fn check(
    db: &DatabaseConnection,
    proof: &str,
    expected: Expected<'_>,
    now: DateTime<Utc>,
) -> Result<Thumbprint, OAuthError> {
    let (jkt, jti, iat) = parse(proof, expected, now)?;
    if first_use_of_jti(db, "dpop", &jkt, &jti, iat, MAX_AGE_SECS, now).await? {
        Ok(jkt)
    } else {
        Err(invalid(
            "this DPoP proof was used before: make a fresh one for each request",
        ))
    }
}

/// The key of `proof`, a DPoP proof checked for a POST to one of this issuer's paths
/// (with `access_token` when the request presents one): its thumbprint.
pub(super) async fn for_post(
    openid: &OpenId,
    proof: &str,
    path: &str,
    access_token: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Thumbprint, OAuthError> {
    let url = format!("{}{path}", openid.public_url);
    let expected = Expected {
        method: "POST",
        url: &url,
        access_token,
    };
    check(&openid.db, proof, expected, now).await
}

/// Everything of a proof that needs no store: its form, key, signature, method, URL, time
/// and token hash; the key's thumbprint, the `jti` and the `iat`.
fn parse(
    proof: &str,
    expected: Expected<'_>,
    now: DateTime<Utc>,
) -> Result<(Thumbprint, String, i64), OAuthError> {
    let decoded = jose::decode(proof).map_err(|e| invalid(format!("the DPoP proof: {e}")))?;
    if decoded.header_str("typ") != Some(DPOP_TYP) {
        return Err(invalid(format!(
            "the DPoP proof's `typ` must be `{DPOP_TYP}`"
        )));
    }
    let jwk: JWK = decoded
        .header
        .get("jwk")
        .and_then(|k| serde_json::from_value(k.clone()).ok())
        .ok_or_else(|| invalid("the DPoP proof must carry its public key as `jwk`"))?;
    if !jwk.params.is_public() {
        return Err(invalid("the DPoP proof's `jwk` must be a public key"));
    }
    decoded
        .verify(&jwk)
        .map_err(|e| invalid(format!("the DPoP proof is not signed by its key: {e}")))?;
    let claim = |name: &str| decoded.payload.get(name).and_then(Value::as_str);
    if claim("htm") != Some(expected.method) {
        return Err(invalid(format!(
            "the DPoP proof's `htm` must be `{}`",
            expected.method
        )));
    }
    let htu = claim("htu").map(|u| u.split(['?', '#']).next().unwrap_or(u));
    if htu != Some(expected.url) {
        return Err(invalid(format!(
            "the DPoP proof's `htu` must be `{}`",
            expected.url
        )));
    }
    let jti = claim("jti")
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or_else(|| invalid("the DPoP proof needs a unique `jti`"))?
        .to_owned();
    let iat = decoded.payload.get("iat").and_then(Value::as_i64);
    let now_secs = now.timestamp();
    let Some(iat) =
        iat.filter(|iat| (now_secs - MAX_AGE_SECS..=now_secs + MAX_AGE_SECS).contains(iat))
    else {
        return Err(invalid(format!(
            "the DPoP proof's `iat` must be within {MAX_AGE_SECS} seconds of now"
        )));
    };
    match (expected.access_token, claim("ath")) {
        (Some(token), Some(ath)) if ath == access_token_hash(token) => {}
        (Some(_), _) => {
            return Err(invalid(
                "the DPoP proof's `ath` must be the SHA-256 of the access token it is sent with",
            ))
        }
        (None, _) => {}
    }
    let jkt = jwk
        .thumbprint()
        .map_err(|_| invalid("the DPoP proof's `jwk` is not a supported key"))?;
    Ok((jkt, jti, iat))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const URL: &str = "https://issuer.example/openid4vci/credential";

    fn proof(key: &JWK, header: Value, payload: Value) -> String {
        let mut h = jose::header(&[("typ", DPOP_TYP)]);
        h.insert("jwk".into(), json!(key.to_public()));
        h.extend(header.as_object().expect("object").clone());
        jose::sign(h, &payload, key).expect("signed")
    }

    fn expected(token: Option<&str>) -> Expected<'_> {
        Expected {
            method: "POST",
            url: URL,
            access_token: token,
        }
    }

    #[test]
    fn a_proof_is_checked_for_key_method_url_time_and_token() {
        let key = JWK::generate_ed25519().expect("key");
        let now = Utc::now();
        let good =
            certus_schemas::holder::dpop_payload("POST", URL, Some("token"), "a", now.timestamp());
        let (jkt, jti, _) = parse(
            &proof(&key, json!({}), good.clone()),
            expected(Some("token")),
            now,
        )
        .expect("a good proof");
        assert_eq!((jkt, jti.as_str()), (key.thumbprint().expect("jkt"), "a"));

        let refused = |header: Value, edit: Value, token: Option<&str>| {
            let mut payload = good.clone();
            payload
                .as_object_mut()
                .expect("object")
                .extend(edit.as_object().expect("object").clone());
            parse(&proof(&key, header, payload), expected(token), now)
                .expect_err("refused")
                .kind
        };
        let bad = OAuthErrorKind::InvalidDpopProof;
        assert_eq!(
            refused(json!({"typ": "JWT"}), json!({}), Some("token")),
            bad
        );
        assert_eq!(
            refused(json!({}), json!({"htm": "GET"}), Some("token")),
            bad
        );
        assert_eq!(
            refused(
                json!({}),
                json!({"htu": "https://other.example/openid4vci/credential"}),
                Some("token")
            ),
            bad
        );
        assert_eq!(
            refused(
                json!({}),
                json!({"iat": now.timestamp() - 600}),
                Some("token")
            ),
            bad
        );
        assert_eq!(refused(json!({}), json!({"jti": ""}), Some("token")), bad);
        assert_eq!(refused(json!({}), json!({}), Some("another token")), bad);
        assert_eq!(refused(json!({}), json!({"ath": null}), Some("token")), bad);
        // Another key's signature over this key's proof.
        let other = JWK::generate_ed25519().expect("key");
        let forged = proof(&other, json!({"jwk": key.to_public()}), good.clone());
        assert_eq!(
            parse(&forged, expected(Some("token")), now)
                .expect_err("forged")
                .kind,
            bad
        );
        // A private key in the header is refused (it would be leaked anyway).
        assert_eq!(refused(json!({"jwk": key}), json!({}), Some("token")), bad);
        // Without a token, `ath` is not asked for; a query in `htu` is ignored.
        let bare = certus_schemas::holder::dpop_payload(
            "POST",
            &format!("{URL}?x=1"),
            None,
            "b",
            now.timestamp(),
        );
        assert!(parse(&proof(&key, json!({}), bare), expected(None), now).is_ok());
    }
}
