//! The risk register as formula version 2 sees it (`domain::readiness::risk`): the matrix, the
//! risks, their assets and pending planned controls, and the assets: five queries per
//! organization whatever the number of risks.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait};

use crate::{
    domain::{
        control::ControlStatus,
        readiness::risk::{AssetFacts, RiskFacts, RiskInput},
    },
    error::Result,
    service::risks::matrix,
};
use entity::{
    asset, control, risk, risk_asset, risk_control,
    values::{AssetStatus, RiskControlRole, RiskStatus, RiskTreatment},
};

/// A risk's columns the formula reads.
type RiskRow = (
    String,
    i32,
    RiskStatus,
    i16,
    i16,
    RiskTreatment,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<NaiveDate>,
);

/// Gathers the formula's view of the organization's risk register.
pub async fn input<C: ConnectionTrait>(conn: &C, org_id: &str) -> Result<RiskInput> {
    let matrix = matrix::current(conn, org_id).await?;
    let level_names: Vec<String> = (1..=i16::MAX)
        .map_while(|level| matrix.level_name(level).map(str::to_owned))
        .collect();

    let rows: Vec<RiskRow> = risk::Entity::find()
        .select_only()
        .columns([
            risk::Column::Id,
            risk::Column::RefNumber,
            risk::Column::Status,
            risk::Column::InherentLevel,
            risk::Column::ResidualLevel,
            risk::Column::Treatment,
            risk::Column::TreatmentDue,
            risk::Column::AssessedAt,
            risk::Column::ReviewDue,
            risk::Column::AcceptanceExpiresOn,
        ])
        .filter(risk::Column::OrganizationId.eq(org_id))
        .into_tuple()
        .all(conn)
        .await?;

    let mut assets_of: HashMap<String, Vec<String>> = HashMap::new();
    let links: Vec<(String, String)> = risk_asset::Entity::find()
        .select_only()
        .columns([risk_asset::Column::RiskId, risk_asset::Column::AssetId])
        .filter(risk_asset::Column::OrganizationId.eq(org_id))
        .into_tuple()
        .all(conn)
        .await?;
    for (risk_id, asset_id) in links {
        assets_of.entry(risk_id).or_default().push(asset_id);
    }

    let not_implemented = control::Entity::find()
        .select_only()
        .column(control::Column::Id)
        .filter(control::Column::OrganizationId.eq(org_id))
        .filter(control::Column::Status.ne(ControlStatus::Implemented))
        .into_query();
    let pending: HashSet<String> = risk_control::Entity::find()
        .select_only()
        .column(risk_control::Column::RiskId)
        .filter(risk_control::Column::OrganizationId.eq(org_id))
        .filter(risk_control::Column::Role.eq(RiskControlRole::Planned))
        .filter(risk_control::Column::ControlId.in_subquery(not_implemented))
        .into_tuple::<String>()
        .all(conn)
        .await?
        .into_iter()
        .collect();

    let risks = rows
        .into_iter()
        .map(
            |(
                id,
                number,
                status,
                inherent,
                residual,
                treatment,
                due,
                assessed,
                review,
                expires,
            )| {
                RiskFacts {
                    reference: format!("R-{number}"),
                    status,
                    inherent_level: inherent,
                    residual_level: residual,
                    treatment,
                    treatment_due: due,
                    assessed_at: assessed,
                    review_due: review,
                    acceptance_expires_on: expires,
                    planned_control_pending: pending.contains(&id),
                    asset_ids: assets_of.remove(&id).unwrap_or_default(),
                    id,
                }
            },
        )
        .collect();

    let assets = asset::Entity::find()
        .select_only()
        .columns([
            asset::Column::Id,
            asset::Column::InScope,
            asset::Column::Status,
        ])
        .filter(asset::Column::OrganizationId.eq(org_id))
        .into_tuple::<(String, bool, AssetStatus)>()
        .all(conn)
        .await?
        .into_iter()
        .map(|(id, in_scope, status)| AssetFacts {
            id,
            in_scope,
            status,
        })
        .collect();

    Ok(RiskInput {
        level_names,
        appetite: matrix.appetite,
        risks,
        assets,
    })
}
