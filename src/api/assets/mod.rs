//! The asset inventory (docs/assets.md): assets with their lineage, as JSON pages or one CSV
//! document.

// Route paths are relative to the organization's scope, `/api/v1/organizations/{org_id}`
// (see `api::configure`).

use actix_web::{HttpRequest, HttpResponse, delete, get, http::header, patch, post, web};

use crate::{
    api::{
        body::Body,
        controls::soa::wants_csv,
        create::create_idempotent,
        extract::{Ctx, OrgItemPath, OrgPath, Precondition},
        pagination::{PageQuery, list_response},
        responses::{Conflict, IdempotencyHeader, IfMatchHeader, ok_with_etag},
    },
    error::Result,
    service::assets::{self, AssetFilter},
};

pub mod bom;
pub mod csv;
pub mod dto;

use dto::{Asset, AssetCreate, AssetLineage, AssetPage, AssetQuery, AssetUpdate};

const ASSET_ID: &str = "The asset's id";

/// List assets.
///
/// A page of JSON by default; with `Accept: text/csv`, the whole inventory matching the
/// filters as one RFC 4180 document with a header row (not paged; lists joined with `;`);
/// with `Accept: application/vnd.cyclonedx+json`, the whole inventory matching the filters as
/// a CycloneDX 1.6 BOM (docs/cyclonedx.md).
#[utoipa::path(
    tag = "assets",
    params(OrgPath, AssetQuery, PageQuery),
    responses(
        (status = 200, description = "A page of assets, or the inventory as CSV or as a CycloneDX BOM",
            content(
                (AssetPage = "application/json"),
                (String = "text/csv", example = json!(csv::ASSET_CSV_EXAMPLE)),
                (bom::CycloneDxBom = "application/vnd.cyclonedx+json"),
            ),
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow (JSON)"))),
    )
)]
#[get("/assets")]
pub async fn asset_list(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    query: web::Query<AssetQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let filter = AssetFilter::from(query.into_inner());
    if bom::wants_cyclonedx(&req) {
        return bom::export(&ctx, &org.0, &filter).await;
    }
    if wants_csv(&req) {
        let rows = assets::inventory(&ctx.db, &ctx.principal, &org.0, &filter).await?;
        let rows: Vec<Asset> = rows.into_iter().map(Asset::from).collect();
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"assets.csv\"",
            ))
            .body(csv::inventory_csv(&rows)?));
    }
    let page = assets::list(&ctx.db, &ctx.principal, &org.0, &filter, &page.request()?).await?;
    Ok(list_response(&req, page.map(Asset::from)))
}

/// Register an asset.
///
/// Editors and admins. An `external_ref` must be new in the organization (409); `owner_id`
/// must be a member and `derived_from` assets of the organization (404 naming the field).
/// Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "assets",
    request_body = AssetCreate,
    params(OrgPath, IdempotencyHeader),
    responses(
        (status = 201, description = "The asset was registered", body = Asset,
            headers(("Location" = String, description = "The asset's URL"), ("ETag" = String, description = "The version's entity tag"))),
        (status = 409, response = Conflict),
    )
)]
#[post("/assets")]
pub async fn asset_create(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    body: Body<AssetCreate>,
) -> Result<HttpResponse> {
    create_idempotent(&ctx, &req, body.into_inner(), async |txn, body| {
        let view = assets::create(txn, &ctx.principal, &org.0, body.into()).await?;
        let asset = Asset::from(view);
        Ok((asset.id.clone(), asset))
    })
    .await
}

/// Get an asset.
#[utoipa::path(
    tag = "assets",
    params(OrgPath, ("asset_id" = Uuid, Path, description = ASSET_ID)),
    responses(
        (status = 200, description = "The asset", body = Asset,
            headers(("ETag" = String, description = "The version's entity tag"))),
    )
)]
#[get("/assets/{asset_id}")]
pub async fn asset_get(ctx: Ctx, path: OrgItemPath) -> Result<HttpResponse> {
    let view = assets::get(&ctx.db, &ctx.principal, &path.org_id, &path.item).await?;
    let asset = Asset::from(view);
    Ok(ok_with_etag(asset.version, &asset))
}

/// Update an asset.
///
/// Editors and admins. `derived_from` and `locations` replace their sets; a lineage cycle is
/// 422 `lineage-cycle`. A patch that changes nothing writes nothing. Honours `If-Match`.
#[utoipa::path(
    tag = "assets",
    request_body = AssetUpdate,
    params(OrgPath, ("asset_id" = Uuid, Path, description = ASSET_ID), IfMatchHeader),
    responses(
        (status = 200, description = "The updated asset", body = Asset,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 409, response = Conflict),
    )
)]
#[patch("/assets/{asset_id}")]
pub async fn asset_update(
    ctx: Ctx,
    if_match: Precondition,
    path: OrgItemPath,
    body: Body<AssetUpdate>,
) -> Result<HttpResponse> {
    let patch = body.into_inner().into();
    let view = assets::update(
        &ctx.db,
        &ctx.principal,
        &path.org_id,
        &path.item,
        if_match.as_ref(),
        patch,
    )
    .await?;
    let asset = Asset::from(view);
    Ok(ok_with_etag(asset.version, &asset))
}

/// Delete an asset.
///
/// Admins. Its lineage links and risk links go with it; the audit trail keeps a record.
#[utoipa::path(
    tag = "assets",
    params(OrgPath, ("asset_id" = Uuid, Path, description = ASSET_ID), IfMatchHeader),
    responses(
        (status = 204, description = "The asset was deleted"),
    )
)]
#[delete("/assets/{asset_id}")]
pub async fn asset_delete(
    ctx: Ctx,
    if_match: Precondition,
    path: OrgItemPath,
) -> Result<HttpResponse> {
    assets::delete(
        &ctx.db,
        &ctx.principal,
        &path.org_id,
        &path.item,
        if_match.as_ref(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Get an asset's lineage.
///
/// Every asset it is derived from (`ancestors`) and every asset derived from it
/// (`descendants`), at any depth, each at its shortest distance (`depth` 1 = direct).
#[utoipa::path(
    tag = "assets",
    params(OrgPath, ("asset_id" = Uuid, Path, description = ASSET_ID)),
    responses(
        (status = 200, description = "The asset's lineage", body = AssetLineage),
    )
)]
#[get("/assets/{asset_id}/lineage")]
pub async fn asset_lineage_get(ctx: Ctx, path: OrgItemPath) -> Result<HttpResponse> {
    let lineage = assets::lineage(&ctx.db, &ctx.principal, &path.org_id, &path.item).await?;
    Ok(HttpResponse::Ok().json(AssetLineage::from(lineage)))
}
