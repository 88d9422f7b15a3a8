//! Keyset pagination shared by every list: a page request (limit + the key to start after) and its result.

/// Default and maximum page sizes (see docs/conventions.md).
pub const DEFAULT_LIMIT: u64 = 50;
/// The largest `limit` accepted.
pub const MAX_LIMIT: u64 = 500;

/// What page to read: at most `limit` rows whose key is after `after`.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<String>,
}

impl PageRequest {
    /// The first page with the default size.
    pub fn first(limit: u64) -> Self {
        Self { limit, after: None }
    }

    /// How many rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> u64 {
        self.limit + 1
    }
}

/// One page of items and the key to continue after, if more follow.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_after: Option<String>,
}

impl<T> Page<T> {
    /// Cuts the fetched rows (up to `limit + 1`) into a page; `key` gives a row's sort key.
    pub fn from_rows(mut rows: Vec<T>, request: &PageRequest, key: impl Fn(&T) -> String) -> Self {
        let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
        let next_after = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(&key)
        } else {
            None
        };
        Self {
            items: rows,
            next_after,
        }
    }

    /// Maps the items, keeping the continuation.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_after: self.next_after,
        }
    }
}

/// Reads one page of `query` in keyset order on `id` (UUID v7 text: oldest first), within
/// `scope` (a column and its value: the organization) when given. The scope is written as the
/// range `col >= v AND col <= v` and the order as `(col, id)`: equivalent to `col = v ORDER BY
/// id`, but PostgreSQL then walks the `(col, id)` index instead of the primary key, which for a
/// tenant whose rows come late in id order meant scanning every other tenant's rows first.
pub async fn by_id<E, C>(
    conn: &C,
    query: sea_orm::Select<E>,
    scope: Option<(E::Column, &str)>,
    id: E::Column,
    page: &PageRequest,
    key: impl Fn(&E::Model) -> String,
) -> Result<Page<E::Model>, sea_orm::DbErr>
where
    E: sea_orm::EntityTrait,
    C: sea_orm::ConnectionTrait,
{
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    let mut query = query;
    if let Some(after) = &page.after {
        query = query.filter(id.gt(after.as_str()));
    }
    if let Some((column, value)) = scope {
        query = query
            .filter(column.gte(value))
            .filter(column.lte(value))
            .order_by_asc(column);
    }
    let rows = query.order_by_asc(id).limit(page.fetch()).all(conn).await?;
    Ok(Page::from_rows(rows, page, key))
}
