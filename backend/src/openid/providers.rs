//! Wallet providers: the roots an institution trusts (its `walletProviders`) to vouch for
//! wallets — for the keys they keep (key attestations, OpenID4VCI 1.0 Annex D) and for the
//! wallet instances themselves (wallet attestations, Annex E). A provider signs either
//! with the first certificate of the JWT's `x5c` chain (ES256, as HAIP requires).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::proof::MAX_SKEW_SECS;
use certus_credential::jose::{self, DecodedJws};
use certus_schemas::x509::{certificates_in, Chain};

/// Whether a vouching JWT must carry an `exp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Required,
    /// Checked when present.
    Optional,
}

/// `jwt` as a wallet provider the institution trusts signed it, checked: its `typ` one of
/// `typs`; its `x5c` chain valid now and leading to one of `providers` (PEM); its ES256
/// signature by the chain's first certificate; `exp` (when given or `expiry` asks for one)
/// in the future; `iat` (when given) not ahead of now. A refusal says why, naming the JWT
/// as `what`.
pub fn vouched<'a>(
    jwt: &'a str,
    typs: &[&str],
    what: &str,
    providers: Option<&str>,
    expiry: Expiry,
    now: DateTime<Utc>,
) -> Result<DecodedJws<'a>, String> {
    let decoded = jose::decode(jwt).map_err(|e| format!("{what}: {e}"))?;
    if !decoded.header_str("typ").is_some_and(|t| typs.contains(&t)) {
        return Err(format!("{what}'s `typ` must be `{}`", typs[0]));
    }
    let roots = providers
        .map(|pem| certificates_in(pem).unwrap_or_default())
        .unwrap_or_default();
    if roots.is_empty() {
        return Err(format!(
            "this institution trusts no wallet provider to vouch for {what}"
        ));
    }
    let chain = Chain::from_x5c(&decoded.header["x5c"])
        .map_err(|e| format!("{what} names its provider by `x5c`: {e}"))?;
    let now_secs = now.timestamp();
    chain
        .verify(&roots, now_secs)
        .map_err(|e| format!("{what}'s provider is not trusted: {e}"))?;
    chain
        .leaf()
        .verify_jws(jwt)
        .map_err(|e| format!("{what}: {e}"))?;
    let payload = &decoded.payload;
    match (payload.get("exp").map(Value::as_i64), expiry) {
        (None, Expiry::Optional) => {}
        (Some(Some(exp)), _) if exp > now_secs => {}
        _ => return Err(format!("{what} has expired (or has no `exp`)")),
    }
    if payload.get("iat").is_some_and(|iat| {
        iat.as_i64()
            .is_none_or(|iat| iat > now_secs + MAX_SKEW_SECS)
    }) {
        return Err(format!("{what}'s `iat` is in the future"));
    }
    Ok(decoded)
}
