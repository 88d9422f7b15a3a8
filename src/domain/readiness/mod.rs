//! The readiness formula (see docs/readiness.md): per-control scores, framework and group scores,
//! the readiness level and the blockers (version 1), and version 2's risk part (`risk`). Pure:
//! the service gathers the facts.

pub mod risk;

use std::collections::HashSet;

pub use entity::values::Level;

use crate::domain::wire::wire_enum;

use crate::domain::control::{ControlKind, ControlStatus};
use risk::{RiskAssessment, RiskBlocker, clause_held_back_by};

/// The version of the formula reports use: version 1 and the risk part.
pub const FORMULA_VERSION: i32 = 2;
/// The first version, without the risk part: still computed on request, and the version of
/// older snapshots.
pub const FORMULA_V1: i32 = 1;

/// Implementation credit `I(c)`.
pub fn implementation_credit(status: ControlStatus) -> f64 {
    match status {
        ControlStatus::NotStarted => 0.0,
        ControlStatus::Planned => 0.2,
        ControlStatus::InProgress => 0.5,
        ControlStatus::Implemented => 1.0,
    }
}

/// The facts about one control that the formula needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlFacts {
    pub status: ControlStatus,
    pub applicable: bool,
    /// At least one linked, non-archived, accepted evidence that has not expired.
    pub has_valid_evidence: bool,
    /// An open (`open`, `in_progress`, `resolved`) major nonconformity is linked.
    pub open_major: bool,
    /// An open minor nonconformity is linked.
    pub open_minor: bool,
}

/// `s(c)`, in 0–1; `None` for a control that is not applicable (it does not count).
pub fn control_score(facts: &ControlFacts) -> Option<f64> {
    if !facts.applicable {
        return None;
    }
    let evidence = if facts.has_valid_evidence { 1.0 } else { 0.0 };
    let score = implementation_credit(facts.status) * (0.5 + 0.5 * evidence);
    Some(if facts.open_major {
        0.0
    } else if facts.open_minor {
        score.min(0.5)
    } else {
        score
    })
}

/// Rounds a 0–100 score to one decimal.
pub fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// `100 × Σ s(c) / N` over applicable controls, one decimal; 0 when there are none.
pub fn aggregate(scores: impl IntoIterator<Item = Option<f64>>) -> (f64, usize) {
    let (sum, n) = scores
        .into_iter()
        .flatten()
        .fold((0.0, 0usize), |(sum, n), s| (sum + s, n + 1));
    if n == 0 {
        (0.0, 0)
    } else {
        (round1(100.0 * sum / n as f64), n)
    }
}

wire_enum!(
    /// What stands between a framework and `ready`.
    BlockerKind {
        /// An open major nonconformity on a control.
        MajorNonconformity => "major_nonconformity",
        /// A management-system clause not implemented.
        ClauseNotImplemented => "clause_not_implemented",
        /// An implemented control without valid accepted evidence (and none expired).
        MissingEvidence => "missing_evidence",
        /// An implemented control whose accepted evidence has all expired.
        ExpiredEvidence => "expired_evidence",
        /// A not-applicable control without a justification.
        MissingJustification => "missing_justification",
        /// An in-scope, active asset with no risk assessed in the last 12 months (version 2).
        AssetNotRiskAssessed => "asset_not_risk_assessed",
        /// An open risk above appetite whose treatment is `undecided` (version 2).
        RiskUntreated => "risk_untreated",
        /// An open risk treated by `modify` with a planned control not implemented past its
        /// `treatment_due` (version 2).
        RiskTreatmentIncomplete => "risk_treatment_incomplete",
        /// An open risk above appetite, `retain`ed without a valid acceptance (version 2).
        RiskAcceptanceMissing => "risk_acceptance_missing",
        /// An open risk past its `review_due` (version 2).
        RiskReviewOverdue => "risk_review_overdue",
    }
);

/// Everything the report needs about one control of the framework.
#[derive(Debug, Clone)]
pub struct ControlInput {
    pub id: String,
    pub reference: String,
    pub group: String,
    pub kind: ControlKind,
    pub justified: bool,
    pub facts: ControlFacts,
    /// Accepted, non-archived evidence that has expired, most recently expired first.
    pub expired_evidence_ids: Vec<String>,
    /// Open major nonconformities linked to the control.
    pub open_major_finding_ids: Vec<String>,
}

/// One blocker: about a control (with its ref), a risk (with its ref) or an asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    pub kind: BlockerKind,
    pub control_id: Option<String>,
    pub reference: Option<String>,
    pub finding_id: Option<String>,
    pub evidence_id: Option<String>,
    pub risk_id: Option<String>,
    pub asset_id: Option<String>,
}

impl From<&RiskBlocker> for Blocker {
    fn from(b: &RiskBlocker) -> Self {
        Self {
            kind: b.kind,
            control_id: None,
            reference: b.reference.clone(),
            finding_id: None,
            evidence_id: None,
            risk_id: b.risk_id.clone(),
            asset_id: b.asset_id.clone(),
        }
    }
}

/// The score of one group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupScore {
    pub group: String,
    pub score: f64,
    pub applicable: usize,
}

/// The outcome of the formula for one framework.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub score: f64,
    pub level: Level,
    pub applicable: usize,
    pub groups: Vec<GroupScore>,
    pub blockers: Vec<Blocker>,
}

/// Applies the formula to a framework's controls (groups in first-seen order).
pub fn assess(controls: &[ControlInput]) -> Assessment {
    let (score, applicable) = aggregate(controls.iter().map(|c| control_score(&c.facts)));
    let mut group_order: Vec<&str> = Vec::new();
    for c in controls {
        if !group_order.contains(&c.group.as_str()) {
            group_order.push(&c.group);
        }
    }
    let groups = group_order
        .into_iter()
        .map(|group| {
            let (score, applicable) = aggregate(
                controls
                    .iter()
                    .filter(|c| c.group == group)
                    .map(|c| control_score(&c.facts)),
            );
            GroupScore {
                group: group.to_owned(),
                score,
                applicable,
            }
        })
        .collect();

    let mut blockers = Vec::new();
    let blocker =
        |kind, c: &ControlInput, finding_id: Option<String>, evidence_id: Option<String>| Blocker {
            kind,
            control_id: Some(c.id.clone()),
            reference: Some(c.reference.clone()),
            finding_id,
            evidence_id,
            risk_id: None,
            asset_id: None,
        };
    for c in controls {
        for finding in &c.open_major_finding_ids {
            blockers.push(blocker(
                BlockerKind::MajorNonconformity,
                c,
                Some(finding.clone()),
                None,
            ));
        }
        if c.kind == ControlKind::Clause && c.facts.status != ControlStatus::Implemented {
            blockers.push(blocker(BlockerKind::ClauseNotImplemented, c, None, None));
        }
        if c.facts.applicable
            && c.facts.status == ControlStatus::Implemented
            && !c.facts.has_valid_evidence
        {
            match c.expired_evidence_ids.first() {
                Some(expired) => blockers.push(blocker(
                    BlockerKind::ExpiredEvidence,
                    c,
                    None,
                    Some(expired.clone()),
                )),
                None => blockers.push(blocker(BlockerKind::MissingEvidence, c, None, None)),
            }
        }
        if !c.facts.applicable && !c.justified {
            blockers.push(blocker(BlockerKind::MissingJustification, c, None, None));
        }
    }

    let open_major = controls
        .iter()
        .any(|c| !c.open_major_finding_ids.is_empty());
    let clauses_done = controls
        .iter()
        .filter(|c| c.kind == ControlKind::Clause)
        .all(|c| c.facts.status == ControlStatus::Implemented);
    let exclusions_justified = controls
        .iter()
        .filter(|c| !c.facts.applicable)
        .all(|c| c.justified);
    let level = if score >= 85.0 && !open_major && clauses_done && exclusions_justified {
        Level::Ready
    } else if score >= 60.0 {
        Level::AtRisk
    } else {
        Level::NotReady
    };
    Assessment {
        score,
        level,
        applicable,
        groups,
        blockers,
    }
}

/// Formula version 2: version 1 over the controls with the risk part. A clause that an open
/// risk blocker of its kind holds back (`risk::clause_held_back_by`) counts as `in_progress`
/// even when recorded `implemented`; the risk blockers follow the controls' blockers; `ready`
/// needs none of them.
pub fn assess_v2(controls: &[ControlInput], risk: &RiskAssessment) -> Assessment {
    let open: HashSet<BlockerKind> = risk.blockers.iter().map(|b| b.kind).collect();
    let held_back = |c: &ControlInput| {
        c.kind == ControlKind::Clause
            && c.facts.status == ControlStatus::Implemented
            && clause_held_back_by(&c.reference)
                .iter()
                .any(|kind| open.contains(kind))
    };
    let adjusted: Vec<ControlInput> = controls
        .iter()
        .map(|c| {
            let mut c = c.clone();
            if held_back(&c) {
                c.facts.status = ControlStatus::InProgress;
            }
            c
        })
        .collect();
    let mut assessment = assess(&adjusted);
    assessment
        .blockers
        .extend(risk.blockers.iter().map(Blocker::from));
    if !risk.blockers.is_empty() && assessment.level == Level::Ready {
        assessment.level = Level::AtRisk;
    }
    assessment
}

#[cfg(test)]
mod tests {
    use super::*;
    use ControlStatus::*;

    fn facts(status: ControlStatus, evidence: bool, major: bool, minor: bool) -> ControlFacts {
        ControlFacts {
            status,
            applicable: true,
            has_valid_evidence: evidence,
            open_major: major,
            open_minor: minor,
        }
    }

    #[test]
    fn control_scores_cover_every_rule() {
        // (status, valid evidence, open major, open minor, expected)
        let table = [
            (NotStarted, false, false, false, 0.0),
            (NotStarted, true, false, false, 0.0),
            (Planned, false, false, false, 0.1),
            (Planned, true, false, false, 0.2),
            (InProgress, false, false, false, 0.25),
            (InProgress, true, false, false, 0.5),
            (Implemented, false, false, false, 0.5),
            (Implemented, true, false, false, 1.0),
            // An open major nonconformity zeroes the control.
            (Implemented, true, true, false, 0.0),
            (Implemented, true, true, true, 0.0),
            // An open minor one caps it at 0.5.
            (Implemented, true, false, true, 0.5),
            (InProgress, false, false, true, 0.25),
            (Planned, true, false, true, 0.2),
        ];
        for (status, evidence, major, minor, expected) in table {
            let score = control_score(&facts(status, evidence, major, minor)).unwrap_or(f64::NAN);
            assert!(
                (score - expected).abs() < 1e-9,
                "{status:?} {evidence} {major} {minor}: {score}"
            );
        }
        let excluded = ControlFacts {
            applicable: false,
            ..facts(Implemented, true, false, false)
        };
        assert_eq!(
            control_score(&excluded),
            None,
            "not-applicable controls do not count"
        );
    }

    #[test]
    fn aggregation_and_rounding() {
        assert_eq!(aggregate([]), (0.0, 0), "an empty framework scores 0");
        assert_eq!(aggregate([None, None]), (0.0, 0), "all excluded scores 0");
        assert_eq!(aggregate([Some(1.0), Some(0.0), None]), (50.0, 2));
        // 100 × (1 + 0.2 + 0.25) / 3 = 48.333… → 48.3
        assert_eq!(aggregate([Some(1.0), Some(0.2), Some(0.25)]), (48.3, 3));
        // 100 × 2/3 = 66.666… → 66.7
        assert_eq!(aggregate([Some(1.0), Some(1.0), Some(0.0)]), (66.7, 3));
        assert_eq!(round1(84.95), 85.0);
    }

    fn control(
        reference: &str,
        group: &str,
        kind: ControlKind,
        facts: ControlFacts,
    ) -> ControlInput {
        ControlInput {
            id: format!("id-{reference}"),
            reference: reference.to_owned(),
            group: group.to_owned(),
            kind,
            justified: false,
            facts,
            expired_evidence_ids: Vec::new(),
            open_major_finding_ids: Vec::new(),
        }
    }

    #[test]
    fn levels() {
        let done = || facts(Implemented, true, false, false);
        let all_done = vec![
            control("4.1", "4", ControlKind::Clause, done()),
            control("A.5.1", "A.5", ControlKind::Control, done()),
        ];
        assert_eq!(assess(&all_done).level, Level::Ready);
        assert_eq!(assess(&all_done).score, 100.0);

        // A clause not implemented blocks `ready` even at a high score.
        let mut many: Vec<ControlInput> = (0..9)
            .map(|i| control(&format!("A.5.{i}"), "A.5", ControlKind::Control, done()))
            .collect();
        many.push(control(
            "4.1",
            "4",
            ControlKind::Clause,
            facts(InProgress, true, false, false),
        ));
        let a = assess(&many);
        assert_eq!((a.score, a.level), (95.0, Level::AtRisk));

        // An unjustified exclusion blocks `ready`.
        let mut excluded = all_done.clone();
        excluded.push(control(
            "A.7.1",
            "A.7",
            ControlKind::Control,
            ControlFacts {
                applicable: false,
                ..done()
            },
        ));
        assert_eq!(assess(&excluded).level, Level::AtRisk);
        excluded[2].justified = true;
        assert_eq!(assess(&excluded).level, Level::Ready);

        // An open major nonconformity blocks `ready` and zeroes its control.
        let mut major = all_done.clone();
        major.extend(
            (0..8).map(|i| control(&format!("A.8.{i}"), "A.8", ControlKind::Control, done())),
        );
        major[1].facts.open_major = true;
        major[1].open_major_finding_ids = vec!["f-1".to_owned()];
        let a = assess(&major);
        assert_eq!((a.score, a.level), (90.0, Level::AtRisk));

        // Thresholds: 60 is at risk, below is not ready.
        let sixty = vec![
            control(
                "A.5.1",
                "A.5",
                ControlKind::Control,
                facts(Implemented, true, false, false),
            ),
            control(
                "A.5.2",
                "A.5",
                ControlKind::Control,
                facts(InProgress, true, false, false),
            ),
            control(
                "A.5.3",
                "A.5",
                ControlKind::Control,
                facts(InProgress, true, false, false),
            ),
            control(
                "A.5.4",
                "A.5",
                ControlKind::Control,
                facts(InProgress, true, false, false),
            ),
            control(
                "A.5.5",
                "A.5",
                ControlKind::Control,
                facts(InProgress, true, false, false),
            ),
        ];
        assert_eq!(
            (assess(&sixty).score, assess(&sixty).level),
            (60.0, Level::AtRisk)
        );
        assert_eq!(assess(&sixty[1..]).level, Level::NotReady);
        assert_eq!(
            assess(&[]).level,
            Level::NotReady,
            "an empty framework is not ready"
        );
    }

    #[test]
    fn groups_and_blockers() {
        let mut controls = vec![
            control(
                "4.1",
                "4",
                ControlKind::Clause,
                facts(Planned, false, false, false),
            ),
            control(
                "A.5.1",
                "A.5",
                ControlKind::Control,
                facts(Implemented, false, false, false),
            ),
            control(
                "A.5.2",
                "A.5",
                ControlKind::Control,
                facts(Implemented, false, false, false),
            ),
            control(
                "A.5.3",
                "A.5",
                ControlKind::Control,
                facts(Implemented, true, true, false),
            ),
            control(
                "A.7.1",
                "A.7",
                ControlKind::Control,
                ControlFacts {
                    applicable: false,
                    ..facts(NotStarted, false, false, false)
                },
            ),
        ];
        controls[2].expired_evidence_ids = vec!["e-new".to_owned(), "e-old".to_owned()];
        controls[3].open_major_finding_ids = vec!["f-1".to_owned()];
        let a = assess(&controls);
        let groups: Vec<(&str, f64, usize)> = a
            .groups
            .iter()
            .map(|g| (g.group.as_str(), g.score, g.applicable))
            .collect();
        // 4: 0.1 → 10.0; A.5: (0.5 + 0.5 + 0) / 3 → 33.3; A.7: nothing applicable → 0.
        assert_eq!(groups, [("4", 10.0, 1), ("A.5", 33.3, 3), ("A.7", 0.0, 0)]);
        let blockers: Vec<(BlockerKind, &str, Option<&str>, Option<&str>)> = a
            .blockers
            .iter()
            .map(|b| {
                (
                    b.kind,
                    b.reference.as_deref().unwrap_or_default(),
                    b.finding_id.as_deref(),
                    b.evidence_id.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            blockers,
            [
                (BlockerKind::ClauseNotImplemented, "4.1", None, None),
                (BlockerKind::MissingEvidence, "A.5.1", None, None),
                (BlockerKind::ExpiredEvidence, "A.5.2", None, Some("e-new")),
                (BlockerKind::MajorNonconformity, "A.5.3", Some("f-1"), None),
                (BlockerKind::MissingJustification, "A.7.1", None, None),
            ]
        );
        assert_eq!(a.level, Level::NotReady);
    }

    #[test]
    fn version_2_holds_clauses_back_and_blocks_ready() {
        use risk::{RiskAssessment, RiskBlocker, RiskInput, assess_risks};
        let done = || facts(Implemented, true, false, false);
        let controls = vec![
            control("6.1.2", "6", ControlKind::Clause, done()),
            control("6.1.3", "6", ControlKind::Clause, done()),
            control("A.5.1", "A.5", ControlKind::Control, done()),
            control("A.5.2", "A.5", ControlKind::Control, done()),
        ];
        let today = chrono::NaiveDate::MIN;
        let clean = assess_risks(&RiskInput::default(), today);
        let a = assess_v2(&controls, &clean);
        assert_eq!((a.score, a.level), (100.0, Level::Ready));

        let unassessed = RiskAssessment {
            blockers: vec![RiskBlocker {
                kind: BlockerKind::AssetNotRiskAssessed,
                risk_id: None,
                reference: None,
                asset_id: Some("a-1".into()),
            }],
            ..clean
        };
        let a = assess_v2(&controls, &unassessed);
        // 6.1.2 counts as in progress: (0.5 + 1 + 1 + 1) / 4.
        assert_eq!((a.score, a.level), (87.5, Level::AtRisk));
        let kinds: Vec<(BlockerKind, Option<&str>)> = a
            .blockers
            .iter()
            .map(|b| (b.kind, b.reference.as_deref().or(b.asset_id.as_deref())))
            .collect();
        assert_eq!(
            kinds,
            [
                (BlockerKind::ClauseNotImplemented, Some("6.1.2")),
                (BlockerKind::AssetNotRiskAssessed, Some("a-1")),
            ]
        );
    }
}
