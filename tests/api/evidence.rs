//! Evidence: byte-exact content round trips, hashes, upload limits, safe file names, links
//! within one organization, review rules, expiry filters, archiving and control scores.

use annexa::domain::role::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{Actor, TestApp, assert_problem, body};

struct Org {
    id: String,
    editor: Actor,
    auditor: Actor,
}

async fn org_with_iso(app: &TestApp) -> Org {
    let id = app.organization("Acme").await;
    let res = app
        .send_json(
            Method::POST,
            &format!("/api/v1/organizations/{id}/frameworks"),
            &app.admin_token,
            &json!({"framework": "iso27001-2022"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    Org {
        editor: app.member(&id, Role::Editor).await,
        auditor: app.member(&id, Role::Auditor).await,
        id,
    }
}

async fn control_id(app: &TestApp, org: &str, reference: &str) -> String {
    let page = body(
        app.get(
            &format!("/api/v1/organizations/{org}/controls?limit=500"),
            &app.admin_token,
        )
        .await,
    )
    .await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|c| c["ref"] == reference)
        .and_then(|c| c["id"].as_str())
        .expect("control")
        .to_owned()
}

async fn create_evidence(app: &TestApp, org: &str, token: &str, extra: Value) -> Value {
    let mut payload = json!({"title": "Access review Q3", "kind": "report"});
    if let (Some(target), Some(more)) = (payload.as_object_mut(), extra.as_object()) {
        target.extend(more.clone());
    }
    let res = app
        .send_json(
            Method::POST,
            &format!("/api/v1/organizations/{org}/evidence"),
            token,
            &payload,
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap_or_default()
    );
    body(res).await
}

/// The organization's auditor accepts the evidence (200).
async fn accept(app: &TestApp, org: &Org, evidence_id: &str) {
    let res = app
        .send_json(
            Method::POST,
            &format!(
                "/api/v1/organizations/{}/evidence/{evidence_id}/review",
                org.id
            ),
            &org.auditor.token,
            &json!({"decision": "accepted"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn binary_content_round_trips_byte_for_byte() {
    let app = TestApp::spawn().await;
    let org = org_with_iso(&app).await;
    let evidence = create_evidence(&app, &org.id, &org.editor.token, json!({})).await;
    let id = evidence["id"].as_str().expect("id");
    assert_eq!(evidence["content"], Value::Null);
    let path = format!("/api/v1/organizations/{}/evidence/{id}/content", org.id);
    assert_problem(app.get(&path, &org.editor.token).await, 404).await;

    // Every byte value, several times over, and not valid UTF-8.
    let bytes: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(7919) % 256) as u8)
        .collect();
    let res = app
        .request(Method::PUT, &path, Some(&org.editor.token))
        .header("content-type", "application/pdf")
        .header(
            "content-disposition",
            "attachment; filename=\"../../etc/access-review.pdf\"",
        )
        .body(bytes.clone())
        .send()
        .await
        .expect("upload");
    assert_eq!(res.status(), StatusCode::OK);
    let content = body(res).await;
    assert_eq!(content["sha256"], sha256_hex(&bytes));
    assert_eq!(content["size"], bytes.len());
    assert_eq!(content["media_type"], "application/pdf");
    assert_eq!(
        content["filename"], "access-review.pdf",
        "paths are stripped"
    );

    let res = app.get(&path, &org.auditor.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let headers = res.headers().clone();
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["content-length"], bytes.len().to_string().as_str());
    assert_eq!(
        headers["etag"],
        format!("\"{}\"", sha256_hex(&bytes)).as_str()
    );
    let disposition = headers["content-disposition"]
        .to_str()
        .expect("disposition");
    assert!(
        disposition.starts_with("attachment; filename=\"access-review.pdf\""),
        "{disposition}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        res.bytes().await.expect("bytes").as_ref(),
        bytes.as_slice(),
        "byte-exact"
    );

    let res = app
        .request(Method::GET, &path, Some(&org.auditor.token))
        .header("if-none-match", format!("\"{}\"", sha256_hex(&bytes)))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    // The same bytes for other evidence are stored once.
    let other = create_evidence(&app, &org.id, &org.editor.token, json!({})).await;
    let other_path = format!(
        "/api/v1/organizations/{}/evidence/{}/content",
        org.id,
        other["id"].as_str().expect("id")
    );
    let res = app
        .request(Method::PUT, &other_path, Some(&org.editor.token))
        .body(bytes.clone())
        .send()
        .await
        .expect("upload");
    assert_eq!(
        body(res).await["media_type"],
        "application/octet-stream",
        "the default media type"
    );
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        entity::evidence_blob::Entity::find()
            .count(&app.state.db)
            .await
            .expect("count"),
        1,
        "content-addressed"
    );
}

#[tokio::test]
async fn file_names_are_sanitized_for_download() {
    let app = TestApp::spawn().await;
    let org = org_with_iso(&app).await;
    for (header, stored, ascii) in [
        (
            "attachment; filename*=UTF-8''..%2F..%2Fsecret%0A%0D.txt",
            "secret.txt",
            "secret.txt",
        ),
        (
            "attachment; filename*=UTF-8''relat%C3%B3rio%20final.pdf",
            "relatório final.pdf",
            "relat_rio final.pdf",
        ),
        (
            "attachment; filename=\"C:\\\\Users\\\\me\\\\x.log\"",
            "x.log",
            "x.log",
        ),
    ] {
        let evidence = create_evidence(&app, &org.id, &org.editor.token, json!({})).await;
        let path = format!(
            "/api/v1/organizations/{}/evidence/{}/content",
            org.id,
            evidence["id"].as_str().expect("id")
        );
        let res = app
            .request(Method::PUT, &path, Some(&org.editor.token))
            .header("content-type", "text/plain")
            .header("content-disposition", header)
            .body("data")
            .send()
            .await
            .expect("upload");
        assert_eq!(body(res).await["filename"], stored, "{header}");
        let res = app.get(&path, &org.editor.token).await;
        let disposition = res.headers()["content-disposition"]
            .to_str()
            .expect("ascii header")
            .to_owned();
        assert!(
            disposition.contains(&format!("filename=\"{ascii}\"")),
            "{disposition}"
        );
        assert!(!disposition.contains('\n') && !disposition.contains('/'));
    }
}

#[tokio::test]
async fn oversized_uploads_are_refused_and_change_nothing() {
    let app = TestApp::spawn_with(|s| s.max_upload_bytes = 1024).await;
    let org = org_with_iso(&app).await;
    let evidence = create_evidence(&app, &org.id, &org.editor.token, json!({})).await;
    let id = evidence["id"].as_str().expect("id");
    let path = format!("/api/v1/organizations/{}/evidence/{id}/content", org.id);
    let original = vec![1u8; 1024];
    let res = app
        .request(Method::PUT, &path, Some(&org.editor.token))
        .body(original.clone())
        .send()
        .await
        .expect("upload");
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "exactly the limit is accepted"
    );
    let before = body(
        app.get(
            &format!("/api/v1/organizations/{}/evidence/{id}", org.id),
            &org.editor.token,
        )
        .await,
    )
    .await;

    // Declared too large…
    let res = app
        .request(Method::PUT, &path, Some(&org.editor.token))
        .body(vec![2u8; 1025])
        .send()
        .await
        .expect("upload");
    assert_problem(res, 413).await;
    // …and streamed without a length.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..4).map(|_| Ok(vec![3u8; 400])).collect();
    let res = app
        .request(Method::PUT, &path, Some(&org.editor.token))
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .expect("upload");
    assert_problem(res, 413).await;

    let res = app.get(&path, &org.editor.token).await;
    assert_eq!(
        res.bytes().await.expect("bytes").as_ref(),
        original.as_slice(),
        "the old content is intact"
    );
    let after = body(
        app.get(
            &format!("/api/v1/organizations/{}/evidence/{id}", org.id),
            &org.editor.token,
        )
        .await,
    )
    .await;
    assert_eq!(after["version"], before["version"]);
    let res = app
        .request(Method::PUT, &path, Some(&org.editor.token))
        .body(Vec::<u8>::new())
        .send()
        .await
        .expect("upload");
    assert_problem(res, 422).await;
    let res = app
        .request(Method::PUT, &path, Some(&org.editor.token))
        .header("content-type", "not a media type")
        .body("x")
        .send()
        .await
        .expect("upload");
    assert_problem(res, 415).await;
}

#[tokio::test]
async fn links_stay_within_one_organization() {
    let app = TestApp::spawn().await;
    let a = org_with_iso(&app).await;
    let b = org_with_iso(&app).await;
    let control_a = control_id(&app, &a.id, "A.5.15").await;
    let control_b = control_id(&app, &b.id, "A.5.15").await;
    let evidence_a = create_evidence(
        &app,
        &a.id,
        &a.editor.token,
        json!({"control_ids": [control_a]}),
    )
    .await;
    assert_eq!(evidence_a["control_ids"], json!([control_a]));
    let ev = evidence_a["id"].as_str().expect("id");

    // Another organization's control cannot be named, by id in a body or in a path.
    let problem = assert_problem(
        app.send_json(
            Method::POST,
            &format!("/api/v1/organizations/{}/evidence", a.id),
            &a.editor.token,
            &json!({"title": "x", "kind": "log", "control_ids": [control_b]}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "control_ids");
    let link = |org: &str, control: &str, evidence: &str, token: &str| {
        app.request(
            Method::PUT,
            &format!("/api/v1/organizations/{org}/controls/{control}/evidence/{evidence}"),
            Some(token),
        )
        .send()
    };
    assert_problem(
        link(&a.id, &control_b, ev, &a.editor.token)
            .await
            .expect("request"),
        404,
    )
    .await;
    assert_problem(
        link(&b.id, &control_b, ev, &b.editor.token)
            .await
            .expect("request"),
        404,
    )
    .await;
    assert_problem(
        link(&b.id, &control_b, ev, &a.editor.token)
            .await
            .expect("request"),
        404,
    )
    .await;

    let control_a2 = control_id(&app, &a.id, "A.8.2").await;
    assert_eq!(
        link(&a.id, &control_a2, ev, &a.editor.token)
            .await
            .expect("request")
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        link(&a.id, &control_a2, ev, &a.editor.token)
            .await
            .expect("request")
            .status(),
        StatusCode::NO_CONTENT,
        "idempotent"
    );
    let listed = body(
        app.get(
            &format!(
                "/api/v1/organizations/{}/controls/{control_a2}/evidence",
                a.id
            ),
            &a.auditor.token,
        )
        .await,
    )
    .await;
    assert_eq!(listed["items"][0]["id"], ev);
    let viewer = app.member(&a.id, Role::Viewer).await;
    assert_problem(
        link(&a.id, &control_a2, ev, &viewer.token)
            .await
            .expect("request"),
        403,
    )
    .await;
    let res = app
        .request(
            Method::DELETE,
            &format!(
                "/api/v1/organizations/{}/controls/{control_a2}/evidence/{ev}",
                a.id
            ),
            Some(&a.editor.token),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let got = body(
        app.get(
            &format!("/api/v1/organizations/{}/evidence/{ev}", a.id),
            &a.editor.token,
        )
        .await,
    )
    .await;
    assert_eq!(got["control_ids"], json!([control_a]));
}

#[tokio::test]
async fn review_rules_and_the_return_to_pending() {
    let app = TestApp::spawn().await;
    let org = org_with_iso(&app).await;
    let evidence = create_evidence(
        &app,
        &org.id,
        &org.editor.token,
        json!({"valid_until": "2099-01-01T00:00:00Z"}),
    )
    .await;
    let id = evidence["id"].as_str().expect("id");
    let review = format!("/api/v1/organizations/{}/evidence/{id}/review", org.id);
    assert_problem(
        app.send_json(
            Method::POST,
            &review,
            &org.editor.token,
            &json!({"decision": "accepted"}),
        )
        .await,
        403,
    )
    .await;
    let problem = assert_problem(
        app.send_json(
            Method::POST,
            &review,
            &org.auditor.token,
            &json!({"decision": "rejected"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "comment");
    assert_problem(
        app.send_json(
            Method::POST,
            &review,
            &org.auditor.token,
            &json!({"decision": "maybe"}),
        )
        .await,
        400,
    )
    .await;

    let res = app
        .send_json(
            Method::POST,
            &review,
            &org.auditor.token,
            &json!({"decision": "accepted", "comment": "Matches the IAM export"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let accepted = body(res).await;
    assert_eq!(accepted["review_status"], "accepted");
    assert_eq!(accepted["reviewed_by"], format!("user:{}", org.auditor.id));
    assert!(accepted["reviewed_at"].is_string());

    // Changing the validity sends it back to review…
    let path = format!("/api/v1/organizations/{}/evidence/{id}", org.id);
    let res = app
        .send_json(
            Method::PATCH,
            &path,
            &org.editor.token,
            &json!({"valid_until": "2098-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(body(res).await["review_status"], "pending");
    // …a title change does not…
    app.send_json(
        Method::POST,
        &review,
        &org.auditor.token,
        &json!({"decision": "accepted"}),
    )
    .await;
    let res = app
        .send_json(
            Method::PATCH,
            &path,
            &org.editor.token,
            &json!({"title": "Access review Q3 (final)"}),
        )
        .await;
    assert_eq!(body(res).await["review_status"], "accepted");
    // …and new content does.
    let res = app
        .request(
            Method::PUT,
            &format!("{path}/content"),
            Some(&org.editor.token),
        )
        .body("new export")
        .send()
        .await
        .expect("upload");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        body(app.get(&path, &org.editor.token).await).await["review_status"],
        "pending"
    );

    // Nobody reviews their own submission, not even an admin.
    let admin = app.member(&org.id, Role::Admin).await;
    let own = create_evidence(&app, &org.id, &admin.token, json!({})).await;
    let own_review = format!(
        "/api/v1/organizations/{}/evidence/{}/review",
        org.id,
        own["id"].as_str().expect("id")
    );
    let problem = assert_problem(
        app.send_json(
            Method::POST,
            &own_review,
            &admin.token,
            &json!({"decision": "accepted"}),
        )
        .await,
        403,
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or("")
            .contains("segregation of duties")
    );
    assert_eq!(
        app.send_json(
            Method::POST,
            &own_review,
            &org.auditor.token,
            &json!({"decision": "rejected", "comment": "Unsigned"})
        )
        .await
        .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn expiry_filters() {
    let app = TestApp::spawn().await;
    let org = org_with_iso(&app).await;
    let now = chrono::Utc::now();
    let iso = |d: chrono::Duration| (now + d).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let expired = create_evidence(
        &app,
        &org.id,
        &org.editor.token,
        json!({"title": "old", "valid_until": iso(chrono::Duration::days(-3))}),
    )
    .await;
    let soon = create_evidence(
        &app,
        &org.id,
        &org.editor.token,
        json!({"title": "soon", "valid_until": iso(chrono::Duration::days(10))}),
    )
    .await;
    let later = create_evidence(
        &app,
        &org.id,
        &org.editor.token,
        json!({"title": "later", "valid_until": iso(chrono::Duration::days(200))}),
    )
    .await;
    let forever = create_evidence(
        &app,
        &org.id,
        &org.editor.token,
        json!({"title": "forever", "kind": "link", "url": "https://wiki.acme.example/policy"}),
    )
    .await;
    let ids = |page: Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|e| e["id"].as_str().map(str::to_owned))
            .collect()
    };
    let list = |query: String| {
        let path = format!("/api/v1/organizations/{}/evidence?{query}", org.id);
        let token = org.auditor.token.clone();
        let app = &app;
        async move { body(app.get(&path, &token).await).await }
    };
    let id = |e: &Value| e["id"].as_str().expect("id").to_owned();
    assert_eq!(ids(list("expired=true".into()).await), [id(&expired)]);
    assert_eq!(
        ids(list("expired=false".into()).await),
        [id(&soon), id(&later), id(&forever)]
    );
    let before = iso(chrono::Duration::days(30)).replace('+', "%2B");
    assert_eq!(
        ids(list(format!("expiring_before={before}")).await),
        [id(&expired), id(&soon)]
    );
    assert_eq!(
        ids(list(format!("expired=false&expiring_before={before}")).await),
        [id(&soon)]
    );
    assert_eq!(ids(list("kind=link".into()).await), [id(&forever)]);
    assert_eq!(ids(list("q=LATER".into()).await), [id(&later)]);
    assert_eq!(
        ids(list("review_status=accepted".into()).await),
        Vec::<String>::new()
    );
    assert_problem(
        app.send_json(
            Method::POST,
            &format!("/api/v1/organizations/{}/evidence", org.id),
            &org.editor.token,
            &json!({"title": "x", "kind": "link"}),
        )
        .await,
        422,
    )
    .await;
    assert_problem(
        app.send_json(
            Method::POST,
            &format!("/api/v1/organizations/{}/evidence", org.id),
            &org.editor.token,
            &json!({"title": "x", "kind": "log", "collected_at": "2026-10-01T00:00:00Z", "valid_until": "2026-09-01T00:00:00Z"}),
        )
        .await,
        422,
    )
    .await;
}

#[tokio::test]
async fn archiving_hides_evidence_from_lists_and_scores() {
    let app = TestApp::spawn().await;
    let org = org_with_iso(&app).await;
    let control = control_id(&app, &org.id, "A.8.13").await;
    let control_path = format!("/api/v1/organizations/{}/controls/{control}", org.id);
    app.send_json(
        Method::PATCH,
        &control_path,
        &org.editor.token,
        &json!({"status": "implemented"}),
    )
    .await;
    assert_eq!(
        body(app.get(&control_path, &org.editor.token).await).await["score"],
        0.5
    );

    let evidence = create_evidence(
        &app,
        &org.id,
        &org.editor.token,
        json!({"control_ids": [control]}),
    )
    .await;
    let id = evidence["id"].as_str().expect("id");
    accept(&app, &org, id).await;
    let scored = body(app.get(&control_path, &org.editor.token).await).await;
    assert_eq!(
        (scored["evidence_count"].as_i64(), scored["score"].as_f64()),
        (Some(1), Some(1.0)),
        "valid accepted evidence: full credit"
    );
    let with_evidence = body(
        app.get(
            &format!(
                "/api/v1/organizations/{}/controls?has_valid_evidence=true",
                org.id
            ),
            &org.editor.token,
        )
        .await,
    )
    .await;
    assert_eq!(with_evidence["items"].as_array().map(Vec::len), Some(1));

    let path = format!("/api/v1/organizations/{}/evidence/{id}", org.id);
    assert_problem(
        app.request(Method::DELETE, &path, Some(&org.editor.token))
            .send()
            .await
            .expect("request"),
        403,
    )
    .await;
    let res = app
        .request(Method::DELETE, &path, Some(&app.admin_token))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .request(Method::DELETE, &path, Some(&app.admin_token))
        .send()
        .await
        .expect("request");
    assert_eq!(
        res.status(),
        StatusCode::NO_CONTENT,
        "archiving twice is harmless"
    );

    let list = body(
        app.get(
            &format!("/api/v1/organizations/{}/evidence", org.id),
            &org.editor.token,
        )
        .await,
    )
    .await;
    assert_eq!(
        list["items"].as_array().map(Vec::len),
        Some(0),
        "hidden from lists"
    );
    let kept = body(app.get(&path, &org.editor.token).await).await;
    assert!(kept["archived_at"].is_string(), "kept, and readable by id");
    assert_problem(
        app.send_json(
            Method::PATCH,
            &path,
            &org.editor.token,
            &json!({"title": "x"}),
        )
        .await,
        409,
    )
    .await;
    let after = body(app.get(&control_path, &org.editor.token).await).await;
    assert_eq!(
        (after["evidence_count"].as_i64(), after["score"].as_f64()),
        (Some(0), Some(0.5)),
        "hidden from scores"
    );
    let audit = body(
        app.get(
            &format!(
                "/api/v1/organizations/{}/audit-events?entity_type=evidence&entity_id={id}",
                org.id
            ),
            &org.auditor.token,
        )
        .await,
    )
    .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        ["evidence.created", "evidence.reviewed", "evidence.archived"]
    );
}

#[tokio::test]
async fn expired_evidence_does_not_count() {
    let app = TestApp::spawn().await;
    let org = org_with_iso(&app).await;
    let control = control_id(&app, &org.id, "A.8.15").await;
    let control_path = format!("/api/v1/organizations/{}/controls/{control}", org.id);
    app.send_json(
        Method::PATCH,
        &control_path,
        &org.editor.token,
        &json!({"status": "implemented"}),
    )
    .await;
    let past = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    let evidence = create_evidence(
        &app,
        &org.id,
        &org.editor.token,
        json!({"control_ids": [control], "valid_until": past}),
    )
    .await;
    accept(&app, &org, evidence["id"].as_str().expect("id")).await;
    let scored = body(app.get(&control_path, &org.editor.token).await).await;
    assert_eq!(
        (scored["evidence_count"].as_i64(), scored["score"].as_f64()),
        (Some(1), Some(0.5))
    );
}

#[tokio::test]
async fn a_changed_control_answers_with_what_is_linked_to_it() {
    let app = TestApp::spawn().await;
    let org = org_with_iso(&app).await;
    let control = control_id(&app, &org.id, "A.8.15").await;
    let control_path = format!("/api/v1/organizations/{}/controls/{control}", org.id);
    let facts = |c: serde_json::Value| {
        (
            c["evidence_count"].as_i64(),
            c["open_findings_count"].as_i64(),
            c["score"].as_f64(),
        )
    };
    // A change answers with the control's counts and score, as a read of it does.
    let change = async |patch: serde_json::Value| {
        let res = app
            .send_json(Method::PATCH, &control_path, &org.editor.token, &patch)
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let changed = facts(body(res).await);
        let read = facts(body(app.get(&control_path, &org.editor.token).await).await);
        assert_eq!(changed, read, "the change's answer and a read agree");
        changed
    };
    let past = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    let expired = create_evidence(
        &app,
        &org.id,
        &org.editor.token,
        json!({"control_ids": [control], "valid_until": past}),
    )
    .await;
    accept(&app, &org, expired["id"].as_str().expect("id")).await;
    create_evidence(
        &app,
        &org.id,
        &org.editor.token,
        json!({"control_ids": [control]}),
    )
    .await;
    assert_eq!(
        change(json!({"status": "implemented"})).await,
        (Some(2), Some(0), Some(0.5)),
        "expired and pending evidence only"
    );
    let valid = create_evidence(
        &app,
        &org.id,
        &org.editor.token,
        json!({"control_ids": [control]}),
    )
    .await;
    accept(&app, &org, valid["id"].as_str().expect("id")).await;
    assert_eq!(
        change(json!({"notes": "reviewed"})).await,
        (Some(3), Some(0), Some(1.0)),
        "valid evidence"
    );
    let res = app
        .send_json(
            Method::POST,
            &format!("/api/v1/organizations/{}/findings", org.id),
            &org.editor.token,
            &json!({"title": "Logs are not reviewed", "type": "minor_nonconformity",
                    "source": "internal_audit", "control_ids": [control]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // Nothing changes this time: the answer still carries the counts.
    assert_eq!(
        change(json!({"notes": "reviewed"})).await,
        (Some(3), Some(1), Some(0.5)),
        "an open minor nonconformity"
    );
}

#[tokio::test]
async fn a_served_again_control_page_ends_when_evidence_expires() {
    let app = TestApp::spawn().await;
    let org = org_with_iso(&app).await;
    let control = control_id(&app, &org.id, "A.8.15").await;
    let valid_until = chrono::Utc::now() + chrono::Duration::seconds(2);
    let evidence = create_evidence(
        &app,
        &org.id,
        &org.editor.token,
        json!({"control_ids": [control], "valid_until": valid_until.to_rfc3339()}),
    )
    .await;
    accept(&app, &org, evidence["id"].as_str().expect("id")).await;
    let path = format!(
        "/api/v1/organizations/{}/controls?has_valid_evidence=true",
        org.id
    );
    let ids = async || {
        let page = body(app.get(&path, &org.editor.token).await).await;
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| c["id"].as_str().expect("id").to_owned())
            .collect::<Vec<_>>()
    };
    // Rendered, then served again from the page cache: nothing changed meanwhile.
    assert_eq!(ids().await, vec![control.clone()]);
    assert_eq!(ids().await, vec![control.clone()]);
    // No write happens, but the evidence expires: the stored page is no longer served.
    let wait = valid_until - chrono::Utc::now() + chrono::Duration::milliseconds(300);
    tokio::time::sleep(wait.to_std().unwrap_or_default()).await;
    assert_eq!(ids().await, Vec::<String>::new());
}
