//! Writing the inventory as a CycloneDX 1.6 JSON BOM: one component per asset (`bom-ref` = the
//! asset id), lineage as model-card datasets and `dependencies`.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::{KIND_PROPERTY, fields};
use crate::domain::asset::{AssetKind, Classification};

/// An asset to export.
#[derive(Debug, Clone)]
pub struct ExportAsset {
    pub id: String,
    pub name: String,
    pub kind: AssetKind,
    pub description: Option<String>,
    pub version: Option<String>,
    pub classification: Classification,
    pub personal_data: bool,
    /// The stored `hashes` JSON array.
    pub hashes: Value,
    /// The stored `externalReferences` JSON array.
    pub external_references: Value,
    pub external_ref: Option<String>,
    /// Its supplier's name.
    pub supplier: Option<String>,
    pub derived_from: Vec<String>,
}

/// The CycloneDX component type of an asset kind; `None` for kinds that are not components
/// (people, facilities).
pub fn component_type(kind: AssetKind) -> Option<&'static str> {
    Some(match kind {
        AssetKind::MlModel => "machine-learning-model",
        AssetKind::Dataset | AssetKind::Information => "data",
        AssetKind::MlPlatform | AssetKind::Infrastructure => "platform",
        AssetKind::Compute => "device",
        AssetKind::DataPipeline
        | AssetKind::InferenceEndpoint
        | AssetKind::Application
        | AssetKind::ThirdPartyService => "application",
        AssetKind::People | AssetKind::Facility => return None,
    })
}

fn component(asset: &ExportAsset, kinds: &HashMap<&str, AssetKind>, ty: &str) -> Value {
    let mut c = Map::new();
    c.insert("type".into(), ty.into());
    c.insert("bom-ref".into(), asset.id.clone().into());
    c.insert("name".into(), asset.name.clone().into());
    if let Some(version) = &asset.version {
        c.insert("version".into(), version.clone().into());
    }
    if let Some(description) = &asset.description {
        c.insert("description".into(), description.clone().into());
    }
    if let Some(supplier) = &asset.supplier {
        c.insert("supplier".into(), json!({"name": supplier}));
    }
    let mut references: Vec<Value> = asset
        .external_references
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let url = r.get("url")?.as_str()?;
            let kind = fields::export_reference_type(r.get("type")?.as_str()?);
            let mut out = json!({"type": kind, "url": url});
            if let Some(comment) = r.get("comment").and_then(Value::as_str) {
                out["comment"] = comment.into();
            }
            Some(out)
        })
        .collect();
    match asset.external_ref.as_deref() {
        Some(purl) if purl.starts_with("pkg:") => {
            c.insert("purl".into(), purl.into());
        }
        Some(url)
            if url.contains("://")
                && !references
                    .iter()
                    .any(|r| r.get("url").and_then(Value::as_str) == Some(url)) =>
        {
            references.push(json!({"type": "distribution", "url": url}));
        }
        _ => {}
    }
    if let Some(hashes) = asset.hashes.as_array().filter(|h| !h.is_empty()) {
        c.insert("hashes".into(), Value::Array(hashes.clone()));
    }
    if !references.is_empty() {
        c.insert("externalReferences".into(), Value::Array(references));
    }
    let mut data = json!({
        "type": if ty == "data" { "dataset" } else { "other" },
        "name": asset.name,
        "classification": asset.classification.as_str(),
    });
    if asset.personal_data {
        data["sensitiveData"] = json!(["personal data"]);
    }
    c.insert("data".into(), json!([data]));
    if asset.kind == AssetKind::MlModel {
        let datasets: Vec<Value> = asset
            .derived_from
            .iter()
            .filter(|s| kinds.get(s.as_str()) == Some(&AssetKind::Dataset))
            .map(|s| json!({"ref": s}))
            .collect();
        if !datasets.is_empty() {
            c.insert(
                "modelCard".into(),
                json!({"modelParameters": {"datasets": datasets}}),
            );
        }
    }
    c.insert(
        "properties".into(),
        json!([{"name": KIND_PROPERTY, "value": asset.kind.as_str()}]),
    );
    Value::Object(c)
}

/// The BOM of `assets`: `serial_number` is `urn:uuid:…`, `timestamp` RFC 3339. Lineage to an
/// asset that is not exported (filtered out, or not a component) is left out, so every
/// reference resolves.
pub fn bom_of(
    serial_number: &str,
    timestamp: &str,
    tool_version: &str,
    assets: &[ExportAsset],
) -> Value {
    let typed: Vec<(&ExportAsset, &str)> = assets
        .iter()
        .filter_map(|a| component_type(a.kind).map(|t| (a, t)))
        .collect();
    let kinds: HashMap<&str, AssetKind> =
        typed.iter().map(|(a, _)| (a.id.as_str(), a.kind)).collect();
    let components: Vec<Value> = typed.iter().map(|(a, t)| component(a, &kinds, t)).collect();
    let dependencies: Vec<Value> = typed
        .iter()
        .filter_map(|(a, _)| {
            let on: Vec<&String> = a
                .derived_from
                .iter()
                .filter(|s| kinds.contains_key(s.as_str()))
                .collect();
            (!on.is_empty()).then(|| json!({"ref": a.id, "dependsOn": on}))
        })
        .collect();
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": serial_number,
        "version": 1,
        "metadata": {
            "timestamp": timestamp,
            "tools": {"components": [{"type": "application", "name": "Annexa", "version": tool_version}]},
        },
        "components": components,
        "dependencies": dependencies,
    })
}
