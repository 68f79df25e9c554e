//! Completing and checking an unsecured credential before it is signed.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::IssueError;
use crate::keys::{IssuerKey, KeyStore};
use crate::status::{Allocation, StatusLists};
use certus_credential::catalog::{Catalog, CredentialType};
use certus_credential::contexts::{context_urls, Contexts};
use certus_credential::did;
use certus_credential::ids::CredentialId;
use certus_credential::time::xsd_now;
use certus_credential::{VC_V1_CONTEXT, VC_V2_CONTEXT};
use certus_schemas::STATUS_V1_CONTEXT;

/// The Data Integrity context a VC 1.1 credential needs for its proof's terms.
const DATA_INTEGRITY_V2_CONTEXT: &str = "https://w3id.org/security/data-integrity/v2";

/// The VC Data Model a credential is issued under, as its first `@context` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataModel {
    /// VC Data Model 2.0 (`validFrom`, `validUntil`; `vc+jwt` per VC-JOSE-COSE).
    V2,
    /// VC Data Model 1.1 (`issuanceDate`, `expirationDate`; a JWT with a `vc` claim).
    V1_1,
}

impl DataModel {
    /// The date properties of this model: from, until.
    fn dates(self) -> (&'static str, &'static str) {
        match self {
            Self::V2 => ("validFrom", "validUntil"),
            Self::V1_1 => ("issuanceDate", "expirationDate"),
        }
    }
}

/// A credential ready to be secured.
#[derive(Debug)]
pub struct Prepared {
    /// The data model it is issued under.
    pub model: DataModel,
    /// The completed credential (`id`, `issuer`, `validFrom` and the type's context set).
    pub credential: Value,
    pub id: CredentialId,
    pub types: Vec<String>,
    pub credential_type: Arc<CredentialType>,
    pub key: Arc<IssuerKey>,
    /// The status entries, once allocated ([`Prepared::set_status`]).
    pub status: Option<Allocation>,
    /// The SD-JWT VC `status` claim (IETF Token Status List) of the same entries.
    token_status: Option<Value>,
    valid_from: DateTime<Utc>,
    valid_until: Option<DateTime<Utc>>,
}

fn malformed(message: impl Into<String>, path: &str) -> IssueError {
    IssueError::Malformed {
        message: message.into(),
        path: format!("/credential{path}"),
    }
}

/// The version of `name` to issue: the one whose context the credential names, else the
/// newest; never a retired one.
fn issuable(
    catalog: &Catalog,
    name: &str,
    types: &[&str],
    contexts: &[&str],
) -> Result<Arc<CredentialType>, IssueError> {
    match catalog.of_credential(types, contexts) {
        Some(t) if t.retired => Err(IssueError::Retired(format!(
            "version {} of `{name}` is retired",
            t.version
        ))),
        Some(t) => Ok(t),
        None => catalog
            .issuable(name)
            .ok_or_else(|| match catalog.get(name) {
                Some(_) => IssueError::Retired(format!("`{name}` is retired")),
                None => IssueError::UnknownType(format!("unknown credential type `{name}`")),
            }),
    }
}

/// Checks `credential` and fills in what the issuer decides: `id` (a random `urn:uuid:`),
/// `issuer` (the tenant's default DID), `validFrom` (now) and the type's JSON-LD context.
pub fn prepare(
    credential: Value,
    tenant_id: &str,
    catalog: &Catalog,
    contexts: &Contexts,
    keys: &KeyStore,
    now: DateTime<Utc>,
) -> Result<Prepared, IssueError> {
    let Value::Object(mut vc) = credential else {
        return Err(malformed("credential must be a JSON object", ""));
    };
    if vc.contains_key("proof") {
        return Err(malformed("an unsecured credential has no proof", "/proof"));
    }
    if vc.contains_key("credentialStatus") {
        return Err(malformed(
            "credentialStatus is set by the issuer: every credential gets revocation and suspension entries",
            "/credentialStatus",
        ));
    }

    // @context: VC 2.0 (or 1.1) first, every other one bundled or registered.
    let urls = context_urls(&vc);
    let model = match urls.first() {
        Some(&VC_V2_CONTEXT) => DataModel::V2,
        Some(&VC_V1_CONTEXT) => DataModel::V1_1,
        _ => return Err(IssueError::UnsupportedVersion),
    };
    if let Some(unlisted) = contexts.first_unlisted(&vc) {
        return Err(IssueError::UnknownContext(unlisted));
    }

    // type: VerifiableCredential plus exactly one known credential type.
    let types: Vec<String> = match vc.get("type") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|t| t.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| malformed("type must be an array of strings", "/type"))?,
        Some(Value::String(t)) => vec![t.clone()],
        _ => return Err(malformed("type is required", "/type")),
    };
    if !types.iter().any(|t| t == "VerifiableCredential") {
        return Err(malformed("type must include VerifiableCredential", "/type"));
    }
    let mut specific = types.iter().filter(|t| *t != "VerifiableCredential");
    let credential_type = match (specific.next(), specific.next()) {
        (Some(name), None) => {
            let names: Vec<&str> = types.iter().map(String::as_str).collect();
            issuable(catalog, name, &names, &urls)?
        }
        (None, _) => {
            return Err(IssueError::UnknownType(
                "type names no credential type besides VerifiableCredential".into(),
            ))
        }
        (Some(_), Some(_)) => {
            return Err(IssueError::UnknownType(
                "type must name exactly one credential type".into(),
            ))
        }
    };
    // The type's context; for VC 1.1, the terms of Data Integrity proofs and of status
    // entries, which only the VC 2.0 context defines.
    let mut needed = vec![credential_type.context.as_str()];
    if model == DataModel::V1_1 {
        needed.extend([DATA_INTEGRITY_V2_CONTEXT, STATUS_V1_CONTEXT]);
    }
    let missing: Vec<Value> = needed
        .into_iter()
        .filter(|c| !urls.contains(c))
        .map(|c| json!(c))
        .collect();
    if !missing.is_empty() {
        let mut list: Vec<Value> = match vc.remove("@context") {
            Some(Value::Array(items)) => items,
            Some(other) => vec![other],
            None => Vec::new(),
        };
        list.extend(missing);
        vc.insert("@context".into(), Value::Array(list));
    }

    // issuer: one of the tenant's DIDs.
    let key = match vc.get("issuer") {
        None => keys.default_key(tenant_id).ok_or(IssueError::NoIssuerKey)?,
        Some(issuer) => {
            let did = issuer
                .as_str()
                .or_else(|| issuer.get("id").and_then(Value::as_str))
                .ok_or_else(|| {
                    malformed("issuer must be a DID or an object with an id", "/issuer")
                })?;
            keys.key_for_issuer(tenant_id, did)
                .ok_or_else(|| IssueError::IssuerNotOwned(did.to_owned()))?
        }
    };
    if !vc.contains_key("issuer") {
        vc.insert("issuer".into(), json!(key.did));
    }

    // id: kept when given, else random.
    let id = match vc.get("id") {
        Some(Value::String(id)) => {
            CredentialId::parse(id).map_err(|e| malformed(e.to_string(), "/id"))?
        }
        Some(_) => return Err(malformed("id must be a URI", "/id")),
        None => {
            let id = CredentialId::random();
            vc.insert("id".into(), json!(id.as_str()));
            id
        }
    };

    // validFrom / validUntil (VC 1.1: issuanceDate / expirationDate).
    let (from, until) = model.dates();
    let other = match model {
        DataModel::V2 => DataModel::V1_1.dates(),
        DataModel::V1_1 => DataModel::V2.dates(),
    };
    if let Some(wrong) = [other.0, other.1].into_iter().find(|k| vc.contains_key(*k)) {
        return Err(IssueError::Date {
            message: format!(
                "`{wrong}` belongs to the other VC Data Model: this credential's @context \
                 makes it use `{from}` and `{until}`"
            ),
            path: format!("/credential/{wrong}"),
        });
    }
    let valid_from = match vc.get(from) {
        Some(v) => parse_date(v, &format!("/{from}"))?,
        None => {
            vc.insert(from.into(), json!(xsd_now(now)));
            now
        }
    };
    let valid_until = vc
        .get(until)
        .map(|v| parse_date(v, &format!("/{until}")))
        .transpose()?;
    if valid_until.is_some_and(|u| u <= valid_from) {
        return Err(IssueError::Date {
            message: format!("{until} must be after {from}"),
            path: format!("/credential/{until}"),
        });
    }

    // credentialSubject against the type's schema.
    let subject = match vc.get("credentialSubject") {
        Some(s @ Value::Object(_)) => s,
        Some(Value::Array(_)) => {
            return Err(malformed(
                "credentialSubject must be a single object",
                "/credentialSubject",
            ))
        }
        _ => {
            return Err(malformed(
                "credentialSubject is required",
                "/credentialSubject",
            ))
        }
    };
    let violations = credential_type.validate(subject);
    if let Some(first) = violations.first() {
        let summary = violations
            .iter()
            .map(|v| {
                format!(
                    "{}: {}",
                    if v.path.is_empty() { "/" } else { &v.path },
                    v.message
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        return Err(IssueError::Schema {
            type_name: credential_type.name.clone(),
            summary,
            path: format!("/credential/credentialSubject{}", first.path),
        });
    }

    Ok(Prepared {
        model,
        credential: Value::Object(vc),
        id,
        types,
        credential_type,
        key,
        status: None,
        token_status: None,
        valid_from,
        valid_until,
    })
}

fn parse_date(value: &Value, path: &str) -> Result<DateTime<Utc>, IssueError> {
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
        .ok_or_else(|| IssueError::Date {
            message: format!("{} must be an XSD dateTime with a time zone", &path[1..]),
            path: format!("/credential{path}"),
        })
}

impl Prepared {
    /// Gives the credential its status entries: `credentialStatus` (W3C Bitstring Status
    /// List), or for SD-JWT VC the `status` claim (IETF Token Status List) of the same pair.
    pub fn set_status(&mut self, lists: &StatusLists, allocation: Allocation) {
        if let Value::Object(vc) = &mut self.credential {
            vc.insert("credentialStatus".into(), lists.entries(&allocation));
        }
        self.token_status = Some(lists.token_reference(&allocation));
        self.status = Some(allocation);
    }

    /// The claim set of this credential as a VC Data Model 1.1 JWT (§6.3.1): the JWT claims
    /// its properties map to (`iss`, `nbf`, `exp`, `jti`, `sub`), and the credential itself
    /// as `vc`.
    pub fn jwt_claims_v1_1(&self, now: DateTime<Utc>) -> Value {
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.key.did));
        claims.insert("iat".into(), json!(now.timestamp()));
        claims.insert("nbf".into(), json!(self.valid_from.timestamp()));
        if let Some(until) = self.valid_until {
            claims.insert("exp".into(), json!(until.timestamp()));
        }
        claims.insert("jti".into(), json!(self.id.as_str()));
        if let Some(subject) = self.credential["credentialSubject"].get("id") {
            claims.insert("sub".into(), subject.clone());
        }
        claims.insert("vc".into(), self.credential.clone());
        Value::Object(claims)
    }

    /// The SD-JWT VC claim set of this credential, and the claims disclosable by default
    /// (those the type marks personal). A `did:key`/`did:jwk` subject becomes `cnf.jwk`.
    pub async fn sd_jwt_claims(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(Map<String, Value>, Vec<String>), IssueError> {
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.key.did));
        claims.insert("iat".into(), json!(now.timestamp()));
        claims.insert("nbf".into(), json!(self.valid_from.timestamp()));
        if let Some(until) = self.valid_until {
            claims.insert("exp".into(), json!(until.timestamp()));
        }
        claims.insert("vct".into(), json!(self.credential_type.vct));
        claims.insert("jti".into(), json!(self.id.as_str()));
        if let Some(status) = &self.token_status {
            claims.insert("status".into(), status.clone());
        }
        let subject = self.credential["credentialSubject"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (name, value) in subject {
            if name == "id" {
                let holder = value.as_str().unwrap_or_default();
                match did::holder_key(holder).await {
                    Some(jwk) => {
                        claims.insert("cnf".into(), json!({ "jwk": jwk }));
                    }
                    None => {
                        claims.insert("sub".into(), value);
                    }
                }
            } else {
                claims.insert(name, value);
            }
        }
        let disclosable = self
            .credential_type
            .personal_claims
            .iter()
            .filter(|c| claims.contains_key(*c))
            .cloned()
            .collect();
        Ok((claims, disclosable))
    }
}
