//! The caller lookup: for a batch of access tokens, each token's subject, whether it was
//! revoked, and the subject's standing in the organization its request names, in one statement.

use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use crate::{domain::role::Role, error::Result, store::sql::statement};

/// One token to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenKey {
    /// The token's id (`jti`).
    pub jti: String,
    /// The user it was issued to, when a user's.
    pub user_id: Option<String>,
    /// The service account it was issued to, when a service account's.
    pub service_account_id: Option<String>,
    /// The organization the request names, if any.
    pub org_id: Option<String>,
}

/// What the statement found for one key (columns named as the statement selects them).
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct Standing {
    /// The key's position in the batch.
    pub key_index: i64,
    pub user_id: Option<String>,
    pub user_email: Option<String>,
    pub user_name: Option<String>,
    pub user_is_platform_admin: Option<bool>,
    pub account_id: Option<String>,
    pub account_name: Option<String>,
    pub account_organization_id: Option<String>,
    pub account_role: Option<Role>,
    /// Whether the token's id is on the revocation list.
    pub revoked: bool,
    /// The user's membership role in the organization (users only).
    pub member_role: Option<Role>,
    /// The organization's data version; `None` when it does not exist.
    pub data_version: Option<i64>,
}

/// Columns per key in the statement's key table.
const KEY_COLUMNS: usize = 5;

/// The [`Standing`] of every key, in one statement; keys whose subject does not exist still
/// answer a row (with no user or account). The key table is padded to a power of two rows of
/// nulls that match nothing, so that few statement texts are prepared.
pub async fn standings<C: ConnectionTrait>(conn: &C, keys: &[TokenKey]) -> Result<Vec<Standing>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let size = keys.len().next_power_of_two();
    let mut values: Vec<Value> = Vec::with_capacity(size * KEY_COLUMNS);
    for (index, key) in keys.iter().enumerate() {
        values.extend([
            (index as i64).into(),
            key.jti.clone().into(),
            key.user_id.clone().into(),
            key.service_account_id.clone().into(),
            key.org_id.clone().into(),
        ]);
    }
    for _ in keys.len()..size {
        values.extend([
            Value::BigInt(None),
            Value::String(None),
            Value::String(None),
            Value::String(None),
            Value::String(None),
        ]);
    }
    let sql = format!(
        "WITH k(i, jti, uid, sid, org) AS (VALUES {}) SELECT k.i AS key_index, \
         u.id AS user_id, u.email AS user_email, u.name AS user_name, \
         u.is_platform_admin AS user_is_platform_admin, \
         s.id AS account_id, s.name AS account_name, s.organization_id AS account_organization_id, \
         s.role AS account_role, \
         EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.jti = k.jti) AS revoked, \
         (SELECT m.role FROM memberships m WHERE m.organization_id = k.org AND m.user_id = k.uid) AS member_role, \
         (SELECT v.data_version FROM organization_versions v WHERE v.organization_id = k.org) AS data_version \
         FROM k LEFT JOIN users u ON u.id = k.uid LEFT JOIN service_accounts s ON s.id = k.sid \
         WHERE k.i IS NOT NULL",
        vec!["(?, ?, ?, ?, ?)"; size].join(", ")
    );
    let backend = conn.get_database_backend();
    Ok(
        Standing::find_by_statement(statement(backend, &sql, values))
            .all(conn)
            .await?,
    )
}

/// The user's membership role in the organization and the organization's data version (each
/// `None` when there is none): the same sub-selects as [`standings`], for a caller whose
/// request named another organization.
pub async fn membership<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    user_id: Option<&str>,
) -> Result<(Option<Role>, Option<i64>)> {
    #[derive(FromQueryResult)]
    struct Row {
        member_role: Option<Role>,
        data_version: Option<i64>,
    }
    let row = Row::find_by_statement(statement(
        conn.get_database_backend(),
        "SELECT (SELECT m.role FROM memberships m WHERE m.organization_id = ? AND m.user_id = ?) AS member_role, \
         (SELECT v.data_version FROM organization_versions v WHERE v.organization_id = ?) AS data_version",
        vec![
            org_id.into(),
            user_id.unwrap_or_default().into(),
            org_id.into(),
        ],
    ))
    .one(conn)
    .await?;
    Ok(row.map_or((None, None), |r| (r.member_role, r.data_version)))
}
