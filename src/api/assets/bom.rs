//! CycloneDX BOMs and the inventory (docs/cyclonedx.md): the import handler, its report, and
//! the export's media type.

use actix_web::{HttpRequest, HttpResponse, http::header, post, web};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    api::extract::{Ctx, OrgPath},
    error::{AppError, Result},
    service::assets::{
        AssetFilter,
        bom::{self, ImportReport},
    },
};

/// The media type of a CycloneDX JSON BOM.
pub const CYCLONEDX_JSON: &str = "application/vnd.cyclonedx+json";

/// Whether the caller asks for the inventory as a CycloneDX BOM (`Accept`).
pub fn wants_cyclonedx(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            accept
                .split(',')
                .any(|part| part.trim().starts_with(CYCLONEDX_JSON))
        })
}

/// The inventory as a CycloneDX 1.6 BOM.
pub async fn export(ctx: &Ctx, org_id: &str, filter: &AssetFilter) -> Result<HttpResponse> {
    let bom = bom::export(&ctx.db, &ctx.principal, org_id, filter).await?;
    Ok(HttpResponse::Ok()
        .content_type(CYCLONEDX_JSON)
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"assets.cdx.json\"",
        ))
        .json(bom))
}

/// A CycloneDX 1.6 JSON BOM (only its outline is described here; see the CycloneDX schema).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CycloneDxBom {
    /// Always `CycloneDX`.
    #[serde(rename = "bomFormat")]
    #[schema(example = "CycloneDX")]
    pub bom_format: String,
    /// `1.5`, `1.6` or `1.7` on import; `1.6` on export.
    #[serde(rename = "specVersion")]
    #[schema(example = "1.6")]
    pub spec_version: String,
    /// `urn:uuid:…`: with each component's `bom-ref` (else `purl`), the import's key.
    #[serde(rename = "serialNumber")]
    #[schema(value_type = String, example = "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79")]
    pub serial_number: Option<String>,
    /// The BOM's version.
    #[schema(example = 1, minimum = 1)]
    pub version: Option<i64>,
    /// Its metadata (`timestamp`, `tools`…).
    #[schema(value_type = Object, required = false)]
    pub metadata: Option<serde_json::Value>,
    /// Its components: `machine-learning-model`, `data`, `platform`… with `modelCard`, `data`
    /// (componentData), `hashes`, `externalReferences`, `supplier`.
    #[schema(value_type = Vec<Object>, required = false)]
    pub components: Option<Vec<serde_json::Value>>,
    /// What depends on what (`ref`, `dependsOn`).
    #[schema(value_type = Vec<Object>, required = false)]
    pub dependencies: Option<Vec<serde_json::Value>>,
}

/// Options of an import.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Answer what the import would do, writing nothing (default false).
    #[serde(default)]
    pub dry_run: bool,
}

/// Assets of one outcome of an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportOutcome {
    /// How many.
    #[schema(example = 1)]
    pub count: usize,
    /// Their ids, in the BOM's order.
    pub ids: Vec<String>,
}

/// A supplier an import created from a component's `supplier` (or `manufacturer`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportedSupplier {
    /// The supplier's id.
    pub id: String,
    /// Its name.
    #[schema(example = "Acme AI")]
    pub name: String,
}

/// What an import did, or in a dry run would do.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetImport {
    /// Whether nothing was written.
    pub dry_run: bool,
    /// The BOM's `serialNumber`.
    #[schema(example = "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79")]
    pub serial_number: String,
    /// Assets registered for components new to this BOM serial.
    pub created: ImportOutcome,
    /// Assets whose component changed (their version was bumped).
    pub updated: ImportOutcome,
    /// Assets whose component left the BOM: marked `retired`, never deleted.
    pub retired: ImportOutcome,
    /// Assets whose component did not change: left alone.
    pub unchanged: ImportOutcome,
    /// Components that are not imported (not a model, a dataset or a platform a model uses).
    #[schema(example = 2)]
    pub skipped: usize,
    /// Suppliers created for the components' suppliers not known by name.
    pub suppliers_created: Vec<ImportedSupplier>,
}

fn outcome(o: bom::Outcome) -> ImportOutcome {
    ImportOutcome {
        count: o.count,
        ids: o.ids,
    }
}

impl From<ImportReport> for AssetImport {
    fn from(r: ImportReport) -> Self {
        Self {
            dry_run: r.dry_run,
            serial_number: r.serial_number,
            created: outcome(r.created),
            updated: outcome(r.updated),
            retired: outcome(r.retired),
            unchanged: outcome(r.unchanged),
            skipped: r.skipped,
            suppliers_created: r
                .suppliers_created
                .into_iter()
                .map(|s| ImportedSupplier {
                    id: s.id,
                    name: s.name,
                })
                .collect(),
        }
    }
}

/// `application/vnd.cyclonedx+json` or `application/json` (parameters aside); 415 otherwise.
fn check_media_type(req: &HttpRequest) -> Result<()> {
    let refused = || {
        AppError::UnsupportedMediaType(format!(
            "a BOM is sent as `{CYCLONEDX_JSON}` or `application/json`"
        ))
    };
    let value = req
        .headers()
        .get(header::CONTENT_TYPE)
        .ok_or_else(refused)?;
    let parsed: mime::Mime = value
        .to_str()
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or_else(refused)?;
    match parsed.essence_str() {
        CYCLONEDX_JSON | "application/json" => Ok(()),
        _ => Err(refused()),
    }
}

/// The body, up to `limit` bytes (413 beyond).
async fn read_body(req: &HttpRequest, mut payload: web::Payload, limit: u64) -> Result<Vec<u8>> {
    let too_large = || AppError::PayloadTooLarge(format!("a BOM is limited to {limit} bytes"));
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    let mut bytes =
        Vec::with_capacity(usize::try_from(declared.unwrap_or(0).min(limit)).unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| AppError::bad_request("body", format!("could not be read: {e}")))?;
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Import a CycloneDX ML-BOM.
///
/// Editors and admins. Components of type `machine-learning-model` become `ml_model` assets,
/// `data` ones `dataset` assets, and the `application`/`platform`/`framework` components a model
/// depends on `ml_platform` assets; other components are skipped (docs/cyclonedx.md). Assets
/// are keyed by the BOM's `serialNumber` and each component's `bom-ref` (else `purl`): importing
/// the next BOM of the same serial updates changed assets, creates new ones, marks those that
/// left the BOM `retired` and leaves the rest alone. All or nothing: every problem is answered
/// at once (422, `errors[].field` a JSON pointer into the BOM) and nothing is written; a body
/// that is not JSON is 400, over `ANNEXA_MAX_UPLOAD_BYTES` 413. `dry_run=true` answers the same
/// without writing.
#[utoipa::path(
    tag = "assets",
    params(OrgPath, ImportQuery),
    request_body(
        content(
            (CycloneDxBom = "application/vnd.cyclonedx+json"),
            (CycloneDxBom = "application/json"),
        ),
        description = "A CycloneDX 1.5, 1.6 or 1.7 JSON BOM"
    ),
    responses(
        (status = 200, description = "What the import did (or would do)", body = AssetImport),
    )
)]
#[post("/assets/import")]
pub async fn asset_import(
    ctx: Ctx,
    req: HttpRequest,
    org: OrgPath,
    query: web::Query<ImportQuery>,
    payload: web::Payload,
) -> Result<HttpResponse> {
    check_media_type(&req)?;
    let bytes = read_body(&req, payload, ctx.settings.max_upload_bytes).await?;
    let report = bom::import(&ctx.db, &ctx.principal, &org.0, &bytes, query.dry_run).await?;
    Ok(HttpResponse::Ok().json(AssetImport::from(report)))
}

/// Another method on `…/assets/import` is 405 (without this route it would reach
/// `…/assets/{asset_id}` with `import` as an id).
pub async fn asset_import_other_methods() -> Result<HttpResponse> {
    Err(AppError::MethodNotAllowed {
        allow: "POST".to_owned(),
    })
}
