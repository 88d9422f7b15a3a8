//! Evidence: metadata, content stored in the database (content-addressed), review with
//! segregation of duties, archiving, and links to controls within one organization.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    sea_query::{Expr, ExprTrait, Func, LockType},
};

use crate::{
    domain::{
        evidence::{EvidenceKind, ReviewDecision, ReviewStatus, may_review, status_after_change},
        principal::Principal,
        role::Action,
        webhook::EventType,
    },
    error::{AppError, Result},
    service::{
        audit::{self, AuditRecord, Changes},
        authz, changes, controls,
        page::{Page, PageRequest},
        version::{self, IfMatch},
    },
    store::db,
};
use entity::{control_evidence, evidence};

mod links;
pub use links::{link, list_for_control, unlink};

mod content;
pub use content::{Download, Upload, get_content, put_content};

/// Evidence with the controls it is linked to.
#[derive(Debug, Clone)]
pub struct EvidenceView {
    pub evidence: evidence::Model,
    pub control_ids: Vec<String>,
}

async fn control_ids_of<C: ConnectionTrait>(
    conn: &C,
    ids: &[String],
) -> Result<HashMap<String, Vec<String>>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    // Only the two ids: the link rows also carry the evidence's facts, not needed here.
    let links: Vec<(String, String)> = control_evidence::Entity::find()
        .select_only()
        .column(control_evidence::Column::EvidenceId)
        .column(control_evidence::Column::ControlId)
        .filter(control_evidence::Column::EvidenceId.is_in(ids.to_vec()))
        .order_by_asc(control_evidence::Column::ControlId)
        .into_tuple()
        .all(conn)
        .await?;
    for (evidence_id, control_id) in links {
        out.entry(evidence_id).or_default().push(control_id);
    }
    Ok(out)
}

/// Evidence rows with their linked control ids (one query).
pub(crate) async fn views<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<evidence::Model>,
) -> Result<Vec<EvidenceView>> {
    let ids: Vec<String> = rows.iter().map(|e| e.id.clone()).collect();
    let mut links = control_ids_of(conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|evidence| EvidenceView {
            control_ids: links.remove(&evidence.id).unwrap_or_default(),
            evidence,
        })
        .collect())
}

async fn view_one<C: ConnectionTrait>(conn: &C, model: evidence::Model) -> Result<EvidenceView> {
    views(conn, vec![model])
        .await?
        .pop()
        .ok_or_else(|| AppError::internal("evidence view missing"))
}

/// Finds evidence of the organization, archived included (404 otherwise).
/// Changes read the row with this, inside their transaction: on PostgreSQL it stays locked
/// until the transaction ends, so concurrent changes take turns (and `If-Match` holds).
async fn find<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    evidence_id: &str,
) -> Result<evidence::Model> {
    evidence::Entity::find_by_id(evidence_id.to_owned())
        .filter(evidence::Column::OrganizationId.eq(org_id))
        .lock(LockType::NoKeyUpdate)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("evidence"))
}

/// Finds evidence that may still change (409 when archived).
async fn find_live<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    evidence_id: &str,
) -> Result<evidence::Model> {
    let model = find(conn, org_id, evidence_id).await?;
    if model.archived_at.is_some() {
        return Err(AppError::conflict(
            "evidence-archived",
            "this evidence is archived and can no longer change",
        ));
    }
    Ok(model)
}

fn validate_url(kind: EvidenceKind, url: Option<&str>) -> Result<()> {
    match url {
        Some(url) => {
            let parsed = url::Url::parse(url)
                .map_err(|_| AppError::invalid("url", "must be an absolute URL"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(AppError::invalid("url", "must be an http or https URL"));
            }
            Ok(())
        }
        None if kind == EvidenceKind::Link => Err(AppError::invalid(
            "url",
            "is required for evidence of kind `link`",
        )),
        None => Ok(()),
    }
}

fn validate_title(title: &str) -> Result<String> {
    let title = title.trim();
    if title.is_empty() {
        return Err(AppError::invalid("title", "must not be empty"));
    }
    if title.chars().count() > 500 {
        return Err(AppError::invalid("title", "must be at most 500 characters"));
    }
    Ok(title.to_owned())
}

fn validate_validity(
    collected_at: Option<DateTime<Utc>>,
    valid_until: Option<DateTime<Utc>>,
) -> Result<()> {
    if let (Some(collected), Some(until)) = (collected_at, valid_until)
        && until < collected
    {
        return Err(AppError::invalid(
            "valid_until",
            "must not be before collected_at",
        ));
    }
    Ok(())
}

/// New evidence.
#[derive(Debug, Clone)]
pub struct NewEvidence {
    pub title: String,
    pub description: Option<String>,
    pub kind: EvidenceKind,
    pub url: Option<String>,
    pub collected_at: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub control_ids: Vec<String>,
}

/// Creates evidence (editors, admins), linked to the given controls of the same organization.
pub async fn create<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    org_id: &str,
    new: NewEvidence,
) -> Result<EvidenceView> {
    authz::authorize(conn, principal, org_id, Action::ChangeEvidence).await?;
    let title = validate_title(&new.title)?;
    validate_url(new.kind, new.url.as_deref())?;
    validate_validity(new.collected_at, new.valid_until)?;
    let mut control_ids = new.control_ids.clone();
    control_ids.sort();
    control_ids.dedup();
    for control_id in &control_ids {
        controls::find(conn, org_id, control_id)
            .await
            .map_err(|_| {
                AppError::invalid(
                    "control_ids",
                    format!("`{control_id}` is not a control of this organization"),
                )
            })?;
    }
    let now = db::now();
    let created = evidence::ActiveModel {
        id: Set(db::new_id()),
        organization_id: Set(org_id.to_owned()),
        title: Set(title),
        description: Set(new.description),
        kind: Set(new.kind),
        url: Set(new.url),
        collected_at: Set(new.collected_at),
        valid_until: Set(new.valid_until),
        review_status: Set(ReviewStatus::Pending),
        review_comment: Set(None),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        submitted_by: Set(principal.actor()),
        content_sha256: Set(None),
        content_size: Set(None),
        content_media_type: Set(None),
        content_filename: Set(None),
        archived_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    if !control_ids.is_empty() {
        control_evidence::Entity::insert_many(control_ids.iter().map(|control_id| {
            control_evidence::ActiveModel {
                control_id: Set(control_id.clone()),
                evidence_id: Set(created.id.clone()),
                organization_id: Set(org_id.to_owned()),
                created_at: Set(now),
                evidence_review_status: Set(created.review_status),
                evidence_valid_until: Set(created.valid_until),
                evidence_archived_at: Set(created.archived_at),
            }
        }))
        .exec_without_returning(conn)
        .await?;
    }
    let view = EvidenceView {
        evidence: created,
        control_ids,
    };
    let created = &view.evidence;
    changes::record(
        conn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "evidence.created",
            entity_type: "evidence",
            entity_id: &created.id,
            changes: Changes::new()
                .created("title", &created.title)
                .created("kind", &created.kind)
                .created("valid_until", &created.valid_until)
                .created("control_ids", &view.control_ids),
        },
        EventType::EvidenceCreated,
        &view,
    )
    .await?;
    Ok(view)
}

/// Filters of the evidence list.
#[derive(Debug, Clone, Default)]
pub struct EvidenceFilter {
    pub control_id: Option<String>,
    pub review_status: Option<ReviewStatus>,
    pub kind: Option<EvidenceKind>,
    pub expired: Option<bool>,
    pub expiring_before: Option<DateTime<Utc>>,
    pub q: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
}

/// Evidence that is not archived, oldest first, filtered (three queries).
pub async fn list(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    filter: &EvidenceFilter,
    page: &PageRequest,
) -> Result<Page<EvidenceView>> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    let now = db::now();
    let mut query = evidence::Entity::find().filter(evidence::Column::ArchivedAt.is_null());
    if let Some(control_id) = &filter.control_id {
        let linked = control_evidence::Entity::find()
            .select_only()
            .column(control_evidence::Column::EvidenceId)
            .filter(control_evidence::Column::ControlId.eq(control_id.as_str()))
            .filter(control_evidence::Column::OrganizationId.eq(org_id))
            .into_query();
        query = query.filter(evidence::Column::Id.in_subquery(linked));
    }
    if let Some(status) = filter.review_status {
        query = query.filter(evidence::Column::ReviewStatus.eq(status.as_str()));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(evidence::Column::Kind.eq(kind.as_str()));
    }
    match filter.expired {
        Some(true) => query = query.filter(evidence::Column::ValidUntil.lte(now)),
        Some(false) => {
            query = query.filter(
                Condition::any()
                    .add(evidence::Column::ValidUntil.is_null())
                    .add(evidence::Column::ValidUntil.gt(now)),
            );
        }
        None => {}
    }
    if let Some(before) = filter.expiring_before {
        query = query
            .filter(evidence::Column::ValidUntil.is_not_null())
            .filter(evidence::Column::ValidUntil.lt(before));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = format!("%{}%", q.to_lowercase().replace(['%', '_'], ""));
        query = query.filter(
            Condition::any()
                .add(
                    Expr::expr(Func::lower(Expr::col(evidence::Column::Title)))
                        .like(pattern.clone()),
                )
                .add(
                    Expr::expr(Func::lower(Expr::col(evidence::Column::Description))).like(pattern),
                ),
        );
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(evidence::Column::UpdatedAt.gte(since));
    }
    let rows = crate::service::page::by_id(
        db_conn,
        query,
        Some((evidence::Column::OrganizationId, org_id)),
        evidence::Column::Id,
        page,
        |e| e.id.clone(),
    )
    .await?;
    let next_after = rows.next_after;
    Ok(Page {
        items: views(db_conn, rows.items).await?,
        next_after,
    })
}

/// One piece of evidence (archived ones too, with `archived_at`).
pub async fn get(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    evidence_id: &str,
) -> Result<EvidenceView> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    view_one(db_conn, find(db_conn, org_id, evidence_id).await?).await
}

/// A change to evidence metadata; `Some(None)` clears a nullable field.
#[derive(Debug, Clone, Default)]
pub struct EvidencePatch {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub kind: Option<EvidenceKind>,
    pub url: Option<Option<String>>,
    pub collected_at: Option<Option<DateTime<Utc>>>,
    pub valid_until: Option<Option<DateTime<Utc>>>,
}

/// Updates evidence metadata (editors, admins). Changing the validity of accepted evidence
/// returns it to `pending`. Honours `If-Match`.
pub async fn update(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    evidence_id: &str,
    if_match: Option<&IfMatch>,
    patch: EvidencePatch,
) -> Result<EvidenceView> {
    let txn = db::begin_write(db_conn).await?;
    authz::authorize(&txn, principal, org_id, Action::ChangeEvidence).await?;
    let current = find_live(&txn, org_id, evidence_id).await?;
    version::check(if_match, current.version)?;
    let title = match &patch.title {
        Some(t) => validate_title(t)?,
        None => current.title.clone(),
    };
    let kind = patch.kind.unwrap_or(current.kind);
    let description = patch
        .description
        .unwrap_or_else(|| current.description.clone());
    let url = patch.url.unwrap_or_else(|| current.url.clone());
    let collected_at = patch.collected_at.unwrap_or(current.collected_at);
    let valid_until = patch.valid_until.unwrap_or(current.valid_until);
    validate_url(kind, url.as_deref())?;
    validate_validity(collected_at, valid_until)?;

    let mut changes = Changes::new();
    changes.track("title", &current.title, &title);
    changes.track("description", &current.description, &description);
    changes.track("kind", &current.kind, &kind);
    changes.track("url", &current.url, &url);
    changes.track("collected_at", &current.collected_at, &collected_at);
    changes.track("valid_until", &current.valid_until, &valid_until);
    if changes.is_empty() {
        txn.commit().await?;
        return view_one(db_conn, current).await;
    }
    let current_status = current.review_status;
    let review_status = if valid_until != current.valid_until {
        status_after_change(current_status)
    } else {
        current_status
    };
    changes.track("review_status", &current.review_status, &review_status);
    let mut active = current.clone().into_active_model();
    active.title = Set(title);
    active.description = Set(description);
    active.kind = Set(kind);
    active.url = Set(url);
    active.collected_at = Set(collected_at);
    active.valid_until = Set(valid_until);
    active.review_status = Set(review_status);
    let updated = version::save_next(&txn, active, current.version, db::now()).await?;
    sync_link_facts(&txn, &current, &updated).await?;
    audit::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "evidence.updated",
            entity_type: "evidence",
            entity_id: evidence_id,
            changes,
        },
    )
    .await?;
    let view = view_one(&txn, updated).await?;
    txn.commit().await?;
    Ok(view)
}

/// Copies the evidence's review status, validity and archival onto its control links when
/// they changed: the per-control aggregates read them there (see `service::stats`).
async fn sync_link_facts<C: ConnectionTrait>(
    conn: &C,
    before: &evidence::Model,
    after: &evidence::Model,
) -> Result<()> {
    if before.review_status == after.review_status
        && before.valid_until == after.valid_until
        && before.archived_at == after.archived_at
    {
        return Ok(());
    }
    control_evidence::Entity::update_many()
        .col_expr(
            control_evidence::Column::EvidenceReviewStatus,
            Expr::value(after.review_status),
        )
        .col_expr(
            control_evidence::Column::EvidenceValidUntil,
            Expr::value(after.valid_until),
        )
        .col_expr(
            control_evidence::Column::EvidenceArchivedAt,
            Expr::value(after.archived_at),
        )
        .filter(control_evidence::Column::EvidenceId.eq(after.id.as_str()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Archives evidence (admins: deleting is theirs): kept, hidden from lists and scores.
pub async fn archive(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    evidence_id: &str,
    if_match: Option<&IfMatch>,
) -> Result<()> {
    let txn = db::begin_write(db_conn).await?;
    authz::authorize(&txn, principal, org_id, Action::Administer).await?;
    let current = find(&txn, org_id, evidence_id).await?;
    if current.archived_at.is_some() {
        txn.commit().await?;
        return Ok(());
    }
    version::check(if_match, current.version)?;
    let now = db::now();
    let mut active = current.clone().into_active_model();
    active.archived_at = Set(Some(now));
    let updated = version::save_next(&txn, active, current.version, now).await?;
    sync_link_facts(&txn, &current, &updated).await?;
    audit::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "evidence.archived",
            entity_type: "evidence",
            entity_id: evidence_id,
            changes: Changes::new().field("archived_at", &None::<DateTime<Utc>>, &Some(now)),
        },
    )
    .await?;
    txn.commit().await.map_err(Into::into)
}

/// Accepts or rejects evidence (auditors, admins); never one's own submission.
pub async fn review(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    evidence_id: &str,
    decision: ReviewDecision,
    comment: Option<String>,
) -> Result<EvidenceView> {
    let comment = comment
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    if decision == ReviewDecision::Rejected && comment.is_none() {
        return Err(AppError::invalid(
            "comment",
            "is required when rejecting evidence",
        ));
    }
    let txn = db::begin_write(db_conn).await?;
    authz::authorize(&txn, principal, org_id, Action::ReviewEvidence).await?;
    let current = find_live(&txn, org_id, evidence_id).await?;
    let reviewer = principal.actor();
    if !may_review(&reviewer, &current.submitted_by) {
        return Err(AppError::Forbidden(
            "segregation of duties: nobody reviews evidence they submitted themselves (ISO 27001 A.5.3)".to_owned(),
        ));
    }
    let now = db::now();
    let status = decision.status();
    let changes = Changes::new()
        .field("review_status", &current.review_status, &status)
        .field("review_comment", &current.review_comment, &comment)
        .field("reviewed_by", &current.reviewed_by, &Some(reviewer.clone()));
    let mut active = current.clone().into_active_model();
    active.review_status = Set(status);
    active.review_comment = Set(comment);
    active.reviewed_by = Set(Some(reviewer));
    active.reviewed_at = Set(Some(now));
    let updated = version::save_next(&txn, active, current.version, now).await?;
    sync_link_facts(&txn, &current, &updated).await?;
    let view = view_one(&txn, updated).await?;
    changes::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "evidence.reviewed",
            entity_type: "evidence",
            entity_id: evidence_id,
            changes,
        },
        EventType::EvidenceReviewed,
        &view,
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

/// Checks, before an upload is read, that the caller may change this evidence.
pub async fn check_writable(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    evidence_id: &str,
) -> Result<()> {
    authz::authorize(db_conn, principal, org_id, Action::ChangeEvidence).await?;
    find_live(db_conn, org_id, evidence_id).await.map(|_| ())
}
