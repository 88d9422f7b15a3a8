//! Catalog requirements: clauses, Annex A controls and checklist items.

use sea_orm::entity::prelude::*;

use crate::values::ControlKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "requirements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub framework_key: String,
    #[sea_orm(column_name = "ref")]
    pub reference: String,
    pub title: String,
    pub group_key: String,
    pub section: Option<String>,
    pub kind: ControlKind,
    pub description: String,
    pub attributes: Option<String>,
    pub position: i32,
    pub withdrawn: bool,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
