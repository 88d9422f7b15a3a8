//! Authorization decisions: the caller's role in an organization (404 when none) and role checks (403).

use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect};

use crate::{
    auth::{Principal, Subject},
    domain::role::{Action, Role},
    error::{AppError, Result},
    service::sql::statement,
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
    // Read with the principal when the request's path names this organization.
    if let Some(known) = principal.org_access.as_ref().filter(|a| a.org_id == org_id) {
        let version = known.data_version.ok_or(not_found)?;
        return match &principal.subject {
            Subject::ServiceAccount {
                organization_id,
                role,
                ..
            } if organization_id == org_id => Ok((*role, version)),
            Subject::ServiceAccount { .. } => Err(AppError::NotFound("organization")),
            Subject::User {
                is_platform_admin: true,
                ..
            } => Ok((Role::Admin, version)),
            Subject::User { .. } => known
                .member_role
                .map(|role| (role, version))
                .ok_or(AppError::NotFound("organization")),
        };
    }
    let version = entity::organization::Entity::find_by_id(org_id.to_owned())
        .select_only()
        .column(entity::organization::Column::DataVersion)
        .into_tuple::<i64>();
    match &principal.subject {
        Subject::ServiceAccount {
            organization_id,
            role,
            ..
        } => {
            if organization_id != org_id {
                return Err(not_found);
            }
            let version = version.one(conn).await?.ok_or(not_found)?;
            Ok((*role, version))
        }
        Subject::User {
            id,
            is_platform_admin,
            ..
        } => {
            if *is_platform_admin {
                let version = version.one(conn).await?.ok_or(not_found)?;
                return Ok((Role::Admin, version));
            }
            let backend = conn.get_database_backend();
            let row = conn
                .query_one_raw(statement(
                    backend,
                    "SELECT m.role, o.data_version FROM memberships m \
                     JOIN organizations o ON o.id = m.organization_id \
                     WHERE m.organization_id = ? AND m.user_id = ?",
                    vec![org_id.into(), id.as_str().into()],
                ))
                .await?
                .ok_or(not_found)?;
            let role: String = row.try_get_by_index(0)?;
            let version: i64 = row.try_get_by_index(1)?;
            let role =
                Role::parse(&role).ok_or_else(|| AppError::internal("stored role is invalid"))?;
            Ok((role, version))
        }
    }
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
