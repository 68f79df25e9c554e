//! Fuzz targets: one function per parser of outside input, each taking arbitrary bytes and
//! required never to panic (a refusal is an `Err`, never a crash). The same functions run
//! under cargo-fuzz for long runs and, in the test suite, over seeds and their mutations
//! (`tests/smoke.rs`).

use std::sync::OnceLock;

use certus_credential::contexts::Contexts;
use certus_credential::did::certus::{At, DidState};
use certus_credential::did::{key_in, Relationship};
use certus_credential::ids::{CredentialId, Did};
use certus_credential::{data_integrity, envelope, jose, sd_jwt};
use certus_ledger::block::{Block, ChainId, Genesis};
use certus_ledger::receipt::check_document;
use certus_ledger::transaction::Transaction;
use certus_schemas::dcql::{Candidate, DcqlQuery};
use certus_schemas::wire::CredentialFormat;
use certus_server::openid::issuer::{requested_proofs, TokenRequest};
use certus_server::openid::proof;
use certus_server::openid::verifier::{answers, shown_in, DirectPost};
use certus_server::status::list::StatusBits;
use certus_server::status::requested::Requested;
use certus_server::verification::credential::credential_of_jwt;
use certus_server::verification::status::{bitstring_entries, token_status_entry};
use serde_json::Value;

/// A target: bytes in, no panic out.
pub type Target = fn(&[u8]);

/// Every target, by name (the cargo-fuzz binaries and the seed folders share the names).
pub const TARGETS: &[(&str, Target)] = &[
    ("jws", jws),
    ("sd_jwt", sd_jwt),
    ("credential_json", credential_json),
    ("ids", ids),
    ("did_operation", did_operation),
    ("did_document", did_document),
    ("status", status),
    ("transaction", transaction),
    ("block", block),
    ("receipt", receipt),
    ("dcql", dcql),
    ("openid4vci_credential", openid4vci_credential),
    ("openid_form", openid_form),
    ("vp_token", vp_token),
];

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

fn json(data: &[u8]) -> Option<Value> {
    serde_json::from_slice(data).ok()
}

/// A compact JWS or JWT (VC-JOSE credentials, proofs of possession, status lists, trust
/// statements, DID operations).
pub fn jws(data: &[u8]) {
    if let Some(text) = text(data) {
        if let Ok(decoded) = jose::decode(text) {
            let _ = decoded.header_str("kid");
            // A VC 1.1 JWT's claims mapped onto its `vc` claim.
            let _ = credential_of_jwt(&decoded.payload);
        }
    }
}

/// An SD-JWT, with or without key binding.
pub fn sd_jwt(data: &[u8]) {
    if let Some(text) = text(data) {
        if let Ok(decoded) = sd_jwt::decode(text) {
            let _ = decoded.holder_key();
        }
    }
}

/// A credential or presentation as JSON: contexts (embedded ones included), enveloped
/// credentials, status entries (as verified, and as a client names them to an issuer).
pub fn credential_json(data: &[u8]) {
    static CONTEXTS: OnceLock<Contexts> = OnceLock::new();
    let Some(document) = json(data) else { return };
    if let Some(map) = document.as_object() {
        let _ = CONTEXTS.get_or_init(Contexts::bundled).first_unlisted(map);
    }
    let _ = envelope::open(&document);
    let _ = bitstring_entries(&document["credentialStatus"]).count();
    let _ = Requested::parse(&document["credentialStatus"]);
    let _ = token_status_entry(document.get("status"));
    let _ = data_integrity::previous_proofs(&document, &data_integrity::proofs(&document));
    let _ = data_integrity::jcs::canonical(&document);
}

/// Identifiers: credential ids and DIDs.
pub fn ids(data: &[u8]) {
    if let Some(text) = text(data) {
        let _ = CredentialId::parse(text);
        if let Ok(did) = Did::parse(text) {
            let _ = did.method();
        }
    }
}

/// A `did:certus` operation (a JWS), as a creation.
pub fn did_operation(data: &[u8]) {
    if let Some(text) = text(data) {
        let _ = DidState::create(text, At::Pending { at_ms: 0 });
    }
}

/// A DID document (as a `did:web` host serves one): parsed, then searched for its assertion
/// key, the only one and each one it names.
pub fn did_document(data: &[u8]) {
    let Ok(document) = ssi::dids::Document::from_json_bytes(data) else {
        return;
    };
    let document = document.into_document();
    let did = document.id.clone();
    let named: Vec<_> = document
        .verification_method
        .iter()
        .map(|m| m.id.clone())
        .collect();
    let _ = key_in(document.clone(), &did, None, Relationship::AssertionMethod);
    for id in named.iter().take(4) {
        let _ = key_in(
            document.clone(),
            &did,
            Some(id),
            Relationship::AssertionMethod,
        );
    }
}

/// A Bitstring Status List's `encodedList`.
pub fn status(data: &[u8]) {
    if let Some(text) = text(data) {
        if let Ok(bits) = StatusBits::decode(text) {
            let _ = bits.get(bits.len().saturating_sub(1));
        }
    }
}

/// A chain transaction's encoding.
pub fn transaction(data: &[u8]) {
    if let Ok(tx) = Transaction::decode(data) {
        let _ = (tx.commitment(), tx.leaf_hash());
    }
}

/// A block as JSON (as peers and exports carry it), checked against the genesis.
pub fn block(data: &[u8]) {
    if let Ok(block) = serde_json::from_slice::<Block>(data) {
        let genesis = genesis();
        let _ = block.verify(&genesis.header, &genesis.epoch());
    }
}

/// An anchor receipt document, checked against the genesis.
pub fn receipt(data: &[u8]) {
    if let Some(document) = json(data) {
        let _ = check_document(document, genesis());
    }
}

/// A DCQL query: validated, then matched against a credential.
pub fn dcql(data: &[u8]) {
    let Ok(query) = serde_json::from_slice::<DcqlQuery>(data) else {
        return;
    };
    if query.validate().is_err() {
        return;
    }
    let claims = serde_json::json!({"credentialSubject": {"givenName": "A", "items": [1, 2]}});
    let candidate = Candidate {
        format: "ldp_vc",
        vct: None,
        types: &["VerifiableCredential".to_owned()],
        claims: &claims,
    };
    for credential in &query.credentials {
        let _ = credential.match_candidate(&candidate);
    }
}

/// An OpenID4VCI credential request (the JSON body), read for an offer of each format, and
/// its proofs of possession checked as far as they go without a store (form, key,
/// signature, audience, time).
pub fn openid4vci_credential(data: &[u8]) {
    let Some(request) = json(data) else { return };
    for format in [CredentialFormat::DcSdJwt, CredentialFormat::VcJwt] {
        if let Ok((_, _, proofs)) = requested_proofs(&request, "FoodSafetyCertificate", format) {
            let now = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
            let policy = proof::AttestationPolicy::default();
            match proofs {
                proof::Proofs::Jwt(jwts) => {
                    for jwt in jwts {
                        let _ =
                            futures::executor::block_on(proof::parse(jwt, ISSUER, &policy, now));
                    }
                }
                proof::Proofs::Attestation(jwt) => {
                    let _ = proof::parse_attested(jwt, &policy, now);
                }
            }
        }
    }
}

/// The form-encoded requests of OpenID4VC: the token request and the wallet's
/// `direct_post`, with the `vp_token` inside it.
pub fn openid_form(data: &[u8]) {
    let _ = serde_urlencoded::from_bytes::<TokenRequest>(data);
    if let Ok(post) = serde_urlencoded::from_bytes::<DirectPost>(data) {
        if let Some(token) = post.vp_token {
            vp_token(token.as_bytes());
        }
    }
}

/// An OpenID4VP `vp_token`: presentations by credential query id, and the credentials
/// inside each as DCQL sees them (SD-JWT, JWT presentations, JSON-LD presentations).
pub fn vp_token(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let Ok(answers) = answers(text) else { return };
    for presented in answers.values() {
        match presented {
            Value::Array(items) => items.iter().for_each(|p| drop(shown_in(p))),
            one => drop(shown_in(one)),
        }
    }
}

/// The issuer the OpenID4VCI target's proofs are made for.
pub const ISSUER: &str = "https://issuer.example";

/// A genesis made once, from a fixed key, for the chain targets.
pub fn genesis() -> &'static Genesis {
    static GENESIS: OnceLock<Genesis> = OnceLock::new();
    GENESIS.get_or_init(|| {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let chain = ChainId::parse("certus-fuzz").expect("a chain id");
        Genesis::create(chain, &key, 0).expect("a genesis")
    })
}
