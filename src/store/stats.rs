//! Per-control aggregates of evidence and findings, read from the link tables' covering
//! indexes in one statement whatever the number of controls, and the organization's data version.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::control;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QuerySelect, Value};

use crate::{
    domain::finding::{FindingStatus, OPEN_STATUSES},
    error::{AppError, Result},
    store::sql::statement,
};

/// What is linked to one control.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ControlStats {
    /// Linked, non-archived evidence.
    pub evidence_count: i64,
    /// Of those, accepted and not expired.
    pub valid_evidence: i64,
    /// Of those, accepted and expired.
    pub expired_evidence: i64,
    /// Linked open findings.
    pub open_findings: i64,
    /// Linked open major nonconformities.
    pub open_major: i64,
    /// Linked open minor nonconformities.
    pub open_minor: i64,
}

/// Which controls to aggregate over.
pub enum Scope<'a> {
    /// Every control of one adopted framework.
    Framework(&'a str),
    /// Every control of the organization.
    Organization,
}

fn scope_sql(scope: &Scope<'_>, column: &str, values: &mut Vec<Value>) -> String {
    match scope {
        Scope::Framework(key) => {
            values.push(Value::from((*key).to_owned()));
            format!(
                "{column} IN (SELECT c.id FROM controls c WHERE c.organization_id = ? AND c.framework_key = ?)"
            )
        }
        Scope::Organization => "1 = 1".to_owned(),
    }
}

/// Over a control's links to evidence (`ce`): how many, how many accepted and valid at the
/// first parameter, how many accepted and expired at the second.
const EVIDENCE_AGGREGATES: &str = "COUNT(*) AS n, \
     SUM(CASE WHEN ce.evidence_review_status = 'accepted' AND (ce.evidence_valid_until IS NULL OR ce.evidence_valid_until > ?) THEN 1 ELSE 0 END) AS a, \
     SUM(CASE WHEN ce.evidence_review_status = 'accepted' AND ce.evidence_valid_until IS NOT NULL AND ce.evidence_valid_until <= ? THEN 1 ELSE 0 END) AS b";

/// Over a control's links to open findings (`fc`): how many, how many major, how many minor.
const FINDING_AGGREGATES: &str = "COUNT(*) AS n, \
     SUM(CASE WHEN fc.finding_type = 'major_nonconformity' THEN 1 ELSE 0 END) AS a, \
     SUM(CASE WHEN fc.finding_type = 'minor_nonconformity' THEN 1 ELSE 0 END) AS b";

/// Aggregates evidence and findings per control, in one statement (two grouped scans of the
/// link tables' covering indexes, joined by `UNION ALL`).
pub async fn control_stats<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    scope: Scope<'_>,
    now: DateTime<Utc>,
) -> Result<HashMap<String, ControlStats>> {
    let backend = conn.get_database_backend();
    let mut stats: HashMap<String, ControlStats> = HashMap::new();

    let mut values: Vec<Value> = vec![now.into(), now.into(), org_id.into()];
    if matches!(scope, Scope::Framework(_)) {
        values.push(org_id.into());
    }
    let evidence_filter = scope_sql(&scope, "ce.control_id", &mut values);
    values.push(org_id.into());
    values.extend(OPEN_STATUSES.iter().map(|s| Value::from(s.as_str())));
    if matches!(scope, Scope::Framework(_)) {
        values.push(org_id.into());
    }
    let finding_filter = scope_sql(&scope, "fc.control_id", &mut values);
    // Kind 0: evidence (count, valid, expired); kind 1: open findings (count, major, minor).
    let sql = format!(
        "SELECT ce.control_id, 0 AS kind, {EVIDENCE_AGGREGATES} \
         FROM control_evidence ce \
         WHERE ce.organization_id = ? AND ce.evidence_archived_at IS NULL AND {evidence_filter} \
         GROUP BY ce.control_id \
         UNION ALL \
         SELECT fc.control_id, 1, {FINDING_AGGREGATES} \
         FROM finding_controls fc \
         WHERE fc.organization_id = ? AND fc.finding_status IN (?, ?, ?) AND {finding_filter} \
         GROUP BY fc.control_id"
    );
    #[derive(FromQueryResult)]
    struct Aggregate {
        control_id: String,
        kind: i32,
        n: i64,
        a: Option<i64>,
        b: Option<i64>,
    }
    let rows = Aggregate::find_by_statement(statement(backend, &sql, values))
        .all(conn)
        .await?;
    for row in rows {
        let entry = stats.entry(row.control_id).or_default();
        let (first, second) = (row.a.unwrap_or(0), row.b.unwrap_or(0));
        if row.kind == 0 {
            entry.evidence_count = row.n;
            entry.valid_evidence = first;
            entry.expired_evidence = second;
        } else {
            entry.open_findings = row.n;
            entry.open_major = first;
            entry.open_minor = second;
        }
    }
    Ok(stats)
}

/// One control of the organization with its stats and the risks linking it (`(risk id, ref
/// number)`, by risk id), in one statement (what a change to the control reads inside its
/// transaction); `None` when the organization has no such control.
/// On PostgreSQL the control's row stays locked until the transaction ends, so that concurrent
/// changes of one control take turns (SQLite writers take turns for the whole database); the
/// lock lets rows that refer to the control be inserted meanwhile (`NO KEY`).
pub async fn control_with_stats<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    control_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<(control::Model, ControlStats, Vec<(String, i32)>)>> {
    let backend = conn.get_database_backend();
    let (lock, aggregate) = if backend == DbBackend::Postgres {
        (" FOR NO KEY UPDATE OF c", "string_agg")
    } else {
        ("", "group_concat")
    };
    // Aggregates without GROUP BY: always one row each, zero counts and null sums when nothing
    // is linked.
    let sql = format!(
        "SELECT c.*, e.n AS stats_evidence, e.a AS stats_valid, e.b AS stats_expired, \
         f.n AS stats_findings, f.a AS stats_major, f.b AS stats_minor, r.ids AS stats_risks \
         FROM controls c, \
         (SELECT {EVIDENCE_AGGREGATES} FROM control_evidence ce WHERE ce.organization_id = ? \
          AND ce.control_id = ? AND ce.evidence_archived_at IS NULL) e, \
         (SELECT {FINDING_AGGREGATES} FROM finding_controls fc WHERE fc.organization_id = ? \
          AND fc.control_id = ? AND fc.finding_status IN (?, ?, ?)) f, \
         (SELECT {aggregate}(rc.risk_id || ':' || CAST(rk.ref_number AS TEXT), ',') AS ids \
          FROM risk_controls rc JOIN risks rk ON rk.id = rc.risk_id \
          WHERE rc.organization_id = ? AND rc.control_id = ?) r \
         WHERE c.id = ? AND c.organization_id = ?{lock}"
    );
    // In the statement's order: the evidence aggregates and filter, the findings filter, the
    // risk links, the control.
    let [open, in_progress, resolved] = OPEN_STATUSES.map(FindingStatus::as_str);
    let values: Vec<Value> = vec![
        now.into(),
        now.into(),
        org_id.into(),
        control_id.into(),
        org_id.into(),
        control_id.into(),
        open.into(),
        in_progress.into(),
        resolved.into(),
        org_id.into(),
        control_id.into(),
        control_id.into(),
        org_id.into(),
    ];
    let Some(row) = conn.query_one_raw(statement(backend, &sql, values)).await? else {
        return Ok(None);
    };
    let sum =
        |column: &str| -> Result<i64> { Ok(row.try_get::<Option<i64>>("", column)?.unwrap_or(0)) };
    let stats = ControlStats {
        evidence_count: sum("stats_evidence")?,
        valid_evidence: sum("stats_valid")?,
        expired_evidence: sum("stats_expired")?,
        open_findings: sum("stats_findings")?,
        open_major: sum("stats_major")?,
        open_minor: sum("stats_minor")?,
    };
    let mut risks: Vec<(String, i32)> = row
        .try_get::<Option<String>>("", "stats_risks")?
        .unwrap_or_default()
        .split(',')
        .filter_map(|pair| {
            let (id, number) = pair.split_once(':')?;
            Some((id.to_owned(), number.parse().ok()?))
        })
        .collect();
    risks.sort();
    Ok(Some((
        control::Model::from_query_result(&row, "")?,
        stats,
        risks,
    )))
}

/// When the organization's next unarchived evidence expires after `now`: its control stats
/// change then without any write.
pub async fn next_evidence_expiry<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>> {
    #[derive(FromQueryResult)]
    struct Next {
        next: Option<DateTime<Utc>>,
    }
    let next = Next::find_by_statement(statement(
        conn.get_database_backend(),
        "SELECT MIN(e.valid_until) AS next FROM evidence e WHERE e.organization_id = ? \
         AND e.archived_at IS NULL AND e.valid_until > ?",
        vec![org_id.into(), now.into()],
    ))
    .one(conn)
    .await?;
    Ok(next.and_then(|n| n.next))
}

/// The organization's data version, moved by every change to its data (404 when it is gone).
pub async fn data_version<C: ConnectionTrait>(conn: &C, org_id: &str) -> Result<i64> {
    entity::organization_version::Entity::find_by_id(org_id.to_owned())
        .select_only()
        .column(entity::organization_version::Column::DataVersion)
        .into_tuple::<i64>()
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("organization"))
}
