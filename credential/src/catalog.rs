//! The credential types Certus issues: each a JSON Schema of `credentialSubject` with its
//! JSON-LD context, personal-data flags and an example. The four bundled with the binary
//! (`schemas/`) are seeded at first start; institutions define more (decision 15). Every
//! type is versioned: a version's schema, context and `vct` never change.

use std::sync::{Arc, RwLock};

use certus_schemas::privacy::Period;
use serde_json::{json, Map, Value};

use certus_ledger::Digest;

/// One version of a credential type.
#[derive(Debug)]
pub struct CredentialType {
    /// The VC `type` value, e.g. `KycCredential`.
    pub name: String,
    /// The version (`x-certus-version`, 1 when absent).
    pub version: u32,
    pub title: String,
    pub description: String,
    /// `$id` of the JSON Schema.
    pub schema_id: String,
    /// The JSON-LD context credentials of this type carry.
    pub context: String,
    /// `sha256-…` (Subresource Integrity) of the context document as published
    /// (`x-certus-context-integrity`, or computed from the bundled document): the schema,
    /// whose hash is on the chain, pins its context.
    pub context_integrity: String,
    /// The SD-JWT VC `vct` of this type (`x-certus-vct`; for the bundled types, the
    /// schema's `$id` with `/types/` for `/schemas/`).
    pub vct: String,
    /// Claims flagged `x-certus-personal`.
    pub personal_claims: Vec<String>,
    /// Only issuers accredited for the type on the trust registry may issue it
    /// (`x-certus-accreditation-required`), e.g. KYC credentials.
    pub accreditation_required: bool,
    /// How long the personal data of a credential of this type is kept after issuance
    /// (`x-certus-retention`, an ISO 8601 duration), unless an institution sets its own.
    pub retention: String,
    /// The categories of data subjects its personal claims are about
    /// (`x-certus-data-subjects`), for the records of processing.
    pub data_subjects: String,
    /// How wallets show it (`x-certus-display`): a list of `{locale, name, description,
    /// backgroundColor, textColor, logo}`.
    pub display: Vec<Value>,
    pub schema: Value,
    /// SHA-256 of the schema as published (the `$id` document): the type's identity on
    /// the chain's trust registry (`sha256sum` reproduces it).
    pub schema_hash: Digest,
    pub example: Value,
    /// The tenant that defined it; `None` for the bundled types every institution shares.
    pub owner: Option<String>,
    /// Retired: no longer issued, its credentials still verify.
    pub retired: bool,
    /// `sha256-…` (Subresource Integrity) of its type metadata as served
    /// ([`Self::type_metadata`], compact JSON): the `vct#integrity` of its SD-JWT VCs.
    pub metadata_integrity: String,
    validator: jsonschema::Validator,
}

/// One reason a subject does not match its type's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// JSON pointer into the subject.
    pub path: String,
    /// What is wrong, without echoing the value (it may be personal data).
    pub message: String,
}

impl CredentialType {
    /// Reads a type from its published schema text (with its `x-certus-*` annotations).
    pub fn from_schema(json: &str) -> Result<Self, String> {
        let schema: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let text = |key: &str| -> Result<String, String> {
            schema
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("schema lacks `{key}`"))
        };
        let name = text("x-certus-credential-type")?;
        let personal_claims = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|props| {
                props
                    .iter()
                    .filter(|(_, p)| p.get("x-certus-personal") == Some(&Value::Bool(true)))
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default();
        let example = schema
            .get("examples")
            .and_then(|e| e.get(0))
            .cloned()
            .ok_or_else(|| format!("{name}: schema has no example"))?;
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| format!("{name}: invalid JSON Schema: {e}"))?;
        let schema_id = text("$id")?;
        let retention = text("x-certus-retention")?;
        if Period::parse(&retention).is_none() {
            return Err(format!(
                "{name}: x-certus-retention `{retention}` is not an ISO 8601 duration"
            ));
        }
        let version = match schema.get("x-certus-version") {
            None => 1,
            Some(v) => v
                .as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .filter(|v| *v > 0)
                .ok_or_else(|| format!("{name}: x-certus-version must be a positive integer"))?,
        };
        let context = text("x-certus-context")?;
        let context_integrity = match schema.get("x-certus-context-integrity") {
            Some(_) => text("x-certus-context-integrity")?,
            None => certus_schemas::CONTEXTS
                .iter()
                .find(|c| c.url == context)
                .map(|c| integrity(c.json))
                .ok_or_else(|| format!("{name}: x-certus-context-integrity is required"))?,
        };
        let vct = match schema.get("x-certus-vct") {
            Some(_) => text("x-certus-vct")?,
            None => schema_id.replace("/schemas/", "/types/"),
        };
        let mut read = Self {
            retention,
            version,
            vct,
            data_subjects: text("x-certus-data-subjects")?,
            display: schema
                .get("x-certus-display")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            title: text("title")?,
            description: text("description")?,
            context,
            context_integrity,
            schema_id,
            personal_claims,
            accreditation_required: schema.get("x-certus-accreditation-required")
                == Some(&Value::Bool(true)),
            example,
            validator,
            name,
            schema,
            schema_hash: Digest::of(&[json.as_bytes()]),
            owner: None,
            retired: false,
            metadata_integrity: String::new(),
        };
        read.metadata_integrity = integrity(&read.type_metadata().to_string());
        Ok(read)
    }

    /// Its SD-JWT VC type metadata (draft-ietf-oauth-sd-jwt-vc, "Type Metadata"), served
    /// at its `vct`.
    pub fn type_metadata(&self) -> Value {
        let display: Vec<Value> = self
            .display
            .iter()
            .map(|d| {
                let mut entry = Map::new();
                entry.insert(
                    "lang".into(),
                    d.get("locale").cloned().unwrap_or(json!("en")),
                );
                entry.insert(
                    "name".into(),
                    d.get("name").cloned().unwrap_or(json!(self.title)),
                );
                if let Some(description) = d.get("description") {
                    entry.insert("description".into(), description.clone());
                }
                let mut simple = Map::new();
                if let Some(logo) = d.get("logo") {
                    simple.insert("logo".into(), json!({ "uri": logo }));
                }
                for (from, to) in [
                    ("backgroundColor", "background_color"),
                    ("textColor", "text_color"),
                ] {
                    if let Some(colour) = d.get(from) {
                        simple.insert(to.into(), colour.clone());
                    }
                }
                if !simple.is_empty() {
                    entry.insert("rendering".into(), json!({ "simple": simple }));
                }
                Value::Object(entry)
            })
            .collect();
        let display = if display.is_empty() {
            vec![json!({"lang": "en", "name": self.title, "description": self.description})]
        } else {
            display
        };
        let claims: Vec<Value> = self
            .claim_names()
            .map(|(claim, title, required)| {
                json!({
                    "path": [claim],
                    "display": [{"lang": "en", "label": title}],
                    "sd": if self.personal_claims.iter().any(|p| p == claim) { "always" } else { "allowed" },
                    "mandatory": required,
                })
            })
            .collect();
        json!({
            "vct": self.vct,
            "name": self.title,
            "description": self.description,
            "display": display,
            "claims": claims,
            "schema_uri": self.schema_id,
            "schema_uri#integrity": integrity_of(&self.schema_hash),
        })
    }

    /// The subject's claims as the schema lists them (but `id`): name, title (the name when
    /// the schema gives none) and whether it is required.
    pub fn claim_names(&self) -> impl Iterator<Item = (&str, &str, bool)> {
        let required: Vec<&str> = self.schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        self.schema["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(name, _)| *name != "id")
            .map(move |(name, p)| {
                let title = p.get("title").and_then(Value::as_str).unwrap_or(name);
                (name.as_str(), title, required.contains(&name.as_str()))
            })
    }

    /// Checks a `credentialSubject` against the schema; every violation, in order.
    pub fn validate(&self, subject: &Value) -> Vec<SchemaViolation> {
        self.violations(subject, true)
    }

    /// Like [`Self::validate`], but claims a holder chose not to disclose are not missing.
    pub fn validate_disclosed(&self, subject: &Value) -> Vec<SchemaViolation> {
        self.violations(subject, false)
    }

    fn violations(&self, subject: &Value, all_required: bool) -> Vec<SchemaViolation> {
        self.validator
            .iter_errors(subject)
            .filter(|e| {
                all_required
                    || !matches!(
                        e.kind,
                        jsonschema::error::ValidationErrorKind::Required { .. }
                    )
            })
            .map(|e| SchemaViolation {
                path: e.instance_path.to_string(),
                message: e.masked().to_string(),
            })
            .collect()
    }
}

/// The deepest nesting of objects and arrays a defined type's schema may have.
const MAX_SCHEMA_DEPTH: usize = 8;

/// True for a claim name that can be a JSON-LD term of its own: a letter, then letters,
/// digits and `_` (no `@`, no `:`, so it is neither a keyword nor an IRI), at most 64.
pub fn is_term(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 64
}

/// True when the VC 2.0 context defines `term` (e.g. `name`, `VerifiableCredential`).
pub fn defined_by_vc_v2(term: &str) -> bool {
    vc_v2_terms().contains(term)
}

/// The terms the VC 2.0 context defines (and protects) at the top: a claim of that name
/// keeps the W3C meaning, so a generated context does not define it again.
fn vc_v2_terms() -> std::collections::HashSet<String> {
    let document: Value = serde_json::from_str(ssi_contexts::CREDENTIALS_V2)
        .expect("ssi bundles a valid VC 2.0 context");
    document["@context"]
        .as_object()
        .map(|terms| terms.keys().cloned().collect())
        .unwrap_or_default()
}

/// `sha256-…` (Subresource Integrity, base64 of the SHA-256) of a published document.
pub fn integrity(text: &str) -> String {
    integrity_of(&Digest::of(&[text.as_bytes()]))
}

/// The Subresource Integrity form of a document's SHA-256 `digest`.
pub fn integrity_of(digest: &Digest) -> String {
    use base64::Engine as _;
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest.as_bytes())
    )
}

/// A claim that cannot be a term: its JSON pointer into the schema, and why.
pub type TermError = (String, String);

/// The JSON-LD context of a defined type: its name and every property of `schema` (at any
/// depth, nested objects with scoped contexts) as terms under `vocab`, dates typed as
/// `xsd:date`/`xsd:dateTime`, protected as the W3C contexts are. Claims the VC 2.0
/// context already defines (`name`, `description`, …) keep that meaning. Refuses a claim
/// name that cannot be a term, or nesting deeper than eight levels.
pub fn context_of(type_name: &str, vocab: &str, schema: &Value) -> Result<Value, TermError> {
    let reserved = vc_v2_terms();
    let mut terms = Map::new();
    terms.insert("@version".into(), Value::from(1.1));
    terms.insert("@protected".into(), Value::Bool(true));
    terms.insert(
        type_name.into(),
        serde_json::json!({ "@id": format!("{vocab}#{type_name}") }),
    );
    define_terms(&mut terms, vocab, schema, &reserved, "", 0)?;
    Ok(serde_json::json!({ "@context": terms }))
}

fn define_terms(
    terms: &mut Map<String, Value>,
    vocab: &str,
    schema: &Value,
    reserved: &std::collections::HashSet<String>,
    path: &str,
    depth: usize,
) -> Result<(), TermError> {
    if depth > MAX_SCHEMA_DEPTH {
        return Err((
            path.to_owned(),
            format!("nested deeper than {MAX_SCHEMA_DEPTH} levels"),
        ));
    }
    let Some(properties) = schema.get("properties") else {
        return Ok(());
    };
    let properties = properties
        .as_object()
        .ok_or_else(|| (format!("{path}/properties"), "must be an object".to_owned()))?;
    for (name, property) in properties {
        let here = format!("{path}/properties/{name}");
        if name == "id" {
            continue;
        }
        if !is_term(name) || name == "type" {
            return Err((
                here,
                "a claim name is a letter, then letters, digits or `_` (at most 64), and not `type`"
                    .to_owned(),
            ));
        }
        if reserved.contains(name) {
            continue;
        }
        // An array's items define the terms inside it.
        let item = match property.get("type").and_then(Value::as_str) {
            Some("array") => property.get("items").unwrap_or(&Value::Null),
            _ => property,
        };
        let mut definition = Map::new();
        definition.insert("@id".into(), Value::String(format!("{vocab}#{name}")));
        match item.get("format").and_then(Value::as_str) {
            Some("date") => {
                definition.insert(
                    "@type".into(),
                    "http://www.w3.org/2001/XMLSchema#date".into(),
                );
            }
            Some("date-time") => {
                definition.insert(
                    "@type".into(),
                    "http://www.w3.org/2001/XMLSchema#dateTime".into(),
                );
            }
            _ => {}
        }
        if item.get("properties").is_some() {
            let mut scoped = Map::new();
            scoped.insert("@protected".into(), Value::Bool(true));
            define_terms(&mut scoped, vocab, item, reserved, &here, depth + 1)?;
            definition.insert("@context".into(), Value::Object(scoped));
        }
        terms.insert(name.clone(), Value::Object(definition));
    }
    Ok(())
}

/// Every credential type known to this server, every version. Shared by the services;
/// a type defined or retired while the server runs is seen by all of them at once.
#[derive(Debug, Default)]
pub struct Catalog {
    types: RwLock<Arc<Vec<Arc<CredentialType>>>>,
}

impl Catalog {
    /// The types bundled from `schemas/` (what a server seeds at first start).
    pub fn bundled() -> Self {
        Self::new(Self::bundled_types())
    }

    /// The bundled types, parsed.
    pub fn bundled_types() -> Vec<CredentialType> {
        certus_schemas::CREDENTIAL_TYPE_SCHEMAS
            .iter()
            .map(|doc| CredentialType::from_schema(doc.json).expect("bundled schemas are complete"))
            .collect()
    }

    /// A catalog of `types`.
    pub fn new(types: Vec<CredentialType>) -> Self {
        Self {
            types: RwLock::new(Arc::new(types.into_iter().map(Arc::new).collect())),
        }
    }

    /// Every version of every type, in the order they were added.
    pub fn types(&self) -> Arc<Vec<Arc<CredentialType>>> {
        Arc::clone(&self.types.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Replaces every type (with those stored now).
    pub fn replace(&self, types: Vec<CredentialType>) {
        *self.types.write().unwrap_or_else(|p| p.into_inner()) =
            Arc::new(types.into_iter().map(Arc::new).collect());
    }

    /// Adds a version, or replaces the one with the same name and version (retiring it).
    pub fn put(&self, credential_type: CredentialType) {
        let mut guard = self.types.write().unwrap_or_else(|p| p.into_inner());
        let mut types: Vec<_> = guard
            .iter()
            .filter(|t| !(t.name == credential_type.name && t.version == credential_type.version))
            .cloned()
            .collect();
        types.push(Arc::new(credential_type));
        *guard = Arc::new(types);
    }

    fn find(&self, found: impl Fn(&CredentialType) -> bool) -> Option<Arc<CredentialType>> {
        self.types
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|t| found(t))
            .max_by_key(|t| t.version)
            .cloned()
    }

    /// The names of the types, in the order they were added.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for t in self.types().iter() {
            if !names.contains(&t.name) {
                names.push(t.name.clone());
            }
        }
        names
    }

    /// The newest issuable version of each type, in the order the types were added.
    pub fn current(&self) -> Vec<Arc<CredentialType>> {
        self.names()
            .iter()
            .filter_map(|n| self.issuable(n))
            .collect()
    }

    /// The newest version of each type, retired or not.
    pub fn newest(&self) -> Vec<Arc<CredentialType>> {
        self.names().iter().filter_map(|n| self.get(n)).collect()
    }

    /// The newest version of the type named `name`, retired or not.
    pub fn get(&self, name: &str) -> Option<Arc<CredentialType>> {
        self.find(|t| t.name == name)
    }

    /// The newest version of `name` that may be issued (not retired).
    pub fn issuable(&self, name: &str) -> Option<Arc<CredentialType>> {
        self.find(|t| t.name == name && !t.retired)
    }

    /// Version `version` of `name`.
    pub fn version(&self, name: &str, version: u32) -> Option<Arc<CredentialType>> {
        self.find(|t| t.name == name && t.version == version)
    }

    /// The type version a credential was issued under: one of its `types` whose context is
    /// among its `@context` URLs `contexts` (each version has its own context).
    pub fn of_credential(&self, types: &[&str], contexts: &[&str]) -> Option<Arc<CredentialType>> {
        self.find(|t| types.contains(&t.name.as_str()) && contexts.contains(&t.context.as_str()))
    }

    /// The type whose SD-JWT `vct` is `vct`.
    pub fn by_vct(&self, vct: &str) -> Option<Arc<CredentialType>> {
        self.find(|t| t.vct == vct)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contexts::Contexts;

    #[test]
    fn every_bundled_example_is_valid_against_its_own_schema() {
        let catalog = Catalog::bundled();
        assert_eq!(catalog.types().len(), 4);
        for t in catalog.types().iter() {
            assert_eq!(t.validate(&t.example), vec![], "{}", t.name);
        }
    }

    #[test]
    fn every_schema_property_has_a_term_in_the_types_context() {
        let catalog = Catalog::bundled();
        let listed = Contexts::bundled().listed();
        for t in catalog.types().iter() {
            let (_, doc) = listed
                .iter()
                .find(|(url, _)| *url == t.context)
                .unwrap_or_else(|| panic!("{}: context {} not bundled", t.name, t.context));
            let terms = doc["@context"].as_object().expect("object context");
            assert!(terms.contains_key(&t.name), "{}: type has no term", t.name);
            for prop in t.schema["properties"]
                .as_object()
                .expect("properties")
                .keys()
            {
                if prop != "id" {
                    assert!(terms.contains_key(prop), "{}: no term for {prop}", t.name);
                }
            }
        }
    }

    #[test]
    fn a_generated_context_scopes_nested_claims_and_refuses_names_that_are_not_terms() {
        let schema = serde_json::json!({"type": "object", "properties": {
            "id": {"type": "string"},
            "site": {"type": "object", "properties": {"city": {"type": "string"}, "since": {"type": "string", "format": "date-time"}}},
            "audits": {"type": "array", "items": {"type": "object", "properties": {"day": {"type": "string", "format": "date"}}}},
            "description": {"type": "string"}
        }});
        let context = context_of("Farm", "https://c.example/vocab", &schema).expect("generates");
        let terms = &context["@context"];
        assert_eq!(terms["@protected"], true);
        assert_eq!(terms["Farm"]["@id"], "https://c.example/vocab#Farm");
        assert!(terms.get("id").is_none() && terms.get("description").is_none());
        assert_eq!(
            terms["site"]["@context"]["city"]["@id"],
            "https://c.example/vocab#city"
        );
        assert_eq!(
            terms["site"]["@context"]["since"]["@type"],
            "http://www.w3.org/2001/XMLSchema#dateTime"
        );
        assert_eq!(
            terms["audits"]["@context"]["day"]["@type"],
            "http://www.w3.org/2001/XMLSchema#date"
        );
        for bad in ["@id", "a:b", "type", "1st", "with space"] {
            let schema = serde_json::json!({"properties": {"ok": {"properties": {bad: {}}}}});
            let (path, _) = context_of("Farm", "https://c.example/vocab", &schema).expect_err(bad);
            assert_eq!(path, format!("/properties/ok/properties/{bad}"));
        }
        let mut deep = serde_json::json!({"type": "string"});
        for _ in 0..12 {
            deep = serde_json::json!({"type": "object", "properties": {"x": deep}});
        }
        assert!(context_of("Farm", "https://c.example/vocab", &deep).is_err());
    }

    #[test]
    fn a_credential_finds_the_version_its_context_names_and_retired_versions_are_not_issued() {
        let catalog = Catalog::bundled();
        let kyc = catalog.get("KycCredential").expect("kyc");
        let mut v2 = CredentialType::from_schema(
            &kyc.schema
                .as_object()
                .map(|s| {
                    let mut s = s.clone();
                    s.insert("x-certus-version".into(), 2.into());
                    s.insert("x-certus-context".into(), "https://c.example/kyc/v2".into());
                    s.insert("x-certus-context-integrity".into(), "sha256-x".into());
                    Value::Object(s).to_string()
                })
                .expect("object"),
        )
        .expect("reads");
        v2.retired = true;
        catalog.put(v2);
        let found = |context: &str| {
            catalog
                .of_credential(
                    &["VerifiableCredential", "KycCredential"],
                    &[crate::VC_V2_CONTEXT, context],
                )
                .map(|t| t.version)
        };
        assert_eq!(found("https://c.example/kyc/v2"), Some(2));
        assert_eq!(found(&kyc.context), Some(1));
        assert_eq!(found("https://other.example/kyc"), None);
        assert_eq!(catalog.get("KycCredential").map(|t| t.version), Some(2));
        assert_eq!(
            catalog.issuable("KycCredential").map(|t| t.version),
            Some(1)
        );
        assert_eq!(catalog.current().len(), 4);
        assert_eq!(catalog.types().len(), 5);
    }

    #[test]
    fn a_violation_names_the_path_and_does_not_echo_the_value() {
        let catalog = Catalog::bundled();
        let kyc = catalog.get("KycCredential").expect("kyc");
        let mut subject = kyc.example.clone();
        subject["birthDate"] = Value::String("secret-not-a-date".into());
        subject
            .as_object_mut()
            .expect("object")
            .remove("familyName");
        let violations = kyc.validate(&subject);
        assert!(
            violations.iter().any(|v| v.path == "/birthDate"),
            "{violations:?}"
        );
        assert!(violations.iter().any(|v| v.message.contains("familyName")));
        assert!(violations
            .iter()
            .all(|v| !v.message.contains("secret-not-a-date")));
    }
}
