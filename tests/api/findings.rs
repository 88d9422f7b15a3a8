//! Findings, the way a ticketing integration uses them: create from a ticket with an idempotency
//! key, retry, look up by ticket key, move through the lifecycle with the right roles, and see
//! every refused transition and duplicate answered correctly.

use annexa::domain::role::Role;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    ISO_27001, NewFinding, Org, TestApp, assert_problem, body, expect_status, id_of, ids,
};

/// An organization with ISO 27001, and the Jira integration: a service account (editor).
struct Ticketing {
    org: Org,
    /// The Jira integration's token.
    jira: String,
    /// The control the ticket is about (A.8.3).
    control: String,
    /// The findings collection.
    findings: String,
}

async fn ticketing(app: &TestApp) -> Ticketing {
    let org = app.org_with(ISO_27001).await;
    let jira = app.service_account(&org.id, "jira", Role::Editor).await;
    Ticketing {
        control: org.control("A.8.3").to_owned(),
        findings: org.path("/findings"),
        jira: jira.token,
        org,
    }
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

const SUMMARY: &str = "Training data bucket readable by all engineers";

impl Ticketing {
    /// The integration creates a finding with an idempotency key.
    async fn create(&self, app: &TestApp, key: &str, payload: &Value) -> Response {
        app.request(Method::POST, &self.findings, Some(&self.jira))
            .header("idempotency-key", key)
            .json(payload)
            .send()
            .await
            .expect("request")
    }

    /// The finding for ticket SEC-142 (201); its body.
    async fn raise(&self, app: &TestApp) -> Value {
        let res = self
            .create(
                app,
                "jira:SEC-142:create",
                &ticket_body(&self.control, SUMMARY),
            )
            .await;
        expect_status(res, StatusCode::CREATED).await
    }

    /// The finding's path after walking it through `steps` (each must answer 200).
    async fn walked(&self, app: &TestApp, steps: &[(&str, &str)]) -> String {
        let path = format!("{}/{}", self.findings, id_of(&self.raise(app).await));
        for (status, token) in steps {
            let res = app.patch(&path, token, &json!({"status": status})).await;
            expect_status(res, StatusCode::OK).await;
        }
        path
    }

    async fn control(&self, app: &TestApp) -> Value {
        app.get_json(
            &self.org.path(&format!("/controls/{}", self.control)),
            &self.jira,
        )
        .await
    }
}

#[tokio::test]
async fn a_finding_created_from_a_ticket_is_open_and_linked() {
    let app = TestApp::spawn().await;
    let t = ticketing(&app).await;
    let res = t
        .create(
            &app,
            "jira:SEC-142:create",
            &ticket_body(&t.control, SUMMARY),
        )
        .await;
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
    assert_eq!(created["control_ids"], json!([t.control]));
    assert_eq!(location, format!("{}/{}", t.findings, id_of(&created)));
}

#[tokio::test]
async fn a_retried_create_replays_the_first_answer_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let t = ticketing(&app).await;
    let created = t.raise(&app).await;
    let res = t
        .create(
            &app,
            "jira:SEC-142:create",
            &ticket_body(&t.control, SUMMARY),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_eq!(body(res).await, created);
    let all = app.get_json(&t.findings, &t.jira).await;
    assert_eq!(ids(&all), [id_of(&created)]);
}

#[tokio::test]
async fn a_reused_key_or_a_second_finding_for_the_ticket_is_refused() {
    let app = TestApp::spawn().await;
    let t = ticketing(&app).await;
    t.raise(&app).await;
    // (idempotency key, summary, status, problem type)
    let cases = [
        (
            "jira:SEC-142:create",
            "Another summary",
            422,
            "urn:annexa:problem:idempotency-key-reuse",
        ),
        (
            "jira:SEC-142:again",
            "Duplicate",
            409,
            "urn:annexa:problem:external-ref-taken",
        ),
    ];
    for (key, summary, status, problem_type) in cases {
        let res = t.create(&app, key, &ticket_body(&t.control, summary)).await;
        let problem = assert_problem(res, status).await;
        assert_eq!(problem["type"], problem_type, "{key}");
    }
}

#[tokio::test]
async fn a_finding_is_found_by_its_ticket_key_in_one_call() {
    let app = TestApp::spawn().await;
    let t = ticketing(&app).await;
    let created = t.raise(&app).await;
    let found = app
        .get_json(
            &format!("{}?external_system=jira&external_key=SEC-142", t.findings),
            &t.jira,
        )
        .await;
    assert_eq!(ids(&found), [id_of(&created)]);
    let none = app
        .get_json(
            &format!("{}?external_system=linear&external_key=SEC-142", t.findings),
            &t.jira,
        )
        .await;
    assert_eq!(ids(&none), Vec::<String>::new());
}

#[tokio::test]
async fn an_open_major_nonconformity_zeroes_its_control() {
    let app = TestApp::spawn().await;
    let t = ticketing(&app).await;
    t.raise(&app).await;
    let control = t.control(&app).await;
    assert_eq!(
        (
            control["open_findings_count"].as_i64(),
            control["score"].as_f64()
        ),
        (Some(1), Some(0.0))
    );
}

#[tokio::test]
async fn a_change_holding_a_stale_etag_is_refused() {
    let app = TestApp::spawn().await;
    let t = ticketing(&app).await;
    let path = format!("{}/{}", t.findings, id_of(&t.raise(&app).await));
    let res = app.get(&path, &t.jira).await;
    let etag = res.headers()["etag"].to_str().expect("etag").to_owned();
    let patch = |payload: Value| {
        app.request(Method::PATCH, &path, Some(&t.jira))
            .header("if-match", etag.as_str())
            .json(&payload)
            .send()
    };
    let res = patch(json!({"status": "in_progress", "external_ref": {"system": "jira", "key": "SEC-142", "status": "In Progress"}})).await.expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body(res).await["external_ref"]["status"], "In Progress");
    assert_problem(patch(json!({"owner": "x"})).await.expect("request"), 412).await;
}

#[tokio::test]
async fn skipping_verification_is_refused_naming_what_is_allowed() {
    let app = TestApp::spawn().await;
    let t = ticketing(&app).await;
    let path = t.walked(&app, &[("in_progress", &t.jira)]).await;
    let problem = assert_problem(
        app.patch(&path, &t.jira, &json!({"status": "closed"}))
            .await,
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
        app.patch(&path, &t.jira, &json!({"status": "reopened"}))
            .await,
        400,
    )
    .await;
}

#[tokio::test]
async fn closing_is_verification_by_auditors_and_admins() {
    let app = TestApp::spawn().await;
    let t = ticketing(&app).await;
    let path = t.walked(&app, &[("in_progress", &t.jira)]).await;
    let res = app
        .patch(
            &path,
            &t.jira,
            &json!({"status": "resolved", "root_cause": "Bucket policy copied from a public dataset", "resolution_notes": "Policy restricted to the data-eng group"}),
        )
        .await;
    assert_eq!(body(res).await["status"], "resolved");
    // Not for the integration (editor role).
    let problem = assert_problem(
        app.patch(&path, &t.jira, &json!({"status": "closed"}))
            .await,
        403,
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or("")
            .contains("auditors and admins")
    );
    let res = app
        .patch(&path, &t.org.auditor.token, &json!({"status": "closed"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let closed = body(res).await;
    assert_eq!(closed["status"], "closed");
    assert!(closed["closed_at"].is_string());
    assert_eq!(t.control(&app).await["open_findings_count"], 0);
}

#[tokio::test]
async fn a_closed_finding_is_final() {
    let app = TestApp::spawn().await;
    let t = ticketing(&app).await;
    let auditor = t.org.auditor.token.clone();
    let path = t
        .walked(
            &app,
            &[
                ("in_progress", &t.jira),
                ("resolved", &t.jira),
                ("closed", &auditor),
            ],
        )
        .await;
    let problem = assert_problem(
        app.patch(&path, &auditor, &json!({"status": "in_progress"}))
            .await,
        409,
    )
    .await;
    assert_eq!(problem["type"], "urn:annexa:problem:finding-final");
}

#[tokio::test]
async fn every_step_of_the_lifecycle_is_in_the_audit_trail() {
    let app = TestApp::spawn().await;
    let t = ticketing(&app).await;
    let auditor = t.org.auditor.token.clone();
    let path = t
        .walked(
            &app,
            &[
                ("in_progress", &t.jira),
                ("resolved", &t.jira),
                ("closed", &auditor),
            ],
        )
        .await;
    let id = path.rsplit('/').next().expect("id");
    let events = app
        .get_json(
            &t.org
                .path(&format!("/audit-events?entity_type=finding&entity_id={id}")),
            &auditor,
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

/// A minor nonconformity raised by the integration; its path.
async fn raised(app: &TestApp, t: &Ticketing, title: &str) -> String {
    let finding = app
        .new_finding(
            &t.org.id,
            &t.jira,
            NewFinding::default()
                .titled(title)
                .of_type("minor_nonconformity"),
        )
        .await;
    format!("{}/{}", t.findings, id_of(&finding))
}

#[tokio::test]
async fn a_resolved_finding_is_reopened_by_its_verifier_only() {
    let app = TestApp::spawn().await;
    let t = ticketing(&app).await;
    let path = raised(&app, &t, "Stale access reviews").await;
    let res = app
        .patch(&path, &t.jira, &json!({"status": "resolved"}))
        .await;
    expect_status(res, StatusCode::OK).await;
    assert_problem(
        app.patch(&path, &t.jira, &json!({"status": "in_progress"}))
            .await,
        403,
    )
    .await;
    let res = app
        .patch(
            &path,
            &t.org.auditor.token,
            &json!({"status": "in_progress"}),
        )
        .await;
    assert_eq!(
        body(res).await["status"],
        "in_progress",
        "verification failed: reopened"
    );
}

#[tokio::test]
async fn risk_acceptance_is_for_admins_with_a_reason_and_final() {
    let app = TestApp::spawn().await;
    let t = ticketing(&app).await;
    let path = raised(&app, &t, "No DPIA for the recommender").await;
    assert_problem(
        app.patch(
            &path,
            &t.org.auditor.token,
            &json!({"status": "risk_accepted", "risk_acceptance": "ok"}),
        )
        .await,
        403,
    )
    .await;
    let problem = assert_problem(
        app.patch(
            &path,
            &t.org.admin.token,
            &json!({"status": "risk_accepted"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "risk_acceptance");
    let res = app
        .patch(&path, &t.org.admin.token, &json!({"status": "risk_accepted", "risk_acceptance": "Accepted by the CEO until the Q2 release"}))
        .await;
    assert_eq!(body(res).await["status"], "risk_accepted");
    assert_problem(
        app.patch(&path, &t.org.admin.token, &json!({"title": "x"}))
            .await,
        409,
    )
    .await;
}

#[tokio::test]
async fn viewers_raise_nothing_and_only_admins_delete() {
    let app = TestApp::spawn().await;
    let t = ticketing(&app).await;
    assert_problem(
        app.post(
            &t.findings,
            &t.org.viewer.token,
            NewFinding::default().titled("x").json(),
        )
        .await,
        403,
    )
    .await;
    let path = raised(&app, &t, "Stale access reviews").await;
    assert_problem(app.delete(&path, &t.org.auditor.token).await, 403).await;
    let res = app.delete(&path, &t.org.admin.token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(app.get(&path, &t.org.admin.token).await, 404).await;
}

#[tokio::test]
async fn invalid_findings_are_refused() {
    let app = TestApp::spawn().await;
    let t = ticketing(&app).await;
    let other = app.org_with(ISO_27001).await;
    let foreign = other.control("A.8.3");
    // (body, status, the field named)
    let cases = [
        (
            NewFinding::default().linked_to(&[foreign]).json().clone(),
            422,
            Some("control_ids"),
        ),
        (
            NewFinding::default().of_type("critical").json().clone(),
            400,
            None,
        ),
        (json!({"title": "x", "type": "observation"}), 400, None),
        (
            NewFinding::default()
                .with("external_ref", json!({"system": "jira", "key": " "}))
                .json()
                .clone(),
            422,
            None,
        ),
    ];
    for (payload, status, field) in cases {
        let problem = assert_problem(app.post(&t.findings, &t.jira, &payload).await, status).await;
        if let Some(field) = field {
            assert_eq!(problem["errors"][0]["field"], field, "{payload}");
        }
    }
    let none = app.get_json(&t.findings, &t.jira).await;
    assert_eq!(ids(&none), Vec::<String>::new(), "nothing was created");
}

#[tokio::test]
async fn findings_filter_by_overdue_type_control_and_status() {
    let app = TestApp::spawn().await;
    let t = ticketing(&app).await;
    let yesterday = (chrono::Utc::now().date_naive() - chrono::Duration::days(1)).to_string();
    let late = app
        .new_finding(
            &t.org.id,
            &t.jira,
            NewFinding::default()
                .titled("Late")
                .of_type("minor_nonconformity")
                .with("due_date", json!(yesterday))
                .linked_to(&[t.control.as_str()]),
        )
        .await;
    assert_eq!(late["overdue"], true);
    let on_time = app
        .new_finding(
            &t.org.id,
            &t.jira,
            NewFinding::default()
                .titled("On time")
                .with("source", json!("automated_check"))
                .with("due_date", json!("2099-01-01")),
        )
        .await;
    assert_eq!(on_time["overdue"], false);
    let (late, on_time) = (id_of(&late), id_of(&on_time));
    for (query, expected) in [
        ("overdue=true", vec![late.clone()]),
        ("overdue=false", vec![on_time.clone()]),
        ("type=observation", vec![on_time.clone()]),
        (&format!("control_id={}", t.control), vec![late.clone()]),
        ("status=open", vec![late.clone(), on_time.clone()]),
    ] {
        let page = app
            .get_json(&format!("{}?{query}", t.findings), &t.jira)
            .await;
        assert_eq!(ids(&page), expected, "{query}");
    }
}

#[tokio::test]
async fn an_open_minor_nonconformity_caps_its_control_at_half() {
    let app = TestApp::spawn().await;
    let t = ticketing(&app).await;
    app.new_finding(
        &t.org.id,
        &t.jira,
        NewFinding::default()
            .of_type("minor_nonconformity")
            .linked_to(&[t.control.as_str()]),
    )
    .await;
    let control_path = t.org.path(&format!("/controls/{}", t.control));
    let res = app
        .patch(&control_path, &t.jira, &json!({"status": "implemented"}))
        .await;
    expect_status(res, StatusCode::OK).await;
    assert_eq!(t.control(&app).await["score"], 0.5);
}

#[tokio::test]
async fn concurrent_changes_of_one_finding_honour_if_match() {
    let app = TestApp::spawn().await;
    let t = ticketing(&app).await;
    let path = format!("{}/{}", t.findings, id_of(&t.raise(&app).await));
    // All in flight at once with the tag they read: one wins, every other is refused.
    let changes = (0..8).map(|i| {
        let (app, path, token) = (&app, &path, &t.jira);
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
    let now = app.get_json(&path, &t.jira).await;
    assert_eq!(now["version"].as_i64(), Some(2));
}
