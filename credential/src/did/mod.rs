//! DIDs: the resolver Certus trusts, and the lookup of an issuer's assertion key.
//! [`certus`] is the chain's own method, `did:certus`.
//!
//! Resolution is local for `did:key` and `did:jwk`. `did:web` needs the network and is only
//! resolved when the operator allows it (`CERTUS_ALLOW_DID_WEB`); any other method is
//! reported as unsupported, which verification shows as "could not check". `did:certus`
//! states come from a [`CertusDids`] source: the server's registry replays them from its
//! chain.

pub mod certus;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use ssi::dids::resolution::{self, Output};
use ssi::dids::{
    DIDKey, DIDMethodResolver, DIDResolver, DIDURLBuf, DIDWeb, Document, DID, DIDJWK, DIDURL,
};
use ssi::jwk::JWK;
use ssi::verification_methods::{AnyMethod, GenericVerificationMethod};

/// Where `did:certus` states come from: the operations on a chain, replayed in order.
pub trait CertusDids: Send + Sync {
    /// The DID's state with every operation the source holds (anchored or pending);
    /// `Ok(None)` when the DID is unknown, `Err` with a reason when it cannot be read.
    fn current_state<'a>(
        &'a self,
        did: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Option<certus::DidState>, String>> + Send + 'a>>;
}

/// The DID resolver used for verification.
#[derive(Clone, Default)]
pub struct Resolver {
    /// Resolve `did:web` over HTTPS.
    pub allow_web: bool,
    /// This node's `did:certus` DIDs (from its chain).
    pub certus: Option<Arc<dyn CertusDids>>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver")
            .field("allow_web", &self.allow_web)
            .field("certus", &self.certus.is_some())
            .finish()
    }
}

/// Whether a `did:web` id names its host by a DNS name, so that it is fetched over https:
/// not `localhost` and not an IP address (which ssi's did:web would fetch over plain
/// http — a verifier open to anyone must not be made to call into its own network).
fn web_host_is_public_name(id: &str) -> bool {
    let authority = id.split(':').next().unwrap_or_default();
    let host = authority
        .rsplit_once("%3A")
        .map_or(authority, |(host, _port)| host)
        .to_ascii_lowercase();
    let bracketed = host.starts_with('[');
    !host.is_empty()
        && !bracketed
        && host.parse::<std::net::IpAddr>().is_err()
        && host != "localhost"
        && !host.ends_with(".localhost")
        && host.contains('.')
}

impl DIDResolver for Resolver {
    async fn resolve_representation<'a>(
        &'a self,
        did: &'a DID,
        options: resolution::Options,
    ) -> Result<Output<Vec<u8>>, resolution::Error> {
        let id = did.method_specific_id();
        match did.method_name() {
            "key" => DIDKey.resolve_method_representation(id, options).await,
            "jwk" => DIDJWK.resolve_method_representation(id, options).await,
            "web" if self.allow_web => {
                if !web_host_is_public_name(id) {
                    return Err(resolution::Error::InvalidMethodSpecificId(id.to_owned()));
                }
                DIDWeb.resolve_method_representation(id, options).await
            }
            // Every key the DID ever held, so a proof made before a rotation finds its
            // key; whether the key was valid then is the issuer check's question.
            "certus" => match &self.certus {
                Some(registry) => {
                    let state = registry
                        .current_state(did.as_str())
                        .await
                        .map_err(resolution::Error::Internal)?
                        .ok_or(resolution::Error::NotFound)?;
                    let document = serde_json::to_vec(&state.document(true))
                        .map_err(|e| resolution::Error::Internal(e.to_string()))?;
                    Ok(Output::from_content(
                        document,
                        Some("application/did+ld+json".to_owned()),
                    ))
                }
                None => Err(resolution::Error::MethodNotSupported("certus".into())),
            },
            other => Err(resolution::Error::MethodNotSupported(other.to_owned())),
        }
    }
}

/// The `did:key` DID and verification-method id of a key.
pub fn did_key_for(jwk: &JWK) -> anyhow::Result<(String, String)> {
    let url = DIDKey::generate_url(jwk)?;
    Ok((url.did().to_string(), url.to_string()))
}

/// The `did:jwk` DID of a public key.
pub fn did_jwk_for(jwk: &JWK) -> anyhow::Result<String> {
    anyhow::ensure!(jwk.params.is_public(), "a did:jwk holds a public key");
    Ok(DIDJWK::generate(jwk).to_string())
}

/// The verification relationship a key must be listed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relationship {
    /// Issuers sign credentials with `assertionMethod` keys.
    AssertionMethod,
    /// Holders sign presentations with `authentication` keys.
    Authentication,
}

/// A public key authorised by its DID for a verification relationship.
#[derive(Debug, Clone)]
pub struct AuthorisedKey {
    /// The verification method id (absolute DID URL).
    pub verification_method: String,
    pub jwk: JWK,
}

/// Why an assertion key could not be found.
#[derive(Debug, thiserror::Error)]
pub enum KeyLookupError {
    /// The key id is not a DID URL.
    #[error("the key id `{0}` is not a DID URL")]
    MalformedKeyId(String),
    /// The key belongs to another DID than the credential's issuer (or presentation's holder).
    #[error("the key `{key}` does not belong to `{issuer}`")]
    IssuerMismatch { key: String, issuer: String },
    /// The DID could not be resolved (unsupported method, network, not found): nothing can
    /// be said about the credential.
    #[error("the DID `{did}` could not be resolved: {reason}")]
    Unresolvable { did: String, reason: String },
    /// The DID document has no such key, or does not authorise it for the relationship.
    #[error("the key `{0}` is not authorised for this purpose by its DID")]
    NotAuthorised(String),
    /// The verification method carries no usable public key.
    #[error("the key `{0}` has no usable public key")]
    NoPublicKey(String),
    /// The `did:certus` DID did not hold the key, uncompromised, at the credential's point
    /// of the chain.
    #[error(transparent)]
    NotValidThen(#[from] certus::DidError),
}

impl KeyLookupError {
    /// Stable code for verification results.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedKeyId(_) => "MALFORMED_KEY_ID",
            Self::IssuerMismatch { .. } => "ISSUER_MISMATCH",
            Self::Unresolvable { .. } => "DID_UNRESOLVABLE",
            Self::NotAuthorised(_) => "KEY_NOT_AUTHORISED",
            Self::NoPublicKey(_) => "NO_PUBLIC_KEY",
            Self::NotValidThen(e) => e.code(),
        }
    }

    /// True when the failure means "could not check" rather than "invalid".
    pub fn is_indeterminate(&self) -> bool {
        matches!(self, Self::Unresolvable { .. })
    }
}

/// Finds the public key `key_id` of `issuer` and checks that the issuer's DID document lists
/// it under `relationship`. A missing `key_id` is allowed when the DID document has one
/// assertion method only (as `did:key` and `did:jwk` do). A `key_id` that starts with `#`
/// is relative to the issuer. A `did:certus` key must have been held, uncompromised, at
/// `at` — the point of the chain where the credential is anchored (`None`: now).
pub async fn authorised_key(
    resolver: &Resolver,
    issuer: &str,
    key_id: Option<&str>,
    relationship: Relationship,
    at: Option<certus::At>,
) -> Result<AuthorisedKey, KeyLookupError> {
    if let (true, Some(registry)) = (certus::is_certus(issuer), &resolver.certus) {
        return certus_key(registry.as_ref(), issuer, key_id, at).await;
    }
    let issuer_did = DID::new(issuer)
        .map_err(|_| KeyLookupError::MalformedKeyId(issuer.to_owned()))?
        .to_owned();
    let key_url: Option<DIDURLBuf> = match key_id {
        Some(kid) => {
            let absolute = if kid.starts_with('#') {
                format!("{issuer}{kid}")
            } else {
                kid.to_owned()
            };
            let url = DIDURL::new(absolute.as_bytes())
                .map_err(|_| KeyLookupError::MalformedKeyId(kid.to_owned()))?
                .to_owned();
            if url.did().as_str() != issuer {
                return Err(KeyLookupError::IssuerMismatch {
                    key: kid.to_owned(),
                    issuer: issuer.to_owned(),
                });
            }
            Some(url)
        }
        None => None,
    };
    let document = resolver
        .resolve(&issuer_did)
        .await
        .map_err(|e| KeyLookupError::Unresolvable {
            did: issuer.to_owned(),
            reason: e.to_string(),
        })?
        .document
        .into_document();
    key_in(document, &issuer_did, key_url.as_deref(), relationship)
}

/// Finds the key `key_url` of a resolved DID document — the only one when `None` — among
/// those it lists under `relationship`, and its public key.
pub fn key_in(
    document: Document,
    issuer_did: &DID,
    key_url: Option<&DIDURL>,
    relationship: Relationship,
) -> Result<AuthorisedKey, KeyLookupError> {
    let relationships = &document.verification_relationships;
    let listed = match relationship {
        Relationship::AssertionMethod => &relationships.assertion_method,
        Relationship::Authentication => &relationships.authentication,
    };
    let authorised: Vec<String> = listed
        .iter()
        .map(|r| r.id().resolve(issuer_did).to_string())
        .collect();
    let wanted = match key_url {
        Some(url) => url.to_string(),
        None if authorised.len() == 1 => authorised[0].clone(),
        None => return Err(KeyLookupError::MalformedKeyId("(none)".to_owned())),
    };
    if !authorised.contains(&wanted) {
        return Err(KeyLookupError::NotAuthorised(wanted));
    }
    let method = document
        .verification_method
        .into_iter()
        .find(|m| m.id.as_str() == wanted)
        .ok_or_else(|| KeyLookupError::NotAuthorised(wanted.clone()))?;
    let jwk = AnyMethod::try_from(GenericVerificationMethod::from(method))
        .ok()
        .and_then(|m| m.public_key_jwk().map(|k| k.into_owned()))
        .ok_or_else(|| KeyLookupError::NoPublicKey(wanted.clone()))?;
    Ok(AuthorisedKey {
        verification_method: wanted,
        jwk,
    })
}

async fn certus_key(
    registry: &dyn CertusDids,
    did: &str,
    key_id: Option<&str>,
    at: Option<certus::At>,
) -> Result<AuthorisedKey, KeyLookupError> {
    let unresolvable = |reason: String| KeyLookupError::Unresolvable {
        did: did.to_owned(),
        reason,
    };
    let state = registry
        .current_state(did)
        .await
        .map_err(unresolvable)?
        .ok_or_else(|| unresolvable("it is not on this node's chain".into()))?;
    let fragment = match key_id {
        Some(kid) => {
            let relative = kid.strip_prefix(did).unwrap_or(kid);
            relative
                .strip_prefix('#')
                .ok_or_else(|| KeyLookupError::IssuerMismatch {
                    key: kid.to_owned(),
                    issuer: did.to_owned(),
                })?
                .to_owned()
        }
        None => return Err(KeyLookupError::MalformedKeyId("(none)".to_owned())),
    };
    let at = at.unwrap_or(certus::At::Pending {
        at_ms: chrono::Utc::now().timestamp_millis(),
    });
    let jwk = state.key_at(&fragment, at)?.clone();
    Ok(AuthorisedKey {
        verification_method: format!("{did}#{fragment}"),
        jwk,
    })
}

/// The public key of a holder's `did:key` or `did:jwk` (their single key), for binding a
/// credential to it; `None` for other DIDs.
pub async fn holder_key(did: &str) -> Option<JWK> {
    let did = DID::new(did).ok()?;
    if !matches!(did.method_name(), "key" | "jwk") {
        return None;
    }
    let method = Resolver::default()
        .resolve_into_any_verification_method(did)
        .await
        .ok()??;
    AnyMethod::try_from(GenericVerificationMethod::from(method))
        .ok()?
        .public_key_jwk()
        .map(|k| k.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_did_key_resolves_locally_to_its_own_assertion_key() {
        let jwk = JWK::generate_ed25519().expect("key");
        let (did, vm) = did_key_for(&jwk).expect("did");
        let found = authorised_key(
            &Resolver::default(),
            &did,
            Some(&vm),
            Relationship::AssertionMethod,
            None,
        )
        .await
        .expect("found");
        assert_eq!(found.verification_method, vm);
        assert_eq!(found.jwk, jwk.to_public());
        let implicit = authorised_key(
            &Resolver::default(),
            &did,
            None,
            Relationship::Authentication,
            None,
        )
        .await
        .expect("found without kid");
        assert_eq!(implicit.verification_method, vm);
    }

    #[tokio::test]
    async fn a_key_of_another_did_is_an_issuer_mismatch() {
        let (did, _) = did_key_for(&JWK::generate_ed25519().expect("key")).expect("did");
        let (_, other_vm) = did_key_for(&JWK::generate_ed25519().expect("key")).expect("did");
        let err = authorised_key(
            &Resolver::default(),
            &did,
            Some(&other_vm),
            Relationship::AssertionMethod,
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "ISSUER_MISMATCH");
    }

    #[tokio::test]
    async fn did_web_never_reaches_loopback_or_ip_addresses() {
        let resolver = Resolver {
            allow_web: true,
            ..Resolver::default()
        };
        for did in [
            "did:web:127.0.0.1%3A8080",
            "did:web:localhost%3A8080:u:alice",
            "did:web:192.168.0.1",
            "did:web:10.0.0.1%3A443",
            "did:web:intranet",
            "did:web:api.localhost",
        ] {
            let err = authorised_key(&resolver, did, None, Relationship::AssertionMethod, None)
                .await
                .unwrap_err();
            assert_eq!(err.code(), "DID_UNRESOLVABLE", "{did}");
        }
        assert!(web_host_is_public_name("example.com"));
        assert!(web_host_is_public_name("example.com%3A8443:u:bob"));
    }

    #[tokio::test]
    async fn did_web_is_not_resolved_unless_allowed() {
        let err = authorised_key(
            &Resolver::default(),
            "did:web:example.com",
            None,
            Relationship::AssertionMethod,
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "DID_UNRESOLVABLE");
        assert!(err.is_indeterminate());
    }
}
