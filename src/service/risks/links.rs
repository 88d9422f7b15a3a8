//! A risk's links: its assets, its owner and its treating controls, checked against the
//! organization, written, and loaded for many risks at once (one query per link table).

use std::collections::HashMap;

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::{
    domain::{control::ControlStatus, risk::RiskControlRole},
    error::{AppError, Result},
    service::members_check::check_member,
};
use entity::{control, risk, risk_asset, risk_control, risk_supplier};

/// A control treating a risk, with what the registers show of it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LinkedControl {
    pub control_id: String,
    pub role: RiskControlRole,
    pub reference: String,
    pub framework: String,
    pub status: ControlStatus,
}

/// The asset ids, sorted and without repeats; 404 naming `asset_ids` unless every one is an
/// asset of the organization.
pub(super) async fn check_assets<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    ids: &[String],
) -> Result<Vec<String>> {
    crate::service::assets::check_assets(conn, org_id, "asset_ids", ids).await
}

/// 404 naming `owner_id` unless the user is a member of the organization.
pub(super) async fn check_owner<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    owner_id: Option<&str>,
) -> Result<()> {
    match owner_id {
        Some(owner_id) => check_member(conn, org_id, "owner_id", owner_id).await,
        None => Ok(()),
    }
}

/// The treating controls sorted by id (a control named twice keeps its last role), each
/// resolved to the organization's control; 404 naming `controls` otherwise.
pub(super) async fn check_controls<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    wanted: &[(String, RiskControlRole)],
) -> Result<Vec<LinkedControl>> {
    let roles: HashMap<&str, RiskControlRole> = wanted
        .iter()
        .map(|(id, role)| (id.as_str(), *role))
        .collect();
    if roles.is_empty() {
        return Ok(Vec::new());
    }
    let found = control::Entity::find()
        .filter(control::Column::OrganizationId.eq(org_id))
        .filter(control::Column::Id.is_in(roles.keys().copied()))
        .order_by_asc(control::Column::Id)
        .all(conn)
        .await?;
    if found.len() != roles.len() {
        return Err(AppError::not_found_field(
            "controls",
            "names a control that is not one of this organization's",
        ));
    }
    Ok(found
        .into_iter()
        .map(|c| LinkedControl {
            role: roles[c.id.as_str()],
            control_id: c.id,
            reference: c.reference,
            framework: c.framework_key,
            status: c.status,
        })
        .collect())
}

/// Replaces a risk's assets.
pub(super) async fn set_assets<C: ConnectionTrait>(
    conn: &C,
    risk: &risk::Model,
    ids: &[String],
    replace: bool,
) -> Result<()> {
    if replace {
        risk_asset::Entity::delete_many()
            .filter(risk_asset::Column::RiskId.eq(risk.id.as_str()))
            .exec(conn)
            .await?;
    }
    if !ids.is_empty() {
        risk_asset::Entity::insert_many(ids.iter().map(|asset_id| risk_asset::ActiveModel {
            risk_id: Set(risk.id.clone()),
            asset_id: Set(asset_id.clone()),
            organization_id: Set(risk.organization_id.clone()),
        }))
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

/// Replaces a risk's suppliers (checked by `service::suppliers::check_suppliers`).
pub(super) async fn set_suppliers<C: ConnectionTrait>(
    conn: &C,
    risk: &risk::Model,
    ids: &[String],
    replace: bool,
) -> Result<()> {
    if replace {
        risk_supplier::Entity::delete_many()
            .filter(risk_supplier::Column::RiskId.eq(risk.id.as_str()))
            .exec(conn)
            .await?;
    }
    if !ids.is_empty() {
        risk_supplier::Entity::insert_many(ids.iter().map(|supplier_id| {
            risk_supplier::ActiveModel {
                risk_id: Set(risk.id.clone()),
                supplier_id: Set(supplier_id.clone()),
                organization_id: Set(risk.organization_id.clone()),
            }
        }))
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

/// Replaces a risk's treating controls.
pub(super) async fn set_controls<C: ConnectionTrait>(
    conn: &C,
    risk: &risk::Model,
    controls: &[LinkedControl],
    replace: bool,
) -> Result<()> {
    if replace {
        risk_control::Entity::delete_many()
            .filter(risk_control::Column::RiskId.eq(risk.id.as_str()))
            .exec(conn)
            .await?;
    }
    if !controls.is_empty() {
        risk_control::Entity::insert_many(controls.iter().map(|c| risk_control::ActiveModel {
            risk_id: Set(risk.id.clone()),
            control_id: Set(c.control_id.clone()),
            organization_id: Set(risk.organization_id.clone()),
            role: Set(c.role),
        }))
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

/// Which risks' links to load.
pub(super) enum Scope<'a> {
    /// These risks (a page: one `IN` list).
    Risks(&'a [String]),
    /// Every risk of the organization (the registers).
    Organization(&'a str),
}

/// The assets and controls of some risks, by risk id.
#[derive(Debug, Default)]
pub(super) struct Links {
    pub assets: HashMap<String, Vec<String>>,
    pub controls: HashMap<String, Vec<LinkedControl>>,
    pub suppliers: HashMap<String, Vec<String>>,
}

type ControlRow = (
    String,
    String,
    RiskControlRole,
    String,
    String,
    ControlStatus,
);

/// Loads the links of the risks in `scope`: three queries, whatever their number.
pub(super) async fn load<C: ConnectionTrait>(conn: &C, scope: Scope<'_>) -> Result<Links> {
    let mut assets = risk_asset::Entity::find()
        .select_only()
        .column(risk_asset::Column::RiskId)
        .column(risk_asset::Column::AssetId)
        .order_by_asc(risk_asset::Column::AssetId);
    let mut suppliers = risk_supplier::Entity::find()
        .select_only()
        .column(risk_supplier::Column::RiskId)
        .column(risk_supplier::Column::SupplierId)
        .order_by_asc(risk_supplier::Column::SupplierId);
    let mut controls = risk_control::Entity::find()
        .select_only()
        .column(risk_control::Column::RiskId)
        .column(risk_control::Column::ControlId)
        .column(risk_control::Column::Role)
        .column(control::Column::Reference)
        .column(control::Column::FrameworkKey)
        .column(control::Column::Status)
        .join(
            JoinType::InnerJoin,
            risk_control::Entity::belongs_to(control::Entity)
                .from(risk_control::Column::ControlId)
                .to(control::Column::Id)
                .into(),
        )
        .order_by_asc(risk_control::Column::ControlId);
    match scope {
        Scope::Risks([]) => return Ok(Links::default()),
        Scope::Risks(ids) => {
            assets = assets.filter(risk_asset::Column::RiskId.is_in(ids.iter().cloned()));
            suppliers = suppliers.filter(risk_supplier::Column::RiskId.is_in(ids.iter().cloned()));
            controls = controls.filter(risk_control::Column::RiskId.is_in(ids.iter().cloned()));
        }
        Scope::Organization(org_id) => {
            assets = assets.filter(risk_asset::Column::OrganizationId.eq(org_id));
            suppliers = suppliers.filter(risk_supplier::Column::OrganizationId.eq(org_id));
            controls = controls.filter(risk_control::Column::OrganizationId.eq(org_id));
        }
    }
    let mut links = Links::default();
    for (risk_id, asset_id) in assets.into_tuple::<(String, String)>().all(conn).await? {
        links.assets.entry(risk_id).or_default().push(asset_id);
    }
    for (risk_id, supplier_id) in suppliers.into_tuple::<(String, String)>().all(conn).await? {
        links
            .suppliers
            .entry(risk_id)
            .or_default()
            .push(supplier_id);
    }
    let rows: Vec<ControlRow> = controls.into_tuple().all(conn).await?;
    for (risk_id, control_id, role, reference, framework, status) in rows {
        links
            .controls
            .entry(risk_id)
            .or_default()
            .push(LinkedControl {
                control_id,
                role,
                reference,
                framework,
                status,
            });
    }
    Ok(links)
}
