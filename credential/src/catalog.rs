//! The credential types Certus issues: each a JSON Schema of `credentialSubject` with its
//! JSON-LD context, personal-data flags and an example, loaded from `schemas/`.

use certus_schemas::privacy::Period;
use serde_json::Value;

use certus_ledger::Digest;

/// One credential type.
#[derive(Debug)]
pub struct CredentialType {
    /// The VC `type` value, e.g. `KycCredential`.
    pub name: String,
    pub title: String,
    pub description: String,
    /// `$id` of the JSON Schema.
    pub schema_id: String,
    /// The JSON-LD context credentials of this type carry.
    pub context: String,
    /// The SD-JWT VC `vct` of this type.
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
    pub schema: Value,
    /// SHA-256 of the schema file as published (`schemas/credential-types/`): the type's
    /// identity on the chain's trust registry (`sha256sum` reproduces it).
    pub schema_hash: Digest,
    pub example: Value,
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
    fn from_schema(json: &str) -> Result<Self, String> {
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
        Ok(Self {
            retention,
            data_subjects: text("x-certus-data-subjects")?,
            vct: schema_id.replace("/schemas/", "/types/"),
            title: text("title")?,
            description: text("description")?,
            context: text("x-certus-context")?,
            schema_id,
            personal_claims,
            accreditation_required: schema.get("x-certus-accreditation-required")
                == Some(&Value::Bool(true)),
            example,
            validator,
            name,
            schema,
            schema_hash: Digest::of(&[json.as_bytes()]),
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

/// Every credential type known to this server.
#[derive(Debug)]
pub struct Catalog {
    types: Vec<CredentialType>,
}

impl Catalog {
    /// The types bundled from `schemas/`.
    pub fn bundled() -> Self {
        let types = certus_schemas::CREDENTIAL_TYPE_SCHEMAS
            .iter()
            .map(|doc| CredentialType::from_schema(doc.json).expect("bundled schemas are complete"))
            .collect();
        Self { types }
    }

    /// All types.
    pub fn types(&self) -> &[CredentialType] {
        &self.types
    }

    /// The type named `name`.
    pub fn get(&self, name: &str) -> Option<&CredentialType> {
        self.types.iter().find(|t| t.name == name)
    }

    /// The type whose SD-JWT `vct` is `vct`.
    pub fn by_vct(&self, vct: &str) -> Option<&CredentialType> {
        self.types.iter().find(|t| t.vct == vct)
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
        for t in catalog.types() {
            assert_eq!(t.validate(&t.example), vec![], "{}", t.name);
        }
    }

    #[test]
    fn every_schema_property_has_a_term_in_the_types_context() {
        let catalog = Catalog::bundled();
        let contexts = Contexts::bundled();
        for t in catalog.types() {
            let (_, doc) = contexts
                .listed()
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
