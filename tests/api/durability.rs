//! Durability on SQLite: commits reach the disk before they are acknowledged (`synchronous=FULL`)
//! unless `ANNEXA_SQLITE_SYNCHRONOUS=normal` says otherwise.

use annexa::config::SqliteSynchronous;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::helpers::TestApp;

/// `PRAGMA synchronous` of one pooled connection (0 off, 1 normal, 2 full, 3 extra).
async fn synchronous(app: &TestApp) -> i64 {
    let row = app
        .state
        .db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA synchronous",
        ))
        .await
        .expect("pragma")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("a number")
}

fn on_postgres() -> bool {
    std::env::var("ANNEXA_TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres"))
}

#[tokio::test]
async fn sqlite_commits_are_full_by_default_and_normal_when_configured() {
    if on_postgres() {
        return; // PostgreSQL keeps its own (durable) defaults.
    }
    let app = TestApp::spawn().await;
    assert_eq!(synchronous(&app).await, 2, "FULL by default");
    let app = TestApp::spawn_with(|s| s.sqlite_synchronous = SqliteSynchronous::Normal).await;
    assert_eq!(synchronous(&app).await, 1, "NORMAL when asked");
}

#[test]
fn an_unknown_synchronous_value_stops_the_start_naming_it() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_annexa"))
        .arg("migrate")
        .env("ANNEXA_SQLITE_SYNCHRONOUS", "sometimes")
        .output()
        .expect("run annexa");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("annexa: configuration error:") && stderr.contains("sqlite-synchronous"),
        "{stderr}"
    );
}
