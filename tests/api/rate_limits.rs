//! Rate limits (docs/operations.md, "Rate limits"): per caller on protected operations, per
//! client address on the token endpoint; 429 problem+json with `Retry-After` and the
//! `RateLimit` / `RateLimit-Policy` headers.

use reqwest::{Method, Response};

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, assert_problem};

fn header(res: &Response, name: &str) -> String {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Asserts a 429 `rate-limited` problem with its headers; the `RateLimit` header.
async fn assert_rate_limited(res: Response, policy: &str) -> String {
    let retry_after: u64 = header(&res, "retry-after")
        .parse()
        .expect("Retry-After seconds");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    assert_eq!(header(&res, "ratelimit-policy"), policy);
    let standing = header(&res, "ratelimit");
    let problem = assert_problem(res, 429).await;
    assert_eq!(problem["type"], "urn:annexa:problem:rate-limited");
    standing
}

#[tokio::test]
async fn a_caller_past_its_quota_is_refused_and_others_are_not() {
    let app = TestApp::spawn_with(|s| s.rate_limit_per_minute = 3).await;
    let other = app.user("other@annexa.test", false).await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let res = app.get("/api/v1/me", &app.admin_token).await;
        assert_eq!(res.status(), 200);
        assert_eq!(header(&res, "ratelimit-policy"), "\"default\";q=3;w=60");
        remaining.push(header(&res, "ratelimit"));
    }
    assert!(
        remaining[0].starts_with("\"default\";r=2;t="),
        "{remaining:?}"
    );
    assert!(
        remaining[2].starts_with("\"default\";r=0;t="),
        "{remaining:?}"
    );
    let refused = app.get("/api/v1/me", &app.admin_token).await;
    let standing = assert_rate_limited(refused, "\"default\";q=3;w=60").await;
    assert!(standing.starts_with("\"default\";r=0;t="), "{standing}");
    // Any protected operation counts against the same caller.
    let refused = app.get("/api/v1/organizations", &app.admin_token).await;
    assert_rate_limited(refused, "\"default\";q=3;w=60").await;
    let res = app.get("/api/v1/me", &other.token).await;
    assert_eq!(res.status(), 200, "another caller has its own quota");
    assert!(header(&res, "ratelimit").starts_with("\"default\";r=2;"));
}

#[tokio::test]
async fn token_requests_are_limited_per_client_address() {
    let app = TestApp::spawn_with(|s| s.token_rate_limit_per_minute = 2).await;
    let login = || {
        app.request(Method::POST, "/api/v1/auth/token", None)
            .form(&[
                ("grant_type", "password"),
                ("username", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ])
            .send()
    };
    for _ in 0..2 {
        let res = login().await.expect("request");
        assert_eq!(res.status(), 200);
        assert_eq!(header(&res, "ratelimit-policy"), "\"token\";q=2;w=60");
    }
    let refused = login().await.expect("request");
    assert_rate_limited(refused, "\"token\";q=2;w=60").await;
}

#[tokio::test]
async fn the_suite_runs_without_limits_and_sends_no_headers() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/me", &app.admin_token).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("ratelimit").is_none());
}
