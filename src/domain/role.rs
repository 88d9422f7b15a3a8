//! Organization roles and the permission matrix of docs/identity.md.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A role in one organization.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads controls, evidence, findings, readiness and the SoA.
    Viewer,
    /// Reads everything including audit events, reviews evidence, raises and verifies findings.
    Auditor,
    /// Changes controls, evidence and findings.
    Editor,
    /// Everything, including members, service accounts, adoption and deletion.
    Admin,
}

impl Role {
    /// Every role, for exhaustive tests.
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Auditor, Role::Editor, Role::Admin];

    /// The stored / wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Auditor => "auditor",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == value)
    }

    /// Whether this role may perform `action` (see docs/identity.md).
    pub fn can(self, action: Action) -> bool {
        use Action::*;
        match action {
            Read => true,
            ReadAuditEvents | ReviewEvidence | VerifyFindings => {
                matches!(self, Role::Auditor | Role::Admin)
            }
            ChangeControls | ChangeEvidence => matches!(self, Role::Editor | Role::Admin),
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
    /// Close (verify) or reopen a finding.
    VerifyFindings,
    /// Accept risk, delete, adopt frameworks, manage members, service accounts and webhooks.
    Administer,
}

#[cfg(test)]
mod tests {
    use super::{Action::*, Role, Role::*};

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
