//! Organization roles and the permission matrix of docs/identity.md.

pub use entity::values::Role;

/// The permission matrix (see docs/identity.md), as a method of the role.
pub trait Permissions {
    /// Whether this role may perform `action`.
    fn can(self, action: Action) -> bool;
}

impl Permissions for Role {
    fn can(self, action: Action) -> bool {
        use Action::*;
        match action {
            Read => true,
            ReadAuditEvents | ReviewEvidence | VerifyFindings => {
                matches!(self, Role::Auditor | Role::Admin)
            }
            ChangeControls | ChangeEvidence | ChangeRisks => {
                matches!(self, Role::Editor | Role::Admin)
            }
            ChangeFindings => matches!(self, Role::Auditor | Role::Editor | Role::Admin),
            Administer => self == Role::Admin,
        }
    }
}

/// What a caller wants to do inside an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read controls, evidence, findings, readiness, the SoA, members.
    Read,
    /// Read the audit trail.
    ReadAuditEvents,
    /// Change controls (status, applicability, owner, dates, notes).
    ChangeControls,
    /// Create and update evidence, upload content, link it to controls.
    ChangeEvidence,
    /// Accept or reject evidence.
    ReviewEvidence,
    /// Create and update findings.
    ChangeFindings,
    /// Create and update assets and risks (the risk register).
    ChangeRisks,
    /// Close (verify) or reopen a finding.
    VerifyFindings,
    /// Accept risk, delete, adopt frameworks, manage members, service accounts and webhooks.
    Administer,
}

#[cfg(test)]
mod tests {
    use super::{Action::*, Permissions, Role, Role::*};

    #[test]
    fn the_permission_matrix() {
        // (action, [viewer, auditor, editor, admin])
        let table = [
            (Read, [true, true, true, true]),
            (ReadAuditEvents, [false, true, false, true]),
            (ChangeControls, [false, false, true, true]),
            (ChangeEvidence, [false, false, true, true]),
            (ReviewEvidence, [false, true, false, true]),
            (ChangeFindings, [false, true, true, true]),
            (ChangeRisks, [false, false, true, true]),
            (VerifyFindings, [false, true, false, true]),
            (Administer, [false, false, false, true]),
        ];
        for (action, expected) in table {
            for (role, allowed) in [Viewer, Auditor, Editor, Admin].into_iter().zip(expected) {
                assert_eq!(role.can(action), allowed, "{role:?} {action:?}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("owner"), None);
    }
}
