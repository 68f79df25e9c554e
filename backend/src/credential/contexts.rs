//! The JSON-LD contexts Certus knows. They are bundled: ssi's (W3C credentials, Data
//! Integrity, Multikey, …) plus the Certus credential-type contexts from `schemas/`. A
//! context outside this set is an error; nothing is ever fetched.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};
use ssi::json_ld::ContextLoader;

/// The W3C contexts ssi bundles that Certus credentials and proofs use; listed by
/// `GET /contexts` next to the Certus ones.
const W3C_CONTEXTS: &[(&str, &str)] = &[
    (super::VC_V2_CONTEXT, ssi_contexts::CREDENTIALS_V2),
    (super::VC_V1_CONTEXT, ssi_contexts::CREDENTIALS_V1),
    (
        "https://w3id.org/security/data-integrity/v2",
        ssi_contexts::W3ID_DATA_INTEGRITY_V2,
    ),
    (
        "https://w3id.org/security/multikey/v1",
        ssi_contexts::W3ID_MULTIKEY_V1,
    ),
];

/// The W3C example contexts, accepted (spec examples and test suites use them) but not
/// listed as contexts Certus issues with.
const W3C_EXAMPLE_CONTEXTS: &[&str] = &[
    "https://www.w3.org/ns/credentials/examples/v2",
    "https://www.w3.org/2018/credentials/examples/v1",
];

/// Bundled contexts and the JSON-LD loader over them.
#[derive(Clone)]
pub struct Contexts {
    loader: ContextLoader,
    listed: Vec<(String, Value)>,
    known: HashSet<String>,
}

impl std::fmt::Debug for Contexts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contexts")
            .field("listed", &self.listed.len())
            .finish()
    }
}

impl Contexts {
    /// The contexts bundled with this binary.
    pub fn bundled() -> Self {
        Self::with_documents(
            certus_schemas::CONTEXTS
                .iter()
                .map(|d| (d.url.to_owned(), d.json.to_owned())),
        )
    }

    /// The bundled contexts plus `documents` (URL, JSON text), e.g. test-vector contexts.
    pub fn with_documents(documents: impl IntoIterator<Item = (String, String)>) -> Self {
        let extra: HashMap<String, String> = documents.into_iter().collect();
        let loader = ContextLoader::default()
            .with_context_map_from(extra.clone())
            .expect("bundled contexts are valid JSON with IRI names");
        let mut listed: Vec<(String, Value)> = W3C_CONTEXTS
            .iter()
            .map(|(url, json)| ((*url).to_owned(), parse(json)))
            .collect();
        let mut ours: Vec<_> = extra
            .iter()
            .map(|(url, json)| (url.clone(), parse(json)))
            .collect();
        ours.sort_by(|a, b| a.0.cmp(&b.0));
        listed.extend(ours);
        let known = listed
            .iter()
            .map(|(url, _)| url.clone())
            .chain(W3C_EXAMPLE_CONTEXTS.iter().map(|u| (*u).to_owned()))
            .collect();
        Self {
            loader,
            listed,
            known,
        }
    }

    /// The JSON-LD document loader over the bundled contexts.
    pub fn loader(&self) -> &ContextLoader {
        &self.loader
    }

    /// Every context a Certus credential may carry, with its document.
    pub fn listed(&self) -> &[(String, Value)] {
        &self.listed
    }

    /// True when `url` is a context this loader can provide without the network.
    pub fn is_known(&self, url: &str) -> bool {
        self.known.contains(url)
    }
}

fn parse(json: &str) -> Value {
    serde_json::from_str(json).expect("bundled contexts are valid JSON")
}

/// The context URLs of a document's `@context` (embedded context objects are skipped).
pub fn context_urls(document: &Map<String, Value>) -> Vec<&str> {
    match document.get("@context") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_contexts_include_w3c_and_certus_ones_and_nothing_unknown() {
        let contexts = Contexts::bundled();
        assert!(contexts.is_known("https://www.w3.org/ns/credentials/v2"));
        assert!(contexts.is_known("https://w3id.org/certus/contexts/kyc/v1"));
        assert!(!contexts.is_known("https://evil.example/context"));
        let urls: Vec<_> = contexts.listed().iter().map(|(u, _)| u.as_str()).collect();
        assert!(urls.contains(&"https://w3id.org/certus/contexts/food/v1"));
        assert!(contexts
            .listed()
            .iter()
            .all(|(_, doc)| doc.get("@context").is_some()));
    }
}
