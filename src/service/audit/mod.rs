//! The audit trail: every mutation records who changed what (old → new) inside its own
//! transaction, as the next link of its organization's hash chain; the trail is listed,
//! verified and exported for auditors (docs/audit-events.md).

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::{Map, Value};

use crate::{
    domain::{audit_chain, principal::Principal},
    error::Result,
    store,
    store::db,
};

mod chain;

pub use chain::{ChainReport, export_pages, head_hash, verify, verify_chain, verify_every_chain};

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
    let row = chained_row(conn, actor, request_id, event).await?;
    store::audit::insert(conn, row).await
}

/// The stored row of an event, chained to its chain's head: this takes the chain's turn for
/// the rest of the transaction (see [`store::audit::append_head`]), so insert it in the same one.
pub(crate) async fn chained_row<C: ConnectionTrait>(
    conn: &C,
    actor: &str,
    request_id: Option<&str>,
    event: AuditRecord<'_>,
) -> Result<entity::audit_event::ActiveModel> {
    let head = store::audit::append_head(conn, event.organization_id).await?;
    Ok(row_after(head, actor, request_id, event).0)
}

/// Writes `events`, all of organization `org_id`, with the caller as actor, chained in order:
/// one read of the chain's head and one insert per [`store::audit::INSERT_CHUNK`] events,
/// however many they are (an import's per-asset events).
pub async fn record_many<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    org_id: &str,
    events: Vec<AuditRecord<'_>>,
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    if events.iter().any(|e| e.organization_id != Some(org_id)) {
        return Err(crate::error::AppError::internal(
            "events of several chains recorded together",
        ));
    }
    let name = actor.actor();
    let request_id = actor.request_id.as_deref();
    let mut head = store::audit::append_head(conn, Some(org_id)).await?;
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        let (row, next) = row_after(head, &name, request_id, event);
        rows.push(row);
        head = Some(next);
    }
    store::audit::insert_many(conn, rows).await
}

/// The row of `event` appended after `head` (its chain's last `chain_seq` and hash, `None`
/// while empty), and the chain's new head.
fn row_after(
    head: Option<(i64, String)>,
    actor: &str,
    request_id: Option<&str>,
    event: AuditRecord<'_>,
) -> (entity::audit_event::ActiveModel, (i64, String)) {
    let (seq, prev_hash) = match head {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, audit_chain::GENESIS.to_owned()),
    };
    let id = db::new_id();
    let at = db::now();
    let changes = Value::Object(event.changes.0).to_string();
    let hash = audit_chain::hash(&audit_chain::Link {
        id: &id,
        organization_id: event.organization_id,
        chain_seq: seq,
        at,
        actor,
        action: event.action,
        entity_type: event.entity_type,
        entity_id: event.entity_id,
        changes: &changes,
        request_id,
        prev_hash: &prev_hash,
    });
    let row = entity::audit_event::ActiveModel {
        id: Set(id),
        organization_id: Set(event.organization_id.map(str::to_owned)),
        at: Set(at),
        actor: Set(actor.to_owned()),
        action: Set(event.action.to_owned()),
        entity_type: Set(event.entity_type.to_owned()),
        entity_id: Set(event.entity_id.to_owned()),
        changes: Set(changes),
        request_id: Set(request_id.map(str::to_owned)),
        chain_seq: Set(Some(seq)),
        prev_hash: Set(Some(prev_hash)),
        hash: Set(Some(hash.clone())),
    };
    (row, (seq, hash))
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
