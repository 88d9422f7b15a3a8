//! Rendered answers served again from the cache while their organization's data version and
//! clock hold: the body and `Link` header of a response, keyed by its path and query string.

use actix_web::{HttpRequest, HttpResponse, http::header};
use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::{
    cache::{Cache, Cached},
    error::Result,
};

/// A rendered JSON answer: its body and its `Link` header, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub body: Bytes,
    pub link: Option<String>,
}

impl Cached for Rendered {
    const NAMESPACE: &'static str = "rendered";

    fn weight(&self) -> usize {
        self.body.len() + self.link.as_ref().map_or(0, String::len)
    }
}

impl Rendered {
    fn response(&self) -> HttpResponse {
        let mut builder = HttpResponse::Ok();
        if let Some(link) = &self.link {
            builder.insert_header((header::LINK, link.as_str()));
        }
        builder
            .content_type(mime::APPLICATION_JSON)
            .body(self.body.clone())
    }
}

/// The answer stored for this request's path and query string at `data_version` when it still
/// holds, or the one `render` makes (with the time it stops being true), stored. The caller
/// has authorized the request and read `data_version` with it.
pub async fn cached_response(
    cache: &Cache,
    req: &HttpRequest,
    org_id: &str,
    data_version: i64,
    render: impl AsyncFnOnce() -> Result<(Rendered, DateTime<Utc>)>,
) -> Result<HttpResponse> {
    let key = format!("{}?{}", req.path(), req.query_string());
    if let Some(hit) = cache.get::<Rendered>(org_id, &key, data_version, Utc::now()) {
        return Ok(hit.response());
    }
    let (rendered, fresh_until) = render().await?;
    let response = rendered.response();
    cache.put(org_id, &key, data_version, fresh_until, rendered.into());
    Ok(response)
}
