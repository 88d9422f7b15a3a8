//! The read-only catalog: frameworks, requirements and cross-framework mappings (docs/catalog.md).
//! Responses carry a content `ETag` and `Cache-Control`, and answer `If-None-Match` with 304.

use actix_web::{HttpRequest, HttpResponse, get, http::header, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    api::{
        extract::Ctx,
        pagination::{PageQuery, list_response, try_page},
        responses::NotFound,
    },
    catalog::{ATTRIBUTES, GroupData},
    crypto::sha256_hex,
    error::{AppError, Result},
    page_schema,
    service::catalog::{self as catalog_service, FrameworkSummary, MappingView, RequirementFilter},
};

/// A group of requirements: a clause, an Annex A theme or a checklist heading.
#[derive(Debug, Serialize, ToSchema)]
pub struct FrameworkGroup {
    /// The group's key, as used in the `group` filter and on requirements.
    #[schema(example = "A.5")]
    pub key: String,
    /// The group's title.
    #[schema(example = "Organizational controls")]
    pub title: String,
    /// How many requirements it holds.
    pub requirement_count: u64,
}

/// A framework shipped with the service.
#[derive(Debug, Serialize, ToSchema)]
pub struct Framework {
    /// The framework's key.
    #[schema(example = "iso27001-2022")]
    pub key: String,
    /// Its short name.
    #[schema(example = "ISO/IEC 27001:2022")]
    pub name: String,
    /// Its full title.
    pub title: String,
    /// Who publishes it.
    pub publisher: String,
    /// The edition or version.
    pub version: String,
    /// What it is, in a sentence or two.
    pub description: String,
    /// The revision of Annexa's data for it.
    pub data_version: i32,
    /// How many requirements it has.
    pub requirement_count: u64,
    /// Its groups, in order.
    pub groups: Vec<FrameworkGroup>,
    /// When its data was last loaded with changes.
    pub updated_at: DateTime<Utc>,
}

impl Framework {
    fn from_summary(summary: FrameworkSummary) -> Result<Self> {
        let f = summary.framework;
        let groups: Vec<GroupData> = serde_json::from_str(&f.groups).map_err(AppError::internal)?;
        let groups: Vec<FrameworkGroup> = groups
            .into_iter()
            .map(|g| FrameworkGroup {
                requirement_count: summary.counts.get(&g.key).copied().unwrap_or(0),
                key: g.key,
                title: g.title,
            })
            .collect();
        Ok(Self {
            requirement_count: groups.iter().map(|g| g.requirement_count).sum(),
            key: f.key,
            name: f.name,
            title: f.title,
            publisher: f.publisher,
            version: f.version,
            description: f.description,
            data_version: f.data_version,
            groups,
            updated_at: f.updated_at,
        })
    }
}

/// The list of frameworks.
#[derive(Debug, Serialize, ToSchema)]
pub struct FrameworkList {
    /// Every shipped framework.
    pub items: Vec<Framework>,
}

/// The kind of a requirement.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RequirementKind {
    /// A management-system clause (4–10): mandatory, cannot be excluded.
    Clause,
    /// An Annex A control.
    Control,
    /// An item of the AI audit checklist.
    ChecklistItem,
}

impl RequirementKind {
    fn parse(value: &str) -> Result<Self> {
        serde_json::from_value(serde_json::Value::String(value.to_owned()))
            .map_err(AppError::internal)
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Clause => "clause",
            Self::Control => "control",
            Self::ChecklistItem => "checklist_item",
        }
    }
}

/// ISO/IEC 27002:2022 attributes of an Annex A control.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RequirementAttributes {
    /// `preventive`, `detective`, `corrective`.
    pub control_type: Vec<String>,
    /// `confidentiality`, `integrity`, `availability`.
    pub security_properties: Vec<String>,
    /// `identify`, `protect`, `detect`, `respond`, `recover`.
    pub cybersecurity_concepts: Vec<String>,
    /// Operational capabilities such as `asset_management` or `identity_and_access_management`.
    pub operational_capabilities: Vec<String>,
    /// `governance_and_ecosystem`, `protection`, `defence`, `resilience`.
    pub security_domains: Vec<String>,
}

/// A requirement of a framework.
#[derive(Debug, Serialize, ToSchema)]
pub struct Requirement {
    /// The framework's key.
    #[schema(example = "iso27001-2022")]
    pub framework: String,
    /// The requirement's reference within the framework.
    #[serde(rename = "ref")]
    #[schema(example = "A.5.7")]
    pub reference: String,
    /// Its short name.
    #[schema(example = "Threat intelligence")]
    pub title: String,
    /// Its group's key.
    #[schema(example = "A.5")]
    pub group: String,
    /// For checklist items: the sub-heading it sits under.
    pub section: Option<String>,
    /// Clause, control or checklist item.
    pub kind: RequirementKind,
    /// What an organization must do or show, in our own words.
    pub description: String,
    /// ISO/IEC 27002:2022 attributes (Annex A controls of ISO 27001 only).
    pub attributes: Option<RequirementAttributes>,
}

impl TryFrom<entity::requirement::Model> for Requirement {
    type Error = AppError;

    fn try_from(r: entity::requirement::Model) -> Result<Self> {
        let attributes = match r.attributes.as_deref() {
            Some(json) => Some(serde_json::from_str(json).map_err(AppError::internal)?),
            None => None,
        };
        Ok(Self {
            kind: RequirementKind::parse(r.kind.as_str())?,
            framework: r.framework_key,
            reference: r.reference,
            title: r.title,
            group: r.group_key,
            section: r.section,
            description: r.description,
            attributes,
        })
    }
}

page_schema!(RequirementPage, Requirement, "A page of requirements.");

/// How two requirements relate, read `from <relationship> to`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Relationship {
    /// Same scope.
    Equivalent,
    /// `from` covers a narrower part of `to`.
    SubsetOf,
    /// `from` covers more than `to`.
    SupersetOf,
    /// They overlap partly.
    Intersects,
    /// They support each other without overlapping scope.
    Related,
}

impl Relationship {
    fn parse(value: &str) -> Result<Self> {
        serde_json::from_value(serde_json::Value::String(value.to_owned()))
            .map_err(AppError::internal)
    }

    fn inverse(self) -> Self {
        match self {
            Self::SubsetOf => Self::SupersetOf,
            Self::SupersetOf => Self::SubsetOf,
            other => other,
        }
    }
}

/// One end of a mapping.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequirementRef {
    /// The framework's key.
    pub framework: String,
    /// The requirement's reference.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Its short name.
    pub title: String,
}

impl From<&entity::requirement::Model> for RequirementRef {
    fn from(r: &entity::requirement::Model) -> Self {
        Self {
            framework: r.framework_key.clone(),
            reference: r.reference.clone(),
            title: r.title.clone(),
        }
    }
}

/// A mapping between requirements of two frameworks.
#[derive(Debug, Serialize, ToSchema)]
pub struct Mapping {
    /// The requirement the relationship is read from.
    pub from: RequirementRef,
    /// The requirement the relationship is read to.
    pub to: RequirementRef,
    /// How `from` relates to `to`.
    pub relationship: Relationship,
    /// Why, in one sentence.
    pub rationale: String,
}

impl Mapping {
    fn from_view(view: &MappingView) -> Result<Self> {
        Ok(Self {
            from: RequirementRef::from(&view.from),
            to: RequirementRef::from(&view.to),
            relationship: Relationship::parse(&view.mapping.relationship)?,
            rationale: view.mapping.rationale.clone(),
        })
    }
}

page_schema!(MappingPage, Mapping, "A page of mappings.");

/// A mapping seen from one requirement.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelatedRequirement {
    /// The requirement at the other end.
    pub requirement: RequirementRef,
    /// How this requirement relates to the other one (`this <relationship> other`).
    pub relationship: Relationship,
    /// Why, in one sentence.
    pub rationale: String,
}

/// A requirement with its mappings.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequirementDetail {
    #[serde(flatten)]
    pub requirement: Requirement,
    /// Every mapping that involves this requirement, from its point of view.
    pub mappings: Vec<RelatedRequirement>,
}

/// Serializes `body`, tags it with a content hash and honours `If-None-Match` (304).
pub(super) fn cached_json<T: Serialize>(req: &HttpRequest, body: &T) -> Result<HttpResponse> {
    let bytes = serde_json::to_vec(body).map_err(AppError::internal)?;
    let etag = format!("\"{}\"", &sha256_hex(&bytes)[..32]);
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut builder = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    builder
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "private, max-age=300"));
    Ok(if matches {
        builder.finish()
    } else {
        builder.content_type("application/json").body(bytes)
    })
}

/// List frameworks.
///
/// The frameworks shipped with the service, with their groups and requirement counts.
#[utoipa::path(
    tag = "catalog",
    responses(
        (status = 200, description = "Every framework", body = FrameworkList,
            headers(("ETag" = String, description = "Content hash"), ("Cache-Control" = String, description = "Caching policy"))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    )
)]
#[get("/frameworks")]
pub async fn framework_list(ctx: Ctx, req: HttpRequest) -> Result<HttpResponse> {
    let items = catalog_service::list_frameworks(&ctx.db)
        .await?
        .into_iter()
        .map(Framework::from_summary)
        .collect::<Result<Vec<_>>>()?;
    cached_json(&req, &FrameworkList { items })
}

/// Get a framework.
#[utoipa::path(
    tag = "catalog",
    params(("key" = String, Path, description = "The framework's key", example = "iso27001-2022")),
    responses(
        (status = 200, description = "The framework", body = Framework,
            headers(("ETag" = String, description = "Content hash"), ("Cache-Control" = String, description = "Caching policy"))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    )
)]
#[get("/frameworks/{key}")]
pub async fn framework_get(
    ctx: Ctx,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse> {
    let framework = Framework::from_summary(catalog_service::get_framework(&ctx.db, &key).await?)?;
    cached_json(&req, &framework)
}

/// Filters of the requirement list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequirementQuery {
    /// Only this group (e.g. `A.8` or `6`).
    pub group: Option<String>,
    /// Only this kind.
    pub kind: Option<RequirementKind>,
    /// Text search in ref, title and description (case-insensitive).
    pub q: Option<String>,
    /// ISO 27002 control type: `preventive`, `detective`, `corrective`.
    #[param(schema_with = control_type_schema)]
    pub control_type: Option<String>,
    /// ISO 27002 security property: `confidentiality`, `integrity`, `availability`.
    #[param(schema_with = security_properties_schema)]
    pub security_properties: Option<String>,
    /// ISO 27002 cybersecurity concept: `identify`, `protect`, `detect`, `respond`, `recover`.
    #[param(schema_with = cybersecurity_concepts_schema)]
    pub cybersecurity_concepts: Option<String>,
    /// ISO 27002 operational capability, e.g. `asset_management`.
    #[param(schema_with = operational_capabilities_schema)]
    pub operational_capabilities: Option<String>,
    /// ISO 27002 security domain: `governance_and_ecosystem`, `protection`, `defence`, `resilience`.
    #[param(schema_with = security_domains_schema)]
    pub security_domains: Option<String>,
}

/// A string enum schema from one ISO 27002 attribute vocabulary.
fn attribute_schema(name: &str) -> utoipa::openapi::schema::Object {
    let values = ATTRIBUTES
        .iter()
        .find(|(k, _)| *k == name)
        .map_or(&[][..], |(_, v)| *v);
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}

fn control_type_schema() -> utoipa::openapi::schema::Object {
    attribute_schema("control_type")
}

fn security_properties_schema() -> utoipa::openapi::schema::Object {
    attribute_schema("security_properties")
}

fn cybersecurity_concepts_schema() -> utoipa::openapi::schema::Object {
    attribute_schema("cybersecurity_concepts")
}

fn operational_capabilities_schema() -> utoipa::openapi::schema::Object {
    attribute_schema("operational_capabilities")
}

fn security_domains_schema() -> utoipa::openapi::schema::Object {
    attribute_schema("security_domains")
}

impl RequirementQuery {
    fn filter(&self) -> Result<RequirementFilter> {
        let mut attributes = Vec::new();
        for (name, value) in [
            ("control_type", &self.control_type),
            ("security_properties", &self.security_properties),
            ("cybersecurity_concepts", &self.cybersecurity_concepts),
            ("operational_capabilities", &self.operational_capabilities),
            ("security_domains", &self.security_domains),
        ] {
            let Some(value) = value else { continue };
            let (key, vocabulary) = ATTRIBUTES
                .iter()
                .find(|(k, _)| *k == name)
                .ok_or_else(|| AppError::internal("attribute table"))?;
            if !vocabulary.contains(&value.as_str()) {
                return Err(AppError::bad_request(
                    name,
                    format!("must be one of: {}", vocabulary.join(", ")),
                ));
            }
            attributes.push((*key, value.clone()));
        }
        Ok(RequirementFilter {
            group: self.group.clone(),
            kind: self.kind.map(|k| k.as_str().to_owned()),
            q: self.q.clone(),
            attributes,
        })
    }
}

/// List a framework's requirements.
///
/// In the standard's order, filterable by group, kind, text and ISO 27002 attributes.
#[utoipa::path(
    tag = "catalog",
    params(("key" = String, Path, description = "The framework's key", example = "iso27001-2022"), RequirementQuery, PageQuery),
    responses(
        (status = 200, description = "A page of requirements", body = RequirementPage,
            headers(("Cache-Control" = String, description = "Caching policy"), ("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
    )
)]
#[get("/frameworks/{key}/requirements")]
pub async fn requirement_list(
    ctx: Ctx,
    req: HttpRequest,
    key: web::Path<String>,
    query: web::Query<RequirementQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let page =
        catalog_service::list_requirements(&ctx.db, &key, &query.filter()?, &page.request()?)
            .await?;
    let mut response = list_response(&req, try_page::<_, Requirement>(page)?);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, max-age=300"),
    );
    Ok(response)
}

/// Get a requirement with its mappings.
#[utoipa::path(
    tag = "catalog",
    params(
        ("key" = String, Path, description = "The framework's key", example = "iso27001-2022"),
        ("ref" = String, Path, description = "The requirement's reference", example = "A.5.7"),
    ),
    responses(
        (status = 200, description = "The requirement and its mappings", body = RequirementDetail,
            headers(("ETag" = String, description = "Content hash"), ("Cache-Control" = String, description = "Caching policy"))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    )
)]
#[get("/frameworks/{key}/requirements/{ref}")]
pub async fn requirement_get(
    ctx: Ctx,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let (key, reference) = path.into_inner();
    let (requirement, views) = catalog_service::get_requirement(&ctx.db, &key, &reference).await?;
    let own_id = requirement.id.clone();
    let mut mappings = Vec::with_capacity(views.len());
    for view in &views {
        let relationship = Relationship::parse(&view.mapping.relationship)?;
        let (other, relationship) = if view.from.id == own_id {
            (&view.to, relationship)
        } else {
            (&view.from, relationship.inverse())
        };
        mappings.push(RelatedRequirement {
            requirement: RequirementRef::from(other),
            relationship,
            rationale: view.mapping.rationale.clone(),
        });
    }
    let detail = RequirementDetail {
        requirement: Requirement::try_from(requirement)?,
        mappings,
    };
    cached_json(&req, &detail)
}

/// Filters of the mapping list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MappingQuery {
    /// Only mappings from this framework's requirements.
    #[param(example = "ai-audit-checklist")]
    pub from: Option<String>,
    /// Only mappings to this framework's requirements.
    #[param(example = "iso27001-2022")]
    pub to: Option<String>,
}

/// List mappings.
///
/// Relationships between requirements of different frameworks, in catalog order.
#[utoipa::path(
    tag = "catalog",
    params(MappingQuery, PageQuery),
    responses(
        (status = 200, description = "A page of mappings", body = MappingPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        (status = 404, response = NotFound),
    )
)]
#[get("/mappings")]
pub async fn mapping_list(
    ctx: Ctx,
    req: HttpRequest,
    query: web::Query<MappingQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let page = catalog_service::list_mappings(
        &ctx.db,
        query.from.as_deref(),
        query.to.as_deref(),
        &page.request()?,
    )
    .await?;
    let next_after = page.next_after.clone();
    let items = page
        .items
        .iter()
        .map(Mapping::from_view)
        .collect::<Result<Vec<_>>>()?;
    Ok(list_response(
        &req,
        crate::service::page::Page { items, next_after },
    ))
}
