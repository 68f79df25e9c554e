//! The `anchored` check: the credential's commitment is in a sealed block of this node's
//! chain, proven by a receipt re-checked against the genesis (so an altered store fails
//! the check rather than vouching for it).

use certus_schemas::wire::AnchorInfo;
use chrono::{SecondsFormat, TimeZone, Utc};
use serde_json::Value;

use super::report::Report;
use super::{checks, Verifier};
use crate::credential::commitment::commitment;
use crate::did::certus::At;
use crate::ledger::store::{AnchorState, StoreError};

impl Verifier {
    /// Where a secured credential stands on this node's chain: its anchor, or (pending)
    /// its submission, counted as now. `None` when the chain does not hold it.
    pub(super) async fn anchor_point(&self, secured: &Value) -> Option<At> {
        let ledger = self.ledger.as_ref()?;
        let commitment = commitment(secured)?;
        match ledger.locate(&commitment).await.ok()? {
            AnchorState::Anchored(receipt) => Some(At::Anchored {
                height: receipt.header.height,
                position: receipt.leaf_index.0,
                time_ms: receipt.header.time_ms,
            }),
            AnchorState::Pending => Some(At::Pending {
                at_ms: Utc::now().timestamp_millis(),
            }),
            AnchorState::Missing | AnchorState::Unknown => None,
        }
    }

    /// Reports the `anchored` check of a secured credential.
    pub(super) async fn check_anchor(&self, report: &mut Report, secured: &Value) {
        let Some(ledger) = &self.ledger else {
            report.skip(checks::ANCHORED, "no chain is configured");
            return;
        };
        let Some(commitment) = commitment(secured) else {
            report.skip(checks::ANCHORED, "the credential has no commitment");
            return;
        };
        match ledger.locate(&commitment).await {
            Ok(AnchorState::Anchored(receipt)) => match receipt.verify(ledger.genesis()) {
                Ok(anchored) => report.anchored(
                    checks::ANCHORED,
                    AnchorInfo {
                        chain_id: anchored.chain_id.as_str().to_owned(),
                        height: anchored.height,
                        block: anchored.block.to_hex(),
                        time: Utc
                            .timestamp_millis_opt(anchored.time_ms)
                            .single()
                            .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
                            .unwrap_or_default(),
                    },
                ),
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
