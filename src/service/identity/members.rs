//! Members of an organization and their roles; the last admin cannot be removed or demoted.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
};

use crate::{
    domain::{
        identity::normalize_email,
        principal::{Principal, Subject},
        role::{Action, Role},
    },
    error::{AppError, Result, ResultExt},
    service::{
        audit::{self, AuditRecord, Changes},
        authz,
        page::{Page, PageRequest},
        version::{self, IfMatch},
    },
    store,
    store::db,
};
use entity::{membership, organization, user};

use super::find_organization;

/// Who to add as a member: by id or by email.
#[derive(Debug, Clone)]
pub enum UserRef {
    Id(String),
    Email(String),
}

/// Lists the members of an organization with their users, ordered by membership id.
pub async fn list_members(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    page: &PageRequest,
) -> Result<Page<(membership::Model, user::Model)>> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    let query = membership::Entity::find();
    let page = crate::service::page::by_id(
        db_conn,
        query,
        Some((membership::Column::OrganizationId, org_id)),
        membership::Column::Id,
        page,
        |m| m.id.clone(),
    )
    .await?;
    let user_ids: Vec<String> = page.items.iter().map(|m| m.user_id.clone()).collect();
    let users: std::collections::HashMap<String, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(user_ids))
        .all(db_conn)
        .await?
        .into_iter()
        .map(|u| (u.id.clone(), u))
        .collect();
    let next_after = page.next_after;
    let items = page
        .items
        .into_iter()
        .filter_map(|m| users.get(&m.user_id).cloned().map(|u| (m, u)))
        .collect();
    Ok(Page { items, next_after })
}

/// Adds a user to an organization with a role (admins); 409 when already a member.
pub async fn add_member<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    org_id: &str,
    target: UserRef,
    role: Role,
) -> Result<(membership::Model, user::Model)> {
    authz::authorize(conn, principal, org_id, Action::Administer).await?;
    let user = match &target {
        UserRef::Id(id) => user::Entity::find_by_id(id.clone()).one(conn).await?,
        UserRef::Email(email) => {
            let email = normalize_email(email).map_err(|m| AppError::invalid("email", m))?;
            user::Entity::find()
                .filter(user::Column::Email.eq(email))
                .one(conn)
                .await?
        }
    };
    let field = match target {
        UserRef::Id(_) => "user_id",
        UserRef::Email(_) => "email",
    };
    let user = user.ok_or_else(|| AppError::invalid(field, "does not name an existing user"))?;
    let now = db::now();
    let created = membership::ActiveModel {
        id: Set(db::new_id()),
        organization_id: Set(org_id.to_owned()),
        user_id: Set(user.id.clone()),
        role: Set(role),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await
    .on_unique("member-exists", "this user is already a member")?;
    audit::record(
        conn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "member.added",
            entity_type: "membership",
            entity_id: &user.id,
            changes: Changes::new()
                .created("user_id", &user.id)
                .created("role", &created.role),
        },
    )
    .await?;
    Ok((created, user))
}

pub(super) async fn find_member<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    user_id: &str,
) -> Result<(membership::Model, user::Model)> {
    let member = membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(org_id))
        .filter(membership::Column::UserId.eq(user_id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("member"))?;
    let user = user::Entity::find_by_id(user_id.to_owned())
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("member"))?;
    Ok((member, user))
}

/// One member of an organization.
pub async fn get_member(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    user_id: &str,
) -> Result<(membership::Model, user::Model)> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    find_member(db_conn, org_id, user_id).await
}

pub(super) async fn ensure_not_last_admin<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    member: &membership::Model,
) -> Result<()> {
    if member.role != Role::Admin {
        return Ok(());
    }
    let admins = membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(org_id))
        .filter(membership::Column::Role.eq(Role::Admin))
        .count(conn)
        .await?;
    if admins <= 1 {
        return Err(AppError::conflict(
            "last-admin",
            "the last admin of an organization cannot be removed or demoted",
        ));
    }
    Ok(())
}

/// Changes a member's role (admins); demoting the last admin is 409.
pub async fn update_member(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    user_id: &str,
    if_match: Option<&IfMatch>,
    role: Role,
) -> Result<(membership::Model, user::Model)> {
    let txn = db::begin_write(db_conn).await?;
    authz::authorize(&txn, principal, org_id, Action::Administer).await?;
    store::organizations::lock(&txn, org_id).await?;
    let (member, user) = find_member(&txn, org_id, user_id).await?;
    version::check(if_match, member.version)?;
    if member.role == role {
        return Ok((member, user));
    }
    if role != Role::Admin {
        ensure_not_last_admin(&txn, org_id, &member).await?;
    }
    let changes = Changes::new().field("role", &member.role, &role);
    let mut active = member.clone().into_active_model();
    active.role = Set(role);
    let updated = version::save_next(&txn, active, member.version, db::now()).await?;
    audit::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "member.updated",
            entity_type: "membership",
            entity_id: user_id,
            changes,
        },
    )
    .await?;
    txn.commit().await?;
    Ok((updated, user))
}

/// Removes a member (admins); removing the last admin is 409. Takes effect at once.
pub async fn remove_member(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    user_id: &str,
    if_match: Option<&IfMatch>,
) -> Result<()> {
    let txn = db::begin_write(db_conn).await?;
    authz::authorize(&txn, principal, org_id, Action::Administer).await?;
    store::organizations::lock(&txn, org_id).await?;
    let (member, _) = find_member(&txn, org_id, user_id).await?;
    version::check(if_match, member.version)?;
    ensure_not_last_admin(&txn, org_id, &member).await?;
    membership::Entity::delete_by_id(member.id.clone())
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "member.removed",
            entity_type: "membership",
            entity_id: user_id,
            changes: Changes::new().field("role", &Some(member.role), &None),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The caller's memberships with organization names, for `GET /me`.
pub async fn memberships_of(
    db_conn: &DatabaseConnection,
    principal: &Principal,
) -> Result<Vec<(organization::Model, Role)>> {
    match &principal.subject {
        Subject::ServiceAccount {
            organization_id,
            role,
            ..
        } => {
            let org = find_organization(db_conn, organization_id).await?;
            Ok(vec![(org, *role)])
        }
        Subject::User { id, .. } => {
            let memberships = membership::Entity::find()
                .filter(membership::Column::UserId.eq(id.as_str()))
                .order_by_asc(membership::Column::OrganizationId)
                .all(db_conn)
                .await?;
            let org_ids: Vec<String> = memberships
                .iter()
                .map(|m| m.organization_id.clone())
                .collect();
            let orgs: std::collections::HashMap<String, organization::Model> =
                organization::Entity::find()
                    .filter(organization::Column::Id.is_in(org_ids))
                    .all(db_conn)
                    .await?
                    .into_iter()
                    .map(|o| (o.id.clone(), o))
                    .collect();
            Ok(memberships
                .into_iter()
                .filter_map(|m| Some((orgs.get(&m.organization_id)?.clone(), m.role)))
                .collect())
        }
    }
}
