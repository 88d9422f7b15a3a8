//! The file of a piece of evidence: hashed, size-limited upload and download (docs/evidence.md).

// Route paths are relative to the organization's scope, `/api/v1/organizations/{org_id}`
// (see `api::configure`).

use actix_web::{
    HttpRequest, HttpResponse, get,
    http::header::{
        self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
    },
    put, web,
};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::{
    api::{
        evidence::dto::{EVIDENCE_ID, Evidence, EvidenceContent, FileBytes},
        extract::{Ctx, OrgItemPath, OrgPath},
        responses::{Conflict, IfMatchHeader, if_match, ok_with_etag},
    },
    domain::evidence::{ascii_filename, sanitize_filename},
    error::{AppError, Result},
    service::evidence::{self as service, Upload},
};

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
        OrgPath,
        ("evidence_id" = Uuid, Path, description = EVIDENCE_ID),
        ("Content-Disposition" = Option<String>, Header, description = "`attachment; filename=\"report.pdf\"`"),
        IfMatchHeader,
    ),
    responses(
        (status = 200, description = "The stored content", body = EvidenceContent,
            headers(("ETag" = String, description = "The evidence's new entity tag"))),
        (status = 409, response = Conflict),
    )
)]
#[put("/evidence/{evidence_id}/content")]
pub async fn evidence_content_put(
    ctx: Ctx,
    req: HttpRequest,
    path: OrgItemPath,
    mut payload: web::Payload,
) -> Result<HttpResponse> {
    let (org_id, evidence_id) = (path.org_id, path.item);
    // Refuse early, before reading a body that cannot be stored.
    service::check_writable(&ctx.db, &ctx.principal, &org_id, &evidence_id).await?;
    let media_type = upload_media_type(&req)?;
    let limit = ctx.settings.max_upload_bytes;
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
    let view = service::put_content(
        &ctx.db,
        &ctx.principal,
        &org_id,
        &evidence_id,
        if_match(&req).as_ref(),
        upload,
    )
    .await?;
    let evidence = Evidence::from(view);
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
    params(OrgPath, ("evidence_id" = Uuid, Path, description = EVIDENCE_ID)),
    responses(
        (status = 200, description = "The file, with the media type it was uploaded with",
            content((FileBytes = "application/octet-stream"), (FileBytes = "*/*")),
            headers(
                ("ETag" = String, description = "`\"<sha256>\"`"),
                ("Content-Disposition" = String, description = "`attachment; filename=…`"),
            )),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    )
)]
#[get("/evidence/{evidence_id}/content")]
pub async fn evidence_content_get(
    ctx: Ctx,
    req: HttpRequest,
    path: OrgItemPath,
) -> Result<HttpResponse> {
    let download = service::get_content(&ctx.db, &ctx.principal, &path.org_id, &path.item).await?;
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
