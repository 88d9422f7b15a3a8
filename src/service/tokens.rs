//! The OAuth 2.0 token endpoint's grants (password, client_credentials, refresh_token), refresh-token
//! rotation with reuse detection, revocation (RFC 7009) and brute-force throttling of password grants.

use chrono::{DateTime, Duration, TimeZone, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter, sea_query::Expr, sea_query::OnConflict,
};

use crate::{
    auth::{jwt::JwtKeys, password},
    crypto::{constant_time_eq, random_token, sha256_hex},
    error::AppError,
    store::db,
};
use entity::{login_throttle, refresh_token, revoked_token, service_account, user};

/// Lifetime of refresh tokens (see docs/identity.md).
pub const REFRESH_TOKEN_DAYS: i64 = 30;
/// Failed password grants for one username allowed within the window before throttling.
pub const MAX_FAILURES: i32 = 5;
/// The window over which failures are counted.
pub const FAILURE_WINDOW_MINUTES: i64 = 15;
/// First lock-out, doubled for each further failure, capped at the window.
pub const FIRST_LOCK_SECONDS: i64 = 30;

/// Tokens issued by a successful grant.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: Option<String>,
}

/// Why a grant failed, in RFC 6749 §5.2 terms (or a service-level failure).
#[derive(Debug)]
pub enum GrantError {
    /// `invalid_request`: a parameter is missing or malformed.
    InvalidRequest(String),
    /// `invalid_grant`: wrong credentials, or a bad, expired or reused refresh token.
    InvalidGrant(String),
    /// `invalid_client`: unknown client or wrong secret.
    InvalidClient(String),
    /// `unsupported_grant_type`.
    UnsupportedGrantType(String),
    /// Throttled or failed for another reason.
    App(AppError),
}

impl From<AppError> for GrantError {
    fn from(err: AppError) -> Self {
        Self::App(err)
    }
}

impl From<sea_orm::DbErr> for GrantError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::App(err.into())
    }
}

type GrantResult<T> = Result<T, GrantError>;

fn required<'a>(value: Option<&'a str>, name: &str) -> GrantResult<&'a str> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| GrantError::InvalidRequest(format!("`{name}` is required")))
}

/// The normalized throttle key of a username.
fn throttle_key(username: &str) -> String {
    let key = username.trim().to_lowercase();
    key.chars().take(320).collect()
}

async fn check_throttle(db_conn: &DatabaseConnection, key: &str) -> GrantResult<()> {
    let row = login_throttle::Entity::find_by_id(key.to_owned())
        .one(db_conn)
        .await?;
    if let Some(locked_until) = row.and_then(|r| r.locked_until) {
        let now = db::now();
        if locked_until > now {
            let retry_after = u64::try_from((locked_until - now).num_seconds().max(1)).unwrap_or(1);
            return Err(GrantError::App(AppError::RateLimited { retry_after }));
        }
    }
    Ok(())
}

fn lock_duration(failures: i32) -> Duration {
    let doublings = u32::try_from(failures - MAX_FAILURES).unwrap_or(0).min(10);
    let seconds = FIRST_LOCK_SECONDS.saturating_mul(1 << doublings);
    Duration::seconds(seconds.min(FAILURE_WINDOW_MINUTES * 60))
}

async fn record_failure(db_conn: &DatabaseConnection, key: &str) -> Result<(), AppError> {
    let txn = db::begin_write(db_conn).await?;
    let now = db::now();
    let window_start = now - Duration::minutes(FAILURE_WINDOW_MINUTES);
    match login_throttle::Entity::find_by_id(key.to_owned())
        .one(&txn)
        .await?
    {
        None => {
            let row = login_throttle::ActiveModel {
                username: Set(key.to_owned()),
                failures: Set(1),
                window_started_at: Set(now),
                locked_until: Set(None),
            };
            if let Err(err) = login_throttle::Entity::insert(row)
                .exec_without_returning(&txn)
                .await
                && !crate::error::is_unique_violation(&err)
            {
                return Err(err.into());
            }
        }
        Some(row) => {
            let (failures, started) = if row.window_started_at < window_start {
                (1, now)
            } else {
                (row.failures + 1, row.window_started_at)
            };
            let locked_until = (failures >= MAX_FAILURES).then(|| now + lock_duration(failures));
            let mut active = row.into_active_model();
            active.failures = Set(failures);
            active.window_started_at = Set(started);
            active.locked_until = Set(locked_until);
            active.update(&txn).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

async fn issue_refresh_token<C: ConnectionTrait>(
    conn: &C,
    user_id: &str,
    family_id: String,
) -> Result<String, AppError> {
    let token = format!("axr_{}", random_token(32));
    let now = db::now();
    refresh_token::Entity::insert(refresh_token::ActiveModel {
        id: Set(db::new_id()),
        token_hash: Set(sha256_hex(token.as_bytes())),
        family_id: Set(family_id),
        user_id: Set(user_id.to_owned()),
        expires_at: Set(now + Duration::days(REFRESH_TOKEN_DAYS)),
        used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(token)
}

fn access_token(jwt: &JwtKeys, sub: String) -> Result<(String, i64), AppError> {
    let (token, _) = jwt.issue(sub).map_err(AppError::internal)?;
    Ok((token, jwt.ttl_seconds()))
}

/// `grant_type=password`: a user's email and password.
pub async fn password_grant(
    db_conn: &DatabaseConnection,
    jwt: &JwtKeys,
    username: Option<&str>,
    password_value: Option<&str>,
) -> GrantResult<IssuedTokens> {
    let username = required(username, "username")?;
    let password_value = required(password_value, "password")?;
    let key = throttle_key(username);
    check_throttle(db_conn, &key).await?;
    let found = user::Entity::find()
        .filter(user::Column::Email.eq(key.as_str()))
        .one(db_conn)
        .await?;
    let ok = password::verify(
        password_value,
        found.as_ref().map(|u| u.password_hash.as_str()),
    )
    .await?;
    let user = match (ok, found) {
        (true, Some(user)) => user,
        _ => {
            record_failure(db_conn, &key).await?;
            return Err(GrantError::InvalidGrant(
                "the username or password is incorrect".to_owned(),
            ));
        }
    };
    // A hash made with older costs is replaced now, while the password is at hand; only if it
    // is still the stored one, so that a password changed meanwhile stays changed.
    let rehashed = if password::needs_rehash(&user.password_hash) {
        Some(password::hash(password_value).await?)
    } else {
        None
    };
    let txn = db::begin_write(db_conn).await?;
    login_throttle::Entity::delete_by_id(key).exec(&txn).await?;
    if let Some(rehashed) = rehashed {
        user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(rehashed))
            .filter(user::Column::Id.eq(user.id.as_str()))
            .filter(user::Column::PasswordHash.eq(user.password_hash.as_str()))
            .exec(&txn)
            .await?;
    }
    let refresh = issue_refresh_token(&txn, &user.id, db::new_id()).await?;
    txn.commit().await?;
    let (access, expires_in) = access_token(jwt, format!("user:{}", user.id))?;
    Ok(IssuedTokens {
        access_token: access,
        expires_in,
        refresh_token: Some(refresh),
    })
}

/// `grant_type=client_credentials`: a service account's client id and secret.
pub async fn client_credentials_grant(
    db_conn: &DatabaseConnection,
    jwt: &JwtKeys,
    client_id: Option<&str>,
    client_secret: Option<&str>,
) -> GrantResult<IssuedTokens> {
    let client_id = required(client_id, "client_id")?;
    let client_secret = required(client_secret, "client_secret")?;
    let account = service_account::Entity::find()
        .filter(service_account::Column::ClientId.eq(client_id))
        .one(db_conn)
        .await?;
    let presented = sha256_hex(client_secret.as_bytes());
    let Some(account) =
        account.filter(|a| constant_time_eq(a.secret_hash.as_bytes(), presented.as_bytes()))
    else {
        return Err(GrantError::InvalidClient(
            "the client id or secret is incorrect".to_owned(),
        ));
    };
    let (access, expires_in) = access_token(jwt, format!("service_account:{}", account.id))?;
    Ok(IssuedTokens {
        access_token: access,
        expires_in,
        refresh_token: None,
    })
}

async fn revoke_family<C: ConnectionTrait>(conn: &C, family_id: &str) -> Result<(), AppError> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(db::now()))
        .filter(refresh_token::Column::FamilyId.eq(family_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// `grant_type=refresh_token`: single use; a reused token revokes its whole family.
pub async fn refresh_grant(
    db_conn: &DatabaseConnection,
    jwt: &JwtKeys,
    presented: Option<&str>,
) -> GrantResult<IssuedTokens> {
    let presented = required(presented, "refresh_token")?;
    let invalid =
        || GrantError::InvalidGrant("the refresh token is invalid, expired or revoked".to_owned());
    let txn = db::begin_write(db_conn).await?;
    let Some(row) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(sha256_hex(presented.as_bytes())))
        .one(&txn)
        .await?
    else {
        return Err(invalid());
    };
    if row.revoked_at.is_some() {
        return Err(invalid());
    }
    if row.expires_at <= db::now() {
        return Err(invalid());
    }
    // Mark used only if nobody else did: the loser of a race is treated as a reuse.
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(db::now()))
        .filter(refresh_token::Column::Id.eq(row.id.as_str()))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        revoke_family(&txn, &row.family_id).await?;
        txn.commit().await?;
        tracing::warn!(family = %row.family_id, "refresh token reused; family revoked");
        return Err(GrantError::InvalidGrant(
            "the refresh token was already used; the session has been revoked".to_owned(),
        ));
    }
    let refresh = issue_refresh_token(&txn, &row.user_id, row.family_id.clone()).await?;
    txn.commit().await?;
    let (access, expires_in) = access_token(jwt, format!("user:{}", row.user_id))?;
    Ok(IssuedTokens {
        access_token: access,
        expires_in,
        refresh_token: Some(refresh),
    })
}

/// RFC 7009: revokes a refresh token (its family) or an access token (its `jti`). Unknown
/// or invalid tokens are not an error.
pub async fn revoke(
    db_conn: &DatabaseConnection,
    jwt: &JwtKeys,
    token: &str,
) -> Result<(), AppError> {
    let txn = db::begin_write(db_conn).await?;
    let refresh = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(sha256_hex(token.as_bytes())))
        .one(&txn)
        .await?;
    if let Some(row) = refresh {
        revoke_family(&txn, &row.family_id).await?;
    } else if let Ok(claims) = jwt.verify_ignoring_expiry(token) {
        let expires_at: DateTime<Utc> = Utc
            .timestamp_opt(claims.exp, 0)
            .single()
            .unwrap_or_else(db::now);
        revoked_token::Entity::insert(revoked_token::ActiveModel {
            jti: Set(claims.jti),
            expires_at: Set(expires_at),
            created_at: Set(db::now()),
        })
        .on_conflict(
            OnConflict::column(revoked_token::Column::Jti)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Deletes what can no longer matter: expired revocations, refresh tokens and idempotency keys.
pub async fn purge_expired(db_conn: &DatabaseConnection) -> Result<(), AppError> {
    let now = db::now();
    revoked_token::Entity::delete_many()
        .filter(revoked_token::Column::ExpiresAt.lt(now - Duration::seconds(120)))
        .exec(db_conn)
        .await?;
    refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::ExpiresAt.lt(now))
        .exec(db_conn)
        .await?;
    entity::idempotency_key::Entity::delete_many()
        .filter(
            entity::idempotency_key::Column::CreatedAt
                .lt(now - Duration::hours(crate::service::idempotency::KEY_TTL_HOURS)),
        )
        .exec(db_conn)
        .await?;
    Ok(())
}
