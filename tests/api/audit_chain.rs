//! The tamper-evident audit trail: each organization's events form a hash chain that
//! `…/audit-events/verify` checks and `…/audit-events/export` streams. Rows edited, deleted or
//! inserted directly in the database are detected; the export re-verifies with the canonical
//! form of docs/audit-events.md, recomputed here independently.

use annexa::domain::role::Role;
use entity::audit_event;
use reqwest::StatusCode;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{Actor, NewFinding, TestApp, body};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An organization with an admin and an editor, and a few events: 1 organization.created,
/// 2–3 member.created, 4–6 finding.created.
async fn org_with_events(app: &TestApp) -> (String, Actor) {
    let org = app.organization("Chained").await;
    app.member(&org, Role::Admin).await;
    let editor = app.member(&org, Role::Editor).await;
    for n in 0..3 {
        let finding = NewFinding::default().titled(&format!("Finding {n}"));
        app.new_finding(&org, &editor.token, finding).await;
    }
    (org, editor)
}

async fn verify(app: &TestApp, org: &str) -> Value {
    app.get_json(
        &format!("/api/v1/organizations/{org}/audit-events/verify"),
        &app.admin_token,
    )
    .await
}

/// The stored events of the organization, in chain order.
async fn stored(app: &TestApp, org: &str) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .filter(audit_event::Column::OrganizationId.eq(org))
        .order_by_asc(audit_event::Column::ChainSeq)
        .all(&app.state.db)
        .await
        .expect("events")
}

fn broken(report: &Value) -> (i64, String, String) {
    let b = &report["first_broken"];
    (
        b["chain_seq"].as_i64().expect("seq"),
        b["event_id"].as_str().expect("event id").to_owned(),
        b["reason"].as_str().expect("reason").to_owned(),
    )
}

/// docs/audit-events.md: JSON, keys sorted, no whitespace.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", json!(k), canonical(&map[k.as_str()])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// The hash of an exported line, recomputed from its fields.
fn recompute(line: &Value) -> String {
    let at: chrono::DateTime<chrono::Utc> = serde_json::from_value(line["at"].clone()).expect("at");
    let form = json!({
        "id": line["id"], "organization_id": line["organization_id"],
        "chain_seq": line["chain_seq"],
        "at": at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        "actor": line["actor"], "action": line["action"], "entity_type": line["entity_type"],
        "entity_id": line["entity_id"], "changes": line["changes"],
        "request_id": line["request_id"], "prev_hash": line["prev_hash"],
    });
    Sha256::digest(canonical(&form).as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn the_chain_verifies_with_its_length_and_head() {
    let app = TestApp::spawn().await;
    let (org, _) = org_with_events(&app).await;
    let events = app
        .all_pages(&format!("/api/v1/organizations/{org}/audit-events"))
        .await;
    assert_eq!(events.len(), 6);
    assert_eq!(events[0]["chain_seq"], 1);
    assert_eq!(events[0]["prev_hash"], GENESIS);
    for pair in events.windows(2) {
        assert_eq!(pair[1]["prev_hash"], pair[0]["hash"]);
    }
    let report = verify(&app, &org).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["length"], 6);
    assert_eq!(report["head_hash"], events[5]["hash"]);
    assert!(report["first_broken"].is_null() && report["verified_at"].is_string());

    // A snapshot pins the head it was computed from.
    let admin = app.member(&org, Role::Admin).await;
    let res = app
        .post(
            &format!("/api/v1/organizations/{org}/frameworks"),
            &admin.token,
            &json!({"framework": "iso27001-2022"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let head = verify(&app, &org).await["head_hash"].clone();
    let res = app
        .post(
            &format!("/api/v1/organizations/{org}/readiness/iso27001-2022/history"),
            &admin.token,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(body(res).await["audit_head_hash"], head);
}

#[tokio::test]
async fn an_edited_event_is_a_hash_mismatch_at_its_position() {
    let app = TestApp::spawn().await;
    let (org, _) = org_with_events(&app).await;
    let events = stored(&app, &org).await;
    let mut edited: audit_event::ActiveModel = events[3].clone().into();
    edited.changes = Set(r#"{"title":[null,"Nothing to see"]}"#.to_owned());
    edited.update(&app.state.db).await.expect("edit");
    let report = verify(&app, &org).await;
    assert_eq!(report["ok"], false);
    assert_eq!(
        broken(&report),
        (4, events[3].id.clone(), "hash_mismatch".to_owned())
    );
}

#[tokio::test]
async fn a_deleted_event_leaves_a_missing_position() {
    let app = TestApp::spawn().await;
    let (org, _) = org_with_events(&app).await;
    let events = stored(&app, &org).await;
    audit_event::Entity::delete_by_id(events[1].id.clone())
        .exec(&app.state.db)
        .await
        .expect("delete");
    let report = verify(&app, &org).await;
    assert_eq!(
        broken(&report),
        (2, events[2].id.clone(), "missing".to_owned())
    );
}

#[tokio::test]
async fn a_forged_event_is_detected() {
    let app = TestApp::spawn().await;
    let (org, _) = org_with_events(&app).await;
    let events = stored(&app, &org).await;
    // A well-formed event with a correct hash of its own, claiming to follow event 4.
    let mut forged = events[5].clone();
    forged.id = uuid::Uuid::now_v7().to_string();
    forged.chain_seq = Some(7);
    forged.prev_hash = events[3].hash.clone();
    forged.changes = r#"{"title":[null,"Backdated"]}"#.to_owned();
    let line = json!({
        "id": forged.id, "organization_id": org, "chain_seq": 7, "at": forged.at,
        "actor": forged.actor, "action": forged.action, "entity_type": forged.entity_type,
        "entity_id": forged.entity_id, "changes": {"title": [null, "Backdated"]},
        "request_id": forged.request_id, "prev_hash": forged.prev_hash,
    });
    forged.hash = Some(recompute(&line));
    let id = forged.id.clone();
    audit_event::Entity::insert(audit_event::ActiveModel::from(forged))
        .exec_without_returning(&app.state.db)
        .await
        .expect("insert");
    let report = verify(&app, &org).await;
    assert_eq!(report["length"], 7);
    assert_eq!(broken(&report), (7, id, "prev_mismatch".to_owned()));

    // A forged event whose hash does not match its fields.
    let app = TestApp::spawn().await;
    let (org, _) = org_with_events(&app).await;
    let events = stored(&app, &org).await;
    let mut forged = events[5].clone();
    forged.id = uuid::Uuid::now_v7().to_string();
    forged.chain_seq = Some(7);
    forged.prev_hash = events[5].hash.clone();
    forged.hash = Some("f".repeat(64));
    let id = forged.id.clone();
    audit_event::Entity::insert(audit_event::ActiveModel::from(forged))
        .exec_without_returning(&app.state.db)
        .await
        .expect("insert");
    let report = verify(&app, &org).await;
    assert_eq!(broken(&report), (7, id, "hash_mismatch".to_owned()));
}

#[tokio::test]
async fn the_export_streams_ndjson_whose_hashes_re_verify() {
    let app = TestApp::spawn().await;
    let (org, _) = org_with_events(&app).await;
    let res = app
        .get(
            &format!("/api/v1/organizations/{org}/audit-events/export"),
            &app.admin_token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/x-ndjson");
    let text = res.text().await.expect("body");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 6);
    let mut prev = GENESIS.to_owned();
    for (n, line) in lines.iter().enumerate() {
        assert_eq!(line["chain_seq"], n as i64 + 1);
        assert_eq!(line["organization_id"], org.as_str());
        assert_eq!(line["prev_hash"], prev.as_str());
        assert_eq!(line["hash"], recompute(line).as_str(), "line {n}");
        prev = line["hash"].as_str().expect("hash").to_owned();
    }
    assert_eq!(verify(&app, &org).await["head_hash"], prev.as_str());

    // `since` keeps the later events, still in chain order.
    let since = lines[4]["at"].as_str().expect("at");
    let res = app
        .client
        .get(app.url(&format!("/api/v1/organizations/{org}/audit-events/export")))
        .query(&[("since", since)])
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .expect("request");
    let text = res.text().await.expect("body");
    let seqs: Vec<i64> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("json")["chain_seq"]
                .as_i64()
                .expect("seq")
        })
        .collect();
    assert_eq!(seqs.first(), Some(&5));
    assert_eq!(seqs.last(), Some(&6));

    // A client that reads the export as a file gets the same lines, labelled as bytes.
    let res = app
        .client
        .get(app.url(&format!("/api/v1/organizations/{org}/audit-events/export")))
        .header("accept", "application/octet-stream")
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .expect("request");
    assert_eq!(res.headers()["content-type"], "application/octet-stream");
    assert_eq!(res.text().await.expect("body"), text_all(&app, &org).await);
}

/// The export's body with the default media type.
async fn text_all(app: &TestApp, org: &str) -> String {
    let path = format!("/api/v1/organizations/{org}/audit-events/export");
    app.get(&path, &app.admin_token)
        .await
        .text()
        .await
        .expect("body")
}

#[tokio::test]
async fn concurrent_writers_of_one_organization_keep_one_chain() {
    let app = TestApp::spawn_with(|s| s.db_pool_size = 20).await;
    let (org, editor) = org_with_events(&app).await;
    let (other, other_editor) = org_with_events(&app).await;
    let creates = (0..16).map(|n| {
        let (app, org, editor) = (&app, &org, &editor);
        async move {
            let finding = NewFinding::default().titled(&format!("Concurrent {n}"));
            app.new_finding(org, &editor.token, finding).await;
        }
    });
    let others = (0..4).map(|n| {
        let (app, other, editor) = (&app, &other, &other_editor);
        async move {
            let finding = NewFinding::default().titled(&format!("Elsewhere {n}"));
            app.new_finding(other, &editor.token, finding).await;
        }
    });
    futures_util::future::join(
        futures_util::future::join_all(creates),
        futures_util::future::join_all(others),
    )
    .await;
    let report = verify(&app, &org).await;
    assert_eq!(
        (report["ok"].clone(), report["length"].clone()),
        (json!(true), json!(22)),
        "{report}"
    );
    let report = verify(&app, &other).await;
    assert_eq!(
        (report["ok"].clone(), report["length"].clone()),
        (json!(true), json!(10)),
        "{report}"
    );
}

#[tokio::test]
async fn the_migration_chains_the_events_of_an_older_database() {
    use annexa::{service::audit, store::db::begin_write as db_write};
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    let db = crate::helpers::TestDb::create().await;
    let settings = annexa::config::Settings::with_database(&db.url);
    let conn = annexa::store::db::connect(&settings)
        .await
        .expect("connect");
    Migrator::up(&conn, Some(10))
        .await
        .expect("migrations before the chain");
    conn.execute_unprepared(
        "INSERT INTO organizations (id, name, version, created_at, updated_at) VALUES \
         ('org-a', 'A', 1, '2026-11-01T09:00:00Z', '2026-11-01T09:00:00Z')",
    )
    .await
    .expect("an old organization");
    conn.execute_unprepared(
        "INSERT INTO organization_versions (organization_id, data_version) VALUES ('org-a', 0)",
    )
    .await
    .expect("its version");
    for (n, org) in [
        (1, Some("org-a")),
        (2, None),
        (3, Some("org-a")),
        (4, Some("org-b")),
    ] {
        let org = org.map_or("NULL".to_owned(), |o| format!("'{o}'"));
        conn.execute_unprepared(&format!(
            "INSERT INTO audit_events (id, organization_id, at, actor, action, entity_type, \
             entity_id, changes, request_id) VALUES ('0190000{n}-0000-7000-8000-000000000000', \
             {org}, '2026-11-0{n}T10:00:00.123456Z', 'system', 'thing.created', 'thing', 't{n}', \
             '{{\"name\": [null, \"é {n}\"]}}', NULL)"
        ))
        .await
        .expect("an old event");
    }
    Migrator::up(&conn, None)
        .await
        .expect("the chain migration");
    // The next event of an old organization follows its chain.
    let txn = db_write(&conn).await.expect("txn");
    audit::record_as(
        &txn,
        "system:test",
        None,
        audit::AuditRecord {
            organization_id: Some("org-a"),
            action: "thing.updated",
            entity_type: "thing",
            entity_id: "t1",
            changes: audit::Changes::new().field("name", &"a", &"b"),
        },
    )
    .await
    .expect("a new event");
    txn.commit().await.expect("commit");
    let reports = audit::verify_every_chain(&conn).await.expect("verify");
    let mut lengths: Vec<(Option<String>, i64, bool)> = reports
        .into_iter()
        .map(|(org, r)| (org, r.length, r.ok()))
        .collect();
    lengths.sort();
    assert_eq!(
        lengths,
        [
            (None, 1, true),
            (Some("org-a".to_owned()), 3, true),
            (Some("org-b".to_owned()), 1, true)
        ]
    );
    conn.close().await.ok();
}
