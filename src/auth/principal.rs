//! The authenticated caller: extracted from `Authorization: Bearer <jwt>` on every protected request.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use sea_orm::ConnectionTrait;

use crate::{
    domain::role::Role, error::AppError, service::sql::statement, state::AppState,
    telemetry::RequestId,
};

/// Who the caller is, looked up in the database on every request (so removals act at once).
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
    // One statement: the subject and whether the token was revoked.
    let revoked_sql = "(SELECT COUNT(*) FROM revoked_tokens r WHERE r.jti = ?)";
    let backend = state.db.get_database_backend();
    let subject = match claims.sub.split_once(':') {
        Some(("user", id)) => {
            let sql = format!(
                "SELECT u.id, u.email, u.name, u.is_platform_admin, {revoked_sql} FROM users u WHERE u.id = ?"
            );
            let row = state
                .db
                .query_one_raw(statement(
                    backend,
                    &sql,
                    vec![claims.jti.clone().into(), id.into()],
                ))
                .await?
                .ok_or_else(|| unauthenticated("the token's user no longer exists"))?;
            if row.try_get_by_index::<i64>(4)? > 0 {
                return Err(unauthenticated("the access token has been revoked"));
            }
            Subject::User {
                id: row.try_get_by_index(0)?,
                email: row.try_get_by_index(1)?,
                name: row.try_get_by_index(2)?,
                is_platform_admin: row.try_get_by_index(3)?,
            }
        }
        Some(("service_account", id)) => {
            let sql = format!(
                "SELECT s.id, s.name, s.organization_id, s.role, {revoked_sql} FROM service_accounts s WHERE s.id = ?"
            );
            let row = state
                .db
                .query_one_raw(statement(
                    backend,
                    &sql,
                    vec![claims.jti.clone().into(), id.into()],
                ))
                .await?
                .ok_or_else(|| unauthenticated("the token's service account no longer exists"))?;
            if row.try_get_by_index::<i64>(4)? > 0 {
                return Err(unauthenticated("the access token has been revoked"));
            }
            Subject::ServiceAccount {
                id: row.try_get_by_index(0)?,
                name: row.try_get_by_index(1)?,
                organization_id: row.try_get_by_index(2)?,
                role: Role::parse(&row.try_get_by_index::<String>(3)?)
                    .ok_or_else(|| AppError::internal("stored role is invalid"))?,
            }
        }
        _ => return Err(unauthenticated("the access token is invalid or expired")),
    };
    Ok(Principal {
        subject,
        jti: claims.jti,
        request_id,
    })
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
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
            authenticate(state, header, request_id).await
        })
    }
}
