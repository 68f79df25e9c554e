//! Known-answer tests against published vectors in `../shared/vectors/` (each folder names
//! its source): W3C vc-di-eddsa for Data Integrity, and the IETF SD-JWT / SD-JWT VC drafts;
//! and the RFC 6962 Merkle tree vectors in `tests/vectors/rfc6962-merkle.json` (its
//! `source` names where each part comes from).

use std::path::PathBuf;

use certus_credential::contexts::Contexts;
use certus_credential::data_integrity::{self, jcs, ProofConfig};
use certus_credential::did::Resolver;
use certus_credential::sd_jwt::{self, BindingExpectations, KeyBindingError};
use serde_json::{json, Value};
use ssi::jwk::JWK;
use ssi::multicodec::MultiEncoded;
use ssi::security::Multibase;

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors")
}

fn read(path: &str) -> String {
    let full = vectors().join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (shared/vectors must sit beside the repository)",
            full.display()
        )
    })
}

fn read_json(path: &str) -> Value {
    serde_json::from_str(&read(path)).expect("vector is JSON")
}

/// The bundled contexts plus the W3C examples context the vectors use.
fn contexts() -> Contexts {
    let manifest = read_json("contexts/manifest.json");
    Contexts::with_documents(
        certus_schemas::CONTEXTS
            .iter()
            .map(|d| (d.url.to_owned(), d.json.to_owned()))
            .chain(
                manifest["contexts"]
                    .as_array()
                    .expect("contexts")
                    .iter()
                    .map(|c| {
                        (
                            c["url"].as_str().expect("url").to_owned(),
                            read(&format!("contexts/{}", c["file"].as_str().expect("file"))),
                        )
                    }),
            ),
    )
}

/// The vc-di-eddsa test key, from its `privateKeyMultibase`.
fn vector_key() -> JWK {
    let pair = read_json("vc-di-eddsa/keyPair.json");
    let (_, bytes) = Multibase::new(pair["privateKeyMultibase"].as_str().expect("key"))
        .decode()
        .expect("multibase");
    JWK::from_multicodec(MultiEncoded::new(&bytes).expect("multicodec")).expect("ed25519 key")
}

#[tokio::test]
async fn the_published_data_integrity_credentials_verify_and_fail_when_tampered() {
    let contexts = contexts();
    for path in [
        "vc-di-eddsa/eddsa-rdfc-2022/signedDataInt.json",
        "vc-di-eddsa/Ed25519Signature2020/signedEdSig.json",
    ] {
        let signed = read_json(path);
        data_integrity::verify(&signed, &Resolver::default(), &contexts)
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut tampered = signed.clone();
        tampered["credentialSubject"]["alumniOf"] = json!("Another School");
        let err = data_integrity::verify(&tampered, &Resolver::default(), &contexts)
            .await
            .expect_err("tampered vector must fail");
        assert_eq!(err.code(), "SIGNATURE_INVALID", "{path}: {err}");
    }
}

#[tokio::test]
async fn the_jcs_vector_verifies_reproduces_its_published_intermediates_and_fails_when_tampered() {
    let signed = read_json("vc-di-eddsa/eddsa-jcs-2022/signedJCS.json");
    let resolver = Resolver::default();
    data_integrity::verify(&signed, &resolver, &contexts())
        .await
        .expect("the published eddsa-jcs-2022 credential verifies");

    // Each intermediate value of the published vector.
    let config = read_json("vc-di-eddsa/eddsa-jcs-2022/proofConfigJCS.json");
    let mut unsigned = signed.clone();
    unsigned.as_object_mut().expect("object").remove("proof");
    assert_eq!(
        String::from_utf8(jcs::canonical(&unsigned).expect("canonical")).expect("utf-8"),
        read("vc-di-eddsa/eddsa-jcs-2022/canonDocJCS.txt").trim()
    );
    assert_eq!(
        String::from_utf8(jcs::canonical(&config).expect("canonical")).expect("utf-8"),
        read("vc-di-eddsa/eddsa-jcs-2022/proofCanonJCS.txt").trim()
    );
    assert_eq!(
        hex::encode(jcs::hash_data(&config, &unsigned).expect("hashes")),
        read("vc-di-eddsa/eddsa-jcs-2022/combinedHashJCS.txt").trim()
    );

    // Signing the unsigned credential again gives the published proof (Ed25519 is
    // deterministic).
    let resigned = data_integrity::sign_jcs(
        unsigned,
        &vector_key(),
        ProofConfig {
            verification_method: config["verificationMethod"].as_str().expect("vm"),
            proof_purpose: "assertionMethod",
            created: config["created"].as_str().expect("created").to_owned(),
            challenge: None,
            domain: None,
        },
    )
    .expect("signs");
    assert_eq!(resigned["proof"], signed["proof"]);

    // Every signed part matters: the claims, the proof's options and its context.
    for (pointer, value) in [
        ("/credentialSubject/alumniOf", json!("Another School")),
        ("/validFrom", json!("2024-01-01T00:00:00Z")),
        ("/proof/created", json!("2023-02-24T23:36:39Z")),
        (
            "/proof/@context",
            json!(["https://www.w3.org/ns/credentials/v2"]),
        ),
    ] {
        let mut tampered = signed.clone();
        *tampered.pointer_mut(pointer).expect(pointer) = value;
        let err = data_integrity::verify(&tampered, &resolver, &contexts())
            .await
            .expect_err(pointer);
        assert_eq!(err.code(), "SIGNATURE_INVALID", "{pointer}: {err}");
    }
    let mut other_key = signed.clone();
    other_key["proof"]["verificationMethod"] =
        json!("did:key:z6MkhWqdDBPojHA7cprTGTt5yHv5yUi1B8cnXn8ReLumkw6E#z6MkhWqdDBPojHA7cprTGTt5yHv5yUi1B8cnXn8ReLumkw6E");
    assert_eq!(
        data_integrity::verify(&other_key, &resolver, &contexts())
            .await
            .expect_err("another key")
            .code(),
        "SIGNATURE_INVALID"
    );
    let mut bad_value = signed.clone();
    bad_value["proof"]["proofValue"] = json!("uAAAA");
    assert_eq!(
        data_integrity::verify(&bad_value, &resolver, &contexts())
            .await
            .expect_err("not base58")
            .code(),
        "MALFORMED_CREDENTIAL"
    );
}

#[tokio::test]
async fn the_published_proof_sets_and_chains_verify_per_proof_with_other_keys_than_the_issuers() {
    let contexts = contexts();
    for file in [
        "signedProofSet1.json",
        "signedProofSet2.json",
        "signedProofChain1.json",
        "signedProofChain2.json",
    ] {
        let path = format!("vc-di-eddsa/proof-set-chain/{file}");
        let signed = read_json(&path);
        data_integrity::verify(&signed, &Resolver::default(), &contexts)
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        // Breaking any one proof of the set breaks the whole.
        let count = data_integrity::proofs(&signed).len();
        for i in 0..count {
            let mut tampered = signed.clone();
            let proof = match &mut tampered["proof"] {
                Value::Array(items) => &mut items[i],
                one => one,
            };
            proof["created"] = json!("2020-01-01T00:00:00Z");
            assert!(
                data_integrity::verify(&tampered, &Resolver::default(), &contexts)
                    .await
                    .is_err(),
                "{path}: proof {i} tampered"
            );
        }
    }
}

#[tokio::test]
async fn re_signing_the_rdfc_vector_reproduces_its_published_proof_value() {
    // The `employ/` vector uses the citizenship v4rc1 context, which is not bundled (and is
    // never fetched), so only the base vector is re-signed.
    let signed = read_json("vc-di-eddsa/eddsa-rdfc-2022/signedDataInt.json");
    let config = read_json("vc-di-eddsa/eddsa-rdfc-2022/proofConfigDataInt.json");
    let mut unsigned = signed.clone();
    unsigned.as_object_mut().expect("object").remove("proof");
    assert_eq!(unsigned, read_json("vc-di-eddsa/unsigned.json"));
    let resigned = data_integrity::sign(
        unsigned,
        &vector_key(),
        ProofConfig {
            verification_method: config["verificationMethod"].as_str().expect("vm"),
            proof_purpose: "assertionMethod",
            created: config["created"].as_str().expect("created").to_owned(),
            challenge: None,
            domain: None,
        },
        &contexts(),
    )
    .await
    .expect("signs");
    assert_eq!(
        resigned["proof"]["proofValue"],
        signed["proof"]["proofValue"]
    );
    assert_eq!(resigned["proof"], signed["proof"]);
}

/// The issuer key of every SD-JWT vector (A.5 of the SD-JWT draft).
fn sd_jwt_issuer_key() -> JWK {
    serde_json::from_value(read_json("sd-jwt/issuer-jwk.json")).expect("jwk")
}

#[test]
fn every_sd_jwt_vector_decodes_verifies_and_binds_as_published() {
    let manifest = read_json("sd-jwt/manifest.json");
    let issuer = sd_jwt_issuer_key();
    let vectors = manifest["vectors"].as_array().expect("vectors");
    assert!(vectors.len() >= 10);
    for v in vectors {
        let file = v["file"].as_str().expect("file");
        let text = read(&format!("sd-jwt/{file}"));
        let presentation = text.trim();
        let decoded = sd_jwt::decode(presentation).unwrap_or_else(|e| panic!("{file}: {e}"));
        decoded
            .issuer_jwt
            .verify(&issuer)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            decoded.issuer_jwt.header_str("typ"),
            v["typ"].as_str(),
            "{file}"
        );
        if let Some(vct) = v["vct"].as_str() {
            assert_eq!(decoded.claims["vct"], vct, "{file}");
        }
        let disclosures = presentation
            .split('~')
            .skip(1)
            .filter(|d| !d.is_empty() && !d.contains('.'))
            .count();
        assert_eq!(
            disclosures as u64,
            v["disclosures"].as_u64().expect("count"),
            "{file}"
        );
        assert!(!decoded.claims.contains_key("_sd_alg"));
        if v["keyBinding"] == true {
            let holder = decoded.holder_key().expect("cnf").expect("jwk");
            let iat = decoded.key_binding.as_ref().expect("kb").payload["iat"]
                .as_i64()
                .expect("iat");
            let expect = BindingExpectations {
                nonce: v["expectedNonce"].as_str(),
                audience: v["expectedAud"].as_str(),
                now: iat,
                max_age_secs: 600,
            };
            decoded
                .verify_key_binding(&holder, expect)
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            let wrong = BindingExpectations {
                nonce: Some("another"),
                ..expect
            };
            assert_eq!(
                decoded.verify_key_binding(&holder, wrong),
                Err(KeyBindingError::Nonce),
                "{file}"
            );
        } else {
            assert!(decoded.key_binding.is_none(), "{file}");
        }
    }
}

#[test]
fn a_tampered_sd_jwt_vector_is_rejected() {
    let text = read("sd-jwt/sd-jwt-vc-01.txt");
    let presentation = text.trim();
    let parts: Vec<&str> = presentation.split('~').collect();
    // A disclosure with one character changed no longer matches any digest.
    let mut forged_disclosure = parts[1].to_owned();
    let last = forged_disclosure.pop().expect("char");
    forged_disclosure.push(if last == 'A' { 'B' } else { 'A' });
    let forged = presentation.replacen(parts[1], &forged_disclosure, 1);
    assert!(
        sd_jwt::decode(&forged).is_err()
            || sd_jwt::decode(&forged).is_ok_and(
                |d| d.claims.len() < sd_jwt::decode(presentation).expect("ok").claims.len()
            )
    );
    // A changed signature fails.
    let jwt = parts[0];
    let mut sig = jwt.rsplit('.').next().expect("sig").to_owned();
    let c = sig.remove(0);
    sig.insert(0, if c == 'A' { 'B' } else { 'A' });
    let forged_jwt = format!("{}.{sig}", &jwt[..jwt.rfind('.').expect("dot")]);
    let forged = presentation.replacen(jwt, &forged_jwt, 1);
    let decoded = sd_jwt::decode(&forged).expect("decodes");
    assert!(decoded.issuer_jwt.verify(&sd_jwt_issuer_key()).is_err());
}

mod merkle {
    use base64::prelude::{Engine, BASE64_STANDARD};
    use certus_server::ledger::hash::Digest;
    use certus_server::ledger::merkle::{
        leaf_hash, verify_consistency, verify_inclusion, LeafIndex, Tree, TreeSize,
    };
    use serde_json::Value;

    fn vectors() -> Value {
        serde_json::from_str(include_str!("vectors/rfc6962-merkle.json")).expect("JSON")
    }

    fn b64(value: &Value) -> Digest {
        let bytes = BASE64_STANDARD
            .decode(value.as_str().expect("base64 string"))
            .expect("base64");
        Digest::from_slice(&bytes).expect("32 bytes")
    }

    fn path(value: &Value) -> Vec<Digest> {
        value
            .as_array()
            .map(|a| a.iter().map(b64).collect())
            .unwrap_or_default()
    }

    fn leaves() -> Vec<Digest> {
        vectors()["leaves"]
            .as_array()
            .expect("leaves")
            .iter()
            .map(|l| leaf_hash(&hex::decode(l.as_str().expect("hex")).expect("hex")))
            .collect()
    }

    #[test]
    fn tree_roots_match_the_rfc6962_reference_for_every_prefix() {
        let v = vectors();
        let leaves = leaves();
        for (i, root) in v["roots"].as_array().expect("roots").iter().enumerate() {
            let tree = Tree::new(leaves[..=i].to_vec());
            assert_eq!(
                tree.root().to_hex(),
                root.as_str().expect("hex"),
                "size {}",
                i + 1
            );
        }
    }

    #[test]
    fn published_inclusion_proofs_verify_and_ours_are_identical() {
        let leaves = leaves();
        for case in vectors()["inclusion"].as_array().expect("cases") {
            let index = LeafIndex(case["leafIdx"].as_u64().expect("index"));
            let size = TreeSize(case["treeSize"].as_u64().expect("size"));
            let (leaf, root, proof) = (
                b64(&case["leafHash"]),
                b64(&case["root"]),
                path(&case["proof"]),
            );
            verify_inclusion(&leaf, index, size, &proof, &root).expect("published proof holds");
            let tree = Tree::new(leaves[..size.0 as usize].to_vec());
            assert_eq!(tree.root(), root);
            assert_eq!(tree.inclusion_proof(index).expect("in range"), proof);
        }
    }

    #[test]
    fn published_consistency_proofs_verify_and_ours_are_identical() {
        let leaves = leaves();
        for case in vectors()["consistency"].as_array().expect("cases") {
            let old = TreeSize(case["size1"].as_u64().expect("size1"));
            let new = TreeSize(case["size2"].as_u64().expect("size2"));
            let (old_root, new_root) = (b64(&case["root1"]), b64(&case["root2"]));
            let proof = path(&case["proof"]);
            verify_consistency(old, new, &old_root, &new_root, &proof)
                .expect("published proof holds");
            let tree = Tree::new(leaves[..new.0 as usize].to_vec());
            assert_eq!(tree.consistency_proof(old).expect("in range"), proof);
            // The roots swapped, or the sizes swapped, do not verify.
            assert!(
                verify_consistency(old, new, &new_root, &old_root, &proof).is_err() || old == new
            );
            assert!(
                verify_consistency(new, old, &old_root, &new_root, &proof).is_err() || old == new
            );
        }
    }
}
