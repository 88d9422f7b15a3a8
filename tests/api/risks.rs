//! The risk register: the matrix and its recomputation, risks numbered and rated, filters,
//! acceptance by the owner or an admin, the registers as CSV, the Statement of Applicability's
//! link to risks, and templates.

use chrono::{Duration, Utc};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    ISO_27001, ISO_42001, NewAsset, Org, TestApp, assert_problem, body, expect_status, id_of,
};

/// A risk titled `title` rated `likelihood` × `impact` (inherent; the residual follows).
fn rated(title: &str, likelihood: i16, impact: i16) -> Value {
    json!({"title": title, "inherent": {"likelihood": likelihood, "impact": impact}})
}

fn with(mut risk: Value, field: &str, value: Value) -> Value {
    risk[field] = value;
    risk
}

/// Registers a risk in `org` as its editor (201); the risk.
async fn new_risk(app: &TestApp, org: &Org, risk: Value) -> Value {
    let res = app
        .post(&org.path("/risks"), &org.editor.token, &risk)
        .await;
    expect_status(res, StatusCode::CREATED).await
}

fn risk_path(org: &Org, risk: &Value) -> String {
    org.path(&format!("/risks/{}", id_of(risk)))
}

/// An asset of `org_id`, written through the entity (the assets API lives in its own module).
async fn new_asset(app: &TestApp, org_id: &str, name: &str) -> String {
    let asset = NewAsset::default().named(name).of_kind("dataset");
    id_of(&app.new_asset(org_id, &app.admin_token, asset).await)
}

/// A 4 × 4 matrix with three levels: Low below the diagonal, Medium on it, High above.
fn four_by_four() -> Value {
    let scale: Vec<Value> = (1..=4)
        .map(|n| json!({"name": format!("L{n}"), "description": ""}))
        .collect();
    let grid: Vec<Vec<i16>> = (1..=4i16)
        .map(|l| {
            (1..=4i16)
                .map(|i| match l + i {
                    ..=4 => 1,
                    5 => 2,
                    _ => 3,
                })
                .collect()
        })
        .collect();
    json!({
        "likelihood_levels": scale,
        "impact_levels": scale,
        "risk_levels": [{"name": "Low"}, {"name": "Medium"}, {"name": "High"}],
        "grid": grid,
        "appetite": 1
    })
}

async fn put_matrix(app: &TestApp, org: &Org, matrix: &Value) -> Response {
    app.send_json(
        Method::PUT,
        &org.path("/risk-matrix"),
        &org.admin.token,
        matrix,
    )
    .await
}

#[tokio::test]
async fn the_default_matrix_applies_until_an_admin_changes_it() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let res = app.get(&org.path("/risk-matrix"), &org.viewer.token).await;
    assert_eq!(res.headers()["etag"], "\"1\"");
    let m = body(res).await;
    assert_eq!(m["likelihood_levels"][4]["name"], "Almost certain");
    assert_eq!(m["impact_levels"][0]["name"], "Negligible");
    assert_eq!(
        m["risk_levels"],
        json!([{"name": "Low"}, {"name": "Medium"}, {"name": "High"}, {"name": "Critical"}])
    );
    assert_eq!(m["grid"][0], json!([1, 1, 1, 1, 2]));
    assert_eq!(m["grid"][4], json!([2, 3, 3, 4, 4]));
    assert_eq!(
        (m["appetite"].as_i64(), m["version"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(m["appetite_name"], "Medium");

    let res = app
        .send_json(
            Method::PUT,
            &org.path("/risk-matrix"),
            &org.editor.token,
            &four_by_four(),
        )
        .await;
    assert_problem(res, 403).await;
}

#[tokio::test]
async fn a_new_matrix_recomputes_the_levels_of_existing_risks() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let risk = new_risk(&app, &org, rated("Leaked weights", 3, 3)).await;
    assert_eq!(
        (
            risk["inherent"]["level"].as_i64(),
            risk["inherent"]["level_name"].as_str()
        ),
        (Some(2), Some("Medium"))
    );
    let untouched = new_risk(&app, &org, rated("Minor", 1, 1)).await;

    let res = app
        .request(
            Method::PUT,
            &org.path("/risk-matrix"),
            Some(&org.admin.token),
        )
        .header("if-match", "\"1\"")
        .json(&four_by_four())
        .send()
        .await
        .expect("request");
    let m = expect_status(res, StatusCode::OK).await;
    assert_eq!(
        (m["version"].as_i64(), m["appetite_name"].as_str()),
        (Some(2), Some("Low"))
    );

    let now = app
        .get_json(&risk_path(&org, &risk), &org.viewer.token)
        .await;
    assert_eq!(
        (
            now["residual"]["level"].as_i64(),
            now["residual"]["level_name"].as_str()
        ),
        (Some(3), Some("High"))
    );
    assert_eq!(now["above_appetite"], true);
    assert_eq!(now["inherent"]["level"], 3);
    assert_eq!(
        now["version"], 2,
        "both ratings recomputed, one new version"
    );
    let same = app
        .get_json(&risk_path(&org, &untouched), &org.viewer.token)
        .await;
    assert_eq!(same["residual"]["level_name"], "Low");
    assert_eq!(
        same["version"], 1,
        "a risk whose level stays is not rewritten"
    );

    let stale = app
        .request(
            Method::PUT,
            &org.path("/risk-matrix"),
            Some(&org.admin.token),
        )
        .header("if-match", "\"1\"")
        .json(&four_by_four())
        .send()
        .await
        .expect("request");
    assert_problem(stale, 412).await;
    let actions = app
        .audit_actions(&org.id, "entity_type=risk_matrix", &org.admin.token)
        .await;
    assert_eq!(actions, ["risk_matrix.updated"]);
}

#[tokio::test]
async fn a_matrix_that_drops_a_rated_level_is_refused_naming_the_risks() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    new_risk(&app, &org, rated("Fine", 2, 2)).await;
    new_risk(&app, &org, rated("Off the scale", 5, 1)).await;
    new_risk(
        &app,
        &org,
        with(
            rated("Residual too", 1, 1),
            "residual",
            json!({"likelihood": 1, "impact": 5}),
        ),
    )
    .await;
    let problem = assert_problem(put_matrix(&app, &org, &four_by_four()).await, 409).await;
    assert_eq!(problem["type"], "urn:annexa:problem:rating-orphaned");
    assert_eq!(problem["risks"], json!(["R-2", "R-3"]));
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or("")
            .contains("R-2, R-3")
    );
    let m = app
        .get_json(&org.path("/risk-matrix"), &org.viewer.token)
        .await;
    assert_eq!(
        (m["version"].as_i64(), m["grid"].as_array().map(Vec::len)),
        (Some(1), Some(5))
    );
}

#[tokio::test]
async fn invalid_matrices_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let base = four_by_four();
    let cases: [(&str, Value, &str); 7] = [
        (
            "likelihood_levels",
            json!([{"name": "a"}, {"name": "b"}]),
            "likelihood_levels",
        ),
        ("risk_levels", json!([{"name": "only"}]), "risk_levels"),
        (
            "risk_levels",
            json!([{"name": "Low"}, {"name": " "}, {"name": "High"}]),
            "risk_levels[1].name",
        ),
        (
            "grid",
            json!([[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]]),
            "grid",
        ),
        (
            "grid",
            json!([[1, 1, 1, 1], [1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]]),
            "grid[1]",
        ),
        (
            "grid",
            json!([[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 4], [1, 1, 1, 1]]),
            "grid[2][3]",
        ),
        ("appetite", json!(4), "appetite"),
    ];
    for (field, value, named) in cases {
        let res = put_matrix(&app, &org, &with(base.clone(), field, value)).await;
        let problem = assert_problem(res, 422).await;
        assert_eq!(problem["errors"][0]["field"], named, "{problem}");
    }
}

#[tokio::test]
async fn risks_are_numbered_rated_and_never_reuse_a_ref() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let first = new_risk(&app, &org, rated("Data poisoning", 4, 4)).await;
    assert_eq!(first["ref"], "R-1");
    assert_eq!(
        first["inherent"],
        json!({"likelihood": 4, "impact": 4, "level": 3, "level_name": "High"})
    );
    assert_eq!(
        first["residual"], first["inherent"],
        "the residual defaults to the inherent rating"
    );
    assert_eq!(
        (
            first["above_appetite"].as_bool(),
            first["treatment"].as_str(),
            first["status"].as_str()
        ),
        (Some(true), Some("undecided"), Some("open"))
    );
    assert_eq!(first["acceptance"], Value::Null);

    let second = new_risk(
        &app,
        &org,
        with(
            rated("Prompt injection", 3, 3),
            "residual",
            json!({"likelihood": 1, "impact": 3}),
        ),
    )
    .await;
    assert_eq!(second["ref"], "R-2");
    assert_eq!(second["residual"]["level_name"], "Low");
    assert_eq!(second["above_appetite"], false);

    let res = app
        .delete(&risk_path(&org, &second), &org.editor.token)
        .await;
    assert_problem(res, 403).await;
    let res = app
        .delete(&risk_path(&org, &second), &org.admin.token)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let third = new_risk(&app, &org, rated("Model theft", 2, 5)).await;
    assert_eq!(third["ref"], "R-3");
    assert_problem(
        app.get(&risk_path(&org, &second), &org.viewer.token).await,
        404,
    )
    .await;
    let actions = app
        .audit_actions(&org.id, "entity_type=risk", &org.admin.token)
        .await;
    assert_eq!(actions.iter().filter(|a| *a == "risk.created").count(), 3);
    assert!(actions.contains(&"risk.deleted".to_owned()));
}

#[tokio::test]
async fn ratings_outside_the_matrix_and_bad_fields_are_refused() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let cases: [(Value, &str); 6] = [
        (rated("x", 0, 3), "inherent.likelihood"),
        (rated("x", 6, 3), "inherent.likelihood"),
        (rated("x", 3, 6), "inherent.impact"),
        (
            with(
                rated("x", 3, 3),
                "residual",
                json!({"likelihood": 9, "impact": 1}),
            ),
            "residual.likelihood",
        ),
        (json!({"title": "no rating"}), "inherent"),
        (rated(" ", 3, 3), "title"),
    ];
    for (risk, field) in cases {
        let res = app
            .post(&org.path("/risks"), &org.editor.token, &risk)
            .await;
        let problem = assert_problem(res, 422).await;
        assert_eq!(problem["errors"][0]["field"], field, "{risk}");
    }
    let res = app
        .post(
            &org.path("/risks"),
            &org.editor.token,
            &with(rated("x", 1, 1), "template", json!("no-such")),
        )
        .await;
    assert_eq!(
        assert_problem(res, 422).await["errors"][0]["field"],
        "template"
    );
    let res = app
        .post(&org.path("/risks"), &org.auditor.token, &rated("x", 1, 1))
        .await;
    assert_problem(res, 403).await;
}

#[tokio::test]
async fn links_to_another_organization_are_not_found() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let other = app.org_with(ISO_27001).await;
    let foreign_asset = new_asset(&app, &other.id, "Their dataset").await;
    let own_asset = new_asset(&app, &org.id, "Our dataset").await;
    let cases: [(&str, Value, &str); 3] = [
        ("asset_ids", json!([own_asset, foreign_asset]), "asset_ids"),
        (
            "controls",
            json!([{"control_id": other.control("A.8.3"), "role": "planned"}]),
            "controls",
        ),
        ("owner_id", json!(other.editor.id), "owner_id"),
    ];
    for (field, value, named) in cases {
        let res = app
            .post(
                &org.path("/risks"),
                &org.editor.token,
                &with(rated("x", 1, 1), field, value),
            )
            .await;
        let problem = assert_problem(res, 404).await;
        assert!(
            problem["detail"].as_str().unwrap_or("").contains(named),
            "{problem}"
        );
        assert_eq!(problem["errors"][0]["field"], named, "{problem}");
    }
    let risk = new_risk(&app, &org, rated("Ours", 2, 2)).await;
    assert_problem(
        app.get(&risk_path(&org, &risk), &other.admin.token).await,
        404,
    )
    .await;
    let foreign = app
        .patch(
            &risk_path(&org, &risk),
            &other.admin.token,
            &json!({"title": "Hijacked"}),
        )
        .await;
    assert_problem(foreign, 404).await;
    let listed = app
        .get_json(&other.path("/risks"), &other.admin.token)
        .await;
    assert_eq!(listed["items"], json!([]));
}

#[tokio::test]
async fn the_list_filters_risks() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let asset = new_asset(&app, &org.id, "Training set").await;
    let control = org.control("A.8.3").to_owned();
    let past = (Utc::now() - Duration::days(3)).date_naive().to_string();
    new_risk(
        &app,
        &org,
        json!({"title": "R1", "inherent": {"likelihood": 5, "impact": 5},
               "residual": {"likelihood": 2, "impact": 2}, "treatment": "modify",
               "asset_ids": [asset], "owner_id": org.editor.id, "treatment_due": past}),
    )
    .await;
    new_risk(
        &app,
        &org,
        json!({"title": "R2", "inherent": {"likelihood": 4, "impact": 5}, "treatment": "retain",
               "controls": [{"control_id": control, "role": "existing"}]}),
    )
    .await;
    new_risk(
        &app,
        &org,
        json!({"title": "R3", "inherent": {"likelihood": 1, "impact": 2}, "status": "closed", "review_due": past}),
    )
    .await;
    let cases: Vec<(String, Vec<&str>)> = vec![
        (String::new(), vec!["R-1", "R-2", "R-3"]),
        ("level=4".into(), vec!["R-2"]),
        ("level=4&level_basis=inherent".into(), vec!["R-1", "R-2"]),
        ("level=1".into(), vec!["R-1", "R-3"]),
        ("above_appetite=true".into(), vec!["R-2"]),
        ("above_appetite=false".into(), vec!["R-1", "R-3"]),
        ("treatment=retain".into(), vec!["R-2"]),
        (format!("asset_id={asset}"), vec!["R-1"]),
        (format!("control_id={control}"), vec!["R-2"]),
        (format!("owner_id={}", org.editor.id), vec!["R-1"]),
        ("overdue=true".into(), vec!["R-1"]),
        ("overdue=false".into(), vec!["R-2", "R-3"]),
        ("status=closed".into(), vec!["R-3"]),
        ("updated_since=2999-01-01T00:00:00Z".into(), vec![]),
    ];
    for (query, expected) in cases {
        let page = app
            .get_json(&org.path(&format!("/risks?{query}")), &org.viewer.token)
            .await;
        let refs: Vec<&str> = page["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|r| r["ref"].as_str())
            .collect();
        assert_eq!(refs, expected, "?{query}");
    }
    let res = app
        .get(&org.path("/risks?level_basis=sideways"), &org.viewer.token)
        .await;
    assert_problem(res, 400).await;
}

#[tokio::test]
async fn patches_replace_sets_keep_versions_on_no_ops_and_honour_if_match() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let asset = new_asset(&app, &org.id, "Weights").await;
    let risk = new_risk(
        &app,
        &org,
        with(rated("Theft", 2, 2), "asset_ids", json!([asset])),
    )
    .await;
    let path = risk_path(&org, &risk);
    let same = app
        .patch(&path, &org.editor.token, &json!({"title": "Theft", "asset_ids": [asset], "inherent": {"likelihood": 2, "impact": 2}}))
        .await;
    assert_eq!(expect_status(same, StatusCode::OK).await["version"], 1);

    let a = org.control("A.5.15");
    let changed = app
        .patch(
            &path,
            &org.editor.token,
            &json!({"residual": {"likelihood": 1, "impact": 1}, "asset_ids": [],
                    "controls": [{"control_id": a, "role": "existing"}], "treatment_plan": "Lock the bucket"}),
        )
        .await;
    let changed = expect_status(changed, StatusCode::OK).await;
    assert_eq!(changed["version"], 2);
    assert_eq!(changed["asset_ids"], json!([]));
    assert_eq!(
        changed["controls"],
        json!([{"control_id": a, "role": "existing"}])
    );
    assert_eq!(changed["residual"]["level_name"], "Low");
    let cleared = app
        .patch(&path, &org.editor.token, &json!({"treatment_plan": null}))
        .await;
    assert_eq!(
        expect_status(cleared, StatusCode::OK).await["treatment_plan"],
        Value::Null
    );

    let stale = app
        .request(Method::PATCH, &path, Some(&org.editor.token))
        .header("if-match", "\"1\"")
        .json(&json!({"title": "Stale"}))
        .send()
        .await
        .expect("request");
    assert_problem(stale, 412).await;
    let bad = app
        .patch(
            &path,
            &org.editor.token,
            &json!({"inherent": {"likelihood": 2, "impact": 7}}),
        )
        .await;
    assert_eq!(
        assert_problem(bad, 422).await["errors"][0]["field"],
        "inherent.impact"
    );
}

async fn accept(app: &TestApp, org: &Org, risk: &Value, token: &str) -> Response {
    let expires = (Utc::now() + Duration::days(180)).date_naive().to_string();
    app.post(
        &format!("{}/acceptance", risk_path(org, risk)),
        token,
        &json!({"justification": "Compensating monitoring", "expires_on": expires}),
    )
    .await
}

#[tokio::test]
async fn acceptance_follows_the_treatment_and_the_owner() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let owned = json!(org.editor.id);
    let retained = new_risk(
        &app,
        &org,
        with(
            with(rated("Kept", 4, 4), "treatment", json!("retain")),
            "owner_id",
            owned.clone(),
        ),
    )
    .await;
    let modified_low = new_risk(
        &app,
        &org,
        with(rated("Modified, low", 1, 1), "treatment", json!("modify")),
    )
    .await;
    let avoided = new_risk(
        &app,
        &org,
        with(rated("Avoided", 5, 5), "treatment", json!("avoid")),
    )
    .await;

    let other_editor = app
        .member(&org.id, annexa::domain::role::Role::Editor)
        .await;
    assert_problem(
        accept(&app, &org, &retained, &other_editor.token).await,
        403,
    )
    .await;
    let accepted = expect_status(
        accept(&app, &org, &retained, &org.editor.token).await,
        StatusCode::OK,
    )
    .await;
    let acceptance = &accepted["acceptance"];
    assert_eq!(acceptance["accepted_by"], format!("user:{}", org.editor.id));
    assert_eq!(
        (acceptance["valid"].as_bool(), accepted["version"].as_i64()),
        (Some(true), Some(2))
    );
    assert!(acceptance["accepted_at"].is_string());

    for risk in [&modified_low, &avoided] {
        let problem = assert_problem(accept(&app, &org, risk, &org.admin.token).await, 409).await;
        assert_eq!(problem["type"], "urn:annexa:problem:acceptance-not-allowed");
    }
    let modified_high = new_risk(
        &app,
        &org,
        with(rated("Modified, high", 4, 5), "treatment", json!("modify")),
    )
    .await;
    expect_status(
        accept(&app, &org, &modified_high, &org.admin.token).await,
        StatusCode::OK,
    )
    .await;

    let past = app
        .post(
            &format!("{}/acceptance", risk_path(&org, &retained)),
            &org.admin.token,
            &json!({"justification": "x", "expires_on": "2020-01-01"}),
        )
        .await;
    assert_eq!(
        assert_problem(past, 422).await["errors"][0]["field"],
        "expires_on"
    );
    let far = (Utc::now() + Duration::days(365 * 4))
        .date_naive()
        .to_string();
    let res = app
        .post(
            &format!("{}/acceptance", risk_path(&org, &retained)),
            &org.admin.token,
            &json!({"justification": "  ", "expires_on": far}),
        )
        .await;
    assert_eq!(
        assert_problem(res, 422).await["errors"][0]["field"],
        "justification"
    );

    let acceptance_path = format!("{}/acceptance", risk_path(&org, &retained));
    let res = app.delete(&acceptance_path, &other_editor.token).await;
    assert_problem(res, 403).await;
    let res = app.delete(&acceptance_path, &org.editor.token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(app.delete(&acceptance_path, &org.editor.token).await, 404).await;
    let now = app
        .get_json(&risk_path(&org, &retained), &org.viewer.token)
        .await;
    assert_eq!(now["acceptance"], Value::Null);
    let actions = app
        .audit_actions(
            &org.id,
            &format!("entity_id={}", id_of(&retained)),
            &org.admin.token,
        )
        .await;
    assert_eq!(
        actions,
        ["risk.created", "risk.accepted", "risk.acceptance_revoked"]
    );
}

#[tokio::test]
async fn a_rating_change_clears_the_acceptance() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let risk = new_risk(
        &app,
        &org,
        with(rated("Kept", 3, 3), "treatment", json!("retain")),
    )
    .await;
    expect_status(
        accept(&app, &org, &risk, &org.admin.token).await,
        StatusCode::OK,
    )
    .await;
    let path = risk_path(&org, &risk);
    let notes = app
        .patch(
            &path,
            &org.editor.token,
            &json!({"treatment_plan": "Watch it"}),
        )
        .await;
    assert!(
        expect_status(notes, StatusCode::OK).await["acceptance"].is_object(),
        "other fields keep it"
    );
    let rerated = app
        .patch(
            &path,
            &org.editor.token,
            &json!({"residual": {"likelihood": 3, "impact": 4}}),
        )
        .await;
    assert_eq!(
        expect_status(rerated, StatusCode::OK).await["acceptance"],
        Value::Null
    );
    expect_status(
        accept(&app, &org, &risk, &org.admin.token).await,
        StatusCode::OK,
    )
    .await;
    let retreated = app
        .patch(&path, &org.editor.token, &json!({"treatment": "share"}))
        .await;
    assert_eq!(
        expect_status(retreated, StatusCode::OK).await["acceptance"],
        Value::Null
    );
}

async fn csv_rows(app: &TestApp, path: &str, token: &str) -> (Vec<String>, Vec<csv::StringRecord>) {
    let res = app
        .request(Method::GET, path, Some(token))
        .header("accept", "text/csv")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let text = res.text().await.expect("csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .collect::<Result<_, _>>()
        .expect("valid CSV");
    (headers, rows)
}

/// Two open risks above the appetite (High, Critical) and one within it, with controls.
async fn register_world(app: &TestApp, org: &Org) -> (String, Vec<Value>) {
    let asset = new_asset(app, &org.id, "Model").await;
    let (existing, planned) = (org.control("A.8.3"), org.control("A.5.21"));
    let high = new_risk(
        app,
        org,
        json!({"title": "High, \"quoted\", with comma", "inherent": {"likelihood": 4, "impact": 4},
               "treatment": "modify", "treatment_plan": "Verify sources", "treatment_due": "2027-03-31",
               "asset_ids": [asset], "owner_id": org.editor.id,
               "controls": [{"control_id": existing, "role": "existing"}, {"control_id": planned, "role": "planned"}]}),
    )
    .await;
    let critical = new_risk(
        app,
        org,
        with(rated("Critical one", 5, 5), "treatment", json!("retain")),
    )
    .await;
    expect_status(
        accept(app, org, &critical, &org.admin.token).await,
        StatusCode::OK,
    )
    .await;
    let low = new_risk(app, org, rated("Low one", 1, 1)).await;
    (asset, vec![high, critical, low])
}

#[tokio::test]
async fn the_risk_register_as_csv() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let (asset, _) = register_world(&app, &org).await;
    let (headers, rows) = csv_rows(&app, &org.path("/risks"), &org.viewer.token).await;
    assert_eq!(headers[..4], ["ref", "title", "owner_id", "asset_ids"]);
    assert_eq!(headers.len(), 18);
    assert_eq!(rows.len(), 3);
    let col = |name: &str| headers.iter().position(|h| h == name).expect("column");
    let high = &rows[0];
    assert_eq!(&high[col("title")], "High, \"quoted\", with comma");
    assert_eq!(&high[col("asset_ids")], asset.as_str());
    assert_eq!(&high[col("inherent_level")], "High");
    assert_eq!(&high[col("above_appetite")], "true");
    assert_eq!(&high[col("existing_controls")], "A.8.3");
    assert_eq!(&high[col("planned_controls")], "A.5.21");
    assert_eq!(&rows[1][col("acceptance_expires_on")].len(), &10);
    assert_eq!(&rows[2][col("residual_level")], "Low");
    let (_, filtered) = csv_rows(
        &app,
        &org.path("/risks?above_appetite=false"),
        &org.viewer.token,
    )
    .await;
    assert_eq!(filtered.len(), 1);
    assert_eq!(&filtered[0][0], "R-3");
}

#[tokio::test]
async fn the_treatment_plan_lists_open_risks_above_the_appetite() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let (_, risks) = register_world(&app, &org).await;
    let plan = app
        .get_json(&org.path("/risk-treatment-plan"), &org.viewer.token)
        .await;
    let items = plan["items"].as_array().expect("items");
    let refs: Vec<&str> = items.iter().filter_map(|i| i["ref"].as_str()).collect();
    assert_eq!(refs, ["R-2", "R-1"], "highest residual level first");
    assert_eq!(items[0]["residual_level_name"], "Critical");
    assert!(items[0]["acceptance"]["valid"].as_bool().unwrap_or(false));
    let planned = &items[1]["planned_controls"];
    assert_eq!(planned.as_array().map(Vec::len), Some(1));
    assert_eq!(
        (
            planned[0]["ref"].as_str(),
            planned[0]["framework"].as_str(),
            planned[0]["status"].as_str()
        ),
        (Some("A.5.21"), Some(ISO_27001), Some("not_started"))
    );
    assert_eq!(items[1]["risk_id"], risks[0]["id"]);

    let closed = app
        .patch(
            &risk_path(&org, &risks[1]),
            &org.editor.token,
            &json!({"status": "closed"}),
        )
        .await;
    expect_status(closed, StatusCode::OK).await;
    let (headers, rows) =
        csv_rows(&app, &org.path("/risk-treatment-plan"), &org.viewer.token).await;
    assert_eq!(headers[0], "ref");
    assert_eq!(rows.len(), 1);
    assert_eq!((&rows[0][0], &rows[0][7]), ("R-1", "A.5.21"));
}

#[tokio::test]
async fn the_soa_shows_the_risks_a_control_treats() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let (_, risks) = register_world(&app, &org).await;
    let control = app
        .get_json(&org.control_path("A.8.3"), &org.viewer.token)
        .await;
    assert_eq!(control["risk_ids"], json!([risks[0]["id"]]));
    let listed = app
        .controls(&org.id, "framework=iso27001-2022&group=A.5")
        .await;
    let a521 = listed
        .iter()
        .find(|c| c["ref"] == "A.5.21")
        .expect("A.5.21");
    assert_eq!(a521["risk_ids"], json!([risks[0]["id"]]));

    let soa_path = org.path("/frameworks/iso27001-2022/soa");
    let soa = app.get_json(&soa_path, &org.viewer.token).await;
    let entry = soa["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["ref"] == "A.8.3")
        .expect("A.8.3");
    assert_eq!(entry["risk_ids"], json!([risks[0]["id"]]));
    let (headers, rows) = csv_rows(&app, &soa_path, &org.viewer.token).await;
    assert_eq!(headers.last().map(String::as_str), Some("risks"));
    let row = rows.iter().find(|r| &r[0] == "A.8.3").expect("row");
    assert_eq!(&row[headers.len() - 1], "R-1");
}

#[tokio::test]
async fn a_control_treating_an_open_risk_stays_applicable() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let (_, risks) = register_world(&app, &org).await;
    let exclude = json!({"applicable": false, "justification": "Not needed"});
    let res = app
        .patch(&org.control_path("A.8.3"), &org.admin.token, &exclude)
        .await;
    let problem = assert_problem(res, 409).await;
    assert_eq!(problem["type"], "urn:annexa:problem:control-treats-risk");
    assert_eq!(problem["risks"], json!(["R-1"]));
    let control = app
        .get_json(&org.control_path("A.8.3"), &org.viewer.token)
        .await;
    assert_eq!(
        (control["applicable"].as_bool(), control["version"].as_i64()),
        (Some(true), Some(1))
    );

    let closed = app
        .patch(
            &risk_path(&org, &risks[0]),
            &org.editor.token,
            &json!({"status": "closed"}),
        )
        .await;
    expect_status(closed, StatusCode::OK).await;
    let res = app
        .patch(&org.control_path("A.8.3"), &org.editor.token, &exclude)
        .await;
    let control = expect_status(res, StatusCode::OK).await;
    assert_eq!(
        control["risk_ids"],
        json!([risks[0]["id"]]),
        "closed risks still show"
    );
}

#[tokio::test]
async fn a_template_prefills_the_risk_and_plans_its_controls() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    app.adopt_framework(&org.id, ISO_42001).await;
    let asset = new_asset(&app, &org.id, "Fine-tuning set").await;
    let existing = org.control("A.8.3");
    let risk = new_risk(
        &app,
        &org,
        json!({"template": "training-data-poisoning", "asset_ids": [asset],
               "threat": "A compromised labelling vendor",
               "inherent": {"likelihood": 3, "impact": 5},
               "controls": [{"control_id": existing, "role": "existing"}]}),
    )
    .await;
    assert_eq!(risk["template"], "training-data-poisoning");
    assert_eq!(risk["title"], "Poisoned training data");
    assert_eq!(
        risk["threat"], "A compromised labelling vendor",
        "the request overrides"
    );
    assert!(
        risk["vulnerability"]
            .as_str()
            .is_some_and(|v| !v.is_empty())
    );
    // The template suggests ISO 27001 A.8.3 (given as existing here), ISO 42001 A.7.4 and A.7.5,
    // and two checklist items (not adopted, so not linked).
    let mut expected = vec![json!({"control_id": existing, "role": "existing"})];
    for reference in ["A.7.4", "A.7.5"] {
        let id = app.control_id(&org.id, ISO_42001, reference).await;
        expected.push(json!({"control_id": id, "role": "planned"}));
    }
    expected.sort_by_key(|c| c["control_id"].as_str().unwrap_or("").to_owned());
    assert_eq!(risk["controls"], json!(expected));
}

#[tokio::test]
async fn concurrent_creates_get_distinct_refs() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let path = org.path("/risks");
    let bodies: Vec<Value> = (0..6).map(|n| rated(&format!("Risk {n}"), 1, 1)).collect();
    let creates = bodies.iter().map(|b| app.post(&path, &org.editor.token, b));
    let mut refs = Vec::new();
    for res in futures_util::future::join_all(creates).await {
        let risk = expect_status(res, StatusCode::CREATED).await;
        refs.push(risk["ref"].as_str().expect("ref").to_owned());
    }
    refs.sort_by_key(|r| r[2..].parse::<u32>().expect("number"));
    assert_eq!(refs, ["R-1", "R-2", "R-3", "R-4", "R-5", "R-6"]);
}

#[tokio::test]
async fn risk_changes_are_announced_to_webhooks() {
    use sea_orm::EntityTrait;
    let app = TestApp::spawn_with(|s| {
        s.webhook_allow_private = true;
        s.webhook_worker = false;
    })
    .await;
    let org = app.org_with(ISO_27001).await;
    let events = ["risk.created", "risk.updated", "risk.accepted"];
    app.new_webhook(&org.id, "http://127.0.0.1:9/hook", &events)
        .await;
    let risk = new_risk(
        &app,
        &org,
        with(rated("Kept", 2, 2), "treatment", json!("retain")),
    )
    .await;
    expect_status(
        accept(&app, &org, &risk, &org.admin.token).await,
        StatusCode::OK,
    )
    .await;
    let revoke = app
        .delete(
            &format!("{}/acceptance", risk_path(&org, &risk)),
            &org.admin.token,
        )
        .await;
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    let rows = entity::webhook_event::Entity::find()
        .all(&app.state.db)
        .await
        .expect("events");
    let mut types: Vec<&str> = rows.iter().map(|e| e.event_type.as_str()).collect();
    types.sort_unstable();
    assert_eq!(types, ["risk.accepted", "risk.created", "risk.updated"]);
    let created = rows
        .iter()
        .find(|e| e.event_type == "risk.created")
        .expect("created");
    let payload: Value = serde_json::from_str(&created.payload).expect("payload");
    assert_eq!(payload["data"]["ref"], "R-1");
}

#[tokio::test]
async fn a_deleted_risk_leaves_no_links_and_a_retried_create_replays() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let asset = new_asset(&app, &org.id, "Model").await;
    let control = org.control("A.8.3");
    let risk = json!({"title": "Linked", "inherent": {"likelihood": 2, "impact": 2}, "asset_ids": [asset],
                      "controls": [{"control_id": control, "role": "planned"}]});
    let create = || {
        app.request(Method::POST, &org.path("/risks"), Some(&org.editor.token))
            .header("idempotency-key", "risk-import-1")
            .json(&risk)
            .send()
    };
    let first = expect_status(create().await.expect("request"), StatusCode::CREATED).await;
    let replayed = create().await.expect("request");
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
    assert_eq!(body(replayed).await["id"], first["id"]);

    let res = app.delete(&risk_path(&org, &first), &org.admin.token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let control = app
        .get_json(&org.control_path("A.8.3"), &org.viewer.token)
        .await;
    assert_eq!(control["risk_ids"], json!([]));
    let listed = app
        .get_json(
            &org.path(&format!("/risks?asset_id={asset}")),
            &org.viewer.token,
        )
        .await;
    assert_eq!(listed["items"], json!([]));
}
