//! An organization's risk matrix, once changed from the default (levels and grid as JSON).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "risk_matrices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: String,
    /// JSON array of `{name, description}`, lowest first.
    pub likelihood_levels: String,
    /// JSON array of `{name, description}`, lowest first.
    pub impact_levels: String,
    /// JSON array of `{name}`, lowest first.
    pub risk_levels: String,
    /// JSON array (one per likelihood level) of arrays (one per impact level) of risk levels (1-based).
    pub grid: String,
    /// The highest acceptable risk level (1-based).
    pub appetite: i16,
    pub version: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
