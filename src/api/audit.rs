//! The audit trail: every recorded change of an organization (docs/audit-events.md).

// The route path is relative to the organization's scope, `/api/v1/organizations/{org_id}`
// (see `api::configure`).

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    api::{
        extract::{Ctx, OrgPath},
        pagination::{PageQuery, list_response},
        responses::Forbidden,
    },
    error::Result,
    page_schema,
    service::audit::{self, AuditFilter},
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
