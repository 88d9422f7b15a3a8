//! Formula version 2's supplier part (see docs/readiness.md, "Suppliers"): the supplier
//! section of a report, the supplier blockers, the controls they hold back, and the AI
//! checklist's inventory section. Pure: the service gathers the facts.

use chrono::NaiveDate;

use entity::values::{AssetKind, AssetStatus, Criticality, SupplierStatus};

use crate::domain::{
    readiness::BlockerKind,
    supplier::{self, DataAccess},
};

/// What the formula needs about one supplier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierFacts {
    pub id: String,
    pub name: String,
    pub status: SupplierStatus,
    pub criticality: Criticality,
    pub data_access: Vec<DataAccess>,
    pub dpa_signed: bool,
    /// The certifications' expiry dates.
    pub certifications_expire_on: Vec<NaiveDate>,
    pub registered_on: NaiveDate,
    pub review_interval_months: Option<i16>,
    /// The date of the last completed review.
    pub last_review_on: Option<NaiveDate>,
}

/// Suppliers per criticality.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CriticalityCounts {
    pub low: u64,
    pub medium: u64,
    pub high: u64,
    pub critical: u64,
}

/// The supplier section of a report.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SupplierSection {
    /// Suppliers in status `active`.
    pub active: u64,
    /// Active suppliers per criticality.
    pub by_criticality: CriticalityCounts,
    /// `supplier_review_overdue` blockers.
    pub review_overdue: u64,
    /// `supplier_without_dpa` blockers.
    pub without_dpa: u64,
    /// `supplier_certification_expired` blockers.
    pub certification_expired: u64,
}

/// One supplier blocker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierBlocker {
    pub kind: BlockerKind,
    pub supplier_id: String,
    pub name: String,
}

/// The supplier part of the formula for one organization on one day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SupplierAssessment {
    pub section: SupplierSection,
    pub blockers: Vec<SupplierBlocker>,
}

/// The supplier blockers (by kind, then name) and section. Offboarded suppliers count for
/// nothing; the review blocker is for active high and critical suppliers; the DPA and
/// certification blockers for every supplier not offboarded.
pub fn assess_suppliers(suppliers: &[SupplierFacts], today: NaiveDate) -> SupplierAssessment {
    let mut current: Vec<&SupplierFacts> = suppliers
        .iter()
        .filter(|s| s.status != SupplierStatus::Offboarded)
        .collect();
    current.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    let mut section = SupplierSection::default();
    for s in current
        .iter()
        .filter(|s| s.status == SupplierStatus::Active)
    {
        section.active += 1;
        *match s.criticality {
            Criticality::Low => &mut section.by_criticality.low,
            Criticality::Medium => &mut section.by_criticality.medium,
            Criticality::High => &mut section.by_criticality.high,
            Criticality::Critical => &mut section.by_criticality.critical,
        } += 1;
    }
    let mut blockers = Vec::new();
    for kind in [
        BlockerKind::SupplierReviewOverdue,
        BlockerKind::SupplierWithoutDpa,
        BlockerKind::SupplierCertificationExpired,
    ] {
        for s in &current {
            let applies = match kind {
                BlockerKind::SupplierReviewOverdue => {
                    let interval =
                        supplier::review_interval(s.criticality, s.review_interval_months);
                    let due =
                        supplier::next_review_due(s.registered_on, s.last_review_on, interval);
                    s.status == SupplierStatus::Active
                        && supplier::high_or_critical(s.criticality)
                        && supplier::review_overdue(s.last_review_on, due, today)
                }
                BlockerKind::SupplierWithoutDpa => {
                    supplier::needs_dpa(&s.data_access) && !s.dpa_signed
                }
                _ => s.certifications_expire_on.iter().any(|d| *d < today),
            };
            if applies {
                match kind {
                    BlockerKind::SupplierReviewOverdue => section.review_overdue += 1,
                    BlockerKind::SupplierWithoutDpa => section.without_dpa += 1,
                    _ => section.certification_expired += 1,
                }
                blockers.push(SupplierBlocker {
                    kind,
                    supplier_id: s.id.clone(),
                    name: s.name.clone(),
                });
            }
        }
    }
    SupplierAssessment { section, blockers }
}

/// The supplier blockers that hold back a control: ISO/IEC 27001's supplier controls A.5.19
/// (supplier relationships), A.5.20 (agreements), A.5.21 (the ICT supply chain) and A.5.22
/// (monitoring and review), and the AI checklist's supplier items (`A15-…`), count as
/// implemented only when none of these is open.
pub fn control_held_back_by(reference: &str) -> &'static [BlockerKind] {
    const ALL: &[BlockerKind] = &[
        BlockerKind::SupplierReviewOverdue,
        BlockerKind::SupplierWithoutDpa,
        BlockerKind::SupplierCertificationExpired,
    ];
    match reference {
        "A.5.19" | "A.5.20" | "A.5.21" | "A.5.22" => ALL,
        r if r.starts_with("A15-") => ALL,
        _ => &[],
    }
}

/// What the inventory section needs about one ML model or dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryFacts {
    pub kind: AssetKind,
    pub in_scope: bool,
    pub status: AssetStatus,
    pub has_owner: bool,
    pub has_risk: bool,
}

/// The AI checklist's inventory section: ML models and datasets.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InventorySection {
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

/// Counts the inventory section (assets of other kinds are ignored).
pub fn inventory(assets: &[InventoryFacts]) -> InventorySection {
    let mut section = InventorySection::default();
    for a in assets {
        if !matches!(a.kind, AssetKind::MlModel | AssetKind::Dataset) {
            continue;
        }
        if a.status == AssetStatus::Retired {
            section.retired += 1;
            continue;
        }
        if !a.in_scope || a.status != AssetStatus::Active {
            continue;
        }
        if a.kind == AssetKind::MlModel {
            section.models_in_scope += 1;
        } else {
            section.datasets_in_scope += 1;
        }
        section.without_owner += u64::from(!a.has_owner);
        section.without_risk += u64::from(!a.has_risk);
    }
    section
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or(NaiveDate::MIN)
    }

    fn facts(id: &str, criticality: Criticality) -> SupplierFacts {
        SupplierFacts {
            id: id.to_owned(),
            name: format!("S {id}"),
            status: SupplierStatus::Active,
            criticality,
            data_access: Vec::new(),
            dpa_signed: false,
            certifications_expire_on: Vec::new(),
            registered_on: day("2026-01-01"),
            review_interval_months: None,
            last_review_on: None,
        }
    }

    #[test]
    fn the_blockers_and_section() {
        let today = day("2026-12-04");
        let mut reviewed = facts("a", Criticality::Critical);
        reviewed.last_review_on = Some(day("2026-01-10"));
        let unreviewed = facts("b", Criticality::High);
        let mut stale = facts("c", Criticality::High);
        stale.last_review_on = Some(day("2025-11-30"));
        let low = facts("d", Criticality::Low);
        let mut personal = facts("e", Criticality::Medium);
        personal.data_access = vec![DataAccess::PersonalData];
        personal.certifications_expire_on = vec![day("2026-12-03"), day("2026-12-01")];
        let mut signed = facts("f", Criticality::Medium);
        signed.data_access = vec![DataAccess::TrainingData];
        signed.dpa_signed = true;
        signed.certifications_expire_on = vec![day("2026-12-04")];
        let mut gone = facts("g", Criticality::Critical);
        gone.status = SupplierStatus::Offboarded;
        gone.data_access = vec![DataAccess::PersonalData];
        let mut onboarding = facts("h", Criticality::Critical);
        onboarding.status = SupplierStatus::Onboarding;
        onboarding.data_access = vec![DataAccess::TrainingData];

        let all = [
            reviewed, unreviewed, stale, low, personal, signed, gone, onboarding,
        ];
        let a = assess_suppliers(&all, today);
        let blockers: Vec<(BlockerKind, &str)> = a
            .blockers
            .iter()
            .map(|b| (b.kind, b.supplier_id.as_str()))
            .collect();
        assert_eq!(
            blockers,
            [
                (BlockerKind::SupplierReviewOverdue, "b"),
                (BlockerKind::SupplierReviewOverdue, "c"),
                (BlockerKind::SupplierWithoutDpa, "e"),
                (BlockerKind::SupplierWithoutDpa, "h"),
                (BlockerKind::SupplierCertificationExpired, "e"),
            ]
        );
        assert_eq!(
            a.section,
            SupplierSection {
                active: 6,
                by_criticality: CriticalityCounts {
                    low: 1,
                    medium: 2,
                    high: 2,
                    critical: 1
                },
                review_overdue: 2,
                without_dpa: 2,
                certification_expired: 1,
            }
        );
    }

    #[test]
    fn the_supplier_controls_are_held_back() {
        for r in ["A.5.19", "A.5.20", "A.5.21", "A.5.22", "A15-1", "A15-4"] {
            assert_eq!(control_held_back_by(r).len(), 3, "{r}");
        }
        for r in ["A.5.18", "A.5.23", "A5-1", "6.1.2"] {
            assert!(control_held_back_by(r).is_empty(), "{r}");
        }
    }

    #[test]
    fn the_inventory_counts_models_and_datasets() {
        let asset = |kind, in_scope, status, has_owner, has_risk| InventoryFacts {
            kind,
            in_scope,
            status,
            has_owner,
            has_risk,
        };
        use AssetKind::*;
        use AssetStatus::*;
        let section = inventory(&[
            asset(MlModel, true, Active, true, true),
            asset(MlModel, true, Active, false, false),
            asset(Dataset, true, Active, true, false),
            asset(Dataset, false, Active, false, false),
            asset(Dataset, true, Retired, false, false),
            asset(Application, true, Active, false, false),
        ]);
        assert_eq!(
            section,
            InventorySection {
                models_in_scope: 2,
                datasets_in_scope: 1,
                without_owner: 1,
                without_risk: 2,
                retired: 1,
            }
        );
    }
}
