//! Unit tests of the readiness formula.
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

fn control(reference: &str, group: &str, kind: ControlKind, facts: ControlFacts) -> ControlInput {
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
    major.extend((0..8).map(|i| control(&format!("A.8.{i}"), "A.8", ControlKind::Control, done())));
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
    let a = assess_v2(&controls, &clean, &Default::default());
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
    let a = assess_v2(&controls, &unassessed, &Default::default());
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

#[test]
fn version_2_holds_the_supplier_controls_back() {
    use risk::{RiskInput, assess_risks};
    use supplier::{SupplierAssessment, SupplierBlocker};
    let done = || facts(Implemented, true, false, false);
    let controls = vec![
        control("A.5.19", "A.5", ControlKind::Control, done()),
        control("A.5.23", "A.5", ControlKind::Control, done()),
    ];
    let clean = assess_risks(&RiskInput::default(), chrono::NaiveDate::MIN);
    let vendors = SupplierAssessment {
        blockers: vec![SupplierBlocker {
            kind: BlockerKind::SupplierWithoutDpa,
            supplier_id: "s-1".into(),
            name: "Vendor".into(),
        }],
        ..Default::default()
    };
    let a = assess_v2(&controls, &clean, &vendors);
    // A.5.19 counts as in progress: (0.5 + 1) / 2.
    assert_eq!((a.score, a.level), (75.0, Level::AtRisk));
    let last = a.blockers.last().expect("blocker");
    assert_eq!(
        (
            last.kind,
            last.reference.as_deref(),
            last.supplier_id.as_deref()
        ),
        (BlockerKind::SupplierWithoutDpa, Some("Vendor"), Some("s-1"))
    );
    assert_eq!(
        assess_v2(&controls, &clean, &Default::default()).score,
        100.0
    );
}
