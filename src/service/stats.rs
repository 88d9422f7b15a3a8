//! Control scores from their stats, and the organization's control stats cached per data
//! version: what control lists and the SoA read instead of aggregating each time.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use crate::{
    domain::{
        control::ControlStatus,
        readiness::{ControlFacts, control_score},
    },
    error::Result,
    store::stats::{self as store_stats, ControlStats, Scope},
};

/// The formula's facts for a control and its stats.
pub fn facts(status: ControlStatus, applicable: bool, stats: &ControlStats) -> ControlFacts {
    ControlFacts {
        status,
        applicable,
        has_valid_evidence: stats.valid_evidence > 0,
        open_major: stats.open_major > 0,
        open_minor: stats.open_minor > 0,
    }
}

/// The control's score (contract §7), from the same function the readiness report uses.
pub fn score(status: ControlStatus, applicable: bool, stats: &ControlStats) -> Option<f64> {
    control_score(&facts(status, applicable, stats))
}

/// The stats of every control of one organization, for one data version.
#[derive(Debug)]
pub struct OrgStats {
    pub data_version: i64,
    /// When the next linked evidence expires (the stats change then without any write).
    pub fresh_until: DateTime<Utc>,
    pub by_control: HashMap<String, ControlStats>,
}

const CACHED_ORGANIZATIONS: usize = 1024;
const MAX_AGE_MINUTES: i64 = 10;

/// Per-organization control stats, valid while the organization's data version is unchanged
/// and no evidence expires: lists and the SoA read them instead of aggregating each time.
#[derive(Default)]
pub struct StatsCache {
    entries: std::sync::Mutex<HashMap<String, std::sync::Arc<OrgStats>>>,
    /// One computation at a time: concurrent misses wait for it instead of all computing.
    computing: tokio::sync::Mutex<()>,
}

impl StatsCache {
    fn get(
        &self,
        org_id: &str,
        version: i64,
        now: DateTime<Utc>,
    ) -> Option<std::sync::Arc<OrgStats>> {
        let entries = self.entries.lock().ok()?;
        let hit = entries.get(org_id)?;
        (hit.data_version == version && now < hit.fresh_until).then(|| hit.clone())
    }
}

/// The organization's control stats at `version` (its data version, read before): cached, or
/// computed (two queries) and cached.
pub async fn org_stats<C: ConnectionTrait>(
    conn: &C,
    cache: &StatsCache,
    org_id: &str,
    version: i64,
) -> Result<std::sync::Arc<OrgStats>> {
    let now = crate::store::db::now();
    if let Some(hit) = cache.get(org_id, version, now) {
        return Ok(hit);
    }
    let _computing = cache.computing.lock().await;
    if let Some(hit) = cache.get(org_id, version, now) {
        return Ok(hit);
    }
    let by_control = store_stats::control_stats(conn, org_id, Scope::Organization, now).await?;
    let next_expiry = store_stats::next_evidence_expiry(conn, org_id, now).await?;
    let max_age = now + chrono::Duration::minutes(MAX_AGE_MINUTES);
    let stats = std::sync::Arc::new(OrgStats {
        data_version: version,
        fresh_until: next_expiry.map_or(max_age, |e| e.min(max_age)),
        by_control,
    });
    if let Ok(mut entries) = cache.entries.lock() {
        if entries.len() >= CACHED_ORGANIZATIONS {
            entries.clear();
        }
        entries.insert(org_id.to_owned(), stats.clone());
    }
    Ok(stats)
}
