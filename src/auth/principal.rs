//! The authenticated caller: extracted from `Authorization: Bearer <jwt>` on every protected request.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use sea_orm::ConnectionTrait;

use crate::{
    auth::coalesce::Coalescer, domain::role::Role, error::AppError, service::sql::statement,
    state::AppState, telemetry::RequestId,
};

/// Who the caller is, read for every request by a statement that began after the request arrived
/// (so removals act at once).
#[derive(Debug, Clone)]
pub enum Subject {
    /// A person.
    User {
        id: String,
        email: String,
        name: String,
        is_platform_admin: bool,
    },
    /// A machine client bound to one organization with one role.
    ServiceAccount {
        id: String,
        name: String,
        organization_id: String,
        role: Role,
    },
}

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub subject: Subject,
    /// The access token's id, for revocation.
    pub jti: String,
    /// The request id, recorded in audit events.
    pub request_id: Option<String>,
    /// The caller's standing in the organization named by the request path, read in the same
    /// statement as the principal (saves authorization a round trip).
    pub org_access: Option<OrgAccess>,
}

/// What the principal's statement also read about the path's organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccess {
    /// The organization's id (lowercase UUID text).
    pub org_id: String,
    /// The user's membership role there (users only).
    pub member_role: Option<Role>,
    /// The organization's data version; `None` when it does not exist.
    pub data_version: Option<i64>,
}

impl Principal {
    /// `user:<id>` or `service_account:<id>`: the actor of audit events and the JWT `sub`.
    pub fn actor(&self) -> String {
        match &self.subject {
            Subject::User { id, .. } => format!("user:{id}"),
            Subject::ServiceAccount { id, .. } => format!("service_account:{id}"),
        }
    }

    /// Whether the caller is a platform admin.
    pub fn is_platform_admin(&self) -> bool {
        matches!(
            self.subject,
            Subject::User {
                is_platform_admin: true,
                ..
            }
        )
    }

    /// The user id, when the caller is a user.
    pub fn user_id(&self) -> Option<&str> {
        match &self.subject {
            Subject::User { id, .. } => Some(id),
            Subject::ServiceAccount { .. } => None,
        }
    }
}

fn unauthenticated(message: &str) -> AppError {
    AppError::Unauthenticated(message.to_owned())
}

async fn authenticate(
    state: web::Data<AppState>,
    header: Option<String>,
    request_id: Option<String>,
    org_id: Option<String>,
) -> Result<Principal, AppError> {
    let header = header.ok_or_else(|| unauthenticated("a bearer token is required"))?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthenticated("the Authorization header must be `Bearer <token>`"))?;
    let claims = state
        .jwt
        .verify(token)
        .map_err(|_| unauthenticated("the access token is invalid or expired"))?;
    // Concurrent requests with this token and path organization share a lookup that began
    // after they arrived (see `coalesce`): each still sees every change committed before it.
    let key = (claims.jti.clone(), claims.sub.clone(), org_id.clone());
    let (subject, member_role, data_version) = Coalescer::get(&LOOKUPS, key, {
        let (sub, jti, org) = (claims.sub, claims.jti.clone(), org_id.clone());
        move || standing(state, sub, jti, org)
    })
    .await?;
    Ok(Principal {
        subject,
        jti: claims.jti,
        request_id,
        org_access: org_id.map(|org_id| OrgAccess {
            org_id,
            member_role,
            data_version,
        }),
    })
}

/// The subject, its membership role in the path's organization and that organization's data
/// version: the principal's one statement, which also checks that the token was not revoked.
type Standing = (Subject, Option<Role>, Option<i64>);

thread_local! {
    /// This worker thread's principal lookups, by token id, subject and path organization.
    static LOOKUPS: Coalescer<(String, String, Option<String>), Result<Standing, AppError>> =
        Coalescer::default();
}

/// Reads the caller's [`Standing`] in one statement.
async fn standing(
    state: web::Data<AppState>,
    sub: String,
    jti: String,
    org_id: Option<String>,
) -> Result<Standing, AppError> {
    // One statement: the subject, whether the token was revoked and, when the path names an
    // organization, the caller's membership there and the organization's data version.
    let revoked_sql = "EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.jti = ?)";
    let org = org_id.unwrap_or_default();
    let version_sql =
        "(SELECT v.data_version FROM organization_versions v WHERE v.organization_id = ?)";
    let backend = state.db.get_database_backend();
    let standing = match sub.split_once(':') {
        Some(("user", id)) => {
            let sql = format!(
                "SELECT u.id, u.email, u.name, u.is_platform_admin, {revoked_sql}, \
                 (SELECT m.role FROM memberships m WHERE m.organization_id = ? AND m.user_id = u.id), \
                 {version_sql} FROM users u WHERE u.id = ?"
            );
            let row = state
                .db
                .query_one_raw(statement(
                    backend,
                    &sql,
                    vec![
                        jti.into(),
                        org.clone().into(),
                        org.clone().into(),
                        id.into(),
                    ],
                ))
                .await?
                .ok_or_else(|| unauthenticated("the token's user no longer exists"))?;
            if row.try_get_by_index::<bool>(4)? {
                return Err(unauthenticated("the access token has been revoked"));
            }
            let member_role = row
                .try_get_by_index::<Option<String>>(5)?
                .map(|r| {
                    Role::parse(&r).ok_or_else(|| AppError::internal("stored role is invalid"))
                })
                .transpose()?;
            (
                Subject::User {
                    id: row.try_get_by_index(0)?,
                    email: row.try_get_by_index(1)?,
                    name: row.try_get_by_index(2)?,
                    is_platform_admin: row.try_get_by_index(3)?,
                },
                member_role,
                row.try_get_by_index::<Option<i64>>(6)?,
            )
        }
        Some(("service_account", id)) => {
            let sql = format!(
                "SELECT s.id, s.name, s.organization_id, s.role, {revoked_sql}, {version_sql} \
                 FROM service_accounts s WHERE s.id = ?"
            );
            let row = state
                .db
                .query_one_raw(statement(
                    backend,
                    &sql,
                    vec![jti.into(), org.clone().into(), id.into()],
                ))
                .await?
                .ok_or_else(|| unauthenticated("the token's service account no longer exists"))?;
            if row.try_get_by_index::<bool>(4)? {
                return Err(unauthenticated("the access token has been revoked"));
            }
            (
                Subject::ServiceAccount {
                    id: row.try_get_by_index(0)?,
                    name: row.try_get_by_index(1)?,
                    organization_id: row.try_get_by_index(2)?,
                    role: Role::parse(&row.try_get_by_index::<String>(3)?)
                        .ok_or_else(|| AppError::internal("stored role is invalid"))?,
                },
                None,
                row.try_get_by_index::<Option<i64>>(5)?,
            )
        }
        _ => return Err(unauthenticated("the access token is invalid or expired")),
    };
    Ok(standing)
}

impl FromRequest for Principal {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
        // Normalized as the handlers' `Uuid` path parameters are; anything else is left to them.
        let org_id = req
            .match_info()
            .get("org_id")
            .and_then(|v| uuid::Uuid::parse_str(v).ok())
            .map(|id| id.to_string());
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
            authenticate(state, header, request_id, org_id).await
        })
    }
}
