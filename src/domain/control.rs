//! Control rules of the Statement of Applicability: statuses, kinds and applicability.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How far a control's implementation has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ControlStatus {
    NotStarted,
    Planned,
    InProgress,
    Implemented,
}

impl ControlStatus {
    /// Every status, in order.
    pub const ALL: [ControlStatus; 4] = [
        ControlStatus::NotStarted,
        ControlStatus::Planned,
        ControlStatus::InProgress,
        ControlStatus::Implemented,
    ];

    /// The stored / wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotStarted => "not_started",
            Self::Planned => "planned",
            Self::InProgress => "in_progress",
            Self::Implemented => "implemented",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// What a control records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ControlKind {
    /// A management-system clause (4–10): always applicable.
    Clause,
    /// An Annex A control or a custom control.
    Control,
    /// An item of the AI audit checklist.
    ChecklistItem,
}

impl ControlKind {
    /// The stored / wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clause => "clause",
            Self::Control => "control",
            Self::ChecklistItem => "checklist_item",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        [Self::Clause, Self::Control, Self::ChecklistItem]
            .into_iter()
            .find(|k| k.as_str() == value)
    }
}

/// Whether a justification is present (non-blank).
pub fn is_justified(justification: Option<&str>) -> bool {
    justification.is_some_and(|j| !j.trim().is_empty())
}

/// The applicability rules: a clause cannot be excluded, and excluding a control needs a
/// justification. `Err` names the field and what is wrong.
pub fn check_applicability(
    kind: ControlKind,
    applicable: bool,
    justification: Option<&str>,
) -> Result<(), (&'static str, &'static str)> {
    if applicable {
        return Ok(());
    }
    if kind == ControlKind::Clause {
        return Err((
            "applicable",
            "a management-system clause is mandatory and cannot be made not applicable",
        ));
    }
    if !is_justified(justification) {
        return Err((
            "justification",
            "is required when a control is not applicable",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applicability_rules() {
        use ControlKind::*;
        let cases = [
            (Clause, true, None, Ok(())),
            (Clause, false, Some("not relevant"), Err("applicable")),
            (Control, false, None, Err("justification")),
            (Control, false, Some("   "), Err("justification")),
            (Control, false, Some("No physical offices"), Ok(())),
            (
                ChecklistItem,
                false,
                Some("No ML training in house"),
                Ok(()),
            ),
            (ChecklistItem, true, None, Ok(())),
        ];
        for (kind, applicable, justification, expected) in cases {
            assert_eq!(
                check_applicability(kind, applicable, justification).map_err(|(f, _)| f),
                expected,
                "{kind:?} {applicable} {justification:?}"
            );
        }
    }

    #[test]
    fn names_round_trip() {
        for status in ControlStatus::ALL {
            assert_eq!(ControlStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(ControlKind::parse("clause"), Some(ControlKind::Clause));
        assert_eq!(ControlStatus::parse("done"), None);
    }
}
