//! The authenticated caller: extracted from `Authorization: Bearer <jwt>` on every protected request.

use std::{future::Future, pin::Pin, sync::Arc};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use sea_orm::{ConnectionTrait, QueryResult, Value};

use crate::{
    auth::batch::Batcher, domain::role::Role, error::AppError, service::sql::statement,
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
    // Concurrent requests share a statement that began after they arrived (see `batch`): each
    // still sees every change committed before it.
    let key = LookupKey {
        jti: claims.jti.clone(),
        sub: claims.sub,
        org_id: org_id.clone(),
    };
    let lookups = Arc::clone(&state.lookups);
    let (subject, member_role, data_version) = lookups
        .get(key, move |keys| standings(state.clone(), keys))
        .await
        .map_err(|_| AppError::internal("the caller's lookup was abandoned"))??;
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
/// version, read in one statement that also checks that the token was not revoked.
pub type Standing = (Subject, Option<Role>, Option<i64>);

/// What one request's principal is looked up by: its token's id and subject, and the path's
/// organization.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LookupKey {
    jti: String,
    sub: String,
    org_id: Option<String>,
}

/// The principal lookups of concurrent requests, batched (shared by all workers).
pub type Lookups = Batcher<LookupKey, Result<Standing, AppError>>;

/// The statement's columns after the key's index, for users and for service accounts.
const STANDING_COLUMNS: &str = "u.id, u.email, u.name, u.is_platform_admin, \
     s.id, s.name, s.organization_id, s.role, \
     EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.jti = k.jti), \
     (SELECT m.role FROM memberships m WHERE m.organization_id = k.org AND m.user_id = k.uid), \
     (SELECT v.data_version FROM organization_versions v WHERE v.organization_id = k.org)";

/// Reads the [`Standing`] of each key, in the keys' order, in one statement.
async fn standings(
    state: web::Data<AppState>,
    keys: Vec<LookupKey>,
) -> Vec<Result<Standing, AppError>> {
    let mut answers: Vec<Result<Standing, AppError>> = keys
        .iter()
        .map(|_| Err(unauthenticated("the access token is invalid or expired")))
        .collect();
    // The statement's key table, a row per well-formed subject: (index, jti, user, account, org).
    let mut values: Vec<Value> = Vec::with_capacity(keys.len() * 5);
    for (index, key) in keys.iter().enumerate() {
        let (user, account) = match key.sub.split_once(':') {
            Some(("user", id)) => (Some(id.to_owned()), None),
            Some(("service_account", id)) => (None, Some(id.to_owned())),
            _ => continue,
        };
        values.extend([
            (index as i64).into(),
            key.jti.clone().into(),
            user.into(),
            account.into(),
            key.org_id.clone().into(),
        ]);
    }
    if values.is_empty() {
        return answers;
    }
    // Padded to a power of two, so that few statement texts are prepared, with rows of nulls
    // that match nothing.
    let size = (values.len() / 5).next_power_of_two();
    while values.len() < size * 5 {
        values.extend([
            Value::BigInt(None),
            Value::String(None),
            Value::String(None),
            Value::String(None),
            Value::String(None),
        ]);
    }
    let sql = format!(
        "WITH k(i, jti, uid, sid, org) AS (VALUES {}) SELECT k.i, {STANDING_COLUMNS} \
         FROM k LEFT JOIN users u ON u.id = k.uid LEFT JOIN service_accounts s ON s.id = k.sid",
        vec!["(?, ?, ?, ?, ?)"; size].join(", ")
    );
    let backend = state.db.get_database_backend();
    let found = match state
        .db
        .query_all_raw(statement(backend, &sql, values))
        .await
    {
        Ok(found) => found,
        Err(err) => {
            let err = AppError::from(err);
            return answers.iter().map(|_| Err(err.clone())).collect();
        }
    };
    for row in found {
        let Ok(index) = row.try_get_by_index::<i64>(0) else {
            continue;
        };
        let slot = usize::try_from(index)
            .ok()
            .and_then(|i| answers.get_mut(i).zip(keys.get(i)));
        if let Some((answer, key)) = slot {
            *answer = standing(&row, key.sub.starts_with("user:"));
        }
    }
    answers
}

/// One key's [`Standing`] from its row of the lookup statement.
fn standing(row: &QueryResult, is_user: bool) -> Result<Standing, AppError> {
    let revoked = row.try_get_by_index::<bool>(9)?;
    let data_version = row.try_get_by_index::<Option<i64>>(11)?;
    let subject = if is_user {
        let Some(id) = row.try_get_by_index::<Option<String>>(1)? else {
            return Err(unauthenticated("the token's user no longer exists"));
        };
        Subject::User {
            id,
            email: row.try_get_by_index(2)?,
            name: row.try_get_by_index(3)?,
            is_platform_admin: row.try_get_by_index(4)?,
        }
    } else {
        let Some(id) = row.try_get_by_index::<Option<String>>(5)? else {
            return Err(unauthenticated(
                "the token's service account no longer exists",
            ));
        };
        Subject::ServiceAccount {
            id,
            name: row.try_get_by_index(6)?,
            organization_id: row.try_get_by_index(7)?,
            role: Role::parse(&row.try_get_by_index::<String>(8)?)
                .ok_or_else(|| AppError::internal("stored role is invalid"))?,
        }
    };
    if revoked {
        return Err(unauthenticated("the access token has been revoked"));
    }
    let member_role = row
        .try_get_by_index::<Option<String>>(10)?
        .map(|r| Role::parse(&r).ok_or_else(|| AppError::internal("stored role is invalid")))
        .transpose()?;
    Ok((subject, member_role, data_version))
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
