//! The authorization endpoint of the authorization code flow: the issuer's page where the
//! holder, sent by their wallet, enters the offer's one-time code. A plain HTML form that
//! works without script; its answer sends the browser back to the wallet.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use url::Url;

use crate::openid::authorization::{self, Answer, Authorization, Page, Step};
use crate::openid::{metadata::paths, OAuthError, OAuthErrorKind};
use crate::state::AppState;

/// The page's policy: no script at all, its own inline style, and its form may be sent
/// here and — by the redirect that answers it — to the wallet.
fn policy(form_target: &str) -> String {
    format!(
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; \
         form-action 'self' {form_target}; base-uri 'none'; frame-ancestors 'none'"
    )
}

/// The CSP source of the wallet's redirect URI: its origin, or its private-use scheme.
fn source_of(redirect_uri: &Url) -> String {
    match redirect_uri.scheme() {
        "http" | "https" => redirect_uri.origin().ascii_serialization(),
        scheme => format!("{scheme}:"),
    }
}

/// `GET /openid4vci/authorize`: the page that asks the holder for the offer's code.
#[utoipa::path(get, path = "/openid4vci/authorize", tag = "openid4vc",
    params(
        ("client_id" = String, Query, description = "The client that pushed the request"),
        ("request_uri" = String, Query, description = "`urn:ietf:params:oauth:request_uri:…`, from the pushed authorization request"),
    ),
    responses(
        (status = 200, description = "The page asking for the offer's one-time code (HTML)", body = String, content_type = "text/html"),
        (status = 303, description = "Back to the wallet with `error=access_denied` (the offer can no longer be redeemed), `state` and `iss`"),
        (status = 400, description = "Not a pushed request of this client, expired or answered (HTML)", body = String, content_type = "text/html"),
    ))]
pub async fn page(
    State(state): State<AppState>,
    query: Result<Query<Authorization>, QueryRejection>,
) -> Response {
    let Ok(Query(authorization)) = query else {
        return problem_page(&OAuthError::new(
            OAuthErrorKind::InvalidRequest,
            "the address must carry client_id and request_uri once each",
        ));
    };
    respond(authorization::open(&state.openid, authorization, state.clock.now()).await)
}

/// `POST /openid4vci/authorize`: the holder's answer.
#[utoipa::path(post, path = "/openid4vci/authorize", tag = "openid4vc",
    request_body(content = Object, content_type = "application/x-www-form-urlencoded",
        description = "`client_id`, `request_uri`, and `tx_code` (the offer's one-time code) or `decline`"),
    responses(
        (status = 303, description = "Back to the wallet's redirect URI with `code` (or `error=access_denied`), `state` and `iss` (RFC 9207)"),
        (status = 400, description = "The page again, saying the code was wrong and how many attempts are left; or why the request cannot be answered (HTML)", body = String, content_type = "text/html"),
    ))]
pub async fn answer(
    State(state): State<AppState>,
    form: Result<Form<Answer>, FormRejection>,
) -> Response {
    let Ok(Form(answer)) = form else {
        return problem_page(&OAuthError::new(
            OAuthErrorKind::InvalidRequest,
            "the answer must be the page's form",
        ));
    };
    respond(authorization::answer(&state.openid, answer, state.clock.now()).await)
}

fn respond(step: Result<Step, OAuthError>) -> Response {
    match step {
        Ok(Step::Redirect(to)) => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            if let Ok(location) = HeaderValue::from_str(to.as_str()) {
                response.headers_mut().insert(LOCATION, location);
            }
            response
                .headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Ok(Step::Page(page)) => code_page(&page),
        Err(e) => problem_page(&e),
    }
}

/// Text for HTML: `&`, `<`, `>`, `"` and `'` escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;\
    padding:0 1rem;line-height:1.5;color:#1a1a1a}h1{font-size:1.4rem}\
    label{display:block;font-weight:600;margin-top:1rem}\
    input{font-size:1.5rem;letter-spacing:.3rem;width:10rem;padding:.3rem}\
    .problem{color:#a00;font-weight:600}.actions{margin-top:1.5rem;display:flex;gap:1rem}\
    button{font-size:1rem;padding:.5rem 1rem}small{color:#555}";

fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\
         <title>{title}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )
}

fn code_page(page: &Page) -> Response {
    let problem = page
        .problem
        .as_deref()
        .map(|p| {
            format!(
                "<p class=\"problem\" role=\"alert\" id=\"problem\">{}</p>",
                escape(p)
            )
        })
        .unwrap_or_default();
    let back_to = match page.redirect_uri.host_str() {
        Some(host) => host.to_owned(),
        None => format!("{}:", page.redirect_uri.scheme()),
    };
    let body = format!(
        "<main><h1>Receive your {credential}</h1>\
         <p><strong>{institution}</strong> offers you a {credential}. To receive it in your \
         wallet, enter the code {institution} gave you with the offer.</p>{problem}\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"client_id\" value=\"{client_id}\">\
         <input type=\"hidden\" name=\"request_uri\" value=\"{request_uri}\">\
         <label for=\"tx_code\">Code</label>\
         <input id=\"tx_code\" name=\"tx_code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" \
         pattern=\"[0-9]*\" required autofocus aria-describedby=\"attempts\">\
         <p id=\"attempts\"><small>{attempts} attempt(s) left before the offer is blocked.</small></p>\
         <div class=\"actions\"><button type=\"submit\" id=\"continue\">Continue</button>\
         <button type=\"submit\" name=\"decline\" value=\"1\" formnovalidate id=\"decline\">Decline</button></div>\
         </form><p><small>Afterwards you return to your wallet ({back_to}).</small></p></main>",
        credential = escape(&page.credential),
        institution = escape(&page.institution),
        action = paths::AUTHORIZE,
        client_id = escape(&page.client_id),
        request_uri = escape(&page.request_uri),
        attempts = page.attempts_left,
        back_to = escape(&back_to),
    );
    let status = if page.problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut response = (status, Html(document("Receive your credential", &body))).into_response();
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&policy(&source_of(&page.redirect_uri))) {
        headers.insert(CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn problem_page(error: &OAuthError) -> Response {
    let status = if error.kind == OAuthErrorKind::ServerError {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::BAD_REQUEST
    };
    let body = format!(
        "<main><h1>This link cannot be used</h1><p class=\"problem\" id=\"problem\">{}</p>\
         <p><small>{}</small></p></main>",
        escape(&error.description),
        error.kind.code(),
    );
    let mut response = (status, Html(document("Cannot continue", &body))).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_what_it_shows_and_lets_its_form_reach_the_wallet() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let web = Url::parse("https://wallet.example:8443/cb?x=1").expect("url");
        assert_eq!(source_of(&web), "https://wallet.example:8443");
        let app = Url::parse("eudi-openid4ci://authorize").expect("url");
        assert_eq!(source_of(&app), "eudi-openid4ci:");
        assert!(policy(&source_of(&app)).contains("form-action 'self' eudi-openid4ci:;"));
    }
}
