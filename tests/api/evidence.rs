//! Evidence: byte-exact content round trips, hashes, upload limits, safe file names, links
//! within one organization, review rules, expiry filters, archiving and control scores.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{
    ISO_27001, NewEvidence, NewFinding, Org, TestApp, assert_problem, body, id_of, ids,
};

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn binary_content_round_trips_byte_for_byte() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let evidence = app
        .new_evidence(&org.id, &org.editor.token, NewEvidence::default())
        .await;
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
    let other = app
        .new_evidence(&org.id, &org.editor.token, NewEvidence::default())
        .await;
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
    let org = app.org_with(ISO_27001).await;
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
        let evidence = app
            .new_evidence(&org.id, &org.editor.token, NewEvidence::default())
            .await;
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
    let org = app.org_with(ISO_27001).await;
    let evidence = app
        .new_evidence(&org.id, &org.editor.token, NewEvidence::default())
        .await;
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

/// The path of a link between a control and evidence.
fn link_path(org: &str, control: &str, evidence: &str) -> String {
    format!("/api/v1/organizations/{org}/controls/{control}/evidence/{evidence}")
}

#[tokio::test]
async fn another_organizations_control_cannot_be_linked() {
    let app = TestApp::spawn().await;
    let a = app.org_with(ISO_27001).await;
    let b = app.org_with(ISO_27001).await;
    let control_a = a.control("A.5.15");
    let control_b = b.control("A.5.15");
    let evidence = app
        .new_evidence(
            &a.id,
            &a.editor.token,
            NewEvidence::default().linked_to(&[control_a]),
        )
        .await;
    assert_eq!(evidence["control_ids"], json!([control_a]));
    let ev = evidence["id"].as_str().expect("id");

    // Another organization's control cannot be named, by id in a body or in a path.
    let problem = assert_problem(
        app.post(
            &a.path("/evidence"),
            &a.editor.token,
            NewEvidence::default().linked_to(&[control_b]).json(),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "control_ids");
    for (org, token) in [
        (&a.id, &a.editor.token),
        (&b.id, &b.editor.token),
        (&b.id, &a.editor.token),
    ] {
        let res = app
            .call(Method::PUT, &link_path(org, control_b, ev), token)
            .await;
        assert_problem(res, 404).await;
    }
}

#[tokio::test]
async fn editors_link_and_unlink_evidence_idempotently() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let first = org.control("A.5.15");
    let evidence = app
        .new_evidence(
            &org.id,
            &org.editor.token,
            NewEvidence::default().linked_to(&[first]),
        )
        .await;
    let ev = evidence["id"].as_str().expect("id");
    let second = org.control("A.8.2");
    let link = link_path(&org.id, second, ev);
    for _ in 0..2 {
        let res = app.call(Method::PUT, &link, &org.editor.token).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "idempotent");
    }
    let listed = app
        .get_json(
            &org.path(&format!("/controls/{second}/evidence")),
            &org.auditor.token,
        )
        .await;
    assert_eq!(ids(&listed), [ev]);
    assert_problem(app.call(Method::PUT, &link, &org.viewer.token).await, 403).await;
    let res = app.delete(&link, &org.editor.token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let got = app
        .get_json(&org.path(&format!("/evidence/{ev}")), &org.editor.token)
        .await;
    assert_eq!(got["control_ids"], json!([first]));
}

/// Evidence valid until 2099, submitted by the organization's editor: its id and paths.
async fn submitted(app: &TestApp, org: &Org) -> (String, String) {
    let evidence = app
        .new_evidence(
            &org.id,
            &org.editor.token,
            NewEvidence::default().valid_until("2099-01-01T00:00:00Z"),
        )
        .await;
    let id = id_of(&evidence);
    let path = org.path(&format!("/evidence/{id}"));
    (id, path)
}

#[tokio::test]
async fn invalid_reviews_are_refused() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let (_, path) = submitted(&app, &org).await;
    let review = format!("{path}/review");
    // (who, decision, status, the field named)
    let cases = [
        (&org.editor, json!({"decision": "accepted"}), 403, None),
        (
            &org.auditor,
            json!({"decision": "rejected"}),
            422,
            Some("comment"),
        ),
        (&org.auditor, json!({"decision": "maybe"}), 400, None),
    ];
    for (who, decision, status, field) in cases {
        let problem = assert_problem(app.post(&review, &who.token, &decision).await, status).await;
        if let Some(field) = field {
            assert_eq!(problem["errors"][0]["field"], field, "{decision}");
        }
    }
    let unchanged = app.get_json(&path, &org.editor.token).await;
    assert_eq!(unchanged["review_status"], "pending");
}

#[tokio::test]
async fn an_accepted_review_records_the_reviewer() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let (_, path) = submitted(&app, &org).await;
    let res = app
        .post(
            &format!("{path}/review"),
            &org.auditor.token,
            &json!({"decision": "accepted", "comment": "Matches the IAM export"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let accepted = body(res).await;
    assert_eq!(accepted["review_status"], "accepted");
    assert_eq!(accepted["reviewed_by"], format!("user:{}", org.auditor.id));
    assert!(accepted["reviewed_at"].is_string());
}

#[tokio::test]
async fn a_new_validity_or_new_content_sends_evidence_back_to_review_and_a_title_does_not() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let (id, path) = submitted(&app, &org).await;
    app.review(&org.id, &id, &org.auditor.token, "accepted")
        .await;
    let res = app
        .patch(
            &path,
            &org.editor.token,
            &json!({"valid_until": "2098-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        body(res).await["review_status"],
        "pending",
        "a new validity"
    );

    app.review(&org.id, &id, &org.auditor.token, "accepted")
        .await;
    let res = app
        .patch(
            &path,
            &org.editor.token,
            &json!({"title": "Access review Q3 (final)"}),
        )
        .await;
    assert_eq!(body(res).await["review_status"], "accepted", "a new title");

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
        app.get_json(&path, &org.editor.token).await["review_status"],
        "pending",
        "new content"
    );
}

#[tokio::test]
async fn nobody_reviews_their_own_submission_not_even_an_admin() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let own = app
        .new_evidence(&org.id, &org.admin.token, NewEvidence::default())
        .await;
    let own_review = org.path(&format!("/evidence/{}/review", id_of(&own)));
    let problem = assert_problem(
        app.post(
            &own_review,
            &org.admin.token,
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
    let res = app
        .post(
            &own_review,
            &org.auditor.token,
            &json!({"decision": "rejected", "comment": "Unsigned"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "another reviewer may");
}

#[tokio::test]
async fn expiry_filters() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let now = chrono::Utc::now();
    let iso = |d: chrono::Duration| (now + d).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let expired = app
        .new_evidence(
            &org.id,
            &org.editor.token,
            NewEvidence::default()
                .titled("old")
                .valid_until(&iso(chrono::Duration::days(-3))),
        )
        .await;
    let soon = app
        .new_evidence(
            &org.id,
            &org.editor.token,
            NewEvidence::default()
                .titled("soon")
                .valid_until(&iso(chrono::Duration::days(10))),
        )
        .await;
    let later = app
        .new_evidence(
            &org.id,
            &org.editor.token,
            NewEvidence::default()
                .titled("later")
                .valid_until(&iso(chrono::Duration::days(200))),
        )
        .await;
    let forever = app
        .new_evidence(
            &org.id,
            &org.editor.token,
            NewEvidence::default()
                .titled("forever")
                .with("kind", json!("link"))
                .with("url", json!("https://wiki.acme.example/policy")),
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
        app.post(
            &format!("/api/v1/organizations/{}/evidence", org.id),
            &org.editor.token,
            &json!({"title": "x", "kind": "link"}),
        )
        .await,
        422,
    )
    .await;
    assert_problem(
        app.post(&format!("/api/v1/organizations/{}/evidence", org.id),
            &org.editor.token,
            &json!({"title": "x", "kind": "log", "collected_at": "2026-10-01T00:00:00Z", "valid_until": "2026-09-01T00:00:00Z"}),
        )
        .await,
        422,
    )
    .await;
}

#[tokio::test]
async fn accepted_evidence_gives_full_credit_until_it_is_archived() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let control = org.control("A.8.13");
    let control_path = org.control_path("A.8.13");
    let implemented = app
        .update_control(&org, "A.8.13", json!({"status": "implemented"}))
        .await;
    assert_eq!(implemented["score"], 0.5);

    let evidence = app
        .new_evidence(
            &org.id,
            &org.editor.token,
            NewEvidence::default().linked_to(&[control]),
        )
        .await;
    let id = id_of(&evidence);
    app.review(&org.id, &id, &org.auditor.token, "accepted")
        .await;
    let scored = app.get_json(&control_path, &org.editor.token).await;
    assert_eq!(
        (scored["evidence_count"].as_i64(), scored["score"].as_f64()),
        (Some(1), Some(1.0)),
        "valid accepted evidence: full credit"
    );
    let with_evidence = app
        .get_json(
            &org.path("/controls?has_valid_evidence=true"),
            &org.editor.token,
        )
        .await;
    assert_eq!(ids(&with_evidence), [control]);

    let res = app
        .delete(&org.path(&format!("/evidence/{id}")), &app.admin_token)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let after = app.get_json(&control_path, &org.editor.token).await;
    assert_eq!(
        (after["evidence_count"].as_i64(), after["score"].as_f64()),
        (Some(0), Some(0.5)),
        "hidden from scores"
    );
    assert_eq!(
        app.audit_actions(
            &org.id,
            &format!("entity_type=evidence&entity_id={id}"),
            &org.auditor.token
        )
        .await,
        ["evidence.created", "evidence.reviewed", "evidence.archived"]
    );
}

#[tokio::test]
async fn admins_archive_evidence_once_and_it_stays_readable_but_frozen() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let evidence = app
        .new_evidence(&org.id, &org.editor.token, NewEvidence::default())
        .await;
    let path = org.path(&format!("/evidence/{}", id_of(&evidence)));
    assert_problem(app.delete(&path, &org.editor.token).await, 403).await;
    let res = app.delete(&path, &app.admin_token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.delete(&path, &app.admin_token).await;
    assert_eq!(
        res.status(),
        StatusCode::NO_CONTENT,
        "archiving twice is harmless"
    );

    let list = app
        .get_json(&org.path("/evidence"), &org.editor.token)
        .await;
    assert_eq!(ids(&list), Vec::<String>::new(), "hidden from lists");
    let kept = app.get_json(&path, &org.editor.token).await;
    assert!(kept["archived_at"].is_string(), "kept, and readable by id");
    assert_problem(
        app.patch(&path, &org.editor.token, &json!({"title": "x"}))
            .await,
        409,
    )
    .await;
}

#[tokio::test]
async fn expired_evidence_does_not_count() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let control = org.control("A.8.15").to_owned();
    let control_path = format!("/api/v1/organizations/{}/controls/{control}", org.id);
    app.patch(
        &control_path,
        &org.editor.token,
        &json!({"status": "implemented"}),
    )
    .await;
    let past = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    app.reviewed_evidence(&org, &["A.8.15"], Some(&past), Some("accepted"))
        .await;
    let scored = body(app.get(&control_path, &org.editor.token).await).await;
    assert_eq!(
        (scored["evidence_count"].as_i64(), scored["score"].as_f64()),
        (Some(1), Some(0.5))
    );
}

#[tokio::test]
async fn a_changed_control_answers_with_what_is_linked_to_it() {
    let app = TestApp::spawn().await;
    let org = app.org_with(ISO_27001).await;
    let control = org.control("A.8.15").to_owned();
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
        let res = app.patch(&control_path, &org.editor.token, &patch).await;
        assert_eq!(res.status(), StatusCode::OK);
        let changed = facts(body(res).await);
        let read = facts(body(app.get(&control_path, &org.editor.token).await).await);
        assert_eq!(changed, read, "the change's answer and a read agree");
        changed
    };
    let past = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    app.reviewed_evidence(&org, &["A.8.15"], Some(&past), Some("accepted"))
        .await;
    app.new_evidence(
        &org.id,
        &org.editor.token,
        NewEvidence::default().linked_to(&[control.as_str()]),
    )
    .await;
    assert_eq!(
        change(json!({"status": "implemented"})).await,
        (Some(2), Some(0), Some(0.5)),
        "expired and pending evidence only"
    );
    let valid = app
        .new_evidence(
            &org.id,
            &org.editor.token,
            NewEvidence::default().linked_to(&[control.as_str()]),
        )
        .await;
    app.review(
        &org.id,
        valid["id"].as_str().expect("id"),
        &org.auditor.token,
        "accepted",
    )
    .await;
    assert_eq!(
        change(json!({"notes": "reviewed"})).await,
        (Some(3), Some(0), Some(1.0)),
        "valid evidence"
    );
    app.new_finding(
        &org.id,
        &org.editor.token,
        NewFinding::default()
            .titled("Logs are not reviewed")
            .of_type("minor_nonconformity")
            .linked_to(&[control.as_str()]),
    )
    .await;
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
    let org = app.org_with(ISO_27001).await;
    let control = org.control("A.8.15").to_owned();
    let valid_until = chrono::Utc::now() + chrono::Duration::seconds(2);
    let evidence = app
        .new_evidence(
            &org.id,
            &org.editor.token,
            NewEvidence::default()
                .linked_to(&[control.as_str()])
                .valid_until(&valid_until.to_rfc3339()),
        )
        .await;
    app.review(
        &org.id,
        evidence["id"].as_str().expect("id"),
        &org.auditor.token,
        "accepted",
    )
    .await;
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
