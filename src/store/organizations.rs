//! Organization rows: the lock that serializes changes of an organization and its members.

use entity::organization;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, QuerySelect};

use crate::error::Result;

/// Locks the organization row on PostgreSQL so that concurrent changes of the organization and
/// its members serialize (SQLite write transactions are already serialized by `BEGIN IMMEDIATE`).
pub async fn lock<C: ConnectionTrait>(conn: &C, org_id: &str) -> Result<()> {
    if conn.get_database_backend() == DbBackend::Postgres {
        organization::Entity::find_by_id(org_id.to_owned())
            .lock_exclusive()
            .one(conn)
            .await?;
    }
    Ok(())
}
