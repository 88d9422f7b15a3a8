//! Per-control aggregates of evidence and findings, in two grouped queries whatever the number
//! of controls: what control lists, the SoA and the readiness report are computed from.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Value};

use crate::{
    domain::{
        control::ControlStatus,
        readiness::{ControlFacts, control_score},
    },
    error::Result,
    service::sql::{placeholders, statement},
};

/// The statuses in which a finding is open (contract §7).
pub const OPEN_FINDING_STATUSES: [&str; 3] = ["open", "in_progress", "resolved"];

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
    /// These controls (a page).
    Controls(&'a [String]),
    /// Every control of one adopted framework.
    Framework(&'a str),
}

fn scope_sql(scope: &Scope<'_>, column: &str, values: &mut Vec<Value>) -> String {
    match scope {
        Scope::Controls(ids) => {
            values.extend(ids.iter().map(|id| Value::from(id.clone())));
            format!("{column} IN ({})", placeholders(ids.len()))
        }
        Scope::Framework(key) => {
            values.push(Value::from((*key).to_owned()));
            format!(
                "{column} IN (SELECT c.id FROM controls c WHERE c.organization_id = ? AND c.framework_key = ?)"
            )
        }
    }
}

/// Aggregates evidence and findings per control (two queries).
pub async fn control_stats<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    scope: Scope<'_>,
    now: DateTime<Utc>,
) -> Result<HashMap<String, ControlStats>> {
    let backend = conn.get_database_backend();
    let mut stats: HashMap<String, ControlStats> = HashMap::new();
    if matches!(scope, Scope::Controls(ids) if ids.is_empty()) {
        return Ok(stats);
    }

    let mut values: Vec<Value> = vec![now.into(), now.into(), org_id.into()];
    if matches!(scope, Scope::Framework(_)) {
        values.push(org_id.into());
    }
    let filter = scope_sql(&scope, "ce.control_id", &mut values);
    let sql = format!(
        "SELECT ce.control_id, COUNT(*), \
         SUM(CASE WHEN e.review_status = 'accepted' AND (e.valid_until IS NULL OR e.valid_until > ?) THEN 1 ELSE 0 END), \
         SUM(CASE WHEN e.review_status = 'accepted' AND e.valid_until IS NOT NULL AND e.valid_until <= ? THEN 1 ELSE 0 END) \
         FROM control_evidence ce JOIN evidence e ON e.id = ce.evidence_id \
         WHERE ce.organization_id = ? AND e.archived_at IS NULL AND {filter} \
         GROUP BY ce.control_id"
    );
    for row in conn.query_all_raw(statement(backend, &sql, values)).await? {
        let id: String = row.try_get_by_index(0)?;
        let entry = stats.entry(id).or_default();
        entry.evidence_count = row.try_get_by_index(1)?;
        entry.valid_evidence = row.try_get_by_index::<Option<i64>>(2)?.unwrap_or(0);
        entry.expired_evidence = row.try_get_by_index::<Option<i64>>(3)?.unwrap_or(0);
    }

    let mut values: Vec<Value> = vec![org_id.into()];
    values.extend(OPEN_FINDING_STATUSES.iter().map(|s| Value::from(*s)));
    if matches!(scope, Scope::Framework(_)) {
        values.push(org_id.into());
    }
    let filter = scope_sql(&scope, "fc.control_id", &mut values);
    let sql = format!(
        "SELECT fc.control_id, COUNT(*), \
         SUM(CASE WHEN f.type = 'major_nonconformity' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN f.type = 'minor_nonconformity' THEN 1 ELSE 0 END) \
         FROM finding_controls fc JOIN findings f ON f.id = fc.finding_id \
         WHERE fc.organization_id = ? AND f.status IN (?, ?, ?) AND {filter} \
         GROUP BY fc.control_id"
    );
    for row in conn.query_all_raw(statement(backend, &sql, values)).await? {
        let id: String = row.try_get_by_index(0)?;
        let entry = stats.entry(id).or_default();
        entry.open_findings = row.try_get_by_index(1)?;
        entry.open_major = row.try_get_by_index::<Option<i64>>(2)?.unwrap_or(0);
        entry.open_minor = row.try_get_by_index::<Option<i64>>(3)?.unwrap_or(0);
    }
    Ok(stats)
}

/// The formula's facts for a control and its stats.
pub fn facts(status: ControlStatus, applicable: bool, stats: &ControlStats) -> ControlFacts {
    ControlFacts {
        status,
        applicable,
        has_valid_evidence: stats.valid_evidence > 0,
        open_major: stats.open_major > 0,
        open_minor: stats.open_minor > 0,
    }
}

/// The control's score (contract §7), from the same function the readiness report uses.
pub fn score(status: ControlStatus, applicable: bool, stats: &ControlStats) -> Option<f64> {
    control_score(&facts(status, applicable, stats))
}
