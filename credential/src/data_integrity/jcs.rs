//! `eddsa-jcs-2022` (W3C vc-di-eddsa §3.3): Ed25519 over the SHA-256 of the JSON
//! Canonicalization Scheme (RFC 8785) forms of the proof configuration and the document —
//! no JSON-LD processing. ssi 0.16 has no such suite; this builds it from a JCS crate
//! (`serde_json_canonicalizer`) and ssi's Ed25519 and DID primitives.

use serde_json::{Map, Value};
use ssi::jwk::Algorithm;
use ssi::security::{multibase::Base, Multibase, MultibaseBuf};

use super::{DataIntegrityError, ProofConfig};
use crate::did::{authorised_key, KeyLookupError, Relationship, Resolver};
use crate::signer::Signer;
use certus_ledger::Digest;

/// The suite's name in a proof's `cryptosuite`.
pub const CRYPTOSUITE: &str = "eddsa-jcs-2022";

/// The JCS form of `value`.
pub fn canonical(value: &Value) -> Result<Vec<u8>, DataIntegrityError> {
    serde_json_canonicalizer::to_vec(value)
        .map_err(|e| DataIntegrityError::Malformed(format!("JCS: {e}")))
}

/// What is signed: SHA-256 of the canonical proof configuration, then SHA-256 of the
/// canonical document (§3.3.4–3.3.6).
pub fn hash_data(proof_config: &Value, document: &Value) -> Result<Vec<u8>, DataIntegrityError> {
    let mut data = Digest::of(&[&canonical(proof_config)?]).as_bytes().to_vec();
    data.extend_from_slice(Digest::of(&[&canonical(document)?]).as_bytes());
    Ok(data)
}

/// Adds an `eddsa-jcs-2022` proof to `document` (which must not have one yet) with an
/// Ed25519 `key`. The proof carries the document's `@context`, as §3.3.1 says.
pub fn sign(
    document: Value,
    key: &dyn Signer,
    config: ProofConfig<'_>,
) -> Result<Value, DataIntegrityError> {
    if key.algorithm() != Algorithm::EdDSA {
        return Err(DataIntegrityError::UnsupportedProof(format!(
            "{CRYPTOSUITE} signs with Ed25519 keys only"
        )));
    }
    let Value::Object(mut unsecured) = document else {
        return Err(DataIntegrityError::Malformed(
            "a document is a JSON object".into(),
        ));
    };
    if unsecured.contains_key("proof") {
        return Err(DataIntegrityError::Malformed(
            "the document is already secured".into(),
        ));
    }
    let mut proof = Map::new();
    proof.insert("type".into(), "DataIntegrityProof".into());
    proof.insert("cryptosuite".into(), CRYPTOSUITE.into());
    proof.insert("created".into(), config.created.into());
    proof.insert(
        "verificationMethod".into(),
        config.verification_method.into(),
    );
    proof.insert("proofPurpose".into(), config.proof_purpose.into());
    if let Some(challenge) = config.challenge {
        proof.insert("challenge".into(), challenge.into());
    }
    if let Some(domain) = config.domain {
        proof.insert("domain".into(), domain.into());
    }
    if let Some(context) = unsecured.get("@context") {
        proof.insert("@context".into(), context.clone());
    }
    let data = hash_data(
        &Value::Object(proof.clone()),
        &Value::Object(unsecured.clone()),
    )?;
    let signature = key
        .sign(&data)
        .map_err(|e| DataIntegrityError::CouldNotCheck(e.to_string()))?;
    proof.insert(
        "proofValue".into(),
        MultibaseBuf::encode(Base::Base58Btc, signature)
            .as_str()
            .into(),
    );
    unsecured.insert("proof".into(), Value::Object(proof));
    Ok(Value::Object(unsecured))
}

/// The `@context` values of a document or proof, as a list.
fn context_list(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
        None => Vec::new(),
    }
}

/// Verifies one `eddsa-jcs-2022` `proof` of `document` (one of `proofs`, all of the
/// document's proofs, which `previousProof` may name) per §3.3.2, with the key its
/// `verificationMethod` names, authorised by its DID for its `proofPurpose`.
pub async fn verify_proof(
    document: &Value,
    proof: &Value,
    proofs: &[&Value],
    resolver: &Resolver,
) -> Result<(), DataIntegrityError> {
    let invalid = |m: &str| DataIntegrityError::Invalid(format!("{CRYPTOSUITE}: {m}"));
    let malformed = |m: &str| DataIntegrityError::Malformed(format!("{CRYPTOSUITE} proof: {m}"));
    let Some(mut options) = proof.as_object().cloned() else {
        return Err(malformed("not an object"));
    };
    let proof_value = options
        .remove("proofValue")
        .and_then(|v| v.as_str().map(str::to_owned))
        .ok_or_else(|| malformed("no proofValue"))?;
    let (base, signature) = Multibase::new(&proof_value)
        .decode()
        .map_err(|_| malformed("proofValue is not multibase"))?;
    if base != Base::Base58Btc || signature.len() != 64 {
        return Err(malformed(
            "proofValue is not a base58-btc Ed25519 signature",
        ));
    }
    let Some(mut unsecured) = document.as_object().cloned() else {
        return Err(DataIntegrityError::Malformed(
            "a document is a JSON object".into(),
        ));
    };
    unsecured.remove("proof");
    // A proof in a chain signs the document with the proofs it follows.
    if let Some(previous) = super::previous_proofs(proof, proofs)? {
        unsecured.insert("proof".into(), previous);
    }
    if let Some(context) = options.get("@context") {
        let wanted = context_list(Some(context));
        let given = context_list(unsecured.get("@context"));
        if given.len() < wanted.len() || given[..wanted.len()] != wanted[..] {
            return Err(invalid(
                "the document's @context does not start with the proof's",
            ));
        }
        unsecured.insert("@context".into(), context.clone());
    }
    if options.get("type").and_then(Value::as_str) != Some("DataIntegrityProof")
        || options.get("cryptosuite").and_then(Value::as_str) != Some(CRYPTOSUITE)
    {
        return Err(malformed("not a DataIntegrityProof of this suite"));
    }
    let relationship = match options.get("proofPurpose").and_then(Value::as_str) {
        Some("assertionMethod") => Relationship::AssertionMethod,
        Some("authentication") => Relationship::Authentication,
        _ => {
            return Err(malformed(
                "proofPurpose is assertionMethod or authentication",
            ))
        }
    };
    let method = options
        .get("verificationMethod")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("no verificationMethod"))?;
    let did = method.split_once('#').map_or(method, |(did, _)| did);
    let key = authorised_key(resolver, did, Some(method), relationship, None)
        .await
        .map_err(|e| match e {
            KeyLookupError::Unresolvable { .. } => DataIntegrityError::CouldNotCheck(e.to_string()),
            other => DataIntegrityError::Invalid(other.to_string()),
        })?;
    let data = hash_data(&Value::Object(options), &Value::Object(unsecured))?;
    ssi::claims::jws::verify_bytes(Algorithm::EdDSA, &data, &key.jwk, &signature)
        .map_err(|_| invalid("the signature does not verify"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jcs_matches_the_rfc_8785_example_shapes() {
        let value: Value = serde_json::from_str(
            r#"{"b": [1, 2.5, -0.5, 1e3, true, null, 1e21, 1e-7], "a": "\u00e9\n\"\u001f", "\u20ac": {}, "A": 10000000000, "\ud83d\ude00": 1, "\ufb33": 2}"#,
        )
        .expect("json");
        // Keys sort by UTF-16 code units: U+1F600 (D83D DE00) before U+FB33.
        assert_eq!(
            String::from_utf8(canonical(&value).expect("canonical")).expect("utf-8"),
            "{\"A\":10000000000,\"a\":\"é\\n\\\"\\u001f\",\"b\":[1,2.5,-0.5,1000,true,null,1e+21,1e-7],\"€\":{},\"😀\":1,\"\u{fb33}\":2}"
        );
    }
}
