//! An answer encrypted to a verifier (`direct_post.jwt`, OpenID4VP 1.0 §8.3) in WebCrypto:
//! an ephemeral P-256 key agrees a secret with the verifier's key (ECDH), JWA's Concat KDF
//! turns it into the content key, AES-GCM seals the answer with the protected header as
//! associated data — a compact JWE with `alg: ECDH-ES`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use certus_schemas::holder::HolderError;
use certus_schemas::response::{concat_kdf, Encryption, CURVE};
use js_sys::{ArrayBuffer, Object, Uint8Array};
use serde_json::{Map, Value};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AesGcmParams, CryptoKey, EcKeyGenParams, EcKeyImportParams, EcdhKeyDeriveParams};

use super::keys::random_bytes;
use super::vault::{promised, subtle, usages};

/// AES-GCM's tag, which WebCrypto appends to the ciphertext.
const TAG_LEN: usize = 16;
/// The members of an EC public JWK that name the key (no `alg`, `use`, `kid` or `d`).
const EC_PUBLIC: [&str; 4] = ["kty", "crv", "x", "y"];

/// A JWK's public EC members as a JavaScript object.
fn public_jwk(jwk: &Map<String, Value>) -> Result<Object, HolderError> {
    let public: Map<String, Value> = EC_PUBLIC
        .into_iter()
        .filter_map(|name| jwk.get(name).map(|v| (name.to_owned(), v.clone())))
        .collect();
    js_sys::JSON::parse(&Value::Object(public).to_string())
        .ok()
        .and_then(|v| v.dyn_into::<Object>().ok())
        .ok_or_else(|| HolderError("the verifier's encryption key is not a JWK".into()))
}

/// `plaintext` as a compact JWE to `to`.
pub async fn encrypt(to: &Encryption, plaintext: &[u8]) -> Result<String, HolderError> {
    let subtle = subtle()?;
    let import = EcKeyImportParams::new("ECDH");
    import.set_named_curve(CURVE);
    let verifier: CryptoKey = promised(
        subtle.import_key_with_object("jwk", &public_jwk(&to.jwk)?, &import, false, &usages(&[])),
        "reading the verifier's encryption key",
    )
    .await?;
    let ephemeral: Object = promised(
        subtle.generate_key_with_object(
            &EcKeyGenParams::new("ECDH", CURVE),
            true,
            &usages(&["deriveBits"]),
        ),
        "making a one-time key",
    )
    .await?;
    let half = |name: &str| {
        js_sys::Reflect::get(&ephemeral, &JsValue::from_str(name))
            .ok()
            .and_then(|k| k.dyn_into::<CryptoKey>().ok())
            .ok_or_else(|| HolderError("WebCrypto made no key pair".into()))
    };
    let (private, public) = (half("privateKey")?, half("publicKey")?);
    let exported: Object = promised(
        subtle.export_key("jwk", &public),
        "reading the one-time key",
    )
    .await?;
    let epk: Map<String, Value> = js_sys::JSON::stringify(&exported)
        .ok()
        .and_then(|text| serde_json::from_str::<Map<String, Value>>(&String::from(text)).ok())
        .ok_or_else(|| HolderError("the one-time key cannot be read".into()))?
        .into_iter()
        .filter(|(name, _)| EC_PUBLIC.contains(&name.as_str()))
        .collect();
    let secret: ArrayBuffer = promised(
        subtle.derive_bits_with_object(&EcdhKeyDeriveParams::new("ECDH", &verifier), &private, 256),
        "agreeing a key with the verifier",
    )
    .await?;
    let cek = concat_kdf(
        &Uint8Array::new(&secret).to_vec(),
        to.enc,
        to.key_len(),
        b"",
        b"",
    );
    let content_key: CryptoKey = promised(
        subtle.import_key_with_str(
            "raw",
            &Uint8Array::from(cek.as_slice()),
            "AES-GCM",
            false,
            &usages(&["encrypt"]),
        ),
        "making the content key",
    )
    .await?;
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    let header = Value::Object(to.header(epk)).to_string();
    let protected = b64(header.as_bytes());
    let iv = random_bytes::<12>()?;
    let params = AesGcmParams::new("AES-GCM", &Uint8Array::from(iv.as_slice()));
    params.set_additional_data(&Uint8Array::from(protected.as_bytes()));
    let sealed: ArrayBuffer = promised(
        subtle.encrypt_with_object_and_u8_array(&params, &content_key, plaintext),
        "encrypting the answer",
    )
    .await?;
    let sealed = Uint8Array::new(&sealed).to_vec();
    let (ciphertext, tag) = sealed.split_at(sealed.len() - TAG_LEN);
    Ok(format!(
        "{protected}..{}.{}.{}",
        b64(&iv),
        b64(ciphertext),
        b64(tag)
    ))
}
