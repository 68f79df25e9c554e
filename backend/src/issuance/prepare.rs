//! Completing and checking an unsecured credential before it is signed.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::IssueError;
use crate::keys::{IssuerKey, KeyStore};
use crate::status::requested::Requested;
use crate::status::{Allocation, StatusLists};
use certus_credential::catalog::{Catalog, CredentialType};
use certus_credential::contexts::{context_urls, Contexts};
use certus_credential::did;
use certus_credential::ids::CredentialId;
use certus_credential::time::xsd_now;
use certus_credential::{VC_V1_CONTEXT, VC_V2_CONTEXT};
use certus_schemas::wire::CredentialFormat;
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
    /// The registered type version the credential was checked against; `None` for a
    /// credential issued openly, of no registered type, whose subject no schema checked.
    pub credential_type: Option<Arc<CredentialType>>,
    pub key: Arc<IssuerKey>,
    /// The status entries its `credentialStatus` asked for.
    pub requested_status: Requested,
    /// True when its terms are checked against its contexts before it is secured: an open
    /// credential's, or one with a context given inline.
    pub check_terms: bool,
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

/// The registered type `types` names, if any: exactly one registered type, or with `open`
/// (open issuance) none at all, among other types its contexts define.
fn registered_type(
    catalog: &Catalog,
    types: &[String],
    contexts: &[&str],
    open: bool,
) -> Result<Option<Arc<CredentialType>>, IssueError> {
    let names: Vec<&str> = types.iter().map(String::as_str).collect();
    let specific: Vec<&str> = names
        .iter()
        .copied()
        .filter(|t| *t != "VerifiableCredential")
        .collect();
    let registered: Vec<&str> = specific
        .iter()
        .copied()
        .filter(|t| catalog.get(t).is_some())
        .collect();
    match (registered.as_slice(), specific.as_slice()) {
        ([name], _) if open || specific.len() == 1 => {
            issuable(catalog, name, &names, contexts).map(Some)
        }
        ([], _) if open => Ok(None),
        ([_, _, ..], _) => Err(IssueError::UnknownType(
            "type must name one registered credential type, not several".into(),
        )),
        (_, []) => Err(IssueError::UnknownType(format!(
            "type names no credential type besides VerifiableCredential{CLOSED}"
        ))),
        (_, [name]) => Err(IssueError::UnknownType(format!(
            "unknown credential type `{name}`{CLOSED}"
        ))),
        _ => Err(IssueError::UnknownType(format!(
            "type must name exactly one credential type{CLOSED}"
        ))),
    }
}

/// Why a credential of no registered type was refused.
const CLOSED: &str = " (this institution issues registered credential types only: open \
    issuance is off, see GET /settings)";

/// Checks `credential` and fills in what the issuer decides: `id` (a random `urn:uuid:`),
/// `issuer` (the tenant's default DID), `validFrom` (now) and the type's JSON-LD context.
/// With `open`, a credential of no registered type is accepted too (open issuance).
pub fn prepare(
    credential: Value,
    open: bool,
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
    let requested_status = match vc.remove("credentialStatus") {
        Some(entries) => Requested::parse(&entries).map_err(IssueError::Status)?,
        None => Requested::Any,
    };

    // @context: VC 2.0 (or 1.1) first, every other one bundled or registered.
    let urls = context_urls(&vc);
    let model = match urls.first() {
        Some(&VC_V2_CONTEXT) => DataModel::V2,
        Some(&VC_V1_CONTEXT) => DataModel::V1_1,
        _ => return Err(IssueError::UnsupportedVersion),
    };
    let has_inline_context = contexts
        .inline_or_unlisted(&vc)
        .map_err(IssueError::UnknownContext)?;

    // type: VerifiableCredential plus one registered credential type (or, issued openly,
    // none).
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
    let credential_type = registered_type(catalog, &types, &urls, open)?;
    // The type's context; for VC 1.1, the terms of Data Integrity proofs and of status
    // entries, which only the VC 2.0 context defines.
    let mut needed: Vec<&str> = credential_type.iter().map(|t| t.context.as_str()).collect();
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
            let id = CredentialId::fresh();
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

    // credentialSubject against the type's schema; issued openly, one object or more.
    let subject_error = |message: &str| malformed(message, "/credentialSubject");
    let subject = vc.get("credentialSubject");
    match (subject, &credential_type) {
        (Some(s @ Value::Object(_)), Some(t)) => check_schema(t, s)?,
        (Some(Value::Object(_)), None) => {}
        (Some(Value::Array(subjects)), None)
            if !subjects.is_empty() && subjects.iter().all(Value::is_object) => {}
        (Some(Value::Array(_)), Some(_)) => {
            return Err(subject_error("credentialSubject must be a single object"))
        }
        (Some(_), _) => {
            return Err(subject_error(
                "credentialSubject must be an object or a non-empty array of objects",
            ))
        }
        (None, _) => return Err(subject_error("credentialSubject is required")),
    }
    let check_terms = credential_type.is_none() || has_inline_context;

    Ok(Prepared {
        model,
        credential: Value::Object(vc),
        id,
        types,
        credential_type,
        key,
        requested_status,
        check_terms,
        status: None,
        token_status: None,
        valid_from,
        valid_until,
    })
}

/// Refuses a subject its type's schema does not allow, naming every violation.
fn check_schema(credential_type: &CredentialType, subject: &Value) -> Result<(), IssueError> {
    let violations = credential_type.validate(subject);
    let Some(first) = violations.first() else {
        return Ok(());
    };
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
    Err(IssueError::Schema {
        type_name: credential_type.name.clone(),
        summary,
        path: format!("/credential/credentialSubject{}", first.path),
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

    /// The credential's registered type, which `format` needs (SD-JWT VC: its `vct`).
    pub fn registered_type(
        &self,
        format: CredentialFormat,
    ) -> Result<&Arc<CredentialType>, IssueError> {
        self.credential_type.as_ref().ok_or_else(|| {
            IssueError::UnknownType(format!(
                "{} needs a registered credential type (its vct names it); a credential \
                 of no registered type is issued as ldp_vc or vc+jwt",
                format.as_str()
            ))
        })
    }

    /// The SD-JWT VC claim set of this credential, and the claims disclosable by default
    /// (those the type marks personal). A `did:key`/`did:jwk` subject becomes `cnf.jwk`.
    pub async fn sd_jwt_claims(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(Map<String, Value>, Vec<String>), IssueError> {
        let credential_type = self.registered_type(CredentialFormat::DcSdJwt)?;
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.key.did));
        claims.insert("iat".into(), json!(now.timestamp()));
        claims.insert("nbf".into(), json!(self.valid_from.timestamp()));
        if let Some(until) = self.valid_until {
            claims.insert("exp".into(), json!(until.timestamp()));
        }
        claims.insert("vct".into(), json!(credential_type.vct));
        claims.insert(
            "vct#integrity".into(),
            json!(credential_type.metadata_integrity),
        );
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
        let disclosable = credential_type
            .personal_claims
            .iter()
            .filter(|c| claims.contains_key(*c))
            .cloned()
            .collect();
        Ok((claims, disclosable))
    }
}
