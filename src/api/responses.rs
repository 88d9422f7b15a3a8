//! Reusable OpenAPI error responses (all `application/problem+json`) and response helpers.

use actix_web::{HttpMessage, HttpRequest, HttpResponse, http::header};
use serde::Serialize;
use utoipa::{IntoParams, ToResponse};

use crate::{
    error::Problem,
    service::version::{IfMatch, etag},
};

/// The request is malformed: invalid JSON, unknown fields, wrong types or bad parameters.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct BadRequest(#[allow(dead_code)] Problem);

/// A bearer token is missing, malformed, expired or revoked.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"annexa\"`"))
)]
pub struct Unauthorized(#[allow(dead_code)] Problem);

/// The caller's role does not allow this operation.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Forbidden(#[allow(dead_code)] Problem);

/// The resource does not exist or belongs to another organization.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct NotFound(#[allow(dead_code)] Problem);

/// The request conflicts with the current state (duplicate, last admin, invalid transition).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Conflict(#[allow(dead_code)] Problem);

/// `If-Match` does not match the resource's current `ETag`.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PreconditionFailed(#[allow(dead_code)] Problem);

/// The body is larger than allowed (JSON bodies: 1 MiB).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PayloadTooLarge(#[allow(dead_code)] Problem);

/// The body's `Content-Type` is not accepted.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UnsupportedMediaType(#[allow(dead_code)] Problem);

/// The request is well formed but semantically invalid (see `errors`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UnprocessableEntity(#[allow(dead_code)] Problem);

/// Too many requests; retry after the number of seconds in `Retry-After`.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(
        ("Retry-After" = u64, description = "Seconds to wait before retrying"),
        ("RateLimit-Policy" = String, description = "The rate limit the request was counted against (draft-ietf-httpapi-ratelimit-headers): `\"default\";q=<requests>;w=60` per caller, `\"token\";q=<requests>;w=60` per client address on the token endpoint; absent when no rate limit is configured"),
        ("RateLimit" = String, description = "The standing against that limit: `\"default\";r=<remaining>;t=<seconds>`")
    )
)]
pub struct TooManyRequests(#[allow(dead_code)] Problem);

/// An unexpected fault of the service (logged with the request id; never caused by client input).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct InternalError(#[allow(dead_code)] Problem);

/// The `Idempotency-Key` request header of creates.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyHeader {
    /// Makes retries safe: the same key from the same caller within 24 h returns the first
    /// response and creates nothing new; the same key with another body is 422.
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 255,
        pattern = "^[\\x20-\\x7E]+$"
    )]
    #[allow(dead_code)]
    idempotency_key: Option<String>,
}

/// The `If-Match` request header of updates and deletes.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatchHeader {
    /// The `ETag` last read (`"<version>"`); 412 when the resource changed since.
    #[param(rename = "If-Match", example = "\"3\"")]
    #[allow(dead_code)]
    if_match: Option<String>,
}

/// The parsed `If-Match` header, if any.
pub fn if_match(req: &HttpRequest) -> Option<IfMatch> {
    req.headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(IfMatch::parse)
}

/// The `Idempotency-Key` header, if any.
pub fn idempotency_key(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get("idempotency-key")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// 200 with the resource and its `ETag`.
pub fn ok_with_etag<T: Serialize>(version: i32, body: &T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// The request path, for `Location` headers of created sub-resources.
pub fn path_of(req: &HttpRequest) -> String {
    req.path().trim_end_matches('/').to_owned()
}

/// The request id assigned by the middleware.
pub fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions()
        .get::<crate::telemetry::RequestId>()
        .map(|r| r.0.clone())
}
