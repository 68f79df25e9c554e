//! The JWT proof of possession of OpenID4VCI (Appendix F.1): the wallet signs the issuer's
//! identifier and a fresh `c_nonce` with the key the credential is to be bound to.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde_json::Value;
use ssi::jwk::JWK;

use super::nonces::Nonces;
use super::{OAuthError, OAuthErrorKind};
use certus_credential::did;
use certus_credential::jose;

pub use certus_schemas::openid::PROOF_TYP;
/// Tolerated clock skew and oldest accepted `iat`, in seconds.
pub const MAX_SKEW_SECS: i64 = 300;

/// The key a credential is bound to: the holder's DID (`did:key` or `did:jwk`) and its JWK.
#[derive(Debug, Clone)]
pub struct HolderKey {
    pub did: String,
    pub jwk: JWK,
}

fn invalid(description: impl Into<String>) -> OAuthError {
    OAuthError::new(OAuthErrorKind::InvalidProof, description)
}

/// Checks the proof JWTs of one credential request, made for the issuer `issuer`: each by
/// another key, all with one fresh `c_nonce`, which is consumed; the holder keys, in order.
pub async fn check(
    db: &DatabaseConnection,
    nonces: &Nonces,
    jwts: &[&str],
    issuer: &str,
    now: DateTime<Utc>,
) -> Result<Vec<HolderKey>, OAuthError> {
    let mut holders: Vec<HolderKey> = Vec::with_capacity(jwts.len());
    let mut nonce: Option<String> = None;
    for jwt in jwts {
        let (holder, this_nonce) = parse(jwt, issuer, now).await?;
        if holders.iter().any(|h| h.did == holder.did) {
            return Err(invalid(
                "two proofs are made with one key: each credential of a batch is bound to \
                 another key",
            ));
        }
        match (&nonce, this_nonce) {
            (_, None) => return Err(stale_nonce()),
            (None, Some(n)) => nonce = Some(n),
            (Some(first), Some(n)) if *first == n => {}
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "the proofs carry different nonces: every proof of a request carries the \
                     same c_nonce",
                ))
            }
        }
        holders.push(holder);
    }
    match nonce {
        Some(nonce) if nonces.consume(db, &nonce, now).await? => Ok(holders),
        _ => Err(stale_nonce()),
    }
}

fn stale_nonce() -> OAuthError {
    OAuthError::new(
        OAuthErrorKind::InvalidNonce,
        "the proof's `nonce` is not a fresh c_nonce of this issuer (each is used once)",
    )
}

/// Everything of a proof JWT that needs no store: its form, key, signature, audience and
/// time; the holder key and the nonce still to be consumed.
pub async fn parse(
    jwt: &str,
    issuer: &str,
    now: DateTime<Utc>,
) -> Result<(HolderKey, Option<String>), OAuthError> {
    let decoded = jose::decode(jwt).map_err(|e| invalid(format!("the proof: {e}")))?;
    if decoded.header_str("typ") != Some(PROOF_TYP) {
        return Err(invalid(format!("the proof's `typ` must be `{PROOF_TYP}`")));
    }
    let holder = holder_key(&decoded.header).await?;
    decoded
        .verify(&holder.jwk)
        .map_err(|e| invalid(format!("the proof is not signed by its key: {e}")))?;
    let payload = &decoded.payload;
    let audience_ok = match payload.get("aud") {
        Some(Value::String(aud)) => aud == issuer,
        Some(Value::Array(items)) => items.iter().any(|a| a.as_str() == Some(issuer)),
        _ => false,
    };
    if !audience_ok {
        return Err(invalid(format!("the proof's `aud` must be `{issuer}`")));
    }
    let iat = payload.get("iat").and_then(Value::as_i64);
    let now_secs = now.timestamp();
    if !iat.is_some_and(|iat| (now_secs - MAX_SKEW_SECS..=now_secs + MAX_SKEW_SECS).contains(&iat))
    {
        return Err(invalid(format!(
            "the proof's `iat` must be within {MAX_SKEW_SECS} seconds of now"
        )));
    }
    let nonce = payload
        .get("nonce")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok((holder, nonce))
}

/// The holder key a proof names: a `jwk` header, or a `kid` that is a `did:key` or
/// `did:jwk` URL. The DID of a bare JWK is its `did:jwk`.
async fn holder_key(header: &serde_json::Map<String, Value>) -> Result<HolderKey, OAuthError> {
    match (header.get("jwk"), header.get("kid").and_then(Value::as_str)) {
        (Some(_), Some(_)) => Err(invalid("the proof names its key twice (`jwk` and `kid`)")),
        (Some(jwk), None) => {
            let jwk: JWK = serde_json::from_value(jwk.clone())
                .map_err(|_| invalid("the proof's `jwk` is not a JWK"))?;
            if jwk.params.is_public() {
                let did = did::did_jwk_for(&jwk)
                    .map_err(|_| invalid("the proof's `jwk` is not a supported key"))?;
                Ok(HolderKey { did, jwk })
            } else {
                Err(invalid("the proof's `jwk` must be a public key"))
            }
        }
        (None, Some(kid)) => {
            let holder = kid.split('#').next().unwrap_or(kid);
            let jwk = did::holder_key(holder).await.ok_or_else(|| {
                invalid("the proof's `kid` must be a did:key or did:jwk URL of the holder key")
            })?;
            Ok(HolderKey {
                did: holder.to_owned(),
                jwk,
            })
        }
        (None, None) => Err(invalid("the proof names no key (`jwk` or `kid`)")),
    }
}
