//! The suppliers a risk concerns.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "risk_suppliers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub risk_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub supplier_id: String,
    pub organization_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
