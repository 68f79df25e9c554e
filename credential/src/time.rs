//! Times as credentials and the API write them: XSD `dateTime` in UTC at second precision.

use chrono::{DateTime, SecondsFormat, Utc};

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
    fn times_are_utc_seconds_and_out_of_range_is_empty() {
        assert_eq!(xsd_millis(1_700_000_000_999), "2023-11-14T22:13:20Z");
        assert_eq!(xsd_millis(i64::MAX), "");
    }
}
