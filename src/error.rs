//! One error type for the whole service, rendered in one place as RFC 9457 problem+json.

use actix_web::{
    HttpRequest, HttpResponse, ResponseError,
    error::{JsonPayloadError, PathError, QueryPayloadError, UrlencodedError},
    http::{StatusCode, header},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `Result` with [`AppError`] as the default error.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The field (JSON pointer-like dotted path, or the query/header parameter name).
    #[schema(example = "justification")]
    pub field: String,
    /// What is wrong with it.
    #[schema(example = "is required when applicable is false")]
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every way a request can fail. The variants describe what went wrong, not how HTTP says it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// The request is malformed (syntax, types, unknown fields, bad parameters).
    #[error("{detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// The resource does not exist, or belongs to another organization.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A resource a field of the request names does not exist, or belongs to another
    /// organization (404, naming the field).
    #[error("{detail}")]
    ReferenceNotFound {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// The request conflicts with the current state.
    #[error("{detail}")]
    Conflict {
        slug: &'static str,
        detail: String,
        /// The refs of the risks the conflict is about (the problem's `risks` member), if any.
        risks: Vec<String>,
    },
    /// The request is well formed but semantically invalid.
    #[error("{detail}")]
    Invalid {
        slug: &'static str,
        detail: String,
        errors: Vec<FieldError>,
    },
    /// No credentials, or credentials that are not valid.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller is known but its role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// `If-Match` did not match the current version.
    #[error("the resource has changed since it was read")]
    PreconditionFailed,
    /// The body is larger than allowed.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body's media type is not accepted.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The request arrives too often; retry after the given seconds.
    #[error("too many requests; retry after {retry_after} s")]
    RateLimited { retry_after: u64 },
    /// The method is not allowed on this path.
    #[error("method not allowed")]
    MethodNotAllowed { allow: String },
    /// A fault of the service; the cause is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// A malformed request with one field error.
    pub fn bad_request(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::BadRequest {
            detail: format!("invalid `{field}`: {message}"),
            errors: vec![FieldError::new(field, message)],
        }
    }

    /// A semantically invalid request with one field error (422 `validation-failed`).
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::Invalid {
            slug: "validation-failed",
            detail: format!("`{field}` {message}"),
            errors: vec![FieldError::new(field, message)],
        }
    }

    /// A resource named by `field` that is not found (404 `not-found` naming the field).
    pub fn not_found_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::ReferenceNotFound {
            detail: format!("`{field}` {message}"),
            errors: vec![FieldError::new(field, message)],
        }
    }

    /// A conflict with the current state (409).
    pub fn conflict(slug: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict {
            slug,
            detail: detail.into(),
            risks: Vec::new(),
        }
    }

    /// A conflict with the current state of some risks, named by their refs in `detail` and in
    /// the problem's `risks` member (409).
    pub fn conflict_with_risks(slug: &'static str, detail: &str, refs: Vec<String>) -> Self {
        Self::Conflict {
            slug,
            detail: format!("{detail}: {}", refs.join(", ")),
            risks: refs,
        }
    }

    /// An internal error from any displayable cause.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    fn slug(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "bad-request",
            Self::NotFound(_) | Self::ReferenceNotFound { .. } => "not-found",
            Self::Conflict { slug, .. } => slug,
            Self::Invalid { slug, .. } => slug,
            Self::Unauthenticated(_) => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::PreconditionFailed => "precondition-failed",
            Self::PayloadTooLarge(_) => "payload-too-large",
            Self::UnsupportedMediaType(_) => "unsupported-media-type",
            Self::RateLimited { .. } => "rate-limited",
            Self::MethodNotAllowed { .. } => "method-not-allowed",
            Self::Internal(_) => "internal",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "Malformed request",
            Self::NotFound(_) | Self::ReferenceNotFound { .. } => "Not found",
            Self::Conflict { .. } => "Conflict",
            Self::Invalid { .. } => "Invalid request",
            Self::Unauthenticated(_) => "Authentication required",
            Self::Forbidden(_) => "Forbidden",
            Self::PreconditionFailed => "Precondition failed",
            Self::PayloadTooLarge(_) => "Payload too large",
            Self::UnsupportedMediaType(_) => "Unsupported media type",
            Self::RateLimited { .. } => "Too many requests",
            Self::MethodNotAllowed { .. } => "Method not allowed",
            Self::Internal(_) => "Internal server error",
        }
    }

    /// The problem document for this error (without `instance`, filled in by the middleware).
    pub fn problem(&self) -> Problem {
        let detail = match self {
            Self::Internal(_) => "an unexpected error occurred; it has been logged".to_owned(),
            other => other.to_string(),
        };
        let errors = match self {
            Self::BadRequest { errors, .. }
            | Self::Invalid { errors, .. }
            | Self::ReferenceNotFound { errors, .. }
                if !errors.is_empty() =>
            {
                Some(errors.clone())
            }
            _ => None,
        };
        let risks = match self {
            Self::Conflict { risks, .. } if !risks.is_empty() => Some(risks.clone()),
            _ => None,
        };
        Problem {
            problem_type: format!("urn:annexa:problem:{}", self.slug()),
            title: self.title().to_owned(),
            status: self.status_code().as_u16(),
            detail,
            instance: None,
            request_id: None,
            errors,
            risks,
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Internal(format!("database: {err}"))
    }
}

/// Whether a database error is a unique-constraint violation.
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Named handling of a database error on a result (after realworld-axum-sqlx's `ResultExt`).
pub trait ResultExt<T> {
    /// A violation of a unique constraint becomes a 409 with `slug` and `detail` (the conflict
    /// the constraint stands for); any other database error stays internal.
    fn on_unique(self, slug: &'static str, detail: impl Into<String>) -> Result<T>;
}

impl<T> ResultExt<T> for std::result::Result<T, sea_orm::DbErr> {
    fn on_unique(self, slug: &'static str, detail: impl Into<String>) -> Result<T> {
        self.map_err(|err| {
            if is_unique_violation(&err) {
                AppError::conflict(slug, detail)
            } else {
                err.into()
            }
        })
    }
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(err: sea_orm::TransactionError<AppError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(e) => e.into(),
            sea_orm::TransactionError::Transaction(e) => e,
        }
    }
}

/// An RFC 9457 problem document, the body of every error response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:annexa:problem:validation-failed",
    "title": "Invalid request",
    "status": 422,
    "detail": "`justification` is required when applicable is false",
    "instance": "/api/v1/organizations/0193.../controls/0193...",
    "request_id": "0193a5b2-7c1e-7d3f-8a2b-0c9d8e7f6a5b",
    "errors": [{"field": "justification", "message": "is required when applicable is false"}]
}))]
pub struct Problem {
    /// A URN naming the kind of problem: `urn:annexa:problem:<slug>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// The request path this problem is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The request id, as in the `x-request-id` header and the logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// For validation problems: each invalid field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// For conflicts about risks (`rating-orphaned`, `control-treats-risk`): the risks' refs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risks: Option<Vec<String>>,
}

/// The media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::NotFound(_) | Self::ReferenceNotFound { .. } => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(cause = %cause, "request failed");
        }
        let problem = self.problem();
        let mut builder = HttpResponse::build(self.status_code());
        builder.content_type(PROBLEM_JSON);
        match self {
            Self::Unauthenticated(_) => {
                builder.insert_header((
                    header::WWW_AUTHENTICATE,
                    "Bearer realm=\"annexa\", error=\"invalid_token\"",
                ));
            }
            Self::RateLimited { retry_after } => {
                builder.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            Self::MethodNotAllowed { allow } => {
                builder.insert_header((header::ALLOW, allow.clone()));
            }
            _ => {}
        }
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = builder.body(body);
        response.extensions_mut().insert(problem);
        response
    }
}

/// Turns actix's JSON extractor failures into problems.
pub fn json_error_handler(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let app_error = match &err {
        JsonPayloadError::OverflowKnownLength { length, limit } => AppError::PayloadTooLarge(
            format!("the JSON body is {length} bytes; the limit is {limit} bytes"),
        ),
        JsonPayloadError::Overflow { limit } => {
            AppError::PayloadTooLarge(format!("the JSON body exceeds the limit of {limit} bytes"))
        }
        JsonPayloadError::ContentType => AppError::UnsupportedMediaType(
            "the body must be sent with `Content-Type: application/json`".to_owned(),
        ),
        JsonPayloadError::Deserialize(e) => {
            let field = json_error_field(&e.to_string());
            AppError::BadRequest {
                detail: format!("the JSON body is invalid: {e}"),
                errors: vec![FieldError::new(field, e.to_string())],
            }
        }
        other => AppError::BadRequest {
            detail: format!("the body could not be read: {other}"),
            errors: Vec::new(),
        },
    };
    app_error.into()
}

/// Best effort: the field a serde_json message is about (`unknown field `x``, `missing field `y``).
pub(crate) fn json_error_field(message: &str) -> String {
    for marker in ["unknown field `", "missing field `", "duplicate field `"] {
        if let Some(rest) = message.split(marker).nth(1)
            && let Some(name) = rest.split('`').next()
        {
            return name.to_owned();
        }
    }
    "body".to_owned()
}

/// Turns actix's query-string failures into problems.
pub fn query_error_handler(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let message = match &err {
        QueryPayloadError::Deserialize(e) => e.to_string(),
        other => other.to_string(),
    };
    let field = json_error_field(&message);
    AppError::BadRequest {
        detail: format!("invalid query string: {message}"),
        errors: vec![FieldError::new(
            if field == "body" { "query" } else { &field },
            message,
        )],
    }
    .into()
}

/// Turns actix's path-parameter failures into problems.
pub fn path_error_handler(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    AppError::BadRequest {
        detail: format!("invalid path parameter: {err}"),
        errors: vec![FieldError::new("path", err.to_string())],
    }
    .into()
}

/// Turns actix's form-body failures into problems.
pub fn form_error_handler(err: UrlencodedError, _req: &HttpRequest) -> actix_web::Error {
    let app_error = match &err {
        UrlencodedError::Overflow { size, limit } => AppError::PayloadTooLarge(format!(
            "the form body is {size} bytes; the limit is {limit} bytes"
        )),
        UrlencodedError::ContentType => AppError::UnsupportedMediaType(
            "the body must be sent as application/x-www-form-urlencoded".to_owned(),
        ),
        other => AppError::BadRequest {
            detail: format!("the form body is invalid: {other}"),
            errors: Vec::new(),
        },
    };
    app_error.into()
}
