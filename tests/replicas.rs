//! The two-replica test: two server processes (replica A and replica B, each with its own
//! `ANNEXA_WORKER_ID`) on one fresh PostgreSQL database, requests spread across both. An
//! idempotent create replayed on the other replica, `If-Match` across replicas, one scheduled
//! snapshot per period, each webhook event delivered once, a removed member refused on both at
//! once (docs/operations.md, "Replicas"). Without `ANNEXA_TEST_DATABASE_URL` pointing at
//! PostgreSQL it says that it needs PostgreSQL and passes.

// Tests may panic on broken expectations: that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    net::TcpListener,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter,
};
use serde_json::{Value, json};

const ADMIN_EMAIL: &str = "replicas@annexa.test";
const ADMIN_PASSWORD: &str = "replicas test password";
const MEMBER_EMAIL: &str = "member@annexa.test";
const MEMBER_PASSWORD: &str = "member test password";
const JWT_SECRET: &str = "replica-test-secret-replica-test-secret-01";
/// The scheduled snapshot period (`ANNEXA_SNAPSHOT_INTERVAL`, in seconds).
const SNAPSHOT_SECONDS: u64 = 2;
/// Scheduled snapshot periods to see before counting them.
const SNAPSHOT_PERIODS: usize = 3;
/// Findings created for the webhook check, alternating replicas.
const FINDINGS: usize = 40;
/// Concurrent writers creating them.
const WRITERS: usize = 4;
const FRAMEWORK: &str = "iso27001-2022";

/// A fresh PostgreSQL database for this run, dropped afterwards.
struct Db {
    url: String,
    admin_url: String,
    name: String,
}

impl Db {
    async fn create(admin_url: String) -> Self {
        let name = format!("annexa_replicas_{}", uuid::Uuid::now_v7().simple());
        let conn = Database::connect(&admin_url).await.expect("connect");
        conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create database");
        conn.close().await.ok();
        let mut url = url::Url::parse(&admin_url).expect("URL");
        url.set_path(&format!("/{name}"));
        Self {
            url: url.to_string(),
            admin_url,
            name,
        }
    }

    async fn remove(self) {
        if let Ok(conn) = Database::connect(&self.admin_url).await {
            let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            conn.execute_unprepared(&drop).await.ok();
        }
    }
}

/// A server process, killed when dropped (a failed assertion leaves no server behind).
struct Server(Child);

impl Server {
    fn start(db_url: &str, port: u16, worker_id: &str) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_annexa"))
            .arg("serve")
            .env("ANNEXA_DATABASE_URL", db_url)
            .env("ANNEXA_BIND", format!("127.0.0.1:{port}"))
            .env("ANNEXA_WORKER_ID", worker_id)
            .env("ANNEXA_JWT_SECRET", JWT_SECRET)
            .env("ANNEXA_BOOTSTRAP_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("ANNEXA_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("ANNEXA_SNAPSHOT_INTERVAL", format!("{SNAPSHOT_SECONDS}s"))
            .env("ANNEXA_WEBHOOK_ALLOW_PRIVATE", "true")
            .env("ANNEXA_WEBHOOK_POLL_INTERVAL", "200ms")
            .env("ANNEXA_RATE_LIMIT_PER_MINUTE", "0")
            .env("ANNEXA_TOKEN_RATE_LIMIT_PER_MINUTE", "0")
            .env("ANNEXA_WORKERS", "2")
            .env("ANNEXA_DB_POOL_SIZE", "5")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server starts");
        Self(child)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One replica as the test sees it: its name and base URL.
#[derive(Clone)]
struct Replica {
    name: &'static str,
    base: String,
}

impl Replica {
    fn new(name: &'static str, port: u16) -> Self {
        Self {
            name,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    async fn wait_ready(&self, client: &Client) {
        for _ in 0..600 {
            if let Ok(res) = client.get(format!("{}/readyz", self.base)).send().await
                && res.status() == StatusCode::OK
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("replica {} did not become ready", self.name);
    }

    async fn login(&self, client: &Client, email: &str, password: &str) -> String {
        let res = client
            .post(self.url("/auth/token"))
            .form(&[
                ("grant_type", "password"),
                ("username", email),
                ("password", password),
            ])
            .send()
            .await
            .expect("token request");
        assert_eq!(res.status(), StatusCode::OK, "login of {email}");
        let tokens: Value = res.json().await.expect("tokens");
        tokens["access_token"].as_str().expect("token").to_owned()
    }
}

async fn send(request: RequestBuilder) -> Response {
    request.send().await.expect("the replica answers")
}

async fn json_of(res: Response) -> Value {
    res.json().await.expect("a JSON body")
}

fn header(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The webhook receiver: how many times each `webhook-id` arrived, and what each event was.
#[derive(Default)]
struct Receiver {
    received: Mutex<HashMap<String, usize>>,
    /// `webhook-id` → (event type, the resource's id).
    events: Mutex<HashMap<String, (String, String)>>,
}

impl Receiver {
    fn counts(&self) -> HashMap<String, usize> {
        self.received.lock().unwrap().clone()
    }
}

/// Answers 200 at once: nothing fails, so at-least-once delivery should be exactly once.
async fn receive(
    receiver: web::Data<Receiver>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let Some(id) = req
        .headers()
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return HttpResponse::BadRequest().finish();
    };
    let event: Value = serde_json::from_slice(&body).unwrap_or_default();
    let kind = event["type"].as_str().unwrap_or_default().to_owned();
    let subject = event["data"]["id"].as_str().unwrap_or_default().to_owned();
    *receiver
        .received
        .lock()
        .unwrap()
        .entry(id.clone())
        .or_default() += 1;
    receiver.events.lock().unwrap().insert(id, (kind, subject));
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

/// What every check shares: the replicas, the admin's token, the organization, the database.
struct World {
    client: Client,
    a: Replica,
    b: Replica,
    token: String,
    org: String,
    conn: DatabaseConnection,
}

impl World {
    fn findings_path(&self) -> String {
        format!("/organizations/{}/findings", self.org)
    }

    fn new_finding(title: &str) -> Value {
        json!({"title": title, "type": "observation", "source": "internal_audit"})
    }

    async fn findings_titled(&self, title: &str) -> u64 {
        entity::finding::Entity::find()
            .filter(entity::finding::Column::OrganizationId.eq(self.org.as_str()))
            .filter(entity::finding::Column::Title.eq(title))
            .count(&self.conn)
            .await
            .expect("count findings")
    }

    /// A create with an `Idempotency-Key` on one replica: status, replayed header, body.
    async fn create_with_key(
        &self,
        on: &Replica,
        key: &str,
        title: &str,
    ) -> (StatusCode, bool, Value) {
        let res = send(
            self.client
                .post(on.url(&self.findings_path()))
                .bearer_auth(&self.token)
                .header("Idempotency-Key", key)
                .json(&Self::new_finding(title)),
        )
        .await;
        let status = res.status();
        let replayed = header(&res, "idempotent-replayed").as_deref() == Some("true");
        (status, replayed, json_of(res).await)
    }
}

/// Check 1: a create sent to A with an `Idempotency-Key`, then replayed to B, gets the same
/// answer and makes one row; the same key sent to both at once makes one row too, every 201
/// naming the same finding.
async fn idempotent_create_replayed_on_the_other_replica(w: &World) {
    let title = "replicas: idempotent create";
    let (first, first_replayed, created) = w.create_with_key(&w.a, "replicas-1", title).await;
    assert_eq!(first, StatusCode::CREATED, "{created}");
    assert!(!first_replayed);
    let (again, replayed, body) = w.create_with_key(&w.b, "replicas-1", title).await;
    assert_eq!(again, StatusCode::CREATED, "the replay on B: {body}");
    assert!(replayed, "B marks its answer idempotent-replayed");
    assert_eq!(body, created, "B replays A's answer");
    assert_eq!(w.findings_titled(title).await, 1);

    let raced = "replicas: idempotent race";
    let (on_a, on_b) = tokio::join!(
        w.create_with_key(&w.a, "replicas-race", raced),
        w.create_with_key(&w.b, "replicas-race", raced)
    );
    let winners: HashSet<String> = [&on_a, &on_b]
        .iter()
        .map(|(status, _, body)| match *status {
            StatusCode::CREATED => body["id"].as_str().unwrap().to_owned(),
            StatusCode::CONFLICT => {
                assert_eq!(body["type"], "urn:annexa:problem:idempotency-key-in-use");
                String::new()
            }
            other => panic!("a racing create answered {other}: {body}"),
        })
        .filter(|id| !id.is_empty())
        .collect();
    assert_eq!(winners.len(), 1, "both racing creates name one finding");
    assert_eq!(w.findings_titled(raced).await, 1);
}

/// Check 2: `If-Match` across replicas. The `ETag` read on A updates on B; A then shows the
/// new version and refuses the old `ETag` with 412.
async fn if_match_across_replicas(w: &World) {
    let (_, _, created) = w
        .create_with_key(&w.a, "replicas-2", "replicas: if-match")
        .await;
    let item = format!("{}/{}", w.findings_path(), created["id"].as_str().unwrap());
    let read = send(w.client.get(w.a.url(&item)).bearer_auth(&w.token)).await;
    assert_eq!(read.status(), StatusCode::OK);
    let etag = header(&read, "etag").expect("an ETag from A");

    let patch = |on: &Replica, etag: &str, title: &str| {
        w.client
            .patch(on.url(&item))
            .bearer_auth(&w.token)
            .header("If-Match", etag)
            .json(&json!({"title": title}))
    };
    let on_b = send(patch(&w.b, &etag, "replicas: changed on B")).await;
    assert_eq!(on_b.status(), StatusCode::OK, "B accepts A's ETag");
    let new_etag = header(&on_b, "etag").expect("an ETag from B");
    assert_ne!(new_etag, etag);

    let reread = send(w.client.get(w.a.url(&item)).bearer_auth(&w.token)).await;
    assert_eq!(header(&reread, "etag"), Some(new_etag), "A sees B's change");
    assert_eq!(json_of(reread).await["title"], "replicas: changed on B");

    let stale = send(patch(&w.a, &etag, "replicas: stale on A")).await;
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
}

/// Creates `FINDINGS` findings, `WRITERS` at a time, alternating replicas: their ids.
async fn create_findings(w: &World) -> Vec<String> {
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let client = w.client.clone();
        let token = w.token.clone();
        let urls = [w.a.url(&w.findings_path()), w.b.url(&w.findings_path())];
        writers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in (writer..FINDINGS).step_by(WRITERS) {
                let res = send(
                    client
                        .post(&urls[n % 2])
                        .bearer_auth(&token)
                        .json(&World::new_finding(&format!("replicas: webhook {n}"))),
                )
                .await;
                assert_eq!(res.status(), StatusCode::CREATED);
                ids.push(json_of(res).await["id"].as_str().unwrap().to_owned());
            }
            ids
        }));
    }
    let mut ids = Vec::new();
    for writer in writers {
        ids.extend(writer.await.expect("writer"));
    }
    ids
}

/// The `webhook-id`s the database queued for the endpoint.
async fn queued_events(w: &World, endpoint: &str) -> HashSet<String> {
    entity::webhook_delivery::Entity::find()
        .filter(entity::webhook_delivery::Column::EndpointId.eq(endpoint))
        .all(&w.conn)
        .await
        .expect("deliveries")
        .into_iter()
        .map(|d| d.event_id)
        .collect()
}

/// Check 4: each webhook event is delivered once with both workers running. Every queued event
/// (the findings created and updated above and `FINDINGS` more, alternating replicas) arrives,
/// none twice. Returns the figures printed at the end.
async fn each_event_delivered_once(
    w: &World,
    receiver: &Receiver,
    endpoint: &str,
) -> (usize, usize, usize, usize) {
    let created = create_findings(w).await;
    let queued = queued_events(w, endpoint).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let counts = receiver.counts();
        if queued.iter().all(|id| counts.contains_key(id)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Several poll intervals more: a duplicate sent by the other worker would arrive by then.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let counts = receiver.counts();
    let missing: Vec<&String> = queued
        .iter()
        .filter(|id| !counts.contains_key(*id))
        .collect();
    let twice: Vec<(&String, &usize)> = counts.iter().filter(|(_, n)| **n > 1).collect();
    let unknown: Vec<&String> = counts.keys().filter(|id| !queued.contains(*id)).collect();
    let announced: HashSet<String> = receiver
        .events
        .lock()
        .unwrap()
        .values()
        .filter(|(kind, _)| kind == "finding.created")
        .map(|(_, id)| id.clone())
        .collect();
    let unannounced = created.iter().filter(|id| !announced.contains(*id)).count();
    let deliveries = counts.values().sum();
    assert!(missing.is_empty(), "events never delivered: {missing:?}");
    assert!(
        twice.is_empty(),
        "events delivered more than once: {twice:?}"
    );
    assert!(unknown.is_empty(), "events nobody queued: {unknown:?}");
    assert_eq!(
        unannounced, 0,
        "findings without their finding.created event"
    );
    (queued.len(), deliveries, twice.len(), missing.len())
}

/// Check 5: a removed member is refused on both replicas at once. Their token works on A and
/// B; an admin removes them on A; the very next request with it is refused on A and on B.
async fn removed_member_refused_on_both(w: &World) {
    let user = send(
        w.client
            .post(w.b.url("/users"))
            .bearer_auth(&w.token)
            .json(&json!({"email": MEMBER_EMAIL, "password": MEMBER_PASSWORD})),
    )
    .await;
    assert_eq!(user.status(), StatusCode::CREATED);
    let user_id = json_of(user).await["id"].as_str().unwrap().to_owned();
    let added = send(
        w.client
            .post(w.b.url(&format!("/organizations/{}/members", w.org)))
            .bearer_auth(&w.token)
            .json(&json!({"user_id": user_id, "role": "editor"})),
    )
    .await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let member = w.a.login(&w.client, MEMBER_EMAIL, MEMBER_PASSWORD).await;
    let findings = |on: &Replica| {
        w.client
            .get(on.url(&w.findings_path()))
            .bearer_auth(&member)
    };
    for on in [&w.a, &w.b] {
        let res = send(findings(on)).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "the member reads on {}",
            on.name
        );
    }

    let removed = send(
        w.client
            .delete(w.a.url(&format!("/organizations/{}/members/{user_id}", w.org)))
            .bearer_auth(&w.token),
    )
    .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let (on_a, on_b) = tokio::join!(send(findings(&w.a)), send(findings(&w.b)));
    for (on, res) in [(&w.a, on_a), (&w.b, on_b)] {
        assert!(
            matches!(res.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "the removed member on {} got {}",
            on.name,
            res.status()
        );
    }
}

/// Check 3: one scheduled snapshot per period per framework with both replicas running. Waits
/// for `SNAPSHOT_PERIODS` periods with a snapshot and finds none twice. Returns the snapshots
/// stored and the periods they cover.
async fn one_snapshot_per_period(w: &World) -> (usize, usize) {
    let deadline = Instant::now() + Duration::from_secs(SNAPSHOT_SECONDS * 10);
    loop {
        let snapshots = entity::readiness_snapshot::Entity::find()
            .filter(entity::readiness_snapshot::Column::OrganizationId.eq(w.org.as_str()))
            .filter(entity::readiness_snapshot::Column::Trigger.eq("scheduled"))
            .all(&w.conn)
            .await
            .expect("snapshots");
        let mut per_period: BTreeMap<(String, String), usize> = BTreeMap::new();
        for snapshot in &snapshots {
            let period = snapshot
                .period
                .clone()
                .expect("a scheduled snapshot's period");
            *per_period
                .entry((snapshot.framework_key.clone(), period))
                .or_default() += 1;
        }
        let twice: Vec<_> = per_period.iter().filter(|(_, n)| **n > 1).collect();
        assert!(
            twice.is_empty(),
            "periods with more than one snapshot: {twice:?}"
        );
        assert!(
            per_period
                .keys()
                .all(|(framework, _)| framework == FRAMEWORK)
        );
        if per_period.len() >= SNAPSHOT_PERIODS {
            // The history API (on either replica) shows the same snapshots.
            let path = format!(
                "/organizations/{}/readiness/{FRAMEWORK}/history?limit=500",
                w.org
            );
            let history =
                json_of(send(w.client.get(w.b.url(&path)).bearer_auth(&w.token)).await).await;
            let listed = history["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter(|s| s["trigger"] == "scheduled")
                .count();
            assert!(
                listed >= snapshots.len(),
                "the history lists the stored snapshots"
            );
            return (snapshots.len(), per_period.len());
        }
        assert!(
            Instant::now() < deadline,
            "only {} snapshot periods after {} s",
            per_period.len(),
            SNAPSHOT_SECONDS * 10
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_database_agree() {
    let admin_url = match std::env::var("ANNEXA_TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => url,
        _ => {
            println!(
                "replicas test skipped: it needs PostgreSQL (set ANNEXA_TEST_DATABASE_URL=postgres://…)"
            );
            return;
        }
    };
    let db = Db::create(admin_url).await;
    // The checks run in their own task so that the database is dropped even when one fails
    // (the servers are killed as the failing task unwinds).
    let outcome = tokio::spawn(run(db.url.clone())).await;
    db.remove().await;
    if let Err(failed) = outcome {
        std::panic::resume_unwind(failed.into_panic());
    }
}

/// Starts both replicas on the database, sets up the organization and runs the five checks.
async fn run(db_url: String) {
    let started = Instant::now();
    let client = Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let (receiver, hook_url) = start_receiver();

    // Both start at once on the fresh database: migrations and bootstrap race too.
    let (port_a, port_b) = (free_port(), free_port());
    let _server_a = Server::start(&db_url, port_a, "replica-a");
    let _server_b = Server::start(&db_url, port_b, "replica-b");
    let (a, b) = (Replica::new("A", port_a), Replica::new("B", port_b));
    tokio::join!(a.wait_ready(&client), b.wait_ready(&client));

    let token = a.login(&client, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let org = send(
        client
            .post(b.url("/organizations"))
            .bearer_auth(&token)
            .json(&json!({"name": "Replicas test"})),
    )
    .await;
    assert_eq!(org.status(), StatusCode::CREATED);
    let org = json_of(org).await["id"].as_str().unwrap().to_owned();
    let adopted = send(
        client
            .post(a.url(&format!("/organizations/{org}/frameworks")))
            .bearer_auth(&token)
            .json(&json!({"framework": FRAMEWORK})),
    )
    .await;
    assert_eq!(adopted.status(), StatusCode::CREATED);
    let hook = send(
        client
            .post(b.url(&format!("/organizations/{org}/webhooks")))
            .bearer_auth(&token)
            .json(&json!({"url": hook_url, "events": ["finding.created", "finding.updated"]})),
    )
    .await;
    assert_eq!(hook.status(), StatusCode::CREATED);
    let endpoint = json_of(hook).await["id"].as_str().unwrap().to_owned();
    let conn = Database::connect(&db_url).await.expect("connect");
    let world = World {
        client,
        a,
        b,
        token,
        org,
        conn,
    };

    idempotent_create_replayed_on_the_other_replica(&world).await;
    if_match_across_replicas(&world).await;
    let (events, deliveries, duplicates, undelivered) =
        each_event_delivered_once(&world, &receiver, &endpoint).await;
    removed_member_refused_on_both(&world).await;
    let (snapshots, periods) = one_snapshot_per_period(&world).await;

    println!(
        "replicas test on PostgreSQL: webhooks: {events} events, {deliveries} deliveries, \
         {duplicates} duplicates, {undelivered} undelivered; snapshots: {snapshots} scheduled \
         in {periods} periods of {SNAPSHOT_SECONDS} s (one per period); {:.1} s",
        started.elapsed().as_secs_f64()
    );
    world.conn.close().await.ok();
}
