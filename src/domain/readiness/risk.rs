//! Formula version 2's risk part (see docs/readiness.md, "Risk"): the risk section of a report,
//! the risk blockers, and which management-system clauses they hold back. Pure: the service
//! gathers the facts.

use chrono::{Months, NaiveDate};

use entity::values::{AssetStatus, RiskStatus, RiskTreatment};

use crate::domain::{readiness::BlockerKind, risk::acceptance_valid};

/// What the formula needs about one risk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskFacts {
    pub id: String,
    /// `R-<n>`.
    pub reference: String,
    pub status: RiskStatus,
    pub inherent_level: i16,
    pub residual_level: i16,
    pub treatment: RiskTreatment,
    pub treatment_due: Option<NaiveDate>,
    pub assessed_at: Option<NaiveDate>,
    pub review_due: Option<NaiveDate>,
    pub acceptance_expires_on: Option<NaiveDate>,
    /// A control linked as `planned` is not `implemented`.
    pub planned_control_pending: bool,
    pub asset_ids: Vec<String>,
}

/// What the formula needs about one asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetFacts {
    pub id: String,
    pub in_scope: bool,
    pub status: AssetStatus,
}

/// The organization's risk register as the formula sees it.
#[derive(Debug, Clone, Default)]
pub struct RiskInput {
    /// The matrix's risk level names, lowest first (level `n` is `names[n - 1]`).
    pub level_names: Vec<String>,
    /// The highest acceptable risk level.
    pub appetite: i16,
    pub risks: Vec<RiskFacts>,
    pub assets: Vec<AssetFacts>,
}

/// The number of open risks at one level.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LevelCount {
    pub level: i16,
    pub name: String,
    pub count: u64,
}

/// Open risks per treatment.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TreatmentCounts {
    pub undecided: u64,
    pub modify: u64,
    pub retain: u64,
    pub avoid: u64,
    pub share: u64,
}

/// The risk section of a report: counts over open risks and in-scope, active assets.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RiskSection {
    pub appetite: i16,
    pub appetite_name: String,
    pub open_risks: u64,
    pub by_inherent_level: Vec<LevelCount>,
    pub by_residual_level: Vec<LevelCount>,
    pub above_appetite: u64,
    pub by_treatment: TreatmentCounts,
    pub assets_in_scope: u64,
    pub assets_without_assessment: u64,
}

/// One risk blocker: a risk (with its ref) or an asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskBlocker {
    pub kind: BlockerKind,
    pub risk_id: Option<String>,
    pub reference: Option<String>,
    pub asset_id: Option<String>,
}

/// The risk part of the formula for one organization on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskAssessment {
    pub section: RiskSection,
    pub blockers: Vec<RiskBlocker>,
}

/// How far back a risk assessment counts for an asset.
pub const ASSESSMENT_VALID_MONTHS: u32 = 12;

/// The risk blockers and the risk section, blockers ordered by kind then risk ref / asset id.
pub fn assess_risks(input: &RiskInput, today: NaiveDate) -> RiskAssessment {
    let open: Vec<&RiskFacts> = input
        .risks
        .iter()
        .filter(|r| r.status == RiskStatus::Open)
        .collect();
    let above = |r: &RiskFacts| r.residual_level > input.appetite;
    let levels = |pick: fn(&RiskFacts) -> i16| -> Vec<LevelCount> {
        (1..=input.level_names.len())
            .map(|n| {
                let level = i16::try_from(n).unwrap_or(i16::MAX);
                LevelCount {
                    level,
                    name: input.level_names[n - 1].clone(),
                    count: open.iter().filter(|r| pick(r) == level).count() as u64,
                }
            })
            .collect()
    };
    let mut by_treatment = TreatmentCounts::default();
    for r in &open {
        *match r.treatment {
            RiskTreatment::Undecided => &mut by_treatment.undecided,
            RiskTreatment::Modify => &mut by_treatment.modify,
            RiskTreatment::Retain => &mut by_treatment.retain,
            RiskTreatment::Avoid => &mut by_treatment.avoid,
            RiskTreatment::Share => &mut by_treatment.share,
        } += 1;
    }

    // An asset counts as assessed when any risk on it (open or closed) was assessed within
    // the last twelve months.
    let window_start = today
        .checked_sub_months(Months::new(ASSESSMENT_VALID_MONTHS))
        .unwrap_or(NaiveDate::MIN);
    let assessed: std::collections::HashSet<&str> = input
        .risks
        .iter()
        .filter(|r| {
            r.assessed_at
                .is_some_and(|d| d >= window_start && d <= today)
        })
        .flat_map(|r| r.asset_ids.iter().map(String::as_str))
        .collect();
    let in_scope: Vec<&AssetFacts> = input
        .assets
        .iter()
        .filter(|a| a.in_scope && a.status == AssetStatus::Active)
        .collect();
    let mut unassessed: Vec<&str> = in_scope
        .iter()
        .filter(|a| !assessed.contains(a.id.as_str()))
        .map(|a| a.id.as_str())
        .collect();
    unassessed.sort_unstable();

    let mut blockers: Vec<RiskBlocker> = unassessed
        .iter()
        .map(|id| RiskBlocker {
            kind: BlockerKind::AssetNotRiskAssessed,
            risk_id: None,
            reference: None,
            asset_id: Some((*id).to_owned()),
        })
        .collect();
    let mut by_ref: Vec<&RiskFacts> = open.clone();
    by_ref.sort_by_key(|r| (ref_number(&r.reference), r.id.clone()));
    for kind in [
        BlockerKind::RiskUntreated,
        BlockerKind::RiskTreatmentIncomplete,
        BlockerKind::RiskAcceptanceMissing,
        BlockerKind::RiskReviewOverdue,
    ] {
        for r in &by_ref {
            let applies = match kind {
                BlockerKind::RiskUntreated => above(r) && r.treatment == RiskTreatment::Undecided,
                BlockerKind::RiskTreatmentIncomplete => {
                    r.treatment == RiskTreatment::Modify
                        && r.planned_control_pending
                        && r.treatment_due.is_some_and(|d| d < today)
                }
                BlockerKind::RiskAcceptanceMissing => {
                    above(r)
                        && r.treatment == RiskTreatment::Retain
                        && !r
                            .acceptance_expires_on
                            .is_some_and(|d| acceptance_valid(d, today))
                }
                _ => r.review_due.is_some_and(|d| d < today),
            };
            if applies {
                blockers.push(RiskBlocker {
                    kind,
                    risk_id: Some(r.id.clone()),
                    reference: Some(r.reference.clone()),
                    asset_id: None,
                });
            }
        }
    }

    let appetite_name = usize::try_from(input.appetite)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| input.level_names.get(i))
        .cloned()
        .unwrap_or_default();
    RiskAssessment {
        section: RiskSection {
            appetite: input.appetite,
            appetite_name,
            open_risks: open.len() as u64,
            by_inherent_level: levels(|r| r.inherent_level),
            by_residual_level: levels(|r| r.residual_level),
            above_appetite: open.iter().filter(|r| above(r)).count() as u64,
            by_treatment,
            assets_in_scope: in_scope.len() as u64,
            assets_without_assessment: unassessed.len() as u64,
        },
        blockers,
    }
}

/// The number in `R-<n>` (refs sort by it, not as text).
fn ref_number(reference: &str) -> i64 {
    reference
        .strip_prefix("R-")
        .and_then(|n| n.parse().ok())
        .unwrap_or(i64::MAX)
}

/// The risk blockers that hold back a management-system clause: a clause counts as implemented
/// only when its status says so and none of these is open. Clause 6.1.2 (risk assessment) and
/// 8.2 (performing it) need every in-scope asset assessed, 8.2 also reviews on time; 6.1.3 (risk
/// treatment) needs every risk above appetite treated and every retained one accepted; 8.3
/// (implementing the treatment plan) needs planned controls in place by their due date. The
/// same numbers name the same clauses in ISO/IEC 27001 and ISO/IEC 42001.
pub fn clause_held_back_by(reference: &str) -> &'static [BlockerKind] {
    match reference {
        "6.1.2" => &[BlockerKind::AssetNotRiskAssessed],
        "8.2" => &[
            BlockerKind::AssetNotRiskAssessed,
            BlockerKind::RiskReviewOverdue,
        ],
        "6.1.3" => &[
            BlockerKind::RiskUntreated,
            BlockerKind::RiskAcceptanceMissing,
        ],
        "8.3" => &[BlockerKind::RiskTreatmentIncomplete],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or(NaiveDate::MIN)
    }

    fn risk(n: i32, residual: i16, treatment: RiskTreatment) -> RiskFacts {
        RiskFacts {
            id: format!("r{n}"),
            reference: format!("R-{n}"),
            status: RiskStatus::Open,
            inherent_level: residual,
            residual_level: residual,
            treatment,
            treatment_due: None,
            assessed_at: Some(day("2026-06-01")),
            review_due: None,
            acceptance_expires_on: None,
            planned_control_pending: false,
            asset_ids: Vec::new(),
        }
    }

    fn input(risks: Vec<RiskFacts>, assets: Vec<AssetFacts>) -> RiskInput {
        RiskInput {
            level_names: ["Low", "Medium", "High", "Critical"]
                .map(String::from)
                .to_vec(),
            appetite: 2,
            risks,
            assets,
        }
    }

    fn asset(id: &str, in_scope: bool, status: AssetStatus) -> AssetFacts {
        AssetFacts {
            id: id.to_owned(),
            in_scope,
            status,
        }
    }

    fn kinds(a: &RiskAssessment) -> Vec<(BlockerKind, Option<&str>, Option<&str>)> {
        a.blockers
            .iter()
            .map(|b| (b.kind, b.reference.as_deref(), b.asset_id.as_deref()))
            .collect()
    }

    #[test]
    fn every_blocker_rule() {
        let today = day("2026-12-04");
        let mut untreated = risk(1, 3, RiskTreatment::Undecided);
        untreated.asset_ids = vec!["a-model".into()];
        // Below appetite, undecided: not a blocker.
        let low = risk(2, 2, RiskTreatment::Undecided);
        let mut late = risk(3, 4, RiskTreatment::Modify);
        late.planned_control_pending = true;
        late.treatment_due = Some(day("2026-12-03"));
        // Due today is not late.
        let mut due_today = risk(4, 4, RiskTreatment::Modify);
        due_today.planned_control_pending = true;
        due_today.treatment_due = Some(today);
        let retained = risk(5, 3, RiskTreatment::Retain);
        let mut accepted = risk(6, 3, RiskTreatment::Retain);
        accepted.acceptance_expires_on = Some(today);
        let mut expired = risk(7, 3, RiskTreatment::Retain);
        expired.acceptance_expires_on = Some(day("2026-12-03"));
        let mut review = risk(8, 1, RiskTreatment::Avoid);
        review.review_due = Some(day("2026-11-30"));
        let mut closed = risk(9, 4, RiskTreatment::Undecided);
        closed.status = RiskStatus::Closed;
        let mut old = risk(10, 1, RiskTreatment::Avoid);
        old.assessed_at = Some(day("2025-12-03"));
        old.asset_ids = vec!["a-dataset".into()];
        let assets = vec![
            asset("a-model", true, AssetStatus::Active),
            asset("a-dataset", true, AssetStatus::Active),
            asset("a-pipeline", true, AssetStatus::Active),
            asset("a-out", false, AssetStatus::Active),
            asset("a-gone", true, AssetStatus::Retired),
        ];
        let risks = vec![
            untreated, low, late, due_today, retained, accepted, expired, review, closed, old,
        ];
        let a = assess_risks(&input(risks, assets), today);
        use BlockerKind::*;
        assert_eq!(
            kinds(&a),
            [
                (AssetNotRiskAssessed, None, Some("a-dataset")),
                (AssetNotRiskAssessed, None, Some("a-pipeline")),
                (RiskUntreated, Some("R-1"), None),
                (RiskTreatmentIncomplete, Some("R-3"), None),
                (RiskAcceptanceMissing, Some("R-5"), None),
                (RiskAcceptanceMissing, Some("R-7"), None),
                (RiskReviewOverdue, Some("R-8"), None),
            ]
        );
        let s = &a.section;
        assert_eq!((s.open_risks, s.above_appetite), (9, 6));
        assert_eq!((s.assets_in_scope, s.assets_without_assessment), (3, 2));
        assert_eq!((s.appetite, s.appetite_name.as_str()), (2, "Medium"));
        let residual: Vec<u64> = s.by_residual_level.iter().map(|l| l.count).collect();
        assert_eq!(residual, [2, 1, 4, 2]);
        assert_eq!(
            s.by_treatment,
            TreatmentCounts {
                undecided: 2,
                modify: 2,
                retain: 3,
                avoid: 2,
                share: 0
            }
        );
    }

    #[test]
    fn the_assessment_window_is_twelve_months() {
        let today = day("2026-12-04");
        let on = |assessed: &str| {
            let mut r = risk(1, 1, RiskTreatment::Avoid);
            r.assessed_at = Some(day(assessed));
            r.asset_ids = vec!["a".into()];
            let a = assess_risks(
                &input(vec![r], vec![asset("a", true, AssetStatus::Active)]),
                today,
            );
            a.section.assets_without_assessment
        };
        assert_eq!(on("2025-12-04"), 0, "exactly twelve months ago counts");
        assert_eq!(on("2025-12-03"), 1);
        assert_eq!(on("2026-12-05"), 1, "a future date is not an assessment");
    }

    #[test]
    fn refs_sort_by_number() {
        let today = day("2026-12-04");
        let risks = [10, 9, 2]
            .map(|n| risk(n, 4, RiskTreatment::Undecided))
            .to_vec();
        let a = assess_risks(&input(risks, Vec::new()), today);
        let refs: Vec<_> = a
            .blockers
            .iter()
            .filter_map(|b| b.reference.clone())
            .collect();
        assert_eq!(refs, ["R-2", "R-9", "R-10"]);
    }

    #[test]
    fn clauses_held_back() {
        assert!(clause_held_back_by("6.1.2").contains(&BlockerKind::AssetNotRiskAssessed));
        assert!(clause_held_back_by("6.1.3").contains(&BlockerKind::RiskAcceptanceMissing));
        assert!(clause_held_back_by("8.3").contains(&BlockerKind::RiskTreatmentIncomplete));
        assert!(clause_held_back_by("A.5.1").is_empty());
    }
}
