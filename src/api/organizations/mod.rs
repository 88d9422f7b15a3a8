//! `/organizations`: the tenants (docs/identity.md).

// The list and creation are under `/api/v1`; every other route path is relative to the
// organization's scope, `/api/v1/organizations/{org_id}` (see `api::configure`).

pub mod members;
pub mod service_accounts;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    api::{
        body::Body,
        create::create_idempotent,
        extract::{Ctx, OrgPath, Precondition},
        pagination::{PageQuery, list_response},
        responses::{IdempotencyHeader, IfMatchHeader, ok_with_etag},
    },
    error::Result,
    page_schema,
    service::{authz, identity},
};

/// An organization: the tenant that owns controls, evidence and findings.
#[derive(Debug, Serialize, ToSchema)]
pub struct Organization {
    /// The organization's id (UUID v7).
    pub id: String,
    /// Its name.
    #[schema(example = "Acme AI")]
    pub name: String,
    /// Incremented on every change.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<entity::organization::Model> for Organization {
    fn from(o: entity::organization::Model) -> Self {
        Self {
            id: o.id,
            name: o.name,
            version: o.version,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

page_schema!(OrganizationPage, Organization, "A page of organizations.");

/// An organization to create.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationCreate {
    /// Its name (1–200 characters).
    #[schema(example = "Acme AI")]
    pub name: String,
}

/// Changes to an organization.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationUpdate {
    /// A new name (1–200 characters).
    pub name: Option<String>,
}

/// Only items changed at or after a time.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SyncFilter {
    /// Only items changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
}

/// List organizations.
///
/// Platform admins see every organization; other users the ones they belong to; a service
/// account its own.
#[utoipa::path(
    tag = "organizations",
    params(PageQuery, SyncFilter),
    responses(
        (status = 200, description = "A page of organizations", body = OrganizationPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
    )
)]
#[get("/organizations")]
pub async fn organization_list(
    ctx: Ctx,
    req: HttpRequest,
    page: web::Query<PageQuery>,
    filter: web::Query<SyncFilter>,
) -> Result<HttpResponse> {
    let page = identity::list_organizations(
        &ctx.db,
        &ctx.principal,
        &page.request()?,
        filter.updated_since,
    )
    .await?;
    Ok(list_response(&req, page.map(Organization::from)))
}

/// Create an organization.
///
/// Platform admins only. No membership is created: add the organization's first admin with
/// `POST /organizations/{org_id}/members`. Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "organizations",
    request_body = OrganizationCreate,
    params(IdempotencyHeader),
    responses(
        (status = 201, description = "The organization was created", body = Organization,
            headers(("Location" = String, description = "The new organization's URL"), ("ETag" = String, description = "The version's entity tag"))),
    )
)]
#[post("/organizations")]
pub async fn organization_create(
    ctx: Ctx,
    req: HttpRequest,
    body: Body<OrganizationCreate>,
) -> Result<HttpResponse> {
    authz::require_platform_admin(&ctx.principal)?;
    create_idempotent(&ctx, &req, body.into_inner(), async |txn, body| {
        let org = identity::create_organization(txn, &ctx.principal, &body.name).await?;
        Ok((org.id.clone(), Organization::from(org)))
    })
    .await
}

/// Get an organization.
#[utoipa::path(
    tag = "organizations",
    params(OrgPath),
    responses(
        (status = 200, description = "The organization", body = Organization,
            headers(("ETag" = String, description = "The version's entity tag"))),
    )
)]
#[get("")]
pub async fn organization_get(ctx: Ctx, org: OrgPath) -> Result<HttpResponse> {
    let org = identity::get_organization(&ctx.db, &ctx.principal, &org.0).await?;
    Ok(ok_with_etag(org.version, &Organization::from(org)))
}

/// Update an organization.
///
/// Admins. Honours `If-Match`.
#[utoipa::path(
    tag = "organizations",
    request_body = OrganizationUpdate,
    params(
        OrgPath,
        IfMatchHeader,
    ),
    responses(
        (status = 200, description = "The updated organization", body = Organization,
            headers(("ETag" = String, description = "The version's entity tag"))),
    )
)]
#[patch("")]
pub async fn organization_update(
    ctx: Ctx,
    if_match: Precondition,
    org: OrgPath,
    body: Body<OrganizationUpdate>,
) -> Result<HttpResponse> {
    let name = body.name.as_deref();
    let org =
        identity::update_organization(&ctx.db, &ctx.principal, &org.0, if_match.as_ref(), name)
            .await?;
    Ok(ok_with_etag(org.version, &Organization::from(org)))
}

/// Delete an organization.
///
/// Platform admins. Deletes everything the organization owns; its audit trail is kept.
#[utoipa::path(
    tag = "organizations",
    params(
        OrgPath,
        IfMatchHeader,
    ),
    responses(
        (status = 204, description = "The organization was deleted"),
    )
)]
#[delete("")]
pub async fn organization_delete(
    ctx: Ctx,
    if_match: Precondition,
    org: OrgPath,
) -> Result<HttpResponse> {
    identity::delete_organization(&ctx.db, &ctx.principal, &org.0, if_match.as_ref()).await?;
    Ok(HttpResponse::NoContent().finish())
}
