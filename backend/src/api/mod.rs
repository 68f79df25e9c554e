//! The HTTP API: every route in one place. Handlers live one resource per file and hold no
//! business logic.

pub mod catalog;
pub mod chain;
pub mod credentials;
pub mod dids;
pub mod docs;
pub mod extract;
pub mod health;
pub mod policies;
pub mod presentations;
pub mod rate_limit;
pub mod status;
pub mod trust;

use axum::extract::DefaultBodyLimit;
use axum::handler::HandlerWithoutStateExt;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{get, post};
use axum::Router;
use std::path::Path;
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::state::AppState;

/// The application router: the JSON API, and the web app's files for every other path.
pub fn router(state: AppState, max_body_bytes: usize, web_dir: &Path) -> Router {
    let verify = Router::new()
        .route("/credentials/verify", post(credentials::verify))
        .route("/presentations/verify", post(presentations::verify))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            rate_limit::limit_verify,
        ));
    Router::new()
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/credentials/issue", post(credentials::issue))
        .merge(verify)
        .route("/credentials/status", post(status::update))
        .route("/credentials/status/bulk", post(status::bulk))
        .route("/credentials/{id}/status", get(status::credential_status))
        .route("/status/{list}", get(status::latest))
        .route("/status/{list}/versions/{version}", get(status::version))
        .route("/status/{list}/publish", post(status::publish))
        .route("/dids", post(dids::create))
        .route("/dids/{did}/keys", post(dids::rotate))
        .route("/dids/{did}/keys/{key}/compromise", post(dids::compromise))
        .route("/dids/{did}/deactivate", post(dids::deactivate))
        .route("/1.0/identifiers/{did}", get(dids::resolve))
        .route(
            "/trust/schemas",
            get(trust::schemas).post(trust::register_schema),
        )
        .route("/trust/accreditations", post(trust::accredit))
        .route("/trust/delegations", post(trust::delegate))
        .route("/trust/statements", get(trust::statements))
        .route("/trust/statements/{id}/revoke", post(trust::revoke))
        .route("/policies", get(policies::list))
        .route("/policies/{name}", get(policies::get).put(policies::put))
        .route("/credential-types", get(catalog::credential_types))
        .route("/contexts", get(catalog::contexts))
        .route("/issuers", get(catalog::issuers))
        .route("/credentials/{id}/receipt", get(chain::credential_receipt))
        .route("/anchors/{commitment}/receipt", get(chain::anchor_receipt))
        .route("/chain/genesis", get(chain::genesis))
        .route("/chain/head", get(chain::head))
        .route("/chain/blocks/{height}", get(chain::block))
        .route("/chain/checkpoint", get(chain::checkpoint))
        .route("/api-docs/openapi.json", get(docs::openapi_json))
        .route("/api-docs", get(docs::page))
        .fallback_service(ServeDir::new(web_dir).not_found_service(not_found.into_service()))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "no such route")
}
