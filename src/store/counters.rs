//! Per-organization counters (`organization_counters`): the next number, taken in the caller's
//! transaction, never handed out twice.

use sea_orm::ConnectionTrait;

use crate::{
    error::{AppError, Result},
    store::sql::statement,
};

/// Increments the counter `name` of `org_id` (creating it at 1) and answers its new value, in
/// one statement. Safe under concurrent callers on PostgreSQL: the upsert takes the row's lock,
/// so a second transaction waits for the first and then sees its value (SQLite has one writer).
pub async fn next<C: ConnectionTrait>(conn: &C, org_id: &str, name: &str) -> Result<i64> {
    let sql = "INSERT INTO organization_counters (organization_id, name, value) VALUES (?, ?, 1) \
               ON CONFLICT (organization_id, name) \
               DO UPDATE SET value = organization_counters.value + 1 RETURNING value";
    let row = conn
        .query_one_raw(statement(
            conn.get_database_backend(),
            sql,
            vec![org_id.into(), name.into()],
        ))
        .await?
        .ok_or_else(|| AppError::internal("the counter upsert returned no row"))?;
    Ok(row.try_get::<i64>("", "value")?)
}
