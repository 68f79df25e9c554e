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
    /// `Err(seconds)` while `email` or `client` has used up its failed attempts.
    pub fn check(&self, email: &str, client: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let wait = |key: Key, limit: u32| {
            failures
                .get(&key)
                .filter(|f| f.count >= limit && now.duration_since(f.since) < WINDOW)
                .map(|f| (WINDOW - now.duration_since(f.since)).as_secs().max(1))
        };
        match wait(Key::Account(email.to_owned()), PER_ACCOUNT)
            .or_else(|| wait(Key::Client(client), PER_CLIENT))
        {
            Some(seconds) => Err(seconds),
            None => Ok(()),
        }
    }

    /// Counts a failed attempt against `email` and `client`.
    pub fn failed(&self, email: &str, client: Option<IpAddr>, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
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
    }

    /// Forgets the failed attempts against `email` after a successful sign-in.
    pub fn succeeded(&self, email: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&Key::Account(email.to_owned()));
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
            assert!(throttle.check("a@x.test", None, start).is_ok());
            throttle.failed("a@x.test", None, start);
        }
        let wait = throttle.check("a@x.test", None, start).unwrap_err();
        assert_eq!(wait, WINDOW.as_secs());
        assert!(
            throttle.check("b@x.test", None, start).is_ok(),
            "others unaffected"
        );
        assert!(throttle.check("a@x.test", None, start + WINDOW).is_ok());
    }

    #[test]
    fn a_client_address_is_locked_across_accounts() {
        let throttle = SignInThrottle::default();
        let client = Some(IpAddr::from([127, 0, 0, 9]));
        let now = Instant::now();
        for i in 0..PER_CLIENT {
            throttle.failed(&format!("user{i}@x.test"), client, now);
        }
        assert!(throttle.check("fresh@x.test", client, now).is_err());
        assert!(throttle.check("fresh@x.test", None, now).is_ok());
    }

    #[test]
    fn success_clears_the_account_count() {
        let throttle = SignInThrottle::default();
        let now = Instant::now();
        for _ in 0..PER_ACCOUNT - 1 {
            throttle.failed("a@x.test", None, now);
        }
        throttle.succeeded("a@x.test");
        throttle.failed("a@x.test", None, now);
        assert!(throttle.check("a@x.test", None, now).is_ok());
    }
}
