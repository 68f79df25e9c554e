//! Certus's `eddsa-rdfc-2022` and `ecdsa-rdfc-2019` suites.
//!
//! They are ssi's suites (same hashing, Multikey verification methods, multibase
//! signatures, proof type) with one change: the RDF canonicalisation step reuses processed
//! JSON-LD contexts (see [`Loader::active_context`]) for the document and for the proof
//! configuration, where ssi processes the document's contexts twice per proof. The output
//! is the same canonical N-Quads, so proofs are byte-for-byte those ssi (and every other
//! implementation) makes; the vc-di-eddsa known-answer test holds us to it.

use std::borrow::Borrow;

use serde::Serialize;
use ssi::claims::data_integrity::canonicalization::{
    CanonicalClaimsAndConfiguration, HashCanonicalClaimsAndConfiguration,
};
use ssi::claims::data_integrity::signing::{Base58Btc, MultibaseSigning};
use ssi::claims::data_integrity::suite::standard::{
    TransformationAlgorithm, TransformationError, TypedTransformationAlgorithm,
};
use ssi::claims::data_integrity::suite::{NoConfiguration, TransformationOptions};
use ssi::claims::data_integrity::{
    CryptographicSuite, CryptosuiteStr, ProofConfigurationRef, SerializeCryptographicSuite,
    StandardCryptographicSuite, Type, TypeRef, UnsupportedProofSuite,
};
use ssi::crypto::algorithm::{ES256OrES384, EdDSA};
use ssi::json_ld::expansion::{Action, Options as ExpansionOptions, Policy};
use ssi::json_ld::syntax::{self as ld_syntax, Value as LdValue};
use ssi::json_ld::{Expand, JsonLdLoaderProvider};
use ssi::rdf::{AnyLdEnvironment, LdEnvironment};
use ssi::verification_methods::Multikey;

use crate::contexts::{ActiveContext, Loader};

/// Declares a Data Integrity suite that canonicalises with cached contexts.
macro_rules! rdfc_suite {
    ($(#[$doc:meta])* $name:ident, $cryptosuite:literal, $algorithm:ty) => {
        $(#[$doc])*
        #[derive(Debug, Default, Clone, Copy)]
        pub struct $name;

        impl $name {
            /// The `cryptosuite` name of its proofs.
            pub const CRYPTOSUITE: &'static str = $cryptosuite;
        }

        impl StandardCryptographicSuite for $name {
            type Configuration = NoConfiguration;
            type Transformation = CanonicalizeWithCachedContexts;
            type Hashing = HashCanonicalClaimsAndConfiguration<sha2::Sha256>;
            type VerificationMethod = Multikey;
            type SignatureAlgorithm = MultibaseSigning<$algorithm, Base58Btc>;
            type ProofOptions = ();

            fn type_(&self) -> TypeRef<'_> {
                TypeRef::DataIntegrityProof(
                    CryptosuiteStr::new(Self::CRYPTOSUITE).expect("a valid cryptosuite name"),
                )
            }
        }

        impl TryFrom<Type> for $name {
            type Error = UnsupportedProofSuite;

            fn try_from(value: Type) -> Result<Self, Self::Error> {
                if value == <$name as StandardCryptographicSuite>::type_(&$name) {
                    Ok($name)
                } else {
                    Err(UnsupportedProofSuite::Compact(value))
                }
            }
        }
    };
}

rdfc_suite!(
    /// `eddsa-rdfc-2022` (W3C vc-di-eddsa): Ed25519 over RDFC-1.0 canonical N-Quads.
    EdDsaRdfc2022,
    "eddsa-rdfc-2022",
    EdDSA
);

rdfc_suite!(
    /// `ecdsa-rdfc-2019` (W3C vc-di-ecdsa) for P-256 keys: SHA-256 hashing as the spec
    /// requires for P-256. (ssi is built without P-384, so a P-384 Multikey does not
    /// decode and its proofs are refused before hashing.)
    EcdsaRdfc2019,
    "ecdsa-rdfc-2019",
    ES256OrES384
);

/// RDFC-1.0 canonicalisation of the claims and the proof configuration, each expanded
/// over the cached active context of the document's `@context`.
pub struct CanonicalizeWithCachedContexts;

impl<S: CryptographicSuite> TransformationAlgorithm<S> for CanonicalizeWithCachedContexts {
    type Output = CanonicalClaimsAndConfiguration;
}

impl<S, T, C> TypedTransformationAlgorithm<S, T, C> for CanonicalizeWithCachedContexts
where
    S: SerializeCryptographicSuite,
    T: Serialize,
    C: JsonLdLoaderProvider,
    C::Loader: Borrow<Loader>,
{
    async fn transform(
        context: &C,
        data: &T,
        proof_configuration: ProofConfigurationRef<'_, S>,
        _verification_method: &S::VerificationMethod,
        _transformation_options: TransformationOptions<S>,
    ) -> Result<Self::Output, TransformationError> {
        let loader: &Loader = context.loader().borrow();
        let mut document = to_object(data)?;
        let document_context = document
            .remove_unique("@context")
            .map_err(|_| expansion_error("duplicate @context"))?
            .map(|entry| entry.value);
        let active = match &document_context {
            Some(local) => Some(
                loader
                    .active_context(local)
                    .await
                    .map_err(expansion_error)?,
            ),
            None => None,
        };
        let active = active.as_deref();
        Ok(CanonicalClaimsAndConfiguration {
            claims: canonical_form(loader, active, document).await?,
            // The proof configuration is interpreted in the document's context (a
            // `@context` of its own, if any, is processed on top of it).
            configuration: canonical_form(loader, active, to_object(&proof_configuration)?).await?,
        })
    }
}

fn to_object(value: &impl Serialize) -> Result<ld_syntax::Object, TransformationError> {
    match ld_syntax::to_value(value) {
        Ok(LdValue::Object(object)) => Ok(object),
        Ok(_) => Err(expansion_error("a JSON-LD document must be an object")),
        Err(e) => Err(expansion_error(e)),
    }
}

fn expansion_error(e: impl ToString) -> TransformationError {
    TransformationError::JsonLdExpansion(e.to_string())
}

/// The canonical N-Quads of `node` (without its top-level `@context`) expanded over
/// `active`, in safe mode: an undefined term or an invalid value is an error.
async fn canonical_form(
    loader: &Loader,
    active: Option<&ActiveContext>,
    node: ld_syntax::Object,
) -> Result<Vec<String>, TransformationError> {
    let mut ld = LdEnvironment::default();
    let expanded = expand_strict(&mut ld, loader, active, node)
        .await
        .map_err(expansion_error)?;
    ld.canonical_form_of(&expanded)
        .map_err(TransformationError::JsonLdDeserialization)
}

/// `node` (without its top-level `@context`) expanded over `active` in safe mode.
async fn expand_strict(
    ld: &mut LdEnvironment,
    loader: &Loader,
    active: Option<&ActiveContext>,
    node: ld_syntax::Object,
) -> Result<ssi::json_ld::ExpandedDocument, String> {
    let options = ExpansionOptions {
        policy: Policy {
            invalid: Action::Reject,
            allow_undefined: false,
            ..Default::default()
        },
        ..Default::default()
    };
    LdValue::Object(node)
        .expand_full(
            &mut ld.vocabulary,
            active.cloned().unwrap_or_default(),
            None,
            loader,
            options,
            (),
        )
        .await
        .map_err(|e| e.to_string())
}

/// Checks that `document` is JSON-LD whose every term its contexts define (safe mode),
/// expanding it as a proof would, without signing.
pub async fn check_terms(loader: &Loader, document: &serde_json::Value) -> Result<(), String> {
    let mut node = to_object(document).map_err(|e| e.to_string())?;
    let local = node
        .remove_unique("@context")
        .map_err(|_| "duplicate @context".to_owned())?
        .map(|entry| entry.value);
    let active = match &local {
        Some(local) => Some(loader.active_context(local).await?),
        None => None,
    };
    let mut ld = LdEnvironment::default();
    expand_strict(&mut ld, loader, active.as_deref(), node)
        .await
        .map(drop)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};
    use ssi::claims::data_integrity::suites;
    use ssi::jwk::JWK;
    use ssi::verification_methods::Multikey;

    use ssi::claims::data_integrity::{DataIntegrityDocument, Proofs};
    use ssi::claims::ValidateProof;

    use super::super::{
        sign_as, verify, verify_as, DataIntegrityError, Params, ProofConfig, SigningSuite,
    };
    use super::*;
    use crate::contexts::Contexts;
    use crate::did::{did_key_for, Resolver};

    fn credential(issuer: &str) -> Value {
        json!({
            "@context": [
                "https://www.w3.org/ns/credentials/v2",
                "https://w3id.org/certus/contexts/kyc/v1",
                // An embedded context object, processed and cached like a URL.
                {"nickname": "https://example.org/vocab#nickname"}
            ],
            "id": "urn:uuid:6a1c9bd0-4f6e-4c41-9d67-3b1d0c6a1f52",
            "type": ["VerifiableCredential", "KycCredential"],
            "issuer": issuer,
            "validFrom": "2026-11-01T00:00:00Z",
            "credentialSubject": {
                "id": "did:example:holder",
                "givenName": "Maria",
                "familyName": "Rossi",
                "nickname": "Mia",
                "birthDate": "1988-04-12",
                "assuranceLevel": "substantial",
                "checkDate": "2026-10-01",
                "checkMethod": "video"
            }
        })
    }

    fn config(vm: &str) -> ProofConfig<'_> {
        ProofConfig {
            verification_method: vm,
            proof_purpose: "assertionMethod",
            created: "2026-11-21T10:00:00Z".into(),
            challenge: Some("c-123"),
            domain: Some("verifier.example"),
        }
    }

    /// Signs with Certus's suite `ours` and with ssi's stock suite `stock`, and checks each
    /// proof with the other suite: the canonical form is the same, bit for bit.
    async fn cross_check<O, S>(ours: O, stock: S, key: JWK) -> (Value, Value)
    where
        O: SigningSuite,
        S: SigningSuite,
        for<'a> Proofs<O>: ValidateProof<Params<'a, Multikey>, DataIntegrityDocument>,
        for<'a> Proofs<S>: ValidateProof<Params<'a, Multikey>, DataIntegrityDocument>,
    {
        let contexts = Contexts::bundled();
        let resolver = Resolver::default();
        let (did, vm) = did_key_for(&key).expect("did:key");
        let document = credential(&did);
        let signed_ours = sign_as(ours, document.clone(), &key, config(&vm), &contexts)
            .await
            .expect("Certus signs");
        let signed_stock = sign_as(stock, document, &key, config(&vm), &contexts)
            .await
            .expect("ssi signs");
        verify_as::<S, Multikey>(&signed_ours, None, &resolver, &contexts)
            .await
            .expect("ssi verifies Certus's proof");
        verify_as::<O, Multikey>(&signed_stock, None, &resolver, &contexts)
            .await
            .expect("Certus verifies ssi's proof");
        // A second round runs on cached contexts and must agree with the first.
        verify(&signed_ours, &resolver, &contexts)
            .await
            .expect("Certus verifies its own proof");
        (signed_ours, signed_stock)
    }

    #[tokio::test]
    async fn eddsa_rdfc_2022_proofs_are_those_of_ssis_stock_suite() {
        let key = JWK::generate_ed25519().expect("key");
        let (ours, stock) = cross_check(EdDsaRdfc2022, suites::EdDsaRdfc2022, key).await;
        // Ed25519 is deterministic: the same canonical form gives the same proof value.
        assert_eq!(ours, stock);
    }

    #[tokio::test]
    async fn ecdsa_rdfc_2019_proofs_cross_verify_with_ssis_stock_suite() {
        let key = JWK::generate_p256();
        cross_check(EcdsaRdfc2019, suites::EcdsaRdfc2019, key).await;
    }

    #[tokio::test]
    async fn tampering_after_caching_is_still_detected() {
        let contexts = Contexts::bundled();
        let resolver = Resolver::default();
        let key = JWK::generate_ed25519().expect("key");
        let (did, vm) = did_key_for(&key).expect("did:key");
        let signed = super::super::sign(credential(&did), &key, config(&vm), &contexts)
            .await
            .expect("signs");
        verify(&signed, &resolver, &contexts)
            .await
            .expect("verifies");
        let mut tampered = signed.clone();
        tampered["credentialSubject"]["nickname"] = json!("Mio");
        assert!(matches!(
            verify(&tampered, &resolver, &contexts).await,
            Err(DataIntegrityError::Invalid(_))
        ));
        let mut tampered = signed;
        tampered["proof"]["created"] = json!("2026-11-21T10:00:01Z");
        assert!(matches!(
            verify(&tampered, &resolver, &contexts).await,
            Err(DataIntegrityError::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn an_undefined_term_fails_expansion_even_with_a_cached_context() {
        let contexts = Contexts::bundled();
        let key = JWK::generate_ed25519().expect("key");
        let (did, vm) = did_key_for(&key).expect("did:key");
        let sign = |document| super::super::sign(document, &key, config(&vm), &contexts);
        sign(credential(&did)).await.expect("warms the cache");
        let mut undefined = credential(&did);
        undefined["credentialSubject"]["shoeSize"] = json!(42);
        assert!(matches!(
            sign(undefined).await,
            Err(DataIntegrityError::JsonLd(_))
        ));
    }
}
