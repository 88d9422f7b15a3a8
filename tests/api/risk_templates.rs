//! The AI risk templates over HTTP: the whole list, the asset-kind filter, one template with
//! caching headers, every suggested control resolvable in the catalog, 404 and 401.

use std::collections::BTreeSet;

use annexa::{catalog::risk_templates, domain::role::Role};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{TestApp, assert_problem, body};

fn keys(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["key"].as_str().expect("key").to_owned())
        .collect()
}

#[tokio::test]
async fn every_template_is_listed_with_its_kinds_and_controls() {
    let app = TestApp::spawn().await;
    let org = app.organization("Templates org").await;
    let viewer = app.member(&org, Role::Viewer).await;
    let res = app.get("/api/v1/risk-templates", &viewer.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let list = body(res).await;
    let keys = keys(&list);
    assert!(keys.len() >= 24, "{} templates", keys.len());
    assert_eq!(keys.len(), risk_templates::all().len());
    assert_eq!(
        keys.iter().collect::<BTreeSet<_>>().len(),
        keys.len(),
        "unique keys"
    );
    for t in list["items"].as_array().expect("items") {
        assert!(
            !t["asset_kinds"].as_array().expect("kinds").is_empty(),
            "{t}"
        );
        assert!(
            t["suggested_controls"].as_array().expect("controls").len() >= 2,
            "{t}"
        );
        for field in [
            "title",
            "description",
            "threat",
            "vulnerability",
            "category",
        ] {
            assert!(
                t[field].as_str().is_some_and(|s| !s.is_empty()),
                "{field}: {t}"
            );
        }
    }
    assert!(
        list.get("next_cursor").is_none(),
        "a whole list, not a page"
    );
}

#[tokio::test]
async fn the_list_filters_by_asset_kind() {
    let app = TestApp::spawn().await;
    for kind in [
        "ml_model",
        "dataset",
        "inference_endpoint",
        "compute",
        "people",
    ] {
        let path = format!("/api/v1/risk-templates?asset_kind={kind}");
        let list = body(app.get(&path, &app.admin_token).await).await;
        let items = list["items"].as_array().expect("items");
        let expected = risk_templates::all()
            .iter()
            .filter(|t| t.asset_kinds.iter().any(|k| k.as_str() == kind))
            .count();
        assert!(expected > 0, "{kind} has templates");
        assert_eq!(items.len(), expected, "{kind}");
        for t in items {
            let kinds = t["asset_kinds"].as_array().expect("kinds");
            assert!(kinds.iter().any(|k| k == kind), "{kind}: {t}");
        }
    }
    let none = body(
        app.get(
            "/api/v1/risk-templates?asset_kind=facility",
            &app.admin_token,
        )
        .await,
    )
    .await;
    assert!(keys(&none).contains(&"gpu-cluster-outage".to_owned()));
    let res = app
        .get(
            "/api/v1/risk-templates?asset_kind=spaceship",
            &app.admin_token,
        )
        .await;
    assert_problem(res, 400).await;
}

#[tokio::test]
async fn a_template_is_read_by_key_and_cached() {
    let app = TestApp::spawn().await;
    let path = "/api/v1/risk-templates/training-data-poisoning";
    let res = app.get(path, &app.admin_token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers()["etag"].to_str().expect("etag").to_owned();
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .expect("header")
            .contains("max-age")
    );
    let t = body(res).await;
    assert_eq!(t["key"], "training-data-poisoning");
    assert_eq!(t["category"], "security");
    assert_eq!(t["atlas"], "AML.T0020");
    assert_eq!(t["owasp"], "ML02:2023");
    assert!((1..=5).contains(&t["default_likelihood"].as_u64().expect("likelihood")));
    assert!((1..=5).contains(&t["default_impact"].as_u64().expect("impact")));
    assert!(
        t["asset_kinds"]
            .as_array()
            .expect("kinds")
            .iter()
            .any(|k| k == "dataset")
    );
    let control = &t["suggested_controls"][0];
    assert!(
        control["framework"].is_string() && control["ref"].is_string(),
        "{control}"
    );

    let res = app
        .request(Method::GET, path, Some(&app.admin_token))
        .header("if-none-match", etag.as_str())
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn every_suggested_control_is_a_requirement_of_the_catalog() {
    let app = TestApp::spawn().await;
    let refs: BTreeSet<(String, String)> = risk_templates::all()
        .iter()
        .flat_map(|t| &t.suggested_controls)
        .map(|c| (c.framework.clone(), c.r#ref.clone()))
        .collect();
    for (framework, reference) in refs {
        let path = format!("/api/v1/frameworks/{framework}/requirements/{reference}");
        let res = app.get(&path, &app.admin_token).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn an_unknown_template_is_not_found() {
    let app = TestApp::spawn().await;
    for key in ["no-such-template", "TRAINING-DATA-POISONING"] {
        let res = app
            .get(&format!("/api/v1/risk-templates/{key}"), &app.admin_token)
            .await;
        let problem = assert_problem(res, 404).await;
        assert_eq!(problem["type"], "urn:annexa:problem:not-found");
    }
}

#[tokio::test]
async fn risk_templates_need_a_token() {
    let app = TestApp::spawn().await;
    for path in [
        "/api/v1/risk-templates",
        "/api/v1/risk-templates/training-data-poisoning",
    ] {
        let res = app
            .request(Method::GET, path, None)
            .send()
            .await
            .expect("request");
        assert_problem(res, 401).await;
        let res = app.get(path, "not-a-token").await;
        assert_problem(res, 401).await;
    }
}
