//! The read-only catalog of AI risk scenarios (docs/risk-templates.md): the list, filterable by
//! asset kind, and one template by key. Responses carry a content `ETag` and `Cache-Control`,
//! and answer `If-None-Match` with 304, as the framework catalog does.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use entity::values::AssetKind;

use crate::{
    api::{catalog::cached_json, extract::Ctx},
    catalog::risk_templates::{self as templates, RiskCategory},
    error::Result,
    service::risk_templates as risk_template_service,
};

/// A control that treats a risk scenario: a requirement of a shipped framework, to link to
/// the risk (`GET /api/v1/frameworks/{key}/requirements/{ref}` describes it).
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestedControl {
    /// The framework's key.
    #[schema(example = "iso27001-2022")]
    pub framework: String,
    /// The requirement's reference within the framework.
    #[serde(rename = "ref")]
    #[schema(example = "A.8.28")]
    pub reference: String,
}

/// An AI risk scenario shipped with the service: a starting point for a risk of the register
/// (`template` on risk creation), with the threat, the weakness, the kinds of asset it
/// concerns and the controls that treat it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskTemplate {
    /// The template's stable key (kebab-case).
    #[schema(example = "training-data-poisoning")]
    pub key: String,
    /// Its short name.
    #[schema(example = "Poisoned training data")]
    pub title: String,
    /// The scenario, in a few sentences.
    pub description: String,
    /// What kind of harm it is about.
    pub category: RiskCategory,
    /// Who or what causes it.
    pub threat: String,
    /// The weakness it exploits.
    pub vulnerability: String,
    /// The kinds of asset it applies to.
    #[schema(example = json!(["dataset", "data_pipeline", "ml_model"]))]
    pub asset_kinds: Vec<AssetKind>,
    /// A starting likelihood on the default 5×5 risk matrix.
    #[schema(minimum = 1, maximum = 5, example = 3)]
    pub default_likelihood: u8,
    /// A starting impact on the default 5×5 risk matrix.
    #[schema(minimum = 1, maximum = 5, example = 4)]
    pub default_impact: u8,
    /// Controls that treat it, from the shipped frameworks.
    pub suggested_controls: Vec<SuggestedControl>,
    /// The MITRE ATLAS technique, where one describes the attack.
    #[schema(example = "AML.T0020")]
    pub atlas: Option<String>,
    /// The OWASP Top 10 for LLM Applications (2025) or Machine Learning Security (2023) item,
    /// where one exists.
    #[schema(example = "ML02:2023")]
    pub owasp: Option<String>,
}

impl From<&templates::RiskTemplate> for RiskTemplate {
    fn from(t: &templates::RiskTemplate) -> Self {
        Self {
            key: t.key.clone(),
            title: t.title.clone(),
            description: t.description.clone(),
            category: t.category,
            threat: t.threat.clone(),
            vulnerability: t.vulnerability.clone(),
            asset_kinds: t.asset_kinds.clone(),
            default_likelihood: t.default_likelihood,
            default_impact: t.default_impact,
            suggested_controls: t
                .suggested_controls
                .iter()
                .map(|c| SuggestedControl {
                    framework: c.framework.clone(),
                    reference: c.r#ref.clone(),
                })
                .collect(),
            atlas: t.atlas.clone(),
            owasp: t.owasp.clone(),
        }
    }
}

/// The risk templates.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskTemplateList {
    /// Every template (or those for the asset kind asked for), in catalog order.
    pub items: Vec<RiskTemplate>,
}

/// Filters of the risk template list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RiskTemplateQuery {
    /// Only templates that apply to this kind of asset.
    pub asset_kind: Option<AssetKind>,
}

/// List risk templates.
///
/// The AI risk scenarios shipped with the service, in catalog order; a small fixed catalog,
/// answered whole (no pages).
#[utoipa::path(
    tag = "risk-templates",
    params(RiskTemplateQuery),
    responses(
        (status = 200, description = "The risk templates", body = RiskTemplateList,
            headers(("ETag" = String, description = "Content hash"), ("Cache-Control" = String, description = "Caching policy"))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    )
)]
#[get("/risk-templates")]
pub async fn risk_template_list(
    _ctx: Ctx,
    req: HttpRequest,
    query: web::Query<RiskTemplateQuery>,
) -> Result<HttpResponse> {
    let items = risk_template_service::list(query.asset_kind)
        .into_iter()
        .map(RiskTemplate::from)
        .collect();
    cached_json(&req, &RiskTemplateList { items })
}

/// Get a risk template.
#[utoipa::path(
    tag = "risk-templates",
    params(("key" = String, Path, description = "The template's key", example = "training-data-poisoning")),
    responses(
        (status = 200, description = "The risk template", body = RiskTemplate,
            headers(("ETag" = String, description = "Content hash"), ("Cache-Control" = String, description = "Caching policy"))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    )
)]
#[get("/risk-templates/{key}")]
pub async fn risk_template_get(
    _ctx: Ctx,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse> {
    let template = RiskTemplate::from(risk_template_service::get(&key)?);
    cached_json(&req, &template)
}
