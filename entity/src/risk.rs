//! Risks: rated on the organization's matrix (inherent and residual), with their treatment and
//! its acceptance.

use sea_orm::entity::prelude::*;

use crate::values::{RiskStatus, RiskTreatment};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "risks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    /// The number in the risk's `ref` (`R-<n>`), never reused within the organization.
    pub ref_number: i32,
    pub title: String,
    pub description: Option<String>,
    pub threat: Option<String>,
    pub vulnerability: Option<String>,
    /// The owning member's user id.
    pub owner_id: Option<String>,
    /// The template it was created from.
    pub template: Option<String>,
    /// Ratings are 1-based levels of the matrix; the risk levels are computed from its grid.
    pub inherent_likelihood: i16,
    pub inherent_impact: i16,
    pub inherent_level: i16,
    pub residual_likelihood: i16,
    pub residual_impact: i16,
    pub residual_level: i16,
    pub treatment: RiskTreatment,
    pub treatment_plan: Option<String>,
    pub treatment_due: Option<Date>,
    pub assessed_at: Option<Date>,
    pub review_due: Option<Date>,
    pub status: RiskStatus,
    pub acceptance_justification: Option<String>,
    pub acceptance_expires_on: Option<Date>,
    /// The principal who accepted the residual risk (`user:<id>` form of the audit trail).
    pub accepted_by: Option<String>,
    pub accepted_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
