//! The HTTP API: every route in one place. Handlers live one resource per file and hold no
//! business logic.

pub mod authorize;
pub mod catalog;
pub mod certificates;
pub mod chain;
pub mod credentials;
pub mod dids;
pub mod docs;
pub mod extract;
pub mod headers;
pub mod health;
pub mod kyc;
pub mod offers;
pub mod openid;
pub mod policies;
pub mod presentation_requests;
pub mod presentations;
pub mod privacy;
pub mod rate_limit;
pub mod records;
pub mod session;
pub mod settings;
pub mod status;
pub mod trust;
pub mod users;

use axum::extract::DefaultBodyLimit;
use axum::handler::HandlerWithoutStateExt;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::Router;
use std::path::{Path, PathBuf};
use tower_http::cors::{Any, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::state::AppState;

/// The application router: the JSON API, and the web app's files for every other path.
pub fn router(state: AppState, max_body_bytes: usize, web_dir: &Path) -> Router {
    let index = web_dir.join("index.html");
    // Open to anyone, so limited per client address (unless the caller's API key has the
    // verify scope).
    let anonymous = Router::new()
        .route("/credentials/verify", post(credentials::verify))
        .route("/presentations/verify", post(presentations::verify))
        .route("/openid4vci/nonce", post(openid::nonce))
        .route("/openid4vci/challenge", post(openid::challenge))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            rate_limit::limit_anonymous,
        ));
    // What wallets, verifiers and other members' nodes call from anywhere — a web wallet
    // served from another origin included: the OpenID4VCI/VP endpoints, DID resolution,
    // status lists, type metadata and anonymous verification. Readable cross-origin
    // (CORS, any origin, no cookies); nothing here acts on a session.
    let public = Router::new()
        .route(
            "/.well-known/openid-credential-issuer",
            get(openid::issuer_metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(openid::authorization_server),
        )
        .route("/openid4vci/offers/{id}", get(openid::offer))
        .route("/openid4vci/par", post(openid::par))
        .route("/openid4vci/token", post(openid::token))
        .route("/openid4vci/credential", post(openid::credential))
        .route("/openid4vci/notification", post(openid::notification))
        .route(
            "/openid4vci/deferred_credential",
            post(openid::deferred_credential),
        )
        .route(
            "/openid4vp/requests/{id}",
            get(openid::request_object).post(openid::request_object_posted),
        )
        .route("/openid4vp/responses/{id}", post(openid::response))
        .route("/1.0/identifiers/{did}", get(dids::resolve))
        .route("/status/{list}", get(status::latest))
        .route("/status/{list}/versions/{version}", get(status::version))
        .route(
            "/.well-known/vct/credential-types/{type}/{version}",
            get(catalog::metadata),
        )
        .merge(anonymous)
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::GET, Method::POST])
                .allow_headers(Any)
                .max_age(std::time::Duration::from_secs(3600)),
        );
    Router::new()
        .merge(public)
        // A page for the holder's browser, not an API: not readable cross-origin.
        .route(
            "/openid4vci/authorize",
            get(authorize::page).post(authorize::answer),
        )
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route(
            "/session",
            get(session::current)
                .post(session::sign_in)
                .delete(session::sign_out),
        )
        .route("/session/password", post(session::change_password))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", patch(users::update))
        .route("/api-keys", get(users::list_keys).post(users::create_key))
        .route("/api-keys/{id}", axum::routing::delete(users::revoke_key))
        .route("/settings", get(settings::get).put(settings::put))
        .route(
            "/verifier/certificates",
            get(certificates::list).post(certificates::create),
        )
        .route("/verifier/certificates/{id}", get(certificates::get))
        .route(
            "/verifier/certificates/{id}/chain",
            axum::routing::put(certificates::install),
        )
        .route("/dashboard", get(records::dashboard))
        .route("/audit", get(records::audit))
        .route("/credentials", get(records::search))
        .route("/credentials/search", post(records::search_by_body))
        .route("/credentials/{id}", get(records::detail))
        .route("/credentials/issue", post(credentials::issue))
        .route(
            "/credentials/offers",
            get(offers::list).post(offers::create),
        )
        .route("/credentials/offers/{id}", get(offers::get))
        .route("/credentials/offers/{id}/qr", get(offers::qr_code))
        .route("/credentials/offers/{id}/approval", post(offers::approval))
        .route(
            "/presentation-requests",
            post(presentation_requests::create),
        )
        .route(
            "/presentation-requests/{id}",
            get(presentation_requests::get),
        )
        .route(
            "/presentation-requests/{id}/qr",
            get(presentation_requests::qr_code),
        )
        .route(
            "/presentation-requests/{id}/response-code",
            post(presentation_requests::redeem_response_code),
        )
        .route("/credentials/status", post(status::update))
        .route("/credentials/status/bulk", post(status::bulk))
        .route("/credentials/{id}/status", get(status::credential_status))
        .route("/status/{list}/publish", post(status::publish))
        .route("/dids", post(dids::create))
        .route("/dids/{did}/keys", post(dids::rotate))
        .route("/dids/{did}/keys/{key}/compromise", post(dids::compromise))
        .route("/dids/{did}/deactivate", post(dids::deactivate))
        .route(
            "/trust/schemas",
            get(trust::schemas).post(trust::register_schema),
        )
        .route("/trust/accreditations", post(trust::accredit))
        .route("/trust/delegations", post(trust::delegate))
        .route("/trust/statements", get(trust::statements))
        .route("/trust/statements/{id}/revoke", post(trust::revoke))
        .route("/kyc/reliances", get(kyc::list))
        .route("/kyc/reliances/summary", get(kyc::summary))
        .route("/kyc/reliances/{id}", get(kyc::get))
        .route("/kyc/reliances/{id}/check", post(kyc::check))
        .route("/kyc/register", get(kyc::register_all))
        .route("/webhook", get(kyc::endpoint).put(kyc::set_endpoint))
        .route("/webhook/deliveries", get(kyc::deliveries))
        .route("/data-subjects/search", post(privacy::search))
        .route("/data-subjects/{id}", get(privacy::get))
        .route("/data-subjects/{id}/export", get(privacy::export_subject))
        .route("/data-subjects/{id}/erasure", post(privacy::erase))
        .route("/erasures", get(privacy::erasures))
        .route("/retention", get(privacy::report))
        .route("/retention/sweep", post(privacy::sweep))
        .route(
            "/retention/{type}",
            axum::routing::put(privacy::set_retention),
        )
        .route(
            "/records-of-processing",
            get(privacy::records_of_processing),
        )
        .route("/policies", get(policies::list))
        .route("/policies/{name}", get(policies::get).put(policies::put))
        .route(
            "/credential-types",
            get(catalog::credential_types).post(catalog::define),
        )
        .route("/credential-types/{type}", get(catalog::versions))
        .route(
            "/credential-types/{type}/versions",
            post(catalog::add_version),
        )
        .route("/credential-types/{type}/{version}", get(catalog::metadata))
        .route(
            "/credential-types/{type}/{version}/schema",
            get(catalog::schema),
        )
        .route(
            "/credential-types/{type}/{version}/context",
            get(catalog::context),
        )
        .route(
            "/credential-types/{type}/{version}/retire",
            post(catalog::retire),
        )
        .route("/contexts", get(catalog::contexts))
        .route("/issuers", get(catalog::issuers))
        .route("/credentials/{id}/receipt", get(chain::credential_receipt))
        .route("/anchors/{commitment}/receipt", get(chain::anchor_receipt))
        .route("/chain/genesis", get(chain::genesis))
        .route("/chain/head", get(chain::head))
        .route("/chain/validators", get(chain::validators))
        .route("/chain/peers", get(chain::peers))
        .route("/chain/blocks", get(chain::blocks))
        .route("/chain/blocks/{height}", get(chain::block))
        .route("/chain/receipts/verify", post(chain::verify_receipt))
        .route("/chain/checkpoint", get(chain::checkpoint))
        .route("/api-docs/openapi.json", get(docs::openapi_json))
        .route("/api-docs", get(docs::page))
        .route("/api-docs/docs.js", get(docs::script))
        // The web app's own pages: each is index.html, which routes in the browser.
        .route_service("/sign-in", ServeFile::new(&index))
        .route_service("/verify", ServeFile::new(&index))
        .route_service("/wallet", ServeFile::new(&index))
        .route_service("/wallet/{*page}", ServeFile::new(&index))
        .route_service("/portal", ServeFile::new(&index))
        .route_service("/portal/{*page}", ServeFile::new(&index))
        .fallback_service(ServeDir::new(web_dir).not_found_service(
            (move |headers: HeaderMap| not_found(headers, index.clone())).into_service(),
        ))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(middleware::from_fn_with_state(
            headers::Https(state.accounts.secure_cookies()),
            headers::security_headers,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// No such route: a browser asking for a page gets the web app, which tells the person
/// so in its own layout; anything else gets the API's error.
async fn not_found(headers: HeaderMap, index: PathBuf) -> Response {
    let wants_page = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_page {
        if let Ok(page) = tokio::fs::read(&index).await {
            return (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                page,
            )
                .into_response();
        }
    }
    ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "no such route").into_response()
}
