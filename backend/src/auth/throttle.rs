//! Sign-in throttling: after too many failed attempts for one account, or from one client
//! address, sign-in is refused for the rest of the window, whatever the password.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts allowed per account in a window.
pub const PER_ACCOUNT: u32 = 5;
/// Failed attempts allowed per client address in a window.
pub const PER_CLIENT: u32 = 30;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Entries kept before expired ones are dropped.
const MAX_TRACKED: usize = 50_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
}

/// What is being throttled.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Client(Option<IpAddr>),
}

/// Failed sign-ins per account and per client address, in memory.
#[derive(Debug, Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<Key, Failures>>,
}

impl SignInThrottle {
    /// Counts an attempt against `email` and `client` before its password is checked — so
    /// concurrent attempts cannot all pass under the limit while their hashes are being
    /// checked — or `Err(seconds)` while either has used up its attempts. A successful
    /// attempt takes its count back ([`Self::succeeded`]).
    pub fn attempt(&self, email: &str, client: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let wait = |key: Key, limit: u32| {
            failures
                .get(&key)
                .filter(|f| f.count >= limit && now.duration_since(f.since) < WINDOW)
                .map(|f| (WINDOW - now.duration_since(f.since)).as_secs().max(1))
        };
        if let Some(seconds) = wait(Key::Account(email.to_owned()), PER_ACCOUNT)
            .or_else(|| wait(Key::Client(client), PER_CLIENT))
        {
            return Err(seconds);
        }
        if failures.len() >= MAX_TRACKED {
            failures.retain(|_, f| now.duration_since(f.since) < WINDOW);
        }
        for key in [Key::Account(email.to_owned()), Key::Client(client)] {
            let entry = failures.entry(key).or_insert(Failures {
                count: 0,
                since: now,
            });
            if now.duration_since(entry.since) >= WINDOW {
                *entry = Failures {
                    count: 0,
                    since: now,
                };
            }
            entry.count += 1;
        }
        Ok(())
    }

    /// A successful sign-in: forgets the failed attempts against `email`, and gives
    /// `client` its attempt back.
    pub fn succeeded(&self, email: &str, client: Option<IpAddr>) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.remove(&Key::Account(email.to_owned()));
        if let Some(entry) = failures.get_mut(&Key::Client(client)) {
            entry.count = entry.count.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_locked_after_its_failed_attempts_until_the_window_ends() {
        let throttle = SignInThrottle::default();
        let start = Instant::now();
        for _ in 0..PER_ACCOUNT {
            assert!(throttle.attempt("a@x.test", None, start).is_ok());
        }
        let wait = throttle.attempt("a@x.test", None, start).unwrap_err();
        assert_eq!(wait, WINDOW.as_secs());
        assert!(
            throttle.attempt("b@x.test", None, start).is_ok(),
            "others unaffected"
        );
        assert!(throttle.attempt("a@x.test", None, start + WINDOW).is_ok());
    }

    #[test]
    fn a_client_address_is_locked_across_accounts() {
        let throttle = SignInThrottle::default();
        let client = Some(IpAddr::from([127, 0, 0, 9]));
        let now = Instant::now();
        for i in 0..PER_CLIENT {
            assert!(throttle
                .attempt(&format!("user{i}@x.test"), client, now)
                .is_ok());
        }
        assert!(throttle.attempt("fresh@x.test", client, now).is_err());
        assert!(throttle.attempt("fresh@x.test", None, now).is_ok());
    }

    #[test]
    fn success_clears_the_account_count_and_returns_the_clients_attempt() {
        let throttle = SignInThrottle::default();
        let client = Some(IpAddr::from([127, 0, 0, 7]));
        let now = Instant::now();
        for _ in 0..PER_ACCOUNT {
            throttle
                .attempt("a@x.test", client, now)
                .expect("under the limit");
        }
        throttle.succeeded("a@x.test", client);
        assert!(throttle.attempt("a@x.test", client, now).is_ok());
        let failures = throttle.failures.lock().expect("lock");
        assert_eq!(failures[&Key::Client(client)].count, PER_ACCOUNT);
    }
}
