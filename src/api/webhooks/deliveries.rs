//! The delivery log of a webhook endpoint and redelivery (docs/webhooks.md).

// Route paths are relative to the organization's scope, `/api/v1/organizations/{org_id}`
// (see `api::configure`).

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    api::{
        extract::{Ctx, OrgItemPath, OrgPath, OrgSubItemPath},
        pagination::{PageQuery, list_response, try_page},
        responses::{Conflict, Forbidden},
        webhooks::dto::WEBHOOK_ID,
    },
    domain::webhook::EventType,
    error::{AppError, Result},
    page_schema,
    service::webhooks::{self, DeliveryView},
};

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its first attempt or a retry.
    Pending,
    /// The endpoint answered 2xx.
    Succeeded,
    /// Given up: attempts exhausted, or the endpoint answered 410 Gone.
    Failed,
}

impl DeliveryStatus {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => webhooks::PENDING,
            DeliveryStatus::Succeeded => webhooks::SUCCEEDED,
            DeliveryStatus::Failed => webhooks::FAILED,
        }
    }

    fn parse(value: &str) -> Result<Self> {
        [Self::Pending, Self::Succeeded, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| AppError::internal("stored delivery status"))
    }
}

/// One HTTP request made for a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAttempt {
    /// 1 for the first attempt, then 2, 3…
    pub number: i32,
    /// When it was sent.
    pub started_at: DateTime<Utc>,
    /// The endpoint's HTTP status, when it answered.
    pub status_code: Option<i32>,
    /// How long it took, in milliseconds.
    pub duration_ms: i32,
    /// What went wrong (connection, timeout, refused address, non-2xx answer).
    pub error: Option<String>,
    /// The start of the endpoint's answer (at most 1 KiB).
    pub response_excerpt: Option<String>,
    /// When the next attempt was scheduled after this one.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl From<entity::webhook_attempt::Model> for WebhookAttempt {
    fn from(a: entity::webhook_attempt::Model) -> Self {
        Self {
            number: a.number,
            started_at: a.started_at,
            status_code: a.status_code,
            duration_ms: a.duration_ms,
            error: a.error,
            response_excerpt: a.response_excerpt,
            next_attempt_at: a.next_attempt_at,
        }
    }
}

/// One event sent to one endpoint, with every attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDelivery {
    /// The delivery's id.
    pub id: String,
    /// The endpoint's id.
    pub webhook_id: String,
    /// The event's id: the `webhook-id` header, the same on every attempt and redelivery.
    #[schema(example = "msg_0193a0c5e0f27c3e9d1b2a3c4d5e6f70")]
    pub event_id: String,
    /// The event's type.
    pub event_type: EventType,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// How many attempts were made.
    pub attempt_count: i32,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status of the last attempt.
    pub last_status_code: Option<i32>,
    /// What went wrong in the last attempt.
    pub last_error: Option<String>,
    /// The attempts, oldest first.
    pub attempts: Vec<WebhookAttempt>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<DeliveryView> for WebhookDelivery {
    type Error = AppError;

    fn try_from(view: DeliveryView) -> Result<Self> {
        let d = view.delivery;
        Ok(Self {
            event_type: EventType::parse(&d.event_type)
                .ok_or_else(|| AppError::internal("stored event type"))?,
            status: DeliveryStatus::parse(&d.status)?,
            attempts: view
                .attempts
                .into_iter()
                .map(WebhookAttempt::from)
                .collect(),
            id: d.id,
            webhook_id: d.endpoint_id,
            event_id: d.event_id,
            attempt_count: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: d.created_at,
            updated_at: d.updated_at,
        })
    }
}

page_schema!(
    WebhookDeliveryPage,
    WebhookDelivery,
    "A page of webhook deliveries."
);

/// Filters of the delivery log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    /// Only deliveries in this state.
    pub status: Option<DeliveryStatus>,
    /// Page size (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl DeliveryQuery {
    /// The page asked for.
    fn page(&self) -> PageQuery {
        PageQuery {
            limit: self.limit,
            cursor: self.cursor.clone(),
        }
    }
}

/// List an endpoint's deliveries.
///
/// Admins. Oldest first, each with its attempts: status code, duration, error and when the
/// next retry is due.
#[utoipa::path(
    tag = "webhooks",
    params(
        OrgPath,
        ("webhook_id" = Uuid, Path, description = WEBHOOK_ID),
        DeliveryQuery,
    ),
    responses(
        (status = 200, description = "A page of deliveries", body = WebhookDeliveryPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        (status = 403, response = Forbidden),
    )
)]
#[get("/webhooks/{webhook_id}/deliveries")]
pub async fn webhook_delivery_list(
    ctx: Ctx,
    req: HttpRequest,
    path: OrgItemPath,
    query: web::Query<DeliveryQuery>,
) -> Result<HttpResponse> {
    let page = query.page().request()?;
    let status = query.status.map(DeliveryStatus::as_str);
    let page = webhooks::deliveries(
        &ctx.db,
        &ctx.principal,
        &path.org_id,
        &path.item,
        status,
        &page,
    )
    .await?;
    Ok(list_response(&req, try_page::<_, WebhookDelivery>(page)?))
}

/// Redeliver an event.
///
/// Admins. Queues the delivery's event again for the same endpoint as a new delivery with the
/// same `webhook-id` (receivers deduplicate on it). 409 when the endpoint is disabled.
#[utoipa::path(
    tag = "webhooks",
    params(
        OrgPath,
        ("webhook_id" = Uuid, Path, description = WEBHOOK_ID),
        ("delivery_id" = Uuid, Path, description = "The delivery's id"),
    ),
    responses(
        (status = 202, description = "The new delivery, queued", body = WebhookDelivery),
        (status = 409, response = Conflict),
    )
)]
#[post("/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")]
pub async fn webhook_delivery_redeliver(ctx: Ctx, path: OrgSubItemPath) -> Result<HttpResponse> {
    let OrgSubItemPath {
        org_id,
        item: webhook_id,
        sub_item: delivery_id,
    } = path;
    let view =
        webhooks::redeliver(&ctx.db, &ctx.principal, &org_id, &webhook_id, &delivery_id).await?;
    Ok(HttpResponse::Accepted().json(WebhookDelivery::try_from(view)?))
}
