//! Supplier rules (docs/suppliers.md): the data a supplier can reach, its certifications and
//! when its next security review is due.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::wire::wire_enum;

pub use entity::values::{
    Criticality, ReviewDecision, SupplierKind, SupplierReviewStatus, SupplierStatus,
};

wire_enum!(
    /// A kind of data a supplier can reach.
    DataAccess {
        /// No data of the organization (must stand alone).
        None => "none",
        Metadata => "metadata",
        PersonalData => "personal_data",
        TrainingData => "training_data",
        ProductionData => "production_data",
    }
);

wire_enum!(
    /// A certification or attestation scheme.
    CertificationScheme {
        Iso27001 => "iso27001",
        Iso27701 => "iso27701",
        Iso42001 => "iso42001",
        Soc2Type1 => "soc2_type1",
        Soc2Type2 => "soc2_type2",
        PciDss => "pci_dss",
        CsaStar => "csa_star",
        Other => "other",
    }
);

/// One certification of a supplier, as stored (a JSON array on the supplier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certification {
    pub scheme: CertificationScheme,
    pub expires_on: NaiveDate,
    pub evidence_id: Option<String>,
}

/// The data access set de-duplicated and sorted; `Err` when `none` is combined with another.
pub fn normalize_data_access(values: &[DataAccess]) -> Result<Vec<DataAccess>, &'static str> {
    let mut values = values.to_vec();
    values.sort();
    values.dedup();
    if values.len() > 1 && values.contains(&DataAccess::None) {
        return Err("`none` cannot be combined with other kinds of access");
    }
    Ok(values)
}

/// Whether the access needs a data processing agreement (personal or training data).
pub fn needs_dpa(access: &[DataAccess]) -> bool {
    access
        .iter()
        .any(|a| matches!(a, DataAccess::PersonalData | DataAccess::TrainingData))
}

/// The longest review interval, in months.
pub const MAX_REVIEW_INTERVAL: i16 = 60;

/// Months between security reviews: the supplier's own, else 12 for high and critical
/// suppliers and 24 for the others.
pub fn review_interval(criticality: Criticality, own: Option<i16>) -> u32 {
    match own {
        Some(months) if months > 0 => u32::from(months.unsigned_abs()),
        _ if high_or_critical(criticality) => 12,
        _ => 24,
    }
}

/// Whether the supplier is high or critical.
pub fn high_or_critical(criticality: Criticality) -> bool {
    matches!(criticality, Criticality::High | Criticality::Critical)
}

/// When the next review is due: the last completed review's date plus the interval; with no
/// completed review, the date the supplier was registered (due at once).
pub fn next_review_due(
    registered_on: NaiveDate,
    last_completed_on: Option<NaiveDate>,
    interval_months: u32,
) -> NaiveDate {
    match last_completed_on {
        Some(done) => done
            .checked_add_months(Months::new(interval_months))
            .unwrap_or(NaiveDate::MAX),
        None => registered_on,
    }
}

/// Whether the review is overdue on `today`: never reviewed, or today is past the due date.
pub fn review_overdue(
    last_completed_on: Option<NaiveDate>,
    next_due: NaiveDate,
    today: NaiveDate,
) -> bool {
    last_completed_on.is_none() || today > next_due
}

/// The statuses a review may move to from `from`: `planned → in_progress | completed`,
/// `in_progress → completed | planned`; `completed` is final.
pub fn review_next(from: SupplierReviewStatus) -> &'static [SupplierReviewStatus] {
    use SupplierReviewStatus::*;
    match from {
        Planned => &[InProgress, Completed],
        InProgress => &[Completed, Planned],
        Completed => &[],
    }
}

/// What completing a review needs: a decision, and conditions for an approval with
/// conditions; `Err((field, message))` otherwise.
pub fn check_completion(
    decision: Option<ReviewDecision>,
    conditions: Option<&str>,
) -> Result<(), (&'static str, &'static str)> {
    match decision {
        None => Err(("decision", "is required to complete a review")),
        Some(ReviewDecision::ApprovedWithConditions)
            if conditions.is_none_or(|c| c.trim().is_empty()) =>
        {
            Err((
                "conditions",
                "are required for an `approved_with_conditions` decision",
            ))
        }
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn data_access_is_sorted_and_none_stands_alone() {
        use DataAccess::*;
        let table: [(&[DataAccess], Option<Vec<DataAccess>>); 5] = [
            (&[], Some(vec![])),
            (&[None], Some(vec![None])),
            (&[None, None], Some(vec![None])),
            (
                &[TrainingData, Metadata, Metadata],
                Some(vec![Metadata, TrainingData]),
            ),
            (&[None, PersonalData], Option::None),
        ];
        for (input, expected) in table {
            assert_eq!(normalize_data_access(input).ok(), expected, "{input:?}");
        }
    }

    #[test]
    fn dpa_is_needed_for_personal_or_training_data() {
        use DataAccess::*;
        assert!(needs_dpa(&[Metadata, PersonalData]));
        assert!(needs_dpa(&[TrainingData]));
        assert!(!needs_dpa(&[Metadata, ProductionData]));
        assert!(!needs_dpa(&[]));
    }

    #[test]
    fn the_interval_follows_criticality_unless_set() {
        let table = [
            (Criticality::Low, Option::None, 24),
            (Criticality::Medium, Option::None, 24),
            (Criticality::High, Option::None, 12),
            (Criticality::Critical, Option::None, 12),
            (Criticality::Critical, Some(6), 6),
            (Criticality::Low, Some(36), 36),
        ];
        for (criticality, own, months) in table {
            assert_eq!(review_interval(criticality, own), months);
        }
    }

    #[test]
    fn next_review_and_overdue() {
        let registered = day("2026-01-10");
        assert_eq!(next_review_due(registered, None, 12), registered);
        assert!(review_overdue(None, registered, registered));
        let done = day("2025-02-28");
        let due = next_review_due(registered, Some(done), 12);
        assert_eq!(due, day("2026-02-28"));
        assert!(!review_overdue(Some(done), due, day("2026-02-28")));
        assert!(review_overdue(Some(done), due, day("2026-03-01")));
        assert_eq!(
            next_review_due(registered, Some(day("2025-08-31")), 6),
            day("2026-02-28")
        );
    }

    #[test]
    fn review_transitions_and_completion() {
        use SupplierReviewStatus::*;
        assert_eq!(review_next(Planned), &[InProgress, Completed]);
        assert!(review_next(Completed).is_empty());
        let table = [
            (Option::None, Option::None, Some("decision")),
            (Some(ReviewDecision::Approved), Option::None, Option::None),
            (Some(ReviewDecision::Rejected), Option::None, Option::None),
            (
                Some(ReviewDecision::ApprovedWithConditions),
                Some("  "),
                Some("conditions"),
            ),
            (
                Some(ReviewDecision::ApprovedWithConditions),
                Some("MFA"),
                Option::None,
            ),
        ];
        for (decision, conditions, field) in table {
            assert_eq!(
                check_completion(decision, conditions).err().map(|e| e.0),
                field,
                "{decision:?} {conditions:?}"
            );
        }
    }
}
