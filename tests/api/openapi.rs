//! The checked-in OpenAPI document: no drift from the code, and the house lint rules.

use serde_json::Value;

const SPEC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
const METHODS: [&str; 5] = ["get", "put", "post", "patch", "delete"];

/// Operations whose error bodies follow RFC 6749 (OAuth) rather than RFC 9457.
const OAUTH_OPERATIONS: [&str; 2] = ["auth_token", "auth_revoke"];

#[test]
fn the_checked_in_spec_matches_the_code() {
    let generated = annexa::api::openapi_json();
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(SPEC_PATH, &generated).expect("write openapi/openapi.json");
        return;
    }
    let checked_in = std::fs::read_to_string(SPEC_PATH).unwrap_or_default();
    assert!(
        checked_in == generated,
        "openapi/openapi.json is out of date with the code.\n\
         Review the API change, then accept it with:\n\n    \
         UPDATE_OPENAPI=1 cargo test --test api the_checked_in_spec_matches_the_code\n"
    );
}

fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    out
}

fn resolve<'a>(spec: &'a Value, response: &'a Value) -> &'a Value {
    match response.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/responses/");
            &spec["components"]["responses"][name]
        }
        None => response,
    }
}

#[test]
fn the_spec_follows_the_house_rules() {
    let spec: Value = serde_json::from_str(&annexa::api::openapi_json()).expect("valid JSON");
    assert_eq!(spec["openapi"].as_str().map(|v| &v[..2]), Some("3."));
    assert!(
        !spec["info"]["license"]["name"]
            .as_str()
            .unwrap_or("")
            .is_empty()
    );
    let mut ids = std::collections::HashSet::new();
    let mut faults = Vec::new();
    for (method, path, op) in operations(&spec) {
        let at = format!("{method} {path}");
        let id = op["operationId"].as_str().unwrap_or_default().to_owned();
        if id.is_empty() || !ids.insert(id.clone()) {
            faults.push(format!("{at}: missing or duplicate operationId `{id}`"));
        }
        if op["tags"].as_array().map(Vec::len) != Some(1) {
            faults.push(format!("{at}: needs exactly one tag"));
        }
        if op["summary"].as_str().unwrap_or("").trim().is_empty() {
            faults.push(format!("{at}: needs a summary"));
        }
        let public = annexa::api::PUBLIC_OPERATIONS.contains(&id.as_str());
        let secured = op["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("bearerAuth").is_some()));
        if public == secured {
            faults.push(format!(
                "{at}: bearerAuth must be on exactly the non-public operations"
            ));
        }
        if !public && op["responses"].get("401").is_none() {
            faults.push(format!("{at}: a protected operation documents 401"));
        }
        for (status, response) in op["responses"].as_object().expect("responses") {
            let response = resolve(&spec, response);
            if response["description"].as_str().unwrap_or("").is_empty() {
                faults.push(format!("{at} {status}: needs a description"));
            }
            let code: u16 = status.parse().unwrap_or(0);
            if code >= 400 {
                let oauth = OAUTH_OPERATIONS.contains(&id.as_str()) && matches!(code, 400 | 401);
                // The readiness probe answers 503 with its usual status body, for load balancers.
                let probe = id == "ops_readyz" && code == 503;
                let media = if oauth || probe {
                    "application/json"
                } else {
                    "application/problem+json"
                };
                let schema = &response["content"][media]["schema"];
                if schema.is_null() {
                    faults.push(format!("{at} {status}: errors are documented as {media}"));
                }
            }
        }
    }
    assert!(
        faults.is_empty(),
        "spec lint failures:\n{}",
        faults.join("\n")
    );
}
