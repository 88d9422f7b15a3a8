//! The audit trail: one row per successful mutation, each a link of its organization's hash chain.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: Option<String>,
    pub at: DateTimeUtc,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub changes: String,
    pub request_id: Option<String>,
    /// Position in its chain (the organization's, or the platform's when there is none): 1, 2, 3…
    pub chain_seq: Option<i64>,
    /// The previous event's `hash` (64 zeros for the first).
    pub prev_hash: Option<String>,
    /// SHA-256 (hex) of the event's canonical form (docs/audit-events.md).
    pub hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
