//! The risk register (docs/risks.md): risks rated on the organization's matrix, their assets,
//! treating controls and treatment, created from templates or from scratch, listed with filters.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, QueryTrait, Select,
    sea_query::LockType,
};

use crate::{
    catalog::risk_templates,
    domain::{
        principal::Principal,
        risk::{
            LevelBasis, RiskControlRole, RiskMatrix, RiskStatus, RiskTreatment, acceptance_valid,
        },
        role::Action,
        webhook::EventType,
    },
    error::{AppError, Result},
    service::{
        audit::{self, AuditRecord, Changes},
        authz, changes,
        page::{Page, PageRequest},
        suppliers::check_suppliers,
        version::{self, IfMatch},
    },
    store::{self, db},
};
use entity::{control, risk, risk_asset, risk_control, risk_supplier};

pub mod acceptance;
mod links;
pub mod matrix;
mod patch;
pub mod register;

pub use links::LinkedControl;
pub use patch::{RiskPatch, update};

/// The counter that numbers an organization's risks.
const RISK_REF_COUNTER: &str = "risk_ref";

/// A rating on the matrix: 1-based likelihood and impact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Rating {
    pub likelihood: i16,
    pub impact: i16,
}

/// A risk with its links and what its matrix says of its ratings.
#[derive(Debug, Clone)]
pub struct RiskView {
    pub risk: risk::Model,
    pub asset_ids: Vec<String>,
    pub supplier_ids: Vec<String>,
    pub controls: Vec<LinkedControl>,
    pub inherent_level_name: Option<String>,
    pub residual_level_name: Option<String>,
    pub above_appetite: bool,
    /// Whether its acceptance (if any) still holds today.
    pub acceptance_valid: bool,
}

fn view_of(matrix: &RiskMatrix, risk: risk::Model, links: &mut links::Links) -> RiskView {
    let name = |level| matrix.level_name(level).map(str::to_owned);
    RiskView {
        asset_ids: links.assets.remove(&risk.id).unwrap_or_default(),
        supplier_ids: links.suppliers.remove(&risk.id).unwrap_or_default(),
        controls: links.controls.remove(&risk.id).unwrap_or_default(),
        inherent_level_name: name(risk.inherent_level),
        residual_level_name: name(risk.residual_level),
        above_appetite: matrix.above_appetite(risk.residual_level),
        acceptance_valid: risk
            .acceptance_expires_on
            .is_some_and(|d| acceptance_valid(d, Utc::now().date_naive())),
        risk,
    }
}

/// Views of risks, their links loaded for all of them at once (two queries).
async fn views<C: ConnectionTrait>(
    conn: &C,
    matrix: &RiskMatrix,
    rows: Vec<risk::Model>,
) -> Result<Vec<RiskView>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut links = links::load(conn, links::Scope::Risks(&ids)).await?;
    Ok(rows
        .into_iter()
        .map(|r| view_of(matrix, r, &mut links))
        .collect())
}

async fn view_one<C: ConnectionTrait>(
    conn: &C,
    matrix: &RiskMatrix,
    model: risk::Model,
) -> Result<RiskView> {
    views(conn, matrix, vec![model])
        .await?
        .pop()
        .ok_or_else(|| AppError::internal("risk view missing"))
}

/// The organization's risk (404 otherwise), locked for the change of the transaction.
async fn find<C: ConnectionTrait>(conn: &C, org_id: &str, risk_id: &str) -> Result<risk::Model> {
    risk::Entity::find_by_id(risk_id.to_owned())
        .filter(risk::Column::OrganizationId.eq(org_id))
        .lock(LockType::NoKeyUpdate)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("risk"))
}

fn text(field: &str, value: &str, max: usize) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("must be 1 to {max} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Optional free text: blank is none; at most `max` characters.
fn optional_text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>> {
    match value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
        Some(v) if v.chars().count() > max => Err(AppError::invalid(
            field,
            format!("must be at most {max} characters"),
        )),
        other => Ok(other),
    }
}

/// The level of a rating on `matrix`; 422 naming `{field}.likelihood` or `{field}.impact`.
fn level_of(matrix: &RiskMatrix, field: &str, rating: Rating) -> Result<i16> {
    let size = |n: usize| i16::try_from(n).unwrap_or(i16::MAX);
    if !(1..=size(matrix.likelihood_levels.len())).contains(&rating.likelihood) {
        return Err(AppError::invalid(
            &format!("{field}.likelihood"),
            format!(
                "must be a likelihood level from 1 to {}",
                matrix.likelihood_levels.len()
            ),
        ));
    }
    matrix
        .level(rating.likelihood, rating.impact)
        .ok_or_else(|| {
            AppError::invalid(
                &format!("{field}.impact"),
                format!(
                    "must be an impact level from 1 to {}",
                    matrix.impact_levels.len()
                ),
            )
        })
}

/// A risk to register.
#[derive(Debug, Clone, Default)]
pub struct NewRisk {
    pub template: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub threat: Option<String>,
    pub vulnerability: Option<String>,
    pub asset_ids: Vec<String>,
    pub supplier_ids: Vec<String>,
    pub owner_id: Option<String>,
    pub inherent: Option<Rating>,
    pub residual: Option<Rating>,
    pub treatment: Option<RiskTreatment>,
    pub treatment_plan: Option<String>,
    pub treatment_due: Option<NaiveDate>,
    pub controls: Vec<(String, RiskControlRole)>,
    pub assessed_at: Option<NaiveDate>,
    pub review_due: Option<NaiveDate>,
    pub status: Option<RiskStatus>,
}

/// The organization's controls for a template's suggestions (framework + ref), as planned
/// treating controls (one query).
async fn suggested_controls<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    template: &risk_templates::RiskTemplate,
) -> Result<Vec<(String, RiskControlRole)>> {
    if template.suggested_controls.is_empty() {
        return Ok(Vec::new());
    }
    let mut any = Condition::any();
    for s in &template.suggested_controls {
        any = any.add(
            Condition::all()
                .add(control::Column::FrameworkKey.eq(s.framework.as_str()))
                .add(control::Column::Reference.eq(s.r#ref.as_str())),
        );
    }
    let ids: Vec<String> = control::Entity::find()
        .select_only()
        .column(control::Column::Id)
        .filter(control::Column::OrganizationId.eq(org_id))
        .filter(any)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(ids
        .into_iter()
        .map(|id| (id, RiskControlRole::Planned))
        .collect())
}

/// Registers a risk (editors, admins), numbered `R-<n>` by the organization's counter. From a
/// template, its wording fills what the request leaves out and its suggested controls the
/// organization has are linked as planned.
pub async fn create<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    org_id: &str,
    new: NewRisk,
) -> Result<RiskView> {
    authz::authorize(conn, principal, org_id, Action::ChangeRisks).await?;
    let template = match new.template.as_deref() {
        Some(key) => Some(
            risk_templates::find(key)
                .ok_or_else(|| AppError::invalid("template", "is not a known risk template"))?,
        ),
        None => None,
    };
    let from_template =
        |field: fn(&risk_templates::RiskTemplate) -> &String| template.map(|t| field(t).clone());
    let title = new
        .title
        .or_else(|| from_template(|t| &t.title))
        .ok_or_else(|| AppError::invalid("title", "is required (or a template)"))?;
    let title = text("title", &title, 500)?;
    let description = optional_text(
        "description",
        new.description
            .or_else(|| from_template(|t| &t.description)),
        10_000,
    )?;
    let threat = optional_text(
        "threat",
        new.threat.or_else(|| from_template(|t| &t.threat)),
        4000,
    )?;
    let vulnerability = optional_text(
        "vulnerability",
        new.vulnerability
            .or_else(|| from_template(|t| &t.vulnerability)),
        4000,
    )?;
    let treatment_plan = optional_text("treatment_plan", new.treatment_plan, 10_000)?;
    let matrix = matrix::current(conn, org_id).await?;
    let inherent = new
        .inherent
        .ok_or_else(|| AppError::invalid("inherent", "is required"))?;
    let inherent_level = level_of(&matrix, "inherent", inherent)?;
    let residual = new.residual.unwrap_or(inherent);
    let residual_level = level_of(&matrix, "residual", residual)?;
    let asset_ids = links::check_assets(conn, org_id, &new.asset_ids).await?;
    let supplier_ids = check_suppliers(conn, org_id, "supplier_ids", &new.supplier_ids).await?;
    links::check_owner(conn, org_id, new.owner_id.as_deref()).await?;
    let mut wanted = match template {
        Some(t) => suggested_controls(conn, org_id, t).await?,
        None => Vec::new(),
    };
    // The request's own roles win over the template's suggestions.
    wanted.extend(new.controls);
    let controls = links::check_controls(conn, org_id, &wanted).await?;
    let number = store::counters::next(conn, org_id, RISK_REF_COUNTER).await?;
    let now = db::now();
    let created = risk::ActiveModel {
        id: Set(db::new_id()),
        organization_id: Set(org_id.to_owned()),
        ref_number: Set(i32::try_from(number).map_err(AppError::internal)?),
        title: Set(title),
        description: Set(description),
        threat: Set(threat),
        vulnerability: Set(vulnerability),
        owner_id: Set(new.owner_id),
        template: Set(template.map(|t| t.key.clone())),
        inherent_likelihood: Set(inherent.likelihood),
        inherent_impact: Set(inherent.impact),
        inherent_level: Set(inherent_level),
        residual_likelihood: Set(residual.likelihood),
        residual_impact: Set(residual.impact),
        residual_level: Set(residual_level),
        treatment: Set(new.treatment.unwrap_or(RiskTreatment::Undecided)),
        treatment_plan: Set(treatment_plan),
        treatment_due: Set(new.treatment_due),
        assessed_at: Set(new.assessed_at),
        review_due: Set(new.review_due),
        status: Set(new.status.unwrap_or(RiskStatus::Open)),
        acceptance_justification: Set(None),
        acceptance_expires_on: Set(None),
        accepted_by: Set(None),
        accepted_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    links::set_assets(conn, &created, &asset_ids, false).await?;
    links::set_suppliers(conn, &created, &supplier_ids, false).await?;
    links::set_controls(conn, &created, &controls, false).await?;
    let mut links = links::Links::default();
    links.assets.insert(created.id.clone(), asset_ids);
    links.suppliers.insert(created.id.clone(), supplier_ids);
    links.controls.insert(created.id.clone(), controls);
    let view = view_of(&matrix, created, &mut links);
    let r = &view.risk;
    changes::record(
        conn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "risk.created",
            entity_type: "risk",
            entity_id: &r.id,
            changes: Changes::new()
                .created("ref", &crate::domain::risk::risk_ref(r.ref_number))
                .created("title", &r.title)
                .created("template", &r.template)
                .created("inherent", &inherent)
                .created("residual", &residual)
                .created("treatment", &r.treatment)
                .created("status", &r.status)
                .created("owner_id", &r.owner_id)
                .created("asset_ids", &view.asset_ids)
                .created("supplier_ids", &view.supplier_ids)
                .created("controls", &view.controls),
        },
        EventType::RiskCreated,
        &view,
    )
    .await?;
    Ok(view)
}

/// Filters of the risk list and registers.
#[derive(Debug, Clone, Default)]
pub struct RiskFilter {
    pub level: Option<i16>,
    pub level_basis: Option<LevelBasis>,
    pub above_appetite: Option<bool>,
    pub treatment: Option<RiskTreatment>,
    pub asset_id: Option<String>,
    pub supplier_id: Option<String>,
    pub control_id: Option<String>,
    pub owner_id: Option<String>,
    pub overdue: Option<bool>,
    pub status: Option<RiskStatus>,
    pub updated_since: Option<DateTime<Utc>>,
}

fn overdue_condition(today: NaiveDate) -> Condition {
    Condition::all()
        .add(risk::Column::Status.eq(RiskStatus::Open.as_str()))
        .add(
            // Spelled out with IS NOT NULL so that the negation holds for risks without dates.
            Condition::any()
                .add(
                    Condition::all()
                        .add(risk::Column::TreatmentDue.is_not_null())
                        .add(risk::Column::TreatmentDue.lt(today)),
                )
                .add(
                    Condition::all()
                        .add(risk::Column::ReviewDue.is_not_null())
                        .add(risk::Column::ReviewDue.lt(today)),
                ),
        )
}

/// The risks matching `filter` (the organization scope is the caller's).
fn filtered(org_id: &str, matrix: &RiskMatrix, filter: &RiskFilter) -> Select<risk::Entity> {
    let mut query = risk::Entity::find();
    let residual = filter.level_basis != Some(LevelBasis::Inherent);
    if let Some(level) = filter.level {
        query = query.filter(if residual {
            risk::Column::ResidualLevel.eq(level)
        } else {
            risk::Column::InherentLevel.eq(level)
        });
    }
    match filter.above_appetite {
        Some(true) => query = query.filter(risk::Column::ResidualLevel.gt(matrix.appetite)),
        Some(false) => query = query.filter(risk::Column::ResidualLevel.lte(matrix.appetite)),
        None => {}
    }
    if let Some(treatment) = filter.treatment {
        query = query.filter(risk::Column::Treatment.eq(treatment.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(risk::Column::Status.eq(status.as_str()));
    }
    if let Some(owner) = &filter.owner_id {
        query = query.filter(risk::Column::OwnerId.eq(owner.as_str()));
    }
    if let Some(asset_id) = &filter.asset_id {
        let linked = risk_asset::Entity::find()
            .select_only()
            .column(risk_asset::Column::RiskId)
            .filter(risk_asset::Column::OrganizationId.eq(org_id))
            .filter(risk_asset::Column::AssetId.eq(asset_id.as_str()))
            .into_query();
        query = query.filter(risk::Column::Id.in_subquery(linked));
    }
    if let Some(supplier_id) = &filter.supplier_id {
        let linked = risk_supplier::Entity::find()
            .select_only()
            .column(risk_supplier::Column::RiskId)
            .filter(risk_supplier::Column::OrganizationId.eq(org_id))
            .filter(risk_supplier::Column::SupplierId.eq(supplier_id.as_str()))
            .into_query();
        query = query.filter(risk::Column::Id.in_subquery(linked));
    }
    if let Some(control_id) = &filter.control_id {
        let linked = risk_control::Entity::find()
            .select_only()
            .column(risk_control::Column::RiskId)
            .filter(risk_control::Column::OrganizationId.eq(org_id))
            .filter(risk_control::Column::ControlId.eq(control_id.as_str()))
            .into_query();
        query = query.filter(risk::Column::Id.in_subquery(linked));
    }
    let today = Utc::now().date_naive();
    match filter.overdue {
        Some(true) => query = query.filter(overdue_condition(today)),
        Some(false) => query = query.filter(overdue_condition(today).not()),
        None => {}
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(risk::Column::UpdatedAt.gte(since));
    }
    query
}

/// Risks, oldest first, filtered (five queries whatever the page size).
pub async fn list(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    filter: &RiskFilter,
    page: &PageRequest,
) -> Result<Page<RiskView>> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    let matrix = matrix::current(db_conn, org_id).await?;
    let rows = crate::service::page::by_id(
        db_conn,
        filtered(org_id, &matrix, filter),
        Some((risk::Column::OrganizationId, org_id)),
        risk::Column::Id,
        page,
        |r| r.id.clone(),
    )
    .await?;
    Ok(Page {
        items: views(db_conn, &matrix, rows.items).await?,
        next_after: rows.next_after,
    })
}

/// One risk.
pub async fn get(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    risk_id: &str,
) -> Result<RiskView> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    let matrix = matrix::current(db_conn, org_id).await?;
    let model = find(db_conn, org_id, risk_id).await?;
    view_one(db_conn, &matrix, model).await
}

/// Deletes a risk (admins); its number is never reused and the audit trail keeps its record.
pub async fn delete(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    risk_id: &str,
    if_match: Option<&IfMatch>,
) -> Result<()> {
    let txn = db::begin_write(db_conn).await?;
    authz::authorize(&txn, principal, org_id, Action::Administer).await?;
    let current = find(&txn, org_id, risk_id).await?;
    version::check(if_match, current.version)?;
    risk::Entity::delete_by_id(risk_id.to_owned())
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "risk.deleted",
            entity_type: "risk",
            entity_id: risk_id,
            changes: Changes::new()
                .field(
                    "ref",
                    &Some(crate::domain::risk::risk_ref(current.ref_number)),
                    &None,
                )
                .field("title", &Some(current.title.clone()), &None::<String>),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
