//! Readiness over HTTP: a known organization (statuses, an exclusion, evidence of every review
//! state, findings of every type) and the exact score, level, group scores, counts and blockers;
//! the `ready` level; history and scheduled snapshots; bounded query counts.

use std::{collections::HashMap, sync::atomic::Ordering};

use annexa::domain::role::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Actor, NewFinding, Org, TestApp, assert_problem, body, id_of};

impl TestApp {
    /// Raises a finding on `reference`, then walks it through `statuses`.
    async fn finding(
        &self,
        org: &Org,
        reference: &str,
        finding_type: &str,
        statuses: &[(&str, &Actor)],
    ) -> String {
        let finding = NewFinding::default()
            .titled(&format!("{finding_type} on {reference}"))
            .of_type(finding_type)
            .with("source", json!("external_audit"))
            .linked_to(&[org.control(reference)]);
        let id = id_of(&self.new_finding(&org.id, &org.auditor.token, finding).await);
        for (status, who) in statuses {
            let mut patch = json!({"status": status});
            if *status == "risk_accepted" {
                patch["risk_acceptance"] = json!("Accepted by the board for one year");
            }
            let res = self
                .patch(
                    &format!("/api/v1/organizations/{}/findings/{id}", org.id),
                    &who.token,
                    &patch,
                )
                .await;
            assert_eq!(
                res.status(),
                StatusCode::OK,
                "{status}: {}",
                res.text().await.unwrap_or_default()
            );
        }
        id
    }
}

/// The known organization: ISO 27001 with statuses, an exclusion, evidence of every review
/// state and findings of every type, as commented below; and its readiness report.
struct Known {
    org: Org,
    /// The expired evidence of A.5.1.
    expired: String,
    /// The open major nonconformity on A.5.2.
    major: String,
    report: Value,
}

async fn known(app: &TestApp) -> Known {
    let org = app.org_with("iso27001-2022").await;
    let implemented = json!({"status": "implemented"});
    let past = "2026-01-01T00:00:00Z";
    let soon = (chrono::Utc::now() + chrono::Duration::days(10))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);

    // 4.1: implemented with valid accepted evidence (expiring soon) → 1.0
    app.update_control(&org, "4.1", implemented.clone()).await;
    app.reviewed_evidence(&org, &["4.1"], Some(&soon), Some("accepted"))
        .await;
    // 4.2: implemented, no evidence → 0.5, missing_evidence
    app.update_control(&org, "4.2", implemented.clone()).await;
    // 4.3: in progress → 0.25, clause_not_implemented
    app.update_control(&org, "4.3", json!({"status": "in_progress"}))
        .await;
    // A.5.1: implemented, accepted evidence that expired → 0.5, expired_evidence
    app.update_control(&org, "A.5.1", implemented.clone()).await;
    let expired = app
        .reviewed_evidence(&org, &["A.5.1"], Some(past), Some("accepted"))
        .await;
    // A.5.2 – A.5.5: implemented with valid evidence, and findings of each kind
    for r in ["A.5.2", "A.5.3", "A.5.4", "A.5.5", "A.8.1"] {
        app.update_control(&org, r, implemented.clone()).await;
    }
    app.reviewed_evidence(
        &org,
        &["A.5.2", "A.5.3", "A.5.4", "A.5.5", "A.8.1"],
        None,
        Some("accepted"),
    )
    .await;
    let major = app.finding(&org, "A.5.2", "major_nonconformity", &[]).await; // open major → 0
    app.finding(
        &org,
        "A.5.3",
        "minor_nonconformity",
        &[("in_progress", &org.editor)],
    )
    .await; // open minor → 0.5
    app.finding(
        &org,
        "A.5.4",
        "major_nonconformity",
        &[("resolved", &org.editor), ("closed", &org.auditor)],
    )
    .await; // closed → 1.0
    app.finding(
        &org,
        "A.5.5",
        "major_nonconformity",
        &[("risk_accepted", &org.admin)],
    )
    .await; // risk accepted → 1.0
    app.finding(&org, "A.8.1", "observation", &[]).await; // observations do not count → 1.0
    app.finding(&org, "A.8.1", "opportunity_for_improvement", &[])
        .await;
    // A.5.6: planned with pending evidence → 0.1
    app.update_control(&org, "A.5.6", json!({"status": "planned"}))
        .await;
    app.reviewed_evidence(&org, &["A.5.6"], None, None).await;
    // A.5.7: implemented with rejected evidence → 0.5, missing_evidence
    app.update_control(&org, "A.5.7", implemented.clone()).await;
    app.reviewed_evidence(&org, &["A.5.7"], None, Some("rejected"))
        .await;
    // A.5.8: implemented with accepted evidence that was archived → 0.5, missing_evidence
    app.update_control(&org, "A.5.8", implemented.clone()).await;
    let archived = app
        .reviewed_evidence(&org, &["A.5.8"], None, Some("accepted"))
        .await;
    let res = app
        .delete(
            &format!("/api/v1/organizations/{}/evidence/{archived}", org.id),
            &org.admin.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // A.7.4: excluded with a justification (not counted)
    app.update_control(
        &org,
        "A.7.4",
        json!({"applicable": false, "justification": "Fully remote company"}),
    )
    .await;

    let report = body(
        app.get(
            &format!("/api/v1/organizations/{}/readiness/iso27001-2022", org.id),
            &org.auditor.token,
        )
        .await,
    )
    .await;
    Known {
        org,
        expired,
        major,
        report,
    }
}

#[tokio::test]
async fn a_known_organization_scores_exactly() {
    let app = TestApp::spawn().await;
    let Known { report, .. } = known(&app).await;
    // Σ s(c) = 1 + 0.5 + 0.25 + 0.5 + 0 + 0.5 + 1 + 1 + 1 + 0.1 + 0.5 + 0.5 = 6.85 over N = 122
    assert_eq!(report["score"], 5.6, "100 × 6.85 / 122 = 5.61…");
    assert_eq!(report["level"], "not_ready");
    assert_eq!(report["formula_version"], 2);
    // No risk register yet: the risk part is empty and changes nothing.
    assert_eq!(report["risk"]["open_risks"], 0);
    assert_eq!(report["risk"]["assets_in_scope"], 0);
}

#[tokio::test]
async fn formula_version_1_is_still_computed_on_request() {
    let app = TestApp::spawn().await;
    let Known { org, report, .. } = known(&app).await;
    let path = format!("/api/v1/organizations/{}/readiness/iso27001-2022", org.id);
    let v1 = body(
        app.get(&format!("{path}?formula_version=1"), &org.auditor.token)
            .await,
    )
    .await;
    assert_eq!(v1["formula_version"], 1);
    assert_eq!(
        (&v1["score"], &v1["level"]),
        (&report["score"], &report["level"])
    );
    assert!(v1.get("risk").is_none(), "version 1 has no risk part");
    for bad in ["3", "0", "two"] {
        let res = app
            .get(&format!("{path}?formula_version={bad}"), &org.auditor.token)
            .await;
        assert_eq!(res.status(), 400, "formula_version={bad}");
    }
}

#[tokio::test]
async fn a_known_organizations_group_scores() {
    let app = TestApp::spawn().await;
    let Known { report, .. } = known(&app).await;
    let groups: HashMap<String, (f64, u64)> = report["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| {
            (
                g["group"].as_str().unwrap_or("").to_owned(),
                (
                    g["score"].as_f64().unwrap_or(-1.0),
                    g["applicable"].as_u64().unwrap_or(0),
                ),
            )
        })
        .collect();
    assert_eq!(groups["4"], (43.8, 4), "(1 + 0.5 + 0.25 + 0) / 4");
    assert_eq!(groups["5"], (0.0, 3));
    assert_eq!(groups["A.5"], (11.1, 37), "4.1 / 37");
    assert_eq!(groups["A.7"], (0.0, 13), "one of 14 excluded");
    assert_eq!(groups["A.8"], (2.9, 34));
    assert_eq!(report["groups"][7]["title"], "Organizational controls");
}

#[tokio::test]
async fn a_known_organizations_counts() {
    let app = TestApp::spawn().await;
    let Known { report, .. } = known(&app).await;

    assert_eq!(
        report["counts"],
        json!({
            "controls": 123, "applicable": 122, "not_applicable": 1,
            "by_status": {"not_started": 110, "planned": 1, "in_progress": 1, "implemented": 10},
            "with_valid_evidence": 6,
            "evidence_expired": 1, "evidence_expiring_30_days": 1,
            "open_findings": {"major_nonconformity": 1, "minor_nonconformity": 1, "observation": 1, "opportunity_for_improvement": 1}
        })
    );
}

#[tokio::test]
async fn a_known_organizations_blockers_name_their_controls_evidence_and_findings() {
    let app = TestApp::spawn().await;
    let Known {
        org,
        expired,
        major,
        report,
    } = known(&app).await;
    let blockers: Vec<(String, String, Option<String>, Option<String>)> = report["blockers"]
        .as_array()
        .expect("blockers")
        .iter()
        .map(|b| {
            assert_eq!(
                b["control_id"].as_str(),
                Some(org.control(b["ref"].as_str().unwrap_or("")))
            );
            (
                b["kind"].as_str().unwrap_or("").to_owned(),
                b["ref"].as_str().unwrap_or("").to_owned(),
                b["finding_id"].as_str().map(str::to_owned),
                b["evidence_id"].as_str().map(str::to_owned),
            )
        })
        .collect();
    let not_clause: Vec<_> = blockers
        .iter()
        .filter(|b| b.0 != "clause_not_implemented")
        .cloned()
        .collect();
    assert_eq!(
        not_clause,
        [
            ("missing_evidence".to_owned(), "4.2".to_owned(), None, None),
            (
                "expired_evidence".to_owned(),
                "A.5.1".to_owned(),
                None,
                Some(expired)
            ),
            (
                "major_nonconformity".to_owned(),
                "A.5.2".to_owned(),
                Some(major),
                None
            ),
            (
                "missing_evidence".to_owned(),
                "A.5.7".to_owned(),
                None,
                None
            ),
            (
                "missing_evidence".to_owned(),
                "A.5.8".to_owned(),
                None,
                None
            ),
        ]
    );
    let clauses: Vec<&str> = blockers
        .iter()
        .filter(|b| b.0 == "clause_not_implemented")
        .map(|b| b.1.as_str())
        .collect();
    assert_eq!(clauses.len(), 28, "every clause but 4.1 and 4.2");
    assert_eq!(clauses[0], "4.3");
}

#[tokio::test]
async fn the_controls_and_the_summary_agree_with_the_report() {
    let app = TestApp::spawn().await;
    let Known { org, report, .. } = known(&app).await;
    // The controls show the same scores.
    let a53 = app
        .get_json(&org.control_path("A.5.3"), &org.auditor.token)
        .await;
    assert_eq!(a53["score"], 0.5, "an open minor nonconformity");

    // The summary agrees with the report.
    let summary = app
        .get_json(&org.path("/readiness"), &org.auditor.token)
        .await;
    let first = &summary["items"][0];
    assert_eq!(first["framework"], "iso27001-2022");
    assert_eq!(
        (first["score"].as_f64(), first["level"].as_str()),
        (Some(5.6), Some("not_ready"))
    );
    assert_eq!(
        (&first["score"], &first["level"]),
        (&report["score"], &report["level"])
    );
}

#[tokio::test]
async fn the_ready_level_and_what_takes_it_away() {
    let app = TestApp::spawn().await;
    let org = app.org_with("ai-audit-checklist").await;
    let path = |id: &str| format!("/api/v1/organizations/{}/controls/{id}", org.id);
    let refs: Vec<String> = org.controls.keys().cloned().collect();
    for id in org.controls.values() {
        let res = app
            .patch(
                &path(id),
                &org.editor.token,
                &json!({"status": "implemented"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let all: Vec<&str> = refs.iter().map(String::as_str).collect();
    app.reviewed_evidence(&org, &all, None, Some("accepted"))
        .await;
    let report_path = format!(
        "/api/v1/organizations/{}/readiness/ai-audit-checklist",
        org.id
    );
    let report = body(app.get(&report_path, &org.auditor.token).await).await;
    assert_eq!(
        (report["score"].as_f64(), report["level"].as_str()),
        (Some(100.0), Some("ready"))
    );
    assert_eq!(report["blockers"], json!([]));

    // A justified exclusion keeps it ready.
    app.update_control(
        &org,
        "A11-4",
        json!({"applicable": false, "justification": "No on-premises AI hardware"}),
    )
    .await;
    let report = body(app.get(&report_path, &org.auditor.token).await).await;
    assert_eq!(
        (report["score"].as_f64(), report["level"].as_str()),
        (Some(100.0), Some("ready"))
    );

    // An open major nonconformity does not: 93 / 94 = 98.9, at risk.
    let finding = app.finding(&org, "A9-2", "major_nonconformity", &[]).await;
    let report = body(app.get(&report_path, &org.auditor.token).await).await;
    assert_eq!(
        (report["score"].as_f64(), report["level"].as_str()),
        (Some(98.9), Some("at_risk"))
    );
    assert_eq!(report["blockers"][0]["kind"], "major_nonconformity");
    assert_eq!(report["blockers"][0]["finding_id"], finding.as_str());
    assert_problem(
        app.get(
            &format!("/api/v1/organizations/{}/readiness/iso27001-2022", org.id),
            &org.auditor.token,
        )
        .await,
        404,
    )
    .await;
}

#[tokio::test]
async fn history_manual_and_scheduled() {
    let app = TestApp::spawn().await;
    let org = app.org_with("iso42001-2023").await;
    let history = format!(
        "/api/v1/organizations/{}/readiness/iso42001-2023/history",
        org.id
    );
    let viewer = app.member(&org.id, Role::Viewer).await;
    assert_problem(app.call(Method::POST, &history, &viewer.token).await, 403).await;

    let res = app.call(Method::POST, &history, &org.editor.token).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let first = body(res).await;
    assert_eq!(
        (first["score"].as_f64(), first["trigger"].as_str()),
        (Some(0.0), Some("manual"))
    );
    assert_eq!(first["counts"]["applicable"], 70);

    app.update_control(&org, "4.1", json!({"status": "implemented"}))
        .await;
    // Scheduled: one per period, however often the schedule runs (or however many replicas).
    let db = &app.state.db;
    assert_eq!(
        annexa::service::readiness::take_scheduled_snapshots(db, 86_400)
            .await
            .expect("snapshots"),
        1
    );
    assert_eq!(
        annexa::service::readiness::take_scheduled_snapshots(db, 86_400)
            .await
            .expect("snapshots"),
        0
    );

    let page = body(app.get(&history, &viewer.token).await).await;
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(
        (items[0]["trigger"].as_str(), items[1]["trigger"].as_str()),
        (Some("manual"), Some("scheduled"))
    );
    assert_eq!(items[1]["score"], 0.7, "100 × 0.5 / 70, oldest first");
    let since = items[1]["computed_at"]
        .as_str()
        .expect("time")
        .replace('+', "%2B");
    let later = body(
        app.get(&format!("{history}?from={since}"), &viewer.token)
            .await,
    )
    .await;
    assert_eq!(later["items"].as_array().map(Vec::len), Some(1));
    let until = items[0]["computed_at"]
        .as_str()
        .expect("time")
        .replace('+', "%2B");
    let earlier = body(
        app.get(&format!("{history}?to={until}"), &viewer.token)
            .await,
    )
    .await;
    assert_eq!(earlier["items"][0]["id"], items[0]["id"]);
    assert_problem(
        app.get(&format!("{history}?from={since}&to={until}"), &viewer.token)
            .await,
        400,
    )
    .await;
    let paged = body(app.get(&format!("{history}?limit=1"), &viewer.token).await).await;
    let cursor = paged["next_cursor"].as_str().expect("more");
    let rest = body(
        app.get(&format!("{history}?limit=1&cursor={cursor}"), &viewer.token)
            .await,
    )
    .await;
    assert_eq!(rest["items"][0]["id"], items[1]["id"]);
}

#[tokio::test]
async fn the_report_costs_a_bounded_number_of_queries() {
    let app = TestApp::spawn_with(|s| {
        // Nothing else may run while statements are counted.
        s.webhook_worker = false;
    })
    .await;
    let org = app.org_with("iso42001-2023").await;
    let res = app
        .post(
            &format!("/api/v1/organizations/{}/frameworks", org.id),
            &app.admin_token,
            &json!({"framework": "iso27001-2022"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let count = |path: String| {
        let app = &app;
        let token = org.auditor.token.clone();
        async move {
            let before = app.state.queries.load(Ordering::SeqCst);
            let res = app.get(&path, &token).await;
            assert_eq!(res.status(), StatusCode::OK);
            app.state.queries.load(Ordering::SeqCst) - before
        }
    };
    let small = count(format!(
        "/api/v1/organizations/{}/readiness/iso42001-2023",
        org.id
    ))
    .await;
    // More evidence and findings do not add queries.
    let refs: Vec<String> = org.controls.keys().cloned().collect();
    for r in refs.iter().take(20) {
        app.reviewed_evidence(&org, &[r.as_str()], None, Some("accepted"))
            .await;
        app.finding(&org, r, "minor_nonconformity", &[]).await;
    }
    let large = count(format!(
        "/api/v1/organizations/{}/readiness/iso27001-2022",
        org.id
    ))
    .await;
    let again = count(format!(
        "/api/v1/organizations/{}/readiness/iso42001-2023",
        org.id
    ))
    .await;
    assert_eq!((small, again), (large, large));
    // Unchanged data: the cached report is served.
    let cached = count(format!(
        "/api/v1/organizations/{}/readiness/iso42001-2023",
        org.id
    ))
    .await;
    assert!(
        cached < large && cached <= 5,
        "a cached report costs {cached} statements"
    );
    assert!(large <= 14, "a report costs {large} statements");
}

#[tokio::test]
async fn reports_follow_changes_and_expiry_without_going_stale() {
    let app = TestApp::spawn().await;
    let org = app.org_with("iso42001-2023").await;
    let path = format!("/api/v1/organizations/{}/readiness/iso42001-2023", org.id);
    async fn score_of(app: &TestApp, path: &str, token: &str) -> f64 {
        body(app.get(path, token).await).await["score"]
            .as_f64()
            .expect("score")
    }
    assert_eq!(score_of(&app, &path, &org.auditor.token).await, 0.0);
    app.update_control(&org, "4.1", json!({"status": "implemented"}))
        .await;
    assert_eq!(
        score_of(&app, &path, &org.auditor.token).await,
        0.7,
        "a change shows at once: 100 × 0.5 / 70"
    );
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    app.reviewed_evidence(&org, &["4.1"], Some(&soon), Some("accepted"))
        .await;
    assert_eq!(
        score_of(&app, &path, &org.auditor.token).await,
        1.4,
        "valid evidence: 100 × 1 / 70"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(
        score_of(&app, &path, &org.auditor.token).await,
        0.7,
        "expired with no change to the data"
    );
}

#[tokio::test]
async fn link_rows_carry_the_facts_of_their_evidence_and_findings() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = TestApp::spawn().await;
    let org = app.org_with("iso42001-2023").await;
    let base = format!("/api/v1/organizations/{}", org.id);
    let later = (chrono::Utc::now() + chrono::Duration::days(90)).to_rfc3339();
    let past = (chrono::Utc::now() - chrono::Duration::days(3)).to_rfc3339();
    let ok = |res: reqwest::Response, what: &str| {
        assert!(res.status().is_success(), "{what}: {}", res.status());
    };

    // Evidence: created, reviewed, its validity changed, linked once more, uploaded, archived.
    let reviewed = app
        .reviewed_evidence(&org, &["4.1", "4.2"], Some(&later), Some("accepted"))
        .await;
    let res = app
        .patch(
            &format!("{base}/evidence/{reviewed}"),
            &org.editor.token,
            &json!({"valid_until": past}),
        )
        .await;
    ok(res, "validity changed");
    let res = app
        .call(
            Method::PUT,
            &format!("{base}/controls/{}/evidence/{reviewed}", org.control("5.1")),
            &org.editor.token,
        )
        .await;
    ok(res, "linked");
    let uploaded = app
        .reviewed_evidence(&org, &["4.1"], None, Some("accepted"))
        .await;
    let res = app
        .request(
            Method::PUT,
            &format!("{base}/evidence/{uploaded}/content"),
            Some(&org.editor.token),
        )
        .body(b"access review export".to_vec())
        .send()
        .await
        .expect("upload");
    ok(res, "uploaded");
    let archived = app
        .reviewed_evidence(&org, &["4.2"], Some(&later), Some("accepted"))
        .await;
    let res = app
        .delete(&format!("{base}/evidence/{archived}"), &org.admin.token)
        .await;
    ok(res, "archived");

    // Findings: created, moved along, retyped, relinked.
    let moved = app
        .finding(
            &org,
            "4.1",
            "minor_nonconformity",
            &[("in_progress", &org.editor)],
        )
        .await;
    let res = app
        .patch(&format!("{base}/findings/{moved}"),
            &org.auditor.token,
            &json!({"type": "major_nonconformity", "control_ids": [org.control("4.1"), org.control("4.2")]}),
        )
        .await;
    ok(res, "retyped and relinked");
    let resolved = app.finding(&org, "4.2", "observation", &[]).await;
    let res = app
        .patch(
            &format!("{base}/findings/{resolved}"),
            &org.auditor.token,
            &json!({"type": "minor_nonconformity"}),
        )
        .await;
    ok(res, "retyped");
    app.finding(&org, "4.3", "observation", &[("in_progress", &org.editor)])
        .await;

    let db = &app.state.db;
    let evidence: HashMap<String, entity::evidence::Model> = entity::evidence::Entity::find()
        .filter(entity::evidence::Column::OrganizationId.eq(org.id.as_str()))
        .all(db)
        .await
        .expect("evidence")
        .into_iter()
        .map(|e| (e.id.clone(), e))
        .collect();
    let links = entity::control_evidence::Entity::find()
        .filter(entity::control_evidence::Column::OrganizationId.eq(org.id.as_str()))
        .all(db)
        .await
        .expect("links");
    assert_eq!(links.len(), 5, "two links, one more, one, one");
    for link in &links {
        let e = &evidence[&link.evidence_id];
        assert_eq!(
            (
                &link.evidence_review_status,
                link.evidence_valid_until,
                link.evidence_archived_at
            ),
            (&e.review_status, e.valid_until, e.archived_at),
            "the link to {} carries its evidence's facts",
            e.title
        );
    }
    assert!(evidence[&archived].archived_at.is_some());
    assert_eq!(
        evidence[&uploaded].review_status.as_str(),
        "pending",
        "new content"
    );
    assert_eq!(
        evidence[&reviewed].review_status.as_str(),
        "pending",
        "a new validity"
    );

    let findings: HashMap<String, entity::finding::Model> = entity::finding::Entity::find()
        .filter(entity::finding::Column::OrganizationId.eq(org.id.as_str()))
        .all(db)
        .await
        .expect("findings")
        .into_iter()
        .map(|f| (f.id.clone(), f))
        .collect();
    let links = entity::finding_control::Entity::find()
        .filter(entity::finding_control::Column::OrganizationId.eq(org.id.as_str()))
        .all(db)
        .await
        .expect("links");
    assert_eq!(links.len(), 4);
    for link in &links {
        let f = &findings[&link.finding_id];
        assert_eq!(
            (&link.finding_status, &link.finding_type),
            (&f.status, &f.finding_type),
            "the link of {} carries its finding's facts",
            f.title
        );
    }
    assert_eq!(
        findings[&moved].finding_type.as_str(),
        "major_nonconformity"
    );
    assert_eq!(
        findings[&resolved].finding_type.as_str(),
        "minor_nonconformity"
    );
}
