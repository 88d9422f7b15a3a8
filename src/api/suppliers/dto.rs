//! The supplier register's request and response bodies and list filters.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    domain::supplier::{
        Certification, CertificationScheme, Criticality, DataAccess, ReviewDecision, SupplierKind,
        SupplierStatus,
    },
    error::{AppError, Result},
    page_schema,
    service::suppliers::{NewSupplier, ReviewSummary, SupplierFilter, SupplierPatch, SupplierView},
};

/// A certification or attestation of a supplier.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierCertification {
    /// The scheme.
    pub scheme: CertificationScheme,
    /// The day the certificate expires; past it, readiness reports
    /// `supplier_certification_expired`.
    #[schema(example = "2027-06-30")]
    pub expires_on: NaiveDate,
    /// Evidence of the organization holding the certificate (404 naming
    /// `certifications[i].evidence_id` otherwise).
    #[serde(default)]
    pub evidence_id: Option<Uuid>,
}

impl From<SupplierCertification> for Certification {
    fn from(c: SupplierCertification) -> Self {
        Self {
            scheme: c.scheme,
            expires_on: c.expires_on,
            evidence_id: c.evidence_id.map(|id| id.to_string()),
        }
    }
}

/// A certification as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SupplierCertificationView {
    /// The scheme.
    pub scheme: CertificationScheme,
    /// The day the certificate expires.
    pub expires_on: NaiveDate,
    /// The evidence holding the certificate.
    pub evidence_id: Option<String>,
}

/// The last completed security review of a supplier.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SupplierLastReview {
    /// The review's id.
    pub id: String,
    /// Its decision.
    pub decision: Option<ReviewDecision>,
    /// When it was completed.
    pub completed_at: DateTime<Utc>,
    /// Who reviewed.
    pub reviewer_id: Option<String>,
}

impl From<ReviewSummary> for SupplierLastReview {
    fn from(r: ReviewSummary) -> Self {
        Self {
            id: r.id,
            decision: r.decision,
            completed_at: r.completed_at,
            reviewer_id: r.reviewer_id,
        }
    }
}

/// A supplier: a third party the organization depends on, with the data it can reach and its
/// security reviews.
#[derive(Debug, Serialize, ToSchema)]
pub struct Supplier {
    /// The supplier's id.
    pub id: String,
    /// Its name, unique in the organization (case-insensitively).
    #[schema(example = "Example Model Labs")]
    pub name: String,
    /// Its website.
    #[schema(example = "https://models.example.com")]
    pub website: Option<String>,
    /// What it provides.
    pub services: Option<String>,
    /// What kind of supplier it is.
    pub kind: SupplierKind,
    /// How much the organization depends on it.
    pub criticality: Criticality,
    /// The kinds of data it can reach, sorted.
    pub data_access: Vec<DataAccess>,
    /// Where it processes data: ISO 3166-1 alpha-2 codes, sorted.
    #[schema(example = json!(["IE", "US"]))]
    pub countries: Vec<String>,
    /// Its certifications.
    pub certifications: Vec<SupplierCertificationView>,
    /// When the data processing agreement was signed.
    pub dpa_signed_at: Option<NaiveDate>,
    /// When the contract ends.
    pub contract_end: Option<NaiveDate>,
    /// The user id of the member who owns the relationship.
    pub owner_id: Option<String>,
    /// Where the relationship stands.
    pub status: SupplierStatus,
    /// Months between security reviews; null: 12 for high and critical suppliers, 24 for the
    /// others.
    pub review_interval_months: Option<i16>,
    /// The months between reviews in effect (its own interval or the criticality's).
    pub effective_review_interval_months: u32,
    /// When the next security review is due: the last completed review's date plus the
    /// interval; with no completed review, the day the supplier was registered (due at once).
    pub next_review_due: NaiveDate,
    /// Whether the review is overdue: no completed review yet, or today is past
    /// `next_review_due`.
    pub review_overdue: bool,
    /// The last completed security review.
    pub last_review: Option<SupplierLastReview>,
    /// The assets it provides, sorted.
    pub asset_ids: Vec<String>,
    /// The risks that concern it, sorted.
    pub risk_ids: Vec<String>,
    /// Incremented on every change; the `ETag` is `"<version>"`.
    pub version: i32,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<SupplierView> for Supplier {
    fn from(view: SupplierView) -> Self {
        let s = view.supplier;
        Self {
            effective_review_interval_months: crate::domain::supplier::review_interval(
                s.criticality,
                s.review_interval_months,
            ),
            id: s.id,
            name: s.name,
            website: s.website,
            services: s.services,
            kind: s.kind,
            criticality: s.criticality,
            data_access: view.data_access,
            countries: view.countries,
            certifications: view
                .certifications
                .into_iter()
                .map(|c| SupplierCertificationView {
                    scheme: c.scheme,
                    expires_on: c.expires_on,
                    evidence_id: c.evidence_id,
                })
                .collect(),
            dpa_signed_at: s.dpa_signed_at,
            contract_end: s.contract_end,
            owner_id: s.owner_id,
            status: s.status,
            review_interval_months: s.review_interval_months,
            next_review_due: view.next_review_due,
            review_overdue: view.review_overdue,
            last_review: view.last_review.map(SupplierLastReview::from),
            asset_ids: view.asset_ids,
            risk_ids: view.risk_ids,
            version: s.version,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

impl crate::service::webhooks::EventResource for SupplierView {
    fn event_data(&self) -> Result<serde_json::Value> {
        serde_json::to_value(Supplier::from(self.clone())).map_err(AppError::internal)
    }
}

page_schema!(SupplierPage, Supplier, "A page of suppliers.");

fn default_criticality() -> Criticality {
    Criticality::Medium
}

fn default_status() -> SupplierStatus {
    SupplierStatus::Active
}

/// A supplier to register.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierCreate {
    /// Its name, 1–200 characters (trimmed), unique in the organization case-insensitively
    /// (409 `supplier-name-taken`).
    #[schema(example = "Example Model Labs")]
    pub name: String,
    /// Its website: an `http` or `https` URL.
    pub website: Option<String>,
    /// What it provides.
    pub services: Option<String>,
    /// What kind of supplier it is.
    pub kind: SupplierKind,
    /// How much the organization depends on it (default `medium`).
    #[serde(default = "default_criticality")]
    #[schema(default = "medium")]
    pub criticality: Criticality,
    /// The kinds of data it can reach; `none` stands alone (422 otherwise).
    #[serde(default)]
    pub data_access: Vec<DataAccess>,
    /// ISO 3166-1 alpha-2 codes of where it processes data (upper case).
    #[serde(default)]
    pub countries: Vec<String>,
    /// Its certifications.
    #[serde(default)]
    pub certifications: Vec<SupplierCertification>,
    /// When the data processing agreement was signed.
    pub dpa_signed_at: Option<NaiveDate>,
    /// When the contract ends.
    pub contract_end: Option<NaiveDate>,
    /// The user id of a member of the organization who owns the relationship (404 otherwise).
    pub owner_id: Option<Uuid>,
    /// Where the relationship stands (default `active`).
    #[serde(default = "default_status")]
    #[schema(default = "active")]
    pub status: SupplierStatus,
    /// Months between security reviews, 1–60; null: by criticality.
    #[schema(minimum = 1, maximum = 60)]
    pub review_interval_months: Option<i64>,
}

impl From<SupplierCreate> for NewSupplier {
    fn from(c: SupplierCreate) -> Self {
        Self {
            name: c.name,
            website: c.website,
            services: c.services,
            kind: c.kind,
            criticality: c.criticality,
            data_access: c.data_access,
            countries: c.countries,
            certifications: c.certifications.into_iter().map(Into::into).collect(),
            dpa_signed_at: c.dpa_signed_at,
            contract_end: c.contract_end,
            owner_id: c.owner_id.map(|id| id.to_string()),
            status: c.status,
            review_interval_months: c.review_interval_months,
        }
    }
}

/// Changes to a supplier. Absent fields are left as they are; `null` clears a nullable field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierUpdate {
    /// New name, 1–200 characters (trimmed).
    pub name: Option<String>,
    /// New website.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub website: Option<Option<String>>,
    /// New description of its services.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub services: Option<Option<String>>,
    /// New kind.
    pub kind: Option<SupplierKind>,
    /// New criticality.
    pub criticality: Option<Criticality>,
    /// The kinds of data it can reach (replaces the set).
    pub data_access: Option<Vec<DataAccess>>,
    /// Where it processes data (replaces the set).
    pub countries: Option<Vec<String>>,
    /// Its certifications (replaces the list).
    pub certifications: Option<Vec<SupplierCertification>>,
    /// When the data processing agreement was signed.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<NaiveDate>, nullable)]
    pub dpa_signed_at: Option<Option<NaiveDate>>,
    /// When the contract ends.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<NaiveDate>, nullable)]
    pub contract_end: Option<Option<NaiveDate>>,
    /// New owner: the user id of a member of the organization.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub owner_id: Option<Option<Uuid>>,
    /// New status.
    pub status: Option<SupplierStatus>,
    /// Months between reviews, 1–60; null: by criticality.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<i64>, nullable, minimum = 1, maximum = 60)]
    pub review_interval_months: Option<Option<i64>>,
}

impl From<SupplierUpdate> for SupplierPatch {
    fn from(u: SupplierUpdate) -> Self {
        Self {
            name: u.name,
            website: u.website,
            services: u.services,
            kind: u.kind,
            criticality: u.criticality,
            data_access: u.data_access,
            countries: u.countries,
            certifications: u
                .certifications
                .map(|c| c.into_iter().map(Into::into).collect()),
            dpa_signed_at: u.dpa_signed_at,
            contract_end: u.contract_end,
            owner_id: u.owner_id.map(|o| o.map(|id| id.to_string())),
            status: u.status,
            review_interval_months: u.review_interval_months,
        }
    }
}

/// Filters of the supplier list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SupplierQuery {
    /// Only suppliers of this kind.
    pub kind: Option<SupplierKind>,
    /// Only suppliers of this criticality.
    pub criticality: Option<Criticality>,
    /// Only suppliers in this status.
    pub status: Option<SupplierStatus>,
    /// Only suppliers whose data access includes this kind.
    pub data_access: Option<DataAccess>,
    /// Only suppliers whose review is (`true`) or is not (`false`) overdue.
    pub review_overdue: Option<bool>,
    /// Only suppliers whose name or services contain this text (case insensitive).
    pub q: Option<String>,
    /// Only suppliers changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
}

impl From<SupplierQuery> for SupplierFilter {
    fn from(q: SupplierQuery) -> Self {
        Self {
            kind: q.kind,
            criticality: q.criticality,
            status: q.status,
            data_access: q.data_access,
            review_overdue: q.review_overdue,
            q: q.q,
            updated_since: q.updated_since,
        }
    }
}
