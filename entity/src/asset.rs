//! Assets: what the organization protects, AI models, datasets and pipelines among them.

use sea_orm::entity::prelude::*;

use crate::values::{AssetKind, AssetStatus, Classification};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub kind: AssetKind,
    pub description: Option<String>,
    /// The owning member's user id.
    pub owner_id: Option<String>,
    pub classification: Classification,
    pub personal_data: bool,
    /// Security objectives, each 0–4.
    pub confidentiality: i16,
    pub integrity: i16,
    pub availability: i16,
    /// The version label of a model or dataset.
    pub asset_version: Option<String>,
    /// ISO 3166-1 alpha-2 country codes, as a JSON array.
    pub locations: String,
    /// A reference in another system (a model registry URI…), unique in the organization.
    pub external_ref: Option<String>,
    pub in_scope: bool,
    pub status: AssetStatus,
    /// The supplier the asset comes from.
    pub supplier_id: Option<String>,
    /// The CycloneDX BOM (`serialNumber`) an imported asset came from.
    pub source_bom: Option<String>,
    /// The component's `bom-ref` (else its `purl`) in that BOM: with `source_bom`, the import's key.
    pub source_ref: Option<String>,
    /// CycloneDX `hashes`, as a JSON array.
    pub hashes: String,
    /// CycloneDX `externalReferences`, as a JSON array.
    pub external_references: String,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
