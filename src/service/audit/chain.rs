//! The audit trail's hash chains: verifying one (or every one, for a restored backup) and
//! exporting an organization's, a page at a time so memory stays bounded.

use chrono::{DateTime, Utc};
use entity::audit_event;
use futures_util::Stream;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::{
    domain::{
        audit_chain::{Break, ChainCheck, Link, Stored},
        principal::Principal,
        role::Action,
    },
    error::Result,
    service::authz,
    store,
    store::db,
};

/// Events read per statement while verifying or exporting.
const PAGE: u64 = 500;

/// The result of checking one chain.
#[derive(Debug, Clone)]
pub struct ChainReport {
    /// Events in the chain.
    pub length: i64,
    /// The last event's hash (`None` for an empty chain).
    pub head_hash: Option<String>,
    /// When the check finished.
    pub verified_at: DateTime<Utc>,
    /// The first broken link, if any.
    pub first_broken: Option<Break>,
}

impl ChainReport {
    /// Whether every link holds.
    pub fn ok(&self) -> bool {
        self.first_broken.is_none()
    }
}

/// Checks an organization's chain (auditors and admins).
pub async fn verify(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
) -> Result<ChainReport> {
    authz::authorize(db_conn, principal, org_id, Action::ReadAuditEvents).await?;
    verify_chain(db_conn, Some(org_id)).await
}

fn stored(event: &audit_event::Model) -> Stored<'_> {
    Stored {
        link: Link {
            id: &event.id,
            organization_id: event.organization_id.as_deref(),
            chain_seq: event.chain_seq.unwrap_or_default(),
            at: event.at,
            actor: &event.actor,
            action: &event.action,
            entity_type: &event.entity_type,
            entity_id: &event.entity_id,
            changes: &event.changes,
            request_id: event.request_id.as_deref(),
            prev_hash: event.prev_hash.as_deref().unwrap_or_default(),
        },
        hash: event.hash.as_deref().unwrap_or_default(),
    }
}

/// Checks one chain (an organization's, or the platform's for `None`) in pages.
pub async fn verify_chain<C: ConnectionTrait>(
    conn: &C,
    org_id: Option<&str>,
) -> Result<ChainReport> {
    let mut check = ChainCheck::new();
    let mut after = 0;
    loop {
        let page = store::audit::chain_page(conn, org_id, after, None, PAGE).await?;
        for event in &page {
            check.push(stored(event));
            after = event.chain_seq.unwrap_or(after);
        }
        if (page.len() as u64) < PAGE {
            break;
        }
    }
    Ok(ChainReport {
        length: check.length,
        head_hash: check.head_hash,
        verified_at: db::now(),
        first_broken: check.broken,
    })
}

/// Checks every chain of the database (each organization's and the platform's).
pub async fn verify_every_chain<C: ConnectionTrait>(
    conn: &C,
) -> Result<Vec<(Option<String>, ChainReport)>> {
    let mut reports = Vec::new();
    for org_id in store::audit::chains(conn).await? {
        let report = verify_chain(conn, org_id.as_deref()).await?;
        reports.push((org_id, report));
    }
    Ok(reports)
}

/// The hash of the organization's latest audit event (`None` before its first).
pub async fn head_hash<C: ConnectionTrait>(conn: &C, org_id: &str) -> Result<Option<String>> {
    Ok(store::audit::head(conn, Some(org_id))
        .await?
        .map(|(_, hash)| hash))
}

/// An organization's events in chain order (oldest first), at or after `since`, as a stream of
/// pages read one statement at a time (auditors and admins; authorized before the first page).
pub async fn export_pages(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    since: Option<DateTime<Utc>>,
) -> Result<impl Stream<Item = Result<Vec<audit_event::Model>>> + 'static> {
    authz::authorize(db_conn, principal, org_id, Action::ReadAuditEvents).await?;
    let conn = db_conn.clone();
    let org_id = org_id.to_owned();
    Ok(futures_util::stream::try_unfold(
        Some(0_i64),
        move |after| {
            let conn = conn.clone();
            let org_id = org_id.clone();
            async move {
                let Some(after) = after else {
                    return Ok(None);
                };
                let page =
                    store::audit::chain_page(&conn, Some(&org_id), after, since, PAGE).await?;
                let next = match page.last() {
                    Some(last) if page.len() as u64 == PAGE => last.chain_seq,
                    _ => None,
                };
                if page.is_empty() {
                    return Ok(None);
                }
                Ok(Some((page, next)))
            }
        },
    ))
}
