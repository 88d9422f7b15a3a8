//! Webhook endpoints: registration with URL and event checks, changes, deletion and secret rotation.

use std::{net::IpAddr, time::Duration};

use chrono::{DateTime, Utc};
use entity::webhook_endpoint;
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QuerySelect, sea_query::LockType,
};

use crate::{
    domain::{
        principal::Principal,
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

use super::{MAX_ENDPOINTS, MAX_OVERLAP, events_of};

/// A new signing secret: `whsec_` + 32 random bytes in base64.
pub(super) fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    webhook::secret_from_bytes(&bytes)
}

/// Checks an endpoint URL: its form, and every address its host resolves to (see docs/webhooks.md).
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

pub(super) fn check_events(events: &[EventType]) -> Result<String> {
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

pub(super) fn check_description(description: Option<String>) -> Result<Option<String>> {
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
pub(super) async fn find<C: ConnectionTrait>(
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
