//! `annexa backup` and `annexa restore`: a consistent copy of a SQLite database taken while the
//! server runs, and the restore of one, checked before anything is replaced (README, "Backups").

use std::{
    fs,
    io::Read,
    path::{Path, PathBuf},
};

use migration::MigratorTrait;

use crate::{config::Settings, error::AppError, service::audit, store, store::db};

/// Why a backup or restore did not happen, in words for the operator.
#[derive(Debug)]
pub struct BackupError(pub String);

impl std::fmt::Display for BackupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<sea_orm::DbErr> for BackupError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self(format!("database error: {err}"))
    }
}

impl From<std::io::Error> for BackupError {
    fn from(err: std::io::Error) -> Self {
        Self(format!("file error: {err}"))
    }
}

impl From<AppError> for BackupError {
    fn from(err: AppError) -> Self {
        Self(err.to_string())
    }
}

fn fail<T>(message: impl Into<String>) -> Result<T, BackupError> {
    Err(BackupError(message.into()))
}

fn sqlite_target(settings: &Settings, postgres_tool: &str) -> Result<PathBuf, BackupError> {
    if !settings.is_sqlite() {
        return fail(format!(
            "the database is PostgreSQL: use {postgres_tool} (see the README, \"Backups\")"
        ));
    }
    match store::backup::sqlite_file(&settings.database_url) {
        Some(file) => Ok(file),
        None => fail("the database URL names no SQLite file"),
    }
}

/// Writes a consistent copy of the configured SQLite database to `to`, online (writers carry
/// on), refusing to overwrite an existing file. Answers the copy's size in bytes.
pub async fn backup(settings: &Settings, to: &Path) -> Result<u64, BackupError> {
    let source = sqlite_target(settings, "pg_dump")?;
    if !source.exists() {
        return fail(format!("there is no database at {}", source.display()));
    }
    if to.exists() {
        return fail(format!(
            "{} already exists: refusing to overwrite it",
            to.display()
        ));
    }
    let Some(to_text) = to.to_str() else {
        return fail("the backup path is not valid UTF-8");
    };
    let conn = db::connect(settings).await?;
    let copied = store::backup::vacuum_into(&conn, to_text).await;
    conn.close().await.ok();
    copied?;
    Ok(fs::metadata(to)?.len())
}

/// What a restore put in place.
#[derive(Debug)]
pub struct Restored {
    /// The database file written.
    pub target: PathBuf,
    /// Audit chains verified (organizations and the platform).
    pub chains: usize,
    /// Audit events in them.
    pub events: i64,
}

/// Restores the backup `from` as the configured SQLite database, after checking it: an SQLite
/// file, complete, passing `PRAGMA integrity_check`, with Annexa's migrations and verifying
/// audit chains. The check runs on a temporary copy beside the target, which then replaces the
/// target by a rename; nothing is replaced when a check fails, nor an existing database
/// without `force`. Run it with the server stopped.
pub async fn restore(
    settings: &Settings,
    from: &Path,
    force: bool,
) -> Result<Restored, BackupError> {
    let target = sqlite_target(settings, "pg_restore")?;
    if target.exists() && !force {
        return fail(format!(
            "{} exists: pass --force to replace it (with the server stopped)",
            target.display()
        ));
    }
    check_file(from)?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "annexa.db".to_owned());
    let temp = target.with_file_name(format!(".{name}.restore-{}", uuid::Uuid::now_v7().simple()));
    fs::copy(from, &temp)?;
    let checked = check_copy(settings, &temp).await;
    let (chains, events) = match checked {
        Ok(found) => found,
        Err(err) => {
            remove_with_sidecars(&temp);
            return Err(err);
        }
    };
    fs::File::open(&temp)?.sync_all()?;
    // A stale write-ahead log of the old database must not be replayed onto the new one.
    for suffix in ["-wal", "-shm"] {
        let sidecar = sidecar(&target, suffix);
        if sidecar.exists() {
            fs::remove_file(sidecar)?;
        }
    }
    fs::rename(&temp, &target)?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::File::open(dir).and_then(|d| d.sync_all()).ok();
    }
    Ok(Restored {
        target,
        chains,
        events,
    })
}

fn sidecar(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn remove_with_sidecars(file: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        fs::remove_file(sidecar(file, suffix)).ok();
    }
}

/// The file is an SQLite database and as long as its header says.
fn check_file(from: &Path) -> Result<(), BackupError> {
    let shown = from.display();
    let mut file =
        fs::File::open(from).map_err(|e| BackupError(format!("cannot read {shown}: {e}")))?;
    let length = file.metadata()?.len();
    let mut header = Vec::with_capacity(100);
    file.by_ref().take(100).read_to_end(&mut header)?;
    if !header.starts_with(b"SQLite format 3\0") {
        return fail(format!("{shown} is not an SQLite database"));
    }
    if header.len() < 100 {
        return fail(format!(
            "{shown} is truncated: {length} bytes, not even a header"
        ));
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        n => u64::from(n),
    };
    let field = |at: usize| {
        u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let (change_counter, pages, valid_for) = (field(24), u64::from(field(28)), field(92));
    if page_size < 512 || !length.is_multiple_of(page_size) {
        return fail(format!(
            "{shown} is truncated: {length} bytes is not a whole number of {page_size}-byte pages"
        ));
    }
    if valid_for == change_counter && pages > 0 && length < pages * page_size {
        return fail(format!(
            "{shown} is truncated: its header says {} bytes, the file has {length}",
            pages * page_size
        ));
    }
    Ok(())
}

/// Checks the copy and brings it to this version's schema; answers the chains and events found.
async fn check_copy(settings: &Settings, copy: &Path) -> Result<(usize, i64), BackupError> {
    let mut settings = settings.clone();
    settings.database_url = format!("sqlite://{}", copy.display());
    settings.db_pool_size = 1;
    let conn = db::connect(&settings).await?;
    let result = async {
        let integrity = store::backup::integrity_check(&conn).await?;
        if integrity != "ok" {
            return fail(format!(
                "the backup is damaged: integrity_check found {integrity}"
            ));
        }
        let Some(applied) = store::backup::applied_migrations(&conn).await? else {
            return fail("not an Annexa database: it has no migration table (seaql_migrations)");
        };
        let known: Vec<String> = migration::Migrator::migrations()
            .iter()
            .map(|m| m.name().to_owned())
            .collect();
        if !applied.iter().any(|name| known.first() == Some(name)) {
            return fail("not an Annexa database: its migrations are not Annexa's");
        }
        if let Some(unknown) = applied.iter().find(|name| !known.contains(name)) {
            return fail(format!(
                "the backup was made by a newer Annexa (migration {unknown} is unknown here)"
            ));
        }
        // An older backup is brought up to date (which also chains its old audit events).
        db::migrate(&conn).await?;
        let reports = audit::verify_every_chain(&conn).await?;
        let mut events = 0;
        for (org_id, report) in &reports {
            events += report.length;
            if let Some(broken) = &report.first_broken {
                let chain = org_id
                    .as_deref()
                    .map_or("the platform".to_owned(), |id| format!("organization {id}"));
                return fail(format!(
                    "the audit chain of {chain} is broken at position {} (event {}: {})",
                    broken.chain_seq,
                    broken.event_id,
                    broken.reason.as_str()
                ));
            }
        }
        store::backup::checkpoint(&conn).await?;
        Ok((reports.len(), events))
    }
    .await;
    conn.close().await.ok();
    result
}
