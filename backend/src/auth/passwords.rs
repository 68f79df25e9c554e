//! Password hashing with Argon2id (RFC 9106, the crate's defaults: 19 MiB, 2 passes), in
//! PHC string form so the parameters travel with each hash.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

/// Shortest password accepted (NIST SP 800-63B asks for at least 8; we ask for more).
pub const MIN_LENGTH: usize = 12;
/// Longest password accepted, so hashing stays bounded.
pub const MAX_LENGTH: usize = 256;

/// The PHC string of `password` under a fresh salt. CPU-heavy: call it off the async
/// workers (see [`hash_blocking`]).
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 with default parameters hashes any password")
        .to_string()
}

/// True when `password` matches the PHC string `phc`. A malformed `phc` never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Argon2 computations at once: each takes about 19 MiB and a core, so a burst of
/// sign-ins waits its turn instead of growing memory without bound.
const CONCURRENT_HASHES: usize = 4;
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(CONCURRENT_HASHES);

/// Runs an Argon2 computation on Tokio's blocking pool, at most [`CONCURRENT_HASHES`] at
/// once.
async fn argon2<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    let _turn = HASHING.acquire().await?;
    Ok(tokio::task::spawn_blocking(work).await?)
}

/// [`hash`] on Tokio's blocking pool.
pub async fn hash_blocking(password: String) -> anyhow::Result<String> {
    argon2(move || hash(&password)).await
}

/// [`verify`] on Tokio's blocking pool; with `phc` absent (no such user) it checks against
/// a fixed hash anyway, so an unknown email takes as long as a wrong password.
pub async fn verify_blocking(password: String, phc: Option<String>) -> anyhow::Result<bool> {
    argon2(move || match phc {
        Some(phc) => verify(&password, &phc),
        None => {
            verify(&password, dummy_hash());
            false
        }
    })
    .await
}

fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("certus-no-such-user"))
}

/// Why a new password is refused.
pub fn check_new(password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(format!(
            "the password must be at least {MIN_LENGTH} characters long"
        ));
    }
    if length > MAX_LENGTH {
        return Err(format!(
            "the password must be at most {MAX_LENGTH} characters long"
        ));
    }
    Ok(())
}

/// A random password for a first sign-in: 20 characters of URL-safe base64 (120 bits).
pub fn one_time() -> String {
    let mut bytes = [0u8; 15];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_and_nothing_else() {
        let phc = hash("correct horse battery staple");
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify("correct horse battery staple", &phc));
        assert!(!verify("correct horse battery stapler", &phc));
        assert!(!verify("correct horse battery staple", "not a phc string"));
    }

    #[test]
    fn the_same_password_hashes_differently_each_time() {
        assert_ne!(hash("same password here"), hash("same password here"));
    }

    #[test]
    fn short_and_huge_passwords_are_refused() {
        assert!(check_new("short").is_err());
        assert!(check_new(&"x".repeat(MAX_LENGTH + 1)).is_err());
        assert!(check_new("twelve chars").is_ok());
        assert_eq!(one_time().len(), 20);
    }
}
