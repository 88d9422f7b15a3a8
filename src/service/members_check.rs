//! Checks that a user named by a request field is a member of the organization (owners of
//! assets and risks).

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::error::{AppError, Result};
use entity::membership;

/// 404 naming `field` unless `user_id` is a member of `org_id`.
pub async fn check_member<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    field: &str,
    user_id: &str,
) -> Result<()> {
    let members = membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(org_id))
        .filter(membership::Column::UserId.eq(user_id))
        .count(conn)
        .await?;
    if members == 0 {
        return Err(AppError::not_found_field(
            field,
            format!("`{user_id}` is not a member of this organization"),
        ));
    }
    Ok(())
}
