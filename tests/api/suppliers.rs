//! The supplier register: suppliers with their data access, certifications and review cadence,
//! their filters, their links to assets and risks, their security reviews, and every refusal
//! answered without writing anything.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ISO_27001, Org, TestApp, assert_problem, body, expect_status, id_of, ids};

/// Registers a supplier as the org's editor (201); the supplier.
async fn new_supplier(app: &TestApp, org: &Org, body: Value) -> Value {
    let res = app
        .post(&org.path("/suppliers"), &org.editor.token, &body)
        .await;
    expect_status(res, StatusCode::CREATED).await
}

/// The `field` of the first error of a problem.
fn error_field(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or("")
}

#[tokio::test]
async fn a_supplier_round_trips_through_create_get_list_update_and_delete() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let evidence = app
        .new_evidence(&org.id, &org.editor.token, Default::default())
        .await;
    let res = app
        .post(
            &org.path("/suppliers"),
            &org.editor.token,
            &json!({
                "name": "  Example Model Labs  ",
                "website": "https://models.example.com",
                "services": "Hosted LLM API",
                "kind": "ai_model_provider",
                "criticality": "high",
                "data_access": ["training_data", "personal_data", "personal_data"],
                "countries": ["US", "IE"],
                "certifications": [
                    {"scheme": "soc2_type2", "expires_on": "2099-06-30", "evidence_id": id_of(&evidence)}
                ],
                "dpa_signed_at": "2026-01-15",
                "contract_end": "2028-01-14",
                "owner_id": org.editor.id,
                "status": "active"
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let created = body(res).await;
    let id = id_of(&created);
    assert!(location.ends_with(&format!("/suppliers/{id}")));
    assert_eq!(created["name"], "Example Model Labs");
    assert_eq!(
        created["data_access"],
        json!(["personal_data", "training_data"])
    );
    assert_eq!(created["countries"], json!(["IE", "US"]));
    assert_eq!(created["certifications"][0]["scheme"], "soc2_type2");
    assert_eq!(created["review_interval_months"], Value::Null);
    assert_eq!(created["effective_review_interval_months"], 12);
    assert_eq!(created["review_overdue"], true);
    assert_eq!(created["last_review"], Value::Null);
    assert_eq!(created["asset_ids"], json!([]));
    assert_eq!(created["version"], 1);

    let path = org.path(&format!("/suppliers/{id}"));
    assert_eq!(app.get_json(&path, &org.viewer.token).await, created);
    let page = app
        .get_json(&org.path("/suppliers"), &org.viewer.token)
        .await;
    assert_eq!(ids(&page), vec![id.clone()]);

    let res = app
        .patch(
            &path,
            &org.editor.token,
            &json!({"criticality": "low", "review_interval_months": 6, "website": null}),
        )
        .await;
    let updated = expect_status(res, StatusCode::OK).await;
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["website"], Value::Null);
    assert_eq!(updated["effective_review_interval_months"], 6);
    // An unchanged patch writes nothing.
    let res = app
        .patch(&path, &org.editor.token, &json!({"criticality": "low"}))
        .await;
    assert_eq!(expect_status(res, StatusCode::OK).await["version"], 2);

    let actions = app
        .audit_actions(&org.id, &format!("entity_id={id}"), &org.admin.token)
        .await;
    assert_eq!(actions, vec!["supplier.created", "supplier.updated"]);

    let res = app.delete(&path, &org.editor.token).await;
    assert_problem(res, 403).await;
    let res = app.delete(&path, &org.admin.token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(app.get(&path, &org.viewer.token).await, 404).await;
}

#[tokio::test]
async fn invalid_suppliers_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let other = app.org_with(ISO_27001).await;
    let foreign_evidence = app
        .new_evidence(&other.id, &other.editor.token, Default::default())
        .await;
    let base = json!({"name": "Vendor", "kind": "saas"});
    let with = |field: &str, value: Value| {
        let mut b = base.clone();
        b[field] = value;
        b
    };
    let table = [
        (with("name", json!("  ")), 422, "name"),
        (with("name", json!("x".repeat(201))), 422, "name"),
        (with("website", json!("ftp://example.com")), 422, "website"),
        (with("website", json!("not a url")), 422, "website"),
        (
            with("data_access", json!(["none", "metadata"])),
            422,
            "data_access",
        ),
        (with("countries", json!(["US", "XX"])), 422, "countries[1]"),
        (
            with("review_interval_months", json!(0)),
            422,
            "review_interval_months",
        ),
        (
            with("review_interval_months", json!(61)),
            422,
            "review_interval_months",
        ),
        (with("owner_id", json!(other.editor.id)), 404, "owner_id"),
        (
            with(
                "certifications",
                json!([
                    {"scheme": "iso27001", "expires_on": "2099-01-01"},
                    {"scheme": "iso42001", "expires_on": "2099-01-01", "evidence_id": id_of(&foreign_evidence)}
                ]),
            ),
            404,
            "certifications[1].evidence_id",
        ),
    ];
    for (request, status, field) in table {
        let res = app
            .post(&org.path("/suppliers"), &org.editor.token, &request)
            .await;
        let problem = assert_problem(res, status).await;
        assert_eq!(error_field(&problem), field, "{request}");
    }
    for request in [
        with("kind", json!("vendor")),
        with("data_access", json!(["everything"])),
        with(
            "certifications",
            json!([{"scheme": "iso9001", "expires_on": "2099-01-01"}]),
        ),
        with("surprise", json!(1)),
    ] {
        let res = app
            .post(&org.path("/suppliers"), &org.editor.token, &request)
            .await;
        assert!(res.status().is_client_error(), "{request}");
    }
    let page = app
        .get_json(&org.path("/suppliers"), &org.viewer.token)
        .await;
    assert_eq!(ids(&page), Vec::<String>::new());
}

#[tokio::test]
async fn a_supplier_name_is_unique_in_any_case() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let first = new_supplier(&app, &org, json!({"name": "Acme Cloud", "kind": "cloud"})).await;
    let res = app
        .post(
            &org.path("/suppliers"),
            &org.editor.token,
            &json!({"name": "ACME cloud", "kind": "cloud"}),
        )
        .await;
    let problem = assert_problem(res, 409).await;
    assert_eq!(problem["type"], "urn:annexa:problem:supplier-name-taken");
    let second = new_supplier(&app, &org, json!({"name": "Other", "kind": "saas"})).await;
    let res = app
        .patch(
            &org.path(&format!("/suppliers/{}", id_of(&second))),
            &org.editor.token,
            &json!({"name": "acme CLOUD"}),
        )
        .await;
    assert_problem(res, 409).await;
    // Renaming a supplier to another case of its own name is fine.
    let res = app
        .patch(
            &org.path(&format!("/suppliers/{}", id_of(&first))),
            &org.editor.token,
            &json!({"name": "ACME Cloud"}),
        )
        .await;
    assert_eq!(
        expect_status(res, StatusCode::OK).await["name"],
        "ACME Cloud"
    );
}

#[tokio::test]
async fn suppliers_are_filtered() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let model = new_supplier(
        &app,
        &org,
        json!({"name": "Model Labs", "kind": "ai_model_provider", "criticality": "critical",
               "data_access": ["personal_data"], "services": "Fine-tuning"}),
    )
    .await;
    let cloud = new_supplier(
        &app,
        &org,
        json!({"name": "Cloud Co", "kind": "cloud", "criticality": "low",
               "data_access": ["none"], "status": "onboarding"}),
    )
    .await;
    let (model, cloud) = (id_of(&model), id_of(&cloud));
    let table = [
        ("kind=cloud", vec![cloud.clone()]),
        ("criticality=critical", vec![model.clone()]),
        ("status=onboarding", vec![cloud.clone()]),
        ("data_access=personal_data", vec![model.clone()]),
        ("data_access=none", vec![cloud.clone()]),
        ("data_access=metadata", vec![]),
        ("review_overdue=true", vec![model.clone(), cloud.clone()]),
        ("review_overdue=false", vec![]),
        ("q=FINE", vec![model.clone()]),
        ("updated_since=2999-01-01T00:00:00Z", vec![]),
    ];
    for (query, expected) in table {
        let page = app
            .get_json(&org.path(&format!("/suppliers?{query}")), &org.viewer.token)
            .await;
        assert_eq!(ids(&page), expected, "{query}");
    }
}

#[tokio::test]
async fn another_organizations_supplier_is_not_found() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let other = app.org_with(ISO_27001).await;
    let supplier = new_supplier(&app, &other, json!({"name": "Theirs", "kind": "saas"})).await;
    let path = org.path(&format!("/suppliers/{}", id_of(&supplier)));
    assert_problem(app.get(&path, &org.admin.token).await, 404).await;
    let res = app
        .patch(&path, &org.admin.token, &json!({"name": "Mine"}))
        .await;
    assert_problem(res, 404).await;
    assert_problem(app.delete(&path, &org.admin.token).await, 404).await;
}

#[tokio::test]
async fn a_review_is_planned_started_and_completed_by_its_reviewer() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let supplier = new_supplier(
        &app,
        &org,
        json!({"name": "Model Labs", "kind": "ai_model_provider", "criticality": "high",
               "owner_id": org.editor.id}),
    )
    .await;
    let reviews = org.path(&format!("/suppliers/{}/reviews", id_of(&supplier)));
    let res = app
        .post(
            &reviews,
            &org.auditor.token,
            &json!({"due": "2026-12-31", "reviewer_id": org.auditor.id}),
        )
        .await;
    let planned = expect_status(res, StatusCode::CREATED).await;
    assert_eq!(planned["status"], "planned");
    assert_eq!(planned["completed_at"], Value::Null);
    let path = format!("{reviews}/{}", id_of(&planned));
    let res = app
        .patch(&path, &org.editor.token, &json!({"status": "in_progress"}))
        .await;
    assert_eq!(
        expect_status(res, StatusCode::OK).await["status"],
        "in_progress"
    );

    let complete = |decision: Value, conditions: Value| json!({"status": "completed", "decision": decision, "conditions": conditions});
    // The editor is not the reviewer.
    let res = app
        .patch(
            &path,
            &org.editor.token,
            &complete(json!("approved"), Value::Null),
        )
        .await;
    assert_problem(res, 403).await;
    for (body, field) in [
        (complete(Value::Null, Value::Null), "decision"),
        (
            complete(json!("approved_with_conditions"), Value::Null),
            "conditions",
        ),
    ] {
        let res = app.patch(&path, &org.auditor.token, &body).await;
        assert_eq!(error_field(&assert_problem(res, 422).await), field);
    }
    let res = app
        .patch(
            &path,
            &org.auditor.token,
            &complete(json!("approved_with_conditions"), json!("Enable SSO by Q2")),
        )
        .await;
    let done = expect_status(res, StatusCode::OK).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["decision"], "approved_with_conditions");
    let completed_at = done["completed_at"].as_str().unwrap().to_owned();

    let supplier = app
        .get_json(
            &org.path(&format!("/suppliers/{}", id_of(&supplier))),
            &org.viewer.token,
        )
        .await;
    assert_eq!(supplier["last_review"]["id"], done["id"]);
    assert_eq!(supplier["review_overdue"], false);
    let due = chrono::NaiveDate::parse_from_str(&completed_at[..10], "%Y-%m-%d").unwrap()
        + chrono::Months::new(12);
    assert_eq!(supplier["next_review_due"], due.to_string());

    // A completed review is final.
    let res = app
        .patch(&path, &org.admin.token, &json!({"status": "in_progress"}))
        .await;
    assert_problem(res, 409).await;
    let page = app.get_json(&reviews, &org.viewer.token).await;
    assert_eq!(ids(&page), vec![id_of(&done)]);
    let actions = app
        .audit_actions(
            &org.id,
            &format!("entity_id={}", id_of(&done)),
            &org.admin.token,
        )
        .await;
    assert_eq!(
        actions,
        vec![
            "supplier_review.created",
            "supplier_review.updated",
            "supplier_review.completed"
        ]
    );
}

#[tokio::test]
async fn a_reviewer_is_an_auditor_or_admin_who_does_not_own_the_supplier() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let other = app.org_with(ISO_27001).await;
    let foreign_evidence = app
        .new_evidence(&other.id, &other.editor.token, Default::default())
        .await;
    let supplier = new_supplier(
        &app,
        &org,
        json!({"name": "Owned", "kind": "saas", "owner_id": org.auditor.id}),
    )
    .await;
    let reviews = org.path(&format!("/suppliers/{}/reviews", id_of(&supplier)));
    let table = [
        (
            json!({"due": "2026-12-31", "reviewer_id": org.editor.id}),
            422,
            "reviewer_id",
        ),
        (
            json!({"due": "2026-12-31", "reviewer_id": org.auditor.id}),
            422,
            "reviewer_id",
        ),
        (
            json!({"due": "2026-12-31", "reviewer_id": other.admin.id}),
            404,
            "reviewer_id",
        ),
        (
            json!({"due": "2026-12-31", "evidence_ids": [id_of(&foreign_evidence)]}),
            404,
            "evidence_ids",
        ),
        (
            json!({"due": "2026-12-31", "decision": "approved"}),
            422,
            "decision",
        ),
        (
            json!({"due": "2026-12-31", "status": "completed", "decision": "approved"}),
            422,
            "reviewer_id",
        ),
    ];
    for (request, status, field) in table {
        let res = app.post(&reviews, &org.editor.token, &request).await;
        let problem = assert_problem(res, status).await;
        assert_eq!(error_field(&problem), field, "{request}");
    }
    // Viewers do not plan reviews; an admin may record a completed one.
    let res = app
        .post(&reviews, &org.viewer.token, &json!({"due": "2026-12-31"}))
        .await;
    assert_problem(res, 403).await;
    let res = app
        .post(
            &reviews,
            &org.admin.token,
            &json!({"due": "2026-12-31", "status": "completed", "decision": "rejected",
                    "reviewer_id": org.admin.id}),
        )
        .await;
    assert_eq!(
        expect_status(res, StatusCode::CREATED).await["decision"],
        "rejected"
    );
    let page = app.get_json(&reviews, &org.viewer.token).await;
    assert_eq!(ids(&page).len(), 1);
}
