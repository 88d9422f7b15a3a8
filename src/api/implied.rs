//! The error responses an operation's shape implies (statuses per docs/conventions.md).

use utoipa::openapi::{
    KnownFormat, Ref, RefOr, Response, Schema, SchemaFormat,
    path::{Operation, ParameterIn},
};

/// Operations with a JSON body that cannot be semantically invalid: `member_update`'s only field
/// is a role, which serde already refuses as 400.
const NO_UNPROCESSABLE: [&str; 1] = ["member_update"];

/// The `(status, response component)` pairs implied by the operation's shape:
///
/// - 400 `BadRequest`: a request body, a query parameter or an id (UUID) in the path;
/// - 403 `Forbidden`: a protected operation that is not a `GET`;
/// - 404 `NotFound`: any path parameter;
/// - 412 `PreconditionFailed`: an `If-Match` header;
/// - 413 `PayloadTooLarge` and 415 `UnsupportedMediaType`: a request body;
/// - 422 `UnprocessableEntity`: a request body of a protected operation (but [`NO_UNPROCESSABLE`]);
/// - 429 `TooManyRequests`: a protected operation (the caller's rate limit).
///
/// Public operations are never 403 or 422 here: theirs (OAuth) are explicit. Other 403s (reads
/// only some roles may make), 409s and the rest stay explicit in the operation's own block.
pub fn implied_responses(
    read_only: bool,
    operation: &Operation,
    public: bool,
) -> Vec<(&'static str, &'static str)> {
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let has = |place: ParameterIn| parameters.iter().any(|p| p.parameter_in == place);
    let id_in_path = parameters.iter().any(|p| {
        p.parameter_in == ParameterIn::Path
            && matches!(
                &p.schema,
                Some(RefOr::T(Schema::Object(o)))
                    if o.format == Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))
            )
    });
    let if_match = parameters
        .iter()
        .any(|p| p.parameter_in == ParameterIn::Header && p.name == "If-Match");
    let body = operation.request_body.is_some();
    let id = operation.operation_id.as_deref().unwrap_or_default();
    let rules = [
        (
            body || has(ParameterIn::Query) || id_in_path,
            "400",
            "BadRequest",
        ),
        (!public && !read_only, "403", "Forbidden"),
        (has(ParameterIn::Path), "404", "NotFound"),
        (if_match, "412", "PreconditionFailed"),
        (body, "413", "PayloadTooLarge"),
        (body, "415", "UnsupportedMediaType"),
        (
            body && !public && !NO_UNPROCESSABLE.contains(&id),
            "422",
            "UnprocessableEntity",
        ),
        (!public, "429", "TooManyRequests"),
    ];
    rules
        .into_iter()
        .filter_map(|(applies, status, name)| applies.then_some((status, name)))
        .collect()
}

/// A reference to a response component.
pub fn response_ref(name: &str) -> RefOr<Response> {
    RefOr::Ref(Ref::from_response_name(name))
}
