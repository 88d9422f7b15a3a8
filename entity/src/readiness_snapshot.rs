//! Readiness snapshots: a framework's score at one moment, for history charts.

use sea_orm::entity::prelude::*;

use crate::values::Level;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "readiness_snapshots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    pub framework_key: String,
    pub score: f64,
    pub level: Level,
    pub formula_version: i32,
    pub details: String,
    pub trigger: String,
    pub period: Option<String>,
    pub created_by: String,
    pub computed_at: DateTimeUtc,
    /// The head `hash` of the organization's audit chain when the snapshot was stored.
    pub audit_head_hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
