//! Liveness and readiness.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::state::AppState;

/// The process is up.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, description = "Alive")))]
pub async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The server can serve requests: its database answers.
#[utoipa::path(get, path = "/ready", tag = "operations", responses(
    (status = 200, description = "Ready"),
    (status = 503, description = "The database does not answer"),
))]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.records.ping().await {
        Ok(_) => (StatusCode::OK, Json(json!({"status": "ready"}))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "code": "DATABASE_UNAVAILABLE"})),
            )
        }
    }
}
