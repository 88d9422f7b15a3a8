//! Rate limits at the HTTP edge: a request's standing recorded and refused with 429 when over
//! its limit, the `RateLimit` / `RateLimit-Policy` headers on the answer, and the token
//! endpoint's limit per client address (docs/operations.md, "Rate limits").

use actix_web::{
    Error, FromRequest, HttpMessage, HttpRequest,
    body::MessageBody,
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
    web,
};
use futures_util::future::{Ready, ready};

use crate::{error::AppError, rate_limit::Standing, state::AppState};

/// Records the request's standing (for the headers) and refuses it when it must wait.
pub fn admit(req: &HttpRequest, standing: Option<Standing>) -> Result<(), AppError> {
    let Some(standing) = standing else {
        return Ok(());
    };
    let retry_after = standing.retry_after;
    req.extensions_mut().insert(standing);
    match retry_after {
        Some(retry_after) => Err(AppError::RateLimited { retry_after }),
        None => Ok(()),
    }
}

/// Middleware: adds `RateLimit-Policy` and `RateLimit` to the answer of every request that was
/// counted against a limit, refused or not.
pub async fn rate_limit_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut res = next.call(req).await?;
    let standing = res.request().extensions().get::<Standing>().cloned();
    if let Some(standing) = standing {
        let headers = res.headers_mut();
        for (name, value) in [
            ("ratelimit-policy", standing.policy_header()),
            ("ratelimit", standing.header()),
        ] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
    }
    Ok(res)
}

/// Extractor of the token endpoint: counts the request against its client address's limit
/// (the connection's peer; behind a proxy, the proxy's address).
pub struct TokenClientLimit;

impl FromRequest for TokenClientLimit {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>() else {
            return ready(Err(AppError::internal("application state missing")));
        };
        let address = req
            .peer_addr()
            .map(|peer| peer.ip().to_string())
            .unwrap_or_default();
        let standing = state.rate_limits.token_clients.check(&address);
        ready(admit(req, standing).map(|()| TokenClientLimit))
    }
}
