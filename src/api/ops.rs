//! Operational endpoints at the root: liveness and readiness probes.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// The state of a probe.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthStatus {
    /// `ok` when healthy.
    #[schema(example = "ok")]
    pub status: String,
}

/// Liveness: the process is up.
#[utoipa::path(
    tag = "ops",
    responses((status = 200, description = "The process is alive", body = HealthStatus))
)]
#[get("/healthz")]
pub async fn ops_healthz() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus {
        status: "ok".to_owned(),
    })
}

/// Readiness: the database answers.
#[utoipa::path(
    tag = "ops",
    responses(
        (status = 200, description = "The database is reachable", body = HealthStatus),
        (status = 503, description = "The database is unreachable", body = HealthStatus),
    )
)]
#[get("/readyz")]
pub async fn ops_readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.db.ping().await {
        Ok(()) => HttpResponse::Ok().json(HealthStatus {
            status: "ok".to_owned(),
        }),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(HealthStatus {
                status: "unavailable".to_owned(),
            })
        }
    }
}
