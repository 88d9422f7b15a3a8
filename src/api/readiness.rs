//! Readiness scores (docs/readiness.md): per-framework summaries, the explained report, and history.

// Route paths are relative to the organization's scope, `/api/v1/organizations/{org_id}`
// (see `api::configure`).

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

mod sections;

pub use sections::{ReadinessInventory, ReadinessSuppliers};

use crate::{
    api::{
        extract::{Ctx, OrgItemPath, OrgPath},
        pagination::{PageQuery, list_response, try_page},
        rendered::{Rendered, cached_response},
        responses::path_of,
    },
    domain::readiness::{
        BlockerKind, FORMULA_V1, FORMULA_VERSION, Level,
        risk::{LevelCount, RiskSection},
    },
    error::{AppError, Result},
    page_schema,
    service::{
        authz,
        readiness::{self, Counts, GroupReport, Report},
    },
};

const KEY: &str = "The adopted framework's key";

/// A framework's score and level.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessSummary {
    /// The framework's key.
    #[schema(example = "iso27001-2022")]
    pub framework: String,
    /// The framework's name.
    pub framework_name: String,
    /// `100 × Σ s(c) / N` over applicable controls, one decimal.
    #[schema(minimum = 0.0, maximum = 100.0, example = 72.4)]
    pub score: f64,
    /// `ready`, `at_risk` or `not_ready`.
    pub level: Level,
    /// When it was computed.
    pub computed_at: DateTime<Utc>,
}

impl From<&Report> for ReadinessSummary {
    fn from(r: &Report) -> Self {
        Self {
            framework: r.framework.key.clone(),
            framework_name: r.framework.name.clone(),
            score: r.assessment.score,
            level: r.assessment.level,
            computed_at: r.computed_at,
        }
    }
}

/// One summary per adopted framework.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessSummaryList {
    /// The adopted frameworks, in adoption order.
    pub items: Vec<ReadinessSummary>,
}

/// Applicable controls per status.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatusCountsDto {
    pub not_started: u64,
    pub planned: u64,
    pub in_progress: u64,
    pub implemented: u64,
}

/// Open findings per type.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FindingCountsDto {
    pub major_nonconformity: u64,
    pub minor_nonconformity: u64,
    pub observation: u64,
    pub opportunity_for_improvement: u64,
}

/// The counts that explain a score.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReadinessCounts {
    /// Every control of the framework.
    pub controls: u64,
    /// Controls that apply (`N` in the formula).
    pub applicable: u64,
    /// Controls excluded in the Statement of Applicability.
    pub not_applicable: u64,
    /// Applicable controls per status.
    pub by_status: StatusCountsDto,
    /// Applicable controls with valid (accepted, unexpired) evidence.
    pub with_valid_evidence: u64,
    /// Evidence linked to the framework's controls that has expired.
    pub evidence_expired: u64,
    /// Evidence linked to the framework's controls that expires within 30 days.
    pub evidence_expiring_30_days: u64,
    /// Open findings (open, in progress, resolved) linked to the framework's controls, per type.
    pub open_findings: FindingCountsDto,
}

impl From<Counts> for ReadinessCounts {
    fn from(c: Counts) -> Self {
        Self {
            controls: c.controls,
            applicable: c.applicable,
            not_applicable: c.not_applicable,
            by_status: StatusCountsDto {
                not_started: c.by_status.not_started,
                planned: c.by_status.planned,
                in_progress: c.by_status.in_progress,
                implemented: c.by_status.implemented,
            },
            with_valid_evidence: c.with_valid_evidence,
            evidence_expired: c.evidence_expired,
            evidence_expiring_30_days: c.evidence_expiring_30_days,
            open_findings: FindingCountsDto {
                major_nonconformity: c.open_findings.major_nonconformity,
                minor_nonconformity: c.open_findings.minor_nonconformity,
                observation: c.open_findings.observation,
                opportunity_for_improvement: c.open_findings.opportunity_for_improvement,
            },
        }
    }
}

/// A group's score.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupScore {
    /// The group's key.
    #[schema(example = "A.8")]
    pub group: String,
    /// Its title.
    #[schema(example = "Technological controls")]
    pub title: String,
    /// The group's score, computed like the framework's.
    #[schema(minimum = 0.0, maximum = 100.0)]
    pub score: f64,
    /// Its applicable controls.
    pub applicable: u64,
}

impl From<GroupReport> for GroupScore {
    fn from(g: GroupReport) -> Self {
        Self {
            group: g.group,
            title: g.title,
            score: g.score,
            applicable: g.applicable,
        }
    }
}

/// Something that stands between the framework and `ready`: about a control, a risk or an asset.
#[derive(Debug, Serialize, ToSchema)]
pub struct Blocker {
    /// What kind of blocker.
    pub kind: BlockerKind,
    /// The control concerned; null for the risk and supplier kinds (formula version 2).
    pub control_id: Option<String>,
    /// The control's reference (`A.8.12`), the risk's (`R-3`) for the risk kinds, or the
    /// supplier's name for the supplier kinds; null for `asset_not_risk_assessed`.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// For the risk kinds except `asset_not_risk_assessed`: the risk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_id: Option<String>,
    /// For `asset_not_risk_assessed`: the asset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset_id: Option<String>,
    /// For `major_nonconformity`: the finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding_id: Option<String>,
    /// For `expired_evidence`: the most recently expired evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence_id: Option<String>,
    /// For the supplier kinds: the supplier (its name is the `ref`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier_id: Option<String>,
}

/// The readiness of one framework, explained.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessReport {
    /// The framework's key.
    pub framework: String,
    /// The framework's name.
    pub framework_name: String,
    /// `100 × Σ s(c) / N` over applicable controls, one decimal.
    #[schema(minimum = 0.0, maximum = 100.0, example = 72.4)]
    pub score: f64,
    /// `ready`, `at_risk` or `not_ready`.
    pub level: Level,
    /// The formula's version: 2, or 1 when asked for with `formula_version=1`.
    #[schema(minimum = 1, maximum = 2, example = 2)]
    pub formula_version: i32,
    /// When it was computed.
    pub computed_at: DateTime<Utc>,
    /// The counts behind the score.
    pub counts: ReadinessCounts,
    /// The risk register's part (formula version 2; absent in version 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<ReadinessRisk>,
    /// The suppliers' part (formula version 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppliers: Option<ReadinessSuppliers>,
    /// The ML models and datasets (formula version 2, `ai-audit-checklist` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory: Option<ReadinessInventory>,
    /// Per-group scores, in the standard's order.
    pub groups: Vec<GroupScore>,
    /// What blocks `ready`: the controls' blockers in the standard's order, then the risk
    /// register's.
    pub blockers: Vec<Blocker>,
}

/// Open risks at one level of the organization's risk matrix.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskLevelCount {
    /// The risk level (1-based, lowest first).
    #[schema(minimum = 1, example = 3)]
    pub level: i16,
    /// Its name in the matrix.
    #[schema(example = "High")]
    pub name: String,
    /// Open risks at that level.
    pub count: u64,
}

/// Open risks per treatment.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RiskTreatmentCounts {
    pub undecided: u64,
    pub modify: u64,
    pub retain: u64,
    pub avoid: u64,
    pub share: u64,
}

/// The risk register's part of a report (formula version 2): counts over open risks and over
/// in-scope, active assets.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessRisk {
    /// The highest acceptable risk level of the matrix.
    #[schema(minimum = 1, example = 2)]
    pub appetite: i16,
    /// Its name.
    #[schema(example = "Medium")]
    pub appetite_name: String,
    /// Open risks.
    pub open_risks: u64,
    /// Open risks per inherent level, every level of the matrix listed.
    pub by_inherent_level: Vec<RiskLevelCount>,
    /// Open risks per residual level, every level of the matrix listed.
    pub by_residual_level: Vec<RiskLevelCount>,
    /// Open risks whose residual level is above appetite.
    pub above_appetite: u64,
    /// Open risks per treatment.
    pub by_treatment: RiskTreatmentCounts,
    /// Active assets in scope.
    pub assets_in_scope: u64,
    /// Of those, assets with no risk assessed in the last 12 months.
    pub assets_without_assessment: u64,
}

impl From<&RiskSection> for ReadinessRisk {
    fn from(r: &RiskSection) -> Self {
        let levels = |counts: &[LevelCount]| {
            counts
                .iter()
                .map(|c| RiskLevelCount {
                    level: c.level,
                    name: c.name.clone(),
                    count: c.count,
                })
                .collect()
        };
        let t = &r.by_treatment;
        Self {
            appetite: r.appetite,
            appetite_name: r.appetite_name.clone(),
            open_risks: r.open_risks,
            by_inherent_level: levels(&r.by_inherent_level),
            by_residual_level: levels(&r.by_residual_level),
            above_appetite: r.above_appetite,
            by_treatment: RiskTreatmentCounts {
                undecided: t.undecided,
                modify: t.modify,
                retain: t.retain,
                avoid: t.avoid,
                share: t.share,
            },
            assets_in_scope: r.assets_in_scope,
            assets_without_assessment: r.assets_without_assessment,
        }
    }
}

impl From<&Report> for ReadinessReport {
    fn from(r: &Report) -> Self {
        Self {
            framework: r.framework.key.clone(),
            framework_name: r.framework.name.clone(),
            score: r.assessment.score,
            level: r.assessment.level,
            formula_version: r.formula_version,
            computed_at: r.computed_at,
            counts: r.counts.clone().into(),
            risk: r.risk.as_ref().map(ReadinessRisk::from),
            suppliers: r.suppliers.as_ref().map(ReadinessSuppliers::from),
            inventory: r.inventory.as_ref().map(ReadinessInventory::from),
            groups: r.groups.iter().cloned().map(GroupScore::from).collect(),
            blockers: r
                .assessment
                .blockers
                .iter()
                .map(|b| Blocker {
                    kind: b.kind,
                    control_id: b.control_id.clone(),
                    reference: b.reference.clone(),
                    finding_id: b.finding_id.clone(),
                    evidence_id: b.evidence_id.clone(),
                    risk_id: b.risk_id.clone(),
                    asset_id: b.asset_id.clone(),
                    supplier_id: b.supplier_id.clone(),
                })
                .collect(),
        }
    }
}

/// How a snapshot was taken.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotTrigger {
    /// `POST …/history`.
    Manual,
    /// The background schedule (`ANNEXA_SNAPSHOT_INTERVAL`).
    Scheduled,
}

/// A stored readiness snapshot.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessSnapshot {
    /// The snapshot's id.
    pub id: String,
    /// The framework's key.
    pub framework: String,
    /// The score then.
    pub score: f64,
    /// The level then.
    pub level: Level,
    /// The formula's version then.
    pub formula_version: i32,
    /// When it was computed.
    pub computed_at: DateTime<Utc>,
    /// Manual or scheduled.
    pub trigger: SnapshotTrigger,
    /// The counts then.
    pub counts: ReadinessCounts,
    /// The group scores then.
    pub groups: Vec<GroupScore>,
    /// The risk register's part then (formula version 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<ReadinessRisk>,
    /// The suppliers' part then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppliers: Option<ReadinessSuppliers>,
    /// The ML inventory then (`ai-audit-checklist`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory: Option<ReadinessInventory>,
    /// The `hash` of the organization's latest audit event when the snapshot was stored: it
    /// pins the audit trail the snapshot was computed from (null before the first event, or for
    /// snapshots stored before the trail was chained).
    #[schema(example = "9f2c4e0b7a1d3c5e8f6a2b4d6c8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e")]
    pub audit_head_hash: Option<String>,
}

impl TryFrom<entity::readiness_snapshot::Model> for ReadinessSnapshot {
    type Error = AppError;

    fn try_from(s: entity::readiness_snapshot::Model) -> Result<Self> {
        let details = readiness::details(&s)?;
        Ok(Self {
            level: s.level,
            trigger: if s.trigger == "scheduled" {
                SnapshotTrigger::Scheduled
            } else {
                SnapshotTrigger::Manual
            },
            id: s.id,
            framework: s.framework_key,
            score: s.score,
            formula_version: s.formula_version,
            computed_at: s.computed_at,
            counts: details.counts.into(),
            groups: details.groups.into_iter().map(GroupScore::from).collect(),
            risk: details.risk.as_ref().map(ReadinessRisk::from),
            suppliers: details.suppliers.as_ref().map(ReadinessSuppliers::from),
            inventory: details.inventory.as_ref().map(ReadinessInventory::from),
            audit_head_hash: s.audit_head_hash,
        })
    }
}

page_schema!(
    ReadinessSnapshotPage,
    ReadinessSnapshot,
    "A page of readiness snapshots, oldest first."
);

/// Readiness of every adopted framework.
#[utoipa::path(
    tag = "readiness",
    params(OrgPath),
    responses(
        (status = 200, description = "One summary per adopted framework", body = ReadinessSummaryList),
    )
)]
#[get("/readiness")]
pub async fn readiness_list(ctx: Ctx, org: OrgPath) -> Result<HttpResponse> {
    let items = readiness::summaries(&ctx.db, &ctx.cache, &ctx.principal, &org.0)
        .await?
        .into_iter()
        .map(|report| ReadinessSummary::from(report.as_ref()))
        .collect();
    Ok(HttpResponse::Ok().json(ReadinessSummaryList { items }))
}

/// Which formula a report is computed with.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormulaQuery {
    /// The formula's version: 2 (the default) or 1 (without the risk register, as older
    /// snapshots were computed).
    #[param(minimum = 1, maximum = 2, example = 2)]
    pub formula_version: Option<i32>,
}

/// Readiness of one framework, explained.
///
/// The score (formula version 2, or 1 with `formula_version=1`), the level, the counts behind
/// them, the risk register's part, per-group scores and the blockers with the ids of the
/// controls, findings, evidence, risks and assets concerned.
#[utoipa::path(
    tag = "readiness",
    params(OrgPath, ("key" = String, Path, description = KEY, example = "iso27001-2022"), FormulaQuery),
    responses(
        (status = 200, description = "The readiness report", body = ReadinessReport),
    )
)]
#[get("/readiness/{key}")]
pub async fn readiness_get(
    ctx: Ctx,
    req: HttpRequest,
    path: OrgItemPath<String>,
    query: web::Query<FormulaQuery>,
) -> Result<HttpResponse> {
    let formula = match query.formula_version {
        None => FORMULA_VERSION,
        Some(v) if v == FORMULA_VERSION || v == FORMULA_V1 => v,
        Some(_) => return Err(AppError::bad_request("formula_version", "must be 1 or 2")),
    };
    let (org_id, key) = (path.org_id, path.item);
    let version = authz::readable_version(&ctx.db, &ctx.principal, &org_id).await?;
    cached_response(&ctx.cache, &req, &org_id, version, async || {
        let report =
            readiness::report_in(&ctx.db, &ctx.cache, &org_id, &key, version, formula).await?;
        let body = serde_json::to_vec(&ReadinessReport::from(report.as_ref()))
            .map_err(AppError::internal)?;
        let rendered = Rendered {
            body: body.into(),
            link: None,
        };
        Ok((rendered, report.fresh_until))
    })
    .await
}

/// The time window of the history.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only snapshots computed at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Only snapshots computed at or before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
}

/// Readiness history of one framework.
///
/// Stored snapshots, oldest first: scheduled ones (one per `ANNEXA_SNAPSHOT_INTERVAL`) and manual ones.
#[utoipa::path(
    tag = "readiness",
    params(OrgPath, ("key" = String, Path, description = KEY, example = "iso27001-2022"), HistoryQuery, PageQuery),
    responses(
        (status = 200, description = "A page of snapshots", body = ReadinessSnapshotPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
    )
)]
#[get("/readiness/{key}/history")]
pub async fn readiness_history_list(
    ctx: Ctx,
    req: HttpRequest,
    path: OrgItemPath<String>,
    query: web::Query<HistoryQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from > to
    {
        return Err(AppError::bad_request("from", "must not be after `to`"));
    }
    let page = readiness::history(
        &ctx.db,
        &ctx.principal,
        &path.org_id,
        &path.item,
        query.from,
        query.to,
        &page.request()?,
    )
    .await?;
    Ok(list_response(&req, try_page::<_, ReadinessSnapshot>(page)?))
}

/// Take a readiness snapshot now.
///
/// Editors and admins. Stores the current report in the history.
#[utoipa::path(
    tag = "readiness",
    params(OrgPath, ("key" = String, Path, description = KEY, example = "iso27001-2022")),
    responses(
        (status = 201, description = "The stored snapshot", body = ReadinessSnapshot,
            headers(("Location" = String, description = "The history's URL"))),
    )
)]
#[post("/readiness/{key}/history")]
pub async fn readiness_history_create(
    ctx: Ctx,
    req: HttpRequest,
    path: OrgItemPath<String>,
) -> Result<HttpResponse> {
    let snapshot =
        readiness::snapshot_now(&ctx.db, &ctx.principal, &path.org_id, &path.item).await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, path_of(&req)))
        .json(ReadinessSnapshot::try_from(snapshot)?))
}
