//! Statement counts: how many SQL statements each common operation executes, per backend. The
//! integration tests check only that these stay bounded (the same for 5 or 193 controls, a
//! cached page cheaper than a rendered one); this prints the exact figures, for a reviewer to
//! compare before and after a change.
//!
//! `cargo bench --bench statements`. SQLite always; PostgreSQL too when
//! `ANNEXA_BENCH_POSTGRES_URL` is set (a server URL: a fresh database is created and dropped).

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use annexa::{config::Settings, startup::Application};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

type Error = Box<dyn std::error::Error>;

const EMAIL: &str = "bench@annexa.test";
const PASSWORD: &str = "bench password 123";

struct Bench {
    base: String,
    client: reqwest::Client,
    token: String,
    queries: Arc<AtomicU64>,
}

impl Bench {
    async fn spawn(url: &str) -> Result<Self, Error> {
        let mut settings = Settings::with_database(url);
        settings.bootstrap_admin_email = Some(EMAIL.into());
        settings.bootstrap_admin_password = Some(PASSWORD.into());
        settings.workers = Some(1);
        // Measured without rate limits (docs/operations.md).
        settings.rate_limit_per_minute = 0;
        // Nothing else may run while statements are counted.
        settings.webhook_worker = false;
        settings.webhook_allow_private = true;
        let app = Application::build(settings).await?;
        let base = format!("http://127.0.0.1:{}", app.port());
        let queries = app.state().queries.clone();
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
        Ok(Self {
            base,
            client,
            token,
            queries,
        })
    }

    /// Sends a request and returns the statements it cost and its JSON body.
    async fn count(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u64, Value), Error> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let before = self.queries.load(Ordering::SeqCst);
        let res = request.send().await?;
        let n = self.queries.load(Ordering::SeqCst) - before;
        let status = res.status();
        let text = res.text().await?;
        if !status.is_success() {
            return Err(format!("{path}: {status} {text}").into());
        }
        Ok((n, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    async fn get(&self, path: &str) -> Result<u64, Error> {
        Ok(self.count(reqwest::Method::GET, path, None).await?.0)
    }

    async fn post(&self, path: &str, body: Value) -> Result<(u64, Value), Error> {
        self.count(reqwest::Method::POST, path, Some(body)).await
    }

    async fn patch(&self, path: &str, body: Value) -> Result<u64, Error> {
        Ok(self
            .count(reqwest::Method::PATCH, path, Some(body))
            .await?
            .0)
    }
}

async fn run(backend: &str, url: &str) -> Result<(), Error> {
    let bench = Bench::spawn(url).await?;
    let (_, org) = bench
        .post("/api/v1/organizations", json!({"name": "Acme"}))
        .await?;
    let org = format!(
        "/api/v1/organizations/{}",
        org["id"].as_str().ok_or("no id")?
    );
    let frameworks = format!("{org}/frameworks");
    let mut rows = Vec::new();
    let mut row = |what: &str, n: u64| rows.push((what.to_owned(), n));

    let (n, _) = bench
        .post(&frameworks, json!({"framework": "iso42001-2023"}))
        .await?;
    row("adopt a framework of 70 controls", n);
    let (n, _) = bench
        .post(&frameworks, json!({"framework": "iso27001-2022"}))
        .await?;
    row("adopt a framework of 123 controls", n);

    row(
        "list 5 controls, stats computed",
        bench.get(&format!("{org}/controls?limit=5")).await?,
    );
    row(
        "list 5 controls, stats cached",
        bench
            .get(&format!("{org}/controls?limit=5&status=not_started"))
            .await?,
    );
    let many = format!("{org}/controls?limit=193");
    row("list 193 controls, stats cached", bench.get(&many).await?);
    row(
        "list 193 controls again, page cached",
        bench.get(&many).await?,
    );
    row(
        "SoA of 70 controls",
        bench
            .get(&format!("{frameworks}/iso42001-2023/soa"))
            .await?,
    );
    row(
        "SoA of 123 controls",
        bench
            .get(&format!("{frameworks}/iso27001-2022/soa"))
            .await?,
    );
    let report = format!("{org}/readiness/iso27001-2022");
    row("readiness report, computed", bench.get(&report).await?);
    row("readiness report, cached", bench.get(&report).await?);

    let (_, page) = bench
        .count(
            reqwest::Method::GET,
            &format!("{org}/controls?limit=1"),
            None,
        )
        .await?;
    let control = format!(
        "{org}/controls/{}",
        page["items"][0]["id"].as_str().ok_or("no control")?
    );
    let finding = json!({"title": "Logs are not reviewed", "type": "observation",
                         "source": "internal_audit"});
    row(
        "change a control, no webhook endpoint",
        bench.patch(&control, json!({"notes": "first"})).await?,
    );
    row(
        "raise a finding, no webhook endpoint",
        bench
            .post(&format!("{org}/findings"), finding.clone())
            .await?
            .0,
    );
    bench
        .post(
            &format!("{org}/webhooks"),
            json!({"url": "http://127.0.0.1:9/hook", "events": ["control.updated"]}),
        )
        .await?;
    row(
        "change a control, announced to an endpoint",
        bench.patch(&control, json!({"notes": "second"})).await?,
    );
    row(
        "raise a finding, the endpoint not subscribed",
        bench.post(&format!("{org}/findings"), finding).await?.0,
    );

    // The risk register: the same counts for 2 or 12 risks (the tests check it).
    let (_, asset) = bench
        .post(
            &format!("{org}/assets"),
            json!({"name": "Ranker", "kind": "ml_model"}),
        )
        .await?;
    for (risks, total) in [(2usize, 2usize), (10, 12)] {
        for i in 0..risks {
            let (n, _) = bench
                .post(
                    &format!("{org}/risks"),
                    json!({"title": format!("Risk {i}"), "asset_ids": [asset["id"]],
                           "inherent": {"likelihood": 4, "impact": 4}, "treatment": "modify",
                           "controls": [{"control_id": page["items"][0]["id"], "role": "planned"}]}),
                )
                .await?;
            if i == 0 && total == 2 {
                row("register a risk (an asset, a control)", n);
            }
        }
        row(
            &format!("list {total} risks"),
            bench.get(&format!("{org}/risks?limit=100")).await?,
        );
        row(
            &format!("risk treatment plan of {total} risks"),
            bench.get(&format!("{org}/risk-treatment-plan")).await?,
        );
        row(
            &format!("readiness report with {total} risks, computed"),
            bench.get(&report).await?,
        );
    }

    println!("\n{backend}: statements per request");
    for (what, n) in rows {
        println!("  {what:<48} {n:>3}");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let id = uuid::Uuid::now_v7().simple().to_string();
    let path = std::env::temp_dir().join(format!("annexa-statements-{id}.db"));
    let sqlite = run("sqlite", &format!("sqlite://{}", path.display())).await;
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        std::fs::remove_file(p).ok();
    }
    sqlite?;

    if let Ok(server) = std::env::var("ANNEXA_BENCH_POSTGRES_URL") {
        let name = format!("annexa_statements_{id}");
        let admin = Database::connect(&server).await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await?;
        let mut url = url::Url::parse(&server)?;
        url.set_path(&format!("/{name}"));
        let result = run("postgres", url.as_str()).await;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .ok();
        result?;
    }
    Ok(())
}
