//! Webhooks (see docs/webhooks.md): endpoint management, the outbox written inside each change's own
//! transaction, the delivery log and redelivery.

use std::{sync::LazyLock, time::Duration};

use chrono::{DateTime, SecondsFormat, Utc};
use entity::{webhook_delivery, webhook_endpoint, webhook_event};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::{
    domain::webhook::EventType,
    error::{AppError, Result},
    store::db,
};

mod endpoints;
use endpoints::find;
pub use endpoints::{
    EndpointPatch, NewEndpoint, active_secrets, check_url, create, delete, get, list, resolve,
    rotate_secret, update,
};

mod deliveries;
pub use deliveries::{DeliveryView, deliveries, purge_finished, redeliver};

/// The most endpoints one organization may register.
pub const MAX_ENDPOINTS: u64 = 50;
/// How long a rotated-out secret keeps signing unless the rotation says otherwise.
pub const DEFAULT_OVERLAP: Duration = Duration::from_secs(24 * 3600);
/// The longest overlap a rotation may ask for.
pub const MAX_OVERLAP: Duration = Duration::from_secs(7 * 24 * 3600);

pub use crate::domain::webhook::{FAILED, PENDING, SUCCEEDED};

/// Wakes the delivery workers of this process when an event is queued. A wake that comes
/// before the queuing transaction commits finds nothing; the poll picks the delivery up.
pub static WAKE: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Something that can be the `data` of an event: the resource as the API shows it.
pub trait EventResource: Sync {
    /// The resource's JSON representation.
    fn event_data(&self) -> Result<Value>;
}

impl EventResource for Value {
    fn event_data(&self) -> Result<Value> {
        Ok(self.clone())
    }
}

/// The subscribed event types of an endpoint.
pub fn events_of(endpoint: &webhook_endpoint::Model) -> Result<Vec<EventType>> {
    let names: Vec<String> = serde_json::from_str(&endpoint.events).map_err(AppError::internal)?;
    Ok(names.iter().filter_map(|n| EventType::parse(n)).collect())
}

/// Whether an endpoint's stored event list (a JSON array) includes `event`.
pub fn subscribes(events: &str, event: EventType) -> bool {
    serde_json::from_str::<Vec<String>>(events)
        .is_ok_and(|names| names.iter().any(|n| n == event.as_str()))
}

/// Queues `event` for every enabled endpoint of the organization that subscribes to it; call it
/// inside the transaction of the change, so that a rolled-back change emits nothing. Costs one
/// query when nobody listens.
pub async fn emit<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    event: EventType,
    resource: &(dyn EventResource + Sync),
) -> Result<()> {
    let endpoints: Vec<(String, String)> = webhook_endpoint::Entity::find()
        .select_only()
        .column(webhook_endpoint::Column::Id)
        .column(webhook_endpoint::Column::Events)
        .filter(webhook_endpoint::Column::OrganizationId.eq(org_id))
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .into_tuple()
        .all(conn)
        .await?;
    let targets: Vec<String> = endpoints
        .into_iter()
        .filter(|(_, events)| subscribes(events, event))
        .map(|(id, _)| id)
        .collect();
    if targets.is_empty() {
        return Ok(());
    }
    let now = db::now();
    let payload = json!({
        "type": event.as_str(),
        "timestamp": now.to_rfc3339_opts(SecondsFormat::Millis, true),
        "data": resource.event_data()?,
    })
    .to_string();
    let event_id = format!("msg_{}", uuid::Uuid::now_v7().simple());
    webhook_event::Entity::insert(webhook_event::ActiveModel {
        id: Set(event_id.clone()),
        organization_id: Set(org_id.to_owned()),
        event_type: Set(event.as_str().to_owned()),
        payload: Set(payload),
        created_at: Set(now),
    })
    .exec_without_returning(conn)
    .await?;
    webhook_delivery::Entity::insert_many(
        targets
            .into_iter()
            .map(|endpoint_id| new_delivery(org_id, &endpoint_id, &event_id, event.as_str(), now)),
    )
    .exec_without_returning(conn)
    .await?;
    wake();
    Ok(())
}

/// Wakes this process's delivery workers: those waiting now, or the next one to wait.
pub fn wake() {
    WAKE.notify_waiters();
    WAKE.notify_one();
}

fn new_delivery(
    org_id: &str,
    endpoint_id: &str,
    event_id: &str,
    event_type: &str,
    now: DateTime<Utc>,
) -> webhook_delivery::ActiveModel {
    webhook_delivery::ActiveModel {
        id: Set(db::new_id()),
        organization_id: Set(org_id.to_owned()),
        endpoint_id: Set(endpoint_id.to_owned()),
        event_id: Set(event_id.to_owned()),
        event_type: Set(event_type.to_owned()),
        status: Set(PENDING.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(Some(now)),
        lease_owner: Set(None),
        lease_until: Set(None),
        last_status_code: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// How long finished deliveries, their attempts and their events are kept (and can be
/// redelivered).
pub const RETENTION_DAYS: i64 = 30;
