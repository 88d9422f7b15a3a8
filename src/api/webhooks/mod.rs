//! Webhook endpoints and their signing secrets (docs/webhooks.md).

// Route paths are relative to the organization's scope, `/api/v1/organizations/{org_id}`
// (see `api::configure`).

pub mod deliveries;
pub mod dto;

use actix_web::{HttpRequest, HttpResponse, delete, get, http::header, patch, post, web};

use crate::{
    api::{
        body::{Body, OptionalBody},
        extract::{Ctx, OrgItemPath, OrgPath, Precondition},
        pagination::{PageQuery, list_response, try_page},
        responses::{Conflict, Forbidden, IfMatchHeader, ok_with_etag, path_of},
    },
    domain::webhook::EventType,
    error::Result,
    service::{version::etag, webhook_worker, webhooks},
    state::AppState,
};

pub use dto::{
    WEBHOOK_ID, Webhook, WebhookCreate, WebhookPage, WebhookPayload, WebhookSecretRotation,
    WebhookUpdate, WebhookWithSecret,
};

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
    params(OrgPath, PageQuery),
    responses(
        (status = 200, description = "A page of webhook endpoints", body = WebhookPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        (status = 403, response = Forbidden),
    )
)]
#[get("/webhooks")]
pub async fn webhook_list(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let page = webhooks::list(&ctx.db, &ctx.principal, &org.0, &page.request()?).await?;
    Ok(list_response(&req, try_page::<_, Webhook>(page)?))
}

/// Register a webhook endpoint.
///
/// Admins. The URL must be `https` and must not resolve to a loopback, private or link-local
/// address (unless the server runs with `ANNEXA_WEBHOOK_ALLOW_PRIVATE=true`). The answer carries
/// the signing `secret`, shown only this once.
#[utoipa::path(
    tag = "webhooks",
    request_body = WebhookCreate,
    params(OrgPath),
    responses(
        (status = 201, description = "The endpoint, with its secret", body = WebhookWithSecret,
            headers(("Location" = String, description = "The endpoint's URL"))),
        (status = 409, response = Conflict),
    )
)]
#[post("/webhooks")]
pub async fn webhook_create(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    body: Body<WebhookCreate>,
) -> Result<HttpResponse> {
    let allow_private = ctx.settings.webhook_allow_private;
    let new = body.into_inner().into();
    let (endpoint, secret) =
        webhooks::create(&ctx.db, &ctx.principal, &org.0, allow_private, new).await?;
    let webhook = Webhook::try_from(endpoint)?;
    baseline_if_listening(&ctx, &org.0, &webhook.events).await?;
    let location = format!("{}/{}", path_of(&req), webhook.id);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::ETAG, etag(webhook.version)))
        .json(WebhookWithSecret { webhook, secret }))
}

/// Get a webhook endpoint.
///
/// Admins. The secret is not shown.
#[utoipa::path(
    tag = "webhooks",
    params(
        OrgPath,
        ("webhook_id" = Uuid, Path, description = WEBHOOK_ID),
    ),
    responses(
        (status = 200, description = "The endpoint", body = Webhook,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 403, response = Forbidden),
    )
)]
#[get("/webhooks/{webhook_id}")]
pub async fn webhook_get(ctx: Ctx, path: OrgItemPath) -> Result<HttpResponse> {
    let endpoint = webhooks::get(&ctx.db, &ctx.principal, &path.org_id, &path.item).await?;
    let webhook = Webhook::try_from(endpoint)?;
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
        OrgPath,
        ("webhook_id" = Uuid, Path, description = WEBHOOK_ID),
        IfMatchHeader,
    ),
    responses(
        (status = 200, description = "The updated endpoint", body = Webhook,
            headers(("ETag" = String, description = "The version's entity tag"))),
    )
)]
#[patch("/webhooks/{webhook_id}")]
pub async fn webhook_update(
    ctx: Ctx,
    if_match: Precondition,
    path: OrgItemPath,
    body: Body<WebhookUpdate>,
) -> Result<HttpResponse> {
    let endpoint = webhooks::update(
        &ctx.db,
        &ctx.principal,
        &path.org_id,
        &path.item,
        ctx.settings.webhook_allow_private,
        if_match.as_ref(),
        body.into_inner().into(),
    )
    .await?;
    let webhook = Webhook::try_from(endpoint)?;
    baseline_if_listening(&ctx, &path.org_id, &webhook.events).await?;
    Ok(ok_with_etag(webhook.version, &webhook))
}

/// Delete a webhook endpoint.
///
/// Admins. Its queued deliveries and delivery log go with it.
#[utoipa::path(
    tag = "webhooks",
    params(
        OrgPath,
        ("webhook_id" = Uuid, Path, description = WEBHOOK_ID),
    ),
    responses(
        (status = 204, description = "The endpoint was deleted"),
    )
)]
#[delete("/webhooks/{webhook_id}")]
pub async fn webhook_delete(ctx: Ctx, path: OrgItemPath) -> Result<HttpResponse> {
    webhooks::delete(&ctx.db, &ctx.principal, &path.org_id, &path.item).await?;
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
        OrgPath,
        ("webhook_id" = Uuid, Path, description = WEBHOOK_ID),
    ),
    responses(
        (status = 200, description = "The endpoint, with its new secret", body = WebhookWithSecret),
    )
)]
#[post("/webhooks/{webhook_id}/rotate-secret")]
pub async fn webhook_secret_rotate(
    ctx: Ctx,
    path: OrgItemPath,
    body: OptionalBody<WebhookSecretRotation>,
) -> Result<HttpResponse> {
    let overlap = body.0.unwrap_or_default().overlap();
    let (endpoint, secret) =
        webhooks::rotate_secret(&ctx.db, &ctx.principal, &path.org_id, &path.item, overlap).await?;
    let webhook = Webhook::try_from(endpoint)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::ETAG, etag(webhook.version)))
        .json(WebhookWithSecret { webhook, secret }))
}
