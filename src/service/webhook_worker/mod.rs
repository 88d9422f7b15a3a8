//! The webhook delivery worker: claims due deliveries under a lease (row locks skip what another
//! replica holds), signs and sends them, records each attempt and schedules retries; it also
//! watches readiness scores and evidence expiry to queue the events no request causes.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::{DateTime, SecondsFormat, Utc};
use entity::{
    evidence, organization_version, setting, webhook_attempt, webhook_delivery, webhook_endpoint,
    webhook_event,
};
use rand::Rng;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::{
    cache::Cache,
    config::Settings,
    domain::webhook::{self, EventType},
    error::{AppError, Result},
    service::{
        audit::{self, AuditRecord, Changes},
        evidence as evidence_service,
        webhooks::{self, FAILED, PENDING, SUCCEEDED, WAKE},
    },
    store,
    store::db,
};

mod watch;
use watch::announce_readiness;
pub use watch::readiness_baseline;

mod http;
use http::{GuardedResolver, describe, truncate};

mod identity;
pub use identity::default_identity;

/// Pauses between the quick looks for new deliveries after a wake, before falling back to the
/// poll interval.
const EAGER_MS: [u64; 6] = [1, 2, 5, 10, 25, 50];
/// Deliveries claimed per round.
const BATCH: usize = 32;
/// Bytes of a receiver's answer read (the rest is dropped) and kept in the attempt log.
const READ_LIMIT: usize = 4096;
const EXCERPT_LIMIT: usize = 1024;
/// The settings key of the expiry sweep's high-water mark.
const EXPIRY_MARK: &str = "webhook_expiry_mark";
/// Evidence expiries announced per sweep round.
const EXPIRY_BATCH: u64 = 1000;

/// One claimed delivery with what sending it needs.
struct Job {
    delivery: webhook_delivery::Model,
    endpoint: webhook_endpoint::Model,
    event: webhook_event::Model,
}

/// What one attempt got.
#[derive(Debug, Default)]
struct Outcome {
    status: Option<u16>,
    error: Option<String>,
    retry_after: Option<Duration>,
    excerpt: Option<String>,
}

/// A framework's score and level as last announced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Announced {
    score: f64,
    level: String,
}

/// A delivery worker. Several may run, in one process or in many, on one database.
pub struct Worker {
    db: DatabaseConnection,
    settings: Arc<Settings>,
    readiness: Arc<Cache>,
    client: reqwest::Client,
    id: String,
    /// Per organization: the data version and freshness of the last readiness check.
    checked: Mutex<HashMap<String, (i64, DateTime<Utc>)>>,
}

impl Worker {
    /// A worker with its own HTTP client: no redirects, no proxies, a timeout, guarded DNS.
    pub fn new(
        db: DatabaseConnection,
        settings: Arc<Settings>,
        readiness: Arc<Cache>,
    ) -> Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(settings.webhook_timeout)
            .connect_timeout(settings.webhook_timeout.min(Duration::from_secs(5)))
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(concat!("Annexa-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: settings.webhook_allow_private,
            }))
            .build()
            .map_err(AppError::internal)?;
        Ok(Self {
            db,
            settings,
            readiness,
            client,
            id: db::new_id(),
            checked: Mutex::new(HashMap::new()),
        })
    }

    /// Delivers until the process stops: sends what is due, then waits for a wake-up (an event
    /// queued in this process) or the poll interval (retries, other replicas' events).
    pub async fn run(self: Arc<Self>) {
        let poll = self.settings.webhook_poll_interval;
        let permits = Arc::new(Semaphore::new(usize::from(
            self.settings.webhook_concurrency,
        )));
        let mut last_watch: Option<Instant> = None;
        let mut eager = EAGER_MS.len();
        match self.resume_own_leases().await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(deliveries = n, worker = %self.id, "resuming the deliveries in flight before the restart")
            }
            Err(err) => {
                tracing::warn!(error = %err, "releasing this worker's earlier leases failed")
            }
        }
        loop {
            if last_watch.is_none_or(|at| at.elapsed() >= poll) {
                if let Err(err) = self.watch().await {
                    tracing::warn!(error = %err, "webhook event watch failed");
                }
                last_watch = Some(Instant::now());
            }
            let free = permits.available_permits();
            if free == 0 {
                drop(permits.acquire().await);
                continue;
            }
            let want = free.min(BATCH);
            let jobs = match self.claim(want).await {
                Ok(jobs) => jobs,
                Err(err) => {
                    tracing::warn!(error = %err, "claiming webhook deliveries failed");
                    tokio::time::sleep(poll).await;
                    continue;
                }
            };
            let claimed = jobs.len();
            for job in jobs {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                let worker = self.clone();
                tokio::spawn(async move {
                    worker.attempt(job).await;
                    drop(permit);
                });
            }
            if claimed == want {
                continue;
            }
            if claimed > 0 {
                eager = 0;
            }
            // After a wake, look again a few times at short intervals: the wake is sent from
            // inside the queuing transaction, which commits a moment later.
            let pause = EAGER_MS
                .get(eager)
                .map_or(poll, |ms| Duration::from_millis(*ms).min(poll));
            tokio::select! {
                () = WAKE.notified() => eager = 0,
                () = tokio::time::sleep(pause) => eager = eager.saturating_add(1),
            }
        }
    }

    /// Claims up to `limit` due deliveries of enabled endpoints for this worker: a lease that
    /// outlasts one request. On PostgreSQL rows another worker is claiming are skipped
    /// (`FOR UPDATE SKIP LOCKED`); SQLite runs one writer at a time.
    async fn claim(&self, limit: usize) -> Result<Vec<Job>> {
        let now = db::now();
        let lease =
            chrono::Duration::from_std(self.settings.webhook_timeout + Duration::from_secs(60))
                .map_err(AppError::internal)?;
        // A read first: an idle queue costs no write lock (on SQLite, no writer turn).
        let due = webhook_delivery::Entity::find()
            .select_only()
            .column(webhook_delivery::Column::Id)
            .filter(webhook_delivery::Column::Status.eq(PENDING))
            .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
            .limit(1)
            .into_tuple::<String>()
            .one(&self.db)
            .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        // In a write transaction like every other writer (on SQLite: in its turn).
        let txn = db::begin_write(&self.db).await?;
        let ids = store::webhooks::claim_due(&*txn, &self.id, now, now + lease, limit).await?;
        txn.commit().await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let deliveries = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::Id.is_in(ids))
            .order_by_asc(webhook_delivery::Column::NextAttemptAt)
            .all(&self.db)
            .await?;
        let endpoint_ids: BTreeSet<String> =
            deliveries.iter().map(|d| d.endpoint_id.clone()).collect();
        let event_ids: BTreeSet<String> = deliveries.iter().map(|d| d.event_id.clone()).collect();
        let endpoints: HashMap<String, webhook_endpoint::Model> = webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::Id.is_in(endpoint_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|e| (e.id.clone(), e))
            .collect();
        let events: HashMap<String, webhook_event::Model> = webhook_event::Entity::find()
            .filter(webhook_event::Column::Id.is_in(event_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|e| (e.id.clone(), e))
            .collect();
        Ok(deliveries
            .into_iter()
            .filter_map(|delivery| {
                Some(Job {
                    endpoint: endpoints.get(&delivery.endpoint_id)?.clone(),
                    event: events.get(&delivery.event_id)?.clone(),
                    delivery,
                })
            })
            .collect())
    }

    /// Sends one delivery and records the attempt.
    async fn attempt(&self, job: Job) {
        let started_at = db::now();
        let clock = Instant::now();
        let outcome = self.send(&job, started_at).await;
        let duration = clock.elapsed();
        if let Err(err) = self.record(&job, outcome, started_at, duration).await {
            tracing::warn!(error = %err, delivery = %job.delivery.id, "recording a webhook attempt failed");
        }
    }

    async fn send(&self, job: &Job, now: DateTime<Utc>) -> Outcome {
        // Checked again at delivery time: the rules may have changed since registration.
        if let Err(rejected) =
            webhook::check_url(&job.endpoint.url, self.settings.webhook_allow_private)
        {
            return Outcome {
                error: Some(format!("the URL is refused: it {rejected}")),
                ..Outcome::default()
            };
        }
        let timestamp = now.timestamp();
        let signature = webhook::signature_header(
            &webhooks::active_secrets(&job.endpoint, now),
            &job.event.id,
            timestamp,
            &job.event.payload,
        );
        let response = self
            .client
            .post(&job.endpoint.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &job.event.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(job.event.payload.clone())
            .send()
            .await;
        let mut response = match response {
            Ok(response) => response,
            Err(err) => {
                return Outcome {
                    error: Some(describe(&err)),
                    ..Outcome::default()
                };
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| webhook::parse_retry_after(v, Utc::now()));
        let mut body = Vec::new();
        let mut error = None;
        while body.len() < READ_LIMIT {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(err) => {
                    error = Some(describe(&err));
                    break;
                }
            }
        }
        body.truncate(EXCERPT_LIMIT);
        let excerpt = String::from_utf8_lossy(&body).trim().to_owned();
        Outcome {
            status: Some(status),
            error,
            retry_after,
            excerpt: (!excerpt.is_empty()).then_some(excerpt),
        }
    }

    async fn record(
        &self,
        job: &Job,
        outcome: Outcome,
        started_at: DateTime<Utc>,
        duration: Duration,
    ) -> Result<()> {
        let number = job.delivery.attempts + 1;
        let succeeded = outcome.status.is_some_and(|s| (200..300).contains(&s));
        let gone = outcome.status == Some(410);
        let error = match (&outcome.error, outcome.status) {
            (Some(e), _) => Some(e.clone()),
            (None, Some(s)) if !succeeded => Some(format!("the endpoint answered {s}")),
            _ => None,
        };
        let now = db::now();
        let next = if succeeded || gone {
            None
        } else {
            let jitter = rand::thread_rng().r#gen::<f64>();
            webhook::next_retry(
                &self.settings.webhook_retry_schedule.0,
                u32::try_from(number).unwrap_or(u32::MAX),
                jitter,
                outcome.retry_after,
            )
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .map(|d| now + d)
        };
        let status = if succeeded {
            SUCCEEDED
        } else if next.is_some() {
            PENDING
        } else {
            FAILED
        };
        let error = error.map(|e| truncate(&e, 500));
        let txn = db::begin_write(&self.db).await?;
        let updated = webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::Status, Expr::value(status))
            .col_expr(webhook_delivery::Column::Attempts, Expr::value(number))
            .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(next))
            .col_expr(
                webhook_delivery::Column::LeaseOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                webhook_delivery::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                webhook_delivery::Column::LastStatusCode,
                Expr::value(outcome.status.map(i32::from)),
            )
            .col_expr(
                webhook_delivery::Column::LastError,
                Expr::value(error.clone()),
            )
            .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
            .filter(webhook_delivery::Column::Id.eq(job.delivery.id.as_str()))
            .filter(webhook_delivery::Column::LeaseOwner.eq(self.id.as_str()))
            .exec(&txn)
            .await?;
        if updated.rows_affected == 0 {
            // The lease ran out and another worker took the delivery over: its record wins.
            tracing::warn!(delivery = %job.delivery.id, "webhook lease lost before recording");
            return Ok(());
        }
        webhook_attempt::Entity::insert(webhook_attempt::ActiveModel {
            id: Set(db::new_id()),
            delivery_id: Set(job.delivery.id.clone()),
            number: Set(number),
            worker: Set(self.id.clone()),
            started_at: Set(started_at),
            status_code: Set(outcome.status.map(i32::from)),
            duration_ms: Set(i32::try_from(duration.as_millis()).unwrap_or(i32::MAX)),
            error: Set(error),
            response_excerpt: Set(outcome.excerpt),
            next_attempt_at: Set(next),
        })
        .exec_without_returning(&txn)
        .await?;
        if gone {
            self.disable(&txn, job, now).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Disables an endpoint that answered 410 Gone.
    async fn disable<C: ConnectionTrait>(
        &self,
        conn: &C,
        job: &Job,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let reason = format!(
            "the endpoint answered 410 Gone at {}",
            now.to_rfc3339_opts(SecondsFormat::Secs, true)
        );
        let result = webhook_endpoint::Entity::update_many()
            .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
            .col_expr(
                webhook_endpoint::Column::DisabledReason,
                Expr::value(Some(reason)),
            )
            .col_expr(
                webhook_endpoint::Column::Version,
                Expr::col(webhook_endpoint::Column::Version).add(1),
            )
            .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(now))
            .filter(webhook_endpoint::Column::Id.eq(job.endpoint.id.as_str()))
            .filter(webhook_endpoint::Column::Enabled.eq(true))
            .exec(conn)
            .await?;
        if result.rows_affected > 0 {
            audit::record_as(
                conn,
                "system",
                None,
                AuditRecord {
                    organization_id: Some(&job.endpoint.organization_id),
                    action: "webhook.disabled",
                    entity_type: "webhook",
                    entity_id: &job.endpoint.id,
                    changes: Changes::new().field("enabled", &true, &false),
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Queues the events that no request causes: readiness changes and evidence expiry.
    pub async fn watch(&self) -> Result<()> {
        self.watch_readiness().await?;
        self.sweep_expired().await
    }

    /// Organizations with an enabled endpoint subscribed to `event`.
    async fn listening(&self, event: EventType) -> Result<BTreeSet<String>> {
        let rows: Vec<(String, String)> = webhook_endpoint::Entity::find()
            .select_only()
            .column(webhook_endpoint::Column::OrganizationId)
            .column(webhook_endpoint::Column::Events)
            .filter(webhook_endpoint::Column::Enabled.eq(true))
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter(|(_, events)| webhooks::subscribes(events, event))
            .map(|(org, _)| org)
            .collect())
    }

    async fn watch_readiness(&self) -> Result<()> {
        let orgs = self.listening(EventType::ReadinessScoreChanged).await?;
        if orgs.is_empty() {
            return Ok(());
        }
        // One query for every listening organization's data version.
        let versions: Vec<(String, i64)> = organization_version::Entity::find()
            .select_only()
            .column(organization_version::Column::OrganizationId)
            .column(organization_version::Column::DataVersion)
            .filter(organization_version::Column::OrganizationId.is_in(orgs))
            .into_tuple()
            .all(&self.db)
            .await?;
        for (org_id, version) in versions {
            let unchanged = self.checked.lock().ok().is_some_and(|checked| {
                checked
                    .get(&org_id)
                    .is_some_and(|(v, until)| *v == version && Utc::now() < *until)
            });
            if unchanged {
                continue;
            }
            let fresh_until = announce_readiness(&self.db, &self.readiness, &org_id).await?;
            if let Ok(mut checked) = self.checked.lock() {
                checked.insert(org_id, (version, fresh_until));
            }
        }
        Ok(())
    }

    /// Announces evidence whose validity ended since the last sweep. The sweep's mark moves
    /// with a compare-and-set, so that replicas announce each expiry once.
    async fn sweep_expired(&self) -> Result<()> {
        let now = db::now();
        let Some(mark) = setting::Entity::find_by_id(EXPIRY_MARK.to_owned())
            .one(&self.db)
            .await?
        else {
            // The first sweep starts now: expiries from before webhooks existed are history.
            setting::Entity::insert(setting::ActiveModel {
                key: Set(EXPIRY_MARK.to_owned()),
                value: Set(now.to_rfc3339_opts(SecondsFormat::Micros, true)),
                created_at: Set(now),
            })
            .on_conflict(
                OnConflict::column(setting::Column::Key)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
            return Ok(());
        };
        let since = DateTime::parse_from_rfc3339(&mark.value)
            .map_err(AppError::internal)?
            .with_timezone(&Utc);
        let orgs = self.listening(EventType::EvidenceExpired).await?;
        let expired = if orgs.is_empty() {
            Vec::new()
        } else {
            evidence::Entity::find()
                .filter(evidence::Column::ValidUntil.gt(since))
                .filter(evidence::Column::ValidUntil.lte(now))
                .filter(evidence::Column::ArchivedAt.is_null())
                .filter(evidence::Column::OrganizationId.is_in(orgs))
                .order_by_asc(evidence::Column::ValidUntil)
                .limit(EXPIRY_BATCH)
                .all(&self.db)
                .await?
        };
        let new_mark = match expired.last() {
            Some(last) if expired.len() as u64 == EXPIRY_BATCH => last.valid_until.unwrap_or(now),
            _ => now,
        };
        let txn = db::begin_write(&self.db).await?;
        let moved = setting::Entity::update_many()
            .col_expr(
                setting::Column::Value,
                Expr::value(new_mark.to_rfc3339_opts(SecondsFormat::Micros, true)),
            )
            .filter(setting::Column::Key.eq(EXPIRY_MARK))
            .filter(setting::Column::Value.eq(mark.value.as_str()))
            .exec(&txn)
            .await?;
        if moved.rows_affected == 0 || expired.is_empty() {
            txn.commit().await?;
            return Ok(());
        }
        for view in evidence_service::views(&txn, expired).await? {
            let org_id = view.evidence.organization_id.clone();
            webhooks::emit(&txn, &org_id, EventType::EvidenceExpired, &view).await?;
        }
        txn.commit().await?;
        Ok(())
    }
}
