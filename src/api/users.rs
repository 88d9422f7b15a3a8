//! `/users`: platform admins create and list users.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    api::{
        body::Body,
        create::create_idempotent,
        extract::Ctx,
        pagination::{PageQuery, list_response},
        responses::{Conflict, Forbidden, IdempotencyHeader},
    },
    auth::password,
    domain::identity::check_password,
    error::{AppError, Result},
    page_schema,
    service::{authz, identity},
};

/// A user.
#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    /// The user's id (UUID v7).
    pub id: String,
    /// The email address (normalized to lowercase); the login name.
    #[schema(example = "alice@example.com")]
    pub email: String,
    /// The display name.
    #[schema(example = "Alice Martin")]
    pub name: String,
    /// Whether the user is a platform admin.
    pub is_platform_admin: bool,
    /// Incremented on every change.
    pub version: i32,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
    /// When the user last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<entity::user::Model> for User {
    fn from(u: entity::user::Model) -> Self {
        Self {
            id: u.id,
            email: u.email,
            name: u.name,
            is_platform_admin: u.is_platform_admin,
            version: u.version,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

page_schema!(UserPage, User, "A page of users.");

/// A user to create.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCreate {
    /// The email address; must be unique.
    #[schema(example = "alice@example.com")]
    pub email: String,
    /// The display name (defaults to the email).
    pub name: Option<String>,
    /// The password: at least 12 characters.
    #[schema(format = Password, min_length = 12, example = "correct horse battery")]
    pub password: String,
    /// Make the user a platform admin.
    #[serde(default)]
    pub is_platform_admin: bool,
}

/// Filters of the user list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    /// Only the user with this email.
    pub email: Option<String>,
    /// Only users changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
}

/// Create a user.
///
/// Platform admins only. The password is stored as an Argon2id hash. Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "users",
    request_body = UserCreate,
    params(IdempotencyHeader),
    responses(
        (status = 201, description = "The user was created", body = User,
            headers(("Location" = String, description = "The new user's URL"), ("ETag" = String, description = "The version's entity tag"))),
        (status = 409, response = Conflict),
    )
)]
#[post("/users")]
pub async fn user_create(
    ctx: Ctx,
    req: HttpRequest,
    body: Body<UserCreate>,
) -> Result<HttpResponse> {
    authz::require_platform_admin(&ctx.principal)?;
    let (email, name) = identity::validate_new_user(&body.email, body.name.as_deref())?;
    check_password(&body.password).map_err(|m| AppError::invalid("password", m))?;
    let password_hash = password::hash(&body.password).await?;
    create_idempotent(&ctx, &req, body.into_inner(), async |txn, body| {
        let new = identity::NewUser {
            email,
            name,
            password_hash,
            is_platform_admin: body.is_platform_admin,
        };
        let actor = ctx.principal.actor();
        let user =
            identity::insert_user(txn, &actor, ctx.principal.request_id.as_deref(), new).await?;
        Ok((user.id.clone(), User::from(user)))
    })
    .await
}

/// List users.
///
/// Platform admins only; oldest first.
#[utoipa::path(
    tag = "users",
    params(PageQuery, UserFilter),
    responses(
        (status = 200, description = "A page of users", body = UserPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        (status = 403, response = Forbidden),
    )
)]
#[get("/users")]
pub async fn user_list(
    ctx: Ctx,
    req: HttpRequest,
    page: web::Query<PageQuery>,
    filter: web::Query<UserFilter>,
) -> Result<HttpResponse> {
    let page = identity::list_users(
        &ctx.db,
        &ctx.principal,
        &page.request()?,
        filter.email.as_deref(),
        filter.updated_since,
    )
    .await?;
    Ok(list_response(&req, page.map(User::from)))
}
