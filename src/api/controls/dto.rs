//! The DTOs of adopted frameworks and controls and their conversions (docs/controls.md).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    domain::control::{ControlKind, ControlStatus},
    error::{AppError, Result},
    page_schema,
    service::controls::{Adoption, ControlFilter, ControlPatch, ControlView, NewControl},
};

/// A framework adopted by the organization.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdoptedFramework {
    /// The framework's key.
    #[schema(example = "iso27001-2022")]
    pub framework: String,
    /// The framework's name.
    #[schema(example = "ISO/IEC 27001:2022")]
    pub name: String,
    /// How many controls the organization has for it (custom controls included).
    pub control_count: u64,
    /// Who adopted it (`user:<id>` or `service_account:<id>`).
    pub adopted_by: String,
    /// When it was adopted.
    pub adopted_at: DateTime<Utc>,
}

impl From<Adoption> for AdoptedFramework {
    fn from(a: Adoption) -> Self {
        Self {
            framework: a.framework.key,
            name: a.framework.name,
            control_count: a.control_count,
            adopted_by: a.adoption.adopted_by,
            adopted_at: a.adoption.created_at,
        }
    }
}

page_schema!(
    AdoptedFrameworkPage,
    AdoptedFramework,
    "A page of adopted frameworks."
);

/// A framework to adopt.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdoptionCreate {
    /// The framework's key.
    #[schema(example = "iso27001-2022")]
    pub framework: String,
}

/// A control: the organization's record of one requirement (or a custom control).
#[derive(Debug, Serialize, ToSchema)]
pub struct Control {
    /// The control's id.
    pub id: String,
    /// The framework's key.
    #[schema(example = "iso27001-2022")]
    pub framework: String,
    /// The requirement's reference (or the custom control's).
    #[serde(rename = "ref")]
    #[schema(example = "A.5.7")]
    pub reference: String,
    /// Its title.
    #[schema(example = "Threat intelligence")]
    pub title: String,
    /// Its group's key.
    #[schema(example = "A.5")]
    pub group: String,
    /// Clause, control or checklist item.
    pub kind: ControlKind,
    /// Whether the organization added it (no catalog requirement).
    pub custom: bool,
    /// What it asks for.
    pub description: Option<String>,
    /// Whether it applies (Statement of Applicability). Clauses always apply.
    pub applicable: bool,
    /// Why it is included or excluded; required when not applicable.
    pub justification: Option<String>,
    /// Implementation status.
    pub status: ControlStatus,
    /// Who owns it (free text or email).
    pub owner: Option<String>,
    /// When it is due.
    pub due_date: Option<NaiveDate>,
    /// Free-form notes.
    pub notes: Option<String>,
    /// Linked evidence that is not archived.
    pub evidence_count: i64,
    /// Linked findings that are open, in progress or resolved.
    pub open_findings_count: i64,
    /// The control's readiness score `s(c)` in 0–1 (formula version 1); null when not applicable.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub score: Option<f64>,
    /// The risks (open and closed) this control treats, sorted.
    pub risk_ids: Vec<String>,
    /// Incremented on every change; the `ETag` is `"<version>"`.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<ControlView> for Control {
    fn from(view: ControlView) -> Self {
        let c = view.control;
        Self {
            kind: c.kind,
            status: c.status,
            id: c.id,
            framework: c.framework_key,
            reference: c.reference,
            title: c.title,
            group: c.group_key,
            custom: c.custom,
            description: c.description,
            applicable: c.applicable,
            justification: c.justification,
            owner: c.owner,
            due_date: c.due_date,
            notes: c.notes,
            evidence_count: view.stats.evidence_count,
            open_findings_count: view.stats.open_findings,
            score: view.score,
            risk_ids: view.risks.into_iter().map(|r| r.id).collect(),
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

impl crate::service::webhooks::EventResource for ControlView {
    fn event_data(&self) -> Result<serde_json::Value> {
        serde_json::to_value(Control::from(self.clone())).map_err(AppError::internal)
    }
}

page_schema!(ControlPage, Control, "A page of controls.");

/// Filters of the control list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ControlQuery {
    /// Only this framework's controls.
    pub framework: Option<String>,
    /// Only controls with this status.
    pub status: Option<ControlStatus>,
    /// Only applicable (`true`) or excluded (`false`) controls.
    pub applicable: Option<bool>,
    /// Only this group.
    pub group: Option<String>,
    /// Only this kind.
    pub kind: Option<ControlKind>,
    /// Only controls with this owner (exact).
    pub owner: Option<String>,
    /// Text search in ref, title and notes (case-insensitive).
    pub q: Option<String>,
    /// Only controls with (`true`) or without (`false`) valid accepted evidence.
    pub has_valid_evidence: Option<bool>,
    /// Only controls changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
}

impl From<ControlQuery> for ControlFilter {
    fn from(q: ControlQuery) -> Self {
        Self {
            framework: q.framework,
            status: q.status,
            applicable: q.applicable,
            group: q.group,
            kind: q.kind,
            owner: q.owner,
            q: q.q,
            has_valid_evidence: q.has_valid_evidence,
            updated_since: q.updated_since,
        }
    }
}

/// A custom control to add to an adopted framework.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlCreate {
    /// The adopted framework it belongs to.
    #[schema(example = "iso27001-2022")]
    pub framework: String,
    /// Its reference, unique within the framework.
    #[serde(rename = "ref")]
    #[schema(example = "ACME-1")]
    pub reference: String,
    /// Its title.
    #[schema(example = "Model weights are encrypted at rest")]
    pub title: String,
    /// Its group (default `custom`).
    pub group: Option<String>,
    /// What it asks for.
    pub description: Option<String>,
    /// Initial status (default `not_started`).
    pub status: Option<ControlStatus>,
    /// Who owns it.
    pub owner: Option<String>,
    /// When it is due.
    pub due_date: Option<NaiveDate>,
    /// Notes.
    pub notes: Option<String>,
}

impl From<ControlCreate> for NewControl {
    fn from(c: ControlCreate) -> Self {
        Self {
            framework: c.framework,
            reference: c.reference,
            title: c.title,
            group: c.group,
            description: c.description,
            status: c.status.unwrap_or(ControlStatus::NotStarted),
            owner: c.owner,
            due_date: c.due_date,
            notes: c.notes,
        }
    }
}

/// Changes to a control. Absent fields are left as they are; `null` clears a nullable field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlUpdate {
    /// New status.
    pub status: Option<ControlStatus>,
    /// Whether it applies. A clause cannot be made not applicable; excluding needs a justification.
    pub applicable: Option<bool>,
    /// Why it is included or excluded.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub justification: Option<Option<String>>,
    /// Who owns it.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub owner: Option<Option<String>>,
    /// When it is due (`YYYY-MM-DD`).
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<NaiveDate>, nullable)]
    pub due_date: Option<Option<NaiveDate>>,
    /// Notes.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub notes: Option<Option<String>>,
}

impl From<ControlUpdate> for ControlPatch {
    fn from(u: ControlUpdate) -> Self {
        Self {
            status: u.status,
            applicable: u.applicable,
            justification: u.justification,
            owner: u.owner,
            due_date: u.due_date,
            notes: u.notes,
        }
    }
}
