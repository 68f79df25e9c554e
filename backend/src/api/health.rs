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

/// The server can serve requests: its database answers, and on a consortium's chain it is
/// connected to a quorum of validators (so what it anchors becomes final).
#[utoipa::path(get, path = "/ready", tag = "operations", responses(
    (status = 200, description = "Ready"),
    (status = 503, description = "The database does not answer, or a consortium node is not connected to a quorum"),
))]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if let Some(consortium) = &state.consortium {
        let status = consortium.status();
        if !status.has_quorum() {
            let connected = status.peers.iter().filter(|p| p.connected).count();
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "unavailable",
                    "code": "NO_QUORUM",
                    "message": format!(
                        "connected to {connected} of the consortium's validators (this node included); {} are needed to finalise blocks",
                        status.quorum
                    ),
                })),
            );
        }
    }
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
