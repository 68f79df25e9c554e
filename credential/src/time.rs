//! Time: the [`Clock`] every "now" is read from (the system's, or one a test sets), and
//! times as credentials and the API write them (XSD `dateTime`, UTC, second precision).

use std::sync::Mutex;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};

/// Where "now" comes from. The server reads every time it records or checks against from
/// one clock, so tests move time instead of waiting for it.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The system's clock shifted by however far a test has moved it: time still passes as
/// usual, and a test that needs a period to have elapsed moves the clock on instead of
/// sleeping.
#[derive(Debug, Default)]
pub struct SettableClock(Mutex<TimeDelta>);

impl SettableClock {
    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: TimeDelta) {
        *self.lock() += by;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TimeDelta> {
        // The guarded value is a plain offset: a panic elsewhere cannot leave it half-set.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Clock for SettableClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + *self.lock()
    }
}

/// An XSD dateTime at second precision, in UTC.
pub fn xsd_now(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// [`xsd_now`] of a time in milliseconds since the epoch (empty when out of range).
pub fn xsd_millis(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(xsd_now)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settable_clock_runs_with_the_system_clock_and_jumps_when_moved() {
        let clock = SettableClock::default();
        let before = Utc::now();
        assert!(clock.now() >= before);
        clock.advance(TimeDelta::hours(1));
        let moved = clock.now();
        assert!(moved >= before + TimeDelta::hours(1));
        assert!(moved < Utc::now() + TimeDelta::hours(1) + TimeDelta::seconds(5));
    }

    #[test]
    fn times_are_utc_seconds_and_out_of_range_is_empty() {
        assert_eq!(xsd_millis(1_700_000_000_999), "2023-11-14T22:13:20Z");
        assert_eq!(xsd_millis(i64::MAX), "");
    }
}
