//! Idempotent creates: fingerprint, `Idempotency-Key` replay and the 201, around one closure.

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
};
use sea_orm::DatabaseTransaction;
use serde::Serialize;

use crate::{
    api::{
        extract::Ctx,
        responses::{idempotency_key, path_of},
    },
    error::{AppError, Result},
    service::idempotency::{self, Created, Outcome},
};

/// Creates once per `Idempotency-Key`: `create` gets the transaction and the body and returns the
/// new resource's URL below the request path (its id or key) and the resource as the API shows
/// it; a retry with the same key and body replays the stored answer (docs/conventions.md).
pub async fn create_idempotent<B, T>(
    ctx: &Ctx,
    req: &HttpRequest,
    body: B,
    create: impl AsyncFnOnce(&DatabaseTransaction, B) -> Result<(String, T)>,
) -> Result<HttpResponse>
where
    B: Serialize,
    T: Serialize,
{
    let hash = idempotency::fingerprint("POST", req.path(), &body);
    let base = path_of(req);
    let key = idempotency_key(req);
    let outcome = idempotency::create_once(
        &ctx.db,
        &ctx.principal,
        key.as_deref(),
        &hash,
        async |txn| {
            let (suffix, resource) = create(txn, body).await?;
            created(format!("{base}/{suffix}"), &resource)
        },
    )
    .await?;
    Ok(created_response(outcome))
}

/// The body of a create, ready to be stored for idempotent replay.
fn created<T: Serialize>(location: String, body: &T) -> Result<Created> {
    Ok(Created {
        status: 201,
        body: serde_json::to_value(body).map_err(AppError::internal)?,
        location: Some(location),
    })
}

/// Renders a create (fresh or replayed): status, `Location`, `ETag` from the body's `version`.
fn created_response(outcome: Outcome) -> HttpResponse {
    let (created, replayed) = match outcome {
        Outcome::Fresh(c) => (c, false),
        Outcome::Replayed(c) => (c, true),
    };
    let mut builder =
        HttpResponse::build(StatusCode::from_u16(created.status).unwrap_or(StatusCode::CREATED));
    if let Some(location) = &created.location {
        builder.insert_header((header::LOCATION, location.clone()));
    }
    if let Some(version) = created
        .body
        .get("version")
        .and_then(serde_json::Value::as_i64)
    {
        builder.insert_header((header::ETAG, format!("\"{version}\"")));
    }
    if replayed {
        builder.insert_header(("idempotent-replayed", "true"));
    }
    builder.json(created.body)
}
