//! The shipped catalog over HTTP: counts, sample refs and titles, every checklist item mapped,
//! filters, pagination to the end, caching headers, and idempotent loading.

use std::collections::{BTreeSet, HashMap};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, assert_problem, body};

/// Follows `next_cursor` to the end and returns every item.
async fn all_pages(app: &TestApp, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let separator = if path.contains('?') { '&' } else { '?' };
    let mut next = format!("{path}{separator}limit=40");
    loop {
        let res = app.get(&next, &app.admin_token).await;
        assert_eq!(res.status(), StatusCode::OK, "{next}");
        let page = body(res).await;
        items.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => next = format!("{path}{separator}limit=40&cursor={cursor}"),
            None => return items,
        }
    }
}

#[tokio::test]
async fn frameworks_have_the_expected_counts_and_groups() {
    let app = TestApp::spawn().await;
    let list = body(app.get("/api/v1/frameworks", &app.admin_token).await).await;
    let counts: Vec<(&str, u64)> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|f| {
            (
                f["key"].as_str().unwrap_or(""),
                f["requirement_count"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("iso27001-2022", 123),
            ("iso42001-2023", 70),
            ("ai-audit-checklist", 95)
        ]
    );

    let iso = body(
        app.get("/api/v1/frameworks/iso27001-2022", &app.admin_token)
            .await,
    )
    .await;
    let themes: HashMap<&str, u64> = iso["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap_or(""),
                g["requirement_count"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        (themes["A.5"], themes["A.6"], themes["A.7"], themes["A.8"]),
        (37, 8, 14, 34)
    );
    assert_problem(
        app.get("/api/v1/frameworks/iso9001", &app.admin_token)
            .await,
        404,
    )
    .await;
}

#[tokio::test]
async fn paging_through_every_requirement() {
    let app = TestApp::spawn().await;
    for (key, expected, first, last) in [
        ("iso27001-2022", 123, "4.1", "A.8.34"),
        ("iso42001-2023", 70, "4.1", "A.10.4"),
        ("ai-audit-checklist", 95, "PRE-1", "A18-5"),
    ] {
        let items = all_pages(&app, &format!("/api/v1/frameworks/{key}/requirements")).await;
        let refs: Vec<&str> = items.iter().filter_map(|r| r["ref"].as_str()).collect();
        assert_eq!(refs.len(), expected, "{key}");
        assert_eq!(
            refs.iter().collect::<BTreeSet<_>>().len(),
            expected,
            "{key}: refs are unique"
        );
        assert_eq!(
            (refs[0], refs[expected - 1]),
            (first, last),
            "{key}: document order"
        );
    }
}

#[tokio::test]
async fn sample_refs_and_titles_match_the_reference() {
    let app = TestApp::spawn().await;
    for (key, reference, title, kind, group) in [
        (
            "iso27001-2022",
            "6.1.2",
            "Information security risk assessment",
            "clause",
            "6",
        ),
        (
            "iso27001-2022",
            "10.1",
            "Continual improvement",
            "clause",
            "10",
        ),
        (
            "iso27001-2022",
            "A.5.7",
            "Threat intelligence",
            "control",
            "A.5",
        ),
        (
            "iso27001-2022",
            "A.5.23",
            "Information security for use of cloud services",
            "control",
            "A.5",
        ),
        (
            "iso27001-2022",
            "A.8.24",
            "Use of cryptography",
            "control",
            "A.8",
        ),
        (
            "iso42001-2023",
            "6.1.4",
            "Actions to address risks and opportunities - AI system impact assessment",
            "clause",
            "6",
        ),
        (
            "iso42001-2023",
            "A.7.5",
            "Data provenance",
            "control",
            "A.7",
        ),
        (
            "ai-audit-checklist",
            "A10-1",
            "Encryption at rest for training datasets",
            "checklist_item",
            "A10",
        ),
    ] {
        let res = app
            .get(
                &format!("/api/v1/frameworks/{key}/requirements/{reference}"),
                &app.admin_token,
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{key} {reference}");
        let r = body(res).await;
        assert_eq!(
            (r["title"].as_str(), r["kind"].as_str(), r["group"].as_str()),
            (Some(title), Some(kind), Some(group)),
            "{key} {reference}"
        );
        assert!(r["description"].as_str().is_some_and(|d| d.len() > 20));
    }
    let a87 = body(
        app.get(
            "/api/v1/frameworks/iso27001-2022/requirements/A.8.7",
            &app.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(
        a87["attributes"]["control_type"],
        serde_json::json!(["preventive", "detective", "corrective"])
    );
    assert_problem(
        app.get(
            "/api/v1/frameworks/iso27001-2022/requirements/A.9.1",
            &app.admin_token,
        )
        .await,
        404,
    )
    .await;
}

#[tokio::test]
async fn every_checklist_item_is_mapped_to_iso_27001() {
    let app = TestApp::spawn().await;
    let mappings = all_pages(
        &app,
        "/api/v1/mappings?from=ai-audit-checklist&to=iso27001-2022",
    )
    .await;
    let mapped: BTreeSet<&str> = mappings
        .iter()
        .filter_map(|m| m["from"]["ref"].as_str())
        .collect();
    assert_eq!(mapped.len(), 95);
    for m in &mappings {
        assert_eq!(
            (
                m["from"]["framework"].as_str(),
                m["to"]["framework"].as_str()
            ),
            (Some("ai-audit-checklist"), Some("iso27001-2022"))
        );
    }
    // A requirement shows its mappings from its own point of view.
    let detail = body(
        app.get(
            "/api/v1/frameworks/ai-audit-checklist/requirements/A10-1",
            &app.admin_token,
        )
        .await,
    )
    .await;
    assert!(
        detail["mappings"]
            .as_array()
            .expect("mappings")
            .iter()
            .any(|m| m["requirement"]["ref"] == "A.8.24"
                && m["requirement"]["framework"] == "iso27001-2022"),
        "{detail}"
    );
    let crypto = body(
        app.get(
            "/api/v1/frameworks/iso27001-2022/requirements/A.8.24",
            &app.admin_token,
        )
        .await,
    )
    .await;
    let incoming = crypto["mappings"]
        .as_array()
        .expect("mappings")
        .iter()
        .find(|m| m["requirement"]["ref"] == "A10-1")
        .expect("the inverse mapping");
    assert_eq!(
        incoming["relationship"], "superset_of",
        "subset_of reads as superset_of from the other end"
    );
    let all = all_pages(&app, "/api/v1/mappings").await;
    assert!(all.len() > mappings.len());
    assert_problem(
        app.get("/api/v1/mappings?from=nope", &app.admin_token)
            .await,
        404,
    )
    .await;
}

#[tokio::test]
async fn requirement_filters() {
    let app = TestApp::spawn().await;
    let base = "/api/v1/frameworks/iso27001-2022/requirements";
    let count = |items: &Vec<Value>| items.len();
    assert_eq!(
        count(&all_pages(&app, &format!("{base}?kind=clause")).await),
        30
    );
    assert_eq!(
        count(&all_pages(&app, &format!("{base}?kind=control")).await),
        93
    );
    assert_eq!(
        count(&all_pages(&app, &format!("{base}?group=A.6")).await),
        8
    );
    let detective = all_pages(&app, &format!("{base}?control_type=detective")).await;
    assert!(!detective.is_empty() && detective.len() < 93);
    for r in &detective {
        assert!(
            r["attributes"]["control_type"]
                .as_array()
                .expect("types")
                .iter()
                .any(|t| t == "detective")
        );
    }
    let both = all_pages(
        &app,
        &format!("{base}?control_type=detective&security_domains=resilience"),
    )
    .await;
    assert!(both.len() < detective.len());
    let search = all_pages(&app, &format!("{base}?q=CRYPTOGRAPHY")).await;
    assert!(search.iter().any(|r| r["ref"] == "A.8.24"));
    assert_problem(
        app.get(&format!("{base}?control_type=sometimes"), &app.admin_token)
            .await,
        400,
    )
    .await;
    assert_problem(
        app.get(&format!("{base}?kind=paragraph"), &app.admin_token)
            .await,
        400,
    )
    .await;
    assert_problem(
        app.get("/api/v1/frameworks/nope/requirements", &app.admin_token)
            .await,
        404,
    )
    .await;
}

#[tokio::test]
async fn catalog_responses_are_cacheable_and_need_a_token() {
    let app = TestApp::spawn().await;
    let res = app
        .get("/api/v1/frameworks/iso27001-2022", &app.admin_token)
        .await;
    let etag = res.headers()["etag"].to_str().expect("etag").to_owned();
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .expect("header")
            .contains("max-age")
    );
    let res = app
        .request(
            reqwest::Method::GET,
            "/api/v1/frameworks/iso27001-2022",
            Some(&app.admin_token),
        )
        .header("if-none-match", etag.as_str())
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let res = app
        .request(reqwest::Method::GET, "/api/v1/frameworks", None)
        .send()
        .await
        .expect("request");
    assert_problem(res, 401).await;
}

#[tokio::test]
async fn loading_is_idempotent_and_never_deletes_requirements() {
    use annexa::catalog::{Catalog, load};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let app = TestApp::spawn().await;
    let db = &app.state.db;
    let mut catalog = Catalog::embedded().expect("valid catalog");
    let before = entity::requirement::Entity::find()
        .count(db)
        .await
        .expect("count");
    assert!(
        !load(db, &catalog).await.expect("load"),
        "unchanged data is not reloaded"
    );

    // A new data revision: one title changes, one requirement disappears from the file.
    let fw = &mut catalog.frameworks[0];
    fw.requirements[0].title =
        "Understanding the organization and its context (revised)".to_owned();
    let removed = fw.requirements.remove(5);
    let gone = |fw: &str, r: &str| fw == "iso27001-2022" && r == removed.reference;
    catalog
        .mappings
        .retain(|m| !gone(&m.from_framework, &m.from_ref) && !gone(&m.to_framework, &m.to_ref));
    catalog.digest = "changed".to_owned();
    assert!(load(db, &catalog).await.expect("load"));
    assert!(
        !load(db, &catalog).await.expect("load"),
        "a second load of the same data does nothing"
    );
    assert_eq!(
        entity::requirement::Entity::find()
            .count(db)
            .await
            .expect("count"),
        before,
        "nothing deleted"
    );
    let kept = entity::requirement::Entity::find()
        .filter(entity::requirement::Column::Reference.eq(removed.reference.as_str()))
        .filter(entity::requirement::Column::FrameworkKey.eq("iso27001-2022"))
        .one(db)
        .await
        .expect("query")
        .expect("kept");
    assert!(kept.withdrawn);
    let res = app
        .get(
            "/api/v1/frameworks/iso27001-2022/requirements/4.1",
            &app.admin_token,
        )
        .await;
    assert_eq!(
        body(res).await["title"],
        "Understanding the organization and its context (revised)"
    );
    let listed = all_pages(&app, "/api/v1/frameworks/iso27001-2022/requirements").await;
    assert_eq!(listed.len(), 122, "withdrawn requirements are not listed");
}
