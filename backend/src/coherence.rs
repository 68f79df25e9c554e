//! Caches kept coherent across the processes that share one database (issue 23).
//!
//! Issuance reads keys, credential types, trust statements and institution settings on
//! every call, and every API request its API key, so each process caches them. A change to one of these tables raises its
//! counter in `cache_epochs` in the change's own transaction ([`touch`]); every process
//! polls the counters every [`POLL`] and reloads the caches whose counter moved. A change
//! made through one process is therefore in effect in every other within [`POLL`] plus the
//! time a reload takes (milliseconds), and at once in the process that made it. Status
//! lists need none of this: the served cache asks the database every second
//! ([`crate::status`]).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, Set};

use crate::store::entities::cache_epochs;

/// How often each process asks whether another changed a cached table.
pub const POLL: Duration = Duration::from_secs(1);

/// A cached table (or group of tables) with its own counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cached {
    /// Issuer keys (`signing_keys`): created, rotated, retired.
    Keys,
    /// Credential types: defined, versioned, retired.
    Types,
    /// Trust statements: who holds a mandate.
    Trust,
    /// Institution settings.
    Settings,
    /// API keys: revoked.
    ApiKeys,
}

impl Cached {
    fn name(self) -> &'static str {
        match self {
            Self::Keys => "keys",
            Self::Types => "types",
            Self::Trust => "trust",
            Self::Settings => "settings",
            Self::ApiKeys => "api-keys",
        }
    }
}

/// Raises `cached`'s counter, in `conn`'s transaction (the change's own).
pub async fn touch(conn: &impl ConnectionTrait, cached: Cached) -> Result<(), DbErr> {
    cache_epochs::Entity::insert(cache_epochs::ActiveModel {
        name: Set(cached.name().to_owned()),
        epoch: Set(1),
    })
    .on_conflict(
        OnConflict::column(cache_epochs::Column::Name)
            .value(
                cache_epochs::Column::Epoch,
                Expr::col((cache_epochs::Entity, cache_epochs::Column::Epoch)).add(1),
            )
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// The counters as read at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Epochs(HashMap<String, i64>);

impl Epochs {
    /// Reads the counters. Read before the caches are first loaded, so a change made
    /// meanwhile is reloaded at the first poll.
    pub async fn read(db: &DatabaseConnection) -> Result<Self, DbErr> {
        Ok(Self(
            cache_epochs::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .map(|row| (row.name, row.epoch))
                .collect(),
        ))
    }

    fn moved(&self, since: &Epochs, cached: Cached) -> bool {
        self.0.get(cached.name()) != since.0.get(cached.name())
    }
}

/// A map of values read from the database on first use, emptied when the table changes.
/// A value read before an emptying is not kept after it: each read notes the cache's
/// generation first, and [`Cache::fill`] keeps the value only if no [`Cache::clear`] came
/// between.
#[derive(Debug)]
pub struct Cache<K, V> {
    inner: RwLock<(u64, HashMap<K, V>)>,
}

impl<K, V> Default for Cache<K, V> {
    fn default() -> Self {
        Self {
            inner: RwLock::new((0, HashMap::new())),
        }
    }
}

impl<K: Eq + std::hash::Hash, V: Clone> Cache<K, V> {
    /// The cached value of `key`, or the generation to [`Cache::fill`] it under.
    pub fn get<Q>(&self, key: &Q) -> Result<V, u64>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + std::hash::Hash + ?Sized,
    {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        inner.1.get(key).cloned().ok_or(inner.0)
    }

    /// Keeps `value`, read from the database at `generation`, unless the cache was emptied
    /// since.
    pub fn fill(&self, generation: u64, key: K, value: V) {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if inner.0 == generation {
            inner.1.insert(key, value);
        }
    }

    /// Empties the cache: the table changed.
    pub fn clear(&self) {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        inner.0 += 1;
        inner.1.clear();
    }
}

/// A cache that reloads itself from the database.
pub trait Reload: Send + Sync {
    fn reload(&self) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + '_>>;
}

/// Polls the counters and reloads the caches whose counter moved, for as long as the
/// process runs.
pub fn spawn(db: DatabaseConnection, mut seen: Epochs, caches: Vec<(Cached, Arc<dyn Reload>)>) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(POLL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let now = match Epochs::read(&db).await {
                Ok(now) => now,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the cache epochs failed; retrying");
                    continue;
                }
            };
            let mut reloaded = true;
            for (cached, cache) in &caches {
                if !now.moved(&seen, *cached) {
                    continue;
                }
                match cache.reload().await {
                    Ok(()) => tracing::debug!(cache = cached.name(), "reloaded"),
                    Err(e) => {
                        reloaded = false;
                        tracing::warn!(cache = cached.name(), error = %e, "reloading failed; retrying");
                    }
                }
            }
            // A failed reload is tried again at the next poll.
            if reloaded {
                seen = now;
            }
        }
    });
}
