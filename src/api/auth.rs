//! `/auth/token` (OAuth 2.0 password, client_credentials and refresh_token grants), `/auth/revoke`
//! (RFC 7009) and `/me`.

use actix_web::{HttpRequest, HttpResponse, get, http::header, post, web};
use base64::Engine;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use utoipa::ToSchema;

use crate::{
    api::{responses::TooManyRequests, throttle::TokenClientLimit},
    domain::principal::{Principal, Subject},
    domain::role::Role,
    error::{AppError, Result},
    service::{
        identity,
        tokens::{self, GrantError},
    },
    state::AppState,
};

/// The OAuth 2.0 grant types accepted.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    /// A user's email (`username`) and `password`.
    Password,
    /// A service account's `client_id` and `client_secret` (also accepted as HTTP Basic).
    ClientCredentials,
    /// A `refresh_token` from an earlier password grant (single use; a new one is returned).
    RefreshToken,
}

/// A token request (RFC 6749 §4.3, §4.4, §6), as JSON or `application/x-www-form-urlencoded`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The grant type.
    #[schema(value_type = GrantType)]
    pub grant_type: String,
    /// For `password`: the user's email.
    #[schema(example = "admin@example.com")]
    pub username: Option<String>,
    /// For `password`: the user's password.
    #[schema(format = Password)]
    pub password: Option<String>,
    /// For `client_credentials`: the service account's client id.
    pub client_id: Option<String>,
    /// For `client_credentials`: the service account's secret.
    #[schema(format = Password)]
    pub client_secret: Option<String>,
    /// For `refresh_token`: the refresh token.
    pub refresh_token: Option<String>,
    /// Ignored: access is decided by roles, not scopes.
    pub scope: Option<String>,
}

/// Tokens issued (RFC 6749 §5.1).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// The access token: a JWT to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
    /// For the password and refresh_token grants: a single-use refresh token (30 days).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// RFC 6749 §5.2 error codes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnsupportedGrantType,
}

/// An OAuth 2.0 error (RFC 6749 §5.2).
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthError {
    /// The error code.
    pub error: OAuthErrorCode,
    /// What went wrong, for humans.
    pub error_description: String,
}

fn oauth_error(status: u16, error: OAuthErrorCode, description: String) -> HttpResponse {
    let mut builder = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
    );
    builder
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    if status == 401 {
        builder.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"annexa\""));
    }
    builder.json(OAuthError {
        error,
        error_description: description,
    })
}

/// Parses a JSON or form body by its content type.
fn parse_body<T: DeserializeOwned>(
    req: &HttpRequest,
    body: &[u8],
) -> std::result::Result<T, Box<HttpResponse>> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let parsed = if content_type.starts_with("application/json") {
        serde_json::from_slice::<T>(body).map_err(|e| e.to_string())
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        serde_urlencoded::from_bytes::<T>(body).map_err(|e| e.to_string())
    } else {
        return Err(Box::new(actix_web::ResponseError::error_response(
            &AppError::UnsupportedMediaType(
                "send application/x-www-form-urlencoded or application/json".to_owned(),
            ),
        )));
    };
    parsed.map_err(|e| {
        Box::new(oauth_error(
            400,
            OAuthErrorCode::InvalidRequest,
            format!("the request body is invalid: {e}"),
        ))
    })
}

/// Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1), if present.
fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

/// Get an access token.
///
/// The OAuth 2.0 token endpoint: `password` (users), `client_credentials` (service accounts,
/// in the body or as HTTP Basic) and `refresh_token` (rotation: each refresh token works once;
/// presenting a spent one revokes its whole family). Repeated failed password grants for one
/// username are throttled with 429 and `Retry-After`, and so are token requests from one client
/// address past its rate limit.
#[utoipa::path(
    tag = "auth",
    request_body(
        description = "The grant, as a form (RFC 6749) or as JSON",
        content(
            (TokenRequest = "application/x-www-form-urlencoded"),
            (TokenRequest = "application/json"),
        )
    ),
    responses(
        (status = 200, description = "Tokens issued", body = TokenResponse,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "RFC 6749 error: invalid_request, invalid_grant or unsupported_grant_type", body = OAuthError),
        (status = 401, description = "RFC 6749 error: invalid_client", body = OAuthError),
        (status = 429, response = TooManyRequests),
    )
)]
#[post("/auth/token")]
pub async fn auth_token(
    _limit: TokenClientLimit,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let request: TokenRequest = match parse_body(&req, &body) {
        Ok(r) => r,
        Err(response) => return Ok(*response),
    };
    let outcome = match request.grant_type.as_str() {
        "password" => {
            tokens::password_grant(
                &state.db,
                &state.jwt,
                request.username.as_deref(),
                request.password.as_deref(),
            )
            .await
        }
        "client_credentials" => {
            let (id, secret) = match basic_credentials(&req) {
                Some((id, secret)) => (Some(id), Some(secret)),
                None => (request.client_id.clone(), request.client_secret.clone()),
            };
            tokens::client_credentials_grant(
                &state.db,
                &state.jwt,
                id.as_deref(),
                secret.as_deref(),
            )
            .await
        }
        "refresh_token" => {
            tokens::refresh_grant(&state.db, &state.jwt, request.refresh_token.as_deref()).await
        }
        other => Err(GrantError::UnsupportedGrantType(format!(
            "grant_type `{other}` is not supported (use password, client_credentials or refresh_token)"
        ))),
    };
    Ok(match outcome {
        Ok(issued) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(TokenResponse {
                access_token: issued.access_token,
                token_type: "Bearer".to_owned(),
                expires_in: issued.expires_in,
                refresh_token: issued.refresh_token,
            }),
        Err(GrantError::InvalidRequest(d)) => oauth_error(400, OAuthErrorCode::InvalidRequest, d),
        Err(GrantError::InvalidGrant(d)) => oauth_error(400, OAuthErrorCode::InvalidGrant, d),
        Err(GrantError::UnsupportedGrantType(d)) => {
            oauth_error(400, OAuthErrorCode::UnsupportedGrantType, d)
        }
        Err(GrantError::InvalidClient(d)) => oauth_error(401, OAuthErrorCode::InvalidClient, d),
        Err(GrantError::App(err)) => return Err(err),
    })
}

/// A revocation request (RFC 7009).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// A refresh token or an access token.
    pub token: String,
    /// `refresh_token` or `access_token` (a hint only).
    pub token_type_hint: Option<String>,
}

/// Revoke a token.
///
/// RFC 7009: revokes a refresh token (and the tokens rotated from it) or an access token (by its
/// `jti`, at once). Unknown and already-revoked tokens also answer 200.
#[utoipa::path(
    tag = "auth",
    request_body(
        description = "The token to revoke",
        content(
            (RevokeRequest = "application/x-www-form-urlencoded"),
            (RevokeRequest = "application/json"),
        )
    ),
    responses(
        (status = 200, description = "The token is no longer valid"),
        (status = 400, description = "RFC 6749 error: invalid_request", body = OAuthError),
    )
)]
#[post("/auth/revoke")]
pub async fn auth_revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let request: RevokeRequest = match parse_body(&req, &body) {
        Ok(r) => r,
        Err(response) => return Ok(*response),
    };
    tokens::revoke(&state.db, &state.jwt, request.token.trim()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// What kind of principal a caller is.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    User,
    ServiceAccount,
}

/// One organization the caller belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeMembership {
    /// The organization's id.
    pub organization_id: String,
    /// The organization's name.
    pub organization_name: String,
    /// The caller's role there.
    pub role: Role,
}

/// The caller and its memberships.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// `user` or `service_account`.
    pub kind: PrincipalKind,
    /// The user's or service account's id.
    pub id: String,
    /// The user's email (null for service accounts).
    pub email: Option<String>,
    /// The display name.
    pub name: String,
    /// Whether the caller is a platform admin (acts as admin in every organization).
    pub is_platform_admin: bool,
    /// The organizations the caller belongs to, with its role in each.
    pub memberships: Vec<MeMembership>,
}

/// Who am I.
///
/// The authenticated caller (user or service account) and its organization memberships.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "The caller", body = Me),
    )
)]
#[get("/me")]
pub async fn me_get(state: web::Data<AppState>, principal: Principal) -> Result<HttpResponse> {
    let memberships = identity::memberships_of(&state.db, &principal)
        .await?
        .into_iter()
        .map(|(org, role)| MeMembership {
            organization_id: org.id,
            organization_name: org.name,
            role,
        })
        .collect();
    let me = match &principal.subject {
        Subject::User {
            id,
            email,
            name,
            is_platform_admin,
        } => Me {
            kind: PrincipalKind::User,
            id: id.clone(),
            email: Some(email.clone()),
            name: name.clone(),
            is_platform_admin: *is_platform_admin,
            memberships,
        },
        Subject::ServiceAccount { id, name, .. } => Me {
            kind: PrincipalKind::ServiceAccount,
            id: id.clone(),
            email: None,
            name: name.clone(),
            is_platform_admin: false,
            memberships,
        },
    };
    Ok(HttpResponse::Ok().json(me))
}
