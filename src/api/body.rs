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
        Box::pin(async move {
            let value = value.await?.into_inner();
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
        })
    }
}
