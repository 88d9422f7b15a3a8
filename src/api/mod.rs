//! The HTTP layer: routes, DTOs and the OpenAPI document generated from them.

pub mod assets;
pub mod audit;
pub mod auth;
pub mod body;
pub mod catalog;
pub mod controls;
pub mod create;
pub mod evidence;
pub mod extract;
pub mod fields;
pub mod findings;
pub mod implied;
pub mod ops;
pub mod organizations;
pub mod pagination;
pub mod readiness;
pub mod rendered;
pub mod responses;
pub mod risk_templates;
pub mod risks;
pub mod suppliers;
pub mod throttle;
pub mod users;
pub mod webhooks;

use actix_web::{HttpRequest, HttpResponse};
use utoipa::{
    Modify, OpenApi,
    openapi::{
        OpenApi as OpenApiDoc, PathItem, RefOr, Response, Schema,
        path::{Operation, ParameterIn},
        schema::{SchemaType, Type},
        security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
    },
};
use utoipa_actix_web::{AppExt, scope, service_config::ServiceConfig};

use crate::error::{AppError, FieldError, Problem};

/// Operations that need no bearer token.
pub const PUBLIC_OPERATIONS: [&str; 4] = ["ops_healthz", "ops_readyz", "auth_token", "auth_revoke"];

/// The static parts of the document; paths come from the registered services.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Annexa API",
        description = "A headless JSON API that tells an organization how ready it is for its ISO/IEC 27001 \
certification audit: controls (the Statement of Applicability), evidence, findings and readiness scores, \
for AI companies and the GRC tools, ticketing systems and dashboards that integrate with them.\n\n\
Errors are RFC 9457 `application/problem+json`. Lists use cursor pagination (`limit`, `cursor`, \
`next_cursor`, `Link: rel=\"next\"`). Single resources carry an `ETag`; `PATCH`/`DELETE` honour `If-Match`."
    ),
    components(
        schemas(Problem, FieldError, webhooks::WebhookPayload),
        responses(
            responses::BadRequest,
            responses::Unauthorized,
            responses::Forbidden,
            responses::NotFound,
            responses::Conflict,
            responses::PreconditionFailed,
            responses::PayloadTooLarge,
            responses::UnsupportedMediaType,
            responses::UnprocessableEntity,
            responses::TooManyRequests,
            responses::InternalError,
        )
    ),
    servers((url = "/", description = "This server")),
    modifiers(&CommonResponses),
    tags(
        (name = "ops", description = "Liveness and readiness probes"),
        (name = "auth", description = "Tokens (OAuth 2.0) and the current caller"),
        (name = "users", description = "User accounts (platform admins)"),
        (name = "organizations", description = "Organizations: the tenants"),
        (name = "members", description = "Members of an organization and their roles"),
        (name = "service-accounts", description = "Machine clients of an organization"),
        (name = "catalog", description = "The shipped frameworks, requirements and mappings"),
        (name = "controls", description = "Adopted frameworks, controls and the Statement of Applicability"),
        (name = "evidence", description = "Evidence files, their review and their links to controls"),
        (name = "findings", description = "Audit findings, their corrective actions and tickets"),
        (name = "assets", description = "The asset inventory, AI models and datasets among them, with their lineage"),
        (name = "readiness", description = "Readiness scores, their explanation and history"),
        (name = "risk-templates", description = "The shipped catalog of AI risk scenarios, starting points for the risk register"),
        (name = "audit", description = "The audit trail of every change"),
        (name = "risks", description = "The risk matrix, the risk register, acceptance and the treatment plan"),
        (name = "suppliers", description = "Suppliers, their data access, certifications and security reviews"),
        (name = "webhooks", description = "Signed outbound events (Standard Webhooks 1.0) for ticketing and automation"),
    )
)]
pub struct ApiDoc;

/// Registers every operation (used both by the server and to build the document).
pub fn configure(cfg: &mut ServiceConfig) {
    // The routes of an organization share one scope: a request is matched against its prefix
    // once, then against the rest of its path, instead of against every route's full pattern in
    // turn (what that cost a cached request: bench/README.md, "Routing").
    cfg.service(ops::ops_healthz)
        .service(ops::ops_readyz)
        .service(
            scope::scope("/api/v1")
                .service(auth::auth_token)
                .service(auth::auth_revoke)
                .service(auth::me_get)
                .service(users::user_create)
                .service(users::user_list)
                .service(organizations::organization_list)
                .service(organizations::organization_create)
                .service(catalog::framework_list)
                .service(catalog::framework_get)
                .service(catalog::requirement_list)
                .service(catalog::requirement_get)
                .service(catalog::mapping_list)
                .service(risk_templates::risk_template_list)
                .service(risk_templates::risk_template_get)
                .service(
                    scope::scope("/organizations/{org_id}")
                        .service(organizations::organization_get)
                        .service(organizations::organization_update)
                        .service(organizations::organization_delete)
                        .service(organizations::members::member_list)
                        .service(organizations::members::member_create)
                        .service(organizations::members::member_get)
                        .service(organizations::members::member_update)
                        .service(organizations::members::member_delete)
                        .service(organizations::service_accounts::service_account_list)
                        .service(organizations::service_accounts::service_account_create)
                        .service(organizations::service_accounts::service_account_delete)
                        .service(controls::adoption_list)
                        .service(controls::adoption_create)
                        .service(controls::adoption_get)
                        .service(controls::soa::soa_get)
                        .service(controls::control_list)
                        .service(controls::control_create)
                        .service(controls::control_get)
                        .service(controls::control_update)
                        .service(audit::audit_event_list)
                        .service(audit::audit_event_verify)
                        .service(audit::audit_event_export)
                        .service(evidence::evidence_list)
                        .service(evidence::evidence_create)
                        .service(evidence::evidence_get)
                        .service(evidence::evidence_update)
                        .service(evidence::evidence_delete)
                        .service(evidence::content::evidence_content_put)
                        .service(evidence::content::evidence_content_get)
                        .service(evidence::evidence_review)
                        .service(evidence::links::control_evidence_list)
                        .service(evidence::links::control_evidence_link)
                        .service(evidence::links::control_evidence_unlink)
                        .service(findings::finding_list)
                        .service(findings::finding_create)
                        .service(findings::finding_get)
                        .service(findings::finding_update)
                        .service(findings::finding_delete)
                        .service(assets::asset_list)
                        .service(assets::asset_create)
                        .service(assets::bom::asset_import)
                        .route(
                            "/assets/import",
                            actix_web::web::route().to(assets::bom::asset_import_other_methods),
                        )
                        .service(assets::asset_get)
                        .service(assets::asset_update)
                        .service(assets::asset_delete)
                        .service(assets::asset_lineage_get)
                        .service(readiness::readiness_list)
                        .service(readiness::readiness_get)
                        .service(readiness::readiness_history_list)
                        .service(readiness::readiness_history_create)
                        .service(risks::matrix::risk_matrix_get)
                        .service(risks::matrix::risk_matrix_put)
                        .service(risks::risk_list)
                        .service(risks::risk_create)
                        .service(risks::risk_get)
                        .service(risks::risk_update)
                        .service(risks::risk_delete)
                        .service(risks::risk_acceptance_create)
                        .service(risks::risk_acceptance_delete)
                        .service(risks::register::risk_treatment_plan_get)
                        .service(suppliers::supplier_list)
                        .service(suppliers::supplier_create)
                        .service(suppliers::supplier_get)
                        .service(suppliers::supplier_update)
                        .service(suppliers::supplier_delete)
                        .service(suppliers::reviews::supplier_review_list)
                        .service(suppliers::reviews::supplier_review_create)
                        .service(suppliers::reviews::supplier_review_get)
                        .service(suppliers::reviews::supplier_review_update)
                        .service(webhooks::webhook_list)
                        .service(webhooks::webhook_create)
                        .service(webhooks::webhook_get)
                        .service(webhooks::webhook_update)
                        .service(webhooks::webhook_delete)
                        .service(webhooks::webhook_secret_rotate)
                        .service(webhooks::deliveries::webhook_delivery_list)
                        .service(webhooks::deliveries::webhook_delivery_redeliver),
                ),
        );
}

/// Every operation of a path, with whether it is its `GET`.
fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = (bool, &mut Operation)> {
    let get = item.get.as_mut().map(|op| (true, op));
    let others = [
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ];
    get.into_iter()
        .chain(others.into_iter().flatten().map(|op| (false, op)))
}

/// Adds what every operation shares: `bearerAuth` and 401 on protected operations, 500 everywhere,
/// and the error responses its shape implies ([`implied::implied_responses`]).
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearerAuth",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from `POST /api/v1/auth/token`"))
                    .build(),
            ),
        );
        for item in openapi.paths.paths.values_mut() {
            for (read_only, operation) in operations_mut(item) {
                let public = operation
                    .operation_id
                    .as_deref()
                    .is_some_and(|id| PUBLIC_OPERATIONS.contains(&id));
                // Optional headers are absent or a string, never null.
                for parameter in operation.parameters.iter_mut().flatten() {
                    if parameter.parameter_in == ParameterIn::Header
                        && let Some(RefOr::T(Schema::Object(object))) = parameter.schema.as_mut()
                        && let SchemaType::Array(types) = &object.schema_type
                    {
                        let types: Vec<Type> = types
                            .iter()
                            .filter(|t| **t != Type::Null)
                            .cloned()
                            .collect();
                        if let [only] = types.as_slice() {
                            object.schema_type = SchemaType::Type(only.clone());
                        }
                    }
                }
                let implied = implied::implied_responses(read_only, operation, public);
                let responses = &mut operation.responses.responses;
                for (status, name) in implied {
                    responses
                        .entry(status.to_owned())
                        .or_insert_with(|| implied::response_ref(name));
                }
                if public {
                    operation.security = Some(Vec::new());
                } else {
                    operation.security = Some(vec![SecurityRequirement::new(
                        "bearerAuth",
                        Vec::<String>::new(),
                    )]);
                    responses
                        .entry("401".to_owned())
                        .or_insert_with(|| implied::response_ref("Unauthorized"));
                }
                responses
                    .entry("500".to_owned())
                    .or_insert_with(|| implied::response_ref("InternalError"));
                let mut sorted: Vec<(String, RefOr<Response>)> =
                    std::mem::take(responses).into_iter().collect();
                sorted.sort_by(|a, b| a.0.cmp(&b.0));
                responses.extend(sorted);
            }
        }
    }
}

/// The OpenAPI document, exactly as checked in at `openapi/openapi.json`.
pub fn openapi() -> OpenApiDoc {
    let (_, mut doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(configure)
        .split_for_parts();
    CommonResponses.modify(&mut doc);
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// The document rendered as checked in (pretty JSON and a final newline).
pub fn openapi_json() -> String {
    let mut json = openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_owned());
    json.push('\n');
    json
}

/// Unknown paths are 404 and known paths with another method are 405, both as problems.
pub async fn fallback(req: HttpRequest) -> actix_web::Result<HttpResponse> {
    let allowed = allowed_methods(req.path());
    if allowed.is_empty() {
        return Err(AppError::NotFound("resource").into());
    }
    Err(AppError::MethodNotAllowed {
        allow: allowed.join(", "),
    }
    .into())
}

fn template_matches(template: &str, path: &str) -> bool {
    let mut t = template.trim_end_matches('/').split('/');
    let mut p = path.trim_end_matches('/').split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) if ts.starts_with('{') || ts == ps => {
                if ts.starts_with('{') && ps.is_empty() {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

fn allowed_methods(path: &str) -> Vec<&'static str> {
    static ROUTES: std::sync::LazyLock<Vec<(String, Vec<&'static str>)>> =
        std::sync::LazyLock::new(|| {
            openapi()
                .paths
                .paths
                .iter()
                .map(|(template, item)| {
                    let methods = [
                        ("GET", item.get.is_some()),
                        ("PUT", item.put.is_some()),
                        ("POST", item.post.is_some()),
                        ("DELETE", item.delete.is_some()),
                        ("PATCH", item.patch.is_some()),
                    ]
                    .into_iter()
                    .filter_map(|(m, present)| present.then_some(m))
                    .collect();
                    (template.clone(), methods)
                })
                .collect()
        });
    let mut allowed: Vec<&'static str> = ROUTES
        .iter()
        .filter(|(template, _)| template_matches(template, path))
        .flat_map(|(_, methods)| methods.iter().copied())
        .collect();
    allowed.sort_unstable();
    allowed.dedup();
    allowed
}

#[cfg(test)]
mod tests {
    use super::template_matches;

    #[test]
    fn templates_match_paths() {
        assert!(template_matches(
            "/api/v1/organizations/{org_id}",
            "/api/v1/organizations/abc"
        ));
        assert!(!template_matches(
            "/api/v1/organizations/{org_id}",
            "/api/v1/organizations"
        ));
        assert!(!template_matches(
            "/api/v1/organizations/{org_id}",
            "/api/v1/organizations/a/b"
        ));
        assert!(template_matches("/healthz", "/healthz"));
    }
}
