//! Reading a CycloneDX JSON BOM for import: the header, every component (nested ones and the
//! datasets inline in model cards), which of them are assets, their keys and their lineage.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::{Bom, BomError, Component, KIND_PROPERTY, Problem, SPEC_VERSIONS, fields};
use crate::domain::asset::{AssetKind, Lineage};

const MAX_NAME: usize = 200;
const MAX_VERSION: usize = 200;
const MAX_DESCRIPTION: usize = 5000;
const MAX_EXTERNAL_REF: usize = 1000;
const DATASETS: &str = "modelCard/modelParameters/datasets";

/// A component found in the document.
struct Raw<'a> {
    pointer: String,
    value: &'a Map<String, Value>,
    kind: Option<AssetKind>,
    key: Option<String>,
}

fn bom_ref(value: &Map<String, Value>) -> Option<&str> {
    value
        .get("bom-ref")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
}

fn type_of(value: &Map<String, Value>) -> Option<&str> {
    value.get("type").and_then(Value::as_str)
}

fn datasets(value: &Map<String, Value>) -> Option<&Vec<Value>> {
    value
        .get("modelCard")?
        .get("modelParameters")?
        .get("datasets")?
        .as_array()
}

/// Every component under `list` (at `pointer`), depth first, nested `components` included.
fn collect<'a>(
    list: &'a Value,
    pointer: &str,
    out: &mut Vec<Raw<'a>>,
    problems: &mut Vec<Problem>,
) {
    let Some(items) = list.as_array() else {
        problems.push(Problem::new(pointer, "must be an array"));
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let at = format!("{pointer}/{i}");
        let Some(value) = item.as_object() else {
            problems.push(Problem::new(at, "must be an object"));
            continue;
        };
        out.push(Raw {
            pointer: at.clone(),
            value,
            kind: None,
            key: None,
        });
        if let Some(nested) = value.get("components") {
            collect(nested, &format!("{at}/components"), out, problems);
        }
    }
}

/// Checks the document's header: 422 problems naming `/bomFormat` or `/specVersion`.
fn header(root: &Map<String, Value>) -> Result<String, BomError> {
    let mut problems = Vec::new();
    if root.get("bomFormat").and_then(Value::as_str) != Some("CycloneDX") {
        problems.push(Problem::new("/bomFormat", "must be \"CycloneDX\""));
    }
    let spec = root
        .get("specVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !SPEC_VERSIONS.contains(&spec) {
        problems.push(Problem::new(
            "/specVersion",
            format!("must be one of {}", SPEC_VERSIONS.join(", ")),
        ));
    }
    if problems.is_empty() {
        Ok(spec.to_owned())
    } else {
        Err(BomError::Invalid(problems))
    }
}

fn serial_number(root: &Map<String, Value>, problems: &mut Vec<Problem>) -> String {
    let serial = root
        .get("serialNumber")
        .and_then(Value::as_str)
        .unwrap_or("");
    let valid = serial
        .strip_prefix("urn:uuid:")
        .is_some_and(|u| u.len() == 36 && uuid::Uuid::try_parse(u).is_ok());
    if serial.is_empty() {
        problems.push(Problem::new(
            "/serialNumber",
            "is required: imported assets are keyed by the BOM's serial number",
        ));
    } else if !valid {
        problems.push(Problem::new("/serialNumber", "must be `urn:uuid:<uuid>`"));
    }
    serial.to_owned()
}

/// The `dependencies`: each `ref` with what it depends on (and where), every ref checked
/// against the document's bom-refs.
fn dependencies<'a>(
    root: &'a Map<String, Value>,
    known: &HashSet<&str>,
    problems: &mut Vec<Problem>,
) -> HashMap<&'a str, Vec<(String, &'a str)>> {
    let mut out: HashMap<&str, Vec<(String, &str)>> = HashMap::new();
    let Some(list) = root.get("dependencies") else {
        return out;
    };
    let Some(items) = list.as_array() else {
        problems.push(Problem::new("/dependencies", "must be an array"));
        return out;
    };
    for (i, item) in items.iter().enumerate() {
        let at = format!("/dependencies/{i}");
        let Some(from) = item.get("ref").and_then(Value::as_str) else {
            problems.push(Problem::new(format!("{at}/ref"), "must be a string"));
            continue;
        };
        if !known.contains(from) {
            problems.push(Problem::new(
                format!("{at}/ref"),
                format!("`{from}` is not a bom-ref of this BOM"),
            ));
        }
        let targets = item.get("dependsOn").and_then(Value::as_array);
        for (j, target) in targets.into_iter().flatten().enumerate() {
            let there = format!("{at}/dependsOn/{j}");
            match target.as_str() {
                Some(to) if to == from => {
                    problems.push(Problem::new(there, "a component cannot depend on itself"))
                }
                Some(to) if known.contains(to) => out.entry(from).or_default().push((there, to)),
                Some(to) => problems.push(Problem::new(
                    there,
                    format!("`{to}` is not a bom-ref of this BOM"),
                )),
                None => problems.push(Problem::new(there, "must be a string")),
            }
        }
    }
    out
}

fn has_kind_property(value: &Map<String, Value>, kind: AssetKind) -> bool {
    value
        .get("properties")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|p| {
            p.get("name").and_then(Value::as_str) == Some(KIND_PROPERTY)
                && p.get("value").and_then(Value::as_str) == Some(kind.as_str())
        })
}

/// A trimmed optional text of at most `max` characters (a problem otherwise).
fn text(
    value: &Map<String, Value>,
    pointer: &str,
    field: &str,
    max: usize,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    match value.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().chars().count() <= max => {
            Some(s.trim().to_owned()).filter(|s| !s.is_empty())
        }
        Some(Value::String(_)) => {
            problems.push(Problem::new(
                format!("{pointer}/{field}"),
                format!("must be at most {max} characters"),
            ));
            None
        }
        Some(_) => {
            problems.push(Problem::new(
                format!("{pointer}/{field}"),
                "must be a string",
            ));
            None
        }
    }
}

fn organization_name(value: &Map<String, Value>) -> Option<String> {
    ["supplier", "manufacturer"].into_iter().find_map(|field| {
        value
            .get(field)?
            .get("name")?
            .as_str()
            .map(str::trim)
            .filter(|n| !n.is_empty() && n.chars().count() <= MAX_NAME)
            .map(str::to_owned)
    })
}

/// Reads `bytes` as a CycloneDX JSON BOM to import (docs/cyclonedx.md): every problem found,
/// with its JSON pointer, or the components to import.
pub fn parse(bytes: &[u8]) -> Result<Bom, BomError> {
    let document: Value =
        serde_json::from_slice(bytes).map_err(|e| BomError::NotJson(e.to_string()))?;
    let Some(root) = document.as_object() else {
        return Err(BomError::Invalid(vec![Problem::new(
            "",
            "must be a JSON object (a CycloneDX BOM)",
        )]));
    };
    let spec_version = header(root)?;
    let mut problems = Vec::new();
    let serial_number = serial_number(root, &mut problems);
    if root.get("metadata").is_some_and(|m| !m.is_object()) {
        problems.push(Problem::new("/metadata", "must be an object"));
    }
    if root
        .get("version")
        .is_some_and(|v| !v.is_null() && v.as_i64().is_none_or(|n| n < 1))
    {
        problems.push(Problem::new("/version", "must be a positive integer"));
    }

    let mut raws = Vec::new();
    if let Some(list) = root.get("components") {
        collect(list, "/components", &mut raws, &mut problems);
    }
    // Datasets written inline in a model card are components too.
    let mut inline = Vec::new();
    for raw in raws
        .iter()
        .filter(|r| type_of(r.value) == Some("machine-learning-model"))
    {
        for (j, entry) in datasets(raw.value).into_iter().flatten().enumerate() {
            if let Some(value) = entry.as_object().filter(|e| !e.contains_key("ref")) {
                inline.push(Raw {
                    pointer: format!("{}/{DATASETS}/{j}", raw.pointer),
                    value,
                    kind: None,
                    key: None,
                });
            }
        }
    }
    raws.extend(inline);

    // Every bom-ref of the document, unique.
    let mut by_ref: HashMap<&str, usize> = HashMap::new();
    for (i, raw) in raws.iter().enumerate() {
        if let Some(r) = bom_ref(raw.value)
            && by_ref.insert(r, i).is_some()
        {
            problems.push(Problem::new(
                format!("{}/bom-ref", raw.pointer),
                format!("`{r}` is used by another component"),
            ));
        }
    }
    let mut known: HashSet<&str> = by_ref.keys().copied().collect();
    let metadata_ref = root.get("metadata").and_then(|m| m.get("component"));
    let services = root.get("services").and_then(Value::as_array);
    for other in metadata_ref
        .into_iter()
        .chain(services.into_iter().flatten())
    {
        if let Some(r) = other.get("bom-ref").and_then(Value::as_str) {
            known.insert(r);
        }
    }
    let depends = dependencies(root, &known, &mut problems);

    // Which components are assets.
    let used_by_models: HashSet<&str> = raws
        .iter()
        .filter(|r| type_of(r.value) == Some("machine-learning-model"))
        .filter_map(|r| bom_ref(r.value))
        .flat_map(|r| depends.get(r).into_iter().flatten().map(|(_, to)| *to))
        .collect();
    for raw in &mut raws {
        raw.kind = match type_of(raw.value) {
            None => {
                problems.push(Problem::new(format!("{}/type", raw.pointer), "is required"));
                None
            }
            Some("machine-learning-model") => Some(AssetKind::MlModel),
            Some("data") => Some(AssetKind::Dataset),
            Some("application" | "platform" | "framework")
                if bom_ref(raw.value).is_some_and(|r| used_by_models.contains(r))
                    || has_kind_property(raw.value, AssetKind::MlPlatform) =>
            {
                Some(AssetKind::MlPlatform)
            }
            Some(_) => None,
        };
    }

    // Their keys: the bom-ref, else the purl.
    let mut keys: HashSet<String> = HashSet::new();
    for raw in raws.iter_mut().filter(|r| r.kind.is_some()) {
        let purl = raw
            .value
            .get("purl")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty());
        let Some(key) = bom_ref(raw.value).or(purl) else {
            problems.push(Problem::new(
                raw.pointer.clone(),
                "needs a `bom-ref` or a `purl`: imported assets are keyed by them",
            ));
            continue;
        };
        if key.chars().count() > MAX_EXTERNAL_REF {
            problems.push(Problem::new(
                format!("{}/bom-ref", raw.pointer),
                format!("must be at most {MAX_EXTERNAL_REF} characters"),
            ));
        } else if !keys.insert(key.to_owned()) {
            problems.push(Problem::new(
                format!("{}/purl", raw.pointer),
                format!("`{key}` identifies another component"),
            ));
        } else {
            raw.key = Some(key.to_owned());
        }
    }

    let by_pointer: HashMap<&str, usize> = raws
        .iter()
        .enumerate()
        .map(|(i, r)| (r.pointer.as_str(), i))
        .collect();
    let mut components = Vec::new();
    for raw in &raws {
        let (Some(kind), Some(key)) = (raw.kind, raw.key.clone()) else {
            continue;
        };
        let sources = sources(
            raw,
            kind,
            &raws,
            &by_ref,
            &by_pointer,
            &depends,
            &mut problems,
        );
        components.push(component(raw, kind, key, sources, &mut problems));
    }
    let skipped = raws.iter().filter(|r| r.kind.is_none()).count();
    check_cycles(&components, &mut problems);
    if !problems.is_empty() {
        return Err(BomError::Invalid(problems));
    }
    Ok(Bom {
        serial_number,
        spec_version,
        components,
        skipped,
    })
}

/// The keys of what `raw` is derived from: a model's model-card datasets, and the models and
/// datasets a model or dataset depends on in `dependencies`.
fn sources(
    raw: &Raw<'_>,
    kind: AssetKind,
    raws: &[Raw<'_>],
    by_ref: &HashMap<&str, usize>,
    by_pointer: &HashMap<&str, usize>,
    depends: &HashMap<&str, Vec<(String, &str)>>,
    problems: &mut Vec<Problem>,
) -> Vec<String> {
    let mut out = Vec::new();
    if kind == AssetKind::MlModel {
        for (j, entry) in datasets(raw.value).into_iter().flatten().enumerate() {
            let at = format!("{}/{DATASETS}/{j}", raw.pointer);
            let target = match entry.get("ref") {
                Some(Value::String(r)) => by_ref
                    .get(r.as_str())
                    .map(|&i| &raws[i])
                    .filter(|t| t.kind == Some(AssetKind::Dataset))
                    .ok_or_else(|| {
                        Problem::new(
                            format!("{at}/ref"),
                            format!("`{r}` is not the bom-ref of a data component in this BOM"),
                        )
                    }),
                Some(_) => Err(Problem::new(format!("{at}/ref"), "must be a string")),
                None => by_pointer
                    .get(at.as_str())
                    .map(|&i| &raws[i])
                    .ok_or_else(|| Problem::new(at.clone(), "must be an object")),
            };
            match target {
                Ok(t) => out.extend(t.key.clone()),
                Err(problem) => problems.push(problem),
            }
        }
    }
    if matches!(kind, AssetKind::MlModel | AssetKind::Dataset)
        && let Some(targets) = bom_ref(raw.value).and_then(|r| depends.get(r))
    {
        for (_, to) in targets {
            let target = by_ref.get(to).map(|&i| &raws[i]);
            if let Some(t) =
                target.filter(|t| matches!(t.kind, Some(AssetKind::MlModel | AssetKind::Dataset)))
            {
                out.extend(t.key.clone());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn component(
    raw: &Raw<'_>,
    kind: AssetKind,
    key: String,
    sources: Vec<String>,
    problems: &mut Vec<Problem>,
) -> Component {
    let p = raw.pointer.as_str();
    let v = raw.value;
    let before = problems.len();
    let name = text(v, p, "name", MAX_NAME, problems);
    if name.is_none() && problems.len() == before {
        problems.push(Problem::new(format!("{p}/name"), "is required"));
    }
    let (classification, personal_data) = fields::data_labels(p, v.get("data"), problems);
    let hashes = fields::hashes(p, v.get("hashes"), problems);
    let external_references = fields::external_references(p, v.get("externalReferences"), problems);
    let purl = text(v, p, "purl", MAX_EXTERNAL_REF, problems);
    let distribution = external_references.as_array().and_then(|refs| {
        refs.iter()
            .find(|r| r.get("type").and_then(Value::as_str) == Some("distribution"))
            .and_then(|r| r.get("url").and_then(Value::as_str))
            .filter(|url| url.chars().count() <= MAX_EXTERNAL_REF)
            .map(str::to_owned)
    });
    Component {
        key,
        pointer: raw.pointer.clone(),
        name: name.unwrap_or_default(),
        kind,
        description: text(v, p, "description", MAX_DESCRIPTION, problems),
        version: text(v, p, "version", MAX_VERSION, problems),
        classification,
        personal_data,
        hashes,
        external_references,
        external_ref: purl.or(distribution),
        supplier: organization_name(v),
        sources,
    }
}

/// A lineage that goes round in a circle is refused at the first component on it.
fn check_cycles(components: &[Component], problems: &mut Vec<Problem>) {
    let edges = components
        .iter()
        .flat_map(|c| c.sources.iter().map(|s| (c.key.clone(), s.clone())));
    let lineage = Lineage::new(edges);
    for c in components {
        if let Some(through) = lineage.cycle_through(&c.key, &c.sources) {
            problems.push(Problem::new(
                c.pointer.clone(),
                format!("its lineage (model card datasets and dependencies) is a cycle through `{through}`"),
            ));
            return;
        }
    }
}
