//! Webhooks (see docs/webhooks.md) against a real receiver on loopback: signatures checked with the
//! Standard Webhooks reference library, retries, `Retry-After`, 410, redelivery, rotation,
//! rollback, delivery-time address checks, two workers sharing one queue and a restarted worker
//! resuming its own deliveries.

use std::{
    collections::{HashSet, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, http::StatusCode, web};
use annexa::{
    config::RetrySchedule,
    domain::finding::{FindingSource, FindingType},
    domain::principal::{Principal, Subject},
    domain::role::Role,
    service::{findings, webhook_worker::Worker},
    store::db,
};
use reqwest::Method;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::{
    ISO_42001, NewAsset, NewEvidence, NewFinding, TestApp, assert_problem, body, id_of, ids,
};

/// What the receiver answers.
#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
        }
    }
}

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    headers: http::HeaderMap,
    body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("the webhook body is JSON")
    }

    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// Checks the signature with the Standard Webhooks reference implementation.
    fn verifies_with(&self, secret: &str) -> bool {
        standardwebhooks::Webhook::new(secret)
            .expect("secret")
            .verify(self.body.as_bytes(), &self.headers)
            .is_ok()
    }
}

/// A webhook receiver on loopback that records requests and answers from a script.
struct Receiver {
    url: String,
    received: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Reply>,
}

async fn receive(
    receiver: web::Data<Receiver>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let mut headers = http::HeaderMap::new();
    for (name, value) in req.headers() {
        headers.append(
            http::HeaderName::from_bytes(name.as_str().as_bytes()).expect("name"),
            http::HeaderValue::from_bytes(value.as_bytes()).expect("value"),
        );
    }
    receiver.received.lock().unwrap().push(Received {
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let reply = receiver
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| receiver.default.lock().unwrap().clone());
    let mut response = HttpResponse::build(StatusCode::from_u16(reply.status).expect("status"));
    for (name, value) in reply.headers {
        response.insert_header((name, value));
    }
    response.body("received")
}

impl Receiver {
    async fn start() -> Arc<Receiver> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let data = web::Data::new(Receiver {
            url: format!("http://127.0.0.1:{port}/hooks/annexa"),
            received: Mutex::default(),
            script: Mutex::default(),
            default: Mutex::new(Reply::status(200)),
        });
        let shared = data.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        tokio::spawn(server);
        data.into_inner()
    }

    fn answer(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.lock().unwrap().extend(replies);
    }

    fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to 20 s) until `n` requests arrived.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..400 {
            if self.count() >= n {
                return self.all();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} webhook requests, got {}", self.count());
    }
}

/// An app whose workers poll often, retry fast and may reach loopback.
async fn spawn_app() -> TestApp {
    TestApp::spawn_with(|s| {
        s.webhook_allow_private = true;
        s.webhook_poll_interval = Duration::from_millis(100);
        s.webhook_retry_schedule =
            RetrySchedule(vec![Duration::from_millis(300), Duration::from_secs(3600)]);
    })
    .await
}

/// Raises a major nonconformity as the platform admin; its id.
async fn new_finding(app: &TestApp, org: &str, title: &str) -> String {
    let finding = NewFinding::default()
        .titled(title)
        .of_type("major_nonconformity");
    id_of(&app.new_finding(org, &app.admin_token, finding).await)
}

/// The bootstrap admin as a principal, for calling the service layer directly.
fn admin_principal(app: &TestApp) -> Principal {
    Principal {
        subject: Subject::User {
            id: app.admin_id.clone(),
            email: crate::helpers::ADMIN_EMAIL.to_owned(),
            name: "Admin".to_owned(),
            is_platform_admin: true,
        },
        jti: "test".to_owned(),
        request_id: None,
        org_access: None,
    }
}

/// A finding to raise through the service layer.
fn finding_input(title: &str) -> findings::NewFinding {
    findings::NewFinding {
        title: title.to_owned(),
        description: None,
        finding_type: FindingType::Observation,
        source: FindingSource::InternalAudit,
        control_ids: Vec::new(),
        owner: None,
        due_date: None,
        root_cause: None,
        corrective_action: None,
        external_ref: None,
    }
}

async fn deliveries(app: &TestApp, org: &str, webhook: &str) -> Vec<Value> {
    let res = app
        .get(
            &format!("/api/v1/organizations/{org}/webhooks/{webhook}/deliveries?limit=500"),
            &app.admin_token,
        )
        .await;
    assert_eq!(res.status(), 200);
    body(res).await["items"].as_array().expect("items").clone()
}

/// Waits until every delivery of the endpoint is out of `pending`.
async fn settled(app: &TestApp, org: &str, webhook: &str) -> Vec<Value> {
    for _ in 0..400 {
        let items = deliveries(app, org, webhook).await;
        if !items.is_empty() && items.iter().all(|d| d["status"] != "pending") {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "deliveries still pending: {:?}",
        deliveries(app, org, webhook).await
    );
}

#[tokio::test]
async fn endpoints_that_are_not_public_https_or_name_no_known_event_are_refused() {
    let app = TestApp::spawn().await;
    let org = app.organization("Hooks").await;
    let base = format!("/api/v1/organizations/{org}/webhooks");
    // Without the local-setup switch: https only, and never loopback, private or link-local.
    for (url, why) in [
        ("http://hooks.example.com/annexa", "https"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://[::1]:8443/hook", "loopback"),
        ("https://10.20.30.40/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::ffff:192.168.1.1]/hook", "private"),
        ("https://localhost/hook", "resolves to"),
        ("ftp://hooks.example.com/", "https"),
        ("https://user:secret@hooks.example.com/", "credentials"),
    ] {
        let res = app
            .post(
                &base,
                &app.admin_token,
                &json!({"url": url, "events": ["finding.created"]}),
            )
            .await;
        let problem = assert_problem(res, 422).await;
        assert_eq!(problem["errors"][0]["field"], "url", "{url}");
        let detail = problem["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(detail.contains(why), "{url}: {detail}");
    }
    for (events, status) in [(json!([]), 422), (json!(["finding.deleted"]), 400)] {
        let res = app
            .post(
                &base,
                &app.admin_token,
                &json!({"url": "https://hooks.example.com/", "events": events}),
            )
            .await;
        assert_problem(res, status).await;
    }
    assert_eq!(
        entity::webhook_endpoint::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        0,
        "nothing was stored"
    );
}

/// An app that may reach loopback, an organization and an endpoint registered on it:
/// (organization, the webhooks collection, the endpoint's id, its secret).
async fn an_endpoint(app: &TestApp) -> (String, String, String, String) {
    let org = app.organization("Hooks").await;
    let base = format!("/api/v1/organizations/{org}/webhooks");
    let (id, secret) = app
        .new_webhook(&org, "http://127.0.0.1:9/hook", &["finding.created"])
        .await;
    (org, base, id, secret)
}

#[tokio::test]
async fn registering_an_endpoint_shows_its_secret_once() {
    let app = spawn_app().await;
    let org = app.organization("Hooks").await;
    let base = format!("/api/v1/organizations/{org}/webhooks");
    let res = app
        .post(
            &base,
            &app.admin_token,
            &json!({"url": "http://127.0.0.1:9/hook", "events": ["finding.created", "finding.created", "control.updated"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let created = body(res).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(location.ends_with(&format!("{base}/{id}")));
    let secret = created["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    assert_eq!(
        created["events"],
        json!(["control.updated", "finding.created"]),
        "sorted, each once"
    );
    assert_eq!(created["enabled"], true);

    let res = app.get(&format!("{base}/{id}"), &app.admin_token).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let fetched = body(res).await;
    assert!(fetched.get("secret").is_none());
    let listed = app.get_json(&base, &app.admin_token).await;
    assert_eq!(ids(&listed), [id]);
    assert!(listed["items"][0].get("secret").is_none());
}

#[tokio::test]
async fn only_the_organizations_admins_see_its_endpoints() {
    let app = spawn_app().await;
    let (org, base, id, _) = an_endpoint(&app).await;
    let editor = app.member(&org, Role::Editor).await;
    assert_problem(app.get(&base, &editor.token).await, 403).await;
    let other = app.organization("Other").await;
    let outsider = app.member(&other, Role::Admin).await;
    assert_problem(app.get(&format!("{base}/{id}"), &outsider.token).await, 404).await;
    assert_problem(
        app.get(
            &format!("/api/v1/organizations/{other}/webhooks/{id}"),
            &outsider.token,
        )
        .await,
        404,
    )
    .await;
}

#[tokio::test]
async fn endpoint_updates_honour_if_match_and_null_clears_the_description() {
    let app = spawn_app().await;
    let (_, base, id, _) = an_endpoint(&app).await;
    let path = format!("{base}/{id}");
    let update = |tag: &'static str, change: Value| {
        app.request(Method::PATCH, &path, Some(&app.admin_token))
            .header("if-match", tag)
            .json(&change)
            .send()
    };
    let res = update("\"7\"", json!({"enabled": false})).await.unwrap();
    assert_problem(res, 412).await;
    let res = update(
        "\"1\"",
        json!({"enabled": false, "description": null, "events": ["evidence.expired"]}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let updated = body(res).await;
    assert_eq!(updated["enabled"], false);
    assert_eq!(updated["disabled_reason"], "disabled by an admin");
    assert_eq!(updated["description"], Value::Null);
    assert_eq!(updated["events"], json!(["evidence.expired"]));
    assert_eq!(updated["version"], 2);
    let res = app
        .patch(&path, &app.admin_token, &json!({"url": "gopher://x"}))
        .await;
    assert_problem(res, 422).await;
}

#[tokio::test]
async fn a_deleted_endpoint_is_gone_and_the_audit_trail_holds_no_secret() {
    let app = spawn_app().await;
    let (org, base, id, secret) = an_endpoint(&app).await;
    let path = format!("{base}/{id}");
    let res = app
        .patch(&path, &app.admin_token, &json!({"enabled": false}))
        .await;
    assert_eq!(res.status(), 200);
    let res = app.delete(&path, &app.admin_token).await;
    assert_eq!(res.status(), 204);
    assert_problem(app.get(&path, &app.admin_token).await, 404).await;
    let audit = app
        .get_json(
            &format!("/api/v1/organizations/{org}/audit-events?entity_type=webhook"),
            &app.admin_token,
        )
        .await;
    assert_eq!(
        app.audit_actions(&org, "entity_type=webhook", &app.admin_token)
            .await,
        ["webhook.created", "webhook.updated", "webhook.deleted"]
    );
    assert!(
        !audit.to_string().contains(&secret),
        "the audit trail never holds a secret"
    );
}

#[tokio::test]
async fn events_are_delivered_signed_per_standard_webhooks() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let org = app.organization("Signed").await;
    let (webhook, secret) = app
        .new_webhook(
            &org,
            &receiver.url,
            &[
                "finding.created",
                "finding.updated",
                "finding.status_changed",
                "control.updated",
                "evidence.created",
                "evidence.reviewed",
            ],
        )
        .await;
    app.adopt_framework(&org, ISO_42001).await;
    let finding = new_finding(&app, &org, "Model cards missing").await;
    let path = format!("/api/v1/organizations/{org}/findings/{finding}");
    let res = app
        .patch(
            &path,
            &app.admin_token,
            &json!({"owner": "ml-lead@example.com"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .patch(&path, &app.admin_token, &json!({"status": "in_progress"}))
        .await;
    assert_eq!(res.status(), 200);
    let controls = body(
        app.get(
            &format!("/api/v1/organizations/{org}/controls?limit=1"),
            &app.admin_token,
        )
        .await,
    )
    .await;
    let control = controls["items"][0]["id"].as_str().unwrap().to_owned();
    let res = app
        .patch(
            &format!("/api/v1/organizations/{org}/controls/{control}"),
            &app.admin_token,
            &json!({"owner": "ciso@example.com"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let evidence = app
        .new_evidence(
            &org,
            &app.admin_token,
            NewEvidence::default()
                .titled("Training data inventory")
                .with("kind", json!("document")),
        )
        .await;
    let auditor = app.member(&org, Role::Auditor).await;
    app.review(&org, &id_of(&evidence), &auditor.token, "accepted")
        .await;

    let received = receiver.wait_for(6).await;
    let mut types = Vec::new();
    for request in &received {
        assert!(
            request.verifies_with(&secret),
            "signature of {}",
            request.body
        );
        assert!(!request.verifies_with("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
        assert_eq!(request.header("content-type"), "application/json");
        assert!(request.header("webhook-id").starts_with("msg_"));
        let payload = request.json();
        assert!(payload["timestamp"].is_string());
        types.push(payload["type"].as_str().unwrap().to_owned());
    }
    types.sort();
    assert_eq!(
        types,
        [
            "control.updated",
            "evidence.created",
            "evidence.reviewed",
            "finding.created",
            "finding.status_changed",
            "finding.updated",
        ]
    );
    // The data is the resource as the API shows it, at the time of the change.
    let created = received
        .iter()
        .map(Received::json)
        .find(|p| p["type"] == "finding.created")
        .unwrap();
    assert_eq!(created["data"]["id"], finding);
    assert_eq!(created["data"]["status"], "open");
    assert_eq!(created["data"]["type"], "major_nonconformity");
    let changed = received
        .iter()
        .map(Received::json)
        .find(|p| p["type"] == "finding.status_changed")
        .unwrap();
    assert_eq!(changed["data"]["status"], "in_progress");
    let reviewed = received
        .iter()
        .map(Received::json)
        .find(|p| p["type"] == "evidence.reviewed")
        .unwrap();
    assert_eq!(reviewed["data"]["review_status"], "accepted");

    let log = settled(&app, &org, &webhook).await;
    assert_eq!(log.len(), 6);
    for delivery in &log {
        assert_eq!(delivery["status"], "succeeded");
        assert_eq!(delivery["attempt_count"], 1);
        assert_eq!(delivery["webhook_id"], webhook);
        assert_eq!(delivery["attempts"][0]["status_code"], 200);
        assert_eq!(delivery["attempts"][0]["response_excerpt"], "received");
        assert_eq!(delivery["next_attempt_at"], Value::Null);
    }
    // Nothing else was sent: no subscription, no event.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.count(), 6);
}

#[tokio::test]
async fn failures_are_retried_with_backoff_and_retry_after_is_honoured() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    receiver.answer([
        Reply::status(500),
        Reply {
            status: 503,
            headers: vec![("retry-after", "1".to_owned())],
        },
    ]);
    let org = app.organization("Retries").await;
    let (webhook, secret) = app
        .new_webhook(&org, &receiver.url, &["finding.created"])
        .await;
    new_finding(&app, &org, "Flaky receiver").await;
    let received = receiver.wait_for(3).await;
    let ids: HashSet<String> = received.iter().map(|r| r.header("webhook-id")).collect();
    assert_eq!(ids.len(), 1, "every attempt carries the same webhook-id");
    assert!(received.iter().all(|r| r.verifies_with(&secret)));
    let log = settled(&app, &org, &webhook).await;
    assert_eq!(log.len(), 1);
    let delivery = &log[0];
    assert_eq!(delivery["status"], "succeeded");
    assert_eq!(delivery["attempt_count"], 3);
    let attempts = delivery["attempts"].as_array().unwrap();
    let codes: Vec<i64> = attempts
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [500, 503, 200]);
    assert_eq!(attempts[0]["error"], "the endpoint answered 500");
    // The second retry was scheduled by Retry-After (1 s), not by the schedule's hour.
    let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    let waited = at(&attempts[1]["next_attempt_at"]) - at(&attempts[1]["started_at"]);
    assert!(
        waited >= chrono::Duration::milliseconds(900) && waited < chrono::Duration::seconds(60),
        "{waited:?}"
    );
    // The first retry followed the schedule (300 ms ± 20 %).
    let waited = at(&attempts[0]["next_attempt_at"]) - at(&attempts[0]["started_at"]);
    assert!(waited < chrono::Duration::seconds(5), "{waited:?}");

    // Retries stop when the schedule is exhausted: 1 attempt + 2 retries, then failed.
    receiver.answer([Reply::status(500), Reply::status(500)]);
    *receiver.default.lock().unwrap() = Reply::status(500);
    let app2 = TestApp::spawn_with(|s| {
        s.webhook_allow_private = true;
        s.webhook_poll_interval = Duration::from_millis(100);
        s.webhook_retry_schedule =
            RetrySchedule(vec![Duration::from_millis(100), Duration::from_millis(100)]);
    })
    .await;
    let org2 = app2.organization("Exhausted").await;
    let (webhook2, _) = app2
        .new_webhook(&org2, &receiver.url, &["finding.created"])
        .await;
    new_finding(&app2, &org2, "Never accepted").await;
    let log = settled(&app2, &org2, &webhook2).await;
    assert_eq!(log[0]["status"], "failed");
    assert_eq!(log[0]["attempt_count"], 3);
    assert_eq!(log[0]["next_attempt_at"], Value::Null);
    let failed = body(
        app2.get(
            &format!("/api/v1/organizations/{org2}/webhooks/{webhook2}/deliveries?status=failed"),
            &app2.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(failed["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn gone_disables_the_endpoint_and_redelivery_resends_the_same_message() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    receiver.answer([Reply::status(410)]);
    let org = app.organization("Gone").await;
    let (webhook, secret) = app
        .new_webhook(&org, &receiver.url, &["finding.created"])
        .await;
    new_finding(&app, &org, "First").await;
    let first = receiver.wait_for(1).await[0].clone();
    let log = settled(&app, &org, &webhook).await;
    assert_eq!(log[0]["status"], "failed");
    assert_eq!(log[0]["attempt_count"], 1);
    assert_eq!(log[0]["last_status_code"], 410);
    let endpoint_path = format!("/api/v1/organizations/{org}/webhooks/{webhook}");
    let endpoint = body(app.get(&endpoint_path, &app.admin_token).await).await;
    assert_eq!(endpoint["enabled"], false);
    assert!(
        endpoint["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("410"),
        "{endpoint}"
    );
    // A disabled endpoint gets nothing new, and cannot be redelivered to.
    new_finding(&app, &org, "Second").await;
    let redeliver = format!(
        "{endpoint_path}/deliveries/{}/redeliver",
        log[0]["id"].as_str().unwrap()
    );
    let res = app
        .request(Method::POST, &redeliver, Some(&app.admin_token))
        .send()
        .await
        .unwrap();
    assert_problem(res, 409).await;
    let res = app
        .patch(&endpoint_path, &app.admin_token, &json!({"enabled": true}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(body(res).await["disabled_reason"], Value::Null);
    let res = app
        .request(Method::POST, &redeliver, Some(&app.admin_token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let queued = body(res).await;
    assert_eq!(queued["status"], "pending");
    assert_eq!(queued["event_id"], log[0]["event_id"]);
    let again = receiver.wait_for(2).await[1].clone();
    assert_eq!(again.header("webhook-id"), first.header("webhook-id"));
    assert_eq!(again.body, first.body);
    assert!(again.verifies_with(&secret));
    let log = settled(&app, &org, &webhook).await;
    assert_eq!(log.len(), 2);
    assert_eq!(log[1]["status"], "succeeded");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.count(),
        2,
        "the event raised while disabled was not queued"
    );
    // Unknown deliveries are 404.
    let res = app
        .request(
            Method::POST,
            &format!(
                "{endpoint_path}/deliveries/{}/redeliver",
                uuid::Uuid::now_v7()
            ),
            Some(&app.admin_token),
        )
        .send()
        .await
        .unwrap();
    assert_problem(res, 404).await;
}

#[tokio::test]
async fn a_rotated_secret_keeps_signing_during_the_overlap() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let org = app.organization("Rotation").await;
    let (webhook, old) = app
        .new_webhook(&org, &receiver.url, &["finding.created"])
        .await;
    let rotate = format!("/api/v1/organizations/{org}/webhooks/{webhook}/rotate-secret");
    let res = app
        .request(Method::POST, &rotate, Some(&app.admin_token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let rotated = body(res).await;
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(rotated["previous_secret_expires_at"].is_string());
    new_finding(&app, &org, "During the overlap").await;
    let during = receiver.wait_for(1).await[0].clone();
    assert_eq!(during.header("webhook-signature").split(' ').count(), 2);
    assert!(during.verifies_with(&new) && during.verifies_with(&old));

    let res = app
        .post(&rotate, &app.admin_token, &json!({"overlap_seconds": 0}))
        .await;
    assert_eq!(res.status(), 200);
    let newest = body(res).await;
    assert_eq!(newest["previous_secret_expires_at"], Value::Null);
    let newest = newest["secret"].as_str().unwrap().to_owned();
    new_finding(&app, &org, "After the overlap").await;
    let after = receiver.wait_for(2).await[1].clone();
    assert_eq!(after.header("webhook-signature").split(' ').count(), 1);
    assert!(after.verifies_with(&newest));
    assert!(!after.verifies_with(&new) && !after.verifies_with(&old));

    let res = app
        .post(
            &rotate,
            &app.admin_token,
            &json!({"overlap_seconds": 9_999_999}),
        )
        .await;
    assert_problem(res, 422).await;
    let res = app
        .post(&rotate, &app.admin_token, &json!({"overlap": 5}))
        .await;
    assert_problem(res, 400).await;
}

#[tokio::test]
async fn a_rolled_back_change_emits_nothing() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let org = app.organization("Rollback").await;
    app.new_webhook(&org, &receiver.url, &["finding.created"])
        .await;
    let admin = admin_principal(&app);
    // The finding and its event are written, then the transaction fails and rolls back.
    let txn = db::begin_write(&app.state.db).await.unwrap();
    findings::create(&txn, &admin, &org, finding_input("Rolled back"))
        .await
        .unwrap();
    assert_eq!(
        entity::webhook_event::Entity::find()
            .count(&txn)
            .await
            .unwrap(),
        1
    );
    txn.rollback().await.unwrap();
    assert_eq!(
        entity::webhook_event::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        0
    );
    // A request that fails emits nothing either.
    let res = app
        .post(&format!("/api/v1/organizations/{org}/findings"),
            &app.admin_token,
            &json!({"title": "Bad", "type": "observation", "source": "internal_audit", "control_ids": [uuid::Uuid::now_v7()]}),
        )
        .await;
    assert_problem(res, 422).await;
    // A committed one is delivered, and it is the only request the receiver ever sees.
    let txn = db::begin_write(&app.state.db).await.unwrap();
    findings::create(&txn, &admin, &org, finding_input("Committed"))
        .await
        .unwrap();
    txn.commit().await.unwrap();
    let received = receiver.wait_for(1).await;
    assert_eq!(received[0].json()["data"]["title"], "Committed");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.count(), 1);
}

#[tokio::test]
async fn addresses_are_checked_again_at_delivery_time() {
    // Registered while it resolved elsewhere, the host now points at loopback: a DNS change
    // the registration check could not see. The worker refuses to connect.
    let app = TestApp::spawn_with(|s| {
        s.webhook_poll_interval = Duration::from_millis(100);
        s.webhook_retry_schedule = RetrySchedule(Vec::new());
    })
    .await;
    let receiver = Receiver::start().await;
    let org = app.organization("Rebinding").await;
    let port = receiver
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let now = db::now();
    for (id, url) in [
        (
            db::new_id(),
            format!("https://localhost:{port}/hooks/annexa"),
        ),
        (
            db::new_id(),
            format!("https://127.0.0.1:{port}/hooks/annexa"),
        ),
        (db::new_id(), format!("http://hooks.example.com:{port}/")),
    ] {
        entity::webhook_endpoint::Entity::insert(entity::webhook_endpoint::ActiveModel {
            id: sea_orm::Set(id),
            organization_id: sea_orm::Set(org.clone()),
            url: sea_orm::Set(url),
            description: sea_orm::Set(None),
            events: sea_orm::Set("[\"finding.created\"]".to_owned()),
            enabled: sea_orm::Set(true),
            disabled_reason: sea_orm::Set(None),
            secret: sea_orm::Set("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned()),
            previous_secret: sea_orm::Set(None),
            previous_secret_expires_at: sea_orm::Set(None),
            version: sea_orm::Set(1),
            created_at: sea_orm::Set(now),
            updated_at: sea_orm::Set(now),
        })
        .exec_without_returning(&app.state.db)
        .await
        .unwrap();
    }
    new_finding(&app, &org, "Never leaves").await;
    let mut errors = Vec::new();
    for _ in 0..200 {
        let rows = entity::webhook_delivery::Entity::find()
            .all(&app.state.db)
            .await
            .unwrap();
        if rows.len() == 3 && rows.iter().all(|d| d.status == "failed") {
            errors = rows
                .into_iter()
                .map(|d| d.last_error.unwrap_or_default())
                .collect();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(errors.len(), 3, "deliveries did not fail");
    errors.sort();
    assert!(
        errors.iter().any(|e| e.contains("`localhost` resolves to")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("loopback, private or link-local address (127.0.0.1)")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("must use https")),
        "{errors:?}"
    );
    assert_eq!(receiver.count(), 0);
}

#[tokio::test]
async fn readiness_changes_fire_only_when_a_score_or_level_moves() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let org = app.organization("Scores").await;
    app.adopt_framework(&org, ISO_42001).await;
    app.new_webhook(
        &org,
        &receiver.url,
        &["readiness.score_changed", "control.updated"],
    )
    .await;
    let controls = body(
        app.get(
            &format!("/api/v1/organizations/{org}/controls?limit=2"),
            &app.admin_token,
        )
        .await,
    )
    .await;
    let control = |i: usize| {
        format!(
            "/api/v1/organizations/{org}/controls/{}",
            controls["items"][i]["id"].as_str().unwrap()
        )
    };
    // Notes do not move the score: a control event, no readiness event.
    let res = app
        .patch(&control(0), &app.admin_token, &json!({"notes": "reviewed"}))
        .await;
    assert_eq!(res.status(), 200);
    receiver.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let types = |all: Vec<Received>| -> Vec<String> {
        all.iter()
            .map(|r| r.json()["type"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(types(receiver.all()), ["control.updated"]);
    // Implementing a control moves it.
    let res = app
        .patch(
            &control(1),
            &app.admin_token,
            &json!({"status": "implemented"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let all = receiver.wait_for(3).await;
    let readiness: Vec<Value> = all
        .iter()
        .map(Received::json)
        .filter(|p| p["type"] == "readiness.score_changed")
        .collect();
    assert_eq!(readiness.len(), 1, "{:?}", types(all.clone()));
    let now = body(
        app.get(
            &format!("/api/v1/organizations/{org}/readiness/iso42001-2023"),
            &app.admin_token,
        )
        .await,
    )
    .await;
    let data = &readiness[0]["data"];
    assert_eq!(data["framework"], "iso42001-2023");
    assert_eq!(data["previous_score"], 0.0);
    assert_eq!(data["score"], now["score"]);
    assert!(data["score"].as_f64().unwrap() > 0.0);
    assert_eq!(data["level"], now["level"]);
    assert_eq!(data["formula_version"], 2);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(receiver.count(), 3, "{:?}", types(receiver.all()));
}

#[tokio::test]
async fn expired_evidence_is_announced_once() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let org = app.organization("Expiry").await;
    app.new_webhook(&org, &receiver.url, &["evidence.expired"])
        .await;
    // Let the first sweep set its starting mark.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let valid_until = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
    let evidence = app
        .new_evidence(
            &org,
            &app.admin_token,
            NewEvidence::default()
                .titled("Pen test report")
                .valid_until(&valid_until),
        )
        .await;
    let evidence = id_of(&evidence);
    let received = receiver.wait_for(1).await;
    let payload = received[0].json();
    assert_eq!(payload["type"], "evidence.expired");
    assert_eq!(payload["data"]["id"], evidence);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(receiver.count(), 1);
}

#[tokio::test]
async fn two_workers_deliver_each_of_500_events_exactly_once() {
    let app = TestApp::spawn_with(|s| {
        s.webhook_allow_private = true;
        s.webhook_worker = false;
        s.webhook_poll_interval = Duration::from_millis(50);
    })
    .await;
    let receiver = Receiver::start().await;
    let org = app.organization("Throughput").await;
    let (webhook, _) = app
        .new_webhook(&org, &receiver.url, &["finding.created"])
        .await;
    let admin = admin_principal(&app);
    for batch in 0..5 {
        let txn = db::begin_write(&app.state.db).await.unwrap();
        for i in 0..100 {
            findings::create(
                &txn,
                &admin,
                &org,
                finding_input(&format!("Finding {batch}-{i}")),
            )
            .await
            .unwrap();
        }
        txn.commit().await.unwrap();
    }
    assert_eq!(receiver.count(), 0, "no worker runs in the app");
    // Two workers, each with its own connection pool, as two replicas would have.
    let mut handles = Vec::new();
    for _ in 0..2 {
        let pool = db::connect(&app.state.settings).await.unwrap();
        let worker = Arc::new(
            Worker::new(pool, app.state.settings.clone(), app.state.cache.clone()).unwrap(),
        );
        handles.push(tokio::spawn(worker.run()));
    }
    receiver.wait_for(500).await;
    let log = settled(&app, &org, &webhook).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for handle in handles {
        handle.abort();
    }
    let received = receiver.all();
    let ids: HashSet<String> = received.iter().map(|r| r.header("webhook-id")).collect();
    assert_eq!(received.len(), 500, "duplicates were sent");
    assert_eq!(ids.len(), 500);
    assert_eq!(log.len(), 500);
    assert!(
        log.iter()
            .all(|d| d["status"] == "succeeded" && d["attempt_count"] == 1)
    );
    let attempts = entity::webhook_attempt::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(attempts, 500);
    let workers: HashSet<String> = entity::webhook_attempt::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.worker)
        .collect();
    assert_eq!(workers.len(), 2, "both workers took part");
}

#[tokio::test]
async fn finished_deliveries_are_purged_after_the_retention_period() {
    use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};
    let app = TestApp::spawn_with(|s| {
        s.webhook_allow_private = true;
        s.webhook_poll_interval = Duration::from_millis(100);
    })
    .await;
    let receiver = Receiver::start().await;
    let org = app.organization("Retention").await;
    let (webhook, _) = app
        .new_webhook(&org, &receiver.url, &["finding.created"])
        .await;
    new_finding(&app, &org, "Old").await;
    settled(&app, &org, &webhook).await;
    let long_ago = db::now() - chrono::Duration::days(31);
    entity::webhook_delivery::Entity::update_many()
        .col_expr(
            entity::webhook_delivery::Column::UpdatedAt,
            Expr::value(long_ago),
        )
        .exec(&app.state.db)
        .await
        .unwrap();
    entity::webhook_event::Entity::update_many()
        .col_expr(
            entity::webhook_event::Column::CreatedAt,
            Expr::value(long_ago),
        )
        .exec(&app.state.db)
        .await
        .unwrap();
    // A recent one stays.
    new_finding(&app, &org, "Recent").await;
    receiver.wait_for(2).await;
    settled(&app, &org, &webhook).await;
    let purged = annexa::service::webhooks::purge_finished(&app.state.db)
        .await
        .unwrap();
    assert_eq!(purged, 1);
    let left = deliveries(&app, &org, &webhook).await;
    assert_eq!(left.len(), 1);
    assert_eq!(
        entity::webhook_event::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        entity::webhook_attempt::Entity::find()
            .filter(entity::webhook_attempt::Column::DeliveryId.eq(left[0]["id"].as_str().unwrap()))
            .count(&app.state.db)
            .await
            .unwrap(),
        entity::webhook_attempt::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        "the purged delivery's attempts went with it"
    );
}

/// A worker on its own connection pool under the identity `id`, as another process would run.
async fn worker_named(app: &TestApp, id: &str) -> Arc<Worker> {
    let pool = db::connect(&app.state.settings).await.unwrap();
    let worker = Worker::new(pool, app.state.settings.clone(), app.state.cache.clone()).unwrap();
    Arc::new(worker.identified_as(id))
}

#[tokio::test]
async fn a_restarted_worker_resumes_its_own_in_flight_deliveries_at_once() {
    let app = TestApp::spawn_with(|s| {
        s.webhook_allow_private = true;
        s.webhook_worker = false;
        s.webhook_poll_interval = Duration::from_millis(50);
    })
    .await;
    let receiver = Receiver::start().await;
    let org = app.organization("Restarted").await;
    let (webhook, _) = app
        .new_webhook(&org, &receiver.url, &["finding.created"])
        .await;
    for i in 0..3 {
        new_finding(&app, &org, &format!("In flight {i}")).await;
    }
    // Worker "w1" claims them under its usual lease, then its process dies before sending.
    let now = db::now();
    let txn = db::begin_write(&app.state.db).await.unwrap();
    let lease = now + chrono::Duration::seconds(70);
    let claimed = annexa::store::webhooks::claim_due(&*txn, "w1", now, lease, 32)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    assert_eq!(claimed.len(), 3);
    // Another worker leaves them to their lease: it is not w1's next incarnation.
    let other = tokio::spawn(worker_named(&app, "w2").await.run());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.count(), 0, "another worker took over a live lease");
    other.abort();
    // w1 restarted: its deliveries go out now, long before the lease would have ended.
    let restarted = tokio::spawn(worker_named(&app, "w1").await.run());
    let received = receiver.wait_for(3).await;
    let log = settled(&app, &org, &webhook).await;
    restarted.abort();
    assert_eq!(received.len(), 3);
    assert!(
        log.iter()
            .all(|d| d["status"] == "succeeded" && d["attempt_count"] == 1),
        "{log:?}"
    );
    let workers: HashSet<String> = entity::webhook_attempt::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.worker)
        .collect();
    assert_eq!(workers, HashSet::from(["w1".to_owned()]));
}

#[tokio::test]
async fn risk_register_changes_that_move_a_score_are_announced() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let org = app.organization("Risky").await;
    app.adopt_framework(&org, ISO_42001).await;
    app.new_webhook(&org, &receiver.url, &["readiness.score_changed"])
        .await;
    let clause = app.control_id(&org, ISO_42001, "6.1.2").await;
    let res = app
        .patch(
            &format!("/api/v1/organizations/{org}/controls/{clause}"),
            &app.admin_token,
            &json!({"status": "implemented"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let score = |r: &Received| r.json()["data"]["score"].as_f64().unwrap_or(f64::NAN);
    let up = score(&receiver.wait_for(1).await[0]);
    // An in-scope asset without a risk assessment holds 6.1.2 back: the score drops.
    let asset = app
        .new_asset(
            &org,
            &app.admin_token,
            NewAsset::default().of_kind("ml_model"),
        )
        .await;
    let down = score(&receiver.wait_for(2).await[1]);
    assert!(down < up, "{down} < {up}");
    // Assessing it gives the score back.
    let today = chrono::Utc::now().date_naive().to_string();
    let res = app
        .post(
            &format!("/api/v1/organizations/{org}/risks"),
            &app.admin_token,
            &json!({"title": "Model theft", "asset_ids": [asset["id"]], "assessed_at": today,
                    "inherent": {"likelihood": 1, "impact": 1}, "treatment": "avoid"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let back = score(&receiver.wait_for(3).await[2]);
    assert_eq!(back, up);
}
