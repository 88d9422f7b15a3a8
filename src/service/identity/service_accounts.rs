//! Service accounts: machine clients bound to one organization with one role.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};

use crate::{
    crypto::{random_token, sha256_hex},
    domain::{
        identity::normalize_name,
        principal::Principal,
        role::{Action, Role},
    },
    error::{AppError, Result},
    service::{
        audit::{self, AuditRecord, Changes},
        authz,
        page::{Page, PageRequest},
    },
    store::db,
};
use entity::service_account;

/// Creates a service account (admins); returns it with its secret, which is never shown again.
pub async fn create_service_account(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    name: &str,
    role: Role,
) -> Result<(service_account::Model, String)> {
    let name = normalize_name(name).map_err(|m| AppError::invalid("name", m))?;
    let txn = db::begin_write(db_conn).await?;
    authz::authorize(&txn, principal, org_id, Action::Administer).await?;
    let secret = format!("axs_{}", random_token(32));
    let now = db::now();
    let created = service_account::ActiveModel {
        id: Set(db::new_id()),
        organization_id: Set(org_id.to_owned()),
        name: Set(name),
        role: Set(role),
        client_id: Set(format!("axc_{}", random_token(16))),
        secret_hash: Set(sha256_hex(secret.as_bytes())),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "service_account.created",
            entity_type: "service_account",
            entity_id: &created.id,
            changes: Changes::new()
                .created("name", &created.name)
                .created("role", &created.role)
                .created("client_id", &created.client_id),
        },
    )
    .await?;
    txn.commit().await?;
    Ok((created, secret))
}

/// Lists an organization's service accounts (admins).
pub async fn list_service_accounts(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    page: &PageRequest,
) -> Result<Page<service_account::Model>> {
    authz::authorize(db_conn, principal, org_id, Action::Administer).await?;
    let query = service_account::Entity::find();
    Ok(crate::service::page::by_id(
        db_conn,
        query,
        Some((service_account::Column::OrganizationId, org_id)),
        service_account::Column::Id,
        page,
        |s| s.id.clone(),
    )
    .await?)
}

/// Deletes a service account (admins); its tokens stop working at once.
pub async fn delete_service_account(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    account_id: &str,
) -> Result<()> {
    let txn = db::begin_write(db_conn).await?;
    authz::authorize(&txn, principal, org_id, Action::Administer).await?;
    let account = service_account::Entity::find_by_id(account_id.to_owned())
        .filter(service_account::Column::OrganizationId.eq(org_id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("service account"))?;
    service_account::Entity::delete_by_id(account.id.clone())
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "service_account.deleted",
            entity_type: "service_account",
            entity_id: &account.id,
            changes: Changes::new().field("name", &Some(account.name), &None::<String>),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
