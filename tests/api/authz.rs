//! The authorization matrix, walked over every operation of the generated spec: no token, a bad
//! token, the platform admin, each role, a service account and a member of another organization.
//! An operation without a rule here fails the test, so new endpoints cannot skip authorization.

use annexa::domain::role::{Action, Permissions, Role};
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{Actor, ISO_27001, NewAsset, NewEvidence, NewFinding, TestApp, id_of};

/// Who may call an operation.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// No token needed.
    Public,
    /// Any authenticated caller.
    Authenticated,
    /// Platform admins only.
    PlatformAdmin,
    /// Inside the organization, roles allowed to perform the action; outsiders get 404.
    Org(Action),
    /// Deleting an organization: platform admins; members 403; outsiders 404.
    OrgDelete,
}

fn rule(operation_id: &str) -> Option<Rule> {
    use Rule::*;
    Some(match operation_id {
        "ops_healthz" | "ops_readyz" | "auth_token" | "auth_revoke" => Public,
        "me_get" | "organization_list" | "framework_list" | "framework_get"
        | "requirement_list" | "requirement_get" | "mapping_list" => Authenticated,
        "risk_template_list" | "risk_template_get" => Authenticated,
        "user_create" | "user_list" | "organization_create" => PlatformAdmin,
        "organization_get" | "member_list" | "member_get" => Org(Action::Read),
        "organization_update"
        | "member_create"
        | "member_update"
        | "member_delete"
        | "service_account_list"
        | "service_account_create"
        | "service_account_delete" => Org(Action::Administer),
        "organization_delete" => OrgDelete,
        "adoption_list" | "adoption_get" | "control_list" | "control_get" | "soa_get" => {
            Org(Action::Read)
        }
        "adoption_create" => Org(Action::Administer),
        "control_create" | "control_update" => Org(Action::ChangeControls),
        "audit_event_list" => Org(Action::ReadAuditEvents),
        "audit_event_verify" | "audit_event_export" => Org(Action::ReadAuditEvents),
        "evidence_list" | "evidence_get" | "evidence_content_get" | "control_evidence_list" => {
            Org(Action::Read)
        }
        "evidence_create"
        | "evidence_update"
        | "evidence_content_put"
        | "control_evidence_link"
        | "control_evidence_unlink" => Org(Action::ChangeEvidence),
        "evidence_review" => Org(Action::ReviewEvidence),
        "evidence_delete" => Org(Action::Administer),
        "finding_list" | "finding_get" => Org(Action::Read),
        "finding_create" | "finding_update" => Org(Action::ChangeFindings),
        "finding_delete" => Org(Action::Administer),
        "asset_list" | "asset_get" | "asset_lineage_get" => Org(Action::Read),
        "asset_create" | "asset_update" => Org(Action::ChangeRisks),
        "asset_import" => Org(Action::ChangeRisks),
        "asset_delete" => Org(Action::Administer),
        "supplier_list" | "supplier_get" => Org(Action::Read),
        "supplier_create" | "supplier_update" => Org(Action::ChangeRisks),
        "supplier_delete" => Org(Action::Administer),
        "supplier_review_list" | "supplier_review_get" => Org(Action::Read),
        // Completing is for the reviewer or an admin; the walk's changes do not complete.
        "supplier_review_create" | "supplier_review_update" => Org(Action::ChangeFindings),
        "readiness_list" | "readiness_get" | "readiness_history_list" => Org(Action::Read),
        "readiness_history_create" => Org(Action::ChangeControls),
        "risk_matrix_get" | "risk_list" | "risk_get" | "risk_treatment_plan_get" => {
            Org(Action::Read)
        }
        "risk_create" | "risk_update" => Org(Action::ChangeRisks),
        // Acceptance: the risk's owner or an admin; the walk's risks have no owner.
        "risk_delete" | "risk_matrix_put" | "risk_acceptance_create" | "risk_acceptance_delete" => {
            Org(Action::Administer)
        }
        "webhook_list"
        | "webhook_create"
        | "webhook_get"
        | "webhook_update"
        | "webhook_delete"
        | "webhook_secret_rotate"
        | "webhook_delivery_list"
        | "webhook_delivery_redeliver" => Org(Action::Administer),
        _ => return None,
    })
}

/// What the caller should get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allowed,
    Unauthorized,
    Forbidden,
    NotFound,
}

#[derive(Debug, Clone)]
enum Caller {
    Anonymous,
    BadToken,
    PlatformAdmin,
    Member(Role),
    ServiceAccount(Role),
    Outsider,
}

fn expectation(rule: Rule, caller: &Caller) -> Expect {
    use Expect::*;
    match (rule, caller) {
        (Rule::Public, _) => Allowed,
        (_, Caller::Anonymous | Caller::BadToken) => Unauthorized,
        (Rule::Authenticated, _) => Allowed,
        (Rule::PlatformAdmin, Caller::PlatformAdmin) => Allowed,
        (Rule::PlatformAdmin, _) => Forbidden,
        (Rule::Org(_) | Rule::OrgDelete, Caller::Outsider) => NotFound,
        (Rule::Org(_) | Rule::OrgDelete, Caller::PlatformAdmin) => Allowed,
        (Rule::Org(action), Caller::Member(role) | Caller::ServiceAccount(role)) => {
            if role.can(action) { Allowed } else { Forbidden }
        }
        (Rule::OrgDelete, _) => Forbidden,
    }
}

struct World {
    org: String,
    control_id: String,
    evidence_id: String,
    /// An editor whose evidence the reviewers review (nobody reviews their own).
    submitter: String,
    webhook_id: String,
    delivery_id: String,
    callers: Vec<(Caller, Option<String>)>,
}

async fn world(app: &TestApp) -> World {
    let org = app.organization("Matrix org").await;
    let other = app.organization("Other org").await;
    let mut callers = vec![
        (Caller::Anonymous, None),
        (Caller::BadToken, Some("not-a-valid-token".to_owned())),
        (Caller::PlatformAdmin, Some(app.admin_token.clone())),
    ];
    for role in Role::ALL {
        let Actor { token, .. } = app.member(&org, role).await;
        callers.push((Caller::Member(role), Some(token)));
    }
    for role in [Role::Viewer, Role::Admin] {
        let account = app
            .service_account(&org, &format!("sa-{}", role.as_str()), role)
            .await;
        callers.push((Caller::ServiceAccount(role), Some(account.token)));
    }
    let outsider = app.member(&other, Role::Admin).await;
    callers.push((Caller::Outsider, Some(outsider.token)));
    app.adopt_framework(&org, ISO_27001).await;
    let control_id = app.control_id(&org, ISO_27001, "A.5.1").await;
    let submitter = app.member(&org, Role::Editor).await.token;
    let evidence_id = new_evidence(app, &org, &submitter).await;
    let res = app
        .request(
            Method::PUT,
            &format!("/api/v1/organizations/{org}/evidence/{evidence_id}/content"),
            Some(&submitter),
        )
        .header("content-type", "text/plain")
        .body("the file")
        .send()
        .await
        .expect("upload");
    assert_eq!(res.status(), 200);
    let webhook_id = new_webhook(app, &org).await;
    // An event for the endpoint: the delivery the log and redelivery operations act on.
    app.new_finding(
        &org,
        &app.admin_token,
        NewFinding::default().titled("Delivered"),
    )
    .await;
    let delivery_id = entity::webhook_delivery::Entity::find()
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("a delivery")
        .id;
    World {
        org,
        control_id,
        evidence_id,
        submitter,
        webhook_id,
        delivery_id,
        callers,
    }
}

async fn new_webhook(app: &TestApp, org: &str) -> String {
    app.new_webhook(org, "http://127.0.0.1:9/hook", &["finding.created"])
        .await
        .0
}

async fn new_evidence(app: &TestApp, org: &str, token: &str) -> String {
    let evidence = NewEvidence::default()
        .titled("Evidence")
        .with("kind", json!("document"));
    id_of(&app.new_evidence(org, token, evidence).await)
}

/// Fills the path parameters, creating fresh targets for operations that destroy them.
async fn concrete_path(
    app: &TestApp,
    world: &World,
    template: &str,
    operation_id: &str,
    caller: &Caller,
) -> String {
    let mut org = world.org.clone();
    if operation_id == "organization_delete" && matches!(caller, Caller::PlatformAdmin) {
        org = app.organization("Disposable").await;
    }
    let mut path = template
        .replace(
            "/risk-templates/{key}",
            "/risk-templates/training-data-poisoning",
        )
        .replace("{org_id}", &org)
        .replace("{key}", "iso27001-2022")
        .replace("{ref}", "A.5.1")
        .replace("{control_id}", &world.control_id);
    if path.contains("{finding_id}") {
        // Deleting removes it: each case gets its own.
        let finding = app
            .new_finding(&world.org, &app.admin_token, NewFinding::default())
            .await;
        let id = id_of(&finding);
        path = path.replace("{finding_id}", &id);
    }
    if path.contains("{asset_id}") {
        // Deleting removes it: each case gets its own.
        let asset = app
            .new_asset(&world.org, &app.admin_token, NewAsset::default())
            .await;
        path = path.replace("{asset_id}", &id_of(&asset));
    }
    if path.contains("{supplier_id}") {
        // Deleting removes it: each case gets its own.
        let suppliers = format!("/api/v1/organizations/{}/suppliers", world.org);
        let name = format!("Walked {}", uuid::Uuid::now_v7().simple());
        let supplier = json!({"name": name, "kind": "saas"});
        let res = app.post(&suppliers, &app.admin_token, &supplier).await;
        let id = id_of(&crate::helpers::body(res).await);
        if path.contains("{review_id}") {
            let review = json!({"due": "2026-12-31"});
            let res = app
                .post(
                    &format!("{suppliers}/{id}/reviews"),
                    &app.admin_token,
                    &review,
                )
                .await;
            let review_id = id_of(&crate::helpers::body(res).await);
            path = path.replace("{review_id}", &review_id);
        }
        path = path.replace("{supplier_id}", &id);
    }
    if path.contains("{risk_id}") {
        // Deleting and accepting change the risk: each case gets its own, retained.
        let risks = format!("/api/v1/organizations/{}/risks", world.org);
        let risk = json!({"title": "Walked", "inherent": {"likelihood": 3, "impact": 3}, "treatment": "retain"});
        let id =
            id_of(&crate::helpers::body(app.post(&risks, &app.admin_token, &risk).await).await);
        if operation_id == "risk_acceptance_delete" {
            let res = app
                .post(
                    &format!("{risks}/{id}/acceptance"),
                    &app.admin_token,
                    &acceptance_body(),
                )
                .await;
            assert_eq!(res.status(), 200);
        }
        path = path.replace("{risk_id}", &id);
    }
    if path.contains("{evidence_id}") {
        // Archiving and reviewing change the evidence for good: give each case its own.
        let evidence_id = if matches!(operation_id, "evidence_delete" | "evidence_review") {
            new_evidence(app, &world.org, &world.submitter).await
        } else {
            world.evidence_id.clone()
        };
        path = path.replace("{evidence_id}", &evidence_id);
    }
    if path.contains("{webhook_id}") {
        // Deleting removes it: each case gets its own.
        let webhook_id = if operation_id == "webhook_delete" {
            new_webhook(app, &world.org).await
        } else {
            world.webhook_id.clone()
        };
        path = path
            .replace("{webhook_id}", &webhook_id)
            .replace("{delivery_id}", &world.delivery_id);
    }
    if path.contains("{user_id}") {
        let target = app.member(&world.org, Role::Viewer).await;
        path = path.replace("{user_id}", &target.id);
    }
    if path.contains("{service_account_id}") {
        let id = app
            .service_account(&world.org, "target", Role::Viewer)
            .await
            .id;
        path = path.replace("{service_account_id}", &id);
    }
    assert!(
        !path.contains('{'),
        "a path parameter has no value in the authorization test: {path}"
    );
    path
}

fn acceptance_body() -> Value {
    let expires = (chrono::Utc::now() + chrono::Duration::days(90)).date_naive();
    json!({"justification": "Accepted for the walk", "expires_on": expires.to_string()})
}

async fn request_body(app: &TestApp, operation_id: &str) -> Option<Value> {
    let unique = uuid::Uuid::now_v7().simple().to_string();
    Some(match operation_id {
        "user_create" => {
            json!({"email": format!("u{unique}@example.com"), "password": "long enough password"})
        }
        "organization_create" => json!({"name": "Created"}),
        "organization_update" => json!({"name": format!("Renamed {unique}")}),
        "member_create" => {
            let user = app.user(&format!("m{unique}@example.com"), false).await;
            json!({"user_id": user.id, "role": "viewer"})
        }
        "member_update" => json!({"role": "editor"}),
        "service_account_create" => json!({"name": "new", "role": "viewer"}),
        "adoption_create" => json!({"framework": "iso42001-2023"}),
        "control_create" => {
            json!({"framework": "iso27001-2022", "ref": format!("C-{unique}"), "title": "Custom"})
        }
        "control_update" => json!({"notes": format!("checked {unique}")}),
        "evidence_create" => json!({"title": "New evidence", "kind": "log"}),
        "evidence_update" => json!({"description": format!("updated {unique}")}),
        "evidence_review" => json!({"decision": "accepted"}),
        "finding_create" => {
            json!({"title": "Raised", "type": "minor_nonconformity", "source": "self_assessment"})
        }
        "finding_update" => json!({"owner": format!("owner-{unique}@example.com")}),
        "asset_create" => json!({"name": "New asset", "kind": "dataset"}),
        "asset_update" => json!({"description": format!("updated {unique}")}),
        "asset_import" => json!({"bomFormat": "CycloneDX", "specVersion": "1.6",
            "serialNumber": format!("urn:uuid:{}", uuid::Uuid::now_v7()), "components": []}),
        "supplier_create" => json!({"name": format!("Supplier {unique}"), "kind": "cloud"}),
        "supplier_update" => json!({"services": format!("updated {unique}")}),
        "supplier_review_create" => json!({"due": "2026-12-31"}),
        "supplier_review_update" => json!({"conditions": format!("checked {unique}")}),
        "webhook_create" => {
            json!({"url": format!("http://127.0.0.1:9/{unique}"), "events": ["control.updated"]})
        }
        "webhook_update" => json!({"description": format!("updated {unique}")}),
        "risk_create" => {
            json!({"title": "Raised risk", "inherent": {"likelihood": 2, "impact": 2}})
        }
        "risk_update" => json!({"title": format!("Renamed {unique}")}),
        "risk_acceptance_create" => acceptance_body(),
        "risk_matrix_put" => {
            let scale = json!([{"name": "Low"}, {"name": "Mid"}, {"name": "High"}]);
            json!({"likelihood_levels": scale, "impact_levels": scale,
                   "risk_levels": [{"name": "Acceptable"}, {"name": "Not acceptable"}],
                   "grid": [[1, 1, 1], [1, 1, 1], [1, 1, 2]], "appetite": 1})
        }
        _ => return None,
    })
}

#[tokio::test]
async fn every_operation_enforces_the_role_matrix() {
    let app = TestApp::spawn_with(|s| {
        // Endpoints on loopback; the worker stays off so the deliveries keep still.
        s.webhook_allow_private = true;
        s.webhook_worker = false;
    })
    .await;
    let world = world(&app).await;
    let spec = annexa::api::openapi();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (template, item) in &spec.paths.paths {
        let ops = [
            (Method::GET, &item.get),
            (Method::POST, &item.post),
            (Method::PUT, &item.put),
            (Method::PATCH, &item.patch),
            (Method::DELETE, &item.delete),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            let id = op.operation_id.clone().unwrap_or_default();
            let Some(rule) = rule(&id) else {
                failures.push(format!(
                    "{method} {template} ({id}): no authorization rule in tests/api/authz.rs"
                ));
                continue;
            };
            if matches!(rule, Rule::Public) {
                continue;
            }
            for (caller, token) in &world.callers {
                let path = concrete_path(&app, &world, template, &id, caller).await;
                let mut request = app.request(method.clone(), &path, token.as_deref());
                if id == "evidence_content_put" {
                    request = request
                        .header("content-type", "text/plain")
                        .body(format!("file {checked}"));
                } else if let Some(body) = request_body(&app, &id).await {
                    request = request.json(&body);
                }
                let status = request.send().await.expect("request").status().as_u16();
                let expected = expectation(rule, caller);
                let ok = match expected {
                    Expect::Allowed => !matches!(status, 401 | 403 | 404) && status < 500,
                    Expect::Unauthorized => status == 401,
                    Expect::Forbidden => status == 403,
                    Expect::NotFound => status == 404,
                };
                checked += 1;
                if !ok {
                    failures.push(format!(
                        "{method} {path} ({id}) as {caller:?}: expected {expected:?}, got {status}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorization matrix violations:\n{}",
        failures.join("\n")
    );
    assert!(checked > 100, "the walk covered {checked} cases");
}
