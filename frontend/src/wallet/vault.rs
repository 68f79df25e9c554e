//! The wallet at rest: its JSON sealed with AES-256-GCM under a key derived from the
//! holder's passphrase (PBKDF2-HMAC-SHA-256, 600,000 iterations, in WebCrypto), kept in
//! `localStorage`. A backup is the same sealed document as a file: it is never in clear
//! outside the page's memory, and only the passphrase opens it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use certus_schemas::holder::HolderError;
use js_sys::{Array, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AesDerivedKeyParams, AesGcmParams, CryptoKey, Pbkdf2Params, SubtleCrypto};

use super::WebWallet;
use crate::wallet::keys::random_bytes;

/// Where the sealed wallet lives in `localStorage`.
const STORAGE_KEY: &str = "certus.wallet";
/// What a sealed wallet says it is.
const KIND: &str = "certus-wallet";
/// OWASP's 2023 figure for PBKDF2-HMAC-SHA-256.
const ITERATIONS: u32 = 600_000;
/// The shortest passphrase accepted.
pub const MIN_PASSPHRASE: usize = 10;

/// A sealed wallet: what `localStorage` and a backup file hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sealed {
    pub kind: String,
    pub version: u32,
    pub kdf: Kdf,
    /// Always `A256GCM`.
    pub cipher: String,
    /// base64url, 12 bytes.
    pub iv: String,
    /// base64url AES-GCM output (ciphertext and tag).
    pub ciphertext: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kdf {
    /// Always `PBKDF2-SHA-256`.
    pub name: String,
    pub iterations: u32,
    /// base64url, 16 bytes.
    pub salt: String,
}

/// The key of an open wallet: derived once per unlock, never stored.
#[derive(Debug, Clone)]
pub struct Vault {
    key: CryptoKey,
    kdf: Kdf,
}

pub(super) fn failed(what: &str) -> impl Fn(JsValue) -> HolderError + '_ {
    move |e| {
        let reason = e
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_default();
        HolderError(format!("{what} failed {reason}").trim_end().to_owned())
    }
}

pub(super) fn subtle() -> Result<SubtleCrypto, HolderError> {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.subtle())
        .ok_or_else(|| {
            HolderError(
                "this browser has no WebCrypto (is the page served over HTTPS or from localhost?)"
                    .into(),
            )
        })
}

pub(super) fn usages(list: &[&str]) -> JsValue {
    list.iter()
        .map(|u| JsValue::from_str(u))
        .collect::<Array>()
        .into()
}

pub(super) async fn promised<T: JsCast>(
    promise: Result<js_sys::Promise, JsValue>,
    what: &str,
) -> Result<T, HolderError> {
    let value = JsFuture::from(promise.map_err(failed(what))?)
        .await
        .map_err(failed(what))?;
    value
        .dyn_into::<T>()
        .map_err(|_| HolderError(format!("{what} gave an unexpected answer")))
}

fn decode(text: &str, what: &str) -> Result<Vec<u8>, HolderError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| HolderError(format!("the backup's {what} is not base64url")))
}

impl Vault {
    /// Derives the key of `passphrase` under the `kdf` parameters.
    async fn derive(passphrase: &str, kdf: Kdf) -> Result<Self, HolderError> {
        if kdf.name != "PBKDF2-SHA-256" || kdf.iterations < 100_000 {
            return Err(HolderError(format!(
                "the wallet is sealed with {} × {}, which this wallet does not open",
                kdf.name, kdf.iterations
            )));
        }
        let subtle = subtle()?;
        let material: CryptoKey = promised(
            subtle.import_key_with_str(
                "raw",
                &Uint8Array::from(passphrase.as_bytes()),
                "PBKDF2",
                false,
                &usages(&["deriveKey"]),
            ),
            "reading the passphrase",
        )
        .await?;
        let salt = Uint8Array::from(decode(&kdf.salt, "salt")?.as_slice());
        let params = Pbkdf2Params::new(
            "PBKDF2",
            &JsValue::from_str("SHA-256"),
            kdf.iterations,
            &salt,
        );
        let key = promised(
            subtle.derive_key_with_object_and_object(
                &params,
                &material,
                &AesDerivedKeyParams::new("AES-GCM", 256),
                false,
                &usages(&["encrypt", "decrypt"]),
            ),
            "deriving the key",
        )
        .await?;
        Ok(Self { key, kdf })
    }

    /// A new vault for `passphrase`, with a fresh salt.
    pub async fn create(passphrase: &str) -> Result<Self, HolderError> {
        if passphrase.chars().count() < MIN_PASSPHRASE {
            return Err(HolderError(format!(
                "choose a passphrase of at least {MIN_PASSPHRASE} characters"
            )));
        }
        let kdf = Kdf {
            name: "PBKDF2-SHA-256".into(),
            iterations: ITERATIONS,
            salt: URL_SAFE_NO_PAD.encode(random_bytes::<16>()?),
        };
        Self::derive(passphrase, kdf).await
    }

    /// Opens a sealed wallet; a wrong passphrase (or a changed byte) fails the AES-GCM tag.
    pub async fn open(sealed: &Sealed, passphrase: &str) -> Result<(Self, WebWallet), HolderError> {
        if sealed.kind != KIND || sealed.version != 1 || sealed.cipher != "A256GCM" {
            return Err(HolderError("this is not a Certus wallet backup".into()));
        }
        let vault = Self::derive(passphrase, sealed.kdf.clone()).await?;
        let iv = Uint8Array::from(decode(&sealed.iv, "iv")?.as_slice());
        let ciphertext = decode(&sealed.ciphertext, "ciphertext")?;
        let plain: js_sys::ArrayBuffer = promised(
            subtle()?.decrypt_with_object_and_u8_array(
                &AesGcmParams::new("AES-GCM", &iv),
                &vault.key,
                &ciphertext,
            ),
            "opening the wallet",
        )
        .await
        .map_err(|_| HolderError("wrong passphrase, or the wallet was altered".into()))?;
        let wallet = serde_json::from_slice(&Uint8Array::new(&plain).to_vec())
            .map_err(|e| HolderError(format!("the wallet opened but cannot be read: {e}")))?;
        Ok((vault, wallet))
    }

    /// Seals `wallet` with a fresh IV.
    pub async fn seal(&self, wallet: &WebWallet) -> Result<Sealed, HolderError> {
        let iv = random_bytes::<12>()?;
        let plain = serde_json::to_vec(wallet).map_err(|e| HolderError(e.to_string()))?;
        let sealed: js_sys::ArrayBuffer = promised(
            subtle()?.encrypt_with_object_and_u8_array(
                &AesGcmParams::new("AES-GCM", &Uint8Array::from(iv.as_slice())),
                &self.key,
                &plain,
            ),
            "sealing the wallet",
        )
        .await?;
        Ok(Sealed {
            kind: KIND.into(),
            version: 1,
            kdf: self.kdf.clone(),
            cipher: "A256GCM".into(),
            iv: URL_SAFE_NO_PAD.encode(iv),
            ciphertext: URL_SAFE_NO_PAD.encode(Uint8Array::new(&sealed).to_vec()),
        })
    }
}

fn storage() -> Result<web_sys::Storage, HolderError> {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .ok_or_else(|| HolderError("this browser keeps no local storage for the page".into()))
}

/// The sealed wallet this browser keeps, if any.
pub fn stored() -> Option<Sealed> {
    let text = storage().ok()?.get_item(STORAGE_KEY).ok()??;
    serde_json::from_str(&text).ok()
}

/// Keeps `sealed` as this browser's wallet.
pub fn store(sealed: &Sealed) -> Result<(), HolderError> {
    let text = serde_json::to_string(sealed).map_err(|e| HolderError(e.to_string()))?;
    storage()?
        .set_item(STORAGE_KEY, &text)
        .map_err(|_| HolderError("the browser refused to store the wallet (storage full?)".into()))
}

/// Removes this browser's wallet.
pub fn forget() -> Result<(), HolderError> {
    storage()?
        .remove_item(STORAGE_KEY)
        .map_err(|_| HolderError("the browser refused to remove the wallet".into()))
}

/// A sealed wallet read from a backup file's text.
pub fn parse_backup(text: &str) -> Result<Sealed, HolderError> {
    serde_json::from_str(text)
        .map_err(|_| HolderError("this file is not a Certus wallet backup".into()))
}
