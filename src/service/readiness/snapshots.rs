//! Readiness history: manual and scheduled snapshots of the reports, and reading them back.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::OnConflict,
};
use serde::{Deserialize, Serialize};

use super::{Counts, GroupReport, Report, adopted_framework, compute};
use crate::{
    domain::{
        principal::Principal,
        readiness::{
            FORMULA_VERSION,
            risk::RiskSection,
            supplier::{InventorySection, SupplierSection},
        },
        role::Action,
    },
    error::{AppError, Result},
    service::{
        authz,
        page::{Page, PageRequest},
    },
    store::db,
};
use entity::{framework, organization_framework, readiness_snapshot};

/// What a snapshot keeps besides score and level.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotDetails {
    pub counts: Counts,
    pub groups: Vec<GroupReport>,
    /// The risk section (formula version 2; absent from older snapshots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskSection>,
    /// The suppliers' section (absent from older snapshots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppliers: Option<SupplierSection>,
    /// The AI checklist's inventory section (absent from older snapshots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<InventorySection>,
}

fn snapshot_row(
    org_id: &str,
    report: &Report,
    trigger: &str,
    period: Option<String>,
    created_by: &str,
) -> Result<readiness_snapshot::ActiveModel> {
    let details = SnapshotDetails {
        counts: report.counts.clone(),
        groups: report.groups.clone(),
        risk: report.risk.clone(),
        suppliers: report.suppliers.clone(),
        inventory: report.inventory.clone(),
    };
    Ok(readiness_snapshot::ActiveModel {
        id: Set(db::new_id()),
        organization_id: Set(org_id.to_owned()),
        framework_key: Set(report.framework.key.clone()),
        score: Set(report.assessment.score),
        level: Set(report.assessment.level),
        formula_version: Set(report.formula_version),
        details: Set(serde_json::to_string(&details).map_err(AppError::internal)?),
        trigger: Set(trigger.to_owned()),
        period: Set(period),
        created_by: Set(created_by.to_owned()),
        computed_at: Set(report.computed_at),
        audit_head_hash: Set(None),
    })
}

/// Takes a snapshot now (editors and admins).
pub async fn snapshot_now(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    key: &str,
) -> Result<readiness_snapshot::Model> {
    authz::authorize(db_conn, principal, org_id, Action::ChangeControls).await?;
    let framework = adopted_framework(db_conn, org_id, key).await?;
    let report = compute(db_conn, org_id, framework, FORMULA_VERSION).await?;
    let mut row = snapshot_row(org_id, &report, "manual", None, &principal.actor())?;
    let txn = db::begin_write(db_conn).await?;
    // Pins the audit trail the snapshot was computed from (docs/audit-events.md).
    row.audit_head_hash = Set(crate::service::audit::head_hash(&txn, org_id).await?);
    let saved = readiness_snapshot::Entity::insert(row)
        .exec_with_returning(&txn)
        .await?;
    crate::service::audit::record(
        &txn,
        principal,
        crate::service::audit::AuditRecord {
            organization_id: Some(org_id),
            action: "readiness.snapshot_taken",
            entity_type: "readiness_snapshot",
            entity_id: &saved.id,
            changes: crate::service::audit::Changes::new()
                .created("framework", &saved.framework_key)
                .created("score", &saved.score)
                .created("level", &saved.level),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Stored snapshots of one framework, oldest first, within `from`–`to`.
pub async fn history(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    key: &str,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    page: &PageRequest,
) -> Result<Page<readiness_snapshot::Model>> {
    use readiness_snapshot::Column;
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    adopted_framework(db_conn, org_id, key).await?;
    let mut query = readiness_snapshot::Entity::find()
        .filter(Column::OrganizationId.eq(org_id))
        .filter(Column::FrameworkKey.eq(key));
    if let Some(from) = from {
        query = query.filter(Column::ComputedAt.gte(from));
    }
    if let Some(to) = to {
        query = query.filter(Column::ComputedAt.lte(to));
    }
    if let Some(after) = &page.after {
        let (at, id) = after
            .split_once('|')
            .ok_or_else(|| AppError::bad_request("cursor", "is not a cursor of this list"))?;
        let at: DateTime<Utc> = at
            .parse()
            .map_err(|_| AppError::bad_request("cursor", "is not a cursor of this list"))?;
        query = query.filter(
            sea_orm::Condition::any()
                .add(Column::ComputedAt.gt(at))
                .add(
                    sea_orm::Condition::all()
                        .add(Column::ComputedAt.eq(at))
                        .add(Column::Id.gt(id)),
                ),
        );
    }
    let rows = query
        .order_by_asc(Column::ComputedAt)
        .order_by_asc(Column::Id)
        .limit(page.fetch())
        .all(db_conn)
        .await?;
    Ok(Page::from_rows(rows, page, |s| {
        format!("{}|{}", s.computed_at.to_rfc3339(), s.id)
    }))
}

/// The period a scheduled snapshot belongs to: the start of the interval, in seconds.
pub fn period_key(now: DateTime<Utc>, interval_seconds: u64) -> String {
    let interval = i64::try_from(interval_seconds.max(1)).unwrap_or(i64::MAX);
    let start = now.timestamp().div_euclid(interval) * interval;
    format!("{interval}s:{start}")
}

/// Stores the current period's snapshot of every adopted framework that has none yet. A
/// unique index on the period makes concurrent replicas store one, not several.
pub async fn take_scheduled_snapshots(
    db_conn: &DatabaseConnection,
    interval_seconds: u64,
) -> Result<usize> {
    let now = db::now();
    let period = period_key(now, interval_seconds);
    let adopted = organization_framework::Entity::find().all(db_conn).await?;
    let done: Vec<(String, String)> = readiness_snapshot::Entity::find()
        .select_only()
        .column(readiness_snapshot::Column::OrganizationId)
        .column(readiness_snapshot::Column::FrameworkKey)
        .filter(readiness_snapshot::Column::Period.eq(period.as_str()))
        .into_tuple()
        .all(db_conn)
        .await?;
    let frameworks: HashMap<String, framework::Model> = framework::Entity::find()
        .all(db_conn)
        .await?
        .into_iter()
        .map(|f| (f.key.clone(), f))
        .collect();
    let mut stored = 0;
    for a in adopted {
        if done.contains(&(a.organization_id.clone(), a.framework_key.clone())) {
            continue;
        }
        let Some(framework) = frameworks.get(&a.framework_key).cloned() else {
            continue;
        };
        let report = compute(db_conn, &a.organization_id, framework, FORMULA_VERSION).await?;
        let mut row = snapshot_row(
            &a.organization_id,
            &report,
            "scheduled",
            Some(period.clone()),
            "system",
        )?;
        row.audit_head_hash =
            Set(crate::service::audit::head_hash(db_conn, &a.organization_id).await?);
        let result = readiness_snapshot::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    readiness_snapshot::Column::OrganizationId,
                    readiness_snapshot::Column::FrameworkKey,
                    readiness_snapshot::Column::Period,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(db_conn)
            .await?;
        stored += usize::try_from(result).unwrap_or(0);
    }
    Ok(stored)
}

/// Reads a snapshot's details.
pub fn details(snapshot: &readiness_snapshot::Model) -> Result<SnapshotDetails> {
    serde_json::from_str(&snapshot.details).map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::period_key;
    use chrono::TimeZone;

    #[test]
    fn periods() {
        let at = |h: u32, m: u32| {
            chrono::Utc
                .with_ymd_and_hms(2026, 11, 26, h, m, 0)
                .single()
                .unwrap_or_default()
        };
        assert_eq!(period_key(at(0, 0), 86_400), period_key(at(23, 59), 86_400));
        assert_ne!(period_key(at(0, 0), 3600), period_key(at(1, 0), 3600));
        assert!(period_key(at(10, 0), 86_400).starts_with("86400s:"));
    }
}
