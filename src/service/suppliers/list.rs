//! Listing suppliers with their filters.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, Func},
};

use crate::{
    domain::{
        principal::Principal,
        role::Action,
        supplier::{Criticality, DataAccess, SupplierKind, SupplierStatus},
    },
    error::Result,
    service::{
        authz,
        page::{Page, PageRequest},
    },
};
use entity::supplier;

use super::{SupplierView, last_reviews, review_state, views};

/// Filters of the supplier list (docs/suppliers.md).
#[derive(Debug, Clone, Default)]
pub struct SupplierFilter {
    pub kind: Option<SupplierKind>,
    pub criticality: Option<Criticality>,
    pub status: Option<SupplierStatus>,
    /// Suppliers whose access includes this kind.
    pub data_access: Option<DataAccess>,
    pub review_overdue: Option<bool>,
    /// A case-insensitive substring of the name or services.
    pub q: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
}

/// The ids of the organization's suppliers whose review is overdue today: two queries.
async fn overdue_ids(db_conn: &DatabaseConnection, org_id: &str) -> Result<Vec<String>> {
    let rows = supplier::Entity::find()
        .filter(supplier::Column::OrganizationId.eq(org_id))
        .all(db_conn)
        .await?;
    let last = last_reviews(db_conn, org_id, None).await?;
    let today = Utc::now().date_naive();
    Ok(rows
        .into_iter()
        .filter(|s| review_state(s, last.get(&s.id), today).1)
        .map(|s| s.id)
        .collect())
}

/// Suppliers, oldest first, filtered (four queries whatever the page size, two more with
/// `review_overdue`).
pub async fn list(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    filter: &SupplierFilter,
    page: &PageRequest,
) -> Result<Page<SupplierView>> {
    use supplier::Column;
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    let mut query = supplier::Entity::find();
    if let Some(kind) = filter.kind {
        query = query.filter(Column::Kind.eq(kind.as_str()));
    }
    if let Some(criticality) = filter.criticality {
        query = query.filter(Column::Criticality.eq(criticality.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(Column::Status.eq(status.as_str()));
    }
    // The stored set is a JSON array of names: a name in quotes matches exactly one element.
    if let Some(access) = filter.data_access {
        query = query.filter(Column::DataAccess.like(format!("%\"{}\"%", access.as_str())));
    }
    if let Some(overdue) = filter.review_overdue {
        let ids = overdue_ids(db_conn, org_id).await?;
        query = if overdue {
            query.filter(Column::Id.is_in(ids))
        } else {
            query.filter(Column::Id.is_not_in(ids))
        };
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = format!("%{}%", q.to_lowercase().replace(['%', '_'], ""));
        let like =
            |column: Column| Expr::expr(Func::lower(Expr::col(column))).like(pattern.clone());
        query = query.filter(
            Condition::any()
                .add(like(Column::Name))
                .add(like(Column::Services)),
        );
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(Column::UpdatedAt.gte(since));
    }
    let rows = crate::service::page::by_id(
        db_conn,
        query,
        Some((Column::OrganizationId, org_id)),
        Column::Id,
        page,
        |s| s.id.clone(),
    )
    .await?;
    Ok(Page {
        items: views(db_conn, org_id, rows.items).await?,
        next_after: rows.next_after,
    })
}
