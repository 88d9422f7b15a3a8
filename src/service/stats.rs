//! Control scores from their stats, and the organization's control stats cached per data
//! version: what control lists and the SoA read instead of aggregating each time.

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use crate::{
    cache::{Cache, Cached},
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

/// The control's score (see docs/readiness.md), from the same function the readiness report uses.
pub fn score(status: ControlStatus, applicable: bool, stats: &ControlStats) -> Option<f64> {
    control_score(&facts(status, applicable, stats))
}

/// The stats of every control of one organization, for one data version.
#[derive(Debug)]
pub struct OrgStats {
    /// When the next linked evidence expires (the stats change then without any write).
    pub fresh_until: DateTime<Utc>,
    pub by_control: HashMap<String, ControlStats>,
}

impl Cached for OrgStats {
    const NAMESPACE: &'static str = "control-stats";

    fn weight(&self) -> usize {
        // A control id (36 bytes of text), its stats, and the map's own slot.
        self.by_control.len() * (36 + 2 * std::mem::size_of::<ControlStats>() + 24)
    }
}

/// The longest the stats are served without being computed again.
const MAX_AGE_MINUTES: i64 = 10;

/// The organization's control stats at `version` (its data version, read before): cached, or
/// computed (two queries) and cached.
pub async fn org_stats<C: ConnectionTrait>(
    conn: &C,
    cache: &Cache,
    org_id: &str,
    version: i64,
) -> Result<Arc<OrgStats>> {
    cache
        .get_or_compute(org_id, "", version, async || {
            let now = crate::store::db::now();
            let by_control =
                store_stats::control_stats(conn, org_id, Scope::Organization, now).await?;
            let next_expiry = store_stats::next_evidence_expiry(conn, org_id, now).await?;
            let max_age = now + chrono::Duration::minutes(MAX_AGE_MINUTES);
            let fresh_until = next_expiry.map_or(max_age, |e| e.min(max_age));
            Ok((
                OrgStats {
                    fresh_until,
                    by_control,
                },
                fresh_until,
            ))
        })
        .await
}
