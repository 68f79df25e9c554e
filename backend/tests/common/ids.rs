//! Shared by the API and the process tests: what identifies an issued credential.

use serde_json::Value;

/// The `id` of a secured credential: a Data Integrity credential's own, or the `jti` (or
/// `id`) claim of the JWT an `EnvelopedVerifiableCredential` carries.
pub fn credential_id(vc: &Value) -> String {
    match vc["id"].as_str() {
        Some(id) if !id.starts_with("data:") => id.to_owned(),
        _ => {
            let (_, token) = certus_credential::envelope::open(vc).expect("enveloped");
            let jwt = token.split('~').next().expect("jwt");
            let claims = certus_credential::jose::decode(jwt).expect("jwt").payload;
            claims
                .get("jti")
                .or_else(|| claims.get("id"))
                .and_then(Value::as_str)
                .expect("credential id")
                .to_owned()
        }
    }
}
