//! Links between evidence and controls (docs/evidence.md).

// Route paths are relative to the organization's scope, `/api/v1/organizations/{org_id}`
// (see `api::configure`).

use actix_web::{HttpRequest, HttpResponse, delete, get, put, web};

use crate::{
    api::{
        evidence::dto::{EVIDENCE_ID, Evidence, EvidencePage},
        extract::{Ctx, OrgItemPath, OrgPath, OrgSubItemPath},
        pagination::{PageQuery, list_response},
        responses::Conflict,
    },
    error::Result,
    service::evidence as service,
};

/// List a control's evidence.
#[utoipa::path(
    tag = "evidence",
    params(
        OrgPath,
        ("control_id" = Uuid, Path, description = "The control's id"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of the control's evidence", body = EvidencePage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
    )
)]
#[get("/controls/{control_id}/evidence")]
pub async fn control_evidence_list(
    ctx: Ctx,
    req: HttpRequest,
    path: OrgItemPath,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let page = page.request()?;
    let page =
        service::list_for_control(&ctx.db, &ctx.principal, &path.org_id, &path.item, &page).await?;
    Ok(list_response(&req, page.map(Evidence::from)))
}

/// Link evidence to a control.
///
/// Editors and admins. Both must belong to the organization. Linking twice is harmless.
#[utoipa::path(
    tag = "evidence",
    params(
        OrgPath,
        ("control_id" = Uuid, Path, description = "The control's id"),
        ("evidence_id" = Uuid, Path, description = EVIDENCE_ID),
    ),
    responses(
        (status = 204, description = "The evidence is linked"),
        (status = 409, response = Conflict),
    )
)]
#[put("/controls/{control_id}/evidence/{evidence_id}")]
pub async fn control_evidence_link(ctx: Ctx, path: OrgSubItemPath) -> Result<HttpResponse> {
    let OrgSubItemPath {
        org_id,
        item: control_id,
        sub_item: evidence_id,
    } = path;
    service::link(&ctx.db, &ctx.principal, &org_id, &control_id, &evidence_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Unlink evidence from a control.
///
/// Editors and admins. Unlinking what is not linked is harmless.
#[utoipa::path(
    tag = "evidence",
    params(
        OrgPath,
        ("control_id" = Uuid, Path, description = "The control's id"),
        ("evidence_id" = Uuid, Path, description = EVIDENCE_ID),
    ),
    responses(
        (status = 204, description = "The evidence is not linked"),
    )
)]
#[delete("/controls/{control_id}/evidence/{evidence_id}")]
pub async fn control_evidence_unlink(ctx: Ctx, path: OrgSubItemPath) -> Result<HttpResponse> {
    let OrgSubItemPath {
        org_id,
        item: control_id,
        sub_item: evidence_id,
    } = path;
    service::unlink(&ctx.db, &ctx.principal, &org_id, &control_id, &evidence_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
