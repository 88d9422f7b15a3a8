//! Links between controls and evidence of one organization.

use sea_orm::entity::prelude::*;

use crate::values::ReviewStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "control_evidence")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub control_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub evidence_id: String,
    pub organization_id: String,
    pub created_at: DateTimeUtc,
    /// Copies of the evidence's facts (kept in step by the evidence service), read by the
    /// per-control aggregates without touching the evidence rows.
    pub evidence_review_status: ReviewStatus,
    pub evidence_valid_until: Option<DateTimeUtc>,
    pub evidence_archived_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
