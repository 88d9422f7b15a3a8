//! The controls that treat a risk, existing or planned.

use sea_orm::entity::prelude::*;

use crate::values::RiskControlRole;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "risk_controls")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub risk_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub control_id: String,
    pub organization_id: String,
    pub role: RiskControlRole,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
