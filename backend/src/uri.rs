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

/// Whether `url`'s host is this machine: `localhost` or a loopback address — where plain
/// `http` is allowed for URLs Certus calls (webhooks, status lists), `https` elsewhere.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}
