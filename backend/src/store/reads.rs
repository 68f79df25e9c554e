//! Reads that may lag behind the last write: served from a read replica when one is
//! configured (`CERTUS_READ_DATABASE_URL`, decision 24), else from the primary.
//!
//! A replica is behind the primary by its replication lag, so only reads whose answer may
//! be that old go to it — verification's anchors, status lists and `did:certus` documents —
//! and an answer that may only mean "not there yet" (a credential not anchored, a list or a
//! DID not found) is asked again of the primary: what was just written through any node is
//! never reported missing. A replica that fails is read around for [`REST`], with a
//! warning, so an unreachable replica does not cost every request a connection timeout.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;

/// How long a replica that failed is left alone before it is tried again.
pub const REST: Duration = Duration::from_secs(5);

/// Where lagging reads go; cheap to clone (clones share the replica's state).
#[derive(Debug, Clone)]
pub struct Reads {
    primary: DatabaseConnection,
    replica: Option<Replica>,
}

#[derive(Debug, Clone)]
struct Replica {
    db: DatabaseConnection,
    /// Until when it is read around, after it failed.
    resting_until: Arc<Mutex<Option<Instant>>>,
}

impl Replica {
    fn available(&self) -> bool {
        let resting = self.resting_until.lock().unwrap_or_else(|e| e.into_inner());
        resting.is_none_or(|until| Instant::now() >= until)
    }

    fn rest(&self) {
        *self.resting_until.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now() + REST);
    }
}

impl Reads {
    /// Every read from `primary`.
    pub fn primary(primary: DatabaseConnection) -> Self {
        Self {
            primary,
            replica: None,
        }
    }

    /// Lagging reads from `replica`, falling back to `primary`.
    pub fn replicated(primary: DatabaseConnection, replica: DatabaseConnection) -> Self {
        Self {
            primary,
            replica: Some(Replica {
                db: replica,
                resting_until: Default::default(),
            }),
        }
    }

    /// The answer of `read` from the replica when it is `settled`; otherwise — no replica,
    /// the replica failed (or is resting after failing), or its answer may only be one it
    /// does not have yet — from the primary.
    pub async fn lagging<T, E, Read>(
        &self,
        read: impl Fn(DatabaseConnection) -> Read,
        settled: impl Fn(&T) -> bool,
    ) -> Result<T, E>
    where
        E: std::fmt::Display,
        Read: Future<Output = Result<T, E>>,
    {
        if let Some(replica) = self.replica.as_ref().filter(|r| r.available()) {
            match read(replica.db.clone()).await {
                Ok(answer) if settled(&answer) => return Ok(answer),
                Ok(_) => {}
                Err(e) => {
                    replica.rest();
                    tracing::warn!(
                        error = %e,
                        rest_secs = REST.as_secs(),
                        "the read replica failed; reading from the primary meanwhile"
                    );
                }
            }
        }
        read(self.primary.clone()).await
    }
}
