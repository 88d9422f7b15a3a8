//! Formula version 2 over known suppliers: the exact supplier section, every supplier blocker
//! with its supplier, the supplier controls held back, and the AI checklist's inventory.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{AI_CHECKLIST, ISO_27001, Org, TestApp, expect_status, id_of};

/// A date `days` from today (negative: in the past), `YYYY-MM-DD`.
fn day(days: i64) -> String {
    (Utc::now().date_naive() + Duration::days(days)).to_string()
}

async fn supplier(app: &TestApp, org: &Org, body: Value) -> String {
    let res = app
        .post(&org.path("/suppliers"), &org.editor.token, &body)
        .await;
    id_of(&expect_status(res, StatusCode::CREATED).await)
}

async fn report(app: &TestApp, org: &Org, framework: &str) -> Value {
    let path = org.path(&format!("/readiness/{framework}"));
    expect_status(app.get(&path, &org.auditor.token).await, StatusCode::OK).await
}

/// The supplier blockers as `(kind, ref, supplier_id)`.
fn supplier_blockers(report: &Value) -> Vec<(String, String, String)> {
    report["blockers"]
        .as_array()
        .expect("blockers")
        .iter()
        .filter(|b| {
            b["kind"]
                .as_str()
                .is_some_and(|k| k.starts_with("supplier_"))
        })
        .map(|b| {
            let text = |field: &str| b[field].as_str().unwrap_or("").to_owned();
            (text("kind"), text("ref"), text("supplier_id"))
        })
        .collect()
}

/// Whether the report has a `missing_evidence` blocker for the control `reference`.
fn missing_evidence(report: &Value, reference: &str) -> bool {
    report["blockers"]
        .as_array()
        .expect("blockers")
        .iter()
        .any(|b| b["kind"] == "missing_evidence" && b["ref"] == reference)
}

#[tokio::test]
async fn known_suppliers_give_the_exact_section_and_blockers() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let alpha = supplier(
        &app,
        &org,
        json!({"name": "Alpha Models", "kind": "ai_model_provider", "criticality": "critical",
               "data_access": ["training_data"],
               "certifications": [{"scheme": "iso27001", "expires_on": day(-1)},
                                  {"scheme": "soc2_type2", "expires_on": day(-30)}]}),
    )
    .await;
    supplier(
        &app,
        &org,
        json!({"name": "Beta Cloud", "kind": "cloud", "criticality": "low",
               "data_access": ["metadata"],
               "certifications": [{"scheme": "iso27001", "expires_on": day(1)}]}),
    )
    .await;
    supplier(
        &app,
        &org,
        json!({"name": "Gamma Data", "kind": "data_provider", "criticality": "high",
               "status": "onboarding", "data_access": ["personal_data"],
               "dpa_signed_at": day(-10)}),
    )
    .await;
    supplier(
        &app,
        &org,
        json!({"name": "Delta Labels", "kind": "data_provider", "criticality": "critical",
               "status": "offboarded", "data_access": ["personal_data"]}),
    )
    .await;
    app.update_control(&org, "A.5.19", json!({"status": "implemented"}))
        .await;

    let r = report(&app, &org, ISO_27001).await;
    assert_eq!(
        r["suppliers"],
        json!({"active": 2, "by_criticality": {"low": 1, "medium": 0, "high": 0, "critical": 1},
               "review_overdue": 1, "without_dpa": 1, "certification_expired": 1})
    );
    let name = "Alpha Models".to_owned();
    assert_eq!(
        supplier_blockers(&r),
        [
            (
                "supplier_review_overdue".to_owned(),
                name.clone(),
                alpha.clone()
            ),
            (
                "supplier_without_dpa".to_owned(),
                name.clone(),
                alpha.clone()
            ),
            (
                "supplier_certification_expired".to_owned(),
                name,
                alpha.clone()
            ),
        ]
    );
    assert!(
        r["inventory"].is_null(),
        "the inventory is the AI checklist's"
    );
    // Held back, A.5.19 counts as in progress: no evidence is asked of it yet.
    assert!(!missing_evidence(&r, "A.5.19"));

    // A completed review, a DPA and a current certificate clear them.
    let res = app
        .post(
            &org.path(&format!("/suppliers/{alpha}/reviews")),
            &org.admin.token,
            &json!({"due": day(0), "status": "completed", "decision": "approved",
                    "reviewer_id": org.admin.id}),
        )
        .await;
    expect_status(res, StatusCode::CREATED).await;
    let res = app
        .patch(
            &org.path(&format!("/suppliers/{alpha}")),
            &org.editor.token,
            &json!({"dpa_signed_at": day(0),
                    "certifications": [{"scheme": "iso27001", "expires_on": day(365)}]}),
        )
        .await;
    expect_status(res, StatusCode::OK).await;
    let r = report(&app, &org, ISO_27001).await;
    assert_eq!(supplier_blockers(&r), []);
    assert_eq!(r["suppliers"]["review_overdue"], 0);
    assert!(missing_evidence(&r, "A.5.19"));
    // A snapshot keeps the section.
    let history = org.path(&format!("/readiness/{ISO_27001}/history"));
    let res = app.post(&history, &org.editor.token, &json!({})).await;
    let snapshot = expect_status(res, StatusCode::CREATED).await;
    assert_eq!(snapshot["suppliers"], r["suppliers"]);
}

#[tokio::test]
async fn the_ai_checklist_report_counts_the_ml_inventory() {
    let app = TestApp::spawn().await;
    let org = app.org_with(AI_CHECKLIST).await;
    let asset = |body: Value| {
        let app = &app;
        let org = &org;
        async move {
            let res = app
                .post(&org.path("/assets"), &org.editor.token, &body)
                .await;
            id_of(&expect_status(res, StatusCode::CREATED).await)
        }
    };
    let model = asset(json!({"name": "LLM", "kind": "ml_model", "owner_id": org.editor.id})).await;
    asset(json!({"name": "Tickets", "kind": "dataset"})).await;
    asset(json!({"name": "Old tickets", "kind": "dataset", "status": "retired"})).await;
    asset(json!({"name": "Offline", "kind": "dataset", "in_scope": false})).await;
    asset(json!({"name": "Portal", "kind": "application"})).await;
    let risk = json!({"title": "Model theft", "inherent": {"likelihood": 2, "impact": 2},
                      "asset_ids": [model]});
    let res = app
        .post(&org.path("/risks"), &org.editor.token, &risk)
        .await;
    expect_status(res, StatusCode::CREATED).await;

    let r = report(&app, &org, AI_CHECKLIST).await;
    assert_eq!(
        r["inventory"],
        json!({"models_in_scope": 1, "datasets_in_scope": 1, "without_owner": 1,
               "without_risk": 1, "retired": 1})
    );
    assert_eq!(r["suppliers"]["active"], 0);
}
