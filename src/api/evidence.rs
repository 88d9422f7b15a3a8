//! Evidence (contract §5): metadata, file content, review, and links to controls.

// Route paths are relative to the organization's scope, `/api/v1/organizations/{org_id}`
// (see `api::configure`).

use actix_web::{
    HttpRequest, HttpResponse, delete, get,
    http::header::{
        self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
    },
    patch, post, put, web,
};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    api::{
        body::Body,
        pagination::{PageQuery, list_response},
        responses::{
            BadRequest, Conflict, Forbidden, IdempotencyHeader, IfMatchHeader, NotFound,
            PayloadTooLarge, PreconditionFailed, UnprocessableEntity, UnsupportedMediaType,
            created, created_response, idempotency_key, if_match, ok_with_etag,
        },
    },
    domain::evidence::{
        EvidenceKind, ReviewDecision, ReviewStatus, ascii_filename, sanitize_filename,
    },
    domain::principal::Principal,
    error::{AppError, Result},
    page_schema,
    service::{
        evidence::{self, EvidenceFilter, EvidencePatch, EvidenceView, NewEvidence, Upload},
        idempotency,
        page::Page,
    },
    state::AppState,
};

const ORG_ID: &str = "The organization's id";
const EVIDENCE_ID: &str = "The evidence's id";

/// The raw bytes of a file.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(#[allow(dead_code)] Vec<u8>);

/// The stored file of a piece of evidence.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EvidenceContent {
    /// SHA-256 of the bytes, lowercase hex.
    #[schema(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub sha256: String,
    /// Size in bytes.
    pub size: i64,
    /// The media type given when it was uploaded.
    #[schema(example = "application/pdf")]
    pub media_type: String,
    /// The file name given when it was uploaded (sanitized).
    #[schema(example = "access-review-2026-q3.pdf")]
    pub filename: Option<String>,
}

/// A piece of evidence.
#[derive(Debug, Serialize, ToSchema)]
pub struct Evidence {
    /// The evidence's id.
    pub id: String,
    /// Its title.
    #[schema(example = "Q3 access review of the training cluster")]
    pub title: String,
    /// What it shows.
    pub description: Option<String>,
    /// What kind of evidence it is.
    pub kind: EvidenceKind,
    /// For links: where it is.
    pub url: Option<String>,
    /// When it was collected.
    pub collected_at: Option<DateTime<Utc>>,
    /// Until when it is valid; null = no expiry.
    pub valid_until: Option<DateTime<Utc>>,
    /// Review state; only accepted, unexpired evidence counts for readiness.
    pub review_status: ReviewStatus,
    /// The reviewer's comment.
    pub review_comment: Option<String>,
    /// Who reviewed it.
    pub reviewed_by: Option<String>,
    /// When it was reviewed.
    pub reviewed_at: Option<DateTime<Utc>>,
    /// Who submitted it (`user:<id>` or `service_account:<id>`).
    pub submitted_by: String,
    /// The stored file, if any.
    pub content: Option<EvidenceContent>,
    /// The controls it supports.
    pub control_ids: Vec<String>,
    /// When it was archived (deleted); archived evidence is hidden from lists and scores.
    pub archived_at: Option<DateTime<Utc>>,
    /// Incremented on every change; the `ETag` is `"<version>"`.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Evidence {
    fn from_view(view: EvidenceView) -> Result<Self> {
        let e = view.evidence;
        let content = match (e.content_sha256, e.content_size, e.content_media_type) {
            (Some(sha256), Some(size), Some(media_type)) => Some(EvidenceContent {
                sha256,
                size,
                media_type,
                filename: e.content_filename,
            }),
            _ => None,
        };
        Ok(Self {
            kind: e.kind,
            review_status: e.review_status,
            id: e.id,
            title: e.title,
            description: e.description,
            url: e.url,
            collected_at: e.collected_at,
            valid_until: e.valid_until,
            review_comment: e.review_comment,
            reviewed_by: e.reviewed_by,
            reviewed_at: e.reviewed_at,
            submitted_by: e.submitted_by,
            content,
            control_ids: view.control_ids,
            archived_at: e.archived_at,
            version: e.version,
            created_at: e.created_at,
            updated_at: e.updated_at,
        })
    }
}

impl crate::service::webhooks::EventResource for EvidenceView {
    fn event_data(&self) -> Result<serde_json::Value> {
        serde_json::to_value(Evidence::from_view(self.clone())?).map_err(AppError::internal)
    }
}

page_schema!(EvidencePage, Evidence, "A page of evidence.");

fn evidence_page(page: Page<EvidenceView>) -> Result<Page<Evidence>> {
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(Evidence::from_view)
            .collect::<Result<_>>()?,
        next_after: page.next_after,
    })
}

/// Evidence to create.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceCreate {
    /// Its title.
    #[schema(example = "Q3 access review of the training cluster")]
    pub title: String,
    /// What it shows.
    pub description: Option<String>,
    /// What kind of evidence it is.
    pub kind: EvidenceKind,
    /// For links (required for `link`): an http(s) URL.
    #[schema(format = "uri")]
    pub url: Option<String>,
    /// When it was collected.
    pub collected_at: Option<DateTime<Utc>>,
    /// Until when it is valid; omit for no expiry.
    pub valid_until: Option<DateTime<Utc>>,
    /// Controls of this organization it supports.
    #[serde(default)]
    pub control_ids: Vec<Uuid>,
}

/// Filters of the evidence list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvidenceQuery {
    /// Only evidence linked to this control.
    pub control_id: Option<Uuid>,
    /// Only evidence in this review state.
    pub review_status: Option<ReviewStatus>,
    /// Only this kind.
    pub kind: Option<EvidenceKind>,
    /// Only expired (`true`) or unexpired (`false`) evidence.
    pub expired: Option<bool>,
    /// Only evidence whose `valid_until` is before this time (RFC 3339).
    pub expiring_before: Option<DateTime<Utc>>,
    /// Text search in title and description (case-insensitive).
    pub q: Option<String>,
    /// Only evidence changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
}

/// List evidence.
///
/// Archived evidence is not listed.
#[utoipa::path(
    tag = "evidence",
    params(("org_id" = Uuid, Path, description = ORG_ID), EvidenceQuery, PageQuery),
    responses(
        (status = 200, description = "A page of evidence", body = EvidencePage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[get("/evidence")]
pub async fn evidence_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<Uuid>,
    query: web::Query<EvidenceQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let q = query.into_inner();
    let filter = EvidenceFilter {
        control_id: q.control_id.map(|id| id.to_string()),
        review_status: q.review_status,
        kind: q.kind,
        expired: q.expired,
        expiring_before: q.expiring_before,
        q: q.q,
        updated_since: q.updated_since,
    };
    let page = evidence::list(
        &state.db,
        &principal,
        &path.to_string(),
        &filter,
        &page.request()?,
    )
    .await?;
    Ok(list_response(&req, evidence_page(page)?))
}

/// Create evidence.
///
/// Editors and admins. Starts `pending` review; upload the file with `PUT …/content`.
/// Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "evidence",
    request_body = EvidenceCreate,
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        IdempotencyHeader,
    ),
    responses(
        (status = 201, description = "The evidence was created", body = Evidence,
            headers(("Location" = String, description = "The evidence's URL"), ("ETag" = String, description = "The version's entity tag"))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = UnprocessableEntity),
    )
)]
#[post("/evidence")]
pub async fn evidence_create(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<Uuid>,
    body: Body<EvidenceCreate>,
) -> Result<HttpResponse> {
    let org_id = path.to_string();
    let hash = idempotency::fingerprint("POST", req.path(), &*body);
    let base = crate::api::responses::path_of(&req);
    let body = body.into_inner();
    let new = NewEvidence {
        title: body.title,
        description: body.description,
        kind: body.kind,
        url: body.url,
        collected_at: body.collected_at,
        valid_until: body.valid_until,
        control_ids: body.control_ids.iter().map(Uuid::to_string).collect(),
    };
    let outcome = idempotency::create_once(
        &state.db,
        &principal,
        idempotency_key(&req).as_deref(),
        &hash,
        async |txn| {
            let evidence =
                Evidence::from_view(evidence::create(txn, &principal, &org_id, new).await?)?;
            created(format!("{base}/{}", evidence.id), &evidence)
        },
    )
    .await?;
    Ok(created_response(outcome))
}

/// Get evidence.
///
/// Archived evidence is still returned, with `archived_at` set.
#[utoipa::path(
    tag = "evidence",
    params(("org_id" = Uuid, Path, description = ORG_ID), ("evidence_id" = Uuid, Path, description = EVIDENCE_ID)),
    responses(
        (status = 200, description = "The evidence", body = Evidence,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[get("/evidence/{evidence_id}")]
pub async fn evidence_get(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse> {
    let (org_id, evidence_id) = path.into_inner();
    let evidence = Evidence::from_view(
        evidence::get(
            &state.db,
            &principal,
            &org_id.to_string(),
            &evidence_id.to_string(),
        )
        .await?,
    )?;
    Ok(ok_with_etag(evidence.version, &evidence))
}

/// Changes to evidence. Absent fields are left as they are; `null` clears a nullable field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceUpdate {
    /// New title.
    pub title: Option<String>,
    /// New description.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub description: Option<Option<String>>,
    /// New kind.
    pub kind: Option<EvidenceKind>,
    /// New URL.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub url: Option<Option<String>>,
    /// New collection time.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<DateTime<Utc>>, nullable)]
    pub collected_at: Option<Option<DateTime<Utc>>>,
    /// New validity; changing it returns accepted evidence to `pending`.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<DateTime<Utc>>, nullable)]
    pub valid_until: Option<Option<DateTime<Utc>>>,
}

/// Update evidence.
///
/// Editors and admins. Changing `valid_until` of accepted evidence returns it to `pending`.
/// Honours `If-Match`.
#[utoipa::path(
    tag = "evidence",
    request_body = EvidenceUpdate,
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        ("evidence_id" = Uuid, Path, description = EVIDENCE_ID),
        IfMatchHeader,
    ),
    responses(
        (status = 200, description = "The updated evidence", body = Evidence,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = UnprocessableEntity),
    )
)]
#[patch("/evidence/{evidence_id}")]
pub async fn evidence_update(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
    body: Body<EvidenceUpdate>,
) -> Result<HttpResponse> {
    let (org_id, evidence_id) = path.into_inner();
    let body = body.into_inner();
    let patch = EvidencePatch {
        title: body.title,
        description: body.description,
        kind: body.kind,
        url: body.url,
        collected_at: body.collected_at,
        valid_until: body.valid_until,
    };
    let view = evidence::update(
        &state.db,
        &principal,
        &org_id.to_string(),
        &evidence_id.to_string(),
        if_match(&req).as_ref(),
        patch,
    )
    .await?;
    let evidence = Evidence::from_view(view)?;
    Ok(ok_with_etag(evidence.version, &evidence))
}

/// Archive evidence.
///
/// Admins. The evidence is kept (and stays in the audit trail) but is hidden from lists and
/// no longer counts for readiness. Archiving twice is harmless.
#[utoipa::path(
    tag = "evidence",
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        ("evidence_id" = Uuid, Path, description = EVIDENCE_ID),
        IfMatchHeader,
    ),
    responses(
        (status = 204, description = "The evidence was archived"),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
    )
)]
#[delete("/evidence/{evidence_id}")]
pub async fn evidence_delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse> {
    let (org_id, evidence_id) = path.into_inner();
    evidence::archive(
        &state.db,
        &principal,
        &org_id.to_string(),
        &evidence_id.to_string(),
        if_match(&req).as_ref(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

fn upload_filename(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::CONTENT_DISPOSITION)?;
    let disposition = ContentDisposition::from_raw(value).ok()?;
    let name = disposition
        .get_filename_ext()
        .and_then(|ext| String::from_utf8(ext.value.clone()).ok())
        .or_else(|| disposition.get_filename().map(str::to_owned))?;
    sanitize_filename(&name)
}

fn upload_media_type(req: &HttpRequest) -> Result<String> {
    match req.headers().get(header::CONTENT_TYPE) {
        None => Ok("application/octet-stream".to_owned()),
        Some(value) => {
            let text = value.to_str().map_err(|_| {
                AppError::UnsupportedMediaType(
                    "`Content-Type` is not a valid media type".to_owned(),
                )
            })?;
            let parsed: mime::Mime = text.parse().map_err(|_| {
                AppError::UnsupportedMediaType(
                    "`Content-Type` is not a valid media type".to_owned(),
                )
            })?;
            Ok(parsed.essence_str().to_owned())
        }
    }
}

/// Upload the evidence's file.
///
/// Editors and admins. The body is the raw file in any media type (its `Content-Type` is kept),
/// with an optional `Content-Disposition` file name. It is hashed (SHA-256) and stored in the
/// database, deduplicated, in the same transaction as the evidence change. Over
/// `ANNEXA_MAX_UPLOAD_BYTES` (default 25 MiB) it is refused with 413 and nothing changes.
/// Replacing the content of accepted evidence returns it to `pending`.
#[utoipa::path(
    tag = "evidence",
    request_body(
        content = FileBytes,
        content_type = "application/octet-stream",
        description = "The file's bytes. Any media type is accepted: send the file's own `Content-Type` (e.g. `application/pdf`); it is stored and returned on download."
    ),
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        ("evidence_id" = Uuid, Path, description = EVIDENCE_ID),
        ("Content-Disposition" = Option<String>, Header, description = "`attachment; filename=\"report.pdf\"`"),
        IfMatchHeader,
    ),
    responses(
        (status = 200, description = "The stored content", body = EvidenceContent,
            headers(("ETag" = String, description = "The evidence's new entity tag"))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = UnprocessableEntity),
    )
)]
#[put("/evidence/{evidence_id}/content")]
pub async fn evidence_content_put(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
    mut payload: web::Payload,
) -> Result<HttpResponse> {
    let (org_id, evidence_id) = path.into_inner();
    let (org_id, evidence_id) = (org_id.to_string(), evidence_id.to_string());
    // Refuse early, before reading a body that cannot be stored.
    evidence::check_writable(&state.db, &principal, &org_id, &evidence_id).await?;
    let media_type = upload_media_type(&req)?;
    let limit = state.settings.max_upload_bytes;
    let too_large =
        || AppError::PayloadTooLarge(format!("evidence content is limited to {limit} bytes"));
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    let capacity = usize::try_from(declared.unwrap_or(0).min(limit)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    let mut hasher = Sha256::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| AppError::bad_request("body", format!("could not be read: {e}")))?;
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Err(too_large());
        }
        hasher.update(&chunk);
        bytes.extend_from_slice(&chunk);
    }
    if bytes.is_empty() {
        return Err(AppError::invalid("body", "the file must not be empty"));
    }
    let sha256 = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let upload = Upload {
        bytes,
        sha256,
        media_type,
        filename: upload_filename(&req),
    };
    let view = evidence::put_content(
        &state.db,
        &principal,
        &org_id,
        &evidence_id,
        if_match(&req).as_ref(),
        upload,
    )
    .await?;
    let evidence = Evidence::from_view(view)?;
    let content = evidence
        .content
        .clone()
        .ok_or_else(|| AppError::internal("content missing after upload"))?;
    Ok(ok_with_etag(evidence.version, &content))
}

/// Download the evidence's file.
///
/// The stored bytes with their `Content-Type`, `Content-Length`, `ETag` (the SHA-256) and
/// `Content-Disposition: attachment`. Answers `If-None-Match` with 304.
#[utoipa::path(
    tag = "evidence",
    params(("org_id" = Uuid, Path, description = ORG_ID), ("evidence_id" = Uuid, Path, description = EVIDENCE_ID)),
    responses(
        (status = 200, description = "The file, with the media type it was uploaded with",
            content((FileBytes = "application/octet-stream"), (FileBytes = "*/*")),
            headers(
                ("ETag" = String, description = "`\"<sha256>\"`"),
                ("Content-Disposition" = String, description = "`attachment; filename=…`"),
            )),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[get("/evidence/{evidence_id}/content")]
pub async fn evidence_content_get(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse> {
    let (org_id, evidence_id) = path.into_inner();
    let download = evidence::get_content(
        &state.db,
        &principal,
        &org_id.to_string(),
        &evidence_id.to_string(),
    )
    .await?;
    let e = download.evidence;
    let etag = format!("\"{}\"", e.content_sha256.as_deref().unwrap_or_default());
    let not_modified = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if not_modified {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish());
    }
    let name = e
        .content_filename
        .clone()
        .unwrap_or_else(|| format!("evidence-{}", e.id));
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii_filename(&name)),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".to_owned()),
                language_tag: None,
                value: name.into_bytes(),
            }),
        ],
    };
    Ok(HttpResponse::Ok()
        .content_type(
            e.content_media_type
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
        )
        .insert_header((header::ETAG, etag))
        .insert_header(disposition)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .body(download.bytes))
}

/// A review decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceReview {
    /// Accept or reject.
    pub decision: ReviewDecision,
    /// Why (required when rejecting).
    pub comment: Option<String>,
}

/// Review evidence.
///
/// Auditors and admins accept or reject evidence. Nobody reviews evidence they submitted
/// themselves (segregation of duties, ISO 27001 A.5.3): that is 403.
#[utoipa::path(
    tag = "evidence",
    request_body = EvidenceReview,
    params(("org_id" = Uuid, Path, description = ORG_ID), ("evidence_id" = Uuid, Path, description = EVIDENCE_ID)),
    responses(
        (status = 200, description = "The reviewed evidence", body = Evidence,
            headers(("ETag" = String, description = "The version's entity tag"))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = UnprocessableEntity),
    )
)]
#[post("/evidence/{evidence_id}/review")]
pub async fn evidence_review(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
    body: Body<EvidenceReview>,
) -> Result<HttpResponse> {
    let (org_id, evidence_id) = path.into_inner();
    let body = body.into_inner();
    let view = evidence::review(
        &state.db,
        &principal,
        &org_id.to_string(),
        &evidence_id.to_string(),
        body.decision,
        body.comment,
    )
    .await?;
    let evidence = Evidence::from_view(view)?;
    Ok(ok_with_etag(evidence.version, &evidence))
}

/// List a control's evidence.
#[utoipa::path(
    tag = "evidence",
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        ("control_id" = Uuid, Path, description = "The control's id"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of the control's evidence", body = EvidencePage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[get("/controls/{control_id}/evidence")]
pub async fn control_evidence_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let (org_id, control_id) = path.into_inner();
    let page = evidence::list_for_control(
        &state.db,
        &principal,
        &org_id.to_string(),
        &control_id.to_string(),
        &page.request()?,
    )
    .await?;
    Ok(list_response(&req, evidence_page(page)?))
}

/// Link evidence to a control.
///
/// Editors and admins. Both must belong to the organization. Linking twice is harmless.
#[utoipa::path(
    tag = "evidence",
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        ("control_id" = Uuid, Path, description = "The control's id"),
        ("evidence_id" = Uuid, Path, description = EVIDENCE_ID),
    ),
    responses(
        (status = 204, description = "The evidence is linked"),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    )
)]
#[put("/controls/{control_id}/evidence/{evidence_id}")]
pub async fn control_evidence_link(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid, Uuid)>,
) -> Result<HttpResponse> {
    let (org_id, control_id, evidence_id) = path.into_inner();
    evidence::link(
        &state.db,
        &principal,
        &org_id.to_string(),
        &control_id.to_string(),
        &evidence_id.to_string(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Unlink evidence from a control.
///
/// Editors and admins. Unlinking what is not linked is harmless.
#[utoipa::path(
    tag = "evidence",
    params(
        ("org_id" = Uuid, Path, description = ORG_ID),
        ("control_id" = Uuid, Path, description = "The control's id"),
        ("evidence_id" = Uuid, Path, description = EVIDENCE_ID),
    ),
    responses(
        (status = 204, description = "The evidence is not linked"),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
#[delete("/controls/{control_id}/evidence/{evidence_id}")]
pub async fn control_evidence_unlink(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid, Uuid)>,
) -> Result<HttpResponse> {
    let (org_id, control_id, evidence_id) = path.into_inner();
    evidence::unlink(
        &state.db,
        &principal,
        &org_id.to_string(),
        &control_id.to_string(),
        &evidence_id.to_string(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
