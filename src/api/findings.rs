//! Findings (docs/findings.md): their corrective-action lifecycle and ticket references.

// Route paths are relative to the organization's scope, `/api/v1/organizations/{org_id}`
// (see `api::configure`).

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    api::{
        body::Body,
        create::create_idempotent,
        extract::{Ctx, OrgItemPath, OrgPath, Precondition},
        pagination::{PageQuery, list_response},
        responses::{Conflict, IdempotencyHeader, IfMatchHeader, ok_with_etag},
    },
    domain::finding::{FindingSource, FindingStatus, FindingType, is_overdue},
    error::{AppError, Result},
    page_schema,
    service::findings::{self, ExternalRef, FindingFilter, FindingPatch, FindingView, NewFinding},
};

const FINDING_ID: &str = "The finding's id";

/// The ticket a finding is tracked in (Jira, ServiceNow, Linear…); `system` + `key` are unique
/// within an organization.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketRef {
    /// The ticketing system.
    #[schema(example = "jira")]
    pub system: String,
    /// The ticket's key in that system.
    #[schema(example = "SEC-142")]
    pub key: String,
    /// A link to the ticket.
    #[schema(format = "uri", example = "https://acme.atlassian.net/browse/SEC-142")]
    pub url: Option<String>,
    /// The ticket's status in that system, as the integration last reported it.
    #[schema(example = "In Progress")]
    pub status: Option<String>,
}

impl From<TicketRef> for ExternalRef {
    fn from(t: TicketRef) -> Self {
        Self {
            system: t.system,
            key: t.key,
            url: t.url,
            status: t.status,
        }
    }
}

/// An audit finding.
#[derive(Debug, Serialize, ToSchema)]
pub struct Finding {
    /// The finding's id.
    pub id: String,
    /// Its title.
    #[schema(example = "Training data bucket readable by all engineers")]
    pub title: String,
    /// What was found.
    pub description: Option<String>,
    /// How serious it is.
    #[serde(rename = "type")]
    pub finding_type: FindingType,
    /// Where it comes from.
    pub source: FindingSource,
    /// Where it stands.
    pub status: FindingStatus,
    /// The controls it concerns.
    pub control_ids: Vec<String>,
    /// Who owns the corrective action.
    pub owner: Option<String>,
    /// When the corrective action is due.
    pub due_date: Option<NaiveDate>,
    /// The root cause.
    pub root_cause: Option<String>,
    /// The corrective action.
    pub corrective_action: Option<String>,
    /// How it was resolved.
    pub resolution_notes: Option<String>,
    /// The written acceptance of the risk (for `risk_accepted`).
    pub risk_acceptance: Option<String>,
    /// The ticket it is tracked in.
    pub external_ref: Option<TicketRef>,
    /// Past its due date while open or in progress.
    pub overdue: bool,
    /// Incremented on every change; the `ETag` is `"<version>"`.
    pub version: i32,
    /// When it was raised.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was closed (verified).
    pub closed_at: Option<DateTime<Utc>>,
}

impl From<FindingView> for Finding {
    fn from(view: FindingView) -> Self {
        let f = view.finding;
        let status = f.status;
        let external_ref = match (f.external_system, f.external_key) {
            (Some(system), Some(key)) => Some(TicketRef {
                system,
                key,
                url: f.external_url,
                status: f.external_status,
            }),
            _ => None,
        };
        Self {
            finding_type: f.finding_type,
            source: f.source,
            overdue: is_overdue(status, f.due_date, Utc::now().date_naive()),
            status,
            id: f.id,
            title: f.title,
            description: f.description,
            control_ids: view.control_ids,
            owner: f.owner,
            due_date: f.due_date,
            root_cause: f.root_cause,
            corrective_action: f.corrective_action,
            resolution_notes: f.resolution_notes,
            risk_acceptance: f.risk_acceptance,
            external_ref,
            version: f.version,
            created_at: f.created_at,
            updated_at: f.updated_at,
            closed_at: f.closed_at,
        }
    }
}

impl crate::service::webhooks::EventResource for FindingView {
    fn event_data(&self) -> Result<serde_json::Value> {
        serde_json::to_value(Finding::from(self.clone())).map_err(AppError::internal)
    }
}

page_schema!(FindingPage, Finding, "A page of findings.");

/// A finding to raise. It starts `open`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingCreate {
    /// Its title.
    #[schema(example = "Training data bucket readable by all engineers")]
    pub title: String,
    /// What was found.
    pub description: Option<String>,
    /// How serious it is.
    #[serde(rename = "type")]
    pub finding_type: FindingType,
    /// Where it comes from.
    pub source: FindingSource,
    /// Controls of this organization it concerns.
    #[serde(default)]
    pub control_ids: Vec<Uuid>,
    /// Who owns the corrective action.
    pub owner: Option<String>,
    /// When the corrective action is due.
    pub due_date: Option<NaiveDate>,
    /// The root cause, if known.
    pub root_cause: Option<String>,
    /// The planned corrective action.
    pub corrective_action: Option<String>,
    /// The ticket it is tracked in.
    pub external_ref: Option<TicketRef>,
}

impl From<FindingCreate> for NewFinding {
    fn from(c: FindingCreate) -> Self {
        Self {
            title: c.title,
            description: c.description,
            finding_type: c.finding_type,
            source: c.source,
            control_ids: c.control_ids.iter().map(Uuid::to_string).collect(),
            owner: c.owner,
            due_date: c.due_date,
            root_cause: c.root_cause,
            corrective_action: c.corrective_action,
            external_ref: c.external_ref.map(ExternalRef::from),
        }
    }
}

/// Filters of the finding list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindingQuery {
    /// Only findings in this status.
    pub status: Option<FindingStatus>,
    /// Only findings of this type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub finding_type: Option<FindingType>,
    /// Only findings concerning this control.
    pub control_id: Option<Uuid>,
    /// Only findings tracked in this ticketing system (with `external_key`: find a ticket's finding).
    #[param(example = "jira")]
    pub external_system: Option<String>,
    /// Only findings tracked under this ticket key.
    #[param(example = "SEC-142")]
    pub external_key: Option<String>,
    /// Only overdue (`true`) or not overdue (`false`) findings.
    pub overdue: Option<bool>,
    /// Only findings changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
}

impl From<FindingQuery> for FindingFilter {
    fn from(q: FindingQuery) -> Self {
        Self {
            status: q.status,
            finding_type: q.finding_type,
            control_id: q.control_id.map(|id| id.to_string()),
            external_system: q.external_system,
            external_key: q.external_key,
            overdue: q.overdue,
            updated_since: q.updated_since,
        }
    }
}

/// List findings.
///
/// A ticketing integration finds its finding with `external_system` and `external_key`.
#[utoipa::path(
    tag = "findings",
    params(OrgPath, FindingQuery, PageQuery),
    responses(
        (status = 200, description = "A page of findings", body = FindingPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
    )
)]
#[get("/findings")]
pub async fn finding_list(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    query: web::Query<FindingQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let filter = FindingFilter::from(query.into_inner());
    let page = findings::list(&ctx.db, &ctx.principal, &org.0, &filter, &page.request()?).await?;
    Ok(list_response(&req, page.map(Finding::from)))
}

/// Raise a finding.
///
/// Auditors, editors and admins. A ticket reference (`external_ref`) must be new in the
/// organization (409). Accepts `Idempotency-Key`, so a ticketing integration can retry safely.
#[utoipa::path(
    tag = "findings",
    request_body = FindingCreate,
    params(OrgPath, IdempotencyHeader),
    responses(
        (status = 201, description = "The finding was raised", body = Finding,
            headers(("Location" = String, description = "The finding's URL"), ("ETag" = String, description = "The version's entity tag"))),
        (status = 409, response = Conflict),
    )
)]
#[post("/findings")]
pub async fn finding_create(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    body: Body<FindingCreate>,
) -> Result<HttpResponse> {
    create_idempotent(&ctx, &req, body.into_inner(), async |txn, body| {
        let view = findings::create(txn, &ctx.principal, &org.0, body.into()).await?;
        let finding = Finding::from(view);
        Ok((finding.id.clone(), finding))
    })
    .await
}

/// Get a finding.
#[utoipa::path(
    tag = "findings",
    params(OrgPath, ("finding_id" = Uuid, Path, description = FINDING_ID)),
    responses(
        (status = 200, description = "The finding", body = Finding,
            headers(("ETag" = String, description = "The version's entity tag"))),
    )
)]
#[get("/findings/{finding_id}")]
pub async fn finding_get(ctx: Ctx, path: OrgItemPath) -> Result<HttpResponse> {
    let view = findings::get(&ctx.db, &ctx.principal, &path.org_id, &path.item).await?;
    let finding = Finding::from(view);
    Ok(ok_with_etag(finding.version, &finding))
}

/// Changes to a finding. Absent fields are left as they are; `null` clears a nullable field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingUpdate {
    /// New title.
    pub title: Option<String>,
    /// New description.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub description: Option<Option<String>>,
    /// New type.
    #[serde(rename = "type")]
    pub finding_type: Option<FindingType>,
    /// New source.
    pub source: Option<FindingSource>,
    /// New status: `open → in_progress | resolved | risk_accepted`, `in_progress → resolved |
    /// risk_accepted`, `resolved → closed | in_progress`. Closing and reopening are for auditors
    /// and admins; accepting a risk is for admins and needs `risk_acceptance`.
    pub status: Option<FindingStatus>,
    /// The controls it concerns (replaces the set).
    pub control_ids: Option<Vec<Uuid>>,
    /// Who owns the corrective action.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub owner: Option<Option<String>>,
    /// When the corrective action is due.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<NaiveDate>, nullable)]
    pub due_date: Option<Option<NaiveDate>>,
    /// The root cause.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub root_cause: Option<Option<String>>,
    /// The corrective action.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub corrective_action: Option<Option<String>>,
    /// How it was resolved.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub resolution_notes: Option<Option<String>>,
    /// The written acceptance of the risk.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub risk_acceptance: Option<Option<String>>,
    /// The ticket it is tracked in.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<TicketRef>, nullable)]
    pub external_ref: Option<Option<TicketRef>>,
}

impl From<FindingUpdate> for FindingPatch {
    fn from(u: FindingUpdate) -> Self {
        Self {
            title: u.title,
            description: u.description,
            finding_type: u.finding_type,
            source: u.source,
            status: u.status,
            control_ids: u
                .control_ids
                .map(|ids| ids.iter().map(Uuid::to_string).collect()),
            owner: u.owner,
            due_date: u.due_date,
            root_cause: u.root_cause,
            corrective_action: u.corrective_action,
            resolution_notes: u.resolution_notes,
            risk_acceptance: u.risk_acceptance,
            external_ref: u.external_ref.map(|r| r.map(ExternalRef::from)),
        }
    }
}

/// Update a finding.
///
/// Auditors, editors and admins, under the status machine: a refused transition is 409
/// (`invalid-transition`) naming the allowed ones; a transition the role may not make is 403.
/// Closed and risk-accepted findings are final. Honours `If-Match`.
#[utoipa::path(
    tag = "findings",
    request_body = FindingUpdate,
    params(
        OrgPath,
        ("finding_id" = Uuid, Path, description = FINDING_ID),
        IfMatchHeader,
    ),
    responses(
        (status = 200, description = "The updated finding", body = Finding,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 409, response = Conflict),
    )
)]
#[patch("/findings/{finding_id}")]
pub async fn finding_update(
    ctx: Ctx,
    if_match: Precondition,
    path: OrgItemPath,
    body: Body<FindingUpdate>,
) -> Result<HttpResponse> {
    let patch = body.into_inner().into();
    let view = findings::update(
        &ctx.db,
        &ctx.principal,
        &path.org_id,
        &path.item,
        if_match.as_ref(),
        patch,
    )
    .await?;
    let finding = Finding::from(view);
    Ok(ok_with_etag(finding.version, &finding))
}

/// Delete a finding.
///
/// Admins. The audit trail keeps a record of it.
#[utoipa::path(
    tag = "findings",
    params(
        OrgPath,
        ("finding_id" = Uuid, Path, description = FINDING_ID),
        IfMatchHeader,
    ),
    responses(
        (status = 204, description = "The finding was deleted"),
    )
)]
#[delete("/findings/{finding_id}")]
pub async fn finding_delete(
    ctx: Ctx,
    if_match: Precondition,
    path: OrgItemPath,
) -> Result<HttpResponse> {
    findings::delete(
        &ctx.db,
        &ctx.principal,
        &path.org_id,
        &path.item,
        if_match.as_ref(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
