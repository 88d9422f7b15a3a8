//! Evidence content: files stored once per hash in the database, replaced and downloaded.

use sea_orm::{
    ActiveValue::Set, DatabaseConnection, EntityTrait, IntoActiveModel, sea_query::OnConflict,
};

use crate::{
    domain::{evidence::status_after_change, principal::Principal, role::Action},
    error::{AppError, Result},
    service::{
        audit::{self, AuditRecord, Changes},
        authz,
        version::{self, IfMatch},
    },
    store::db,
};
use entity::{evidence, evidence_blob};

use super::{EvidenceView, find, find_live, sync_link_facts, view_one};

/// The bytes of a file to store.
pub struct Upload {
    pub bytes: Vec<u8>,
    pub sha256: String,
    pub media_type: String,
    pub filename: Option<String>,
}

/// Stores new content (deduplicated by hash) and points the evidence at it, in one
/// transaction (editors, admins). Accepted evidence returns to `pending`.
pub async fn put_content(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    evidence_id: &str,
    if_match: Option<&IfMatch>,
    upload: Upload,
) -> Result<EvidenceView> {
    let txn = db::begin_write(db_conn).await?;
    authz::authorize(&txn, principal, org_id, Action::ChangeEvidence).await?;
    let current = find_live(&txn, org_id, evidence_id).await?;
    version::check(if_match, current.version)?;
    let size = i64::try_from(upload.bytes.len()).map_err(AppError::internal)?;
    let now = db::now();
    evidence_blob::Entity::insert(evidence_blob::ActiveModel {
        sha256: Set(upload.sha256.clone()),
        size: Set(size),
        data: Set(upload.bytes),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(evidence_blob::Column::Sha256)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let current_status = current.review_status;
    let review_status = if current.content_sha256.as_deref() == Some(upload.sha256.as_str()) {
        current_status
    } else {
        status_after_change(current_status)
    };
    let mut changes = Changes::new();
    changes.track(
        "content_sha256",
        &current.content_sha256,
        &Some(upload.sha256.clone()),
    );
    changes.track("content_size", &current.content_size, &Some(size));
    changes.track(
        "content_media_type",
        &current.content_media_type,
        &Some(upload.media_type.clone()),
    );
    changes.track(
        "content_filename",
        &current.content_filename,
        &upload.filename,
    );
    changes.track("review_status", &current.review_status, &review_status);
    if changes.is_empty() {
        txn.commit().await?;
        return view_one(db_conn, current).await;
    }
    let mut active = current.clone().into_active_model();
    active.content_sha256 = Set(Some(upload.sha256));
    active.content_size = Set(Some(size));
    active.content_media_type = Set(Some(upload.media_type));
    active.content_filename = Set(upload.filename);
    active.review_status = Set(review_status);
    let updated = version::save_next(&txn, active, current.version, now).await?;
    sync_link_facts(&txn, &current, &updated).await?;
    audit::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "evidence.content_replaced",
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

/// Stored content for download.
pub struct Download {
    pub evidence: evidence::Model,
    pub bytes: Vec<u8>,
}

/// The evidence's content (404 when it has none).
pub async fn get_content(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    evidence_id: &str,
) -> Result<Download> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    let evidence = find(db_conn, org_id, evidence_id).await?;
    let sha = evidence
        .content_sha256
        .clone()
        .ok_or(AppError::NotFound("evidence content"))?;
    let blob = evidence_blob::Entity::find_by_id(sha)
        .one(db_conn)
        .await?
        .ok_or(AppError::NotFound("evidence content"))?;
    Ok(Download {
        evidence,
        bytes: blob.data,
    })
}
