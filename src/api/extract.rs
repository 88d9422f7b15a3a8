//! Extractors shared by the handlers: the authenticated [`Principal`] of a request.

use std::{future::Future, pin::Pin};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};

use crate::{
    domain::principal::Principal, error::AppError, service::authn, state::AppState,
    telemetry::RequestId,
};

impl FromRequest for Principal {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
        // Normalized as the handlers' `Uuid` path parameters are; anything else is left to them.
        let org_id = req
            .match_info()
            .get("org_id")
            .and_then(|v| uuid::Uuid::parse_str(v).ok())
            .map(|id| id.to_string());
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
            authn::authenticate(
                &state.db,
                &state.jwt,
                &state.lookups,
                header.as_deref(),
                request_id,
                org_id,
            )
            .await
        })
    }
}
