//! The cost of durable SQLite commits: finding creates through the HTTP API on a SQLite file
//! with `synchronous=FULL` (the default: every commit reaches the disk before it is
//! acknowledged) and with `synchronous=NORMAL`, one writer at a time and eight at once.
//!
//! `cargo bench --bench durability` (release) or `cargo test --bench durability` (debug);
//! results in bench/durability-results.md. Each commit under FULL waits for one fsync of the
//! WAL, so the figures depend on the disk more than on the CPU.

use std::time::{Duration, Instant};

use annexa::{
    config::{Settings, SqliteSynchronous},
    startup::Application,
};
use serde_json::{Value, json};

type Error = Box<dyn std::error::Error + Send + Sync>;

const EMAIL: &str = "bench@annexa.test";
const PASSWORD: &str = "bench password 123";
const SEQUENTIAL: usize = 300;
const WRITERS: usize = 8;
const PER_WRITER: usize = 100;

async fn spawn(
    url: &str,
    mode: SqliteSynchronous,
) -> Result<(String, reqwest::Client, String), Error> {
    let mut settings = Settings::with_database(url);
    settings.bootstrap_admin_email = Some(EMAIL.into());
    settings.bootstrap_admin_password = Some(PASSWORD.into());
    settings.sqlite_synchronous = mode;
    settings.rate_limit_per_minute = 0;
    settings.webhook_worker = false;
    let app = Application::build(settings)
        .await
        .map_err(|e| e.to_string())?;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let tokens: Value = client
        .post(format!("{base}/api/v1/auth/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", EMAIL),
            ("password", PASSWORD),
        ])
        .send()
        .await?
        .json()
        .await?;
    let token = tokens["access_token"]
        .as_str()
        .ok_or("no access token")?
        .to_owned();
    Ok((base, client, token))
}

async fn create(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    i: usize,
) -> Result<Duration, Error> {
    let started = Instant::now();
    let res = client
        .post(url)
        .bearer_auth(token)
        .json(
            &json!({"title": format!("Durable finding {i}"), "type": "observation",
                      "source": "automated_check"}),
        )
        .send()
        .await?;
    if res.status() != reqwest::StatusCode::CREATED {
        return Err(format!("create answered {}", res.status()).into());
    }
    Ok(started.elapsed())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run(mode: SqliteSynchronous, name: &str) -> Result<String, Error> {
    let id = uuid::Uuid::now_v7().simple().to_string();
    let path = std::env::temp_dir().join(format!("annexa-durability-{id}.db"));
    let (base, client, token) = spawn(&format!("sqlite://{}", path.display()), mode).await?;
    let org: Value = client
        .post(format!("{base}/api/v1/organizations"))
        .bearer_auth(&token)
        .json(&json!({"name": "Durable"}))
        .send()
        .await?
        .json()
        .await?;
    let url = format!(
        "{base}/api/v1/organizations/{}/findings",
        org["id"].as_str().ok_or("no organization")?
    );
    // Warm-up: the pool's connections open and the first pages settle.
    for i in 0..20 {
        create(&client, &url, &token, i).await?;
    }
    let mut latencies = Vec::with_capacity(SEQUENTIAL);
    for i in 0..SEQUENTIAL {
        latencies.push(create(&client, &url, &token, i).await?);
    }
    latencies.sort();
    let mean = latencies.iter().sum::<Duration>() / SEQUENTIAL as u32;
    let p50 = latencies[SEQUENTIAL / 2];
    let p95 = latencies[SEQUENTIAL * 95 / 100];

    let started = Instant::now();
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (client, url, token) = (client.clone(), url.clone(), token.clone());
        writers.push(tokio::spawn(async move {
            for i in 0..PER_WRITER {
                create(&client, &url, &token, 10_000 * (w + 1) + i).await?;
            }
            Ok::<(), Error>(())
        }));
    }
    for w in writers {
        w.await??;
    }
    let rate = (WRITERS * PER_WRITER) as f64 / started.elapsed().as_secs_f64();
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        std::fs::remove_file(p).ok();
    }
    Ok(format!(
        "| {name} | {:.2} | {:.2} | {:.2} | {rate:.0} |",
        ms(mean),
        ms(p50),
        ms(p95)
    ))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let full = run(SqliteSynchronous::Full, "FULL (default)").await?;
    let normal = run(SqliteSynchronous::Normal, "NORMAL").await?;
    println!(
        "\nPOST …/findings on a SQLite file: {SEQUENTIAL} one at a time, then {WRITERS} writers × {PER_WRITER}\n"
    );
    println!("| synchronous | mean ms | p50 ms | p95 ms | creates/s, {WRITERS} writers |");
    println!("| --- | --- | --- | --- | --- |");
    println!("{full}\n{normal}");
    Ok(())
}
