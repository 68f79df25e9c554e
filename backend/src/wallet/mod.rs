//! The holder's side of OpenID4VC, for `certus wallet` (scripts and servers): keys, one
//! pairwise `did:jwk` per issuer and per verifier, credentials kept in a file, offers
//! accepted (OpenID4VCI pre-authorized code flow) and requests answered (OpenID4VP with
//! DCQL, disclosing only the claims asked for).

pub mod client;

use std::path::Path;

use anyhow::{bail, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use certus_schemas::dcql::{formats, Candidate, ClaimsQuery, CredentialQuery};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use ssi::jwk::{Algorithm, JWK};

use crate::credential::contexts::Contexts;
use crate::credential::data_integrity::{self, ProofConfig};
use crate::credential::envelope::{self, MediaType};
use crate::credential::{jose, sd_jwt, VC_V2_CONTEXT};
use crate::did;
use crate::issuance::xsd_now;
use crate::openid::proof::PROOF_TYP;
use crate::verification::{issuer_of, types_of};

/// A holder key: a `did:jwk` with its private JWK.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HolderKey {
    pub did: String,
    /// Who the key is used with: a credential issuer's URL or a verifier's client id.
    pub relationship: String,
    pub jwk: JWK,
}

impl HolderKey {
    /// A fresh Ed25519 key for `relationship`.
    pub fn generate(relationship: &str) -> anyhow::Result<Self> {
        let jwk = JWK::generate_ed25519()?;
        let did = did::did_jwk_for(&jwk.to_public())?;
        Ok(Self {
            did,
            relationship: relationship.to_owned(),
            jwk,
        })
    }

    /// The verification method of a `did:jwk`.
    pub fn kid(&self) -> String {
        format!("{}#0", self.did)
    }

    /// An OpenID4VCI proof of possession for `issuer` and its `nonce`.
    pub fn proof(&self, issuer: &str, nonce: &str, now: DateTime<Utc>) -> anyhow::Result<String> {
        let header = jose::header(&[("typ", PROOF_TYP), ("kid", &self.kid())]);
        let payload = json!({"aud": issuer, "iat": now.timestamp(), "nonce": nonce});
        Ok(jose::sign(header, &payload, &self.jwk, Algorithm::EdDSA)?)
    }
}

/// A credential in the wallet.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
}

/// What a held credential shows of itself, for DCQL and for listing.
#[derive(Debug, Clone)]
pub struct View {
    pub issuer: Option<String>,
    pub vct: Option<String>,
    pub types: Vec<String>,
    /// The document DCQL claims paths apply to (every claim, disclosures in place).
    pub document: Value,
}

impl HeldCredential {
    /// Decodes the credential for DCQL and for listing.
    pub fn view(&self) -> anyhow::Result<View> {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        match self.format.as_str() {
            formats::SD_JWT => {
                let token = self.credential.as_str().context("an SD-JWT is a string")?;
                let decoded = sd_jwt::decode(token)?;
                let vct = text(decoded.claims.get("vct"));
                Ok(View {
                    issuer: text(decoded.claims.get("iss")),
                    types: vct.iter().cloned().collect(),
                    vct,
                    document: Value::Object(decoded.claims),
                })
            }
            formats::JWT_VC => {
                let token = self.credential.as_str().context("a vc+jwt is a string")?;
                Ok(w3c_view(jose::decode(token)?.payload))
            }
            _ => Ok(w3c_view(self.credential.clone())),
        }
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

/// The wallet file: keys and credentials, readable by its owner only.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Wallet {
    pub version: u32,
    pub keys: Vec<HolderKey>,
    pub credentials: Vec<HeldCredential>,
}

impl Wallet {
    /// Creates an empty wallet file; refuses to overwrite one.
    pub fn init(path: &Path) -> anyhow::Result<Self> {
        if path.exists() {
            bail!("{} already exists", path.display());
        }
        let wallet = Self {
            version: 1,
            ..Self::default()
        };
        wallet.save(path)?;
        Ok(wallet)
    }

    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "reading {} (create one with `certus wallet init`)",
                path.display()
            )
        })?;
        serde_json::from_str(&text).with_context(|| format!("{} is not a wallet", path.display()))
    }

    /// Writes the wallet (owner-only on Unix) through a temporary file, so a crash never
    /// leaves half a wallet.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        use std::io::Write;
        let text = serde_json::to_string_pretty(self)?;
        let temporary = path.with_extension("tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&temporary)
            .with_context(|| format!("writing {}", temporary.display()))?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, path).with_context(|| format!("writing {}", path.display()))
    }

    /// The key used with `relationship`, made on first use.
    pub fn key_for(&mut self, relationship: &str) -> anyhow::Result<HolderKey> {
        if let Some(key) = self.keys.iter().find(|k| k.relationship == relationship) {
            return Ok(key.clone());
        }
        let key = HolderKey::generate(relationship)?;
        self.keys.push(key.clone());
        Ok(key)
    }

    /// The key a held credential is bound to.
    pub fn key_of(&self, credential: &HeldCredential) -> Option<&HolderKey> {
        self.keys.iter().find(|k| k.did == credential.holder)
    }

    /// Adds a credential; its local id.
    pub fn add(&mut self, mut credential: HeldCredential) -> String {
        let next = self
            .credentials
            .iter()
            .filter_map(|c| c.id.parse::<u64>().ok())
            .max()
            .unwrap_or(0)
            + 1;
        credential.id = next.to_string();
        self.credentials.push(credential);
        next.to_string()
    }

    /// The first held credential answering `query`, with the claims queries it answers.
    pub fn find<'q>(
        &self,
        query: &'q CredentialQuery,
    ) -> Option<(&HeldCredential, Vec<&'q ClaimsQuery>)> {
        self.credentials.iter().find_map(|held| {
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
    }
}

/// Keeps the disclosures of an SD-JWT whose claim name is in `names`, dropping the rest.
pub fn select_disclosures(sd_jwt: &str, names: &[&str]) -> String {
    let mut parts = sd_jwt.split('~');
    let mut out = parts.next().unwrap_or_default().to_owned();
    out.push('~');
    for disclosure in parts.filter(|d| !d.is_empty() && !d.contains('.')) {
        let name = URL_SAFE_NO_PAD
            .decode(disclosure)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .and_then(|d| d.get(1).and_then(Value::as_str).map(str::to_owned));
        if name.is_some_and(|n| names.contains(&n.as_str())) {
            out.push_str(disclosure);
            out.push('~');
        }
    }
    out
}

/// What a presentation is bound to.
#[derive(Debug, Clone, Copy)]
pub struct Audience<'a> {
    pub nonce: &'a str,
    pub client_id: &'a str,
    pub now: DateTime<Utc>,
}

/// A presentation of `held` disclosing `claims` (for SD-JWT; the W3C formats show the
/// whole credential), bound to the verifier's nonce and client id with `key`.
pub async fn present(
    held: &HeldCredential,
    claims: &[&ClaimsQuery],
    key: &HolderKey,
    to: Audience<'_>,
    contexts: &Contexts,
) -> anyhow::Result<Value> {
    match held.format.as_str() {
        formats::SD_JWT => {
            let token = held.credential.as_str().context("an SD-JWT is a string")?;
            let names: Vec<&str> = claims.iter().filter_map(|c| c.top_level()).collect();
            let presented = select_disclosures(token, &names);
            let kb = sd_jwt::key_binding_jwt(
                &presented,
                &key.jwk,
                Algorithm::EdDSA,
                to.nonce,
                to.client_id,
                to.now.timestamp(),
            )?;
            Ok(json!(format!("{presented}{kb}")))
        }
        formats::JWT_VC => {
            let token = held.credential.as_str().context("a vc+jwt is a string")?;
            let payload = json!({
                "@context": [VC_V2_CONTEXT],
                "type": ["VerifiablePresentation"],
                "holder": key.did,
                "verifiableCredential": [envelope::envelop_credential(MediaType::VcJwt, token)],
                "nonce": to.nonce,
                "aud": to.client_id,
                "iat": to.now.timestamp(),
            });
            let header = jose::header(&[("typ", "vp+jwt"), ("kid", &key.kid())]);
            Ok(json!(jose::sign(
                header,
                &payload,
                &key.jwk,
                Algorithm::EdDSA
            )?))
        }
        _ => {
            let presentation = json!({
                "@context": [VC_V2_CONTEXT],
                "type": ["VerifiablePresentation"],
                "holder": key.did,
                "verifiableCredential": [held.credential],
            });
            let kid = key.kid();
            Ok(data_integrity::sign(
                presentation,
                &key.jwk,
                Algorithm::EdDSA,
                ProofConfig {
                    verification_method: &kid,
                    proof_purpose: "authentication",
                    created: xsd_now(to.now),
                    challenge: Some(to.nonce),
                    domain: Some(to.client_id),
                },
                contexts,
            )
            .await?)
        }
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

    #[test]
    fn link_parameters_are_percent_decoded() {
        let link = "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fcertus.test%2Fopenid4vci%2Foffers%2Fab";
        assert_eq!(
            link_parameters(link),
            [(
                "credential_offer_uri".to_owned(),
                "https://certus.test/openid4vci/offers/ab".to_owned()
            )]
        );
        assert_eq!(
            link_parameters("openid4vp://?a=%zz&b=x+y"),
            [("a".into(), "%zz".into()), ("b".into(), "x y".into())]
        );
    }

    #[test]
    fn only_the_chosen_disclosures_are_kept() {
        let disclosure =
            |name: &str| URL_SAFE_NO_PAD.encode(json!(["salt", name, "v"]).to_string());
        let token = format!(
            "h.p.s~{}~{}~",
            disclosure("givenName"),
            disclosure("birthDate")
        );
        assert_eq!(
            select_disclosures(&token, &["birthDate"]),
            format!("h.p.s~{}~", disclosure("birthDate"))
        );
        assert_eq!(select_disclosures(&token, &[]), "h.p.s~");
    }
}
