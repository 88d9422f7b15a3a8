//! The crash test: the real binary under 16 concurrent writers is killed with SIGKILL and
//! restarted on the same database (a SQLite file, or PostgreSQL when `ANNEXA_TEST_DATABASE_URL`
//! is set); the unanswered creates are retried with their `Idempotency-Key`s. Nothing
//! acknowledged is lost, no retry duplicates, every committed finding has its audit event and
//! its `finding.created` webhook, delivered after the restart (docs/operations.md, "Crashes").

// Tests may panic on broken expectations: that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::{HashMap, HashSet},
    net::TcpListener,
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use reqwest::{Client, StatusCode};
use sea_orm::{ColumnTrait, ConnectionTrait, Database, EntityTrait, QueryFilter};
use serde_json::{Value, json};

const WRITERS: usize = 16;
/// Creates acknowledged before the kill (or the load's time limit, whichever comes first).
const ACKNOWLEDGED_BEFORE_KILL: usize = 200;
const ADMIN_EMAIL: &str = "crash@annexa.test";
const ADMIN_PASSWORD: &str = "crash test password";
const JWT_SECRET: &str = "crash-test-secret-crash-test-secret-0123";
/// The marker in every title this test writes: `crash <writer>-<n>`.
const MARKER: &str = "crash ";

/// The database of this run: a fresh SQLite file or PostgreSQL database, removed afterwards.
struct Db {
    url: String,
    admin_url: Option<String>,
    name: String,
}

impl Db {
    async fn create() -> Self {
        let name = format!("annexa_crash_{}", uuid::Uuid::now_v7().simple());
        match std::env::var("ANNEXA_TEST_DATABASE_URL") {
            Ok(admin_url) if admin_url.starts_with("postgres") => {
                let conn = Database::connect(&admin_url).await.expect("connect");
                conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create database");
                conn.close().await.ok();
                let mut url = url::Url::parse(&admin_url).expect("URL");
                url.set_path(&format!("/{name}"));
                Self {
                    url: url.to_string(),
                    admin_url: Some(admin_url),
                    name,
                }
            }
            _ => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                Self {
                    url: format!("sqlite://{}", path.display()),
                    admin_url: None,
                    name: path.display().to_string(),
                }
            }
        }
    }

    async fn remove(self) {
        match self.admin_url {
            Some(admin_url) => {
                if let Ok(conn) = Database::connect(&admin_url).await {
                    let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
                    conn.execute_unprepared(&drop).await.ok();
                }
            }
            None => {
                for suffix in ["", "-wal", "-shm"] {
                    std::fs::remove_file(format!("{}{suffix}", self.name)).ok();
                }
            }
        }
    }
}

/// The server process, killed when dropped (a failed assertion leaves no server behind).
struct Server(Child);

impl Server {
    fn start(db: &Db, port: u16) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_annexa"))
            .arg("serve")
            .env("ANNEXA_DATABASE_URL", &db.url)
            .env("ANNEXA_BIND", format!("127.0.0.1:{port}"))
            .env("ANNEXA_JWT_SECRET", JWT_SECRET)
            .env("ANNEXA_BOOTSTRAP_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("ANNEXA_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("ANNEXA_WEBHOOK_ALLOW_PRIVATE", "true")
            .env("ANNEXA_WEBHOOK_POLL_INTERVAL", "200ms")
            .env("ANNEXA_RATE_LIMIT_PER_MINUTE", "0")
            .env("ANNEXA_TOKEN_RATE_LIMIT_PER_MINUTE", "0")
            .env("ANNEXA_WORKERS", "2")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server starts");
        Self(child)
    }

    /// SIGKILL: no shutdown, no flush, no finished request.
    fn kill(mut self) {
        self.0.kill().expect("kill -9");
        self.0.wait().ok();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

async fn wait_ready(client: &Client, base: &str) {
    for _ in 0..600 {
        if let Ok(res) = client.get(format!("{base}/readyz")).send().await
            && res.status() == StatusCode::OK
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

async fn login(client: &Client, base: &str) -> String {
    let res = client
        .post(format!("{base}/api/v1/auth/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .expect("token request");
    assert_eq!(res.status(), StatusCode::OK);
    let tokens: Value = res.json().await.expect("tokens");
    tokens["access_token"].as_str().expect("token").to_owned()
}

/// The webhook receiver: the finding ids of the `finding.created` events it got, each request
/// answered after a pause so that deliveries are in flight when the server is killed.
#[derive(Default)]
struct Receiver {
    /// When each finding's event arrived (more than once: delivery is at least once).
    findings: Mutex<HashMap<String, Vec<Instant>>>,
}

async fn receive(
    receiver: web::Data<Receiver>,
    _req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    tokio::time::sleep(Duration::from_millis(300)).await;
    let event: Value = serde_json::from_slice(&body).unwrap_or_default();
    if event["type"] == "finding.created"
        && let Some(id) = event["data"]["id"].as_str()
    {
        receiver
            .findings
            .lock()
            .unwrap()
            .entry(id.to_owned())
            .or_default()
            .push(Instant::now());
    }
    HttpResponse::Ok().finish()
}

fn start_receiver() -> (Arc<Receiver>, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://127.0.0.1:{}/hooks",
        listener.local_addr().unwrap().port()
    );
    let data = web::Data::new(Receiver::default());
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
    (data.into_inner(), url)
}

/// What the writers saw: the keys acknowledged with 201, and those never answered.
#[derive(Default)]
struct Outcomes {
    acknowledged: Mutex<Vec<String>>,
    unanswered: Mutex<Vec<String>>,
}

async fn create(client: &Client, url: &str, token: &str, key: &str) -> reqwest::Result<StatusCode> {
    let res = client
        .post(url)
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&json!({"title": format!("{MARKER}{key}"), "type": "observation", "source": "internal_audit"}))
        .send()
        .await?;
    Ok(res.status())
}

/// One writer: creates findings one after another until the server stops answering.
async fn writer(
    client: Client,
    url: String,
    token: String,
    number: usize,
    outcomes: Arc<Outcomes>,
    acked: Arc<AtomicUsize>,
    killed: Arc<AtomicBool>,
) {
    for n in 0.. {
        let key = format!("{number}-{n}");
        match create(&client, &url, &token, &key).await {
            Ok(StatusCode::CREATED) => {
                outcomes.acknowledged.lock().unwrap().push(key);
                acked.fetch_add(1, Ordering::Relaxed);
            }
            Ok(status) => panic!("create {key} answered {status}"),
            Err(_) => {
                outcomes.unanswered.lock().unwrap().push(key);
                return;
            }
        }
        if killed.load(Ordering::Relaxed) {
            return;
        }
    }
}

/// Every item of a paginated list.
async fn all_items(client: &Client, base: &str, path: &str, token: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut url = format!("{base}{path}{separator}limit=500");
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let page: Value = client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("page");
        items.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}

/// The findings whose `finding.created` delivery a worker had claimed and not finished: those
/// in flight at the kill.
async fn leased_findings(db: &Db) -> Vec<String> {
    use entity::{webhook_delivery, webhook_event};
    let conn = Database::connect(&db.url).await.expect("connect");
    let event_ids: Vec<String> = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::LeaseOwner.is_not_null())
        .filter(webhook_delivery::Column::Status.eq(annexa::domain::webhook::PENDING))
        .all(&conn)
        .await
        .expect("deliveries")
        .into_iter()
        .map(|d| d.event_id)
        .collect();
    let events = webhook_event::Entity::find()
        .filter(webhook_event::Column::Id.is_in(event_ids))
        .all(&conn)
        .await
        .expect("events");
    conn.close().await.ok();
    events
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(&e.payload).ok())
        .filter_map(|payload| payload["data"]["id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_acknowledged_is_lost_or_duplicated_by_a_kill_and_every_event_goes_out() {
    let db = Db::create().await;
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let client = Client::builder()
        .timeout(Duration::from_secs(20))
        .pool_max_idle_per_host(WRITERS)
        .build()
        .unwrap();
    let (receiver, hook_url) = start_receiver();

    let server = Server::start(&db, port);
    wait_ready(&client, &base).await;
    let token = login(&client, &base).await;
    let org: Value = client
        .post(format!("{base}/api/v1/organizations"))
        .bearer_auth(&token)
        .json(&json!({"name": "Crash test"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let org = org["id"].as_str().expect("organization id").to_owned();
    let hook = client
        .post(format!("{base}/api/v1/organizations/{org}/webhooks"))
        .bearer_auth(&token)
        .json(&json!({"url": hook_url, "events": ["finding.created"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(hook.status(), StatusCode::CREATED);

    // 16 writers, killed mid-load.
    let findings_url = format!("{base}/api/v1/organizations/{org}/findings");
    let outcomes = Arc::new(Outcomes::default());
    let acked = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|number| {
            tokio::spawn(writer(
                client.clone(),
                findings_url.clone(),
                token.clone(),
                number,
                outcomes.clone(),
                acked.clone(),
                killed.clone(),
            ))
        })
        .collect();
    let load_started = Instant::now();
    while acked.load(Ordering::Relaxed) < ACKNOWLEDGED_BEFORE_KILL
        && load_started.elapsed() < Duration::from_secs(15)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill();
    killed.store(true, Ordering::Relaxed);
    for handle in writers {
        handle.await.expect("writer");
    }
    let acknowledged: Vec<String> = outcomes.acknowledged.lock().unwrap().clone();
    let unanswered: Vec<String> = outcomes.unanswered.lock().unwrap().clone();
    assert!(
        !acknowledged.is_empty(),
        "nothing was acknowledged before the kill"
    );
    let delivered_before = receiver.findings.lock().unwrap().len();
    let in_flight = leased_findings(&db).await;

    // The restart on the same database and address (so the worker keeps its identity).
    let restarted = Instant::now();
    let server = Server::start(&db, port);
    wait_ready(&client, &base).await;
    let token = login(&client, &base).await;
    for key in &unanswered {
        let status = create(&client, &findings_url, &token, key)
            .await
            .expect("retry");
        assert_eq!(status, StatusCode::CREATED, "the retry of {key}");
    }

    // Every acknowledged or retried create is there exactly once.
    let findings = all_items(
        &client,
        &base,
        &format!("/api/v1/organizations/{org}/findings"),
        &token,
    )
    .await;
    let mut by_title: HashMap<String, usize> = HashMap::new();
    for finding in &findings {
        let title = finding["title"].as_str().unwrap_or_default();
        if let Some(key) = title.strip_prefix(MARKER) {
            *by_title.entry(key.to_owned()).or_default() += 1;
        }
    }
    let lost: Vec<&String> = acknowledged
        .iter()
        .chain(&unanswered)
        .filter(|key| !by_title.contains_key(*key))
        .collect();
    let duplicated: Vec<(&String, &usize)> = by_title.iter().filter(|(_, n)| **n > 1).collect();
    let expected: HashSet<&String> = acknowledged.iter().chain(&unanswered).collect();
    let unexpected: Vec<&String> = by_title.keys().filter(|k| !expected.contains(k)).collect();

    // Every committed finding has its audit event.
    let audited: HashSet<String> = all_items(
        &client,
        &base,
        &format!("/api/v1/organizations/{org}/audit-events?entity_type=finding"),
        &token,
    )
    .await
    .iter()
    .filter(|event| event["action"] == "finding.created")
    .filter_map(|event| event["entity_id"].as_str().map(str::to_owned))
    .collect();
    let finding_ids: Vec<String> = findings
        .iter()
        .filter_map(|f| f["id"].as_str().map(str::to_owned))
        .collect();
    let unaudited = finding_ids
        .iter()
        .filter(|id| !audited.contains(*id))
        .count();

    // Every committed finding's event is delivered, those in flight at the kill included.
    let deadline = Instant::now() + Duration::from_secs(30);
    let undelivered = loop {
        let delivered = receiver.findings.lock().unwrap().clone();
        // Those in flight at the kill must go out again: their first sending was never recorded.
        let resent = |id: &String| {
            delivered
                .get(id)
                .and_then(|at| at.last())
                .is_some_and(|at| *at >= restarted)
        };
        let missing = finding_ids
            .iter()
            .filter(|id| !delivered.contains_key(*id))
            .count()
            + in_flight.iter().filter(|id| !resent(id)).count();
        if missing == 0 || Instant::now() > deadline {
            break missing;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let all_out = restarted.elapsed();
    server.kill();
    let delivered = receiver.findings.lock().unwrap().clone();
    let sent_twice = delivered.values().filter(|at| at.len() > 1).count();
    // When the last of the deliveries in flight at the kill went out again.
    let in_flight_out = in_flight
        .iter()
        .filter_map(|id| delivered.get(id)?.last().copied())
        .map(|at| at.saturating_duration_since(restarted))
        .max()
        .unwrap_or_default();
    println!(
        "crash test on {}: {} acknowledged, {} unanswered and retried, {} lost, {} duplicated, \
         {} unaudited; webhooks: {} delivered before the kill, {} in flight at the kill and out \
         again {:.1} s after the restart, every event out after {:.1} s, {} undelivered, {} sent \
         twice (at least once)",
        if db.admin_url.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        acknowledged.len(),
        unanswered.len(),
        lost.len(),
        duplicated.len(),
        unaudited,
        delivered_before,
        in_flight.len(),
        in_flight_out.as_secs_f64(),
        all_out.as_secs_f64(),
        undelivered,
        sent_twice,
    );
    db.remove().await;
    assert!(
        lost.is_empty(),
        "acknowledged or retried creates lost: {lost:?}"
    );
    assert!(duplicated.is_empty(), "duplicates: {duplicated:?}");
    assert!(
        unexpected.is_empty(),
        "findings nobody asked for: {unexpected:?}"
    );
    assert_eq!(unaudited, 0, "committed findings without their audit event");
    assert_eq!(
        undelivered, 0,
        "committed findings whose event was not delivered"
    );
}
