//! Adopted frameworks and controls (docs/controls.md).

// Route paths are relative to the organization's scope, `/api/v1/organizations/{org_id}`
// (see `api::configure`).

pub mod dto;
pub mod soa;

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use crate::{
    api::{
        body::Body,
        create::create_idempotent,
        extract::{Ctx, OrgItemPath, OrgPath, Precondition},
        pagination::{PageQuery, cached_list_response, list_response},
        responses::{Conflict, IdempotencyHeader, IfMatchHeader, ok_with_etag},
    },
    error::Result,
    service::{authz, controls},
};

pub use dto::{
    AdoptedFramework, AdoptedFrameworkPage, AdoptionCreate, Control, ControlCreate, ControlPage,
    ControlQuery, ControlUpdate,
};

/// List adopted frameworks.
#[utoipa::path(
    tag = "controls",
    params(OrgPath, PageQuery),
    responses(
        (status = 200, description = "A page of adopted frameworks", body = AdoptedFrameworkPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
    )
)]
#[get("/frameworks")]
pub async fn adoption_list(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let page = controls::list_adopted(&ctx.db, &ctx.principal, &org.0, &page.request()?).await?;
    Ok(list_response(&req, page.map(AdoptedFramework::from)))
}

/// Adopt a framework.
///
/// Admins. Creates one control per requirement of the framework, in one transaction.
/// Adopting a framework twice is 409. Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "controls",
    request_body = AdoptionCreate,
    params(OrgPath, IdempotencyHeader),
    responses(
        (status = 201, description = "The framework was adopted", body = AdoptedFramework,
            headers(("Location" = String, description = "The adopted framework's URL"))),
        (status = 409, response = Conflict),
    )
)]
#[post("/frameworks")]
pub async fn adoption_create(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    body: Body<AdoptionCreate>,
) -> Result<HttpResponse> {
    // Adoption runs its own transaction; the key is checked and stored around it.
    create_idempotent(&ctx, &req, body.into_inner(), async |txn, body| {
        let adoption = controls::adopt_in(txn, &ctx.principal, &org.0, &body.framework).await?;
        Ok((
            adoption.framework.key.clone(),
            AdoptedFramework::from(adoption),
        ))
    })
    .await
}

/// Get an adopted framework.
#[utoipa::path(
    tag = "controls",
    params(
        OrgPath,
        ("key" = String, Path, description = "The framework's key", example = "iso27001-2022"),
    ),
    responses(
        (status = 200, description = "The adopted framework", body = AdoptedFramework),
    )
)]
#[get("/frameworks/{key}")]
pub async fn adoption_get(ctx: Ctx, path: OrgItemPath<String>) -> Result<HttpResponse> {
    let adoption = controls::get_adopted(&ctx.db, &ctx.principal, &path.org_id, &path.item).await?;
    Ok(HttpResponse::Ok().json(AdoptedFramework::from(adoption)))
}

/// List controls.
#[utoipa::path(
    tag = "controls",
    params(OrgPath, ControlQuery, PageQuery),
    responses(
        (status = 200, description = "A page of controls", body = ControlPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
    )
)]
#[get("/controls")]
pub async fn control_list(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    query: web::Query<ControlQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let filter = controls::ControlFilter::from(query.into_inner());
    let page = page.request()?;
    let org_id = org.0;
    let version = authz::readable_version(&ctx.db, &ctx.principal, &org_id).await?;
    cached_list_response(&ctx.cache, &req, &org_id, version, async || {
        let (page, fresh_until) =
            controls::list_at(&ctx.db, &ctx.cache, &org_id, version, &filter, &page).await?;
        Ok((page.map(Control::from), fresh_until))
    })
    .await
}

/// Add a custom control.
///
/// Editors and admins. The framework must be adopted; the ref must be new in it (409).
/// Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "controls",
    request_body = ControlCreate,
    params(OrgPath, IdempotencyHeader),
    responses(
        (status = 201, description = "The control was created", body = Control,
            headers(("Location" = String, description = "The control's URL"), ("ETag" = String, description = "The version's entity tag"))),
        (status = 409, response = Conflict),
    )
)]
#[post("/controls")]
pub async fn control_create(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    body: Body<ControlCreate>,
) -> Result<HttpResponse> {
    create_idempotent(&ctx, &req, body.into_inner(), async |txn, body| {
        let view = controls::create_custom(txn, &ctx.principal, &org.0, body.into()).await?;
        let control = Control::from(view);
        Ok((control.id.clone(), control))
    })
    .await
}

/// Get a control.
#[utoipa::path(
    tag = "controls",
    params(OrgPath, ("control_id" = Uuid, Path, description = "The control's id")),
    responses(
        (status = 200, description = "The control", body = Control,
            headers(("ETag" = String, description = "The version's entity tag"))),
    )
)]
#[get("/controls/{control_id}")]
pub async fn control_get(ctx: Ctx, path: OrgItemPath) -> Result<HttpResponse> {
    let view = controls::get(
        &ctx.db,
        &ctx.cache,
        &ctx.principal,
        &path.org_id,
        &path.item,
    )
    .await?;
    let control = Control::from(view);
    Ok(ok_with_etag(control.version, &control))
}

/// Update a control.
///
/// Editors and admins. Honours `If-Match` (412 when the control changed since it was read).
/// Every change is recorded in the audit trail with the old and new values.
#[utoipa::path(
    tag = "controls",
    request_body = ControlUpdate,
    params(
        OrgPath,
        ("control_id" = Uuid, Path, description = "The control's id"),
        IfMatchHeader,
    ),
    responses(
        (status = 200, description = "The updated control", body = Control,
            headers(("ETag" = String, description = "The version's entity tag"))),
    )
)]
#[patch("/controls/{control_id}")]
pub async fn control_update(
    ctx: Ctx,
    if_match: Precondition,
    path: OrgItemPath,
    body: Body<ControlUpdate>,
) -> Result<HttpResponse> {
    let patch = body.into_inner().into();
    let view = controls::update(
        &ctx.db,
        &ctx.principal,
        &path.org_id,
        &path.item,
        if_match.as_ref(),
        patch,
    )
    .await?;
    let control = Control::from(view);
    Ok(ok_with_etag(control.version, &control))
}
