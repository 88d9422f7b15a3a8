//! The audit-event writer: every mutation records who changed what (old → new) in its own transaction.

use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, DbBackend, EntityTrait, QueryTrait, Statement,
    sea_query::{Expr, Query, UpdateStatement},
};
use serde_json::{Map, Value};

use crate::{
    auth::Principal,
    db,
    domain::webhook::EventType,
    error::{AppError, Result},
    service::webhooks::{self, EventResource},
};

/// The changed fields of one mutation: field → `[old, new]`.
#[derive(Debug, Default, Clone)]
pub struct Changes(Map<String, Value>);

impl Changes {
    /// No changes yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `field` when `old != new`.
    pub fn field<T: serde::Serialize + PartialEq>(mut self, field: &str, old: &T, new: &T) -> Self {
        self.track(field, old, new);
        self
    }

    /// Records `field` when `old != new` (in-place form).
    pub fn track<T: serde::Serialize + PartialEq>(&mut self, field: &str, old: &T, new: &T) {
        if old != new {
            self.0.insert(
                field.to_owned(),
                Value::Array(vec![to_value(old), to_value(new)]),
            );
        }
    }

    /// Records a created field: `[null, value]`.
    pub fn created<T: serde::Serialize>(mut self, field: &str, value: &T) -> Self {
        self.0.insert(
            field.to_owned(),
            Value::Array(vec![Value::Null, to_value(value)]),
        );
        self
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// One audit event to record.
pub struct AuditRecord<'a> {
    pub organization_id: Option<&'a str>,
    pub action: &'static str,
    pub entity_type: &'static str,
    pub entity_id: &'a str,
    pub changes: Changes,
}

/// Writes the event with the caller as actor, which moves the organization's data version;
/// call it inside the mutation's transaction.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    event: AuditRecord<'_>,
) -> Result<()> {
    record_as(conn, &actor.actor(), actor.request_id.as_deref(), event).await
}

/// Writes the event with an explicit actor (e.g. `system` for start-up tasks and the CLI).
pub async fn record_as<C: ConnectionTrait>(
    conn: &C,
    actor: &str,
    request_id: Option<&str>,
    event: AuditRecord<'_>,
) -> Result<()> {
    // Inserting an organization's event also moves its data version (caches key on it), in
    // the same statement: the `audit_events_move_data_version` trigger (migration 9).
    entity::audit_event::Entity::insert(row(actor, request_id, event))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Writes the event like [`record`], then announces `event` to the organization's webhook
/// endpoints ([`webhooks::emit`]). The insert also answers whether the organization has an
/// enabled endpoint, read in the same transaction: without one, announcing costs no statement.
pub async fn record_and_emit<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    record: AuditRecord<'_>,
    event: EventType,
    resource: &(dyn EventResource + Sync),
) -> Result<()> {
    write_record_and_emit(conn, None, actor, record, event, resource).await
}

/// Runs `update`, which must change exactly one row, then records and announces the event like
/// [`record_and_emit`]. On SQLite, which runs the statements of one call in order, the update
/// and the event's insert go to the database together: one round trip (each costs a hop to the
/// connection's worker thread, inside the writer turn). PostgreSQL prepares one statement per
/// call, so there the update runs first.
pub async fn update_record_and_emit<C: ConnectionTrait>(
    conn: &C,
    update: UpdateStatement,
    actor: &Principal,
    record: AuditRecord<'_>,
    event: EventType,
    resource: &(dyn EventResource + Sync),
) -> Result<()> {
    write_record_and_emit(conn, Some(update), actor, record, event, resource).await
}

async fn write_record_and_emit<C: ConnectionTrait>(
    conn: &C,
    mut update: Option<UpdateStatement>,
    actor: &Principal,
    record: AuditRecord<'_>,
    event: EventType,
    resource: &(dyn EventResource + Sync),
) -> Result<()> {
    let Some(org_id) = record.organization_id else {
        return Err(AppError::internal("a webhook event needs an organization"));
    };
    let entity_type = record.entity_type;
    let mut insert = entity::audit_event::Entity::insert(row(
        &actor.actor(),
        actor.request_id.as_deref(),
        record,
    ))
    .into_query();
    insert.returning(Query::returning().expr(Expr::cust(
        "EXISTS (SELECT 1 FROM webhook_endpoints w \
         WHERE w.organization_id = audit_events.organization_id AND w.enabled)",
    )));
    let backend = conn.get_database_backend();
    let not_updated = || AppError::internal(format!("the {entity_type} was not updated"));
    let mut insert = backend.build(&insert);
    let mut rows_before = 0;
    if let Some(update) = update.as_mut() {
        if backend == DbBackend::Sqlite {
            // The update answers a row, so that the answer tells it changed one.
            update.returning(Query::returning().expr(Expr::val(1)));
            insert = joined(backend.build(&*update), insert);
            rows_before = 1;
        } else if conn
            .execute_raw(backend.build(&*update))
            .await?
            .rows_affected()
            != 1
        {
            return Err(not_updated());
        }
    }
    let rows = conn.query_all_raw(insert).await?;
    if rows_before == 1 && rows.len() == 1 {
        // Only the event's row: the update changed none.
        return Err(not_updated());
    }
    let has_endpoints = match rows.as_slice() {
        [.., found] if rows.len() == rows_before + 1 => found.try_get_by_index::<bool>(0)?,
        _ => return Err(AppError::internal("the audit event was not written")),
    };
    if has_endpoints {
        webhooks::emit(conn, org_id, event, resource).await?;
    }
    Ok(())
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

/// The stored row of an event.
fn row(
    actor: &str,
    request_id: Option<&str>,
    event: AuditRecord<'_>,
) -> entity::audit_event::ActiveModel {
    entity::audit_event::ActiveModel {
        id: Set(db::new_id()),
        organization_id: Set(event.organization_id.map(str::to_owned)),
        at: Set(db::now()),
        actor: Set(actor.to_owned()),
        action: Set(event.action.to_owned()),
        entity_type: Set(event.entity_type.to_owned()),
        entity_id: Set(event.entity_id.to_owned()),
        changes: Set(Value::Object(event.changes.0).to_string()),
        request_id: Set(request_id.map(str::to_owned)),
    }
}

/// Filters of the audit trail.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<String>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
}

/// An organization's audit events, oldest first (auditors and admins).
pub async fn list(
    db_conn: &sea_orm::DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    filter: &AuditFilter,
    page: &crate::service::page::PageRequest,
) -> Result<crate::service::page::Page<entity::audit_event::Model>> {
    use entity::audit_event::Column;
    use sea_orm::{ColumnTrait, QueryFilter};
    crate::service::authz::authorize(
        db_conn,
        principal,
        org_id,
        crate::domain::role::Action::ReadAuditEvents,
    )
    .await?;
    let mut query = entity::audit_event::Entity::find();
    if let Some(v) = &filter.entity_type {
        query = query.filter(Column::EntityType.eq(v.as_str()));
    }
    if let Some(v) = &filter.entity_id {
        query = query.filter(Column::EntityId.eq(v.as_str()));
    }
    if let Some(v) = &filter.actor {
        query = query.filter(Column::Actor.eq(v.as_str()));
    }
    if let Some(v) = filter.since {
        query = query.filter(Column::At.gte(v));
    }
    Ok(crate::service::page::by_id(
        db_conn,
        query,
        Some((Column::OrganizationId, org_id)),
        Column::Id,
        page,
        |e| e.id.clone(),
    )
    .await?)
}
