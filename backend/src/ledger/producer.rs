//! The block producer: every block interval, seals what the outbox holds into a block.
//!
//! One runs in every server process; the sealing lock (see
//! [`super::store::Ledger::seal_pending`]) lets only one of the processes sharing a
//! database seal at a time. Sealing failures are logged and retried at the next tick: the
//! outbox keeps every transaction until a block holding it is committed.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use super::store::{Ledger, StoreError};
use crate::store;

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

/// The running producer ([`spawn`]); dropping it stops the producer too.
#[derive(Debug)]
pub struct Producer {
    stop: oneshot::Sender<()>,
    stopped: oneshot::Receiver<()>,
}

impl Producer {
    /// Stops sealing — after the block being sealed, if any — and waits until it has.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.stopped.await;
    }
}

/// Starts the producer, on a thread of its own ([`store::spawn_writer`]: the sealing
/// transaction holds SQLite's write lock, and every issuance waits while it does): a first
/// seal at once (a restart seals what a crash left in the outbox), then one every
/// `interval`.
pub fn spawn(ledger: Arc<Ledger>, interval: Duration) -> Producer {
    let (stop, mut stopping) = oneshot::channel();
    let (done, stopped) = oneshot::channel();
    store::spawn_writer("certus-producer", async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut stopping => break,
                _ = ticks.tick() => {
                    seal_all(&ledger).await;
                }
            }
        }
        let _ = done.send(());
    });
    Producer { stop, stopped }
}
