//! Findings (contract §6): audit findings, their corrective-action lifecycle and ticket references.

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
        pagination::{PageQuery, list_response},
        responses::{
            BadRequest, Conflict, Forbidden, IdempotencyHeader, IfMatchHeader, NotFound,
            PayloadTooLarge, PreconditionFailed, UnprocessableEntity, UnsupportedMediaType,
            created, created_response, idempotency_key, if_match, ok_with_etag,
        },
    },
    domain::finding::{FindingSource, FindingStatus, FindingType, is_overdue},
    domain::principal::Principal,
    error::{AppError, Result},
    page_schema,
    service::{
        findings::{self, ExternalRef, FindingFilter, FindingPatch, FindingView, NewFinding},
        idempotency,
        page::Page,
    },
    state::AppState,
};

const ORG_ID: &str = "The organization's id";
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

impl Finding {
    fn from_view(view: FindingView) -> Result<Self> {
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
        Ok(Self {
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
        })
    }
}

impl crate::service::webhooks::EventResource for FindingView {
    fn event_data(&self) -> Result<serde_json::Value> {
        serde_json::to_value(Finding::from_view(self.clone())?).map_err(AppError::internal)
    }
}

page_schema!(FindingPage, Finding, "A page of findings.");

fn finding_page(page: Page<FindingView>) -> Result<Page<Finding>> {
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(Finding::from_view)
            .collect::<Result<_>>()?,
        next_after: page.next_after,
    })
}

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

/// List findings.
///
/// A ticketing integration finds its finding with `external_system` and `external_key`.
#[utoipa::path(
    tag = "findings",
    params(("org_id" = Uuid, Path, description = ORG_ID), FindingQuery, PageQuery),
    responses(
        (status = 200, description = "A page of findings", body = FindingPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[get("/findings")]
pub async fn finding_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<Uuid>,
    query: web::Query<FindingQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let q = query.into_inner();
    let filter = FindingFilter {
        status: q.status,
        finding_type: q.finding_type,
        control_id: q.control_id.map(|id| id.to_string()),
        external_system: q.external_system,
        external_key: q.external_key,
        overdue: q.overdue,
        updated_since: q.updated_since,
    };
    let page = findings::list(
        &state.db,
        &principal,
        &path.to_string(),
        &filter,
        &page.request()?,
    )
    .await?;
    Ok(list_response(&req, finding_page(page)?))
}

/// Raise a finding.
///
/// Auditors, editors and admins. A ticket reference (`external_ref`) must be new in the
/// organization (409). Accepts `Idempotency-Key`, so a ticketing integration can retry safely.
#[utoipa::path(
    tag = "findings",
    request_body = FindingCreate,
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        IdempotencyHeader,
    ),
    responses(
        (status = 201, description = "The finding was raised", body = Finding,
            headers(("Location" = String, description = "The finding's URL"), ("ETag" = String, description = "The version's entity tag"))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = UnprocessableEntity),
    )
)]
#[post("/findings")]
pub async fn finding_create(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<Uuid>,
    body: Body<FindingCreate>,
) -> Result<HttpResponse> {
    let org_id = path.to_string();
    let hash = idempotency::fingerprint("POST", req.path(), &*body);
    let base = crate::api::responses::path_of(&req);
    let body = body.into_inner();
    let new = NewFinding {
        title: body.title,
        description: body.description,
        finding_type: body.finding_type,
        source: body.source,
        control_ids: body.control_ids.iter().map(Uuid::to_string).collect(),
        owner: body.owner,
        due_date: body.due_date,
        root_cause: body.root_cause,
        corrective_action: body.corrective_action,
        external_ref: body.external_ref.map(ExternalRef::from),
    };
    let outcome = idempotency::create_once(
        &state.db,
        &principal,
        idempotency_key(&req).as_deref(),
        &hash,
        async |txn| {
            let finding =
                Finding::from_view(findings::create(txn, &principal, &org_id, new).await?)?;
            created(format!("{base}/{}", finding.id), &finding)
        },
    )
    .await?;
    Ok(created_response(outcome))
}

/// Get a finding.
#[utoipa::path(
    tag = "findings",
    params(("org_id" = Uuid, Path, description = ORG_ID), ("finding_id" = Uuid, Path, description = FINDING_ID)),
    responses(
        (status = 200, description = "The finding", body = Finding,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[get("/findings/{finding_id}")]
pub async fn finding_get(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse> {
    let (org_id, finding_id) = path.into_inner();
    let finding = Finding::from_view(
        findings::get(
            &state.db,
            &principal,
            &org_id.to_string(),
            &finding_id.to_string(),
        )
        .await?,
    )?;
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

/// Update a finding.
///
/// Auditors, editors and admins, under the status machine: a refused transition is 409
/// (`invalid-transition`) naming the allowed ones; a transition the role may not make is 403.
/// Closed and risk-accepted findings are final. Honours `If-Match`.
#[utoipa::path(
    tag = "findings",
    request_body = FindingUpdate,
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        ("finding_id" = Uuid, Path, description = FINDING_ID),
        IfMatchHeader,
    ),
    responses(
        (status = 200, description = "The updated finding", body = Finding,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = UnprocessableEntity),
    )
)]
#[patch("/findings/{finding_id}")]
pub async fn finding_update(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
    body: Body<FindingUpdate>,
) -> Result<HttpResponse> {
    let (org_id, finding_id) = path.into_inner();
    let b = body.into_inner();
    let patch = FindingPatch {
        title: b.title,
        description: b.description,
        finding_type: b.finding_type,
        source: b.source,
        status: b.status,
        control_ids: b
            .control_ids
            .map(|ids| ids.iter().map(Uuid::to_string).collect()),
        owner: b.owner,
        due_date: b.due_date,
        root_cause: b.root_cause,
        corrective_action: b.corrective_action,
        resolution_notes: b.resolution_notes,
        risk_acceptance: b.risk_acceptance,
        external_ref: b.external_ref.map(|r| r.map(ExternalRef::from)),
    };
    let view = findings::update(
        &state.db,
        &principal,
        &org_id.to_string(),
        &finding_id.to_string(),
        if_match(&req).as_ref(),
        patch,
    )
    .await?;
    let finding = Finding::from_view(view)?;
    Ok(ok_with_etag(finding.version, &finding))
}

/// Delete a finding.
///
/// Admins. The audit trail keeps a record of it.
#[utoipa::path(
    tag = "findings",
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        ("finding_id" = Uuid, Path, description = FINDING_ID),
        IfMatchHeader,
    ),
    responses(
        (status = 204, description = "The finding was deleted"),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
    )
)]
#[delete("/findings/{finding_id}")]
pub async fn finding_delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse> {
    let (org_id, finding_id) = path.into_inner();
    findings::delete(
        &state.db,
        &principal,
        &org_id.to_string(),
        &finding_id.to_string(),
        if_match(&req).as_ref(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
