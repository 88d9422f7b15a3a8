//! `annexa backup` and `annexa restore` on SQLite: an online copy under write load restores
//! and its audit chains verify; damaged, truncated and foreign files are refused and nothing
//! is overwritten. On PostgreSQL the commands point to pg_dump / pg_restore.

use std::{
    path::{Path, PathBuf},
    process::Output,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use annexa::{config::Settings, domain::role::Role, service::audit, store::db};
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::helpers::{NewFinding, TestApp};

fn on_postgres() -> bool {
    std::env::var("ANNEXA_TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres"))
}

/// A fresh directory for one test's files.
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("annexa-backup-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

fn annexa(database_url: &str, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_annexa"))
        .args(args)
        .env("ANNEXA_DATABASE_URL", database_url)
        .env("RUST_LOG", "error")
        .output()
        .expect("run annexa")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn url_of(file: &Path) -> String {
    format!("sqlite://{}", file.display())
}

/// Restores `backup` into `target`: the command's output.
fn restore(backup: &Path, target: &Path, force: bool) -> Output {
    let from = backup.to_str().expect("path");
    let mut args = vec!["restore", "--from", from];
    if force {
        args.push("--force");
    }
    annexa(&url_of(target), &args)
}

/// The restored database's findings, and whether all its audit chains verify.
async fn open_restored(target: &Path) -> (u64, Vec<bool>) {
    let conn = db::connect(&Settings::with_database(&url_of(target)))
        .await
        .expect("open");
    let findings = entity::finding::Entity::find()
        .count(&conn)
        .await
        .expect("count");
    let reports = audit::verify_every_chain(&conn).await.expect("verify");
    conn.close().await.ok();
    (findings, reports.iter().map(|(_, r)| r.ok()).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_write_load_restores_and_its_chains_verify() {
    if on_postgres() {
        return;
    }
    let app = Arc::new(TestApp::spawn().await);
    let org = app.organization("Backed up").await;
    let editor = app.member(&org, Role::Editor).await;
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (app, org, token, stop) =
                (app.clone(), org.clone(), editor.token.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let finding = NewFinding::default().titled(&format!("Writer {w} #{n}"));
                    app.new_finding(&org, &token, finding).await;
                    n += 1;
                }
                n
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let dir = scratch();
    let file = dir.join("annexa.backup");
    let url = app.state.settings.database_url.clone();
    let to = file.to_str().expect("path").to_owned();
    let out = tokio::task::spawn_blocking(move || annexa(&url, &["backup", "--to", &to]))
        .await
        .expect("backup");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    let mut written = 0;
    for writer in writers {
        written += writer.await.expect("writer");
    }
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(written > 0);

    // A second backup to the same file is refused.
    let url = app.state.settings.database_url.clone();
    let again = annexa(&url, &["backup", "--to", file.to_str().expect("path")]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );

    let target = dir.join("restored.db");
    let out = restore(&file, &target, false);
    assert!(out.status.success(), "{}", stderr(&out));
    let (findings, chains) = open_restored(&target).await;
    assert!(
        findings > 0 && findings <= written,
        "{findings} of {written}"
    );
    assert!(
        !chains.is_empty() && chains.iter().all(|ok| *ok),
        "{chains:?}"
    );

    // An existing database is replaced only with --force.
    let out = restore(&file, &target, false);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    let out = restore(&file, &target, true);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn damaged_or_foreign_files_are_refused_and_nothing_is_overwritten() {
    if on_postgres() {
        return;
    }
    let app = TestApp::spawn().await;
    app.organization("Acme").await;
    let dir = scratch();
    let good = dir.join("good.backup");
    let url = app.state.settings.database_url.clone();
    let out = annexa(&url, &["backup", "--to", good.to_str().expect("path")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&good).expect("backup");

    let truncated = dir.join("truncated.backup");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2 + 100]).expect("write");
    let text = dir.join("notes.txt");
    std::fs::write(&text, "not a database at all\n".repeat(100)).expect("write");
    let foreign = dir.join("foreign.db");
    let conn = db::connect(&Settings::with_database(&url_of(&foreign)))
        .await
        .expect("open");
    sea_orm::ConnectionTrait::execute_unprepared(&conn, "CREATE TABLE t (x INTEGER)")
        .await
        .expect("table");
    conn.close().await.ok();

    // The target holds a database that must survive every refused restore.
    let target = dir.join("live.db");
    std::fs::copy(&good, &target).expect("copy");
    let before = std::fs::read(&target).expect("target");
    for (file, problem) in [
        (&truncated, "truncated"),
        (&text, "not an SQLite database"),
        (&foreign, "not an Annexa database"),
    ] {
        let out = restore(file, &target, true);
        assert!(!out.status.success(), "{problem} must be refused");
        let err = stderr(&out);
        assert!(err.contains(problem), "{problem}: {err}");
        assert_eq!(std::fs::read(&target).expect("target"), before, "{problem}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".restore-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary copies are removed");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn on_postgresql_the_commands_point_to_pg_dump_and_pg_restore() {
    let url = "postgres://postgres@127.0.0.1:5432/annexa";
    let out = annexa(url, &["backup", "--to", "/tmp/never-written.backup"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("pg_dump"), "{}", stderr(&out));
    let out = annexa(url, &["restore", "--from", "/tmp/never-read.backup"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("pg_restore"), "{}", stderr(&out));
}
