//! The inventory and CycloneDX BOMs (docs/cyclonedx.md): importing an ML-BOM's models,
//! datasets and platforms as assets in one transaction, and exporting the inventory as a BOM.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

use crate::{
    domain::{
        cyclonedx::{self, BomError, ExportAsset},
        principal::Principal,
    },
    error::{AppError, FieldError, Result},
    service::assets::{AssetFilter, inventory},
    store::db,
};
use entity::supplier;

mod import;

pub use import::{CreatedSupplier, ImportReport, Outcome, import};

/// How many values one `IN (…)` list of the import carries.
const IN_CHUNK: usize = 1000;

/// A BOM that cannot be read: 400 when it is not JSON, else 422 with a JSON pointer per
/// problem in `errors[].field`.
fn bom_error(error: BomError) -> AppError {
    match error {
        BomError::NotJson(message) => {
            AppError::bad_request("body", format!("is not JSON: {message}"))
        }
        BomError::Invalid(problems) => AppError::Invalid {
            slug: "validation-failed",
            detail: format!(
                "the BOM cannot be imported ({} problem{}); nothing was written",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            ),
            errors: problems
                .into_iter()
                .map(|p| FieldError::new(&p.pointer, p.message))
                .collect(),
        },
    }
}

/// The inventory matching `filter` (every member) as a CycloneDX 1.6 BOM with a fresh serial
/// number: three queries for the inventory and one for its suppliers' names.
pub async fn export(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    filter: &AssetFilter,
) -> Result<serde_json::Value> {
    let views = inventory(db_conn, principal, org_id, filter).await?;
    let mut supplier_ids: Vec<String> = views
        .iter()
        .filter_map(|v| v.asset.supplier_id.clone())
        .collect();
    supplier_ids.sort();
    supplier_ids.dedup();
    let mut names = std::collections::HashMap::new();
    for chunk in supplier_ids.chunks(IN_CHUNK) {
        let found: Vec<(String, String)> = supplier::Entity::find()
            .select_only()
            .column(supplier::Column::Id)
            .column(supplier::Column::Name)
            .filter(supplier::Column::OrganizationId.eq(org_id))
            .filter(supplier::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db_conn)
            .await?;
        names.extend(found);
    }
    let assets: Vec<ExportAsset> = views
        .into_iter()
        .map(|v| {
            let a = v.asset;
            Ok(ExportAsset {
                supplier: a.supplier_id.as_ref().and_then(|id| names.get(id).cloned()),
                hashes: serde_json::from_str(&a.hashes).map_err(AppError::internal)?,
                external_references: serde_json::from_str(&a.external_references)
                    .map_err(AppError::internal)?,
                id: a.id,
                name: a.name,
                kind: a.kind,
                description: a.description,
                version: a.asset_version,
                classification: a.classification,
                personal_data: a.personal_data,
                external_ref: a.external_ref,
                derived_from: v.derived_from,
            })
        })
        .collect::<Result<_>>()?;
    let serial = format!("urn:uuid:{}", uuid::Uuid::now_v7());
    let timestamp = db::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    Ok(cyclonedx::bom_of(
        &serial,
        &timestamp,
        env!("CARGO_PKG_VERSION"),
        &assets,
    ))
}
