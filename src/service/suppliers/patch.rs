//! Changing a supplier: every new value checked before anything is written, and nothing
//! written when nothing changes.

use chrono::NaiveDate;
use sea_orm::{ActiveValue::Set, DatabaseConnection, IntoActiveModel};

use crate::{
    domain::{
        principal::Principal,
        role::Action,
        supplier::{Certification, Criticality, DataAccess, SupplierKind, SupplierStatus},
        webhook::EventType,
    },
    error::{AppError, Result, ResultExt},
    service::{
        audit::{AuditRecord, Changes},
        authz, changes,
        members_check::check_member,
        version::{self, IfMatch},
    },
    store::db,
};

use super::{
    NAME_TAKEN, SupplierView, certifications, countries, data_access, find, find_by_name, interval,
    name, to_json, view_one, website,
};

/// A change to a supplier; `None` leaves a field, `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default)]
pub struct SupplierPatch {
    pub name: Option<String>,
    pub website: Option<Option<String>>,
    pub services: Option<Option<String>>,
    pub kind: Option<SupplierKind>,
    pub criticality: Option<Criticality>,
    /// Replaces the set.
    pub data_access: Option<Vec<DataAccess>>,
    /// Replaces the set.
    pub countries: Option<Vec<String>>,
    /// Replaces the list.
    pub certifications: Option<Vec<Certification>>,
    pub dpa_signed_at: Option<Option<NaiveDate>>,
    pub contract_end: Option<Option<NaiveDate>>,
    pub owner_id: Option<Option<String>>,
    pub status: Option<SupplierStatus>,
    pub review_interval_months: Option<Option<i64>>,
}

/// Updates a supplier (editors, admins); honours `If-Match`.
pub async fn update(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    supplier_id: &str,
    if_match: Option<&IfMatch>,
    patch: SupplierPatch,
) -> Result<SupplierView> {
    let txn = db::begin_write(db_conn).await?;
    authz::authorize(&txn, principal, org_id, Action::ChangeRisks).await?;
    let current = find(&txn, org_id, supplier_id, true).await?;
    version::check(if_match, current.version)?;
    let before = view_one(&txn, current.clone()).await?;

    let new_name = match &patch.name {
        Some(n) => name(n)?,
        None => current.name.clone(),
    };
    let new_website = match &patch.website {
        Some(w) => website(w.as_deref())?,
        None => current.website.clone(),
    };
    let new_access = match &patch.data_access {
        Some(a) => data_access(a)?,
        None => before.data_access.clone(),
    };
    let new_countries = match &patch.countries {
        Some(c) => countries(c)?,
        None => before.countries.clone(),
    };
    let new_interval = match patch.review_interval_months {
        Some(m) => interval(m)?,
        None => current.review_interval_months,
    };
    let owner_id = patch
        .owner_id
        .clone()
        .unwrap_or_else(|| current.owner_id.clone());
    if owner_id != current.owner_id
        && let Some(owner) = &owner_id
    {
        check_member(&txn, org_id, "owner_id", owner).await?;
    }
    let new_certs = match patch.certifications.clone() {
        Some(c) => certifications(&txn, org_id, c).await?,
        None => before.certifications.clone(),
    };
    if new_name.to_lowercase() != current.name.to_lowercase()
        && find_by_name(&txn, org_id, &new_name).await?.is_some()
    {
        return Err(AppError::conflict(NAME_TAKEN.0, NAME_TAKEN.1));
    }
    let services = patch
        .services
        .clone()
        .unwrap_or_else(|| current.services.clone());
    let kind = patch.kind.unwrap_or(current.kind);
    let criticality = patch.criticality.unwrap_or(current.criticality);
    let dpa_signed_at = patch.dpa_signed_at.unwrap_or(current.dpa_signed_at);
    let contract_end = patch.contract_end.unwrap_or(current.contract_end);
    let status = patch.status.unwrap_or(current.status);

    let mut changes = Changes::new();
    changes.track("name", &current.name, &new_name);
    changes.track("website", &current.website, &new_website);
    changes.track("services", &current.services, &services);
    changes.track("kind", &current.kind, &kind);
    changes.track("criticality", &current.criticality, &criticality);
    changes.track("data_access", &before.data_access, &new_access);
    changes.track("countries", &before.countries, &new_countries);
    changes.track("certifications", &before.certifications, &new_certs);
    changes.track("dpa_signed_at", &current.dpa_signed_at, &dpa_signed_at);
    changes.track("contract_end", &current.contract_end, &contract_end);
    changes.track("owner_id", &current.owner_id, &owner_id);
    changes.track("status", &current.status, &status);
    changes.track(
        "review_interval_months",
        &current.review_interval_months,
        &new_interval,
    );
    if changes.is_empty() {
        txn.commit().await?;
        return Ok(before);
    }

    let mut active = current.clone().into_active_model();
    active.name = Set(new_name);
    active.website = Set(new_website);
    active.services = Set(services);
    active.kind = Set(kind);
    active.criticality = Set(criticality);
    active.data_access = Set(to_json(&new_access)?);
    active.countries = Set(to_json(&new_countries)?);
    active.certifications = Set(to_json(&new_certs)?);
    active.dpa_signed_at = Set(dpa_signed_at);
    active.contract_end = Set(contract_end);
    active.owner_id = Set(owner_id);
    active.status = Set(status);
    active.review_interval_months = Set(new_interval);
    let updated = version::save_next(&txn, active, current.version, db::now())
        .await
        .on_unique(NAME_TAKEN.0, NAME_TAKEN.1)?;
    let view = view_one(&txn, updated).await?;
    changes::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "supplier.updated",
            entity_type: "supplier",
            entity_id: supplier_id,
            changes,
        },
        EventType::SupplierUpdated,
        &view,
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}
