//! A worker's identity: stable across restarts when configured (or derived from the host and
//! the bind address), so that a restarted worker resumes its own in-flight deliveries at once
//! instead of waiting out their leases (docs/webhooks.md, "Restarts").

use chrono::{DateTime, Utc};
use entity::webhook_delivery;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};

use super::Worker;
use crate::{config::Settings, error::Result, service::webhooks::PENDING, store::db};

/// The identity of this process's worker when none is configured: the host name and the bind
/// address, which no two running replicas share and a restart keeps. `None` when the port is
/// chosen at start (port 0): a restart could not know its previous incarnation.
pub fn default_identity(settings: &Settings) -> Option<String> {
    if settings.bind.port() == 0 {
        return None;
    }
    let host = ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .into_iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .chain(std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .find(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    Some(format!("{host}/{}", settings.bind))
}

impl Worker {
    /// The same worker under a stable identity (instead of a fresh one per start): on start it
    /// resumes the deliveries its previous incarnation had claimed but not finished.
    pub fn identified_as(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Releases the leases held under this worker's identity: a previous incarnation that
    /// stopped (or crashed) while sending left them, and they would otherwise wait out their
    /// lease. Their deliveries are due again at once; the number released.
    pub(super) async fn resume_own_leases(&self) -> Result<u64> {
        let txn = db::begin_write(&self.db).await?;
        let released = webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::LeaseOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                webhook_delivery::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(webhook_delivery::Column::LeaseOwner.eq(self.id.as_str()))
            .filter(webhook_delivery::Column::Status.eq(PENDING))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(released.rows_affected)
    }
}
