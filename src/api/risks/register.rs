//! The registers (docs/risks.md): the risk register as CSV, and the risk treatment plan as JSON
//! or CSV.

use actix_web::{HttpRequest, HttpResponse, get, http::header};
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    api::{
        controls::soa::wants_csv,
        extract::{Ctx, OrgPath},
        risks::dto::RiskAcceptance,
    },
    domain::{
        control::ControlStatus,
        risk::{RiskControlRole, RiskTreatment, risk_ref},
    },
    error::{AppError, Result},
    service::risks::{RiskView, register},
};

/// An example of the risk register as CSV.
pub const REGISTER_CSV_EXAMPLE: &str = "ref,title,owner_id,asset_ids,inherent_likelihood,inherent_impact,inherent_level,residual_likelihood,residual_impact,residual_level,above_appetite,treatment,treatment_due,existing_controls,planned_controls,acceptance_expires_on,status,review_due\r\nR-1,Poisoned training data,,,4,4,High,3,4,High,true,modify,2027-03-31,A.8.3,A.5.21;A.7.4,,open,2027-06-30\r\n";

const REGISTER_HEADER: [&str; 18] = [
    "ref",
    "title",
    "owner_id",
    "asset_ids",
    "inherent_likelihood",
    "inherent_impact",
    "inherent_level",
    "residual_likelihood",
    "residual_impact",
    "residual_level",
    "above_appetite",
    "treatment",
    "treatment_due",
    "existing_controls",
    "planned_controls",
    "acceptance_expires_on",
    "status",
    "review_due",
];

fn date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn control_refs(view: &RiskView, role: RiskControlRole) -> String {
    view.controls
        .iter()
        .filter(|c| c.role == role)
        .map(|c| c.reference.as_str())
        .collect::<Vec<_>>()
        .join(";")
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new())
}

fn csv_response(filename: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(body)
}

/// The risk register as RFC 4180 CSV (a header row, then one row per risk).
pub fn register_csv(views: &[RiskView]) -> Result<HttpResponse> {
    let mut writer = csv_writer();
    writer
        .write_record(REGISTER_HEADER)
        .map_err(AppError::internal)?;
    for v in views {
        let r = &v.risk;
        writer
            .write_record([
                risk_ref(r.ref_number),
                r.title.clone(),
                r.owner_id.clone().unwrap_or_default(),
                v.asset_ids.join(";"),
                r.inherent_likelihood.to_string(),
                r.inherent_impact.to_string(),
                v.inherent_level_name.clone().unwrap_or_default(),
                r.residual_likelihood.to_string(),
                r.residual_impact.to_string(),
                v.residual_level_name.clone().unwrap_or_default(),
                v.above_appetite.to_string(),
                r.treatment.as_str().to_owned(),
                date(r.treatment_due),
                control_refs(v, RiskControlRole::Existing),
                control_refs(v, RiskControlRole::Planned),
                date(r.acceptance_expires_on),
                r.status.as_str().to_owned(),
                date(r.review_due),
            ])
            .map_err(AppError::internal)?;
    }
    let body = writer.into_inner().map_err(AppError::internal)?;
    Ok(csv_response("risk-register.csv", body))
}

/// A planned control of a risk in the treatment plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlannedControl {
    /// The control's id.
    pub control_id: String,
    /// Its reference.
    #[serde(rename = "ref")]
    #[schema(example = "A.8.3")]
    pub reference: String,
    /// Its framework's key.
    pub framework: String,
    /// Its implementation status.
    pub status: ControlStatus,
}

/// One open risk above the appetite and how it is being treated.
#[derive(Debug, Serialize, ToSchema)]
pub struct TreatmentPlanItem {
    /// The risk's reference.
    #[serde(rename = "ref")]
    #[schema(example = "R-7")]
    pub reference: String,
    /// The risk's id.
    pub risk_id: String,
    /// Its title.
    pub title: String,
    /// Its residual risk level (1-based).
    pub residual_level: i16,
    /// The residual risk level's name.
    pub residual_level_name: Option<String>,
    /// How it is treated.
    pub treatment: RiskTreatment,
    /// The treatment plan.
    pub treatment_plan: Option<String>,
    /// When the treatment is due.
    pub treatment_due: Option<NaiveDate>,
    /// The owning member's user id.
    pub owner_id: Option<String>,
    /// The controls planned to treat it.
    pub planned_controls: Vec<PlannedControl>,
    /// Its formal acceptance, if any.
    pub acceptance: Option<RiskAcceptance>,
}

impl From<RiskView> for TreatmentPlanItem {
    fn from(v: RiskView) -> Self {
        let acceptance = RiskAcceptance::of(&v);
        let r = v.risk;
        Self {
            reference: risk_ref(r.ref_number),
            risk_id: r.id,
            title: r.title,
            residual_level: r.residual_level,
            residual_level_name: v.residual_level_name,
            treatment: r.treatment,
            treatment_plan: r.treatment_plan,
            treatment_due: r.treatment_due,
            owner_id: r.owner_id,
            planned_controls: v
                .controls
                .into_iter()
                .filter(|c| c.role == RiskControlRole::Planned)
                .map(|c| PlannedControl {
                    control_id: c.control_id,
                    reference: c.reference,
                    framework: c.framework,
                    status: c.status,
                })
                .collect(),
            acceptance,
        }
    }
}

/// The risk treatment plan (ISO/IEC 27001 clause 6.1.3 e).
#[derive(Debug, Serialize, ToSchema)]
pub struct TreatmentPlan {
    /// Every open risk whose residual level is above the appetite, highest level first, then
    /// by ref.
    pub items: Vec<TreatmentPlanItem>,
}

const PLAN_HEADER: [&str; 10] = [
    "ref",
    "title",
    "residual_level",
    "treatment",
    "treatment_plan",
    "treatment_due",
    "owner_id",
    "planned_controls",
    "acceptance_expires_on",
    "acceptance_valid",
];

fn plan_csv(plan: &TreatmentPlan) -> Result<HttpResponse> {
    let mut writer = csv_writer();
    writer
        .write_record(PLAN_HEADER)
        .map_err(AppError::internal)?;
    for item in &plan.items {
        let controls: Vec<&str> = item
            .planned_controls
            .iter()
            .map(|c| c.reference.as_str())
            .collect();
        writer
            .write_record([
                item.reference.clone(),
                item.title.clone(),
                item.residual_level_name.clone().unwrap_or_default(),
                item.treatment.as_str().to_owned(),
                item.treatment_plan.clone().unwrap_or_default(),
                date(item.treatment_due),
                item.owner_id.clone().unwrap_or_default(),
                controls.join(";"),
                date(item.acceptance.as_ref().map(|a| a.expires_on)),
                item.acceptance
                    .as_ref()
                    .map(|a| a.valid.to_string())
                    .unwrap_or_default(),
            ])
            .map_err(AppError::internal)?;
    }
    let body = writer.into_inner().map_err(AppError::internal)?;
    Ok(csv_response("risk-treatment-plan.csv", body))
}

/// Get the risk treatment plan.
///
/// Every open risk whose residual level is above the appetite, highest residual level first,
/// then by ref, with its treatment, planned controls and acceptance. JSON by default; CSV
/// (RFC 4180, header row) with `Accept: text/csv`.
#[utoipa::path(
    tag = "risks",
    params(OrgPath),
    responses(
        (status = 200, description = "The risk treatment plan",
            content(
                (TreatmentPlan = "application/json"),
                (String = "text/csv", example = "ref,title,residual_level,treatment,treatment_plan,treatment_due,owner_id,planned_controls,acceptance_expires_on,acceptance_valid\r\nR-1,Poisoned training data,High,modify,Verify dataset sources,2027-03-31,,A.5.21;A.7.4,,\r\n"),
            )),
    )
)]
#[get("/risk-treatment-plan")]
pub async fn risk_treatment_plan_get(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
) -> Result<HttpResponse> {
    let views = register::treatment_plan(&ctx.db, &ctx.principal, &org.0).await?;
    let plan = TreatmentPlan {
        items: views.into_iter().map(TreatmentPlanItem::from).collect(),
    };
    if wants_csv(&req) {
        return plan_csv(&plan);
    }
    Ok(HttpResponse::Ok().json(plan))
}
