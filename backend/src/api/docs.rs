//! The OpenAPI document and a self-contained page to browse it (no script from a CDN).

use std::sync::LazyLock;

use axum::response::Html;
use axum::Json;
use serde_json::{json, Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::RefOr;
use utoipa::{Modify, OpenApi};

/// The OpenAPI description of the Certus HTTP API.
#[derive(OpenApi)]
#[openapi(
    info(title = "Certus", description = "Verifiable credentials for certification agencies: issue, verify and present W3C VCs (Data Integrity, VC-JOSE, SD-JWT VC) over the W3C VC API."),
    paths(
        super::health::health,
        super::health::ready,
        super::credentials::issue,
        super::credentials::verify,
        super::presentations::verify,
        super::catalog::credential_types,
        super::catalog::define,
        super::catalog::versions,
        super::catalog::add_version,
        super::catalog::retire,
        super::catalog::metadata,
        super::catalog::schema,
        super::catalog::context,
        super::catalog::contexts,
        super::catalog::issuers,
        super::chain::genesis,
        super::chain::head,
        super::chain::validators,
        super::chain::peers,
        super::chain::block,
        super::chain::checkpoint,
        super::chain::credential_receipt,
        super::chain::anchor_receipt,
        super::status::update,
        super::status::bulk,
        super::status::credential_status,
        super::status::latest,
        super::status::version,
        super::status::publish,
        super::dids::create,
        super::dids::rotate,
        super::dids::compromise,
        super::dids::deactivate,
        super::dids::resolve,
        super::trust::register_schema,
        super::trust::schemas,
        super::trust::accredit,
        super::trust::delegate,
        super::trust::revoke,
        super::trust::statements,
        super::policies::put,
        super::policies::get,
        super::policies::list,
        super::session::sign_in,
        super::session::current,
        super::session::sign_out,
        super::session::change_password,
        super::users::list,
        super::users::create,
        super::users::update,
        super::users::list_keys,
        super::users::create_key,
        super::users::revoke_key,
        super::settings::get,
        super::settings::put,
        super::records::search,
        super::records::search_by_body,
        super::records::detail,
        super::records::audit,
        super::records::dashboard,
        super::chain::blocks,
        super::chain::verify_receipt,
        super::offers::create,
        super::offers::list,
        super::offers::get,
        super::offers::qr_code,
        super::offers::approval,
        super::presentation_requests::create,
        super::presentation_requests::get,
        super::presentation_requests::redeem_response_code,
        super::presentation_requests::qr_code,
        super::certificates::create,
        super::certificates::list,
        super::certificates::get,
        super::certificates::install,
        super::openid::issuer_metadata,
        super::openid::authorization_server,
        super::openid::offer,
        super::openid::par,
        super::authorize::page,
        super::authorize::answer,
        super::openid::token,
        super::openid::nonce,
        super::openid::challenge,
        super::openid::credential,
        super::openid::notification,
        super::openid::deferred_credential,
        super::openid::request_object,
        super::openid::request_object_posted,
        super::openid::response,
        super::kyc::list,
        super::kyc::summary,
        super::kyc::get,
        super::kyc::check,
        super::kyc::register_all,
        super::kyc::endpoint,
        super::kyc::set_endpoint,
        super::kyc::deliveries,
        super::privacy::search,
        super::privacy::get,
        super::privacy::export_subject,
        super::privacy::erase,
        super::privacy::erasures,
        super::privacy::report,
        super::privacy::set_retention,
        super::privacy::sweep,
        super::privacy::records_of_processing,
    ),
    modifiers(&BearerAuth, &CommonResponses),
    tags(
        (name = "credentials", description = "Issue and verify credentials (W3C VC API)"),
        (name = "accounts", description = "Signing in to the portal; users, API keys and the institution's settings (admins)"),
        (name = "records", description = "The institution's issued credentials, audit log and dashboard"),
        (name = "status", description = "Revoke, suspend and reinstate credentials; the published status lists (W3C Bitstring Status List)"),
        (name = "dids", description = "Institution DIDs on the chain (did:certus) and DID resolution"),
        (name = "trust", description = "The trust registry: schemas, accreditations, delegations"),
        (name = "policies", description = "Named verification policies"),
        (name = "chain", description = "The built-in chain: blocks, checkpoints and anchor receipts"),
        (name = "presentations", description = "Verify presentations (W3C VC API)"),
        (name = "openid4vc", description = "Credential offers (OpenID4VCI, pre-authorized code) and presentation requests (OpenID4VP with DCQL); and the wallet-facing protocol endpoints: metadata, offers by reference, token, nonce, credential, request objects and direct_post answers"),
        (name = "kyc", description = "KYC reuse: the reliance register, re-checks, and webhooks telling relying institutions of suspension and revocation"),
        (name = "privacy", description = "GDPR: data subjects' personal data (find, export, erase with an anchored receipt), retention, and the records of processing"),
        (name = "catalog", description = "Credential types, contexts and issuer DIDs"),
        (name = "operations", description = "Health and readiness"),
    )
)]
pub struct ApiDoc;

/// The answers an operation may give besides its own: with a JSON body, 400 (malformed
/// JSON, too deep, unreadable), 413, 415 and 422 (a member missing or mistyped); with query
/// parameters, 400 `INVALID_QUERY`; behind a key or session, 401 and 403; and 408 for a
/// request not handled in time. The
/// protocol endpoints wallets call (`/openid4v…`, `/.well-known/…`) list their own.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let protocol = path.starts_with("/openid4v") || path.starts_with("/.well-known");
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                let json_body = operation
                    .request_body
                    .as_ref()
                    .is_some_and(|b| b.content.contains_key("application/json"));
                let query = operation
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| p.parameter_in == ParameterIn::Query);
                let responses = &mut operation.responses.responses;
                if json_body && !protocol {
                    // Where an operation answers 400 or 422 with its own body (the verify
                    // endpoints' results), the body's rejections still carry the error body.
                    for code in ["400", "422"] {
                        if let Some(RefOr::T(response)) = responses.get_mut(code) {
                            or_error_body(response);
                        }
                    }
                }
                let mut add = |code: &str, description: &str| {
                    responses
                        .entry(code.to_owned())
                        .or_insert_with(|| error(description).into());
                };
                if json_body && !protocol {
                    add("400", "MALFORMED_JSON, JSON_TOO_DEEP or UNREADABLE_BODY");
                    add(
                        "413",
                        "PAYLOAD_TOO_LARGE: the body is over CERTUS_MAX_BODY_BYTES",
                    );
                    add(
                        "415",
                        "UNSUPPORTED_MEDIA_TYPE: the body is not application/json",
                    );
                    add(
                        "422",
                        "INVALID_REQUEST: a member is missing or of the wrong type",
                    );
                }
                if query {
                    add("400", "INVALID_QUERY");
                }
                if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    add(
                        "401",
                        "UNAUTHORIZED: no API key or session, or an unknown one",
                    );
                    add(
                        "403",
                        "FORBIDDEN: the key or session lacks the scope, or CSRF_TOKEN_INVALID",
                    );
                }
                add("408", "REQUEST_TIMEOUT: not handled within 60 s");
            }
        }
    }
}

/// Makes a JSON response's schema "its own, or the error body" (`oneOf`), unless it is
/// the error body already.
fn or_error_body(response: &mut utoipa::openapi::Response) {
    use utoipa::openapi::schema::{OneOfBuilder, Schema};
    use utoipa::openapi::Ref;
    let error = Ref::from_schema_name("ErrorBody");
    let Some(content) = response.content.get_mut("application/json") else {
        return;
    };
    match content.schema.take() {
        Some(RefOr::Ref(own)) if own == error => content.schema = Some(RefOr::Ref(own)),
        Some(own) => {
            content.schema = Some(RefOr::T(Schema::OneOf(
                OneOfBuilder::new().item(own).item(error).build(),
            )))
        }
        None => {}
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key from `certus api-key create` or the portal",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Cookie(
                utoipa::openapi::security::ApiKeyValue::with_description(
                    crate::auth::sessions::COOKIE,
                    "The portal's session cookie (POST /session); changes also need X-CSRF-Token",
                ),
            )),
        );
    }
}

/// `GET /api-docs/openapi.json`: the document, with examples.
pub async fn openapi_json() -> Json<Value> {
    static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        add_examples(&mut doc);
        doc
    });
    Json(DOCUMENT.clone())
}

/// Realistic request bodies of the operations people start with, as `(path, method,
/// example)`. They are sent as they are by the contract test, so each gets an answer the
/// document lists.
fn request_examples() -> [(&'static str, &'static str, Value); 6] {
    let food = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/certus/contexts/food/v1"],
        "type": ["VerifiableCredential", "FoodIngredientCertificate"],
        "credentialSubject": {
            "ingredientName": "Cold-pressed olive oil", "productCode": "08001234567890",
            "producer": "Frantoio Esempio S.r.l.", "siteCountry": "IT", "standard": "ISO 22000:2018",
            "auditDate": "2026-09-15", "result": "certified",
        },
    });
    [
        (
            "/credentials/issue",
            "post",
            json!({"credential": food, "options": {"format": "vc+jwt"}}),
        ),
        (
            "/credentials/offers",
            "post",
            json!({
                "credential": food, "options": {"format": "dc+sd-jwt"}, "txCode": true,
            }),
        ),
        (
            "/credentials/status",
            "post",
            json!({
                "credentialId": "urn:uuid:5f0c3f2e-8c1d-4a7b-9a4e-2c6d1b0e7f31",
                "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
                "reason": "superseded",
            }),
        ),
        (
            "/credentials/search",
            "post",
            json!({
                "reference": "CUST-4711", "status": "active", "limit": 50,
            }),
        ),
        (
            "/presentation-requests",
            "post",
            json!({
                "credentialType": "KycCredential", "claims": ["givenName", "nationality"],
                "format": "dc+sd-jwt", "purpose": "Open an account",
            }),
        ),
        (
            "/credentials/verify",
            "post",
            json!({
                "verifiableCredential": "eyJhbGciOiJFZERTQSIsInR5cCI6InZjK2p3dCJ9.e30.c2lnbmF0dXJl",
            }),
        ),
    ]
}

/// Puts an example on every JSON answer that has none, built from its schema (an error
/// body with the code its description names), and on the request bodies of
/// [`request_examples`].
fn add_examples(doc: &mut Value) {
    let schemas = doc["components"]["schemas"].clone();
    for (path, method, example) in request_examples() {
        if let Some(media) = doc.pointer_mut(&format!(
            "/paths/{}/{method}/requestBody/content/application~1json",
            path.replace('~', "~0").replace('/', "~1")
        )) {
            media["example"] = example;
        }
    }
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for operation in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
    {
        let Some(responses) = operation["responses"].as_object_mut() else {
            continue;
        };
        for response in responses.values_mut() {
            let description = response["description"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let Some(media) = response.pointer_mut("/content/application~1json") else {
                continue;
            };
            if media.get("example").is_some() {
                continue;
            }
            let schema = media["schema"].clone();
            let example = if schema["$ref"] == "#/components/schemas/ErrorBody" {
                Some(error_example(&description))
            } else {
                example_of(&schema, &schemas, 0)
            };
            if let Some(example) = example {
                media["example"] = example;
            }
        }
    }
}

/// An error body as a response's description names it ("INVALID_QUERY: …").
fn error_example(description: &str) -> Value {
    let code = description
        .split(|c: char| !(c.is_ascii_uppercase() || c == '_'))
        .find(|word| word.len() > 2)
        .unwrap_or("NOT_FOUND");
    json!({"code": code, "message": description})
}

/// A value that fits `schema` (references followed through `schemas`), from its own
/// example where it has one; `None` where none can be made (a pattern to match, or too
/// deep a nesting).
fn example_of(schema: &Value, schemas: &Value, depth: usize) -> Option<Value> {
    if depth > 6 {
        return None;
    }
    if let Some(example) = schema.get("example") {
        return Some(example.clone());
    }
    if let Some(first) = schema["examples"].get(0) {
        return Some(first.clone());
    }
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or_default();
        return example_of(&schemas[name], schemas, depth + 1);
    }
    if let Some(value) = schema.get("const") {
        return Some(value.clone());
    }
    if let Some(first) = schema["enum"].get(0) {
        return Some(first.clone());
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array() {
            return options
                .iter()
                .filter(|o| o["type"] != "null")
                .find_map(|o| example_of(o, schemas, depth + 1));
        }
    }
    if let Some(parts) = schema["allOf"].as_array() {
        let mut merged = Map::new();
        for part in parts {
            if let Some(Value::Object(fields)) = example_of(part, schemas, depth + 1) {
                merged.extend(fields);
            }
        }
        return Some(Value::Object(merged));
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|k| *k != "null"),
        other => other.as_str(),
    };
    match kind {
        Some("object") | None if schema.get("properties").is_some() => {
            let required: Vec<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut object = Map::new();
            for (name, property) in schema["properties"].as_object().into_iter().flatten() {
                match example_of(property, schemas, depth + 1) {
                    Some(value) => {
                        object.insert(name.clone(), value);
                    }
                    None if required.contains(&name.as_str()) => return None,
                    None => {}
                }
            }
            Some(Value::Object(object))
        }
        Some("object") => Some(json!({})),
        Some("array") => Some(Value::Array(
            example_of(&schema["items"], schemas, depth + 1)
                .into_iter()
                .collect(),
        )),
        Some("string") if schema.get("pattern").is_some() => None,
        Some("string") => Some(Value::String(
            match schema["format"].as_str() {
                Some("date-time") => "2026-12-06T10:30:00Z",
                Some("date") => "2026-12-06",
                Some("uri") => "https://certus.example/resource",
                Some("email") => "carla@food-cert.example",
                Some("uuid") => "5f0c3f2e-8c1d-4a7b-9a4e-2c6d1b0e7f31",
                _ => "text",
            }
            .to_owned(),
        )),
        Some("integer") => Some(json!(schema["minimum"].as_i64().unwrap_or(1))),
        Some("number") => Some(json!(1.5)),
        Some("boolean") => Some(json!(true)),
        _ => None,
    }
}

/// `GET /api-docs`: a readable rendering of the OpenAPI document.
pub async fn page() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}

/// `GET /api-docs/docs.js`: the rendering's script.
pub async fn script() -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/javascript; charset=utf-8",
        )],
        include_str!("docs.js"),
    )
}
