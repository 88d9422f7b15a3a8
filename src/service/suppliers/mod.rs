//! Suppliers (docs/suppliers.md): third parties with their data access, certifications, DPA,
//! owner and review cadence, the assets they provide and the risks that concern them.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait, Func, LockType},
};

use crate::{
    domain::{
        asset,
        principal::Principal,
        role::Action,
        supplier::{
            self as rules, Certification, Criticality, DataAccess, ReviewDecision, SupplierKind,
            SupplierReviewStatus, SupplierStatus,
        },
        webhook::EventType,
    },
    error::{AppError, Result, ResultExt},
    service::{
        audit::{self, AuditRecord, Changes},
        authz, changes,
        members_check::check_member,
        version::IfMatch,
    },
    store::db,
};
use entity::{asset as asset_row, evidence, risk_supplier, supplier, supplier_review};

mod list;
mod patch;
pub mod reviews;

pub use list::{SupplierFilter, list};
pub use patch::{SupplierPatch, update};

/// The last completed review of a supplier.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReviewSummary {
    pub id: String,
    pub decision: Option<ReviewDecision>,
    pub completed_at: DateTime<Utc>,
    pub reviewer_id: Option<String>,
}

/// A supplier with its parsed lists, links and review state.
#[derive(Debug, Clone)]
pub struct SupplierView {
    pub supplier: supplier::Model,
    pub data_access: Vec<DataAccess>,
    pub countries: Vec<String>,
    pub certifications: Vec<Certification>,
    /// The assets it provides, sorted.
    pub asset_ids: Vec<String>,
    /// The risks linked to it, sorted.
    pub risk_ids: Vec<String>,
    pub last_review: Option<ReviewSummary>,
    pub next_review_due: NaiveDate,
    pub review_overdue: bool,
}

/// What the unique index on a supplier's name stands for.
pub(crate) const NAME_TAKEN: (&str, &str) = (
    "supplier-name-taken",
    "another supplier of this organization already has this name",
);

const MAX_NAME: usize = 200;
const MAX_WEBSITE: usize = 1000;

/// A trimmed name of 1 to 200 characters (422 otherwise).
fn name(value: &str) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_NAME {
        return Err(AppError::invalid(
            "name",
            format!("must be 1 to {MAX_NAME} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// An absolute `http` or `https` URL (422 naming `website` otherwise).
fn website(value: Option<&str>) -> Result<Option<String>> {
    let Some(value) = value.map(str::trim) else {
        return Ok(None);
    };
    let ok = value.chars().count() <= MAX_WEBSITE
        && url::Url::parse(value)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !ok {
        return Err(AppError::invalid(
            "website",
            "must be an http or https URL of at most 1000 characters",
        ));
    }
    Ok(Some(value.to_owned()))
}

fn data_access(values: &[DataAccess]) -> Result<Vec<DataAccess>> {
    rules::normalize_data_access(values).map_err(|m| AppError::invalid("data_access", m))
}

fn countries(codes: &[String]) -> Result<Vec<String>> {
    asset::normalize_locations(codes)
        .map_err(|e| AppError::invalid(&format!("countries[{}]", e.index), e.message))
}

fn interval(months: Option<i64>) -> Result<Option<i16>> {
    months
        .map(|m| {
            i16::try_from(m)
                .ok()
                .filter(|m| (1..=rules::MAX_REVIEW_INTERVAL).contains(m))
                .ok_or_else(|| {
                    AppError::invalid(
                        "review_interval_months",
                        "must be an integer from 1 to 60 (or null: by criticality)",
                    )
                })
        })
        .transpose()
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(AppError::internal)
}

fn from_json<T: serde::de::DeserializeOwned>(stored: &str) -> Result<T> {
    serde_json::from_str(stored).map_err(AppError::internal)
}

/// The evidence ids that are not (non-archived) evidence of `org_id`: one query.
pub(crate) async fn missing_evidence<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    ids: &[&str],
) -> Result<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<String> = evidence::Entity::find()
        .select_only()
        .column(evidence::Column::Id)
        .filter(evidence::Column::OrganizationId.eq(org_id))
        .filter(evidence::Column::ArchivedAt.is_null())
        .filter(evidence::Column::Id.is_in(ids.iter().map(|s| (*s).to_owned())))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(ids
        .iter()
        .filter(|id| !found.iter().any(|f| f == *id))
        .map(|id| (*id).to_owned())
        .collect())
}

/// The certifications, each evidence id checked (404 naming `certifications[i].evidence_id`).
async fn certifications<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    certs: Vec<Certification>,
) -> Result<Vec<Certification>> {
    let ids: Vec<&str> = certs
        .iter()
        .filter_map(|c| c.evidence_id.as_deref())
        .collect();
    let missing = missing_evidence(conn, org_id, &ids).await?;
    if let Some((index, id)) = certs.iter().enumerate().find_map(|(i, c)| {
        c.evidence_id
            .as_ref()
            .filter(|id| missing.contains(id))
            .map(|id| (i, id))
    }) {
        return Err(AppError::not_found_field(
            &format!("certifications[{index}].evidence_id"),
            format!("`{id}` is not evidence of this organization"),
        ));
    }
    Ok(certs)
}

/// The review state of a supplier from its last completed review, as of `today`.
fn review_state(
    s: &supplier::Model,
    last: Option<&ReviewSummary>,
    today: NaiveDate,
) -> (NaiveDate, bool) {
    let done = last.map(|r| r.completed_at.date_naive());
    let interval = rules::review_interval(s.criticality, s.review_interval_months);
    let due = rules::next_review_due(s.created_at.date_naive(), done, interval);
    (due, rules::review_overdue(done, due, today))
}

/// The latest completed review of each of the suppliers: one query.
pub(crate) async fn last_reviews<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    supplier_ids: Option<Vec<String>>,
) -> Result<HashMap<String, ReviewSummary>> {
    let mut query = supplier_review::Entity::find()
        .filter(supplier_review::Column::OrganizationId.eq(org_id))
        .filter(supplier_review::Column::Status.eq(SupplierReviewStatus::Completed.as_str()))
        .filter(supplier_review::Column::CompletedAt.is_not_null());
    if let Some(ids) = supplier_ids {
        query = query.filter(supplier_review::Column::SupplierId.is_in(ids));
    }
    let rows = query
        .order_by_asc(supplier_review::Column::CompletedAt)
        .order_by_asc(supplier_review::Column::Id)
        .all(conn)
        .await?;
    let mut last = HashMap::new();
    for r in rows {
        if let Some(completed_at) = r.completed_at {
            last.insert(
                r.supplier_id,
                ReviewSummary {
                    id: r.id,
                    decision: r.decision,
                    completed_at,
                    reviewer_id: r.reviewer_id,
                },
            );
        }
    }
    Ok(last)
}

/// The suppliers (of one organization) with their links and review state: three queries
/// whatever their number.
async fn views<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    rows: Vec<supplier::Model>,
) -> Result<Vec<SupplierView>> {
    let ids: Vec<String> = rows.iter().map(|s| s.id.clone()).collect();
    let mut assets: HashMap<String, Vec<String>> = HashMap::new();
    let mut risks: HashMap<String, Vec<String>> = HashMap::new();
    let mut last = HashMap::new();
    if !ids.is_empty() {
        let provided: Vec<(Option<String>, String)> = asset_row::Entity::find()
            .select_only()
            .column(asset_row::Column::SupplierId)
            .column(asset_row::Column::Id)
            .filter(asset_row::Column::OrganizationId.eq(org_id))
            .filter(asset_row::Column::SupplierId.is_in(ids.clone()))
            .order_by_asc(asset_row::Column::Id)
            .into_tuple()
            .all(conn)
            .await?;
        for (supplier_id, asset_id) in provided {
            if let Some(s) = supplier_id {
                assets.entry(s).or_default().push(asset_id);
            }
        }
        let links: Vec<(String, String)> = risk_supplier::Entity::find()
            .select_only()
            .column(risk_supplier::Column::SupplierId)
            .column(risk_supplier::Column::RiskId)
            .filter(risk_supplier::Column::SupplierId.is_in(ids.clone()))
            .order_by_asc(risk_supplier::Column::RiskId)
            .into_tuple()
            .all(conn)
            .await?;
        for (supplier_id, risk_id) in links {
            risks.entry(supplier_id).or_default().push(risk_id);
        }
        last = last_reviews(conn, org_id, Some(ids)).await?;
    }
    let today = Utc::now().date_naive();
    rows.into_iter()
        .map(|s| {
            let last_review = last.remove(&s.id);
            let (next_review_due, review_overdue) = review_state(&s, last_review.as_ref(), today);
            Ok(SupplierView {
                data_access: from_json(&s.data_access)?,
                countries: from_json(&s.countries)?,
                certifications: from_json(&s.certifications)?,
                asset_ids: assets.remove(&s.id).unwrap_or_default(),
                risk_ids: risks.remove(&s.id).unwrap_or_default(),
                last_review,
                next_review_due,
                review_overdue,
                supplier: s,
            })
        })
        .collect()
}

async fn view_one<C: ConnectionTrait>(conn: &C, model: supplier::Model) -> Result<SupplierView> {
    let org_id = model.organization_id.clone();
    views(conn, &org_id, vec![model])
        .await?
        .pop()
        .ok_or_else(|| AppError::internal("supplier view missing"))
}

/// The organization's supplier (404 otherwise), locked until the transaction ends when `lock`.
pub(crate) async fn find<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    supplier_id: &str,
    lock: bool,
) -> Result<supplier::Model> {
    let mut query = supplier::Entity::find_by_id(supplier_id.to_owned())
        .filter(supplier::Column::OrganizationId.eq(org_id));
    if lock {
        query = query.lock(LockType::NoKeyUpdate);
    }
    query.one(conn).await?.ok_or(AppError::NotFound("supplier"))
}

/// 404 naming `field` unless `supplier_id` is a supplier of `org_id` (for assets and risks).
pub async fn check_supplier<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    field: &str,
    supplier_id: &str,
) -> Result<()> {
    check_suppliers(conn, org_id, field, &[supplier_id.to_owned()])
        .await
        .map(|_| ())
}

/// The ids, de-duplicated and sorted, when each is a supplier of `org_id`; otherwise 404
/// naming `field`.
pub async fn check_suppliers<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    field: &str,
    ids: &[String],
) -> Result<Vec<String>> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(ids);
    }
    let found: Vec<String> = supplier::Entity::find()
        .select_only()
        .column(supplier::Column::Id)
        .filter(supplier::Column::OrganizationId.eq(org_id))
        .filter(supplier::Column::Id.is_in(ids.clone()))
        .into_tuple()
        .all(conn)
        .await?;
    if let Some(missing) = ids.iter().find(|id| !found.contains(id)) {
        return Err(AppError::not_found_field(
            field,
            format!("`{missing}` is not a supplier of this organization"),
        ));
    }
    Ok(ids)
}

/// The organization's supplier whose name matches `name` case-insensitively (ASCII).
async fn find_by_name<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    name: &str,
) -> Result<Option<supplier::Model>> {
    Ok(supplier::Entity::find()
        .filter(supplier::Column::OrganizationId.eq(org_id))
        .filter(Expr::expr(Func::lower(Expr::col(supplier::Column::Name))).eq(name.to_lowercase()))
        .order_by_asc(supplier::Column::Id)
        .one(conn)
        .await?)
}

/// A supplier to register.
#[derive(Debug, Clone)]
pub struct NewSupplier {
    pub name: String,
    pub website: Option<String>,
    pub services: Option<String>,
    pub kind: SupplierKind,
    pub criticality: Criticality,
    pub data_access: Vec<DataAccess>,
    pub countries: Vec<String>,
    pub certifications: Vec<Certification>,
    pub dpa_signed_at: Option<NaiveDate>,
    pub contract_end: Option<NaiveDate>,
    pub owner_id: Option<String>,
    pub status: SupplierStatus,
    pub review_interval_months: Option<i64>,
}

impl NewSupplier {
    /// A supplier known only by its name and kind: medium criticality, active.
    pub fn named(name: &str, kind: SupplierKind) -> Self {
        Self {
            name: name.to_owned(),
            website: None,
            services: None,
            kind,
            criticality: Criticality::Medium,
            data_access: Vec::new(),
            countries: Vec::new(),
            certifications: Vec::new(),
            dpa_signed_at: None,
            contract_end: None,
            owner_id: None,
            status: SupplierStatus::Active,
            review_interval_months: None,
        }
    }
}

/// Registers a supplier (editors, admins); a name already taken in the organization (in any
/// case) is 409 `supplier-name-taken`.
pub async fn create<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    org_id: &str,
    new: NewSupplier,
) -> Result<SupplierView> {
    authz::authorize(conn, principal, org_id, Action::ChangeRisks).await?;
    insert(conn, principal, org_id, new).await
}

/// The organization's supplier named `name` (case-insensitively), or a new one of `kind`
/// (medium criticality, active; audited and announced), with whether it was created. For the
/// CycloneDX import; the caller's transaction holds both. Editors and admins.
pub async fn find_or_create_by_name<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    org_id: &str,
    name: &str,
    kind: SupplierKind,
) -> Result<(supplier::Model, bool)> {
    authz::authorize(conn, principal, org_id, Action::ChangeRisks).await?;
    let trimmed = self::name(name)?;
    if let Some(found) = find_by_name(conn, org_id, &trimmed).await? {
        return Ok((found, false));
    }
    let view = insert(conn, principal, org_id, NewSupplier::named(&trimmed, kind)).await?;
    Ok((view.supplier, true))
}

async fn insert<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    org_id: &str,
    new: NewSupplier,
) -> Result<SupplierView> {
    let name = name(&new.name)?;
    let website = website(new.website.as_deref())?;
    let data_access = data_access(&new.data_access)?;
    let countries = countries(&new.countries)?;
    let review_interval_months = interval(new.review_interval_months)?;
    if let Some(owner) = &new.owner_id {
        check_member(conn, org_id, "owner_id", owner).await?;
    }
    let certifications = certifications(conn, org_id, new.certifications).await?;
    if find_by_name(conn, org_id, &name).await?.is_some() {
        return Err(AppError::conflict(NAME_TAKEN.0, NAME_TAKEN.1));
    }
    let now = db::now();
    let created = supplier::ActiveModel {
        id: Set(db::new_id()),
        organization_id: Set(org_id.to_owned()),
        name: Set(name),
        website: Set(website),
        services: Set(new.services),
        kind: Set(new.kind),
        criticality: Set(new.criticality),
        data_access: Set(to_json(&data_access)?),
        countries: Set(to_json(&countries)?),
        certifications: Set(to_json(&certifications)?),
        dpa_signed_at: Set(new.dpa_signed_at),
        contract_end: Set(new.contract_end),
        owner_id: Set(new.owner_id),
        status: Set(new.status),
        review_interval_months: Set(review_interval_months),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await
    .on_unique(NAME_TAKEN.0, NAME_TAKEN.1)?;
    let (next_review_due, review_overdue) = review_state(&created, None, now.date_naive());
    let view = SupplierView {
        supplier: created,
        data_access,
        countries,
        certifications,
        asset_ids: Vec::new(),
        risk_ids: Vec::new(),
        last_review: None,
        next_review_due,
        review_overdue,
    };
    let s = &view.supplier;
    changes::record(
        conn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "supplier.created",
            entity_type: "supplier",
            entity_id: &s.id,
            changes: Changes::new()
                .created("name", &s.name)
                .created("website", &s.website)
                .created("services", &s.services)
                .created("kind", &s.kind)
                .created("criticality", &s.criticality)
                .created("data_access", &view.data_access)
                .created("countries", &view.countries)
                .created("certifications", &view.certifications)
                .created("dpa_signed_at", &s.dpa_signed_at)
                .created("contract_end", &s.contract_end)
                .created("owner_id", &s.owner_id)
                .created("status", &s.status)
                .created("review_interval_months", &s.review_interval_months),
        },
        EventType::SupplierCreated,
        &view,
    )
    .await?;
    Ok(view)
}

/// One supplier (every member).
pub async fn get(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    supplier_id: &str,
) -> Result<SupplierView> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    view_one(db_conn, find(db_conn, org_id, supplier_id, false).await?).await
}

/// Deletes a supplier (admins) with its reviews and risk links; its assets stay, without a
/// supplier. Honours `If-Match`.
pub async fn delete(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    supplier_id: &str,
    if_match: Option<&IfMatch>,
) -> Result<()> {
    let txn = db::begin_write(db_conn).await?;
    authz::authorize(&txn, principal, org_id, Action::Administer).await?;
    let current = find(&txn, org_id, supplier_id, true).await?;
    crate::service::version::check(if_match, current.version)?;
    // SQLite has no foreign key from assets to suppliers (added by ALTER TABLE): unlink here.
    asset_row::Entity::update_many()
        .col_expr(asset_row::Column::SupplierId, Expr::value(None::<String>))
        .col_expr(
            asset_row::Column::Version,
            Expr::col(asset_row::Column::Version).add(1),
        )
        .col_expr(asset_row::Column::UpdatedAt, Expr::value(db::now()))
        .filter(asset_row::Column::OrganizationId.eq(org_id))
        .filter(asset_row::Column::SupplierId.eq(supplier_id))
        .exec(&txn)
        .await?;
    supplier::Entity::delete_by_id(supplier_id.to_owned())
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "supplier.deleted",
            entity_type: "supplier",
            entity_id: supplier_id,
            changes: Changes::new()
                .field("name", &Some(current.name.clone()), &None::<String>)
                .field("kind", &Some(current.kind), &None),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
