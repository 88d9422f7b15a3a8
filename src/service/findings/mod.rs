//! Findings: audit findings with linked controls, the status machine, ticket references
//! (unique per organization) and the audit trail.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait,
    sea_query::{Expr, LockType},
};

use crate::{
    domain::{
        finding::{FindingSource, FindingStatus, FindingType},
        principal::Principal,
        role::Action,
        webhook::EventType,
    },
    error::{AppError, Result, ResultExt},
    service::{
        audit::{self, AuditRecord, Changes},
        authz, changes,
        page::{Page, PageRequest},
        version::{self, IfMatch},
    },
    store::db,
};
use entity::{finding, finding_control};

mod patch;
use patch::{Applied, Checked};

/// A finding with the controls it concerns.
#[derive(Debug, Clone)]
pub struct FindingView {
    pub finding: finding::Model,
    pub control_ids: Vec<String>,
}

/// The ticket a finding is tracked in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExternalRef {
    pub system: String,
    pub key: String,
    pub url: Option<String>,
    pub status: Option<String>,
}

fn validate_external_ref(r: ExternalRef) -> Result<ExternalRef> {
    let system = r.system.trim().to_owned();
    let key = r.key.trim().to_owned();
    if system.is_empty() || system.chars().count() > 64 {
        return Err(AppError::invalid(
            "external_ref.system",
            "must be 1 to 64 characters",
        ));
    }
    if key.is_empty() || key.chars().count() > 255 {
        return Err(AppError::invalid(
            "external_ref.key",
            "must be 1 to 255 characters",
        ));
    }
    if let Some(url) = &r.url {
        let parsed = url::Url::parse(url)
            .map_err(|_| AppError::invalid("external_ref.url", "must be an absolute URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(AppError::invalid(
                "external_ref.url",
                "must be an http or https URL",
            ));
        }
    }
    if r.status.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(AppError::invalid(
            "external_ref.status",
            "must be at most 100 characters",
        ));
    }
    Ok(ExternalRef {
        system,
        key,
        url: r.url,
        status: r.status,
    })
}

fn external_ref_of(f: &finding::Model) -> Option<ExternalRef> {
    Some(ExternalRef {
        system: f.external_system.clone()?,
        key: f.external_key.clone()?,
        url: f.external_url.clone(),
        status: f.external_status.clone(),
    })
}

/// What the unique index on a finding's ticket (system and key) stands for.
const TICKET_TAKEN: (&str, &str) = (
    "external-ref-taken",
    "another finding of this organization already has this ticket (system and key)",
);

fn non_blank(field: &str, value: &str, max: usize) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("must be 1 to {max} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

async fn check_controls<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    ids: &[String],
) -> Result<Vec<String>> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(ids);
    }
    let found = entity::control::Entity::find()
        .select_only()
        .column(entity::control::Column::Id)
        .filter(entity::control::Column::OrganizationId.eq(org_id))
        .filter(entity::control::Column::Id.is_in(ids.clone()))
        .into_tuple::<String>()
        .all(conn)
        .await?;
    if let Some(missing) = ids.iter().find(|id| !found.contains(id)) {
        return Err(AppError::invalid(
            "control_ids",
            format!("`{missing}` is not a control of this organization"),
        ));
    }
    Ok(ids)
}

/// Replaces a finding's control links.
async fn set_controls<C: ConnectionTrait>(
    conn: &C,
    finding: &finding::Model,
    ids: &[String],
) -> Result<()> {
    finding_control::Entity::delete_many()
        .filter(finding_control::Column::FindingId.eq(finding.id.as_str()))
        .exec(conn)
        .await?;
    link_controls(conn, finding, ids).await
}

/// Links a finding that has no links yet to controls (checked by [`check_controls`]).
async fn link_controls<C: ConnectionTrait>(
    conn: &C,
    finding: &finding::Model,
    ids: &[String],
) -> Result<()> {
    if !ids.is_empty() {
        finding_control::Entity::insert_many(ids.iter().map(|control_id| {
            finding_control::ActiveModel {
                finding_id: Set(finding.id.clone()),
                control_id: Set(control_id.clone()),
                organization_id: Set(finding.organization_id.clone()),
                finding_status: Set(finding.status),
                finding_type: Set(finding.finding_type),
            }
        }))
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

/// Copies the finding's status and type onto its control links when they changed: the
/// per-control aggregates read them there (see `service::stats`).
async fn sync_link_facts<C: ConnectionTrait>(
    conn: &C,
    before: &finding::Model,
    after: &finding::Model,
) -> Result<()> {
    if before.status == after.status && before.finding_type == after.finding_type {
        return Ok(());
    }
    finding_control::Entity::update_many()
        .col_expr(
            finding_control::Column::FindingStatus,
            Expr::value(after.status),
        )
        .col_expr(
            finding_control::Column::FindingType,
            Expr::value(after.finding_type),
        )
        .filter(finding_control::Column::FindingId.eq(after.id.as_str()))
        .exec(conn)
        .await?;
    Ok(())
}

async fn views<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<finding::Model>,
) -> Result<Vec<FindingView>> {
    let ids: Vec<String> = rows.iter().map(|f| f.id.clone()).collect();
    let mut links: HashMap<String, Vec<String>> = HashMap::new();
    if !ids.is_empty() {
        // Only the two ids: the link rows also carry the finding's facts, not needed here.
        let rows: Vec<(String, String)> = finding_control::Entity::find()
            .select_only()
            .column(finding_control::Column::FindingId)
            .column(finding_control::Column::ControlId)
            .filter(finding_control::Column::FindingId.is_in(ids))
            .order_by_asc(finding_control::Column::ControlId)
            .into_tuple()
            .all(conn)
            .await?;
        for (finding_id, control_id) in rows {
            links.entry(finding_id).or_default().push(control_id);
        }
    }
    Ok(rows
        .into_iter()
        .map(|finding| FindingView {
            control_ids: links.remove(&finding.id).unwrap_or_default(),
            finding,
        })
        .collect())
}

async fn view_one<C: ConnectionTrait>(conn: &C, model: finding::Model) -> Result<FindingView> {
    views(conn, vec![model])
        .await?
        .pop()
        .ok_or_else(|| AppError::internal("finding view missing"))
}

/// The organization's finding (404 otherwise).
/// Changes read the row with this, inside their transaction: on PostgreSQL it stays locked
/// until the transaction ends, so concurrent changes take turns (and `If-Match` holds).
async fn find<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    finding_id: &str,
) -> Result<finding::Model> {
    finding::Entity::find_by_id(finding_id.to_owned())
        .filter(finding::Column::OrganizationId.eq(org_id))
        .lock(LockType::NoKeyUpdate)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("finding"))
}

/// A finding to raise.
#[derive(Debug, Clone)]
pub struct NewFinding {
    pub title: String,
    pub description: Option<String>,
    pub finding_type: FindingType,
    pub source: FindingSource,
    pub control_ids: Vec<String>,
    pub owner: Option<String>,
    pub due_date: Option<NaiveDate>,
    pub root_cause: Option<String>,
    pub corrective_action: Option<String>,
    pub external_ref: Option<ExternalRef>,
}

/// Raises a finding, `open` (auditors, editors, admins).
pub async fn create<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    org_id: &str,
    new: NewFinding,
) -> Result<FindingView> {
    authz::authorize(conn, principal, org_id, Action::ChangeFindings).await?;
    let title = non_blank("title", &new.title, 500)?;
    let control_ids = check_controls(conn, org_id, &new.control_ids).await?;
    let external = new.external_ref.map(validate_external_ref).transpose()?;
    let now = db::now();
    let created = finding::ActiveModel {
        id: Set(db::new_id()),
        organization_id: Set(org_id.to_owned()),
        title: Set(title),
        description: Set(new.description),
        finding_type: Set(new.finding_type),
        source: Set(new.source),
        status: Set(FindingStatus::Open),
        owner: Set(new.owner),
        due_date: Set(new.due_date),
        root_cause: Set(new.root_cause),
        corrective_action: Set(new.corrective_action),
        resolution_notes: Set(None),
        risk_acceptance: Set(None),
        external_system: Set(external.as_ref().map(|r| r.system.clone())),
        external_key: Set(external.as_ref().map(|r| r.key.clone())),
        external_url: Set(external.as_ref().and_then(|r| r.url.clone())),
        external_status: Set(external.as_ref().and_then(|r| r.status.clone())),
        closed_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await
    .on_unique(TICKET_TAKEN.0, TICKET_TAKEN.1)?;
    link_controls(conn, &created, &control_ids).await?;
    let view = FindingView {
        finding: created,
        control_ids,
    };
    let created = &view.finding;
    changes::record(
        conn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "finding.created",
            entity_type: "finding",
            entity_id: &created.id,
            changes: Changes::new()
                .created("title", &created.title)
                .created("type", &created.finding_type)
                .created("source", &created.source)
                .created("status", &created.status)
                .created("control_ids", &view.control_ids)
                .created("external_ref", &external),
        },
        EventType::FindingCreated,
        &view,
    )
    .await?;
    Ok(view)
}

/// Filters of the finding list.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    pub status: Option<FindingStatus>,
    pub finding_type: Option<FindingType>,
    pub control_id: Option<String>,
    pub external_system: Option<String>,
    pub external_key: Option<String>,
    pub overdue: Option<bool>,
    pub updated_since: Option<DateTime<Utc>>,
}

fn overdue_condition(today: NaiveDate) -> Condition {
    Condition::all()
        .add(finding::Column::DueDate.is_not_null())
        .add(finding::Column::DueDate.lt(today))
        .add(finding::Column::Status.is_in([
            FindingStatus::Open.as_str(),
            FindingStatus::InProgress.as_str(),
        ]))
}

/// Findings, oldest first, filtered (three queries).
pub async fn list(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    filter: &FindingFilter,
    page: &PageRequest,
) -> Result<Page<FindingView>> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    let mut query = finding::Entity::find();
    if let Some(status) = filter.status {
        query = query.filter(finding::Column::Status.eq(status.as_str()));
    }
    if let Some(t) = filter.finding_type {
        query = query.filter(finding::Column::FindingType.eq(t.as_str()));
    }
    if let Some(control_id) = &filter.control_id {
        let linked = finding_control::Entity::find()
            .select_only()
            .column(finding_control::Column::FindingId)
            .filter(finding_control::Column::ControlId.eq(control_id.as_str()))
            .filter(finding_control::Column::OrganizationId.eq(org_id))
            .into_query();
        query = query.filter(finding::Column::Id.in_subquery(linked));
    }
    if let Some(system) = &filter.external_system {
        query = query.filter(finding::Column::ExternalSystem.eq(system.trim()));
    }
    if let Some(key) = &filter.external_key {
        query = query.filter(finding::Column::ExternalKey.eq(key.trim()));
    }
    let today = Utc::now().date_naive();
    match filter.overdue {
        Some(true) => query = query.filter(overdue_condition(today)),
        Some(false) => query = query.filter(overdue_condition(today).not()),
        None => {}
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(finding::Column::UpdatedAt.gte(since));
    }
    let rows = crate::service::page::by_id(
        db_conn,
        query,
        Some((finding::Column::OrganizationId, org_id)),
        finding::Column::Id,
        page,
        |f| f.id.clone(),
    )
    .await?;
    let next_after = rows.next_after;
    Ok(Page {
        items: views(db_conn, rows.items).await?,
        next_after,
    })
}

/// One finding.
pub async fn get(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    finding_id: &str,
) -> Result<FindingView> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    view_one(db_conn, find(db_conn, org_id, finding_id).await?).await
}

/// A change to a finding; `Some(None)` clears a nullable field.
#[derive(Debug, Clone, Default)]
pub struct FindingPatch {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub finding_type: Option<FindingType>,
    pub source: Option<FindingSource>,
    pub status: Option<FindingStatus>,
    pub control_ids: Option<Vec<String>>,
    pub owner: Option<Option<String>>,
    pub due_date: Option<Option<NaiveDate>>,
    pub root_cause: Option<Option<String>>,
    pub corrective_action: Option<Option<String>>,
    pub resolution_notes: Option<Option<String>>,
    pub risk_acceptance: Option<Option<String>>,
    pub external_ref: Option<Option<ExternalRef>>,
}

/// Updates a finding, its status included, under the status machine and its role rules;
/// honours `If-Match`. A refused transition is 409 naming the allowed ones.
pub async fn update(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    finding_id: &str,
    if_match: Option<&IfMatch>,
    patch: FindingPatch,
) -> Result<FindingView> {
    let txn = db::begin_write(db_conn).await?;
    let role = authz::authorize(&txn, principal, org_id, Action::ChangeFindings).await?;
    let current = find(&txn, org_id, finding_id).await?;
    version::check(if_match, current.version)?;
    let checked = Checked::new(&current, &patch, role)?;
    let (from, status) = (checked.from, checked.status);
    let control_ids = match &patch.control_ids {
        Some(ids) => Some(check_controls(&txn, org_id, ids).await?),
        None => None,
    };
    let old_control_ids = match &control_ids {
        Some(_) => Some(view_one(&txn, current.clone()).await?.control_ids),
        None => None,
    };
    let now = db::now();
    let controls = old_control_ids.as_ref().zip(control_ids.as_ref());
    let Applied { active, changes } = checked.apply(&current, patch, controls, now)?;
    if changes.is_empty() {
        txn.commit().await?;
        return view_one(db_conn, current).await;
    }
    let updated = version::save_next(&txn, active, current.version, now)
        .await
        .on_unique(TICKET_TAKEN.0, TICKET_TAKEN.1)?;
    match &control_ids {
        Some(ids) => set_controls(&txn, &updated, ids).await?,
        None => sync_link_facts(&txn, &current, &updated).await?,
    }
    let view = view_one(&txn, updated).await?;
    let (action, event) = if status != from {
        ("finding.status_changed", EventType::FindingStatusChanged)
    } else {
        ("finding.updated", EventType::FindingUpdated)
    };
    changes::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action,
            entity_type: "finding",
            entity_id: finding_id,
            changes,
        },
        event,
        &view,
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

/// Deletes a finding (admins); the audit trail keeps its record.
pub async fn delete(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    finding_id: &str,
    if_match: Option<&IfMatch>,
) -> Result<()> {
    let txn = db::begin_write(db_conn).await?;
    authz::authorize(&txn, principal, org_id, Action::Administer).await?;
    let current = find(&txn, org_id, finding_id).await?;
    version::check(if_match, current.version)?;
    finding::Entity::delete_by_id(finding_id.to_owned())
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "finding.deleted",
            entity_type: "finding",
            entity_id: finding_id,
            changes: Changes::new()
                .field("title", &Some(current.title.clone()), &None::<String>)
                .field("external_ref", &external_ref_of(&current), &None),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
