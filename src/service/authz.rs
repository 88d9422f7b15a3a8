//! Authorization decisions: the caller's role in an organization (404 when none) and role checks (403).

use sea_orm::ConnectionTrait;

use crate::{
    domain::{
        principal::{Principal, Subject},
        role::{Action, Permissions, Role},
    },
    error::{AppError, Result},
    store,
};

/// The caller's role in `org_id`. Another organization, or one that does not exist, is 404.
pub async fn org_role<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    org_id: &str,
) -> Result<Role> {
    Ok(access(conn, principal, org_id).await?.0)
}

/// The caller's role in `org_id` and the organization's data version (what caches key on),
/// in one statement. Another organization, or one that does not exist, is 404.
pub async fn access<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    org_id: &str,
) -> Result<(Role, i64)> {
    let not_found = AppError::NotFound("organization");
    if let Subject::ServiceAccount {
        organization_id, ..
    } = &principal.subject
        && organization_id != org_id
    {
        return Err(not_found);
    }
    // Read with the principal when the request's path names this organization.
    let (member_role, version) = match principal.org_access.as_ref().filter(|a| a.org_id == org_id)
    {
        Some(known) => (known.member_role, known.data_version),
        None => store::authn::membership(conn, org_id, principal.user_id()).await?,
    };
    let version = version.ok_or(not_found)?;
    let role = match &principal.subject {
        Subject::ServiceAccount { role, .. } => *role,
        Subject::User {
            is_platform_admin: true,
            ..
        } => Role::Admin,
        Subject::User { .. } => member_role.ok_or(AppError::NotFound("organization"))?,
    };
    Ok((role, version))
}

/// The caller's role in `org_id`, required to allow `action` (403 otherwise).
pub async fn authorize<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    org_id: &str,
    action: Action,
) -> Result<Role> {
    let role = org_role(conn, principal, org_id).await?;
    require(role, action)?;
    Ok(role)
}

/// Like [`authorize`], also returning the organization's data version (same single statement).
pub async fn authorize_versioned<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    org_id: &str,
    action: Action,
) -> Result<(Role, i64)> {
    let (role, version) = access(conn, principal, org_id).await?;
    require(role, action)?;
    Ok((role, version))
}

/// The organization's data version, when the caller may read it: what a cached read is keyed
/// on (an answer computed at that version may be served again until the data or the clock moves
/// on).
pub async fn readable_version<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    org_id: &str,
) -> Result<i64> {
    Ok(authorize_versioned(conn, principal, org_id, Action::Read)
        .await?
        .1)
}

/// 403 unless `role` may perform `action`.
pub fn require(role: Role, action: Action) -> Result<()> {
    if role.can(action) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "the {} role may not do this",
            role.as_str()
        )))
    }
}

/// 403 unless the caller is a platform admin.
pub fn require_platform_admin(principal: &Principal) -> Result<()> {
    if principal.is_platform_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only platform admins may do this".to_owned(),
        ))
    }
}
