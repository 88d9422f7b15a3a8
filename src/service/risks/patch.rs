//! Changing a risk: partial updates where `null` clears, link sets replaced, levels recomputed
//! from the matrix, and an acceptance cleared when the rating or treatment it was given for
//! changes.

use chrono::NaiveDate;
use sea_orm::{ActiveValue::Set, DatabaseConnection, IntoActiveModel};

use crate::{
    domain::{
        principal::Principal,
        risk::{RiskControlRole, RiskStatus, RiskTreatment},
        role::Action,
        webhook::EventType,
    },
    error::Result,
    service::{
        audit::{AuditRecord, Changes},
        authz, changes,
        suppliers::check_suppliers,
        version::{self, IfMatch},
    },
    store::db,
};
use entity::risk;

use super::{Rating, RiskView, find, level_of, links, matrix, optional_text, text, view_one};

/// A change to a risk; `Some(None)` clears a nullable field, set fields replace sets.
#[derive(Debug, Clone, Default)]
pub struct RiskPatch {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub threat: Option<Option<String>>,
    pub vulnerability: Option<Option<String>>,
    pub asset_ids: Option<Vec<String>>,
    /// Replaces the set.
    pub supplier_ids: Option<Vec<String>>,
    pub owner_id: Option<Option<String>>,
    pub inherent: Option<Rating>,
    pub residual: Option<Rating>,
    pub treatment: Option<RiskTreatment>,
    pub treatment_plan: Option<Option<String>>,
    pub treatment_due: Option<Option<NaiveDate>>,
    pub controls: Option<Vec<(String, RiskControlRole)>>,
    pub assessed_at: Option<Option<NaiveDate>>,
    pub review_due: Option<Option<NaiveDate>>,
    pub status: Option<RiskStatus>,
}

/// What an acceptance records, for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(super) struct AcceptanceRecord {
    pub justification: Option<String>,
    pub expires_on: Option<NaiveDate>,
    pub accepted_by: Option<String>,
}

impl AcceptanceRecord {
    pub(super) fn of(r: &risk::Model) -> Option<Self> {
        r.acceptance_expires_on.map(|expires_on| Self {
            justification: r.acceptance_justification.clone(),
            expires_on: Some(expires_on),
            accepted_by: r.accepted_by.clone(),
        })
    }
}

/// Clears a risk's acceptance on its active model.
pub(super) fn clear_acceptance(active: &mut risk::ActiveModel) {
    active.acceptance_justification = Set(None);
    active.acceptance_expires_on = Set(None);
    active.accepted_by = Set(None);
    active.accepted_at = Set(None);
}

/// Updates a risk (editors, admins); honours `If-Match`. A change that sets every field to its
/// current value writes nothing.
pub async fn update(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    risk_id: &str,
    if_match: Option<&IfMatch>,
    patch: RiskPatch,
) -> Result<RiskView> {
    let txn = db::begin_write(db_conn).await?;
    authz::authorize(&txn, principal, org_id, Action::ChangeRisks).await?;
    let current = find(&txn, org_id, risk_id).await?;
    version::check(if_match, current.version)?;
    let matrix = matrix::current(&txn, org_id).await?;
    let before = view_one(&txn, &matrix, current.clone()).await?;

    let keep = |new: Option<Option<String>>, old: &Option<String>, field, max| match new {
        Some(v) => optional_text(field, v, max),
        None => Ok(old.clone()),
    };
    let title = match &patch.title {
        Some(t) => text("title", t, 500)?,
        None => current.title.clone(),
    };
    let description = keep(
        patch.description,
        &current.description,
        "description",
        10_000,
    )?;
    let threat = keep(patch.threat, &current.threat, "threat", 4000)?;
    let vulnerability = keep(
        patch.vulnerability,
        &current.vulnerability,
        "vulnerability",
        4000,
    )?;
    let treatment_plan = keep(
        patch.treatment_plan,
        &current.treatment_plan,
        "treatment_plan",
        10_000,
    )?;
    let old_inherent = Rating {
        likelihood: current.inherent_likelihood,
        impact: current.inherent_impact,
    };
    let old_residual = Rating {
        likelihood: current.residual_likelihood,
        impact: current.residual_impact,
    };
    let inherent = patch.inherent.unwrap_or(old_inherent);
    let residual = patch.residual.unwrap_or(old_residual);
    let inherent_level = level_of(&matrix, "inherent", inherent)?;
    let residual_level = level_of(&matrix, "residual", residual)?;
    let owner_id = patch.owner_id.unwrap_or_else(|| current.owner_id.clone());
    if owner_id != current.owner_id {
        links::check_owner(&txn, org_id, owner_id.as_deref()).await?;
    }
    let treatment = patch.treatment.unwrap_or(current.treatment);
    let status = patch.status.unwrap_or(current.status);
    let treatment_due = patch.treatment_due.unwrap_or(current.treatment_due);
    let assessed_at = patch.assessed_at.unwrap_or(current.assessed_at);
    let review_due = patch.review_due.unwrap_or(current.review_due);
    let asset_ids = match &patch.asset_ids {
        Some(ids) => Some(links::check_assets(&txn, org_id, ids).await?),
        None => None,
    };
    let supplier_ids = match &patch.supplier_ids {
        Some(ids) => Some(check_suppliers(&txn, org_id, "supplier_ids", ids).await?),
        None => None,
    };
    let controls = match &patch.controls {
        Some(wanted) => Some(links::check_controls(&txn, org_id, wanted).await?),
        None => None,
    };

    let mut changes = Changes::new();
    changes.track("title", &current.title, &title);
    changes.track("description", &current.description, &description);
    changes.track("threat", &current.threat, &threat);
    changes.track("vulnerability", &current.vulnerability, &vulnerability);
    changes.track("owner_id", &current.owner_id, &owner_id);
    changes.track("inherent", &old_inherent, &inherent);
    changes.track("residual", &old_residual, &residual);
    changes.track("treatment", &current.treatment, &treatment);
    changes.track("treatment_plan", &current.treatment_plan, &treatment_plan);
    changes.track("treatment_due", &current.treatment_due, &treatment_due);
    changes.track("assessed_at", &current.assessed_at, &assessed_at);
    changes.track("review_due", &current.review_due, &review_due);
    changes.track("status", &current.status, &status);
    if let Some(ids) = &asset_ids {
        changes.track("asset_ids", &before.asset_ids, ids);
    }
    if let Some(ids) = &supplier_ids {
        changes.track("supplier_ids", &before.supplier_ids, ids);
    }
    if let Some(controls) = &controls {
        changes.track("controls", &before.controls, controls);
    }
    if changes.is_empty() {
        txn.commit().await?;
        return Ok(before);
    }

    let mut active = current.clone().into_active_model();
    // An acceptance was given for a rating and a treatment: it lapses when either changes.
    let rerated = inherent != old_inherent || residual != old_residual;
    if (rerated || treatment != current.treatment) && current.acceptance_expires_on.is_some() {
        changes.track(
            "acceptance",
            &AcceptanceRecord::of(&current),
            &None::<AcceptanceRecord>,
        );
        clear_acceptance(&mut active);
    }
    active.title = Set(title);
    active.description = Set(description);
    active.threat = Set(threat);
    active.vulnerability = Set(vulnerability);
    active.owner_id = Set(owner_id);
    active.inherent_likelihood = Set(inherent.likelihood);
    active.inherent_impact = Set(inherent.impact);
    active.inherent_level = Set(inherent_level);
    active.residual_likelihood = Set(residual.likelihood);
    active.residual_impact = Set(residual.impact);
    active.residual_level = Set(residual_level);
    active.treatment = Set(treatment);
    active.treatment_plan = Set(treatment_plan);
    active.treatment_due = Set(treatment_due);
    active.assessed_at = Set(assessed_at);
    active.review_due = Set(review_due);
    active.status = Set(status);
    let updated = version::save_next(&txn, active, current.version, db::now()).await?;
    if let Some(ids) = &asset_ids {
        links::set_assets(&txn, &updated, ids, true).await?;
    }
    if let Some(ids) = &supplier_ids {
        links::set_suppliers(&txn, &updated, ids, true).await?;
    }
    if let Some(controls) = &controls {
        links::set_controls(&txn, &updated, controls, true).await?;
    }
    let mut loaded = links::Links::default();
    loaded
        .assets
        .insert(updated.id.clone(), asset_ids.unwrap_or(before.asset_ids));
    loaded.suppliers.insert(
        updated.id.clone(),
        supplier_ids.unwrap_or(before.supplier_ids),
    );
    loaded
        .controls
        .insert(updated.id.clone(), controls.unwrap_or(before.controls));
    let view = super::view_of(&matrix, updated, &mut loaded);
    changes::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "risk.updated",
            entity_type: "risk",
            entity_id: risk_id,
            changes,
        },
        EventType::RiskUpdated,
        &view,
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}
