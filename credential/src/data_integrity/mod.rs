//! W3C Data Integrity proofs over JSON-LD documents (credentials and presentations), through
//! ssi: `eddsa-rdfc-2022` for Ed25519 keys and `ecdsa-rdfc-2019` for P-256 keys.
//!
//! JSON-LD expansion is strict (an undefined term is an error) and uses only the bundled
//! contexts (see [`super::contexts`]).

use iref::Iri;
use serde::Deserialize;
use serde_json::{json, Value};
use ssi::claims::data_integrity::suite::{
    CryptographicSuiteSigning, DeserializeCryptographicSuiteOwned, InputProofOptions,
    NoConfiguration,
};
use ssi::claims::data_integrity::Proofs;
use ssi::claims::data_integrity::{
    AnySuite, CryptographicSuite, DataIntegrity, DataIntegrityDocument, SerializeCryptographicSuite,
};
use ssi::claims::{
    Invalid, ProofValidationError, SignatureEnvironment, ValidateClaims, ValidateProof,
    VerificationParameters,
};
use ssi::crypto::algorithm::SignatureAlgorithmType;
use ssi::dids::{DIDResolver, VerificationMethodDIDResolver};
use ssi::jwk::{Algorithm, JWK};
use ssi::verification_methods::{
    AnyMethod, MessageSigner, Multikey, ReferenceOrOwnedRef, ResolutionOptions, VerificationMethod,
    VerificationMethodResolutionError, VerificationMethodResolver,
};
use std::borrow::Cow;

use super::contexts::{Contexts, Loader};
use crate::signer::Signer;

pub mod jcs;
mod suite;
use crate::did::Resolver;
pub use suite::{EcdsaRdfc2019, EdDsaRdfc2022};

/// Checks that `document`'s every term is defined by its contexts (JSON-LD safe mode),
/// as signing it with an RDFC suite would, without signing: for credentials secured
/// otherwise (JWTs, `eddsa-jcs-2022`) that must still be sound JSON-LD.
pub async fn check_terms(document: &Value, contexts: &Contexts) -> Result<(), DataIntegrityError> {
    suite::check_terms(contexts.loader(), document)
        .await
        .map_err(DataIntegrityError::JsonLd)
}

/// The verification method of the local key a proof is made with. Signing needs the
/// method's type and public key, not a resolution: with this, any DID method the key is
/// published under (did:key, did:certus) signs alike.
#[derive(Debug)]
struct LocalMethod(Multikey);

impl LocalMethod {
    fn new(verification_method: &str, key: &JWK) -> Result<Self, DataIntegrityError> {
        let (did_key, _) = crate::did::did_key_for(key)
            .map_err(|e| DataIntegrityError::Malformed(format!("signing key: {e}")))?;
        let controller = verification_method
            .split_once('#')
            .map_or(verification_method, |(did, _)| did);
        let method = json!({
            "id": verification_method,
            "type": "Multikey",
            "controller": controller,
            "publicKeyMultibase": did_key.trim_start_matches("did:key:"),
        });
        serde_json::from_value(method)
            .map(Self)
            .map_err(|e| DataIntegrityError::Malformed(format!("verification method: {e}")))
    }
}

impl VerificationMethodResolver for LocalMethod {
    type Method = Multikey;

    async fn resolve_verification_method_with(
        &self,
        _issuer: Option<&Iri>,
        method: Option<ReferenceOrOwnedRef<'_, Multikey>>,
        _options: ResolutionOptions,
    ) -> Result<Cow<'_, Multikey>, VerificationMethodResolutionError> {
        match method {
            Some(m) if m.id().as_str() == self.0.id.as_str() => Ok(Cow::Borrowed(&self.0)),
            _ => Err(VerificationMethodResolutionError::UnknownKey),
        }
    }
}

/// The cryptosuites Certus issues and verifies: ssi's RDFC suites, and `eddsa-jcs-2022`
/// (built here on a JCS crate: ssi 0.16 has none; decision 16).
pub const SUPPORTED_CRYPTOSUITES: &[&str] = &[
    EdDsaRdfc2022::CRYPTOSUITE,
    EcdsaRdfc2019::CRYPTOSUITE,
    jcs::CRYPTOSUITE,
];

/// Why a document could not be signed or verified.
#[derive(Debug, thiserror::Error)]
pub enum DataIntegrityError {
    /// The document is not a JSON-LD object ssi can read.
    #[error("malformed document: {0}")]
    Malformed(String),
    /// A `proof` is missing, not a `DataIntegrityProof`, or uses an unsupported cryptosuite.
    #[error("unsupported proof: {0}")]
    UnsupportedProof(String),
    /// Too many proofs, or one proof given twice.
    #[error("invalid proof set: {0}")]
    ProofSet(String),
    /// JSON-LD processing failed (undefined term, unknown context, invalid syntax).
    #[error("JSON-LD processing failed: {0}")]
    JsonLd(String),
    /// The proof was checked and does not hold.
    #[error("the proof does not verify: {0}")]
    Invalid(String),
    /// The proof could not be checked (unresolvable key, internal failure).
    #[error("the proof could not be checked: {0}")]
    CouldNotCheck(String),
}

impl DataIntegrityError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "MALFORMED_CREDENTIAL",
            Self::UnsupportedProof(_) => "UNSUPPORTED_CRYPTOSUITE",
            Self::ProofSet(_) => "PROOF_SET_INVALID",
            Self::JsonLd(_) => "JSONLD_INVALID",
            Self::Invalid(_) => "SIGNATURE_INVALID",
            Self::CouldNotCheck(_) => "PROOF_UNCHECKABLE",
        }
    }
}

/// What a new proof says besides its signature.
#[derive(Debug, Clone)]
pub struct ProofConfig<'a> {
    pub verification_method: &'a str,
    /// `assertionMethod` for credentials, `authentication` for presentations.
    pub proof_purpose: &'a str,
    /// XSD dateTime of creation.
    pub created: String,
    pub challenge: Option<&'a str>,
    pub domain: Option<&'a str>,
}

/// Adds a Data Integrity proof to `document`: `eddsa-rdfc-2022` for an Ed25519 key,
/// `ecdsa-rdfc-2019` for a P-256 key.
pub async fn sign(
    document: Value,
    key: &dyn Signer,
    config: ProofConfig<'_>,
    contexts: &Contexts,
) -> Result<Value, DataIntegrityError> {
    match key.algorithm() {
        Algorithm::EdDSA => sign_as(EdDsaRdfc2022, document, key, config, contexts).await,
        Algorithm::ES256 => sign_as(EcdsaRdfc2019, document, key, config, contexts).await,
        other => Err(DataIntegrityError::UnsupportedProof(format!(
            "no Data Integrity suite for {other}"
        ))),
    }
}

/// Adds an `eddsa-jcs-2022` proof (Ed25519 keys only): no JSON-LD processing, so any
/// well-formed JSON document can be signed; see [`jcs`].
pub fn sign_jcs(
    document: Value,
    key: &dyn Signer,
    config: ProofConfig<'_>,
) -> Result<Value, DataIntegrityError> {
    jcs::sign(document, key, config)
}

/// ssi's signer interface over a [`Signer`]: whatever the method, the key signs the bytes
/// the suite prepared (for ECDSA the key hashes them, as JOSE does).
#[derive(Debug, Clone, Copy)]
struct KeySigner<'a>(&'a dyn Signer);

impl<M: VerificationMethod> ssi::verification_methods::Signer<M> for KeySigner<'_> {
    type MessageSigner = Self;

    async fn for_method(
        &self,
        _method: Cow<'_, M>,
    ) -> Result<Option<Self>, ssi::claims::SignatureError> {
        Ok(Some(*self))
    }
}

impl<A: SignatureAlgorithmType> MessageSigner<A> for KeySigner<'_> {
    async fn sign(
        self,
        _algorithm: A::Instance,
        message: &[u8],
    ) -> Result<Vec<u8>, ssi::claims::MessageSignatureError> {
        self.0
            .sign(message)
            .map_err(|e| ssi::claims::MessageSignatureError::SignatureFailed(e.to_string()))
    }
}

/// A suite Certus can sign with: ssi's signing interface over Certus's loader, did:key
/// Multikey resolution and a [`Signer`].
trait SigningSuite:
    for<'a> CryptographicSuiteSigning<
        DataIntegrityDocument,
        SignatureEnvironment<&'a Loader, ()>,
        &'a LocalMethod,
        KeySigner<'a>,
    > + CryptographicSuite<
        Configuration = NoConfiguration,
        VerificationMethod = Multikey,
        ProofOptions = (),
    > + SerializeCryptographicSuite
    + DeserializeCryptographicSuiteOwned
{
}

impl<S> SigningSuite for S where
    S: for<'a> CryptographicSuiteSigning<
            DataIntegrityDocument,
            SignatureEnvironment<&'a Loader, ()>,
            &'a LocalMethod,
            KeySigner<'a>,
        > + CryptographicSuite<
            Configuration = NoConfiguration,
            VerificationMethod = Multikey,
            ProofOptions = (),
        > + SerializeCryptographicSuite
        + DeserializeCryptographicSuiteOwned
{
}

async fn sign_as<S: SigningSuite>(
    suite: S,
    document: Value,
    key: &dyn Signer,
    config: ProofConfig<'_>,
    contexts: &Contexts,
) -> Result<Value, DataIntegrityError> {
    let unsecured: DataIntegrityDocument = serde_json::from_value(document)
        .map_err(|e| DataIntegrityError::Malformed(e.to_string()))?;
    let mut options = json!({
        "created": config.created,
        "verificationMethod": config.verification_method,
        "proofPurpose": config.proof_purpose,
    });
    if let Some(challenge) = config.challenge {
        options["challenge"] = json!(challenge);
    }
    if let Some(domain) = config.domain {
        options["domain"] = json!(domain);
    }
    let options: InputProofOptions<S> = serde_json::from_value(options)
        .map_err(|e| DataIntegrityError::Malformed(format!("proof options: {e}")))?;
    let environment = SignatureEnvironment {
        json_ld_loader: contexts.loader(),
        eip712_loader: (),
    };
    let resolver = LocalMethod::new(config.verification_method, &key.public_jwk())?;
    let signer = KeySigner(key);
    let secured = suite
        .sign_with(environment, unsecured, &resolver, signer, options, ())
        .await
        .map_err(|e| classify_signing_error(e.to_string()))?;
    serde_json::to_value(secured).map_err(|e| DataIntegrityError::Malformed(e.to_string()))
}

/// ssi reports JSON-LD transformation failures (undefined term, unknown context) only as
/// text; this recognises them so they count as invalid input, not as a failure to check.
fn is_json_ld_failure(message: &str) -> bool {
    message.contains("JSON-LD") || message.contains("expansion") || message.contains("context")
}

fn classify_signing_error(message: String) -> DataIntegrityError {
    if is_json_ld_failure(&message) {
        DataIntegrityError::JsonLd(message)
    } else {
        DataIntegrityError::Malformed(message)
    }
}

/// Checks every proof of `document` (a credential or a presentation): a proof set proof by
/// proof, a proof chain (`previousProof`) each proof over the document with the proofs it
/// follows. Dates are not checked here: that is the caller's `validity` check.
pub async fn verify(
    document: &Value,
    resolver: &Resolver,
    contexts: &Contexts,
) -> Result<(), DataIntegrityError> {
    check_proof_shape(document)?;
    let all = proofs(document);
    let mut set = Vec::new();
    for proof in &all {
        let previous = previous_proofs(proof, &all)?;
        let suite = proof.get("cryptosuite").and_then(Value::as_str);
        if suite == Some(jcs::CRYPTOSUITE) {
            jcs::verify_proof(document, proof, &all, resolver).await?;
        } else if previous.is_some() {
            verify_with(
                document,
                vec![(*proof).clone()],
                previous,
                resolver,
                contexts,
            )
            .await?;
        } else {
            set.push((*proof).clone());
        }
    }
    if set.is_empty() {
        return Ok(());
    }
    verify_with(document, set, None, resolver, contexts).await
}

/// The proofs `proof`'s `previousProof` names, as the value its signature covers under
/// `proof` (one object, or a list); `None` when it names none.
pub fn previous_proofs(proof: &Value, all: &[&Value]) -> Result<Option<Value>, DataIntegrityError> {
    let ids: Vec<&str> = match proof.get("previousProof") {
        None => return Ok(None),
        Some(Value::String(id)) => vec![id],
        Some(Value::Array(items)) => items
            .iter()
            .map(Value::as_str)
            .collect::<Option<_>>()
            .ok_or_else(|| DataIntegrityError::ProofSet("previousProof lists ids".into()))?,
        Some(_) => {
            return Err(DataIntegrityError::ProofSet(
                "previousProof is an id".into(),
            ))
        }
    };
    let found: Vec<Value> = ids
        .iter()
        .map(|id| {
            all.iter()
                .find(|p| p.get("id").and_then(Value::as_str) == Some(id))
                .map(|p| (*p).clone())
                .ok_or_else(|| {
                    DataIntegrityError::ProofSet(format!(
                        "previousProof `{id}` is not among the proofs"
                    ))
                })
        })
        .collect::<Result<_, _>>()?;
    Ok(Some(match found.as_slice() {
        [one] => one.clone(),
        _ => Value::Array(found),
    }))
}

/// Verifies `proofs` (RDFC suites) over `document`, with `previous` as the document's
/// `proof` for a proof in a chain.
async fn verify_with(
    document: &Value,
    proofs: Vec<Value>,
    previous: Option<Value>,
    resolver: &Resolver,
    contexts: &Contexts,
) -> Result<(), DataIntegrityError> {
    let mut suites: Vec<String> = proofs
        .iter()
        .filter_map(|p| {
            p.get("cryptosuite")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    suites.sort();
    suites.dedup();
    let suites: Vec<&str> = suites.iter().map(String::as_str).collect();
    let mut secured = document.clone();
    secured["proof"] = Value::Array(proofs);
    let document = &secured;
    // Boxed: the JSON-LD futures nest too deeply for callers' type layout otherwise.
    match suites.as_slice() {
        [EdDsaRdfc2022::CRYPTOSUITE] => {
            Box::pin(verify_as::<EdDsaRdfc2022, Multikey>(
                document, previous, resolver, contexts,
            ))
            .await
        }
        [EcdsaRdfc2019::CRYPTOSUITE] => {
            Box::pin(verify_as::<EcdsaRdfc2019, Multikey>(
                document, previous, resolver, contexts,
            ))
            .await
        }
        // A proof set mixing both suites: ssi's own suites, one type for all proofs.
        _ => {
            Box::pin(verify_as::<AnySuite, AnyMethod>(
                document, previous, resolver, contexts,
            ))
            .await
        }
    }
}

/// The parameters ssi verifies proofs with, for verification methods of type `M`.
type Params<'a, M> = VerificationParameters<VerificationMethodDIDResolver<Resolver, M>, &'a Loader>;

async fn verify_as<S, M>(
    document: &Value,
    previous: Option<Value>,
    resolver: &Resolver,
    contexts: &Contexts,
) -> Result<(), DataIntegrityError>
where
    S: DeserializeCryptographicSuiteOwned,
    M: VerificationMethod,
    for<'a> Proofs<S>: ValidateProof<Params<'a, M>, DataIntegrityDocument>,
    for<'a> DataIntegrityDocument: ValidateClaims<Params<'a, M>, Proofs<S>>,
{
    let mut secured = DataIntegrity::<DataIntegrityDocument, S>::deserialize(document)
        .map_err(|e| DataIntegrityError::Malformed(e.to_string()))?;
    if let Some(previous) = previous {
        let previous = ssi::json_ld::syntax::to_value(&previous)
            .map_err(|e| DataIntegrityError::Malformed(e.to_string()))?;
        secured.claims.properties.insert("proof".into(), previous);
    }
    let params: Params<'_, M> = VerificationParameters {
        resolver: resolver.clone().into_vm_resolver::<M>(),
        json_ld_loader: contexts.loader(),
        eip712_types_loader: (),
        date_time: None,
    };
    match secured.verify(params).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(Invalid::Proof(e))) => Err(DataIntegrityError::Invalid(e.to_string())),
        Ok(Err(Invalid::Claims(e))) => Err(DataIntegrityError::Invalid(e.to_string())),
        Err(e) => Err(classify_validation_error(e)),
    }
}

fn classify_validation_error(e: ProofValidationError) -> DataIntegrityError {
    match e {
        ProofValidationError::InvalidSignature
        | ProofValidationError::InvalidProof
        | ProofValidationError::InvalidKey
        | ProofValidationError::InvalidKeyUse
        | ProofValidationError::InvalidKeyController
        | ProofValidationError::InvalidVerificationMethod(_)
        | ProofValidationError::MissingSignature => DataIntegrityError::Invalid(e.to_string()),
        ProofValidationError::InvalidInputData(m) => DataIntegrityError::JsonLd(m),
        ProofValidationError::Preparation(p) => DataIntegrityError::JsonLd(p.to_string()),
        ProofValidationError::Other(m) if is_json_ld_failure(&m) => DataIntegrityError::JsonLd(m),
        other => DataIntegrityError::CouldNotCheck(other.to_string()),
    }
}

/// The Ed25519 proof type of the VC 1.1 era (W3C vc-di-eddsa, "Legacy"), verified (never
/// made) through ssi.
pub const ED25519_SIGNATURE_2020: &str = "Ed25519Signature2020";

/// Most proofs a document may carry (a proof set of several signers).
pub const MAX_PROOFS: usize = 8;

/// Refuses proofs Certus does not verify, before any JSON-LD work.
fn check_proof_shape(document: &Value) -> Result<(), DataIntegrityError> {
    let proofs = proofs(document);
    if proofs.is_empty() {
        return Err(DataIntegrityError::UnsupportedProof("no proof".into()));
    }
    // Each proof costs a canonicalisation: a proof set is bounded, and a proof given twice
    // proves nothing more.
    if proofs.len() > MAX_PROOFS {
        return Err(DataIntegrityError::ProofSet(format!(
            "{} proofs (at most {MAX_PROOFS})",
            proofs.len()
        )));
    }
    if proofs
        .iter()
        .enumerate()
        .any(|(i, p)| proofs[..i].contains(p))
    {
        return Err(DataIntegrityError::ProofSet(
            "the same proof is given twice".into(),
        ));
    }
    for proof in proofs {
        let kind = proof
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let suite = proof
            .get("cryptosuite")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if kind == ED25519_SIGNATURE_2020 {
            continue;
        }
        if kind != "DataIntegrityProof" {
            return Err(DataIntegrityError::UnsupportedProof(format!(
                "proof type `{kind}` (DataIntegrityProof, or {ED25519_SIGNATURE_2020} as VC 1.1 issuers use)"
            )));
        }
        if !SUPPORTED_CRYPTOSUITES.contains(&suite) {
            return Err(DataIntegrityError::UnsupportedProof(format!(
                "cryptosuite `{suite}` (supported: {})",
                SUPPORTED_CRYPTOSUITES.join(", ")
            )));
        }
    }
    Ok(())
}

/// The proofs of a document, as JSON objects.
pub fn proofs(document: &Value) -> Vec<&Value> {
    match document.get("proof") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(p @ Value::Object(_)) => vec![p],
        _ => Vec::new(),
    }
}
