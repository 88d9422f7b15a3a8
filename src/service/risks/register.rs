//! The registers: every risk matching a filter (the risk register), and the risk treatment plan
//! (the open risks above the appetite). A bounded number of queries whatever their size: the
//! caller, the matrix, the risks, and the links of the whole organization.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::{
    domain::{principal::Principal, risk::RiskStatus, role::Action},
    error::Result,
    service::authz,
};
use entity::risk;

use super::{RiskFilter, RiskView, filtered, links, matrix, view_of};

async fn with_links(
    db_conn: &DatabaseConnection,
    org_id: &str,
    matrix: &crate::domain::risk::RiskMatrix,
    rows: Vec<risk::Model>,
) -> Result<Vec<RiskView>> {
    let mut links = links::load(db_conn, links::Scope::Organization(org_id)).await?;
    Ok(rows
        .into_iter()
        .map(|r| view_of(matrix, r, &mut links))
        .collect())
}

/// Every risk matching `filter`, by ref.
pub async fn risk_register(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    filter: &RiskFilter,
) -> Result<Vec<RiskView>> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    let matrix = matrix::current(db_conn, org_id).await?;
    let rows = filtered(org_id, &matrix, filter)
        .filter(risk::Column::OrganizationId.eq(org_id))
        .order_by_asc(risk::Column::RefNumber)
        .all(db_conn)
        .await?;
    with_links(db_conn, org_id, &matrix, rows).await
}

/// Every open risk whose residual level is above the appetite, highest residual level first,
/// then by ref.
pub async fn treatment_plan(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
) -> Result<Vec<RiskView>> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    let matrix = matrix::current(db_conn, org_id).await?;
    let rows = risk::Entity::find()
        .filter(risk::Column::OrganizationId.eq(org_id))
        .filter(risk::Column::Status.eq(RiskStatus::Open.as_str()))
        .filter(risk::Column::ResidualLevel.gt(matrix.appetite))
        .order_by_desc(risk::Column::ResidualLevel)
        .order_by_asc(risk::Column::RefNumber)
        .all(db_conn)
        .await?;
    with_links(db_conn, org_id, &matrix, rows).await
}
