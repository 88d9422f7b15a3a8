//! Users, organizations, memberships and service accounts: the tenancy model of docs/identity.md.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter,
};

use crate::{
    crypto::random_token,
    domain::{
        identity::{normalize_email, normalize_name},
        principal::Principal,
    },
    error::{AppError, Result, ResultExt},
    service::{
        audit::{self, AuditRecord, Changes},
        authz,
        page::{Page, PageRequest},
    },
    store::db,
};
use entity::user;

mod organizations;
use organizations::find_organization;
pub use organizations::{
    create_organization, delete_organization, get_organization, list_organizations,
    update_organization,
};

mod members;
pub use members::{
    UserRef, add_member, get_member, list_members, memberships_of, remove_member, update_member,
};

mod service_accounts;
pub use service_accounts::{create_service_account, delete_service_account, list_service_accounts};

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

// ---------------------------------------------------------------- members

// ---------------------------------------------------------------- service accounts
