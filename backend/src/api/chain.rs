//! The chain: its genesis, head, blocks and signed checkpoint, and anchor receipts.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use certus_schemas::portal::{BlockSummary, ReceiptCheck};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{page_limit, page_position, JsonBody, QueryParams};

use crate::auth::{Principal, Scope};
use crate::error::ApiError;
use crate::ledger::hash::Digest;
use crate::ledger::receipt::{self, Anchored, Checkpoint, Receipt};
use crate::ledger::store::AnchorState;
use crate::state::AppState;

/// The chain's genesis: its id, validators and first block. With it, anyone can check
/// every block, receipt and checkpoint offline.
#[utoipa::path(get, path = "/chain/genesis", tag = "chain", responses(
    (status = 200, description = "The genesis document (JSON)", content_type = "application/json"),
))]
pub async fn genesis(State(state): State<AppState>) -> Response {
    Json(state.ledger.genesis()).into_response()
}

/// The highest block's header and hash.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Head {
    pub chain_id: String,
    pub height: u64,
    /// Hex hash of the header.
    pub hash: String,
    #[schema(value_type = Object)]
    pub header: crate::ledger::block::BlockHeader,
}

/// The chain's head.
#[utoipa::path(get, path = "/chain/head", tag = "chain", responses(
    (status = 200, body = Head),
))]
pub async fn head(State(state): State<AppState>) -> Result<Json<Head>, ApiError> {
    let header = state.ledger.head().await?;
    Ok(Json(Head {
        chain_id: header.chain_id.as_str().to_owned(),
        height: header.height,
        hash: header.hash().to_hex(),
        header,
    }))
}

/// Blocks looked at for each validator's newest signature.
const VALIDATOR_WINDOW: u64 = 1_000;

/// The chain's validators.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Validators {
    /// The current epoch: 0 from the genesis, one more with each validator change.
    pub epoch: u64,
    /// The height of the current epoch's first block.
    pub since_height: u64,
    /// Distinct validator signatures that make a block final: more than two thirds.
    pub quorum: usize,
    /// The current epoch's validators.
    pub validators: Vec<ValidatorInfo>,
    /// How many of the newest blocks were looked at for `lastSignedHeight`.
    pub window: u64,
}

/// One validator.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidatorInfo {
    /// Its Ed25519 public key, hex.
    pub key: String,
    /// On a consortium's chain, the member's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The newest block it signed among the newest `window` blocks; absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_signed_height: Option<u64>,
    /// True for this node's own validator key.
    pub this_node: bool,
}

/// The chain's current validators (the genesis's, or the last validator change's), with
/// the newest block each signed.
#[utoipa::path(get, path = "/chain/validators", tag = "chain",
    responses((status = 200, body = Validators)))]
pub async fn validators(State(state): State<AppState>) -> Result<Json<Validators>, ApiError> {
    let activity = state.ledger.validator_activity(VALIDATOR_WINDOW).await?;
    let epoch = state.ledger.current_epoch();
    Ok(Json(Validators {
        epoch: epoch.number,
        since_height: epoch.first_height,
        quorum: epoch.validators.quorum(),
        validators: activity
            .into_iter()
            .map(|v| ValidatorInfo {
                key: v.key.to_hex(),
                name: epoch
                    .members
                    .iter()
                    .find(|m| m.validator == v.key)
                    .map(|m| m.name.clone()),
                last_signed_height: v.last_signed,
                this_node: v.this_node,
            })
            .collect(),
        window: VALIDATOR_WINDOW,
    }))
}

/// The members of the chain as this node sees them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Peers {
    /// True on a consortium's chain; a single node lists only itself.
    pub consortium: bool,
    /// Validators needed to finalise a block.
    pub quorum: usize,
    /// Members connected, this node included.
    pub connected: usize,
    pub peers: Vec<PeerInfo>,
}

/// One member.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PeerInfo {
    pub name: String,
    /// Its validator key (and peer identity), hex.
    pub key: String,
    /// `host:port` where it listens for peers (empty for a single node).
    pub address: String,
    /// Where its API answers, as it told its peers: its status lists are fetched there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Its head height as it last said; absent until heard from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Heard from within the last 3 seconds.
    pub connected: bool,
    pub this_node: bool,
}

/// The chain's members: connected or not, and how far each one's chain reaches.
#[utoipa::path(get, path = "/chain/peers", tag = "chain",
    responses((status = 200, body = Peers)))]
pub async fn peers(State(state): State<AppState>) -> Result<Json<Peers>, ApiError> {
    let Some(consortium) = &state.consortium else {
        let head = state.ledger.head().await?;
        let key = state
            .ledger
            .validator_key()
            .map(|k| crate::ledger::block::ValidatorSigner::validator(k).to_hex())
            .unwrap_or_default();
        return Ok(Json(Peers {
            consortium: false,
            quorum: 1,
            connected: 1,
            peers: vec![PeerInfo {
                name: "this node".into(),
                key,
                address: String::new(),
                public_url: None,
                height: Some(head.height),
                connected: true,
                this_node: true,
            }],
        }));
    };
    let status = consortium.status();
    Ok(Json(Peers {
        consortium: true,
        quorum: status.quorum,
        connected: status.peers.iter().filter(|p| p.connected).count(),
        peers: status
            .peers
            .into_iter()
            .map(|p| PeerInfo {
                name: p.name,
                key: p.key.to_hex(),
                address: p.address,
                public_url: p.public_url,
                height: p.height,
                connected: p.connected,
                this_node: p.this_node,
            })
            .collect(),
    }))
}

/// A block: header, transactions (hashes and public data only) and signatures.
#[utoipa::path(get, path = "/chain/blocks/{height}", tag = "chain",
    params(("height" = u64, Path, description = "Block height, 0 for the genesis")),
    responses(
        (status = 200, description = "The block (JSON)", content_type = "application/json"),
        (status = 400, body = certus_schemas::wire::ErrorBody),
        (status = 404, body = certus_schemas::wire::ErrorBody),
    ))]
pub async fn block(
    State(state): State<AppState>,
    Path(height): Path<String>,
) -> Result<Response, ApiError> {
    let height: u64 = height.parse().map_err(|_| {
        ApiError::bad_request("INVALID_HEIGHT", "the height must be a whole number")
    })?;
    match state.ledger.block(height).await? {
        Some(block) => Ok(Json(block).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "BLOCK_NOT_FOUND",
            format!("there is no block at height {height}"),
        )),
    }
}

/// Paging of the block list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BlockQuery {
    /// Blocks below this height (the next page); absent for the newest.
    before: Option<u64>,
    /// At most 100; 20 when absent.
    limit: Option<u64>,
}

/// The newest blocks: height, hash, time and number of transactions.
#[utoipa::path(get, path = "/chain/blocks", tag = "chain", params(BlockQuery),
    responses(
        (status = 200, body = Vec<BlockSummary>),
        (status = 400, body = certus_schemas::wire::ErrorBody),
    ))]
pub async fn blocks(
    State(state): State<AppState>,
    QueryParams(query): QueryParams<BlockQuery>,
) -> Result<Json<Vec<BlockSummary>>, ApiError> {
    let limit = page_limit(query.limit, 20, 100)?;
    let before = page_position(query.before, "before")?;
    Ok(Json(
        crate::issued::blocks(&state.records, before, limit).await?,
    ))
}

/// Checks an anchor receipt (bare, or a receipt endpoint's response) against this chain's
/// genesis, as `certus receipt verify` does offline.
#[utoipa::path(post, path = "/chain/receipts/verify", tag = "chain",
    request_body(content = Object, description = "A receipt"),
    responses(
        (status = 200, body = ReceiptCheck, description = "Checked: `valid` says whether it holds"),
        (status = 400, body = certus_schemas::wire::ErrorBody),
    ))]
pub async fn verify_receipt(
    State(state): State<AppState>,
    JsonBody(receipt): JsonBody<serde_json::Value>,
) -> Json<ReceiptCheck> {
    Json(receipt::check_document_wire(
        receipt,
        state.ledger.genesis(),
    ))
}

/// The head as a checkpoint third parties can pin: a signed note (C2SP `signed-note`)
/// with the chain id, the height and the head's hash, signed by this node's validator.
#[utoipa::path(get, path = "/chain/checkpoint", tag = "chain", responses(
    (status = 200, description = "The signed note", content_type = "text/plain"),
    (status = 503, body = certus_schemas::wire::ErrorBody),
))]
pub async fn checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    let Some(key) = state.ledger.validator_key() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "NOT_A_VALIDATOR",
            "this node is not a validator of its chain and signs no checkpoints",
        ));
    };
    let note = Checkpoint::of(&state.ledger.head().await?)
        .sign(key)
        .map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
}

/// Where an anchor stands, with its receipt once sealed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptResponse {
    /// `anchored` or `pending`.
    pub state: String,
    /// Hex commitment of the credential.
    pub commitment: String,
    /// Block header, validator signatures and inclusion path; check it offline with
    /// `certus receipt verify` and the chain's genesis.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub receipt: Option<Receipt>,
    /// Where and when, once anchored.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub anchored: Option<Anchored>,
    pub message: String,
}

/// The receipt of a credential this tenant issued.
#[utoipa::path(get, path = "/credentials/{id}/receipt", tag = "chain", security(("bearer" = [])),
    params(("id" = String, Path, description = "The credential's id")),
    responses(
        (status = 200, body = ReceiptResponse, description = "Anchored"),
        (status = 202, body = ReceiptResponse, description = "Waiting for the next block"),
        (status = 401, body = certus_schemas::wire::ErrorBody),
        (status = 404, body = certus_schemas::wire::ErrorBody),
    ))]
pub async fn credential_receipt(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(Scope::Read)?;
    let commitment = state
        .ledger
        .commitment_of(&principal.tenant_id, &id)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "CREDENTIAL_NOT_FOUND",
                format!("this tenant issued no anchored credential `{id}`"),
            )
        })?;
    receipt_response(&state, commitment).await
}

/// The receipt of a commitment (computable by anyone holding the credential).
#[utoipa::path(get, path = "/anchors/{commitment}/receipt", tag = "chain",
    params(("commitment" = String, Path, description = "Hex SHA-256 commitment")),
    responses(
        (status = 200, body = ReceiptResponse, description = "Anchored"),
        (status = 202, body = ReceiptResponse, description = "Waiting for the next block"),
        (status = 400, body = certus_schemas::wire::ErrorBody),
        (status = 404, body = certus_schemas::wire::ErrorBody),
    ))]
pub async fn anchor_receipt(
    State(state): State<AppState>,
    Path(commitment): Path<String>,
) -> Result<Response, ApiError> {
    let commitment = Digest::from_hex(&commitment).map_err(|_| {
        ApiError::bad_request("INVALID_COMMITMENT", "a commitment is 64 hex digits")
    })?;
    receipt_response(&state, commitment).await
}

async fn receipt_response(state: &AppState, commitment: Digest) -> Result<Response, ApiError> {
    let hex = commitment.to_hex();
    match state.ledger.locate(&commitment).await? {
        AnchorState::Anchored(receipt) => {
            let anchored = state.ledger.check_receipt(&receipt).ok();
            let message = match &anchored {
                Some(a) => format!("anchored in block {}", a.height),
                None => "the stored anchor does not verify against the genesis".to_owned(),
            };
            Ok(Json(ReceiptResponse {
                state: "anchored".into(),
                commitment: hex,
                receipt: Some(*receipt),
                anchored,
                message,
            })
            .into_response())
        }
        AnchorState::Pending => Ok((
            StatusCode::ACCEPTED,
            Json(ReceiptResponse {
                state: "pending".into(),
                commitment: hex,
                receipt: None,
                anchored: None,
                message: "waiting for the next block; ask again after one block interval".into(),
            }),
        )
            .into_response()),
        AnchorState::Missing | AnchorState::Unknown => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "ANCHOR_NOT_FOUND",
            format!("no anchor with commitment {hex} on this chain"),
        )),
    }
}
