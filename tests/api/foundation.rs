//! The shared building blocks: probes, docs, request ids, problem+json errors, pagination
//! parameters, idempotency keys, ETags and the audit trail, plus the CLI's configuration checks.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, assert_problem, body};

#[tokio::test]
async fn probes_answer_and_echo_request_ids() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    let generated = res.headers()["x-request-id"]
        .to_str()
        .expect("header")
        .to_owned();
    assert_eq!(generated.len(), 36, "a UUID is generated");
    assert_eq!(body(res).await, json!({"status": "ok"}));

    let res = app
        .client
        .get(app.url("/readyz"))
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-request-id"], "trace-abc-123");

    // An unusable request id (spaces, too long) is replaced, not echoed.
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "x".repeat(300))
        .send()
        .await
        .expect("request");
    assert_eq!(res.headers()["x-request-id"].len(), 36);
}

#[tokio::test]
async fn docs_and_the_served_spec() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/docs"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(res.headers()["location"], "/docs/");
    let res = app
        .client
        .get(app.url("/docs/"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.text().await.expect("html").contains("swagger"),
        "Swagger UI is served"
    );

    let res = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    let served = res.text().await.expect("spec");
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .expect("openapi/openapi.json exists");
    assert_eq!(
        served, checked_in,
        "GET /openapi.json serves the checked-in document"
    );
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods_are_problems() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/nowhere"))
        .send()
        .await
        .expect("request");
    assert_problem(res, 404).await;
    let res = app
        .client
        .delete(app.url("/healthz"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.headers()["allow"], "GET");
    assert_problem(res, 405).await;
    let res = app
        .call(Method::PUT, "/api/v1/organizations", &app.admin_token)
        .await;
    assert_eq!(res.headers()["allow"], "GET, POST");
    assert_problem(res, 405).await;
}

#[tokio::test]
async fn malformed_bodies_are_400_problems_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let path = "/api/v1/organizations";
    let send = |body: &'static str, content_type: &'static str| {
        app.request(Method::POST, path, Some(&app.admin_token))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    assert_problem(
        send("{not json", "application/json")
            .await
            .expect("request"),
        400,
    )
    .await;
    let problem = assert_problem(
        send(r#"{"name": 5}"#, "application/json")
            .await
            .expect("request"),
        400,
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or("")
            .contains("invalid type")
    );
    let problem = assert_problem(
        send(r#"{"name": "Acme", "is_admin": true}"#, "application/json")
            .await
            .expect("request"),
        400,
    )
    .await;
    assert_eq!(
        problem["errors"][0]["field"], "is_admin",
        "unknown fields are named"
    );
    assert_problem(
        send(r#"{}"#, "application/json").await.expect("request"),
        400,
    )
    .await;
    // A struct's fields as an array are not an object.
    let problem = assert_problem(
        send(r#"["Acme"]"#, "application/json")
            .await
            .expect("request"),
        400,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "body");
    assert_problem(
        send(r#"{"name": "Acme"}"#, "text/plain")
            .await
            .expect("request"),
        415,
    )
    .await;
    // Semantically invalid: an empty name.
    let problem = assert_problem(
        send(r#"{"name": "   "}"#, "application/json")
            .await
            .expect("request"),
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "name");

    let list = body(app.get(path, &app.admin_token).await).await;
    assert_eq!(
        list["items"].as_array().map(Vec::len),
        Some(0),
        "nothing was created"
    );
}

#[tokio::test]
async fn oversized_bodies_are_413_problems() {
    let app = TestApp::spawn().await;
    let huge = format!(r#"{{"name": "{}"}}"#, "a".repeat(1024 * 1024 + 10));
    let res = app
        .request(
            Method::POST,
            "/api/v1/organizations",
            Some(&app.admin_token),
        )
        .header("content-type", "application/json")
        .body(huge.clone())
        .send()
        .await
        .expect("request");
    assert_problem(res, 413).await;
    let res = app
        .request(Method::POST, "/api/v1/auth/token", None)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=password&username={}",
            "a".repeat(1024 * 1024 + 10)
        ))
        .send()
        .await
        .expect("request");
    assert_problem(res, 413).await;
}

#[tokio::test]
async fn bad_parameters_are_400_problems() {
    let app = TestApp::spawn().await;
    let token = app.admin_token.clone();
    for path in [
        "/api/v1/organizations?limit=0",
        "/api/v1/organizations?limit=501",
        "/api/v1/organizations?limit=abc",
        "/api/v1/organizations?cursor=%%%",
        "/api/v1/organizations?cursor=bm90LWEtY3Vyc29y",
        "/api/v1/organizations?updated_since=yesterday",
        "/api/v1/organizations/not-a-uuid",
    ] {
        let problem = assert_problem(app.get(path, &token).await, 400).await;
        assert!(problem["errors"].is_array(), "{path}: the field is named");
    }
}

#[tokio::test]
async fn lists_paginate_with_cursors_and_link_headers() {
    let app = TestApp::spawn().await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(app.organization(&format!("Org {i}")).await);
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/organizations?limit=2".to_owned();
    loop {
        let res = app.get(&path, &app.admin_token).await;
        assert_eq!(res.status(), StatusCode::OK);
        let link = res
            .headers()
            .get("link")
            .map(|v| v.to_str().expect("link").to_owned());
        let page = body(res).await;
        for item in page["items"].as_array().expect("items") {
            seen.push(item["id"].as_str().expect("id").to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                let link = link.expect("a Link header accompanies next_cursor");
                assert!(
                    link.ends_with("rel=\"next\"") && link.contains(cursor),
                    "{link}"
                );
                path = format!("/api/v1/organizations?limit=2&cursor={cursor}");
            }
            None => {
                assert!(link.is_none());
                break;
            }
        }
    }
    assert_eq!(seen, created, "every item once, oldest first");

    let since = body(app.get("/api/v1/organizations", &app.admin_token).await).await["items"][3]["updated_at"]
        .as_str()
        .expect("time")
        .to_owned();
    let recent = body(
        app.get(
            &format!("/api/v1/organizations?updated_since={since}"),
            &app.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(
        recent["items"].as_array().map(Vec::len),
        Some(2),
        "updated_since filters"
    );
}

#[tokio::test]
async fn idempotency_keys_replay_the_first_response() {
    let app = TestApp::spawn().await;
    let post = |name: &'static str, key: &'static str| {
        app.request(
            Method::POST,
            "/api/v1/organizations",
            Some(&app.admin_token),
        )
        .header("idempotency-key", key)
        .json(&json!({"name": name}))
        .send()
    };
    let first = post("Acme", "ticket-42").await.expect("request");
    assert_eq!(first.status(), StatusCode::CREATED);
    let location = first.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let first = body(first).await;
    let again = post("Acme", "ticket-42").await.expect("request");
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(
        again.headers()["location"].to_str().expect("location"),
        location
    );
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(body(again).await, first, "the same body is replayed");

    let problem = assert_problem(post("Other", "ticket-42").await.expect("request"), 422).await;
    assert_eq!(problem["type"], "urn:annexa:problem:idempotency-key-reuse");

    let list = body(app.get("/api/v1/organizations", &app.admin_token).await).await;
    assert_eq!(
        list["items"].as_array().map(Vec::len),
        Some(1),
        "created once"
    );

    // A key is per principal: another platform admin with the same key creates its own.
    let other = app.user("second-admin@example.com", true).await;
    let res = app
        .request(Method::POST, "/api/v1/organizations", Some(&other.token))
        .header("idempotency-key", "ticket-42")
        .json(&json!({"name": "Acme"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_ne!(body(res).await["id"], first["id"]);
}

#[tokio::test]
async fn etags_and_if_match_guard_updates() {
    let app = TestApp::spawn().await;
    let org = app.organization("Acme").await;
    let path = format!("/api/v1/organizations/{org}");
    let res = app.get(&path, &app.admin_token).await;
    let etag = res.headers()["etag"].to_str().expect("etag").to_owned();
    assert_eq!(etag, "\"1\"");
    assert_eq!(body(res).await["version"], 1);

    let res = app
        .request(Method::PATCH, &path, Some(&app.admin_token))
        .header("if-match", "\"7\"")
        .json(&json!({"name": "Acme AI"}))
        .send()
        .await
        .expect("request");
    assert_problem(res, 412).await;

    let res = app
        .request(Method::PATCH, &path, Some(&app.admin_token))
        .header("if-match", etag.as_str())
        .json(&json!({"name": "Acme AI"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let updated = body(res).await;
    assert_eq!(
        (updated["name"].as_str(), updated["version"].as_i64()),
        (Some("Acme AI"), Some(2))
    );

    // The stale tag no longer matches.
    let res = app
        .request(Method::PATCH, &path, Some(&app.admin_token))
        .header("if-match", etag.as_str())
        .json(&json!({"name": "Acme again"}))
        .send()
        .await
        .expect("request");
    assert_problem(res, 412).await;
}

#[tokio::test]
async fn mutations_write_audit_events_with_changes() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let app = TestApp::spawn().await;
    let org = app.organization("Acme").await;
    let res = app
        .request(
            Method::PATCH,
            &format!("/api/v1/organizations/{org}"),
            Some(&app.admin_token),
        )
        .header("x-request-id", "req-audit-1")
        .json(&json!({"name": "Acme AI"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    let events = entity::audit_event::Entity::find()
        .filter(entity::audit_event::Column::OrganizationId.eq(org.as_str()))
        .order_by_asc(entity::audit_event::Column::Id)
        .all(&app.state.db)
        .await
        .expect("query");
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["organization.created", "organization.updated"]);
    let update = &events[1];
    assert_eq!(update.actor, format!("user:{}", app.admin_id));
    assert_eq!(update.request_id.as_deref(), Some("req-audit-1"));
    let changes: serde_json::Value = serde_json::from_str(&update.changes).expect("json");
    assert_eq!(changes, json!({"name": ["Acme", "Acme AI"]}));
}

#[test]
fn the_cli_rejects_bad_configuration_in_one_line() {
    let exe = env!("CARGO_BIN_EXE_annexa");
    for (var, value) in [
        ("ANNEXA_BIND", "not-an-address"),
        ("ANNEXA_DATABASE_URL", "mysql://localhost/annexa"),
        ("ANNEXA_LOG_FORMAT", "xml"),
        ("ANNEXA_JWT_SECRET", "too-short"),
    ] {
        let out = std::process::Command::new(exe)
            .arg("serve")
            .env(var, value)
            .output()
            .expect("run annexa");
        assert!(!out.status.success(), "{var}={value} must fail");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(
            stderr.starts_with("annexa: configuration error:"),
            "{stderr}"
        );
    }
}

#[test]
fn the_cli_creates_users_and_prints_the_spec() {
    let exe = env!("CARGO_BIN_EXE_annexa");
    let dir = std::env::temp_dir().join(format!("annexa-cli-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}/cli.db", dir.display());
    let run = |args: &[&str]| {
        std::process::Command::new(exe)
            .args(args)
            .env("ANNEXA_DATABASE_URL", &url)
            .env("RUST_LOG", "error")
            .output()
            .expect("run annexa")
    };
    let out = run(&["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&[
        "user",
        "create",
        "--email",
        "Ops@Example.com",
        "--password",
        "long enough password",
        "--platform-admin",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("created user "));
    let out = run(&[
        "user",
        "create",
        "--email",
        "ops@example.com",
        "--password",
        "long enough password",
    ]);
    assert!(!out.status.success(), "a duplicate email fails");
    let out = run(&[
        "user",
        "create",
        "--email",
        "x@example.com",
        "--password",
        "short",
    ]);
    assert!(!out.status.success(), "a short password fails");
    let out = run(&["openapi"]);
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(printed, annexa::api::openapi_json());
    std::fs::remove_dir_all(&dir).ok();
}
