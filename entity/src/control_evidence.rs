//! Links between controls and evidence of one organization.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "control_evidence")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub control_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub evidence_id: String,
    pub organization_id: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
