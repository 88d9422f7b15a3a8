//! Findings, walked the way a ticketing integration uses them: create from a ticket with an
//! idempotency key, retry, look up by ticket key, move through the lifecycle with the right
//! roles, and see every refused transition and duplicate answered correctly.

use annexa::domain::role::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, body, mint};

struct Setup {
    org: String,
    control: String,
    /// The Jira integration: a service account with the editor role.
    jira: String,
}

async fn setup(app: &TestApp) -> Setup {
    let org = app.organization("Acme").await;
    app.send_json(
        Method::POST,
        &format!("/api/v1/organizations/{org}/frameworks"),
        &app.admin_token,
        &json!({"framework": "iso27001-2022"}),
    )
    .await;
    let page = body(
        app.get(
            &format!("/api/v1/organizations/{org}/controls?limit=500&q=A.8.3"),
            &app.admin_token,
        )
        .await,
    )
    .await;
    let control = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|c| c["ref"] == "A.8.3")
        .and_then(|c| c["id"].as_str())
        .expect("A.8.3")
        .to_owned();
    let res = app
        .send_json(
            Method::POST,
            &format!("/api/v1/organizations/{org}/service-accounts"),
            &app.admin_token,
            &json!({"name": "jira", "role": "editor"}),
        )
        .await;
    let sa = body(res).await;
    let jira = mint(
        &app.state,
        &format!("service_account:{}", sa["id"].as_str().expect("id")),
    );
    Setup { org, control, jira }
}

fn ticket_body(control: &str, summary: &str) -> Value {
    json!({
        "title": summary,
        "description": "Auditor sampled the training-data bucket ACL.",
        "type": "major_nonconformity",
        "source": "external_audit",
        "control_ids": [control],
        "due_date": "2027-02-15",
        "external_ref": {"system": "jira", "key": "SEC-142", "url": "https://acme.atlassian.net/browse/SEC-142", "status": "To Do"}
    })
}

#[tokio::test]
async fn a_ticketing_integration_end_to_end() {
    let app = TestApp::spawn().await;
    let s = setup(&app).await;
    let findings = format!("/api/v1/organizations/{}/findings", s.org);
    let create = |key: &'static str, payload: Value| {
        app.request(Method::POST, &findings, Some(&s.jira))
            .header("idempotency-key", key)
            .json(&payload)
            .send()
    };

    // 1. The integration creates the finding from the ticket…
    let res = create(
        "jira:SEC-142:create",
        ticket_body(&s.control, "Training data bucket readable by all engineers"),
    )
    .await
    .expect("request");
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let created = body(res).await;
    assert_eq!(
        (created["status"].as_str(), created["overdue"].as_bool()),
        (Some("open"), Some(false))
    );
    assert_eq!(created["external_ref"]["key"], "SEC-142");
    assert_eq!(created["control_ids"], json!([s.control]));
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(location, format!("{findings}/{id}"));

    // 2. …its retry (a timeout on its side) gets the same answer and creates nothing…
    let res = create(
        "jira:SEC-142:create",
        ticket_body(&s.control, "Training data bucket readable by all engineers"),
    )
    .await
    .expect("request");
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_eq!(body(res).await, created);
    // …the same key with another body is refused, and so is a second finding for the ticket.
    let problem = assert_problem(
        create(
            "jira:SEC-142:create",
            ticket_body(&s.control, "Another summary"),
        )
        .await
        .expect("request"),
        422,
    )
    .await;
    assert_eq!(problem["type"], "urn:annexa:problem:idempotency-key-reuse");
    let problem = assert_problem(
        create("jira:SEC-142:again", ticket_body(&s.control, "Duplicate"))
            .await
            .expect("request"),
        409,
    )
    .await;
    assert_eq!(problem["type"], "urn:annexa:problem:external-ref-taken");

    // 3. It finds the finding by ticket key in one call.
    let found = body(
        app.get(
            &format!("{findings}?external_system=jira&external_key=SEC-142"),
            &s.jira,
        )
        .await,
    )
    .await;
    let items = found["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id.as_str());
    let none = body(
        app.get(
            &format!("{findings}?external_system=linear&external_key=SEC-142"),
            &s.jira,
        )
        .await,
    )
    .await;
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0));

    // The open major nonconformity zeroes its control.
    let control = body(
        app.get(
            &format!("/api/v1/organizations/{}/controls/{}", s.org, s.control),
            &s.jira,
        )
        .await,
    )
    .await;
    assert_eq!(
        (
            control["open_findings_count"].as_i64(),
            control["score"].as_f64()
        ),
        (Some(1), Some(0.0))
    );

    // 4. The ticket moves to In Progress.
    let path = format!("{findings}/{id}");
    let res = app.get(&path, &s.jira).await;
    let etag = res.headers()["etag"].to_str().expect("etag").to_owned();
    let patch = |token: &str, tag: Option<&str>, payload: Value| {
        let mut request = app
            .request(Method::PATCH, &path, Some(token))
            .json(&payload);
        if let Some(tag) = tag {
            request = request.header("if-match", tag);
        }
        request.send()
    };
    let res = patch(&s.jira, Some(&etag), json!({"status": "in_progress", "external_ref": {"system": "jira", "key": "SEC-142", "status": "In Progress"}})).await.expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body(res).await["external_ref"]["status"], "In Progress");
    assert_problem(
        patch(&s.jira, Some(&etag), json!({"owner": "x"}))
            .await
            .expect("request"),
        412,
    )
    .await;

    // Skipping verification is refused, naming what is allowed.
    let problem = assert_problem(
        patch(&s.jira, None, json!({"status": "closed"}))
            .await
            .expect("request"),
        409,
    )
    .await;
    assert_eq!(problem["type"], "urn:annexa:problem:invalid-transition");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or("")
            .contains("allowed: resolved, risk_accepted"),
        "{problem}"
    );
    assert_problem(
        patch(&s.jira, None, json!({"status": "reopened"}))
            .await
            .expect("request"),
        400,
    )
    .await;

    // 5. Resolved by the team…
    let res = patch(&s.jira, None, json!({"status": "resolved", "root_cause": "Bucket policy copied from a public dataset", "resolution_notes": "Policy restricted to the data-eng group"})).await.expect("request");
    assert_eq!(body(res).await["status"], "resolved");
    // …but closing is verification: not for the integration (editor role).
    let problem = assert_problem(
        patch(&s.jira, None, json!({"status": "closed"}))
            .await
            .expect("request"),
        403,
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or("")
            .contains("auditors and admins")
    );

    // 6. The auditor verifies and closes it.
    let auditor = app.member(&s.org, Role::Auditor).await;
    let res = patch(&auditor.token, None, json!({"status": "closed"}))
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    let closed = body(res).await;
    assert_eq!(closed["status"], "closed");
    assert!(closed["closed_at"].is_string());
    // Closed is final.
    let problem = assert_problem(
        patch(&auditor.token, None, json!({"status": "in_progress"}))
            .await
            .expect("request"),
        409,
    )
    .await;
    assert_eq!(problem["type"], "urn:annexa:problem:finding-final");
    let control = body(
        app.get(
            &format!("/api/v1/organizations/{}/controls/{}", s.org, s.control),
            &s.jira,
        )
        .await,
    )
    .await;
    assert_eq!(control["open_findings_count"], 0);

    // Every step is in the audit trail.
    let events = body(
        app.get(
            &format!(
                "/api/v1/organizations/{}/audit-events?entity_type=finding&entity_id={id}",
                s.org
            ),
            &auditor.token,
        )
        .await,
    )
    .await;
    let steps: Vec<(String, Value)> = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or("").to_owned(),
                e["changes"]["status"].clone(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("finding.created".to_owned(), json!([null, "open"])),
            (
                "finding.status_changed".to_owned(),
                json!(["open", "in_progress"])
            ),
            (
                "finding.status_changed".to_owned(),
                json!(["in_progress", "resolved"])
            ),
            (
                "finding.status_changed".to_owned(),
                json!(["resolved", "closed"])
            ),
        ]
    );
}

#[tokio::test]
async fn reopening_and_risk_acceptance() {
    let app = TestApp::spawn().await;
    let s = setup(&app).await;
    let findings = format!("/api/v1/organizations/{}/findings", s.org);
    let raise = |title: &str| {
        let payload =
            json!({"title": title, "type": "minor_nonconformity", "source": "internal_audit"});
        let (app, findings, jira) = (&app, findings.clone(), s.jira.clone());
        async move {
            body(
                app.send_json(Method::POST, &findings, &jira, &payload)
                    .await,
            )
            .await["id"]
                .as_str()
                .expect("id")
                .to_owned()
        }
    };
    let auditor = app.member(&s.org, Role::Auditor).await;
    let admin = app.member(&s.org, Role::Admin).await;

    let first = format!("{findings}/{}", raise("Stale access reviews").await);
    app.send_json(
        Method::PATCH,
        &first,
        &s.jira,
        &json!({"status": "resolved"}),
    )
    .await;
    assert_problem(
        app.send_json(
            Method::PATCH,
            &first,
            &s.jira,
            &json!({"status": "in_progress"}),
        )
        .await,
        403,
    )
    .await;
    let res = app
        .send_json(
            Method::PATCH,
            &first,
            &auditor.token,
            &json!({"status": "in_progress"}),
        )
        .await;
    assert_eq!(
        body(res).await["status"],
        "in_progress",
        "verification failed: reopened"
    );

    let second = format!("{findings}/{}", raise("No DPIA for the recommender").await);
    assert_problem(
        app.send_json(
            Method::PATCH,
            &second,
            &auditor.token,
            &json!({"status": "risk_accepted", "risk_acceptance": "ok"}),
        )
        .await,
        403,
    )
    .await;
    let problem = assert_problem(
        app.send_json(
            Method::PATCH,
            &second,
            &admin.token,
            &json!({"status": "risk_accepted"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "risk_acceptance");
    let res = app
        .send_json(Method::PATCH, &second, &admin.token, &json!({"status": "risk_accepted", "risk_acceptance": "Accepted by the CEO until the Q2 release"}))
        .await;
    assert_eq!(body(res).await["status"], "risk_accepted");
    assert_problem(
        app.send_json(Method::PATCH, &second, &admin.token, &json!({"title": "x"}))
            .await,
        409,
    )
    .await;

    // Viewers raise nothing; admins delete.
    let viewer = app.member(&s.org, Role::Viewer).await;
    assert_problem(
        app.send_json(
            Method::POST,
            &findings,
            &viewer.token,
            &json!({"title": "x", "type": "observation", "source": "internal_audit"}),
        )
        .await,
        403,
    )
    .await;
    assert_problem(
        app.request(Method::DELETE, &first, Some(&auditor.token))
            .send()
            .await
            .expect("request"),
        403,
    )
    .await;
    let res = app
        .request(Method::DELETE, &first, Some(&admin.token))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(app.get(&first, &admin.token).await, 404).await;
}

#[tokio::test]
async fn validation_filters_and_overdue() {
    let app = TestApp::spawn().await;
    let s = setup(&app).await;
    let findings = format!("/api/v1/organizations/{}/findings", s.org);
    let other = app.organization("Other").await;
    app.send_json(
        Method::POST,
        &format!("/api/v1/organizations/{other}/frameworks"),
        &app.admin_token,
        &json!({"framework": "iso27001-2022"}),
    )
    .await;
    let foreign = body(
        app.get(
            &format!("/api/v1/organizations/{other}/controls?limit=1"),
            &app.admin_token,
        )
        .await,
    )
    .await["items"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let problem = assert_problem(
        app.send_json(Method::POST, &findings, &s.jira, &json!({"title": "x", "type": "observation", "source": "internal_audit", "control_ids": [foreign]})).await,
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "control_ids");
    assert_problem(
        app.send_json(
            Method::POST,
            &findings,
            &s.jira,
            &json!({"title": "x", "type": "critical", "source": "internal_audit"}),
        )
        .await,
        400,
    )
    .await;
    assert_problem(
        app.send_json(
            Method::POST,
            &findings,
            &s.jira,
            &json!({"title": "x", "type": "observation"}),
        )
        .await,
        400,
    )
    .await;
    assert_problem(
        app.send_json(Method::POST, &findings, &s.jira, &json!({"title": "x", "type": "observation", "source": "internal_audit", "external_ref": {"system": "jira", "key": " "}})).await,
        422,
    )
    .await;

    let yesterday = (chrono::Utc::now().date_naive() - chrono::Duration::days(1)).to_string();
    let late = body(
        app.send_json(Method::POST, &findings, &s.jira, &json!({"title": "Late", "type": "minor_nonconformity", "source": "internal_audit", "due_date": yesterday, "control_ids": [s.control]}))
            .await,
    )
    .await;
    assert_eq!(late["overdue"], true);
    let on_time = body(app.send_json(Method::POST, &findings, &s.jira, &json!({"title": "On time", "type": "observation", "source": "automated_check", "due_date": "2099-01-01"})).await).await;
    assert_eq!(on_time["overdue"], false);
    let ids = |page: Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|f| f["id"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(
        ids(body(app.get(&format!("{findings}?overdue=true"), &s.jira).await).await),
        [late["id"].as_str().unwrap_or("")]
    );
    assert_eq!(
        ids(body(app.get(&format!("{findings}?overdue=false"), &s.jira).await).await),
        [on_time["id"].as_str().unwrap_or("")]
    );
    assert_eq!(
        ids(body(
            app.get(&format!("{findings}?type=observation"), &s.jira)
                .await
        )
        .await),
        [on_time["id"].as_str().unwrap_or("")]
    );
    assert_eq!(
        ids(body(
            app.get(&format!("{findings}?control_id={}", s.control), &s.jira)
                .await
        )
        .await),
        [late["id"].as_str().unwrap_or("")]
    );
    assert_eq!(
        ids(body(app.get(&format!("{findings}?status=open"), &s.jira).await).await).len(),
        2
    );
    // A minor nonconformity caps its control at 0.5.
    let control_path = format!("/api/v1/organizations/{}/controls/{}", s.org, s.control);
    app.send_json(
        Method::PATCH,
        &control_path,
        &s.jira,
        &json!({"status": "implemented"}),
    )
    .await;
    let control = body(app.get(&control_path, &s.jira).await).await;
    assert_eq!(control["score"], 0.5);
}

#[tokio::test]
async fn concurrent_changes_of_one_finding_honour_if_match() {
    let app = TestApp::spawn().await;
    let s = setup(&app).await;
    let findings = format!("/api/v1/organizations/{}/findings", s.org);
    let res = app
        .send_json(
            Method::POST,
            &findings,
            &s.jira,
            &ticket_body(&s.control, "Bucket ACL"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let path = format!("{findings}/{}", body(res).await["id"].as_str().expect("id"));
    // All in flight at once with the tag they read: one wins, every other is refused.
    let changes = (0..8).map(|i| {
        let (app, path, token) = (&app, &path, &s.jira);
        async move {
            app.request(Method::PATCH, path, Some(token))
                .header("if-match", "\"1\"")
                .json(&json!({"title": format!("Bucket ACL, take {i}")}))
                .send()
                .await
                .expect("request")
                .status()
                .as_u16()
        }
    });
    let mut statuses = futures_util::future::join_all(changes).await;
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412, 412, 412, 412, 412, 412, 412]);
    let now = body(app.get(&path, &s.jira).await).await;
    assert_eq!(now["version"].as_i64(), Some(2));
}
