//! The Digital Credentials Query Language of OpenID4VP 1.0 (§6, §7): the query a verifier
//! sends, and its evaluation against a credential's claims. Pure functions over JSON, shared
//! by the verifier (is the answer what was asked?) and the wallets (which credential, which
//! disclosures?).

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// The DCQL formats Certus speaks.
pub mod formats {
    /// IETF SD-JWT VC.
    pub const SD_JWT: &str = "dc+sd-jwt";
    /// W3C VC secured as a JWT: a VC Data Model 1.1 JWT (a `vc` claim), presented in a 1.1
    /// presentation JWT (a `vp` claim), or a VC 2.0 `vc+jwt` (VC-JOSE-COSE), presented in a
    /// `vp+jwt`.
    pub const JWT_VC: &str = "jwt_vc_json";
    /// The OpenID4VCI format of a VC 2.0 `vc+jwt`; held and asked for as [`JWT_VC`].
    pub const VC_JWT: &str = "vc+jwt";
    /// W3C VC secured with Data Integrity, presented in a Data Integrity presentation.
    pub const LDP_VC: &str = "ldp_vc";
    /// Every format above.
    pub const ALL: &[&str] = &[SD_JWT, JWT_VC, LDP_VC];
}

/// A DCQL query: the credentials asked for and, optionally, which combinations suffice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DcqlQuery {
    pub credentials: Vec<CredentialQuery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_sets: Option<Vec<CredentialSetQuery>>,
}

/// One credential asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CredentialQuery {
    /// Names the answer in the `vp_token` (alphanumerics, `_` and `-`).
    pub id: String,
    /// `dc+sd-jwt`, `jwt_vc_json` or `ldp_vc`.
    pub format: String,
    /// Several credentials may answer this query.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multiple: bool,
    /// Format-specific constraints: `vct_values` (SD-JWT VC) or `type_values` (W3C VCs).
    #[serde(default)]
    pub meta: CredentialMeta,
    /// The claims asked for; absent: only what the format always shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<ClaimsQuery>>,
    /// Alternative sets of claim ids, the preferred first; absent: every claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_sets: Option<Vec<Vec<String>>>,
    /// The holder must prove possession of the credential's key (default true).
    #[serde(
        default = "yes",
        skip_serializing_if = "Clone::clone",
        rename = "require_cryptographic_holder_binding"
    )]
    pub require_holder_binding: bool,
}

fn yes() -> bool {
    true
}

/// The `meta` of a credential query.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CredentialMeta {
    /// SD-JWT VC: accepted `vct` values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vct_values: Option<Vec<String>>,
    /// W3C VCs: alternatives, each a set of types the credential must all have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_values: Option<Vec<Vec<String>>>,
}

/// One claim asked for, by its path in the credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ClaimsQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Claims path pointer: object keys (strings), array indexes (integers), or `null`
    /// for every element of an array.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub path: Vec<Value>,
    /// Accepted values; any value when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<Object>>))]
    pub values: Option<Vec<Value>>,
}

/// Combinations of credential queries that satisfy the verifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CredentialSetQuery {
    /// Each option lists credential query ids that together suffice.
    pub options: Vec<Vec<String>>,
    #[serde(default = "yes")]
    pub required: bool,
}

/// Why a query is not well formed (§6.4 of OpenID4VP lists the rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidQuery(pub String);

impl std::fmt::Display for InvalidQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Bounds of a query Certus accepts (a request is stored, signed and shown to holders):
/// credential queries, claims per credential query, elements per claims path, values and
/// sets per list, and bytes per identifier or path element.
pub mod limits {
    pub const CREDENTIALS: usize = 16;
    pub const CLAIMS: usize = 64;
    pub const PATH: usize = 16;
    pub const LIST: usize = 32;
    pub const TEXT: usize = 256;
}

fn is_identifier(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= limits::TEXT
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl DcqlQuery {
    /// Checks the rules a well-formed query follows, for the formats Certus speaks.
    pub fn validate(&self) -> Result<(), InvalidQuery> {
        let bad = |m: String| Err(InvalidQuery(m));
        if self.credentials.is_empty() {
            return bad("credentials must not be empty".into());
        }
        if let Some(too_big) = self.oversized() {
            return bad(too_big);
        }
        let mut ids = Vec::new();
        for q in &self.credentials {
            if !is_identifier(&q.id) {
                return bad(format!(
                    "credential query id `{}` must be 1 to {} of alphanumeric, `_` or `-`",
                    q.id.chars().take(limits::TEXT).collect::<String>(),
                    limits::TEXT
                ));
            }
            if ids.contains(&q.id.as_str()) {
                return bad(format!("credential query id `{}` is used twice", q.id));
            }
            ids.push(q.id.as_str());
            if !formats::ALL.contains(&q.format.as_str()) {
                return bad(format!(
                    "format `{}` of `{}` is not one of {}",
                    q.format,
                    q.id,
                    formats::ALL.join(", ")
                ));
            }
            let claims = q.claims.as_deref().unwrap_or_default();
            if claims.is_empty() && q.claims.is_some() {
                return bad(format!("claims of `{}` must not be empty when given", q.id));
            }
            if claims
                .iter()
                .any(|c| c.path.is_empty() || !c.path.iter().all(is_path_element))
            {
                return bad(format!("a claims path of `{}` is empty or holds something other than strings, non-negative integers and null", q.id));
            }
            if let Some(sets) = &q.claim_sets {
                let claim_ids: Vec<&str> = claims.iter().filter_map(|c| c.id.as_deref()).collect();
                if claim_ids.len() != claims.len() {
                    return bad(format!(
                        "every claim of `{}` needs an id when claim_sets is given",
                        q.id
                    ));
                }
                if sets.is_empty()
                    || sets
                        .iter()
                        .flatten()
                        .any(|id| !claim_ids.contains(&id.as_str()))
                {
                    return bad(format!(
                        "claim_sets of `{}` must name claim ids of the query",
                        q.id
                    ));
                }
            }
        }
        for set in self.credential_sets.iter().flatten() {
            if set.options.is_empty()
                || set
                    .options
                    .iter()
                    .flatten()
                    .any(|id| !ids.contains(&id.as_str()))
            {
                return bad("credential_sets must name credential query ids".into());
            }
        }
        Ok(())
    }

    /// What exceeds [`limits`], if anything.
    fn oversized(&self) -> Option<String> {
        use limits::*;
        let long_text = |t: &str| t.len() > TEXT;
        if self.credentials.len() > CREDENTIALS {
            return Some(format!("at most {CREDENTIALS} credential queries"));
        }
        if self.credential_sets.as_ref().is_some_and(|sets| {
            sets.len() > LIST
                || sets
                    .iter()
                    .any(|s| s.options.len() > LIST || s.options.iter().any(|o| o.len() > LIST))
        }) {
            return Some(format!(
                "credential_sets: at most {LIST} sets, options and ids each"
            ));
        }
        for q in &self.credentials {
            let claims = q.claims.as_deref().unwrap_or_default();
            if claims.len() > CLAIMS {
                return Some(format!("at most {CLAIMS} claims per credential query"));
            }
            for c in claims {
                if c.path.len() > PATH
                    || c.path.iter().any(|e| e.as_str().is_some_and(long_text))
                    || c.id.as_deref().is_some_and(long_text)
                {
                    return Some(format!(
                        "a claims path has at most {PATH} elements and an element or id at most {TEXT} bytes"
                    ));
                }
                if c.values.as_ref().is_some_and(|v| v.len() > LIST) {
                    return Some(format!("at most {LIST} values per claim"));
                }
            }
            let meta = &q.meta;
            if q.format.len() > TEXT
                || q.claim_sets
                    .as_ref()
                    .is_some_and(|s| s.len() > LIST || s.iter().any(|s| s.len() > CLAIMS))
                || meta
                    .vct_values
                    .as_ref()
                    .is_some_and(|v| v.len() > LIST || v.iter().any(|t| long_text(t)))
                || meta.type_values.as_ref().is_some_and(|v| {
                    v.len() > LIST
                        || v.iter()
                            .any(|t| t.len() > LIST || t.iter().any(|t| long_text(t)))
                })
            {
                return Some(format!(
                    "meta, format and claim_sets of `{}` exceed the limits ({LIST} entries, {TEXT} bytes)",
                    q.id.chars().take(TEXT).collect::<String>()
                ));
            }
        }
        None
    }

    /// Whether answers to the credential queries `answered` satisfy the query: each
    /// required credential set has an option fully answered, or, without sets, every
    /// credential query is answered.
    pub fn satisfied_by(&self, answered: &[&str]) -> bool {
        match &self.credential_sets {
            None => self
                .credentials
                .iter()
                .all(|q| answered.contains(&q.id.as_str())),
            Some(sets) => sets.iter().filter(|s| s.required).all(|s| {
                s.options
                    .iter()
                    .any(|option| option.iter().all(|id| answered.contains(&id.as_str())))
            }),
        }
    }
}

fn is_path_element(v: &Value) -> bool {
    v.is_string() || v.is_null() || v.as_u64().is_some()
}

/// A credential as DCQL sees it: its format, its type (`vct`, or W3C `type` values), and
/// its claims as a JSON document the claims paths apply to — for SD-JWT VC the payload
/// with every available disclosure in place, for W3C VCs the credential itself.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub format: &'a str,
    pub vct: Option<&'a str>,
    pub types: &'a [String],
    pub claims: &'a Value,
}

impl CredentialQuery {
    /// Whether `candidate` is of the format and type asked for.
    pub fn accepts_kind(&self, candidate: &Candidate<'_>) -> bool {
        if candidate.format != self.format {
            return false;
        }
        let vct_ok = match &self.meta.vct_values {
            Some(values) => candidate.vct.is_some_and(|v| values.iter().any(|x| x == v)),
            None => true,
        };
        let type_ok = match &self.meta.type_values {
            Some(alternatives) => alternatives
                .iter()
                .any(|set| set.iter().all(|t| candidate.types.contains(t))),
            None => true,
        };
        vct_ok && type_ok
    }

    /// The claims queries `candidate` satisfies, from the first claim set it can answer
    /// (every claim when there are no sets); `None` when it is not of the kind asked for
    /// or cannot answer. An empty list: no claim was asked for.
    pub fn match_candidate(&self, candidate: &Candidate<'_>) -> Option<Vec<&ClaimsQuery>> {
        if !self.accepts_kind(candidate) {
            return None;
        }
        let Some(claims) = &self.claims else {
            return Some(Vec::new());
        };
        let holds = |c: &ClaimsQuery| c.matches(candidate.claims);
        match &self.claim_sets {
            None => claims.iter().all(holds).then(|| claims.iter().collect()),
            Some(sets) => sets.iter().find_map(|set| {
                let chosen: Vec<&ClaimsQuery> = claims
                    .iter()
                    .filter(|c| c.id.as_ref().is_some_and(|id| set.contains(id)))
                    .collect();
                chosen.iter().all(|c| holds(c)).then_some(chosen)
            }),
        }
    }
}

impl ClaimsQuery {
    /// Whether the claim exists in `document` (with an accepted value, when values are
    /// given).
    pub fn matches(&self, document: &Value) -> bool {
        let selected = select(&self.path, document);
        match &self.values {
            None => !selected.is_empty(),
            Some(values) => selected.iter().any(|v| values.contains(v)),
        }
    }

    /// The top-level claim the path starts at (what an SD-JWT holder discloses).
    pub fn top_level(&self) -> Option<&str> {
        self.path.first().and_then(Value::as_str)
    }
}

/// Processes a claims path pointer (§7.1): the elements of `document` it selects; empty
/// when it selects none or does not apply.
pub fn select<'a>(path: &[Value], document: &'a Value) -> Vec<&'a Value> {
    let mut selected = vec![document];
    for component in path {
        let mut next = Vec::new();
        for element in selected {
            match (component, element) {
                (Value::String(key), Value::Object(map)) => next.extend(map.get(key)),
                (Value::Null, Value::Array(items)) => next.extend(items.iter()),
                (Value::Number(n), Value::Array(items)) => {
                    next.extend(n.as_u64().and_then(|i| items.get(i as usize)))
                }
                _ => return Vec::new(),
            }
        }
        if next.is_empty() {
            return next;
        }
        selected = next;
    }
    selected
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn query(value: Value) -> DcqlQuery {
        serde_json::from_value(value).expect("query")
    }

    // The first SD-JWT VC example of OpenID4VP 1.0 §D.
    fn pid_query() -> DcqlQuery {
        query(json!({"credentials": [{
            "id": "my_credential",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": ["https://credentials.example.com/identity_credential"]},
            "claims": [
                {"path": ["last_name"]},
                {"path": ["first_name"]},
                {"path": ["address", "street_address"]}
            ]
        }]}))
    }

    fn candidate<'a>(vct: &'a str, claims: &'a Value) -> Candidate<'a> {
        Candidate {
            format: "dc+sd-jwt",
            vct: Some(vct),
            types: &[],
            claims,
        }
    }

    #[test]
    fn the_spec_example_matches_a_credential_holding_every_claim() {
        let q = pid_query();
        q.validate().expect("valid");
        let claims = json!({"last_name": "Doe", "first_name": "Jane", "address": {"street_address": "Main St 1"}});
        let c = candidate(
            "https://credentials.example.com/identity_credential",
            &claims,
        );
        let matched = q.credentials[0].match_candidate(&c).expect("match");
        assert_eq!(matched.len(), 3);
        assert_eq!(matched[2].top_level(), Some("address"));
    }

    #[test]
    fn a_missing_claim_or_another_vct_does_not_match() {
        let q = pid_query();
        let partial = json!({"last_name": "Doe", "first_name": "Jane"});
        let c = candidate(
            "https://credentials.example.com/identity_credential",
            &partial,
        );
        assert!(q.credentials[0].match_candidate(&c).is_none());
        let full =
            json!({"last_name": "Doe", "first_name": "Jane", "address": {"street_address": "x"}});
        assert!(q.credentials[0]
            .match_candidate(&candidate("urn:other", &full))
            .is_none());
    }

    #[test]
    fn claim_sets_pick_the_first_set_the_credential_can_answer() {
        let q = query(json!({"credentials": [{
            "id": "pid", "format": "dc+sd-jwt",
            "meta": {"vct_values": ["urn:pid"]},
            "claims": [
                {"id": "a", "path": ["last_name"]},
                {"id": "b", "path": ["postal_code"]},
                {"id": "c", "path": ["date_of_birth"]}
            ],
            "claim_sets": [["a", "b"], ["a", "c"]]
        }]}));
        q.validate().expect("valid");
        let claims = json!({"last_name": "Doe", "date_of_birth": "1990-01-01"});
        let matched = q.credentials[0]
            .match_candidate(&candidate("urn:pid", &claims))
            .expect("match");
        let ids: Vec<_> = matched.iter().filter_map(|c| c.id.as_deref()).collect();
        assert_eq!(ids, ["a", "c"]);
    }

    #[test]
    fn values_restrict_what_is_accepted() {
        let q = query(json!({"credentials": [{
            "id": "kyc", "format": "dc+sd-jwt",
            "claims": [{"path": ["assuranceLevel"], "values": ["substantial", "high"]}]
        }]}));
        let low = json!({"assuranceLevel": "low"});
        let high = json!({"assuranceLevel": "high"});
        assert!(q.credentials[0]
            .match_candidate(&candidate("x", &low))
            .is_none());
        assert!(q.credentials[0]
            .match_candidate(&candidate("x", &high))
            .is_some());
    }

    #[test]
    fn paths_walk_arrays_by_index_and_wildcard() {
        let doc = json!({"degrees": [{"type": "BSc"}, {"type": "MSc"}]});
        assert_eq!(
            select(&[json!("degrees"), Value::Null, json!("type")], &doc).len(),
            2
        );
        assert_eq!(
            select(&[json!("degrees"), json!(1), json!("type")], &doc),
            [&json!("MSc")]
        );
        assert!(select(&[json!("degrees"), json!("type")], &doc).is_empty());
    }

    #[test]
    fn type_values_need_every_type_of_one_alternative() {
        let q = query(json!({"credentials": [{
            "id": "w3c", "format": "jwt_vc_json",
            "meta": {"type_values": [["VerifiableCredential", "KycCredential"]]}
        }]}));
        let types = [
            "VerifiableCredential".to_owned(),
            "KycCredential".to_owned(),
        ];
        let doc = json!({});
        let c = Candidate {
            format: "jwt_vc_json",
            vct: None,
            types: &types,
            claims: &doc,
        };
        assert_eq!(
            q.credentials[0].match_candidate(&c).map(|m| m.len()),
            Some(0)
        );
        let c = Candidate {
            types: &types[..1],
            ..c
        };
        assert!(q.credentials[0].match_candidate(&c).is_none());
    }

    #[test]
    fn credential_sets_decide_which_answers_suffice() {
        let q = query(json!({
            "credentials": [
                {"id": "pid", "format": "dc+sd-jwt"},
                {"id": "other_pid", "format": "dc+sd-jwt"},
                {"id": "nice_to_have", "format": "dc+sd-jwt"}
            ],
            "credential_sets": [
                {"options": [["pid"], ["other_pid"]]},
                {"required": false, "options": [["nice_to_have"]]}
            ]
        }));
        q.validate().expect("valid");
        assert!(q.satisfied_by(&["other_pid"]));
        assert!(!q.satisfied_by(&["nice_to_have"]));
        let plain = query(
            json!({"credentials": [{"id": "a", "format": "ldp_vc"}, {"id": "b", "format": "ldp_vc"}]}),
        );
        assert!(!plain.satisfied_by(&["a"]));
        assert!(plain.satisfied_by(&["a", "b"]));
    }

    #[test]
    fn malformed_queries_are_refused_with_a_reason() {
        for (bad, why) in [
            (json!({"credentials": []}), "empty"),
            (
                json!({"credentials": [{"id": "a b", "format": "dc+sd-jwt"}]}),
                "alphanumeric",
            ),
            (
                json!({"credentials": [{"id": "a", "format": "mso_mdoc"}]}),
                "format",
            ),
            (
                json!({"credentials": [{"id": "a", "format": "dc+sd-jwt"}, {"id": "a", "format": "dc+sd-jwt"}]}),
                "twice",
            ),
            (
                json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "claims": [{"path": []}]}]}),
                "path",
            ),
            (
                json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "claims": [{"id": "x", "path": ["n"]}], "claim_sets": [["y"]]}]}),
                "claim_sets",
            ),
            (
                json!({"credentials": [{"id": "a", "format": "dc+sd-jwt"}], "credential_sets": [{"options": [["b"]]}]}),
                "credential_sets",
            ),
            // Bounds: a request is stored and signed, so nothing in it is unbounded.
            (
                json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "claims": [{"path": vec!["x"; 100_000]}]}]}),
                "at most 16 elements",
            ),
            (
                json!({"credentials": (0..17).map(|i| json!({"id": format!("q{i}"), "format": "dc+sd-jwt"})).collect::<Vec<_>>()}),
                "at most 16 credential queries",
            ),
            (
                json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "claims": vec![json!({"path": ["n"]}); 65]}]}),
                "at most 64 claims",
            ),
            (
                json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "claims": [{"path": ["x".repeat(257)]}]}]}),
                "256 bytes",
            ),
            (
                json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": vec!["v"; 33]}}]}),
                "exceed the limits",
            ),
        ] {
            let err = query(bad).validate().expect_err(why);
            assert!(err.0.contains(why), "{why}: {}", err.0);
        }
    }
}
