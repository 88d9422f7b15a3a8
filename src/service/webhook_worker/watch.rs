//! Events no request causes: readiness score changes, watched by comparing stored scores.

use std::{collections::BTreeMap, sync::Arc};

use chrono::{DateTime, SecondsFormat, Utc};
use entity::webhook_readiness_state;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    sea_query::{Expr, OnConflict},
};
use serde_json::json;

use crate::{
    cache::Cache,
    domain::webhook::EventType,
    error::{AppError, Result},
    service::{
        readiness,
        webhooks::{self},
    },
    store::db,
};

use super::Announced;

/// The current scores of an organization's frameworks, and until when they hold.
pub(super) async fn current_scores(
    db_conn: &DatabaseConnection,
    cache: &Cache,
    org_id: &str,
) -> Result<(
    BTreeMap<String, Announced>,
    Vec<Arc<readiness::Report>>,
    DateTime<Utc>,
)> {
    let reports = readiness::org_reports(db_conn, cache, org_id).await?;
    let mut fresh_until = Utc::now() + chrono::Duration::minutes(readiness::CACHE_MINUTES);
    let mut scores = BTreeMap::new();
    for report in &reports {
        fresh_until = std::cmp::min(fresh_until, report.fresh_until);
        scores.insert(
            report.framework.key.clone(),
            Announced {
                score: report.assessment.score,
                level: report.assessment.level.as_str().to_owned(),
            },
        );
    }
    Ok((scores, reports, fresh_until))
}

/// Records the organization's current scores as announced without announcing them: the
/// starting point that later changes are measured from. Does nothing when one exists.
pub async fn readiness_baseline(
    db_conn: &DatabaseConnection,
    cache: &Cache,
    org_id: &str,
) -> Result<()> {
    let exists = webhook_readiness_state::Entity::find_by_id(org_id.to_owned())
        .one(db_conn)
        .await?
        .is_some();
    if exists {
        return Ok(());
    }
    let (scores, _, _) = current_scores(db_conn, cache, org_id).await?;
    insert_baseline(db_conn, org_id, &scores).await
}

pub(super) async fn insert_baseline<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    scores: &BTreeMap<String, Announced>,
) -> Result<()> {
    webhook_readiness_state::Entity::insert(webhook_readiness_state::ActiveModel {
        organization_id: Set(org_id.to_owned()),
        scores: Set(serde_json::to_string(scores).map_err(AppError::internal)?),
        updated_at: Set(db::now()),
    })
    .on_conflict(
        OnConflict::column(webhook_readiness_state::Column::OrganizationId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Compares the organization's scores with the last announced ones and queues a
/// `readiness.score_changed` per framework whose score or level moved. A compare-and-set on the
/// stored scores keeps replicas from announcing one change twice. Returns until when the
/// scores hold.
pub(super) async fn announce_readiness(
    db_conn: &DatabaseConnection,
    cache: &Cache,
    org_id: &str,
) -> Result<DateTime<Utc>> {
    let (scores, reports, fresh_until) = current_scores(db_conn, cache, org_id).await?;
    let stored = webhook_readiness_state::Entity::find_by_id(org_id.to_owned())
        .one(db_conn)
        .await?;
    let Some(stored) = stored else {
        insert_baseline(db_conn, org_id, &scores).await?;
        return Ok(fresh_until);
    };
    let encoded = serde_json::to_string(&scores).map_err(AppError::internal)?;
    if encoded == stored.scores {
        return Ok(fresh_until);
    }
    let previous: BTreeMap<String, Announced> =
        serde_json::from_str(&stored.scores).unwrap_or_default();
    let txn = db::begin_write(db_conn).await?;
    let swapped = webhook_readiness_state::Entity::update_many()
        .col_expr(
            webhook_readiness_state::Column::Scores,
            Expr::value(encoded),
        )
        .col_expr(
            webhook_readiness_state::Column::UpdatedAt,
            Expr::value(db::now()),
        )
        .filter(webhook_readiness_state::Column::OrganizationId.eq(org_id))
        .filter(webhook_readiness_state::Column::Scores.eq(stored.scores.as_str()))
        .exec(&txn)
        .await?;
    if swapped.rows_affected == 1 {
        for report in &reports {
            let key = &report.framework.key;
            let before = previous.get(key);
            if before == scores.get(key) {
                continue;
            }
            let data = json!({
                "framework": key,
                "framework_title": report.framework.title,
                "score": report.assessment.score,
                "level": report.assessment.level.as_str(),
                "previous_score": before.map(|b| b.score),
                "previous_level": before.map(|b| b.level.clone()),
                "formula_version": crate::domain::readiness::FORMULA_VERSION,
                "computed_at": report.computed_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            });
            webhooks::emit(&txn, org_id, EventType::ReadinessScoreChanged, &data).await?;
        }
    }
    txn.commit().await?;
    Ok(fresh_until)
}
