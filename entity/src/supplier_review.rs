//! Security reviews of a supplier: planned, in progress, completed with a decision.

use sea_orm::entity::prelude::*;

use crate::values::{SupplierReviewDecision, SupplierReviewStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "supplier_reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    pub supplier_id: String,
    pub due: Date,
    pub status: SupplierReviewStatus,
    pub decision: Option<SupplierReviewDecision>,
    pub conditions: Option<String>,
    /// The reviewing member's user id (an auditor or admin, never the supplier's owner).
    pub reviewer_id: Option<String>,
    /// Evidence ids, as a JSON array.
    pub evidence_ids: String,
    pub completed_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
