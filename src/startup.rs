//! Building and running the application: shared by `main` and the integration tests.

use std::{
    net::TcpListener,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use actix_web::{App, HttpResponse, HttpServer, dev::Server, middleware::from_fn, web};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, sea_query::OnConflict};
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::{
    api,
    auth::jwt::JwtKeys,
    cache::Cache,
    catalog::{self, Catalog},
    config::Settings,
    crypto::random_token,
    error::{self, AppError},
    rate_limit::RateLimits,
    service::{identity, readiness, tokens, webhook_worker, webhooks},
    state::AppState,
    store::db,
    telemetry::{self, AnnexaRootSpan},
};

/// The largest JSON (or form) body accepted.
pub const JSON_LIMIT_BYTES: usize = 1024 * 1024;

/// A failure while starting: printed as one line by `main`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartupError(pub String);

impl From<sea_orm::DbErr> for StartupError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self(format!("database: {err}"))
    }
}

impl From<AppError> for StartupError {
    fn from(err: AppError) -> Self {
        Self(err.to_string())
    }
}

impl From<std::io::Error> for StartupError {
    fn from(err: std::io::Error) -> Self {
        Self(err.to_string())
    }
}

const JWT_SECRET_SETTING: &str = "jwt_secret";

/// The configured JWT secret, or the one kept in the database (generated once, so that
/// restarts and replicas agree).
async fn resolve_jwt_secret(
    db_conn: &DatabaseConnection,
    settings: &Settings,
) -> Result<String, StartupError> {
    if let Some(secret) = &settings.jwt_secret {
        return Ok(secret.clone());
    }
    entity::setting::Entity::insert(entity::setting::ActiveModel {
        key: Set(JWT_SECRET_SETTING.to_owned()),
        value: Set(random_token(48)),
        created_at: Set(db::now()),
    })
    .on_conflict(
        OnConflict::column(entity::setting::Column::Key)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db_conn)
    .await?;
    entity::setting::Entity::find_by_id(JWT_SECRET_SETTING.to_owned())
        .one(db_conn)
        .await?
        .map(|s| s.value)
        .ok_or_else(|| StartupError("the generated JWT secret could not be read back".to_owned()))
}

/// Connects, migrates, loads the catalog, resolves the JWT key and bootstraps the first admin.
pub async fn prepare(settings: Settings) -> Result<AppState, StartupError> {
    let catalog = Catalog::embedded().map_err(|e| StartupError(format!("catalog data: {e}")))?;
    let mut db_conn = db::connect(&settings).await?;
    let queries = Arc::new(AtomicU64::new(0));
    let counter = queries.clone();
    db_conn.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    db::migrate(&db_conn).await?;
    if catalog::load(&db_conn, &catalog).await? {
        tracing::info!(digest = %&catalog.digest[..12], "catalog loaded");
    }
    let secret = resolve_jwt_secret(&db_conn, &settings).await?;
    if let Some((email, password)) = identity::ensure_bootstrap_admin(
        &db_conn,
        settings.bootstrap_admin_email.as_deref(),
        settings.bootstrap_admin_password.as_deref(),
    )
    .await?
    {
        println!(
            "\nAnnexa: created the platform admin `{email}` with the password\n\n    {password}\n\n\
             It is shown only this once. Log in with POST /api/v1/auth/token and change it.\n"
        );
    }
    Ok(AppState {
        rate_limits: Arc::new(RateLimits::new(&settings)),
        cache: Arc::new(Cache::new(settings.cache_mb as usize * 1024 * 1024)),
        jwt: Arc::new(JwtKeys::rotated(
            &secret,
            &settings.jwt_previous_secrets,
            settings.access_token_ttl,
        )),
        db: db_conn,
        settings: Arc::new(settings),
        queries,
        lookups: Arc::default(),
    })
}

/// The running server and where it listens.
pub struct Application {
    server: Server,
    port: u16,
    state: AppState,
}

async fn openapi_document(spec: web::Data<String>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(spec.get_ref().clone())
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, "/docs/"))
        .finish()
}

impl Application {
    /// Prepares the state and binds the listener (port 0 picks a free port).
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        Self::start(prepare(settings).await?)
    }

    /// Binds the listener for a prepared state and starts the background tasks: `annexa demo`
    /// adds its organization between `prepare` and this, before anyone can connect.
    pub fn start(state: AppState) -> Result<Self, StartupError> {
        let bind = state.settings.bind;
        let listener = TcpListener::bind(bind)
            .map_err(|e| StartupError(format!("cannot listen on {bind}: {e}")))?;
        let port = listener.local_addr()?.port();
        let server = serve(listener, state.clone())?;
        spawn_housekeeping(state.db.clone());
        spawn_rate_limit_upkeep(state.rate_limits.clone());
        spawn_snapshots(state.db.clone(), state.settings.snapshot_interval);
        if state.settings.webhook_worker {
            let mut worker = webhook_worker::Worker::new(
                state.db.clone(),
                state.settings.clone(),
                state.cache.clone(),
            )?;
            let identity = state.settings.worker_id.clone();
            if let Some(id) = identity.or_else(|| webhook_worker::default_identity(&state.settings))
            {
                worker = worker.identified_as(id);
            }
            tokio::spawn(Arc::new(worker).run());
        }
        Ok(Self {
            server,
            port,
            state,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The application state (the tests reach the database through it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the process is stopped.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Purges expired token records, idempotency keys and old webhook deliveries every hour.
fn spawn_housekeeping(db_conn: DatabaseConnection) {
    tokio::spawn(async move {
        let period = Duration::from_secs(3600);
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            interval.tick().await;
            if let Err(err) = tokens::purge_expired(&db_conn).await {
                tracing::warn!(error = %err, "housekeeping failed");
            }
            if let Err(err) = webhooks::purge_finished(&db_conn).await {
                tracing::warn!(error = %err, "webhook log housekeeping failed");
            }
        }
    });
}

/// Forgets the rate-limit state of idle callers and addresses every minute.
fn spawn_rate_limit_upkeep(limits: Arc<RateLimits>) {
    tokio::spawn(async move {
        let period = Duration::from_secs(60);
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            interval.tick().await;
            limits.forget_idle();
        }
    });
}

/// Stores the scheduled readiness snapshots: checks a few times per period (at most every
/// five minutes) and stores what the current period lacks.
fn spawn_snapshots(db_conn: DatabaseConnection, interval_seconds: u64) {
    tokio::spawn(async move {
        let check = Duration::from_secs(interval_seconds.clamp(1, 300));
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + check, check);
        loop {
            ticker.tick().await;
            match readiness::take_scheduled_snapshots(&db_conn, interval_seconds).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(snapshots = n, "readiness snapshots stored"),
                Err(err) => tracing::warn!(error = %err, "readiness snapshots failed"),
            }
        }
    });
}

fn serve(listener: TcpListener, state: AppState) -> Result<Server, StartupError> {
    let workers = state.settings.workers.map(usize::from);
    let data = web::Data::new(state);
    let spec = web::Data::new(api::openapi_json());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(spec.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(JSON_LIMIT_BYTES)
                    .error_handler(error::json_error_handler),
            )
            .app_data(web::QueryConfig::default().error_handler(error::query_error_handler))
            .app_data(web::PathConfig::default().error_handler(error::path_error_handler))
            .app_data(
                web::FormConfig::default()
                    .limit(JSON_LIMIT_BYTES)
                    .error_handler(error::form_error_handler),
            )
            .app_data(web::PayloadConfig::new(JSON_LIMIT_BYTES))
            .wrap(from_fn(api::throttle::rate_limit_headers))
            .wrap(TracingLogger::<AnnexaRootSpan>::new())
            .wrap(from_fn(telemetry::request_context))
            .into_utoipa_app()
            .configure(api::configure)
            .into_app()
            .route("/openapi.json", web::get().to(openapi_document))
            .route("/docs", web::get().to(docs_redirect))
            .service(SwaggerUi::new("/docs/{_:.*}").config(SwaggerConfig::from("/openapi.json")))
            .default_service(web::to(api::fallback))
    })
    .listen(listener)?
    .shutdown_timeout(10);
    let server = match workers {
        Some(n) => server.workers(n),
        None => server,
    };
    let server = server.run();
    Ok(server)
}
