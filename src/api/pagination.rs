//! Cursor pagination over HTTP: `limit` / `cursor` parameters, `{items, next_cursor}` bodies and
//! `Link: <…>; rel="next"` headers. Cursors are opaque (base64url of the next key).

use actix_web::{HttpRequest, HttpResponse, http::header};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::{
    api::rendered::{Rendered, cached_response},
    cache::Cache,
    error::{AppError, Result},
    service::page::{DEFAULT_LIMIT, MAX_LIMIT, Page, PageRequest},
};

const CURSOR_PREFIX: &str = "c1:";

/// Pagination parameters of every list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 500.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The validated page request.
    pub fn request(&self) -> Result<PageRequest> {
        let limit = self.limit.map_or(DEFAULT_LIMIT, u64::from);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::bad_request("limit", "must be between 1 and 500"));
        }
        let after = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(cursor) => Some(decode_cursor(cursor)?),
        };
        Ok(PageRequest { limit, after })
    }
}

fn encode_cursor(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{key}"))
}

fn decode_cursor(cursor: &str) -> Result<String> {
    let invalid = || AppError::bad_request("cursor", "is not a cursor returned by this API");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    text.strip_prefix(CURSOR_PREFIX)
        .map(str::to_owned)
        .ok_or_else(invalid)
}

#[derive(Serialize)]
struct ListBody<T> {
    items: Vec<T>,
    next_cursor: Option<String>,
}

/// 200 with `{items, next_cursor}` and, when more follow, a `Link` header to the next page.
pub fn list_response<T: Serialize>(req: &HttpRequest, page: Page<T>) -> HttpResponse {
    let next_cursor = page.next_after.as_deref().map(encode_cursor);
    let mut builder = HttpResponse::Ok();
    if let Some(cursor) = &next_cursor {
        builder.insert_header((header::LINK, next_link(req, cursor)));
    }
    builder.json(ListBody {
        items: page.items,
        next_cursor,
    })
}

/// A page of DTOs from a page of service values, failing when one cannot be shown.
pub fn try_page<S, T: TryFrom<S, Error = AppError>>(page: Page<S>) -> Result<Page<T>> {
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(T::try_from)
            .collect::<Result<_>>()?,
        next_after: page.next_after,
    })
}

/// `<path?query with this cursor>; rel="next"`.
fn next_link(req: &HttpRequest, cursor: &str) -> String {
    let mut query: Vec<(String, String)> =
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .filter(|(k, _)| k != "cursor")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    query.push(("cursor".to_owned(), cursor.to_owned()));
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    format!("<{}?{}>; rel=\"next\"", req.path(), encoded)
}

/// Like [`list_response`], through the cache of rendered answers: the page stored for this
/// list and query string at `data_version` when it is still true, or the one `render` makes
/// (with the time it stops being true), rendered once and stored.
pub async fn cached_list_response<T: Serialize>(
    cache: &Cache,
    req: &HttpRequest,
    org_id: &str,
    data_version: i64,
    render: impl AsyncFnOnce() -> Result<(Page<T>, DateTime<Utc>)>,
) -> Result<HttpResponse> {
    cached_response(cache, req, org_id, data_version, async || {
        let (page, fresh_until) = render().await?;
        let next_cursor = page.next_after.as_deref().map(encode_cursor);
        let rendered = Rendered {
            link: next_cursor.as_deref().map(|c| next_link(req, c)),
            body: serde_json::to_vec(&ListBody {
                items: page.items,
                next_cursor,
            })
            .map_err(AppError::internal)?
            .into(),
        };
        Ok((rendered, fresh_until))
    })
    .await
}

/// Declares the OpenAPI schema of a list page of `$item`.
#[macro_export]
macro_rules! page_schema {
    ($name:ident, $item:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            /// The items of this page.
            pub items: Vec<$item>,
            /// Pass as `cursor` to get the next page; null on the last page.
            pub next_cursor: Option<String>,
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let encoded = encode_cursor("0193-abc");
        assert_eq!(decode_cursor(&encoded).ok().as_deref(), Some("0193-abc"));
        assert!(decode_cursor("not base64!").is_err());
        assert!(
            decode_cursor(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("x")).is_err()
        );
    }
}
