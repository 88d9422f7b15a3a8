//! The Statement of Applicability of an adopted framework, as JSON or CSV (docs/controls.md).

use actix_web::{HttpRequest, HttpResponse, get, http::header};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    api::{
        controls::dto::Control,
        extract::{Ctx, OrgItemPath, OrgPath},
    },
    domain::control::{ControlKind, ControlStatus},
    error::{AppError, Result},
    service::controls::{self, ControlView},
};

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
    /// The risks (open and closed) it treats, sorted: why it is included.
    pub risk_ids: Vec<String>,
    /// Their refs, for the CSV.
    #[serde(skip)]
    pub risk_refs: Vec<String>,
}

impl From<ControlView> for SoaEntry {
    fn from(view: ControlView) -> Self {
        let risk_refs = view.risks.iter().map(|r| r.reference.clone()).collect();
        let control = Control::from(view);
        Self {
            risk_refs,
            risk_ids: control.risk_ids,
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
        }
    }
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

const SOA_CSV_HEADER: [&str; 10] = [
    "ref",
    "title",
    "group",
    "applicable",
    "justification",
    "status",
    "owner",
    "evidence_count",
    "open_findings_count",
    "risks",
];

/// Whether the request asks for CSV (`Accept: text/csv`, and not JSON).
pub(crate) fn wants_csv(req: &HttpRequest) -> bool {
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
                &e.risk_refs.join(";"),
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
        OrgPath,
        ("key" = String, Path, description = "The adopted framework's key", example = "iso27001-2022"),
    ),
    responses(
        (status = 200, description = "The Statement of Applicability",
            content(
                (StatementOfApplicability = "application/json"),
                (String = "text/csv", example = "ref,title,group,applicable,justification,status,owner,evidence_count,open_findings_count,risks\r\nA.5.1,Policies for information security,A.5,true,,implemented,ciso@example.com,2,0,R-1;R-4\r\n"),
            )),
    )
)]
#[get("/frameworks/{key}/soa")]
pub async fn soa_get(
    ctx: Ctx,
    req: HttpRequest,
    path: OrgItemPath<String>,
) -> Result<HttpResponse> {
    let (framework, views) = controls::statement_of_applicability(
        &ctx.db,
        &ctx.cache,
        &ctx.principal,
        &path.org_id,
        &path.item,
    )
    .await?;
    let items = views.into_iter().map(SoaEntry::from).collect::<Vec<_>>();
    let soa = StatementOfApplicability {
        organization_id: path.org_id,
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
