//! The audit event insert. Inserting an organization's event also moves its data version (the
//! `audit_events_move_data_version` trigger, migration 9), in the same statement; the insert can
//! also answer whether the organization has an enabled webhook endpoint, and on SQLite carry the
//! change's own update in the same call.

use entity::audit_event;
use sea_orm::{
    ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryTrait, Statement,
    sea_query::{Expr, Query, UpdateStatement},
};

use crate::error::{AppError, Result};

/// Inserts the event.
pub async fn insert<C: ConnectionTrait>(conn: &C, row: audit_event::ActiveModel) -> Result<()> {
    audit_event::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
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
