//! Formula version 2 over a known risk register: the exact risk section, every risk blocker,
//! and the risk clauses held back.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ISO_27001, Org, TestApp, body, expect_status, id_of, queries_during};

/// A date `days` from today (negative: in the past), `YYYY-MM-DD`.
fn day(days: i64) -> String {
    (Utc::now().date_naive() + Duration::days(days)).to_string()
}

async fn asset(app: &TestApp, org: &Org, body: Value) -> String {
    let res = app
        .post(&org.path("/assets"), &org.editor.token, &body)
        .await;
    id_of(&expect_status(res, StatusCode::CREATED).await)
}

async fn risk(app: &TestApp, org: &Org, body: Value) -> Value {
    let res = app
        .post(&org.path("/risks"), &org.editor.token, &body)
        .await;
    expect_status(res, StatusCode::CREATED).await
}

async fn report(app: &TestApp, org: &Org, query: &str) -> Value {
    let path = org.path(&format!("/readiness/{ISO_27001}{query}"));
    expect_status(app.get(&path, &org.auditor.token).await, StatusCode::OK).await
}

/// The risk blockers as `(kind, ref or asset id)`.
fn risk_blockers(report: &Value) -> Vec<(String, String)> {
    report["blockers"]
        .as_array()
        .expect("blockers")
        .iter()
        .filter(|b| b["kind"].as_str().is_some_and(|k| k.contains("risk")))
        .map(|b| {
            let what = b["ref"].as_str().or(b["asset_id"].as_str()).unwrap_or("");
            (b["kind"].as_str().unwrap_or("").to_owned(), what.to_owned())
        })
        .collect()
}

fn counts(levels: &Value) -> Vec<u64> {
    levels
        .as_array()
        .expect("levels")
        .iter()
        .map(|l| l["count"].as_u64().expect("count"))
        .collect()
}

#[tokio::test]
async fn a_known_risk_register_gives_the_exact_risk_section_and_blockers() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let dataset = asset(
        &app,
        &org,
        json!({"name": "Support tickets 2026", "kind": "dataset"}),
    )
    .await;
    let model = asset(
        &app,
        &org,
        json!({"name": "Support LLM", "kind": "ml_model", "asset_version": "3.1", "derived_from": [dataset]}),
    )
    .await;
    let endpoint = asset(
        &app,
        &org,
        json!({"name": "Support chat API", "kind": "inference_endpoint", "derived_from": [model]}),
    )
    .await;
    let pipeline = asset(
        &app,
        &org,
        json!({"name": "Nightly fine-tune", "kind": "data_pipeline"}),
    )
    .await;
    asset(
        &app,
        &org,
        json!({"name": "Demo laptop", "kind": "infrastructure", "in_scope": false}),
    )
    .await;

    // On the default 5 × 5 matrix (levels by likelihood × impact: ≤ 4 Low, ≤ 9 Medium,
    // ≤ 16 High, else Critical; appetite Medium):
    // R-1 Critical → Medium, modify, a planned control not implemented past its due date.
    let r1 = risk(
        &app,
        &org,
        json!({
            "title": "Training data poisoning", "asset_ids": [dataset, model],
            "inherent": {"likelihood": 4, "impact": 5}, "residual": {"likelihood": 2, "impact": 4},
            "treatment": "modify", "treatment_due": day(-3), "assessed_at": day(-20),
            "controls": [{"control_id": org.control("A.8.28"), "role": "planned"}],
        }),
    )
    .await;
    // R-2 High, undecided: untreated.
    risk(
        &app,
        &org,
        json!({
            "title": "Prompt injection", "asset_ids": [endpoint],
            "inherent": {"likelihood": 4, "impact": 4}, "assessed_at": day(-60),
        }),
    )
    .await;
    // R-3 High, retained and accepted.
    let r3 = risk(
        &app,
        &org,
        json!({
            "title": "Loss of the GPU provider", "inherent": {"likelihood": 3, "impact": 4},
            "treatment": "retain", "assessed_at": day(-5),
        }),
    )
    .await;
    // R-4 Medium (within appetite), retained, review overdue.
    risk(
        &app,
        &org,
        json!({
            "title": "Model extraction", "inherent": {"likelihood": 3, "impact": 3},
            "treatment": "retain", "review_due": day(-1), "assessed_at": day(-200),
        }),
    )
    .await;
    // R-5 Critical, retained without an acceptance.
    let r5 = risk(
        &app,
        &org,
        json!({
            "title": "Membership inference", "asset_ids": [model],
            "inherent": {"likelihood": 5, "impact": 5}, "treatment": "retain",
        }),
    )
    .await;
    assert_eq!(
        [&r1["ref"], &r3["ref"], &r5["ref"]],
        ["R-1", "R-3", "R-5"].map(Value::from).each_ref()
    );
    let accept = app
        .post(
            &org.path(&format!("/risks/{}/acceptance", id_of(&r3))),
            &org.admin.token,
            &json!({"justification": "A second provider is contracted for 2027.", "expires_on": day(90)}),
        )
        .await;
    expect_status(accept, StatusCode::OK).await;
    app.update_control(&org, "6.1.2", json!({"status": "implemented"}))
        .await;

    let v2 = report(&app, &org, "").await;
    assert_eq!(v2["formula_version"], 2);
    let section = &v2["risk"];
    assert_eq!(
        (&section["appetite"], &section["appetite_name"]),
        (&json!(2), &json!("Medium"))
    );
    assert_eq!(section["open_risks"], 5);
    assert_eq!(counts(&section["by_inherent_level"]), [0, 1, 2, 2]);
    assert_eq!(counts(&section["by_residual_level"]), [0, 2, 2, 1]);
    assert_eq!(section["by_residual_level"][2]["name"], "High");
    assert_eq!(section["above_appetite"], 3);
    assert_eq!(
        section["by_treatment"],
        json!({"undecided": 1, "modify": 1, "retain": 3, "avoid": 0, "share": 0})
    );
    assert_eq!(
        (
            &section["assets_in_scope"],
            &section["assets_without_assessment"]
        ),
        (&json!(4), &json!(1))
    );
    let expected: Vec<(String, String)> = [
        ("asset_not_risk_assessed", pipeline.as_str()),
        ("risk_untreated", "R-2"),
        ("risk_treatment_incomplete", "R-1"),
        ("risk_acceptance_missing", "R-5"),
        ("risk_review_overdue", "R-4"),
    ]
    .map(|(k, w)| (k.to_owned(), w.to_owned()))
    .to_vec();
    assert_eq!(risk_blockers(&v2), expected);
    let untreated = v2["blockers"]
        .as_array()
        .and_then(|b| b.iter().find(|b| b["kind"] == "risk_untreated"))
        .expect("untreated");
    assert!(untreated["control_id"].is_null() && untreated["risk_id"].is_string());

    // 6.1.2 is recorded implemented without evidence (0.5), but an asset is not assessed, so
    // version 2 counts it in progress (0.25) and names it; version 1 does not.
    let v1 = report(&app, &org, "?formula_version=1").await;
    assert_eq!(
        (&v1["score"], &v2["score"]),
        (&json!(0.4), &json!(0.2)),
        "0.5 or 0.25 over 123"
    );
    let held_back = |r: &Value| {
        r["blockers"].as_array().is_some_and(|b| {
            b.iter()
                .any(|b| b["kind"] == "clause_not_implemented" && b["ref"] == "6.1.2")
        })
    };
    assert!(held_back(&v2) && !held_back(&v1));
    assert!(risk_blockers(&v1).is_empty());

    // Accepting R-5 and assessing the pipeline clears their blockers.
    let accept = app
        .post(
            &org.path(&format!("/risks/{}/acceptance", id_of(&r5))),
            &org.admin.token,
            &json!({"justification": "Differential privacy is on the 2027 roadmap.", "expires_on": day(30)}),
        )
        .await;
    expect_status(accept, StatusCode::OK).await;
    risk(
        &app,
        &org,
        json!({
            "title": "Pipeline credentials leak", "asset_ids": [pipeline],
            "inherent": {"likelihood": 1, "impact": 2}, "treatment": "avoid", "assessed_at": day(0),
        }),
    )
    .await;
    let kinds: Vec<String> = risk_blockers(&report(&app, &org, "").await)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        kinds,
        [
            "risk_untreated",
            "risk_treatment_incomplete",
            "risk_review_overdue"
        ]
    );
}

#[tokio::test]
async fn snapshots_keep_the_risk_section() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    risk(
        &app,
        &org,
        json!({"title": "Model drift", "inherent": {"likelihood": 2, "impact": 2}}),
    )
    .await;
    let res = app
        .post(
            &org.path(&format!("/readiness/{ISO_27001}/history")),
            &org.editor.token,
            &json!({}),
        )
        .await;
    let snapshot = body(res).await;
    assert_eq!(snapshot["formula_version"], 2);
    assert_eq!(snapshot["risk"]["open_risks"], 1);
    assert_eq!(counts(&snapshot["risk"]["by_inherent_level"]), [1, 0, 0, 0]);
}

#[tokio::test]
async fn risk_lists_and_the_report_cost_the_same_statements_for_2_or_12_risks() {
    let app = TestApp::spawn_with(|s| {
        // Nothing else may run while statements are counted.
        s.webhook_worker = false;
    })
    .await;
    let org = app.org_with(ISO_27001).await;
    let model = asset(&app, &org, json!({"name": "Ranker", "kind": "ml_model"})).await;
    let add_risks = async |n: usize| {
        for i in 0..n {
            risk(
                &app,
                &org,
                json!({
                    "title": format!("Risk {i}"), "asset_ids": [model],
                    "inherent": {"likelihood": 4, "impact": 4}, "treatment": "modify",
                    "controls": [{"control_id": org.control("A.8.28"), "role": "planned"},
                                 {"control_id": org.control("A.5.1"), "role": "existing"}],
                }),
            )
            .await;
        }
    };
    let paths = [
        org.path("/risks?limit=100"),
        org.path("/risk-treatment-plan"),
        org.path("/assets?limit=100"),
        org.path(&format!("/readiness/{ISO_27001}")),
    ];
    let measure = async || {
        let mut counts = Vec::new();
        for path in &paths {
            let (n, res) = queries_during(&app, app.get(path, &org.auditor.token)).await;
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            counts.push(n);
        }
        counts
    };
    add_risks(2).await;
    let few = measure().await;
    add_risks(10).await;
    let many = measure().await;
    assert_eq!(few, many, "statements per request ({paths:?})");
    assert!(many.iter().all(|n| *n <= 20), "{many:?}");
}
