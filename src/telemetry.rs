//! Logging: the tracing subscriber, request ids (`x-request-id`) and one lean span per request.

use actix_web::{
    Error, HttpMessage,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
};
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;
use tracing_subscriber::{EnvFilter, fmt, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::LogFormat;
use crate::error::Problem;

/// The request id header, taken from the request when valid, else generated; echoed on every response.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The request id of the current request, stored in the request extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Installs the global subscriber: `RUST_LOG` filter (default `info`), pretty or JSON lines.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Pretty => registry.with(fmt::layer().with_target(false)).try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true),
            )
            .try_init(),
    };
    // A subscriber may already be installed (tests build several apps in one process).
    drop(result);
}

fn is_acceptable_request_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Middleware: assigns the request id, echoes it, and completes problem bodies with
/// `instance` (the request path) and `request_id`.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_acceptable_request_id(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let path = req.path().to_owned();

    let mut res = next.call(req).await?.map_into_boxed_body();
    let mut problem = res.response().extensions().get::<Problem>().cloned();
    if problem.is_none() && needs_problem_body(res.response()) {
        // An error produced by actix itself (e.g. a body over the limit): render it as a problem too.
        problem = Some(generic_problem(res.status()));
        res.headers_mut().insert(
            actix_web::http::header::CONTENT_TYPE,
            HeaderValue::from_static(crate::error::PROBLEM_JSON),
        );
    }
    if let Some(mut problem) = problem {
        problem.instance = Some(path);
        problem.request_id = Some(request_id.clone());
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        res = res.map_body(|_, _| BoxBody::new(body));
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(res)
}

fn needs_problem_body(res: &actix_web::HttpResponse<BoxBody>) -> bool {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return false;
    }
    let content_type = res
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    !content_type.contains("json")
}

fn generic_problem(status: actix_web::http::StatusCode) -> Problem {
    let title = status.canonical_reason().unwrap_or("Error").to_owned();
    let slug = title.to_lowercase().replace(' ', "-");
    Problem {
        problem_type: format!("urn:annexa:problem:{slug}"),
        detail: format!("{title} ({})", status.as_u16()),
        title,
        status: status.as_u16(),
        instance: None,
        request_id: None,
        errors: None,
        risks: None,
    }
}

/// A lean root span per request (method, route, request id, status) and one line when it ends.
pub struct AnnexaRootSpan;

impl RootSpanBuilder for AnnexaRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.path(),
            request_id = %request_id,
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = match outcome {
            Ok(res) => res.status().as_u16(),
            Err(err) => err.as_response_error().status_code().as_u16(),
        };
        span.record("status", status);
        let _entered = span.enter();
        if status >= 500 {
            tracing::error!(status, "request failed");
        } else {
            tracing::debug!(status, "request completed");
        }
    }
}
