//! Webhook delivery latency: the time from a change (a `POST …/findings` leaving the client) to
//! the signed `finding.created` arriving at a receiver on loopback, on SQLite and PostgreSQL.
//! Sequential: one change at a time, each awaited at the receiver. Burst: many concurrent
//! changes, for delivery throughput under load. Prints median, p99 and mean.
//!
//! `cargo bench --bench webhooks` (PostgreSQL from `ANNEXA_BENCH_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`; skipped when unreachable). `BENCH_EVENTS`
//! sets the number of sequential changes (default 200); the burst sends 5 times as many.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use actix_web::{App, HttpResponse, HttpServer, web};
use annexa::{config::Settings, startup::Application};
use sea_orm::{ColumnTrait, ConnectionTrait, Database, EntityTrait, QueryFilter};
use serde_json::{Value, json};

/// When each change was sent and when its event arrived, by finding title.
#[derive(Default)]
struct Clock {
    sent: Mutex<HashMap<String, Instant>>,
    received: Mutex<HashMap<String, Instant>>,
}

async fn receive(clock: web::Data<Clock>, body: web::Bytes) -> HttpResponse {
    let at = Instant::now();
    if let Ok(payload) = serde_json::from_slice::<Value>(&body)
        && let Some(title) = payload["data"]["title"].as_str()
        && let Ok(mut received) = clock.received.lock()
    {
        received.insert(title.to_owned(), at);
    }
    HttpResponse::NoContent().finish()
}

fn summary(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let n = samples.len().max(1);
    let at = |q: f64| samples[((n as f64 * q).ceil() as usize).clamp(1, n) - 1];
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    format!(
        "{} | {} | {}",
        ms(at(0.5)),
        ms(at(0.99)),
        ms(samples.iter().sum::<Duration>() / n as u32)
    )
}

async fn wait_for(clock: &Clock, count: usize, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if clock.received.lock().map(|r| r.len()).unwrap_or(0) >= count {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    false
}

async fn run(backend: &str, url: &str, events: usize) -> Result<(), Box<dyn std::error::Error>> {
    let mut settings = Settings::with_database(url);
    settings.bootstrap_admin_email = Some("bench@annexa.test".into());
    settings.bootstrap_admin_password = Some("bench password 123".into());
    settings.webhook_allow_private = true;
    // Measured without rate limits (docs/operations.md).
    settings.rate_limit_per_minute = 0;
    let app = Application::build(settings).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());

    let clock = web::Data::new(Clock::default());
    let shared = clock.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let receiver = format!("http://127.0.0.1:{}/hook", listener.local_addr()?.port());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(shared.clone())
            .default_service(web::to(receive))
    })
    .workers(1)
    .listen(listener)?
    .run();
    tokio::spawn(server);

    let admin = entity::user::Entity::find()
        .filter(entity::user::Column::Email.eq("bench@annexa.test"))
        .one(&state.db)
        .await?
        .ok_or("the bootstrap admin is missing")?;
    let token = state.jwt.issue(format!("user:{}", admin.id))?.0;
    let client = reqwest::Client::new();
    let org: Value = client
        .post(format!("{base}/api/v1/organizations"))
        .bearer_auth(&token)
        .json(&json!({"name": "Webhook bench"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let org = org["id"].as_str().ok_or("organization id")?.to_owned();
    client
        .post(format!("{base}/api/v1/organizations/{org}/webhooks"))
        .bearer_auth(&token)
        .json(&json!({"url": receiver, "events": ["finding.created"]}))
        .send()
        .await?
        .error_for_status()?;
    let findings = format!("{base}/api/v1/organizations/{org}/findings");
    let raise = |title: String| {
        let request = client
            .post(&findings)
            .bearer_auth(&token)
            .json(&json!({"title": title, "type": "observation", "source": "internal_audit"}));
        async move { request.send().await?.error_for_status().map(|_| ()) }
    };

    // Sequential: each event awaited before the next change.
    for i in 0..(events + 20) {
        let title = format!("sequential {i}");
        clock
            .sent
            .lock()
            .map_err(|_| "lock")?
            .insert(title.clone(), Instant::now());
        raise(title).await?;
        if !wait_for(&clock, i + 1, Duration::from_secs(30)).await {
            return Err(format!("event {i} did not arrive").into());
        }
    }
    let latencies = |skip_prefix: &str, warmup: usize| -> Vec<Duration> {
        let sent = clock.sent.lock().map(|s| s.clone()).unwrap_or_default();
        let received = clock.received.lock().map(|r| r.clone()).unwrap_or_default();
        sent.iter()
            .filter(|(title, _)| title.starts_with(skip_prefix))
            .filter(|(title, _)| {
                title
                    .rsplit(' ')
                    .next()
                    .and_then(|n| n.parse::<usize>().ok())
                    .is_some_and(|n| n >= warmup)
            })
            .filter_map(|(title, at)| Some(received.get(title)?.duration_since(*at)))
            .collect()
    };
    println!(
        "| {backend} | sequential, {events} changes | {} | — |",
        summary(latencies("sequential", 20))
    );

    // Burst: 8 clients raising findings as fast as they can.
    let burst = events * 5;
    let before = clock.received.lock().map(|r| r.len()).unwrap_or(0);
    let started = Instant::now();
    let per_client = burst / 8;
    let mut tasks = Vec::new();
    for c in 0..8 {
        let client = client.clone();
        let findings = findings.clone();
        let token = token.clone();
        let clock = clock.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_client {
                let title = format!("burst {}", c * per_client + i);
                if let Ok(mut sent) = clock.sent.lock() {
                    sent.insert(title.clone(), Instant::now());
                }
                let res = client
                    .post(&findings)
                    .bearer_auth(&token)
                    .json(
                        &json!({"title": title, "type": "observation", "source": "internal_audit"}),
                    )
                    .send()
                    .await;
                if !res.is_ok_and(|r| r.status().is_success()) {
                    return Err("a burst request failed");
                }
            }
            Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    if !wait_for(&clock, before + per_client * 8, Duration::from_secs(120)).await {
        return Err("burst events did not all arrive".into());
    }
    let elapsed = started.elapsed();
    println!(
        "| {backend} | burst, {} changes from 8 clients | {} | {:.0} events/s |",
        per_client * 8,
        summary(latencies("burst", 0)),
        (per_client * 8) as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let events: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    println!("Webhook delivery latency: change sent → signed event received on loopback.\n");
    println!("| backend | run | median | p99 | mean | delivery rate |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let dir = std::env::temp_dir().join(format!("annexa-bench-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir)?;
    run(
        "SQLite",
        &format!("sqlite://{}/bench.db", dir.display()),
        events,
    )
    .await?;
    std::fs::remove_dir_all(&dir).ok();

    let admin_url = std::env::var("ANNEXA_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    match Database::connect(&admin_url).await {
        Ok(admin) => {
            let name = format!("annexa_bench_{}", uuid::Uuid::now_v7().simple());
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await?;
            let mut url = url::Url::parse(&admin_url)?;
            url.set_path(&format!("/{name}"));
            let result = run("PostgreSQL", url.as_str(), events).await;
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .ok();
            result?;
        }
        Err(err) => println!("\n(PostgreSQL skipped: {err})"),
    }
    Ok(())
}
