//! The block producer: every block interval, seals what the outbox holds into a block.
//!
//! One runs in every server process; the sealing lock (see
//! [`super::store::Ledger::seal_pending`]) lets only one of the processes sharing a
//! database seal at a time. Sealing failures are logged and retried at the next tick: the
//! outbox keeps every transaction until a block holding it is committed.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::store::{Ledger, StoreError};

/// Most transactions in one block. Larger backlogs are sealed over several ticks, each
/// block staying quick to write and to prove from.
pub const MAX_BLOCK_TRANSACTIONS: u64 = 100_000;

/// Seals everything pending now, block after block; the number of blocks sealed.
pub async fn seal_all(ledger: &Ledger) -> usize {
    let mut sealed = 0;
    loop {
        match ledger
            .seal_pending(ledger.now_ms(), MAX_BLOCK_TRANSACTIONS)
            .await
        {
            Ok(Some(header)) => {
                tracing::debug!(
                    height = header.height,
                    transactions = header.tx_count,
                    "sealed a block"
                );
                sealed += 1;
                if header.tx_count < MAX_BLOCK_TRANSACTIONS {
                    return sealed;
                }
            }
            Ok(None) | Err(StoreError::NotValidator) => return sealed,
            Err(e) => {
                tracing::error!(error = %e, "sealing a block failed; retrying at the next interval");
                return sealed;
            }
        }
    }
}

/// Starts the producer: a first seal at once (a restart seals what a crash left in the
/// outbox), then one every `interval`.
pub fn spawn(ledger: Arc<Ledger>, interval: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            seal_all(&ledger).await;
        }
    })
}
