//! Suppliers: AI model providers, ML platforms, clouds, data providers and other third parties.

use sea_orm::entity::prelude::*;

use crate::values::{Criticality, SupplierKind, SupplierStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "suppliers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    /// Unique in the organization.
    pub name: String,
    pub website: Option<String>,
    pub services: Option<String>,
    pub kind: SupplierKind,
    pub criticality: Criticality,
    /// The kinds of data the supplier can reach, as a JSON array of names.
    pub data_access: String,
    /// ISO 3166-1 alpha-2 codes, as a JSON array.
    pub countries: String,
    /// JSON array of `{scheme, expires_on, evidence_id}`.
    pub certifications: String,
    pub dpa_signed_at: Option<Date>,
    pub contract_end: Option<Date>,
    /// The owning member's user id.
    pub owner_id: Option<String>,
    pub status: SupplierStatus,
    /// Months between security reviews; `None`: by criticality.
    pub review_interval_months: Option<i16>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
