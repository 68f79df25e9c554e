//! What the credential issuer publishes: its metadata (OpenID4VCI §12.2) with one
//! credential configuration per credential type and format, and the metadata of the
//! authorization server (RFC 8414) that hands out access tokens for pre-authorized codes.

use certus_schemas::wire::CredentialFormat;
use serde_json::{json, Map, Value};

use certus_credential::catalog::{Catalog, CredentialType};
use certus_credential::jose::ALLOWED_ALGORITHMS;

pub use certus_schemas::openid::PRE_AUTHORIZED_GRANT;

/// Paths of the protocol endpoints, below the public URL.
pub mod paths {
    pub const TOKEN: &str = "/openid4vci/token";
    pub const NONCE: &str = "/openid4vci/nonce";
    pub const CREDENTIAL: &str = "/openid4vci/credential";
    pub const OFFERS: &str = "/openid4vci/offers";
    pub const REQUESTS: &str = "/openid4vp/requests";
    pub const RESPONSES: &str = "/openid4vp/responses";
}

/// The OpenID4VCI name of a format.
pub fn format_name(format: CredentialFormat) -> &'static str {
    match format {
        CredentialFormat::DcSdJwt => "dc+sd-jwt",
        CredentialFormat::VcJwt => "jwt_vc_json",
        CredentialFormat::LdpVc => "ldp_vc",
    }
}

/// The id of the configuration of `type_name` in `format`, e.g. `KycCredential_sd_jwt`.
pub fn configuration_id(type_name: &str, format: CredentialFormat) -> String {
    let suffix = match format {
        CredentialFormat::DcSdJwt => "sd_jwt",
        CredentialFormat::VcJwt => "jwt_vc_json",
        CredentialFormat::LdpVc => "ldp_vc",
    };
    format!("{type_name}_{suffix}")
}

const FORMATS: [CredentialFormat; 3] = [
    CredentialFormat::DcSdJwt,
    CredentialFormat::VcJwt,
    CredentialFormat::LdpVc,
];

/// The credential issuer metadata of the issuer at `issuer` (its public URL).
pub fn credential_issuer(issuer: &str, catalog: &Catalog) -> Value {
    let mut configurations = Map::new();
    for credential_type in catalog.current() {
        for format in FORMATS {
            configurations.insert(
                configuration_id(&credential_type.name, format),
                configuration(&credential_type, format),
            );
        }
    }
    json!({
        "credential_issuer": issuer,
        "credential_endpoint": format!("{issuer}{}", paths::CREDENTIAL),
        "nonce_endpoint": format!("{issuer}{}", paths::NONCE),
        // Draft-13 wallets read the token endpoint here.
        "token_endpoint": format!("{issuer}{}", paths::TOKEN),
        "display": [{"name": "Certus", "locale": "en"}],
        "credential_configurations_supported": configurations,
    })
}

fn configuration(credential_type: &CredentialType, format: CredentialFormat) -> Value {
    let display = json!([{"name": credential_type.title, "description": credential_type.description, "locale": "en"}]);
    let claims: Vec<Value> = credential_type
        .claim_names()
        .map(|(name, title, required)| {
            let path = match format {
                CredentialFormat::DcSdJwt => json!([name]),
                _ => json!(["credentialSubject", name]),
            };
            json!({"path": path, "mandatory": required, "display": [{"name": title, "locale": "en"}]})
        })
        .collect();
    let mut config = json!({
        "format": format_name(format),
        "scope": credential_type.name,
        "cryptographic_binding_methods_supported": ["jwk", "did:key", "did:jwk"],
        "credential_signing_alg_values_supported": ALLOWED_ALGORITHMS,
        "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ALLOWED_ALGORITHMS}},
        "credential_metadata": {"display": display, "claims": claims},
        "display": display,
    });
    let types = json!(["VerifiableCredential", credential_type.name]);
    match format {
        CredentialFormat::DcSdJwt => config["vct"] = json!(credential_type.vct),
        CredentialFormat::VcJwt => config["credential_definition"] = json!({"type": types}),
        CredentialFormat::LdpVc => {
            config["credential_definition"] = json!({
                "@context": [certus_credential::VC_V2_CONTEXT, credential_type.context],
                "type": types,
            });
            config["credential_signing_alg_values_supported"] =
                json!(["eddsa-rdfc-2022", "ecdsa-rdfc-2019"]);
        }
    }
    config
}

/// The authorization server metadata: the issuer is its own authorization server.
pub fn authorization_server(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}{}", paths::TOKEN),
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "pre-authorized_grant_anonymous_access_supported": true,
        "response_types_supported": [],
    })
}
