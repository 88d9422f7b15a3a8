//! The DTOs of evidence and their conversions (docs/evidence.md).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    domain::evidence::{EvidenceKind, ReviewDecision, ReviewStatus},
    error::{AppError, Result},
    page_schema,
    service::evidence::{EvidenceFilter, EvidencePatch, EvidenceView, NewEvidence},
};

/// The description of every `{evidence_id}` path parameter.
pub const EVIDENCE_ID: &str = "The evidence's id";

/// The raw bytes of a file.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(#[allow(dead_code)] Vec<u8>);

/// The stored file of a piece of evidence.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EvidenceContent {
    /// SHA-256 of the bytes, lowercase hex.
    #[schema(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub sha256: String,
    /// Size in bytes.
    pub size: i64,
    /// The media type given when it was uploaded.
    #[schema(example = "application/pdf")]
    pub media_type: String,
    /// The file name given when it was uploaded (sanitized).
    #[schema(example = "access-review-2026-q3.pdf")]
    pub filename: Option<String>,
}

/// A piece of evidence.
#[derive(Debug, Serialize, ToSchema)]
pub struct Evidence {
    /// The evidence's id.
    pub id: String,
    /// Its title.
    #[schema(example = "Q3 access review of the training cluster")]
    pub title: String,
    /// What it shows.
    pub description: Option<String>,
    /// What kind of evidence it is.
    pub kind: EvidenceKind,
    /// For links: where it is.
    pub url: Option<String>,
    /// When it was collected.
    pub collected_at: Option<DateTime<Utc>>,
    /// Until when it is valid; null = no expiry.
    pub valid_until: Option<DateTime<Utc>>,
    /// Review state; only accepted, unexpired evidence counts for readiness.
    pub review_status: ReviewStatus,
    /// The reviewer's comment.
    pub review_comment: Option<String>,
    /// Who reviewed it.
    pub reviewed_by: Option<String>,
    /// When it was reviewed.
    pub reviewed_at: Option<DateTime<Utc>>,
    /// Who submitted it (`user:<id>` or `service_account:<id>`).
    pub submitted_by: String,
    /// The stored file, if any.
    pub content: Option<EvidenceContent>,
    /// The controls it supports.
    pub control_ids: Vec<String>,
    /// When it was archived (deleted); archived evidence is hidden from lists and scores.
    pub archived_at: Option<DateTime<Utc>>,
    /// Incremented on every change; the `ETag` is `"<version>"`.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<EvidenceView> for Evidence {
    fn from(view: EvidenceView) -> Self {
        let e = view.evidence;
        let content = match (e.content_sha256, e.content_size, e.content_media_type) {
            (Some(sha256), Some(size), Some(media_type)) => Some(EvidenceContent {
                sha256,
                size,
                media_type,
                filename: e.content_filename,
            }),
            _ => None,
        };
        Self {
            kind: e.kind,
            review_status: e.review_status,
            id: e.id,
            title: e.title,
            description: e.description,
            url: e.url,
            collected_at: e.collected_at,
            valid_until: e.valid_until,
            review_comment: e.review_comment,
            reviewed_by: e.reviewed_by,
            reviewed_at: e.reviewed_at,
            submitted_by: e.submitted_by,
            content,
            control_ids: view.control_ids,
            archived_at: e.archived_at,
            version: e.version,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

impl crate::service::webhooks::EventResource for EvidenceView {
    fn event_data(&self) -> Result<serde_json::Value> {
        serde_json::to_value(Evidence::from(self.clone())).map_err(AppError::internal)
    }
}

page_schema!(EvidencePage, Evidence, "A page of evidence.");

/// Evidence to create.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceCreate {
    /// Its title.
    #[schema(example = "Q3 access review of the training cluster")]
    pub title: String,
    /// What it shows.
    pub description: Option<String>,
    /// What kind of evidence it is.
    pub kind: EvidenceKind,
    /// For links (required for `link`): an http(s) URL.
    #[schema(format = "uri")]
    pub url: Option<String>,
    /// When it was collected.
    pub collected_at: Option<DateTime<Utc>>,
    /// Until when it is valid; omit for no expiry.
    pub valid_until: Option<DateTime<Utc>>,
    /// Controls of this organization it supports.
    #[serde(default)]
    pub control_ids: Vec<Uuid>,
}

impl From<EvidenceCreate> for NewEvidence {
    fn from(c: EvidenceCreate) -> Self {
        Self {
            title: c.title,
            description: c.description,
            kind: c.kind,
            url: c.url,
            collected_at: c.collected_at,
            valid_until: c.valid_until,
            control_ids: c.control_ids.iter().map(Uuid::to_string).collect(),
        }
    }
}

/// Filters of the evidence list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvidenceQuery {
    /// Only evidence linked to this control.
    pub control_id: Option<Uuid>,
    /// Only evidence in this review state.
    pub review_status: Option<ReviewStatus>,
    /// Only this kind.
    pub kind: Option<EvidenceKind>,
    /// Only expired (`true`) or unexpired (`false`) evidence.
    pub expired: Option<bool>,
    /// Only evidence whose `valid_until` is before this time (RFC 3339).
    pub expiring_before: Option<DateTime<Utc>>,
    /// Text search in title and description (case-insensitive).
    pub q: Option<String>,
    /// Only evidence changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
}

impl From<EvidenceQuery> for EvidenceFilter {
    fn from(q: EvidenceQuery) -> Self {
        Self {
            control_id: q.control_id.map(|id| id.to_string()),
            review_status: q.review_status,
            kind: q.kind,
            expired: q.expired,
            expiring_before: q.expiring_before,
            q: q.q,
            updated_since: q.updated_since,
        }
    }
}

/// Changes to evidence. Absent fields are left as they are; `null` clears a nullable field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceUpdate {
    /// New title.
    pub title: Option<String>,
    /// New description.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub description: Option<Option<String>>,
    /// New kind.
    pub kind: Option<EvidenceKind>,
    /// New URL.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub url: Option<Option<String>>,
    /// New collection time.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<DateTime<Utc>>, nullable)]
    pub collected_at: Option<Option<DateTime<Utc>>>,
    /// New validity; changing it returns accepted evidence to `pending`.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<DateTime<Utc>>, nullable)]
    pub valid_until: Option<Option<DateTime<Utc>>>,
}

impl From<EvidenceUpdate> for EvidencePatch {
    fn from(u: EvidenceUpdate) -> Self {
        Self {
            title: u.title,
            description: u.description,
            kind: u.kind,
            url: u.url,
            collected_at: u.collected_at,
            valid_until: u.valid_until,
        }
    }
}

/// A review decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceReview {
    /// Accept or reject.
    pub decision: ReviewDecision,
    /// Why (required when rejecting).
    pub comment: Option<String>,
}
