//! The catalog load's lock: replicas starting together load the shipped catalog one after the
//! other.

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::error::Result;

/// The advisory lock's key, the same in every replica.
const CATALOG_LOCK: i64 = 7_404_001;

/// On PostgreSQL, takes the catalog's advisory lock until the transaction ends (SQLite writers
/// are serialized already).
pub async fn lock_against_other_replicas<C: ConnectionTrait>(txn: &C) -> Result<()> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [CATALOG_LOCK.into()],
        ))
        .await?;
    }
    Ok(())
}
