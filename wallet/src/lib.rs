//! The holder's side of OpenID4VC, for `certus wallet` (scripts and servers): the shared
//! wallet model (`certus_schemas::holder`) with ssi keys, kept in a file; offers accepted
//! (OpenID4VCI pre-authorized code flow) and requests answered (OpenID4VP with DCQL,
//! disclosing only the claims asked for). The web wallet runs the same model in the
//! browser, and its backup, once opened, is this file.

pub mod client;

use std::path::Path;

use anyhow::{bail, Context};
use certus_schemas::dcql::{formats, ClaimsQuery};
use certus_schemas::holder::{self, HolderError, Key};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use ssi::jwk::JWK;

use certus_credential::contexts::Contexts;
use certus_credential::data_integrity::{self, ProofConfig};
use certus_credential::did;
use certus_credential::time::xsd_now;
use certus_credential::{jose, sd_jwt, VC_V2_CONTEXT};
use certus_schemas::openid::{DPOP_TYP, PROOF_TYP};

pub use certus_schemas::holder::{select_disclosures, HeldCredential};

/// A holder key: a `did:jwk` with its private JWK.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HolderKey {
    pub did: String,
    /// Who the key is used with: a credential issuer's URL or a verifier's client id.
    pub relationship: String,
    pub jwk: JWK,
}

impl Key for HolderKey {
    /// A fresh Ed25519 key for `relationship`.
    fn generate(relationship: &str) -> Result<Self, HolderError> {
        let made = || -> anyhow::Result<Self> {
            let jwk = JWK::generate_ed25519()?;
            let did = did::did_jwk_for(&jwk.to_public())?;
            Ok(Self {
                did,
                relationship: relationship.to_owned(),
                jwk,
            })
        };
        made().map_err(|e| HolderError(format!("making a key: {e:#}")))
    }

    fn did(&self) -> &str {
        &self.did
    }

    fn relationship(&self) -> &str {
        &self.relationship
    }
}

impl HolderKey {
    /// The verification method of a `did:jwk`.
    pub fn kid(&self) -> String {
        format!("{}#0", self.did)
    }

    /// A DPoP proof (RFC 9449) of this key for one `method` request to `url`, sent with
    /// `access_token` when there is one.
    pub fn dpop(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let mut header = jose::header(&[("typ", DPOP_TYP)]);
        header.insert("jwk".into(), serde_json::to_value(self.jwk.to_public())?);
        let jti = uuid::Uuid::new_v4().to_string();
        let payload = holder::dpop_payload(method, url, access_token, &jti, now.timestamp());
        Ok(jose::sign(header, &payload, &self.jwk)?)
    }

    /// An OpenID4VCI proof of possession for `issuer` and its `nonce`.
    pub fn proof(&self, issuer: &str, nonce: &str, now: DateTime<Utc>) -> anyhow::Result<String> {
        let header = jose::header(&[("typ", PROOF_TYP), ("kid", &self.kid())]);
        let payload = json!({"aud": issuer, "iat": now.timestamp(), "nonce": nonce});
        Ok(jose::sign(header, &payload, &self.jwk)?)
    }
}

/// The wallet file: keys and credentials, readable by its owner only.
pub type Wallet = holder::Wallet<HolderKey>;

/// Creates an empty wallet file; refuses to overwrite one.
pub fn init(path: &Path) -> anyhow::Result<Wallet> {
    if path.exists() {
        bail!("{} already exists", path.display());
    }
    let wallet = Wallet::default();
    save(&wallet, path)?;
    Ok(wallet)
}

pub fn load(path: &Path) -> anyhow::Result<Wallet> {
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
pub fn save(wallet: &Wallet, path: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    let text = serde_json::to_string_pretty(wallet)?;
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

/// What a presentation is bound to, and the hashes of the transactions it authorizes (an
/// SD-JWT VC's key-binding JWT carries them).
#[derive(Debug, Clone, Copy)]
pub struct Audience<'a> {
    pub nonce: &'a str,
    pub client_id: &'a str,
    pub now: DateTime<Utc>,
    pub transaction_hashes: &'a [String],
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
                to.nonce,
                to.client_id,
                to.now.timestamp(),
                to.transaction_hashes,
            )?;
            Ok(json!(format!("{presented}{kb}")))
        }
        formats::JWT_VC => {
            let token = held.credential.as_str().context("a vc+jwt is a string")?;
            let (typ, payload) =
                holder::vp_jwt_payload(&key.did, token, to.nonce, to.client_id, to.now.timestamp());
            let header = jose::header(&[("typ", typ), ("kid", &key.kid())]);
            Ok(json!(jose::sign(header, &payload, &key.jwk)?))
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
