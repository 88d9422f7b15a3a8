//! The audit event insert. Inserting an organization's event also moves its data version (the
//! `audit_events_move_data_version` trigger, migration 9), in the same statement; the insert can
//! also answer whether the organization has an enabled webhook endpoint, and on SQLite carry the
//! change's own update in the same call. Also the reads of the hash chain: taking a chain's turn
//! and reading its head, and reading it in order (docs/audit-events.md).

use entity::audit_event;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Statement,
    sea_query::{Expr, Query, UpdateStatement},
};

use crate::{
    error::{AppError, Result},
    store::sql,
};

/// Inserts the event.
pub async fn insert<C: ConnectionTrait>(conn: &C, row: audit_event::ActiveModel) -> Result<()> {
    audit_event::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// How many events one insert of [`insert_many`] carries (12 values each, well under
/// SQLite's and PostgreSQL's limits on bound values).
pub const INSERT_CHUNK: usize = 500;

/// Inserts the events, in order, [`INSERT_CHUNK`] per statement.
pub async fn insert_many<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<audit_event::ActiveModel>,
) -> Result<()> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(INSERT_CHUNK).collect();
        audit_event::Entity::insert_many(chunk)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// What [`update_and_insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The update changed no row; the event may or may not have been inserted, so the
    /// transaction must not commit.
    NotUpdated,
    /// The update (if any) changed its row and the event was inserted; `has_endpoints` tells
    /// whether the event's organization has an enabled webhook endpoint.
    Inserted { has_endpoints: bool },
}

/// Runs `update`, which must change exactly one row, then inserts the event, answering whether
/// its organization has an enabled webhook endpoint (read in the same transaction). On SQLite,
/// which runs the statements of one call in order, the update and the insert go to the database
/// together: one round trip (each costs a hop to the connection's worker thread, inside the
/// writer turn). PostgreSQL prepares one statement per call, so there the update runs first.
pub async fn update_and_insert<C: ConnectionTrait>(
    conn: &C,
    mut update: Option<UpdateStatement>,
    row: audit_event::ActiveModel,
) -> Result<Written> {
    #[derive(FromQueryResult)]
    struct Answer {
        has_endpoints: bool,
    }
    let mut insert = audit_event::Entity::insert(row).into_query();
    insert.returning(Query::returning().expr(Expr::cust(
        "EXISTS (SELECT 1 FROM webhook_endpoints w \
         WHERE w.organization_id = audit_events.organization_id AND w.enabled) AS has_endpoints",
    )));
    let backend = conn.get_database_backend();
    let mut insert = backend.build(&insert);
    let mut rows_before = 0;
    if let Some(update) = update.as_mut() {
        if backend == DbBackend::Sqlite {
            // The update answers a row, so that the answer tells it changed one.
            update.returning(Query::returning().expr(Expr::cust("1 AS has_endpoints")));
            insert = joined(backend.build(&*update), insert);
            rows_before = 1;
        } else if conn
            .execute_raw(backend.build(&*update))
            .await?
            .rows_affected()
            != 1
        {
            return Ok(Written::NotUpdated);
        }
    }
    let rows = Answer::find_by_statement(insert).all(conn).await?;
    if rows_before == 1 && rows.len() == 1 {
        // Only the event's row: the update changed none.
        return Ok(Written::NotUpdated);
    }
    match rows.as_slice() {
        [.., found] if rows.len() == rows_before + 1 => Ok(Written::Inserted {
            has_endpoints: found.has_endpoints,
        }),
        _ => Err(AppError::internal("the audit event was not written")),
    }
}

/// Two SQLite statements run by one call, in order: `first`'s values bind its `?` placeholders,
/// then `second`'s.
fn joined(first: Statement, second: Statement) -> Statement {
    let mut values = first.values.map(|v| v.0).unwrap_or_default();
    values.extend(second.values.map(|v| v.0).unwrap_or_default());
    Statement::from_sql_and_values(
        DbBackend::Sqlite,
        format!("{}; {}", first.sql, second.sql),
        values,
    )
}

/// The head of a chain (the organization's, or the platform's for `None`): its last
/// `chain_seq` and `hash`, `None` while the chain is empty. Read as of the statement, without
/// taking the chain's turn (see [`append_head`]).
pub async fn head<C: ConnectionTrait>(
    conn: &C,
    org_id: Option<&str>,
) -> Result<Option<(i64, String)>> {
    use audit_event::Column;
    let query = audit_event::Entity::find()
        .select_only()
        .column(Column::ChainSeq)
        .column(Column::Hash);
    let query = match org_id {
        Some(org_id) => query.filter(Column::OrganizationId.eq(org_id)),
        None => query.filter(Column::OrganizationId.is_null()),
    };
    let head: Option<(Option<i64>, Option<String>)> = query
        .filter(Column::ChainSeq.is_not_null())
        .order_by_desc(Column::ChainSeq)
        .limit(1)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(head.map(|(seq, hash)| (seq.unwrap_or_default(), hash.unwrap_or_default())))
}

/// Takes the chain's turn for the rest of the transaction, then reads its head, so that the
/// event appended next follows it and no other writer can append in between. On PostgreSQL
/// the turn is the organization's `organization_versions` row, which the insert's trigger
/// keeps the head on (migration `m20261204_000011_audit_chain`): one locking read, which after
/// waiting for the previous writer returns the row as that writer committed it. Other
/// organizations are not held up. The platform chain, and an organization whose row is gone
/// (deleted), take an advisory transaction lock and then read the head from the events. On
/// SQLite a write transaction already holds the database's write lock.
pub async fn append_head<C: ConnectionTrait>(
    conn: &C,
    org_id: Option<&str>,
) -> Result<Option<(i64, String)>> {
    let backend = conn.get_database_backend();
    if backend != DbBackend::Postgres {
        return head(conn, org_id).await;
    }
    if let Some(org_id) = org_id {
        #[derive(FromQueryResult)]
        struct Head {
            audit_chain_seq: Option<i64>,
            audit_head_hash: Option<String>,
        }
        let locked = Head::find_by_statement(sql::statement(
            backend,
            "SELECT audit_chain_seq, audit_head_hash FROM organization_versions \
             WHERE organization_id = ? FOR NO KEY UPDATE",
            vec![org_id.into()],
        ))
        .one(conn)
        .await?;
        if let Some(head) = locked {
            return Ok(head
                .audit_chain_seq
                .map(|seq| (seq, head.audit_head_hash.unwrap_or_default())));
        }
    }
    let key = match org_id {
        Some(org_id) => format!("annexa:audit:{org_id}"),
        None => "annexa:audit:platform".to_owned(),
    };
    conn.execute_raw(sql::statement(
        backend,
        "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
        vec![key.into()],
    ))
    .await?;
    head(conn, org_id).await
}

/// Up to `limit` events of a chain after position `after_seq`, in chain order, at or after
/// `since` when given.
pub async fn chain_page<C: ConnectionTrait>(
    conn: &C,
    org_id: Option<&str>,
    after_seq: i64,
    since: Option<chrono::DateTime<chrono::Utc>>,
    limit: u64,
) -> Result<Vec<audit_event::Model>> {
    use audit_event::Column;
    let query = audit_event::Entity::find();
    let mut query = match org_id {
        Some(org_id) => query.filter(Column::OrganizationId.eq(org_id)),
        None => query.filter(Column::OrganizationId.is_null()),
    };
    if let Some(since) = since {
        query = query.filter(Column::At.gte(since));
    }
    Ok(query
        .filter(Column::ChainSeq.gt(after_seq))
        .order_by_asc(Column::ChainSeq)
        .limit(limit)
        .all(conn)
        .await?)
}

/// Every chain that has events: the organizations' ids, and `None` for the platform chain.
pub async fn chains<C: ConnectionTrait>(conn: &C) -> Result<Vec<Option<String>>> {
    use audit_event::Column;
    Ok(audit_event::Entity::find()
        .select_only()
        .column(Column::OrganizationId)
        .distinct()
        .into_tuple()
        .all(conn)
        .await?)
}
