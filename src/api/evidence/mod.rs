//! Evidence (docs/evidence.md): its metadata and review; its file is in [`content`], its links
//! to controls in [`links`], the DTOs in [`dto`].

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
        extract::{OrgItemPath, OrgPath},
        pagination::{PageQuery, list_response, try_page},
        responses::{Conflict, IdempotencyHeader, IfMatchHeader, if_match, ok_with_etag},
    },
    domain::principal::Principal,
    error::Result,
    service::evidence::{self as service, EvidenceFilter},
    state::AppState,
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
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    org: OrgPath,
    query: web::Query<EvidenceQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let filter = EvidenceFilter::from(query.into_inner());
    let page = service::list(&state.db, &principal, &org.0, &filter, &page.request()?).await?;
    Ok(list_response(&req, try_page::<_, Evidence>(page)?))
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
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    org: OrgPath,
    body: Body<EvidenceCreate>,
) -> Result<HttpResponse> {
    create_idempotent(
        &state,
        &req,
        &principal,
        body.into_inner(),
        async |txn, body| {
            let view = service::create(txn, &principal, &org.0, body.into()).await?;
            let evidence = Evidence::try_from(view)?;
            Ok((evidence.id.clone(), evidence))
        },
    )
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
pub async fn evidence_get(
    state: web::Data<AppState>,
    principal: Principal,
    path: OrgItemPath,
) -> Result<HttpResponse> {
    let view = service::get(&state.db, &principal, &path.org_id, &path.item).await?;
    let evidence = Evidence::try_from(view)?;
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
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: OrgItemPath,
    body: Body<EvidenceUpdate>,
) -> Result<HttpResponse> {
    let patch = body.into_inner().into();
    let if_match = if_match(&req);
    let view = service::update(
        &state.db,
        &principal,
        &path.org_id,
        &path.item,
        if_match.as_ref(),
        patch,
    )
    .await?;
    let evidence = Evidence::try_from(view)?;
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
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: OrgItemPath,
) -> Result<HttpResponse> {
    let if_match = if_match(&req);
    service::archive(
        &state.db,
        &principal,
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
    state: web::Data<AppState>,
    principal: Principal,
    path: OrgItemPath,
    body: Body<EvidenceReview>,
) -> Result<HttpResponse> {
    let EvidenceReview { decision, comment } = body.into_inner();
    let view = service::review(
        &state.db,
        &principal,
        &path.org_id,
        &path.item,
        decision,
        comment,
    )
    .await?;
    let evidence = Evidence::try_from(view)?;
    Ok(ok_with_etag(evidence.version, &evidence))
}
