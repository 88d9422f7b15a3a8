//! The supplier register (docs/suppliers.md): suppliers with their data access, certifications
//! and review cadence, and their security reviews.

// Route paths are relative to the organization's scope, `/api/v1/organizations/{org_id}`
// (see `api::configure`).

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};

use crate::{
    api::{
        body::Body,
        create::create_idempotent,
        extract::{Ctx, OrgItemPath, OrgPath, Precondition},
        pagination::{PageQuery, list_response},
        responses::{Conflict, IdempotencyHeader, IfMatchHeader, ok_with_etag},
    },
    error::Result,
    service::suppliers::{self, SupplierFilter},
};

pub mod dto;
pub mod reviews;

use dto::{Supplier, SupplierCreate, SupplierPage, SupplierQuery, SupplierUpdate};

const SUPPLIER_ID: &str = "The supplier's id";

/// List suppliers.
#[utoipa::path(
    tag = "suppliers",
    params(OrgPath, SupplierQuery, PageQuery),
    responses(
        (status = 200, description = "A page of suppliers", body = SupplierPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
    )
)]
#[get("/suppliers")]
pub async fn supplier_list(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    query: web::Query<SupplierQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let filter = SupplierFilter::from(query.into_inner());
    let page = suppliers::list(&ctx.db, &ctx.principal, &org.0, &filter, &page.request()?).await?;
    Ok(list_response(&req, page.map(Supplier::from)))
}

/// Register a supplier.
///
/// Editors and admins. The name must be new in the organization, in any case (409
/// `supplier-name-taken`); `owner_id` must be a member and certification evidence evidence of
/// the organization (404 naming the field). Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "suppliers",
    request_body = SupplierCreate,
    params(OrgPath, IdempotencyHeader),
    responses(
        (status = 201, description = "The supplier was registered", body = Supplier,
            headers(("Location" = String, description = "The supplier's URL"), ("ETag" = String, description = "The version's entity tag"))),
        (status = 409, response = Conflict),
    )
)]
#[post("/suppliers")]
pub async fn supplier_create(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    body: Body<SupplierCreate>,
) -> Result<HttpResponse> {
    create_idempotent(&ctx, &req, body.into_inner(), async |txn, body| {
        let view = suppliers::create(txn, &ctx.principal, &org.0, body.into()).await?;
        let supplier = Supplier::from(view);
        Ok((supplier.id.clone(), supplier))
    })
    .await
}

/// Get a supplier.
#[utoipa::path(
    tag = "suppliers",
    params(OrgPath, ("supplier_id" = Uuid, Path, description = SUPPLIER_ID)),
    responses(
        (status = 200, description = "The supplier", body = Supplier,
            headers(("ETag" = String, description = "The version's entity tag"))),
    )
)]
#[get("/suppliers/{supplier_id}")]
pub async fn supplier_get(ctx: Ctx, path: OrgItemPath) -> Result<HttpResponse> {
    let view = suppliers::get(&ctx.db, &ctx.principal, &path.org_id, &path.item).await?;
    let supplier = Supplier::from(view);
    Ok(ok_with_etag(supplier.version, &supplier))
}

/// Update a supplier.
///
/// Editors and admins. `data_access`, `countries` and `certifications` replace their sets. A
/// patch that changes nothing writes nothing. Honours `If-Match`.
#[utoipa::path(
    tag = "suppliers",
    request_body = SupplierUpdate,
    params(OrgPath, ("supplier_id" = Uuid, Path, description = SUPPLIER_ID), IfMatchHeader),
    responses(
        (status = 200, description = "The updated supplier", body = Supplier,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 409, response = Conflict),
    )
)]
#[patch("/suppliers/{supplier_id}")]
pub async fn supplier_update(
    ctx: Ctx,
    if_match: Precondition,
    path: OrgItemPath,
    body: Body<SupplierUpdate>,
) -> Result<HttpResponse> {
    let patch = body.into_inner().into();
    let view = suppliers::update(
        &ctx.db,
        &ctx.principal,
        &path.org_id,
        &path.item,
        if_match.as_ref(),
        patch,
    )
    .await?;
    let supplier = Supplier::from(view);
    Ok(ok_with_etag(supplier.version, &supplier))
}

/// Delete a supplier.
///
/// Admins. Its reviews and risk links go with it; its assets stay, without a supplier. The
/// audit trail keeps a record.
#[utoipa::path(
    tag = "suppliers",
    params(OrgPath, ("supplier_id" = Uuid, Path, description = SUPPLIER_ID), IfMatchHeader),
    responses(
        (status = 204, description = "The supplier was deleted"),
    )
)]
#[delete("/suppliers/{supplier_id}")]
pub async fn supplier_delete(
    ctx: Ctx,
    if_match: Precondition,
    path: OrgItemPath,
) -> Result<HttpResponse> {
    suppliers::delete(
        &ctx.db,
        &ctx.principal,
        &path.org_id,
        &path.item,
        if_match.as_ref(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
