//! The asset inventory: registering AI models, datasets and endpoints with their lineage, the
//! filters and the CSV export, and every refusal (invalid fields, other organizations' ids,
//! lineage cycles, duplicates, stale versions) answered without writing anything.

use reqwest::{Method, Response, StatusCode};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};

use crate::helpers::{
    ISO_27001, NewAsset, Org, TestApp, assert_problem, body, expect_status, id_of, ids,
};

/// An organization with a dataset, the model trained on it and the endpoint serving the model.
struct Chain {
    org: Org,
    dataset: String,
    model: String,
    endpoint: String,
}

async fn chain(app: &TestApp) -> Chain {
    let org = app.org_with(ISO_27001).await;
    let token = org.editor.token.clone();
    let new = |name: &str, kind: &str| NewAsset::default().named(name).of_kind(kind);
    let dataset = id_of(
        &app.new_asset(&org.id, &token, new("Support tickets 2025", "dataset"))
            .await,
    );
    let model = id_of(
        &app.new_asset(
            &org.id,
            &token,
            new("Support assistant", "ml_model")
                .derived_from(&[&dataset])
                .with("asset_version", json!("v7")),
        )
        .await,
    );
    let endpoint = id_of(
        &app.new_asset(
            &org.id,
            &token,
            new("Assistant API", "inference_endpoint").derived_from(&[&model]),
        )
        .await,
    );
    Chain {
        org,
        dataset,
        model,
        endpoint,
    }
}

impl Chain {
    fn path(&self, id: &str) -> String {
        self.org.path(&format!("/assets/{id}"))
    }
}

/// `(id, depth)` of a lineage side.
fn depths(items: &Value) -> Vec<(String, u64)> {
    items
        .as_array()
        .expect("items")
        .iter()
        .map(|i| (id_of(i), i["depth"].as_u64().expect("depth")))
        .collect()
}

/// The `field` of the first error of a problem.
fn error_field(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or("")
}

async fn with_header(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    header: (&str, &str),
    body: Option<&Value>,
) -> Response {
    let mut request = app
        .request(method, path, Some(token))
        .header(header.0, header.1);
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.expect("request")
}

#[tokio::test]
async fn an_asset_round_trips_through_create_get_list_update_and_delete() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let res = app
        .post(
            &org.path("/assets"),
            &org.editor.token,
            &json!({
                "name": "  Support assistant  ",
                "kind": "ml_model",
                "description": "Answers customer tickets",
                "owner_id": org.editor.id,
                "classification": "confidential",
                "personal_data": true,
                "security_objectives": {"confidentiality": 3, "integrity": 4, "availability": 2},
                "asset_version": "2026-11-rc2",
                "locations": ["US", "DE", "US"],
                "external_ref": "mlflow://models/support-assistant/7",
                "in_scope": true,
                "status": "active"
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let location = res.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let created = body(res).await;
    let id = id_of(&created);
    assert_eq!(location, org.path(&format!("/assets/{id}")));
    assert_eq!(created["name"], "Support assistant");
    assert_eq!(created["locations"], json!(["DE", "US"]));
    assert_eq!(
        created["security_objectives"],
        json!({"confidentiality": 3, "integrity": 4, "availability": 2})
    );
    assert_eq!(
        (created["version"].as_i64(), created["risk_ids"].clone()),
        (Some(1), json!([]))
    );

    assert_eq!(app.get_json(&location, &org.viewer.token).await, created);
    let page = app.get_json(&org.path("/assets"), &org.viewer.token).await;
    assert_eq!(ids(&page), vec![id.clone()]);

    let res = app
        .patch(
            &location,
            &org.editor.token,
            &json!({"description": null, "security_objectives": {"availability": 4}, "status": "retired"}),
        )
        .await;
    let updated = expect_status(res, StatusCode::OK).await;
    assert_eq!(updated["description"], Value::Null);
    assert_eq!(updated["security_objectives"]["availability"], 4);
    assert_eq!(updated["security_objectives"]["confidentiality"], 3);
    assert_eq!(
        (updated["status"].as_str(), updated["version"].as_i64()),
        (Some("retired"), Some(2))
    );

    let res = app.delete(&location, &org.admin.token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(app.get(&location, &org.admin.token).await, 404).await;
    assert_eq!(
        app.audit_actions(&org.id, &format!("entity_id={id}"), &org.auditor.token)
            .await,
        ["asset.created", "asset.updated", "asset.deleted"]
    );
}

#[tokio::test]
async fn absent_fields_take_their_defaults() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let created = app
        .new_asset(&org.id, &org.editor.token, NewAsset::default())
        .await;
    for (field, expected) in [
        ("classification", json!("internal")),
        ("personal_data", json!(false)),
        (
            "security_objectives",
            json!({"confidentiality": 0, "integrity": 0, "availability": 0}),
        ),
        ("in_scope", json!(true)),
        ("status", json!("active")),
        ("locations", json!([])),
        ("derived_from", json!([])),
        ("owner_id", Value::Null),
        ("external_ref", Value::Null),
    ] {
        assert_eq!(created[field], expected, "{field}");
    }
}

#[tokio::test]
async fn each_filter_narrows_the_list() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let token = &org.editor.token;
    let assets = [
        json!({"name": "Llama fine-tune", "kind": "ml_model", "owner_id": org.editor.id,
               "classification": "restricted", "personal_data": true}),
        json!({"name": "Tickets", "kind": "dataset", "description": "Support tickets with LLAMA labels",
               "in_scope": false}),
        json!({"name": "GPU cluster", "kind": "compute", "status": "retired",
               "external_ref": "cmdb://gpu-llama-01"}),
        json!({"name": "Wiki", "kind": "application"}),
    ];
    let mut created = Vec::new();
    for asset in &assets {
        let res = app.post(&org.path("/assets"), token, asset).await;
        created.push(id_of(&expect_status(res, StatusCode::CREATED).await));
    }
    let since = app
        .get_json(&org.path(&format!("/assets/{}", created[3])), token)
        .await["updated_at"]
        .as_str()
        .expect("updated_at")
        .to_owned();
    let cases: [(String, Vec<usize>); 12] = [
        ("kind=dataset".into(), vec![1]),
        (format!("owner_id={}", org.editor.id), vec![0]),
        ("classification=restricted".into(), vec![0]),
        ("classification=internal".into(), vec![1, 2, 3]),
        ("personal_data=true".into(), vec![0]),
        ("personal_data=false".into(), vec![1, 2, 3]),
        ("in_scope=false".into(), vec![1]),
        ("status=retired".into(), vec![2]),
        ("status=active&in_scope=true".into(), vec![0, 3]),
        // Name, description and external reference, whatever the case.
        ("q=llama".into(), vec![0, 1, 2]),
        ("q=WIKI".into(), vec![3]),
        (format!("updated_since={}", urlencode(&since)), vec![3]),
    ];
    for (query, expected) in cases {
        let page = app
            .get_json(&org.path(&format!("/assets?{query}")), token)
            .await;
        let expected: Vec<String> = expected.iter().map(|i| created[*i].clone()).collect();
        assert_eq!(ids(&page), expected, "{query}");
    }
    let res = app.get(&org.path("/assets?kind=spaceship"), token).await;
    assert_problem(res, 400).await;
}

fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[tokio::test]
async fn lineage_walks_ancestors_and_descendants_with_their_depths() {
    let app = TestApp::spawn().await;
    let c = chain(&app).await;
    let token = &c.org.viewer.token;
    let of_endpoint = app
        .get_json(&format!("{}/lineage", c.path(&c.endpoint)), token)
        .await;
    assert_eq!(of_endpoint["asset_id"], c.endpoint.as_str());
    assert_eq!(
        depths(&of_endpoint["ancestors"]),
        [(c.model.clone(), 1), (c.dataset.clone(), 2)]
    );
    assert_eq!(depths(&of_endpoint["descendants"]), []);
    let model = &of_endpoint["ancestors"][0];
    assert_eq!(
        (
            model["name"].as_str(),
            model["kind"].as_str(),
            model["asset_version"].as_str(),
            model["status"].as_str()
        ),
        (
            Some("Support assistant"),
            Some("ml_model"),
            Some("v7"),
            Some("active")
        )
    );
    let of_dataset = app
        .get_json(&format!("{}/lineage", c.path(&c.dataset)), token)
        .await;
    assert_eq!(depths(&of_dataset["ancestors"]), []);
    assert_eq!(
        depths(&of_dataset["descendants"]),
        [(c.model.clone(), 1), (c.endpoint.clone(), 2)]
    );
    let of_model = app
        .get_json(&format!("{}/lineage", c.path(&c.model)), token)
        .await;
    assert_eq!(depths(&of_model["ancestors"]), [(c.dataset.clone(), 1)]);
    assert_eq!(depths(&of_model["descendants"]), [(c.endpoint.clone(), 1)]);
    assert_eq!(
        app.get_json(&c.path(&c.model), token).await["derived_from"],
        json!([c.dataset])
    );
}

#[tokio::test]
async fn a_lineage_cycle_is_refused_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let c = chain(&app).await;
    let token = &c.org.editor.token;
    let before = app.get_json(&c.path(&c.dataset), token).await;
    for sources in [
        vec![c.endpoint.clone()],
        vec![c.model.clone()],
        vec![c.dataset.clone()],
    ] {
        let res = app
            .patch(
                &c.path(&c.dataset),
                token,
                &json!({"name": "Renamed", "derived_from": sources}),
            )
            .await;
        let problem = assert_problem(res, 422).await;
        assert_eq!(problem["type"], "urn:annexa:problem:lineage-cycle");
        assert_eq!(error_field(&problem), "derived_from");
    }
    assert_eq!(app.get_json(&c.path(&c.dataset), token).await, before);
    let lineage = app
        .get_json(&format!("{}/lineage", c.path(&c.dataset)), token)
        .await;
    assert_eq!(depths(&lineage["ancestors"]), []);
    // Replacing the sources with ones that close no cycle is fine.
    let res = app
        .patch(
            &c.path(&c.endpoint),
            token,
            &json!({"derived_from": [c.dataset, c.model]}),
        )
        .await;
    let updated = expect_status(res, StatusCode::OK).await;
    let mut expected = vec![c.dataset.clone(), c.model.clone()];
    expected.sort();
    assert_eq!(updated["derived_from"], json!(expected));
}

#[tokio::test]
async fn ids_of_another_organization_are_not_found_naming_the_field() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let other = app.org_with(ISO_27001).await;
    let foreign = id_of(
        &app.new_asset(&other.id, &other.editor.token, NewAsset::default())
            .await,
    );
    let mine = id_of(
        &app.new_asset(&org.id, &org.editor.token, NewAsset::default())
            .await,
    );
    let sibling = id_of(
        &app.new_asset(&org.id, &org.editor.token, NewAsset::default())
            .await,
    );
    let unknown = uuid::Uuid::now_v7().to_string();
    let cases = [
        (json!({"derived_from": [sibling, foreign]}), "derived_from"),
        (json!({"derived_from": [unknown]}), "derived_from"),
        (json!({"owner_id": other.editor.id}), "owner_id"),
        (json!({"owner_id": unknown}), "owner_id"),
    ];
    for (fields, field) in &cases {
        let mut create = NewAsset::default().json().clone();
        for (k, v) in fields.as_object().expect("object") {
            create[k] = v.clone();
        }
        let problem = assert_problem(
            app.post(&org.path("/assets"), &org.editor.token, &create)
                .await,
            404,
        )
        .await;
        assert_eq!(error_field(&problem), *field, "create {fields}");
        let res = app
            .patch(
                &org.path(&format!("/assets/{mine}")),
                &org.editor.token,
                fields,
            )
            .await;
        let problem = assert_problem(res, 404).await;
        assert_eq!(error_field(&problem), *field, "update {fields}");
    }
    let page = app.get_json(&org.path("/assets"), &org.admin.token).await;
    assert_eq!(ids(&page), [mine.clone(), sibling]);
    assert_eq!(
        app.get_json(&org.path(&format!("/assets/{mine}")), &org.admin.token)
            .await["version"],
        1
    );
}

#[tokio::test]
async fn invalid_fields_are_refused_naming_them() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let mine = id_of(
        &app.new_asset(&org.id, &org.editor.token, NewAsset::default())
            .await,
    );
    let cases = [
        ("locations", json!(["US", "XX"]), "locations[1]"),
        ("locations", json!(["us"]), "locations[0]"),
        ("locations", json!(["FR", "USA"]), "locations[1]"),
        (
            "security_objectives",
            json!({"confidentiality": 5}),
            "security_objectives.confidentiality",
        ),
        (
            "security_objectives",
            json!({"availability": -1}),
            "security_objectives.availability",
        ),
        ("name", json!("   "), "name"),
        ("name", json!("x".repeat(201)), "name"),
        ("asset_version", json!("v".repeat(201)), "asset_version"),
        ("external_ref", json!("r".repeat(1001)), "external_ref"),
    ];
    for (field, value, named) in cases {
        let res = app
            .post(
                &org.path("/assets"),
                &org.editor.token,
                NewAsset::default().with(field, value.clone()).json(),
            )
            .await;
        let problem = assert_problem(res, 422).await;
        assert_eq!(error_field(&problem), named, "create {field} = {value}");
        let res = app
            .patch(
                &org.path(&format!("/assets/{mine}")),
                &org.editor.token,
                &json!({field: value}),
            )
            .await;
        let problem = assert_problem(res, 422).await;
        assert_eq!(error_field(&problem), named, "update {field} = {value}");
    }
    let page = app.get_json(&org.path("/assets"), &org.admin.token).await;
    assert_eq!(ids(&page), [mine]);
    let res = app
        .post(
            &org.path("/assets"),
            &org.editor.token,
            NewAsset::default().with("colour", json!("red")).json(),
        )
        .await;
    assert_problem(res, 400).await;
}

#[tokio::test]
async fn a_duplicate_external_ref_is_a_conflict() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let token = &org.editor.token;
    let with_ref = |r: &str| NewAsset::default().with("external_ref", json!(r));
    app.new_asset(&org.id, token, with_ref("mlflow://models/a/1"))
        .await;
    let second = id_of(
        &app.new_asset(&org.id, token, with_ref("mlflow://models/b/1"))
            .await,
    );
    let res = app
        .post(
            &org.path("/assets"),
            token,
            with_ref("mlflow://models/a/1").json(),
        )
        .await;
    let problem = assert_problem(res, 409).await;
    assert_eq!(problem["type"], "urn:annexa:problem:external-ref-taken");
    let res = app
        .patch(
            &org.path(&format!("/assets/{second}")),
            token,
            &json!({"external_ref": "mlflow://models/a/1"}),
        )
        .await;
    assert_problem(res, 409).await;
    // Another organization may use the same reference.
    let other = app.org_with(ISO_27001).await;
    app.new_asset(
        &other.id,
        &other.editor.token,
        with_ref("mlflow://models/a/1"),
    )
    .await;
}

#[tokio::test]
async fn the_inventory_downloads_as_csv() {
    let app = TestApp::spawn().await;
    let c = chain(&app).await;
    let token = &c.org.viewer.token;
    let res = app
        .patch(
            &c.path(&c.model),
            &c.org.editor.token,
            &json!({"locations": ["US", "DE"], "external_ref": "mlflow://models/assistant, v7"}),
        )
        .await;
    let model = expect_status(res, StatusCode::OK).await;
    let res = with_header(
        &app,
        Method::GET,
        &c.org.path("/assets?kind=ml_model&limit=1"),
        token,
        ("accept", "text/csv"),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .expect("header")
            .starts_with("attachment")
    );
    let text = res.text().await.expect("body");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        [
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
            "updated_at"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 1);
    let row: Vec<&str> = rows[0].iter().collect();
    assert_eq!(
        row,
        [
            c.model.as_str(),
            "Support assistant",
            "ml_model",
            "internal",
            "false",
            "0",
            "0",
            "0",
            "v7",
            c.dataset.as_str(),
            "DE;US",
            "mlflow://models/assistant, v7",
            "",
            "",
            "true",
            "active",
            "",
            model["updated_at"].as_str().expect("updated_at"),
        ]
    );
    // Unfiltered: every asset, not paged, oldest first.
    let res = with_header(
        &app,
        Method::GET,
        &c.org.path("/assets?limit=1"),
        token,
        ("accept", "text/csv"),
        None,
    )
    .await;
    let text = res.text().await.expect("body");
    let ids: Vec<String> = csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("row")[0].to_owned())
        .collect();
    assert_eq!(
        ids,
        [c.dataset.clone(), c.model.clone(), c.endpoint.clone()]
    );
}

#[tokio::test]
async fn a_patch_that_changes_nothing_keeps_the_version() {
    let app = TestApp::spawn().await;
    let c = chain(&app).await;
    let token = &c.org.editor.token;
    let res = app
        .patch(
            &c.path(&c.model),
            token,
            &json!({"locations": ["US", "DE"]}),
        )
        .await;
    let before = expect_status(res, StatusCode::OK).await;
    assert_eq!(before["version"], 2);
    let same = json!({
        "name": " Support assistant ",
        "kind": "ml_model",
        "locations": ["DE", "US", "US"],
        "derived_from": [c.dataset],
        "security_objectives": {"confidentiality": 0},
        "asset_version": "v7",
        "owner_id": null,
        "in_scope": true
    });
    let res = app.patch(&c.path(&c.model), token, &same).await;
    assert_eq!(res.headers()["etag"], "\"2\"");
    assert_eq!(expect_status(res, StatusCode::OK).await, before);
    assert_eq!(
        app.audit_actions(
            &c.org.id,
            &format!("entity_id={}", c.model),
            &c.org.admin.token
        )
        .await,
        ["asset.created", "asset.updated"]
    );
}

#[tokio::test]
async fn a_stale_if_match_is_refused() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let path = org.path(&format!(
        "/assets/{}",
        id_of(
            &app.new_asset(&org.id, &org.admin.token, NewAsset::default())
                .await
        )
    ));
    let res = with_header(
        &app,
        Method::PATCH,
        &path,
        &org.admin.token,
        ("if-match", "\"7\""),
        Some(&json!({"name": "Stale"})),
    )
    .await;
    assert_problem(res, 412).await;
    let res = with_header(
        &app,
        Method::DELETE,
        &path,
        &org.admin.token,
        ("if-match", "\"7\""),
        None,
    )
    .await;
    assert_problem(res, 412).await;
    assert_eq!(app.get_json(&path, &org.admin.token).await["name"], "Asset");
    let res = with_header(
        &app,
        Method::PATCH,
        &path,
        &org.admin.token,
        ("if-match", "\"1\""),
        Some(&json!({"name": "Fresh"})),
    )
    .await;
    assert_eq!(expect_status(res, StatusCode::OK).await["version"], 2);
}

#[tokio::test]
async fn another_organizations_asset_is_not_found() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let other = app.org_with(ISO_27001).await;
    let theirs = id_of(
        &app.new_asset(&other.id, &other.editor.token, NewAsset::default())
            .await,
    );
    let through_mine = org.path(&format!("/assets/{theirs}"));
    let through_theirs = other.path(&format!("/assets/{theirs}"));
    for path in [&through_mine, &format!("{through_mine}/lineage")] {
        assert_problem(app.get(path, &org.admin.token).await, 404).await;
    }
    assert_problem(
        app.patch(&through_mine, &org.admin.token, &json!({"name": "Mine"}))
            .await,
        404,
    )
    .await;
    assert_problem(app.delete(&through_mine, &org.admin.token).await, 404).await;
    for path in [&through_theirs, &format!("{through_theirs}/lineage")] {
        assert_problem(app.get(path, &org.admin.token).await, 404).await;
    }
    assert_eq!(
        app.get_json(&through_theirs, &other.admin.token).await["version"],
        1
    );
}

#[tokio::test]
async fn a_retried_create_replays_the_first_answer() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let assets = org.path("/assets");
    let create = async |body: Value| {
        with_header(
            &app,
            Method::POST,
            &assets,
            &org.editor.token,
            ("idempotency-key", "registry:sync:42"),
            Some(&body),
        )
        .await
    };
    let body_of = NewAsset::default()
        .named("Registered model")
        .of_kind("ml_model");
    let first = create(body_of.json().clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = body(first).await;
    let again = create(body_of.json().clone()).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(body(again).await, first);
    let other = create(body_of.named("Another").json().clone()).await;
    let problem = assert_problem(other, 422).await;
    assert_eq!(problem["type"], "urn:annexa:problem:idempotency-key-reuse");
    let page = app.get_json(&org.path("/assets"), &org.admin.token).await;
    assert_eq!(ids(&page), [id_of(&first)]);
}

#[tokio::test]
async fn linked_risks_show_and_go_with_the_asset() {
    let app = TestApp::spawn().await;
    let c = chain(&app).await;
    let now = chrono::Utc::now();
    let risk_id = uuid::Uuid::now_v7().to_string();
    entity::risk::ActiveModel {
        id: Set(risk_id.clone()),
        organization_id: Set(c.org.id.clone()),
        ref_number: Set(1),
        title: Set("Training data poisoning".into()),
        description: Set(None),
        threat: Set(None),
        vulnerability: Set(None),
        owner_id: Set(None),
        template: Set(None),
        inherent_likelihood: Set(3),
        inherent_impact: Set(4),
        inherent_level: Set(3),
        residual_likelihood: Set(2),
        residual_impact: Set(4),
        residual_level: Set(2),
        treatment: Set(entity::values::RiskTreatment::Modify),
        treatment_plan: Set(None),
        treatment_due: Set(None),
        assessed_at: Set(None),
        review_due: Set(None),
        status: Set(entity::values::RiskStatus::Open),
        acceptance_justification: Set(None),
        acceptance_expires_on: Set(None),
        accepted_by: Set(None),
        accepted_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.state.db)
    .await
    .expect("risk");
    for asset_id in [&c.dataset, &c.model] {
        entity::risk_asset::ActiveModel {
            risk_id: Set(risk_id.clone()),
            asset_id: Set(asset_id.clone()),
            organization_id: Set(c.org.id.clone()),
        }
        .insert(&app.state.db)
        .await
        .expect("link");
    }
    let token = &c.org.viewer.token;
    assert_eq!(
        app.get_json(&c.path(&c.model), token).await["risk_ids"],
        json!([risk_id])
    );
    let page = app.get_json(&c.org.path("/assets"), token).await;
    let risk_ids: Vec<Value> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| a["risk_ids"].clone())
        .collect();
    assert_eq!(risk_ids, [json!([risk_id]), json!([risk_id]), json!([])]);
    let res = app.delete(&c.path(&c.dataset), &c.org.admin.token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let links = entity::risk_asset::Entity::find()
        .all(&app.state.db)
        .await
        .expect("links");
    assert_eq!(links.len(), 1);
    let model = app.get_json(&c.path(&c.model), token).await;
    assert_eq!(model["derived_from"], json!([]));
}

#[tokio::test]
async fn changes_are_announced_to_webhooks() {
    let app = TestApp::spawn_with(|s| {
        s.webhook_allow_private = true;
        s.webhook_worker = false;
    })
    .await;
    let org = app.org_with(ISO_27001).await;
    app.new_webhook(
        &org.id,
        "http://127.0.0.1:9/hook",
        &["asset.created", "asset.updated"],
    )
    .await;
    let created = app
        .new_asset(&org.id, &org.editor.token, NewAsset::default())
        .await;
    let res = app
        .patch(
            &org.path(&format!("/assets/{}", id_of(&created))),
            &org.editor.token,
            &json!({"personal_data": true}),
        )
        .await;
    let updated = expect_status(res, StatusCode::OK).await;
    let mut events = entity::webhook_event::Entity::find()
        .all(&app.state.db)
        .await
        .expect("events");
    events.sort_by(|a, b| a.id.cmp(&b.id));
    let seen: Vec<(String, Value)> = events
        .iter()
        .map(|e| {
            let payload: Value = serde_json::from_str(&e.payload).expect("payload");
            (e.event_type.clone(), payload["data"].clone())
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("asset.created".to_owned(), created),
            ("asset.updated".to_owned(), updated)
        ]
    );
}

#[tokio::test]
async fn concurrent_changes_cannot_close_a_cycle_together() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let token = &org.editor.token;
    for _ in 0..3 {
        let a = id_of(&app.new_asset(&org.id, token, NewAsset::default()).await);
        let b = id_of(&app.new_asset(&org.id, token, NewAsset::default()).await);
        let (path_a, path_b) = (
            org.path(&format!("/assets/{a}")),
            org.path(&format!("/assets/{b}")),
        );
        let (body_a, body_b) = (json!({"derived_from": [b]}), json!({"derived_from": [a]}));
        let (first, second) = tokio::join!(
            app.patch(&path_a, token, &body_a),
            app.patch(&path_b, token, &body_b),
        );
        let mut statuses = [first.status().as_u16(), second.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 422]);
    }
}
