//! The JSON-LD contexts Certus knows. They are bundled: ssi's (W3C credentials, Data
//! Integrity, Multikey, …) plus the Certus credential-type contexts from `schemas/`. A
//! context outside this set is an error; nothing is ever fetched.
//!
//! Processing a context (turning `https://www.w3.org/ns/credentials/v2` and a type context
//! into term definitions) costs more than expanding the credential that uses it, and every
//! credential of a type carries the same `@context`. The [`Loader`] therefore keeps the
//! processed form of each top-level `@context` it has seen (a bounded set).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use serde_json::{Map, Value};
use ssi::json_ld::context_processing::{Options as ProcessingOptions, Process};
use ssi::json_ld::syntax::{self as ld_syntax, TryFromJson};
use ssi::json_ld::{ContextLoader, LoadError, RemoteDocument};

/// A processed JSON-LD context: the active context a document's `@context` establishes.
pub type ActiveContext = ssi::json_ld::Context;

/// How many distinct top-level `@context` values the loader keeps processed. Certus
/// credentials use a handful; the bound keeps hostile input from growing the cache.
const MAX_PROCESSED_CONTEXTS: usize = 256;

/// The JSON-LD document loader over the bundled and registered contexts, with processed
/// contexts cached.
pub struct Loader {
    documents: RwLock<Arc<Documents>>,
    processed: RwLock<HashMap<String, Arc<ActiveContext>>>,
}

/// The documents a loader serves: ssi's bundled ones, ours, and those registered since.
struct Documents {
    loader: ContextLoader,
    /// Ours and the registered ones (URL → JSON text).
    extra: HashMap<String, String>,
    listed: Vec<(String, Value)>,
    known: HashSet<String>,
}

impl Documents {
    fn new(extra: HashMap<String, String>) -> Result<Self, String> {
        let loader = ContextLoader::default()
            .with_context_map_from(extra.clone())
            .map_err(|e| format!("invalid context document: {e}"))?;
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
        Ok(Self {
            loader,
            extra,
            listed,
            known,
        })
    }
}

impl ssi::json_ld::Loader for Loader {
    async fn load(
        &self,
        url: &ssi::json_ld::Iri,
    ) -> Result<RemoteDocument<ssi::json_ld::IriBuf>, LoadError> {
        let documents = self.documents();
        documents.loader.load(url).await
    }
}

impl Loader {
    fn documents(&self) -> Arc<Documents> {
        Arc::clone(&self.documents.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// The active context that `local` (a document's `@context` value) establishes over
    /// the initial context, exactly as JSON-LD expansion would compute it.
    pub async fn active_context(
        &self,
        local: &ld_syntax::Value,
    ) -> Result<Arc<ActiveContext>, String> {
        let key = local.to_string();
        if let Some(found) = self.read_cache().get(&key) {
            return Ok(Arc::clone(found));
        }
        let context = ld_syntax::context::Context::try_from_json(local.clone())
            .map_err(|e| format!("invalid JSON-LD context: {e}"))?;
        let processed = context
            .process_full(
                &mut (),
                &ActiveContext::default(),
                self,
                None,
                ProcessingOptions::default(),
                (),
            )
            .await
            .map_err(|e| format!("JSON-LD context processing failed: {e}"))?
            .into_processed();
        let processed = Arc::new(processed);
        let mut cache = self.processed.write().unwrap_or_else(|p| p.into_inner());
        if cache.len() < MAX_PROCESSED_CONTEXTS {
            cache.insert(key, Arc::clone(&processed));
        }
        Ok(processed)
    }

    fn read_cache(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<ActiveContext>>> {
        // A poisoned lock only means another thread panicked mid-insert of a complete entry.
        self.processed.read().unwrap_or_else(|p| p.into_inner())
    }
}

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

/// Contexts ssi bundles that Certus accepts (spec examples, test suites and VC 1.1
/// issuers use them) but does not list as contexts it issues with: the W3C examples, and
/// the `Ed25519Signature2020` suite's.
const W3C_EXAMPLE_CONTEXTS: &[&str] = &[
    "https://www.w3.org/ns/credentials/examples/v2",
    "https://www.w3.org/2018/credentials/examples/v1",
    "https://w3id.org/security/suites/ed25519-2020/v1",
];

/// Bundled and registered contexts and the JSON-LD loader over them. Clones share one
/// loader: a context registered through any of them is known to all.
#[derive(Clone)]
pub struct Contexts {
    loader: Arc<Loader>,
}

impl std::fmt::Debug for Contexts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contexts")
            .field("listed", &self.loader.documents().listed.len())
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
        let documents = Documents::new(documents.into_iter().collect())
            .expect("bundled contexts are valid JSON with IRI names");
        Self {
            loader: Arc::new(Loader {
                documents: RwLock::new(Arc::new(documents)),
                processed: RwLock::default(),
            }),
        }
    }

    /// Adds `documents` (URL, JSON text): the contexts of credential types defined while
    /// the server runs. A URL already known keeps its document (a context never changes).
    pub fn register(
        &self,
        documents: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(), String> {
        let mut guard = self
            .loader
            .documents
            .write()
            .unwrap_or_else(|p| p.into_inner());
        let mut extra = guard.extra.clone();
        for (url, json) in documents {
            serde_json::from_str::<Value>(&json)
                .map_err(|e| format!("context {url}: invalid JSON: {e}"))?;
            if !guard.known.contains(&url) {
                extra.insert(url, json);
            }
        }
        *guard = Arc::new(Documents::new(extra)?);
        Ok(())
    }

    /// The JSON-LD document loader over these contexts.
    pub fn loader(&self) -> &Loader {
        &self.loader
    }

    /// Every context a Certus credential may carry, with its document.
    pub fn listed(&self) -> Vec<(String, Value)> {
        self.loader.documents().listed.clone()
    }

    /// True when `url` is a context this loader can provide without the network.
    pub fn is_known(&self, url: &str) -> bool {
        self.loader.documents().known.contains(url)
    }

    /// The first context `document` refers to, at the top or embedded at any depth (in a
    /// context given inline too: its scoped contexts and `@import`), that is not a known
    /// context's URL; `a null context` for a context reset. Nothing is fetched, so a
    /// document is processed with known contexts and those it carries inline (JSON-LD
    /// 1.1), whose terms cannot redefine a protected one.
    pub fn first_unlisted(&self, document: &Map<String, Value>) -> Option<String> {
        self.inline_or_unlisted(document).err()
    }

    /// [`Self::first_unlisted`] as an error; otherwise whether `document` carries a context
    /// given inline (which issuance expands in safe mode before signing), in one walk.
    pub fn inline_or_unlisted(&self, document: &Map<String, Value>) -> Result<bool, String> {
        let mut inline = false;
        match first_unlisted(&self.loader.documents().known, document, &mut inline) {
            Some(unlisted) => Err(unlisted),
            None => Ok(inline),
        }
    }
}

/// [`Contexts::first_unlisted`] over one snapshot of the known URLs; sets `inline` when a
/// context given inline is met.
fn first_unlisted(
    known: &HashSet<String>,
    document: &Map<String, Value>,
    inline: &mut bool,
) -> Option<String> {
    document.iter().find_map(|(key, value)| {
        if key == "@context" {
            unlisted_context(known, value, inline)
        } else {
            unlisted_within(known, value, inline)
        }
    })
}

fn unlisted_within(known: &HashSet<String>, value: &Value, inline: &mut bool) -> Option<String> {
    match value {
        Value::Object(map) => first_unlisted(known, map, inline),
        Value::Array(items) => items.iter().find_map(|v| unlisted_within(known, v, inline)),
        _ => None,
    }
}

fn unlisted_context(known: &HashSet<String>, context: &Value, inline: &mut bool) -> Option<String> {
    match context {
        Value::String(url) if known.contains(url) => None,
        Value::String(url) => Some(url.clone()),
        Value::Array(items) => items
            .iter()
            .find_map(|c| unlisted_context(known, c, inline)),
        Value::Object(given) => {
            *inline = true;
            match given.get("@import") {
                Some(import) => unlisted_context(known, import, inline),
                None => None,
            }
            .or_else(|| unlisted_within(known, context, inline))
        }
        _ => Some("a null context".to_owned()),
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
    use serde_json::json;

    #[test]
    fn only_bundled_urls_pass_at_any_depth() {
        let contexts = Contexts::bundled();
        let check =
            |document: Value| contexts.first_unlisted(document.as_object().expect("object"));
        let v2 = "https://www.w3.org/ns/credentials/v2";
        assert_eq!(check(json!({"@context": [v2], "a": {"b": [1, "x"]}})), None);
        // Contexts given inline are JSON-LD 1.1's, and load nothing of their own...
        assert_eq!(
            check(json!({"@context": [v2, {"@vocab": "https://example.org/#"}]})),
            None
        );
        assert_eq!(
            check(json!({"@context": v2, "credentialSubject": {"@context": {"name": "@id"}}})),
            None
        );
        // ...but what they refer to must be known: scoped contexts and imports.
        assert_eq!(
            check(
                json!({"@context": [v2, {"t": {"@id": "https://example.org/t",
                "@context": "https://evil.example/scoped"}}]})
            ),
            Some("https://evil.example/scoped".into())
        );
        assert_eq!(
            check(json!({"@context": [v2, {"@import": "https://evil.example/i"}]})),
            Some("https://evil.example/i".into())
        );
        assert_eq!(
            check(json!({"@context": [v2], "x": [{"@context": "https://evil.example/c"}]})),
            Some("https://evil.example/c".into())
        );
        assert_eq!(
            check(json!({"@context": null})),
            Some("a null context".into())
        );
    }

    #[test]
    fn bundled_contexts_include_w3c_and_certus_ones_and_nothing_unknown() {
        let contexts = Contexts::bundled();
        assert!(contexts.is_known("https://www.w3.org/ns/credentials/v2"));
        assert!(contexts.is_known("https://w3id.org/certus/contexts/kyc/v1"));
        assert!(!contexts.is_known("https://evil.example/context"));
        let listed = contexts.listed();
        let urls: Vec<_> = listed.iter().map(|(u, _)| u.as_str()).collect();
        assert!(urls.contains(&"https://w3id.org/certus/contexts/food/v1"));
        assert!(contexts
            .listed()
            .iter()
            .all(|(_, doc)| doc.get("@context").is_some()));
    }

    fn context_value(json: Value) -> ld_syntax::Value {
        ld_syntax::to_value(&json).expect("JSON converts")
    }

    #[tokio::test]
    async fn a_processed_context_is_reused_and_the_cache_is_bounded() {
        let loader = Contexts::bundled().loader;
        let credential = context_value(serde_json::json!([
            "https://www.w3.org/ns/credentials/v2",
            "https://w3id.org/certus/contexts/kyc/v1"
        ]));
        let first = loader.active_context(&credential).await.expect("processes");
        let again = loader.active_context(&credential).await.expect("cached");
        assert!(Arc::ptr_eq(&first, &again));

        for n in 0..MAX_PROCESSED_CONTEXTS + 10 {
            let local =
                context_value(serde_json::json!({ format!("t{n}"): "https://example.org/t" }));
            loader.active_context(&local).await.expect("processes");
        }
        assert_eq!(loader.read_cache().len(), MAX_PROCESSED_CONTEXTS);
    }

    #[tokio::test]
    async fn a_registered_context_is_known_to_every_clone_and_never_replaced() {
        let contexts = Contexts::bundled();
        let clone = contexts.clone();
        let url = "https://certus.example/credential-types/T/v1/context";
        let local = context_value(serde_json::json!([super::super::VC_V2_CONTEXT, url]));
        assert!(clone.loader.active_context(&local).await.is_err());
        contexts
            .register([(
                url.to_owned(),
                r#"{"@context": {"T": "https://certus.example/v#T"}}"#.to_owned(),
            )])
            .expect("registers");
        assert!(clone.is_known(url));
        assert!(clone.listed().iter().any(|(u, _)| u == url));
        clone
            .loader
            .active_context(&local)
            .await
            .expect("now loads");
        contexts
            .register([(
                url.to_owned(),
                r#"{"@context": {"T": "https://evil.example/#T"}}"#.to_owned(),
            )])
            .expect("a known URL is skipped");
        let (_, doc) = contexts
            .listed()
            .into_iter()
            .find(|(u, _)| u == url)
            .expect("listed");
        assert_eq!(doc["@context"]["T"], "https://certus.example/v#T");
        assert!(contexts
            .register([("https://x.example/c".to_owned(), "{".to_owned())])
            .is_err());
    }

    #[tokio::test]
    async fn an_unknown_context_url_is_an_error_and_is_not_cached() {
        let loader = Contexts::bundled().loader;
        let unknown = context_value(serde_json::json!("https://evil.example/context"));
        let Err(error) = loader.active_context(&unknown).await else {
            panic!("an unbundled context must not load");
        };
        assert!(error.contains("context"), "{error}");
        assert!(loader.read_cache().is_empty());
    }
}
