//! The supplier and inventory sections of a readiness report (formula version 2).

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::readiness::supplier::{InventorySection, SupplierSection};

/// Active suppliers per criticality.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierCriticalityCounts {
    pub low: u64,
    pub medium: u64,
    pub high: u64,
    pub critical: u64,
}

/// The suppliers' part of a report (formula version 2).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessSuppliers {
    /// Suppliers in status `active`.
    pub active: u64,
    /// Active suppliers per criticality.
    pub by_criticality: SupplierCriticalityCounts,
    /// Active high and critical suppliers whose review is overdue (`supplier_review_overdue`).
    pub review_overdue: u64,
    /// Suppliers with personal or training data access and no DPA (`supplier_without_dpa`).
    pub without_dpa: u64,
    /// Suppliers with an expired certification (`supplier_certification_expired`).
    pub certification_expired: u64,
}

impl From<&SupplierSection> for ReadinessSuppliers {
    fn from(s: &SupplierSection) -> Self {
        let c = &s.by_criticality;
        Self {
            active: s.active,
            by_criticality: SupplierCriticalityCounts {
                low: c.low,
                medium: c.medium,
                high: c.high,
                critical: c.critical,
            },
            review_overdue: s.review_overdue,
            without_dpa: s.without_dpa,
            certification_expired: s.certification_expired,
        }
    }
}

/// The AI inventory's part of an `ai-audit-checklist` report: ML models and datasets.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessInventory {
    /// Active ML models in scope.
    pub models_in_scope: u64,
    /// Active datasets in scope.
    pub datasets_in_scope: u64,
    /// Of the models and datasets in scope, those without an owner.
    pub without_owner: u64,
    /// Of the models and datasets in scope, those no risk concerns.
    pub without_risk: u64,
    /// Retired models and datasets.
    pub retired: u64,
}

impl From<&InventorySection> for ReadinessInventory {
    fn from(s: &InventorySection) -> Self {
        Self {
            models_in_scope: s.models_in_scope,
            datasets_in_scope: s.datasets_in_scope,
            without_owner: s.without_owner,
            without_risk: s.without_risk,
            retired: s.retired,
        }
    }
}
