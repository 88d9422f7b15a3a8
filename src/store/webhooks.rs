//! The webhook delivery queue's claim: due deliveries leased to one worker.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult};

use crate::{domain::webhook::PENDING, error::Result, store::sql::statement};

/// Leases up to `limit` due deliveries of enabled endpoints to `owner` until `lease_until`,
/// answering their ids; call it in a write transaction. On PostgreSQL rows another worker is
/// claiming are skipped (`FOR UPDATE SKIP LOCKED`); SQLite runs one writer at a time.
pub async fn claim_due<C: ConnectionTrait>(
    conn: &C,
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<String>> {
    #[derive(FromQueryResult)]
    struct Claimed {
        id: String,
    }
    let backend = conn.get_database_backend();
    let lock = if backend == DbBackend::Postgres {
        " FOR UPDATE OF d SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ? \
         WHERE id IN (SELECT d.id FROM webhook_deliveries d \
           WHERE d.status = ? AND d.next_attempt_at <= ? \
           AND (d.lease_until IS NULL OR d.lease_until < ?) \
           AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = d.endpoint_id AND e.enabled = ?) \
           ORDER BY d.next_attempt_at LIMIT ?{lock}) \
         AND (lease_until IS NULL OR lease_until < ?) \
         RETURNING id"
    );
    let claimed = Claimed::find_by_statement(statement(
        backend,
        &sql,
        vec![
            owner.into(),
            lease_until.into(),
            PENDING.into(),
            now.into(),
            now.into(),
            true.into(),
            i64::try_from(limit).unwrap_or(1).into(),
            now.into(),
        ],
    ))
    .all(conn)
    .await?;
    Ok(claimed.into_iter().map(|c| c.id).collect())
}
