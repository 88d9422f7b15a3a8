//! CycloneDX ML-BOMs: importing a model trained on two datasets from a supplier, the next
//! pipeline run's BOM (one model retrained, one dataset gone), dry runs, malformed BOMs that
//! change nothing, and the inventory exported as a BOM that imports into another organization
//! as the same assets.

use std::collections::BTreeMap;

use reqwest::{Response, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{ISO_27001, Org, TestApp, assert_problem, body, expect_status};

const V1: &str = include_str!("fixtures/ml-bom-v1.json");
const V2: &str = include_str!("fixtures/ml-bom-v2.json");
const CDX: &str = "application/vnd.cyclonedx+json";

async fn send_bom(
    app: &TestApp,
    org: &Org,
    query: &str,
    content_type: &str,
    bom: &str,
) -> Response {
    app.request(
        reqwest::Method::POST,
        &org.path(&format!("/assets/import{query}")),
        Some(&org.editor.token),
    )
    .header("content-type", content_type)
    .body(bom.to_owned())
    .send()
    .await
    .expect("request")
}

async fn import(app: &TestApp, org: &Org, bom: &str) -> Value {
    expect_status(send_bom(app, org, "", CDX, bom).await, StatusCode::OK).await
}

/// `(created, updated, retired, unchanged, skipped)` of an import report.
fn counts(report: &Value) -> (u64, u64, u64, u64, u64) {
    let n = |k: &str| report[k]["count"].as_u64().unwrap();
    (
        n("created"),
        n("updated"),
        n("retired"),
        n("unchanged"),
        report["skipped"].as_u64().unwrap(),
    )
}

/// Every asset of the organization, by name.
async fn assets(app: &TestApp, org: &Org) -> BTreeMap<String, Value> {
    let page = app
        .get_json(&org.path("/assets?limit=100"), &org.viewer.token)
        .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["name"].as_str().unwrap().to_owned(), a.clone()))
        .collect()
}

/// The names of what `asset` is derived from.
fn source_names(all: &BTreeMap<String, Value>, asset: &Value) -> Vec<String> {
    let mut names: Vec<String> = asset["derived_from"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| {
            all.values()
                .find(|a| a["id"] == *id)
                .map(|a| a["name"].as_str().unwrap().to_owned())
                .unwrap()
        })
        .collect();
    names.sort();
    names
}

async fn stored(app: &TestApp, id: &str) -> entity::asset::Model {
    entity::asset::Entity::find_by_id(id.to_owned())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn an_ml_bom_imports_its_models_datasets_and_the_platform_they_use() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let report = import(&app, &org, V1).await;
    assert_eq!(counts(&report), (4, 0, 0, 0, 2));
    assert_eq!(report["dry_run"], false);
    assert_eq!(
        report["serial_number"],
        "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"
    );

    let all = assets(&app, &org).await;
    let model = &all["support-assistant-model"];
    assert_eq!(
        (
            &model["kind"],
            &model["asset_version"],
            &model["external_ref"]
        ),
        (
            &json!("ml_model"),
            &json!("1.0.0"),
            &json!("pkg:huggingface/acme-ai/support-assistant@1.0.0")
        )
    );
    assert_eq!(
        source_names(&all, model),
        ["product-docs", "support-tickets"]
    );
    let tickets = &all["support-tickets"];
    assert_eq!(
        (
            &tickets["kind"],
            &tickets["classification"],
            &tickets["personal_data"]
        ),
        (&json!("dataset"), &json!("confidential"), &json!(true))
    );
    let docs = &all["product-docs"];
    assert_eq!(
        (&docs["classification"], &docs["personal_data"]),
        (&json!("public"), &json!(false))
    );
    assert_eq!(all["pytorch"]["kind"], "ml_platform");
    assert!(!all.contains_key("numpy") && !all.contains_key("tokenizers"));

    let row = stored(&app, model["id"].as_str().unwrap()).await;
    assert_eq!(
        row.source_bom.as_deref(),
        Some("urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79")
    );
    assert_eq!(row.source_ref.as_deref(), Some("model-support-assistant"));
    let hashes: Value = serde_json::from_str(&row.hashes).unwrap();
    assert_eq!(hashes[0]["alg"], "SHA-256");
    let references: Value = serde_json::from_str(&row.external_references).unwrap();
    assert_eq!(references[0]["type"], "model-card");
    let suppliers = report["suppliers_created"].as_array().unwrap();
    assert_eq!(suppliers.len(), 1);
    assert_eq!(suppliers[0]["name"], "Acme AI");
    assert_eq!(row.supplier_id.as_deref(), suppliers[0]["id"].as_str());
    let supplier = app
        .get_json(
            &org.path(&format!(
                "/suppliers/{}",
                suppliers[0]["id"].as_str().unwrap()
            )),
            &org.viewer.token,
        )
        .await;
    assert_eq!(supplier["kind"], "ai_model_provider");
    let tickets_row = stored(&app, tickets["id"].as_str().unwrap()).await;
    assert_eq!(tickets_row.supplier_id, None);

    let actions = app
        .audit_actions(&org.id, "limit=100", &org.admin.token)
        .await;
    assert_eq!(actions.iter().filter(|a| *a == "asset.created").count(), 4);
    assert_eq!(
        actions.iter().filter(|a| *a == "assets.imported").count(),
        1
    );
    let verified = app
        .get_json(&org.path("/audit-events/verify"), &org.admin.token)
        .await;
    assert_eq!(verified["ok"], true, "{verified}");
}

#[tokio::test]
async fn the_next_runs_bom_updates_adds_retires_and_leaves_the_rest_alone() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    import(&app, &org, V1).await;
    let before = assets(&app, &org).await;

    let report = import(&app, &org, V2).await;
    assert_eq!(counts(&report), (1, 1, 1, 2, 2));
    assert_eq!(report["suppliers_created"], json!([]), "found by name");
    let after = assets(&app, &org).await;
    let model = &after["support-assistant-model"];
    assert_eq!(report["updated"]["ids"], json!([model["id"]]));
    assert_eq!(
        (&model["asset_version"], &model["version"]),
        (&json!("1.1.0"), &json!(2))
    );
    assert_eq!(
        source_names(&after, model),
        ["support-tickets", "support-tickets-2026q4"]
    );
    let docs = &after["product-docs"];
    assert_eq!(report["retired"]["ids"], json!([docs["id"]]));
    assert_eq!(
        (&docs["status"], &docs["version"]),
        (&json!("retired"), &json!(2))
    );
    assert_eq!(
        after["support-tickets"], before["support-tickets"],
        "unchanged"
    );
    assert_eq!(after["pytorch"], before["pytorch"], "unchanged");
    assert_eq!(after["support-tickets-2026q4"]["personal_data"], true);
    let row = stored(&app, model["id"].as_str().unwrap()).await;
    assert!(row.hashes.contains("60303ae22b998861"), "{}", row.hashes);

    // The same BOM again changes nothing; the retired dataset stays retired.
    let again = import(&app, &org, V2).await;
    assert_eq!(counts(&again), (0, 0, 0, 4, 2));
    assert_eq!(assets(&app, &org).await, after);
    // Back to the first BOM: the dataset comes back, the new one is retired.
    let back = import(&app, &org, V1).await;
    assert_eq!(counts(&back), (0, 2, 1, 2, 2));
    assert_eq!(assets(&app, &org).await["product-docs"]["status"], "active");
}

#[tokio::test]
async fn a_dry_run_answers_the_same_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    import(&app, &org, V1).await;
    let before = assets(&app, &org).await;
    let audit = app
        .audit_actions(&org.id, "limit=100", &org.admin.token)
        .await;

    let res = send_bom(&app, &org, "?dry_run=true", "application/json", V2).await;
    let report = expect_status(res, StatusCode::OK).await;
    assert_eq!(report["dry_run"], true);
    assert_eq!(counts(&report), (1, 1, 1, 2, 2));
    assert_eq!(assets(&app, &org).await, before);
    assert_eq!(
        app.audit_actions(&org.id, "limit=100", &org.admin.token)
            .await,
        audit
    );
}

#[tokio::test]
async fn malformed_boms_are_refused_with_pointers_and_change_nothing() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    import(&app, &org, V1).await;
    let before = assets(&app, &org).await;
    let v2: Value = serde_json::from_str(V2).unwrap();
    let with = |pointer: &str, value: Value| {
        let mut doc = v2.clone();
        *doc.pointer_mut(pointer).unwrap() = value;
        doc.to_string()
    };
    let mut no_serial = v2.clone();
    no_serial.as_object_mut().unwrap().remove("serialNumber");
    let cases: [(&str, &str, String, u16, &[&str]); 7] = [
        ("not JSON", CDX, "{\"bomFormat\": ".into(), 400, &["body"]),
        ("not a BOM media type", "text/plain", V2.into(), 415, &[]),
        (
            "SPDX",
            CDX,
            with("/bomFormat", json!("SPDX")),
            422,
            &["/bomFormat"],
        ),
        (
            "spec 1.4",
            CDX,
            with("/specVersion", json!("1.4")),
            422,
            &["/specVersion"],
        ),
        (
            "unknown dataset",
            CDX,
            with(
                "/components/0/modelCard/modelParameters/datasets/1/ref",
                json!("data-gone"),
            ),
            422,
            &["/components/0/modelCard/modelParameters/datasets/1/ref"],
        ),
        (
            "no serial",
            CDX,
            no_serial.to_string(),
            422,
            &["/serialNumber"],
        ),
        (
            "two problems",
            CDX,
            with("/components/1/data/0/classification", json!("TLP:RED"))
                .replace("\"2026-12\"", "{\"not\": \"a version\"}"),
            422,
            &[
                "/components/1/data/0/classification",
                "/components/2/version",
            ],
        ),
    ];
    for (name, content_type, bom, status, pointers) in cases {
        let res = send_bom(&app, &org, "", content_type, &bom).await;
        assert_eq!(res.status().as_u16(), status, "{name}");
        let problem = body(res).await;
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|e| e["field"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(fields, pointers, "{name}: {problem}");
    }
    assert_eq!(assets(&app, &org).await, before);
}

#[tokio::test]
async fn a_bom_over_the_upload_limit_is_refused() {
    let app = TestApp::spawn_with(|s| s.max_upload_bytes = 1024).await;
    let org = app.org_with(ISO_27001).await;
    let res = send_bom(&app, &org, "", CDX, V1).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(assets(&app, &org).await.is_empty());
}

/// The required parts of a CycloneDX 1.6 BOM, checked by hand (conformance/run.sh validates
/// exports against the schema with cyclonedx-python-lib).
fn assert_cyclonedx_1_6(bom: &Value) {
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.6");
    assert_eq!(bom["version"], 1);
    let serial = bom["serialNumber"].as_str().unwrap();
    let uuid = serial.strip_prefix("urn:uuid:").unwrap();
    assert!(uuid::Uuid::parse_str(uuid).is_ok(), "{serial}");
    assert!(
        chrono::DateTime::parse_from_rfc3339(bom["metadata"]["timestamp"].as_str().unwrap())
            .is_ok()
    );
    let components = bom["components"].as_array().unwrap();
    let refs: Vec<&str> = components
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    for c in components {
        assert!(c["type"].is_string() && c["name"].is_string(), "{c}");
        for d in c["data"].as_array().into_iter().flatten() {
            assert!(d["type"].is_string(), "componentData needs a type: {c}");
        }
    }
    for d in bom["dependencies"].as_array().unwrap() {
        assert!(refs.contains(&d["ref"].as_str().unwrap()));
        for on in d["dependsOn"].as_array().unwrap() {
            assert!(refs.contains(&on.as_str().unwrap()), "dangling {on}");
        }
    }
}

async fn export(app: &TestApp, org: &Org, query: &str) -> Value {
    let res = app
        .request(
            reqwest::Method::GET,
            &org.path(&format!("/assets{query}")),
            Some(&org.viewer.token),
        )
        .header("accept", CDX)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], CDX);
    res.json().await.unwrap()
}

#[tokio::test]
async fn the_export_is_a_1_6_bom_that_imports_elsewhere_as_the_same_assets() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    import(&app, &org, V1).await;
    let mine = assets(&app, &org).await;
    let bom = export(&app, &org, "").await;
    assert_cyclonedx_1_6(&bom);
    let model = &mine["support-assistant-model"];
    let component = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["bom-ref"] == model["id"])
        .unwrap();
    assert_eq!(component["type"], "machine-learning-model");
    let datasets = &component["modelCard"]["modelParameters"]["datasets"];
    assert_eq!(datasets.as_array().map(Vec::len), Some(2));
    assert_eq!(component["hashes"][0]["alg"], "SHA-256");
    assert_eq!(component["supplier"]["name"], "Acme AI");

    let only_datasets = export(&app, &org, "?kind=dataset").await;
    assert_cyclonedx_1_6(&only_datasets);
    assert_eq!(
        only_datasets["components"].as_array().map(Vec::len),
        Some(2)
    );

    let other = app.org_with(ISO_27001).await;
    let report = import(&app, &other, &bom.to_string()).await;
    assert_eq!(counts(&report), (4, 0, 0, 0, 0));
    assert_eq!(report["suppliers_created"][0]["name"], "Acme AI");
    let theirs = assets(&app, &other).await;
    let keys = [
        "kind",
        "classification",
        "personal_data",
        "asset_version",
        "external_ref",
        "status",
        "description",
    ];
    for (name, asset) in &mine {
        let copy = &theirs[name];
        for key in keys {
            assert_eq!(copy[key], asset[key], "{name}.{key}");
        }
        assert_eq!(
            source_names(&theirs, copy),
            source_names(&mine, asset),
            "{name}"
        );
        let (a, b) = (
            stored(&app, asset["id"].as_str().unwrap()).await,
            stored(&app, copy["id"].as_str().unwrap()).await,
        );
        assert_eq!(
            (a.hashes, a.external_references),
            (b.hashes, b.external_references),
            "{name}"
        );
    }
    let bom_rows = entity::asset::Entity::find()
        .filter(entity::asset::Column::OrganizationId.eq(other.id.as_str()))
        .all(&app.state.db)
        .await
        .unwrap();
    assert!(
        bom_rows
            .iter()
            .all(|r| r.source_bom.as_deref() == bom["serialNumber"].as_str())
    );
}

#[tokio::test]
async fn other_methods_on_the_import_are_405_not_an_asset_id() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    for method in [
        reqwest::Method::GET,
        reqwest::Method::PATCH,
        reqwest::Method::DELETE,
    ] {
        let res = app
            .request(
                method.clone(),
                &org.path("/assets/import"),
                Some(&org.editor.token),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(res.headers()["allow"], "POST");
    }
}

#[tokio::test]
async fn a_bom_with_a_mistyped_header_is_refused_with_pointers() {
    let app = TestApp::spawn().await;
    let org = app.organization("Typed").await;
    let path = format!("/api/v1/organizations/{org}/assets/import");
    for (field, value) in [
        ("metadata", json!([null, null])),
        ("metadata", Value::Null),
        ("version", json!("one")),
        ("version", json!(0)),
    ] {
        let mut bom = json!({"bomFormat": "CycloneDX", "specVersion": "1.6",
            "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
            "components": [], "dependencies": []});
        bom[field] = value.clone();
        let res = app.post(&path, &app.admin_token, &bom).await;
        let problem = assert_problem(res, 422).await;
        assert_eq!(
            problem["errors"][0]["field"],
            format!("/{field}"),
            "{field}: {value}"
        );
    }
}
