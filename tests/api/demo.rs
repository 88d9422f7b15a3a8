//! The demo organization of `annexa demo`: seeded once per database, with data to look at.

use annexa::demo::{DEMO_ORG_NAME, DEMO_USERS, SeedSpec, ensure_demo};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::helpers::{FindByEmail, TestApp, body, mint};

#[tokio::test]
async fn the_demo_is_seeded_once_and_can_be_read() {
    let app = TestApp::spawn().await;
    let db = &app.state.db;
    // The size `annexa demo` seeds: small enough for a test.
    let spec = SeedSpec::demo();
    let first = ensure_demo(db, &spec).await.expect("seeded");
    let second = ensure_demo(db, &spec).await.expect("found");
    assert!(first.created && !second.created);
    assert_eq!(first.org_id, second.org_id);
    let named = entity::organization::Entity::find()
        .filter(entity::organization::Column::Name.eq(DEMO_ORG_NAME))
        .count(db)
        .await
        .expect("count");
    assert_eq!(named, 1, "one demo organization");

    let org = &first.org_id;
    let auditor = entity::user::Entity::find_by_email(db, DEMO_USERS.auditor).await;
    let token = mint(&app.state, &format!("user:{}", auditor.id));
    for (path, expected) in [
        ("controls?limit=500", 123 + 70 + 95),
        ("evidence?limit=500", spec.evidence),
        ("findings?limit=500", spec.findings),
        ("assets?limit=500", spec.assets),
        ("risks?limit=500", spec.risks),
    ] {
        let res = app
            .get(&format!("/api/v1/organizations/{org}/{path}"), &token)
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let items = body(res).await["items"].as_array().map_or(0, Vec::len);
        assert_eq!(items, expected, "{path}");
    }
    let res = app
        .get(
            &format!("/api/v1/organizations/{org}/readiness/iso27001-2022"),
            &token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let report = body(res).await;
    assert_eq!(report["counts"]["controls"], 123);
    assert!(report["score"].is_number());
    assert_eq!(report["risk"]["open_risks"], spec.risks);
    let res = app
        .get(
            &format!("/api/v1/organizations/{org}/risk-treatment-plan"),
            &token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        body(res).await["items"]
            .as_array()
            .is_some_and(|i| !i.is_empty()),
        "the demo has risks above appetite to treat"
    );
}
