//! Audit findings: types, sources, and the corrective-action status machine with its role rules.

pub use entity::values::{FindingSource, FindingStatus, FindingType};

use crate::domain::role::{Action, Permissions, Role};
use chrono::NaiveDate;

/// The statuses in which a finding is open: the ones [`Lifecycle::is_open`] accepts.
pub const OPEN_STATUSES: [FindingStatus; 3] = [
    FindingStatus::Open,
    FindingStatus::InProgress,
    FindingStatus::Resolved,
];

/// The corrective-action lifecycle, as methods of the status.
pub trait Lifecycle {
    /// Whether the finding still counts against readiness (see docs/readiness.md).
    fn is_open(&self) -> bool;

    /// The statuses reachable from this one (see docs/findings.md).
    fn next(&self) -> &'static [FindingStatus];
}

impl Lifecycle for FindingStatus {
    fn is_open(&self) -> bool {
        OPEN_STATUSES.contains(self)
    }

    fn next(&self) -> &'static [FindingStatus] {
        use FindingStatus::*;
        match self {
            Open => &[InProgress, Resolved, RiskAccepted],
            InProgress => &[Resolved, RiskAccepted],
            Resolved => &[Closed, InProgress],
            Closed | RiskAccepted => &[],
        }
    }
}

/// Why a status change is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    /// Not in the status machine: 409, naming the allowed next statuses.
    NotAllowed {
        from: FindingStatus,
        to: FindingStatus,
        allowed: Vec<FindingStatus>,
    },
    /// In the machine, but not for this role: 403.
    RoleRequired(&'static str),
    /// Risk acceptance needs its written acceptance: 422.
    RiskAcceptanceRequired,
}

/// Checks a status change by a caller with `role`; `risk_acceptance` is the text the finding
/// will carry after the change.
pub fn check_transition(
    from: FindingStatus,
    to: FindingStatus,
    role: Role,
    risk_acceptance: Option<&str>,
) -> Result<(), TransitionError> {
    if !from.next().contains(&to) {
        return Err(TransitionError::NotAllowed {
            from,
            to,
            allowed: from.next().to_vec(),
        });
    }
    match to {
        FindingStatus::Closed if !role.can(Action::VerifyFindings) => {
            Err(TransitionError::RoleRequired(
                "closing a finding is its verification: auditors and admins only",
            ))
        }
        FindingStatus::InProgress
            if from == FindingStatus::Resolved && !role.can(Action::VerifyFindings) =>
        {
            Err(TransitionError::RoleRequired(
                "reopening a resolved finding: auditors and admins only",
            ))
        }
        FindingStatus::RiskAccepted if !role.can(Action::Administer) => Err(
            TransitionError::RoleRequired("accepting a risk: admins only"),
        ),
        FindingStatus::RiskAccepted if risk_acceptance.is_none_or(|t| t.trim().is_empty()) => {
            Err(TransitionError::RiskAcceptanceRequired)
        }
        _ => Ok(()),
    }
}

/// Overdue: past its due date and still being worked on (open or in progress).
pub fn is_overdue(status: FindingStatus, due_date: Option<NaiveDate>, today: NaiveDate) -> bool {
    matches!(status, FindingStatus::Open | FindingStatus::InProgress)
        && due_date.is_some_and(|d| d < today)
}

#[cfg(test)]
mod tests {
    use super::{FindingStatus::*, *};

    #[test]
    fn the_status_machine() {
        let allowed = [
            (Open, InProgress),
            (Open, Resolved),
            (Open, RiskAccepted),
            (InProgress, Resolved),
            (InProgress, RiskAccepted),
            (Resolved, Closed),
            (Resolved, InProgress),
        ];
        for from in FindingStatus::ALL {
            for to in FindingStatus::ALL {
                let result = check_transition(from, to, Role::Admin, Some("Accepted by the board"));
                assert_eq!(
                    result.is_ok(),
                    allowed.contains(&(from, to)),
                    "{from:?} -> {to:?}"
                );
                if let Err(TransitionError::NotAllowed { allowed, .. }) = result {
                    assert_eq!(allowed, from.next());
                }
            }
        }
        assert!(
            Closed.next().is_empty() && RiskAccepted.next().is_empty(),
            "closed and risk_accepted are final"
        );
    }

    #[test]
    fn role_rules() {
        use Role::*;
        let cases = [
            (Resolved, Closed, Editor, false),
            (Resolved, Closed, Auditor, true),
            (Resolved, InProgress, Editor, false),
            (Resolved, InProgress, Auditor, true),
            (Open, InProgress, Editor, true),
            (InProgress, Resolved, Editor, true),
            (Open, RiskAccepted, Auditor, false),
            (Open, RiskAccepted, Editor, false),
            (Open, RiskAccepted, Admin, true),
        ];
        for (from, to, role, ok) in cases {
            let result = check_transition(from, to, role, Some("text"));
            assert_eq!(result.is_ok(), ok, "{from:?} -> {to:?} as {role:?}");
            if !ok {
                assert!(matches!(result, Err(TransitionError::RoleRequired(_))));
            }
        }
        assert_eq!(
            check_transition(Open, RiskAccepted, Admin, Some("  ")),
            Err(TransitionError::RiskAcceptanceRequired)
        );
        assert_eq!(
            check_transition(Open, RiskAccepted, Admin, None),
            Err(TransitionError::RiskAcceptanceRequired)
        );
    }

    #[test]
    fn overdue() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap_or_default();
        let yesterday = today.pred_opt();
        assert!(is_overdue(Open, yesterday, today));
        assert!(is_overdue(InProgress, yesterday, today));
        assert!(
            !is_overdue(Open, Some(today), today),
            "due today is not yet overdue"
        );
        assert!(!is_overdue(Resolved, yesterday, today));
        assert!(!is_overdue(Closed, yesterday, today));
        assert!(!is_overdue(Open, None, today));
    }

    #[test]
    fn names() {
        assert!(Open.is_open() && InProgress.is_open() && Resolved.is_open());
        assert!(!Closed.is_open() && !RiskAccepted.is_open());
        assert_eq!(
            FindingType::parse("major_nonconformity"),
            Some(FindingType::MajorNonconformity)
        );
        assert_eq!(
            FindingSource::parse("automated_check"),
            Some(FindingSource::AutomatedCheck)
        );
        assert_eq!(FindingStatus::parse("done"), None);
    }
}
