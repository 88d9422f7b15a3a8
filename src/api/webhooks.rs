//! Webhooks (contract §10): endpoints, their secrets, the delivery log and redelivery.

// Route paths are relative to the organization's scope, `/api/v1/organizations/{org_id}`
// (see `api::configure`).

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    api::{
        body::{Body, OptionalBody},
        pagination::{PageQuery, list_response},
        responses::{
            BadRequest, Conflict, Forbidden, IfMatchHeader, NotFound, PayloadTooLarge,
            PreconditionFailed, UnprocessableEntity, UnsupportedMediaType, if_match, ok_with_etag,
            path_of,
        },
    },
    domain::principal::Principal,
    domain::webhook::EventType,
    error::{AppError, Result},
    page_schema,
    service::{
        page::Page,
        webhook_worker,
        webhooks::{self, DeliveryView, EndpointPatch, NewEndpoint},
    },
    state::AppState,
};

const ORG_ID: &str = "The organization's id";
const WEBHOOK_ID: &str = "The webhook endpoint's id";

/// A webhook endpoint: where the organization's events are sent, signed per Standard Webhooks 1.0.
#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    /// The endpoint's id.
    pub id: String,
    /// Where events are POSTed.
    #[schema(format = "uri", example = "https://hooks.example.com/annexa")]
    pub url: String,
    /// What it is for.
    #[schema(example = "Jira automation")]
    pub description: Option<String>,
    /// The event types it receives.
    pub events: Vec<EventType>,
    /// Whether events are sent to it. An endpoint answering 410 Gone is disabled.
    pub enabled: bool,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// Until when the secret replaced by the last rotation still signs (a second signature).
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Incremented on every change.
    pub version: i32,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Webhook {
    fn from_model(e: entity::webhook_endpoint::Model) -> Result<Self> {
        Ok(Self {
            events: webhooks::events_of(&e)?,
            // Expired overlaps are history: say so only while the old secret still signs.
            previous_secret_expires_at: e
                .previous_secret_expires_at
                .filter(|until| *until > Utc::now()),
            id: e.id,
            url: e.url,
            description: e.description,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            version: e.version,
            created_at: e.created_at,
            updated_at: e.updated_at,
        })
    }
}

page_schema!(WebhookPage, Webhook, "A page of webhook endpoints.");

/// A webhook endpoint with its signing secret, shown only on creation and rotation.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The signing secret (`whsec_` + base64). Store it now: it is never shown again.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

/// An endpoint to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookCreate {
    /// Where to POST events: `https`, and not a loopback, private or link-local address.
    #[schema(format = "uri", example = "https://hooks.example.com/annexa")]
    pub url: String,
    /// The event types to receive (at least one).
    pub events: Vec<EventType>,
    /// What it is for.
    pub description: Option<String>,
}

/// Changes to an endpoint. Absent fields are left as they are; `null` clears the description.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookUpdate {
    /// A new URL (checked like on registration).
    #[schema(format = "uri")]
    pub url: Option<String>,
    /// The event types to receive (at least one).
    pub events: Option<Vec<EventType>>,
    /// What it is for.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub description: Option<Option<String>>,
    /// `true` re-enables a disabled endpoint (its pending deliveries go out); `false` pauses it.
    pub enabled: Option<bool>,
}

/// A secret rotation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookSecretRotation {
    /// How long the old secret keeps signing beside the new one, in seconds (default 86400,
    /// at most 604800; 0 retires it at once).
    #[schema(minimum = 0, maximum = 604800, example = 86400)]
    pub overlap_seconds: Option<u64>,
}

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

impl WebhookDelivery {
    fn from_view(view: DeliveryView) -> Result<Self> {
        let d = view.delivery;
        Ok(Self {
            event_type: EventType::parse(&d.event_type)
                .ok_or_else(|| AppError::internal("stored event type"))?,
            status: DeliveryStatus::parse(&d.status)?,
            attempts: view
                .attempts
                .into_iter()
                .map(|a| WebhookAttempt {
                    number: a.number,
                    started_at: a.started_at,
                    status_code: a.status_code,
                    duration_ms: a.duration_ms,
                    error: a.error,
                    response_excerpt: a.response_excerpt,
                    next_attempt_at: a.next_attempt_at,
                })
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

/// The body of every webhook request. Headers: `webhook-id` (the event id), `webhook-timestamp`
/// (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`,
/// space-separated when a rotated secret still signs).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookPayload {
    /// The event type.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When the event happened.
    pub timestamp: DateTime<Utc>,
    /// The resource as the API shows it (a finding, control or evidence), or for
    /// `readiness.score_changed` the framework's `score`, `level`, `previous_score`,
    /// `previous_level`, `formula_version` and `computed_at`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

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

/// The readiness baseline is taken when an endpoint starts listening to score changes, so the
/// first change after registration is announced.
async fn baseline_if_listening(state: &AppState, org_id: &str, events: &[EventType]) -> Result<()> {
    if events.contains(&EventType::ReadinessScoreChanged) {
        webhook_worker::readiness_baseline(&state.db, &state.cache, org_id).await?;
    }
    Ok(())
}

/// List webhook endpoints.
///
/// Admins. Secrets are never listed.
#[utoipa::path(
    tag = "webhooks",
    params(("org_id" = Uuid, Path, description = ORG_ID), PageQuery),
    responses(
        (status = 200, description = "A page of webhook endpoints", body = WebhookPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/webhooks")]
pub async fn webhook_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<Uuid>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let page = webhooks::list(&state.db, &principal, &path.to_string(), &page.request()?).await?;
    let next_after = page.next_after.clone();
    let items = page
        .items
        .into_iter()
        .map(Webhook::from_model)
        .collect::<Result<Vec<_>>>()?;
    Ok(list_response(&req, Page { items, next_after }))
}

/// Register a webhook endpoint.
///
/// Admins. The URL must be `https` and must not resolve to a loopback, private or link-local
/// address (unless the server runs with `ANNEXA_WEBHOOK_ALLOW_PRIVATE=true`). The answer carries
/// the signing `secret`, shown only this once.
#[utoipa::path(
    tag = "webhooks",
    request_body = WebhookCreate,
    params(("org_id" = Uuid, Path, description = ORG_ID)),
    responses(
        (status = 201, description = "The endpoint, with its secret", body = WebhookWithSecret,
            headers(("Location" = String, description = "The endpoint's URL"))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = UnprocessableEntity),
    )
)]
#[post("/webhooks")]
pub async fn webhook_create(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<Uuid>,
    body: Body<WebhookCreate>,
) -> Result<HttpResponse> {
    let org_id = path.to_string();
    let body = body.into_inner();
    let (endpoint, secret) = webhooks::create(
        &state.db,
        &principal,
        &org_id,
        state.settings.webhook_allow_private,
        NewEndpoint {
            url: body.url,
            events: body.events,
            description: body.description,
        },
    )
    .await?;
    let webhook = Webhook::from_model(endpoint)?;
    baseline_if_listening(&state, &org_id, &webhook.events).await?;
    let location = format!("{}/{}", path_of(&req), webhook.id);
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, location))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .insert_header((
            actix_web::http::header::ETAG,
            crate::service::version::etag(webhook.version),
        ))
        .json(WebhookWithSecret { webhook, secret }))
}

/// Get a webhook endpoint.
///
/// Admins. The secret is not shown.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        ("webhook_id" = Uuid, Path, description = WEBHOOK_ID),
    ),
    responses(
        (status = 200, description = "The endpoint", body = Webhook,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/webhooks/{webhook_id}")]
pub async fn webhook_get(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse> {
    let (org_id, webhook_id) = path.into_inner();
    let webhook = Webhook::from_model(
        webhooks::get(
            &state.db,
            &principal,
            &org_id.to_string(),
            &webhook_id.to_string(),
        )
        .await?,
    )?;
    Ok(ok_with_etag(webhook.version, &webhook))
}

/// Update a webhook endpoint.
///
/// Admins. Honours `If-Match`. `enabled: true` re-enables an endpoint that was disabled
/// (after a 410 Gone, or by an admin); its pending deliveries then go out.
#[utoipa::path(
    tag = "webhooks",
    request_body = WebhookUpdate,
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        ("webhook_id" = Uuid, Path, description = WEBHOOK_ID),
        IfMatchHeader,
    ),
    responses(
        (status = 200, description = "The updated endpoint", body = Webhook,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = UnprocessableEntity),
    )
)]
#[patch("/webhooks/{webhook_id}")]
pub async fn webhook_update(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
    body: Body<WebhookUpdate>,
) -> Result<HttpResponse> {
    let (org_id, webhook_id) = path.into_inner();
    let org_id = org_id.to_string();
    let body = body.into_inner();
    let endpoint = webhooks::update(
        &state.db,
        &principal,
        &org_id,
        &webhook_id.to_string(),
        state.settings.webhook_allow_private,
        if_match(&req).as_ref(),
        EndpointPatch {
            url: body.url,
            events: body.events,
            description: body.description,
            enabled: body.enabled,
        },
    )
    .await?;
    let webhook = Webhook::from_model(endpoint)?;
    baseline_if_listening(&state, &org_id, &webhook.events).await?;
    Ok(ok_with_etag(webhook.version, &webhook))
}

/// Delete a webhook endpoint.
///
/// Admins. Its queued deliveries and delivery log go with it.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        ("webhook_id" = Uuid, Path, description = WEBHOOK_ID),
    ),
    responses(
        (status = 204, description = "The endpoint was deleted"),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[delete("/webhooks/{webhook_id}")]
pub async fn webhook_delete(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse> {
    let (org_id, webhook_id) = path.into_inner();
    webhooks::delete(
        &state.db,
        &principal,
        &org_id.to_string(),
        &webhook_id.to_string(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate a webhook endpoint's secret.
///
/// Admins. Returns the new secret, shown only this once. During the overlap (default one day)
/// every request carries two signatures, one per secret, so receivers can switch without
/// rejecting events. The body is optional.
#[utoipa::path(
    tag = "webhooks",
    request_body = Option<WebhookSecretRotation>,
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        ("webhook_id" = Uuid, Path, description = WEBHOOK_ID),
    ),
    responses(
        (status = 200, description = "The endpoint, with its new secret", body = WebhookWithSecret),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = UnprocessableEntity),
    )
)]
#[post("/webhooks/{webhook_id}/rotate-secret")]
pub async fn webhook_secret_rotate(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
    body: OptionalBody<WebhookSecretRotation>,
) -> Result<HttpResponse> {
    let (org_id, webhook_id) = path.into_inner();
    let rotation = body.0.unwrap_or_default();
    let overlap = rotation
        .overlap_seconds
        .map_or(webhooks::DEFAULT_OVERLAP, std::time::Duration::from_secs);
    let (endpoint, secret) = webhooks::rotate_secret(
        &state.db,
        &principal,
        &org_id.to_string(),
        &webhook_id.to_string(),
        overlap,
    )
    .await?;
    let webhook = Webhook::from_model(endpoint)?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .insert_header((
            actix_web::http::header::ETAG,
            crate::service::version::etag(webhook.version),
        ))
        .json(WebhookWithSecret { webhook, secret }))
}

/// List an endpoint's deliveries.
///
/// Admins. Oldest first, each with its attempts: status code, duration, error and when the
/// next retry is due.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        ("webhook_id" = Uuid, Path, description = WEBHOOK_ID),
        DeliveryQuery,
    ),
    responses(
        (status = 200, description = "A page of deliveries", body = WebhookDeliveryPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/webhooks/{webhook_id}/deliveries")]
pub async fn webhook_delivery_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
    query: web::Query<DeliveryQuery>,
) -> Result<HttpResponse> {
    let (org_id, webhook_id) = path.into_inner();
    let query = query.into_inner();
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .request()?;
    let page = webhooks::deliveries(
        &state.db,
        &principal,
        &org_id.to_string(),
        &webhook_id.to_string(),
        query.status.map(DeliveryStatus::as_str),
        &page,
    )
    .await?;
    let next_after = page.next_after.clone();
    let items = page
        .items
        .into_iter()
        .map(WebhookDelivery::from_view)
        .collect::<Result<Vec<_>>>()?;
    Ok(list_response(&req, Page { items, next_after }))
}

/// Redeliver an event.
///
/// Admins. Queues the delivery's event again for the same endpoint as a new delivery with the
/// same `webhook-id` (receivers deduplicate on it). 409 when the endpoint is disabled.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        ("webhook_id" = Uuid, Path, description = WEBHOOK_ID),
        ("delivery_id" = Uuid, Path, description = "The delivery's id"),
    ),
    responses(
        (status = 202, description = "The new delivery, queued", body = WebhookDelivery),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
#[post("/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")]
pub async fn webhook_delivery_redeliver(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid, Uuid)>,
) -> Result<HttpResponse> {
    let (org_id, webhook_id, delivery_id) = path.into_inner();
    let view = webhooks::redeliver(
        &state.db,
        &principal,
        &org_id.to_string(),
        &webhook_id.to_string(),
        &delivery_id.to_string(),
    )
    .await?;
    Ok(HttpResponse::Accepted().json(WebhookDelivery::from_view(view)?))
}
