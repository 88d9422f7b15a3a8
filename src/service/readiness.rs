//! Readiness reports (formula version 1): facts gathered with a bounded number of aggregate
//! queries, scored by `domain::readiness`, summarized, explained and kept as history.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Arc,
};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::OnConflict,
};
use serde::{Deserialize, Serialize};

use crate::{
    cache::{Cache, Cached},
    catalog::GroupData,
    domain::{
        control::{ControlStatus, is_justified},
        evidence::ReviewStatus,
        finding::FindingType,
        principal::Principal,
        readiness::{self, Assessment, ControlFacts, ControlInput, FORMULA_VERSION},
        role::Action,
    },
    error::{AppError, Result},
    service::{
        authz, controls,
        page::{Page, PageRequest},
        stats,
    },
    store::db,
    store::{
        self,
        stats::{ControlStats, Scope},
    },
};
use entity::{control, framework, organization_framework, readiness_snapshot};

/// Applicable controls per status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    pub not_started: u64,
    pub planned: u64,
    pub in_progress: u64,
    pub implemented: u64,
}

/// Open findings per type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingCounts {
    pub major_nonconformity: u64,
    pub minor_nonconformity: u64,
    pub observation: u64,
    pub opportunity_for_improvement: u64,
}

/// The counts a report explains its score with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub controls: u64,
    pub applicable: u64,
    pub not_applicable: u64,
    pub by_status: StatusCounts,
    pub with_valid_evidence: u64,
    pub evidence_expired: u64,
    pub evidence_expiring_30_days: u64,
    pub open_findings: FindingCounts,
}

/// A group's score with its title.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupReport {
    pub group: String,
    pub title: String,
    pub score: f64,
    pub applicable: u64,
}

/// A full readiness report.
#[derive(Debug, Clone)]
pub struct Report {
    pub framework: framework::Model,
    pub computed_at: DateTime<Utc>,
    /// Until when the report holds without any change to the data: the next moment evidence
    /// expires or enters its last 30 days (at most [`CACHE_MINUTES`] ahead).
    pub fresh_until: DateTime<Utc>,
    pub assessment: Assessment,
    pub counts: Counts,
    pub groups: Vec<GroupReport>,
}

impl Cached for Report {
    const NAMESPACE: &'static str = "readiness";

    fn weight(&self) -> usize {
        let groups: usize = self
            .groups
            .iter()
            .map(|g| 64 + g.group.len() + g.title.len())
            .sum();
        let blockers = self.assessment.blockers.len() * 160;
        std::mem::size_of::<Self>() + self.framework.groups.len() + groups + blockers
    }
}

async fn adopted_framework<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    key: &str,
) -> Result<framework::Model> {
    let adopted = organization_framework::Entity::find()
        .filter(organization_framework::Column::OrganizationId.eq(org_id))
        .filter(organization_framework::Column::FrameworkKey.eq(key))
        .one(conn)
        .await?;
    if adopted.is_none() {
        return Err(AppError::NotFound("adopted framework"));
    }
    framework::Entity::find_by_id(key.to_owned())
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("framework"))
}

/// What a detailed report needs beyond the per-control stats.
#[derive(Default)]
struct Detail {
    /// Open major nonconformities per control, by id.
    majors: HashMap<String, Vec<String>>,
    /// Expired accepted evidence per control, the most recently expired first.
    expired: HashMap<String, Vec<String>>,
}

/// The blockers' ids, the distinct evidence expired / expiring within 30 days and open findings
/// per type linked to the framework's controls, and the next moment any of it changes. Two
/// scans of the link indexes (only the evidence that expires within the report's horizon);
/// distinct items are counted with hash sets here, so the cost grows linearly with the links.
async fn detail<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    key: &str,
    now: DateTime<Utc>,
    counts: &mut Counts,
    fresh_until: &mut DateTime<Utc>,
) -> Result<Detail> {
    let mut detail = Detail::default();
    let mut open: [HashSet<String>; 4] = Default::default();
    for link in store::readiness::open_finding_links(conn, org_id, key).await? {
        let slot = match link.finding_type {
            FindingType::MajorNonconformity => {
                detail
                    .majors
                    .entry(link.control_id)
                    .or_default()
                    .push(link.finding_id.clone());
                0
            }
            FindingType::MinorNonconformity => 1,
            FindingType::Observation => 2,
            FindingType::OpportunityForImprovement => 3,
        };
        open[slot].insert(link.finding_id);
    }
    let [major, minor, observation, ofi] = open.map(|ids| ids.len() as u64);
    counts.open_findings = FindingCounts {
        major_nonconformity: major,
        minor_nonconformity: minor,
        observation,
        opportunity_for_improvement: ofi,
    };
    for ids in detail.majors.values_mut() {
        ids.sort_unstable();
    }

    // Evidence past the horizon cannot change the report before it is recomputed anyway.
    let in_30_days = now + Duration::days(30);
    let horizon = in_30_days + Duration::minutes(CACHE_MINUTES);
    let mut expired: HashMap<String, Vec<(DateTime<Utc>, String)>> = HashMap::new();
    let (mut expired_items, mut expiring_items) = (HashSet::new(), HashSet::new());
    for link in store::readiness::evidence_links_ending_by(conn, org_id, key, horizon).await? {
        let (control, id, until) = (link.control_id, link.evidence_id, link.evidence_valid_until);
        if until <= now {
            if link.evidence_review_status == ReviewStatus::Accepted {
                expired
                    .entry(control)
                    .or_default()
                    .push((until, id.clone()));
            }
            expired_items.insert(id);
        } else if until <= in_30_days {
            // It expires then; it entered its last 30 days already.
            *fresh_until = (*fresh_until).min(until);
            expiring_items.insert(id);
        } else {
            // It enters its last 30 days then.
            *fresh_until = (*fresh_until).min(until - Duration::days(30));
        }
    }
    counts.evidence_expired = expired_items.len() as u64;
    counts.evidence_expiring_30_days = expiring_items.len() as u64;
    detail.expired = expired
        .into_iter()
        .map(|(control, mut items)| {
            items.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            (control, items.into_iter().map(|(_, id)| id).collect())
        })
        .collect();
    Ok(detail)
}

/// Computes a framework's report: the score, the counts, and the blockers with their ids.
async fn compute<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    framework: framework::Model,
) -> Result<Report> {
    let now = db::now();
    let key = framework.key.clone();
    let controls = controls::ordered_controls(conn, org_id, &key).await?;
    let mut all_stats =
        store::stats::control_stats(conn, org_id, Scope::Framework(&key), now).await?;
    let mut counts = Counts::default();
    let mut fresh_until = now + Duration::minutes(CACHE_MINUTES);
    let mut detail = detail(conn, org_id, &key, now, &mut counts, &mut fresh_until).await?;
    let inputs: Vec<ControlInput> = controls
        .into_iter()
        .map(|c| {
            let stats = all_stats.remove(&c.id).unwrap_or_default();
            let facts = stats::facts(c.status, c.applicable, &stats);
            count(&mut counts, &c, &facts);
            input(c, facts, &stats, &mut detail)
        })
        .collect();
    let assessment = readiness::assess(&inputs);
    let groups = group_reports(&framework, &assessment)?;
    Ok(Report {
        framework,
        computed_at: now,
        fresh_until,
        assessment,
        counts,
        groups,
    })
}

/// Counts one control into the report's counts.
fn count(counts: &mut Counts, c: &control::Model, facts: &ControlFacts) {
    counts.controls += 1;
    if !c.applicable {
        counts.not_applicable += 1;
        return;
    }
    counts.applicable += 1;
    match c.status {
        ControlStatus::NotStarted => counts.by_status.not_started += 1,
        ControlStatus::Planned => counts.by_status.planned += 1,
        ControlStatus::InProgress => counts.by_status.in_progress += 1,
        ControlStatus::Implemented => counts.by_status.implemented += 1,
    }
    if facts.has_valid_evidence {
        counts.with_valid_evidence += 1;
    }
}

/// The formula's input for one control: its facts and the ids behind its blockers, taken from
/// `detail`. Should the stats count a blocker the detail could not name, an empty id stands for
/// it, so that the level still sees it.
fn input(
    c: control::Model,
    facts: ControlFacts,
    stats: &ControlStats,
    detail: &mut Detail,
) -> ControlInput {
    let open_major_finding_ids = match detail.majors.remove(&c.id) {
        Some(ids) => ids,
        None if facts.open_major => vec![String::new()],
        None => Vec::new(),
    };
    let expired_evidence_ids = match detail.expired.remove(&c.id) {
        Some(ids) => ids,
        None if stats.expired_evidence > 0 => vec![String::new()],
        None => Vec::new(),
    };
    ControlInput {
        justified: is_justified(c.justification.as_deref()),
        id: c.id,
        reference: c.reference,
        group: c.group_key,
        kind: c.kind,
        facts,
        expired_evidence_ids,
        open_major_finding_ids,
    }
}

/// The assessment's group scores with the framework's titles for them.
fn group_reports(
    framework: &framework::Model,
    assessment: &Assessment,
) -> Result<Vec<GroupReport>> {
    let titles: BTreeMap<String, String> =
        serde_json::from_str::<Vec<GroupData>>(&framework.groups)
            .map_err(AppError::internal)?
            .into_iter()
            .map(|g| (g.key, g.title))
            .collect();
    Ok(assessment
        .groups
        .iter()
        .map(|g| GroupReport {
            title: titles.get(&g.group).cloned().unwrap_or_else(|| {
                if g.group == "custom" {
                    "Custom controls".to_owned()
                } else {
                    g.group.clone()
                }
            }),
            group: g.group.clone(),
            score: g.score,
            applicable: g.applicable as u64,
        })
        .collect())
}

/// How long a cached report is served at most.
pub const CACHE_MINUTES: i64 = 10;
/// The report for one adopted framework at `version` (the organization's data version, read
/// with the caller's authorization): the cached one when it still holds, else a new one, computed
/// (six queries) and cached. A change that lands meanwhile moves the version past the entry.
pub async fn report_at(
    db_conn: &DatabaseConnection,
    cache: &Cache,
    org_id: &str,
    key: &str,
    version: i64,
) -> Result<Arc<Report>> {
    cache
        .get_or_compute(org_id, key, version, async || {
            let framework = adopted_framework(db_conn, org_id, key).await?;
            let report = compute(db_conn, org_id, framework).await?;
            let fresh_until = report.fresh_until;
            Ok((report, fresh_until))
        })
        .await
}

/// The report of every adopted framework, in adoption order.
pub async fn summaries(
    db_conn: &DatabaseConnection,
    cache: &Cache,
    principal: &Principal,
    org_id: &str,
) -> Result<Vec<Arc<Report>>> {
    let (_, version) = authz::authorize_versioned(db_conn, principal, org_id, Action::Read).await?;
    reports_at(db_conn, cache, org_id, version).await
}

/// The report of every adopted framework, in adoption order, without an authorization check
/// (background tasks such as the webhook readiness watch).
pub async fn org_reports(
    db_conn: &DatabaseConnection,
    cache: &Cache,
    org_id: &str,
) -> Result<Vec<Arc<Report>>> {
    let version = store::stats::data_version(db_conn, org_id).await?;
    reports_at(db_conn, cache, org_id, version).await
}

async fn reports_at(
    db_conn: &DatabaseConnection,
    cache: &Cache,
    org_id: &str,
    version: i64,
) -> Result<Vec<Arc<Report>>> {
    let keys: Vec<String> = organization_framework::Entity::find()
        .select_only()
        .column(organization_framework::Column::FrameworkKey)
        .filter(organization_framework::Column::OrganizationId.eq(org_id))
        .order_by_asc(organization_framework::Column::Id)
        .into_tuple()
        .all(db_conn)
        .await?;
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        out.push(report_at(db_conn, cache, org_id, &key, version).await?);
    }
    Ok(out)
}

/// What a snapshot keeps besides score and level.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotDetails {
    pub counts: Counts,
    pub groups: Vec<GroupReport>,
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
    };
    Ok(readiness_snapshot::ActiveModel {
        id: Set(db::new_id()),
        organization_id: Set(org_id.to_owned()),
        framework_key: Set(report.framework.key.clone()),
        score: Set(report.assessment.score),
        level: Set(report.assessment.level),
        formula_version: Set(FORMULA_VERSION),
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
    let report = compute(db_conn, org_id, framework).await?;
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
        let report = compute(db_conn, &a.organization_id, framework).await?;
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
