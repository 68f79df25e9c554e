//! The JWT proof of possession of OpenID4VCI (Appendix F.1): the wallet signs the issuer's
//! identifier and a fresh `c_nonce` with the key the credential is to be bound to; with,
//! when it has one or the institution asks, a key attestation (Annex D) by a wallet
//! provider the institution trusts, vouching for how the key is kept.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde_json::Value;
use ssi::jwk::JWK;

use super::nonces::Nonces;
use super::{OAuthError, OAuthErrorKind};
use certus_credential::did;
use certus_credential::jose;
use certus_schemas::x509::{certificates_in, Chain};

pub use certus_schemas::openid::PROOF_TYP;
/// Tolerated clock skew and oldest accepted `iat`, in seconds.
pub const MAX_SKEW_SECS: i64 = 300;

/// The key a credential is bound to: the holder's DID (`did:key` or `did:jwk`) and its JWK.
#[derive(Debug, Clone)]
pub struct HolderKey {
    pub did: String,
    pub jwk: JWK,
}

/// What an institution asks of key attestations.
#[derive(Debug, Default)]
pub struct AttestationPolicy {
    /// A proof without one is refused.
    pub required: bool,
    /// PEM: the wallet providers' roots, an attestation's chain must lead to one; read
    /// only when a proof carries an attestation.
    pub providers: Option<String>,
}

/// The `typ` of a key attestation: OpenID4VCI 1.0's, and the earlier drafts'.
const KEY_ATTESTATION_TYPS: [&str; 2] = ["key-attestation+jwt", "keyattestation+jwt"];

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
    attestation: &AttestationPolicy,
    now: DateTime<Utc>,
) -> Result<Vec<HolderKey>, OAuthError> {
    let mut holders: Vec<HolderKey> = Vec::with_capacity(jwts.len());
    let mut nonce: Option<String> = None;
    for jwt in jwts {
        let (holder, this_nonce) = parse(jwt, issuer, attestation, now).await?;
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
    attestation: &AttestationPolicy,
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
    match decoded.header.get("key_attestation") {
        Some(attested) => {
            check_attestation(attested, &holder.jwk, nonce.as_deref(), attestation, now)?
        }
        None if attestation.required => {
            return Err(invalid(
                "this institution requires a key attestation: the proof's `key_attestation` \
                 header (OpenID4VCI 1.0 Annex D)",
            ))
        }
        None => {}
    }
    Ok((holder, nonce))
}

/// Checks a proof's key attestation: a `key-attestation+jwt` signed (ES256) by the first
/// certificate of its `x5c`, whose chain leads to a wallet provider the institution
/// trusts; not expired; attesting `key`; and, when it carries a nonce, the proof's.
fn check_attestation(
    attested: &Value,
    key: &JWK,
    nonce: Option<&str>,
    policy: &AttestationPolicy,
    now: DateTime<Utc>,
) -> Result<(), OAuthError> {
    let jwt = attested
        .as_str()
        .ok_or_else(|| invalid("`key_attestation` must be a compact JWT"))?;
    let decoded = jose::decode(jwt).map_err(|e| invalid(format!("the key attestation: {e}")))?;
    if !decoded
        .header_str("typ")
        .is_some_and(|t| KEY_ATTESTATION_TYPS.contains(&t))
    {
        return Err(invalid(
            "the key attestation's `typ` must be `key-attestation+jwt`",
        ));
    }
    let providers = policy
        .providers
        .as_deref()
        .map(|pem| certificates_in(pem).unwrap_or_default())
        .unwrap_or_default();
    if providers.is_empty() {
        return Err(invalid(
            "this institution trusts no wallet provider to attest keys",
        ));
    }
    let chain = Chain::from_x5c(&decoded.header["x5c"]).map_err(|e| {
        invalid(format!(
            "the key attestation names its provider by `x5c`: {e}"
        ))
    })?;
    chain.verify(&providers, now.timestamp()).map_err(|e| {
        invalid(format!(
            "the key attestation's provider is not trusted: {e}"
        ))
    })?;
    chain
        .leaf()
        .verify_jws(jwt)
        .map_err(|e| invalid(format!("the key attestation: {e}")))?;
    let payload = &decoded.payload;
    let now_secs = now.timestamp();
    if payload["exp"].as_i64().is_none_or(|exp| exp <= now_secs) {
        return Err(invalid("the key attestation has expired (or has no `exp`)"));
    }
    if payload["iat"]
        .as_i64()
        .is_none_or(|iat| iat > now_secs + MAX_SKEW_SECS)
    {
        return Err(invalid(
            "the key attestation's `iat` is missing or in the future",
        ));
    }
    let thumbprint = key
        .thumbprint()
        .map_err(|_| invalid("the proof's key has no thumbprint"))?;
    let attests = payload["attested_keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| serde_json::from_value::<JWK>(k.clone()).ok())
        .any(|k| k.thumbprint().is_ok_and(|t| t == thumbprint));
    if !attests {
        return Err(invalid(
            "the key attestation's `attested_keys` do not hold the proof's key",
        ));
    }
    if let Some(attested_nonce) = payload.get("nonce") {
        if attested_nonce.as_str() != nonce {
            return Err(invalid(
                "the key attestation's `nonce` is not the proof's c_nonce",
            ));
        }
    }
    Ok(())
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
