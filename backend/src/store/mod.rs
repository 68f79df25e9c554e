//! Persistence: the database connection, migrations, and the sea-orm entities with their
//! queries. SQLite (embedded default) and PostgreSQL run the same code.

pub mod entities;
mod inserts;
mod reads;

pub use inserts::Inserts;
pub use reads::Reads;

use std::time::Duration;

use anyhow::Context;
use certus_migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, QueryFilter, RuntimeErr, SqlErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// Connects to the database at `url` and brings its schema up to date.
pub async fn connect_and_migrate(url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // sea-orm gives SQLite one connection unless told otherwise; WAL lets readers run
        // beside the single writer, and NORMAL sync is durable in WAL mode across crashes
        // of the process (not of the OS), the usual embedded trade-off. A server copies the
        // log into the database in the background ([`spawn_checkpointer`]); a writer does
        // it itself only past `AUTO_CHECKPOINT_PAGES`, as a backstop.
        options
            .max_connections(8)
            .min_connections(1)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    .pragma("wal_autocheckpoint", AUTO_CHECKPOINT_PAGES.to_string())
            });
    } else {
        options.max_connections(32).min_connections(1);
    }
    let db = Database::connect(options)
        .await
        .with_context(|| format!("connecting to the database ({})", redact(url)))?;
    Migrator::up(&db, None)
        .await
        .context("running database migrations")?;
    Ok(db)
}

/// Opens a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), waiting for another writer as long as the busy timeout allows: a
/// transaction that read first and wrote later would instead fail at its first write,
/// without waiting, whenever another connection had committed since its read ("database is
/// locked"). PostgreSQL takes its locks row by row, as ever.
pub async fn begin_writing(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// WAL pages past which a committing SQLite connection checkpoints by itself (SQLite's
/// default is 1,000): about 64 MB, which the background checkpointer keeps the log well
/// under.
const AUTO_CHECKPOINT_PAGES: u32 = 16_384;

/// How often the background checkpointer copies SQLite's write-ahead log into the
/// database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// On SQLite, copies the write-ahead log into the database every 250 ms from a task of its
/// own, with a passive checkpoint (it waits for no reader or writer, and none waits for
/// it), so that no commit pays for it: left to SQLite, the commit that fills the log
/// past 1,000 pages checkpoints it, and an issuance's group commit did so several times a
/// second, stalling every issuance behind it (`docs/performance.md`). Does nothing on
/// PostgreSQL. The task ends with the runtime.
pub fn spawn_checkpointer(db: DatabaseConnection) {
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    tokio::spawn(async move {
        let mut every = tokio::time::interval(CHECKPOINT_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            every.tick().await;
            let result = db
                .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
                .await;
            match (result, failing) {
                (Err(e), false) => {
                    tracing::warn!(error = %e, "checkpointing the SQLite write-ahead log failed");
                    failing = true;
                }
                (Ok(_), true) => failing = false,
                _ => {}
            }
        }
    });
}

/// Runs `task`, a loop that writes to the store, on an OS thread of its own named `name`,
/// with a single-threaded runtime: each of its database round trips then waits for the OS
/// to wake the thread, not behind the request handlers queued on the server's runtime.
/// Under issuance load a round trip of the group commit took a median 205 µs on the
/// server's runtime and 46 µs on its own thread, and the issuance rate rose by a fifth
/// (`docs/performance.md`). The thread ends when `task` does.
pub fn spawn_writer<F>(name: &str, task: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a single-threaded Tokio runtime builds");
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || runtime.block_on(task))
        .expect("the OS starts a thread");
}

/// Connects to a read replica of `primary` at `url` (decision 24): a PostgreSQL standby or
/// subscriber, whose schema must be the primary's (it is never migrated through this
/// connection, which only reads).
pub async fn connect_replica(url: &str, primary: &DatabaseConnection) -> anyhow::Result<Reads> {
    anyhow::ensure!(
        url.starts_with("postgres:") || url.starts_with("postgresql:"),
        "a read replica is a PostgreSQL database (CERTUS_READ_DATABASE_URL: {})",
        redact(url)
    );
    anyhow::ensure!(
        primary.get_database_backend() == DbBackend::Postgres,
        "a read replica needs a PostgreSQL primary (DATABASE_URL)"
    );
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(2))
        .sqlx_logging(false)
        .max_connections(32)
        .min_connections(1);
    let replica = Database::connect(options)
        .await
        .with_context(|| format!("connecting to the read replica ({})", redact(url)))?;
    let pending = Migrator::get_pending_migrations_read_only(&replica)
        .await
        .context("reading the read replica's migrations")?;
    anyhow::ensure!(
        pending.is_empty(),
        "the read replica lacks {} of the primary's migrations (the first: {}): wait for it \
         to catch up, or point CERTUS_READ_DATABASE_URL at a replica of DATABASE_URL",
        pending.len(),
        pending[0].name()
    );
    Ok(Reads::replicated(primary.clone(), replica))
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}://{}@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// The condition that an issued credential has type `name`: its `types` column is a JSON
/// array of strings, so the quoted name is matched exactly (LIKE wildcards escaped).
pub fn has_type(name: &str) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, ExprTrait};
    Expr::col(entities::issued_credentials::Column::Types).like(containing(&format!("\"{name}\"")))
}

/// A `LIKE` pattern that matches text containing `text` literally: its `%`, `_` and `\`
/// are escaped.
pub fn containing(text: &str) -> sea_orm::sea_query::LikeExpr {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    sea_orm::sea_query::LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

/// The unique constraint a failed write violated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unique {
    /// An issued credential's `id` (`credential_id`).
    CredentialId,
    /// An issued credential's status entry (revocation list, index).
    StatusEntry,
    /// Another, as the database names it.
    Other(String),
}

/// Which unique constraint `e` violated, if it is a unique violation: PostgreSQL names the
/// constraint, SQLite the columns (`UNIQUE constraint failed: table.column, …`).
pub fn unique_violation(e: &DbErr) -> Option<Unique> {
    let Some(SqlErr::UniqueConstraintViolation(message)) = e.sql_err() else {
        return None;
    };
    let constraint = match e {
        DbErr::Exec(RuntimeErr::SqlxError(cause)) | DbErr::Query(RuntimeErr::SqlxError(cause)) => {
            match cause.as_ref() {
                sea_orm::sqlx::Error::Database(db) => db.constraint().map(str::to_owned),
                _ => None,
            }
        }
        _ => None,
    };
    let named = constraint.unwrap_or_else(|| {
        message
            .strip_prefix("UNIQUE constraint failed: ")
            .unwrap_or(&message)
            .to_owned()
    });
    Some(match named.as_str() {
        "issued_credentials_credential_id_key" | "issued_credentials.credential_id" => {
            Unique::CredentialId
        }
        "idx_issued_credentials_status_entry"
        | "issued_credentials.revocation_list, issued_credentials.status_index" => {
            Unique::StatusEntry
        }
        _ => Unique::Other(named),
    })
}

/// Ids bound per `DELETE … WHERE id IN (…)`: below SQLite's 32,766 parameters and
/// PostgreSQL's 65,535.
const IDS_PER_DELETE: usize = 10_000;

/// Deletes the rows of `E` whose `id_column` is one of `ids`; the number deleted, which the
/// caller compares with `ids.len()` to learn whether another writer took any first.
pub async fn delete_ids<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    id_column: E::Column,
    ids: &[i64],
) -> Result<u64, DbErr> {
    let mut deleted = 0;
    for chunk in ids.chunks(IDS_PER_DELETE) {
        deleted += E::delete_many()
            .filter(id_column.is_in(chunk.iter().copied()))
            .exec(conn)
            .await?
            .rows_affected;
    }
    Ok(deleted)
}

/// A new id for a row written at a high rate (issuance records, vault rows): a UUIDv7,
/// time-ordered so that each group commit appends to the tables' indexes instead of
/// touching a page per row (see `docs/performance.md`).
pub fn time_ordered_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use sea_orm::ConnectionTrait;

    use super::{begin_writing, connect_and_migrate, connect_replica, redact, spawn_checkpointer};

    #[test]
    fn redact_hides_the_password_but_keeps_user_and_host() {
        assert_eq!(
            redact("postgres://certus:s3cret@db:5432/certus"),
            "postgres://certus@db:5432/certus"
        );
        assert_eq!(redact("sqlite://data/certus.db"), "sqlite://data/certus.db");
    }

    #[tokio::test]
    async fn a_replica_is_a_postgresql_database_of_a_postgresql_primary() {
        let sqlite = sea_orm::Database::connect("sqlite::memory:")
            .await
            .expect("sqlite");
        let refused = |e: anyhow::Error| format!("{e:#}");
        let of_sqlite = connect_replica("postgres://postgres@127.0.0.1:1/certus", &sqlite)
            .await
            .map(drop)
            .map_err(refused);
        assert_eq!(
            of_sqlite,
            Err("a read replica needs a PostgreSQL primary (DATABASE_URL)".to_owned())
        );
        let not_postgres = connect_replica("sqlite://replica.db", &sqlite)
            .await
            .map(drop)
            .map_err(refused);
        assert!(
            not_postgres.is_err_and(|e| e.starts_with("a read replica is a PostgreSQL database")),
        );
    }

    /// A transaction that reads before it writes keeps the write lock from its start: a
    /// writer on another connection meanwhile waits (here, with no wait allowed, is
    /// refused), and the transaction's own write, after its read, commits. Begun the
    /// default way, the other writer would commit first and the transaction's write would
    /// fail with "database is locked", at once, whatever the busy timeout.
    #[tokio::test]
    async fn a_writing_transaction_on_sqlite_holds_the_write_lock_from_its_start() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("certus.db").display()
        );
        let db = connect_and_migrate(&url).await.expect("a SQLite store");
        db.execute_unprepared(
            "CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (0);",
        )
        .await
        .expect("a table");
        let mut impatient = sea_orm::ConnectOptions::new(url);
        impatient
            .max_connections(1)
            .map_sqlx_sqlite_opts(|o| o.busy_timeout(Duration::ZERO));
        let other = sea_orm::Database::connect(impatient)
            .await
            .expect("another connection");

        let txn = begin_writing(&db).await.expect("a transaction");
        txn.execute_unprepared("SELECT n FROM counter")
            .await
            .expect("a read first");
        let meanwhile = other
            .execute_unprepared("UPDATE counter SET n = n + 10")
            .await;
        assert!(
            meanwhile.is_err(),
            "another writer waits for the transaction"
        );
        txn.execute_unprepared("UPDATE counter SET n = n + 1")
            .await
            .expect("the write after the read");
        txn.commit().await.expect("committed");
        other
            .execute_unprepared("UPDATE counter SET n = n + 10")
            .await
            .expect("the other writer's turn");
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "SELECT n FROM counter",
            ))
            .await
            .expect("a read")
            .expect("a row");
        assert_eq!(row.try_get::<i64>("", "n").expect("n"), 11);
    }

    /// A server's writes reach the SQLite database file from the write-ahead log without
    /// any commit checkpointing (the log holds far fewer pages than the writers' own
    /// threshold): the background checkpointer copies them.
    #[tokio::test]
    async fn the_checkpointer_copies_the_log_into_the_database_file() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let file = dir.path().join("certus.db");
        let db = connect_and_migrate(&format!("sqlite://{}?mode=rwc", file.display()))
            .await
            .expect("a SQLite store");
        let size = || std::fs::metadata(&file).expect("the database file").len();
        db.execute_unprepared(
            "CREATE TABLE scratch (data BLOB NOT NULL);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 256)
             INSERT INTO scratch SELECT randomblob(4000) FROM n;",
        )
        .await
        .expect("a megabyte written");
        let before = size();
        spawn_checkpointer(db.clone());
        let deadline = Instant::now() + Duration::from_secs(10);
        while size() < before + 1_000_000 {
            assert!(
                Instant::now() < deadline,
                "the database file stayed at {} bytes: the log was not checkpointed",
                size()
            );
            // Each look is a query of the store, as a request would make meanwhile.
            db.execute_unprepared("SELECT count(*) FROM scratch")
                .await
                .expect("a read");
            tokio::task::yield_now().await;
        }
    }
}
