//! The readiness formula (see docs/readiness.md): per-control scores, framework and group scores,
//! the readiness level and the blockers (version 1), and version 2's risk part (`risk`). Pure:
//! the service gathers the facts.

pub mod risk;
pub mod supplier;

use std::collections::HashSet;

pub use entity::values::Level;

use crate::domain::wire::wire_enum;

use crate::domain::control::{ControlKind, ControlStatus};
use risk::{RiskAssessment, RiskBlocker, clause_held_back_by};
use supplier::{SupplierAssessment, SupplierBlocker, control_held_back_by};

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
        /// An active high or critical supplier without a completed review within its interval.
        SupplierReviewOverdue => "supplier_review_overdue",
        /// A supplier with personal or training data access and no signed DPA.
        SupplierWithoutDpa => "supplier_without_dpa",
        /// A supplier with a certification past its expiry (one per supplier).
        SupplierCertificationExpired => "supplier_certification_expired",
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
    pub supplier_id: Option<String>,
}

impl From<&SupplierBlocker> for Blocker {
    fn from(b: &SupplierBlocker) -> Self {
        Self {
            kind: b.kind,
            control_id: None,
            reference: Some(b.name.clone()),
            finding_id: None,
            evidence_id: None,
            risk_id: None,
            asset_id: None,
            supplier_id: Some(b.supplier_id.clone()),
        }
    }
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
            supplier_id: None,
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
            supplier_id: None,
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

/// Formula version 2: version 1 over the controls with the risk and supplier parts. A clause
/// that an open risk blocker of its kind holds back (`risk::clause_held_back_by`), or a
/// supplier control that an open supplier blocker holds back
/// (`supplier::control_held_back_by`), counts as `in_progress` even when recorded
/// `implemented`; the risk blockers, then the supplier blockers, follow the controls'
/// blockers; `ready` needs none of them.
pub fn assess_v2(
    controls: &[ControlInput],
    risk: &RiskAssessment,
    suppliers: &SupplierAssessment,
) -> Assessment {
    let open: HashSet<BlockerKind> = risk
        .blockers
        .iter()
        .map(|b| b.kind)
        .chain(suppliers.blockers.iter().map(|b| b.kind))
        .collect();
    let held_back = |c: &ControlInput| {
        c.facts.status == ControlStatus::Implemented
            && (c.kind == ControlKind::Clause
                && clause_held_back_by(&c.reference)
                    .iter()
                    .any(|kind| open.contains(kind))
                || control_held_back_by(&c.reference)
                    .iter()
                    .any(|kind| open.contains(kind)))
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
    assessment
        .blockers
        .extend(suppliers.blockers.iter().map(Blocker::from));
    if !(risk.blockers.is_empty() && suppliers.blockers.is_empty())
        && assessment.level == Level::Ready
    {
        assessment.level = Level::AtRisk;
    }
    assessment
}

#[cfg(test)]
mod tests;
