//! Extractors shared by the handlers: the caller, its context, `If-Match` and org-scoped paths.

use std::{future::Future, marker::PhantomData, ops::Deref, pin::Pin};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use futures_util::{
    FutureExt,
    future::{Map, Ready, ready},
};
use serde::de::DeserializeOwned;
use utoipa::{
    IntoParams,
    openapi::{
        KnownFormat, ObjectBuilder, Required, SchemaFormat, Type,
        path::{Parameter, ParameterBuilder, ParameterIn},
    },
};
use uuid::Uuid;

use crate::{
    api::{responses::if_match, throttle},
    domain::principal::Principal,
    error::AppError,
    service::{authn, version::IfMatch},
    state::AppState,
    telemetry::RequestId,
};

/// The description of every `{org_id}` path parameter.
pub const ORG_ID: &str = "The organization's id";

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
        // Normalized as [`OrgPath`] normalizes it; anything else is left to the handlers.
        let org_id = req
            .match_info()
            .get("org_id")
            .and_then(|v| Uuid::parse_str(v).ok())
            .map(|id| id.to_string());
        let req = req.clone();
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
            let principal = authn::authenticate(
                &state.db,
                &state.jwt,
                &state.lookups,
                header.as_deref(),
                request_id,
                org_id,
            )
            .await?;
            // Every protected operation authenticates its caller here once: the one place its
            // rate limit is counted (the headers are added by `throttle::rate_limit_headers`).
            let standing = state.rate_limits.callers.check(&principal.actor());
            throttle::admit(&req, standing)?;
            Ok(principal)
        })
    }
}

/// What every protected handler needs: the application state (derefs to it) and the caller.
pub struct Ctx {
    /// The application state.
    pub state: web::Data<AppState>,
    /// The authenticated caller.
    pub principal: Principal,
}

impl Deref for Ctx {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.state
    }
}

impl FromRequest for Ctx {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // The state first, then the caller: the order the handlers took them in.
        let state = web::Data::<AppState>::from_request(req, payload);
        let principal = Principal::from_request(req, payload);
        Box::pin(async move {
            let state = state.await?;
            let principal = principal.await?;
            Ok(Ctx { state, principal })
        })
    }
}

/// The request's `If-Match` header, parsed (absent: no precondition).
#[derive(Debug)]
pub struct Precondition(pub Option<IfMatch>);

impl Precondition {
    /// The precondition, as the services take it.
    pub fn as_ref(&self) -> Option<&IfMatch> {
        self.0.as_ref()
    }
}

impl FromRequest for Precondition {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Ok(Precondition(if_match(req))))
    }
}

/// A path parameter as the services take it: an id as its lowercase UUID string, a key as is.
pub trait Segment: DeserializeOwned + 'static {
    /// The parameter as a string.
    fn into_segment(self) -> String;
}

impl Segment for Uuid {
    fn into_segment(self) -> String {
        self.to_string()
    }
}

impl Segment for String {
    fn into_segment(self) -> String {
        self
    }
}

type PathResult<P> = Result<web::Path<P>, actix_web::Error>;

/// The future of an extractor read from a [`web::Path`]: ready at once, like the path's own,
/// and failing with the path's own error (`error::path_error_handler`: 400 problem+json).
type FromPath<P, T> =
    Map<<web::Path<P> as FromRequest>::Future, fn(PathResult<P>) -> Result<T, actix_web::Error>>;

/// A path extractor made from the tuple of its path parameters.
trait FromSegments: Sized + 'static {
    /// The path parameters, parsed as the path's own extractor parses them.
    type Segments: DeserializeOwned + 'static;

    /// The extractor from its parsed parameters.
    fn from_segments(segments: Self::Segments) -> Self;
}

fn convert<T: FromSegments>(path: PathResult<T::Segments>) -> Result<T, actix_web::Error> {
    path.map(|p| T::from_segments(p.into_inner()))
}

fn extract<T: FromSegments>(req: &HttpRequest, payload: &mut Payload) -> FromPath<T::Segments, T> {
    web::Path::<T::Segments>::from_request(req, payload).map(convert::<T> as fn(_) -> _)
}

/// `{org_id}` of an organization-scoped route, as the lowercase UUID string the services take.
#[derive(Debug)]
pub struct OrgPath(pub String);

impl FromSegments for OrgPath {
    type Segments = Uuid;

    fn from_segments(org_id: Uuid) -> Self {
        OrgPath(org_id.into_segment())
    }
}

impl FromRequest for OrgPath {
    type Error = actix_web::Error;
    type Future = FromPath<Uuid, Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        extract(req, payload)
    }
}

/// Documents `{org_id}` exactly as `("org_id" = Uuid, Path, description = ORG_ID)` would.
impl IntoParams for OrgPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            ParameterBuilder::new()
                .name("org_id")
                .parameter_in(ParameterIn::Path)
                .description(Some(ORG_ID))
                .required(Required::True)
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
                ))
                .build(),
        ]
    }
}

/// `{org_id}/…/{item}`: the organization and one item of it, an id (`Uuid`) or a key (`String`).
#[derive(Debug)]
pub struct OrgItemPath<T: Segment = Uuid> {
    /// The organization's id.
    pub org_id: String,
    /// The item's id (lowercase) or key.
    pub item: String,
    parsed_as: PhantomData<T>,
}

impl<T: Segment> FromSegments for OrgItemPath<T> {
    type Segments = (Uuid, T);

    fn from_segments((org_id, item): (Uuid, T)) -> Self {
        OrgItemPath {
            org_id: org_id.into_segment(),
            item: item.into_segment(),
            parsed_as: PhantomData,
        }
    }
}

impl<T: Segment> FromRequest for OrgItemPath<T> {
    type Error = actix_web::Error;
    type Future = FromPath<(Uuid, T), Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        extract(req, payload)
    }
}

/// `{org_id}/…/{item}/…/{sub_item}`: the organization, an item and one of the item's, all ids.
#[derive(Debug)]
pub struct OrgSubItemPath {
    /// The organization's id.
    pub org_id: String,
    /// The item's id.
    pub item: String,
    /// The sub-item's id.
    pub sub_item: String,
}

impl FromSegments for OrgSubItemPath {
    type Segments = (Uuid, Uuid, Uuid);

    fn from_segments((org_id, item, sub_item): (Uuid, Uuid, Uuid)) -> Self {
        OrgSubItemPath {
            org_id: org_id.into_segment(),
            item: item.into_segment(),
            sub_item: sub_item.into_segment(),
        }
    }
}

impl FromRequest for OrgSubItemPath {
    type Error = actix_web::Error;
    type Future = FromPath<(Uuid, Uuid, Uuid), Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        extract(req, payload)
    }
}
