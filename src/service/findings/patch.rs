//! A finding's change worked out before anything is stored: the status transition checked
//! against the status machine and the caller's role, every field's new value, and the changed
//! fields for the audit trail.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, IntoActiveModel};

use entity::finding;

use crate::{
    domain::{
        finding::{FindingStatus, TransitionError, check_transition},
        role::Role,
    },
    error::{AppError, Result},
    service::audit::Changes,
};

use super::{ExternalRef, FindingPatch, external_ref_of, non_blank, validate_external_ref};

/// The checks that come first: the finding may still change, its title, and its status
/// transition.
pub(super) struct Checked {
    /// The status the finding has.
    pub from: FindingStatus,
    /// The status it will have.
    pub status: FindingStatus,
    title: String,
    risk_acceptance: Option<String>,
}

/// A change ready to store: the row as it will be, and what changed.
pub(super) struct Applied {
    pub active: finding::ActiveModel,
    pub changes: Changes,
}

impl Checked {
    /// 409 when the finding is final or the transition is not allowed, 403 when the role may
    /// not make it, 422 for a blank title or an acceptance without its text.
    pub fn new(current: &finding::Model, patch: &FindingPatch, role: Role) -> Result<Self> {
        let from = current.status;
        if matches!(from, FindingStatus::Closed | FindingStatus::RiskAccepted) {
            return Err(AppError::conflict(
                "finding-final",
                format!("the finding is {} and can no longer change", from.as_str()),
            ));
        }
        let title = match &patch.title {
            Some(t) => non_blank("title", t, 500)?,
            None => current.title.clone(),
        };
        let risk_acceptance = patch
            .risk_acceptance
            .clone()
            .unwrap_or_else(|| current.risk_acceptance.clone());
        let status = patch.status.unwrap_or(from);
        if status != from {
            check_transition(from, status, role, risk_acceptance.as_deref())
                .map_err(transition_error)?;
        }
        Ok(Self {
            from,
            status,
            title,
            risk_acceptance,
        })
    }

    /// The finding with `patch` applied at `now`, and its changes; `controls` are the linked
    /// control ids before and after, when the patch sets them.
    pub fn apply(
        self,
        current: &finding::Model,
        patch: FindingPatch,
        controls: Option<(&Vec<String>, &Vec<String>)>,
        now: DateTime<Utc>,
    ) -> Result<Applied> {
        let external = match patch.external_ref {
            Some(r) => r.map(validate_external_ref).transpose()?,
            None => external_ref_of(current),
        };
        let finding_type = patch.finding_type.unwrap_or(current.finding_type);
        let source = patch.source.unwrap_or(current.source);
        let keep =
            |new: Option<Option<String>>, old: &Option<String>| new.unwrap_or_else(|| old.clone());
        let description = keep(patch.description, &current.description);
        let owner = keep(patch.owner, &current.owner);
        let root_cause = keep(patch.root_cause, &current.root_cause);
        let corrective_action = keep(patch.corrective_action, &current.corrective_action);
        let resolution_notes = keep(patch.resolution_notes, &current.resolution_notes);
        let due_date = patch.due_date.unwrap_or(current.due_date);
        let status = self.status;

        let mut changes = Changes::new();
        changes.track("title", &current.title, &self.title);
        changes.track("description", &current.description, &description);
        changes.track("type", &current.finding_type, &finding_type);
        changes.track("source", &current.source, &source);
        changes.track("status", &current.status, &status);
        changes.track("owner", &current.owner, &owner);
        changes.track("due_date", &current.due_date, &due_date);
        changes.track("root_cause", &current.root_cause, &root_cause);
        changes.track(
            "corrective_action",
            &current.corrective_action,
            &corrective_action,
        );
        changes.track(
            "resolution_notes",
            &current.resolution_notes,
            &resolution_notes,
        );
        changes.track(
            "risk_acceptance",
            &current.risk_acceptance,
            &self.risk_acceptance,
        );
        changes.track("external_ref", &external_ref_of(current), &external);
        if let Some((old, new)) = controls {
            changes.track("control_ids", old, new);
        }

        let mut active = current.clone().into_active_model();
        active.title = Set(self.title);
        active.description = Set(description);
        active.finding_type = Set(finding_type);
        active.source = Set(source);
        active.status = Set(status);
        active.owner = Set(owner);
        active.due_date = Set(due_date);
        active.root_cause = Set(root_cause);
        active.corrective_action = Set(corrective_action);
        active.resolution_notes = Set(resolution_notes);
        active.risk_acceptance = Set(self.risk_acceptance);
        set_external_ref(&mut active, external.as_ref());
        if self.status == FindingStatus::Closed {
            active.closed_at = Set(Some(now));
        }
        Ok(Applied { active, changes })
    }
}

fn set_external_ref(active: &mut finding::ActiveModel, external: Option<&ExternalRef>) {
    active.external_system = Set(external.map(|r| r.system.clone()));
    active.external_key = Set(external.map(|r| r.key.clone()));
    active.external_url = Set(external.and_then(|r| r.url.clone()));
    active.external_status = Set(external.and_then(|r| r.status.clone()));
}

/// A refused transition as the API answers it.
fn transition_error(err: TransitionError) -> AppError {
    match err {
        TransitionError::NotAllowed { from, to, allowed } => {
            let allowed: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
            AppError::conflict(
                "invalid-transition",
                format!(
                    "a finding cannot go from `{}` to `{}`; allowed: {}",
                    from.as_str(),
                    to.as_str(),
                    if allowed.is_empty() {
                        "none (final)".to_owned()
                    } else {
                        allowed.join(", ")
                    }
                ),
            )
        }
        TransitionError::RoleRequired(message) => AppError::Forbidden(message.to_owned()),
        TransitionError::RiskAcceptanceRequired => {
            AppError::invalid("risk_acceptance", "is required to accept a risk")
        }
    }
}
