//! Webhooks (contract §10): endpoint management, the outbox written inside each change's own
//! transaction, the delivery log and redelivery.

use std::{collections::HashMap, net::IpAddr, sync::LazyLock, time::Duration};

use chrono::{DateTime, SecondsFormat, Utc};
use entity::{webhook_attempt, webhook_delivery, webhook_endpoint, webhook_event};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::LockType,
};
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::{
    domain::principal::Principal,
    domain::{
        role::Action,
        webhook::{self, EventType},
    },
    error::{AppError, Result},
    service::{
        audit::{self, AuditRecord, Changes},
        authz,
        page::{self, Page, PageRequest},
        version::{self, IfMatch},
    },
    store::db,
};

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

/// A new signing secret: `whsec_` + 32 random bytes in base64.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    webhook::secret_from_bytes(&bytes)
}

/// Checks an endpoint URL: its form, and every address its host resolves to (contract §10).
pub async fn check_url(value: &str, allow_private: bool) -> Result<String> {
    let url = webhook::check_url(value, allow_private)
        .map_err(|rejected| AppError::invalid("url", rejected.0))?;
    if allow_private {
        return Ok(url.to_string());
    }
    if let Some(url::Host::Domain(domain)) = url.host() {
        let port = url.port_or_known_default().unwrap_or(443);
        let addresses = resolve(domain, port).await.map_err(|e| {
            AppError::invalid("url", format!("the host `{domain}` does not resolve ({e})"))
        })?;
        if let Some(ip) = addresses
            .into_iter()
            .find(|ip| webhook::is_forbidden_address(*ip))
        {
            return Err(AppError::invalid(
                "url",
                format!(
                    "the host `{domain}` resolves to {ip}, a loopback, private or link-local address"
                ),
            ));
        }
    }
    Ok(url.to_string())
}

/// Every address a host name resolves to (at least one).
pub async fn resolve(host: &str, port: u16) -> std::io::Result<Vec<IpAddr>> {
    let addresses: Vec<IpAddr> = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::lookup_host((host, port)),
    )
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "DNS lookup timed out"))??
    .map(|a| a.ip())
    .collect();
    if addresses.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no addresses",
        ));
    }
    Ok(addresses)
}

fn check_events(events: &[EventType]) -> Result<String> {
    if events.is_empty() {
        return Err(AppError::invalid(
            "events",
            "must name at least one event type",
        ));
    }
    let mut names: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    serde_json::to_string(&names).map_err(AppError::internal)
}

fn check_description(description: Option<String>) -> Result<Option<String>> {
    match description {
        Some(d) if d.chars().count() > 500 => Err(AppError::invalid(
            "description",
            "must be at most 500 characters",
        )),
        Some(d) if d.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

/// An endpoint to register.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub url: String,
    pub events: Vec<EventType>,
    pub description: Option<String>,
}

/// Registers an endpoint (admins); returns it with its secret, shown only this once.
pub async fn create(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    allow_private: bool,
    new: NewEndpoint,
) -> Result<(webhook_endpoint::Model, String)> {
    authz::authorize(db_conn, principal, org_id, Action::Administer).await?;
    let events = check_events(&new.events)?;
    let description = check_description(new.description)?;
    let url = check_url(&new.url, allow_private).await?;
    let txn = db::begin_write(db_conn).await?;
    let count = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::OrganizationId.eq(org_id))
        .count(&txn)
        .await?;
    if count >= MAX_ENDPOINTS {
        return Err(AppError::conflict(
            "webhook-limit",
            format!("an organization may register at most {MAX_ENDPOINTS} webhook endpoints"),
        ));
    }
    let secret = new_secret();
    let now = db::now();
    let created = webhook_endpoint::ActiveModel {
        id: Set(db::new_id()),
        organization_id: Set(org_id.to_owned()),
        url: Set(url),
        description: Set(description),
        events: Set(events),
        enabled: Set(true),
        disabled_reason: Set(None),
        secret: Set(secret.clone()),
        previous_secret: Set(None),
        previous_secret_expires_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "webhook.created",
            entity_type: "webhook",
            entity_id: &created.id,
            changes: Changes::new()
                .created("url", &created.url)
                .created("events", &events_of(&created)?),
        },
    )
    .await?;
    txn.commit().await?;
    Ok((created, secret))
}

/// The organization's endpoint (404 otherwise).
/// Changes read the row with this, inside their transaction: on PostgreSQL it stays locked
/// until the transaction ends, so concurrent changes take turns (and `If-Match` holds).
async fn find<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    webhook_id: &str,
) -> Result<webhook_endpoint::Model> {
    webhook_endpoint::Entity::find_by_id(webhook_id.to_owned())
        .filter(webhook_endpoint::Column::OrganizationId.eq(org_id))
        .lock(LockType::NoKeyUpdate)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("webhook"))
}

/// The organization's endpoints, oldest first (admins).
pub async fn list(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    page: &PageRequest,
) -> Result<Page<webhook_endpoint::Model>> {
    authz::authorize(db_conn, principal, org_id, Action::Administer).await?;
    Ok(page::by_id(
        db_conn,
        webhook_endpoint::Entity::find(),
        Some((webhook_endpoint::Column::OrganizationId, org_id)),
        webhook_endpoint::Column::Id,
        page,
        |e| e.id.clone(),
    )
    .await?)
}

/// One endpoint (admins).
pub async fn get(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    webhook_id: &str,
) -> Result<webhook_endpoint::Model> {
    authz::authorize(db_conn, principal, org_id, Action::Administer).await?;
    find(db_conn, org_id, webhook_id).await
}

/// Changes to an endpoint; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct EndpointPatch {
    pub url: Option<String>,
    pub events: Option<Vec<EventType>>,
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

/// Updates an endpoint (admins), honouring `If-Match`. Enabling a disabled endpoint clears
/// why it was disabled; its pending deliveries then go out.
pub async fn update(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    webhook_id: &str,
    allow_private: bool,
    if_match: Option<&IfMatch>,
    patch: EndpointPatch,
) -> Result<webhook_endpoint::Model> {
    authz::authorize(db_conn, principal, org_id, Action::Administer).await?;
    // Resolve before the write transaction: DNS must not hold the database's write lock.
    let url = match &patch.url {
        Some(u) => Some(check_url(u, allow_private).await?),
        None => None,
    };
    let events = patch.events.as_deref().map(check_events).transpose()?;
    let description = patch.description.map(check_description).transpose()?;
    let txn = db::begin_write(db_conn).await?;
    let current = find(&txn, org_id, webhook_id).await?;
    version::check(if_match, current.version)?;
    let url = url.unwrap_or_else(|| current.url.clone());
    let events = events.unwrap_or_else(|| current.events.clone());
    let description = description.unwrap_or_else(|| current.description.clone());
    let enabled = patch.enabled.unwrap_or(current.enabled);
    let mut changes = Changes::new();
    changes.track("url", &current.url, &url);
    changes.track("events", &current.events, &events);
    changes.track("description", &current.description, &description);
    changes.track("enabled", &current.enabled, &enabled);
    if changes.is_empty() {
        txn.commit().await?;
        return Ok(current);
    }
    let mut active = current.clone().into_active_model();
    active.url = Set(url);
    active.events = Set(events);
    active.description = Set(description);
    active.enabled = Set(enabled);
    if enabled {
        active.disabled_reason = Set(None);
    } else if current.enabled {
        active.disabled_reason = Set(Some("disabled by an admin".to_owned()));
    }
    let updated = version::save_next(&txn, active, current.version, db::now()).await?;
    audit::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "webhook.updated",
            entity_type: "webhook",
            entity_id: webhook_id,
            changes,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// Deletes an endpoint and its delivery log (admins); queued deliveries are dropped.
pub async fn delete(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    webhook_id: &str,
) -> Result<()> {
    authz::authorize(db_conn, principal, org_id, Action::Administer).await?;
    let txn = db::begin_write(db_conn).await?;
    let current = find(&txn, org_id, webhook_id).await?;
    webhook_endpoint::Entity::delete_by_id(current.id.clone())
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "webhook.deleted",
            entity_type: "webhook",
            entity_id: webhook_id,
            changes: Changes::new().field("url", &current.url, &String::new()),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Replaces the signing secret (admins). The old one keeps signing beside the new one for
/// `overlap` (both signatures are sent), so receivers can switch without losing events.
pub async fn rotate_secret(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    webhook_id: &str,
    overlap: Duration,
) -> Result<(webhook_endpoint::Model, String)> {
    authz::authorize(db_conn, principal, org_id, Action::Administer).await?;
    if overlap > MAX_OVERLAP {
        return Err(AppError::invalid(
            "overlap_seconds",
            format!("must be at most {}", MAX_OVERLAP.as_secs()),
        ));
    }
    let txn = db::begin_write(db_conn).await?;
    let current = find(&txn, org_id, webhook_id).await?;
    let secret = new_secret();
    let now = db::now();
    let overlap = chrono::Duration::from_std(overlap).map_err(AppError::internal)?;
    let mut active = current.clone().into_active_model();
    if overlap.is_zero() {
        active.previous_secret = Set(None);
        active.previous_secret_expires_at = Set(None);
    } else {
        active.previous_secret = Set(Some(current.secret.clone()));
        active.previous_secret_expires_at = Set(Some(now + overlap));
    }
    active.secret = Set(secret.clone());
    let updated = version::save_next(&txn, active, current.version, now).await?;
    audit::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "webhook.secret_rotated",
            entity_type: "webhook",
            entity_id: webhook_id,
            changes: Changes::new().field(
                "previous_secret_expires_at",
                &current.previous_secret_expires_at,
                &updated.previous_secret_expires_at,
            ),
        },
    )
    .await?;
    txn.commit().await?;
    Ok((updated, secret))
}

/// The secrets that sign a message now: the current one, and the previous one during its
/// overlap.
pub fn active_secrets(endpoint: &webhook_endpoint::Model, now: DateTime<Utc>) -> Vec<&str> {
    let mut secrets = vec![endpoint.secret.as_str()];
    if let (Some(previous), Some(until)) = (
        &endpoint.previous_secret,
        endpoint.previous_secret_expires_at,
    ) && until > now
    {
        secrets.push(previous);
    }
    secrets
}

/// A delivery with its attempts, oldest first.
#[derive(Debug, Clone)]
pub struct DeliveryView {
    pub delivery: webhook_delivery::Model,
    pub attempts: Vec<webhook_attempt::Model>,
}

async fn delivery_views<C: ConnectionTrait>(
    conn: &C,
    deliveries: Vec<webhook_delivery::Model>,
) -> Result<Vec<DeliveryView>> {
    if deliveries.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = deliveries.iter().map(|d| d.id.clone()).collect();
    let mut attempts: HashMap<String, Vec<webhook_attempt::Model>> = HashMap::new();
    for attempt in webhook_attempt::Entity::find()
        .filter(webhook_attempt::Column::DeliveryId.is_in(ids))
        .order_by_asc(webhook_attempt::Column::Number)
        .all(conn)
        .await?
    {
        attempts
            .entry(attempt.delivery_id.clone())
            .or_default()
            .push(attempt);
    }
    Ok(deliveries
        .into_iter()
        .map(|delivery| DeliveryView {
            attempts: attempts.remove(&delivery.id).unwrap_or_default(),
            delivery,
        })
        .collect())
}

/// An endpoint's deliveries, oldest first, each with its attempts (admins; three queries).
pub async fn deliveries(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    webhook_id: &str,
    status: Option<&str>,
    page: &PageRequest,
) -> Result<Page<DeliveryView>> {
    authz::authorize(db_conn, principal, org_id, Action::Administer).await?;
    find(db_conn, org_id, webhook_id).await?;
    let mut query = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EndpointId.eq(webhook_id));
    if let Some(status) = status {
        query = query.filter(webhook_delivery::Column::Status.eq(status));
    }
    let rows = page::by_id(
        db_conn,
        query,
        Some((webhook_delivery::Column::OrganizationId, org_id)),
        webhook_delivery::Column::Id,
        page,
        |d| d.id.clone(),
    )
    .await?;
    let next_after = rows.next_after;
    Ok(Page {
        items: delivery_views(db_conn, rows.items).await?,
        next_after,
    })
}

/// Queues a past event again for the same endpoint, as a new delivery with the same
/// `webhook-id` (admins). 409 when the endpoint is disabled.
pub async fn redeliver(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    webhook_id: &str,
    delivery_id: &str,
) -> Result<DeliveryView> {
    authz::authorize(db_conn, principal, org_id, Action::Administer).await?;
    let txn = db::begin_write(db_conn).await?;
    let endpoint = find(&txn, org_id, webhook_id).await?;
    let original = webhook_delivery::Entity::find_by_id(delivery_id.to_owned())
        .filter(webhook_delivery::Column::OrganizationId.eq(org_id))
        .filter(webhook_delivery::Column::EndpointId.eq(webhook_id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("delivery"))?;
    if !endpoint.enabled {
        return Err(AppError::conflict(
            "webhook-disabled",
            "the endpoint is disabled; enable it (PATCH `enabled: true`) before redelivering",
        ));
    }
    let delivery = new_delivery(
        org_id,
        webhook_id,
        &original.event_id,
        &original.event_type,
        db::now(),
    )
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "webhook.redelivered",
            entity_type: "webhook",
            entity_id: webhook_id,
            changes: Changes::new()
                .created("event_id", &original.event_id)
                .created("delivery_id", &delivery.id),
        },
    )
    .await?;
    txn.commit().await?;
    wake();
    Ok(DeliveryView {
        delivery,
        attempts: Vec::new(),
    })
}

/// How long finished deliveries, their attempts and their events are kept (and can be
/// redelivered).
pub const RETENTION_DAYS: i64 = 30;

/// Deletes finished deliveries older than the retention period, and events no delivery refers
/// to any more. Pending deliveries are never purged.
pub async fn purge_finished(db_conn: &DatabaseConnection) -> Result<u64> {
    use sea_orm::sea_query::Query;
    let cutoff = db::now() - chrono::Duration::days(RETENTION_DAYS);
    let deliveries = webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::Status.ne(PENDING))
        .filter(webhook_delivery::Column::UpdatedAt.lt(cutoff))
        .exec(db_conn)
        .await?;
    webhook_event::Entity::delete_many()
        .filter(webhook_event::Column::CreatedAt.lt(cutoff))
        .filter(
            webhook_event::Column::Id.not_in_subquery(
                Query::select()
                    .column(webhook_delivery::Column::EventId)
                    .from(webhook_delivery::Entity)
                    .to_owned(),
            ),
        )
        .exec(db_conn)
        .await?;
    Ok(deliveries.rows_affected)
}
