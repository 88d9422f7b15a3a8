//! The suppliers and the ML inventory as formula version 2 sees them
//! (`domain::readiness::supplier`): two queries for the suppliers and their last completed
//! reviews, two more for the AI checklist's inventory, whatever their number.

use std::collections::HashSet;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::{
    domain::{
        readiness::supplier::{InventoryFacts, SupplierFacts},
        supplier::{Certification, DataAccess},
    },
    error::{AppError, Result},
    service::suppliers::last_reviews,
};
use entity::{
    asset, risk_asset, supplier,
    values::{AssetKind, AssetStatus},
};

/// Gathers the formula's view of the organization's suppliers.
pub async fn input<C: ConnectionTrait>(conn: &C, org_id: &str) -> Result<Vec<SupplierFacts>> {
    let rows = supplier::Entity::find()
        .filter(supplier::Column::OrganizationId.eq(org_id))
        .all(conn)
        .await?;
    let mut last = last_reviews(conn, org_id, None).await?;
    rows.into_iter()
        .map(|s| {
            let data_access: Vec<DataAccess> =
                serde_json::from_str(&s.data_access).map_err(AppError::internal)?;
            let certifications: Vec<Certification> =
                serde_json::from_str(&s.certifications).map_err(AppError::internal)?;
            Ok(SupplierFacts {
                last_review_on: last.remove(&s.id).map(|r| r.completed_at.date_naive()),
                name: s.name,
                status: s.status,
                criticality: s.criticality,
                data_access,
                dpa_signed: s.dpa_signed_at.is_some(),
                certifications_expire_on: certifications.iter().map(|c| c.expires_on).collect(),
                registered_on: s.created_at.date_naive(),
                review_interval_months: s.review_interval_months,
                id: s.id,
            })
        })
        .collect()
}

/// The organization's ML models and datasets, with whether each has an owner and a risk.
pub async fn inventory<C: ConnectionTrait>(conn: &C, org_id: &str) -> Result<Vec<InventoryFacts>> {
    let rows: Vec<(String, AssetKind, bool, AssetStatus, Option<String>)> = asset::Entity::find()
        .select_only()
        .columns([
            asset::Column::Id,
            asset::Column::Kind,
            asset::Column::InScope,
            asset::Column::Status,
            asset::Column::OwnerId,
        ])
        .filter(asset::Column::OrganizationId.eq(org_id))
        .filter(
            asset::Column::Kind.is_in([AssetKind::MlModel.as_str(), AssetKind::Dataset.as_str()]),
        )
        .into_tuple()
        .all(conn)
        .await?;
    let with_risk: HashSet<String> = risk_asset::Entity::find()
        .select_only()
        .column(risk_asset::Column::AssetId)
        .filter(risk_asset::Column::OrganizationId.eq(org_id))
        .into_tuple::<String>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|(id, kind, in_scope, status, owner)| InventoryFacts {
            kind,
            in_scope,
            status,
            has_owner: owner.is_some(),
            has_risk: with_risk.contains(&id),
        })
        .collect())
}
