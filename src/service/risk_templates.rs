//! The AI risk templates catalog read from memory: every template or those for one asset kind,
//! and one by key (docs/risk-templates.md).

use entity::values::AssetKind;

use crate::{
    catalog::risk_templates::{self, RiskTemplate},
    error::{AppError, Result},
};

/// Every template, in catalog order; with `asset_kind`, only those that apply to it.
pub fn list(asset_kind: Option<AssetKind>) -> Vec<&'static RiskTemplate> {
    risk_templates::all()
        .iter()
        .filter(|t| asset_kind.is_none_or(|kind| t.asset_kinds.contains(&kind)))
        .collect()
}

/// The template with this key; 404 when there is none.
pub fn get(key: &str) -> Result<&'static RiskTemplate> {
    risk_templates::find(key).ok_or(AppError::NotFound("risk template"))
}
