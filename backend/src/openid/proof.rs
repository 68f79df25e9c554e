//! The proofs of possession of OpenID4VCI. The `jwt` proof (Appendix F.1): the wallet signs
//! the issuer's identifier and a fresh `c_nonce` with the key the credential is to be bound
//! to; with, when it has one or the institution asks, a key attestation (Annex D) by a
//! wallet provider the institution trusts, vouching for how the key is kept. The
//! `attestation` proof (Appendix F.3): such a key attestation alone, carrying the fresh
//! `c_nonce` itself, for every key it attests.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde_json::Value;
use ssi::jwk::JWK;

use super::metadata::BATCH_SIZE;
use super::nonces::Nonces;
use super::providers::{self, Expiry};
use super::{OAuthError, OAuthErrorKind};
use certus_credential::did;
use certus_credential::jose::{self, DecodedJws};

pub use certus_schemas::openid::PROOF_TYP;
/// Tolerated clock skew and oldest accepted `iat`, in seconds.
pub const MAX_SKEW_SECS: i64 = 300;

/// The key a credential is bound to: the holder's DID (`did:key` or `did:jwk`) and its JWK.
#[derive(Debug, Clone)]
pub struct HolderKey {
    pub did: String,
    pub jwk: JWK,
}

/// The proofs of possession of a credential request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proofs<'a> {
    /// `jwt` proofs, one per key.
    Jwt(Vec<&'a str>),
    /// One `attestation` proof for every key it attests.
    Attestation(&'a str),
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

/// Checks the proofs of one credential request, made for the issuer `issuer`, and consumes
/// their fresh `c_nonce`; the holder keys, in order.
pub async fn check(
    db: &DatabaseConnection,
    nonces: &Nonces,
    proofs: &Proofs<'_>,
    issuer: &str,
    attestation: &AttestationPolicy,
    now: DateTime<Utc>,
) -> Result<Vec<HolderKey>, OAuthError> {
    match proofs {
        Proofs::Jwt(jwts) => check_jwts(db, nonces, jwts, issuer, attestation, now).await,
        Proofs::Attestation(jwt) => check_attested(db, nonces, jwt, attestation, now).await,
    }
}

/// Checks `jwt` proofs: each by another key, all with one fresh `c_nonce`.
async fn check_jwts(
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
    if !jose::audience_matches(payload.get("aud"), issuer) {
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

/// Checks a proof's key attestation: a `key-attestation+jwt` by a wallet provider the
/// institution trusts ([`providers::vouched`]), with an `exp` and an `iat`, attesting
/// `key`; and, when it carries a nonce, the proof's.
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
    let payload = vouched_keys(jwt, policy, Expiry::Required, now)?.payload;
    let thumbprint = key
        .thumbprint()
        .map_err(|_| invalid("the proof's key has no thumbprint"))?;
    if !attested_keys(&payload)?
        .iter()
        .any(|k| k.thumbprint().is_ok_and(|t| t == thumbprint))
    {
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

/// A key attestation by a trusted wallet provider, with an `iat`.
fn vouched_keys<'a>(
    jwt: &'a str,
    policy: &AttestationPolicy,
    expiry: Expiry,
    now: DateTime<Utc>,
) -> Result<DecodedJws<'a>, OAuthError> {
    let decoded = providers::vouched(
        jwt,
        &KEY_ATTESTATION_TYPS,
        "the key attestation",
        policy.providers.as_deref(),
        expiry,
        now,
    )
    .map_err(invalid)?;
    if decoded.payload.get("iat").is_none() {
        return Err(invalid("the key attestation has no `iat`"));
    }
    Ok(decoded)
}

/// The public keys a key attestation's `attested_keys` lists; a private key is refused.
fn attested_keys(payload: &Value) -> Result<Vec<JWK>, OAuthError> {
    let keys: Vec<JWK> = payload["attested_keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| serde_json::from_value::<JWK>(k.clone()).ok())
        .collect();
    if keys.iter().any(|k| !k.params.is_public()) {
        return Err(invalid(
            "the key attestation's `attested_keys` must be public keys",
        ));
    }
    Ok(keys)
}

/// Checks an `attestation` proof (OpenID4VCI 1.0 Appendix F.3): a key attestation by a
/// trusted wallet provider whose `nonce` is a fresh `c_nonce` of this issuer, which is
/// consumed; the keys it attests, each to get a copy of the credential, in order.
async fn check_attested(
    db: &DatabaseConnection,
    nonces: &Nonces,
    jwt: &str,
    policy: &AttestationPolicy,
    now: DateTime<Utc>,
) -> Result<Vec<HolderKey>, OAuthError> {
    let (holders, nonce) = parse_attested(jwt, policy, now)?;
    if nonces.consume(db, &nonce, now).await? {
        Ok(holders)
    } else {
        Err(stale_nonce())
    }
}

/// Everything of an `attestation` proof that needs no store: the keys it attests and the
/// nonce still to be consumed.
pub fn parse_attested(
    jwt: &str,
    policy: &AttestationPolicy,
    now: DateTime<Utc>,
) -> Result<(Vec<HolderKey>, String), OAuthError> {
    let payload = vouched_keys(jwt, policy, Expiry::Optional, now)?.payload;
    let nonce = payload["nonce"]
        .as_str()
        .ok_or_else(stale_nonce)?
        .to_owned();
    let keys = attested_keys(&payload)?;
    if keys.is_empty() || keys.len() > BATCH_SIZE {
        return Err(invalid(format!(
            "the key attestation must attest 1 to {BATCH_SIZE} keys (batch_size): one \
             credential is issued per key"
        )));
    }
    let mut holders: Vec<HolderKey> = Vec::with_capacity(keys.len());
    for jwk in keys {
        let did = did::did_jwk_for(&jwk)
            .map_err(|_| invalid("an attested key is not a supported key"))?;
        if holders.iter().any(|h| h.did == did) {
            return Err(invalid("the key attestation attests one key twice"));
        }
        holders.push(HolderKey { did, jwk });
    }
    Ok((holders, nonce))
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
