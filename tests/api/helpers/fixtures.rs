//! Typed fixtures for what the tests set up again and again: an adopted framework, a control by
//! its ref, new evidence, a new finding, a member of each role, service accounts and webhooks.
//! Each one asserts that its own setup succeeded, so a test states only what it checks.

use std::collections::BTreeMap;

use annexa::domain::role::Role;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use super::app::{Actor, TestApp, body, id_of, mint};

pub const ISO_27001: &str = "iso27001-2022";
pub const ISO_42001: &str = "iso42001-2023";
pub const AI_CHECKLIST: &str = "ai-audit-checklist";

/// One member of each role (`Role::ALL`) of an organization.
pub struct Team {
    pub admin: Actor,
    pub editor: Actor,
    pub auditor: Actor,
    pub viewer: Actor,
}

/// An organization that adopted one framework, with a member of each role and its controls.
pub struct Org {
    pub id: String,
    pub admin: Actor,
    pub editor: Actor,
    pub auditor: Actor,
    pub viewer: Actor,
    /// The adopted framework's controls: ref → id.
    pub controls: BTreeMap<String, String>,
}

impl Org {
    /// The id of the control with `reference`.
    pub fn control(&self, reference: &str) -> &str {
        self.controls
            .get(reference)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no control {reference}"))
    }

    /// A path under the organization: `self.path("/evidence")`.
    pub fn path(&self, rest: &str) -> String {
        format!("/api/v1/organizations/{}{rest}", self.id)
    }

    /// The path of the control with `reference`.
    pub fn control_path(&self, reference: &str) -> String {
        self.path(&format!("/controls/{}", self.control(reference)))
    }
}

/// The body of a new evidence item: a report titled "Access review Q3" unless told otherwise.
#[derive(Clone, Debug)]
pub struct NewEvidence(Value);

impl Default for NewEvidence {
    fn default() -> Self {
        Self(json!({"title": "Access review Q3", "kind": "report"}))
    }
}

impl NewEvidence {
    pub fn titled(self, title: &str) -> Self {
        self.with("title", json!(title))
    }

    pub fn linked_to(self, control_ids: &[&str]) -> Self {
        self.with("control_ids", json!(control_ids))
    }

    pub fn valid_until(self, valid_until: &str) -> Self {
        self.with("valid_until", json!(valid_until))
    }

    /// Any other field of the request body.
    pub fn with(mut self, field: &str, value: Value) -> Self {
        self.0[field] = value;
        self
    }

    pub fn json(&self) -> &Value {
        &self.0
    }
}

/// The body of a new finding: an internal-audit observation unless told otherwise.
#[derive(Clone, Debug)]
pub struct NewFinding(Value);

impl Default for NewFinding {
    fn default() -> Self {
        Self(json!({"title": "Finding", "type": "observation", "source": "internal_audit"}))
    }
}

impl NewFinding {
    pub fn titled(self, title: &str) -> Self {
        self.with("title", json!(title))
    }

    pub fn of_type(self, finding_type: &str) -> Self {
        self.with("type", json!(finding_type))
    }

    pub fn linked_to(self, control_ids: &[&str]) -> Self {
        self.with("control_ids", json!(control_ids))
    }

    /// Any other field of the request body.
    pub fn with(mut self, field: &str, value: Value) -> Self {
        self.0[field] = value;
        self
    }

    pub fn json(&self) -> &Value {
        &self.0
    }
}

/// A service account, its one-time client secret and a token minted for it.
pub struct ServiceAccount {
    pub id: String,
    pub client_id: String,
    pub client_secret: String,
    pub token: String,
}

/// Panics with the body unless `res` has `status`; returns the JSON body.
pub async fn expect_status(res: Response, status: StatusCode) -> Value {
    let actual = res.status();
    let text = res.text().await.expect("body");
    assert_eq!(actual, status, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

impl TestApp {
    /// The platform admin adopts `framework` for `org`; the raw answer.
    pub async fn adopt(&self, org: &str, framework: &str) -> Response {
        self.post(
            &format!("/api/v1/organizations/{org}/frameworks"),
            &self.admin_token,
            &json!({"framework": framework}),
        )
        .await
    }

    /// The platform admin adopts `framework` for `org` (201).
    pub async fn adopt_framework(&self, org: &str, framework: &str) {
        expect_status(self.adopt(org, framework).await, StatusCode::CREATED).await;
    }

    /// Every control of `org` matching `query` (`"framework=…&kind=…"`, or `""`), all pages.
    pub async fn controls(&self, org: &str, query: &str) -> Vec<Value> {
        let path = format!("/api/v1/organizations/{org}/controls");
        if query.is_empty() {
            self.all_pages(&path).await
        } else {
            self.all_pages(&format!("{path}?{query}")).await
        }
    }

    /// The control of `framework` with `reference`.
    pub async fn control_by_ref(&self, org: &str, framework: &str, reference: &str) -> Value {
        self.controls(org, &format!("framework={framework}"))
            .await
            .into_iter()
            .find(|c| c["ref"] == reference)
            .unwrap_or_else(|| panic!("{framework} {reference} exists"))
    }

    /// The id of the control of `framework` with `reference`.
    pub async fn control_id(&self, org: &str, framework: &str, reference: &str) -> String {
        id_of(&self.control_by_ref(org, framework, reference).await)
    }

    /// A new member of each role.
    pub async fn team(&self, org: &str) -> Team {
        Team {
            admin: self.member(org, Role::Admin).await,
            editor: self.member(org, Role::Editor).await,
            auditor: self.member(org, Role::Auditor).await,
            viewer: self.member(org, Role::Viewer).await,
        }
    }

    /// A new organization "Acme" that adopted `framework`, then got a member of each role.
    pub async fn org_with(&self, framework: &str) -> Org {
        let id = self.organization("Acme").await;
        self.adopt_framework(&id, framework).await;
        let controls = self
            .controls(&id, &format!("framework={framework}"))
            .await
            .iter()
            .map(|c| (c["ref"].as_str().expect("ref").to_owned(), id_of(c)))
            .collect();
        let Team {
            admin,
            editor,
            auditor,
            viewer,
        } = self.team(&id).await;
        Org {
            id,
            admin,
            editor,
            auditor,
            viewer,
            controls,
        }
    }

    /// Changes the control with `reference` as the organization's editor (200); the control.
    pub async fn update_control(&self, org: &Org, reference: &str, patch: Value) -> Value {
        let res = self
            .patch(&org.control_path(reference), &org.editor.token, &patch)
            .await;
        expect_status(res, StatusCode::OK).await
    }

    /// Creates evidence in `org` as `token` (201); the created evidence.
    pub async fn new_evidence(&self, org: &str, token: &str, evidence: NewEvidence) -> Value {
        let res = self
            .post(
                &format!("/api/v1/organizations/{org}/evidence"),
                token,
                evidence.json(),
            )
            .await;
        expect_status(res, StatusCode::CREATED).await
    }

    /// Reviews evidence with `decision` as `token` (200).
    pub async fn review(&self, org: &str, evidence_id: &str, token: &str, decision: &str) {
        let res = self
            .post(
                &format!("/api/v1/organizations/{org}/evidence/{evidence_id}/review"),
                token,
                &json!({"decision": decision, "comment": "reviewed"}),
            )
            .await;
        expect_status(res, StatusCode::OK).await;
    }

    /// Creates evidence as the organization's editor, linked to `refs`, then has the auditor
    /// review it with `decision` (`None` leaves it pending); its id.
    pub async fn reviewed_evidence(
        &self,
        org: &Org,
        refs: &[&str],
        valid_until: Option<&str>,
        decision: Option<&str>,
    ) -> String {
        let ids: Vec<&str> = refs.iter().map(|r| org.control(r)).collect();
        let mut evidence = NewEvidence::default()
            .titled(&format!("Evidence for {} controls", refs.len()))
            .linked_to(&ids);
        if let Some(until) = valid_until {
            evidence = evidence.valid_until(until);
        }
        let id = id_of(
            &self
                .new_evidence(&org.id, &org.editor.token, evidence)
                .await,
        );
        if let Some(decision) = decision {
            self.review(&org.id, &id, &org.auditor.token, decision)
                .await;
        }
        id
    }

    /// Creates a finding in `org` as `token` (201); the created finding.
    pub async fn new_finding(&self, org: &str, token: &str, finding: NewFinding) -> Value {
        let res = self
            .post(
                &format!("/api/v1/organizations/{org}/findings"),
                token,
                finding.json(),
            )
            .await;
        expect_status(res, StatusCode::CREATED).await
    }

    /// The platform admin creates a service account of `org` with `role` (201).
    pub async fn service_account(&self, org: &str, name: &str, role: Role) -> ServiceAccount {
        let res = self
            .post(
                &format!("/api/v1/organizations/{org}/service-accounts"),
                &self.admin_token,
                &json!({"name": name, "role": role.as_str()}),
            )
            .await;
        let created = expect_status(res, StatusCode::CREATED).await;
        let id = id_of(&created);
        ServiceAccount {
            token: mint(&self.state, &format!("service_account:{id}")),
            id,
            client_id: created["client_id"].as_str().expect("client id").to_owned(),
            client_secret: created["client_secret"]
                .as_str()
                .expect("secret")
                .to_owned(),
        }
    }

    /// The platform admin registers a webhook endpoint (201); its id and secret.
    pub async fn new_webhook(&self, org: &str, url: &str, events: &[&str]) -> (String, String) {
        let res = self
            .post(
                &format!("/api/v1/organizations/{org}/webhooks"),
                &self.admin_token,
                &json!({"url": url, "events": events, "description": "test receiver"}),
            )
            .await;
        let created = expect_status(res, StatusCode::CREATED).await;
        (
            id_of(&created),
            created["secret"].as_str().expect("secret").to_owned(),
        )
    }

    /// The actions of `org`'s audit events matching `query` (`"entity_type=…"`), oldest first.
    pub async fn audit_actions(&self, org: &str, query: &str, token: &str) -> Vec<String> {
        let page = body(
            self.get(
                &format!("/api/v1/organizations/{org}/audit-events?{query}"),
                token,
            )
            .await,
        )
        .await;
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| e["action"].as_str().expect("action").to_owned())
            .collect()
    }
}

/// The body of a new asset: an `application` named "Asset" unless told otherwise.
#[derive(Clone, Debug)]
pub struct NewAsset(Value);

impl Default for NewAsset {
    fn default() -> Self {
        Self(json!({"name": "Asset", "kind": "application"}))
    }
}

impl NewAsset {
    pub fn named(self, name: &str) -> Self {
        self.with("name", json!(name))
    }

    pub fn of_kind(self, kind: &str) -> Self {
        self.with("kind", json!(kind))
    }

    pub fn derived_from(self, asset_ids: &[&str]) -> Self {
        self.with("derived_from", json!(asset_ids))
    }

    /// Any other field of the request body.
    pub fn with(mut self, field: &str, value: Value) -> Self {
        self.0[field] = value;
        self
    }

    pub fn json(&self) -> &Value {
        &self.0
    }
}

impl TestApp {
    /// Creates an asset in `org` as `token` (201); the created asset.
    pub async fn new_asset(&self, org: &str, token: &str, asset: NewAsset) -> Value {
        let res = self
            .post(
                &format!("/api/v1/organizations/{org}/assets"),
                token,
                asset.json(),
            )
            .await;
        expect_status(res, StatusCode::CREATED).await
    }
}
