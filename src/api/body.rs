//! The JSON body extractor of every operation: an object (never an array standing in for a
//! struct), within the 1 MiB limit, with problem+json errors naming the field at fault.

use std::{future::Future, ops::Deref, pin::Pin};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;

use crate::error::{AppError, FieldError, json_error_field};

/// A JSON request body of type `T`.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T> Body<T> {
    /// The parsed body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Body<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Content type, size limit and syntax are checked by actix's extractor (and its
        // configured error handler); the shape is checked here.
        let value = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move { parse(value.await?.into_inner()) })
    }
}

/// Checks a JSON value's shape and reads it as `T`.
fn parse<T: DeserializeOwned>(value: serde_json::Value) -> Result<Body<T>, actix_web::Error> {
    if !value.is_object() {
        return Err(AppError::bad_request("body", "must be a JSON object").into());
    }
    serde_json::from_value::<T>(value).map(Body).map_err(|e| {
        let message = e.to_string();
        AppError::BadRequest {
            detail: format!("the JSON body is invalid: {message}"),
            errors: vec![FieldError::new(json_error_field(&message), message)],
        }
        .into()
    })
}

/// An optional JSON body: `None` when the request carries none or `null`, else checked like
/// [`Body`].
#[derive(Debug)]
pub struct OptionalBody<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for OptionalBody<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
        let headers = req.headers();
        let empty = headers.get(TRANSFER_ENCODING).is_none()
            && headers
                .get(CONTENT_LENGTH)
                .is_none_or(|v| v.as_bytes() == b"0");
        if empty {
            return Box::pin(async { Ok(OptionalBody(None)) });
        }
        let value = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            match value.await?.into_inner() {
                serde_json::Value::Null => Ok(OptionalBody(None)),
                value => parse::<T>(value).map(|body| OptionalBody(Some(body.into_inner()))),
            }
        })
    }
}
