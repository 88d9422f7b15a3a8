//! The audit trail: every mutation records who changed what (old → new) inside its own
//! transaction, and the trail is listed for auditors.

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::{Map, Value};

use crate::{domain::principal::Principal, error::Result, store, store::db};

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
    // Inserting an organization's event also moves its data version (caches key on it).
    store::audit::insert(conn, row(actor, request_id, event)).await
}

/// The stored row of an event.
pub(crate) fn row(
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
