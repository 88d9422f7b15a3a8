//! The CycloneDX import at scale: a generated ML-BOM of 5,000 components (1,250 models, each
//! trained on three of 3,750 datasets, from 10 suppliers) imported on SQLite, then imported
//! again unchanged, then with every model retrained; each with its time and statements, and
//! the process's peak RSS (server and client share the process). Results:
//! bench/bom-import-results.md.
//!
//! `cargo bench --bench bom_import` (`BOM_COMPONENTS` changes the size).

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use annexa::{config::Settings, startup::Application};
use serde_json::{Value, json};

type Error = Box<dyn std::error::Error>;

const EMAIL: &str = "bench@annexa.test";
const PASSWORD: &str = "bench password 123";

/// The BOM: a quarter models, the rest datasets; `run` changes every model's version and hash.
fn generated_bom(components: usize, run: u32) -> Value {
    let models = components / 4;
    let datasets = components - models;
    let mut list = Vec::with_capacity(components);
    for d in 0..datasets {
        list.push(json!({
            "type": "data", "bom-ref": format!("data-{d}"), "name": format!("dataset {d}"),
            "version": "2026-11",
            "data": [{"type": "dataset", "classification": if d % 3 == 0 { "confidential" } else { "internal" },
                      "sensitiveData": if d % 3 == 0 { json!(["email addresses"]) } else { json!([]) }}]
        }));
    }
    for m in 0..models {
        let refs: Vec<Value> = (0..3)
            .map(|k| json!({"ref": format!("data-{}", (m * 3 + k) % datasets)}))
            .collect();
        list.push(json!({
            "type": "machine-learning-model", "bom-ref": format!("model-{m}"), "name": format!("model {m}"),
            "version": format!("1.{run}.0"),
            "supplier": {"name": format!("Supplier {}", m % 10)},
            "purl": format!("pkg:huggingface/bench/model-{m}@1.{run}.0"),
            "hashes": [{"alg": "SHA-256", "content": format!("{:064x}", (m as u128) * 1_000 + run as u128)}],
            "externalReferences": [{"type": "model-card", "url": format!("https://models.example/{m}/card")}],
            "modelCard": {"modelParameters": {"task": "classification", "datasets": refs}}
        }));
    }
    json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6",
        "serialNumber": "urn:uuid:5f0c6d1e-8a4b-4c2d-9e7f-0a1b2c3d4e5f", "version": run,
        "metadata": {"timestamp": "2026-12-04T00:00:00Z"},
        "components": list,
    })
}

/// The process's peak resident set (`VmHWM`), in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

async fn run(url: &str, components: usize) -> Result<(), Error> {
    let mut settings = Settings::with_database(url);
    settings.bootstrap_admin_email = Some(EMAIL.into());
    settings.bootstrap_admin_password = Some(PASSWORD.into());
    settings.workers = Some(1);
    settings.rate_limit_per_minute = 0;
    settings.webhook_worker = false;
    let app = Application::build(settings).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let queries: Arc<AtomicU64> = app.state().queries.clone();
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
    let org: Value = client
        .post(format!("{base}/api/v1/organizations"))
        .bearer_auth(&token)
        .json(&json!({"name": "Bench"}))
        .send()
        .await?
        .json()
        .await?;
    let org_id = org["id"].as_str().ok_or("no organization id")?;
    println!(
        "components: {components}; peak RSS before: {:.1} MiB",
        peak_rss_mib()
    );
    println!("| import | HTTP | created | updated | unchanged | time | statements | peak RSS |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (label, run, dry_run) in [
        ("first (dry run)", 1, true),
        ("first", 1, false),
        ("same BOM again", 1, false),
        ("every model retrained", 2, false),
    ] {
        let body = serde_json::to_vec(&generated_bom(components, run))?;
        let before = queries.load(Ordering::Relaxed);
        let started = Instant::now();
        let res = client
            .post(format!(
                "{base}/api/v1/organizations/{org_id}/assets/import?dry_run={dry_run}"
            ))
            .bearer_auth(&token)
            .header("content-type", "application/vnd.cyclonedx+json")
            .body(body.clone())
            .send()
            .await?;
        let status = res.status();
        let report: Value = res.json().await?;
        let elapsed = started.elapsed();
        let statements = queries.load(Ordering::Relaxed) - before;
        println!(
            "| {label} ({:.1} MiB) | {status} | {} | {} | {} | {:.2} s | {statements} | {:.1} MiB |",
            body.len() as f64 / 1_048_576.0,
            report["created"]["count"],
            report["updated"]["count"],
            report["unchanged"]["count"],
            elapsed.as_secs_f64(),
            peak_rss_mib(),
        );
    }
    let started = Instant::now();
    let export = client
        .get(format!("{base}/api/v1/organizations/{org_id}/assets"))
        .bearer_auth(&token)
        .header("accept", "application/vnd.cyclonedx+json")
        .send()
        .await?
        .bytes()
        .await?;
    println!(
        "export: {:.1} MiB in {:.2} s; peak RSS {:.1} MiB",
        export.len() as f64 / 1_048_576.0,
        started.elapsed().as_secs_f64(),
        peak_rss_mib()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let components = std::env::var("BOM_COMPONENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5_000);
    let id = uuid::Uuid::now_v7().simple().to_string();
    let path = std::env::temp_dir().join(format!("annexa-bom-import-{id}.db"));
    let result = run(&format!("sqlite://{}", path.display()), components).await;
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        std::fs::remove_file(p).ok();
    }
    result
}
