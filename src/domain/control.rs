//! Control rules of the Statement of Applicability: statuses, kinds and applicability.

pub use entity::values::{ControlKind, ControlStatus};

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
