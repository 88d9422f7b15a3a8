//! Readiness reports (formula version 2, version 1 on request): facts gathered with a bounded
//! number of aggregate queries, scored by `domain::readiness`, summarized and explained.

mod risk;
mod snapshots;
mod supplier;

pub use snapshots::{
    SnapshotDetails, details, history, period_key, snapshot_now, take_scheduled_snapshots,
};

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Arc,
};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
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
        readiness::{
            self, Assessment, ControlFacts, ControlInput, FORMULA_V1, FORMULA_VERSION,
            risk::RiskSection,
            supplier::{InventorySection, SupplierSection},
        },
        role::Action,
    },
    error::{AppError, Result},
    service::{authz, controls, stats},
    store::db,
    store::{
        self,
        stats::{ControlStats, Scope},
    },
};
use entity::{control, framework, organization_framework};

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
    /// The formula's version: [`FORMULA_VERSION`], or [`FORMULA_V1`] when asked for.
    pub formula_version: i32,
    pub assessment: Assessment,
    pub counts: Counts,
    /// The risk register's part (formula version 2).
    pub risk: Option<RiskSection>,
    /// The suppliers' part (formula version 2).
    pub suppliers: Option<SupplierSection>,
    /// The ML models and datasets (formula version 2, the AI checklist only).
    pub inventory: Option<InventorySection>,
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

/// Computes a framework's report in formula version `formula` (1 or 2): the score, the counts,
/// the blockers with their ids and, in version 2, the risk section.
async fn compute<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    framework: framework::Model,
    formula: i32,
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
    let (mut suppliers, mut inventory) = (None, None);
    let (assessment, risk) = if formula == FORMULA_V1 {
        (readiness::assess(&inputs), None)
    } else {
        let today = now.date_naive();
        let risk = readiness::risk::assess_risks(&risk::input(conn, org_id).await?, today);
        // Due dates, reviews, acceptances and the twelve-month assessment window move at
        // midnight (UTC) without any write.
        if let Some(midnight) = today.succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0)) {
            fresh_until = fresh_until.min(midnight.and_utc());
        }
        let vendors =
            readiness::supplier::assess_suppliers(&supplier::input(conn, org_id).await?, today);
        if key == AI_CHECKLIST {
            let facts = supplier::inventory(conn, org_id).await?;
            inventory = Some(readiness::supplier::inventory(&facts));
        }
        let assessment = readiness::assess_v2(&inputs, &risk, &vendors);
        suppliers = Some(vendors.section);
        (assessment, Some(risk.section))
    };
    let groups = group_reports(&framework, &assessment)?;
    Ok(Report {
        framework,
        computed_at: now,
        fresh_until,
        formula_version: formula,
        assessment,
        counts,
        risk,
        suppliers,
        inventory,
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

/// The framework whose reports carry the inventory section.
const AI_CHECKLIST: &str = "ai-audit-checklist";

/// How long a cached report is served at most.
pub const CACHE_MINUTES: i64 = 10;
/// The report for one adopted framework at `version` (the organization's data version, read
/// with the caller's authorization): the cached one when it still holds, else a new one, computed
/// (six queries, five more for the risk part, two for the suppliers, two for the AI
/// checklist's inventory) and cached. A change that lands meanwhile moves
/// the version past the entry.
pub async fn report_at(
    db_conn: &DatabaseConnection,
    cache: &Cache,
    org_id: &str,
    key: &str,
    version: i64,
) -> Result<Arc<Report>> {
    report_in(db_conn, cache, org_id, key, version, FORMULA_VERSION).await
}

/// [`report_at`] in formula version `formula` (1 or 2).
pub async fn report_in(
    db_conn: &DatabaseConnection,
    cache: &Cache,
    org_id: &str,
    key: &str,
    version: i64,
    formula: i32,
) -> Result<Arc<Report>> {
    let cache_key = if formula == FORMULA_V1 {
        format!("v1:{key}")
    } else {
        key.to_owned()
    };
    cache
        .get_or_compute(org_id, &cache_key, version, async || {
            let framework = adopted_framework(db_conn, org_id, key).await?;
            let report = compute(db_conn, org_id, framework, formula).await?;
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
