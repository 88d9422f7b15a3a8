//! A supplier's security reviews: their bodies and handlers.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::{
        body::Body,
        create::create_idempotent,
        extract::{Ctx, OrgItemPath, OrgPath, OrgSubItemPath, Precondition},
        pagination::{PageQuery, list_response},
        responses::{Conflict, IdempotencyHeader, IfMatchHeader, ok_with_etag},
    },
    domain::supplier::{ReviewDecision, SupplierReviewStatus},
    error::{AppError, Result},
    page_schema,
    service::suppliers::reviews::{self, NewReview, ReviewPatch, ReviewView},
};

const SUPPLIER_ID: &str = "The supplier's id";
const REVIEW_ID: &str = "The review's id";

/// A security review of a supplier.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierReview {
    /// The review's id.
    pub id: String,
    /// The supplier reviewed.
    pub supplier_id: String,
    /// When it is due.
    pub due: NaiveDate,
    /// Where it stands.
    pub status: SupplierReviewStatus,
    /// Its outcome, once completed.
    pub decision: Option<ReviewDecision>,
    /// The conditions of an `approved_with_conditions` decision.
    pub conditions: Option<String>,
    /// The user id of the reviewing auditor or admin.
    pub reviewer_id: Option<String>,
    /// The evidence it rests on, sorted.
    pub evidence_ids: Vec<String>,
    /// When it was completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Incremented on every change; the `ETag` is `"<version>"`.
    pub version: i32,
    /// When it was planned.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<ReviewView> for SupplierReview {
    fn from(view: ReviewView) -> Self {
        let r = view.review;
        Self {
            id: r.id,
            supplier_id: r.supplier_id,
            due: r.due,
            status: r.status,
            decision: r.decision,
            conditions: r.conditions,
            reviewer_id: r.reviewer_id,
            evidence_ids: view.evidence_ids,
            completed_at: r.completed_at,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl crate::service::webhooks::EventResource for ReviewView {
    fn event_data(&self) -> Result<serde_json::Value> {
        serde_json::to_value(SupplierReview::from(self.clone())).map_err(AppError::internal)
    }
}

page_schema!(
    SupplierReviewPage,
    SupplierReview,
    "A page of supplier reviews."
);

fn default_status() -> SupplierReviewStatus {
    SupplierReviewStatus::Planned
}

/// A review to plan.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierReviewCreate {
    /// When it is due.
    #[schema(example = "2026-12-31")]
    pub due: NaiveDate,
    /// Where it stands (default `planned`); `completed` follows the completion rules.
    #[serde(default = "default_status")]
    #[schema(default = "planned")]
    pub status: SupplierReviewStatus,
    /// Its outcome: only with `completed`, where it is required.
    pub decision: Option<ReviewDecision>,
    /// Conditions, required for `approved_with_conditions`.
    pub conditions: Option<String>,
    /// The user id of an auditor or admin of the organization who does not own the supplier
    /// (404 when not a member, 422 otherwise); required to complete.
    pub reviewer_id: Option<Uuid>,
    /// Evidence of the organization the review rests on (404 naming `evidence_ids`).
    #[serde(default)]
    pub evidence_ids: Vec<Uuid>,
}

fn ids(ids: &[Uuid]) -> Vec<String> {
    ids.iter().map(Uuid::to_string).collect()
}

impl From<SupplierReviewCreate> for NewReview {
    fn from(c: SupplierReviewCreate) -> Self {
        Self {
            due: c.due,
            status: c.status,
            decision: c.decision,
            conditions: c.conditions,
            reviewer_id: c.reviewer_id.map(|id| id.to_string()),
            evidence_ids: ids(&c.evidence_ids),
        }
    }
}

/// Changes to a review. Absent fields are left as they are; `null` clears a nullable field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierReviewUpdate {
    /// New due date.
    pub due: Option<NaiveDate>,
    /// New status: `planned → in_progress | completed`, `in_progress → completed | planned`
    /// (409 `invalid-transition` otherwise). Completing needs a `decision` and a reviewer, and
    /// is for the reviewer or an admin (403).
    pub status: Option<SupplierReviewStatus>,
    /// The outcome, with `completed`.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<ReviewDecision>, nullable)]
    pub decision: Option<Option<ReviewDecision>>,
    /// Conditions of an `approved_with_conditions` decision.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub conditions: Option<Option<String>>,
    /// New reviewer: an auditor or admin who does not own the supplier.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub reviewer_id: Option<Option<Uuid>>,
    /// The evidence (replaces the set).
    pub evidence_ids: Option<Vec<Uuid>>,
}

impl From<SupplierReviewUpdate> for ReviewPatch {
    fn from(u: SupplierReviewUpdate) -> Self {
        Self {
            due: u.due,
            status: u.status,
            decision: u.decision,
            conditions: u.conditions,
            reviewer_id: u.reviewer_id.map(|o| o.map(|id| id.to_string())),
            evidence_ids: u.evidence_ids.as_deref().map(ids),
        }
    }
}

/// List a supplier's security reviews.
#[utoipa::path(
    tag = "suppliers",
    params(OrgPath, ("supplier_id" = Uuid, Path, description = SUPPLIER_ID), PageQuery),
    responses(
        (status = 200, description = "A page of reviews, oldest first", body = SupplierReviewPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
    )
)]
#[get("/suppliers/{supplier_id}/reviews")]
pub async fn supplier_review_list(
    ctx: Ctx,
    req: HttpRequest,
    path: OrgItemPath,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let page = page.request()?;
    let page = reviews::list(&ctx.db, &ctx.principal, &path.org_id, &path.item, &page).await?;
    Ok(list_response(&req, page.map(SupplierReview::from)))
}

/// Plan a security review of a supplier.
///
/// Editors, auditors and admins. A review created `completed` follows the completion rules
/// (decision, reviewer; the reviewer or an admin). Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "suppliers",
    request_body = SupplierReviewCreate,
    params(OrgPath, ("supplier_id" = Uuid, Path, description = SUPPLIER_ID), IdempotencyHeader),
    responses(
        (status = 201, description = "The review was planned", body = SupplierReview,
            headers(("Location" = String, description = "The review's URL"), ("ETag" = String, description = "The version's entity tag"))),
    )
)]
#[post("/suppliers/{supplier_id}/reviews")]
pub async fn supplier_review_create(
    ctx: Ctx,
    req: HttpRequest,
    path: OrgItemPath,
    body: Body<SupplierReviewCreate>,
) -> Result<HttpResponse> {
    create_idempotent(&ctx, &req, body.into_inner(), async |txn, body| {
        let view =
            reviews::create(txn, &ctx.principal, &path.org_id, &path.item, body.into()).await?;
        let review = SupplierReview::from(view);
        Ok((review.id.clone(), review))
    })
    .await
}

/// Get a security review.
#[utoipa::path(
    tag = "suppliers",
    params(
        OrgPath,
        ("supplier_id" = Uuid, Path, description = SUPPLIER_ID),
        ("review_id" = Uuid, Path, description = REVIEW_ID),
    ),
    responses(
        (status = 200, description = "The review", body = SupplierReview,
            headers(("ETag" = String, description = "The version's entity tag"))),
    )
)]
#[get("/suppliers/{supplier_id}/reviews/{review_id}")]
pub async fn supplier_review_get(ctx: Ctx, path: OrgSubItemPath) -> Result<HttpResponse> {
    let view = reviews::get(
        &ctx.db,
        &ctx.principal,
        &path.org_id,
        &path.item,
        &path.sub_item,
    )
    .await?;
    let review = SupplierReview::from(view);
    Ok(ok_with_etag(review.version, &review))
}

/// Update a security review.
///
/// Editors, auditors and admins; completing is for the review's reviewer or an admin (403),
/// needs a `decision` (and `conditions` for `approved_with_conditions`) and sets
/// `completed_at`. A completed review is final (409 `invalid-transition`). Honours `If-Match`.
#[utoipa::path(
    tag = "suppliers",
    request_body = SupplierReviewUpdate,
    params(
        OrgPath,
        ("supplier_id" = Uuid, Path, description = SUPPLIER_ID),
        ("review_id" = Uuid, Path, description = REVIEW_ID),
        IfMatchHeader,
    ),
    responses(
        (status = 200, description = "The updated review", body = SupplierReview,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 409, response = Conflict),
    )
)]
#[patch("/suppliers/{supplier_id}/reviews/{review_id}")]
pub async fn supplier_review_update(
    ctx: Ctx,
    if_match: Precondition,
    path: OrgSubItemPath,
    body: Body<SupplierReviewUpdate>,
) -> Result<HttpResponse> {
    let ids = (
        path.org_id.as_str(),
        path.item.as_str(),
        path.sub_item.as_str(),
    );
    let view = reviews::update(
        &ctx.db,
        &ctx.principal,
        ids,
        if_match.as_ref(),
        body.into_inner().into(),
    )
    .await?;
    let review = SupplierReview::from(view);
    Ok(ok_with_etag(review.version, &review))
}
