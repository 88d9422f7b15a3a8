//! Evidence metadata and its review (docs/evidence.md).

// Route paths are relative to the organization's scope, `/api/v1/organizations/{org_id}`
// (see `api::configure`).

pub mod content;
pub mod dto;
pub mod links;

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
    service::evidence::{self as service, EvidenceFilter},
};

pub use dto::{
    EVIDENCE_ID, Evidence, EvidenceContent, EvidenceCreate, EvidencePage, EvidenceQuery,
    EvidenceReview, EvidenceUpdate, FileBytes,
};

/// List evidence.
///
/// Archived evidence is not listed.
#[utoipa::path(
    tag = "evidence",
    params(OrgPath, EvidenceQuery, PageQuery),
    responses(
        (status = 200, description = "A page of evidence", body = EvidencePage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
    )
)]
#[get("/evidence")]
pub async fn evidence_list(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    query: web::Query<EvidenceQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let filter = EvidenceFilter::from(query.into_inner());
    let page = service::list(&ctx.db, &ctx.principal, &org.0, &filter, &page.request()?).await?;
    Ok(list_response(&req, page.map(Evidence::from)))
}

/// Create evidence.
///
/// Editors and admins. Starts `pending` review; upload the file with `PUT …/content`.
/// Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "evidence",
    request_body = EvidenceCreate,
    params(OrgPath, IdempotencyHeader),
    responses(
        (status = 201, description = "The evidence was created", body = Evidence,
            headers(("Location" = String, description = "The evidence's URL"), ("ETag" = String, description = "The version's entity tag"))),
    )
)]
#[post("/evidence")]
pub async fn evidence_create(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    body: Body<EvidenceCreate>,
) -> Result<HttpResponse> {
    create_idempotent(&ctx, &req, body.into_inner(), async |txn, body| {
        let view = service::create(txn, &ctx.principal, &org.0, body.into()).await?;
        let evidence = Evidence::from(view);
        Ok((evidence.id.clone(), evidence))
    })
    .await
}

/// Get evidence.
///
/// Archived evidence is still returned, with `archived_at` set.
#[utoipa::path(
    tag = "evidence",
    params(OrgPath, ("evidence_id" = Uuid, Path, description = EVIDENCE_ID)),
    responses(
        (status = 200, description = "The evidence", body = Evidence,
            headers(("ETag" = String, description = "The version's entity tag"))),
    )
)]
#[get("/evidence/{evidence_id}")]
pub async fn evidence_get(ctx: Ctx, path: OrgItemPath) -> Result<HttpResponse> {
    let view = service::get(&ctx.db, &ctx.principal, &path.org_id, &path.item).await?;
    let evidence = Evidence::from(view);
    Ok(ok_with_etag(evidence.version, &evidence))
}

/// Update evidence.
///
/// Editors and admins. Changing `valid_until` of accepted evidence returns it to `pending`.
/// Honours `If-Match`.
#[utoipa::path(
    tag = "evidence",
    request_body = EvidenceUpdate,
    params(
        OrgPath,
        ("evidence_id" = Uuid, Path, description = EVIDENCE_ID),
        IfMatchHeader,
    ),
    responses(
        (status = 200, description = "The updated evidence", body = Evidence,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 409, response = Conflict),
    )
)]
#[patch("/evidence/{evidence_id}")]
pub async fn evidence_update(
    ctx: Ctx,
    if_match: Precondition,
    path: OrgItemPath,
    body: Body<EvidenceUpdate>,
) -> Result<HttpResponse> {
    let patch = body.into_inner().into();
    let view = service::update(
        &ctx.db,
        &ctx.principal,
        &path.org_id,
        &path.item,
        if_match.as_ref(),
        patch,
    )
    .await?;
    let evidence = Evidence::from(view);
    Ok(ok_with_etag(evidence.version, &evidence))
}

/// Archive evidence.
///
/// Admins. The evidence is kept (and stays in the audit trail) but is hidden from lists and
/// no longer counts for readiness. Archiving twice is harmless.
#[utoipa::path(
    tag = "evidence",
    params(
        OrgPath,
        ("evidence_id" = Uuid, Path, description = EVIDENCE_ID),
        IfMatchHeader,
    ),
    responses(
        (status = 204, description = "The evidence was archived"),
    )
)]
#[delete("/evidence/{evidence_id}")]
pub async fn evidence_delete(
    ctx: Ctx,
    if_match: Precondition,
    path: OrgItemPath,
) -> Result<HttpResponse> {
    service::archive(
        &ctx.db,
        &ctx.principal,
        &path.org_id,
        &path.item,
        if_match.as_ref(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Review evidence.
///
/// Auditors and admins accept or reject evidence. Nobody reviews evidence they submitted
/// themselves (segregation of duties, ISO 27001 A.5.3): that is 403.
#[utoipa::path(
    tag = "evidence",
    request_body = EvidenceReview,
    params(OrgPath, ("evidence_id" = Uuid, Path, description = EVIDENCE_ID)),
    responses(
        (status = 200, description = "The reviewed evidence", body = Evidence,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 409, response = Conflict),
    )
)]
#[post("/evidence/{evidence_id}/review")]
pub async fn evidence_review(
    ctx: Ctx,
    path: OrgItemPath,
    body: Body<EvidenceReview>,
) -> Result<HttpResponse> {
    let EvidenceReview { decision, comment } = body.into_inner();
    let view = service::review(
        &ctx.db,
        &ctx.principal,
        &path.org_id,
        &path.item,
        decision,
        comment,
    )
    .await?;
    let evidence = Evidence::from(view);
    Ok(ok_with_etag(evidence.version, &evidence))
}
