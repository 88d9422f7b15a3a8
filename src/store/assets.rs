//! Asset lineage's lock: changes of one organization's derivation edges take turns, so that two
//! concurrent changes cannot each pass the cycle check and together close a cycle.

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::error::Result;

/// The first key of the lineage's advisory locks (the second is the organization's hash).
const LINEAGE_LOCK_CLASS: i32 = 7_404_002;

/// On PostgreSQL, takes the organization's lineage lock until the transaction ends (SQLite
/// writers are serialized already). Other organizations' changes do not wait for it (beyond a
/// rare hash collision).
pub async fn lock_lineage<C: ConnectionTrait>(txn: &C, org_id: &str) -> Result<()> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            [LINEAGE_LOCK_CLASS.into(), org_id.into()],
        ))
        .await?;
    }
    Ok(())
}
