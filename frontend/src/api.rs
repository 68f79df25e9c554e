//! Calls to the Certus JSON API, on the same origin as the page.

use certus_schemas::wire::{CredentialTypeInfo, ErrorBody, VerificationResult};
use gloo_net::http::Request;
use serde_json::{json, Value};

/// `GET /credential-types`.
pub async fn credential_types() -> Result<Vec<CredentialTypeInfo>, String> {
    let response = Request::get("/credential-types").send().await.map_err(|e| e.to_string())?;
    response.json().await.map_err(|e| e.to_string())
}

/// `POST /credentials/verify` with pasted text: JSON is sent as JSON, anything else as a
/// JWT string.
pub async fn verify(text: String) -> Result<VerificationResult, String> {
    let text = text.trim().to_owned();
    let credential = serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text));
    let response = Request::post("/credentials/verify")
        .json(&json!({ "verifiableCredential": credential }))
        .map_err(|e| e.to_string())?
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let body: Value = response.json().await.map_err(|e| e.to_string())?;
    if body.get("verdict").is_some() {
        serde_json::from_value(body).map_err(|e| e.to_string())
    } else {
        let error: ErrorBody = serde_json::from_value(body).map_err(|e| e.to_string())?;
        Err(format!("{}: {}", error.code, error.message))
    }
}
