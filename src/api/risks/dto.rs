//! The DTOs of risks and their conversions (docs/risks.md).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    domain::risk::{LevelBasis, RiskControlRole, RiskStatus, RiskTreatment, is_overdue, risk_ref},
    error::{AppError, Result},
    page_schema,
    service::risks::{NewRisk, Rating, RiskFilter, RiskPatch, RiskView},
};

/// A rating to set: 1-based levels of the organization's risk matrix.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingInput {
    /// The likelihood level (1 = the lowest).
    #[schema(example = 3)]
    pub likelihood: i16,
    /// The impact level (1 = the lowest).
    #[schema(example = 4)]
    pub impact: i16,
}

impl From<RatingInput> for Rating {
    fn from(r: RatingInput) -> Self {
        Self {
            likelihood: r.likelihood,
            impact: r.impact,
        }
    }
}

/// A rating and the risk level the matrix gives it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RiskRating {
    /// The likelihood level (1-based).
    pub likelihood: i16,
    /// The impact level (1-based).
    pub impact: i16,
    /// The risk level (1-based) in the matrix's grid.
    pub level: i16,
    /// The risk level's name.
    #[schema(example = "High")]
    pub level_name: Option<String>,
}

/// A control treating a risk.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskControlLink {
    /// The control's id (a control of this organization).
    pub control_id: Uuid,
    /// Whether it is in place (`existing`, counted in the residual rating) or `planned`.
    pub role: RiskControlRole,
}

/// The formal acceptance of a risk's residual rating.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RiskAcceptance {
    /// Why the residual risk is accepted.
    pub justification: Option<String>,
    /// When the acceptance lapses.
    pub expires_on: NaiveDate,
    /// Who accepted it (`user:<id>` or `service_account:<id>`).
    pub accepted_by: Option<String>,
    /// When it was accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// Whether it still holds (`expires_on` is today or later).
    pub valid: bool,
}

impl RiskAcceptance {
    /// The acceptance of a risk, if it has one.
    pub fn of(view: &RiskView) -> Option<Self> {
        let r = &view.risk;
        Some(Self {
            justification: r.acceptance_justification.clone(),
            expires_on: r.acceptance_expires_on?,
            accepted_by: r.accepted_by.clone(),
            accepted_at: r.accepted_at,
            valid: view.acceptance_valid,
        })
    }
}

/// A risk of the organization's risk register.
#[derive(Debug, Serialize, ToSchema)]
pub struct Risk {
    /// The risk's id.
    pub id: String,
    /// Its reference in the organization (`R-<n>`, never reused).
    #[serde(rename = "ref")]
    #[schema(example = "R-7")]
    pub reference: String,
    /// Its title.
    #[schema(example = "Poisoned training data")]
    pub title: String,
    /// What could happen.
    pub description: Option<String>,
    /// The threat.
    pub threat: Option<String>,
    /// The vulnerability the threat exploits.
    pub vulnerability: Option<String>,
    /// The assets it concerns.
    pub asset_ids: Vec<String>,
    /// The suppliers it concerns, sorted.
    pub supplier_ids: Vec<String>,
    /// The owning member's user id.
    pub owner_id: Option<String>,
    /// The rating before treatment.
    pub inherent: RiskRating,
    /// The rating with the existing controls.
    pub residual: RiskRating,
    /// Whether the residual level is above the matrix's appetite.
    pub above_appetite: bool,
    /// How it is treated.
    pub treatment: RiskTreatment,
    /// The treatment plan.
    pub treatment_plan: Option<String>,
    /// When the treatment is due.
    pub treatment_due: Option<NaiveDate>,
    /// The controls treating it, sorted by control id.
    pub controls: Vec<RiskControlOut>,
    /// When it was last assessed.
    pub assessed_at: Option<NaiveDate>,
    /// When it is next to be reviewed.
    pub review_due: Option<NaiveDate>,
    /// Whether it is still tracked.
    pub status: RiskStatus,
    /// Open, with its treatment or review past due.
    pub overdue: bool,
    /// The template it was created from (its key).
    pub template: Option<String>,
    /// Its formal acceptance, if any.
    pub acceptance: Option<RiskAcceptance>,
    /// Incremented on every change; the `ETag` is `"<version>"`.
    pub version: i32,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A control treating a risk.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RiskControlOut {
    /// The control's id.
    pub control_id: String,
    /// `existing` or `planned`.
    pub role: RiskControlRole,
}

impl From<RiskView> for Risk {
    fn from(view: RiskView) -> Self {
        let acceptance = RiskAcceptance::of(&view);
        let r = view.risk;
        Self {
            reference: risk_ref(r.ref_number),
            inherent: RiskRating {
                likelihood: r.inherent_likelihood,
                impact: r.inherent_impact,
                level: r.inherent_level,
                level_name: view.inherent_level_name,
            },
            residual: RiskRating {
                likelihood: r.residual_likelihood,
                impact: r.residual_impact,
                level: r.residual_level,
                level_name: view.residual_level_name,
            },
            above_appetite: view.above_appetite,
            controls: view
                .controls
                .into_iter()
                .map(|c| RiskControlOut {
                    control_id: c.control_id,
                    role: c.role,
                })
                .collect(),
            overdue: is_overdue(
                r.status,
                r.treatment_due,
                r.review_due,
                Utc::now().date_naive(),
            ),
            acceptance,
            asset_ids: view.asset_ids,
            supplier_ids: view.supplier_ids,
            id: r.id,
            title: r.title,
            description: r.description,
            threat: r.threat,
            vulnerability: r.vulnerability,
            owner_id: r.owner_id,
            treatment: r.treatment,
            treatment_plan: r.treatment_plan,
            treatment_due: r.treatment_due,
            assessed_at: r.assessed_at,
            review_due: r.review_due,
            status: r.status,
            template: r.template,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl crate::service::webhooks::EventResource for RiskView {
    fn event_data(&self) -> Result<serde_json::Value> {
        serde_json::to_value(Risk::from(self.clone())).map_err(AppError::internal)
    }
}

page_schema!(RiskPage, Risk, "A page of risks.");

fn links_of(controls: Vec<RiskControlLink>) -> Vec<(String, RiskControlRole)> {
    controls
        .into_iter()
        .map(|c| (c.control_id.to_string(), c.role))
        .collect()
}

fn ids_of(ids: &[Uuid]) -> Vec<String> {
    ids.iter().map(Uuid::to_string).collect()
}

/// A risk to register. With `template`, the template's title, description, threat and
/// vulnerability fill what is left out, and its suggested controls that the organization has
/// are linked as `planned`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskCreate {
    /// The key of a risk template to start from.
    #[schema(example = "training-data-poisoning")]
    pub template: Option<String>,
    /// Its title (1–500 characters); required without a template.
    pub title: Option<String>,
    /// What could happen.
    pub description: Option<String>,
    /// The threat.
    pub threat: Option<String>,
    /// The vulnerability the threat exploits.
    pub vulnerability: Option<String>,
    /// Assets of this organization it concerns.
    #[serde(default)]
    pub asset_ids: Vec<Uuid>,
    /// Suppliers of this organization it concerns (404 naming `supplier_ids`).
    #[serde(default)]
    pub supplier_ids: Vec<Uuid>,
    /// The owning member's user id.
    pub owner_id: Option<Uuid>,
    /// The rating before treatment (required).
    pub inherent: Option<RatingInput>,
    /// The rating with the existing controls; the inherent rating when absent.
    pub residual: Option<RatingInput>,
    /// How it is treated (default `undecided`).
    pub treatment: Option<RiskTreatment>,
    /// The treatment plan.
    pub treatment_plan: Option<String>,
    /// When the treatment is due.
    pub treatment_due: Option<NaiveDate>,
    /// Controls of this organization treating it.
    #[serde(default)]
    pub controls: Vec<RiskControlLink>,
    /// When it was assessed.
    pub assessed_at: Option<NaiveDate>,
    /// When it is next to be reviewed.
    pub review_due: Option<NaiveDate>,
    /// Default `open`.
    pub status: Option<RiskStatus>,
}

impl From<RiskCreate> for NewRisk {
    fn from(c: RiskCreate) -> Self {
        Self {
            template: c.template,
            title: c.title,
            description: c.description,
            threat: c.threat,
            vulnerability: c.vulnerability,
            asset_ids: ids_of(&c.asset_ids),
            supplier_ids: ids_of(&c.supplier_ids),
            owner_id: c.owner_id.map(|id| id.to_string()),
            inherent: c.inherent.map(Rating::from),
            residual: c.residual.map(Rating::from),
            treatment: c.treatment,
            treatment_plan: c.treatment_plan,
            treatment_due: c.treatment_due,
            controls: links_of(c.controls),
            assessed_at: c.assessed_at,
            review_due: c.review_due,
            status: c.status,
        }
    }
}

/// Changes to a risk. Absent fields are left as they are; `null` clears a nullable field;
/// `asset_ids` and `controls` replace the sets. Changing the rating or the treatment of an
/// accepted risk clears its acceptance.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskUpdate {
    /// New title.
    pub title: Option<String>,
    /// New description.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub description: Option<Option<String>>,
    /// New threat.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub threat: Option<Option<String>>,
    /// New vulnerability.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub vulnerability: Option<Option<String>>,
    /// The assets it concerns (replaces the set).
    pub asset_ids: Option<Vec<Uuid>>,
    /// The suppliers it concerns (replaces the set).
    pub supplier_ids: Option<Vec<Uuid>>,
    /// The owning member's user id.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub owner_id: Option<Option<Uuid>>,
    /// New inherent rating.
    pub inherent: Option<RatingInput>,
    /// New residual rating.
    pub residual: Option<RatingInput>,
    /// New treatment.
    pub treatment: Option<RiskTreatment>,
    /// The treatment plan.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub treatment_plan: Option<Option<String>>,
    /// When the treatment is due.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<NaiveDate>, nullable)]
    pub treatment_due: Option<Option<NaiveDate>>,
    /// The controls treating it (replaces the set).
    pub controls: Option<Vec<RiskControlLink>>,
    /// When it was assessed.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<NaiveDate>, nullable)]
    pub assessed_at: Option<Option<NaiveDate>>,
    /// When it is next to be reviewed.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<NaiveDate>, nullable)]
    pub review_due: Option<Option<NaiveDate>>,
    /// `open` or `closed`.
    pub status: Option<RiskStatus>,
}

impl From<RiskUpdate> for RiskPatch {
    fn from(u: RiskUpdate) -> Self {
        Self {
            title: u.title,
            description: u.description,
            threat: u.threat,
            vulnerability: u.vulnerability,
            asset_ids: u.asset_ids.as_deref().map(ids_of),
            supplier_ids: u.supplier_ids.as_deref().map(ids_of),
            owner_id: u.owner_id.map(|o| o.map(|id| id.to_string())),
            inherent: u.inherent.map(Rating::from),
            residual: u.residual.map(Rating::from),
            treatment: u.treatment,
            treatment_plan: u.treatment_plan,
            treatment_due: u.treatment_due,
            controls: u.controls.map(links_of),
            assessed_at: u.assessed_at,
            review_due: u.review_due,
            status: u.status,
        }
    }
}

/// Filters of the risk list and the risk register.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RiskQuery {
    /// Only risks on this risk level (1-based) of the `level_basis` rating.
    pub level: Option<i16>,
    /// Which rating `level` reads: `residual` (default) or `inherent`.
    #[param(inline)]
    pub level_basis: Option<LevelBasis>,
    /// Only risks whose residual level is above (`true`) or within (`false`) the appetite.
    pub above_appetite: Option<bool>,
    /// Only risks with this treatment.
    pub treatment: Option<RiskTreatment>,
    /// Only risks concerning this asset.
    pub asset_id: Option<Uuid>,
    /// Only risks concerning this supplier.
    pub supplier_id: Option<Uuid>,
    /// Only risks treated by this control.
    pub control_id: Option<Uuid>,
    /// Only risks owned by this user.
    pub owner_id: Option<Uuid>,
    /// Only open risks whose treatment or review is past due (`true`), or the others (`false`).
    pub overdue: Option<bool>,
    /// Only risks in this status.
    pub status: Option<RiskStatus>,
    /// Only risks changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
}

impl From<RiskQuery> for RiskFilter {
    fn from(q: RiskQuery) -> Self {
        Self {
            level: q.level,
            level_basis: q.level_basis,
            above_appetite: q.above_appetite,
            treatment: q.treatment,
            asset_id: q.asset_id.map(|id| id.to_string()),
            supplier_id: q.supplier_id.map(|id| id.to_string()),
            control_id: q.control_id.map(|id| id.to_string()),
            owner_id: q.owner_id.map(|id| id.to_string()),
            overdue: q.overdue,
            status: q.status,
            updated_since: q.updated_since,
        }
    }
}

/// A formal acceptance of a risk's residual rating.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptanceCreate {
    /// Why the residual risk is accepted (1–4000 characters).
    #[schema(example = "Compensating monitoring in place until the Q3 migration")]
    pub justification: String,
    /// When the acceptance lapses: a future date, at most three years ahead.
    pub expires_on: NaiveDate,
}
