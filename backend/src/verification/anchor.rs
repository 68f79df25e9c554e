//! The `anchored` check: the credential's commitment is in a sealed block of this node's
//! chain, proven by a receipt re-checked against the genesis (so an altered store fails
//! the check rather than vouching for it).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::report::Report;
use super::{checks, Verifier};
use crate::ledger::store::{AnchorState, StoreError};
use certus_credential::commitment::commitment;
use certus_credential::did::certus::At;

/// Where a secured credential stands on this node's chain, looked up once per verification:
/// the `anchored` check reports it, and `did:certus` issuer keys are judged at its point.
pub(super) enum Located {
    NoChain,
    NoCommitment,
    Found(Result<AnchorState, StoreError>),
}

impl Located {
    /// The credential's point on the chain: its anchor, or (pending) now. `None` when the
    /// chain does not hold it.
    pub(super) fn point(&self, now: DateTime<Utc>) -> Option<At> {
        match self {
            Self::Found(Ok(AnchorState::Anchored(receipt))) => Some(At::Anchored {
                height: receipt.header.height,
                position: receipt.leaf_index.0,
                time_ms: receipt.header.time_ms,
            }),
            Self::Found(Ok(AnchorState::Pending)) => Some(At::Pending {
                at_ms: now.timestamp_millis(),
            }),
            _ => None,
        }
    }
}

impl Verifier {
    /// Looks a secured credential up on this node's chain.
    pub(super) async fn locate(&self, secured: &Value) -> Located {
        let Some(ledger) = &self.ledger else {
            return Located::NoChain;
        };
        match commitment(secured) {
            Some(commitment) => Located::Found(ledger.locate(&commitment).await),
            None => Located::NoCommitment,
        }
    }

    /// Reports the `anchored` check of a located credential.
    pub(super) fn check_anchor(&self, report: &mut Report, located: Located) {
        let (ledger, state) = match (&self.ledger, located) {
            (Some(ledger), Located::Found(state)) => (ledger, state),
            (None, _) | (_, Located::NoChain) => {
                return report.skip(checks::ANCHORED, "no chain is configured")
            }
            (_, Located::NoCommitment) => {
                return report.skip(checks::ANCHORED, "the credential has no commitment")
            }
        };
        match state {
            Ok(AnchorState::Anchored(receipt)) => match ledger.check_receipt(&receipt) {
                Ok(anchored) => report.anchored(checks::ANCHORED, anchored.info()),
                Err(e) => report.fail(
                    checks::ANCHORED,
                    "ANCHOR_INVALID",
                    format!("the stored anchor does not hold: {e}"),
                ),
            },
            Ok(AnchorState::Pending) => {
                report.skip(checks::ANCHORED, "the anchor waits for the next block");
                report.warn(
                    checks::ANCHORED,
                    "ANCHOR_PENDING",
                    "issued moments ago: the anchor is sealed within one block interval",
                );
            }
            Ok(AnchorState::Missing) => report.fail(
                checks::ANCHORED,
                "ANCHOR_MISSING",
                "issued by this node, but its anchor is neither on the chain nor pending",
            ),
            Ok(AnchorState::Unknown) => {
                report.skip(checks::ANCHORED, "not anchored on this node's chain")
            }
            Err(e @ StoreError::Corrupt { .. }) => report.fail(
                checks::ANCHORED,
                "ANCHOR_INVALID",
                format!("the chain's store does not hold: {e}"),
            ),
            Err(e) => report.error(checks::ANCHORED, "ANCHOR_UNCHECKABLE", e),
        }
    }
}
