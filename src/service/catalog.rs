//! Catalog queries: frameworks, requirements (filtered, paginated in document order) and mappings.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
    sea_query::{Expr, ExprTrait, Func},
};

use crate::{
    error::{AppError, Result},
    service::page::{Page, PageRequest},
};
use entity::{framework, mapping, requirement, requirement_attribute};

/// A framework with its requirement counts per group.
#[derive(Debug, Clone)]
pub struct FrameworkSummary {
    pub framework: framework::Model,
    pub counts: HashMap<String, u64>,
}

async fn group_counts(
    db_conn: &DatabaseConnection,
    key: Option<&str>,
) -> Result<HashMap<(String, String), u64>> {
    let mut query = requirement::Entity::find()
        .select_only()
        .column(requirement::Column::FrameworkKey)
        .column(requirement::Column::GroupKey)
        .column_as(requirement::Column::Id.count(), "n")
        .filter(requirement::Column::Withdrawn.eq(false))
        .group_by(requirement::Column::FrameworkKey)
        .group_by(requirement::Column::GroupKey);
    if let Some(key) = key {
        query = query.filter(requirement::Column::FrameworkKey.eq(key));
    }
    let rows: Vec<(String, String, i64)> = query.into_tuple().all(db_conn).await?;
    Ok(rows
        .into_iter()
        .map(|(fw, group, n)| ((fw, group), u64::try_from(n).unwrap_or(0)))
        .collect())
}

fn summarize(
    framework: framework::Model,
    counts: &HashMap<(String, String), u64>,
) -> FrameworkSummary {
    let counts = counts
        .iter()
        .filter(|((fw, _), _)| *fw == framework.key)
        .map(|((_, group), n)| (group.clone(), *n))
        .collect();
    FrameworkSummary { framework, counts }
}

/// Every shipped framework, in catalog order (two queries).
pub async fn list_frameworks(db_conn: &DatabaseConnection) -> Result<Vec<FrameworkSummary>> {
    let frameworks = framework::Entity::find()
        .order_by_asc(framework::Column::Position)
        .all(db_conn)
        .await?;
    let counts = group_counts(db_conn, None).await?;
    Ok(frameworks
        .into_iter()
        .map(|f| summarize(f, &counts))
        .collect())
}

/// One framework by key (404 when unknown).
pub async fn get_framework(db_conn: &DatabaseConnection, key: &str) -> Result<FrameworkSummary> {
    let framework = find_framework(db_conn, key).await?;
    let counts = group_counts(db_conn, Some(key)).await?;
    Ok(summarize(framework, &counts))
}

async fn find_framework(db_conn: &DatabaseConnection, key: &str) -> Result<framework::Model> {
    framework::Entity::find_by_id(key.to_owned())
        .one(db_conn)
        .await?
        .ok_or(AppError::NotFound("framework"))
}

/// Filters on a framework's requirements.
#[derive(Debug, Clone, Default)]
pub struct RequirementFilter {
    pub group: Option<String>,
    pub kind: Option<String>,
    pub q: Option<String>,
    /// (attribute, value) pairs that must all hold.
    pub attributes: Vec<(&'static str, String)>,
}

/// A framework's requirements in document order; `page.after` is a position.
pub async fn list_requirements(
    db_conn: &DatabaseConnection,
    key: &str,
    filter: &RequirementFilter,
    page: &PageRequest,
) -> Result<Page<requirement::Model>> {
    find_framework(db_conn, key).await?;
    let mut query = requirement::Entity::find()
        .filter(requirement::Column::FrameworkKey.eq(key))
        .filter(requirement::Column::Withdrawn.eq(false));
    if let Some(group) = &filter.group {
        query = query.filter(requirement::Column::GroupKey.eq(group.as_str()));
    }
    if let Some(kind) = &filter.kind {
        query = query.filter(requirement::Column::Kind.eq(kind.as_str()));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = format!("%{}%", q.to_lowercase().replace(['%', '_'], ""));
        query = query.filter(
            Condition::any()
                .add(
                    Expr::expr(Func::lower(Expr::col(requirement::Column::Title)))
                        .like(pattern.clone()),
                )
                .add(
                    Expr::expr(Func::lower(Expr::col(requirement::Column::Description)))
                        .like(pattern.clone()),
                )
                .add(
                    Expr::expr(Func::lower(Expr::col(requirement::Column::Reference)))
                        .like(pattern),
                ),
        );
    }
    for (attribute, value) in &filter.attributes {
        let ids = requirement_attribute::Entity::find()
            .select_only()
            .column(requirement_attribute::Column::RequirementId)
            .filter(requirement_attribute::Column::Attribute.eq(*attribute))
            .filter(requirement_attribute::Column::Value.eq(value.as_str()))
            .into_query();
        query = query.filter(requirement::Column::Id.in_subquery(ids));
    }
    if let Some(after) = &page.after {
        let position: i32 = after
            .parse()
            .map_err(|_| AppError::bad_request("cursor", "is not a cursor of this list"))?;
        query = query.filter(requirement::Column::Position.gt(position));
    }
    let rows = query
        .order_by_asc(requirement::Column::Position)
        .limit(page.fetch())
        .all(db_conn)
        .await?;
    Ok(Page::from_rows(rows, page, |r| r.position.to_string()))
}

/// A mapping seen from one requirement: the other end and the relationship from this end.
#[derive(Debug, Clone)]
pub struct MappingView {
    pub mapping: mapping::Model,
    pub from: requirement::Model,
    pub to: requirement::Model,
}

async fn resolve_mappings(
    db_conn: &DatabaseConnection,
    rows: Vec<mapping::Model>,
) -> Result<Vec<MappingView>> {
    let ids: Vec<String> = rows
        .iter()
        .flat_map(|m| [m.from_requirement_id.clone(), m.to_requirement_id.clone()])
        .collect();
    let requirements: HashMap<String, requirement::Model> = requirement::Entity::find()
        .filter(requirement::Column::Id.is_in(ids))
        .all(db_conn)
        .await?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    Ok(rows
        .into_iter()
        .filter_map(|m| {
            let from = requirements.get(&m.from_requirement_id)?.clone();
            let to = requirements.get(&m.to_requirement_id)?.clone();
            Some(MappingView {
                mapping: m,
                from,
                to,
            })
        })
        .collect())
}

/// One requirement with every mapping that involves it (three queries).
pub async fn get_requirement(
    db_conn: &DatabaseConnection,
    key: &str,
    reference: &str,
) -> Result<(requirement::Model, Vec<MappingView>)> {
    let requirement = requirement::Entity::find()
        .filter(requirement::Column::FrameworkKey.eq(key))
        .filter(requirement::Column::Reference.eq(reference))
        .one(db_conn)
        .await?
        .ok_or(AppError::NotFound("requirement"))?;
    let rows = mapping::Entity::find()
        .filter(
            Condition::any()
                .add(mapping::Column::FromRequirementId.eq(requirement.id.as_str()))
                .add(mapping::Column::ToRequirementId.eq(requirement.id.as_str())),
        )
        .order_by_asc(mapping::Column::Position)
        .all(db_conn)
        .await?;
    Ok((requirement, resolve_mappings(db_conn, rows).await?))
}

/// Mappings, optionally from one framework and/or to another, in catalog order.
pub async fn list_mappings(
    db_conn: &DatabaseConnection,
    from: Option<&str>,
    to: Option<&str>,
    page: &PageRequest,
) -> Result<Page<MappingView>> {
    let mut query = mapping::Entity::find();
    for (key, column) in [
        (from, mapping::Column::FromRequirementId),
        (to, mapping::Column::ToRequirementId),
    ] {
        if let Some(key) = key {
            find_framework(db_conn, key).await?;
            let ids = requirement::Entity::find()
                .select_only()
                .column(requirement::Column::Id)
                .filter(requirement::Column::FrameworkKey.eq(key))
                .into_query();
            query = query.filter(column.in_subquery(ids));
        }
    }
    if let Some(after) = &page.after {
        let position: i32 = after
            .parse()
            .map_err(|_| AppError::bad_request("cursor", "is not a cursor of this list"))?;
        query = query.filter(mapping::Column::Position.gt(position));
    }
    let rows = query
        .order_by_asc(mapping::Column::Position)
        .limit(page.fetch())
        .all(db_conn)
        .await?;
    let page_rows = Page::from_rows(rows, page, |m| m.position.to_string());
    let next_after = page_rows.next_after;
    Ok(Page {
        items: resolve_mappings(db_conn, page_rows.items).await?,
        next_after,
    })
}
