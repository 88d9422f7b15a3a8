//! Authorization decisions: the caller's role in an organization (404 when none) and role checks (403).

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::{
    auth::{Principal, Subject},
    domain::role::{Action, Role},
    error::{AppError, Result},
};

/// The caller's role in `org_id`. Another organization, or one that does not exist, is 404.
pub async fn org_role<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    org_id: &str,
) -> Result<Role> {
    let not_found = AppError::NotFound("organization");
    match &principal.subject {
        Subject::ServiceAccount {
            organization_id,
            role,
            ..
        } => {
            if organization_id == org_id {
                Ok(*role)
            } else {
                Err(not_found)
            }
        }
        Subject::User {
            id,
            is_platform_admin,
            ..
        } => {
            if *is_platform_admin {
                return entity::organization::Entity::find_by_id(org_id.to_owned())
                    .one(conn)
                    .await?
                    .map(|_| Role::Admin)
                    .ok_or(not_found);
            }
            let membership = entity::membership::Entity::find()
                .filter(entity::membership::Column::OrganizationId.eq(org_id))
                .filter(entity::membership::Column::UserId.eq(id.as_str()))
                .one(conn)
                .await?
                .ok_or(not_found)?;
            Role::parse(&membership.role)
                .ok_or_else(|| AppError::internal("stored role is invalid"))
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
