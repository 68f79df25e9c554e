//! The master key: 32 bytes that encrypt every private key at rest (JWE `dir` + `A256GCM`,
//! josekit). It comes from `CERTUS_MASTER_KEY` or from a key file generated on first start
//! with owner-only permissions.

use std::path::Path;

use anyhow::{bail, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jwe::{self, Dir, JweHeader};
use rand::RngCore;

/// Length of the master key in bytes.
const KEY_LEN: usize = 32;

/// The key that wraps private keys at rest.
pub struct MasterKey([u8; KEY_LEN]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// From `CERTUS_MASTER_KEY` when set (base64url, 32 bytes), else from
    /// `<data_dir>/master.key`, generating that file on first start.
    pub fn load(env_value: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        if let Some(value) = env_value {
            return Self::decode(value.trim()).context("CERTUS_MASTER_KEY");
        }
        let path = data_dir.join("master.key");
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::decode(text.trim()).with_context(|| path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                std::fs::create_dir_all(data_dir)
                    .with_context(|| format!("creating {}", data_dir.display()))?;
                write_private(&path, URL_SAFE_NO_PAD.encode(key.0).as_bytes())?;
                tracing::info!(path = %path.display(), "generated a new master key file");
                Ok(key)
            }
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    fn decode(text: &str) -> anyhow::Result<Self> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .context("the master key is not base64url")?;
        let Ok(bytes) = <[u8; KEY_LEN]>::try_from(bytes.as_slice()) else {
            bail!(
                "the master key must be {KEY_LEN} bytes, got {}",
                bytes.len()
            );
        };
        Ok(Self(bytes))
    }

    /// Encrypts a private JWK into a compact JWE.
    pub fn encrypt(&self, plaintext: &[u8]) -> anyhow::Result<String> {
        self.encrypt_as(plaintext, "jwk+json")
    }

    /// Encrypts a JSON document (an offer waiting for its wallet, a presentation's outcome)
    /// into a compact JWE.
    pub fn encrypt_json(&self, document: &serde_json::Value) -> anyhow::Result<String> {
        self.encrypt_as(&serde_json::to_vec(document)?, "json")
    }

    /// Decrypts a compact JWE made by [`Self::encrypt_json`].
    pub fn decrypt_json(&self, token: &str) -> anyhow::Result<serde_json::Value> {
        Ok(serde_json::from_slice(&self.decrypt(token)?)?)
    }

    fn encrypt_as(&self, plaintext: &[u8], content_type: &str) -> anyhow::Result<String> {
        let mut header = JweHeader::new();
        header.set_content_encryption("A256GCM");
        header.set_content_type(content_type);
        let encrypter = Dir.encrypter_from_bytes(self.0)?;
        Ok(jwe::serialize_compact(plaintext, &header, &encrypter)?)
    }

    /// A key for `purpose` derived from the master key (HMAC-SHA256 of the purpose), so
    /// the master key itself is used for nothing else than encryption.
    pub fn derive(&self, purpose: &str) -> [u8; KEY_LEN] {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.0)
            .expect("HMAC takes a key of any length");
        mac.update(b"certus/derived-key/v1\0");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Decrypts a compact JWE made by [`Self::encrypt`] with the same key.
    pub fn decrypt(&self, token: &str) -> anyhow::Result<Vec<u8>> {
        let decrypter = Dir.decrypter_from_bytes(self.0)?;
        let (plaintext, _) = jwe::deserialize_compact(token, &decrypter)
            .context("wrong master key, or the stored key was altered")?;
        Ok(plaintext)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents)?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, contents).with_context(|| format!("creating {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypted_keys_round_trip_and_fail_under_another_master_key() {
        let key = MasterKey::generate();
        let jwe = key.encrypt(b"{\"kty\":\"OKP\"}").expect("encrypts");
        assert!(!jwe.contains("OKP"), "the plaintext must not show");
        assert_eq!(key.decrypt(&jwe).expect("decrypts"), b"{\"kty\":\"OKP\"}");
        assert!(MasterKey::generate().decrypt(&jwe).is_err());
    }

    #[test]
    fn a_generated_key_file_is_reused_and_owner_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = MasterKey::load(None, dir.path()).expect("generates");
        let second = MasterKey::load(None, dir.path()).expect("reads");
        assert_eq!(first.0, second.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("master.key"))
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_master_key_of_the_wrong_length_is_refused() {
        let err = MasterKey::load(Some("AAAA"), Path::new("/nonexistent")).unwrap_err();
        assert!(format!("{err:#}").contains("32 bytes"), "{err:#}");
    }
}
