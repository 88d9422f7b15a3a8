//! Service accounts: machine clients of one organization with one role (docs/identity.md).

// Route paths are relative to the organization's scope, `/api/v1/organizations/{org_id}`
// (see `api::configure`).

use actix_web::{HttpRequest, HttpResponse, delete, get, http::header, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    api::{
        body::Body,
        extract::{Ctx, OrgItemPath, OrgPath},
        pagination::{PageQuery, list_response},
        responses::{Forbidden, path_of},
    },
    domain::role::Role,
    error::Result,
    page_schema,
    service::identity,
};

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

impl From<entity::service_account::Model> for ServiceAccount {
    fn from(s: entity::service_account::Model) -> Self {
        Self {
            role: s.role,
            id: s.id,
            name: s.name,
            client_id: s.client_id,
            version: s.version,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
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
    params(OrgPath, PageQuery),
    responses(
        (status = 200, description = "A page of service accounts", body = ServiceAccountPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        (status = 403, response = Forbidden),
    )
)]
#[get("/service-accounts")]
pub async fn service_account_list(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let page =
        identity::list_service_accounts(&ctx.db, &ctx.principal, &org.0, &page.request()?).await?;
    Ok(list_response(&req, page.map(ServiceAccount::from)))
}

/// Create a service account.
///
/// Admins. The answer carries `client_secret`, shown only this once and stored hashed.
#[utoipa::path(
    tag = "service-accounts",
    request_body = ServiceAccountCreate,
    params(OrgPath),
    responses(
        (status = 201, description = "The service account, with its secret", body = ServiceAccountWithSecret,
            headers(("Location" = String, description = "The service account's URL"))),
    )
)]
#[post("/service-accounts")]
pub async fn service_account_create(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    body: Body<ServiceAccountCreate>,
) -> Result<HttpResponse> {
    let (account, secret) =
        identity::create_service_account(&ctx.db, &ctx.principal, &org.0, &body.name, body.role)
            .await?;
    let location = format!("{}/{}", path_of(&req), account.id);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ServiceAccountWithSecret {
            account: ServiceAccount::from(account),
            client_secret: secret,
        }))
}

/// Delete a service account.
///
/// Admins. Its access tokens stop working at once.
#[utoipa::path(
    tag = "service-accounts",
    params(
        OrgPath,
        ("service_account_id" = Uuid, Path, description = "The service account's id"),
    ),
    responses(
        (status = 204, description = "The service account was deleted"),
    )
)]
#[delete("/service-accounts/{service_account_id}")]
pub async fn service_account_delete(ctx: Ctx, path: OrgItemPath) -> Result<HttpResponse> {
    identity::delete_service_account(&ctx.db, &ctx.principal, &path.org_id, &path.item).await?;
    Ok(HttpResponse::NoContent().finish())
}
