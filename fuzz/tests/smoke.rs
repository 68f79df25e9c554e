//! The fuzz targets' smoke run: every target over its seeds — our own outputs, made here
//! with a fresh key, and the published vectors in `../shared/vectors` when present — and
//! over mutations of each (bit flips, truncations, splices, repeats), deterministically.
//! A panic anywhere fails the test. Long, coverage-guided runs use cargo-fuzz on the same
//! functions (docs/security.md).

use std::path::Path;

use certus_credential::{jose, sd_jwt};
use certus_fuzz::TARGETS;
use certus_ledger::hash::Digest;
use certus_ledger::transaction::{ListId, Transaction};
use certus_schemas::wire::CredentialFormat;
use certus_server::openid::issuer::{requested_proofs, TokenRequest};
use certus_server::openid::proof;
use certus_server::openid::verifier::{answers, shown_in, DirectPost};
use serde_json::{json, Value};
use ssi::jwk::JWK;

/// Mutations tried per seed.
const MUTATIONS: usize = 300;

/// A small deterministic generator (xorshift64*), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut data = seed.to_vec();
    match rng.below(6) {
        0 if !data.is_empty() => {
            let i = rng.below(data.len());
            data[i] ^= 1 << rng.below(8);
        }
        1 => data.truncate(rng.below(data.len() + 1)),
        2 if !data.is_empty() => {
            let (from, len) = (rng.below(data.len()), rng.below(64));
            let piece: Vec<u8> = data[from..(from + len).min(data.len())].to_vec();
            let at = rng.below(data.len());
            data.splice(at..at, piece);
        }
        3 => {
            let at = rng.below(data.len() + 1);
            let byte = *b"~.{}[]\":,\\0-9aZ=%\n".get(rng.below(19)).unwrap_or(&b'~');
            data.insert(at, byte);
        }
        4 if !data.is_empty() => {
            let i = rng.below(data.len());
            data[i] = (rng.next() & 0xff) as u8;
        }
        _ => data.extend_from_slice(seed),
    }
    data
}

fn key() -> JWK {
    JWK::generate_ed25519().expect("a key")
}

/// Seeds for `target`: our own outputs, and the published vectors when present.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let key = key();
    let credential = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:7d3e5a3c-0e2b-4d3e-9a2f-5b1f7c9e8a10",
        "type": ["VerifiableCredential"],
        "issuer": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "credentialStatus": [{"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": "7", "statusListCredential": "https://example.test/status/1"}],
        "credentialSubject": {"givenName": "Ada", "@context": {"x": "@id"}},
    });
    let header = jose::header(&[("typ", "vc+jwt"), ("kid", "did:example:1#k")]);
    let jwt = jose::sign(header, &credential, &key).expect("a JWT");
    let mut claims = serde_json::Map::new();
    claims.insert("vct".into(), json!("https://example.test/t"));
    claims.insert("givenName".into(), json!("Ada"));
    claims.insert("address".into(), json!({"street": "1 Way"}));
    let sd = sd_jwt::issue(
        claims,
        &["givenName".to_owned(), "address".to_owned()],
        jose::header(&[("typ", sd_jwt::SD_JWT_VC_TYP)]),
        &key,
    )
    .expect("an SD-JWT");
    let mut out: Vec<Vec<u8>> = match target {
        "jws" => vec![jwt.clone().into_bytes()],
        "sd_jwt" => vec![sd.into_bytes(), format!("{jwt}~").into_bytes()],
        "credential_json" => vec![credential.to_string().into_bytes()],
        "ids" => vec![
            b"urn:uuid:7d3e5a3c-0e2b-4d3e-9a2f-5b1f7c9e8a10".to_vec(),
            b"did:certus:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK".to_vec(),
        ],
        "did_operation" => vec![jwt.into_bytes()],
        "did_document" => vec![did_document(&key).to_string().into_bytes()],
        "status" => {
            vec![b"uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA".to_vec()]
        }
        "transaction" => [
            Transaction::CredentialAnchor {
                commitment: Digest::of(&[b"x"]),
            },
            Transaction::StatusListVersion {
                list: ListId([3; 16]),
                version: 2,
                hash: Digest::of(&[b"y"]),
            },
            Transaction::DidOperation {
                operation: "a.b.c".into(),
            },
        ]
        .iter()
        .map(Transaction::encode)
        .collect(),
        "block" => vec![serde_json::to_vec(&certus_fuzz::genesis().block()).expect("json")],
        "receipt" => vec![json!({"receipt": {"chainId": "certus-fuzz", "height": 0}})
            .to_string()
            .into_bytes()],
        "dcql" => vec![json!({"credentials": [{"id": "a", "format": "ldp_vc",
            "meta": {"type_values": [["VerifiableCredential"]]},
            "claims": [{"id": "g", "path": ["credentialSubject", "givenName"], "values": ["A"]},
                       {"id": "i", "path": ["credentialSubject", "items", null]}],
            "claim_sets": [["g", "i"], ["g"]]}],
            "credential_sets": [{"options": [["a"]]}]})
        .to_string()
        .into_bytes()],
        "openid4vci_credential" => {
            let mut header = jose::header(&[("typ", "openid4vci-proof+jwt")]);
            header.insert(
                "jwk".into(),
                serde_json::to_value(key.to_public()).expect("jwk"),
            );
            let claims = json!({"aud": certus_fuzz::ISSUER, "iat": 1_700_000_000, "nonce": "n"});
            let proof = jose::sign(header, &claims, &key).expect("a proof");
            vec![
                json!({"credential_configuration_id": "FoodSafetyCertificate_sd_jwt",
                    "proofs": {"jwt": [proof]}})
                .to_string()
                .into_bytes(),
                json!({"format": "jwt_vc_json", "proof": {"proof_type": "jwt", "jwt": proof},
                    "credential_definition": {"type": ["VerifiableCredential",
                        "FoodSafetyCertificate"]}})
                .to_string()
                .into_bytes(),
            ]
        }
        "openid_form" => {
            let token = vp_token(&sd, &jwt, &credential);
            vec![
                b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code\
                  &pre-authorized_code=abc&tx_code=1234"
                    .to_vec(),
                serde_urlencoded::to_string([("vp_token", token.as_str()), ("state", "s")])
                    .expect("a form")
                    .into_bytes(),
            ]
        }
        "vp_token" => vec![vp_token(&sd, &jwt, &credential).into_bytes()],
        _ => Vec::new(),
    };
    out.extend(published(target));
    out
}

/// A DID document as a `did:web` host serves one, its key listed for assertions.
fn did_document(key: &JWK) -> Value {
    json!({"@context": ["https://www.w3.org/ns/did/v1"], "id": "did:web:issuer.example",
        "verificationMethod": [{"id": "did:web:issuer.example#k1", "type": "JsonWebKey2020",
            "controller": "did:web:issuer.example", "publicKeyJwk": key.to_public()}],
        "assertionMethod": ["did:web:issuer.example#k1"]})
}

/// A `vp_token` answering three credential queries: an SD-JWT, a JWT presentation of a
/// `vc+jwt` credential, and a JSON-LD presentation.
fn vp_token(sd: &str, jwt: &str, credential: &Value) -> String {
    let key = key();
    let enveloped = json!({"@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiableCredential",
        "id": format!("data:application/vc+jwt,{jwt}")});
    let presentation = json!({"@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"], "verifiableCredential": [enveloped]});
    let jwt_vp = jose::sign(jose::header(&[("typ", "vp+jwt")]), &presentation, &key)
        .expect("a presentation");
    json!({"sd": [sd], "jwt": jwt_vp,
        "ldp": {"@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"], "verifiableCredential": [credential]}})
    .to_string()
}

/// The published vectors for `target`, when `../shared/vectors` sits beside the repository.
fn published(target: &str) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors");
    let folder = match target {
        "sd_jwt" | "jws" => "sd-jwt",
        "credential_json" => "vc-di-eddsa",
        "status" => "bitstring-status-list",
        _ => return Vec::new(),
    };
    let mut files = Vec::new();
    let mut stack = vec![root.join(folder)];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                // The status vector holds the encoded list inside a credential.
                if target == "status" {
                    if let Ok(document) = serde_json::from_slice::<Value>(&bytes) {
                        if let Some(list) = document["credentialSubject"]["encodedList"].as_str() {
                            files.push(list.as_bytes().to_vec());
                        }
                    }
                } else {
                    files.push(bytes);
                }
            }
        }
    }
    files
}

#[test]
fn every_target_survives_its_seeds_and_their_mutations() {
    // With CERTUS_FUZZ_SEEDS set, the seeds are also written there, one folder a target,
    // to start cargo-fuzz's corpora from (docs/security.md).
    let export = std::env::var_os("CERTUS_FUZZ_SEEDS").map(std::path::PathBuf::from);
    let mut runs = 0;
    for (name, target) in TARGETS {
        let seeds = seeds(name);
        assert!(!seeds.is_empty(), "{name} has seeds");
        if let Some(root) = &export {
            let folder = root.join(name);
            std::fs::create_dir_all(&folder).expect("seed folder");
            for (i, seed) in seeds.iter().enumerate() {
                std::fs::write(folder.join(format!("seed-{i}")), seed).expect("seed");
            }
        }
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ name.len() as u64);
        for seed in &seeds {
            target(seed);
            let mut current = seed.clone();
            for _ in 0..MUTATIONS {
                current = mutate(&current, &mut rng);
                if current.len() > 64 * 1024 {
                    current = seed.clone();
                }
                target(&current);
                runs += 1;
            }
        }
    }
    assert!(runs > 3_000, "{runs}");
}

/// The seeds reach past the first check of their parser, so mutations explore the code
/// behind it.
#[test]
fn the_seeds_are_well_formed() {
    let text = |seed: &Vec<u8>| String::from_utf8(seed.clone()).expect("utf-8");
    assert!(jose::decode(&text(&seeds("jws")[0])).is_ok());
    assert!(sd_jwt::decode(&text(&seeds("sd_jwt")[0])).is_ok());
    for seed in seeds("transaction") {
        assert!(Transaction::decode(&seed).is_ok());
    }
    let query: certus_schemas::dcql::DcqlQuery =
        serde_json::from_slice(&seeds("dcql")[0]).expect("a query");
    assert!(query.validate().is_ok());
    assert!(certus_server::status::list::StatusBits::decode(&text(&seeds("status")[0])).is_ok());
    let block: certus_ledger::block::Block =
        serde_json::from_slice(&seeds("block")[0]).expect("a block");
    assert_eq!(block.header.height, 0);
    for seed in seeds("openid4vci_credential") {
        let request: Value = serde_json::from_slice(&seed).expect("a request");
        let format = if request.get("proofs").is_some() {
            CredentialFormat::DcSdJwt
        } else {
            CredentialFormat::VcJwt
        };
        let (_, _, proofs) =
            requested_proofs(&request, "FoodSafetyCertificate", format).expect("read");
        let proof::Proofs::Jwt(proofs) = proofs else {
            panic!("JWT proofs in each seed")
        };
        let [proof] = proofs.as_slice() else {
            panic!("one proof in each seed")
        };
        let now = chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("a time");
        let (_, nonce) = futures::executor::block_on(proof::parse(
            proof,
            certus_fuzz::ISSUER,
            &proof::AttestationPolicy::default(),
            now,
        ))
        .expect("a proof that checks");
        assert_eq!(nonce.as_deref(), Some("n"));
    }
    let document = ssi::dids::Document::from_json_bytes(&seeds("did_document")[0])
        .expect("a DID document")
        .into_document();
    let did = document.id.clone();
    let found = certus_credential::did::key_in(
        document,
        &did,
        None,
        certus_credential::did::Relationship::AssertionMethod,
    )
    .expect("its assertion key");
    assert_eq!(found.verification_method, "did:web:issuer.example#k1");
    let token = text(&seeds("vp_token")[0]);
    let answered = answers(&token).expect("answers");
    let shown: usize = answered
        .values()
        .map(|p| match p {
            Value::Array(items) => items.iter().map(|i| shown_in(i).len()).sum(),
            one => shown_in(one).len(),
        })
        .sum();
    assert_eq!(shown, 3, "every presentation shows its credential");
    let forms = seeds("openid_form");
    let token_request: TokenRequest = serde_urlencoded::from_bytes(&forms[0]).expect("a form");
    assert_eq!(token_request.tx_code.as_deref(), Some("1234"));
    let post: DirectPost = serde_urlencoded::from_bytes(&forms[1]).expect("a form");
    let posted = answers(post.vp_token.as_deref().expect("a vp_token")).expect("answers");
    assert_eq!(posted.len(), 3);
}
