//! What a URL may be where Certus sends a browser or calls out: https, or plain http on
//! this machine (for development).

/// Whether `url`'s host is this machine: `localhost` or a loopback address — where plain
/// `http` is allowed, `https` elsewhere.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `uri` as a web page a browser may be sent to: https, or http on this machine — never a
/// `javascript:` or `data:` URI, or a wallet app's own scheme.
pub fn page(uri: &str) -> Option<url::Url> {
    let url = url::Url::parse(uri).ok()?;
    (url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url))).then_some(url)
}
