//! Wallet attestations (OpenID4VCI 1.0 Annex E, by OAuth 2.0 Attestation-Based Client
//! Authentication): a wallet authenticates at the pushed authorization and token endpoints
//! with two headers. `OAuth-Client-Attestation` is its wallet provider's word, signed with
//! the provider's certificate (`x5c`), that this instance — named by its `client_id` in
//! `sub` — is a genuine one holding the key in `cnf`. `OAuth-Client-Attestation-PoP` proves
//! the wallet holds that key now: signed by it, for this issuer (`aud`), unique (`jti`),
//! fresh (`iat`, and an `attestation_challenge` of this issuer's when it carries one).

use chrono::{DateTime, Utc};
use serde_json::Value;
use ssi::jwk::JWK;

use super::nonces::first_use_of_jti;
use super::proof::MAX_SKEW_SECS;
use super::providers::{self, Expiry};
use super::{OAuthError, OAuthErrorKind, OpenId};
use certus_credential::jose;

/// The header of the wallet attestation.
pub const ATTESTATION_HEADER: &str = "OAuth-Client-Attestation";
/// The header of its proof of possession.
pub const POP_HEADER: &str = "OAuth-Client-Attestation-PoP";
/// The header a fresh challenge is sent back in when the one given was not.
pub const CHALLENGE_HEADER: &str = "OAuth-Client-Attestation-Challenge";
/// The client authentication method (RFC 8414 `token_endpoint_auth_methods_supported`).
pub const AUTH_METHOD: &str = "attest_jwt_client_auth";
const ATTESTATION_TYP: &str = "oauth-client-attestation+jwt";
const POP_TYP: &str = "oauth-client-attestation-pop+jwt";

/// The wallet attestation headers of a request, as sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Presented<'a> {
    pub attestation: Option<&'a str>,
    pub pop: Option<&'a str>,
}

fn invalid(description: impl Into<String>) -> OAuthError {
    OAuthError::new(OAuthErrorKind::InvalidClient, description)
}

/// A wallet attestation and its proof, checked as far as they go without a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attested {
    /// The wallet instance's `client_id` (the attestation's `sub`).
    pub client_id: String,
    /// The thumbprint of the wallet instance's key (`cnf.jwk`).
    pub jkt: String,
    /// The proof's `jti` and `iat`, remembered against replay.
    pub jti: String,
    pub iat: i64,
    /// The `challenge` (or earlier drafts' `nonce`) the proof carries.
    pub challenge: Option<String>,
}

/// Checks a request's wallet attestation for an offer of `tenant_id`, and that it is the
/// client the request names (`client_id`, when it names one); required when the
/// institution requires it. The attested `client_id`, when there was an attestation.
pub async fn check(
    openid: &OpenId,
    tenant_id: &str,
    presented: Presented<'_>,
    client_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<String>, OAuthError> {
    let settings = openid.issuer.settings().of(tenant_id).await?;
    let (attestation, pop) = match (presented.attestation, presented.pop) {
        (None, None) if settings.require_wallet_attestation => {
            return Err(invalid(format!(
                "this institution requires a wallet attestation: send the {ATTESTATION_HEADER} \
                 and {POP_HEADER} headers (OpenID4VCI 1.0 Annex E)"
            )))
        }
        (None, None) => return Ok(None),
        (Some(attestation), Some(pop)) => (attestation, pop),
        _ => {
            return Err(invalid(format!(
                "a wallet attestation comes with its proof: send both {ATTESTATION_HEADER} and \
                 {POP_HEADER}"
            )))
        }
    };
    let attested = parse(
        attestation,
        pop,
        &openid.public_url,
        settings.wallet_providers.as_deref(),
        now,
    )?;
    if client_id.is_some_and(|named| named != attested.client_id) {
        return Err(invalid(
            "client_id is not the client the wallet attestation names (`sub`)",
        ));
    }
    if let Some(challenge) = &attested.challenge {
        if !openid.nonces.consume(&openid.db, challenge, now).await? {
            let mut refused = OAuthError::new(
                OAuthErrorKind::UseAttestationChallenge,
                "the proof's challenge is not a fresh attestation_challenge of this issuer: \
                 use the one in the OAuth-Client-Attestation-Challenge header",
            );
            refused.challenge = Some(openid.nonces.issue(now));
            return Err(refused);
        }
    }
    let (jkt, jti) = (&attested.jkt, &attested.jti);
    let kind = "wallet-attestation";
    if !first_use_of_jti(&openid.db, kind, jkt, jti, attested.iat, MAX_SKEW_SECS, now).await? {
        return Err(invalid(
            "this wallet attestation proof was used before: make a fresh one for each request",
        ));
    }
    Ok(Some(attested.client_id))
}

/// Checks a wallet attestation (`attestation`) by a provider of `providers` (PEM) and its
/// proof of possession (`pop`) for the issuer `issuer`, at `now`.
pub fn parse(
    attestation: &str,
    pop: &str,
    issuer: &str,
    providers: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Attested, OAuthError> {
    let vouched = providers::vouched(
        attestation,
        &[ATTESTATION_TYP],
        "the wallet attestation",
        providers,
        Expiry::Required,
        now,
    )
    .map_err(invalid)?;
    let client_id = vouched.payload["sub"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("the wallet attestation names no client (`sub`)"))?
        .to_owned();
    let key: JWK = serde_json::from_value(vouched.payload["cnf"]["jwk"].clone())
        .ok()
        .filter(|k: &JWK| k.params.is_public())
        .ok_or_else(|| invalid("the wallet attestation's `cnf.jwk` must be a public key"))?;
    let proof = jose::decode(pop).map_err(|e| invalid(format!("the attestation proof: {e}")))?;
    if proof.header_str("typ") != Some(POP_TYP) {
        return Err(invalid(format!(
            "the attestation proof's `typ` must be `{POP_TYP}`"
        )));
    }
    proof.verify(&key).map_err(|e| {
        invalid(format!(
            "the attestation proof is not signed by the attested key: {e}"
        ))
    })?;
    let payload = &proof.payload;
    if !jose::audience_matches(payload.get("aud"), issuer) {
        return Err(invalid(format!(
            "the attestation proof's `aud` must be `{issuer}`"
        )));
    }
    // Drafts before 08 name the client as `iss`; later ones leave it out.
    if payload
        .get("iss")
        .is_some_and(|iss| iss.as_str() != Some(&client_id))
    {
        return Err(invalid(
            "the attestation proof's `iss` is not the attested client (`sub`)",
        ));
    }
    let now_secs = now.timestamp();
    let Some(iat) = payload["iat"]
        .as_i64()
        .filter(|iat| (now_secs - MAX_SKEW_SECS..=now_secs + MAX_SKEW_SECS).contains(iat))
    else {
        return Err(invalid(format!(
            "the attestation proof's `iat` must be within {MAX_SKEW_SECS} seconds of now"
        )));
    };
    if payload
        .get("exp")
        .is_some_and(|exp| exp.as_i64().is_none_or(|exp| exp <= now_secs))
    {
        return Err(invalid("the attestation proof has expired"));
    }
    let jti = payload["jti"]
        .as_str()
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or_else(|| invalid("the attestation proof needs a unique `jti`"))?
        .to_owned();
    let challenge = payload
        .get("challenge")
        .or(payload.get("nonce"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let jkt = key
        .thumbprint()
        .map_err(|_| invalid("the attested key is not a supported key"))?;
    Ok(Attested {
        client_id,
        jkt,
        jti,
        iat,
        challenge,
    })
}
