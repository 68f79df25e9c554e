//! A form generated from a credential type's JSON Schema: one labelled field per claim of
//! `credentialSubject`, checked as it is typed against the schema's rules, with the error
//! next to the field. The batch import checks CSV rows with the same rules.

use std::collections::BTreeMap;

use certus_schemas::wire::CredentialTypeInfo;
use leptos::prelude::*;
use serde_json::{json, Map, Value};

/// How a claim is entered.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Text,
    Date,
    Uri,
    Choice(Vec<String>),
    Integer { min: Option<i64>, max: Option<i64> },
    Number,
    Boolean,
}

/// One claim of the schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub label: String,
    pub description: Option<String>,
    pub kind: Kind,
    pub required: bool,
    pub personal: bool,
    pub pattern: Option<String>,
    /// The schema's example value, to show what a patterned value looks like.
    pub example: Option<String>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
}

/// The claims of a type's `credentialSubject` schema: the required ones in the schema's
/// `required` order, then the optional ones, the subject's `id` last.
pub fn fields(info: &CredentialTypeInfo) -> Vec<Field> {
    let mut fields = unordered_fields(info);
    let required: Vec<&str> = info.schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    fields.sort_by_key(|f| {
        (
            f.name == "id",
            required
                .iter()
                .position(|r| *r == f.name)
                .unwrap_or(usize::MAX),
        )
    });
    fields
}

fn unordered_fields(info: &CredentialTypeInfo) -> Vec<Field> {
    let schema = &info.schema;
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema["properties"].as_object() else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, p)| {
            let kind = match (p["type"].as_str(), p["format"].as_str()) {
                _ if p["enum"].is_array() => Kind::Choice(
                    p["enum"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect(),
                ),
                (Some("integer"), _) => Kind::Integer {
                    min: p["minimum"].as_i64(),
                    max: p["maximum"].as_i64(),
                },
                (Some("number"), _) => Kind::Number,
                (Some("boolean"), _) => Kind::Boolean,
                (_, Some("date")) => Kind::Date,
                (_, Some("uri")) => Kind::Uri,
                _ => Kind::Text,
            };
            Field {
                label: match (p["title"].as_str(), name.as_str()) {
                    (Some(title), _) => title.to_owned(),
                    (None, "id") => "Subject id (a DID)".to_owned(),
                    (None, _) => humanise(name),
                },
                description: p["description"].as_str().map(str::to_owned),
                required: required.contains(&name.as_str()),
                personal: info.personal_claims.contains(name),
                pattern: p["pattern"].as_str().map(str::to_owned),
                example: schema["examples"][0][name.as_str()]
                    .as_str()
                    .map(str::to_owned),
                min_length: p["minLength"].as_u64().map(|n| n as usize),
                max_length: p["maxLength"].as_u64().map(|n| n as usize),
                name: name.clone(),
                kind,
            }
        })
        .collect()
}

/// A type's title from the catalog; its name when the catalog does not know it.
pub fn type_title(catalog: &[CredentialTypeInfo], type_name: &str) -> String {
    catalog
        .iter()
        .find(|t| t.type_name == type_name)
        .map_or_else(|| type_name.to_owned(), |t| t.title.clone())
}

/// How a credential and its claims are named for people: by its type's schema when this
/// node's catalog knows the type (by name or `vct`), else from the names themselves.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    title: String,
    fields: Vec<Field>,
}

impl Labels {
    pub fn of(catalog: &[CredentialTypeInfo], types: &[String], vct: Option<&str>) -> Self {
        let known = catalog
            .iter()
            .find(|t| types.contains(&t.type_name) || Some(t.vct.as_str()) == vct);
        match known {
            Some(info) => Self {
                title: info.title.clone(),
                fields: fields(info),
            },
            None => Self {
                title: humanise(&crate::widgets::display_name(types).unwrap_or_default()),
                fields: Vec::new(),
            },
        }
    }

    /// The type's title.
    pub fn title(&self) -> String {
        self.title.clone()
    }

    /// A claim's label: its schema title, or its name made readable.
    pub fn claim(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.label.clone())
            .unwrap_or_else(|| humanise(name))
    }
}

/// "birthDate" as "Birth date".
pub fn humanise(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if i == 0 {
            out.extend(c.to_uppercase());
        } else if c.is_uppercase() {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Why `value` does not fit `field`; `None` when it does (an empty optional field fits).
pub fn check(field: &Field, value: &str) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        return field.required.then(|| "This field is required.".to_owned());
    }
    match &field.kind {
        Kind::Choice(options) if !options.iter().any(|o| o == value) => {
            return Some(format!("Choose one of: {}.", options.join(", ")));
        }
        Kind::Integer { min, max } => match value.parse::<i64>() {
            Err(_) => return Some("Enter a whole number.".into()),
            Ok(n) if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) => {
                return Some(format!(
                    "Enter a number from {} to {}.",
                    min.map(|m| m.to_string()).unwrap_or_else(|| "−∞".into()),
                    max.map(|m| m.to_string()).unwrap_or_else(|| "∞".into())
                ));
            }
            Ok(_) => {}
        },
        Kind::Number if value.parse::<f64>().is_err() => return Some("Enter a number.".into()),
        Kind::Boolean if !matches!(value, "true" | "false") => {
            return Some("Enter true or false.".into())
        }
        Kind::Date if !is_date(value) => return Some("Enter a date as YYYY-MM-DD.".into()),
        Kind::Uri if !value.contains(':') || value.contains(char::is_whitespace) => {
            return Some("Enter a URI, such as a DID (did:…).".into())
        }
        _ => {}
    }
    let length = value.chars().count();
    if field.min_length.is_some_and(|m| length < m) {
        return Some(format!(
            "Enter at least {} characters.",
            field.min_length.unwrap_or_default()
        ));
    }
    if field.max_length.is_some_and(|m| length > m) {
        return Some(format!(
            "Enter at most {} characters.",
            field.max_length.unwrap_or_default()
        ));
    }
    if let Some(pattern) = &field.pattern {
        if !js_sys::RegExp::new(pattern, "u").test(value) {
            return Some(match &field.example {
                Some(example) => format!("Enter it in the expected form, like “{example}”."),
                None => "This is not in the expected form.".to_owned(),
            });
        }
    }
    None
}

fn is_date(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    parts.len() == 3
        && [4, 2, 2]
            .iter()
            .zip(&parts)
            .all(|(n, p)| p.len() == *n && p.chars().all(|c| c.is_ascii_digit()))
}

/// Every field's error for these values.
pub fn check_all(fields: &[Field], values: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    fields
        .iter()
        .filter_map(|f| {
            check(f, values.get(&f.name).map(String::as_str).unwrap_or(""))
                .map(|e| (f.name.clone(), e))
        })
        .collect()
}

/// The `credentialSubject` of checked values: numbers and booleans typed, empty optional
/// claims left out.
pub fn subject(fields: &[Field], values: &BTreeMap<String, String>) -> Value {
    let mut subject = Map::new();
    for field in fields {
        let Some(value) = values
            .get(&field.name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        else {
            continue;
        };
        let typed = match field.kind {
            Kind::Integer { .. } => value.parse::<i64>().map(Value::from).ok(),
            Kind::Number => value.parse::<f64>().ok().map(Value::from),
            Kind::Boolean => Some(Value::Bool(value == "true")),
            _ => None,
        };
        subject.insert(
            field.name.clone(),
            typed.unwrap_or_else(|| Value::String(value.to_owned())),
        );
    }
    Value::Object(subject)
}

/// The unsigned credential of a type and subject, as sent to `POST /credentials/issue`.
pub fn credential(info: &CredentialTypeInfo, subject: Value) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", info.context],
        "type": ["VerifiableCredential", info.type_name],
        "credentialSubject": subject,
    })
}

/// The form: one labelled input per field, its error beside it.
#[component]
pub fn SchemaForm(
    fields: Vec<Field>,
    values: RwSignal<BTreeMap<String, String>>,
    errors: RwSignal<BTreeMap<String, String>>,
) -> impl IntoView {
    fields
        .into_iter()
        .map(|field| {
            let id = format!("field-{}", field.name);
            let error_id = format!("{id}-error");
            let hint_id = format!("{id}-hint");
            let name = field.name.clone();
            let value = {
                let name = name.clone();
                move || values.with(|v| v.get(&name).cloned().unwrap_or_default())
            };
            let error = {
                let name = name.clone();
                move || errors.with(|e| e.get(&name).cloned())
            };
            let invalid = {
                let error = error.clone();
                move || error().is_some().to_string()
            };
            let on_input = {
                let field = field.clone();
                move |ev: leptos::ev::Event| {
                    let text = event_target_value(&ev);
                    let problem = check(&field, &text);
                    values.update(|v| {
                        v.insert(field.name.clone(), text);
                    });
                    errors.update(|e| match problem {
                        Some(p) => {
                            e.insert(field.name.clone(), p);
                        }
                        None => {
                            e.remove(&field.name);
                        }
                    });
                }
            };
            let described = format!("{hint_id} {error_id}");
            let input = match &field.kind {
                Kind::Choice(options) => view! {
                    <select id=id.clone() name=name.clone() data-testid=id.clone()
                        aria-invalid=invalid.clone() aria-describedby=described.clone()
                        required=field.required on:change=on_input prop:value=value>
                        <option value="">"— choose —"</option>
                        {options.iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                    </select>
                }
                .into_any(),
                kind => {
                    let input_type = match kind {
                        Kind::Date => "date",
                        Kind::Integer { .. } | Kind::Number => "number",
                        _ => "text",
                    };
                    view! {
                        <input id=id.clone() name=name.clone() data-testid=id.clone() type=input_type
                            aria-invalid=invalid.clone() aria-describedby=described.clone()
                            required=field.required on:input=on_input prop:value=value/>
                    }
                    .into_any()
                }
            };
            view! {
                <div class="field">
                    <label for=id.clone()>
                        {field.label.clone()}
                        {field.required.then(|| view! { <span class="required" aria-hidden="true">" *"</span> })}
                        {field.personal.then(|| view! { <span class="badge personal">"personal"</span> })}
                    </label>
                    {input}
                    <small id=hint_id class="hint">{field.description.clone()}</small>
                    <small id=error_id class="field-error" data-testid=format!("{id}-error") role="alert">
                        {error}
                    </small>
                </div>
            }
        })
        .collect_view()
}
