//! Adopted frameworks, controls, the Statement of Applicability and the audit trail (contract §4, §8).

// Route paths are relative to the organization's scope, `/api/v1/organizations/{org_id}`
// (see `api::configure`).

use actix_web::{HttpRequest, HttpResponse, get, http::header, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    api::{
        body::Body,
        pagination::{PageQuery, cached_list_response, list_response},
        responses::{
            BadRequest, Conflict, Forbidden, IdempotencyHeader, IfMatchHeader, NotFound,
            PayloadTooLarge, PreconditionFailed, UnprocessableEntity, UnsupportedMediaType,
            created, created_response, idempotency_key, if_match, ok_with_etag,
        },
    },
    domain::control::{ControlKind, ControlStatus},
    domain::principal::Principal,
    error::{AppError, Result},
    page_schema,
    service::{
        audit::{self, AuditFilter},
        authz,
        controls::{self, Adoption, ControlFilter, ControlPatch, ControlView, NewControl},
        idempotency,
        page::Page,
    },
    state::AppState,
};

// ---------------------------------------------------------------- adopted frameworks

/// A framework adopted by the organization.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdoptedFramework {
    /// The framework's key.
    #[schema(example = "iso27001-2022")]
    pub framework: String,
    /// The framework's name.
    #[schema(example = "ISO/IEC 27001:2022")]
    pub name: String,
    /// How many controls the organization has for it (custom controls included).
    pub control_count: u64,
    /// Who adopted it (`user:<id>` or `service_account:<id>`).
    pub adopted_by: String,
    /// When it was adopted.
    pub adopted_at: DateTime<Utc>,
}

impl From<Adoption> for AdoptedFramework {
    fn from(a: Adoption) -> Self {
        Self {
            framework: a.framework.key,
            name: a.framework.name,
            control_count: a.control_count,
            adopted_by: a.adoption.adopted_by,
            adopted_at: a.adoption.created_at,
        }
    }
}

page_schema!(
    AdoptedFrameworkPage,
    AdoptedFramework,
    "A page of adopted frameworks."
);

/// A framework to adopt.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdoptionCreate {
    /// The framework's key.
    #[schema(example = "iso27001-2022")]
    pub framework: String,
}

const ORG_ID: &str = "The organization's id";

/// List adopted frameworks.
#[utoipa::path(
    tag = "controls",
    params(("org_id" = Uuid, Path, description = ORG_ID), PageQuery),
    responses(
        (status = 200, description = "A page of adopted frameworks", body = AdoptedFrameworkPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[get("/frameworks")]
pub async fn adoption_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<Uuid>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let page =
        controls::list_adopted(&state.db, &principal, &path.to_string(), &page.request()?).await?;
    Ok(list_response(&req, page.map(AdoptedFramework::from)))
}

/// Adopt a framework.
///
/// Admins. Creates one control per requirement of the framework, in one transaction.
/// Adopting a framework twice is 409. Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "controls",
    request_body = AdoptionCreate,
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        IdempotencyHeader,
    ),
    responses(
        (status = 201, description = "The framework was adopted", body = AdoptedFramework,
            headers(("Location" = String, description = "The adopted framework's URL"))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = UnprocessableEntity),
    )
)]
#[post("/frameworks")]
pub async fn adoption_create(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<Uuid>,
    body: Body<AdoptionCreate>,
) -> Result<HttpResponse> {
    let org_id = path.to_string();
    let hash = idempotency::fingerprint("POST", req.path(), &*body);
    let key = idempotency_key(&req);
    let base = crate::api::responses::path_of(&req);
    // Adoption runs its own transaction; the key is checked and stored around it.
    let outcome =
        idempotency::create_once(&state.db, &principal, key.as_deref(), &hash, async |txn| {
            let adoption = controls::adopt_in(txn, &principal, &org_id, &body.framework).await?;
            created(
                format!("{base}/{}", adoption.framework.key),
                &AdoptedFramework::from(adoption),
            )
        })
        .await?;
    Ok(created_response(outcome))
}

/// Get an adopted framework.
#[utoipa::path(
    tag = "controls",
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        ("key" = String, Path, description = "The framework's key", example = "iso27001-2022"),
    ),
    responses(
        (status = 200, description = "The adopted framework", body = AdoptedFramework),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[get("/frameworks/{key}")]
pub async fn adoption_get(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, String)>,
) -> Result<HttpResponse> {
    let (org_id, key) = path.into_inner();
    let adoption = controls::get_adopted(&state.db, &principal, &org_id.to_string(), &key).await?;
    Ok(HttpResponse::Ok().json(AdoptedFramework::from(adoption)))
}

// ---------------------------------------------------------------- controls

/// A control: the organization's record of one requirement (or a custom control).
#[derive(Debug, Serialize, ToSchema)]
pub struct Control {
    /// The control's id.
    pub id: String,
    /// The framework's key.
    #[schema(example = "iso27001-2022")]
    pub framework: String,
    /// The requirement's reference (or the custom control's).
    #[serde(rename = "ref")]
    #[schema(example = "A.5.7")]
    pub reference: String,
    /// Its title.
    #[schema(example = "Threat intelligence")]
    pub title: String,
    /// Its group's key.
    #[schema(example = "A.5")]
    pub group: String,
    /// Clause, control or checklist item.
    pub kind: ControlKind,
    /// Whether the organization added it (no catalog requirement).
    pub custom: bool,
    /// What it asks for.
    pub description: Option<String>,
    /// Whether it applies (Statement of Applicability). Clauses always apply.
    pub applicable: bool,
    /// Why it is included or excluded; required when not applicable.
    pub justification: Option<String>,
    /// Implementation status.
    pub status: ControlStatus,
    /// Who owns it (free text or email).
    pub owner: Option<String>,
    /// When it is due.
    pub due_date: Option<NaiveDate>,
    /// Free-form notes.
    pub notes: Option<String>,
    /// Linked evidence that is not archived.
    pub evidence_count: i64,
    /// Linked findings that are open, in progress or resolved.
    pub open_findings_count: i64,
    /// The control's readiness score `s(c)` in 0–1 (formula version 1); null when not applicable.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub score: Option<f64>,
    /// Incremented on every change; the `ETag` is `"<version>"`.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Control {
    fn from_view(view: ControlView) -> Result<Self> {
        let c = view.control;
        Ok(Self {
            kind: c.kind,
            status: c.status,
            id: c.id,
            framework: c.framework_key,
            reference: c.reference,
            title: c.title,
            group: c.group_key,
            custom: c.custom,
            description: c.description,
            applicable: c.applicable,
            justification: c.justification,
            owner: c.owner,
            due_date: c.due_date,
            notes: c.notes,
            evidence_count: view.stats.evidence_count,
            open_findings_count: view.stats.open_findings,
            score: view.score,
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        })
    }
}

impl crate::service::webhooks::EventResource for ControlView {
    fn event_data(&self) -> Result<serde_json::Value> {
        serde_json::to_value(Control::from_view(self.clone())?).map_err(AppError::internal)
    }
}

page_schema!(ControlPage, Control, "A page of controls.");

fn control_page(page: Page<ControlView>) -> Result<Page<Control>> {
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(Control::from_view)
            .collect::<Result<_>>()?,
        next_after: page.next_after,
    })
}

/// Filters of the control list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ControlQuery {
    /// Only this framework's controls.
    pub framework: Option<String>,
    /// Only controls with this status.
    pub status: Option<ControlStatus>,
    /// Only applicable (`true`) or excluded (`false`) controls.
    pub applicable: Option<bool>,
    /// Only this group.
    pub group: Option<String>,
    /// Only this kind.
    pub kind: Option<ControlKind>,
    /// Only controls with this owner (exact).
    pub owner: Option<String>,
    /// Text search in ref, title and notes (case-insensitive).
    pub q: Option<String>,
    /// Only controls with (`true`) or without (`false`) valid accepted evidence.
    pub has_valid_evidence: Option<bool>,
    /// Only controls changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
}

/// List controls.
#[utoipa::path(
    tag = "controls",
    params(("org_id" = Uuid, Path, description = ORG_ID), ControlQuery, PageQuery),
    responses(
        (status = 200, description = "A page of controls", body = ControlPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[get("/controls")]
pub async fn control_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<Uuid>,
    query: web::Query<ControlQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let q = query.into_inner();
    let filter = ControlFilter {
        framework: q.framework,
        status: q.status,
        applicable: q.applicable,
        group: q.group,
        kind: q.kind,
        owner: q.owner,
        q: q.q,
        has_valid_evidence: q.has_valid_evidence,
        updated_since: q.updated_since,
    };
    let page = page.request()?;
    let org_id = path.to_string();
    let version = authz::readable_version(&state.db, &principal, &org_id).await?;
    cached_list_response(&state.cache, &req, &org_id, version, async || {
        let (page, fresh_until) =
            controls::list_at(&state.db, &state.cache, &org_id, version, &filter, &page).await?;
        Ok((control_page(page)?, fresh_until))
    })
    .await
}

/// A custom control to add to an adopted framework.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlCreate {
    /// The adopted framework it belongs to.
    #[schema(example = "iso27001-2022")]
    pub framework: String,
    /// Its reference, unique within the framework.
    #[serde(rename = "ref")]
    #[schema(example = "ACME-1")]
    pub reference: String,
    /// Its title.
    #[schema(example = "Model weights are encrypted at rest")]
    pub title: String,
    /// Its group (default `custom`).
    pub group: Option<String>,
    /// What it asks for.
    pub description: Option<String>,
    /// Initial status (default `not_started`).
    pub status: Option<ControlStatus>,
    /// Who owns it.
    pub owner: Option<String>,
    /// When it is due.
    pub due_date: Option<NaiveDate>,
    /// Notes.
    pub notes: Option<String>,
}

/// Add a custom control.
///
/// Editors and admins. The framework must be adopted; the ref must be new in it (409).
/// Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "controls",
    request_body = ControlCreate,
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        IdempotencyHeader,
    ),
    responses(
        (status = 201, description = "The control was created", body = Control,
            headers(("Location" = String, description = "The control's URL"), ("ETag" = String, description = "The version's entity tag"))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = UnprocessableEntity),
    )
)]
#[post("/controls")]
pub async fn control_create(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<Uuid>,
    body: Body<ControlCreate>,
) -> Result<HttpResponse> {
    let org_id = path.to_string();
    let hash = idempotency::fingerprint("POST", req.path(), &*body);
    let base = crate::api::responses::path_of(&req);
    let body = body.into_inner();
    let new = NewControl {
        framework: body.framework.clone(),
        reference: body.reference.clone(),
        title: body.title.clone(),
        group: body.group.clone(),
        description: body.description.clone(),
        status: body.status.unwrap_or(ControlStatus::NotStarted),
        owner: body.owner.clone(),
        due_date: body.due_date,
        notes: body.notes.clone(),
    };
    let outcome = idempotency::create_once(
        &state.db,
        &principal,
        idempotency_key(&req).as_deref(),
        &hash,
        async |txn| {
            let view = controls::create_custom(txn, &principal, &org_id, new).await?;
            let control = Control::from_view(view)?;
            created(format!("{base}/{}", control.id), &control)
        },
    )
    .await?;
    Ok(created_response(outcome))
}

/// Get a control.
#[utoipa::path(
    tag = "controls",
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        ("control_id" = Uuid, Path, description = "The control's id"),
    ),
    responses(
        (status = 200, description = "The control", body = Control,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[get("/controls/{control_id}")]
pub async fn control_get(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse> {
    let (org_id, control_id) = path.into_inner();
    let control = Control::from_view(
        controls::get(
            &state.db,
            &state.cache,
            &principal,
            &org_id.to_string(),
            &control_id.to_string(),
        )
        .await?,
    )?;
    Ok(ok_with_etag(control.version, &control))
}

/// Changes to a control. Absent fields are left as they are; `null` clears a nullable field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlUpdate {
    /// New status.
    pub status: Option<ControlStatus>,
    /// Whether it applies. A clause cannot be made not applicable; excluding needs a justification.
    pub applicable: Option<bool>,
    /// Why it is included or excluded.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub justification: Option<Option<String>>,
    /// Who owns it.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub owner: Option<Option<String>>,
    /// When it is due (`YYYY-MM-DD`).
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<NaiveDate>, nullable)]
    pub due_date: Option<Option<NaiveDate>>,
    /// Notes.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub notes: Option<Option<String>>,
}

/// Update a control.
///
/// Editors and admins. Honours `If-Match` (412 when the control changed since it was read).
/// Every change is recorded in the audit trail with the old and new values.
#[utoipa::path(
    tag = "controls",
    request_body = ControlUpdate,
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        ("control_id" = Uuid, Path, description = "The control's id"),
        IfMatchHeader,
    ),
    responses(
        (status = 200, description = "The updated control", body = Control,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = UnprocessableEntity),
    )
)]
#[patch("/controls/{control_id}")]
pub async fn control_update(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
    body: Body<ControlUpdate>,
) -> Result<HttpResponse> {
    let (org_id, control_id) = path.into_inner();
    let body = body.into_inner();
    let patch = ControlPatch {
        status: body.status,
        applicable: body.applicable,
        justification: body.justification,
        owner: body.owner,
        due_date: body.due_date,
        notes: body.notes,
    };
    let view = controls::update(
        &state.db,
        &principal,
        &org_id.to_string(),
        &control_id.to_string(),
        if_match(&req).as_ref(),
        patch,
    )
    .await?;
    let control = Control::from_view(view)?;
    Ok(ok_with_etag(control.version, &control))
}

// ---------------------------------------------------------------- SoA

/// One row of the Statement of Applicability.
#[derive(Debug, Serialize, ToSchema)]
pub struct SoaEntry {
    /// The control's id.
    pub control_id: String,
    /// The requirement's reference.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Its title.
    pub title: String,
    /// Its group.
    pub group: String,
    /// Clause, control or checklist item.
    pub kind: ControlKind,
    /// Whether it applies.
    pub applicable: bool,
    /// Why it is included or excluded.
    pub justification: Option<String>,
    /// Implementation status.
    pub status: ControlStatus,
    /// Who owns it.
    pub owner: Option<String>,
    /// Linked evidence that is not archived.
    pub evidence_count: i64,
    /// Linked open findings.
    pub open_findings_count: i64,
}

/// The Statement of Applicability of one adopted framework (ISO 27001 clause 6.1.3 d).
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementOfApplicability {
    /// The organization's id.
    pub organization_id: String,
    /// The framework's key.
    pub framework: String,
    /// The framework's name.
    pub framework_name: String,
    /// When this statement was produced.
    pub generated_at: DateTime<Utc>,
    /// Every control, in the standard's order (custom controls last).
    pub items: Vec<SoaEntry>,
}

const SOA_CSV_HEADER: [&str; 9] = [
    "ref",
    "title",
    "group",
    "applicable",
    "justification",
    "status",
    "owner",
    "evidence_count",
    "open_findings_count",
];

fn wants_csv(req: &HttpRequest) -> bool {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept
        .split(',')
        .any(|part| part.trim().starts_with("text/csv"))
        && !accept
            .split(',')
            .any(|part| part.trim().starts_with("application/json"))
}

fn soa_csv(soa: &StatementOfApplicability) -> Result<Vec<u8>> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer
        .write_record(SOA_CSV_HEADER)
        .map_err(AppError::internal)?;
    for e in &soa.items {
        writer
            .write_record([
                e.reference.as_str(),
                e.title.as_str(),
                e.group.as_str(),
                if e.applicable { "true" } else { "false" },
                e.justification.as_deref().unwrap_or(""),
                e.status.as_str(),
                e.owner.as_deref().unwrap_or(""),
                &e.evidence_count.to_string(),
                &e.open_findings_count.to_string(),
            ])
            .map_err(AppError::internal)?;
    }
    writer.into_inner().map_err(AppError::internal)
}

/// Get the Statement of Applicability.
///
/// Every control of an adopted framework with its applicability, justification, status, owner,
/// evidence and open findings. JSON by default; CSV (RFC 4180, header row) with `Accept: text/csv`.
#[utoipa::path(
    tag = "controls",
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        ("key" = String, Path, description = "The adopted framework's key", example = "iso27001-2022"),
    ),
    responses(
        (status = 200, description = "The Statement of Applicability",
            content(
                (StatementOfApplicability = "application/json"),
                (String = "text/csv", example = "ref,title,group,applicable,justification,status,owner,evidence_count,open_findings_count\r\nA.5.1,Policies for information security,A.5,true,,implemented,ciso@example.com,2,0\r\n"),
            )),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[get("/frameworks/{key}/soa")]
pub async fn soa_get(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<(Uuid, String)>,
) -> Result<HttpResponse> {
    let (org_id, key) = path.into_inner();
    let (framework, views) = controls::statement_of_applicability(
        &state.db,
        &state.cache,
        &principal,
        &org_id.to_string(),
        &key,
    )
    .await?;
    let items = views
        .into_iter()
        .map(|v| {
            let control = Control::from_view(v)?;
            Ok(SoaEntry {
                control_id: control.id,
                reference: control.reference,
                title: control.title,
                group: control.group,
                kind: control.kind,
                applicable: control.applicable,
                justification: control.justification,
                status: control.status,
                owner: control.owner,
                evidence_count: control.evidence_count,
                open_findings_count: control.open_findings_count,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let soa = StatementOfApplicability {
        organization_id: org_id.to_string(),
        framework: framework.key,
        framework_name: framework.name,
        generated_at: crate::store::db::now(),
        items,
    };
    if wants_csv(&req) {
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"soa-{}.csv\"", soa.framework),
            ))
            .body(soa_csv(&soa)?));
    }
    Ok(HttpResponse::Ok().json(soa))
}

// ---------------------------------------------------------------- audit events

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

/// List audit events.
///
/// Auditors and admins. Oldest first.
#[utoipa::path(
    tag = "audit",
    params(("org_id" = Uuid, Path, description = ORG_ID), AuditEventQuery, PageQuery),
    responses(
        (status = 200, description = "A page of audit events", body = AuditEventPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[get("/audit-events")]
pub async fn audit_event_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<Uuid>,
    query: web::Query<AuditEventQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let q = query.into_inner();
    let filter = AuditFilter {
        entity_type: q.entity_type,
        entity_id: q.entity_id,
        actor: q.actor,
        since: q.since,
    };
    let page = audit::list(
        &state.db,
        &principal,
        &path.to_string(),
        &filter,
        &page.request()?,
    )
    .await?;
    let page = page.map(|e| AuditEvent {
        changes: serde_json::from_str(&e.changes).unwrap_or(serde_json::Value::Null),
        id: e.id,
        at: e.at,
        actor: e.actor,
        action: e.action,
        entity_type: e.entity_type,
        entity_id: e.entity_id,
        request_id: e.request_id,
    });
    Ok(list_response(&req, page))
}
