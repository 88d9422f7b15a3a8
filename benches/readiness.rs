//! Readiness latency benchmark: an organization with all three frameworks, 5,000 evidence items
//! and 1,000 findings (seeded through the service layer), then sequential HTTP requests for the
//! readiness report and the summary, on SQLite and on PostgreSQL. Prints median, p99 and mean.
//!
//! `cargo bench --bench readiness` (PostgreSQL from `ANNEXA_BENCH_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`; skipped when unreachable). `BENCH_SCALE=10`
//! multiplies the dataset, `BENCH_REQUESTS` sets the number of measured requests (default 300).

use std::time::{Duration, Instant};

use annexa::{
    config::Settings,
    demo::{SeedSpec, seed_organization},
    startup::Application,
};
use sea_orm::{ConnectionTrait, Database};

struct Stats {
    median: Duration,
    p99: Duration,
    mean: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let n = samples.len().max(1);
    let at = |q: f64| samples[((n as f64 * q).ceil() as usize).clamp(1, n) - 1];
    Stats {
        median: at(0.5),
        p99: at(0.99),
        mean: samples.iter().sum::<Duration>() / n as u32,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn run(
    backend: &str,
    url: &str,
    scale: usize,
    requests: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut settings = Settings::with_database(url);
    settings.bootstrap_admin_email = Some("bench@annexa.test".into());
    settings.bootstrap_admin_password = Some("bench password 123".into());
    let app = Application::build(settings).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());

    let started = Instant::now();
    let seeded = seed_organization(
        &state.db,
        "Bench org",
        &SeedSpec::standard(scale),
        "bench password 123",
        42,
    )
    .await?;
    let seeding = started.elapsed();
    let token = state
        .jwt
        .issue(format!("user:{}", seeded.auditor_user_id))?
        .0;
    let client = reqwest::Client::new();
    let org = seeded.org_id;
    for (name, path) in [
        (
            "GET …/readiness/iso27001-2022",
            format!("/api/v1/organizations/{org}/readiness/iso27001-2022"),
        ),
        (
            "GET …/readiness (3 frameworks)",
            format!("/api/v1/organizations/{org}/readiness"),
        ),
    ] {
        let url = format!("{base}{path}");
        for _ in 0..20 {
            client
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await?
                .error_for_status()?;
        }
        let mut samples = Vec::with_capacity(requests);
        for _ in 0..requests {
            let t = Instant::now();
            let res = client
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await?
                .error_for_status()?;
            res.bytes().await?;
            samples.push(t.elapsed());
        }
        let s = stats(samples);
        println!(
            "| {backend} | {scale}× | {name} | {} | {} | {} | {:.1} s |",
            ms(s.median),
            ms(s.p99),
            ms(s.mean),
            seeding.as_secs_f64()
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scale: usize = std::env::var("BENCH_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let requests: usize = std::env::var("BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    println!(
        "Readiness latency, {requests} sequential requests after 20 warm-up ones; dataset: 3 frameworks (288 controls), {} evidence, {} findings.\n",
        5000 * scale,
        1000 * scale
    );
    println!("| backend | scale | request | median | p99 | mean | seeding |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");

    let dir = std::env::temp_dir().join(format!("annexa-bench-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir)?;
    run(
        "SQLite",
        &format!("sqlite://{}/bench.db", dir.display()),
        scale,
        requests,
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
            let result = run("PostgreSQL", url.as_str(), scale, requests).await;
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
