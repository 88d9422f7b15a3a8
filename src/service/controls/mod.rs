//! Controls and the Statement of Applicability: adoption, custom controls, filtered lists,
//! updates with the applicability rules, and the SoA itself.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    QueryFilter, QueryTrait, TryIntoModel,
    sea_query::{Expr, ExprTrait, Func, Query},
};

use crate::{
    cache::Cache,
    domain::{
        control::{ControlKind, ControlStatus, check_applicability},
        principal::Principal,
        role::Action,
        webhook::EventType,
    },
    error::{AppError, Result, ResultExt},
    service::{
        audit::{self, AuditRecord, Changes},
        authz, changes,
        page::{Page, PageRequest},
        stats::{self, OrgStats},
        version::{self, IfMatch, Versioned},
    },
    store::db,
    store::{self, stats::ControlStats},
};
use entity::{control, control_evidence, framework, requirement};

mod adoption;
pub mod risks;
use adoption::ensure_adopted;
pub use adoption::{Adoption, adopt_in, get_adopted, list_adopted};

/// A control with what is linked to it and its score.
#[derive(Debug, Clone)]
pub struct ControlView {
    pub control: control::Model,
    pub stats: ControlStats,
    pub score: Option<f64>,
    /// The risks (open and closed) it treats, by risk id.
    pub risks: Vec<risks::LinkedRisk>,
}

/// A control with its stats and score.
fn view_of(control: control::Model, stats: ControlStats) -> Result<ControlView> {
    let score = stats::score(control.status, control.applicable, &stats);
    Ok(ControlView {
        control,
        stats,
        score,
        risks: Vec::new(),
    })
}

/// Attaches the organization's cached stats and the scores to controls.
pub fn views_from(controls: Vec<control::Model>, stats: &OrgStats) -> Result<Vec<ControlView>> {
    controls
        .into_iter()
        .map(|control| {
            let stats = stats
                .by_control
                .get(&control.id)
                .cloned()
                .unwrap_or_default();
            view_of(control, stats)
        })
        .collect()
}

// ---------------------------------------------------------------- adoption

// ---------------------------------------------------------------- controls

/// A custom control to add to an adopted framework.
#[derive(Debug, Clone)]
pub struct NewControl {
    pub framework: String,
    pub reference: String,
    pub title: String,
    pub group: Option<String>,
    pub description: Option<String>,
    pub status: ControlStatus,
    pub owner: Option<String>,
    pub due_date: Option<NaiveDate>,
    pub notes: Option<String>,
}

fn non_blank(field: &str, value: &str, max: usize) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(AppError::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Adds a custom control to an adopted framework (editors, admins); 409 when the ref exists.
pub async fn create_custom<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    org_id: &str,
    new: NewControl,
) -> Result<ControlView> {
    authz::authorize(conn, principal, org_id, Action::ChangeControls).await?;
    let reference = non_blank("ref", &new.reference, 40)?;
    let title = non_blank("title", &new.title, 500)?;
    ensure_adopted(conn, org_id, &new.framework)
        .await
        .map_err(|_| AppError::invalid("framework", "is not adopted by this organization"))?;
    let now = db::now();
    let created = control::ActiveModel {
        id: Set(db::new_id()),
        organization_id: Set(org_id.to_owned()),
        framework_key: Set(new.framework.clone()),
        requirement_id: Set(None),
        reference: Set(reference),
        title: Set(title),
        group_key: Set(new
            .group
            .map(|g| g.trim().to_owned())
            .filter(|g| !g.is_empty())
            .unwrap_or_else(|| "custom".to_owned())),
        kind: Set(ControlKind::Control),
        custom: Set(true),
        description: Set(new.description),
        applicable: Set(true),
        justification: Set(None),
        status: Set(new.status),
        owner: Set(new.owner),
        due_date: Set(new.due_date),
        notes: Set(new.notes),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await
    .on_unique(
        "control-exists",
        "a control with this ref already exists in this framework",
    )?;
    audit::record(
        conn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "control.created",
            entity_type: "control",
            entity_id: &created.id,
            changes: Changes::new()
                .created("framework", &created.framework_key)
                .created("ref", &created.reference)
                .created("title", &created.title)
                .created("status", &created.status),
        },
    )
    .await?;
    Ok(ControlView {
        score: stats::score(new.status, true, &ControlStats::default()),
        control: created,
        stats: ControlStats::default(),
        risks: Vec::new(),
    })
}

/// Filters of the control list (see docs/controls.md, plus `updated_since`).
#[derive(Debug, Clone, Default)]
pub struct ControlFilter {
    pub framework: Option<String>,
    pub status: Option<ControlStatus>,
    pub applicable: Option<bool>,
    pub group: Option<String>,
    pub kind: Option<ControlKind>,
    pub owner: Option<String>,
    pub q: Option<String>,
    pub has_valid_evidence: Option<bool>,
    pub updated_since: Option<DateTime<Utc>>,
}

/// A page of controls, oldest first, filtered, for a caller authorized at `version` (see
/// [`authz::readable_version`]), and until when it stays true (the next evidence expiry, at most the
/// stats' maximum age). Whatever the page size: one query for the page, two more when the
/// organization's stats are not cached.
pub async fn list_at(
    db_conn: &DatabaseConnection,
    cache: &Cache,
    org_id: &str,
    version: i64,
    filter: &ControlFilter,
    page: &PageRequest,
) -> Result<(Page<ControlView>, DateTime<Utc>)> {
    let mut query = control::Entity::find();
    if let Some(framework) = &filter.framework {
        query = query.filter(control::Column::FrameworkKey.eq(framework.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(control::Column::Status.eq(status.as_str()));
    }
    if let Some(applicable) = filter.applicable {
        query = query.filter(control::Column::Applicable.eq(applicable));
    }
    if let Some(group) = &filter.group {
        query = query.filter(control::Column::GroupKey.eq(group.as_str()));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(control::Column::Kind.eq(kind.as_str()));
    }
    if let Some(owner) = &filter.owner {
        query = query.filter(control::Column::Owner.eq(owner.as_str()));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = format!("%{}%", q.to_lowercase().replace(['%', '_'], ""));
        query = query.filter(
            Condition::any()
                .add(
                    Expr::expr(Func::lower(Expr::col(control::Column::Title)))
                        .like(pattern.clone()),
                )
                .add(
                    Expr::expr(Func::lower(Expr::col(control::Column::Reference)))
                        .like(pattern.clone()),
                )
                .add(Expr::expr(Func::lower(Expr::col(control::Column::Notes))).like(pattern)),
        );
    }
    if let Some(wanted) = filter.has_valid_evidence {
        let now = db::now();
        let valid = Query::select()
            .column(control_evidence::Column::ControlId)
            .from(control_evidence::Entity)
            .and_where(control_evidence::Column::OrganizationId.eq(org_id))
            .and_where(control_evidence::Column::EvidenceArchivedAt.is_null())
            .and_where(control_evidence::Column::EvidenceReviewStatus.eq("accepted"))
            .cond_where(
                Condition::any()
                    .add(control_evidence::Column::EvidenceValidUntil.is_null())
                    .add(control_evidence::Column::EvidenceValidUntil.gt(now)),
            )
            .to_owned();
        query = if wanted {
            query.filter(control::Column::Id.in_subquery(valid))
        } else {
            query.filter(control::Column::Id.not_in_subquery(valid))
        };
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(control::Column::UpdatedAt.gte(since));
    }
    let rows = crate::service::page::by_id(
        db_conn,
        query,
        Some((control::Column::OrganizationId, org_id)),
        control::Column::Id,
        page,
        |c| c.id.clone(),
    )
    .await?;
    let stats = stats::org_stats(db_conn, cache, org_id, version).await?;
    let mut items = views_from(rows.items, &stats)?;
    risks::attach(db_conn, &mut items).await?;
    let page = Page {
        items,
        next_after: rows.next_after,
    };
    Ok((page, stats.fresh_until))
}

/// Finds a control of the organization (404 otherwise).
pub async fn find<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    control_id: &str,
) -> Result<control::Model> {
    control::Entity::find_by_id(control_id.to_owned())
        .filter(control::Column::OrganizationId.eq(org_id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("control"))
}

/// One control.
pub async fn get(
    db_conn: &DatabaseConnection,
    cache: &Cache,
    principal: &Principal,
    org_id: &str,
    control_id: &str,
) -> Result<ControlView> {
    let (_, version) = authz::authorize_versioned(db_conn, principal, org_id, Action::Read).await?;
    let model = find(db_conn, org_id, control_id).await?;
    let stats = stats::org_stats(db_conn, cache, org_id, version).await?;
    let mut views = views_from(vec![model], &stats)?;
    risks::attach(db_conn, &mut views).await?;
    views
        .pop()
        .ok_or_else(|| AppError::internal("control view missing"))
}

/// A change to a control; `None` leaves a field, `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default)]
pub struct ControlPatch {
    pub status: Option<ControlStatus>,
    pub applicable: Option<bool>,
    pub justification: Option<Option<String>>,
    pub owner: Option<Option<String>>,
    pub due_date: Option<Option<NaiveDate>>,
    pub notes: Option<Option<String>>,
}

fn trimmed(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Updates a control (editors, admins) under the applicability rules; honours `If-Match`.
pub async fn update(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    control_id: &str,
    if_match: Option<&IfMatch>,
    patch: ControlPatch,
) -> Result<ControlView> {
    let txn = db::begin_write(db_conn).await?;
    authz::authorize(&txn, principal, org_id, Action::ChangeControls).await?;
    // The control and its stats in one statement (a change to its fields leaves them as they are).
    let (current, stats, linked) =
        store::stats::control_with_stats(&txn, org_id, control_id, db::now())
            .await?
            .ok_or(AppError::NotFound("control"))?;
    version::check(if_match, current.version)?;

    let status = patch.status.unwrap_or(current.status);
    let applicable = patch.applicable.unwrap_or(current.applicable);
    let justification = match patch.justification {
        Some(j) => trimmed(j),
        None => current.justification.clone(),
    };
    let owner = match patch.owner {
        Some(o) => trimmed(o),
        None => current.owner.clone(),
    };
    if owner.as_ref().is_some_and(|o| o.chars().count() > 320) {
        return Err(AppError::invalid("owner", "must be at most 320 characters"));
    }
    let due_date = patch.due_date.unwrap_or(current.due_date);
    let notes = match patch.notes {
        Some(n) => trimmed(n),
        None => current.notes.clone(),
    };
    check_applicability(current.kind, applicable, justification.as_deref())
        .map_err(|(field, message)| AppError::invalid(field, message))?;
    if current.applicable && !applicable {
        risks::refuse_if_treating(&txn, control_id).await?;
    }

    let mut changes = Changes::new();
    changes.track("status", &current.status, &status);
    changes.track("applicable", &current.applicable, &applicable);
    changes.track("justification", &current.justification, &justification);
    changes.track("owner", &current.owner, &owner);
    changes.track("due_date", &current.due_date, &due_date);
    changes.track("notes", &current.notes, &notes);
    let linked = risks::linked(linked);
    if changes.is_empty() {
        txn.commit().await?;
        let mut view = view_of(current, stats)?;
        view.risks = linked;
        return Ok(view);
    }
    let mut active = current.clone().into_active_model();
    active.status = Set(status);
    active.applicable = Set(applicable);
    active.justification = Set(justification);
    active.owner = Set(owner);
    active.due_date = Set(due_date);
    active.notes = Set(notes);
    active.bump(current.version, db::now());
    // The row as it will be stored; its update is sent with the audit event's insert.
    let update = control::Entity::update_many()
        .set(active.clone())
        .filter(control::Column::Id.eq(control_id))
        .filter(control::Column::OrganizationId.eq(org_id))
        .filter(control::Column::Version.eq(current.version))
        .into_query();
    let mut view = view_of(active.try_into_model()?, stats)?;
    view.risks = linked;
    changes::update_and_record(
        &txn,
        update,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "control.updated",
            entity_type: "control",
            entity_id: control_id,
            changes,
        },
        EventType::ControlUpdated,
        &view,
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

/// The Statement of Applicability of an adopted framework: every control in the standard's
/// order (custom controls last), with its stats. Four queries.
pub async fn statement_of_applicability(
    db_conn: &DatabaseConnection,
    cache: &Cache,
    principal: &Principal,
    org_id: &str,
    key: &str,
) -> Result<(framework::Model, Vec<ControlView>)> {
    let (_, version) = authz::authorize_versioned(db_conn, principal, org_id, Action::Read).await?;
    let framework = framework::Entity::find_by_id(key.to_owned())
        .one(db_conn)
        .await?
        .ok_or(AppError::NotFound("framework"))?;
    ensure_adopted(db_conn, org_id, key).await?;
    let controls = ordered_controls(db_conn, org_id, key).await?;
    let stats = stats::org_stats(db_conn, cache, org_id, version).await?;
    let mut views = views_from(controls, &stats)?;
    risks::attach(db_conn, &mut views).await?;
    Ok((framework, views))
}

/// An adopted framework's controls in the standard's order, custom controls last (one query).
pub async fn ordered_controls<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    key: &str,
) -> Result<Vec<control::Model>> {
    let rows: Vec<(control::Model, Option<requirement::Model>)> = control::Entity::find()
        .filter(control::Column::OrganizationId.eq(org_id))
        .filter(control::Column::FrameworkKey.eq(key))
        .find_also_related(requirement::Entity)
        .all(conn)
        .await?;
    let mut rows: Vec<(i64, String, control::Model)> = rows
        .into_iter()
        .map(|(c, r)| {
            (
                r.map_or(i64::MAX, |r| i64::from(r.position)),
                c.id.clone(),
                c,
            )
        })
        .collect();
    rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    Ok(rows.into_iter().map(|(_, _, c)| c).collect())
}
