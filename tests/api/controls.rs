//! Controls and the Statement of Applicability: adoption, the applicability rules, optimistic
//! concurrency, filters, pagination, the SoA as JSON and CSV, the audit trail and query counts.

use std::collections::BTreeSet;

use annexa::domain::role::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    AI_CHECKLIST, ISO_27001, ISO_42001, NewFinding, TestApp, assert_problem, body, id_of,
    queries_during,
};

#[tokio::test]
async fn adopting_creates_one_control_per_requirement() {
    let app = TestApp::spawn().await;
    let org = app.organization("Acme").await;
    let res = app.adopt(&org, ISO_27001).await;
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

    let controls = app.controls(&org, "").await;
    assert_eq!(
        controls.len(),
        123,
        "paging to the end yields every control once"
    );
    let ids: BTreeSet<&str> = controls.iter().filter_map(|c| c["id"].as_str()).collect();
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
}

#[tokio::test]
async fn adopting_twice_an_unknown_framework_or_as_a_viewer_is_refused() {
    let app = TestApp::spawn().await;
    let org = app.organization("Acme").await;
    app.adopt_framework(&org, ISO_27001).await;
    let problem = assert_problem(app.adopt(&org, ISO_27001).await, 409).await;
    assert_eq!(problem["type"], "urn:annexa:problem:already-adopted");
    assert_problem(app.adopt(&org, "iso9001-2015").await, 404).await;
    let viewer = app.member(&org, Role::Viewer).await;
    let res = app
        .post(
            &format!("/api/v1/organizations/{org}/frameworks"),
            &viewer.token,
            &json!({"framework": ISO_42001}),
        )
        .await;
    assert_problem(res, 403).await;
}

#[tokio::test]
async fn adopted_frameworks_are_listed_with_their_control_counts() {
    let app = TestApp::spawn().await;
    let org = app.organization("Acme").await;
    app.adopt_framework(&org, ISO_27001).await;
    app.adopt_framework(&org, AI_CHECKLIST).await;
    let viewer = app.member(&org, Role::Viewer).await;
    let list = app
        .get_json(
            &format!("/api/v1/organizations/{org}/frameworks"),
            &viewer.token,
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
    let one = app
        .get_json(
            &format!("/api/v1/organizations/{org}/frameworks/ai-audit-checklist"),
            &viewer.token,
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
async fn invalid_control_changes_are_refused() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    // (control, change, status, the field named, why)
    let cases = [
        (
            "6.1.2",
            json!({"applicable": false, "justification": "Not relevant"}),
            422,
            Some("applicable"),
            "clauses cannot be excluded",
        ),
        (
            "A.7.4",
            json!({"applicable": false}),
            422,
            Some("justification"),
            "an exclusion needs a justification",
        ),
        (
            "A.7.4",
            json!({"applicable": false, "justification": "  "}),
            422,
            None,
            "a blank justification is none",
        ),
        (
            "6.1.2",
            json!({"status": "done"}),
            400,
            None,
            "an unknown status",
        ),
        (
            "6.1.2",
            json!({"title": "Renamed"}),
            400,
            None,
            "an unknown field",
        ),
        (
            "6.1.2",
            json!({"due_date": "next week"}),
            400,
            None,
            "not a date",
        ),
    ];
    for (reference, change, status, field, why) in cases {
        let res = app
            .patch(&org.control_path(reference), &org.editor.token, &change)
            .await;
        let problem = assert_problem(res, status).await;
        if let Some(field) = field {
            assert_eq!(problem["errors"][0]["field"], field, "{why}");
        }
    }
    let untouched = app
        .get_json(&org.control_path("A.7.4"), &org.editor.token)
        .await;
    assert_eq!(
        (
            untouched["applicable"].as_bool(),
            untouched["version"].as_i64()
        ),
        (Some(true), Some(1)),
        "refused changes change nothing"
    );
}

#[tokio::test]
async fn a_justified_exclusion_takes_the_control_out_of_scoring() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let excluded = app
        .update_control(
            &org,
            "A.7.4",
            json!({"applicable": false, "justification": "Fully remote company: no offices to monitor"}),
        )
        .await;
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
        app.patch(
            &org.control_path("A.7.4"),
            &org.editor.token,
            &json!({"justification": null}),
        )
        .await,
        422,
    )
    .await;
}

#[tokio::test]
async fn a_control_scores_by_its_status_and_absent_fields_are_left_alone() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    // Scores come from the readiness formula: implemented without evidence is 0.5.
    let updated = app
        .update_control(
            &org,
            "6.1.2",
            json!({"status": "implemented", "owner": "ciso@acme.example", "due_date": "2027-01-31", "notes": "Risk method v2"}),
        )
        .await;
    assert_eq!(
        (updated["status"].as_str(), updated["score"].as_f64()),
        (Some("implemented"), Some(0.5))
    );
    assert_eq!(updated["due_date"], "2027-01-31");
    let updated = app
        .update_control(
            &org,
            "6.1.2",
            json!({"status": "in_progress", "owner": null}),
        )
        .await;
    assert_eq!(
        (updated["score"].as_f64(), updated["owner"].clone()),
        (Some(0.25), Value::Null)
    );
    assert_eq!(
        updated["notes"], "Risk method v2",
        "absent fields are left alone"
    );
}

#[tokio::test]
async fn viewers_may_not_change_controls_and_other_organizations_see_404() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let path = org.control_path("6.1.2");
    assert_problem(
        app.patch(&path, &org.viewer.token, &json!({"notes": "x"}))
            .await,
        403,
    )
    .await;
    let other = app.organization("Other").await;
    let outsider = app.member(&other, Role::Admin).await;
    assert_problem(app.get(&path, &outsider.token).await, 404).await;
    let cross = format!(
        "/api/v1/organizations/{other}/controls/{}",
        org.control("6.1.2")
    );
    assert_problem(
        app.patch(&cross, &outsider.token, &json!({"notes": "x"}))
            .await,
        404,
    )
    .await;
}

/// A new organization that adopted ISO 27001, and its control A.5.1: (org, control id, path).
async fn a_control(app: &TestApp) -> (String, String, String) {
    let org = app.organization("Acme").await;
    app.adopt_framework(&org, "iso27001-2022").await;
    let control = app.control_by_ref(&org, "iso27001-2022", "A.5.1").await;
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
                .patch(
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
    app.adopt_framework(&org, "iso27001-2022").await;
    app.adopt_framework(&org, "ai-audit-checklist").await;
    let a524 = app.control_by_ref(&org, "iso27001-2022", "A.8.24").await;
    let path = format!(
        "/api/v1/organizations/{org}/controls/{}",
        a524["id"].as_str().expect("id")
    );
    app.patch(
        &path,
        &app.admin_token,
        &json!({"status": "implemented", "owner": "sec@acme.example"}),
    )
    .await;
    let a74 = app.control_by_ref(&org, "iso27001-2022", "A.7.4").await;
    let path = format!(
        "/api/v1/organizations/{org}/controls/{}",
        a74["id"].as_str().expect("id")
    );
    app.patch(
        &path,
        &app.admin_token,
        &json!({"applicable": false, "justification": "Remote"}),
    )
    .await;

    let count = |query: &'static str| {
        let app = &app;
        let org = org.clone();
        async move { app.controls(&org, query).await.len() }
    };
    assert_eq!(count("").await, 218);
    assert_eq!(count("framework=ai-audit-checklist").await, 95);
    assert_eq!(count("framework=iso27001-2022&kind=clause").await, 30);
    assert_eq!(count("kind=checklist_item").await, 95);
    assert_eq!(count("group=A.8").await, 34);
    assert_eq!(count("status=implemented").await, 1);
    assert_eq!(count("applicable=false").await, 1);
    assert_eq!(count("owner=sec@acme.example").await, 1);
    assert_eq!(count("q=CRYPTO").await, 1);
    assert_eq!(count("has_valid_evidence=true").await, 0);
    assert_eq!(count("has_valid_evidence=false").await, 218);
    let since = body(app.get(&path, &app.admin_token).await).await["updated_at"]
        .as_str()
        .expect("t")
        .to_owned();
    let changed = app
        .controls(
            &org,
            &format!("updated_since={}", since.replace('+', "%2B")),
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
    app.adopt_framework(&org, "iso27001-2022").await;
    let editor = app.member(&org, Role::Editor).await;
    let path = format!("/api/v1/organizations/{org}/controls");
    let body_json = json!({"framework": "iso27001-2022", "ref": "ACME-1", "title": "Model weights are encrypted at rest", "status": "planned"});
    let res = app.post(&path, &editor.token, &body_json).await;
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
    let problem = assert_problem(app.post(&path, &editor.token, &body_json).await, 409).await;
    assert_eq!(problem["type"], "urn:annexa:problem:control-exists");
    let problem = assert_problem(
        app.post(
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
    app.adopt_framework(&org, "iso27001-2022").await;
    let a74 = app.control_by_ref(&org, "iso27001-2022", "A.7.4").await;
    let path = format!(
        "/api/v1/organizations/{org}/controls/{}",
        a74["id"].as_str().expect("id")
    );
    let justification = "Fully remote, \"no offices\", no CCTV";
    app.patch(
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
            "open_findings_count",
            "risks"
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
    app.adopt_framework(&org, "iso27001-2022").await;
    let editor = app.member(&org, Role::Editor).await;
    let control = app.control_by_ref(&org, "iso27001-2022", "A.5.15").await;
    let id = control["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/organizations/{org}/controls/{id}");
    app.patch(
        &path,
        &editor.token,
        &json!({"status": "planned", "owner": "iam@acme.example"}),
    )
    .await;
    app.patch(&path, &editor.token, &json!({"status": "implemented"}))
        .await;
    // A patch that changes nothing records nothing.
    let res = app
        .patch(&path, &editor.token, &json!({"status": "implemented"}))
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

#[tokio::test]
async fn adoption_and_listing_cost_a_bounded_number_of_queries() {
    let app = TestApp::spawn_with(|s| {
        // Nothing else may run while statements are counted.
        s.webhook_worker = false;
    })
    .await;
    let org = app.organization("Acme").await;
    let token = app.admin_token.clone();
    let (small, res) = queries_during(&app, app.adopt(&org, ISO_42001)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (large, res) = queries_during(&app, app.adopt(&org, ISO_27001)).await;
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
    // The same page again, with the data unchanged: served from the page cache, after the
    // statement that authenticates the caller and reads the data version (benches/statements.rs
    // prints the exact figures).
    let (hit, res) = queries_during(&app, app.get(&many_path, &token)).await;
    assert!(
        hit >= 1 && hit < many,
        "a cached page costs fewer statements than a rendered one ({hit} < {many})"
    );
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
    assert_eq!(
        a, b,
        "70 or 123 rows in the SoA, the same number of statements"
    );
}

#[tokio::test]
async fn writes_cost_a_bounded_number_of_statements() {
    let app = TestApp::spawn_with(|s| {
        // Nothing else may run while statements are counted.
        s.webhook_worker = false;
        s.webhook_allow_private = true;
    })
    .await;
    let org = app.organization("Acme").await;
    let token = app.admin_token.clone();
    app.adopt_framework(&org, ISO_42001).await;
    let control = id_of(&app.controls(&org, "").await[0]);
    let control_path = format!("/api/v1/organizations/{org}/controls/{control}");
    let findings_path = format!("/api/v1/organizations/{org}/findings");
    let change = async |notes: &str| {
        let (n, res) = queries_during(
            &app,
            app.patch(&control_path, &token, &json!({"notes": notes})),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        n
    };
    let create = async || {
        let finding = NewFinding::default().titled("Logs are not reviewed");
        let (n, res) = queries_during(&app, app.post(&findings_path, &token, finding.json())).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        n
    };
    // The exact figures per backend are printed by `cargo bench --bench statements`.
    // The caller's lookup, the control with its counts, the audit chain's head (on PostgreSQL
    // read with the organization's turn), the control's update and the audit event.
    let plain_change = change("first").await;
    assert!(plain_change <= 5, "a control change: {plain_change}");
    // The caller's lookup, the finding, the audit chain's head, the audit event.
    let plain_create = create().await;
    assert!(plain_create <= 4, "a new finding: {plain_create}");
    // With a subscribed endpoint, the event is announced: the endpoints, the event, its
    // delivery, written in the same bounded number of statements every time.
    app.new_webhook(&org, "http://127.0.0.1:9/hook", &["control.updated"])
        .await;
    let announced = change("second").await;
    assert!(
        announced > plain_change && announced <= plain_change + 3,
        "a control change, announced: {announced} (unannounced: {plain_change})"
    );
    assert_eq!(
        change("third").await,
        announced,
        "every announced change alike"
    );
    // An endpoint that does not subscribe to the event: looked up, nothing written.
    let unannounced = create().await;
    assert!(
        unannounced > plain_create && unannounced <= plain_create + 1,
        "a new finding, not announced: {unannounced} (no endpoint: {plain_create})"
    );
}
