//! Security headers on every answer: a Content Security Policy without inline script
//! (the web app needs `'wasm-unsafe-eval'` only), no framing, no MIME sniffing, no
//! referrer, and HSTS when the server is reached over https.

use axum::extract::{Request, State};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// The policy of every page. Scripts and the wasm module come from this server only;
/// styles may be set inline (Leptos sets `style` attributes); the holder's wallet may
/// reach issuers and verifiers elsewhere over https (and loopback, for development).
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; \
    connect-src 'self' https: http://127.0.0.1:* http://localhost:*; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// HSTS for a year, when the public URL is https.
const HSTS: &str = "max-age=31536000";

/// Whether the server is reached over https (HSTS is sent).
#[derive(Debug, Clone, Copy)]
pub struct Https(pub bool);

/// Middleware: adds the security headers an answer does not set itself.
pub async fn security_headers(
    State(Https(https)): State<Https>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let mut set = |name, value: &'static str| {
        headers
            .entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    };
    set(CONTENT_SECURITY_POLICY, CSP);
    set(X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(X_FRAME_OPTIONS, "DENY");
    set(REFERRER_POLICY, "no-referrer");
    if https {
        set(STRICT_TRANSPORT_SECURITY, HSTS);
    }
    response
}
