//! The asset inventory as RFC 4180 CSV, written like the Statement of Applicability's.

use crate::{
    api::assets::dto::Asset,
    error::{AppError, Result},
};

/// The inventory's columns, in order.
pub const ASSET_CSV_HEADER: [&str; 18] = [
    "id",
    "name",
    "kind",
    "classification",
    "personal_data",
    "confidentiality",
    "integrity",
    "availability",
    "asset_version",
    "derived_from",
    "locations",
    "external_ref",
    "owner_id",
    "supplier_id",
    "in_scope",
    "status",
    "risk_ids",
    "updated_at",
];

/// An example of the document, for the OpenAPI description.
pub const ASSET_CSV_EXAMPLE: &str = "id,name,kind,classification,personal_data,confidentiality,integrity,availability,asset_version,derived_from,locations,external_ref,owner_id,supplier_id,in_scope,status,risk_ids,updated_at\r\n0193a5b2-7c1e-7d3f-8a2b-0c9d8e7f6a5b,Support assistant model,ml_model,confidential,true,3,4,2,2026-11-rc2,0193a5b2-6a00-7d3f-8a2b-0c9d8e7f6a5b,DE;US,mlflow://models/support-assistant/7,,,true,active,,2026-11-25T17:00:00Z\r\n";

fn flag(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

/// Every asset, one row each, after a header row; lists are joined with `;`.
pub fn inventory_csv(assets: &[Asset]) -> Result<Vec<u8>> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer
        .write_record(ASSET_CSV_HEADER)
        .map_err(AppError::internal)?;
    for a in assets {
        let objectives = &a.security_objectives;
        writer
            .write_record([
                a.id.as_str(),
                a.name.as_str(),
                a.kind.as_str(),
                a.classification.as_str(),
                flag(a.personal_data),
                &objectives.confidentiality.to_string(),
                &objectives.integrity.to_string(),
                &objectives.availability.to_string(),
                a.asset_version.as_deref().unwrap_or(""),
                &a.derived_from.join(";"),
                &a.locations.join(";"),
                a.external_ref.as_deref().unwrap_or(""),
                a.owner_id.as_deref().unwrap_or(""),
                a.supplier_id.as_deref().unwrap_or(""),
                flag(a.in_scope),
                a.status.as_str(),
                &a.risk_ids.join(";"),
                &a.updated_at
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            ])
            .map_err(AppError::internal)?;
    }
    writer.into_inner().map_err(AppError::internal)
}
