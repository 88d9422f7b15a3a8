//! The organization's risk matrix (docs/risks.md): read by everyone, replaced by admins.

use actix_web::{HttpResponse, get, put};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    api::{
        body::Body,
        extract::{Ctx, OrgPath, Precondition},
        responses::{Conflict, IfMatchHeader, ok_with_etag},
    },
    domain::risk::{RiskLevel, RiskMatrix, ScaleLevel},
    error::Result,
    service::risks::matrix::{self, MatrixView},
};

/// One step of the likelihood or impact scale.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatrixScaleLevel {
    /// Its name (1–100 characters).
    #[schema(example = "Likely")]
    pub name: String,
    /// What it means.
    #[serde(default)]
    #[schema(example = "Will probably happen in most circumstances")]
    pub description: String,
}

/// One risk level.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatrixRiskLevel {
    /// Its name (1–100 characters).
    #[schema(example = "High")]
    pub name: String,
}

/// A risk matrix to set. Level numbers are 1-based, lowest first.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskMatrixUpdate {
    /// The likelihood scale, lowest first (3 to 10 levels).
    pub likelihood_levels: Vec<MatrixScaleLevel>,
    /// The impact scale, lowest first (3 to 10 levels).
    pub impact_levels: Vec<MatrixScaleLevel>,
    /// The risk levels, lowest first (2 to 6).
    pub risk_levels: Vec<MatrixRiskLevel>,
    /// One row per likelihood level, each with one risk level (1-based) per impact level.
    #[schema(example = json!([[1, 1, 2], [1, 2, 3], [2, 3, 3]]))]
    pub grid: Vec<Vec<i16>>,
    /// The highest acceptable risk level (1-based).
    #[schema(example = 2)]
    pub appetite: i16,
}

/// The organization's risk matrix: likelihood × impact → risk level, and the appetite.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskMatrixOut {
    /// The likelihood scale, lowest first.
    pub likelihood_levels: Vec<MatrixScaleLevel>,
    /// The impact scale, lowest first.
    pub impact_levels: Vec<MatrixScaleLevel>,
    /// The risk levels, lowest first.
    pub risk_levels: Vec<MatrixRiskLevel>,
    /// One row per likelihood level, each with one risk level (1-based) per impact level.
    pub grid: Vec<Vec<i16>>,
    /// The highest acceptable risk level (1-based).
    pub appetite: i16,
    /// The name of the appetite's risk level.
    pub appetite_name: Option<String>,
    /// Incremented on every change (1 while the default applies); the `ETag` is `"<version>"`.
    pub version: i32,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

fn scale_out(levels: Vec<ScaleLevel>) -> Vec<MatrixScaleLevel> {
    levels
        .into_iter()
        .map(|l| MatrixScaleLevel {
            name: l.name,
            description: l.description,
        })
        .collect()
}

fn scale_in(levels: Vec<MatrixScaleLevel>) -> Vec<ScaleLevel> {
    levels
        .into_iter()
        .map(|l| ScaleLevel {
            name: l.name,
            description: l.description,
        })
        .collect()
}

impl From<MatrixView> for RiskMatrixOut {
    fn from(v: MatrixView) -> Self {
        let appetite_name = v.matrix.level_name(v.matrix.appetite).map(str::to_owned);
        let m = v.matrix;
        Self {
            likelihood_levels: scale_out(m.likelihood_levels),
            impact_levels: scale_out(m.impact_levels),
            risk_levels: m
                .risk_levels
                .into_iter()
                .map(|l| MatrixRiskLevel { name: l.name })
                .collect(),
            grid: m.grid,
            appetite: m.appetite,
            appetite_name,
            version: v.version,
            updated_at: v.updated_at,
        }
    }
}

impl From<RiskMatrixUpdate> for RiskMatrix {
    fn from(u: RiskMatrixUpdate) -> Self {
        Self {
            likelihood_levels: scale_in(u.likelihood_levels),
            impact_levels: scale_in(u.impact_levels),
            risk_levels: u
                .risk_levels
                .into_iter()
                .map(|l| RiskLevel { name: l.name })
                .collect(),
            grid: u.grid,
            appetite: u.appetite,
        }
    }
}

/// Get the risk matrix.
///
/// Until an admin changes it, the default applies (version 1): 5 × 5, four risk levels by the
/// product of likelihood and impact, appetite `Medium`.
#[utoipa::path(
    tag = "risks",
    params(OrgPath),
    responses(
        (status = 200, description = "The risk matrix", body = RiskMatrixOut,
            headers(("ETag" = String, description = "The version's entity tag"))),
    )
)]
#[get("/risk-matrix")]
pub async fn risk_matrix_get(ctx: Ctx, org: OrgPath) -> Result<HttpResponse> {
    let view = matrix::get(&ctx.db, &ctx.principal, &org.0).await?;
    let out = RiskMatrixOut::from(view);
    Ok(ok_with_etag(out.version, &out))
}

/// Replace the risk matrix.
///
/// Admins. Honours `If-Match`. Every risk's levels are recomputed in the same transaction. A
/// matrix that would leave a risk's rating outside its scales is 409 `rating-orphaned`, naming
/// the risks (`risks`); an invalid matrix is 422 naming the field (`grid[2][4]`…).
#[utoipa::path(
    tag = "risks",
    request_body = RiskMatrixUpdate,
    params(OrgPath, IfMatchHeader),
    responses(
        (status = 200, description = "The new risk matrix", body = RiskMatrixOut,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 409, response = Conflict),
    )
)]
#[put("/risk-matrix")]
pub async fn risk_matrix_put(
    ctx: Ctx,
    if_match: Precondition,
    org: OrgPath,
    body: Body<RiskMatrixUpdate>,
) -> Result<HttpResponse> {
    let matrix = RiskMatrix::from(body.into_inner());
    let view = matrix::replace(&ctx.db, &ctx.principal, &org.0, if_match.as_ref(), matrix).await?;
    let out = RiskMatrixOut::from(view);
    Ok(ok_with_etag(out.version, &out))
}
