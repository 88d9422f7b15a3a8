//! The risks a control treats: shown with the control (`risk_ids`, the SoA's `risks`), and
//! the rule that a control treating an open risk stays applicable.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
};

use crate::{
    domain::risk::{RiskStatus, risk_ref},
    error::{AppError, Result},
};
use entity::{risk, risk_control};

use super::ControlView;

/// A risk linked to a control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedRisk {
    pub id: String,
    /// `R-<n>`.
    pub reference: String,
}

/// The linked risks read with a control (`store::stats::control_with_stats`): `(id, number)`.
pub fn linked(rows: Vec<(String, i32)>) -> Vec<LinkedRisk> {
    rows.into_iter()
        .map(|(id, number)| LinkedRisk {
            id,
            reference: risk_ref(number),
        })
        .collect()
}

/// Fills in the risks (open and closed) linking each control, sorted by risk id: one query.
pub async fn attach<C: ConnectionTrait>(conn: &C, views: &mut [ControlView]) -> Result<()> {
    if views.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = views.iter().map(|v| v.control.id.clone()).collect();
    let rows: Vec<(String, String, i32)> = risk_control::Entity::find()
        .select_only()
        .column(risk_control::Column::ControlId)
        .column(risk_control::Column::RiskId)
        .column(risk::Column::RefNumber)
        .join(
            JoinType::InnerJoin,
            risk_control::Entity::belongs_to(risk::Entity)
                .from(risk_control::Column::RiskId)
                .to(risk::Column::Id)
                .into(),
        )
        .filter(risk_control::Column::ControlId.is_in(ids))
        .order_by_asc(risk_control::Column::RiskId)
        .into_tuple()
        .all(conn)
        .await?;
    let mut by_control: HashMap<String, Vec<LinkedRisk>> = HashMap::new();
    for (control_id, risk_id, number) in rows {
        by_control.entry(control_id).or_default().push(LinkedRisk {
            id: risk_id,
            reference: risk_ref(number),
        });
    }
    for view in views {
        view.risks = by_control.remove(&view.control.id).unwrap_or_default();
    }
    Ok(())
}

/// 409 `control-treats-risk` naming the open risks the control treats, if any (one query).
pub async fn refuse_if_treating<C: ConnectionTrait>(conn: &C, control_id: &str) -> Result<()> {
    let linked = risk_control::Entity::find()
        .select_only()
        .column(risk_control::Column::RiskId)
        .filter(risk_control::Column::ControlId.eq(control_id))
        .into_query();
    let open: Vec<i32> = risk::Entity::find()
        .select_only()
        .column(risk::Column::RefNumber)
        .filter(risk::Column::Id.in_subquery(linked))
        .filter(risk::Column::Status.eq(RiskStatus::Open.as_str()))
        .order_by_asc(risk::Column::RefNumber)
        .into_tuple()
        .all(conn)
        .await?;
    if open.is_empty() {
        return Ok(());
    }
    Err(AppError::conflict_with_risks(
        "control-treats-risk",
        "the control treats open risks and must stay applicable",
        open.into_iter().map(risk_ref).collect(),
    ))
}
