//! Links between findings and the controls they concern.

use sea_orm::entity::prelude::*;

use crate::values::{FindingStatus, FindingType};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "finding_controls")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub finding_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub control_id: String,
    pub organization_id: String,
    /// Copies of the finding's status and type (kept in step by the findings service), read by
    /// the per-control aggregates without touching the finding rows.
    pub finding_status: FindingStatus,
    pub finding_type: FindingType,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
