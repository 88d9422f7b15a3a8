//! An asset's lineage: every asset it is derived from and every asset derived from it, at
//! any depth, in a fixed number of queries (the organization's edges walked in memory).

use std::collections::HashMap;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

use crate::{
    domain::{
        asset::{AssetKind, AssetStatus, Lineage},
        principal::Principal,
        role::Action,
    },
    error::Result,
    service::authz,
};
use entity::{asset as asset_row, asset_derivation};

use super::find;

/// One asset of a lineage.
#[derive(Debug, Clone)]
pub struct LineageItem {
    pub id: String,
    pub name: String,
    pub kind: AssetKind,
    pub asset_version: Option<String>,
    pub status: AssetStatus,
    /// 1 for a direct source (or derived asset), 2 for theirs, and so on (the shortest path).
    pub depth: u32,
}

/// An asset's ancestors and descendants, nearest first.
#[derive(Debug, Clone)]
pub struct LineageView {
    pub asset_id: String,
    pub ancestors: Vec<LineageItem>,
    pub descendants: Vec<LineageItem>,
}

/// The lineage of an asset (every member): four queries whatever its depth.
pub async fn lineage(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    asset_id: &str,
) -> Result<LineageView> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    let asset = find(db_conn, org_id, asset_id).await?;
    let edges: Vec<(String, String)> = asset_derivation::Entity::find()
        .select_only()
        .column(asset_derivation::Column::AssetId)
        .column(asset_derivation::Column::SourceId)
        .filter(asset_derivation::Column::OrganizationId.eq(org_id))
        .into_tuple()
        .all(db_conn)
        .await?;
    let graph = Lineage::new(edges);
    let ancestors = graph.ancestors(&asset.id);
    let descendants = graph.descendants(&asset.id);
    let ids: Vec<String> = ancestors
        .iter()
        .chain(&descendants)
        .map(|(id, _)| id.clone())
        .collect();
    let mut rows: HashMap<String, asset_row::Model> = HashMap::new();
    if !ids.is_empty() {
        rows = asset_row::Entity::find()
            .filter(asset_row::Column::OrganizationId.eq(org_id))
            .filter(asset_row::Column::Id.is_in(ids))
            .all(db_conn)
            .await?
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
    }
    let items = |reached: Vec<(String, u32)>| -> Vec<LineageItem> {
        let mut items: Vec<LineageItem> = reached
            .into_iter()
            .filter_map(|(id, depth)| {
                let a = rows.get(&id)?;
                Some(LineageItem {
                    id,
                    name: a.name.clone(),
                    kind: a.kind,
                    asset_version: a.asset_version.clone(),
                    status: a.status,
                    depth,
                })
            })
            .collect();
        items.sort_by(|a, b| (a.depth, &a.id).cmp(&(b.depth, &b.id)));
        items
    };
    Ok(LineageView {
        ancestors: items(ancestors),
        descendants: items(descendants),
        asset_id: asset.id,
    })
}
