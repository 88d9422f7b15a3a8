//! The webhook delivery log of an endpoint, redelivery, and purging finished deliveries.

use std::collections::HashMap;

use entity::{webhook_attempt, webhook_delivery, webhook_event};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};

use crate::{
    domain::principal::Principal,
    domain::role::Action,
    error::{AppError, Result},
    service::{
        audit::{self, AuditRecord, Changes},
        authz,
        page::{self, Page, PageRequest},
    },
    store::db,
};

use super::{PENDING, RETENTION_DAYS, find, new_delivery, wake};

/// A delivery with its attempts, oldest first.
#[derive(Debug, Clone)]
pub struct DeliveryView {
    pub delivery: webhook_delivery::Model,
    pub attempts: Vec<webhook_attempt::Model>,
}

pub(super) async fn delivery_views<C: ConnectionTrait>(
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
