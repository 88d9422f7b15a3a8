//! Changing an asset: every field's new value checked before anything is written, the
//! lineage kept free of cycles, and nothing written when nothing changes.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QuerySelect,
};

use crate::{
    domain::{
        asset::{AssetKind, AssetStatus, Classification, Lineage},
        principal::Principal,
        role::Action,
        webhook::EventType,
    },
    error::{AppError, FieldError, Result, ResultExt},
    service::{
        audit::{AuditRecord, Changes},
        authz, changes,
        members_check::check_member,
        suppliers::check_supplier,
        version::{self, IfMatch},
    },
    store::{self, db},
};
use entity::{asset as asset_row, asset_derivation};

use super::{
    AssetView, EXTERNAL_REF_TAKEN, MAX_ASSET_VERSION, MAX_EXTERNAL_REF, MAX_NAME, bounded,
    bounded_opt, check_assets, find_for_update, locations, locations_json, objective, set_sources,
    view_one,
};

/// Changes to the security objectives; absent ones stay.
#[derive(Debug, Clone, Default)]
pub struct ObjectivesPatch {
    pub confidentiality: Option<i64>,
    pub integrity: Option<i64>,
    pub availability: Option<i64>,
}

/// A change to an asset; `None` leaves a field, `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default)]
pub struct AssetPatch {
    pub name: Option<String>,
    pub kind: Option<AssetKind>,
    pub description: Option<Option<String>>,
    pub owner_id: Option<Option<String>>,
    pub classification: Option<Classification>,
    pub personal_data: Option<bool>,
    pub security_objectives: Option<ObjectivesPatch>,
    pub asset_version: Option<Option<String>>,
    /// Replaces the set.
    pub derived_from: Option<Vec<String>>,
    /// Replaces the set.
    pub locations: Option<Vec<String>>,
    pub external_ref: Option<Option<String>>,
    pub supplier_id: Option<Option<String>>,
    pub in_scope: Option<bool>,
    pub status: Option<AssetStatus>,
}

/// 422 `lineage-cycle` naming `derived_from`.
fn cycle(asset_id: &str, through: &str) -> AppError {
    let message = if through == asset_id {
        "an asset cannot be derived from itself".to_owned()
    } else {
        format!("`{through}` is derived from this asset: the lineage would have a cycle")
    };
    AppError::Invalid {
        slug: "lineage-cycle",
        detail: format!("`derived_from` {message}"),
        errors: vec![FieldError::new("derived_from", message)],
    }
}

/// What the asset will be derived from: checked, and refused when it closes a cycle (the
/// organization's edges in one query).
async fn new_sources<C: ConnectionTrait>(
    conn: &C,
    current: &asset_row::Model,
    ids: &[String],
) -> Result<Vec<String>> {
    if ids.contains(&current.id) {
        return Err(cycle(&current.id, &current.id));
    }
    let ids = check_assets(conn, &current.organization_id, "derived_from", ids).await?;
    if ids.is_empty() {
        return Ok(ids);
    }
    // Read the edges only once no other change of this lineage can add to them.
    store::assets::lock_lineage(conn, &current.organization_id).await?;
    let edges: Vec<(String, String)> = asset_derivation::Entity::find()
        .select_only()
        .column(asset_derivation::Column::AssetId)
        .column(asset_derivation::Column::SourceId)
        .filter(asset_derivation::Column::OrganizationId.eq(current.organization_id.as_str()))
        .into_tuple()
        .all(conn)
        .await?;
    if let Some(through) = Lineage::new(edges).cycle_through(&current.id, &ids) {
        return Err(cycle(&current.id, through));
    }
    Ok(ids)
}

/// Updates an asset (editors, admins); honours `If-Match`. A patch that changes nothing
/// writes nothing.
pub async fn update(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    asset_id: &str,
    if_match: Option<&IfMatch>,
    patch: AssetPatch,
) -> Result<AssetView> {
    let txn = db::begin_write(db_conn).await?;
    authz::authorize(&txn, principal, org_id, Action::ChangeRisks).await?;
    let current = find_for_update(&txn, org_id, asset_id).await?;
    version::check(if_match, current.version)?;
    let before = view_one(&txn, current.clone()).await?;

    let name = match &patch.name {
        Some(n) => bounded("name", n, MAX_NAME)?,
        None => current.name.clone(),
    };
    let objectives = patch.security_objectives.unwrap_or_default();
    let level =
        |name: &str, new: Option<i64>, old: i16| new.map_or(Ok(old), |v| objective(name, v));
    let confidentiality = level(
        "confidentiality",
        objectives.confidentiality,
        current.confidentiality,
    )?;
    let integrity = level("integrity", objectives.integrity, current.integrity)?;
    let availability = level(
        "availability",
        objectives.availability,
        current.availability,
    )?;
    let asset_version = match &patch.asset_version {
        Some(v) => bounded_opt("asset_version", v.as_deref(), MAX_ASSET_VERSION)?,
        None => current.asset_version.clone(),
    };
    let external_ref = match &patch.external_ref {
        Some(v) => bounded_opt("external_ref", v.as_deref(), MAX_EXTERNAL_REF)?,
        None => current.external_ref.clone(),
    };
    let new_locations = match &patch.locations {
        Some(codes) => locations(codes)?,
        None => before.locations.clone(),
    };
    let owner_id = patch
        .owner_id
        .clone()
        .unwrap_or_else(|| current.owner_id.clone());
    if owner_id != current.owner_id
        && let Some(owner) = &owner_id
    {
        check_member(&txn, org_id, "owner_id", owner).await?;
    }
    let supplier_id = patch
        .supplier_id
        .clone()
        .unwrap_or_else(|| current.supplier_id.clone());
    if supplier_id != current.supplier_id
        && let Some(supplier) = &supplier_id
    {
        check_supplier(&txn, org_id, "supplier_id", supplier).await?;
    }
    let derived_from = match &patch.derived_from {
        Some(ids) => new_sources(&txn, &current, ids).await?,
        None => before.derived_from.clone(),
    };
    let description = patch
        .description
        .clone()
        .unwrap_or_else(|| current.description.clone());
    let kind = patch.kind.unwrap_or(current.kind);
    let classification = patch.classification.unwrap_or(current.classification);
    let personal_data = patch.personal_data.unwrap_or(current.personal_data);
    let in_scope = patch.in_scope.unwrap_or(current.in_scope);
    let status = patch.status.unwrap_or(current.status);

    let mut changes = Changes::new();
    changes.track("name", &current.name, &name);
    changes.track("kind", &current.kind, &kind);
    changes.track("description", &current.description, &description);
    changes.track("owner_id", &current.owner_id, &owner_id);
    changes.track("classification", &current.classification, &classification);
    changes.track("personal_data", &current.personal_data, &personal_data);
    changes.track(
        "security_objectives.confidentiality",
        &current.confidentiality,
        &confidentiality,
    );
    changes.track(
        "security_objectives.integrity",
        &current.integrity,
        &integrity,
    );
    changes.track(
        "security_objectives.availability",
        &current.availability,
        &availability,
    );
    changes.track("asset_version", &current.asset_version, &asset_version);
    changes.track("derived_from", &before.derived_from, &derived_from);
    changes.track("locations", &before.locations, &new_locations);
    changes.track("external_ref", &current.external_ref, &external_ref);
    changes.track("supplier_id", &current.supplier_id, &supplier_id);
    changes.track("in_scope", &current.in_scope, &in_scope);
    changes.track("status", &current.status, &status);
    if changes.is_empty() {
        txn.commit().await?;
        return Ok(before);
    }

    let sources_changed = derived_from != before.derived_from;
    let mut active = current.clone().into_active_model();
    active.name = Set(name);
    active.kind = Set(kind);
    active.description = Set(description);
    active.owner_id = Set(owner_id);
    active.classification = Set(classification);
    active.personal_data = Set(personal_data);
    active.confidentiality = Set(confidentiality);
    active.integrity = Set(integrity);
    active.availability = Set(availability);
    active.asset_version = Set(asset_version);
    active.locations = Set(locations_json(&new_locations)?);
    active.external_ref = Set(external_ref);
    active.supplier_id = Set(supplier_id);
    active.in_scope = Set(in_scope);
    active.status = Set(status);
    let updated = version::save_next(&txn, active, current.version, db::now())
        .await
        .on_unique(EXTERNAL_REF_TAKEN.0, EXTERNAL_REF_TAKEN.1)?;
    if sources_changed {
        set_sources(&txn, &updated, &derived_from, true).await?;
    }
    let view = AssetView {
        asset: updated,
        derived_from,
        locations: new_locations,
        risk_ids: before.risk_ids,
    };
    changes::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "asset.updated",
            entity_type: "asset",
            entity_id: asset_id,
            changes,
        },
        EventType::AssetUpdated,
        &view,
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}
