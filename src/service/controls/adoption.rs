//! Adopting a framework (one control per requirement) and the frameworks an organization has adopted.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::{
    domain::principal::Principal,
    domain::{control::ControlStatus, role::Action},
    error::{AppError, Result, ResultExt},
    service::{
        audit::{self, AuditRecord, Changes},
        authz,
        page::{Page, PageRequest},
    },
    store::db,
};
use entity::{control, framework, organization_framework, requirement};

/// An adopted framework with its control count.
#[derive(Debug, Clone)]
pub struct Adoption {
    pub adoption: organization_framework::Model,
    pub framework: framework::Model,
    pub control_count: u64,
}

/// Adopts a framework: one control per requirement, inside the caller's write transaction
/// (admins). 409 when already adopted; 404 (problem) for an unknown framework.
pub async fn adopt_in<C: ConnectionTrait>(
    txn: &C,
    principal: &Principal,
    org_id: &str,
    key: &str,
) -> Result<Adoption> {
    authz::authorize(txn, principal, org_id, Action::Administer).await?;
    let framework = framework::Entity::find_by_id(key.to_owned())
        .one(txn)
        .await?
        .ok_or(AppError::NotFound("framework"))?;
    let now = db::now();
    let adoption = organization_framework::ActiveModel {
        id: Set(db::new_id()),
        organization_id: Set(org_id.to_owned()),
        framework_key: Set(key.to_owned()),
        adopted_by: Set(principal.actor()),
        created_at: Set(now),
    }
    .insert(txn)
    .await
    .on_unique(
        "already-adopted",
        format!("the framework `{key}` is already adopted"),
    )?;
    let requirements = requirement::Entity::find()
        .filter(requirement::Column::FrameworkKey.eq(key))
        .filter(requirement::Column::Withdrawn.eq(false))
        .order_by_asc(requirement::Column::Position)
        .all(txn)
        .await?;
    let rows: Vec<control::ActiveModel> = requirements
        .iter()
        .map(|r| control::ActiveModel {
            id: Set(db::new_id()),
            organization_id: Set(org_id.to_owned()),
            framework_key: Set(key.to_owned()),
            requirement_id: Set(Some(r.id.clone())),
            reference: Set(r.reference.clone()),
            title: Set(r.title.clone()),
            group_key: Set(r.group_key.clone()),
            kind: Set(r.kind),
            custom: Set(false),
            description: Set(Some(r.description.clone())),
            applicable: Set(true),
            justification: Set(None),
            status: Set(ControlStatus::NotStarted),
            owner: Set(None),
            due_date: Set(None),
            notes: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .collect();
    let control_count = rows.len() as u64;
    // 19 columns a row: 250 rows stay far below SQLite's limit on bound variables.
    for chunk in rows.chunks(250) {
        control::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    audit::record(
        txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "framework.adopted",
            entity_type: "framework",
            entity_id: key,
            changes: Changes::new().created("controls", &control_count),
        },
    )
    .await?;
    Ok(Adoption {
        adoption,
        framework,
        control_count,
    })
}

/// The frameworks an organization has adopted, oldest first, with control counts.
pub async fn list_adopted(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    page: &PageRequest,
) -> Result<Page<Adoption>> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    let query = organization_framework::Entity::find();
    let rows = crate::service::page::by_id(
        db_conn,
        query,
        Some((organization_framework::Column::OrganizationId, org_id)),
        organization_framework::Column::Id,
        page,
        |a| a.id.clone(),
    )
    .await?;
    let keys: Vec<String> = rows.items.iter().map(|a| a.framework_key.clone()).collect();
    let frameworks: HashMap<String, framework::Model> = framework::Entity::find()
        .filter(framework::Column::Key.is_in(keys.clone()))
        .all(db_conn)
        .await?
        .into_iter()
        .map(|f| (f.key.clone(), f))
        .collect();
    let counts: HashMap<String, i64> = control::Entity::find()
        .select_only()
        .column(control::Column::FrameworkKey)
        .column_as(control::Column::Id.count(), "n")
        .filter(control::Column::OrganizationId.eq(org_id))
        .filter(control::Column::FrameworkKey.is_in(keys))
        .group_by(control::Column::FrameworkKey)
        .into_tuple::<(String, i64)>()
        .all(db_conn)
        .await?
        .into_iter()
        .collect();
    let next_after = rows.next_after;
    let items = rows
        .items
        .into_iter()
        .filter_map(|adoption| {
            let framework = frameworks.get(&adoption.framework_key)?.clone();
            let control_count =
                u64::try_from(counts.get(&adoption.framework_key).copied().unwrap_or(0))
                    .unwrap_or(0);
            Some(Adoption {
                adoption,
                framework,
                control_count,
            })
        })
        .collect();
    Ok(Page { items, next_after })
}

/// One adopted framework with its control count.
pub async fn get_adopted(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    key: &str,
) -> Result<Adoption> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    let adoption = organization_framework::Entity::find()
        .filter(organization_framework::Column::OrganizationId.eq(org_id))
        .filter(organization_framework::Column::FrameworkKey.eq(key))
        .one(db_conn)
        .await?
        .ok_or(AppError::NotFound("adopted framework"))?;
    let framework = framework::Entity::find_by_id(key.to_owned())
        .one(db_conn)
        .await?
        .ok_or(AppError::NotFound("framework"))?;
    let control_count = control::Entity::find()
        .filter(control::Column::OrganizationId.eq(org_id))
        .filter(control::Column::FrameworkKey.eq(key))
        .count(db_conn)
        .await?;
    Ok(Adoption {
        adoption,
        framework,
        control_count,
    })
}

pub(super) async fn ensure_adopted<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    key: &str,
) -> Result<()> {
    let adopted = organization_framework::Entity::find()
        .filter(organization_framework::Column::OrganizationId.eq(org_id))
        .filter(organization_framework::Column::FrameworkKey.eq(key))
        .count(conn)
        .await?;
    if adopted == 0 {
        return Err(AppError::NotFound("adopted framework"));
    }
    Ok(())
}
