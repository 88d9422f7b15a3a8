//! Listing assets: the filters, a page for JSON, and the whole inventory for CSV.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Func},
};

use crate::{
    domain::{
        asset::{AssetKind, AssetStatus, Classification},
        principal::Principal,
        role::Action,
    },
    error::Result,
    service::{
        authz,
        page::{Page, PageRequest},
    },
};
use entity::{asset as asset_row, asset_derivation, risk_asset};

use super::{AssetView, assemble, views};

/// Filters of the asset list (docs/assets.md).
#[derive(Debug, Clone, Default)]
pub struct AssetFilter {
    pub kind: Option<AssetKind>,
    pub owner_id: Option<String>,
    pub classification: Option<Classification>,
    pub personal_data: Option<bool>,
    pub in_scope: Option<bool>,
    pub status: Option<AssetStatus>,
    pub supplier_id: Option<String>,
    /// A case-insensitive substring of the name, description or external reference.
    pub q: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
}

fn filtered(filter: &AssetFilter) -> sea_orm::Select<asset_row::Entity> {
    use asset_row::Column;
    let mut query = asset_row::Entity::find();
    if let Some(kind) = filter.kind {
        query = query.filter(Column::Kind.eq(kind.as_str()));
    }
    if let Some(owner) = &filter.owner_id {
        query = query.filter(Column::OwnerId.eq(owner.as_str()));
    }
    if let Some(classification) = filter.classification {
        query = query.filter(Column::Classification.eq(classification.as_str()));
    }
    if let Some(personal_data) = filter.personal_data {
        query = query.filter(Column::PersonalData.eq(personal_data));
    }
    if let Some(in_scope) = filter.in_scope {
        query = query.filter(Column::InScope.eq(in_scope));
    }
    if let Some(status) = filter.status {
        query = query.filter(Column::Status.eq(status.as_str()));
    }
    if let Some(supplier) = &filter.supplier_id {
        query = query.filter(Column::SupplierId.eq(supplier.as_str()));
    }
    // As the control list's `q`: a lower-cased LIKE with the wildcards taken out of the term.
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = format!("%{}%", q.to_lowercase().replace(['%', '_'], ""));
        let like =
            |column: Column| Expr::expr(Func::lower(Expr::col(column))).like(pattern.clone());
        query = query.filter(
            Condition::any()
                .add(like(Column::Name))
                .add(like(Column::Description))
                .add(like(Column::ExternalRef)),
        );
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(Column::UpdatedAt.gte(since));
    }
    query
}

/// Assets, oldest first, filtered (three queries whatever the page size).
pub async fn list(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    filter: &AssetFilter,
    page: &PageRequest,
) -> Result<Page<AssetView>> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    let rows = crate::service::page::by_id(
        db_conn,
        filtered(filter),
        Some((asset_row::Column::OrganizationId, org_id)),
        asset_row::Column::Id,
        page,
        |a| a.id.clone(),
    )
    .await?;
    Ok(Page {
        items: views(db_conn, rows.items).await?,
        next_after: rows.next_after,
    })
}

/// Every asset matching `filter`, oldest first, not paged (the CSV inventory): three
/// queries, the lineage and risk links read for the whole organization.
pub async fn inventory(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    filter: &AssetFilter,
) -> Result<Vec<AssetView>> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    let rows = filtered(filter)
        .filter(asset_row::Column::OrganizationId.eq(org_id))
        .order_by_asc(asset_row::Column::Id)
        .all(db_conn)
        .await?;
    let mut sources: HashMap<String, Vec<String>> = HashMap::new();
    let edges: Vec<(String, String)> = asset_derivation::Entity::find()
        .select_only()
        .column(asset_derivation::Column::AssetId)
        .column(asset_derivation::Column::SourceId)
        .filter(asset_derivation::Column::OrganizationId.eq(org_id))
        .order_by_asc(asset_derivation::Column::SourceId)
        .into_tuple()
        .all(db_conn)
        .await?;
    for (asset_id, source_id) in edges {
        sources.entry(asset_id).or_default().push(source_id);
    }
    let mut risks: HashMap<String, Vec<String>> = HashMap::new();
    let links: Vec<(String, String)> = risk_asset::Entity::find()
        .select_only()
        .column(risk_asset::Column::AssetId)
        .column(risk_asset::Column::RiskId)
        .filter(risk_asset::Column::OrganizationId.eq(org_id))
        .order_by_asc(risk_asset::Column::RiskId)
        .into_tuple()
        .all(db_conn)
        .await?;
    for (asset_id, risk_id) in links {
        risks.entry(asset_id).or_default().push(risk_id);
    }
    assemble(rows, sources, risks)
}
