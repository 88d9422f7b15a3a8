//! `/organizations`: tenants, their members and their service accounts.

// The list and creation are under `/api/v1`; every other route path is relative to the
// organization's scope, `/api/v1/organizations/{org_id}` (see `api::configure`).

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    api::{
        body::Body,
        pagination::{PageQuery, list_response},
        responses::{
            BadRequest, Conflict, Forbidden, IdempotencyHeader, IfMatchHeader, NotFound,
            PayloadTooLarge, PreconditionFailed, UnprocessableEntity, UnsupportedMediaType,
            created, created_response, idempotency_key, if_match, ok_with_etag,
        },
    },
    domain::principal::Principal,
    domain::role::Role,
    error::{AppError, Result},
    page_schema,
    service::{idempotency, identity},
    state::AppState,
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
        (status = 400, response = BadRequest),
    )
)]
#[get("/organizations")]
pub async fn organization_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    page: web::Query<PageQuery>,
    filter: web::Query<SyncFilter>,
) -> Result<HttpResponse> {
    let page = identity::list_organizations(
        &state.db,
        &principal,
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
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = UnprocessableEntity),
    )
)]
#[post("/organizations")]
pub async fn organization_create(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    body: Body<OrganizationCreate>,
) -> Result<HttpResponse> {
    crate::service::authz::require_platform_admin(&principal)?;
    let hash = idempotency::fingerprint("POST", req.path(), &*body);
    let outcome = idempotency::create_once(
        &state.db,
        &principal,
        idempotency_key(&req).as_deref(),
        &hash,
        async |txn| {
            let org = identity::create_organization(txn, &principal, &body.name).await?;
            created(
                format!("/api/v1/organizations/{}", org.id),
                &Organization::from(org),
            )
        },
    )
    .await?;
    Ok(created_response(outcome))
}

/// Get an organization.
#[utoipa::path(
    tag = "organizations",
    params(("org_id" = Uuid, Path, description = "The organization's id")),
    responses(
        (status = 200, description = "The organization", body = Organization,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[get("")]
pub async fn organization_get(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> Result<HttpResponse> {
    let org = identity::get_organization(&state.db, &principal, &path.to_string()).await?;
    Ok(ok_with_etag(org.version, &Organization::from(org)))
}

/// Update an organization.
///
/// Admins. Honours `If-Match`.
#[utoipa::path(
    tag = "organizations",
    request_body = OrganizationUpdate,
    params(
        ("org_id" = Uuid, Path, description = "The organization's id"),
        IfMatchHeader,
    ),
    responses(
        (status = 200, description = "The updated organization", body = Organization,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = UnprocessableEntity),
    )
)]
#[patch("")]
pub async fn organization_update(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<Uuid>,
    body: Body<OrganizationUpdate>,
) -> Result<HttpResponse> {
    let org = identity::update_organization(
        &state.db,
        &principal,
        &path.to_string(),
        if_match(&req).as_ref(),
        body.name.as_deref(),
    )
    .await?;
    Ok(ok_with_etag(org.version, &Organization::from(org)))
}

/// Delete an organization.
///
/// Platform admins. Deletes everything the organization owns; its audit trail is kept.
#[utoipa::path(
    tag = "organizations",
    params(
        ("org_id" = Uuid, Path, description = "The organization's id"),
        IfMatchHeader,
    ),
    responses(
        (status = 204, description = "The organization was deleted"),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
    )
)]
#[delete("")]
pub async fn organization_delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<Uuid>,
) -> Result<HttpResponse> {
    identity::delete_organization(
        &state.db,
        &principal,
        &path.to_string(),
        if_match(&req).as_ref(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------- members

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

impl Member {
    fn from_parts(m: entity::membership::Model, u: entity::user::Model) -> Result<Self> {
        Ok(Self {
            user_id: u.id,
            email: u.email,
            name: u.name,
            role: m.role,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
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
    params(("org_id" = Uuid, Path, description = "The organization's id"), PageQuery),
    responses(
        (status = 200, description = "A page of members", body = MemberPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[get("/members")]
pub async fn member_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<Uuid>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let page =
        identity::list_members(&state.db, &principal, &path.to_string(), &page.request()?).await?;
    let next_after = page.next_after.clone();
    let items = page
        .items
        .into_iter()
        .map(|(m, u)| Member::from_parts(m, u))
        .collect::<Result<Vec<_>>>()?;
    Ok(list_response(
        &req,
        crate::service::page::Page { items, next_after },
    ))
}

/// Add a member.
///
/// Admins. Gives an existing user a role in this organization (409 if already a member).
/// Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "members",
    request_body = MemberCreate,
    params(
        ("org_id" = Uuid, Path, description = "The organization's id"),
        IdempotencyHeader,
    ),
    responses(
        (status = 201, description = "The member was added", body = Member,
            headers(("Location" = String, description = "The member's URL"), ("ETag" = String, description = "The version's entity tag"))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = UnprocessableEntity),
    )
)]
#[post("/members")]
pub async fn member_create(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<Uuid>,
    body: Body<MemberCreate>,
) -> Result<HttpResponse> {
    let org_id = path.to_string();
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
    let hash = idempotency::fingerprint("POST", req.path(), &*body);
    let base = crate::api::responses::path_of(&req);
    let outcome = idempotency::create_once(
        &state.db,
        &principal,
        idempotency_key(&req).as_deref(),
        &hash,
        async |txn| {
            let (m, u) = identity::add_member(txn, &principal, &org_id, target, body.role).await?;
            let member = Member::from_parts(m, u)?;
            created(format!("{base}/{}", member.user_id), &member)
        },
    )
    .await?;
    Ok(created_response(outcome))
}

/// Get a member.
#[utoipa::path(
    tag = "members",
    params(
        ("org_id" = Uuid, Path, description = "The organization's id"),
        ("user_id" = Uuid, Path, description = "The member's user id"),
    ),
    responses(
        (status = 200, description = "The member", body = Member,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[get("/members/{user_id}")]
pub async fn member_get(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse> {
    let (org_id, user_id) = path.into_inner();
    let (m, u) = identity::get_member(
        &state.db,
        &principal,
        &org_id.to_string(),
        &user_id.to_string(),
    )
    .await?;
    let member = Member::from_parts(m, u)?;
    Ok(ok_with_etag(member.version, &member))
}

/// Change a member's role.
///
/// Admins. Demoting the last admin is 409. Honours `If-Match`.
#[utoipa::path(
    tag = "members",
    request_body = MemberUpdate,
    params(
        ("org_id" = Uuid, Path, description = "The organization's id"),
        ("user_id" = Uuid, Path, description = "The member's user id"),
        IfMatchHeader,
    ),
    responses(
        (status = 200, description = "The updated member", body = Member,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
    )
)]
#[patch("/members/{user_id}")]
pub async fn member_update(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
    body: Body<MemberUpdate>,
) -> Result<HttpResponse> {
    let (org_id, user_id) = path.into_inner();
    let (m, u) = identity::update_member(
        &state.db,
        &principal,
        &org_id.to_string(),
        &user_id.to_string(),
        if_match(&req).as_ref(),
        body.role,
    )
    .await?;
    let member = Member::from_parts(m, u)?;
    Ok(ok_with_etag(member.version, &member))
}

/// Remove a member.
///
/// Admins. Removing the last admin is 409. The user loses access at once.
#[utoipa::path(
    tag = "members",
    params(
        ("org_id" = Uuid, Path, description = "The organization's id"),
        ("user_id" = Uuid, Path, description = "The member's user id"),
        IfMatchHeader,
    ),
    responses(
        (status = 204, description = "The member was removed"),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
    )
)]
#[delete("/members/{user_id}")]
pub async fn member_delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse> {
    let (org_id, user_id) = path.into_inner();
    identity::remove_member(
        &state.db,
        &principal,
        &org_id.to_string(),
        &user_id.to_string(),
        if_match(&req).as_ref(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------- service accounts

/// A service account: a machine client of one organization with one role.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceAccount {
    /// The service account's id.
    pub id: String,
    /// Its name.
    #[schema(example = "jira-integration")]
    pub name: String,
    /// Its role in the organization.
    pub role: Role,
    /// The `client_id` for the client_credentials grant.
    pub client_id: String,
    /// Incremented on every change.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl ServiceAccount {
    fn from_model(s: entity::service_account::Model) -> Result<Self> {
        Ok(Self {
            role: s.role,
            id: s.id,
            name: s.name,
            client_id: s.client_id,
            version: s.version,
            created_at: s.created_at,
            updated_at: s.updated_at,
        })
    }
}

page_schema!(
    ServiceAccountPage,
    ServiceAccount,
    "A page of service accounts."
);

/// A newly created service account with its secret, shown only this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceAccountWithSecret {
    #[serde(flatten)]
    pub account: ServiceAccount,
    /// The secret for the client_credentials grant. Store it now: it is never shown again.
    pub client_secret: String,
}

/// A service account to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccountCreate {
    /// Its name.
    #[schema(example = "jira-integration")]
    pub name: String,
    /// Its role in the organization.
    pub role: Role,
}

/// List service accounts.
///
/// Admins. Secrets are never listed.
#[utoipa::path(
    tag = "service-accounts",
    params(("org_id" = Uuid, Path, description = "The organization's id"), PageQuery),
    responses(
        (status = 200, description = "A page of service accounts", body = ServiceAccountPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/service-accounts")]
pub async fn service_account_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<Uuid>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let page =
        identity::list_service_accounts(&state.db, &principal, &path.to_string(), &page.request()?)
            .await?;
    let next_after = page.next_after.clone();
    let items = page
        .items
        .into_iter()
        .map(ServiceAccount::from_model)
        .collect::<Result<Vec<_>>>()?;
    Ok(list_response(
        &req,
        crate::service::page::Page { items, next_after },
    ))
}

/// Create a service account.
///
/// Admins. The answer carries `client_secret`, shown only this once and stored hashed.
#[utoipa::path(
    tag = "service-accounts",
    request_body = ServiceAccountCreate,
    params(("org_id" = Uuid, Path, description = "The organization's id")),
    responses(
        (status = 201, description = "The service account, with its secret", body = ServiceAccountWithSecret,
            headers(("Location" = String, description = "The service account's URL"))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = UnprocessableEntity),
    )
)]
#[post("/service-accounts")]
pub async fn service_account_create(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<Uuid>,
    body: Body<ServiceAccountCreate>,
) -> Result<HttpResponse> {
    let (account, secret) = identity::create_service_account(
        &state.db,
        &principal,
        &path.to_string(),
        &body.name,
        body.role,
    )
    .await?;
    let location = format!("{}/{}", crate::api::responses::path_of(&req), account.id);
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, location))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(ServiceAccountWithSecret {
            account: ServiceAccount::from_model(account)?,
            client_secret: secret,
        }))
}

/// Delete a service account.
///
/// Admins. Its access tokens stop working at once.
#[utoipa::path(
    tag = "service-accounts",
    params(
        ("org_id" = Uuid, Path, description = "The organization's id"),
        ("service_account_id" = Uuid, Path, description = "The service account's id"),
    ),
    responses(
        (status = 204, description = "The service account was deleted"),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[delete("/service-accounts/{service_account_id}")]
pub async fn service_account_delete(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse> {
    let (org_id, account_id) = path.into_inner();
    identity::delete_service_account(
        &state.db,
        &principal,
        &org_id.to_string(),
        &account_id.to_string(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
