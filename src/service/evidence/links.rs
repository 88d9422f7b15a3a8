//! Links between evidence and controls, and the evidence of one control.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr,
};

use crate::{
    domain::principal::Principal,
    domain::role::Action,
    error::Result,
    service::{
        audit::{self, AuditRecord, Changes},
        authz, controls,
        page::{Page, PageRequest},
    },
    store::db,
};
use entity::{control_evidence, evidence};

use super::{EvidenceFilter, EvidenceView, find, find_live, list};

/// Links evidence to a control of the same organization (idempotent).
pub async fn link(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    control_id: &str,
    evidence_id: &str,
) -> Result<()> {
    set_link(db_conn, principal, org_id, control_id, evidence_id, true).await
}

/// Unlinks evidence from a control (idempotent).
pub async fn unlink(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    control_id: &str,
    evidence_id: &str,
) -> Result<()> {
    set_link(db_conn, principal, org_id, control_id, evidence_id, false).await
}

async fn set_link(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    control_id: &str,
    evidence_id: &str,
    linked: bool,
) -> Result<()> {
    let txn = db::begin_write(db_conn).await?;
    authz::authorize(&txn, principal, org_id, Action::ChangeEvidence).await?;
    controls::find(&txn, org_id, control_id).await?;
    let evidence = if linked {
        find_live(&txn, org_id, evidence_id).await?
    } else {
        find(&txn, org_id, evidence_id).await?
    };
    let existing =
        control_evidence::Entity::find_by_id((control_id.to_owned(), evidence_id.to_owned()))
            .one(&txn)
            .await?;
    if existing.is_some() == linked {
        txn.commit().await?;
        return Ok(());
    }
    let now = db::now();
    if linked {
        control_evidence::Entity::insert(control_evidence::ActiveModel {
            control_id: Set(control_id.to_owned()),
            evidence_id: Set(evidence_id.to_owned()),
            organization_id: Set(org_id.to_owned()),
            created_at: Set(now),
            evidence_review_status: Set(evidence.review_status),
            evidence_valid_until: Set(evidence.valid_until),
            evidence_archived_at: Set(evidence.archived_at),
        })
        .exec_without_returning(&txn)
        .await?;
    } else {
        control_evidence::Entity::delete_by_id((control_id.to_owned(), evidence_id.to_owned()))
            .exec(&txn)
            .await?;
    }
    // The evidence's `control_ids` changed: a new version, visible to `updated_since` pollers.
    evidence::Entity::update_many()
        .col_expr(evidence::Column::Version, Expr::value(evidence.version + 1))
        .col_expr(evidence::Column::UpdatedAt, Expr::value(now))
        .filter(evidence::Column::Id.eq(evidence_id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: if linked {
                "evidence.linked"
            } else {
                "evidence.unlinked"
            },
            entity_type: "evidence",
            entity_id: evidence_id,
            changes: if linked {
                Changes::new().field("control_id", &None::<String>, &Some(control_id.to_owned()))
            } else {
                Changes::new().field("control_id", &Some(control_id.to_owned()), &None::<String>)
            },
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The evidence linked to one control (not archived), oldest first.
pub async fn list_for_control(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    control_id: &str,
    page: &PageRequest,
) -> Result<Page<EvidenceView>> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    controls::find(db_conn, org_id, control_id).await?;
    let filter = EvidenceFilter {
        control_id: Some(control_id.to_owned()),
        ..Default::default()
    };
    list(db_conn, principal, org_id, &filter, page).await
}
