//! The authenticated caller of a request: a user or a service account, and what its lookup
//! also read about the organization named by the request's path.

use crate::domain::role::Role;

/// Who the caller is, read for every request by a statement that began after the request arrived
/// (so removals act at once).
#[derive(Debug, Clone)]
pub enum Subject {
    /// A person.
    User {
        id: String,
        email: String,
        name: String,
        is_platform_admin: bool,
    },
    /// A machine client bound to one organization with one role.
    ServiceAccount {
        id: String,
        name: String,
        organization_id: String,
        role: Role,
    },
}

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub subject: Subject,
    /// The access token's id, for revocation.
    pub jti: String,
    /// The request id, recorded in audit events.
    pub request_id: Option<String>,
    /// The caller's standing in the organization named by the request path, read in the same
    /// statement as the principal (saves authorization a round trip).
    pub org_access: Option<OrgAccess>,
}

/// What the principal's statement also read about the path's organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccess {
    /// The organization's id (lowercase UUID text).
    pub org_id: String,
    /// The user's membership role there (users only).
    pub member_role: Option<Role>,
    /// The organization's data version; `None` when it does not exist.
    pub data_version: Option<i64>,
}

impl Principal {
    /// `user:<id>` or `service_account:<id>`: the actor of audit events and the JWT `sub`.
    pub fn actor(&self) -> String {
        match &self.subject {
            Subject::User { id, .. } => format!("user:{id}"),
            Subject::ServiceAccount { id, .. } => format!("service_account:{id}"),
        }
    }

    /// Whether the caller is a platform admin.
    pub fn is_platform_admin(&self) -> bool {
        matches!(
            self.subject,
            Subject::User {
                is_platform_admin: true,
                ..
            }
        )
    }

    /// The user id, when the caller is a user.
    pub fn user_id(&self) -> Option<&str> {
        match &self.subject {
            Subject::User { id, .. } => Some(id),
            Subject::ServiceAccount { .. } => None,
        }
    }
}
