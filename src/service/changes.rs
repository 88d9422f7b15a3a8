//! Recording a change: its audit event (which moves the organization's data version) and, when
//! the organization has an enabled webhook endpoint, its webhook event, in the change's own
//! transaction. The audit writer and the webhook emitter know nothing of each other.

use sea_orm::{ConnectionTrait, sea_query::UpdateStatement};

use crate::{
    domain::{principal::Principal, webhook::EventType},
    error::{AppError, Result},
    service::{
        audit::{self, AuditRecord},
        webhooks::{self, EventResource},
    },
    store::audit::{self as audit_store, Written},
};

/// Records the change's audit event with the caller as actor, then announces `event` with
/// `resource` as its data. The event's insert answers whether the organization has an enabled
/// endpoint: without one, announcing costs no statement.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    record: AuditRecord<'_>,
    event: EventType,
    resource: &(dyn EventResource + Sync),
) -> Result<()> {
    write(conn, None, actor, record, event, resource).await
}

/// Runs `update`, which must change exactly one row (the changed resource, at the version it
/// was read), then records and announces the change like [`record`]. On SQLite the update and
/// the event's insert are one round trip (see [`audit_store::update_and_insert`]).
pub async fn update_and_record<C: ConnectionTrait>(
    conn: &C,
    update: UpdateStatement,
    actor: &Principal,
    record: AuditRecord<'_>,
    event: EventType,
    resource: &(dyn EventResource + Sync),
) -> Result<()> {
    write(conn, Some(update), actor, record, event, resource).await
}

async fn write<C: ConnectionTrait>(
    conn: &C,
    update: Option<UpdateStatement>,
    actor: &Principal,
    record: AuditRecord<'_>,
    event: EventType,
    resource: &(dyn EventResource + Sync),
) -> Result<()> {
    let Some(org_id) = record.organization_id else {
        return Err(AppError::internal("a webhook event needs an organization"));
    };
    let entity_type = record.entity_type;
    let row = audit::chained_row(conn, &actor.actor(), actor.request_id.as_deref(), record).await?;
    match audit_store::update_and_insert(conn, update, row).await? {
        Written::NotUpdated => Err(AppError::internal(format!(
            "the {entity_type} was not updated"
        ))),
        Written::Inserted {
            has_endpoints: true,
        } => webhooks::emit(conn, org_id, event, resource).await,
        Written::Inserted {
            has_endpoints: false,
        } => Ok(()),
    }
}
