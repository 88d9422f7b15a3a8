//! Users, organizations, memberships and service accounts: the tenancy model of contract §2.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};

use crate::{
    crypto::{random_token, sha256_hex},
    domain::{
        identity::{normalize_email, normalize_name},
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
use entity::{membership, organization, organization_version, service_account, user};

/// A user to create; the password is already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub is_platform_admin: bool,
}

/// Inserts a user (409 `email-taken` when the email exists) and records the audit event.
pub async fn insert_user<C: ConnectionTrait>(
    conn: &C,
    actor: &str,
    request_id: Option<&str>,
    new: NewUser,
) -> Result<user::Model> {
    let now = db::now();
    let model = user::ActiveModel {
        id: Set(db::new_id()),
        email: Set(new.email),
        name: Set(new.name),
        password_hash: Set(new.password_hash),
        is_platform_admin: Set(new.is_platform_admin),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let created = model
        .insert(conn)
        .await
        .on_unique("email-taken", "a user with this email already exists")?;
    audit::record_as(
        conn,
        actor,
        request_id,
        AuditRecord {
            organization_id: None,
            action: "user.created",
            entity_type: "user",
            entity_id: &created.id,
            changes: Changes::new()
                .created("email", &created.email)
                .created("name", &created.name)
                .created("is_platform_admin", &created.is_platform_admin),
        },
    )
    .await?;
    Ok(created)
}

/// Validates the email and name of a new user; returns them normalized.
pub fn validate_new_user(email: &str, name: Option<&str>) -> Result<(String, String)> {
    let email = normalize_email(email).map_err(|m| AppError::invalid("email", m))?;
    let name = match name {
        Some(name) => normalize_name(name).map_err(|m| AppError::invalid("name", m))?,
        None => email.clone(),
    };
    Ok((email, name))
}

/// Lists users by id (platform admins only), optionally filtered.
pub async fn list_users(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    page: &PageRequest,
    email: Option<&str>,
    updated_since: Option<DateTime<Utc>>,
) -> Result<Page<user::Model>> {
    authz::require_platform_admin(principal)?;
    let mut query = user::Entity::find();
    if let Some(email) = email {
        query = query.filter(user::Column::Email.eq(email.trim().to_lowercase()));
    }
    if let Some(since) = updated_since {
        query = query.filter(user::Column::UpdatedAt.gte(since));
    }
    Ok(
        crate::service::page::by_id(db_conn, query, None, user::Column::Id, page, |u| {
            u.id.clone()
        })
        .await?,
    )
}

/// Creates the first platform admin when there are no users. Returns the generated password
/// when none was configured, so that the caller prints it once.
pub async fn ensure_bootstrap_admin(
    db_conn: &DatabaseConnection,
    email: Option<&str>,
    password: Option<&str>,
) -> Result<Option<(String, String)>> {
    if user::Entity::find().count(db_conn).await? > 0 {
        return Ok(None);
    }
    let email = normalize_email(email.unwrap_or("admin@localhost"))
        .map_err(|m| AppError::invalid("ANNEXA_BOOTSTRAP_ADMIN_EMAIL", m))?;
    let (password, generated) = match password {
        Some(p) => {
            crate::domain::identity::check_password(p)
                .map_err(|m| AppError::invalid("ANNEXA_BOOTSTRAP_ADMIN_PASSWORD", m))?;
            (p.to_owned(), false)
        }
        None => (random_token(18), true),
    };
    let password_hash = crate::auth::password::hash(&password).await?;
    let txn = db::begin_write(db_conn).await?;
    if user::Entity::find().count(&txn).await? > 0 {
        return Ok(None);
    }
    let new = NewUser {
        email: email.clone(),
        name: "Platform admin".to_owned(),
        password_hash,
        is_platform_admin: true,
    };
    match insert_user(&txn, "system", None, new).await {
        Ok(_) => {}
        // Another replica created it first.
        Err(AppError::Conflict { .. }) => return Ok(None),
        Err(err) => return Err(err),
    }
    txn.commit().await?;
    Ok(generated.then_some((email, password)))
}

// ---------------------------------------------------------------- organizations

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

async fn find_organization<C: ConnectionTrait>(
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

// ---------------------------------------------------------------- members

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
        role: Set(role.as_str().to_owned()),
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

async fn find_member<C: ConnectionTrait>(
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

async fn ensure_not_last_admin<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    member: &membership::Model,
) -> Result<()> {
    if member.role != Role::Admin.as_str() {
        return Ok(());
    }
    let admins = membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(org_id))
        .filter(membership::Column::Role.eq(Role::Admin.as_str()))
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
    if member.role == role.as_str() {
        return Ok((member, user));
    }
    if role != Role::Admin {
        ensure_not_last_admin(&txn, org_id, &member).await?;
    }
    let changes = Changes::new().field("role", &member.role, &role.as_str().to_owned());
    let mut active = member.clone().into_active_model();
    active.role = Set(role.as_str().to_owned());
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
            changes: Changes::new().field("role", &Some(member.role), &None::<String>),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- service accounts

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
        role: Set(role.as_str().to_owned()),
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
                .filter_map(|m| {
                    Some((orgs.get(&m.organization_id)?.clone(), Role::parse(&m.role)?))
                })
                .collect())
        }
    }
}
