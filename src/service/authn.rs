//! Authentication of a request's caller: the access token verified, then its subject, its
//! revocation and its standing in the path's organization read by a statement that began after
//! the request arrived (so removals act at once), shared by concurrent requests.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    auth::jwt::JwtKeys,
    domain::{
        principal::{OrgAccess, Principal, Subject},
        role::Role,
    },
    error::AppError,
    service::batch::Batcher,
    store::authn::{self, Standing, TokenKey},
};

fn unauthenticated(message: &str) -> AppError {
    AppError::Unauthenticated(message.to_owned())
}

/// What one request's principal is looked up by: its token's id and subject, and the path's
/// organization.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LookupKey {
    jti: String,
    sub: String,
    org_id: Option<String>,
}

/// The subject, its membership role in the path's organization and that organization's data
/// version.
pub type Found = (Subject, Option<Role>, Option<i64>);

/// The principal lookups of concurrent requests, batched (shared by all workers).
pub type Lookups = Batcher<LookupKey, Result<Found, AppError>>;

/// The caller of a request with the `Authorization` header `header`, whose path names the
/// organization `org_id` (if any).
pub async fn authenticate(
    db: &DatabaseConnection,
    jwt: &JwtKeys,
    lookups: &Arc<Lookups>,
    header: Option<&str>,
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
    let claims = jwt
        .verify(token)
        .map_err(|_| unauthenticated("the access token is invalid or expired"))?;
    // Concurrent requests share a statement that began after they arrived (see `batch`): each
    // still sees every change committed before it.
    let key = LookupKey {
        jti: claims.jti.clone(),
        sub: claims.sub,
        org_id: org_id.clone(),
    };
    let db = db.clone();
    let (subject, member_role, data_version) = lookups
        .get(key, move |keys| lookup(db.clone(), keys))
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

/// Answers a batch of keys, in the keys' order, with one statement.
async fn lookup(db: DatabaseConnection, keys: Vec<LookupKey>) -> Vec<Result<Found, AppError>> {
    let mut answers: Vec<Result<Found, AppError>> = keys
        .iter()
        .map(|_| Err(unauthenticated("the access token is invalid or expired")))
        .collect();
    // Only well-formed subjects are looked up; `positions` maps the statement's keys back.
    let mut token_keys = Vec::with_capacity(keys.len());
    let mut positions = Vec::with_capacity(keys.len());
    for (position, key) in keys.iter().enumerate() {
        let (user_id, service_account_id) = match key.sub.split_once(':') {
            Some(("user", id)) => (Some(id.to_owned()), None),
            Some(("service_account", id)) => (None, Some(id.to_owned())),
            _ => continue,
        };
        token_keys.push(TokenKey {
            jti: key.jti.clone(),
            user_id,
            service_account_id,
            org_id: key.org_id.clone(),
        });
        positions.push(position);
    }
    let found = match authn::standings(&db, &token_keys).await {
        Ok(found) => found,
        Err(err) => return answers.iter().map(|_| Err(err.clone())).collect(),
    };
    for standing in found {
        let position = usize::try_from(standing.key_index)
            .ok()
            .and_then(|i| positions.get(i).copied());
        let slot = position.and_then(|p| answers.get_mut(p).zip(keys.get(p)));
        if let Some((answer, key)) = slot {
            *answer = found_of(standing, key.sub.starts_with("user:"));
        }
    }
    answers
}

/// One key's answer from what the statement found.
fn found_of(row: Standing, is_user: bool) -> Result<Found, AppError> {
    let subject = if is_user {
        let Some(id) = row.user_id else {
            return Err(unauthenticated("the token's user no longer exists"));
        };
        Subject::User {
            id,
            email: row.user_email.unwrap_or_default(),
            name: row.user_name.unwrap_or_default(),
            is_platform_admin: row.user_is_platform_admin.unwrap_or(false),
        }
    } else {
        let Some(id) = row.account_id else {
            return Err(unauthenticated(
                "the token's service account no longer exists",
            ));
        };
        Subject::ServiceAccount {
            id,
            name: row.account_name.unwrap_or_default(),
            organization_id: row.account_organization_id.unwrap_or_default(),
            role: row
                .account_role
                .ok_or_else(|| AppError::internal("a service account without a role"))?,
        }
    };
    if row.revoked {
        return Err(unauthenticated("the access token has been revoked"));
    }
    Ok((subject, row.member_role, row.data_version))
}
