//! Members of an organization: users with a role there (docs/identity.md).

// Route paths are relative to the organization's scope, `/api/v1/organizations/{org_id}`
// (see `api::configure`).

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::{
        body::Body,
        create::create_idempotent,
        extract::{Ctx, OrgItemPath, OrgPath, Precondition},
        pagination::{PageQuery, list_response},
        responses::{Conflict, IdempotencyHeader, IfMatchHeader, ok_with_etag},
    },
    domain::role::Role,
    error::{AppError, Result},
    page_schema,
    service::identity,
};

/// A member of an organization: a user with a role there.
#[derive(Debug, Serialize, ToSchema)]
pub struct Member {
    /// The user's id.
    pub user_id: String,
    /// The user's email.
    pub email: String,
    /// The user's display name.
    pub name: String,
    /// The role in this organization.
    pub role: Role,
    /// Incremented on every change of the membership.
    pub version: i32,
    /// When the user joined.
    pub created_at: DateTime<Utc>,
    /// When the membership last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<(entity::membership::Model, entity::user::Model)> for Member {
    fn from((m, u): (entity::membership::Model, entity::user::Model)) -> Self {
        Self {
            user_id: u.id,
            email: u.email,
            name: u.name,
            role: m.role,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

page_schema!(MemberPage, Member, "A page of members.");

/// A member to add: an existing user, by `user_id` or `email`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberCreate {
    /// The user's id (or give `email`).
    pub user_id: Option<Uuid>,
    /// The user's email (or give `user_id`).
    pub email: Option<String>,
    /// The role to give.
    pub role: Role,
}

/// A change of role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberUpdate {
    /// The new role.
    pub role: Role,
}

/// List members.
#[utoipa::path(
    tag = "members",
    params(OrgPath, PageQuery),
    responses(
        (status = 200, description = "A page of members", body = MemberPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
    )
)]
#[get("/members")]
pub async fn member_list(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let page = identity::list_members(&ctx.db, &ctx.principal, &org.0, &page.request()?).await?;
    Ok(list_response(&req, page.map(Member::from)))
}

/// Add a member.
///
/// Admins. Gives an existing user a role in this organization (409 if already a member).
/// Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "members",
    request_body = MemberCreate,
    params(
        OrgPath,
        IdempotencyHeader,
    ),
    responses(
        (status = 201, description = "The member was added", body = Member,
            headers(("Location" = String, description = "The member's URL"), ("ETag" = String, description = "The version's entity tag"))),
        (status = 409, response = Conflict),
    )
)]
#[post("/members")]
pub async fn member_create(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    body: Body<MemberCreate>,
) -> Result<HttpResponse> {
    let target = match (&body.user_id, &body.email) {
        (Some(id), None) => identity::UserRef::Id(id.to_string()),
        (None, Some(email)) => identity::UserRef::Email(email.clone()),
        _ => {
            return Err(AppError::invalid(
                "user_id",
                "give exactly one of `user_id` and `email`",
            ));
        }
    };
    create_idempotent(&ctx, &req, body.into_inner(), async |txn, body| {
        let added = identity::add_member(txn, &ctx.principal, &org.0, target, body.role).await?;
        let member = Member::from(added);
        Ok((member.user_id.clone(), member))
    })
    .await
}

/// Get a member.
#[utoipa::path(
    tag = "members",
    params(
        OrgPath,
        ("user_id" = Uuid, Path, description = "The member's user id"),
    ),
    responses(
        (status = 200, description = "The member", body = Member,
            headers(("ETag" = String, description = "The version's entity tag"))),
    )
)]
#[get("/members/{user_id}")]
pub async fn member_get(ctx: Ctx, path: OrgItemPath) -> Result<HttpResponse> {
    let found = identity::get_member(&ctx.db, &ctx.principal, &path.org_id, &path.item).await?;
    let member = Member::from(found);
    Ok(ok_with_etag(member.version, &member))
}

/// Change a member's role.
///
/// Admins. Demoting the last admin is 409. Honours `If-Match`.
#[utoipa::path(
    tag = "members",
    request_body = MemberUpdate,
    params(
        OrgPath,
        ("user_id" = Uuid, Path, description = "The member's user id"),
        IfMatchHeader,
    ),
    responses(
        (status = 200, description = "The updated member", body = Member,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 409, response = Conflict),
    )
)]
#[patch("/members/{user_id}")]
pub async fn member_update(
    ctx: Ctx,
    if_match: Precondition,
    path: OrgItemPath,
    body: Body<MemberUpdate>,
) -> Result<HttpResponse> {
    let updated = identity::update_member(
        &ctx.db,
        &ctx.principal,
        &path.org_id,
        &path.item,
        if_match.as_ref(),
        body.role,
    )
    .await?;
    let member = Member::from(updated);
    Ok(ok_with_etag(member.version, &member))
}

/// Remove a member.
///
/// Admins. Removing the last admin is 409. The user loses access at once.
#[utoipa::path(
    tag = "members",
    params(
        OrgPath,
        ("user_id" = Uuid, Path, description = "The member's user id"),
        IfMatchHeader,
    ),
    responses(
        (status = 204, description = "The member was removed"),
        (status = 409, response = Conflict),
    )
)]
#[delete("/members/{user_id}")]
pub async fn member_delete(
    ctx: Ctx,
    if_match: Precondition,
    path: OrgItemPath,
) -> Result<HttpResponse> {
    identity::remove_member(
        &ctx.db,
        &ctx.principal,
        &path.org_id,
        &path.item,
        if_match.as_ref(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
