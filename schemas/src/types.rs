//! Institutions' own credential types: what an admin sends to define one (a JSON Schema, or
//! a list of claims the schema is drafted from), and the drafting itself, shared by the
//! server and the portal's preview.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// The kind of value a drafted claim holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum ClaimKind {
    String,
    Integer,
    Number,
    Boolean,
    /// An `xsd:date` (`2026-09-15`).
    Date,
    /// An `xsd:dateTime`.
    DateTime,
    Email,
    Uri,
}

impl ClaimKind {
    /// Every kind, in the order the portal offers them.
    pub const ALL: [ClaimKind; 8] = [
        Self::String,
        Self::Integer,
        Self::Number,
        Self::Boolean,
        Self::Date,
        Self::DateTime,
        Self::Email,
        Self::Uri,
    ];

    /// The name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Date => "date",
            Self::DateTime => "dateTime",
            Self::Email => "email",
            Self::Uri => "uri",
        }
    }

    /// The JSON Schema of a value of this kind.
    fn schema(self) -> Value {
        match self {
            Self::String => json!({"type": "string", "minLength": 1, "maxLength": 500}),
            Self::Integer => json!({"type": "integer"}),
            Self::Number => json!({"type": "number"}),
            Self::Boolean => json!({"type": "boolean"}),
            Self::Date => json!({"type": "string", "format": "date"}),
            Self::DateTime => json!({"type": "string", "format": "date-time"}),
            Self::Email => json!({"type": "string", "format": "email", "maxLength": 254}),
            Self::Uri => json!({"type": "string", "format": "uri", "maxLength": 2000}),
        }
    }

    /// A value of this kind for a drafted example.
    fn example(self) -> Value {
        match self {
            Self::String => json!("Example"),
            Self::Integer => json!(1),
            Self::Number => json!(1.5),
            Self::Boolean => json!(true),
            Self::Date => json!("2026-01-15"),
            Self::DateTime => json!("2026-01-15T09:00:00Z"),
            Self::Email => json!("someone@example.org"),
            Self::Uri => json!("https://example.org/"),
        }
    }
}

/// One claim of a type drafted from a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimSpec {
    /// The claim's name in `credentialSubject` (letters, digits and `_`, starting with a
    /// letter).
    pub name: String,
    /// How forms and wallets label it; the name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub kind: ClaimKind,
    #[serde(default)]
    pub required: bool,
    /// Personal data (selectively disclosable in SD-JWT, encrypted at rest, listed in the
    /// records of processing).
    #[serde(default)]
    pub personal: bool,
    /// The only values allowed (for `string` claims).
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
}

/// How a wallet shows a type, in one locale (OpenID4VCI `display`, SD-JWT VC type metadata
/// `display`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypeDisplay {
    /// BCP 47 language tag, e.g. `en` or `de-CH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `#rrggbb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
    /// `#rrggbb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_color: Option<String>,
    /// An `https:` or `data:` URL of the logo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
}

/// Body of `POST /credential-types` (and of a new version, without `type`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewCredentialType {
    /// The VC `type` value, e.g. `OrganicFarmingCertificate` (a letter, then letters and
    /// digits; unique on this server). Taken from the path for a new version.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// The JSON Schema (2020-12) of `credentialSubject`, with `x-certus-personal: true` on
    /// personal claims. Give this or `claims`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub schema: Option<Value>,
    /// The claims to draft the schema from. Give this or `schema`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<ClaimSpec>>,
    /// How long personal data of its credentials is kept after issuance (ISO 8601
    /// duration, e.g. `P10Y`).
    pub retention: String,
    /// The categories of people its personal claims are about, for the records of
    /// processing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_subjects: Option<String>,
    /// Only issuers accredited for it on the trust registry may issue it.
    #[serde(default)]
    pub accreditation_required: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub display: Vec<TypeDisplay>,
    /// A valid `credentialSubject`; drafted from the claims when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub example: Option<Value>,
}

/// The JSON Schema of `credentialSubject` for `claims` (with an optional `id`, the
/// subject's DID), and an example subject that satisfies it.
pub fn draft_schema(claims: &[ClaimSpec]) -> (Value, Value) {
    let mut properties = Map::new();
    properties.insert(
        "id".into(),
        json!({"type": "string", "format": "uri", "description": "The subject's DID."}),
    );
    let mut example = Map::new();
    let mut required = Vec::new();
    for claim in claims {
        let mut schema = claim.kind.schema();
        let object = schema
            .as_object_mut()
            .expect("a kind's schema is an object");
        if let Some(title) = &claim.title {
            object.insert("title".into(), json!(title));
        }
        if let Some(description) = &claim.description {
            object.insert("description".into(), json!(description));
        }
        let mut value = claim.kind.example();
        if let Some(allowed) = claim.allowed.as_ref().filter(|a| !a.is_empty()) {
            object.insert("enum".into(), json!(allowed));
            value = json!(allowed[0]);
        }
        if claim.personal {
            object.insert("x-certus-personal".into(), json!(true));
        }
        if claim.required {
            required.push(json!(claim.name));
        }
        properties.insert(claim.name.clone(), schema);
        example.insert(claim.name.clone(), value);
    }
    (
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": required,
            "properties": properties,
        }),
        Value::Object(example),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drafted_schema_lists_each_claim_with_its_kind_flags_and_example() {
        let claims = vec![
            ClaimSpec {
                name: "farmName".into(),
                title: Some("Farm".into()),
                description: None,
                kind: ClaimKind::String,
                required: true,
                personal: false,
                allowed: None,
            },
            ClaimSpec {
                name: "grade".into(),
                title: None,
                description: None,
                kind: ClaimKind::String,
                required: false,
                personal: false,
                allowed: Some(vec!["A".into(), "B".into()]),
            },
            ClaimSpec {
                name: "inspector".into(),
                title: None,
                description: None,
                kind: ClaimKind::Email,
                required: true,
                personal: true,
                allowed: None,
            },
        ];
        let (schema, example) = draft_schema(&claims);
        assert_eq!(schema["required"], json!(["farmName", "inspector"]));
        assert_eq!(schema["properties"]["farmName"]["title"], "Farm");
        assert_eq!(schema["properties"]["grade"]["enum"], json!(["A", "B"]));
        assert_eq!(schema["properties"]["inspector"]["format"], "email");
        assert_eq!(schema["properties"]["inspector"]["x-certus-personal"], true);
        assert_eq!(example["grade"], "A");
        assert_eq!(example["inspector"], "someone@example.org");
        assert!(example.get("id").is_none());
    }

    #[test]
    fn a_definition_names_its_fields_on_the_wire_and_refuses_unknown_ones() {
        let body = json!({
            "type": "BoilerInspection", "title": "Boiler inspection", "retention": "P5Y",
            "claims": [{"name": "serial", "type": "string", "required": true}]
        });
        let parsed: NewCredentialType = serde_json::from_value(body).expect("parses");
        assert_eq!(parsed.type_name.as_deref(), Some("BoilerInspection"));
        assert_eq!(parsed.claims.expect("claims")[0].kind, ClaimKind::String);
        let unknown = json!({"title": "x", "retention": "P1Y", "colour": "red"});
        assert!(serde_json::from_value::<NewCredentialType>(unknown).is_err());
    }
}
