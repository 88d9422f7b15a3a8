//! Controls: an organization's record of one requirement (or a custom control).

use sea_orm::entity::prelude::*;

use crate::values::{ControlKind, ControlStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "controls")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    pub framework_key: String,
    pub requirement_id: Option<String>,
    #[sea_orm(column_name = "ref")]
    pub reference: String,
    pub title: String,
    pub group_key: String,
    pub kind: ControlKind,
    pub custom: bool,
    pub description: Option<String>,
    pub applicable: bool,
    pub justification: Option<String>,
    pub status: ControlStatus,
    pub owner: Option<String>,
    pub due_date: Option<Date>,
    pub notes: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::requirement::Entity",
        from = "Column::RequirementId",
        to = "super::requirement::Column::Id"
    )]
    Requirement,
}

impl Related<super::requirement::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Requirement.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
