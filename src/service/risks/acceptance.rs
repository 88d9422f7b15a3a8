//! Formal acceptance of a residual risk, by its owner or an admin, and its revocation.

use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveValue::Set, DatabaseConnection, IntoActiveModel};

use crate::{
    domain::{
        principal::Principal,
        risk::{acceptance_allowed, check_expiry},
        role::{Action, Permissions, Role},
        webhook::EventType,
    },
    error::{AppError, Result},
    service::{
        audit::{AuditRecord, Changes},
        authz, changes, version,
    },
    store::db,
};
use entity::risk;

use super::{
    RiskView, find, matrix,
    patch::{AcceptanceRecord, clear_acceptance},
    text, view_one,
};

/// An acceptance to record.
#[derive(Debug, Clone)]
pub struct NewAcceptance {
    pub justification: String,
    pub expires_on: NaiveDate,
}

/// 403 unless the caller is an admin or the risk's owner (a member: `authorize` found a role).
fn require_acceptor(role: Role, principal: &Principal, risk: &risk::Model) -> Result<()> {
    let owner = risk.owner_id.is_some() && principal.user_id() == risk.owner_id.as_deref();
    if owner || role.can(Action::Administer) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only the risk's owner or an admin may accept or revoke its acceptance".to_owned(),
        ))
    }
}

/// Accepts the risk's residual rating until `expires_on`: allowed when the treatment is
/// `retain`, or `modify` with the residual level above the appetite (409 otherwise).
pub async fn accept(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    risk_id: &str,
    new: NewAcceptance,
) -> Result<RiskView> {
    let txn = db::begin_write(db_conn).await?;
    let role = authz::authorize(&txn, principal, org_id, Action::Read).await?;
    let current = find(&txn, org_id, risk_id).await?;
    require_acceptor(role, principal, &current)?;
    let justification = text("justification", &new.justification, 4000)?;
    check_expiry(new.expires_on, Utc::now().date_naive())
        .map_err(|message| AppError::invalid("expires_on", message))?;
    let matrix = matrix::current(&txn, org_id).await?;
    if !acceptance_allowed(
        current.treatment,
        matrix.above_appetite(current.residual_level),
    ) {
        return Err(AppError::conflict(
            "acceptance-not-allowed",
            "a risk may be accepted when its treatment is `retain`, or `modify` with the \
             residual level above the appetite",
        ));
    }
    let now = db::now();
    let mut active = current.clone().into_active_model();
    active.acceptance_justification = Set(Some(justification));
    active.acceptance_expires_on = Set(Some(new.expires_on));
    active.accepted_by = Set(Some(principal.actor()));
    active.accepted_at = Set(Some(now));
    let updated = version::save_next(&txn, active, current.version, now).await?;
    let changes = Changes::new().field(
        "acceptance",
        &AcceptanceRecord::of(&current),
        &AcceptanceRecord::of(&updated),
    );
    let view = view_one(&txn, &matrix, updated).await?;
    changes::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "risk.accepted",
            entity_type: "risk",
            entity_id: risk_id,
            changes,
        },
        EventType::RiskAccepted,
        &view,
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

/// Revokes the risk's acceptance (404 when it has none).
pub async fn revoke(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    risk_id: &str,
) -> Result<()> {
    let txn = db::begin_write(db_conn).await?;
    let role = authz::authorize(&txn, principal, org_id, Action::Read).await?;
    let current = find(&txn, org_id, risk_id).await?;
    require_acceptor(role, principal, &current)?;
    if current.acceptance_expires_on.is_none() {
        return Err(AppError::NotFound("acceptance"));
    }
    let mut active = current.clone().into_active_model();
    clear_acceptance(&mut active);
    let updated = version::save_next(&txn, active, current.version, db::now()).await?;
    let matrix = matrix::current(&txn, org_id).await?;
    let view = view_one(&txn, &matrix, updated).await?;
    changes::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "risk.acceptance_revoked",
            entity_type: "risk",
            entity_id: risk_id,
            changes: Changes::new().field("acceptance", &AcceptanceRecord::of(&current), &None),
        },
        EventType::RiskUpdated,
        &view,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
