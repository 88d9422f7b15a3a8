//! Risk rules: the risk matrix (its default, validation and the level a rating falls on) and
//! when a residual risk may be accepted (docs/risks.md).

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

pub use entity::values::{RiskControlRole, RiskStatus, RiskTreatment};

use crate::domain::wire::wire_enum;

wire_enum!(
    /// Which rating of a risk a level filter reads.
    LevelBasis {
        /// Before treatment.
        Inherent => "inherent",
        /// After the existing controls (the default).
        Residual => "residual",
    }
);

/// One step of a likelihood or impact scale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScaleLevel {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// One risk level (the values of the grid).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskLevel {
    pub name: String,
}

/// An organization's risk matrix: likelihood × impact → risk level, and the appetite. Level
/// numbers are 1-based, lowest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskMatrix {
    pub likelihood_levels: Vec<ScaleLevel>,
    pub impact_levels: Vec<ScaleLevel>,
    pub risk_levels: Vec<RiskLevel>,
    /// One row per likelihood level, one value (a risk level) per impact level.
    pub grid: Vec<Vec<i16>>,
    /// The highest acceptable risk level.
    pub appetite: i16,
}

/// Sizes a matrix may have.
pub const SCALE_SIZES: std::ops::RangeInclusive<usize> = 3..=10;
/// How many risk levels a matrix may have.
pub const RISK_LEVEL_COUNTS: std::ops::RangeInclusive<usize> = 2..=6;
/// The longest level name.
const NAME_MAX: usize = 100;
/// The longest level description.
const DESCRIPTION_MAX: usize = 1000;

fn scale(levels: [(&str, &str); 5]) -> Vec<ScaleLevel> {
    levels
        .into_iter()
        .map(|(name, description)| ScaleLevel {
            name: name.to_owned(),
            description: description.to_owned(),
        })
        .collect()
}

impl Default for RiskMatrix {
    /// 5 × 5, four risk levels by the product likelihood × impact (≤ 4 Low, 5–9 Medium, 10–16
    /// High, ≥ 20 Critical), appetite Medium.
    fn default() -> Self {
        let grid = (1..=5i16)
            .map(|l| {
                (1..=5i16)
                    .map(|i| match l * i {
                        ..=4 => 1,
                        5..=9 => 2,
                        10..=16 => 3,
                        _ => 4,
                    })
                    .collect()
            })
            .collect();
        Self {
            likelihood_levels: scale([
                ("Rare", "May happen only in exceptional circumstances"),
                ("Unlikely", "Could happen, but is not expected"),
                ("Possible", "Might happen at some time"),
                ("Likely", "Will probably happen in most circumstances"),
                ("Almost certain", "Is expected to happen"),
            ]),
            impact_levels: scale([
                ("Negligible", "No noticeable effect"),
                ("Minor", "A small, easily recovered effect"),
                ("Moderate", "A noticeable effect on operations or customers"),
                (
                    "Major",
                    "A serious effect: data loss, outage, regulatory attention",
                ),
                (
                    "Severe",
                    "A critical effect on the organization's survival or its customers",
                ),
            ]),
            risk_levels: ["Low", "Medium", "High", "Critical"]
                .into_iter()
                .map(|name| RiskLevel {
                    name: name.to_owned(),
                })
                .collect(),
            grid,
            appetite: 2,
        }
    }
}

/// A field of a matrix at fault and what is wrong with it.
pub type MatrixError = (String, String);

fn check_names<'a>(
    field: &str,
    names: impl Iterator<Item = (&'a str, Option<&'a str>)>,
) -> Result<(), MatrixError> {
    for (index, (name, description)) in names.enumerate() {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > NAME_MAX {
            return Err((
                format!("{field}[{index}].name"),
                format!("must be 1 to {NAME_MAX} characters"),
            ));
        }
        if description.is_some_and(|d| d.chars().count() > DESCRIPTION_MAX) {
            return Err((
                format!("{field}[{index}].description"),
                format!("must be at most {DESCRIPTION_MAX} characters"),
            ));
        }
    }
    Ok(())
}

fn check_count(
    field: &str,
    count: usize,
    range: &std::ops::RangeInclusive<usize>,
) -> Result<(), MatrixError> {
    if range.contains(&count) {
        Ok(())
    } else {
        Err((
            field.to_owned(),
            format!(
                "must have {} to {} levels (has {count})",
                range.start(),
                range.end()
            ),
        ))
    }
}

impl RiskMatrix {
    /// Checks sizes, names, the grid (full, every value a risk level) and the appetite; the
    /// first fault found, with its field (`grid[2][4]`, `risk_levels`, …).
    pub fn validate(&self) -> Result<(), MatrixError> {
        let likelihoods = self.likelihood_levels.len();
        let impacts = self.impact_levels.len();
        let levels = self.risk_levels.len();
        check_count("likelihood_levels", likelihoods, &SCALE_SIZES)?;
        check_count("impact_levels", impacts, &SCALE_SIZES)?;
        check_count("risk_levels", levels, &RISK_LEVEL_COUNTS)?;
        check_names(
            "likelihood_levels",
            self.likelihood_levels
                .iter()
                .map(|l| (l.name.as_str(), Some(l.description.as_str()))),
        )?;
        check_names(
            "impact_levels",
            self.impact_levels
                .iter()
                .map(|l| (l.name.as_str(), Some(l.description.as_str()))),
        )?;
        check_names(
            "risk_levels",
            self.risk_levels.iter().map(|l| (l.name.as_str(), None)),
        )?;
        if self.grid.len() != likelihoods {
            return Err((
                "grid".to_owned(),
                format!("must have one row per likelihood level ({likelihoods})"),
            ));
        }
        for (l, row) in self.grid.iter().enumerate() {
            if row.len() != impacts {
                return Err((
                    format!("grid[{l}]"),
                    format!("must have one value per impact level ({impacts})"),
                ));
            }
            for (i, value) in row.iter().enumerate() {
                if !(1..=levels).contains(&usize::try_from(*value).unwrap_or(0)) {
                    return Err((
                        format!("grid[{l}][{i}]"),
                        format!("must be a risk level from 1 to {levels}"),
                    ));
                }
            }
        }
        if !(1..=levels).contains(&usize::try_from(self.appetite).unwrap_or(0)) {
            return Err((
                "appetite".to_owned(),
                format!("must be a risk level from 1 to {levels}"),
            ));
        }
        Ok(())
    }

    /// The risk level of a rating (1-based likelihood and impact); `None` outside the matrix.
    pub fn level(&self, likelihood: i16, impact: i16) -> Option<i16> {
        let l = usize::try_from(likelihood).ok()?.checked_sub(1)?;
        let i = usize::try_from(impact).ok()?.checked_sub(1)?;
        self.grid.get(l)?.get(i).copied()
    }

    /// The name of a risk level (1-based).
    pub fn level_name(&self, level: i16) -> Option<&str> {
        let index = usize::try_from(level).ok()?.checked_sub(1)?;
        self.risk_levels.get(index).map(|l| l.name.as_str())
    }

    /// Whether a rating lies on the matrix's scales.
    pub fn contains(&self, likelihood: i16, impact: i16) -> bool {
        self.level(likelihood, impact).is_some()
    }

    /// Whether a risk level is above the appetite.
    pub fn above_appetite(&self, level: i16) -> bool {
        level > self.appetite
    }
}

/// Whether a residual risk may be formally accepted: when it is retained, or when it is being
/// modified and what remains is above the appetite.
pub fn acceptance_allowed(treatment: RiskTreatment, residual_above_appetite: bool) -> bool {
    match treatment {
        RiskTreatment::Retain => true,
        RiskTreatment::Modify => residual_above_appetite,
        _ => false,
    }
}

/// How far ahead an acceptance may run.
pub const ACCEPTANCE_MAX_MONTHS: u32 = 36;

/// An acceptance's expiry must be after `today` and at most three years ahead.
pub fn check_expiry(expires_on: NaiveDate, today: NaiveDate) -> Result<(), &'static str> {
    if expires_on <= today {
        return Err("must be a future date");
    }
    match today.checked_add_months(Months::new(ACCEPTANCE_MAX_MONTHS)) {
        Some(limit) if expires_on <= limit => Ok(()),
        _ => Err("must be at most three years ahead"),
    }
}

/// An acceptance holds while its expiry date has not passed.
pub fn acceptance_valid(expires_on: NaiveDate, today: NaiveDate) -> bool {
    expires_on >= today
}

/// An open risk whose treatment or review is past due.
pub fn is_overdue(
    status: RiskStatus,
    treatment_due: Option<NaiveDate>,
    review_due: Option<NaiveDate>,
    today: NaiveDate,
) -> bool {
    status == RiskStatus::Open
        && (treatment_due.is_some_and(|d| d < today) || review_due.is_some_and(|d| d < today))
}

/// The reference shown for a risk number: `R-<n>`.
pub fn risk_ref(number: i32) -> String {
    format!("R-{number}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn the_default_matrix_rates_by_product() {
        let m = RiskMatrix::default();
        assert!(m.validate().is_ok());
        for (l, i, level) in [
            (1, 1, 1),
            (2, 2, 1),
            (1, 5, 2),
            (3, 3, 2),
            (2, 5, 3),
            (4, 4, 3),
            (4, 5, 4),
            (5, 5, 4),
        ] {
            assert_eq!(m.level(l, i), Some(level), "{l}×{i}");
        }
        assert_eq!(m.level(0, 1), None);
        assert_eq!(m.level(6, 1), None);
        assert_eq!(m.level(1, -1), None);
        assert_eq!(m.level_name(4), Some("Critical"));
        assert_eq!(m.level_name(5), None);
        assert_eq!(m.appetite, 2);
        assert!(m.above_appetite(3) && !m.above_appetite(2));
    }

    #[test]
    fn invalid_matrices_name_their_field() {
        type Change = fn(&mut RiskMatrix);
        let cases: [(Change, &str); 9] = [
            (|m| m.likelihood_levels.truncate(2), "likelihood_levels"),
            (
                |m| m.impact_levels.extend(vec![m.impact_levels[0].clone(); 6]),
                "impact_levels",
            ),
            (|m| m.risk_levels.truncate(1), "risk_levels"),
            (
                |m| m.risk_levels[1].name = "  ".into(),
                "risk_levels[1].name",
            ),
            (
                |m| m.likelihood_levels[0].name = String::new(),
                "likelihood_levels[0].name",
            ),
            (|m| m.grid[2][4] = 5, "grid[2][4]"),
            (|m| m.grid[1].pop().map(drop).unwrap_or(()), "grid[1]"),
            (|m| m.grid.truncate(4), "grid"),
            (|m| m.appetite = 0, "appetite"),
        ];
        for (change, field) in cases {
            let mut m = RiskMatrix::default();
            change(&mut m);
            assert_eq!(m.validate().map_err(|e| e.0), Err(field.to_owned()));
        }
    }

    #[test]
    fn acceptance_follows_the_treatment() {
        use RiskTreatment::*;
        for (treatment, above, allowed) in [
            (Retain, false, true),
            (Retain, true, true),
            (Modify, true, true),
            (Modify, false, false),
            (Undecided, true, false),
            (Avoid, true, false),
            (Share, true, false),
        ] {
            assert_eq!(
                acceptance_allowed(treatment, above),
                allowed,
                "{treatment:?}"
            );
        }
    }

    #[test]
    fn expiry_dates_and_validity() {
        let today = date("2026-12-04");
        assert!(check_expiry(date("2026-12-05"), today).is_ok());
        assert!(check_expiry(date("2029-12-04"), today).is_ok());
        assert!(check_expiry(date("2029-12-05"), today).is_err());
        assert!(check_expiry(today, today).is_err());
        assert!(acceptance_valid(today, today));
        assert!(!acceptance_valid(date("2026-12-03"), today));
    }

    #[test]
    fn overdue_only_while_open() {
        let today = date("2026-12-04");
        let past = Some(date("2026-12-01"));
        assert!(is_overdue(RiskStatus::Open, past, None, today));
        assert!(is_overdue(RiskStatus::Open, None, past, today));
        assert!(!is_overdue(RiskStatus::Closed, past, past, today));
        assert!(!is_overdue(RiskStatus::Open, Some(today), None, today));
        assert_eq!(risk_ref(3), "R-3");
    }
}
