//! Percent-encoding (RFC 3986) of URI components Certus builds, and what a URL Certus
//! calls out to may be.

/// Percent-encodes every byte of `text` but the unreserved characters (`A-Z a-z 0-9 - . _
/// ~`) and those in `keep`.
pub fn percent_encode(text: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(text.len() * 3 / 2);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) || keep.contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Plain `http` is allowed for URLs Certus calls (webhooks, status lists) only on a
/// loopback host.
pub use certus_schemas::web::is_loopback;
