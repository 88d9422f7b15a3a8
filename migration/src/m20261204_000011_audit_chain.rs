//! The tamper-evident audit trail: each chain's events (one chain per organization, and one
//! "platform" chain for events with no organization) are numbered 1, 2, 3… (`chain_seq`) and
//! each stores its predecessor's hash and the SHA-256 of its own canonical form (`prev_hash`,
//! `hash`). Existing events are chained here, in id order, so old databases verify. Each
//! organization's `organization_versions` row also keeps its chain's head, moved by the insert
//! trigger of migration 9 (replaced here), so that on PostgreSQL one locking read both takes the
//! organization's turn and reads the head. Readiness snapshots gain the head hash of the trail
//! they were computed from.
//!
//! The canonical form is written out again below rather than imported: a migration's result
//! must not change when the application's code does (docs/audit-events.md describes the form).

use std::collections::HashMap;

use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{ConnectionTrait, Statement, Value as DbValue},
};
use sha2::{Digest, Sha256};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    ChainSeq,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum OrganizationVersions {
    Table,
    AuditChainSeq,
    AuditHeadHash,
}

#[derive(DeriveIden)]
enum ReadinessSnapshots {
    Table,
    AuditHeadHash,
}

/// The `prev_hash` of a chain's first event.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Rows chained per read while backfilling.
const PAGE: u64 = 500;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        // One transaction on SQLite too: the backfill is many updates.
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            big_integer_null(AuditEvents::ChainSeq),
            string_len_null(AuditEvents::PrevHash, 64),
            string_len_null(AuditEvents::Hash, 64),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AuditEvents::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(ReadinessSnapshots::Table)
                    .add_column(string_len_null(ReadinessSnapshots::AuditHeadHash, 64))
                    .to_owned(),
            )
            .await?;
        for column in [
            big_integer_null(OrganizationVersions::AuditChainSeq),
            string_len_null(OrganizationVersions::AuditHeadHash, 64),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(OrganizationVersions::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        backfill(manager).await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE organization_versions SET \
             audit_chain_seq = (SELECT a.chain_seq FROM audit_events a \
               WHERE a.organization_id = organization_versions.organization_id \
               ORDER BY a.chain_seq DESC LIMIT 1), \
             audit_head_hash = (SELECT a.hash FROM audit_events a \
               WHERE a.organization_id = organization_versions.organization_id \
               ORDER BY a.chain_seq DESC LIMIT 1)",
        )
        .await?;
        set_trigger(manager, TRIGGER_MOVES_HEAD).await?;
        // One event per position in each chain: two writers can never both append seq n.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS ux_audit_events_org_chain \
             ON audit_events (organization_id, chain_seq)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS ux_audit_events_platform_chain \
             ON audit_events (chain_seq) WHERE organization_id IS NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_trigger(manager, TRIGGER_MOVES_VERSION).await?;
        for column in [
            OrganizationVersions::AuditHeadHash,
            OrganizationVersions::AuditChainSeq,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(OrganizationVersions::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS ux_audit_events_platform_chain")
            .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS ux_audit_events_org_chain")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ReadinessSnapshots::Table)
                    .drop_column(ReadinessSnapshots::AuditHeadHash)
                    .to_owned(),
            )
            .await?;
        for column in [
            AuditEvents::Hash,
            AuditEvents::PrevHash,
            AuditEvents::ChainSeq,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AuditEvents::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// What the insert trigger sets on the organization's `organization_versions` row.
const TRIGGER_MOVES_HEAD: &str = "data_version = data_version + 1, \
     audit_chain_seq = COALESCE(NEW.chain_seq, audit_chain_seq), \
     audit_head_hash = COALESCE(NEW.hash, audit_head_hash)";
/// What it set before (migration 9).
const TRIGGER_MOVES_VERSION: &str = "data_version = data_version + 1";

/// (Re)creates the `audit_events_move_data_version` trigger of migration 9 with `set`.
async fn set_trigger(manager: &SchemaManager<'_>, set: &str) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        sea_orm_migration::sea_orm::DbBackend::Postgres => {
            db.execute_unprepared(&format!(
                "CREATE OR REPLACE FUNCTION audit_events_move_data_version() RETURNS trigger \
                 LANGUAGE plpgsql AS $$ \
                 BEGIN \
                   UPDATE organization_versions SET {set} \
                   WHERE organization_id = NEW.organization_id; \
                   RETURN NULL; \
                 END $$"
            ))
            .await?;
        }
        _ => {
            db.execute_unprepared("DROP TRIGGER IF EXISTS audit_events_move_data_version")
                .await?;
            db.execute_unprepared(&format!(
                "CREATE TRIGGER audit_events_move_data_version \
                 AFTER INSERT ON audit_events FOR EACH ROW WHEN NEW.organization_id IS NOT NULL \
                 BEGIN \
                   UPDATE organization_versions SET {set} \
                   WHERE organization_id = NEW.organization_id; \
                 END"
            ))
            .await?;
        }
    }
    Ok(())
}

/// Chains every existing event, oldest id first, a page at a time.
async fn backfill(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    let placeholder = |n: usize| match backend {
        sea_orm_migration::sea_orm::DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    };
    let mut heads: HashMap<Option<String>, (i64, String)> = HashMap::new();
    let mut after = String::new();
    loop {
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT id, organization_id, at, actor, action, entity_type, entity_id, \
                     changes, request_id FROM audit_events WHERE id > {} ORDER BY id LIMIT {PAGE}",
                    placeholder(1)
                ),
                [DbValue::from(after.clone())],
            ))
            .await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.try_get("", "id")?;
        for row in &rows {
            let id: String = row.try_get("", "id")?;
            let organization_id: Option<String> = row.try_get("", "organization_id")?;
            let at: chrono::DateTime<chrono::Utc> = row.try_get("", "at")?;
            let (seq, prev) = match heads.get(&organization_id) {
                Some((seq, hash)) => (seq + 1, hash.clone()),
                None => (1, GENESIS.to_owned()),
            };
            let changes: String = row.try_get("", "changes")?;
            let request_id: Option<String> = row.try_get("", "request_id")?;
            let text = |column: &str| row.try_get::<String>("", column);
            let hash = event_hash(&[
                ("action", Json::Str(text("action")?)),
                ("actor", Json::Str(text("actor")?)),
                (
                    "at",
                    Json::Str(at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()),
                ),
                ("chain_seq", Json::Int(seq)),
                ("changes", Json::Raw(canonical_changes(&changes))),
                ("entity_id", Json::Str(text("entity_id")?)),
                ("entity_type", Json::Str(text("entity_type")?)),
                ("id", Json::Str(id.clone())),
                (
                    "organization_id",
                    organization_id.clone().map_or(Json::Null, Json::Str),
                ),
                ("prev_hash", Json::Str(prev.clone())),
                ("request_id", request_id.map_or(Json::Null, Json::Str)),
            ]);
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                format!(
                    "UPDATE audit_events SET chain_seq = {}, prev_hash = {}, hash = {} WHERE id = {}",
                    placeholder(1),
                    placeholder(2),
                    placeholder(3),
                    placeholder(4)
                ),
                [seq.into(), prev.into(), hash.clone().into(), id.into()],
            ))
            .await?;
            heads.insert(organization_id, (seq, hash));
        }
    }
}

enum Json {
    Null,
    Int(i64),
    Str(String),
    /// Already canonical JSON text.
    Raw(String),
}

/// SHA-256 hex of the canonical form: a JSON object, keys sorted, no whitespace.
fn event_hash(fields: &[(&str, Json)]) -> String {
    let mut out = String::from("{");
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&quote(key));
        out.push(':');
        match value {
            Json::Null => out.push_str("null"),
            Json::Int(n) => out.push_str(&n.to_string()),
            Json::Str(s) => out.push_str(&quote(s)),
            Json::Raw(raw) => out.push_str(raw),
        }
    }
    out.push('}');
    Sha256::digest(out.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// The stored `changes` as canonical JSON; text that is not JSON counts as a JSON string.
fn canonical_changes(stored: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(stored) {
        Ok(value) => canonical(&value),
        Err(_) => quote(stored),
    }
}

fn canonical(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", quote(k), canonical(&map[k])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", parts.join(","))
        }
        other => other.to_string(),
    }
}
