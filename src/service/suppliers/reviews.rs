//! Security reviews of a supplier (docs/suppliers.md): planned, in progress, completed with a
//! decision by an auditor or admin who does not own the supplier.

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, sea_query::LockType,
};

use crate::{
    domain::{
        principal::Principal,
        role::{Action, Role},
        supplier::{self as rules, ReviewDecision, SupplierReviewStatus},
        webhook::EventType,
    },
    error::{AppError, Result},
    service::{
        audit::{self, AuditRecord, Changes},
        authz, changes,
        page::{Page, PageRequest},
        version::{self, IfMatch},
    },
    store::db,
};
use entity::{membership, supplier, supplier_review};

use super::{find, from_json, missing_evidence, to_json};

/// A review with its evidence.
#[derive(Debug, Clone)]
pub struct ReviewView {
    pub review: supplier_review::Model,
    /// Evidence ids, sorted.
    pub evidence_ids: Vec<String>,
}

fn view(review: supplier_review::Model) -> Result<ReviewView> {
    Ok(ReviewView {
        evidence_ids: from_json(&review.evidence_ids)?,
        review,
    })
}

/// A review to plan (or record).
#[derive(Debug, Clone)]
pub struct NewReview {
    pub due: NaiveDate,
    pub status: SupplierReviewStatus,
    pub decision: Option<ReviewDecision>,
    pub conditions: Option<String>,
    pub reviewer_id: Option<String>,
    pub evidence_ids: Vec<String>,
}

/// A change to a review; `None` leaves a field, `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default)]
pub struct ReviewPatch {
    pub due: Option<NaiveDate>,
    pub status: Option<SupplierReviewStatus>,
    pub decision: Option<Option<ReviewDecision>>,
    pub conditions: Option<Option<String>>,
    pub reviewer_id: Option<Option<String>>,
    /// Replaces the set.
    pub evidence_ids: Option<Vec<String>>,
}

/// The ids de-duplicated and sorted when each is evidence of the organization (404 naming
/// `evidence_ids` otherwise).
async fn evidence_ids<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    ids: &[String],
) -> Result<Vec<String>> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    if let Some(missing) = missing_evidence(conn, org_id, &refs).await?.first() {
        return Err(AppError::not_found_field(
            "evidence_ids",
            format!("`{missing}` is not evidence of this organization"),
        ));
    }
    Ok(ids)
}

/// A reviewer must be an auditor or admin of the organization (404 when not a member, 422
/// otherwise) and not the supplier's owner (422).
async fn check_reviewer<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    owner_id: Option<&str>,
    reviewer_id: &str,
) -> Result<()> {
    let member = membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(org_id))
        .filter(membership::Column::UserId.eq(reviewer_id))
        .one(conn)
        .await?
        .ok_or_else(|| {
            AppError::not_found_field(
                "reviewer_id",
                format!("`{reviewer_id}` is not a member of this organization"),
            )
        })?;
    if !matches!(member.role, Role::Auditor | Role::Admin) {
        return Err(AppError::invalid(
            "reviewer_id",
            "must be an auditor or admin of the organization",
        ));
    }
    if owner_id == Some(reviewer_id) {
        return Err(AppError::invalid(
            "reviewer_id",
            "must not be the supplier's owner",
        ));
    }
    Ok(())
}

/// The checks of a review reaching `completed`: its decision and conditions, a reviewer, and
/// the caller being that reviewer or an admin (403).
fn check_completing(
    principal: &Principal,
    role: Role,
    decision: Option<ReviewDecision>,
    conditions: Option<&str>,
    reviewer_id: Option<&str>,
) -> Result<()> {
    rules::check_completion(decision, conditions)
        .map_err(|(field, message)| AppError::invalid(field, message))?;
    let Some(reviewer) = reviewer_id else {
        return Err(AppError::invalid(
            "reviewer_id",
            "is required to complete a review",
        ));
    };
    if role != Role::Admin && principal.user_id() != Some(reviewer) {
        return Err(AppError::Forbidden(
            "only the review's reviewer or an admin may complete it".to_owned(),
        ));
    }
    Ok(())
}

/// A decision belongs to a completed review only.
fn check_decision_timing(
    status: SupplierReviewStatus,
    decision: Option<ReviewDecision>,
) -> Result<()> {
    if decision.is_some() && status != SupplierReviewStatus::Completed {
        return Err(AppError::invalid(
            "decision",
            "is given when the review is completed",
        ));
    }
    Ok(())
}

/// Records the review's audit event, and when it was completed its webhook event.
async fn record<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    action: &'static str,
    changes: Changes,
    view: &ReviewView,
    completed: bool,
) -> Result<()> {
    let r = &view.review;
    let record = AuditRecord {
        organization_id: Some(&r.organization_id),
        action,
        entity_type: "supplier_review",
        entity_id: &r.id,
        changes,
    };
    if completed {
        changes::record(
            conn,
            principal,
            record,
            EventType::SupplierReviewCompleted,
            view,
        )
        .await
    } else {
        audit::record(conn, principal, record).await
    }
}

/// Plans a review of the supplier (editors, auditors, admins). One created `completed` follows
/// the completion rules.
pub async fn create<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    org_id: &str,
    supplier_id: &str,
    new: NewReview,
) -> Result<ReviewView> {
    let role = authz::authorize(conn, principal, org_id, Action::ChangeFindings).await?;
    let supplier = find(conn, org_id, supplier_id, false).await?;
    check_decision_timing(new.status, new.decision)?;
    if let Some(reviewer) = &new.reviewer_id {
        check_reviewer(conn, org_id, supplier.owner_id.as_deref(), reviewer).await?;
    }
    let completed = new.status == SupplierReviewStatus::Completed;
    if completed {
        check_completing(
            principal,
            role,
            new.decision,
            new.conditions.as_deref(),
            new.reviewer_id.as_deref(),
        )?;
    }
    let evidence = evidence_ids(conn, org_id, &new.evidence_ids).await?;
    let now = db::now();
    let created = supplier_review::ActiveModel {
        id: Set(db::new_id()),
        organization_id: Set(org_id.to_owned()),
        supplier_id: Set(supplier.id.clone()),
        due: Set(new.due),
        status: Set(new.status),
        decision: Set(new.decision),
        conditions: Set(new.conditions),
        reviewer_id: Set(new.reviewer_id),
        evidence_ids: Set(to_json(&evidence)?),
        completed_at: Set(completed.then_some(now)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    let view = view(created)?;
    let r = &view.review;
    let changes = Changes::new()
        .created("supplier_id", &r.supplier_id)
        .created("due", &r.due)
        .created("status", &r.status)
        .created("decision", &r.decision)
        .created("conditions", &r.conditions)
        .created("reviewer_id", &r.reviewer_id)
        .created("evidence_ids", &view.evidence_ids)
        .created("completed_at", &r.completed_at);
    record(
        conn,
        principal,
        "supplier_review.created",
        changes,
        &view,
        completed,
    )
    .await?;
    Ok(view)
}

/// The supplier's reviews, oldest first (every member).
pub async fn list(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    supplier_id: &str,
    page: &PageRequest,
) -> Result<Page<ReviewView>> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    find(db_conn, org_id, supplier_id, false).await?;
    let query = supplier_review::Entity::find()
        .filter(supplier_review::Column::OrganizationId.eq(org_id))
        .filter(supplier_review::Column::SupplierId.eq(supplier_id));
    let rows = crate::service::page::by_id(
        db_conn,
        query,
        None,
        supplier_review::Column::Id,
        page,
        |r| r.id.clone(),
    )
    .await?;
    Ok(Page {
        items: rows.items.into_iter().map(view).collect::<Result<_>>()?,
        next_after: rows.next_after,
    })
}

async fn find_review<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    supplier_id: &str,
    review_id: &str,
    lock: bool,
) -> Result<supplier_review::Model> {
    let mut query = supplier_review::Entity::find_by_id(review_id.to_owned())
        .filter(supplier_review::Column::OrganizationId.eq(org_id))
        .filter(supplier_review::Column::SupplierId.eq(supplier_id));
    if lock {
        query = query.lock(LockType::NoKeyUpdate);
    }
    query
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("supplier review"))
}

/// One review (every member).
pub async fn get(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    supplier_id: &str,
    review_id: &str,
) -> Result<ReviewView> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    view(find_review(db_conn, org_id, supplier_id, review_id, false).await?)
}

/// Changes a review (editors, auditors, admins; completing: its reviewer or an admin). A
/// completed review is final (409 `invalid-transition`). Honours `If-Match`.
pub async fn update(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    ids: (&str, &str, &str),
    if_match: Option<&IfMatch>,
    patch: ReviewPatch,
) -> Result<ReviewView> {
    let (org_id, supplier_id, review_id) = ids;
    let txn = db::begin_write(db_conn).await?;
    let role = authz::authorize(&txn, principal, org_id, Action::ChangeFindings).await?;
    let owner: supplier::Model = find(&txn, org_id, supplier_id, false).await?;
    let current = find_review(&txn, org_id, supplier_id, review_id, true).await?;
    version::check(if_match, current.version)?;
    let before = view(current.clone())?;

    let status = patch.status.unwrap_or(current.status);
    if current.status == SupplierReviewStatus::Completed {
        return Err(AppError::conflict(
            "invalid-transition",
            "a completed review is final",
        ));
    }
    if status != current.status && !rules::review_next(current.status).contains(&status) {
        return Err(AppError::conflict(
            "invalid-transition",
            format!(
                "a review cannot go from `{}` to `{}`",
                current.status.as_str(),
                status.as_str()
            ),
        ));
    }
    let decision = patch.decision.unwrap_or(current.decision);
    let conditions = patch
        .conditions
        .clone()
        .unwrap_or_else(|| current.conditions.clone());
    let reviewer_id = patch
        .reviewer_id
        .clone()
        .unwrap_or_else(|| current.reviewer_id.clone());
    check_decision_timing(status, decision)?;
    if reviewer_id != current.reviewer_id
        && let Some(reviewer) = &reviewer_id
    {
        check_reviewer(&txn, org_id, owner.owner_id.as_deref(), reviewer).await?;
    }
    let completing = status == SupplierReviewStatus::Completed;
    if completing {
        check_completing(
            principal,
            role,
            decision,
            conditions.as_deref(),
            reviewer_id.as_deref(),
        )?;
    }
    let evidence = match &patch.evidence_ids {
        Some(ids) => evidence_ids(&txn, org_id, ids).await?,
        None => before.evidence_ids.clone(),
    };
    let due = patch.due.unwrap_or(current.due);
    let now = db::now();
    let completed_at = completing.then_some(now);

    let mut changes = Changes::new();
    changes.track("due", &current.due, &due);
    changes.track("status", &current.status, &status);
    changes.track("decision", &current.decision, &decision);
    changes.track("conditions", &current.conditions, &conditions);
    changes.track("reviewer_id", &current.reviewer_id, &reviewer_id);
    changes.track("evidence_ids", &before.evidence_ids, &evidence);
    changes.track("completed_at", &current.completed_at, &completed_at);
    if changes.is_empty() {
        txn.commit().await?;
        return Ok(before);
    }
    let mut active = current.clone().into_active_model();
    active.due = Set(due);
    active.status = Set(status);
    active.decision = Set(decision);
    active.conditions = Set(conditions);
    active.reviewer_id = Set(reviewer_id);
    active.evidence_ids = Set(to_json(&evidence)?);
    active.completed_at = Set(completed_at);
    let updated = version::save_next(&txn, active, current.version, now).await?;
    let view = view(updated)?;
    let action = if completing {
        "supplier_review.completed"
    } else {
        "supplier_review.updated"
    };
    record(&txn, principal, action, changes, &view, completing).await?;
    txn.commit().await?;
    Ok(view)
}
