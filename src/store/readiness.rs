//! What a readiness report reads beyond the control stats: the open findings and the evidence
//! about to expire linked to one framework's controls, each in one scan of a link table.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use crate::{
    domain::{
        evidence::ReviewStatus,
        finding::{FindingType, OPEN_STATUSES},
    },
    error::Result,
    store::sql::statement,
};

/// Restricts a link's `control_id` to the controls of one adopted framework (binds the
/// organization and the framework's key).
const IN_FRAMEWORK: &str =
    "IN (SELECT c.id FROM controls c WHERE c.organization_id = ? AND c.framework_key = ?)";

/// An open finding linked to one of the framework's controls.
#[derive(Debug, Clone, FromQueryResult)]
pub struct OpenFindingLink {
    pub control_id: String,
    pub finding_id: String,
    pub finding_type: FindingType,
}

/// Every open finding's link to a control of the framework `key`.
pub async fn open_finding_links<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    key: &str,
) -> Result<Vec<OpenFindingLink>> {
    let mut values: Vec<Value> = vec![org_id.into()];
    values.extend(OPEN_STATUSES.iter().map(|s| Value::from(s.as_str())));
    values.extend([Value::from(org_id), Value::from(key)]);
    let sql = format!(
        "SELECT fc.control_id, fc.finding_id, fc.finding_type FROM finding_controls fc \
         WHERE fc.organization_id = ? AND fc.finding_status IN (?, ?, ?) AND fc.control_id {IN_FRAMEWORK}"
    );
    Ok(
        OpenFindingLink::find_by_statement(statement(conn.get_database_backend(), &sql, values))
            .all(conn)
            .await?,
    )
}

/// Unarchived evidence linked to one of the framework's controls whose validity ends.
#[derive(Debug, Clone, FromQueryResult)]
pub struct EndingEvidenceLink {
    pub control_id: String,
    pub evidence_id: String,
    pub evidence_review_status: ReviewStatus,
    pub evidence_valid_until: DateTime<Utc>,
}

/// Every link of the framework `key`'s controls to unarchived evidence valid until `horizon`
/// at the latest (already expired or expiring by then).
pub async fn evidence_links_ending_by<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    key: &str,
    horizon: DateTime<Utc>,
) -> Result<Vec<EndingEvidenceLink>> {
    let values: Vec<Value> = vec![org_id.into(), horizon.into(), org_id.into(), key.into()];
    let sql = format!(
        "SELECT ce.control_id, ce.evidence_id, ce.evidence_review_status, ce.evidence_valid_until \
         FROM control_evidence ce WHERE ce.organization_id = ? AND ce.evidence_archived_at IS NULL \
         AND ce.evidence_valid_until IS NOT NULL AND ce.evidence_valid_until <= ? \
         AND ce.control_id {IN_FRAMEWORK}"
    );
    Ok(
        EndingEvidenceLink::find_by_statement(statement(conn.get_database_backend(), &sql, values))
            .all(conn)
            .await?,
    )
}
