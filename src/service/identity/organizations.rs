//! Organizations: creation with their first admin, listing, renaming and deletion.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, QueryTrait,
};

use crate::{
    domain::{
        identity::normalize_name,
        principal::{Principal, Subject},
        role::Action,
    },
    error::{AppError, Result},
    service::{
        audit::{self, AuditRecord, Changes},
        authz,
        page::{Page, PageRequest},
        version::{self, IfMatch},
    },
    store,
    store::db,
};
use entity::{membership, organization, organization_version};

/// Creates an organization (platform admins only); no membership is created.
pub async fn create_organization<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    name: &str,
) -> Result<organization::Model> {
    authz::require_platform_admin(principal)?;
    let name = normalize_name(name).map_err(|m| AppError::invalid("name", m))?;
    let now = db::now();
    let created = organization::ActiveModel {
        id: Set(db::new_id()),
        name: Set(name),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    organization_version::Entity::insert(organization_version::ActiveModel {
        organization_id: Set(created.id.clone()),
        data_version: Set(0),
    })
    .exec_without_returning(conn)
    .await?;
    audit::record(
        conn,
        principal,
        AuditRecord {
            organization_id: Some(&created.id),
            action: "organization.created",
            entity_type: "organization",
            entity_id: &created.id,
            changes: Changes::new().created("name", &created.name),
        },
    )
    .await?;
    Ok(created)
}

/// The organizations the caller can see: all for platform admins, else its memberships
/// (a service account sees its own).
pub async fn list_organizations(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    page: &PageRequest,
    updated_since: Option<DateTime<Utc>>,
) -> Result<Page<organization::Model>> {
    let mut query = organization::Entity::find();
    match &principal.subject {
        Subject::User {
            is_platform_admin: true,
            ..
        } => {}
        Subject::User { id, .. } => {
            let ids = membership::Entity::find()
                .select_only()
                .column(membership::Column::OrganizationId)
                .filter(membership::Column::UserId.eq(id.as_str()))
                .into_query();
            query = query.filter(organization::Column::Id.in_subquery(ids));
        }
        Subject::ServiceAccount {
            organization_id, ..
        } => {
            query = query.filter(organization::Column::Id.eq(organization_id.as_str()));
        }
    }
    if let Some(since) = updated_since {
        query = query.filter(organization::Column::UpdatedAt.gte(since));
    }
    Ok(
        crate::service::page::by_id(db_conn, query, None, organization::Column::Id, page, |o| {
            o.id.clone()
        })
        .await?,
    )
}

pub(super) async fn find_organization<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
) -> Result<organization::Model> {
    organization::Entity::find_by_id(org_id.to_owned())
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("organization"))
}

/// One organization, for its members.
pub async fn get_organization(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
) -> Result<organization::Model> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    find_organization(db_conn, org_id).await
}

/// Renames an organization (admins).
pub async fn update_organization(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    if_match: Option<&IfMatch>,
    name: Option<&str>,
) -> Result<organization::Model> {
    let txn = db::begin_write(db_conn).await?;
    authz::authorize(&txn, principal, org_id, Action::Administer).await?;
    store::organizations::lock(&txn, org_id).await?;
    let current = find_organization(&txn, org_id).await?;
    version::check(if_match, current.version)?;
    let new_name = match name {
        Some(name) => normalize_name(name).map_err(|m| AppError::invalid("name", m))?,
        None => current.name.clone(),
    };
    let changes = Changes::new().field("name", &current.name, &new_name);
    if changes.is_empty() {
        return Ok(current);
    }
    let mut active = current.clone().into_active_model();
    active.name = Set(new_name);
    let updated = version::save_next(&txn, active, current.version, db::now()).await?;
    audit::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "organization.updated",
            entity_type: "organization",
            entity_id: org_id,
            changes,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// Deletes an organization and everything it owns (platform admins). The audit trail is kept.
pub async fn delete_organization(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    if_match: Option<&IfMatch>,
) -> Result<()> {
    let txn = db::begin_write(db_conn).await?;
    // Members see 403, others 404, before the platform-admin rule applies.
    authz::org_role(&txn, principal, org_id).await?;
    authz::require_platform_admin(principal)?;
    store::organizations::lock(&txn, org_id).await?;
    let current = find_organization(&txn, org_id).await?;
    version::check(if_match, current.version)?;
    organization::Entity::delete_by_id(org_id.to_owned())
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "organization.deleted",
            entity_type: "organization",
            entity_id: org_id,
            changes: Changes::new().field("name", &Some(current.name), &None::<String>),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
