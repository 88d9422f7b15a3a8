//! Controls and the Statement of Applicability: adoption, the applicability rules, optimistic
//! concurrency, filters, pagination, the SoA as JSON and CSV, the audit trail and query counts.

use std::sync::atomic::Ordering;

use annexa::domain::role::Role;
use reqwest::{Method, StatusCode};
use sea_orm::DbBackend;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, body};

async fn adopt(app: &TestApp, org: &str, framework: &str) -> reqwest::Response {
    app.send_json(
        Method::POST,
        &format!("/api/v1/organizations/{org}/frameworks"),
        &app.admin_token,
        &json!({"framework": framework}),
    )
    .await
}

async fn all_controls(app: &TestApp, org: &str, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/organizations/{org}/controls?limit=50{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = body(app.get(&path, &app.admin_token).await).await;
        items.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return items,
        }
    }
}

async fn control_by_ref(app: &TestApp, org: &str, framework: &str, reference: &str) -> Value {
    all_controls(app, org, &format!("&framework={framework}"))
        .await
        .into_iter()
        .find(|c| c["ref"] == reference)
        .unwrap_or_else(|| panic!("{framework} {reference} exists"))
}

#[tokio::test]
async fn adopting_creates_one_control_per_requirement() {
    let app = TestApp::spawn().await;
    let org = app.organization("Acme").await;
    let res = adopt(&app, &org, "iso27001-2022").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        res.headers()["location"].to_str().expect("location"),
        format!("/api/v1/organizations/{org}/frameworks/iso27001-2022")
    );
    let adopted = body(res).await;
    assert_eq!(
        (
            adopted["framework"].as_str(),
            adopted["control_count"].as_u64()
        ),
        (Some("iso27001-2022"), Some(123))
    );

    let controls = all_controls(&app, &org, "").await;
    assert_eq!(
        controls.len(),
        123,
        "paging to the end yields every control once"
    );
    let mut ids: Vec<&str> = controls.iter().filter_map(|c| c["id"].as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 123);
    let first = &controls[0];
    assert_eq!(first["status"], "not_started");
    assert_eq!(
        (
            first["applicable"].as_bool(),
            first["evidence_count"].as_i64(),
            first["open_findings_count"].as_i64()
        ),
        (Some(true), Some(0), Some(0))
    );
    assert_eq!(first["score"], 0.0);

    let problem = assert_problem(adopt(&app, &org, "iso27001-2022").await, 409).await;
    assert_eq!(problem["type"], "urn:annexa:problem:already-adopted");
    assert_problem(adopt(&app, &org, "iso9001-2015").await, 404).await;
    let viewer = app.member(&org, Role::Viewer).await;
    let res = app
        .send_json(
            Method::POST,
            &format!("/api/v1/organizations/{org}/frameworks"),
            &viewer.token,
            &json!({"framework": "iso42001-2023"}),
        )
        .await;
    assert_problem(res, 403).await;

    assert_eq!(
        adopt(&app, &org, "ai-audit-checklist").await.status(),
        StatusCode::CREATED
    );
    let list = body(
        app.get(
            &format!("/api/v1/organizations/{org}/frameworks"),
            &viewer.token,
        )
        .await,
    )
    .await;
    let adopted: Vec<(&str, u64)> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| {
            (
                a["framework"].as_str().unwrap_or(""),
                a["control_count"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        adopted,
        [("iso27001-2022", 123), ("ai-audit-checklist", 95)]
    );
    let one = body(
        app.get(
            &format!("/api/v1/organizations/{org}/frameworks/ai-audit-checklist"),
            &viewer.token,
        )
        .await,
    )
    .await;
    assert_eq!(one["control_count"], 95);
    assert_problem(
        app.get(
            &format!("/api/v1/organizations/{org}/frameworks/iso42001-2023"),
            &viewer.token,
        )
        .await,
        404,
    )
    .await;
}

#[tokio::test]
async fn the_applicability_rules() {
    let app = TestApp::spawn().await;
    let org = app.organization("Acme").await;
    adopt(&app, &org, "iso27001-2022").await;
    let editor = app.member(&org, Role::Editor).await;
    let clause = control_by_ref(&app, &org, "iso27001-2022", "6.1.2").await;
    let physical = control_by_ref(&app, &org, "iso27001-2022", "A.7.4").await;
    let patch = |id: &Value, body: Value| {
        let path = format!(
            "/api/v1/organizations/{org}/controls/{}",
            id.as_str().expect("id")
        );
        let token = editor.token.clone();
        let app = &app;
        async move { app.send_json(Method::PATCH, &path, &token, &body).await }
    };

    let problem = assert_problem(
        patch(
            &clause["id"],
            json!({"applicable": false, "justification": "Not relevant"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "applicable");
    let problem = assert_problem(
        patch(&physical["id"], json!({"applicable": false})).await,
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "justification");
    assert_problem(
        patch(
            &physical["id"],
            json!({"applicable": false, "justification": "  "}),
        )
        .await,
        422,
    )
    .await;

    let res = patch(&physical["id"], json!({"applicable": false, "justification": "Fully remote company: no offices to monitor"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let excluded = body(res).await;
    assert_eq!(
        (
            excluded["applicable"].as_bool(),
            excluded["version"].as_i64()
        ),
        (Some(false), Some(2))
    );
    assert_eq!(
        excluded["score"],
        Value::Null,
        "excluded controls do not score"
    );
    // The justification cannot be removed while the control is excluded.
    assert_problem(
        patch(&physical["id"], json!({"justification": null})).await,
        422,
    )
    .await;

    // Enums and unknown fields are checked.
    assert_problem(patch(&clause["id"], json!({"status": "done"})).await, 400).await;
    assert_problem(patch(&clause["id"], json!({"title": "Renamed"})).await, 400).await;
    assert_problem(
        patch(&clause["id"], json!({"due_date": "next week"})).await,
        400,
    )
    .await;

    // Scores come from the readiness formula: implemented without evidence is 0.5.
    let res = patch(&clause["id"], json!({"status": "implemented", "owner": "ciso@acme.example", "due_date": "2027-01-31", "notes": "Risk method v2"})).await;
    let updated = body(res).await;
    assert_eq!(
        (updated["status"].as_str(), updated["score"].as_f64()),
        (Some("implemented"), Some(0.5))
    );
    assert_eq!(updated["due_date"], "2027-01-31");
    let res = patch(
        &clause["id"],
        json!({"status": "in_progress", "owner": null}),
    )
    .await;
    let updated = body(res).await;
    assert_eq!(
        (updated["score"].as_f64(), updated["owner"].clone()),
        (Some(0.25), Value::Null)
    );
    assert_eq!(
        updated["notes"], "Risk method v2",
        "absent fields are left alone"
    );

    // Viewers and auditors may not change controls; other organizations see 404.
    let viewer = app.member(&org, Role::Viewer).await;
    let path = format!(
        "/api/v1/organizations/{org}/controls/{}",
        clause["id"].as_str().expect("id")
    );
    assert_problem(
        app.send_json(Method::PATCH, &path, &viewer.token, &json!({"notes": "x"}))
            .await,
        403,
    )
    .await;
    let other = app.organization("Other").await;
    let outsider = app.member(&other, Role::Admin).await;
    assert_problem(app.get(&path, &outsider.token).await, 404).await;
    let cross = format!(
        "/api/v1/organizations/{other}/controls/{}",
        clause["id"].as_str().expect("id")
    );
    assert_problem(
        app.send_json(
            Method::PATCH,
            &cross,
            &outsider.token,
            &json!({"notes": "x"}),
        )
        .await,
        404,
    )
    .await;
}

/// A new organization that adopted ISO 27001, and its control A.5.1: (org, control id, path).
async fn a_control(app: &TestApp) -> (String, String, String) {
    let org = app.organization("Acme").await;
    adopt(app, &org, "iso27001-2022").await;
    let control = control_by_ref(app, &org, "iso27001-2022", "A.5.1").await;
    let id = control["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/organizations/{org}/controls/{id}");
    (org, id, path)
}

#[tokio::test]
async fn optimistic_concurrency_on_controls() {
    let app = TestApp::spawn().await;
    let (_, _, path) = a_control(&app).await;
    let res = app.get(&path, &app.admin_token).await;
    let etag = res.headers()["etag"].to_str().expect("etag").to_owned();
    assert_eq!(etag, "\"1\"");
    let send = |tag: &str| {
        app.request(Method::PATCH, &path, Some(&app.admin_token))
            .header("if-match", tag)
            .json(&json!({"status": "planned"}))
            .send()
    };
    let res = send(&etag).await.expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    // A second writer holding the old tag is refused, and nothing changes.
    let res = app
        .request(Method::PATCH, &path, Some(&app.admin_token))
        .header("if-match", etag.as_str())
        .json(&json!({"status": "implemented"}))
        .send()
        .await
        .expect("request");
    assert_problem(res, 412).await;
    let now = body(app.get(&path, &app.admin_token).await).await;
    assert_eq!(
        (now["status"].as_str(), now["version"].as_i64()),
        (Some("planned"), Some(2))
    );
}

#[tokio::test]
async fn concurrent_changes_of_one_control_take_turns() {
    let app = TestApp::spawn().await;
    let (org, id, path) = a_control(&app).await;
    // All in flight at once, each holding the tag it read: one wins, every other is refused,
    // and none is lost or overwritten (nor answered with an error).
    let changes = (0..8).map(|i| {
        let (app, path) = (&app, &path);
        async move {
            let res = app
                .request(Method::PATCH, path, Some(&app.admin_token))
                .header("if-match", "\"1\"")
                .json(&json!({"notes": format!("writer {i}")}))
                .send()
                .await
                .expect("request");
            res.status().as_u16()
        }
    });
    let mut statuses = futures_util::future::join_all(changes).await;
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412, 412, 412, 412, 412, 412, 412]);
    // Without a tag, every change is applied, each to the version the one before it left.
    let changes = (0..8).map(|i| {
        let (app, path) = (&app, &path);
        async move {
            let res = app
                .send_json(
                    Method::PATCH,
                    path,
                    &app.admin_token,
                    &json!({"notes": format!("untagged {i}")}),
                )
                .await;
            assert_eq!(res.status(), StatusCode::OK);
            body(res).await["version"].as_i64().expect("version")
        }
    });
    let mut versions = futures_util::future::join_all(changes).await;
    versions.sort_unstable();
    assert_eq!(versions, (3..=10).collect::<Vec<i64>>());
    let now = body(app.get(&path, &app.admin_token).await).await;
    assert_eq!(now["version"].as_i64(), Some(10));
    let events = body(
        app.get(
            &format!("/api/v1/organizations/{org}/audit-events?entity_id={id}&limit=100"),
            &app.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(
        events["items"].as_array().map(Vec::len),
        Some(9),
        "one event per applied change"
    );
}

#[tokio::test]
async fn control_filters() {
    let app = TestApp::spawn().await;
    let org = app.organization("Acme").await;
    adopt(&app, &org, "iso27001-2022").await;
    adopt(&app, &org, "ai-audit-checklist").await;
    let a524 = control_by_ref(&app, &org, "iso27001-2022", "A.8.24").await;
    let path = format!(
        "/api/v1/organizations/{org}/controls/{}",
        a524["id"].as_str().expect("id")
    );
    app.send_json(
        Method::PATCH,
        &path,
        &app.admin_token,
        &json!({"status": "implemented", "owner": "sec@acme.example"}),
    )
    .await;
    let a74 = control_by_ref(&app, &org, "iso27001-2022", "A.7.4").await;
    let path = format!(
        "/api/v1/organizations/{org}/controls/{}",
        a74["id"].as_str().expect("id")
    );
    app.send_json(
        Method::PATCH,
        &path,
        &app.admin_token,
        &json!({"applicable": false, "justification": "Remote"}),
    )
    .await;

    let count = |query: &'static str| {
        let app = &app;
        let org = org.clone();
        async move { all_controls(app, &org, query).await.len() }
    };
    assert_eq!(count("").await, 218);
    assert_eq!(count("&framework=ai-audit-checklist").await, 95);
    assert_eq!(count("&framework=iso27001-2022&kind=clause").await, 30);
    assert_eq!(count("&kind=checklist_item").await, 95);
    assert_eq!(count("&group=A.8").await, 34);
    assert_eq!(count("&status=implemented").await, 1);
    assert_eq!(count("&applicable=false").await, 1);
    assert_eq!(count("&owner=sec@acme.example").await, 1);
    assert_eq!(count("&q=CRYPTO").await, 1);
    assert_eq!(count("&has_valid_evidence=true").await, 0);
    assert_eq!(count("&has_valid_evidence=false").await, 218);
    let since = body(app.get(&path, &app.admin_token).await).await["updated_at"]
        .as_str()
        .expect("t")
        .to_owned();
    let changed = all_controls(
        &app,
        &org,
        &format!("&updated_since={}", since.replace('+', "%2B")),
    )
    .await;
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["ref"], "A.7.4");
    assert_problem(
        app.get(
            &format!("/api/v1/organizations/{org}/controls?status=done"),
            &app.admin_token,
        )
        .await,
        400,
    )
    .await;
    assert_problem(
        app.get(
            &format!("/api/v1/organizations/{org}/controls?applicable=maybe"),
            &app.admin_token,
        )
        .await,
        400,
    )
    .await;
}

#[tokio::test]
async fn custom_controls() {
    let app = TestApp::spawn().await;
    let org = app.organization("Acme").await;
    adopt(&app, &org, "iso27001-2022").await;
    let editor = app.member(&org, Role::Editor).await;
    let path = format!("/api/v1/organizations/{org}/controls");
    let body_json = json!({"framework": "iso27001-2022", "ref": "ACME-1", "title": "Model weights are encrypted at rest", "status": "planned"});
    let res = app
        .send_json(Method::POST, &path, &editor.token, &body_json)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created = body(res).await;
    assert_eq!(
        (
            created["custom"].as_bool(),
            created["group"].as_str(),
            created["score"].as_f64()
        ),
        (Some(true), Some("custom"), Some(0.1))
    );
    let problem = assert_problem(
        app.send_json(Method::POST, &path, &editor.token, &body_json)
            .await,
        409,
    )
    .await;
    assert_eq!(problem["type"], "urn:annexa:problem:control-exists");
    let problem = assert_problem(
        app.send_json(
            Method::POST,
            &path,
            &editor.token,
            &json!({"framework": "iso42001-2023", "ref": "X", "title": "Y"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "framework");
    let soa = body(
        app.get(
            &format!("/api/v1/organizations/{org}/frameworks/iso27001-2022/soa"),
            &editor.token,
        )
        .await,
    )
    .await;
    let items = soa["items"].as_array().expect("items");
    assert_eq!(items.len(), 124);
    assert_eq!(items[123]["ref"], "ACME-1", "custom controls come last");
}

#[tokio::test]
async fn the_statement_of_applicability_as_json_and_csv() {
    let app = TestApp::spawn().await;
    let org = app.organization("Acme").await;
    adopt(&app, &org, "iso27001-2022").await;
    let a74 = control_by_ref(&app, &org, "iso27001-2022", "A.7.4").await;
    let path = format!(
        "/api/v1/organizations/{org}/controls/{}",
        a74["id"].as_str().expect("id")
    );
    let justification = "Fully remote, \"no offices\", no CCTV";
    app.send_json(
        Method::PATCH,
        &path,
        &app.admin_token,
        &json!({"applicable": false, "justification": justification, "owner": "ops@acme.example"}),
    )
    .await;

    let viewer = app.member(&org, Role::Viewer).await;
    let soa_path = format!("/api/v1/organizations/{org}/frameworks/iso27001-2022/soa");
    let soa = body(app.get(&soa_path, &viewer.token).await).await;
    assert_eq!(soa["framework"], "iso27001-2022");
    let items = soa["items"].as_array().expect("items");
    assert_eq!(items.len(), 123);
    assert_eq!(
        (items[0]["ref"].as_str(), items[122]["ref"].as_str()),
        (Some("4.1"), Some("A.8.34")),
        "the standard's order"
    );

    let res = app
        .request(Method::GET, &soa_path, Some(&viewer.token))
        .header("accept", "text/csv")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/csv")
    );
    let text = res.text().await.expect("csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .expect("header row")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        headers,
        [
            "ref",
            "title",
            "group",
            "applicable",
            "justification",
            "status",
            "owner",
            "evidence_count",
            "open_findings_count"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .expect("valid CSV");
    assert_eq!(rows.len(), 123);
    let annex_a: Vec<&csv::StringRecord> = rows.iter().filter(|r| r[0].starts_with("A.")).collect();
    assert_eq!(annex_a.len(), 93, "every Annex A control appears");
    let excluded = rows.iter().find(|r| &r[0] == "A.7.4").expect("A.7.4 row");
    assert_eq!(
        (&excluded[3], &excluded[4], &excluded[6]),
        ("false", justification, "ops@acme.example")
    );
    assert_eq!(&excluded[1], "Physical security monitoring");

    assert_problem(
        app.get(
            &format!("/api/v1/organizations/{org}/frameworks/iso42001-2023/soa"),
            &viewer.token,
        )
        .await,
        404,
    )
    .await;
}

#[tokio::test]
async fn every_change_is_in_the_audit_trail() {
    let app = TestApp::spawn().await;
    let org = app.organization("Acme").await;
    adopt(&app, &org, "iso27001-2022").await;
    let editor = app.member(&org, Role::Editor).await;
    let control = control_by_ref(&app, &org, "iso27001-2022", "A.5.15").await;
    let id = control["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/organizations/{org}/controls/{id}");
    app.send_json(
        Method::PATCH,
        &path,
        &editor.token,
        &json!({"status": "planned", "owner": "iam@acme.example"}),
    )
    .await;
    app.send_json(
        Method::PATCH,
        &path,
        &editor.token,
        &json!({"status": "implemented"}),
    )
    .await;
    // A patch that changes nothing records nothing.
    let res = app
        .send_json(
            Method::PATCH,
            &path,
            &editor.token,
            &json!({"status": "implemented"}),
        )
        .await;
    assert_eq!(body(res).await["version"], 3);

    let auditor = app.member(&org, Role::Auditor).await;
    let events_path =
        format!("/api/v1/organizations/{org}/audit-events?entity_type=control&entity_id={id}");
    let events = body(app.get(&events_path, &auditor.token).await).await;
    let items = events["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["action"], "control.updated");
    assert_eq!(items[0]["actor"], format!("user:{}", editor.id));
    assert_eq!(
        items[0]["changes"],
        json!({"status": ["not_started", "planned"], "owner": [null, "iam@acme.example"]})
    );
    assert_eq!(
        items[1]["changes"],
        json!({"status": ["planned", "implemented"]})
    );
    assert!(items[0]["request_id"].is_string());

    let all = body(
        app.get(
            &format!("/api/v1/organizations/{org}/audit-events?limit=500"),
            &auditor.token,
        )
        .await,
    )
    .await;
    let actions: Vec<&str> = all["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.starts_with(&["organization.created", "framework.adopted"]),
        "{actions:?}"
    );
    let by_actor = body(
        app.get(
            &format!(
                "/api/v1/organizations/{org}/audit-events?actor=user:{}",
                editor.id
            ),
            &auditor.token,
        )
        .await,
    )
    .await;
    assert_eq!(by_actor["items"].as_array().map(Vec::len), Some(2));

    assert_problem(app.get(&events_path, &editor.token).await, 403).await;
    let viewer = app.member(&org, Role::Viewer).await;
    assert_problem(app.get(&events_path, &viewer.token).await, 403).await;
}

/// Statements executed while `f` runs (the app runs nothing else meanwhile).
async fn queries_during<F: std::future::Future<Output = reqwest::Response>>(
    app: &TestApp,
    f: F,
) -> (u64, reqwest::Response) {
    let before = app.state.queries.load(Ordering::SeqCst);
    let res = f.await;
    (app.state.queries.load(Ordering::SeqCst) - before, res)
}

#[tokio::test]
async fn adoption_and_listing_cost_a_bounded_number_of_queries() {
    let app = TestApp::spawn_with(|s| {
        // Nothing else may run while statements are counted.
        s.webhook_worker = false;
    })
    .await;
    let org = app.organization("Acme").await;
    let token = app.admin_token.clone();
    let (small, res) = queries_during(&app, adopt(&app, &org, "iso42001-2023")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (large, res) = queries_during(&app, adopt(&app, &org, "iso27001-2022")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        small, large,
        "70 or 123 controls, the same number of statements"
    );

    let (few_path, many_path) = (
        format!("/api/v1/organizations/{org}/controls?limit=5"),
        format!("/api/v1/organizations/{org}/controls?limit=193"),
    );
    // The first list computes the organization's control stats (three more statements);
    // later ones reuse them until the data changes.
    let (cold, _) = queries_during(&app, app.get(&few_path, &token)).await;
    let (few, _) = queries_during(
        &app,
        app.get(&format!("{few_path}&status=not_started"), &token),
    )
    .await;
    let (many, res) = queries_during(&app, app.get(&many_path, &token)).await;
    let first = body(res).await;
    assert_eq!(first["items"].as_array().map(Vec::len), Some(193));
    assert_eq!(
        few, many,
        "5 or 193 controls, the same number of statements"
    );
    assert!(
        cold <= 8 && many <= 5,
        "a list costs {cold} statements, then {many}"
    );
    // The same page again, with the data unchanged: served from the page cache, after the one
    // statement that authenticates the caller and reads the data version.
    let (hit, res) = queries_during(&app, app.get(&many_path, &token)).await;
    assert_eq!(hit, 1, "a cached page costs one statement");
    assert_eq!(body(res).await, first);
    // A change moves the data version: the next list is rendered again and shows it.
    let control = &first["items"][0];
    let res = app
        .send_json(
            reqwest::Method::PATCH,
            &format!(
                "/api/v1/organizations/{org}/controls/{}",
                control["id"].as_str().expect("id")
            ),
            &token,
            &serde_json::json!({"notes": "reviewed"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (after, res) = queries_during(&app, app.get(&many_path, &token)).await;
    let page = body(res).await;
    assert_eq!(page["items"][0]["notes"], "reviewed");
    assert_eq!(
        page["items"][0]["version"],
        control["version"].as_i64().expect("version") + 1
    );
    assert!(
        after > 1,
        "rendered again after a change ({after} statements)"
    );
    let (small_soa, large_soa) = (
        format!("/api/v1/organizations/{org}/frameworks/iso42001-2023/soa"),
        format!("/api/v1/organizations/{org}/frameworks/iso27001-2022/soa"),
    );
    let (a, _) = queries_during(&app, app.get(&small_soa, &token)).await;
    let (b, _) = queries_during(&app, app.get(&large_soa, &token)).await;
    assert_eq!(a, b);
    eprintln!(
        "statements: adoption {large}, control list {cold} (cached stats: {many}, cached page: {hit}), SoA {b}"
    );
}

#[tokio::test]
async fn writes_cost_a_fixed_number_of_statements() {
    let app = TestApp::spawn_with(|s| {
        // Nothing else may run while statements are counted.
        s.webhook_worker = false;
        s.webhook_allow_private = true;
    })
    .await;
    let org = app.organization("Acme").await;
    let token = app.admin_token.clone();
    assert_eq!(
        adopt(&app, &org, "iso42001-2023").await.status(),
        StatusCode::CREATED
    );
    let control = all_controls(&app, &org, "").await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let control_path = format!("/api/v1/organizations/{org}/controls/{control}");
    let findings_path = format!("/api/v1/organizations/{org}/findings");
    let change = async |notes: &str| {
        let (n, res) = queries_during(
            &app,
            app.send_json(
                Method::PATCH,
                &control_path,
                &token,
                &json!({"notes": notes}),
            ),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        n
    };
    let create = async || {
        let finding = json!({"title": "Logs are not reviewed", "type": "observation",
                             "source": "internal_audit"});
        let (n, res) = queries_during(
            &app,
            app.send_json(Method::POST, &findings_path, &token, &finding),
        )
        .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        n
    };
    // The caller's lookup; the control with its counts; its update; the audit event, whose
    // insert also moves the data version and tells that no webhook endpoint exists. SQLite
    // receives the update and the event's insert in one call.
    let sqlite = app.state.db.get_database_backend() == DbBackend::Sqlite;
    let update_and_event = if sqlite { 1 } else { 2 };
    assert_eq!(
        change("first").await,
        2 + update_and_event,
        "a control change"
    );
    // The caller's lookup; the finding; the audit event.
    assert_eq!(create().await, 3, "a new finding");
    // With an endpoint, the event is announced: the endpoints, the event, its delivery.
    let res = app
        .send_json(
            Method::POST,
            &format!("/api/v1/organizations/{org}/webhooks"),
            &token,
            &json!({"url": "http://127.0.0.1:9/hook", "events": ["control.updated"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        change("second").await,
        5 + update_and_event,
        "a control change, announced"
    );
    // An endpoint that does not subscribe to the event: looked up, nothing written.
    assert_eq!(create().await, 4, "a new finding, not announced");
}
