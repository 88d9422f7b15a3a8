//! Shared application state handed to every handler.

use std::sync::{Arc, atomic::AtomicU64};

use sea_orm::DatabaseConnection;

use crate::{
    auth::jwt::JwtKeys, cache::Cache, config::Settings, rate_limit::RateLimits,
    service::authn::Lookups,
};

/// What every handler can reach: the database pool, the token keys and the settings.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub jwt: Arc<JwtKeys>,
    pub settings: Arc<Settings>,
    /// Statements executed on the pool since start (for diagnostics and the query-count tests).
    pub queries: Arc<AtomicU64>,
    /// Values computed from an organization's data (control stats, readiness reports, rendered
    /// answers), valid while its data is unchanged.
    pub cache: Arc<Cache>,
    /// Concurrent requests' principal lookups, batched into shared statements.
    pub lookups: Arc<Lookups>,
    /// The request rate limits of this replica.
    pub rate_limits: Arc<RateLimits>,
}
