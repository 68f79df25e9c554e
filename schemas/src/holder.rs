//! The holder's wallet model, shared by the command-line wallet (`certus wallet`) and the
//! web wallet (`/wallet`): a fresh key for each credential copy, credentials as received, what a credential shows
//! of itself (for listing and for DCQL), and which credentials answer a verifier's query.
//!
//! Pure code: no I/O and no signing. Each wallet brings its own [`Key`] (the CLI signs with
//! ssi, the browser with ed25519-dalek) and keeps the [`Wallet`] where it can (a 0600
//! file; `localStorage`, sealed under a passphrase). Both store the same JSON, so a web
//! wallet's backup, once opened, is a CLI wallet file.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::dcql::{formats, Candidate, ClaimsQuery, CredentialQuery, DcqlQuery};
use crate::openid::ClientIdPrefix;
use crate::response::{self, ResponseMode};

/// The base context of W3C Verifiable Credentials 2.0.
pub const VC_V2_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// The VC Data Model 1.1 context.
pub const VC_V1_CONTEXT: &str = "https://www.w3.org/2018/credentials/v1";

/// Something wrong with a credential or a request, as a sentence for the holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolderError(pub String);

impl std::fmt::Display for HolderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HolderError {}

fn error(message: impl Into<String>) -> HolderError {
    HolderError(message.into())
}

/// A holder key as a wallet keeps it.
pub trait Key: Clone {
    /// A fresh key for `relationship`.
    fn generate(relationship: &str) -> Result<Self, HolderError>;
    /// Its `did:jwk`.
    fn did(&self) -> &str;
    /// Who the key is used with: a credential issuer's URL or a verifier's client id.
    fn relationship(&self) -> &str;
}

/// A credential in the wallet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldCredential {
    /// Local id (a number as text, in the order received).
    pub id: String,
    /// `dc+sd-jwt`, `jwt_vc_json` or `ldp_vc`.
    pub format: String,
    /// The credential as issued: a compact (SD-)JWT string, or a JSON-LD object.
    pub credential: Value,
    pub credential_issuer: String,
    /// The DID of the key it is bound to.
    pub holder: String,
    pub received_at: String,
    /// More copies of it received in the same batch, each bound to another key of the
    /// holder's: presentations show the copies in turn, so no two verifiers see one copy
    /// (or one key) while a copy is left unshown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub copies: Vec<HeldCopy>,
    /// How many presentations were made of it, all copies together: which copy is next.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub presentations: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A further copy of a held credential, bound to a key of its own (batch issuance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldCopy {
    /// The copy as issued.
    pub credential: Value,
    /// The DID of the key it is bound to.
    pub holder: String,
}

/// Most copies of one credential Certus's wallets ask an issuer for at once, each bound
/// to a fresh key (OpenID4VCI batch issuance): enough for a few verifiers each to see a
/// copy of their own, without filling the wallet.
pub const COPIES: usize = 3;

/// How many copies of a credential to ask the issuer with this metadata for: [`COPIES`],
/// or fewer if its `batch_credential_issuance.batch_size` allows fewer; one if it issues no
/// batches.
pub fn copies_to_ask(issuer_metadata: &Value) -> usize {
    issuer_metadata["batch_credential_issuance"]["batch_size"]
        .as_u64()
        .map_or(1, |size| {
            usize::try_from(size).unwrap_or(COPIES).clamp(1, COPIES)
        })
}

/// What a held credential shows of itself, for DCQL and for listing.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub issuer: Option<String>,
    pub vct: Option<String>,
    pub types: Vec<String>,
    /// The document DCQL claims paths apply to (every claim, disclosures in place).
    pub document: Value,
}

impl HeldCredential {
    /// Decodes the credential for DCQL and for listing. Signatures are not checked here:
    /// the issuer's and the verifier's servers do that.
    pub fn view(&self) -> Result<View, HolderError> {
        let token = || {
            self.credential
                .as_str()
                .ok_or_else(|| error(format!("a {} credential is a string", self.format)))
        };
        match self.format.as_str() {
            formats::SD_JWT => {
                let claims = sd_jwt_claims(token()?)?;
                let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
                let vct = text("vct");
                Ok(View {
                    issuer: text("iss"),
                    types: vct.iter().cloned().collect(),
                    vct,
                    document: Value::Object(claims),
                })
            }
            formats::JWT_VC | formats::VC_JWT => Ok(jwt_vc_view(jwt_payload(token()?)?)),
            formats::LDP_VC => Ok(w3c_view(self.credential.clone())),
            other => Err(error(format!(
                "{other} is not a credential format Certus holds"
            ))),
        }
    }
}

/// A subject claim that a presentation of a held credential carries, as the holder is
/// asked to consent to it.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectClaim {
    pub name: String,
    pub value: Value,
    /// Whether the holder may leave it out (an SD-JWT disclosure); the rest always leaves.
    pub withholdable: bool,
}

impl HeldCredential {
    /// The copy the next presentation shows, as a held credential of its own: the copies in
    /// turn, each shown once before any is shown again.
    pub fn next_copy(&self) -> HeldCredential {
        let turn = self.presentations as usize % (self.copies.len() + 1);
        let mut copy = HeldCredential {
            copies: Vec::new(),
            ..self.clone()
        };
        if let Some(other) = turn.checked_sub(1).and_then(|i| self.copies.get(i)) {
            copy.credential = other.credential.clone();
            copy.holder = other.holder.clone();
        }
        copy
    }

    /// How many of its copies no verifier has seen yet.
    pub fn unshown_copies(&self) -> usize {
        (self.copies.len() + 1).saturating_sub(self.presentations as usize)
    }

    /// Every subject claim a presentation of this credential can carry, named as the
    /// verifier reads them: for an SD-JWT VC, the claims the issuer signed in clear, which
    /// always leave, then each top-level disclosure, which the holder may withhold; for
    /// the other formats, the whole subject but its id, which always leaves.
    pub fn subject_claims(&self) -> Result<Vec<SubjectClaim>, HolderError> {
        let always = |claims: Map<String, Value>| {
            claims.into_iter().map(|(name, value)| SubjectClaim {
                name,
                value,
                withholdable: false,
            })
        };
        if self.format != formats::SD_JWT {
            let view = self.view()?;
            let mut subject = view.document["credentialSubject"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            subject.remove("id");
            return Ok(always(subject).collect());
        }
        let token = self
            .credential
            .as_str()
            .ok_or_else(|| error("an SD-JWT credential is a string"))?;
        let issuer_jwt = token.split('~').next().unwrap_or_default();
        let Value::Object(payload) = jwt_payload(issuer_jwt)? else {
            return Err(error("the SD-JWT payload is not an object"));
        };
        let top_level: Vec<&str> = payload
            .get("_sd")
            .and_then(Value::as_array)
            .map(|digests| digests.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let signed = sd_jwt_claims(issuer_jwt)?;
        let mut claims: Vec<SubjectClaim> = always(sd_jwt_subject(&signed)).collect();
        claims.extend(disclosures(token).into_iter().filter_map(|(text, d)| {
            let digest = URL_SAFE_NO_PAD.encode(Sha256::digest(text));
            match d.as_slice() {
                [_, Value::String(name), value]
                    if top_level.contains(&digest.as_str()) && !is_envelope_claim(name) =>
                {
                    Some(SubjectClaim {
                        name: name.clone(),
                        value: value.clone(),
                        withholdable: true,
                    })
                }
                _ => None,
            }
        }));
        Ok(claims)
    }
}

/// The credential in what someone pasted into a verifier: a compact VC JWT or SD-JWT, a
/// JSON-LD credential or an `EnvelopedVerifiableCredential`, alone or as an issue answer's
/// or a verify request's `verifiableCredential` — as the verify endpoint takes it.
pub fn pasted_credential(text: &str) -> Value {
    let text = text.trim();
    let pasted =
        serde_json::from_str::<Value>(text).unwrap_or_else(|_| Value::String(text.to_owned()));
    match pasted.get("verifiableCredential") {
        Some(inner) => inner.clone(),
        None => pasted,
    }
}

/// What a pasted credential ([`pasted_credential`]) shows of itself, whatever its form.
/// Signatures are not checked here.
pub fn read_pasted(text: &str) -> Result<View, HolderError> {
    let credential = pasted_credential(text);
    let enveloped = credential
        .get("id")
        .and_then(Value::as_str)
        .filter(|_| credential["type"] == "EnvelopedVerifiableCredential")
        .and_then(|id| id.strip_prefix("data:"))
        .and_then(|data| data.split_once(','))
        .map(|(_, token)| Value::String(token.to_owned()));
    let credential = enveloped.unwrap_or(credential);
    let format = match &credential {
        Value::String(t) if t.contains('~') => formats::SD_JWT,
        Value::String(_) => formats::VC_JWT,
        _ => formats::LDP_VC,
    };
    HeldCredential {
        id: String::new(),
        format: format.to_owned(),
        credential,
        credential_issuer: String::new(),
        holder: String::new(),
        received_at: String::new(),
        copies: Vec::new(),
        presentations: 0,
    }
    .view()
}

/// A VC JWT as a credential: a 1.1 JWT's `vc` claim (its issuer the JWT's `iss`), or the
/// payload of a 2.0 `vc+jwt`.
fn jwt_vc_view(payload: Value) -> View {
    match payload.get("vc") {
        Some(vc) => {
            let mut view = w3c_view(vc.clone());
            if view.issuer.is_none() {
                view.issuer = payload["iss"].as_str().map(str::to_owned);
            }
            view
        }
        None => w3c_view(payload),
    }
}

/// The format a wallet holds a credential received in OpenID4VCI `format` as: DCQL asks
/// for VC JWTs of either data model as `jwt_vc_json`.
pub fn held_format(format: &str) -> &str {
    match format {
        formats::VC_JWT => formats::JWT_VC,
        other => other,
    }
}

fn w3c_view(credential: Value) -> View {
    View {
        issuer: issuer_of(&credential).map(str::to_owned),
        vct: None,
        types: types_of(&credential)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        document: credential,
    }
}

/// The `type` of a W3C credential or presentation, as a list.
pub fn types_of(document: &Value) -> Vec<&str> {
    match document.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The `issuer` of a W3C credential: a URL, or the `id` of an issuer object.
pub fn issuer_of(credential: &Value) -> Option<&str> {
    let issuer = credential.get("issuer")?;
    issuer
        .as_str()
        .or_else(|| issuer.get("id").and_then(Value::as_str))
}

/// The payload of a compact JWS, not verified.
pub fn jwt_payload(token: &str) -> Result<Value, HolderError> {
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| error("not a compact JWT: it has no payload"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| error("the JWT payload is not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| error("the JWT payload is not JSON"))
}

/// The decoded disclosures of an SD-JWT (`[salt, name, value]` or `[salt, value]`), each
/// with its base64url text.
pub fn disclosures(sd_jwt: &str) -> Vec<(&str, Vec<Value>)> {
    sd_jwt
        .split('~')
        .skip(1)
        .filter(|d| !d.is_empty() && !d.contains('.'))
        .filter_map(|d| {
            let bytes = URL_SAFE_NO_PAD.decode(d).ok()?;
            Some((d, serde_json::from_slice::<Vec<Value>>(&bytes).ok()?))
        })
        .collect()
}

/// The claims an SD-JWT VC issuer sets about the token itself: never a subject claim,
/// never selectively disclosable.
pub const SD_JWT_TOKEN_CLAIMS: &[&str] = &[
    "iss",
    "iat",
    "nbf",
    "exp",
    "vct",
    "vct#integrity",
    "cnf",
    "status",
    "jti",
    "sub",
];

/// Whether `name` is a claim of an SD-JWT VC's payload about the token itself rather than
/// its subject: one of [`SD_JWT_TOKEN_CLAIMS`], or the digests' `_sd` and `_sd_alg`.
pub fn is_envelope_claim(name: &str) -> bool {
    SD_JWT_TOKEN_CLAIMS.contains(&name) || name == "_sd" || name == "_sd_alg"
}

/// An SD-JWT VC's subject claims: its (disclosed) claims but the envelope's
/// ([`is_envelope_claim`]).
pub fn sd_jwt_subject(claims: &Map<String, Value>) -> Map<String, Value> {
    claims
        .iter()
        .filter(|(k, _)| !is_envelope_claim(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The claims of an SD-JWT with its disclosures put back where their digests are, at any
/// depth; digests without a disclosure are dropped.
pub fn sd_jwt_claims(sd_jwt: &str) -> Result<Map<String, Value>, HolderError> {
    let issuer_jwt = sd_jwt.split('~').next().unwrap_or_default();
    let Value::Object(payload) = jwt_payload(issuer_jwt)? else {
        return Err(error("the SD-JWT payload is not an object"));
    };
    let by_digest: Vec<(String, Vec<Value>)> = disclosures(sd_jwt)
        .into_iter()
        .map(|(text, d)| (URL_SAFE_NO_PAD.encode(Sha256::digest(text)), d))
        .collect();
    type Disclosed = [(String, Vec<Value>)];
    fn find<'d>(disclosed: &'d Disclosed, digest: &Value) -> Option<&'d [Value]> {
        disclosed
            .iter()
            .find(|(d, _)| Some(d.as_str()) == digest.as_str())
            .map(|(_, disclosure)| disclosure.as_slice())
    }
    fn restore(value: Value, disclosed: &Disclosed) -> Value {
        match value {
            Value::Object(mut object) => {
                let digests = object.remove("_sd");
                object.remove("_sd_alg");
                let mut out: Map<String, Value> = object
                    .into_iter()
                    .map(|(k, v)| (k, restore(v, disclosed)))
                    .collect();
                for digest in digests
                    .iter()
                    .flat_map(|d| d.as_array().into_iter().flatten())
                {
                    if let Some([_, Value::String(name), value]) = find(disclosed, digest) {
                        out.insert(name.clone(), restore(value.clone(), disclosed));
                    }
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(
                items
                    .into_iter()
                    .filter_map(|item| {
                        let digest = item
                            .as_object()
                            .filter(|o| o.len() == 1)
                            .and_then(|o| o.get("..."));
                        match digest {
                            Some(digest) => match find(disclosed, digest) {
                                Some([_, value]) => Some(restore(value.clone(), disclosed)),
                                _ => None,
                            },
                            None => Some(restore(item, disclosed)),
                        }
                    })
                    .collect(),
            ),
            other => other,
        }
    }
    match restore(Value::Object(payload), &by_digest) {
        Value::Object(claims) => Ok(claims),
        _ => Err(error("the SD-JWT payload is not an object")),
    }
}

/// Keeps the disclosures of an SD-JWT whose claim name is in `names`, dropping the rest.
pub fn select_disclosures(sd_jwt: &str, names: &[&str]) -> String {
    let mut out = sd_jwt.split('~').next().unwrap_or_default().to_owned();
    out.push('~');
    for (text, disclosure) in disclosures(sd_jwt) {
        let name = disclosure.get(1).and_then(Value::as_str);
        if disclosure.len() == 3 && name.is_some_and(|n| names.contains(&n)) {
            out.push_str(text);
            out.push('~');
        }
    }
    out
}

fn base64url_sha256(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
}

/// Where a verifier asks the wallet to send the holder's browser once it has answered
/// (same-device flows, OpenID4VP 1.0 §8.2): the response endpoint's `redirect_uri`, when
/// it is a web page ([`crate::web::page`]); anything else is not followed.
pub fn verifier_page(answer: &Value) -> Option<url::Url> {
    crate::web::page(answer.get("redirect_uri")?.as_str()?)
}

/// `ath`: the base64url SHA-256 of an access token, as a DPoP proof sent with the token
/// carries it (RFC 9449 §4.2).
pub fn access_token_hash(access_token: &str) -> String {
    base64url_sha256(access_token)
}

/// The PKCE `code_challenge` of a `code_verifier` by the S256 method (RFC 7636 §4.2): its
/// base64url SHA-256.
pub fn pkce_challenge(code_verifier: &str) -> String {
    base64url_sha256(code_verifier)
}

/// The payload of a DPoP proof (RFC 9449 §4.2) for one request: its method, its URL
/// (without query or fragment), a unique `jti`, the time, and the hash of the access
/// token it is sent with.
pub fn dpop_payload(
    method: &str,
    url: &str,
    access_token: Option<&str>,
    jti: &str,
    iat: i64,
) -> Value {
    let mut payload = json!({"htm": method, "htu": url, "jti": jti, "iat": iat});
    if let Some(token) = access_token {
        payload["ath"] = json!(access_token_hash(token));
    }
    payload
}

/// The payload of an SD-JWT key-binding JWT (`kb+jwt`) over `presented` (the issuer's JWT
/// and the chosen disclosures, `~`-terminated), bound to the verifier's nonce and audience,
/// and authorizing the transactions whose hashes are given
/// ([`crate::transaction::hashes_for`]).
pub fn kb_jwt_payload(
    presented: &str,
    nonce: &str,
    audience: &str,
    iat: i64,
    transaction_hashes: &[String],
) -> Value {
    let sd_hash = URL_SAFE_NO_PAD.encode(Sha256::digest(presented.as_bytes()));
    let mut payload = json!({"iat": iat, "aud": audience, "nonce": nonce, "sd_hash": sd_hash});
    if !transaction_hashes.is_empty() {
        payload["transaction_data_hashes"] = json!(transaction_hashes);
        payload["transaction_data_hashes_alg"] = json!(crate::transaction::HASH_ALG);
    }
    payload
}

/// The `typ` and payload of a presentation JWT by `holder` presenting one VC JWT, bound
/// to the verifier's nonce and audience: for a VC 1.1 JWT, a 1.1 presentation JWT (`typ:
/// JWT`, the presentation in a `vp` claim, VC Data Model 1.1 §6.3.1); for a `vc+jwt`, a
/// `vp+jwt` with the credential enveloped, as VC-JOSE-COSE has it.
pub fn vp_jwt_payload(
    holder: &str,
    vc_jwt: &str,
    nonce: &str,
    audience: &str,
    iat: i64,
) -> (&'static str, Value) {
    let is_v1_1 = jwt_payload(vc_jwt).is_ok_and(|p| p.get("vc").is_some());
    if is_v1_1 {
        return (
            "JWT",
            json!({
                "iss": holder,
                "aud": audience,
                "nonce": nonce,
                "iat": iat,
                "vp": {
                    "@context": [VC_V1_CONTEXT],
                    "type": ["VerifiablePresentation"],
                    "holder": holder,
                    "verifiableCredential": [vc_jwt],
                },
            }),
        );
    }
    (
        "vp+jwt",
        json!({
            "@context": [VC_V2_CONTEXT],
            "type": ["VerifiablePresentation"],
            "holder": holder,
            "verifiableCredential": [{
                "@context": VC_V2_CONTEXT,
                "id": format!("data:application/vc+jwt,{vc_jwt}"),
                "type": "EnvelopedVerifiableCredential",
            }],
            "nonce": nonce,
            "aud": audience,
            "iat": iat,
        }),
    )
}

/// The holder's keys and credentials, and the roots it trusts verifiers' certificates to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Wallet<K> {
    pub version: u32,
    pub keys: Vec<K>,
    pub credentials: Vec<HeldCredential>,
    /// PEM certificates: a request of a verifier named by X.509 (`x509_san_dns`,
    /// `x509_hash`) is answered only when its chain leads to one of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trust_anchors: Vec<String>,
}

impl<K> Default for Wallet<K> {
    fn default() -> Self {
        Self {
            version: 1,
            keys: Vec::new(),
            credentials: Vec::new(),
            trust_anchors: Vec::new(),
        }
    }
}

impl<K> Wallet<K> {
    /// Trusts the certificates of PEM `text`; how many were new.
    pub fn trust(&mut self, text: &str) -> Result<usize, HolderError> {
        let read = crate::x509::certificates_in(text).map_err(|e| HolderError(e.0))?;
        if read.is_empty() {
            return Err(error(
                "paste a certificate in PEM: -----BEGIN CERTIFICATE----- …",
            ));
        }
        let before = self.trust_anchors.len();
        for cert in read {
            let pem = crate::x509::pem(&cert.der);
            if !self.trust_anchors.contains(&pem) {
                self.trust_anchors.push(pem);
            }
        }
        Ok(self.trust_anchors.len() - before)
    }

    /// The certificates it trusts (a stored one that no longer reads is left out).
    pub fn anchors(&self) -> Vec<crate::x509::Cert> {
        self.trust_anchors
            .iter()
            .filter_map(|p| crate::x509::certificates_in(p).ok())
            .flatten()
            .collect()
    }
}

/// Fresh keys for `relationship`, one for each copy of a credential to ask for: copies
/// bound to different keys cannot be linked by key.
pub fn fresh_keys<K: Key>(relationship: &str, count: usize) -> Result<Vec<K>, HolderError> {
    (0..count).map(|_| K::generate(relationship)).collect()
}

/// A credential received from an issuer, not yet kept: its first copy (with the others)
/// and the keys they are bound to.
#[derive(Debug, Clone)]
pub struct Received<K> {
    pub held: HeldCredential,
    pub keys: Vec<K>,
}

impl<K: Key> Received<K> {
    /// What an issuer's credential answer (OpenID4VCI 1.0: `credentials`) gave for proofs
    /// by `keys`, in their order. An issuer may give fewer copies than it was sent proofs;
    /// the keys of copies not given are dropped.
    pub fn from_answer(
        answer: &Value,
        keys: Vec<K>,
        format: &str,
        credential_issuer: &str,
        received_at: String,
    ) -> Result<Self, HolderError> {
        let credentials = answer["credentials"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c["credential"].clone())
            .filter(|c| !c.is_null());
        let mut pairs = credentials.zip(keys);
        let (credential, key) = pairs
            .next()
            .ok_or_else(|| error("the issuer answered without a credential"))?;
        let (copies, copy_keys): (Vec<HeldCopy>, Vec<K>) = pairs
            .map(|(credential, key)| {
                let copy = HeldCopy {
                    credential,
                    holder: key.did().to_owned(),
                };
                (copy, key)
            })
            .unzip();
        let held = HeldCredential {
            id: String::new(),
            format: format.to_owned(),
            credential,
            credential_issuer: credential_issuer.to_owned(),
            holder: key.did().to_owned(),
            received_at,
            copies,
            presentations: 0,
        };
        Ok(Self {
            held,
            keys: std::iter::once(key).chain(copy_keys).collect(),
        })
    }
}

/// One answer a wallet would give: the credential query, the credential, and the claims
/// queries it answers.
pub type Answer<'w, 'q> = (&'q str, &'w HeldCredential, Vec<&'q ClaimsQuery>);

impl<K: Key> Wallet<K> {
    /// The key a held credential is bound to.
    pub fn key_of(&self, credential: &HeldCredential) -> Option<&K> {
        self.keys.iter().find(|k| k.did() == credential.holder)
    }

    /// Adds a credential after checking it can be read; its local id.
    pub fn add(&mut self, mut credential: HeldCredential) -> Result<String, HolderError> {
        credential
            .view()
            .map_err(|e| error(format!("the credential received cannot be read: {e}")))?;
        let next = self
            .credentials
            .iter()
            .filter_map(|c| c.id.parse::<u64>().ok())
            .max()
            .unwrap_or(0)
            + 1;
        credential.id = next.to_string();
        self.credentials.push(credential);
        Ok(next.to_string())
    }

    /// Counts a presentation of credential `id`: the next shows its next copy.
    pub fn presented(&mut self, id: &str) {
        if let Some(held) = self.credentials.iter_mut().find(|c| c.id == id) {
            held.presentations = held.presentations.saturating_add(1);
        }
    }

    /// Keeps a received credential, with the keys it and its copies are bound to; its local
    /// id.
    pub fn keep(&mut self, received: Received<K>) -> Result<String, HolderError> {
        let id = self.add(received.held)?;
        self.keys.extend(received.keys);
        Ok(id)
    }

    /// Removes a credential; false when there is none with this id.
    pub fn delete(&mut self, id: &str) -> bool {
        let before = self.credentials.len();
        self.credentials.retain(|c| c.id != id);
        self.credentials.len() < before
    }

    /// The held credentials answering `query`, each with the claims queries it answers.
    pub fn candidates<'w, 'q>(
        &'w self,
        query: &'q CredentialQuery,
    ) -> Vec<(&'w HeldCredential, Vec<&'q ClaimsQuery>)> {
        self.credentials
            .iter()
            .filter_map(|held| {
                let view = held.view().ok()?;
                let candidate = Candidate {
                    format: &held.format,
                    vct: view.vct.as_deref(),
                    types: &view.types,
                    claims: &view.document,
                };
                query
                    .match_candidate(&candidate)
                    .map(|claims| (held, claims))
            })
            .collect()
    }

    /// What the wallet would present: per credential query, the first credential answering
    /// it. Errors when the answers cannot satisfy the query.
    pub fn plan<'w, 'q>(
        &'w self,
        query: &'q DcqlQuery,
    ) -> Result<Vec<Answer<'w, 'q>>, HolderError> {
        let answers: Vec<Answer<'w, 'q>> = query
            .credentials
            .iter()
            .filter_map(|q| {
                let (held, claims) = self.candidates(q).into_iter().next()?;
                Some((q.id.as_str(), held, claims))
            })
            .collect();
        let answered: Vec<&str> = answers.iter().map(|(id, _, _)| *id).collect();
        if !query.satisfied_by(&answered) {
            return Err(error(
                "no credential in this wallet answers what the verifier asks for",
            ));
        }
        Ok(answers)
    }
}

/// The parameters of an `openid-credential-offer://` or `openid4vp://` link (or of an
/// `https://` one), percent-decoded.
pub fn link_parameters(link: &str) -> Vec<(String, String)> {
    let query = link.split_once('?').map(|(_, q)| q).unwrap_or_default();
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect()
}

/// The value of parameter `name` of a link.
pub fn link_parameter(link: &str, name: &str) -> Option<String> {
    link_parameters(link)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Whether a request link asks its request object fetched by POST (`request_uri_method`,
/// OpenID4VP 1.0 §5.1): `false` for GET, its default.
pub fn request_uri_post(link: &str) -> Result<bool, HolderError> {
    match link_parameter(link, "request_uri_method").as_deref() {
        None | Some("get") => Ok(false),
        Some("post") => Ok(true),
        Some(other) => Err(HolderError(format!(
            "the link's request_uri_method `{other}` is neither get nor post"
        ))),
    }
}

/// What a wallet tells a verifier of itself when it fetches a request object by POST
/// (`wallet_metadata`, OpenID4VP 1.0 §10): the formats it presents, the answers it sends,
/// the verifiers it recognises and the request signatures it checks.
pub fn wallet_metadata(
    formats: &[&str],
    request_signing_algs: &[&str],
    client_id_prefixes: &[ClientIdPrefix],
) -> Value {
    let formats: Map<String, Value> = formats
        .iter()
        .map(|f| ((*f).to_owned(), json!({})))
        .collect();
    json!({
        "vp_formats_supported": formats,
        "response_types_supported": ["vp_token"],
        "response_modes_supported": [ResponseMode::DirectPost.as_str(), ResponseMode::DirectPostJwt.as_str()],
        "client_id_prefixes_supported": client_id_prefixes.iter().map(|p| p.name()).collect::<Vec<_>>(),
        "request_object_signing_alg_values_supported": request_signing_algs,
        "authorization_encryption_alg_values_supported": [response::ALG],
        "authorization_encryption_enc_values_supported": response::ENC_VALUES,
    })
}

/// Checks a request object fetched by POST carries the `wallet_nonce` the wallet sent
/// (OpenID4VP 1.0 §5.10.1); one that does not may be a request replayed to the wallet.
pub fn check_wallet_nonce(request: &Value, sent: &str) -> Result<(), HolderError> {
    if request.get("wallet_nonce").and_then(Value::as_str) == Some(sent) {
        Ok(())
    } else {
        Err(HolderError(
            "the request object does not carry the wallet_nonce this wallet sent: it may be a replayed request"
                .into(),
        ))
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| Some(hex(bytes[i + 1])? * 16 + hex(bytes[i + 2])?))
            .flatten();
        match (escaped, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
                continue;
            }
            (None, b'+') => out.push(b' '),
            (None, b) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disclosure(value: Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    fn digest(disclosure: &str) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(disclosure))
    }

    fn jwt(payload: Value) -> String {
        format!("e30.{}.c2ln", URL_SAFE_NO_PAD.encode(payload.to_string()))
    }

    #[test]
    fn a_wallet_follows_a_verifier_only_to_a_web_page() {
        let page = |uri: &str| verifier_page(&json!({ "redirect_uri": uri })).map(String::from);
        for followed in [
            "https://shop.example/done#response_code=abc",
            "http://127.0.0.1:8080/done",
            "http://localhost/done",
            "http://[::1]/done",
        ] {
            assert_eq!(page(followed).as_deref(), Some(followed), "{followed}");
        }
        for refused in [
            "javascript:alert(1)",
            "data:text/html,hi",
            "http://shop.example/done",
            "http://localhost.shop.example/done",
            "shop-app://done",
            "/done",
        ] {
            assert_eq!(page(refused), None, "{refused}");
        }
        assert_eq!(verifier_page(&json!({})), None);
    }

    #[test]
    fn the_claims_that_leave_with_a_credential_are_all_listed_and_only_disclosures_may_stay() {
        let given = disclosure(json!(["salt1", "givenName", "Maria"]));
        let nested = disclosure(json!(["salt2", "street", "Via Roma 1"]));
        let status = disclosure(json!(["salt3", "iat", 1]));
        let payload = json!({
            "iss": "did:key:z6Mk", "vct": "https://example.test/Qualification", "iat": 1,
            "vct#integrity": "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
            "cnf": {"jwk": {}}, "awardDate": "2026-06-30", "eqfLevel": 6,
            "address": {"_sd": [digest(&nested)]},
            "_sd": [digest(&given), digest(&status)], "_sd_alg": "sha-256",
        });
        let held = HeldCredential {
            id: "1".into(),
            format: formats::SD_JWT.into(),
            credential: Value::String(format!("{}~{given}~{nested}~{status}~", jwt(payload))),
            credential_issuer: "https://example.test".into(),
            holder: "did:key:z6Mk".into(),
            received_at: "2026-12-06T00:00:00Z".into(),
            copies: Vec::new(),
            presentations: 0,
        };
        let claims = held.subject_claims().expect("claims");
        let mut listed: Vec<(&str, bool)> = claims
            .iter()
            .map(|c| (c.name.as_str(), c.withholdable))
            .collect();
        // In the order of the payload's members, which serde_json may or may not keep.
        listed.sort();
        // Signed in clear: the address (without its withheld street), the award date and
        // the level always leave; the given name is the holder's choice; nothing about the
        // token itself is a subject claim, disclosed or not.
        assert_eq!(
            listed,
            [
                ("address", false),
                ("awardDate", false),
                ("eqfLevel", false),
                ("givenName", true)
            ]
        );
        let given = claims
            .iter()
            .find(|c| c.name == "givenName")
            .expect("givenName");
        assert_eq!(given.value, "Maria");

        let ldp = HeldCredential {
            format: formats::LDP_VC.into(),
            credential: json!({
                "@context": [VC_V2_CONTEXT], "type": ["VerifiableCredential"],
                "credentialSubject": {"id": "did:key:z6Mk", "producer": "Frantoio", "lot": 7},
            }),
            ..held
        };
        let mut listed: Vec<(String, bool)> = ldp
            .subject_claims()
            .expect("claims")
            .into_iter()
            .map(|c| (c.name, c.withholdable))
            .collect();
        listed.sort();
        assert_eq!(listed, [("lot".into(), false), ("producer".into(), false)]);
    }

    #[test]
    fn a_pasted_credential_is_read_in_every_form_a_verifier_meets() {
        let vc = json!({
            "@context": [VC_V2_CONTEXT], "type": ["VerifiableCredential", "FoodCert"],
            "issuer": "did:key:z6Mk", "credentialSubject": {"producer": "Frantoio"},
        });
        let token = jwt(vc.clone());
        let enveloped = json!({
            "@context": [VC_V2_CONTEXT], "type": "EnvelopedVerifiableCredential",
            "id": format!("data:application/vc+jwt,{token}"),
        });
        for pasted in [
            vc.to_string(),
            format!("  {token}\n"),
            json!({"verifiableCredential": enveloped}).to_string(),
            json!({"verifiableCredential": vc}).to_string(),
        ] {
            let view = read_pasted(&pasted).expect(&pasted);
            assert_eq!(view.types, ["VerifiableCredential", "FoodCert"], "{pasted}");
            assert_eq!(view.issuer.as_deref(), Some("did:key:z6Mk"));
            assert_eq!(view.document["credentialSubject"]["producer"], "Frantoio");
        }
        // The credential the verify endpoint takes: the envelope, not the issue answer.
        let answer = json!({"verifiableCredential": enveloped}).to_string();
        assert_eq!(pasted_credential(&answer), enveloped);

        let name = disclosure(json!(["s1", "givenName", "Ada"]));
        let payload = json!({"iss": "https://issuer.test", "vct": "urn:t", "_sd_alg": "sha-256",
            "_sd": [digest(&name)]});
        let view = read_pasted(&format!("{}~{name}~", jwt(payload))).expect("an SD-JWT");
        assert_eq!(view.document["givenName"], "Ada");
        assert_eq!(view.vct.as_deref(), Some("urn:t"));

        assert!(read_pasted("not a credential").is_err());
    }

    #[test]
    fn link_parameters_are_percent_decoded() {
        let link = "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fcertus.test%2Fopenid4vci%2Foffers%2Fab";
        assert_eq!(
            link_parameter(link, "credential_offer_uri").as_deref(),
            Some("https://certus.test/openid4vci/offers/ab")
        );
        assert_eq!(
            link_parameters("openid4vp://?a=%zz&b=x+y"),
            [("a".into(), "%zz".into()), ("b".into(), "x y".into())]
        );
        assert_eq!(link_parameter("openid4vp://", "a"), None);
    }

    #[test]
    fn only_the_chosen_disclosures_are_kept() {
        let given = disclosure(json!(["salt", "givenName", "v"]));
        let birth = disclosure(json!(["salt", "birthDate", "v"]));
        let token = format!("h.p.s~{given}~{birth}~");
        assert_eq!(
            select_disclosures(&token, &["birthDate"]),
            format!("h.p.s~{birth}~")
        );
        assert_eq!(select_disclosures(&token, &[]), "h.p.s~");
    }

    #[test]
    fn disclosures_go_back_where_their_digests_are() {
        let name = disclosure(json!(["s1", "givenName", "Ada"]));
        let street = disclosure(json!(["s2", "street", "Main St 1"]));
        let nationality = disclosure(json!(["s3", "DE"]));
        let payload = json!({
            "iss": "https://issuer.test", "vct": "urn:t", "_sd_alg": "sha-256",
            "_sd": [digest(&name), "withheld-digest"],
            "address": {"_sd": [digest(&street)], "city": "Berlin"},
            "nationalities": [{"...": digest(&nationality)}, {"...": "withheld"}, "FR"],
        });
        let token = format!("{}~{name}~{street}~{nationality}~", jwt(payload));
        let claims = sd_jwt_claims(&token).expect("decodes");
        assert_eq!(
            Value::Object(claims),
            json!({
                "iss": "https://issuer.test", "vct": "urn:t", "givenName": "Ada",
                "address": {"city": "Berlin", "street": "Main St 1"},
                "nationalities": ["DE", "FR"],
            })
        );
        // A disclosure whose digest is not in the payload is not a claim.
        let stray = disclosure(json!(["s4", "birthDate", "1990-01-01"]));
        let token = format!("{}~{stray}~", jwt(json!({"vct": "urn:t"})));
        assert!(!sd_jwt_claims(&token)
            .expect("decodes")
            .contains_key("birthDate"));
        assert!(sd_jwt_claims("not-a-jwt~").is_err());
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct TestKey(String, String);

    impl Key for TestKey {
        fn generate(relationship: &str) -> Result<Self, HolderError> {
            static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(Self(format!("did:test:{n}"), relationship.into()))
        }
        fn did(&self) -> &str {
            &self.0
        }
        fn relationship(&self) -> &str {
            &self.1
        }
    }

    fn held(types: &[&str], subject: Value) -> HeldCredential {
        HeldCredential {
            id: String::new(),
            format: formats::LDP_VC.into(),
            credential: json!({"type": types, "issuer": {"id": "did:key:z6Mk"}, "credentialSubject": subject}),
            credential_issuer: "https://issuer.test".into(),
            holder: "did:test:https://issuer.test".into(),
            received_at: "2026-11-21T00:00:00Z".into(),
            copies: Vec::new(),
            presentations: 0,
        }
    }

    #[test]
    fn a_wallet_binds_each_copy_to_a_fresh_key_shows_the_copies_in_turn_and_answers_queries() {
        let mut wallet = Wallet::<TestKey>::default();
        let keys: Vec<TestKey> = fresh_keys("https://issuer.test", 4).expect("keys");
        let mut dids: Vec<&str> = keys.iter().map(Key::did).collect();
        dids.sort_unstable();
        dids.dedup();
        assert_eq!(dids.len(), 4, "no key twice");

        // Four proofs sent, three copies given: the fourth key is not kept.
        let copy = |key: &TestKey| json!({"credential": {"type": ["VerifiableCredential", "A"], "credentialSubject": {"x": 1}, "copy": key.did()}});
        let answer = json!({"credentials": keys[..3].iter().map(copy).collect::<Vec<_>>()});
        let received = Received::from_answer(
            &answer,
            keys.clone(),
            formats::LDP_VC,
            "https://issuer.test",
            "2026-12-07T00:00:00Z".into(),
        )
        .expect("received");
        assert_eq!(received.keys, keys[..3]);
        let first = wallet.keep(received).expect("kept");
        assert_eq!(wallet.keys, keys[..3]);
        let keys = &keys[..3];
        assert!(
            Received::from_answer(
                &json!({"credentials": []}),
                keys.to_vec(),
                "ldp_vc",
                "x",
                "t".into()
            )
            .is_err(),
            "an answer without a credential"
        );
        assert_eq!(wallet.credentials[0].unshown_copies(), 3);
        let mut shown = Vec::new();
        for _ in 0..4 {
            let copy = wallet.credentials[0].next_copy();
            assert!(copy.copies.is_empty(), "a copy is presented alone");
            let key = wallet.key_of(&copy).expect("the copy's key");
            assert_eq!(key.did(), copy.holder);
            assert_eq!(copy.credential["copy"], copy.holder, "its own credential");
            shown.push(copy.holder);
            wallet.presented(&first);
        }
        assert_eq!(
            shown,
            [keys[0].did(), keys[1].did(), keys[2].did(), keys[0].did()],
            "each copy once before any twice"
        );
        assert_eq!(wallet.credentials[0].unshown_copies(), 0);
        // A credential kept before batches reads as one copy, never shown.
        let earlier: HeldCredential = serde_json::from_value(json!({
            "id": "7", "format": "ldp_vc", "credential": {}, "credentialIssuer": "https://issuer.test",
            "holder": "did:test:x", "receivedAt": "2026-11-21T00:00:00Z",
        }))
        .expect("an earlier wallet file reads");
        assert_eq!(earlier.unshown_copies(), 1);
        assert_eq!(earlier.next_copy(), earlier);

        let second = wallet
            .add(held(&["VerifiableCredential", "B"], json!({"y": 2})))
            .expect("adds");
        assert_eq!((first.as_str(), second.as_str()), ("1", "2"));
        assert_eq!(wallet.key_of(&wallet.credentials[0]), Some(&keys[0]));
        let unreadable = HeldCredential {
            format: formats::SD_JWT.into(),
            credential: json!("garbage"),
            ..held(&[], json!({}))
        };
        assert!(wallet.add(unreadable).is_err());

        let query: DcqlQuery = serde_json::from_value(json!({"credentials": [{
            "id": "b", "format": "ldp_vc", "meta": {"type_values": [["B"]]},
            "claims": [{"path": ["credentialSubject", "y"]}]
        }]}))
        .expect("DCQL");
        let plan = wallet.plan(&query).expect("answers");
        assert_eq!(plan.len(), 1);
        assert_eq!((plan[0].0, plan[0].1.id.as_str()), ("b", "2"));

        assert!(wallet.delete("2"));
        assert!(!wallet.delete("2"));
        assert!(wallet.plan(&query).is_err());
    }

    #[test]
    fn a_request_fetched_by_post_must_carry_the_wallets_nonce() {
        let link = |method: &str| {
            format!("openid4vp://?client_id=c&request_uri=https%3A%2F%2Fv%2Fr{method}")
        };
        assert_eq!(request_uri_post(&link("")), Ok(false));
        assert_eq!(
            request_uri_post(&link("&request_uri_method=get")),
            Ok(false)
        );
        assert_eq!(
            request_uri_post(&link("&request_uri_method=post")),
            Ok(true)
        );
        assert!(request_uri_post(&link("&request_uri_method=POST")).is_err());
        assert_eq!(
            check_wallet_nonce(&json!({"wallet_nonce": "n1"}), "n1"),
            Ok(())
        );
        assert!(check_wallet_nonce(&json!({"wallet_nonce": "n2"}), "n1").is_err());
        assert!(check_wallet_nonce(&json!({}), "n1").is_err());
        let metadata = wallet_metadata(
            &[formats::SD_JWT],
            &["EdDSA"],
            &[ClientIdPrefix::DecentralizedIdentifier],
        );
        assert_eq!(metadata["vp_formats_supported"], json!({"dc+sd-jwt": {}}));
        assert_eq!(
            metadata["client_id_prefixes_supported"],
            json!(["decentralized_identifier"])
        );
        assert_eq!(
            metadata["response_modes_supported"],
            json!(["direct_post", "direct_post.jwt"])
        );
    }
}
