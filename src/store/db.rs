//! Database connection (SQLite or PostgreSQL), migrations, write transactions and id/time helpers.

use std::{
    collections::HashMap,
    ops::Deref,
    path::PathBuf,
    sync::{Arc, LazyLock, Mutex},
    time::Duration,
};

use chrono::{DateTime, SubsecRound, Utc};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, ExecResult, QueryResult, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};
use tokio::sync::OwnedMutexGuard;

use crate::config::Settings;

/// Opens the pool. SQLite files are created if missing and run with WAL, `synchronous` as
/// configured (FULL by default), foreign keys and a busy timeout.
pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(settings.database_url.clone());
    options
        .max_connections(settings.db_pool_size)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    if settings.is_sqlite() {
        // An SQLite connection is a file handle in this process: nothing can drop it, and a
        // ping costs a hop to its worker thread per checkout (inside the writer turn, too).
        options.test_before_acquire(false);
    } else {
        // Ping a pooled connection only once it sat idle (the kind a server, proxy or firewall
        // may have dropped), not on every checkout, which costs a round trip per statement.
        options.test_before_acquire_if_idle_for(Duration::from_secs(30));
    }
    if settings.is_sqlite() {
        use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
        // FULL by default: an acknowledged commit survives a power failure (docs/operations.md).
        let synchronous = match settings.sqlite_synchronous {
            crate::config::SqliteSynchronous::Full => SqliteSynchronous::Full,
            crate::config::SqliteSynchronous::Normal => SqliteSynchronous::Normal,
        };
        options.map_sqlx_sqlite_opts(move |opts| {
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(synchronous)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // Read pages through the OS page cache, shared by all connections; a larger
                // mapping was no faster and counted every page read in RSS (bench/README.md, "SQLite memory map").
                .pragma("mmap_size", "268435456")
        });
    }
    Database::connect(options).await
}

/// The migrations' advisory lock key on PostgreSQL, the same in every replica (the catalog
/// load's is the next one, `store::catalog`).
const MIGRATION_LOCK: i64 = 7_404_000;

/// Applies every pending migration. On PostgreSQL replicas starting together take turns: the
/// migrations run in one transaction holding an advisory lock, so the second replica finds
/// them applied (two concurrent `CREATE TABLE IF NOT EXISTS` of one table fail there). SQLite
/// serializes its writers already.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Migrator::up(db, None).await;
    }
    let txn = db.begin().await?;
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [MIGRATION_LOCK.into()],
    ))
    .await?;
    Migrator::up(&txn, None).await?;
    txn.commit().await
}

/// A transaction that writes. On SQLite it also holds this process's writer turn until it
/// commits or rolls back (or is dropped).
pub struct WriteTxn {
    txn: DatabaseTransaction,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl WriteTxn {
    /// Commits, then gives the writer turn to the next writer.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    /// Rolls back, then gives the writer turn to the next writer.
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

impl Deref for WriteTxn {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

/// One writer turn per SQLite database file in this process: writers queue for it in order
/// (a fair async lock) instead of all issuing `BEGIN IMMEDIATE` and sleeping in SQLite's busy
/// handler, whose growing back-off made write latency spike under load.
static WRITER_TURNS: LazyLock<Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(Mutex::default);

async fn writer_turn(db: &DatabaseConnection) -> Option<OwnedMutexGuard<()>> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    let file = db
        .get_sqlite_connection_pool()
        .connect_options()
        .get_filename()
        .to_path_buf();
    let turn = WRITER_TURNS.lock().ok()?.entry(file).or_default().clone();
    Some(turn.lock_owned().await)
}

/// Begins a transaction that will write. On SQLite it waits for this process's writer turn,
/// then takes the write lock at once (`BEGIN IMMEDIATE`), so concurrent writers wait for each
/// other instead of failing (other processes are waited for by the busy timeout).
pub async fn begin_write(db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
    let turn = writer_turn(db).await;
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    Ok(WriteTxn { txn, _turn: turn })
}

/// A new UUID v7 (time-ordered) as lowercase text: every stored resource's id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The current time, truncated to microseconds so that it round-trips through both databases.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
