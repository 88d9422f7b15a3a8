//! The asset inventory's request and response bodies and list filters.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    domain::asset::{AssetKind, AssetStatus, Classification},
    error::{AppError, Result},
    page_schema,
    service::assets::{
        AssetFilter, AssetPatch, AssetView, LineageItem, LineageView, NewAsset, ObjectivesPatch,
    },
};

/// How much confidentiality, integrity and availability matter for an asset, each from 0
/// (not at all) to 4 (critical).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecurityObjectives {
    /// Confidentiality, 0–4.
    #[schema(minimum = 0, maximum = 4, example = 3)]
    pub confidentiality: i16,
    /// Integrity, 0–4.
    #[schema(minimum = 0, maximum = 4, example = 4)]
    pub integrity: i16,
    /// Availability, 0–4.
    #[schema(minimum = 0, maximum = 4, example = 2)]
    pub availability: i16,
}

/// An asset of the inventory: what the organization protects, AI models and datasets among
/// them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Asset {
    /// The asset's id.
    pub id: String,
    /// Its name.
    #[schema(example = "Support assistant model")]
    pub name: String,
    /// What it is.
    pub kind: AssetKind,
    /// What it is for.
    pub description: Option<String>,
    /// The user id of the member who owns it.
    pub owner_id: Option<String>,
    /// How its information is classified.
    pub classification: Classification,
    /// Whether it holds or processes personal data.
    pub personal_data: bool,
    /// Its security objectives.
    pub security_objectives: SecurityObjectives,
    /// Its version label (a model or dataset version).
    #[schema(example = "2026-11-rc2")]
    pub asset_version: Option<String>,
    /// The assets it is derived from (a model from its training datasets…), sorted.
    pub derived_from: Vec<String>,
    /// Where it is located or processed: ISO 3166-1 alpha-2 codes, sorted.
    #[schema(example = json!(["DE", "US"]))]
    pub locations: Vec<String>,
    /// Its reference in another system (a model registry URI, a CMDB id), unique in the
    /// organization.
    #[schema(example = "mlflow://models/support-assistant/7")]
    pub external_ref: Option<String>,
    /// The supplier that provides it.
    pub supplier_id: Option<String>,
    /// Whether it is within the scope of the management system.
    pub in_scope: bool,
    /// Whether it is still in use.
    pub status: AssetStatus,
    /// The risks that concern it, sorted.
    pub risk_ids: Vec<String>,
    /// Incremented on every change; the `ETag` is `"<version>"`.
    pub version: i32,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<AssetView> for Asset {
    fn from(view: AssetView) -> Self {
        let a = view.asset;
        Self {
            id: a.id,
            name: a.name,
            kind: a.kind,
            description: a.description,
            owner_id: a.owner_id,
            classification: a.classification,
            personal_data: a.personal_data,
            security_objectives: SecurityObjectives {
                confidentiality: a.confidentiality,
                integrity: a.integrity,
                availability: a.availability,
            },
            asset_version: a.asset_version,
            derived_from: view.derived_from,
            locations: view.locations,
            external_ref: a.external_ref,
            supplier_id: a.supplier_id,
            in_scope: a.in_scope,
            status: a.status,
            risk_ids: view.risk_ids,
            version: a.version,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

impl crate::service::webhooks::EventResource for AssetView {
    fn event_data(&self) -> Result<serde_json::Value> {
        serde_json::to_value(Asset::from(self.clone())).map_err(AppError::internal)
    }
}

page_schema!(AssetPage, Asset, "A page of assets.");

/// Security objectives of a new asset; absent ones are 0.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityObjectivesCreate {
    /// Confidentiality, 0–4 (default 0).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 4)]
    pub confidentiality: i64,
    /// Integrity, 0–4 (default 0).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 4)]
    pub integrity: i64,
    /// Availability, 0–4 (default 0).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 4)]
    pub availability: i64,
}

fn default_classification() -> Classification {
    Classification::Internal
}

fn default_true() -> bool {
    true
}

fn default_status() -> AssetStatus {
    AssetStatus::Active
}

/// An asset to register.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetCreate {
    /// Its name, 1–200 characters (trimmed).
    #[schema(example = "Support assistant model")]
    pub name: String,
    /// What it is.
    pub kind: AssetKind,
    /// What it is for.
    pub description: Option<String>,
    /// The user id of a member of the organization who owns it (404 otherwise).
    pub owner_id: Option<Uuid>,
    /// How its information is classified (default `internal`).
    #[serde(default = "default_classification")]
    #[schema(default = "internal")]
    pub classification: Classification,
    /// Whether it holds or processes personal data (default false).
    #[serde(default)]
    pub personal_data: bool,
    /// Its security objectives (each default 0).
    #[serde(default)]
    pub security_objectives: SecurityObjectivesCreate,
    /// Its version label, at most 200 characters.
    pub asset_version: Option<String>,
    /// Assets of this organization it is derived from (404 otherwise).
    #[serde(default)]
    pub derived_from: Vec<Uuid>,
    /// ISO 3166-1 alpha-2 codes of where it is located or processed (upper case).
    #[serde(default)]
    #[schema(example = json!(["US", "DE"]))]
    pub locations: Vec<String>,
    /// Its reference in another system, at most 1000 characters, unique in the organization
    /// (409 `external-ref-taken`).
    pub external_ref: Option<String>,
    /// The supplier of this organization that provides it (404 naming `supplier_id`).
    pub supplier_id: Option<Uuid>,
    /// Whether it is within the scope of the management system (default true).
    #[serde(default = "default_true")]
    #[schema(default = true)]
    pub in_scope: bool,
    /// Whether it is still in use (default `active`).
    #[serde(default = "default_status")]
    #[schema(default = "active")]
    pub status: AssetStatus,
}

fn ids(ids: &[Uuid]) -> Vec<String> {
    ids.iter().map(Uuid::to_string).collect()
}

impl From<AssetCreate> for NewAsset {
    fn from(c: AssetCreate) -> Self {
        Self {
            name: c.name,
            kind: c.kind,
            description: c.description,
            owner_id: c.owner_id.map(|id| id.to_string()),
            classification: c.classification,
            personal_data: c.personal_data,
            confidentiality: c.security_objectives.confidentiality,
            integrity: c.security_objectives.integrity,
            availability: c.security_objectives.availability,
            asset_version: c.asset_version,
            derived_from: ids(&c.derived_from),
            locations: c.locations,
            external_ref: c.external_ref,
            supplier_id: c.supplier_id.map(|id| id.to_string()),
            in_scope: c.in_scope,
            status: c.status,
        }
    }
}

/// Changes to the security objectives; absent ones stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityObjectivesUpdate {
    /// New confidentiality, 0–4.
    #[schema(minimum = 0, maximum = 4)]
    pub confidentiality: Option<i64>,
    /// New integrity, 0–4.
    #[schema(minimum = 0, maximum = 4)]
    pub integrity: Option<i64>,
    /// New availability, 0–4.
    #[schema(minimum = 0, maximum = 4)]
    pub availability: Option<i64>,
}

/// Changes to an asset. Absent fields are left as they are; `null` clears a nullable field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetUpdate {
    /// New name, 1–200 characters (trimmed).
    pub name: Option<String>,
    /// New kind.
    pub kind: Option<AssetKind>,
    /// New description.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub description: Option<Option<String>>,
    /// New owner: the user id of a member of the organization.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub owner_id: Option<Option<Uuid>>,
    /// New classification.
    pub classification: Option<Classification>,
    /// Whether it holds or processes personal data.
    pub personal_data: Option<bool>,
    /// New security objectives (only those given change).
    pub security_objectives: Option<SecurityObjectivesUpdate>,
    /// New version label.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub asset_version: Option<Option<String>>,
    /// What it is derived from (replaces the set); a cycle through the lineage is 422
    /// `lineage-cycle`.
    pub derived_from: Option<Vec<Uuid>>,
    /// Where it is located or processed (replaces the set).
    pub locations: Option<Vec<String>>,
    /// New external reference.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub external_ref: Option<Option<String>>,
    /// New supplier: a supplier of this organization (404 naming `supplier_id`).
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub supplier_id: Option<Option<Uuid>>,
    /// Whether it is within the scope of the management system.
    pub in_scope: Option<bool>,
    /// Whether it is still in use.
    pub status: Option<AssetStatus>,
}

impl From<AssetUpdate> for AssetPatch {
    fn from(u: AssetUpdate) -> Self {
        Self {
            name: u.name,
            kind: u.kind,
            description: u.description,
            owner_id: u.owner_id.map(|o| o.map(|id| id.to_string())),
            classification: u.classification,
            personal_data: u.personal_data,
            security_objectives: u.security_objectives.map(|o| ObjectivesPatch {
                confidentiality: o.confidentiality,
                integrity: o.integrity,
                availability: o.availability,
            }),
            asset_version: u.asset_version,
            derived_from: u.derived_from.as_deref().map(ids),
            locations: u.locations,
            external_ref: u.external_ref,
            supplier_id: u.supplier_id.map(|o| o.map(|id| id.to_string())),
            in_scope: u.in_scope,
            status: u.status,
        }
    }
}

/// Filters of the asset list (and of the CSV inventory).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssetQuery {
    /// Only assets of this kind.
    pub kind: Option<AssetKind>,
    /// Only assets owned by this user.
    pub owner_id: Option<Uuid>,
    /// Only assets with this classification.
    pub classification: Option<Classification>,
    /// Only assets that hold personal data (`true`) or do not (`false`).
    pub personal_data: Option<bool>,
    /// Only assets in (`true`) or out of (`false`) scope.
    pub in_scope: Option<bool>,
    /// Only assets in this status.
    pub status: Option<AssetStatus>,
    /// Only assets provided by this supplier.
    pub supplier_id: Option<Uuid>,
    /// Only assets whose name, description or external reference contains this text (case
    /// insensitive).
    #[param(example = "llama")]
    pub q: Option<String>,
    /// Only assets changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
}

impl From<AssetQuery> for AssetFilter {
    fn from(q: AssetQuery) -> Self {
        Self {
            kind: q.kind,
            owner_id: q.owner_id.map(|id| id.to_string()),
            classification: q.classification,
            personal_data: q.personal_data,
            in_scope: q.in_scope,
            status: q.status,
            supplier_id: q.supplier_id.map(|id| id.to_string()),
            q: q.q,
            updated_since: q.updated_since,
        }
    }
}

/// One asset of a lineage.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineageEntry {
    /// The asset's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What it is.
    pub kind: AssetKind,
    /// Its version label.
    pub asset_version: Option<String>,
    /// Whether it is still in use.
    pub status: AssetStatus,
    /// 1 for a direct source (or a directly derived asset), 2 for theirs, and so on.
    #[schema(minimum = 1, example = 1)]
    pub depth: u32,
}

impl From<LineageItem> for LineageEntry {
    fn from(i: LineageItem) -> Self {
        Self {
            id: i.id,
            name: i.name,
            kind: i.kind,
            asset_version: i.asset_version,
            status: i.status,
            depth: i.depth,
        }
    }
}

/// An asset's lineage: what it is derived from and what is derived from it, at any depth.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetLineage {
    /// The asset's id.
    pub asset_id: String,
    /// The assets it is derived from, directly or not, nearest first.
    pub ancestors: Vec<LineageEntry>,
    /// The assets derived from it, directly or not, nearest first.
    pub descendants: Vec<LineageEntry>,
}

impl From<LineageView> for AssetLineage {
    fn from(v: LineageView) -> Self {
        Self {
            asset_id: v.asset_id,
            ancestors: v.ancestors.into_iter().map(LineageEntry::from).collect(),
            descendants: v.descendants.into_iter().map(LineageEntry::from).collect(),
        }
    }
}
