//! Safe retries: the first response to a create with an `Idempotency-Key` is stored (same transaction)
//! and replayed for 24 hours to the same principal; the same key with another body is refused.

use chrono::Duration;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, TransactionTrait,
};

use crate::{
    crypto::sha256_hex,
    domain::principal::Principal,
    error::{AppError, Result},
    store::db,
};

/// How long a key is remembered.
pub const KEY_TTL_HOURS: i64 = 24;

/// The response of a create, as stored for replay.
#[derive(Debug, Clone)]
pub struct Created {
    pub status: u16,
    pub body: serde_json::Value,
    pub location: Option<String>,
}

/// Whether the response was produced now or replayed from the store.
#[derive(Debug, Clone)]
pub enum Outcome {
    Fresh(Created),
    Replayed(Created),
}

/// A fingerprint of a request: method, path and the canonical JSON of its parsed body.
pub fn fingerprint(method: &str, path: &str, body: &impl serde::Serialize) -> String {
    let canonical = serde_json::to_string(body).unwrap_or_default();
    sha256_hex(format!("{method} {path}\n{canonical}").as_bytes())
}

async fn find<C: ConnectionTrait>(
    conn: &C,
    principal: &str,
    key: &str,
    request_hash: &str,
) -> Result<Option<Created>> {
    use entity::idempotency_key::{Column, Entity};
    let Some(row) = Entity::find()
        .filter(Column::Principal.eq(principal))
        .filter(Column::Key.eq(key))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    if row.created_at < db::now() - Duration::hours(KEY_TTL_HOURS) {
        Entity::delete_by_id(row.id).exec(conn).await?;
        return Ok(None);
    }
    if row.request_hash != request_hash {
        return Err(AppError::Invalid {
            slug: "idempotency-key-reuse",
            detail: "this Idempotency-Key was already used with a different request".to_owned(),
            errors: vec![crate::error::FieldError::new(
                "Idempotency-Key",
                "was used with a different request body",
            )],
        });
    }
    let body = serde_json::from_str(&row.response_body).map_err(AppError::internal)?;
    Ok(Some(Created {
        status: u16::try_from(row.status_code).unwrap_or(200),
        body,
        location: row.location,
    }))
}

/// Validates an `Idempotency-Key` header value (1–255 visible ASCII characters).
pub fn validate_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(AppError::bad_request(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(())
}

/// Runs `create` in one write transaction, at most once per (principal, key).
pub async fn create_once<F>(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    key: Option<&str>,
    request_hash: &str,
    create: F,
) -> Result<Outcome>
where
    F: AsyncFnOnce(&DatabaseTransaction) -> Result<Created>,
{
    let actor = principal.actor();
    let txn = db::begin_write(db_conn).await?;
    if let Some(key) = key {
        validate_key(key)?;
        if let Some(stored) = find(&txn, &actor, key, request_hash).await? {
            return Ok(Outcome::Replayed(stored));
        }
    }
    let created = create(&txn).await?;
    if let Some(key) = key {
        let row = entity::idempotency_key::ActiveModel {
            id: Set(db::new_id()),
            principal: Set(actor.clone()),
            key: Set(key.to_owned()),
            request_hash: Set(request_hash.to_owned()),
            status_code: Set(i32::from(created.status)),
            response_body: Set(created.body.to_string()),
            location: Set(created.location.clone()),
            created_at: Set(db::now()),
        };
        if let Err(err) = entity::idempotency_key::Entity::insert(row)
            .exec_without_returning(&txn)
            .await
        {
            if crate::error::is_unique_violation(&err) {
                // A concurrent request with the same key won: drop ours and replay theirs.
                txn.rollback().await?;
                let conn = db_conn.begin().await?;
                let stored = find(&conn, &actor, key, request_hash).await?;
                conn.commit().await?;
                return stored.map(Outcome::Replayed).ok_or_else(|| {
                    AppError::conflict(
                        "idempotency-key-in-use",
                        "a request with this Idempotency-Key is in progress",
                    )
                });
            }
            return Err(err.into());
        }
    }
    txn.commit().await?;
    Ok(Outcome::Fresh(created))
}
