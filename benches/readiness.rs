//! Readiness cost benchmark: organizations with all three frameworks and 1×, 10× (and, when
//! asked, 100×) the standard 5,000 evidence items and 1,000 findings, seeded through the service
//! layer, then sequential HTTP requests for the readiness report. Each measured request follows
//! a change to a control (untimed), so the report is computed from the data, not served from the
//! cache; the cached report is measured too. Prints median, p99 and the growth against 1×.
//!
//! `cargo bench --bench readiness`. Environment: `BENCH_SCALES` (`1,10`), `BENCH_BACKENDS`
//! (`sqlite,postgres`), `BENCH_REQUESTS` (100 per scale), `ANNEXA_BENCH_POSTGRES_URL`
//! (`postgres://postgres@127.0.0.1:5432/postgres`; PostgreSQL is skipped when unreachable).

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
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let n = samples.len().max(1);
    let at = |q: f64| samples[((n as f64 * q).ceil() as usize).clamp(1, n) - 1];
    Stats {
        median: at(0.5),
        p99: at(0.99),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// One backend: a server on `url`, then per scale an organization seeded and measured.
async fn run(
    backend: &str,
    url: &str,
    scales: &[usize],
    requests: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut settings = Settings::with_database(url);
    settings.bootstrap_admin_email = Some("bench@annexa.test".into());
    settings.bootstrap_admin_password = Some("bench password 123".into());
    // Nothing else computes reports meanwhile (the worker's readiness watcher would).
    settings.webhook_worker = false;
    // Measured without rate limits (docs/operations.md).
    settings.rate_limit_per_minute = 0;
    let app = Application::build(settings).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let mut base_median = None;
    for (n, &scale) in scales.iter().enumerate() {
        let started = Instant::now();
        let seeded = seed_organization(
            &state.db,
            &format!("Bench org {scale}x"),
            &SeedSpec::standard(scale),
            "bench password 123",
            42 + n as u64,
        )
        .await?;
        let seeding = started.elapsed();
        let token = |user: &str| state.jwt.issue(format!("user:{user}")).map(|t| t.0);
        let (reader, editor) = (
            token(&seeded.auditor_user_id)?,
            token(&seeded.editor_user_id)?,
        );
        let org = &seeded.org_id;
        let report = format!("{base}/api/v1/organizations/{org}/readiness/iso27001-2022");
        let control = format!(
            "{base}/api/v1/organizations/{org}/controls/{}",
            seeded.control_ids.first().ok_or("no control")?
        );
        let mut computed = Vec::with_capacity(requests);
        let mut cached = Vec::with_capacity(requests);
        for i in 0..requests + 5 {
            // A change moves the organization's data version: the next report is computed.
            client
                .patch(&control)
                .bearer_auth(&editor)
                .json(&serde_json::json!({"notes": format!("bench {i}")}))
                .send()
                .await?
                .error_for_status()?;
            for samples in [&mut computed, &mut cached] {
                let t = Instant::now();
                let res = client
                    .get(&report)
                    .bearer_auth(&reader)
                    .send()
                    .await?
                    .error_for_status()?;
                res.bytes().await?;
                if i >= 5 {
                    samples.push(t.elapsed());
                }
            }
        }
        let (computed, cached) = (stats(computed), stats(cached));
        let base = *base_median.get_or_insert(computed.median);
        println!(
            "| {backend} | {scale}× | {} | {} | {} | {} | {} | {:.1}× | {:.1} s |",
            5000 * scale,
            1000 * scale,
            ms(computed.median),
            ms(computed.p99),
            ms(cached.median),
            computed.median.as_secs_f64() / base.as_secs_f64(),
            seeding.as_secs_f64()
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scales: Vec<usize> = std::env::var("BENCH_SCALES")
        .unwrap_or_else(|_| "1,10".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let requests: usize = std::env::var("BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    println!(
        "Readiness report GET …/readiness/iso27001-2022, {requests} sequential requests per scale, \
         each after a change to a control (computed) and once more (cached); 3 frameworks (288 controls).\n"
    );
    println!(
        "| backend | scale | evidence | findings | computed median | computed p99 | cached median | computed vs 1× | seeding |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");

    if backends.contains("sqlite") {
        let dir =
            std::env::temp_dir().join(format!("annexa-bench-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir)?;
        let result = run(
            "SQLite",
            &format!("sqlite://{}/bench.db", dir.display()),
            &scales,
            requests,
        )
        .await;
        std::fs::remove_dir_all(&dir).ok();
        result?;
    }
    if !backends.contains("postgres") {
        return Ok(());
    }
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
            let result = run("PostgreSQL", url.as_str(), &scales, requests).await;
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
