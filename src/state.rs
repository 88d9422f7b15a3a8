//! Shared application state handed to every handler.

use std::sync::{Arc, atomic::AtomicU64};

use sea_orm::DatabaseConnection;

use crate::{
    auth::jwt::JwtKeys,
    config::Settings,
    service::{
        authn::Lookups, page_cache::PageCache, readiness::ReadinessCache, stats::StatsCache,
    },
};

/// What every handler can reach: the database pool, the token keys and the settings.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub jwt: Arc<JwtKeys>,
    pub settings: Arc<Settings>,
    /// Statements executed on the pool since start (for diagnostics and the query-count tests).
    pub queries: Arc<AtomicU64>,
    /// Readiness reports, valid while their organization's data is unchanged.
    pub readiness: Arc<ReadinessCache>,
    /// Per-control evidence and finding counts, valid while their organization's data is unchanged.
    pub stats: Arc<StatsCache>,
    /// Rendered list pages, valid while their organization's data is unchanged.
    pub pages: Arc<PageCache>,
    /// Concurrent requests' principal lookups, batched into shared statements.
    pub lookups: Arc<Lookups>,
}
