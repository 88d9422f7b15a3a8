//! One attribute value of a requirement (e.g. control_type = detective), for filtering.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "requirement_attributes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub requirement_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub attribute: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub value: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
