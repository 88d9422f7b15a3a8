//! The audit trail: every recorded change of an organization (docs/audit-events.md).

// The route path is relative to the organization's scope, `/api/v1/organizations/{org_id}`
// (see `api::configure`).

use actix_web::{
    HttpRequest, HttpResponse, get,
    web::{self, Bytes},
};
use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    api::{
        extract::{Ctx, OrgPath},
        pagination::{PageQuery, list_response},
        responses::Forbidden,
    },
    domain::audit_chain::BreakReason,
    error::{AppError, Result},
    page_schema,
    service::audit::{self, AuditFilter, ChainReport},
};

/// One recorded mutation.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    /// The event's id.
    pub id: String,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it: `user:<id>`, `service_account:<id>` or `system`.
    pub actor: String,
    /// What was done, e.g. `control.updated`.
    #[schema(example = "control.updated")]
    pub action: String,
    /// The kind of entity changed.
    #[schema(example = "control")]
    pub entity_type: String,
    /// The entity's id (or key).
    pub entity_id: String,
    /// The changed fields: field → `[old, new]`.
    #[schema(value_type = Object, example = json!({"status": ["planned", "implemented"]}))]
    pub changes: serde_json::Value,
    /// The request that made the change.
    pub request_id: Option<String>,
    /// The event's position in the organization's hash chain: 1, 2, 3…
    #[schema(example = 42)]
    pub chain_seq: Option<i64>,
    /// The previous event's `hash` (64 zeros for the first event).
    #[schema(example = "3b9e0d4a6c1f8e2b5d7a9c0e1f3a5b7d9c2e4f6a8b0d1c3e5f7a9b2d4c6e8f0a")]
    pub prev_hash: Option<String>,
    /// SHA-256 (hex) of the event's canonical form (docs/audit-events.md); the next event's
    /// `prev_hash`.
    #[schema(example = "9f2c4e0b7a1d3c5e8f6a2b4d6c8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e")]
    pub hash: Option<String>,
}

impl From<entity::audit_event::Model> for AuditEvent {
    fn from(e: entity::audit_event::Model) -> Self {
        Self {
            // Stored by the audit writer as JSON; an unreadable value is shown as null.
            changes: serde_json::from_str(&e.changes).unwrap_or(serde_json::Value::Null),
            id: e.id,
            at: e.at,
            actor: e.actor,
            action: e.action,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            request_id: e.request_id,
            chain_seq: e.chain_seq,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

page_schema!(AuditEventPage, AuditEvent, "A page of audit events.");

/// Filters of the audit trail.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditEventQuery {
    /// Only events about this kind of entity (e.g. `control`).
    pub entity_type: Option<String>,
    /// Only events about this entity.
    pub entity_id: Option<String>,
    /// Only events by this actor (`user:<id>` or `service_account:<id>`).
    pub actor: Option<String>,
    /// Only events at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
}

impl From<AuditEventQuery> for AuditFilter {
    fn from(q: AuditEventQuery) -> Self {
        Self {
            entity_type: q.entity_type,
            entity_id: q.entity_id,
            actor: q.actor,
            since: q.since,
        }
    }
}

/// List audit events.
///
/// Auditors and admins. Oldest first.
#[utoipa::path(
    tag = "audit",
    params(OrgPath, AuditEventQuery, PageQuery),
    responses(
        (status = 200, description = "A page of audit events", body = AuditEventPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        (status = 403, response = Forbidden),
    )
)]
#[get("/audit-events")]
pub async fn audit_event_list(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    query: web::Query<AuditEventQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let filter = AuditFilter::from(query.into_inner());
    let page = audit::list(&ctx.db, &ctx.principal, &org.0, &filter, &page.request()?).await?;
    Ok(list_response(&req, page.map(AuditEvent::from)))
}

/// The first broken link of a chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditChainBreak {
    /// The position where the chain breaks (for `missing`, the empty position).
    pub chain_seq: i64,
    /// The event at (or, for `missing`, right after) that position.
    pub event_id: String,
    /// `hash_mismatch`: the event was edited; `missing`: an event was deleted;
    /// `prev_mismatch`: an event was inserted or the events were reordered.
    pub reason: BreakReason,
}

/// The result of verifying the organization's audit chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditChainVerification {
    /// Events in the chain.
    #[schema(example = 1204)]
    pub length: i64,
    /// The last event's `hash` (null while there is no event). Keep it: a later verification
    /// whose chain no longer contains it shows that events were removed from the end.
    #[schema(example = "9f2c4e0b7a1d3c5e8f6a2b4d6c8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e")]
    pub head_hash: Option<String>,
    /// When the verification finished.
    pub verified_at: DateTime<Utc>,
    /// Whether every link holds.
    pub ok: bool,
    /// The first broken link, or null.
    pub first_broken: Option<AuditChainBreak>,
}

impl From<ChainReport> for AuditChainVerification {
    fn from(r: ChainReport) -> Self {
        Self {
            ok: r.ok(),
            length: r.length,
            head_hash: r.head_hash,
            verified_at: r.verified_at,
            first_broken: r.first_broken.map(|b| AuditChainBreak {
                chain_seq: b.chain_seq,
                event_id: b.event_id,
                reason: b.reason,
            }),
        }
    }
}

/// Verify the audit chain.
///
/// Auditors and admins. Recomputes every event's hash, oldest first, and checks that each
/// event names its predecessor's hash and that no position is empty. An answer with `ok: false`
/// is still 200: the verification itself succeeded.
#[utoipa::path(
    tag = "audit",
    params(OrgPath),
    responses(
        (status = 200, description = "The verification", body = AuditChainVerification),
        (status = 403, response = Forbidden),
    )
)]
#[get("/audit-events/verify")]
pub async fn audit_event_verify(ctx: Ctx, org: OrgPath) -> Result<HttpResponse> {
    let report = audit::verify(&ctx.db, &ctx.principal, &org.0).await?;
    Ok(HttpResponse::Ok().json(AuditChainVerification::from(report)))
}

/// Filters of the export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditExportQuery {
    /// Only events at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
}

/// One line of the export: an event with its organization.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditExportLine {
    /// The organization the event belongs to.
    pub organization_id: Option<String>,
    /// The event.
    #[serde(flatten)]
    pub event: AuditEvent,
}

fn ndjson_line(event: entity::audit_event::Model) -> Result<Vec<u8>> {
    let line = AuditExportLine {
        organization_id: event.organization_id.clone(),
        event: AuditEvent::from(event),
    };
    let mut bytes = serde_json::to_vec(&line).map_err(AppError::internal)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The export's media type: `application/x-ndjson`, or `application/octet-stream` (the same
/// bytes) for a client that asks only for that, as SDK generators without an NDJSON reader do.
fn export_content_type(req: &HttpRequest) -> &'static str {
    let accept = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("application/octet-stream") && !accept.contains("application/x-ndjson") {
        "application/octet-stream"
    } else {
        "application/x-ndjson"
    }
}

/// Export the audit trail.
///
/// Auditors and admins. Every event, oldest first in chain order, as newline-delimited JSON
/// (one `AuditExportLine` per line), streamed as it is read: for SIEMs and offline
/// verification (docs/audit-events.md). `Accept: application/octet-stream` labels the same
/// lines as bytes, for clients that read the export as a file.
#[utoipa::path(
    tag = "audit",
    params(OrgPath, AuditExportQuery),
    responses(
        (status = 200, description = "One event per line", content(
            (AuditExportLine = "application/x-ndjson"),
            (String = "application/octet-stream"),
        )),
        (status = 403, response = Forbidden),
    )
)]
#[get("/audit-events/export")]
pub async fn audit_event_export(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    query: web::Query<AuditExportQuery>,
) -> Result<HttpResponse> {
    let pages = audit::export_pages(&ctx.db, &ctx.principal, &org.0, query.since).await?;
    let body = pages
        .map(|page| {
            let mut chunk = Vec::new();
            for event in page? {
                chunk.extend(ndjson_line(event)?);
            }
            Ok::<_, AppError>(Bytes::from(chunk))
        })
        .into_stream();
    Ok(HttpResponse::Ok()
        .content_type(export_content_type(&req))
        .streaming(body))
}
