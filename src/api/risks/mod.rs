//! The risk register (docs/risks.md): the risk matrix, risks, their acceptance and the
//! registers.

// Route paths are relative to the organization's scope, `/api/v1/organizations/{org_id}`
// (see `api::configure`).

pub mod dto;
pub mod matrix;
pub mod register;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};

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
    service::risks::{self, RiskFilter, acceptance},
};

pub use dto::{AcceptanceCreate, Risk, RiskCreate, RiskPage, RiskQuery, RiskUpdate};

const RISK_ID: &str = "The risk's id";

/// List risks.
///
/// JSON pages by default. With `Accept: text/csv`, the whole risk register (every matching
/// risk, by ref) as RFC 4180 CSV with a header row; control refs and asset ids are joined with
/// `;`.
#[utoipa::path(
    tag = "risks",
    params(OrgPath, RiskQuery, PageQuery),
    responses(
        (status = 200, description = "A page of risks, or the risk register as CSV",
            content(
                (RiskPage = "application/json"),
                (String = "text/csv", example = json!(register::REGISTER_CSV_EXAMPLE)),
            ),
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow (JSON)"))),
    )
)]
#[get("/risks")]
pub async fn risk_list(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    query: web::Query<RiskQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let filter = RiskFilter::from(query.into_inner());
    if wants_csv(&req) {
        let views =
            risks::register::risk_register(&ctx.db, &ctx.principal, &org.0, &filter).await?;
        return register::register_csv(&views);
    }
    let page = risks::list(&ctx.db, &ctx.principal, &org.0, &filter, &page.request()?).await?;
    Ok(list_response(&req, page.map(Risk::from)))
}

/// Register a risk.
///
/// Editors and admins. Numbered `R-<n>` in the organization (numbers are never reused). With a
/// `template`, its wording fills what the request leaves out and its suggested controls the
/// organization has are linked as `planned`. Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "risks",
    request_body = RiskCreate,
    params(OrgPath, IdempotencyHeader),
    responses(
        (status = 201, description = "The risk was registered", body = Risk,
            headers(("Location" = String, description = "The risk's URL"), ("ETag" = String, description = "The version's entity tag"))),
    )
)]
#[post("/risks")]
pub async fn risk_create(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    body: Body<RiskCreate>,
) -> Result<HttpResponse> {
    create_idempotent(&ctx, &req, body.into_inner(), async |txn, body| {
        let view = risks::create(txn, &ctx.principal, &org.0, body.into()).await?;
        let risk = Risk::from(view);
        Ok((risk.id.clone(), risk))
    })
    .await
}

/// Get a risk.
#[utoipa::path(
    tag = "risks",
    params(OrgPath, ("risk_id" = Uuid, Path, description = RISK_ID)),
    responses(
        (status = 200, description = "The risk", body = Risk,
            headers(("ETag" = String, description = "The version's entity tag"))),
    )
)]
#[get("/risks/{risk_id}")]
pub async fn risk_get(ctx: Ctx, path: OrgItemPath) -> Result<HttpResponse> {
    let view = risks::get(&ctx.db, &ctx.principal, &path.org_id, &path.item).await?;
    let risk = Risk::from(view);
    Ok(ok_with_etag(risk.version, &risk))
}

/// Update a risk.
///
/// Editors and admins. Honours `If-Match`. Rating changes recompute the levels; changing the
/// rating or the treatment of an accepted risk clears its acceptance.
#[utoipa::path(
    tag = "risks",
    request_body = RiskUpdate,
    params(OrgPath, ("risk_id" = Uuid, Path, description = RISK_ID), IfMatchHeader),
    responses(
        (status = 200, description = "The updated risk", body = Risk,
            headers(("ETag" = String, description = "The version's entity tag"))),
    )
)]
#[patch("/risks/{risk_id}")]
pub async fn risk_update(
    ctx: Ctx,
    if_match: Precondition,
    path: OrgItemPath,
    body: Body<RiskUpdate>,
) -> Result<HttpResponse> {
    let patch = body.into_inner().into();
    let (org_id, risk_id) = (&path.org_id, &path.item);
    let view = risks::update(
        &ctx.db,
        &ctx.principal,
        org_id,
        risk_id,
        if_match.as_ref(),
        patch,
    )
    .await?;
    let risk = Risk::from(view);
    Ok(ok_with_etag(risk.version, &risk))
}

/// Delete a risk.
///
/// Admins. Its ref is never reused; the audit trail keeps a record of it.
#[utoipa::path(
    tag = "risks",
    params(OrgPath, ("risk_id" = Uuid, Path, description = RISK_ID), IfMatchHeader),
    responses(
        (status = 204, description = "The risk was deleted"),
    )
)]
#[delete("/risks/{risk_id}")]
pub async fn risk_delete(
    ctx: Ctx,
    if_match: Precondition,
    path: OrgItemPath,
) -> Result<HttpResponse> {
    risks::delete(
        &ctx.db,
        &ctx.principal,
        &path.org_id,
        &path.item,
        if_match.as_ref(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Accept a risk.
///
/// The risk's owner or an admin (others 403). Allowed when the treatment is `retain`, or
/// `modify` with the residual level above the appetite; otherwise 409
/// `acceptance-not-allowed`. Replaces any earlier acceptance.
#[utoipa::path(
    tag = "risks",
    request_body = AcceptanceCreate,
    params(OrgPath, ("risk_id" = Uuid, Path, description = RISK_ID)),
    responses(
        (status = 200, description = "The accepted risk", body = Risk,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 409, response = Conflict),
    )
)]
#[post("/risks/{risk_id}/acceptance")]
pub async fn risk_acceptance_create(
    ctx: Ctx,
    path: OrgItemPath,
    body: Body<AcceptanceCreate>,
) -> Result<HttpResponse> {
    let body = body.into_inner();
    let new = acceptance::NewAcceptance {
        justification: body.justification,
        expires_on: body.expires_on,
    };
    let view = acceptance::accept(&ctx.db, &ctx.principal, &path.org_id, &path.item, new).await?;
    let risk = Risk::from(view);
    Ok(ok_with_etag(risk.version, &risk))
}

/// Revoke a risk's acceptance.
///
/// The risk's owner or an admin. 404 when the risk has no acceptance.
#[utoipa::path(
    tag = "risks",
    params(OrgPath, ("risk_id" = Uuid, Path, description = RISK_ID)),
    responses(
        (status = 204, description = "The acceptance was revoked"),
    )
)]
#[delete("/risks/{risk_id}/acceptance")]
pub async fn risk_acceptance_delete(ctx: Ctx, path: OrgItemPath) -> Result<HttpResponse> {
    acceptance::revoke(&ctx.db, &ctx.principal, &path.org_id, &path.item).await?;
    Ok(HttpResponse::NoContent().finish())
}
