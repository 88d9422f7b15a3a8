//! The BOM reader and writer on the fixtures of tests/api/fixtures and on broken documents.

use serde_json::{Value, json};

use super::*;

const V1: &str = include_str!("../../../tests/api/fixtures/ml-bom-v1.json");

fn problems(document: &Value) -> Vec<(String, String)> {
    match parse(document.to_string().as_bytes()) {
        Err(BomError::Invalid(problems)) => problems
            .into_iter()
            .map(|p| (p.pointer, p.message))
            .collect(),
        other => panic!("expected problems, got {other:?}"),
    }
}

fn pointers(document: &Value) -> Vec<String> {
    problems(document).into_iter().map(|(p, _)| p).collect()
}

fn v1() -> Value {
    serde_json::from_str(V1).unwrap()
}

#[test]
fn reads_models_datasets_and_the_platforms_models_use() {
    let bom = parse(V1.as_bytes()).unwrap();
    assert_eq!(
        bom.serial_number,
        "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"
    );
    assert_eq!(bom.skipped, 2, "numpy and the nested tokenizers");
    let kinds: Vec<(&str, AssetKind)> = bom
        .components
        .iter()
        .map(|c| (c.key.as_str(), c.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("model-support-assistant", AssetKind::MlModel),
            ("data-support-tickets", AssetKind::Dataset),
            ("data-product-docs", AssetKind::Dataset),
            ("fw-pytorch", AssetKind::MlPlatform),
        ]
    );
    let model = &bom.components[0];
    assert_eq!(model.sources, ["data-product-docs", "data-support-tickets"]);
    assert_eq!(model.supplier.as_deref(), Some("Acme AI"));
    assert_eq!(model.version.as_deref(), Some("1.0.0"));
    assert_eq!(
        model.external_ref.as_deref(),
        Some("pkg:huggingface/acme-ai/support-assistant@1.0.0")
    );
    assert_eq!(model.hashes[0]["alg"], "SHA-256");
    assert_eq!((model.classification, model.personal_data), (None, None));
    let tickets = &bom.components[1];
    assert_eq!(tickets.classification, Some(Classification::Confidential));
    assert_eq!(tickets.personal_data, Some(true));
    let docs = &bom.components[2];
    assert_eq!(
        (docs.classification, docs.personal_data),
        (Some(Classification::Public), Some(false))
    );
    assert!(
        bom.components[3].sources.is_empty(),
        "a platform has no lineage"
    );
}

#[test]
fn inline_datasets_are_components_too() {
    let mut doc = v1();
    doc["components"][0]["modelCard"]["modelParameters"]["datasets"][1] = json!({
        "type": "data", "name": "eval-set", "bom-ref": "data-eval",
        "data": [{"type": "dataset", "classification": "internal"}]
    });
    let bom = parse(doc.to_string().as_bytes()).unwrap();
    let eval = bom
        .components
        .iter()
        .find(|c| c.key == "data-eval")
        .unwrap();
    assert_eq!(
        eval.pointer,
        "/components/0/modelCard/modelParameters/datasets/1"
    );
    assert_eq!(eval.classification, Some(Classification::Internal));
    assert_eq!(
        bom.components[0].sources,
        ["data-eval", "data-product-docs", "data-support-tickets"]
    );
}

#[test]
fn header_problems_come_alone() {
    let cases = [
        (
            json!({"bomFormat": "SPDX", "specVersion": "1.6"}),
            vec!["/bomFormat"],
        ),
        (
            json!({"bomFormat": "CycloneDX", "specVersion": "1.4"}),
            vec!["/specVersion"],
        ),
        (
            json!({"specVersion": 1.6}),
            vec!["/bomFormat", "/specVersion"],
        ),
        (json!([1, 2]), vec![""]),
    ];
    for (doc, expected) in cases {
        assert_eq!(pointers(&doc), expected, "{doc}");
    }
    assert!(matches!(parse(b"{not json"), Err(BomError::NotJson(_))));
}

#[test]
fn every_component_problem_is_collected() {
    let mut doc = v1();
    doc.as_object_mut().unwrap().remove("serialNumber");
    doc["components"][0]["modelCard"]["modelParameters"]["datasets"][0] = json!({"ref": "nowhere"});
    doc["components"][1]["data"][0]["classification"] = json!("TLP:AMBER");
    doc["components"][2].as_object_mut().unwrap().remove("name");
    doc["dependencies"][0]["dependsOn"] = json!(["ghost"]);
    assert_eq!(
        pointers(&doc),
        [
            "/serialNumber",
            "/dependencies/0/dependsOn/0",
            "/components/0/modelCard/modelParameters/datasets/0/ref",
            "/components/1/data/0/classification",
            "/components/2/name",
        ]
    );
}

#[test]
fn keys_and_lineage_must_be_sound() {
    let mut doc = v1();
    doc["components"][2]["bom-ref"] = json!("data-support-tickets");
    assert!(pointers(&doc).contains(&"/components/2/bom-ref".to_owned()));

    let mut doc = v1();
    doc["components"][1]
        .as_object_mut()
        .unwrap()
        .remove("bom-ref");
    doc["components"][0]["modelCard"]["modelParameters"]["datasets"] = json!([]);
    doc["dependencies"] = json!([]);
    assert_eq!(pointers(&doc), ["/components/1"]);

    let mut doc = v1();
    doc["dependencies"] = json!([
        {"ref": "data-support-tickets", "dependsOn": ["model-support-assistant"]}
    ]);
    let found = problems(&doc);
    assert_eq!(found.len(), 1);
    assert!(found[0].1.contains("cycle"), "{found:?}");

    let mut doc = v1();
    doc["serialNumber"] = json!("3e671687-395b-41f5-a30f-a58921a69b79");
    assert_eq!(pointers(&doc), ["/serialNumber"]);
}

#[test]
fn the_export_reads_back_as_the_same_assets() {
    let assets = vec![
        ExportAsset {
            id: "m".into(),
            name: "model".into(),
            kind: AssetKind::MlModel,
            description: Some("d".into()),
            version: Some("2".into()),
            classification: Classification::Internal,
            personal_data: false,
            hashes: json!([{"alg": "SHA-1", "content": "a".repeat(40)}]),
            external_references: json!([{"type": "future-type", "url": "https://x"}]),
            external_ref: Some("pkg:generic/model@2".into()),
            supplier: Some("Acme".into()),
            derived_from: vec!["d".into(), "gone".into(), "p".into()],
        },
        ExportAsset {
            id: "d".into(),
            name: "dataset".into(),
            kind: AssetKind::Dataset,
            description: None,
            version: None,
            classification: Classification::Restricted,
            personal_data: true,
            hashes: json!([]),
            external_references: json!([]),
            external_ref: Some("s3://bucket/data".into()),
            supplier: None,
            derived_from: vec![],
        },
        ExportAsset {
            id: "p".into(),
            name: "people".into(),
            kind: AssetKind::People,
            description: None,
            version: None,
            classification: Classification::Internal,
            personal_data: true,
            hashes: json!([]),
            external_references: json!([]),
            external_ref: None,
            supplier: None,
            derived_from: vec![],
        },
    ];
    let bom = bom_of(
        "urn:uuid:01938a5c-0000-7000-8000-000000000000",
        "2026-12-04T00:00:00Z",
        "0.1.0",
        &assets,
    );
    assert_eq!(bom["specVersion"], "1.6");
    assert_eq!(
        bom["components"].as_array().map(Vec::len),
        Some(2),
        "people are not components"
    );
    assert_eq!(
        bom["components"][0]["externalReferences"][0]["type"],
        "other"
    );
    assert_eq!(
        bom["dependencies"],
        json!([{"ref": "m", "dependsOn": ["d"]}])
    );
    let back = parse(bom.to_string().as_bytes()).unwrap();
    let model = &back.components[0];
    assert_eq!(
        (model.kind, model.sources.clone()),
        (AssetKind::MlModel, vec!["d".to_owned()])
    );
    assert_eq!(model.supplier.as_deref(), Some("Acme"));
    assert_eq!(model.external_ref.as_deref(), Some("pkg:generic/model@2"));
    assert_eq!(model.classification, Some(Classification::Internal));
    let dataset = &back.components[1];
    assert_eq!(dataset.classification, Some(Classification::Restricted));
    assert_eq!(dataset.personal_data, Some(true));
    assert_eq!(dataset.external_ref.as_deref(), Some("s3://bucket/data"));
}
