//! What the credential issuer publishes: its metadata (OpenID4VCI §12.2) with one
//! credential configuration per credential type and format, and the metadata of the
//! authorization server (RFC 8414) that hands out its access tokens.

use certus_schemas::wire::CredentialFormat;
use serde_json::{json, Map, Value};

use certus_credential::catalog::{Catalog, CredentialType};
use certus_credential::jose::{self, ALLOWED_ALGORITHMS};
use certus_schemas::response::{ALG, ENC_VALUES};
use chrono::{DateTime, Utc};

use super::client_attestation::AUTH_METHOD;
use crate::keys::IssuerKey;

pub use certus_schemas::openid::{AUTHORIZATION_CODE_GRANT, PRE_AUTHORIZED_GRANT};

/// The `typ` of signed credential issuer metadata.
pub const SIGNED_METADATA_TYP: &str = "openidvci-issuer-metadata+jwt";
/// How long signed metadata is valid: a wallet holding a copy fetches anew within a day.
const SIGNED_METADATA_SECS: i64 = 24 * 3600;

/// `metadata` as signed metadata (OpenID4VCI 1.0 §12.2.3): its parameters as top-level
/// claims with `sub` the credential issuer, `iss` the signer's DID, `iat` and `exp`, in a
/// JWS by `key` (`typ: openidvci-issuer-metadata+jwt`, `kid` a DID URL a wallet resolves).
pub fn signed(
    metadata: Value,
    issuer: &str,
    key: &IssuerKey,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let Value::Object(mut claims) = metadata else {
        anyhow::bail!("credential issuer metadata is a JSON object");
    };
    claims.insert("sub".into(), issuer.into());
    claims.insert("iss".into(), key.did.clone().into());
    claims.insert("iat".into(), now.timestamp().into());
    claims.insert(
        "exp".into(),
        (now.timestamp() + SIGNED_METADATA_SECS).into(),
    );
    let header = jose::header(&[
        ("typ", SIGNED_METADATA_TYP),
        ("kid", &key.verification_method),
    ]);
    Ok(jose::sign(
        header,
        &Value::Object(claims),
        key.signer.as_ref(),
    )?)
}

/// Paths of the protocol endpoints, below the public URL.
pub mod paths {
    pub const PAR: &str = "/openid4vci/par";
    pub const AUTHORIZE: &str = "/openid4vci/authorize";
    pub const TOKEN: &str = "/openid4vci/token";
    pub const NONCE: &str = "/openid4vci/nonce";
    pub const CHALLENGE: &str = "/openid4vci/challenge";
    pub const CREDENTIAL: &str = "/openid4vci/credential";
    pub const NOTIFICATION: &str = "/openid4vci/notification";
    pub const DEFERRED: &str = "/openid4vci/deferred_credential";
    pub const OFFERS: &str = "/openid4vci/offers";
    pub const REQUESTS: &str = "/openid4vp/requests";
    pub const RESPONSES: &str = "/openid4vp/responses";
}

/// Most proofs of possession one credential request may carry, so most copies of a
/// credential one wallet receives at once, each bound to another of its keys (batch
/// issuance; `batch_credential_issuance.batch_size`).
pub const BATCH_SIZE: usize = 10;

/// A credential configuration's format, as OpenID4VCI names it: each of Certus's issue
/// formats, and a VC JWT in both data models — `jwt_vc_json` is a VC Data Model 1.1 JWT
/// (OpenID4VCI 1.0 Appendix A.1.1: `typ: JWT`, a `vc` claim), `vc+jwt` a VC 2.0 one
/// (VC-JOSE-COSE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VciFormat {
    SdJwt,
    JwtVcJson,
    VcJwt,
    LdpVc,
}

impl VciFormat {
    /// Every configuration format, in the order of the metadata.
    pub const ALL: [Self; 4] = [Self::SdJwt, Self::JwtVcJson, Self::VcJwt, Self::LdpVc];

    /// The `format` of the configuration.
    pub fn name(self) -> &'static str {
        match self {
            Self::SdJwt => "dc+sd-jwt",
            Self::JwtVcJson => "jwt_vc_json",
            Self::VcJwt => "vc+jwt",
            Self::LdpVc => "ldp_vc",
        }
    }

    /// The configuration id's suffix: `KycCredential_sd_jwt`.
    fn suffix(self) -> &'static str {
        match self {
            Self::SdJwt => "sd_jwt",
            Self::JwtVcJson => "jwt_vc_json",
            Self::VcJwt => "vc_jwt",
            Self::LdpVc => "ldp_vc",
        }
    }

    /// How Certus secures a credential of this format.
    pub fn format(self) -> CredentialFormat {
        match self {
            Self::SdJwt => CredentialFormat::DcSdJwt,
            Self::JwtVcJson | Self::VcJwt => CredentialFormat::VcJwt,
            Self::LdpVc => CredentialFormat::LdpVc,
        }
    }

    /// The configurations an offer in `format` lists, the one wallets take by default
    /// first: a VC JWT as 1.1 (`jwt_vc_json`, what wallets expect) and as 2.0.
    pub fn offered(format: CredentialFormat) -> &'static [Self] {
        match format {
            CredentialFormat::DcSdJwt => &[Self::SdJwt],
            CredentialFormat::VcJwt => &[Self::JwtVcJson, Self::VcJwt],
            CredentialFormat::LdpVc => &[Self::LdpVc],
        }
    }

    /// The format whose `format` is `name`.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The id of the configuration of `type_name` in this format.
    pub fn configuration_id(self, type_name: &str) -> String {
        format!("{type_name}_{}", self.suffix())
    }

    /// The ids of every configuration a credential of `type_name` offered in `format` may
    /// be received in.
    pub fn configuration_ids(format: CredentialFormat, type_name: &str) -> Vec<String> {
        Self::offered(format)
            .iter()
            .map(|f| f.configuration_id(type_name))
            .collect()
    }
}

/// The credential issuer metadata of the issuer at `issuer` (its public URL), whose
/// credential requests may be encrypted to `request_key` (a public JWK).
pub fn credential_issuer(issuer: &str, catalog: &Catalog, request_key: &Value) -> Value {
    let mut configurations = Map::new();
    for credential_type in catalog.current() {
        for format in VciFormat::ALL {
            configurations.insert(
                format.configuration_id(&credential_type.name),
                configuration(&credential_type, format),
            );
        }
    }
    json!({
        "credential_issuer": issuer,
        "credential_endpoint": format!("{issuer}{}", paths::CREDENTIAL),
        "nonce_endpoint": format!("{issuer}{}", paths::NONCE),
        "notification_endpoint": format!("{issuer}{}", paths::NOTIFICATION),
        "deferred_credential_endpoint": format!("{issuer}{}", paths::DEFERRED),
        "batch_credential_issuance": {"batch_size": BATCH_SIZE},
        // Encryption on top of TLS, when the wallet asks (OpenID4VCI 1.0 §10).
        "credential_request_encryption": {
            "jwks": {"keys": [request_key]},
            "enc_values_supported": ENC_VALUES,
            "encryption_required": false,
        },
        "credential_response_encryption": {
            "alg_values_supported": [ALG],
            "enc_values_supported": ENC_VALUES,
            "encryption_required": false,
        },
        // Draft-13 wallets read the token endpoint here.
        "token_endpoint": format!("{issuer}{}", paths::TOKEN),
        "display": [{"name": "Certus", "locale": "en"}],
        "credential_configurations_supported": configurations,
    })
}

/// How wallets show a credential of `credential_type` (OpenID4VCI §12.2.4): per locale its
/// name, description, logo and colours, as the type's `x-certus-display` gives them — or its
/// title and description in English.
fn display(credential_type: &CredentialType) -> Value {
    if credential_type.display.is_empty() {
        return json!([{"name": credential_type.title, "description": credential_type.description, "locale": "en"}]);
    }
    let entries: Vec<Value> = credential_type
        .display
        .iter()
        .map(|given| {
            let mut entry = Map::new();
            entry.insert(
                "name".into(),
                given
                    .get("name")
                    .cloned()
                    .unwrap_or(json!(credential_type.title)),
            );
            entry.insert(
                "locale".into(),
                given.get("locale").cloned().unwrap_or(json!("en")),
            );
            entry.insert(
                "description".into(),
                given
                    .get("description")
                    .cloned()
                    .unwrap_or(json!(credential_type.description)),
            );
            if let Some(logo) = given.get("logo") {
                entry.insert("logo".into(), json!({ "uri": logo }));
            }
            for (from, to) in [
                ("backgroundColor", "background_color"),
                ("textColor", "text_color"),
            ] {
                if let Some(colour) = given.get(from) {
                    entry.insert(to.into(), colour.clone());
                }
            }
            Value::Object(entry)
        })
        .collect();
    Value::Array(entries)
}

fn configuration(credential_type: &CredentialType, format: VciFormat) -> Value {
    let display = display(credential_type);
    let claims: Vec<Value> = credential_type
        .claim_names()
        .map(|(name, title, required)| {
            let path = match format {
                VciFormat::SdJwt => json!([name]),
                _ => json!(["credentialSubject", name]),
            };
            json!({"path": path, "mandatory": required, "display": [{"name": title, "locale": "en"}]})
        })
        .collect();
    let mut config = json!({
        "format": format.name(),
        "scope": credential_type.name,
        "cryptographic_binding_methods_supported": ["jwk", "did:key", "did:jwk"],
        "credential_signing_alg_values_supported": ALLOWED_ALGORITHMS,
        "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ALLOWED_ALGORITHMS}},
        "credential_metadata": {"display": display, "claims": claims},
        "display": display,
    });
    let types = json!(["VerifiableCredential", credential_type.name]);
    match format {
        VciFormat::SdJwt => config["vct"] = json!(credential_type.vct),
        VciFormat::JwtVcJson => config["credential_definition"] = json!({"type": types}),
        VciFormat::VcJwt => {
            config["credential_definition"] = json!({
                "@context": [certus_credential::VC_V2_CONTEXT, credential_type.context],
                "type": types,
            });
        }
        VciFormat::LdpVc => {
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

/// The authorization server metadata: the issuer is its own authorization server. It
/// hands out access tokens for pre-authorized codes, and for authorization codes from
/// pushed requests (PAR required, PKCE with S256 only, RFC 9207 `iss` in the answer).
pub fn authorization_server(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}{}", paths::TOKEN),
        "authorization_endpoint": format!("{issuer}{}", paths::AUTHORIZE),
        "pushed_authorization_request_endpoint": format!("{issuer}{}", paths::PAR),
        "require_pushed_authorization_requests": true,
        "code_challenge_methods_supported": ["S256"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "authorization_response_iss_parameter_supported": true,
        "grant_types_supported": [AUTHORIZATION_CODE_GRANT, PRE_AUTHORIZED_GRANT],
        "pre-authorized_grant_anonymous_access_supported": true,
        // Wallets are public clients: they name themselves by `client_id`, and may prove
        // they are a genuine instance of a wallet with a wallet attestation (Annex E).
        "token_endpoint_auth_methods_supported": ["none", AUTH_METHOD],
        "client_attestation_signing_alg_values_supported": ["ES256"],
        "client_attestation_pop_signing_alg_values_supported": ALLOWED_ALGORITHMS,
        "challenge_endpoint": format!("{issuer}{}", paths::CHALLENGE),
        "authorization_details_types_supported": ["openid_credential"],
        // Access tokens can be bound to the wallet's key (RFC 9449).
        "dpop_signing_alg_values_supported": ALLOWED_ALGORITHMS,
    })
}

/// What an institution asks of a wallet's keys, in every configuration's proof types
/// (OpenID4VCI 1.0 §12.2.4): with wallet providers it trusts, the `attestation` proof
/// type (a key attestation alone); when it requires key attestations, one with every
/// `jwt` proof (`key_attestations_required`, no level of key storage or user
/// authentication asked beyond the provider's being trusted).
pub fn key_attestations(metadata: &mut Value, providers: bool, required: bool) {
    let Some(configurations) = metadata["credential_configurations_supported"].as_object_mut()
    else {
        return;
    };
    for configuration in configurations.values_mut() {
        let proof_types = &mut configuration["proof_types_supported"];
        if required {
            proof_types["jwt"]["key_attestations_required"] = json!({});
        }
        if providers {
            proof_types["attestation"] = json!({
                "proof_signing_alg_values_supported": ["ES256"],
                "key_attestations_required": {},
            });
        }
    }
}
