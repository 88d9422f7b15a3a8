//! The asset inventory (docs/assets.md): assets of every kind, AI models and datasets among
//! them, with their owner, classification, security objectives, locations, lineage
//! (`derived_from`) and the risks that concern them.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::LockType,
};

use crate::{
    domain::{
        asset::{self, AssetKind, AssetStatus, Classification},
        principal::Principal,
        role::Action,
        webhook::EventType,
    },
    error::{AppError, Result, ResultExt},
    service::{
        audit::{self, AuditRecord, Changes},
        authz, changes,
        members_check::check_member,
        suppliers::check_supplier,
        version::{self, IfMatch},
    },
    store::db,
};
use entity::{asset as asset_row, asset_derivation, risk_asset};

pub mod bom;
mod lineage;
mod list;
mod patch;

pub use lineage::{LineageItem, LineageView, lineage};
pub use list::{AssetFilter, inventory, list};
pub use patch::{AssetPatch, ObjectivesPatch, update};

/// An asset with what it is derived from and the risks that concern it.
#[derive(Debug, Clone)]
pub struct AssetView {
    pub asset: asset_row::Model,
    /// The assets it is derived from, sorted.
    pub derived_from: Vec<String>,
    /// Its locations (ISO 3166-1 alpha-2), sorted.
    pub locations: Vec<String>,
    /// The risks linked to it, sorted.
    pub risk_ids: Vec<String>,
}

/// What the unique index on an asset's external reference stands for.
const EXTERNAL_REF_TAKEN: (&str, &str) = (
    "external-ref-taken",
    "another asset of this organization already has this external_ref",
);

/// The longest name, version label and external reference.
const MAX_NAME: usize = 200;
const MAX_ASSET_VERSION: usize = 200;
const MAX_EXTERNAL_REF: usize = 1000;

/// A trimmed text of 1 to `max` characters (422 naming `field` otherwise).
fn bounded(field: &str, value: &str, max: usize) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("must be 1 to {max} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

fn bounded_opt(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>> {
    value.map(|v| bounded(field, v, max)).transpose()
}

/// A security objective within 0–4 (422 naming `security_objectives.<name>` otherwise).
fn objective(name: &str, value: i64) -> Result<i16> {
    asset::objective(value).ok_or_else(|| {
        AppError::invalid(
            &format!("security_objectives.{name}"),
            format!("must be an integer from 0 to {}", asset::MAX_OBJECTIVE),
        )
    })
}

/// The locations checked, de-duplicated and sorted (422 naming `locations[i]` otherwise).
fn locations(codes: &[String]) -> Result<Vec<String>> {
    asset::normalize_locations(codes)
        .map_err(|e| AppError::invalid(&format!("locations[{}]", e.index), e.message))
}

fn locations_json(codes: &[String]) -> Result<String> {
    serde_json::to_string(codes).map_err(AppError::internal)
}

fn parse_locations(stored: &str) -> Result<Vec<String>> {
    serde_json::from_str(stored).map_err(AppError::internal)
}

/// The ids, de-duplicated and sorted, when each is an asset of `org_id`; otherwise 404 naming
/// `field`. For every module that links to assets.
pub async fn check_assets<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    field: &str,
    ids: &[String],
) -> Result<Vec<String>> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(ids);
    }
    let found = asset_row::Entity::find()
        .select_only()
        .column(asset_row::Column::Id)
        .filter(asset_row::Column::OrganizationId.eq(org_id))
        .filter(asset_row::Column::Id.is_in(ids.clone()))
        .into_tuple::<String>()
        .all(conn)
        .await?;
    if let Some(missing) = ids.iter().find(|id| !found.contains(id)) {
        return Err(AppError::not_found_field(
            field,
            format!("`{missing}` is not an asset of this organization"),
        ));
    }
    Ok(ids)
}

/// The assets (of one organization) with their lineage and risks: two queries whatever their
/// number.
async fn views<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<asset_row::Model>,
) -> Result<Vec<AssetView>> {
    let ids: Vec<String> = rows.iter().map(|a| a.id.clone()).collect();
    let mut sources: HashMap<String, Vec<String>> = HashMap::new();
    let mut risks: HashMap<String, Vec<String>> = HashMap::new();
    if !ids.is_empty() {
        let edges: Vec<(String, String)> = asset_derivation::Entity::find()
            .select_only()
            .column(asset_derivation::Column::AssetId)
            .column(asset_derivation::Column::SourceId)
            .filter(asset_derivation::Column::AssetId.is_in(ids.clone()))
            .order_by_asc(asset_derivation::Column::SourceId)
            .into_tuple()
            .all(conn)
            .await?;
        for (asset_id, source_id) in edges {
            sources.entry(asset_id).or_default().push(source_id);
        }
        let links: Vec<(String, String)> = risk_asset::Entity::find()
            .select_only()
            .column(risk_asset::Column::AssetId)
            .column(risk_asset::Column::RiskId)
            .filter(risk_asset::Column::AssetId.is_in(ids))
            .order_by_asc(risk_asset::Column::RiskId)
            .into_tuple()
            .all(conn)
            .await?;
        for (asset_id, risk_id) in links {
            risks.entry(asset_id).or_default().push(risk_id);
        }
    }
    assemble(rows, sources, risks)
}

/// Joins the rows with their derivations and risk links, grouped by asset id.
fn assemble(
    rows: Vec<asset_row::Model>,
    mut sources: HashMap<String, Vec<String>>,
    mut risks: HashMap<String, Vec<String>>,
) -> Result<Vec<AssetView>> {
    rows.into_iter()
        .map(|asset| {
            Ok(AssetView {
                derived_from: sources.remove(&asset.id).unwrap_or_default(),
                risk_ids: risks.remove(&asset.id).unwrap_or_default(),
                locations: parse_locations(&asset.locations)?,
                asset,
            })
        })
        .collect()
}

async fn view_one<C: ConnectionTrait>(conn: &C, model: asset_row::Model) -> Result<AssetView> {
    views(conn, vec![model])
        .await?
        .pop()
        .ok_or_else(|| AppError::internal("asset view missing"))
}

/// The organization's asset (404 otherwise).
async fn find<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    asset_id: &str,
) -> Result<asset_row::Model> {
    asset_row::Entity::find_by_id(asset_id.to_owned())
        .filter(asset_row::Column::OrganizationId.eq(org_id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("asset"))
}

/// Like [`find`], locking the row until the transaction ends (changes take turns on
/// PostgreSQL, so `If-Match` holds).
async fn find_for_update<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    asset_id: &str,
) -> Result<asset_row::Model> {
    asset_row::Entity::find_by_id(asset_id.to_owned())
        .filter(asset_row::Column::OrganizationId.eq(org_id))
        .lock(LockType::NoKeyUpdate)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("asset"))
}

/// Replaces what `asset` is derived from with `sources` (checked by [`check_assets`]).
async fn set_sources<C: ConnectionTrait>(
    conn: &C,
    asset: &asset_row::Model,
    sources: &[String],
    replace: bool,
) -> Result<()> {
    if replace {
        asset_derivation::Entity::delete_many()
            .filter(asset_derivation::Column::AssetId.eq(asset.id.as_str()))
            .exec(conn)
            .await?;
    }
    if !sources.is_empty() {
        asset_derivation::Entity::insert_many(sources.iter().map(|source_id| {
            asset_derivation::ActiveModel {
                asset_id: Set(asset.id.clone()),
                source_id: Set(source_id.clone()),
                organization_id: Set(asset.organization_id.clone()),
            }
        }))
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

/// An asset to register.
#[derive(Debug, Clone)]
pub struct NewAsset {
    pub name: String,
    pub kind: AssetKind,
    pub description: Option<String>,
    pub owner_id: Option<String>,
    pub classification: Classification,
    pub personal_data: bool,
    pub confidentiality: i64,
    pub integrity: i64,
    pub availability: i64,
    pub asset_version: Option<String>,
    pub derived_from: Vec<String>,
    pub locations: Vec<String>,
    pub external_ref: Option<String>,
    pub supplier_id: Option<String>,
    pub in_scope: bool,
    pub status: AssetStatus,
}

/// Registers an asset (editors, admins).
pub async fn create<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    org_id: &str,
    new: NewAsset,
) -> Result<AssetView> {
    authz::authorize(conn, principal, org_id, Action::ChangeRisks).await?;
    let name = bounded("name", &new.name, MAX_NAME)?;
    let confidentiality = objective("confidentiality", new.confidentiality)?;
    let integrity = objective("integrity", new.integrity)?;
    let availability = objective("availability", new.availability)?;
    let asset_version = bounded_opt(
        "asset_version",
        new.asset_version.as_deref(),
        MAX_ASSET_VERSION,
    )?;
    let external_ref = bounded_opt(
        "external_ref",
        new.external_ref.as_deref(),
        MAX_EXTERNAL_REF,
    )?;
    let locations = locations(&new.locations)?;
    if let Some(owner) = &new.owner_id {
        check_member(conn, org_id, "owner_id", owner).await?;
    }
    let derived_from = check_assets(conn, org_id, "derived_from", &new.derived_from).await?;
    if let Some(supplier) = &new.supplier_id {
        check_supplier(conn, org_id, "supplier_id", supplier).await?;
    }
    let now = db::now();
    let created = asset_row::ActiveModel {
        id: Set(db::new_id()),
        organization_id: Set(org_id.to_owned()),
        name: Set(name),
        kind: Set(new.kind),
        description: Set(new.description),
        owner_id: Set(new.owner_id),
        classification: Set(new.classification),
        personal_data: Set(new.personal_data),
        confidentiality: Set(confidentiality),
        integrity: Set(integrity),
        availability: Set(availability),
        asset_version: Set(asset_version),
        locations: Set(locations_json(&locations)?),
        external_ref: Set(external_ref),
        in_scope: Set(new.in_scope),
        status: Set(new.status),
        supplier_id: Set(new.supplier_id),
        source_bom: Set(None),
        source_ref: Set(None),
        hashes: Set("[]".to_owned()),
        external_references: Set("[]".to_owned()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await
    .on_unique(EXTERNAL_REF_TAKEN.0, EXTERNAL_REF_TAKEN.1)?;
    set_sources(conn, &created, &derived_from, false).await?;
    let view = AssetView {
        asset: created,
        derived_from,
        locations,
        risk_ids: Vec::new(),
    };
    let a = &view.asset;
    changes::record(
        conn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "asset.created",
            entity_type: "asset",
            entity_id: &a.id,
            changes: Changes::new()
                .created("name", &a.name)
                .created("kind", &a.kind)
                .created("owner_id", &a.owner_id)
                .created("classification", &a.classification)
                .created("personal_data", &a.personal_data)
                .created("security_objectives.confidentiality", &a.confidentiality)
                .created("security_objectives.integrity", &a.integrity)
                .created("security_objectives.availability", &a.availability)
                .created("asset_version", &a.asset_version)
                .created("derived_from", &view.derived_from)
                .created("locations", &view.locations)
                .created("external_ref", &a.external_ref)
                .created("supplier_id", &a.supplier_id)
                .created("in_scope", &a.in_scope)
                .created("status", &a.status),
        },
        EventType::AssetCreated,
        &view,
    )
    .await?;
    Ok(view)
}

/// One asset (every member).
pub async fn get(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    asset_id: &str,
) -> Result<AssetView> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    view_one(db_conn, find(db_conn, org_id, asset_id).await?).await
}

/// Deletes an asset (admins) with its lineage and risk links; the audit trail keeps its
/// record. Honours `If-Match`.
pub async fn delete(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    asset_id: &str,
    if_match: Option<&IfMatch>,
) -> Result<()> {
    let txn = db::begin_write(db_conn).await?;
    authz::authorize(&txn, principal, org_id, Action::Administer).await?;
    let current = find_for_update(&txn, org_id, asset_id).await?;
    version::check(if_match, current.version)?;
    // The derivation and risk links go with it (ON DELETE CASCADE).
    asset_row::Entity::delete_by_id(asset_id.to_owned())
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "asset.deleted",
            entity_type: "asset",
            entity_id: asset_id,
            changes: Changes::new()
                .field("name", &Some(current.name.clone()), &None::<String>)
                .field("kind", &Some(current.kind), &None)
                .field("external_ref", &current.external_ref, &None),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
