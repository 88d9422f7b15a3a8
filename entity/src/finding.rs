//! Audit findings with their corrective-action lifecycle and ticket reference.

use sea_orm::entity::prelude::*;

use crate::values::{FindingSource, FindingStatus, FindingType};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "findings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    pub title: String,
    pub description: Option<String>,
    #[sea_orm(column_name = "type")]
    pub finding_type: FindingType,
    pub source: FindingSource,
    pub status: FindingStatus,
    pub owner: Option<String>,
    pub due_date: Option<Date>,
    pub root_cause: Option<String>,
    pub corrective_action: Option<String>,
    pub resolution_notes: Option<String>,
    pub risk_acceptance: Option<String>,
    pub external_system: Option<String>,
    pub external_key: Option<String>,
    pub external_url: Option<String>,
    pub external_status: Option<String>,
    pub closed_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
