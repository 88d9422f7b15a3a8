//! Per-control aggregates of evidence and findings, in one statement whatever the number of
//! controls: what control lists, the SoA and the readiness report are computed from.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::control;
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Value};

use crate::{
    domain::{
        control::ControlStatus,
        readiness::{ControlFacts, control_score},
    },
    error::Result,
    service::sql::statement,
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
    values.extend(OPEN_FINDING_STATUSES.iter().map(|s| Value::from(*s)));
    if matches!(scope, Scope::Framework(_)) {
        values.push(org_id.into());
    }
    let finding_filter = scope_sql(&scope, "fc.control_id", &mut values);
    // Kind 0: evidence (count, valid, expired); kind 1: open findings (count, major, minor).
    let sql = format!(
        "SELECT ce.control_id, 0, {EVIDENCE_AGGREGATES} \
         FROM control_evidence ce \
         WHERE ce.organization_id = ? AND ce.evidence_archived_at IS NULL AND {evidence_filter} \
         GROUP BY ce.control_id \
         UNION ALL \
         SELECT fc.control_id, 1, {FINDING_AGGREGATES} \
         FROM finding_controls fc \
         WHERE fc.organization_id = ? AND fc.finding_status IN (?, ?, ?) AND {finding_filter} \
         GROUP BY fc.control_id"
    );
    for row in conn.query_all_raw(statement(backend, &sql, values)).await? {
        let id: String = row.try_get_by_index(0)?;
        let kind: i32 = row.try_get_by_index(1)?;
        let count: i64 = row.try_get_by_index(2)?;
        let first = row.try_get_by_index::<Option<i64>>(3)?.unwrap_or(0);
        let second = row.try_get_by_index::<Option<i64>>(4)?.unwrap_or(0);
        let entry = stats.entry(id).or_default();
        if kind == 0 {
            entry.evidence_count = count;
            entry.valid_evidence = first;
            entry.expired_evidence = second;
        } else {
            entry.open_findings = count;
            entry.open_major = first;
            entry.open_minor = second;
        }
    }
    Ok(stats)
}

/// One control of the organization with its stats, in one statement (what a change to the
/// control reads inside its transaction); `None` when the organization has no such control.
/// On PostgreSQL the control's row stays locked until the transaction ends, so that concurrent
/// changes of one control take turns (SQLite writers take turns for the whole database); the
/// lock lets rows that refer to the control be inserted meanwhile (`NO KEY`).
pub async fn control_with_stats<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    control_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<(control::Model, ControlStats)>> {
    let backend = conn.get_database_backend();
    let lock = if backend == DbBackend::Postgres {
        " FOR NO KEY UPDATE OF c"
    } else {
        ""
    };
    // Aggregates without GROUP BY: always one row each, zero counts and null sums when nothing
    // is linked.
    let sql = format!(
        "SELECT c.*, e.n AS stats_evidence, e.a AS stats_valid, e.b AS stats_expired, \
         f.n AS stats_findings, f.a AS stats_major, f.b AS stats_minor \
         FROM controls c, \
         (SELECT {EVIDENCE_AGGREGATES} FROM control_evidence ce WHERE ce.organization_id = ? \
          AND ce.control_id = ? AND ce.evidence_archived_at IS NULL) e, \
         (SELECT {FINDING_AGGREGATES} FROM finding_controls fc WHERE fc.organization_id = ? \
          AND fc.control_id = ? AND fc.finding_status IN (?, ?, ?)) f \
         WHERE c.id = ? AND c.organization_id = ?{lock}"
    );
    // In the statement's order: the evidence aggregates and filter, the findings filter, the control.
    let [open, in_progress, resolved] = OPEN_FINDING_STATUSES;
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
    Ok(Some((control::Model::from_query_result(&row, "")?, stats)))
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

/// The stats of every control of one organization, for one data version.
#[derive(Debug)]
pub struct OrgStats {
    pub data_version: i64,
    /// When the next linked evidence expires (the stats change then without any write).
    pub fresh_until: DateTime<Utc>,
    pub by_control: HashMap<String, ControlStats>,
}

const CACHED_ORGANIZATIONS: usize = 1024;
const MAX_AGE_MINUTES: i64 = 10;

/// Per-organization control stats, valid while the organization's data version is unchanged
/// and no evidence expires: lists and the SoA read them instead of aggregating each time.
#[derive(Default)]
pub struct StatsCache {
    entries: std::sync::Mutex<HashMap<String, std::sync::Arc<OrgStats>>>,
    /// One computation at a time: concurrent misses wait for it instead of all computing.
    computing: tokio::sync::Mutex<()>,
}

impl StatsCache {
    fn get(
        &self,
        org_id: &str,
        version: i64,
        now: DateTime<Utc>,
    ) -> Option<std::sync::Arc<OrgStats>> {
        let entries = self.entries.lock().ok()?;
        let hit = entries.get(org_id)?;
        (hit.data_version == version && now < hit.fresh_until).then(|| hit.clone())
    }
}

/// The organization's data version, moved by every change to its data (404 when it is gone).
pub async fn data_version<C: ConnectionTrait>(conn: &C, org_id: &str) -> Result<i64> {
    use sea_orm::{EntityTrait, QuerySelect};
    entity::organization_version::Entity::find_by_id(org_id.to_owned())
        .select_only()
        .column(entity::organization_version::Column::DataVersion)
        .into_tuple::<i64>()
        .one(conn)
        .await?
        .ok_or(crate::error::AppError::NotFound("organization"))
}

/// The organization's control stats at `version` (its data version, read before): cached, or
/// computed (two queries) and cached.
pub async fn org_stats<C: ConnectionTrait>(
    conn: &C,
    cache: &StatsCache,
    org_id: &str,
    version: i64,
) -> Result<std::sync::Arc<OrgStats>> {
    let now = crate::db::now();
    if let Some(hit) = cache.get(org_id, version, now) {
        return Ok(hit);
    }
    let _computing = cache.computing.lock().await;
    if let Some(hit) = cache.get(org_id, version, now) {
        return Ok(hit);
    }
    let by_control = control_stats(conn, org_id, Scope::Organization, now).await?;
    let backend = conn.get_database_backend();
    let next_expiry: Option<DateTime<Utc>> = conn
        .query_one_raw(statement(
            backend,
            "SELECT MIN(e.valid_until) FROM evidence e WHERE e.organization_id = ? AND e.archived_at IS NULL \
             AND e.valid_until > ?",
            vec![org_id.into(), now.into()],
        ))
        .await?
        .map(|row| row.try_get_by_index::<Option<DateTime<Utc>>>(0))
        .transpose()?
        .flatten();
    let max_age = now + chrono::Duration::minutes(MAX_AGE_MINUTES);
    let stats = std::sync::Arc::new(OrgStats {
        data_version: version,
        fresh_until: next_expiry.map_or(max_age, |e| e.min(max_age)),
        by_control,
    });
    if let Ok(mut entries) = cache.entries.lock() {
        if entries.len() >= CACHED_ORGANIZATIONS {
            entries.clear();
        }
        entries.insert(org_id.to_owned(), stats.clone());
    }
    Ok(stats)
}
